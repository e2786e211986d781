#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration test on the host, as root, without systemd as PID 1: a private dbus-daemon, the real
# polkitd with unroot's policy and example rule, and unroot-helper started per connection by
# systemd-socket-activate with --root on a temporary tree. Shows that an authorized caller enrolls
# and that an unauthorized one is refused with nothing changed.
#
# Everything happens in a private mount namespace: the test users and the policy are bind-mounted
# over /etc/passwd, /etc/group and polkit's directories there, so the host is never modified.
#
# usage: helper-polkit.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (private mount namespace, polkitd, test users)"; exit 77
fi
POLKITD=
for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd /usr/lib/policykit-1/polkitd; do
        [ -x "$p" ] && POLKITD=$p && break
done
for t in dbus-daemon systemd-socket-activate unshare setpriv; do
        command -v $t >/dev/null || { echo "SKIP: $t not installed (tests/run-all.sh installs it)"; exit 77; }
done
[ -n "$POLKITD" ] || { echo "SKIP: polkitd not installed (tests/run-all.sh installs it)"; exit 77; }

if [ -z "${UNROOT_ITEST_INNER:-}" ]; then
        exec env UNROOT_ITEST_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

PASS=0 FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS+1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL+1)); }
T=$(mktemp -d /tmp/unroot-itest.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

AGENTCTL=$BUILD/agent/agentctl
HELPER=$BUILD/helper/unroot-helper

# --- test identities, visible to NSS (polkitd's isInGroup, setpriv) inside this namespace only
cp /etc/passwd "$T/passwd"; cp /etc/group "$T/group"
grep -q '^unroot-admins:' "$T/group" || echo "unroot-admins:x:64990:" >> "$T/group"
echo "unroot-itest-admin:x:64991:64991::/nonexistent:/usr/sbin/nologin" >> "$T/passwd"
echo "unroot-itest-user:x:64992:64992::/nonexistent:/usr/sbin/nologin" >> "$T/passwd"
echo "unroot-itest-admin:x:64991:" >> "$T/group"
echo "unroot-itest-user:x:64992:" >> "$T/group"
sed -i 's/^\(unroot-admins:[^:]*:[^:]*:\)\(.*\)$/\1unroot-itest-admin/' "$T/group"
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group

# --- polkit: only unroot's actions and the example rule
mkdir -p "$T/actions" "$T/rules"
cp "$SRC/policy/org.unroot.helper.policy" "$T/actions/"
cp "$SRC/policy/50-unroot-admins.rules" "$T/rules/"
mkdir -p /usr/share/polkit-1/actions /etc/polkit-1/rules.d
mount --bind "$T/actions" /usr/share/polkit-1/actions
mount --bind "$T/rules" /etc/polkit-1/rules.d

# --- a private system bus
cat > "$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/system_bus_socket
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog >"$T/dbus.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do [ -S "$T/system_bus_socket" ] && break; sleep 0.1; done
chmod 666 "$T/system_bus_socket"

start_polkitd() {
        "$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 &
        POLKIT_PID=$!
        PIDS+=($POLKIT_PID)
        for i in $(seq 100); do
                dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
                        string:org.freedesktop.PolicyKit1 2>/dev/null | grep -q 'boolean true' && return 0
                sleep 0.1
        done
        echo "polkitd did not appear on the bus:"; cat "$T/polkitd.log"; return 1
}
start_polkitd || { fail "polkitd starts on the private bus"; echo "$PASS passed, $FAIL failed"; exit 1; }
pass "polkitd on a private system bus"

# --- the target tree and the helper, one process per connection like Accept=yes
R=$T/root
mkdir -p "$R/etc" "$R/var/lib"
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' > "$R/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nshadow:x:42:\n' > "$R/etc/group"
printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n' > "$R/etc/shadow"
printf 'root:*::\ndaemon:*::\nshadow:*::\n' > "$R/etc/gshadow"
chmod 640 "$R/etc/shadow" "$R/etc/gshadow"
: > "$R/etc/subuid"; : > "$R/etc/subgid"
SOCK=$T/helper.sock
systemd-socket-activate --seqpacket --accept -l "$SOCK" -E DBUS_SYSTEM_BUS_ADDRESS \
        "$HELPER" --root="$R" >"$T/helper.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
chmod 666 "$SOCK"
export UNROOT_HELPER_SOCKET=$SOCK

etc_sum() { (cd "$R/etc" && cat passwd group shadow gshadow subuid subgid | sha256sum); }
run_as() { local u=$1; shift; (cd /tmp && setpriv --reuid="$u" --regid="$u" --init-groups env UNROOT_HELPER_SOCKET=$SOCK "$@"); }
expect_rc() { # expect_rc RC DESC CMD...
        local want=$1 desc=$2; shift 2; local out rc
        out=$("$@" 2>&1); rc=$?
        if [ "$rc" = "$want" ]; then pass "$desc (rc $rc)"; else fail "$desc: rc $rc, wanted $want"; fi
        echo "$out" | sed 's/^/    | /' | head -12
        LAST_OUT=$out
}

# 1. root is always authorized
expect_rc 0 "root enrolls container-db" "$AGENTCTL" --no-ask-password enroll --no-wait container-db
grep -q '^container-db:x:[0-9]*:[0-9]*:unroot service account:/var/lib/unroot/container-db:/usr/sbin/nologin$' "$R/etc/passwd" \
        && pass "passwd line for container-db" || fail "passwd line for container-db"
grep -q '^container-db:[0-9]*:65536$' "$R/etc/subuid" && pass "subuid range" || fail "subuid range"
grep -q '^container-db:[0-9]*:65536$' "$R/etc/subgid" && pass "subgid range" || fail "subgid range"
[ "$(stat -c '%a %U' "$R/var/lib/unroot/container-db" 2>/dev/null)" = "711 container-db" ] 2>/dev/null || \
        [ "$(stat -c '%a %u' "$R/var/lib/unroot/container-db")" = "711 $(awk -F: '$1=="container-db"{print $3}' "$R/etc/passwd")" ] \
        && pass "home 0711 owned by the account" || fail "home mode/owner: $(stat -c '%a %u' "$R/var/lib/unroot/container-db" 2>&1)"

# 2. idempotent
before=$(etc_sum)
expect_rc 0 "second enroll succeeds" "$AGENTCTL" --no-ask-password enroll --no-wait container-db
echo "$LAST_OUT" | grep -qi unchanged && pass "second enroll reports unchanged" || fail "second enroll does not say unchanged"
[ "$(etc_sum)" = "$before" ] && pass "second enroll leaves /etc byte-identical" || fail "second enroll changed /etc"

# 3. a member of unroot-admins, through the example rule, without a password
expect_rc 0 "unroot-admins member enrolls container-web" run_as unroot-itest-admin "$AGENTCTL" --no-ask-password enroll --no-wait container-web
grep -q '^container-web:' "$R/etc/passwd" && pass "container-web created" || fail "container-web missing"

# 4. anyone else is refused and nothing changes
before=$(etc_sum)
expect_rc 3 "an unprivileged user is refused" run_as unroot-itest-user "$AGENTCTL" --no-ask-password enroll --no-wait container-evil
echo "$LAST_OUT" | grep -qE "(not authorized|authentication required) for org.unroot.helper.enroll" && pass "refusal names the action and what to do" \
        || fail "refusal message: $LAST_OUT"
[ "$(etc_sum)" = "$before" ] && pass "/etc byte-identical after the refusal" || fail "/etc changed after a refused request"
[ ! -e "$R/var/lib/unroot/container-evil" ] && pass "no home for the refused account" || fail "home created for a refused request"

# 5. bad input from an authorized caller: clear error, nothing changed
before=$(etc_sum)
expect_rc 2 "invalid name refused" "$AGENTCTL" --no-ask-password enroll --no-wait '../x'
expect_rc 4 "reserved name refused" "$AGENTCTL" --no-ask-password enroll --no-wait daemon
[ "$(etc_sum)" = "$before" ] && pass "/etc byte-identical after bad input" || fail "/etc changed after bad input"

# 6. the audit trail: one record per request with the peer uid
grep -q 'audit: peer_uid=64992 .*action=org.unroot.helper.enroll target=container-evil result=' "$T/helper.log" \
        && pass "refused request audited with peer uid" || fail "no audit record for the refused request"

# 7. polkit unreachable: deny, never allow
kill "$POLKIT_PID"; wait "$POLKIT_PID" 2>/dev/null
before=$(etc_sum)
expect_rc 3 "with polkitd down, an admin is denied" run_as unroot-itest-admin "$AGENTCTL" --no-ask-password enroll --no-wait container-late
[ "$(etc_sum)" = "$before" ] && pass "/etc byte-identical with polkitd down" || fail "/etc changed with polkitd down"
start_polkitd || fail "polkitd restarts"

# 8. unenroll --purge removes the account again
expect_rc 0 "unenroll --purge container-web" "$AGENTCTL" --no-ask-password unenroll --purge container-web
grep -q '^container-web:' "$R/etc/passwd" "$R/etc/group" "$R/etc/subuid" "$R/etc/subgid" \
        && fail "container-web still present after purge" || pass "container-web gone after purge"
[ ! -e "$R/var/lib/unroot/container-web" ] && pass "home removed by purge" || fail "home still there after purge"
expect_rc 4 "unenroll of an unknown account" "$AGENTCTL" --no-ask-password unenroll container-web

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
