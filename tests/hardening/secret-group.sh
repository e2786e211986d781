#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The secret-group operation through the real unroot-helper, the real polkitd and agentctl (issue 5,
# founding report §4: a secret owned by the host service user dns-query-exporter, shared with
# container-monitor through technitium-readers, mode 0440):
#   - success: group created as a system group with the account as member, file group and mode set,
#     owner kept, journal and marker written, "restart user@UID" said; a second run changes nothing;
#   - rollback exactness: the six account files byte for byte, the file's owner/group/mode, journal
#     and marker gone; an existing group keeps existing; two accounts on one file roll back in turn;
#   - refusals with the field named and nothing changed (the six files and the secret compared):
#     symlinks, hardlinks, FIFO, directory, outside the allowed roots, below the state directory,
#     root-owned outside /etc/unroot/secrets, privileged and system groups, a user's primary group,
#     non-enrolled accounts, bad names;
#   - an unauthorized caller denied by polkit;
#   - crash safety: the helper killed at every rename and at the file's chown/chmod, then run again
#     (converges to an uninterrupted run) or rolled back (exact).
# usage: secret-group.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root python3 setpriv sha256sum

start_bus_and_polkit || { fail "polkitd starts"; finish; exit 1; }
make_tree "$R"
# The host service that owns the secret: a system user unroot did not create, with its own group.
echo 'dns-query-exporter:x:990:990::/var/lib/dns-query-exporter:/usr/sbin/nologin' >> "$R/etc/passwd"
echo 'dns-query-exporter:x:990:' >> "$R/etc/group"
echo 'dns-query-exporter:!*:19000::::::' >> "$R/etc/shadow"
echo 'dns-query-exporter:!*::' >> "$R/etc/gshadow"
# A regular group (gid >= 1000) that is nobody's primary group, and one that is a system group.
echo 'app-readers:x:1500:' >> "$R/etc/group"
echo 'app-readers:!::' >> "$R/etc/gshadow"
start_helper
sg() { "$AGENTCTL" --no-ask-password secret-group "$@"; }
for a in container-monitor container-db; do
        "$AGENTCTL" --no-ask-password enroll --no-wait $a >"$T/enroll.out" 2>&1 && pass "$a enrolled" \
                || { fail "enroll $a: $(cat "$T/enroll.out")"; finish; exit 1; }
done
MU=$(awk -F: '$1=="container-monitor"{print $3}' "$R/etc/passwd")

D=$R/var/lib/dns-query-exporter
mkdir -p "$D"; echo token-value > "$D/token"; chown -R 990:990 "$D"; chmod 0700 "$D"; chmod 0600 "$D/token"
F=/var/lib/dns-query-exporter/token
SD=$R/var/lib/unroot/secret_group

etc_state() { (cd "$R/etc" && sha256sum $ACCOUNT_FILES); }
file_state() { stat -c '%i %u %g %a' "$R$1"; }
group_line() { awk -F: -v g="$1" '$1==g' "$R/etc/group"; }
gshadow_line() { awk -F: -v g="$1" '$1==g' "$R/etc/gshadow"; }
find /etc -xdev -printf '%p %U %G %m\n' 2>/dev/null | sort > "$T/host-etc.before"

# --- success
etc_state > "$T/etc.before"; file_state $F > "$T/file.before"
out=$(sg container-monitor $F technitium-readers 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "secret-group succeeds" || fail "secret-group rc $rc"
G=$(group_line technitium-readers | cut -d: -f3)
[ "$(group_line technitium-readers)" = "technitium-readers:x:$G:container-monitor" ] && [ -n "$G" ] && [ "$G" -lt 1000 ] \
        && pass "group created as a system group (gid $G) with container-monitor as its member" || fail "group line: $(group_line technitium-readers)"
[ "$(gshadow_line technitium-readers)" = "technitium-readers:!*::container-monitor" ] && pass "gshadow line written" \
        || fail "gshadow line: $(gshadow_line technitium-readers)"
[ "$(stat -c '%u %g %a' "$R$F")" = "990 $G 440" ] && pass "file: owner 990 kept, group $G, mode 0440" \
        || fail "file is $(stat -c '%u %g %a' "$R$F")"
[ "$(cat "$R$F")" = token-value ] && pass "file content untouched" || fail "file content changed"
echo "$out" | grep -q "systemctl restart user@$MU.service" && pass "says the user manager (user@$MU) must be restarted" \
        || fail "no restart note"
J=$(ls "$SD"/container-monitor-*.journal 2>/dev/null)
[ -f "$J" ] && [ "$(stat -c %a "$J")" = 600 ] && [ "$(stat -c '%u %a' "$SD")" = "0 700" ] \
        && pass "journal $(basename "$J") 0600 in a root-only state directory" || fail "journal/state dir"
grep -qx "previous-gid 990" "$J" && grep -qx "previous-mode 0600" "$J" && grep -qx "group-created yes" "$J" \
        && grep -qx "member-added yes" "$J" && pass "journal records the previous group/mode, group created, member added" \
        || { fail "journal content"; cat "$J"; }
[ "$(cat "$SD/technitium-readers.group" 2>/dev/null)" = "gid $G" ] && pass "marker of the created group" || fail "no marker"
grep -q 'audit: peer_uid=0 .*action=org.unroot.helper.secret-group target=container-monitor result=changed' "$T/helper.log" \
        && pass "audited with action and account" || fail "no audit record"
etc_state > "$T/etc.shared"; file_state $F > "$T/file.shared"

out=$(sg container-monitor $F technitium-readers 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "already shared" && ! echo "$out" | grep -q "restart user@" \
        && pass "a second run changes nothing and says so" || fail "second run: rc $rc: $out"
etc_state | cmp -s - "$T/etc.shared" && [ "$(file_state $F)" = "$(cat "$T/file.shared")" ] \
        && pass "second run: files identical" || fail "second run changed something"
out=$(sg --json container-monitor $F technitium-readers 2>/dev/null); rc=$?
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["secret_group"]; assert d["status"]=="unchanged" and s["gid"]=='"$G"' and s["uid"]=='"$MU"' and s["restart_required"] is False and s["journal"].endswith(".journal")' \
        && pass "--json: status, gid, uid, journal, restart_required" || fail "--json: $out"

# --- refusals: field named, nothing changed
bad() { # bad RC PATTERN DESC ARGS...
        local want=$1 pat=$2 desc=$3; shift 3
        local o r; o=$(sg "$@" 2>&1); r=$?
        [ $r = "$want" ] && echo "$o" | grep -qE "$pat" && pass "$desc (rc $r)" || fail "$desc: rc $r: $o"
}
ln -s token "$D/link"
bad 2 "file: '.*/link' is a symbolic link" "a symlink to the secret refused" container-monitor /var/lib/dns-query-exporter/link technitium-readers
ln -s /etc/shadow "$D/shadow-link"
bad 2 "is a symbolic link" "a symlink to /etc/shadow refused" container-monitor /var/lib/dns-query-exporter/shadow-link technitium-readers
ln -s dns-query-exporter "$R/var/lib/dqe-link"
bad 2 "file: .*a directory on the way is a symlink" "a symlinked directory on the way refused" container-monitor /var/lib/dqe-link/token technitium-readers
echo x > "$D/two"; chown 990:990 "$D/two"; ln "$D/two" "$D/two-again"
bad 2 "file: .* has 2 hard links" "a hardlinked file refused" container-monitor /var/lib/dns-query-exporter/two technitium-readers
mkfifo "$D/fifo"; chown 990 "$D/fifo"
bad 2 "not a regular file" "a FIFO refused" container-monitor /var/lib/dns-query-exporter/fifo technitium-readers
bad 2 "is a directory" "a directory refused" container-monitor /var/lib/dns-query-exporter technitium-readers
bad 2 "file: '/etc/shadow' is not below an allowed root" "/etc/shadow refused (outside the allowed roots)" container-monitor /etc/shadow technitium-readers
bad 2 "file: contains a '.' or '..' component" "/etc/../etc/passwd refused" container-monitor /var/lib/../../etc/passwd technitium-readers
bad 2 "file: .* is not an absolute path" "a relative path refused" container-monitor var/lib/dns-query-exporter/token technitium-readers
mkdir -p "$R/var/lib/unroot/container-monitor"; echo s > "$R/var/lib/unroot/container-monitor/s"; chown 990 "$R/var/lib/unroot/container-monitor/s"
bad 2 "file: .* is below /var/lib/unroot" "a file below the state directory (accounts' homes) refused" container-monitor /var/lib/unroot/container-monitor/s technitium-readers
mkdir -p "$R/var/lib/sys"; echo k > "$R/var/lib/sys/credential.secret"
bad 2 "belongs to root; only files below /etc/unroot/secrets" "a root-owned file in /var/lib refused" container-monitor /var/lib/sys/credential.secret technitium-readers
bad 4 "file: .*no such file" "a missing file: not found" container-monitor /var/lib/dns-query-exporter/none technitium-readers
for g in root sudo adm shadow disk wheel docker systemd-journal unroot-accounts users; do
        bad 4 "group: '$g' is a system or privileged group" "group $g refused" container-monitor $F $g
done
bad 4 "group: 'dns-query-exporter' \\(gid 990\\) is a system group unroot did not create" "an existing system group (gid 990) refused" container-monitor $F dns-query-exporter
bad 4 "group: 'alice' \\(gid 1000\\) is the primary group of user 'alice'" "a user's primary group refused" container-monitor $F alice
bad 4 "group: '$F' is already shared with 'container-monitor' through group 'technitium-readers'|already shared .* through group 'technitium-readers'" "a second group for a shared file refused" container-monitor $F app-readers
bad 2 "group: 'Bad_Name' is not a valid group name" "an invalid group name refused" container-monitor $F Bad_Name
bad 2 "group: '\.\./x' is not a valid group name" "a group name with '/' refused" container-monitor $F ../x
bad 2 "group: .* is not a valid group name" "a 32-byte group name refused" container-monitor $F abcdefghijklmnopqrstuvwxyz012345
bad 4 "account: .*not managed by unroot" "a non-enrolled account (alice) refused" alice $F technitium-readers
bad 4 "account: .*no unroot account 'container-xx'" "an unknown account refused" container-xx $F technitium-readers
bad 2 "account: .*must start with a lowercase" "an invalid account name refused" ../x $F technitium-readers
o=$(cd /tmp && setpriv --reuid=4242 --regid=4242 --clear-groups env UNROOT_HELPER_SOCKET=$SOCK "$AGENTCTL" --no-ask-password secret-group container-monitor $F technitium-readers --rollback 2>&1); r=$?
[ $r = 3 ] && echo "$o" | grep -q "org.unroot.helper.secret-group" && pass "an unprivileged caller is refused by polkit for org.unroot.helper.secret-group (rc 3)" \
        || fail "unprivileged caller: rc $r: $o"
grep -qE 'audit: peer_uid=4242 .*action=org.unroot.helper.secret-group target=container-monitor result=(denied|auth-required)' "$T/helper.log" \
        && pass "the refusal is audited" || { fail "no audit record for the refusal"; grep 4242 "$T/helper.log"; }
etc_state | cmp -s - "$T/etc.shared" && pass "refusals: the six account files unchanged" || fail "refusals changed the account files"
[ "$(file_state $F)" = "$(cat "$T/file.shared")" ] && [ "$(stat -c '%u %g %a' "$D/two" "$D/two-again" "$R/var/lib/sys/credential.secret" | sort -u | tr '\n' ' ')" = "0 0 644 990 990 644 " ] \
        && pass "refusals: the secret and the refused files unchanged" || fail "refusals changed a file: $(stat -c '%n %u %g %a' "$R$F" "$D/two" "$R/var/lib/sys/credential.secret")"
rm -f "$D/link" "$D/shadow-link" "$R/var/lib/dqe-link" "$D/two-again" "$D/fifo"

# --- rollback: exact
out=$(sg container-monitor $F technitium-readers --rollback 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "rollback succeeds" || fail "rollback rc $rc"
etc_state | cmp -s - "$T/etc.before" && pass "rollback: the six account files equal the snapshot byte for byte (group removed)" \
        || { fail "rollback: account files differ"; diff <(etc_state) "$T/etc.before"; }
[ "$(file_state $F)" = "$(cat "$T/file.before")" ] && pass "rollback: inode, owner, group and mode of the secret as before ($(cat "$T/file.before"))" \
        || fail "rollback: file is $(file_state $F), was $(cat "$T/file.before")"
[ ! -e "$J" ] && [ ! -e "$SD/technitium-readers.group" ] && pass "journal and marker removed" || fail "journal or marker left"
echo "$out" | grep -q "drop" && pass "rollback says the user manager must be restarted" || fail "no restart note on rollback"
out=$(sg container-monitor $F technitium-readers --rollback 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "nothing to roll back" && pass "a second rollback has nothing to do" || fail "second rollback: rc $rc: $out"

# --- an existing regular group: membership added and removed, the group stays
out=$(sg container-monitor $F app-readers 2>&1) || fail "share through app-readers: $out"
[ "$(group_line app-readers)" = "app-readers:x:1500:container-monitor" ] && [ "$(gshadow_line app-readers)" = "app-readers:!::container-monitor" ] \
        && [ "$(stat -c '%g %a' "$R$F")" = "1500 440" ] && pass "existing group app-readers (gid 1500) used, no group created" \
        || fail "app-readers: $(group_line app-readers) / $(stat -c '%g %a' "$R$F")"
sg container-monitor $F app-readers --rollback >/dev/null 2>&1
etc_state | cmp -s - "$T/etc.before" && [ "$(file_state $F)" = "$(cat "$T/file.before")" ] \
        && pass "its rollback: membership removed, group kept, file restored" || fail "app-readers rollback differs"

# --- a root-owned secret in /etc/unroot/secrets (the dedicated root), and two accounts on one file
mkdir -p "$R/etc/unroot/secrets"; echo k > "$R/etc/unroot/secrets/api.key"; chmod 0600 "$R/etc/unroot/secrets/api.key"
K=/etc/unroot/secrets/api.key
file_state $K > "$T/key.before"
sg container-monitor $K shared-key >/dev/null 2>&1 && sg container-db $K shared-key >/dev/null 2>&1 \
        && G2=$(group_line shared-key | cut -d: -f3) && [ "$(group_line shared-key)" = "shared-key:x:$G2:container-monitor,container-db" ] \
        && [ "$(stat -c '%u %g %a' "$R$K")" = "0 $G2 440" ] && pass "a root-owned secret below /etc/unroot/secrets shared with two accounts" \
        || fail "two accounts: $(group_line shared-key) $(stat -c '%u %g %a' "$R$K")"
sg container-db $K shared-key --rollback >/dev/null 2>&1
[ "$(group_line shared-key)" = "shared-key:x:$G2:container-monitor" ] && [ "$(stat -c '%g %a' "$R$K")" = "$G2 440" ] \
        && pass "the second account's rollback leaves the first one's share intact" || fail "after container-db rollback: $(group_line shared-key) $(stat -c '%g %a' "$R$K")"
sg container-monitor $K shared-key --rollback >/dev/null 2>&1
etc_state | cmp -s - "$T/etc.before" && [ "$(file_state $K)" = "$(cat "$T/key.before")" ] \
        && pass "the first account's rollback: group removed, file as before" || fail "after both rollbacks: $(group_line shared-key) $(file_state $K)"
# one account, two files, one group: the membership stays until the last file is rolled back
echo y > "$D/token2"; chown 990:990 "$D/token2"; chmod 0640 "$D/token2"
sg container-monitor $F technitium-readers >/dev/null 2>&1; sg container-monitor /var/lib/dns-query-exporter/token2 technitium-readers >/dev/null 2>&1
out=$(sg container-monitor $F technitium-readers --rollback 2>&1)
group_line technitium-readers | grep -q ':container-monitor$' && echo "$out" | grep -q "kept 'container-monitor' in group" \
        && pass "one account, two files: rolling back one keeps the membership the other needs" || fail "membership hand-over: $out"
sg container-monitor /var/lib/dns-query-exporter/token2 technitium-readers --rollback >/dev/null 2>&1
etc_state | cmp -s - "$T/etc.before" && [ "$(stat -c '%g %a' "$D/token2")" = "990 640" ] \
        && pass "then the other: membership and group gone, file as before" || fail "after the second file's rollback: $(group_line technitium-readers)"
rm -f "$D/token2"

# --- crash safety: killed at every rename (journal, marker, account files) and at the file's
# chown and chmods; re-run converges, rollback is exact
QUIET_PASS=1
inject() { echo "${1:-}" > "$T/inject"; }
killed() { # killed SPEC ARGS...: the helper must die
        local spec=$1; shift
        inject "$spec"; sg "$@" >"$T/killed.out" 2>&1; local rc=$?; inject
        [ $rc != 0 ]
}
sg container-monitor $F technitium-readers >/dev/null 2>&1
etc_state > "$T/etc.ref"; file_state $F > "$T/file.ref"
sg container-monitor $F technitium-readers --rollback >/dev/null 2>&1
n_crash=0
for spec in renameat:1 renameat:2 renameat:3 renameat:4 renameat:5 renameat:6 fchownat:1 chmod:1 chmod:2; do
        s="${spec%%:*}:signal=SIGKILL:when=${spec#*:}"
        for after in resume rollback; do
                if ! killed "$s" container-monitor $F technitium-readers; then
                        # fewer calls than this N: the run completed; undo it and stop counting this syscall
                        sg container-monitor $F technitium-readers --rollback >/dev/null 2>&1; continue 2
                fi
                n_crash=$((n_crash+1))
                if [ $after = resume ]; then
                        o=$(sg container-monitor $F technitium-readers 2>&1) || fail "kill at $spec: re-run failed: $o"
                        etc_state | cmp -s - "$T/etc.ref" && [ "$(file_state $F)" = "$(cat "$T/file.ref")" ] \
                                && pass "kill at $spec: re-run converges" || fail "kill at $spec: re-run differs"
                fi
                o=$(sg container-monitor $F technitium-readers --rollback 2>&1) || fail "kill at $spec ($after): rollback failed: $o"
                etc_state | cmp -s - "$T/etc.before" && [ "$(file_state $F)" = "$(cat "$T/file.before")" ] \
                        && [ -z "$(ls -A "$SD")" ] && pass "kill at $spec ($after): rollback exact" \
                        || { fail "kill at $spec ($after): rollback differs: $(ls -A "$SD") $(file_state $F)"; diff <(etc_state) "$T/etc.before"; }
        done
done
# the rollback itself killed, then run again
for spec in renameat:1 renameat:2 fchownat:1 chmod:1 chmod:2 unlinkat:1; do
        sg container-monitor $F technitium-readers >/dev/null 2>&1
        if ! killed "${spec%%:*}:signal=SIGKILL:when=${spec#*:}" container-monitor $F technitium-readers --rollback; then
                fail "rollback not killed at $spec"; continue
        fi
        n_crash=$((n_crash+1))
        sg container-monitor $F technitium-readers --rollback >/dev/null 2>&1
        etc_state | cmp -s - "$T/etc.before" && [ "$(file_state $F)" = "$(cat "$T/file.before")" ] && [ -z "$(ls -A "$SD")" ] \
                && pass "rollback killed at $spec, run again: exact" || fail "rollback killed at $spec: differs"
done
echo "crash points: $n_crash"
[ "$n_crash" -ge 12 ] && pass "$n_crash kill points exercised" || fail "only $n_crash kill points"
QUIET_PASS=

find /etc -xdev -printf '%p %U %G %m\n' 2>/dev/null | sort > "$T/host-etc.after"
cmp -s "$T/host-etc.before" "$T/host-etc.after" && pass "the host's /etc untouched" || fail "host /etc changed"
finish
