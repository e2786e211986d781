#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# uid edge cases against the real helper (helper-anchors.md §5.1, §5.2, §5.6; issue 6 part 5):
#  1. peers with uid 4294967294 ((uid_t) -2), 2147483648 (> INT32_MAX, polkit CVE-2018-19788) and
#     65534 (nobody, what an unmapped user namespace shows): refused, audited with the exact uid,
#     /etc untouched; root (uid 0) is allowed and audited as uid 0; uid 4294967295 cannot exist;
#  2. allocation: a SYS_UID/SYS_GID window at the top of 16 and 32 bits never yields 65534, 65535
#     or anything above INT32_MAX (the helper refuses such peers, polkit cannot represent them, and
#     4294967295 is chown's "no change"); a window holding nothing else is "no free uid", /etc
#     untouched;
#     SYS_UID_MIN 0 and values ≥ 2^32 are refused naming the login.defs key; existing lines with
#     those uids are kept byte for byte;
#  3. names colliding with a system user or group that unroot did not create: refused as a
#     conflict naming `name`, /etc untouched.
# usage: uid-edges.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3 setpriv
start_bus_and_polkit || exit 1
make_tree "$R"
start_helper
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
etc_sum() { (cd "$R/etc" && cat $ACCOUNT_FILES) | sha256sum; }
req() { "$AGENTCTL" --no-ask-password "$@" >"$T/out" 2>&1; }

# 1. peer uids
as_uid() { # as_uid UID NAME → the reply status
        (cd /tmp && setpriv --reuid="$1" --regid="$1" --clear-groups "$PY" -c '
import sys; sys.path.insert(0, sys.argv[1])
from helperproto import STATUS, enroll, decode, send
r, err = send(sys.argv[2], enroll(sys.argv[3].encode()))
print(STATUS.get(decode(r).get(1), "?") if r else "no reply: %s" % err)' "$SRC/tests/hardening" "$SOCK" "$2") 2>&1
}
before=$(etc_sum)
for u in 4294967294 2147483648 65534; do
        st=$(as_uid "$u" container-peer)
        case $st in DENIED|AUTH_REQUIRED) pass "peer uid $u: $st";; *) fail "peer uid $u: $st";; esac
        grep -q "peer_uid=$u .*result=\(denied\|auth-required\)" "$T/helper.log" && pass "peer uid $u audited as $u" ||
                { fail "peer uid $u: no audit line with that uid"; grep audit "$T/helper.log" | tail -2; }
done
[ "$(etc_sum)" = "$before" ] && pass "/etc untouched by the refused peers" || fail "/etc changed by a refused peer"
# setresuid((uid_t) -1) means "leave it": no process can have uid 4294967295
[ "$(setpriv --reuid=4294967295 id -u 2>/dev/null)" != 4294967295 ] && pass "uid 4294967295 cannot be a peer (setresuid(-1) changes nothing)" ||
        fail "a process has uid 4294967295"
req enroll --no-wait container-root && pass "uid 0 enrolls" || fail "uid 0: $(cat "$T/out")"
grep -q "peer_uid=0 .*target=container-root result=changed" "$T/helper.log" && pass "uid 0 audited as 0" || fail "uid 0 not audited"

# 2. allocation at the edges
base() { rm -rf "$R/etc" "$R/var/lib/unroot"; make_tree "$R"; }
uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/passwd"; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/group"; }
window() { printf 'SYS_UID_MIN %s\nSYS_UID_MAX %s\nSYS_GID_MIN %s\nSYS_GID_MAX %s\n' "$1" "$2" "$1" "$2" > "$R/etc/login.defs"; }
# (top-down: the unroot-accounts group, made first, takes the highest valid gid, the account the next)
for w in "65530 65535 65533" "2147483640 4294967295 2147483647"; do
        set -- $w
        base; window "$1" "$2"
        if req enroll --no-wait container-edge; then
                [ "$(gid_of unroot-accounts)" = "$3" ] && [ "$(uid_of container-edge)" = "$(( $3 - 1 ))" ] &&
                        [ "$(gid_of container-edge)" = "$(( $3 - 1 ))" ] &&
                        pass "window $1-$2: gids $3 and $(( $3 - 1 )), uid $(( $3 - 1 )) (never 65534/65535 or above INT32_MAX)" ||
                        fail "window $1-$2: unroot-accounts gid $(gid_of unroot-accounts), container-edge uid $(uid_of container-edge) gid $(gid_of container-edge), wanted $3 and $(( $3 - 1 ))"
        else
                fail "window $1-$2: enroll failed: $(head -2 "$T/out")"
        fi
done
for w in "65534 65535" "2147483648 4294967295"; do
        set -- $w
        base; window "$1" "$2"; before=$(etc_sum)
        req enroll --no-wait container-edge && fail "window $1-$2 (only invalid ids): enrolled as uid $(uid_of container-edge)" ||
                { grep -qi 'no free system [ug]id' "$T/out" && pass "window $1-$2 (only invalid ids): no free uid" || fail "window $1-$2: $(head -2 "$T/out")"; }
        [ "$(etc_sum)" = "$before" ] && pass "  /etc untouched" || fail "  /etc changed"
done
for bad in "SYS_UID_MIN 0" "SYS_UID_MAX 4294967296" "SYS_GID_MAX 18446744073709551616"; do
        base; printf '%s\n' "$bad" > "$R/etc/login.defs"; before=$(etc_sum)
        req enroll --no-wait container-edge && fail "login.defs '$bad' accepted" ||
                { grep -q "login.defs" "$T/out" && grep -q "${bad%% *}" "$T/out" && pass "login.defs '$bad' refused naming ${bad%% *}" || fail "login.defs '$bad': $(head -2 "$T/out")"; }
        [ "$(etc_sum)" = "$before" ] && pass "  /etc untouched" || fail "  /etc changed"
done
base
printf 'minus2:x:4294967294:4294967294::/:/usr/sbin/nologin\nminus1:x:4294967295:4294967295::/:/usr/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n' >> "$R/etc/passwd"
cp "$R/etc/passwd" "$T/passwd.odd"
if req enroll --no-wait container-edge; then
        head -c "$(stat -c %s "$T/passwd.odd")" "$R/etc/passwd" | cmp -s - "$T/passwd.odd" && pass "passwd lines with uids 4294967294/4294967295/65534 kept byte for byte" || fail "odd passwd lines changed"
        u=$(uid_of container-edge); [ "$u" -ge 100 ] && [ "$u" -le 999 ] && pass "and the new uid $u is a normal system uid" || fail "new uid $u"
else
        fail "enroll next to odd uids: $(head -2 "$T/out")"
fi

# 3. names taken by something unroot did not create
base
echo 'container-sys:x:501:501::/:/usr/sbin/nologin' >> "$R/etc/passwd"; echo 'container-sys:x:501:' >> "$R/etc/group"
echo 'container-grp:x:502:' >> "$R/etc/group"
echo 'container-usr:x:503:0::/:/usr/sbin/nologin' >> "$R/etc/passwd"
before=$(etc_sum)
for n in container-sys container-grp container-usr; do
        req enroll --no-wait "$n"; rc=$?
        [ $rc != 0 ] && grep -q "not managed by unroot" "$T/out" && pass "$n (existing, foreign) refused as not managed by unroot" || fail "$n: rc $rc: $(head -2 "$T/out")"
        req unenroll --purge "$n"; rc=$?
        [ $rc != 0 ] && pass "unenroll --purge $n refused" || fail "unenroll --purge $n succeeded"
done
[ "$(etc_sum)" = "$before" ] && pass "/etc untouched by the collisions" || fail "/etc changed by a collision"
finish
