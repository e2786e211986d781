#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A request changed between the authorization check and the execution (helper-anchors.md §5.6,
# issue 6 part 5) against the real helper and the real polkitd. A test rule makes polkit take 2 s
# (polkit.spawn sleep) and allows the unprivileged test user only `enroll` of names starting with
# "container-ok" with the default 65536 subids. While polkit decides about request A, the client
# sends request B on the same connection. What runs must be A, decided on A's own bytes:
#  1. A allowed, B forbidden: A is done (reply names A), B's name never appears in /etc;
#  2. A forbidden, B allowed: denied, and B's name is not created either;
#  3. A allowed with 65536 subids, B the same name with 16777216: the reply and /etc/subuid say
#     65536 (the details polkit approved are the values that run);
# and every time B was sent before the reply (inside the authorization window), and B gets no
# reply of its own (one request per connection: the helper reads exactly one datagram).
# usage: toctou.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3 setpriv
U=unroot-tt-user UID_=64981
add_host_users "$U:$UID_"
start_bus_and_polkit || exit 1
cat > "$T/rules/10-toctou.rules" <<RULE
polkit.addRule(function(action, subject) {
        if (action.id == "org.unroot.helper.enroll" && subject.user == "$U") {
                polkit.spawn(["/bin/sleep", "2"]);
                var n = action.lookup("unroot.account");
                if (n && n.indexOf("container-ok") == 0 && action.lookup("unroot.subids") == "65536")
                        return polkit.Result.YES;
                return polkit.Result.NO;
        }
});
RULE
sleep 2 # polkitd reloads rules on inotify
make_tree "$R"
start_helper

PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
client() { (cd /tmp && setpriv --reuid="$UID_" --regid="$UID_" --clear-groups "$PY" "$SRC/tests/hardening/toctou.py" "$SOCK" "$@") 2>&1; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
window_ok() { # B went out while A was being authorized, and got no reply of its own
        local b r
        b=$(field "$1" b_sent_at); r=$(field "$1" reply_at)
        awk -v b="$b" -v r="$r" 'BEGIN { exit !(b > 0 && r - b > 0.5) }' &&
                pass "$2: B was sent ${b}s after A, the reply came at ${r}s (B inside the authorization window)" ||
                fail "$2: B not inside the window (sent at $b, reply at $r)"
        [ "$(field "$1" second)" = none ] && pass "$2: B got no reply (never read)" || fail "$2: B was answered: $1"
}

out=$(client container-ok 65536 container-evil 65536); echo "    | $out"
[ "$(field "$out" status)" = CHANGED ] && [ "$(field "$out" name)" = container-ok ] &&
        pass "1: A (allowed) was done, and the reply is about A" || fail "1: $out"
grep -q '^container-ok:' "$R/etc/passwd" && pass "1: container-ok created" || fail "1: container-ok missing"
grep -q 'container-evil' $(printf "$R/etc/%s " $ACCOUNT_FILES) && fail "1: container-evil (B) appears in /etc" || pass "1: B's name is nowhere in /etc"
window_ok "$out" 1

cp -a "$R/etc" "$T/etc.before2"
out=$(client container-evil 65536 container-ok2 65536); echo "    | $out"
case $(field "$out" status) in DENIED|AUTH_REQUIRED) pass "2: A (forbidden) was refused";; *) fail "2: $out";; esac
grep -q 'container-ok2\|container-evil' $(printf "$R/etc/%s " $ACCOUNT_FILES) && fail "2: B or A was created" || pass "2: neither A nor B (allowed on its own) created"
for f in $ACCOUNT_FILES; do cmp -s "$R/etc/$f" "$T/etc.before2/$f" || fail "2: /etc/$f changed"; done
window_ok "$out" 2

out=$(client container-ok3 65536 container-ok3 16777216); echo "    | $out"
[ "$(field "$out" status)" = CHANGED ] && [ "$(field "$out" subuid_count)" = 65536 ] &&
        pass "3: done with A's 65536 subids" || fail "3: $out"
grep -qx 'container-ok3:[0-9]*:65536' "$R/etc/subuid" && pass "3: /etc/subuid has 65536 for container-ok3" || fail "3: subuid: $(grep container-ok3 "$R/etc/subuid")"
window_ok "$out" 3

# the rule itself works (so the above can fail): B on its own connection is judged on its own
out=$(client container-evil2 65536 container-ok 65536); echo "    | $out"
case $(field "$out" status) in DENIED|AUTH_REQUIRED) pass "control: a forbidden name alone is refused";; *) fail "control: $out";; esac
grep -c "peer_uid=$UID_ .*action=org.unroot.helper.enroll" "$T/helper.log" | grep -qx 4 &&
        pass "4 audited decisions for uid $UID_, one per connection" || { fail "audit lines for uid $UID_:"; grep "peer_uid=$UID_" "$T/helper.log" | head; }
finish
