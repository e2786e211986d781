#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input against the real unroot-helper (helper-anchors.md §5.1, §5.2, §5.7; issue 6 part 6):
# bad-input.py sends every case as a raw frame, as root (always authorized, so validation is what
# refuses); /etc of the tree must stay byte-identical, with no temp or lock files, and the helper
# must still serve a good request afterwards. Also §5.2's malformed subid files: a good enroll
# against each one is refused naming the file and line, and the file is kept byte for byte; and
# §5.2's environment (nsswitch subid: sss, bad login.defs windows and counts, a symlinked or missing
# subuid, a full window, a read-only /etc), a 31-character name, and a silent client (§5.7 slowloris,
# answered after the 30 s request timeout; this test takes that long).
# usage: bad-input.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
# .pwd.lock may be created by the lock the helper takes (shadow's lckpwdf file, allowed to stay)
etc_sum() { (cd "$R/etc" && ls -A | grep -vx '.pwd.lock'; cat $ACCOUNT_FILES) | sha256sum; }

before=$(etc_sum)
# §5.7 slowloris: a client that connects and sends nothing is answered and dropped after the
# helper's 30 s request timeout (checked at the end; runs meanwhile)
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(60); s.connect(sys.argv[1])
t = time.monotonic(); r = s.recv(1 << 16)
print("%.0f %d" % (time.monotonic() - t, len(r)))' "$SOCK" > "$T/slow" 2>&1 &
SLOW=$!
python3 "$SRC/tests/hardening/bad-input.py" "$SOCK"; rc=$?
[ $rc = 0 ] && pass "every bad frame refused, naming the field" || fail "bad-input.py found failures (above)"
[ "$(etc_sum)" = "$before" ] && pass "/etc byte-identical (and no new files) after all bad input" || { fail "/etc changed"; ls -A "$R/etc"; }
[ ! -e "$R/var/lib/unroot" ] || [ -z "$(ls -A "$R/var/lib/unroot")" ] && pass "no home created" || fail "homes created: $(ls "$R/var/lib/unroot")"

# §5.2 malformed subid lines: refuse to allocate, keep the file byte for byte
# (a line with a leading space is a record owned by " x" for shadow too: not in this list; and CRLF
# is refused, the documented policy of helper-anchors.md §5.2 "refuse to allocate")
cp -a "$R/etc" "$T/etc.base"
for line in 'x:1:2:3' 'x:1' 'x:-5:10' 'x:+5:10' 'x:0x10:5' $'x:1:1\r' 'x:12345678901:1' "x:$(head -c 2048 /dev/zero | tr '\0' 9):1"; do
        cp "$R/etc/subuid" "$T/subuid.orig"
        printf '%s\n' "$line" >> "$R/etc/subuid"
        cp "$R/etc/subuid" "$T/subuid.bad"
        "$AGENTCTL" --no-ask-password enroll --no-wait container-sub >"$T/out" 2>&1; rc=$?
        if [ $rc != 0 ] && grep -q 'subuid line 2' "$T/out"; then pass "malformed subuid line '${line:0:24}' refused naming /etc/subuid:2"
        else fail "malformed subuid line '${line:0:24}': rc $rc: $(head -2 "$T/out")"; fi
        cmp -s "$R/etc/subuid" "$T/subuid.bad" && pass "  subuid kept byte for byte" || fail "  subuid rewritten"
        grep -q '^container-sub:' "$R/etc/passwd" && fail "  user created despite the refusal" || true
        rm -rf "$R/etc"; cp -a "$T/etc.base" "$R/etc"
done
# comments, a missing final newline and a uid-owned line are valid: enroll appends, keeping them
printf 'alice:100000:65536\n# comment\n1000:300000:65536\nbob:400000:65536' > "$R/etc/subuid"
cp "$R/etc/subuid" "$T/subuid.odd"
"$AGENTCTL" --no-ask-password enroll --no-wait container-sub >"$T/out" 2>&1; rc=$?
if [ $rc = 0 ]; then
        head -c "$(stat -c %s "$T/subuid.odd")" "$R/etc/subuid" | cmp -s - "$T/subuid.odd" && pass "odd but valid subuid lines kept byte for byte" ||
                fail "odd subuid lines changed: $(od -c "$R/etc/subuid" | head -5)"
        awk -F: '/^[^#]/ { s[n]=$2; e[n]=$2+$3; n++ } END { for (i=0;i<n;i++) for (j=i+1;j<n;j++) if (s[i] < e[j] && s[j] < e[i]) exit 1; exit n != 4 }' "$R/etc/subuid" &&
                pass "4 ranges, pairwise disjoint" || fail "overlapping range: $(cat "$R/etc/subuid")"
else
        fail "enroll with odd-but-valid subuid lines: rc $rc: $(head -2 "$T/out")"
fi
# §5.2 environment: nsswitch, login.defs, the subid window, the files themselves. Each refusal names
# the file (and key or line), and the six files stay byte-identical.
env_case() { # env_case DESC MESSAGE_RE [keep]: a good enroll against the prepared tree is refused with
        # a message matching MESSAGE_RE; then the tree is reset (unless "keep")
        local sum
        sum=$( (cd "$R/etc" && cat $ACCOUNT_FILES 2>/dev/null) | sha256sum)
        "$AGENTCTL" --no-ask-password enroll --no-wait container-env >"$T/out" 2>&1; rc=$?
        [ $rc != 0 ] && grep -q "$2" "$T/out" && pass "$1: refused naming $2" || fail "$1: rc $rc: $(head -2 "$T/out")"
        [ "$( (cd "$R/etc" && cat $ACCOUNT_FILES 2>/dev/null) | sha256sum)" = "$sum" ] && pass "  the files are unchanged" || fail "  $1: files changed"
        [ "${3:-}" = keep ] || { rm -rf "$R/etc"; cp -a "$T/etc.base" "$R/etc"; }
}
printf 'passwd: files\nsubid: sss\n' > "$R/etc/nsswitch.conf"; env_case "nsswitch subid: sss" "nsswitch.conf line 2 .*'sss'"
printf 'SUB_UID_MIN 300000\nSUB_UID_MAX 200000\n' > "$R/etc/login.defs"; env_case "SUB_UID_MIN > SUB_UID_MAX" "login.defs: SUB_UID_MIN"
printf 'SUB_GID_COUNT 0\n' > "$R/etc/login.defs"; env_case "SUB_GID_COUNT 0" "SUB_GID_COUNT is 0 in /etc/login.defs"
printf 'SUB_UID_MIN 100000\nSUB_UID_MAX 150000\nSUB_UID_COUNT 65536\n' > "$R/etc/login.defs"; env_case "SUB_UID_COUNT larger than the window" "login.defs: SUB_UID_MIN + SUB_UID_COUNT"
ln -sf /etc/passwd "$R/etc/subuid.link"; mv "$R/etc/subuid.link" "$R/etc/subuid"; env_case "/etc/subuid a symlink" "Cannot open /etc/subuid: .*symlink"
# the window holding exactly 65536 more ids, then 65535 (shadow's no_more_subuids tests 08-11)
printf 'SUB_UID_MIN 100000\nSUB_UID_MAX 231071\nSUB_GID_MIN 100000\nSUB_GID_MAX 231071\n' > "$R/etc/login.defs"
"$AGENTCTL" --no-ask-password enroll --no-wait container-env >"$T/out" 2>&1 &&
        grep -qx 'container-env:165536:65536' "$R/etc/subuid" && pass "window with exactly 65536 left: allocated 165536:65536" || fail "exactly 65536 left: $(head -2 "$T/out"; grep container-env "$R/etc/subuid")"
rm -rf "$R/etc" "$R/var/lib/unroot"; cp -a "$T/etc.base" "$R/etc"
printf 'SUB_UID_MIN 100000\nSUB_UID_MAX 231070\nSUB_GID_MIN 100000\nSUB_GID_MAX 231070\n' > "$R/etc/login.defs"; env_case "window with 65535 left" "No room for 65536 more subordinate ids in /etc/subuid"
# subuid missing while subgid is there: created (0644), nothing else touched
rm -f "$R/etc/subuid"
"$AGENTCTL" --no-ask-password enroll --no-wait container-env >"$T/out" 2>&1 && [ "$(stat -c %a "$R/etc/subuid")" = 644 ] &&
        grep -q '^container-env:' "$R/etc/subuid" && cmp -s <(head -1 "$R/etc/subgid") "$T/etc.base/subgid" && pass "missing /etc/subuid is created 0644, subgid kept" || fail "missing subuid: $(head -2 "$T/out")"
rm -rf "$R/etc" "$R/var/lib/unroot"; cp -a "$T/etc.base" "$R/etc"
# /etc read-only (a read-only bind mount over it)
if mount --bind "$R/etc" "$R/etc" && mount -o remount,bind,ro "$R/etc"; then
        env_case "read-only /etc" "Read-only file system" keep
        umount "$R/etc"; rm -rf "$R/etc"; cp -a "$T/etc.base" "$R/etc"
else
        echo "SKIP (part): cannot make a read-only bind mount"
fi
# §5.1: 31 characters is the longest name accepted
n31=container-$(printf 'x%.0s' $(seq 21))
"$AGENTCTL" --no-ask-password enroll --no-wait "$n31" >"$T/out" 2>&1 && grep -q "^$n31:" "$R/etc/passwd" &&
        pass "a 31-character name is accepted" || fail "31-character name: $(head -2 "$T/out")"
rm -rf "$R/etc" "$R/var/lib/unroot"; cp -a "$T/etc.base" "$R/etc"

# the silent client
wait "$SLOW"
read -r secs len < "$T/slow"
[ "${len:-0}" -gt 0 ] && [ "${secs:-0}" -ge 25 ] && [ "${secs:-99}" -le 40 ] && pass "a silent client is answered and dropped after ${secs} s" || fail "silent client: $(cat "$T/slow")"

# and the helper still works after all of it
"$AGENTCTL" --no-ask-password enroll --no-wait container-good >"$T/out" 2>&1 && pass "a good request still succeeds" || fail "good request: $(cat "$T/out")"
finish
