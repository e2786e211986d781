#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Races against the ownership shift (issue 6 §4, helper-anchors.md §5.5). The tree belongs to an
# unprivileged user (uid 1500, container uid 1500 of a root container), who swaps a file for a
# symlink to a root-owned file, swaps a directory with a symlink to a root-owned directory through
# renameat2(RENAME_EXCHANGE), and (as root, standing in for fs.protected_hardlinks=0) hardlinks a
# root-owned file into the tree, each at least 10,000 times, while the real helper shifts and rolls
# back the tree again and again. Nothing outside the tree may change owner or mode (/etc and the
# targets are compared before and after), and no run may hang. Then a FUSE mount that never
# answers is put inside the tree: the shift must finish, reporting it as a mount point.
# With `nodev` (the test shift-race-nodev) all of it lives on a nodev mount, where the shift opens
# regular files for real instead of pinning them with O_PATH (shift-walk.c, open_entry).
# usage: shift-race.sh BUILD_DIR SOURCE_DIR [nodev]
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
SHIFT_RACE_NODEV=
[ "${3:-}" = nodev ] && SHIFT_RACE_NODEV=1
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3 setpriv timeout
. "$SRC/tests/hardening/shift-lib.sh"
MIN=${SHIFT_RACE_ITERATIONS:-10000}
RACER=$SRC/tests/hardening/shift-racer.py
HANGFS=$BUILD/tests/shift/shift-hangfs
FUSE_PID=
cleanup_race() {
        [ -n "$FUSE_PID" ] && kill -9 "$FUSE_PID" 2>/dev/null
        umount -l "$VOL/fuse" 2>/dev/null
        [ -n "${SHIFT_RACE_NODEV:-}" ] && umount -l "$T" 2>/dev/null
        cleanup
}
trap cleanup_race EXIT
if [ -n "${SHIFT_RACE_NODEV:-}" ]; then
        # $T over itself, nodev: the tree, the targets and the fake root on one mount (the racers'
        # renames stay within it).
        mount --bind "$T" "$T" && mount -o remount,bind,nodev "$T" || { fail "nodev bind mount of $T"; finish; exit 1; }
        grep -q " $T .*nodev" /proc/self/mountinfo && pass "the test's files are on a nodev mount" || fail "$T is not nodev"
fi

protect_shadow || { fail "bind a copy over /etc/shadow"; finish; exit 1; }
start_bus_and_polkit || { fail "polkitd starts"; finish; exit 1; }
make_tree "$R"
start_helper
shift_enroll || { fail "enroll"; finish; exit 1; }

U=1500
mkdir -p "$VOL"
for i in $(seq 20); do mkdir -p "$VOL/d$i"; for j in $(seq 50); do : > "$VOL/d$i/f$j"; done; done
chown -R $U:$U "$VOL"; chmod 0777 "$VOL" "$VOL"/d*
# The targets: root's, outside the tree.
echo secret > "$T/victim"; chmod 0600 "$T/victim"
mkdir -p "$T/victimdir"; echo x > "$T/victimdir/file"; chmod 0700 "$T/victimdir"
outside() { { find /etc -xdev -printf '%p %U %G %m\n' 2>/dev/null; find "$T/victim" "$T/victimdir" -printf '%p %U %G %m\n'; } | sort; }
outside > "$T/outside.before"
echo "protected_hardlinks=$(cat /proc/sys/fs/protected_hardlinks) protected_symlinks=$(cat /proc/sys/fs/protected_symlinks)"

STOP=$T/stop
# The user's python: not a shim below /root, which uid 1500 cannot read.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
as_user() { setpriv --reuid=$U --regid=$U --clear-groups "$@"; }
as_user "$PY" "$RACER" symlink "$VOL" /etc/shadow "$MIN" "$STOP" > "$T/r1" 2>&1 & R1=$!
as_user "$PY" "$RACER" symlink "$VOL/d1" "$T/victim" "$MIN" "$STOP" > "$T/r2" 2>&1 & R2=$!
as_user "$PY" "$RACER" exchange "$VOL" "$T/victimdir" "$MIN" "$STOP" > "$T/r3" 2>&1 & R3=$!
python3 "$RACER" hardlink "$VOL/d2" "$T/victim" "$MIN" "$STOP" > "$T/r4" 2>&1 & R4=$!

runs=0 hung=0 errors=0
while kill -0 $R1 2>/dev/null || kill -0 $R2 2>/dev/null || kill -0 $R3 2>/dev/null || kill -0 $R4 2>/dev/null; do
        for what in "" --rollback; do
                timeout 120 "$AGENTCTL" --no-ask-password shift container-db "$VOLREL" $what >"$T/run.out" 2>&1; rc=$?
                runs=$((runs+1))
                [ $rc = 124 ] && hung=$((hung+1))
                [ $rc != 0 ] && [ $rc != 124 ] && errors=$((errors+1)) && sed 's/^/    | /' "$T/run.out" | head -3
        done
        [ $runs -ge 40 ] && touch "$STOP"
done
touch "$STOP"; wait $R1 $R2 $R3 $R4
echo "racers: symlink $(cat "$T/r1") + $(cat "$T/r2"), exchange $(cat "$T/r3"), hardlink $(cat "$T/r4") iterations; $runs helper runs"
for f in r1 r2 r3 r4; do
        [ "$(cat "$T/$f")" -ge "$MIN" ] 2>/dev/null && pass "racer $f looped $(cat "$T/$f") times (>= $MIN)" || fail "racer $f: $(cat "$T/$f")"
done
[ $runs -ge 10 ] && pass "$runs shift/rollback runs during the races" || fail "only $runs runs"
[ $hung = 0 ] && pass "no run hung" || fail "$hung runs hung"
[ $errors = 0 ] && pass "every run answered without error" || fail "$errors runs failed"
outside > "$T/outside.after"
cmp -s "$T/outside.before" "$T/outside.after" && pass "no owner or mode outside the tree changed (/etc, the targets: $(wc -l < "$T/outside.before") inodes)" \
        || { fail "something outside the tree changed:"; diff "$T/outside.before" "$T/outside.after" | head; }
[ "$(stat -c '%u %g %a' /etc/shadow)" = "0 42 640" ] || [ "$(stat -c '%u %a' /etc/shadow)" = "0 640" ] \
        && pass "/etc/shadow still root's" || fail "/etc/shadow: $(stat -c '%u %g %a' /etc/shadow)"

# --- a FUSE mount that never answers, inside the tree
if [ ! -x "$HANGFS" ]; then
        echo "SKIP (FUSE part): $HANGFS not built: libfuse3-dev missing (tests/install-deps.sh installs it)"
elif [ ! -c /dev/fuse ]; then
        echo "SKIP (FUSE part): no /dev/fuse on this machine"
else
        timeout 120 "$AGENTCTL" --no-ask-password shift container-db "$VOLREL" --rollback >/dev/null 2>&1
        mkdir -p "$VOL/fuse"
        "$HANGFS" "$VOL/fuse" -f -s -o allow_other 2>"$T/fuse.log" & FUSE_PID=$!
        for i in $(seq 50); do grep -q " $VOL/fuse " /proc/self/mountinfo && break; sleep 0.1; done
        if ! grep -q " $VOL/fuse " /proc/self/mountinfo; then
                fail "the hanging FUSE file system did not mount: $(cat "$T/fuse.log")"
        else
                # Prove it hangs: a plain stat of it does not come back.
                # Prove it hangs: a plain stat of it does not come back (not even on SIGTERM; it ends
                # when the daemon is killed below).
                stat "$VOL/fuse" >/dev/null 2>&1 & STAT_PID=$!
                sleep 3
                kill -0 $STAT_PID 2>/dev/null && pass "the FUSE mount really never answers (a stat of it hangs)" \
                        || fail "the FUSE mount answered a stat"
                start=$(date +%s)
                out=$(timeout 60 "$AGENTCTL" --no-ask-password shift container-db "$VOLREL" 2>&1); rc=$?
                [ $rc = 0 ] && pass "the shift finishes with a never-answering FUSE mount inside ($(( $(date +%s) - start )) s)" \
                        || fail "shift with the FUSE mount: rc $rc: $out"
                echo "$out" | grep -qF "fuse': mount point" && pass "the FUSE mount is reported as a mount point" || fail "FUSE mount not reported: $out"
                out=$(timeout 60 "$AGENTCTL" --no-ask-password shift container-db "$VOLREL" --rollback 2>&1); rc=$?
                [ $rc = 0 ] && pass "the rollback finishes too" || fail "rollback with the FUSE mount: rc $rc: $out"
        fi
        kill -9 "$FUSE_PID" 2>/dev/null; umount -l "$VOL/fuse" 2>/dev/null; FUSE_PID=
fi
finish
