#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Peer identity against the real helper (issue 6 part 5): see peer-identity.py. polkitd down and
# unreachable polkit → deny is covered by tests/integration/helper-polkit.sh step 7. PID reuse runs
# in a private pid namespace (ns_last_pid).
# usage: peer-identity.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
if [ -z "${UNROOT_HARD_INNER:-}" ]; then
        [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (private mount namespace, polkitd, the real helper)"; exit 77; }
        # a private pid namespace too, so that the pid reuse case can force a pid with ns_last_pid;
        # everything (bus, polkitd, helper) lives in it, so all see the same pids
        if unshare --pid --fork --mount-proc true 2>/dev/null; then
                exec env UNROOT_HARD_INNER=1 UNROOT_PIDNS=1 unshare --mount --propagation private --pid --fork --mount-proc "$0" "$@"
        fi
        exec env UNROOT_HARD_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
python3 "$SRC/tests/hardening/peer-identity.py" "$SOCK" container-gone container-passed container-closed && pass "peer-identity.py" || fail "peer-identity.py (above)"
grep -q '^container-reused:' "$R/etc/passwd" && fail "container-reused created through a reused pid" || true
grep -q '^container-gone:' "$R/etc/passwd" && fail "container-gone was created for a vanished peer" || pass "nothing created for the vanished peer"
grep -q '^container-passed:' "$R/etc/passwd" && pass "control account created" || fail "control account missing"
# the closed-early request either completed wholly or not at all
if grep -q '^container-closed:' "$R/etc/passwd"; then
        for f in group gshadow shadow subuid subgid; do grep -q '^container-closed:' "$R/etc/$f" || fail "container-closed missing from $f"; done
        pass "request whose caller closed early: completed wholly"
else
        grep -q 'container-closed' "$R/etc/group" && fail "container-closed half-created" || pass "request whose caller closed early: not done at all"
fi
ls -A "$R/etc" | grep -q '^\.#unroot-' && fail "temp files left" || true
finish
