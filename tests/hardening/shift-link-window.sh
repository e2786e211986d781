#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The window shift-race-nodev once hit (about one run in eight): a hardlink to a root-owned file
# outside the tree is opened by the walk, its name in the tree is removed before the walk's statx
# of the pinned inode, and that statx then counts one link (the outside name). Here the window is
# held open on purpose: strace delays exactly that statx by 3 s (found by a probe run of the same
# tree), and the name is removed 1 s into it. The outside file must keep its owner, and the walk
# must report the entry. The same on a nodev mount, where the walk opens regular files for real.
# usage: shift-link-window.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chown)"; exit 77; }
for t in strace unshare; do command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }; done
INPROC=$BUILD/bench/shift/shift-inproc
[ -x "$INPROC" ] || { echo "SKIP: $INPROC not built"; exit 77; }
[ -n "${SHIFT_WINDOW_INNER:-}" ] || exec env SHIFT_WINDOW_INNER=1 unshare --mount --propagation private "$0" "$@"
T=$(mktemp -d /var/tmp/unroot-shift-window.XXXXXX)
trap 'umount "$T/nodev" 2>/dev/null; rm -rf --one-file-system "$T"' EXIT
PASS=0 FAIL=0
pass() { echo "ok: $*"; PASS=$((PASS+1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL+1)); }

# $1: the directory the tree and the victim live in; $2: a label
window() {
        local D=$1 what=$2 n
        rm -rf "$D/tree" "$D/victim" "$T/j" "$T/probe"
        echo secret > "$D/victim"; chmod 0600 "$D/victim"; chown 0:0 "$D/victim"
        mkdir "$D/tree"; ln "$D/victim" "$D/tree/hl"
        inproc() { "$INPROC" --no-sync --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" "$D/tree"; }
        # The probe: which statx call is the pin's (fd on tree/hl, empty path)? The link is still
        # there, so this run skips it as hardlinked and changes nothing outside.
        strace -qq -y -e trace=statx -o "$T/probe" "$INPROC" --no-sync --account bench --uid 990:100000:65536 \
                --gid 990:100000:65536 --journal "$T/j" "$D/tree" >/dev/null 2>&1
        n=$(grep '^statx(' "$T/probe" | grep -n '/tree/hl>, ""' | head -1 | cut -d: -f1)
        if [ -z "$n" ]; then
                fail "$what: the probe found no statx of the pinned tree/hl: $(head -c 600 "$T/probe")"
                return
        fi
        [ "$(stat -c %u:%g "$D/victim")" = 0:0 ] && pass "$what: the probe run left the victim alone (hardlinked)" \
                || fail "$what: the probe run shifted the victim: $(stat -c %u:%g "$D/victim")"
        # The probe's shift left the tree's own root entry shifted: undo it, then the real run.
        "$INPROC" --rollback --no-sync --account bench --uid 990:100000:65536 --gid 990:100000:65536 \
                --journal "$T/j" "$D/tree" >/dev/null 2>&1; rm -f "$T/j"
        strace -qq -e trace=statx -e inject=statx:delay_enter=3000000:when=$n -o /dev/null \
                "$INPROC" --no-sync --account bench --uid 990:100000:65536 --gid 990:100000:65536 \
                --journal "$T/j" "$D/tree" > "$T/out" 2>&1 &
        local pid=$!
        sleep 1
        rm "$D/tree/hl"
        wait $pid
        [ "$(stat -c %u:%g "$D/victim")" = 0:0 ] && pass "$what: the file outside the tree kept its owner (0:0)" \
                || fail "$what: the file outside the tree was shifted to $(stat -c %u:%g "$D/victim")"
        grep -q "hl'" "$T/out" && pass "$what: the walk reports the entry: $(grep "hl'" "$T/out")" \
                || fail "$what: no report of tree/hl: $(cat "$T/out")"
}

mkdir "$T/plain"
window "$T/plain" "ordinary mount"
mkdir "$T/nodev"
if mount -t tmpfs -o nodev tmpfs "$T/nodev"; then
        window "$T/nodev" "nodev mount"
else
        fail "cannot mount a nodev tmpfs"
fi
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ]
