#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shift of a tree of many journal batches, where the sync and changes of one batch run on a
# second thread while the walk fills the next (helper/shift/shift-walk.c). shift-crash.sh covers a
# one-batch tree (applied inline); here shift-inproc runs the same shift_tree() with 40-entry
# batches over 1,300 inodes, killed by strace at fchownat, setxattr and fdatasync points spread
# over the run. After each kill: a re-run equals an uninterrupted shift, and a rollback then equals
# the state before; a rollback straight after the kill is exact too. Every directory holds a file
# with an ACL, so that entries whose xattrs the applier thread reads (--defer) carry some; the shift
# is the same whether the walker or the applier reads them. Then the same on a nodev mount, where
# regular files are opened for real (fchown, flistxattr) instead of pinned with O_PATH.
# usage: shift-batches.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chown)"; exit 77; }
for t in strace setfacl setcap python3 unshare; do command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }; done
INPROC=$BUILD/bench/shift/shift-inproc
[ -x "$INPROC" ] || { echo "SKIP: $INPROC not built"; exit 77; }
# A private mount namespace, for the nodev bind mount at the end.
[ -n "${SHIFT_BATCHES_INNER:-}" ] || exec env SHIFT_BATCHES_INNER=1 unshare --mount --propagation private "$0" "$@"
T=$(mktemp -d /var/tmp/unroot-shift-batches.XXXXXX)
trap 'umount "$T/nodev" 2>/dev/null; rm -rf --one-file-system "$T"' EXIT
V=$T/v
PASS=0 FAIL=0
pass() { PASS=$((PASS+1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL+1)); }

fresh() {
        rm -rf "$V"; mkdir -p "$V"
        for i in $(seq 30); do mkdir "$V/d$i"; (cd "$V/d$i" && touch $(seq -f 'f%g' 40)); done
        chown -R 0:0 "$V"; chown -R 999:999 "$V/d3"; chown -R 5:6 "$V/d17"
        for i in $(seq 30); do setfacl -m u:33:rw "$V/d$i/f7"; done
        printf x > "$V/d9/suid"; chmod 4755 "$V/d9/suid"
        printf x > "$V/d20/cap"; setcap cap_net_raw+ep "$V/d20/cap"
        touch "$V/d25/acl"; setfacl -m u:33:rw,g:44:r "$V/d25/acl"
        setfacl -d -m u:999:rwx "$V/d3"
        rm -f "$T/j"
}
state() { python3 "$SRC/tests/hardening/shift-snap.py" --no-nlink "$V"; }
TOP=$V # the path the shift is given: $V, or the same tree through a nodev mount
shift_() { "$INPROC" --quiet --batch 80 --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" "$@" "$TOP"; }

fresh; state > "$T/before"
shift_ > "$T/out" || { fail "uninterrupted shift: $(cat "$T/out")"; }
grep -q 'changed=1234 ' "$T/out" && pass || fail "uninterrupted shift: $(cat "$T/out")"
state > "$T/shifted"
# The ACLs and the capability are shifted, not just copied (map: 0 -> 990, N -> 100000 + N - 1).
acls=$(for i in $(seq 30); do getfacl -pcn "$V/d$i/f7" | grep -c '^user:100032:rw-$'; done | grep -c 1)
[ "$acls" = 30 ] && pass || fail "ACL of d*/f7 not shifted in $((30 - acls)) directories"
getfacl -pcn "$V/d25/acl" | grep -q '^group:100043:r--$' && pass || fail "ACL group entry not shifted: $(getfacl -pcn "$V/d25/acl" | tr '\n' ' ')"
getfacl -pcnd "$V/d3" | grep -q '^user:100998:rwx$' && pass || fail "default ACL not shifted: $(getfacl -pcnd "$V/d3" | tr '\n' ' ')"
cap=$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "security.capability").hex())' "$V/d20/cap")
# v3 (magic_etc 0x03000001: revision 3, effective; little-endian) with rootid 990 (0x3de) last
[ "${cap:0:8}" = 01000003 ] && [ "${cap: -8}" = de030000 ] && pass || fail "capability not rewritten as v3, rootid 990: $cap"
shift_ --rollback >/dev/null
state > "$T/now"; cmp -s "$T/before" "$T/now" && pass || fail "uninterrupted rollback differs"
# The run is threaded: strace -f sees a clone.
fresh; strace -f -qq -e trace=clone,clone3 -o "$T/clone" "$INPROC" --quiet --batch 80 --account bench \
        --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" "$V" >/dev/null
grep -q clone "$T/clone" && pass || fail "no second thread was started"
# The applier reading every entry's xattrs (after the first batch), or none: the same result.
for d in 9 1; do
        fresh; shift_ --defer $d > "$T/out" || fail "--defer $d: $(cat "$T/out")"
        state > "$T/now"; cmp -s "$T/shifted" "$T/now" && pass || { fail "--defer $d: shift differs"; diff "$T/shifted" "$T/now" | head -4; }
done

killed() { # killed SPEC ARGS...
        # in a subshell that waits (and prints the shell's "Killed" notice to its muted stderr)
        (strace -f -qq -o /dev/null -e trace="${1%%:*}" -e inject="$1" "$INPROC" --quiet --batch 80 --account bench \
                --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" $DEFER "${@:2}" "$TOP" >/dev/null 2>&1
         echo $? > "$T/rc") 2>/dev/null
        [ "$(cat "$T/rc")" = 137 ]
}
# Directories are opened for real (fchown, fsetxattr), files pinned (fchownat, setxattr): 1,204
# fchownat calls (the top is pinned too). D9: while the applier reads every entry's xattrs (--defer
# 9). ND: on the nodev mount, where files are opened for real too.
kills="fchownat:when=1 fchownat:when=39 fchownat:when=41 fchownat:when=600 fchownat:when=1203 fchown:when=7
       setxattr:when=1 setxattr:when=2 setxattr:when=3 setxattr:when=20 fsetxattr:when=1 fdatasync:when=2
       fdatasync:when=7 fdatasync:when=30 D9:setxattr:when=12 D9:fchownat:when=700 D9:fdatasync:when=5
       ND:fchown:when=1 ND:fchown:when=600 ND:fchown:when=1233 ND:fsetxattr:when=3 ND:fsetxattr:when=25
       ND:fdatasync:when=7"
mkdir -p "$T/nodev"
mount --bind "$T" "$T/nodev" && mount -o remount,bind,nodev "$T/nodev" || fail "nodev bind mount of $T"
for spec in $kills; do
        DEFER= TOP=$V
        case $spec in D9:*) DEFER="--defer 9"; spec=${spec#D9:};; ND:*) TOP=$T/nodev/v; spec=${spec#ND:};; esac
        spec=${spec%%:*}:signal=SIGKILL:${spec#*:}
        fresh
        killed "$spec" || { fail "$spec: not killed"; continue; }
        shift_ > "$T/out" || { fail "$spec: re-run failed: $(cat "$T/out")"; continue; }
        state > "$T/now"; cmp -s "$T/shifted" "$T/now" && pass || { fail "$spec: re-run differs"; diff "$T/shifted" "$T/now" | head -4; }
        shift_ --rollback >/dev/null
        state > "$T/now"; cmp -s "$T/before" "$T/now" && pass || { fail "$spec: rollback after re-run differs"; diff "$T/before" "$T/now" | head -4; }
        fresh
        killed "$spec" || { fail "$spec: not killed (2)"; continue; }
        shift_ --rollback >/dev/null
        state > "$T/now"; cmp -s "$T/before" "$T/now" && pass || { fail "$spec: rollback of the partial shift differs"; diff "$T/before" "$T/now" | head -4; }
done

# --- nodev: regular files opened for real; the result is the same, and so is the rollback
TOP=$T/nodev/v
fresh; strace -f -qq -e trace=fchown,fchownat,flistxattr,listxattr -o "$T/calls" "$INPROC" --quiet --batch 80 --account bench \
        --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" "$TOP" > "$T/out" # (LeakSanitizer fails under ptrace: no exit status)
state > "$T/now"; cmp -s "$T/shifted" "$T/now" && pass || { fail "nodev: shift differs"; diff "$T/shifted" "$T/now" | head -4; }
n_fchown=$(grep -c '^[0-9]* *fchown(' "$T/calls"); n_fchownat=$(grep -c '^[0-9]* *fchownat(' "$T/calls")
[ "$n_fchown" = 1233 ] && [ "$n_fchownat" = 1 ] && pass || fail "nodev: $n_fchown fchown, $n_fchownat fchownat (want 1233, 1: only the top pinned)"
shift_ --rollback >/dev/null
state > "$T/now"; cmp -s "$T/before" "$T/now" && pass || { fail "nodev: rollback differs"; diff "$T/before" "$T/now" | head -4; }
TOP=$V
fresh; strace -f -qq -e trace=fchown,fchownat -o "$T/calls" "$INPROC" --quiet --batch 80 --account bench \
        --uid 990:100000:65536 --gid 990:100000:65536 --journal "$T/j" "$TOP" > "$T/out"
n_fchown=$(grep -c '^[0-9]* *fchown(' "$T/calls"); n_fchownat=$(grep -c '^[0-9]* *fchownat(' "$T/calls")
[ "$n_fchown" = 30 ] && [ "$n_fchownat" = 1204 ] && pass || fail "not nodev: $n_fchown fchown, $n_fchownat fchownat (want 30 directories, 1204)"
umount "$T/nodev"
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ]
