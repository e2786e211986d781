#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end, inside the booted Debian 12 test bed: the ownership shift and its rollback through
# the helper running under its real unit (unroot-helper@.service: its seccomp filter, capability
# bounding set, LimitNOFILE, TasksMax). The rollback must give back every inode's exact owner and
# mode, setuid and setgid included (issue 5), which RestrictSUIDSGID=yes used to refuse; a tree of
# several batches runs the shift's second (applier) thread under the unit's filter.
set -u
. "${TESTBED_LIB:-./lib.sh}"

section "install unroot"
if ! check "install the freshly built unroot" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
check "the helper unit has no RestrictSUIDSGID" bash -c \
        'systemctl show -p RestrictSUIDSGID unroot-helper@probe.service | grep -qx RestrictSUIDSGID=no'
useradd -m -s /bin/bash alice
usermod -aG unroot-admins alice
install -m 0644 /usr/share/doc/unroot/examples/50-unroot-admins.rules /etc/polkit-1/rules.d/50-unroot-admins.rules
sleep 2   # polkitd reloads rules by inotify
out=$(cd /tmp && runuser -u alice -- agentctl enroll --no-wait container-db 2>&1) || { echo "$out"; fail "enroll"; summary; exit 1; }
AU=$(id -u container-db)

section "a root container's volume with setuid, setgid and ACLs"
V=/srv/unroot/pg
mkdir -p "$V/data/base" "$V/sgdir"
echo a > "$V/data/base/1"; chown -R 999:999 "$V/data"
printf x > "$V/suid"; chmod 4755 "$V/suid"
printf x > "$V/suid5"; chown 5:5 "$V/suid5"; chmod 6755 "$V/suid5"
printf x > "$V/sgid"; chown 0:5 "$V/sgid"; chmod 2755 "$V/sgid"
chown 0:50 "$V/sgdir"; chmod 2775 "$V/sgdir"
touch "$V/acl"; setfacl -m u:33:rw,g:44:r "$V/acl"
setfacl -d -m u:999:rwx "$V/data"
ln -s /etc/shadow "$V/evil-link"
snapshot() { (cd "$1" && find . -printf '%p %U %G %m %y\n' | sort && getfacl -R -p -n . 2>/dev/null); }
snapshot "$V" > /tmp/before

out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$V" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "shift exits 0" || fail "shift exits $rc"
check "suid: owner is the account, setuid cleared (4755 -> 755)" bash -c "[ \"\$(stat -c '%u %a' $V/suid)\" = '$AU 755' ]"
check "sgdir keeps setgid (2775)" bash -c "[ \"\$(stat -c '%a' $V/sgdir)\" = 2775 ]"

out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$V" --rollback 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "rollback exits 0" || fail "rollback exits $rc"
snapshot "$V" > /tmp/after
if cmp -s /tmp/before /tmp/after; then
        pass "rollback under the real unit is exact (owners, modes with setuid/setgid, ACLs)"
else
        fail "rollback differs:"; diff /tmp/before /tmp/after | head -20 | sed 's/^/    | /'
fi
check "suid is 0:0 4755 again" bash -c "[ \"\$(stat -c '%u %g %a' $V/suid)\" = '0 0 4755' ]"
check "suid5 is 5:5 6755 again" bash -c "[ \"\$(stat -c '%u %g %a' $V/suid5)\" = '5 5 6755' ]"
check "no helper instance logged EPERM" bash -c '! journalctl -q -u "unroot-helper@*" | grep -qi "not permitted"'

section "setuid content the account rewrote does not get its setuid back"
W=/srv/unroot/rw
mkdir -p "$W"
printf x > "$W/suid-kept"; chmod 4755 "$W/suid-kept"
printf x > "$W/suid-rewritten"; chmod 4755 "$W/suid-rewritten"
out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$W" 2>&1); rc=$?
[ $rc = 0 ] && pass "shift exits 0" || { fail "shift exits $rc"; echo "$out" | sed 's/^/    | /'; }
check "the account rewrites suid-rewritten" setpriv --reuid="$AU" --regid="$(id -g container-db)" --clear-groups \
        sh -c "printf y > $W/suid-rewritten"
out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$W" --rollback 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "rollback exits 0" || fail "rollback exits $rc"
check "suid-kept (content as before) is 0:0 4755 again" bash -c "[ \"\$(stat -c '%u %g %a' $W/suid-kept)\" = '0 0 4755' ]"
check "suid-rewritten is 0:0 755: owner back, no setuid on the account's content" \
        bash -c "[ \"\$(stat -c '%u %g %a' $W/suid-rewritten)\" = '0 0 755' ]"
echo "$out" | grep -q "rollback 'suid-rewritten': .*its content changed since the shift" \
        && pass "the rollback names it" || fail "suid-rewritten not reported"

section "a tree of several journal batches (the applier thread under the unit's filter)"
B=/srv/unroot/big
for i in $(seq 50); do mkdir -p "$B/d$i"; (cd "$B/d$i" && touch $(seq -f 'f%g' 200)); done
chown -R 0:0 "$B"; chown -R 999:999 "$B/d7"
N=$(find "$B" | wc -l)
out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$B" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "shift of $N entries exits 0" || fail "shift of $N entries exits $rc"
echo "$out" | grep -q "changed $N," && pass "all $N inodes changed" || fail "not all $N inodes changed"
SU=$(awk -F: '$1=="container-db"{print $2}' /etc/subuid)
check "owners: $((N - 201)) at the account ($AU), 201 at subuid $SU + 998" bash -c \
        "[ \$(find $B -uid $AU | wc -l) = $((N - 201)) ] && [ \$(find $B -uid $((SU + 998)) | wc -l) = 201 ]"
out=$(cd /tmp && runuser -u alice -- agentctl shift container-db "$B" --rollback 2>&1); rc=$?
[ $rc = 0 ] && pass "rollback of $N entries exits 0" || { fail "rollback exits $rc"; echo "$out" | sed 's/^/    | /'; }
check "every inode back at its old owner" bash -c "[ \$(find $B -uid 0 | wc -l) = $((N - 201)) ] && [ \$(find $B -uid 999 | wc -l) = 201 ]"
summary
