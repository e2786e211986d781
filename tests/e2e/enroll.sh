#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end, inside the booted Debian 12 test bed (real systemd, logind, dbus, polkitd, podman
# 4.3.1): `agentctl enroll container-db` by a member of unroot-admins, with no password.
set -u
. "${TESTBED_LIB:-./lib.sh}"

section "install unroot"
if ! check "install the freshly built unroot" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
check "unroot-helper.socket listening" systemctl is-active unroot-helper.socket
check "sysusers created unroot-admins" getent group unroot-admins
check "sysusers created unroot-accounts" getent group unroot-accounts

section "admins"
useradd -m -s /bin/bash alice
useradd -m -s /bin/bash bob
usermod -aG unroot-admins alice
install -m 0644 /usr/share/doc/unroot/examples/50-unroot-admins.rules /etc/polkit-1/rules.d/50-unroot-admins.rules
sleep 2   # polkitd reloads rules by inotify
check "alice is in unroot-admins, bob is not" bash -c 'id -nG alice | grep -qw unroot-admins && ! id -nG bob | grep -qw unroot-admins'

section "agentctl enroll container-db (alice, no password)"
etc_snapshot /tmp/etc-before-enroll
t0=$SECONDS
out=$(cd /tmp && runuser -u alice -- agentctl enroll container-db 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
echo "    (enroll took $((SECONDS - t0)) s)"
[ $rc = 0 ] && pass "enroll exits 0" || fail "enroll exits $rc"
check "getent passwd container-db" getent passwd container-db
UID_=$(id -u container-db 2>/dev/null || echo none)
check "system account (uid < 1000), nologin, home /var/lib/unroot/container-db" bash -c \
        "getent passwd container-db | awk -F: '\$3 < 1000 && \$6 == \"/var/lib/unroot/container-db\" && \$7 == \"/usr/sbin/nologin\"' | grep -q ."
check "member of unroot-accounts" bash -c 'id -nG container-db | grep -qw unroot-accounts'
check "a line in /etc/subuid" grep -qE '^container-db:[0-9]+:65536$' /etc/subuid
check "a line in /etc/subgid" grep -qE '^container-db:[0-9]+:65536$' /etc/subgid
check "linger file" test -e /var/lib/systemd/linger/container-db
check "user@$UID_.service active" systemctl is-active "user@$UID_.service"
check "unroot-agent.service active in the account's user manager" wait_for 60 \
        asuser container-db systemctl --user is-active unroot-agent.service
status=$(cd /tmp && runuser -u alice -- agentctl status container-db 2>&1); src=$?
echo "$status" | sed 's/^/    | /'
[ $src = 0 ] && pass "agentctl status container-db exits 0" || fail "agentctl status exits $src"
echo "$status" | grep -q 'answering' && pass "status shows the agent answering" || fail "status does not show the agent answering"
json=$(cd /tmp && runuser -u alice -- agentctl --json status container-db 2>&1)
echo "$json" | head -c 600 | sed 's/^/    | /'; echo
echo "$json" | grep -q '"agent"' && pass "status --json" || fail "status --json has no agent field"

section "idempotence"
etc_snapshot /tmp/etc-after-enroll
out=$(cd /tmp && runuser -u alice -- agentctl enroll container-db 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "second enroll exits 0" || fail "second enroll exits $rc"
echo "$out" | grep -qi 'unchanged' && pass "second enroll reports unchanged" || fail "second enroll does not say unchanged"
check "/etc byte-identical after the second enroll" etc_compare /tmp/etc-after-enroll

section "refusal"
out=$(cd /tmp && runuser -u bob -- agentctl --no-ask-password enroll container-evil 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 3 ] && pass "bob is refused with exit code 3" || fail "bob: exit code $rc, wanted 3"
echo "$out" | grep -qE '(not authorized|authentication required) for org.unroot.helper.enroll' && pass "refusal names the action" || fail "refusal message"
check "/etc byte-identical after the refusal" etc_compare /tmp/etc-after-enroll
check "refusal in the journal with the peer uid" bash -c \
        "journalctl -o verbose --no-pager SYSLOG_IDENTIFIER=unroot-helper UNROOT_PEER_UID=$(id -u bob) | grep -q 'UNROOT_RESULT='"
out=$(cd /tmp && runuser -u bob -- agentctl status container-db 2>&1)
echo "$out" | sed 's/^/    | /'
echo "$out" | grep -q 'refused' && pass "container-db's agent refuses bob" || fail "bob was not refused by the agent"

section "unenroll"
out=$(cd /tmp && runuser -u alice -- agentctl unenroll container-db 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "unenroll exits 0" || fail "unenroll exits $rc"
check "linger turned off" test ! -e /var/lib/systemd/linger/container-db
check "user@$UID_.service stops" wait_for 60 bash -c "! systemctl is-active -q user@$UID_.service"
check "the account and its data are kept" bash -c "getent passwd container-db && test -d /var/lib/unroot/container-db"
out=$(cd /tmp && runuser -u alice -- agentctl enroll container-db 2>&1); rc=$?
[ $rc = 0 ] && pass "re-enroll after unenroll works" || { fail "re-enroll exits $rc"; echo "$out" | sed 's/^/    | /'; }
check "linger back on" test -e /var/lib/systemd/linger/container-db

section "unenroll --purge"
out=$(cd /tmp && runuser -u alice -- agentctl enroll container-tmp 2>&1); rc=$?
[ $rc = 0 ] && pass "enroll container-tmp" || { fail "enroll container-tmp exits $rc"; echo "$out" | sed 's/^/    | /'; }
TMP_UID=$(id -u container-tmp 2>/dev/null || echo none)
out=$(cd /tmp && runuser -u alice -- agentctl unenroll --purge container-tmp 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "unenroll --purge exits 0" || fail "unenroll --purge exits $rc"
check "user@$TMP_UID.service gone" bash -c "! systemctl is-active -q user@$TMP_UID.service"
check "account, group and ranges removed" bash -c \
        "! getent passwd container-tmp && ! getent group container-tmp && ! grep -q '^container-tmp:' /etc/subuid /etc/subgid"
check "home removed" test ! -e /var/lib/unroot/container-tmp
check "container-db untouched by the purge" bash -c "getent passwd container-db && grep -q '^container-db:' /etc/subuid"

section "sandbox"
if [ -n "${E2E_SANDBOX_RELAXED:-}" ]; then
        # sanitizers.sh: its drop-in lifts the system call filter for the sanitizer runtime
        skip "the installed helper unit's exposure: $E2E_SANDBOX_RELAXED"
else
        tb_check_helper_exposure
fi

summary
