# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the hardening tests: the same host setup as tests/integration/helper-polkit.sh (a
# private mount namespace, a private system bus, the real polkitd with unroot's policy) and the real
# unroot-helper started per connection by systemd-socket-activate --accept on a temporary tree.
# Each connection runs $T/wrap, which execs the helper under the strace injection spec found in
# $T/inject at that moment (empty: no strace), so one socket serves every kill point.
# Callers set BUILD and SRC and source this with their arguments still in "$@": a caller that has not
# re-executed itself in a namespace yet (UNROOT_HARD_INNER unset) is re-executed here in a private
# mount namespace, as root only (exit 77 otherwise).

if [ -z "${UNROOT_HARD_INNER:-}" ]; then
        [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (private mount namespace, polkitd, the real helper)"; exit 77; }
        exec env UNROOT_HARD_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

PASS=0 FAIL=0
pass() { PASS=$((PASS+1)); [ -n "${QUIET_PASS:-}" ] || echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAIL=$((FAIL+1)); }
# On failure, the private bus's and polkitd's own logs (a "could not ask polkit (No route to host)"
# means polkitd had left the bus: its log says why).
finish() {
        echo; echo "$PASS passed, $FAIL failed"
        if [ "$FAIL" != 0 ] && [ -n "${T:-}" ]; then
                local f
                for f in "$T/polkitd.log" "$T/dbus.log"; do
                        [ -s "$f" ] && { echo "--- last lines of $f"; tail -n 20 "$f"; }
                done
                [ -n "${POLKIT_PID:-}" ] && ! kill -0 "$POLKIT_PID" 2>/dev/null && echo "--- polkitd (pid $POLKIT_PID) is gone"
        fi
        [ "$FAIL" = 0 ]
}

hardening_need_root() {
        if [ "$(id -u)" != 0 ]; then
                echo "SKIP: needs root (private mount namespace, polkitd, the real helper)"; exit 77
        fi
        POLKITD=
        for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd /usr/lib/policykit-1/polkitd; do
                [ -x "$p" ] && POLKITD=$p && break
        done
        [ -n "$POLKITD" ] || { echo "SKIP: polkitd not installed"; exit 77; }
        for t in dbus-daemon systemd-socket-activate unshare strace "$@"; do
                command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
        done
}

T=$(mktemp -d /tmp/unroot-hard.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; umount "$R/etc" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
AGENTCTL=$BUILD/agent/agentctl
HELPER=$BUILD/helper/unroot-helper
R=$T/root
SOCK=$T/helper.sock

add_host_users() { # add_host_users NAME:UID...: users (and same-named groups) visible to NSS in this
        # mount namespace only (polkitd's subject.user, setpriv), over bind-mounted copies; call before
        # start_bus_and_polkit
        local u
        cp /etc/passwd "$T/host-passwd"; cp /etc/group "$T/host-group"
        for u in "$@"; do
                echo "${u%%:*}:x:${u#*:}:${u#*:}::/nonexistent:/usr/sbin/nologin" >> "$T/host-passwd"
                echo "${u%%:*}:x:${u#*:}:" >> "$T/host-group"
        done
        mount --bind "$T/host-passwd" /etc/passwd
        mount --bind "$T/host-group" /etc/group
}

start_bus_and_polkit() {
        mkdir -p "$T/actions" "$T/rules" /usr/share/polkit-1/actions /etc/polkit-1/rules.d
        cp "$SRC/policy/org.unroot.helper.policy" "$T/actions/"
        cp "$SRC/policy/50-unroot-admins.rules" "$T/rules/"
        mount --bind "$T/actions" /usr/share/polkit-1/actions
        mount --bind "$T/rules" /etc/polkit-1/rules.d
        cat > "$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/system_bus_socket
        dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog >"$T/dbus.log" 2>&1 &
        PIDS+=($!)
        for i in $(seq 100); do [ -S "$T/system_bus_socket" ] && break; sleep 0.1; done
        chmod 666 "$T/system_bus_socket"
        # POLKIT_PID is polkitd's own, not the wrapper's; the wrapper only records how polkitd
        # ended (a test that finds it gone prints that)
        ( "$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 & p=$!; echo $p > "$T/polkitd.pid"
          wait $p; echo "polkitd exited: status $? at $(date +%T.%N)" >> "$T/polkitd.log" ) &
        for i in $(seq 50); do [ -s "$T/polkitd.pid" ] && break; sleep 0.05; done
        POLKIT_PID=$(cat "$T/polkitd.pid")
        PIDS+=($POLKIT_PID)
        for i in $(seq 100); do
                dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
                        string:org.freedesktop.PolicyKit1 2>/dev/null | grep -q 'boolean true' && return 0
                sleep 0.1
        done
        echo "polkitd did not appear on the bus:"; cat "$T/polkitd.log"; return 1
}

make_tree() { # make_tree DIR: the base /etc of every test
        mkdir -p "$1/etc" "$1/var/lib"
        printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n' > "$1/etc/passwd"
        printf 'root:x:0:\ndaemon:x:1:\nshadow:x:42:\nalice:x:1000:\n' > "$1/etc/group"
        printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\n' > "$1/etc/shadow"
        printf 'root:*::\ndaemon:*::\nshadow:*::\nalice:!::\n' > "$1/etc/gshadow"
        printf 'alice:100000:65536\n' > "$1/etc/subuid"
        printf 'alice:100000:65536\n' > "$1/etc/subgid"
        chmod 640 "$1/etc/shadow" "$1/etc/gshadow"
        chgrp 42 "$1/etc/shadow" "$1/etc/gshadow"
}

start_helper() {
        : > "$T/inject"
        cat > "$T/wrap" <<WRAP
#!/bin/bash
spec=\$(cat "$T/inject")
if [ -z "\$spec" ]; then exec "$HELPER" --root="$R"; fi
# -D: strace runs as a grandchild, so the helper keeps the pid systemd-socket-activate put in LISTEN_PID
exec strace -D -f -o "$T/strace.log" -e trace=\${spec%%:*} -e inject=\$spec "$HELPER" --root="$R"
WRAP
        chmod 755 "$T/wrap"
        # the sanitizer settings pass through, so that a sanitizer build of the helper can be run here
        local pass_env=(-E DBUS_SYSTEM_BUS_ADDRESS) v
        for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do [ -n "${!v:-}" ] && pass_env+=(-E "$v"); done
        systemd-socket-activate --seqpacket --accept -l "$SOCK" "${pass_env[@]}" "$T/wrap" >>"$T/helper.log" 2>&1 &
        PIDS+=($!)
        for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
        chmod 666 "$SOCK"
        export UNROOT_HELPER_SOCKET=$SOCK
}

ACCOUNT_FILES="group gshadow passwd shadow subuid subgid"
