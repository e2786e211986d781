#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end for unroot-agent alone, inside the booted Debian 12 test bed (real systemd user
# managers, logind, dbus): the account is made by hand (useradd, usermod, loginctl), not by the
# helper, so this checks exactly the agent's part: its user units (socket activation,
# ConditionGroup, Type=notify, RemoveOnStop), its answers and its access rules, and agentctl status.
set -u
. "${TESTBED_LIB:-./lib.sh}"

section "install unroot"
if ! check "install the freshly built unroot" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
VERSION=$(agentctl --version | awk '{print $2}')

section "a service account made by hand"
NAME=agent-e2e
HOME_=/var/lib/unroot/$NAME
mkdir -p /var/lib/unroot
useradd -r -U -d "$HOME_" -m -s /usr/sbin/nologin "$NAME"
chmod 0711 "$HOME_"
usermod -aG unroot-accounts "$NAME"
usermod --add-subuids 500000-565535 --add-subgids 600000-665535 "$NAME"
useradd -m -s /bin/bash alice && usermod -aG unroot-admins alice
useradd -m -s /bin/bash bob
UID_=$(id -u "$NAME")
loginctl enable-linger "$NAME"
check "user@$UID_.service active" wait_for 60 systemctl is-active "user@$UID_.service"
check "unroot-agent.socket active in the account's user manager" wait_for 60 \
        asuser "$NAME" systemctl --user is-active unroot-agent.socket
check "socket at ~/.unroot/agent.sock, mode 0666, directory 0711" bash -c \
        "test \"\$(stat -c '%F %a' $HOME_/.unroot/agent.sock) \$(stat -c %a $HOME_/.unroot)\" = 'socket 666 711'"

section "status"
json=$(cd /tmp && agentctl --json status "$NAME" 2>&1); rc=$?
echo "$json" | sed 's/^/    | /'
[ $rc = 0 ] && pass "root: agentctl status exits 0" || fail "root: agentctl status exits $rc"
for want in "\"uid\":$UID_," '"subuid":{"start":500000,"count":65536}' '"subgid":{"start":600000,"count":65536}' \
            '"linger":true' '"user_manager":"active"' "\"agent\":{\"state\":\"answering\",\"version\":\"$VERSION\"" \
            '"manager_state":"running"'; do
        case $json in
        *"$want"*) pass "status has $want" ;;
        *) fail "status lacks $want" ;;
        esac
done
check "unroot-agent.service active (Type=notify, socket-activated)" \
        asuser "$NAME" systemctl --user is-active unroot-agent.service
check "the agent logs to the journal with priorities (<6> prefix parsed)" bash -c \
        "journalctl --no-pager -o verbose _UID=$UID_ | grep -A30 'MESSAGE=unroot-agent $VERSION ready' | grep -q 'PRIORITY=6' || journalctl --no-pager _UID=$UID_ -p info | grep -q 'unroot-agent $VERSION ready'"

out=$(cd /tmp && runuser -u alice -- agentctl status "$NAME" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
check "alice (unroot-admins): the table shows the agent answering" \
        bash -c "[ $rc = 0 ] && printf '%s\n' \"\$1\" | grep -qE '^$NAME +$UID_ +500000:65536 +600000:65536 +yes +active +answering \\(unroot $VERSION, manager running\\)\$'" _ "$out"
out=$(cd /tmp && runuser -u bob -- agentctl --json status "$NAME" 2>&1)
echo "$out" | sed 's/^/    | /'
case $out in *'"state":"refused"'*) pass "bob (no group): refused by the agent" ;; *) fail "bob was not refused" ;; esac
check "the refusal is in the journal" bash -c "journalctl --no-pager _UID=$UID_ | grep -q 'Refused uid $(id -u bob)'"
out=$(asuser "$NAME" agentctl --json status "$NAME" 2>&1)
case $out in *'"state":"answering"'*) pass "the account itself: answered" ;; *) fail "the account itself was not answered" ;; esac

section "only enrolled accounts get an agent"
loginctl enable-linger bob
BOB=$(id -u bob)
check "bob's user manager runs" wait_for 60 systemctl is-active "user@$BOB.service"
sleep 2
check_fail "no unroot-agent.socket for bob (ConditionGroup)" asuser bob systemctl --user is-active unroot-agent.socket
check "no agent socket in bob's home" test ! -e /home/bob/.unroot/agent.sock
loginctl disable-linger bob

section "stopping"
asuser "$NAME" systemctl --user stop unroot-agent.socket unroot-agent.service
check "RemoveOnStop: the socket file is gone" test ! -e "$HOME_/.unroot/agent.sock"
out=$(cd /tmp && agentctl --json status "$NAME" 2>&1)
case $out in *'"state":"not running"'*) pass "stopped agent: not running" ;; *) fail "stopped agent: $out" ;; esac
asuser "$NAME" systemctl --user start unroot-agent.socket
out=$(cd /tmp && agentctl --json status "$NAME" 2>&1)
case $out in *'"state":"answering"'*) pass "started again on demand by the socket" ;; *) fail "not answering after restart: $out" ;; esac

summary
