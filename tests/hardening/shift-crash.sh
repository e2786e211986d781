#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash consistency of the ownership shift (helper-anchors.md §5.4, issue 5): the real helper is
# killed with SIGKILL by strace at the Nth chown (every N through the shift), at every ACL or
# capability write (owner changed, ACL or capability not yet rewritten) and at every journal
# fdatasync. The shift opens directories for real (fchown, fsetxattr) and pins everything else with
# O_PATH (fchownat, setxattr through /proc/self/fd), so both calls are killed at. After each kill:
#   resume:   the shift run again completes, the tree equals an uninterrupted shift, and a rollback
#             then equals the snapshot from before;
#   rollback: a rollback straight after the kill equals the snapshot from before.
# Then the rollback itself is killed at every fchownat and run again: exact snapshot.
# usage: shift-crash.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root setfacl setcap setfattr python3
. "$SRC/tests/hardening/shift-lib.sh"
QUIET_PASS=1

start_bus_and_polkit || { fail "polkitd starts"; finish; exit 1; }
make_tree "$R"
start_helper
shift_enroll || { fail "enroll"; finish; exit 1; }

fresh() { rm -rf "$VOL"; make_volume "$VOL"; }
state() { snap --no-nlink "$VOL"; }
inject() { echo "${1:-}" > "$T/inject"; }
killed_run() { # killed_run SPEC ARGS...: the helper must die (agentctl rc 1), nothing else
        local spec=$1; shift
        inject "$spec"
        shift_run container-db "$VOLREL" "$@" >"$T/killed.out" 2>&1; local rc=$?
        inject
        [ $rc != 0 ] || return 1
        return 0
}

fresh
state > "$T/before"
out=$(shift_run container-db "$VOLREL" 2>&1) || { fail "uninterrupted shift: $out"; finish; exit 1; }
state > "$T/shifted"
NCHOWN=$(echo "$out" | sed -n 's/^scanned [0-9]*, changed \([0-9]*\),.*/\1/p')
shift_run container-db "$VOLREL" --rollback >/dev/null 2>&1
state > "$T/rolled"
cmp -s "$T/before" "$T/rolled" && pass "uninterrupted shift + rollback is exact" || fail "uninterrupted rollback differs"
echo "uninterrupted shift: $NCHOWN inodes changed"
[ "${NCHOWN:-0}" -gt 10 ] || { fail "too few changes to test ($NCHOWN)"; finish; exit 1; }

check_resume() { # check_resume SPEC DESC
        fresh
        if ! killed_run "$1"; then fail "$2: the helper was not killed"; return; fi
        out=$(shift_run container-db "$VOLREL" 2>&1) || { fail "$2: re-run failed: $out"; return; }
        state > "$T/now"
        cmp -s "$T/shifted" "$T/now" && pass "$2: re-run converges" || { fail "$2: re-run differs from an uninterrupted shift"; diff "$T/shifted" "$T/now" | head -6; }
        shift_run container-db "$VOLREL" --rollback >/dev/null 2>&1
        state > "$T/now"
        cmp -s "$T/before" "$T/now" && pass "$2: then rollback is exact" || { fail "$2: rollback after resume differs"; diff "$T/before" "$T/now" | head -6; }
}
check_rollback() { # check_rollback SPEC DESC
        fresh
        if ! killed_run "$1"; then fail "$2: the helper was not killed"; return; fi
        out=$(shift_run container-db "$VOLREL" --rollback 2>&1) || { fail "$2: rollback failed: $out"; return; }
        state > "$T/now"
        cmp -s "$T/before" "$T/now" && pass "$2: rollback of the partial shift is exact" || { fail "$2: rollback of a partial shift differs"; diff "$T/before" "$T/now" | head -6; }
}

NDIRS=$(find "$VOL" -mindepth 1 -type d | wc -l) # every directory below the top is shifted here
for n in $(seq 1 $((NCHOWN - NDIRS))); do
        check_resume "fchownat:signal=SIGKILL:when=$n" "kill at fchownat $n"
        check_rollback "fchownat:signal=SIGKILL:when=$n" "kill at fchownat $n"
done
for n in $(seq 1 "$NDIRS"); do
        check_resume "fchown:signal=SIGKILL:when=$n" "kill at fchown $n (a directory)"
        check_rollback "fchown:signal=SIGKILL:when=$n" "kill at fchown $n (a directory)"
done
# ACLs and capabilities are rewritten after the chown: kill between the two. Files acl, cap and
# capv3 through setxattr; the access and default ACL of the directory data through fsetxattr.
for spec in setxattr:1 setxattr:2 setxattr:3 fsetxattr:1 fsetxattr:2; do
        check_resume "${spec%:*}:signal=SIGKILL:when=${spec#*:}" "kill at ${spec%:*} ${spec#*:}"
        check_rollback "${spec%:*}:signal=SIGKILL:when=${spec#*:}" "kill at ${spec%:*} ${spec#*:}"
done
for n in 1 2; do
        check_resume "fdatasync:signal=SIGKILL:when=$n" "kill at journal sync $n"
        check_rollback "fdatasync:signal=SIGKILL:when=$n" "kill at journal sync $n"
done

# The rollback killed part way, then run again.
for n in $(seq 1 "$NCHOWN"); do
        fresh
        shift_run container-db "$VOLREL" >/dev/null 2>&1 || { fail "shift before killed rollback $n"; continue; }
        if ! killed_run "fchownat:signal=SIGKILL:when=$n" --rollback; then fail "rollback kill $n: not killed"; continue; fi
        out=$(shift_run container-db "$VOLREL" --rollback 2>&1) || { fail "rollback re-run $n: $out"; continue; }
        state > "$T/now"
        cmp -s "$T/before" "$T/now" && pass "rollback killed at fchownat $n, run again: exact" || { fail "rollback killed at $n then re-run differs"; diff "$T/before" "$T/now" | head -6; }
done
finish
