#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The ownership shift through the real unroot-helper, the real polkitd and agentctl (issue 5):
# a volume with files of several container uids, setuid/setgid files, ACLs, file capabilities,
# symlinks, a hardlink to a file outside the tree and a bind mount inside it is shifted to an
# account, checked inode by inode, shifted again (nothing to do), rolled back and compared with the
# snapshot taken before (owner, mode, ACLs and capability of every inode). Then bad input and an
# unauthorized caller: refused with the field named, nothing changed.
# usage: shift-helper.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/hardening/lib.sh"
hardening_need_root setfacl setcap setfattr python3 setpriv
. "$SRC/tests/hardening/shift-lib.sh"
cleanup_shift() { umount "$VOL/mnt" 2>/dev/null; cleanup; }
trap cleanup_shift EXIT

protect_shadow || { fail "bind a copy over /etc/shadow"; finish; exit 1; }
start_bus_and_polkit || { fail "polkitd starts"; finish; exit 1; }
make_tree "$R"
start_helper
shift_enroll && pass "container-db enrolled (uid $AU, subuid $SU, subgid $SG)" || { fail "enroll"; finish; exit 1; }

make_volume "$VOL" full
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/before"
find /etc -xdev -printf '%p %U %G %m\n' 2>/dev/null | sort > "$T/etc.before"

out=$(shift_run container-db "$VOLREL" 2>&1); rc=$?
[ $rc = 0 ] && pass "shift succeeds" || fail "shift rc $rc: $out"
echo "$out" | sed 's/^/    | /' | head -20
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/after"

expect() { # expect PATH COLUMN VALUE DESC
        local got; got=$(field "$1" "$2" "$T/after")
        [ "$got" = "$3" ] && pass "$4" || fail "$4: $1 column $2 is '$got', wanted '$3'"
}
expect "$VOL" 2 "$AU" "container root (uid 0) becomes the account's uid"
expect "$VOL" 3 "$AG" "container root group becomes the account's gid"
expect "$VOL/data/base/1" 2 $((SU + 998)) "uid 999 becomes subuid_start + 998"
expect "$VOL/data/base/1" 3 $((SG + 998)) "gid 999 becomes subgid_start + 998"
expect "$VOL/conf/app.conf" 2 $((SU + 32)) "uid 33 becomes subuid_start + 32"
expect "$VOL/fifo" 2 $((SU + 998)) "a FIFO is shifted without being opened"
expect "$VOL/suid" 4 755 "setuid bit cleared on a shifted file (policy: no setuid on volume data)"
expect "$VOL/sgid" 4 755 "setgid bit cleared on a shifted executable file"
expect "$VOL/sgid" 3 $((SG + 4)) "its group shifted"
expect "$VOL/sgdir" 4 2775 "setgid directory keeps the bit"
expect "$VOL/sgdir" 3 $((SG + 49)) "setgid directory's group shifted"
expect "$VOL/evil-link" 2 "$AU" "a symlink is shifted as a link"
expect "$VOL/foreign" 2 70000 "an owner outside the source ids is left alone"
expect "$VOL/hl" 2 0 "a hardlinked file is left alone"
expect "$T/outside" 2 0 "the hardlink's other name outside the tree keeps its owner"
expect "$VOL/mnt" 2 0 "the bind mount point is not shifted"
expect "$T/bindsrc/x" 2 999 "nothing behind the bind mount is shifted"
expect "$VOL/acl-unmapped" 2 0 "a file whose ACL names an unmapped uid is left alone"
cap=$(field "$VOL/cap" 9 "$T/after")
[ "$cap" = "01000003$(field "$VOL/cap" 9 "$T/before" | cut -c9-40)$(le32 "$AU")" ] \
        && pass "v2 capability rewritten as v3 with rootid = the account ($cap)" || fail "capability after shift: $cap"
cap=$(field "$VOL/capv3" 9 "$T/after")
[ "${cap:40:8}" = "$(le32 $((SU + 6)))" ] && pass "v3 capability rootid 7 mapped to subuid_start + 6" \
        || fail "v3 capability after shift: $cap"
acl=$(getfacl -n -p "$VOL/acl" 2>/dev/null | grep -E '^(user|group):[0-9]')
echo "$acl" | grep -qx "user:$((SU + 32)):rw-" && echo "$acl" | grep -qx "group:$((SG + 43)):r--" \
        && pass "ACL_USER and ACL_GROUP qualifiers shifted" || fail "ACL after shift: $acl"
dacl=$(getfacl -n -p "$VOL/data" 2>/dev/null | grep -E '^default:(user|group):[0-9]')
echo "$dacl" | grep -qx "default:user:$((SU + 998)):rwx" && echo "$dacl" | grep -qx "default:group:$((SG + 998)):r-x" \
        && pass "default ACL qualifiers shifted" || fail "default ACL after shift: $dacl"
[ "$(stat -c %u /etc/shadow)" = 0 ] && pass "/etc/shadow behind the symlink untouched" || fail "/etc/shadow owner changed"
for what in "mnt': mount point" "hl': hardlinked" "foreign': owner 70000:70000" "acl-unmapped': system.posix_acl_access"; do
        echo "$out" | grep -qF "$what" && pass "reported: '$what" || fail "not reported: '$what"
done
J=$(ls "$R/var/lib/unroot/shift/"container-db-*.journal 2>/dev/null)
[ -f "$J" ] && [ "$(stat -c %a "$J")" = 600 ] && pass "journal $J, mode 0600" || fail "no journal"

out=$(shift_run container-db "$VOLREL" 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "already shifted" && pass "a second shift changes nothing and says so" \
        || fail "second shift: rc $rc: $out"
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/again"
cmp -s "$T/after" "$T/again" && pass "tree identical after the second shift" || fail "second shift changed the tree"

# --- limits: a nest deeper than the walk's cap (256) is left alone below the cap, not a crash; odd
# names (newline, invalid UTF-8, 255 bytes) are shifted and reported escaped
shift_run container-db "$VOLREL" --rollback >/dev/null 2>&1
D=$R/srv/unroot/deep; mkdir -p "$D"
( cd "$D" && for i in $(seq 300); do mkdir d && cd d || exit 1; done; : > leaf )
long=$(printf 'n%.0s' $(seq 255))
mkdir -p "$R/srv/unroot/names"; : > "$R/srv/unroot/names/$(printf 'a\nb')"; : > "$R/srv/unroot/names/$(printf 'x\xff\xfey')"
: > "$R/srv/unroot/names/$long"; chown 0:70000 "$R/srv/unroot/names/$long"
: > "$R/srv/unroot/names/$(printf 'bad\xffname')"; chown 70000 "$R/srv/unroot/names/$(printf 'bad\xffname')"
out=$(shift_run container-db /srv/unroot/deep 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "deeper than 256 levels: not entered" && pass "a 300-deep nest: shifted to the cap, the rest reported (rc 0)" \
        || fail "deep nest: rc $rc: $(echo "$out" | tail -3)"
[ "$(stat -c %u "$D/$(printf 'd/%.0s' $(seq 255))")" = "$AU" ] && [ "$(find "$D" -name leaf -printf '%U')" = 0 ] \
        && pass "level 256 shifted, the leaf below the cap untouched" || fail "deep nest owners"
out=$(shift_run container-db /srv/unroot/names 2>&1); rc=$?
[ $rc = 0 ] && [ "$(stat -c %u "$R/srv/unroot/names/$(printf 'a\nb')")" = "$AU" ] && [ "$(stat -c %u "$R/srv/unroot/names/$(printf 'x\xff\xfey')")" = "$AU" ] \
        && pass "names with a newline and invalid UTF-8 shifted" || fail "odd names: rc $rc: $out"
echo "$out" | grep -qF "left alone '$long': owner 0:70000" && pass "a 255-byte name reported" || fail "255-byte name not reported: $out"
echo "$out" | grep -qF "left alone 'bad%ffname': owner 70000:" && pass "an invalid UTF-8 name reported escaped" || fail "invalid UTF-8 name report: $out"
grep -q '^C .* x%ff%fey ' "$R/var/lib/unroot/shift/"container-db-*.journal && grep -q '^C .* a%0ab ' "$R/var/lib/unroot/shift/"container-db-*.journal \
        && pass "odd names journaled escaped, one line each" || fail "odd names in the journal"
shift_run container-db /srv/unroot/names --rollback >/dev/null 2>&1
shift_run container-db /srv/unroot/deep --rollback >/dev/null 2>&1
[ "$(stat -c %u "$R/srv/unroot/names/$(printf 'a\nb')")" = 0 ] && [ "$(stat -c %u "$D")" = 0 ] && pass "both rolled back" || fail "odd names / deep nest not rolled back"
rm -rf "$D" "$R/srv/unroot/names"
out=$(shift_run container-db "$VOLREL" 2>&1) || fail "shift again after the limits checks: $out"

# --- bad input and unauthorized callers: nothing changes
bad() { # bad RC FIELD-PATTERN DESC ARGS...
        local want=$1 pat=$2 desc=$3; shift 3
        local o r; o=$(shift_run "$@" 2>&1); r=$?
        [ $r = "$want" ] && echo "$o" | grep -qE "$pat" && pass "$desc (rc $r)" || fail "$desc: rc $r: $o"
}
bad 2 "path: '/etc' is not below an allowed root" "/etc refused, field named" container-db /etc
bad 2 "path: contains a '.' or '..' component" "'..' refused" container-db /srv/unroot/../../etc
bad 2 "path: .* is not an absolute path" "relative path refused" container-db srv/unroot/pg
bad 2 "not below an allowed root" "the allowed root itself refused" container-db /srv/unroot
bad 2 "not below an allowed root" "prefix without a slash refused (/srv/unrootX)" container-db /srv/unrootX/pg
ln -s /etc "$R/srv/unroot/etc-link"
bad 2 "path: .*a component is a symlink" "a symlink as the volume root refused" container-db /srv/unroot/etc-link
mkdir -p "$R/srv/unroot/outer/inner" "$T/m2"; mount --bind "$T/m2" "$R/srv/unroot/outer/inner"
bad 2 "crosses a mount point" "a path through a mount point refused" container-db /srv/unroot/outer/inner
umount "$R/srv/unroot/outer/inner"
bad 4 "account" "an unknown account refused" container-xx "$VOLREL"
bad 4 "account" "a non-unroot account refused" alice "$VOLREL"
bad 2 "account" "an invalid account name refused" '../x' "$VOLREL"
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/again"
cmp -s "$T/after" "$T/again" && pass "bad input changed nothing" || fail "bad input changed the tree"

o=$(cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups env UNROOT_HELPER_SOCKET=$SOCK "$AGENTCTL" --no-ask-password shift container-db "$VOLREL" --rollback 2>&1); r=$?
[ $r = 3 ] && echo "$o" | grep -q "org.unroot.helper.shift" && pass "an unprivileged caller is refused for org.unroot.helper.shift (rc 3)" \
        || fail "unprivileged caller: rc $r: $o"
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/again"
cmp -s "$T/after" "$T/again" && pass "the refused rollback changed nothing" || fail "refused request changed the tree"

# --- rollback: every inode back to its exact owner, mode, ACLs and capability
out=$(shift_run container-db "$VOLREL" --rollback 2>&1); rc=$?
[ $rc = 0 ] && pass "rollback succeeds" || fail "rollback rc $rc: $out"
echo "$out" | sed 's/^/    | /' | head -5
snap "$VOL" "$T/bindsrc" "$T/outside" > "$T/rolled"
if cmp -s "$T/before" "$T/rolled"; then
        pass "rollback: owner, mode, ACLs and capabilities of all $(wc -l < "$T/before") inodes equal the snapshot"
else
        fail "rollback differs from the snapshot:"; diff "$T/before" "$T/rolled" | head -20
fi
[ ! -e "$J" ] && pass "journal removed after a complete rollback" || fail "journal still there after rollback"
out=$(shift_run container-db "$VOLREL" --rollback 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "nothing to roll back" && pass "a second rollback has nothing to do" || fail "second rollback: rc $rc: $out"
find /etc -xdev -printf '%p %U %G %m\n' 2>/dev/null | sort > "$T/etc.after"
cmp -s "$T/etc.before" "$T/etc.after" && pass "no owner or mode in /etc changed" || fail "/etc changed"
grep -q 'audit: peer_uid=0 .*action=org.unroot.helper.shift target=container-db result=changed' "$T/helper.log" \
        && pass "shift audited with action and account" || fail "no audit record for the shift"

# --- an immutable file with an ACL: the shift cannot change it and leaves it alone; the rollback,
# which finds its owner, mode and ACL as they were, leaves it alone too (it used to rewrite the ACL
# and fail on the flag)
IMM=$R/srv/unroot/imm
mkdir -p "$IMM"
echo x > "$IMM/locked"; chown 999:999 "$IMM/locked"; setfacl -m u:1000:r "$IMM/locked"
echo y > "$IMM/free"; chown 999:999 "$IMM/free"; setfacl -m u:1000:r "$IMM/free"
if chattr +i "$IMM/locked" 2>/dev/null; then
        snap "$IMM" > "$T/imm.before"
        out=$(shift_run container-db /srv/unroot/imm 2>&1); rc=$?
        echo "$out" | sed 's/^/    | /' | head -4
        [ $rc != 0 ] && echo "$out" | grep -q "locked" && pass "the shift fails on the immutable file and names it (rc $rc)" \
                || fail "shift over an immutable file: rc $rc: $out"
        out=$(shift_run container-db /srv/unroot/imm --rollback 2>&1); rc=$?
        echo "$out" | sed 's/^/    | /' | head -4
        [ $rc = 0 ] && pass "the rollback succeeds with the immutable file still immutable" || fail "rollback rc $rc: $out"
        snap "$IMM" > "$T/imm.rolled"
        cmp -s "$T/imm.before" "$T/imm.rolled" && pass "both files' owner, mode and ACL as before" \
                || { fail "immutable tree differs after the rollback"; diff "$T/imm.before" "$T/imm.rolled" | head; }
        chattr -i "$IMM/locked"
else
        echo "SKIP: chattr +i is not supported on $(stat -f -c %T "$IMM"): immutable-file rollback not run"
fi

# --- setuid/setgid bits and file capabilities go back only onto the content they had: the account
# owned these files between shift and rollback. Kept content gets them back exactly (also for a
# setuid file of another user, whose owner the lease step changes twice); rewritten content, or a
# file the account still holds open for writing, gets its owner and mode back without them, and
# the rollback names each such file.
P=$R/srv/unroot/priv
mkdir -p "$P"
printf 'original' > "$P/kept"; chmod 4755 "$P/kept"
printf 'original' > "$P/kept5"; chown 5:5 "$P/kept5"; chmod 4755 "$P/kept5"
printf 'original' > "$P/sgid-kept"; chown 0:5 "$P/sgid-kept"; chmod 2755 "$P/sgid-kept"
printf 'original' > "$P/cap-kept"; setcap cap_net_raw+ep "$P/cap-kept"
printf 'original' > "$P/rewritten"; chmod 4755 "$P/rewritten"
printf 'original' > "$P/cap-rewritten"; setcap cap_net_raw+ep "$P/cap-rewritten"
printf 'original' > "$P/held"; chmod 4755 "$P/held"
snap "$P" > "$T/priv.before"
out=$(shift_run container-db /srv/unroot/priv 2>&1); rc=$?
[ $rc = 0 ] && [ "$(stat -c %u:%a "$P/rewritten")" = "$AU:755" ] && pass "privileged files shifted, setuid dropped"         || fail "shift of the privileged files: rc $rc: $out"
AS_ACCOUNT=(setpriv --reuid="$AU" --regid="$AG" --clear-groups)
"${AS_ACCOUNT[@]}" sh -c "printf 'rewritten' > '$P/rewritten' && printf 'rewritten' > '$P/cap-rewritten'" \
        && pass "the account rewrites two of them" || fail "the account cannot write its shifted files"
# a writer that keeps its fd open across the rollback (its content stays what it was)
# a rollback killed inside the lease step leaves a setuid file of uid 5 owned by root:5; the next
# rollback takes it from there
chown 0:5 "$P/kept5"
HD=$(mktemp -d); chown "$AU" "$HD"
"${AS_ACCOUNT[@]}" sh -c "exec 3>>'$P/held'; touch '$HD/ready'; exec sleep 60" </dev/null >/dev/null 2>&1 &
HOLDER=$!
for i in $(seq 50); do [ -e "$HD/ready" ] && break; sleep 0.1; done
[ -e "$HD/ready" ] && pass "the account holds 'held' open for writing" || fail "the holder did not start"
out=$(timeout 30 "$AGENTCTL" --no-ask-password shift container-db /srv/unroot/priv --rollback 2>&1); rc=$?
kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null; rm -rf "$HD"
echo "$out" | sed 's/^/    | /' | head -8
[ $rc = 0 ] && pass "the rollback succeeds (rc 0) with a writer holding one file open" || fail "rollback rc $rc: $out"
snap "$P" > "$T/priv.rolled"
for f in kept kept5 sgid-kept cap-kept; do
        [ "$(grep "^$P/$f " "$T/priv.rolled")" = "$(grep "^$P/$f " "$T/priv.before")" ] \
                && pass "$f: unchanged content, owner, mode and capability exactly as before ($(stat -c %U:%G:%a "$P/$f"))" \
                || fail "$f: $(grep "^$P/$f " "$T/priv.rolled") (before: $(grep "^$P/$f " "$T/priv.before"))"
done
for f in rewritten cap-rewritten held; do
        read -r _ u g m _ < <(grep "^$P/$f " "$T/priv.before")
        want="$u $g $(printf '%o' $(( 8#$m & 0777 )))"
        got=$(grep "^$P/$f " "$T/priv.rolled" | awk '{print $2, $3, $4}')
        [ "$got" = "$want" ] && [ -z "$(getcap "$P/$f")" ] \
                && pass "$f: owner and mode back without setuid ($got), no capability" \
                || fail "$f: owner and mode '$got' (want '$want'), cap '$(getcap "$P/$f")'"
done
echo "$out" | grep -q "rollback 'rewritten': owner and mode restored without .*: its content changed since the shift" \
        && echo "$out" | grep -q "rollback 'cap-rewritten': .*its content changed since the shift" \
        && pass "the rollback names both rewritten files" || fail "rewritten files not reported: $out"
echo "$out" | grep -q "rollback 'held': .*another process has it open" \
        && pass "the rollback names the file held open" || fail "held file not reported: $out"
finish
