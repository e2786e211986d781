#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input against the real unroot-helper (helper-anchors.md §5.1, §5.2, §5.7; issue 6 part 6):
# bad-input.py sends every case as a raw frame, as root (always authorized, so validation is what
# refuses); /etc of the tree must stay byte-identical, with no temp or lock files, and the helper
# must still serve a good request afterwards. Also §5.2's malformed subid files: a good enroll
# against each one is refused naming the file and line, and the file is kept byte for byte.
# usage: bad-input.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
if [ -z "${UNROOT_HARD_INNER:-}" ]; then
        [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (private mount namespace, polkitd, the real helper)"; exit 77; }
        exec env UNROOT_HARD_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
# .pwd.lock may be created by the lock the helper takes (shadow's lckpwdf file, allowed to stay)
etc_sum() { (cd "$R/etc" && ls -A | grep -vx '.pwd.lock'; cat $ACCOUNT_FILES) | sha256sum; }

before=$(etc_sum)
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
# and the helper still works after all of it
"$AGENTCTL" --no-ask-password enroll --no-wait container-good >"$T/out" 2>&1 && pass "a good request still succeeds" || fail "good request: $(cat "$T/out")"
finish
