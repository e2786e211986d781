# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh — assertion library for test bed scripts.  Source it from a test script
# running as root inside the guest:
#
#     #!/bin/bash
#     set -u                       # NOT set -e: a failing check must not end the test
#     . "$TESTBED_LIB"
#     section "enroll"
#     check "helper socket listening" systemctl is-active unroot-helper.socket
#     ...
#     summary                      # last line: "N passed, N failed"; rc 1 if any failed
#
# Functions (all print to stdout; see tests/testbed/README.md for the details):
#   pass DESC / fail DESC / skip REASON    count and print "PASS: …" / "FAIL: …" / "SKIP: …"
#   check DESC CMD...       PASS if CMD exits 0, else FAIL + last 15 lines of its output
#   check_fail DESC CMD...  PASS if CMD exits non-zero (expected refusal), else FAIL + output
#   section TITLE           prints a blank line and "=== TITLE ==="
#   asuser USER CMD...      runs CMD as USER (runuser) in /tmp with HOME, and with
#                           XDG_RUNTIME_DIR + DBUS_SESSION_BUS_ADDRESS of that user
#                           when /run/user/UID exists
#   wait_for TIMEOUT CMD... polls CMD every 0.5 s until it succeeds (rc 0) or TIMEOUT s pass (rc 1)
#   wait_user_manager USER [TIMEOUT]  waits for user@UID.service active + its bus socket
#   summary                 prints "skipped: N", then "N passed, N failed";
#                           returns 1 if any check failed or none passed or failed
#   etc_snapshot DIR / etc_compare DIR   record / byte-compare the account files
#   tb_install_unroot TARBALL            install a `meson install --destdir` tree
#   tb_make_image [USER...]              build localhost/bb:latest for each USER
#                                        (make-image.sh; root's store if no USER)
#   tb_busybox_links DIR BUSYBOX         a symlink per busybox applet in DIR
#   tb_check_helper_exposure             PASS if the installed helper unit's exposure is <= 2.5

TB_PASS=${TB_PASS:-0} TB_FAIL=${TB_FAIL:-0} TB_SKIP=${TB_SKIP:-0}
TESTBED_DIR=${TESTBED_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# the account files etc_snapshot/etc_compare look at
TB_ETC_FILES="passwd group shadow gshadow subuid subgid"

pass() { echo "PASS: $*"; TB_PASS=$((TB_PASS + 1)); }
fail() { echo "FAIL: $*"; TB_FAIL=$((TB_FAIL + 1)); }
skip() { echo "SKIP: $*"; TB_SKIP=$((TB_SKIP + 1)); }
section() { echo; echo "=== $* ==="; }

# _tb_tail: indent the last 15 lines of a command's output under a FAIL line
_tb_tail() { printf '%s\n' "$1" | tail -n 15 | sed 's/^/    | /'; }

# check DESC CMD... — runs CMD (a command, function or `bash -c '…'`) with stdout
# and stderr captured.  Returns 0 on PASS, 1 on FAIL.
check() {
    local d=$1 out rc; shift
    out=$("$@" 2>&1 </dev/null); rc=$?
    if [ $rc -eq 0 ]; then pass "$d"; return 0; fi
    fail "$d (rc=$rc)"; _tb_tail "$out"; return 1
}

# check_fail DESC CMD... — the opposite: PASS when CMD fails (e.g. a refusal).
# Prints the command's first output line on PASS so the reason shows in the log.
check_fail() {
    local d=$1 out rc; shift
    out=$("$@" 2>&1 </dev/null); rc=$?
    if [ $rc -ne 0 ]; then
        out=$(printf '%s' "$out" | head -n 1 | cut -c1-100)
        pass "$d (rc=$rc${out:+: $out})"; return 0
    fi
    fail "$d (command succeeded, expected failure)"; _tb_tail "$out"; return 1
}

# asuser USER CMD... — the environment a login session would give; cwd /tmp so
# the user can enter it.  Works for nologin accounts.  Returns CMD's exit code.
asuser() {
    local u=$1 uid home; shift
    uid=$(id -u "$u") || { echo "asuser: no such user: $u" >&2; return 2; }
    home=$(getent passwd "$u" | cut -d: -f6)
    if [ -d "/run/user/$uid" ]; then
        (cd /tmp && runuser -u "$u" -- env XDG_RUNTIME_DIR="/run/user/$uid" \
            DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" HOME="${home:-/}" "$@")
    else    # no user manager (no linger/session): do not point at a missing dir
        (cd /tmp && runuser -u "$u" -- env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS HOME="${home:-/}" "$@")
    fi
}

# wait_for TIMEOUT CMD... — bounded polling; TIMEOUT in whole seconds.
# rc 0 as soon as CMD succeeds, rc 1 (and a note on stderr) after TIMEOUT.
wait_for() {
    local t=$1 end; shift
    end=$((SECONDS + t))
    while :; do
        "$@" >/dev/null 2>&1 </dev/null && return 0
        if [ $SECONDS -ge $end ]; then
            echo "wait_for: timed out after ${t}s: $*" >&2; return 1
        fi
        sleep 0.5
    done
}

# wait_user_manager USER [TIMEOUT=60] — user@UID.service active and the user
# bus socket present (what `systemctl --user` needs after enable-linger).
wait_user_manager() {
    local uid; uid=$(id -u "$1") || return 2
    wait_for "${2:-60}" bash -c "systemctl is-active -q user@$uid.service && test -S /run/user/$uid/bus"
}

# summary — the last lines of every test.  CI greps "N passed, N failed".
summary() {
    echo
    echo "skipped: $TB_SKIP"
    echo "$TB_PASS passed, $TB_FAIL failed"
    [ "$TB_FAIL" -eq 0 ] && [ $((TB_PASS + TB_FAIL)) -gt 0 ]
}

# etc_snapshot DIR — copy /etc/{passwd,group,shadow,gshadow,subuid,subgid} into
# DIR (created); a missing file is recorded as missing.
etc_snapshot() {
    local dir=$1 f
    mkdir -p "$dir" || return 1
    for f in $TB_ETC_FILES; do
        rm -f "$dir/$f" "$dir/$f.absent"
        if [ -e "/etc/$f" ]; then cp -p "/etc/$f" "$dir/$f" || return 1
        else : > "$dir/$f.absent"; fi
    done
}

# etc_compare DIR — byte-compare the current files with a snapshot.  rc 0 if all
# six are identical (and present/absent as before); otherwise prints a diff per
# changed file and returns 1.
etc_compare() {
    local dir=$1 f bad=0
    for f in $TB_ETC_FILES; do
        if [ -e "$dir/$f.absent" ]; then
            [ -e "/etc/$f" ] && { echo "etc_compare: /etc/$f was created"; bad=1; }
        elif [ ! -e "$dir/$f" ]; then
            echo "etc_compare: no snapshot of $f in $dir"; bad=1
        elif [ ! -e "/etc/$f" ]; then
            echo "etc_compare: /etc/$f was removed"; bad=1
        elif ! cmp -s "$dir/$f" "/etc/$f"; then
            echo "etc_compare: /etc/$f changed:"; diff -u "$dir/$f" "/etc/$f" | tail -n +3 | head -n 20; bad=1
        fi
    done
    return $bad
}

# tb_install_unroot TARBALL — install a `meson install --destdir` tree into /,
# then systemd-sysusers, systemd-tmpfiles --create, daemon-reload and
# `systemctl enable --now unroot-helper.socket`.  Prints one line per step;
# returns 1 if a step failed.  A missing unroot-helper.socket is only a warning.
tb_install_unroot() {
    local tar=$1 out bad=0 ids id
    _tb_step() {  # _tb_step NAME CMD...
        local name=$1 o; shift
        if o=$("$@" 2>&1); then echo "tb_install_unroot: $name: ok"
        else echo "tb_install_unroot: $name: FAILED (rc=$?)"; _tb_tail "$o"; return 1; fi
    }
    [ -f "$tar" ] || { echo "tb_install_unroot: FAILED: no such tarball: $tar"; return 1; }
    # --no-overwrite-dir: keep the modes/owners of existing dirs such as /usr, /etc;
    # --keep-directory-symlink: a lib/ or bin/ in the tree must not replace the
    # merged-/usr symlinks /lib -> usr/lib, /bin -> usr/bin of Debian 12
    _tb_step "untar $(basename "$tar") into /" tar -xpf "$tar" -C / --no-overwrite-dir \
        --keep-directory-symlink --no-same-owner || return 1
    _tb_step ldconfig ldconfig || bad=1
    _tb_step systemd-sysusers systemd-sysusers || bad=1
    _tb_step "systemd-tmpfiles --create" systemd-tmpfiles --create || bad=1
    _tb_step "systemctl daemon-reload" systemctl daemon-reload || bad=1
    if systemctl cat unroot-helper.socket >/dev/null 2>&1; then
        _tb_step "systemctl enable --now unroot-helper.socket" systemctl enable --now unroot-helper.socket || {
            bad=1; systemctl status --no-pager unroot-helper.socket 2>&1 | tail -n 10 | sed 's/^/    | /'; }
    else
        echo "tb_install_unroot: WARNING: unroot-helper.socket is not installed; not enabled"
    fi
    # polkitd notices new .policy files by inotify, about 1 s later: wait for ours
    ids=$(tar -tf "$tar" | grep -E 'share/polkit-1/actions/.*\.policy$' | while read -r f; do
            sed -n 's/.*<action id="\([^"]*\)".*/\1/p' "/${f#./}" 2>/dev/null; done)
    for id in $ids; do
        wait_for 15 pkaction --action-id "$id" ||
            { echo "tb_install_unroot: polkit action $id not visible to pkaction"; bad=1; }
    done
    [ -n "$ids" ] && echo "tb_install_unroot: polkit actions visible: $(echo $ids)"
    return $bad
}

# tb_make_image [USER...] — see make-image.sh
tb_make_image() { "$TESTBED_DIR/make-image.sh" "$@"; }

# tb_busybox_links DIR BUSYBOX — DIR/APPLET -> busybox for every applet but busybox itself, made by
# one process (an ln per link took 90 s under emulation; perl-base is essential in Debian)
tb_busybox_links() {
    (cd "$1" && perl -e 'for (@ARGV) { $_ eq "busybox" or symlink("busybox", $_) or die "$_: $!\n" }' $("$2" --list))
}

# tb_check_helper_exposure — `systemd-analyze security` of the installed helper unit: its overall
# exposure must be 2.5 or lower (issue 6)
tb_check_helper_exposure() {
    local out level
    out=$(systemd-analyze security unroot-helper@x.service --no-pager 2>&1)
    level=$(echo "$out" | sed -n 's/.*Overall exposure level.*: \([0-9][0-9]*\.[0-9]\).*/\1/p')
    echo "$out" | tail -n 1 | sed 's/^/    | /'
    check "the installed helper unit's exposure (${level:-none}) is 2.5 or lower" \
        awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.5) }'
}

export -f asuser wait_for wait_user_manager 2>/dev/null || true
