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

section "the apply loop with a real container (agentctl status/restart/logs, edit, remove, idle)"
check "busybox image in the account's store" tb_make_image "$NAME"
SRC=$HOME_/.config/containers/systemd
mkdir -p "$SRC"
cat >"$SRC/web.container" <<'EOF'
[Container]
Image=localhost/bb:latest
Exec=/bin/httpd -f -p 8080 -h /www
PublishPort=127.0.0.1:18080:8080
HealthCmd=/bin/true
HealthInterval=3s
[Install]
WantedBy=default.target
EOF
chown -R "$NAME:" "$HOME_/.config"
user_active() { runuser -u "$NAME" -- env XDG_RUNTIME_DIR=/run/user/$UID_ systemctl --user is-active "$1"; }
export -f user_active
export NAME UID_
check "the agent renders web.service" wait_for 30 test -f "$HOME_/.config/systemd/user/web.service"
check "the agent starts web.service" wait_for 120 user_active web.service
check "[Install] WantedBy: the default.target.wants link" test -L "$HOME_/.config/systemd/user/default.target.wants/web.service"
check "the published port answers from the host" wait_for 30 bash -c \
        'exec 3<>/dev/tcp/127.0.0.1/18080 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && grep -q "hello from container httpd" <&3'
check "agentctl status: web.service active, with its source" wait_for 30 bash -c \
        "agentctl --json status $NAME | grep -q '\"name\":\"web.service\",\"source\":\"$SRC/web.container\",\"load_state\":\"loaded\",\"active_state\":\"active\"'"
if ! check "agentctl status: health 'healthy' (podman's health log)" wait_for 60 bash -c \
        "agentctl --json status $NAME | grep -q '\"health\":\"healthy\"'"; then
        ls -la /run/user/$UID_/ | sed 's/^/    | /'
        find /run/user/$UID_/containers "$HOME_/.local/share/containers/storage" -maxdepth 4 -name 'healthcheck.log' 2>&1 | sed 's/^/    | /'
        tr '\0' '\n' </proc/"$(runuser -u "$NAME" -- env XDG_RUNTIME_DIR=/run/user/$UID_ systemctl --user show -P MainPID unroot-agent.service)"/environ | sed 's/^/    | env /'
fi
out=$(agentctl status "$NAME" 2>&1)
echo "$out" | sed 's/^/    | /'
check "agentctl status: the units table" bash -c "printf '%s\n' \"\$1\" | grep -qE '^$NAME/web.service +active +running '" _ "$out"
check "agentctl status: the podman version used" bash -c "agentctl --json status $NAME | grep -qF '\"podman_version\":\"4.3.1 (podman --version)\"'"
PID1=$(runuser -u "$NAME" -- env XDG_RUNTIME_DIR=/run/user/$UID_ systemctl --user show -P MainPID web.service)
check "agentctl restart ACCOUNT/UNIT" agentctl restart "$NAME/web.service"
PID2=$(runuser -u "$NAME" -- env XDG_RUNTIME_DIR=/run/user/$UID_ systemctl --user show -P MainPID web.service)
check "restart: a new main PID ($PID1 -> $PID2)" test "$PID1" != "$PID2"
check "alice (unroot-admins) may stop and start" bash -c \
        "runuser -u alice -- agentctl stop $NAME/web.service && runuser -u alice -- agentctl start $NAME/web.service"
check_fail "bob may not restart" runuser -u bob -- agentctl restart "$NAME/web.service"
check_fail "a unit the agent did not generate is refused" agentctl stop "$NAME/unroot-agent.service"
out=$(agentctl logs "$NAME/web.service" -n 50 2>&1)
echo "$out" | tail -5 | sed 's/^/    | /'
check "root: agentctl logs shows the unit's journal" bash -c "printf '%s\n' \"\$1\" | grep -q 'web.service'" _ "$out"
check "root: agentctl --json logs is journal JSON" bash -c "agentctl --json logs $NAME/web.service -n 3 | head -1 | grep -q '\"__CURSOR\"'"
check_fail "alice (unroot-admins, not systemd-journal): logs refused with the reason" \
        runuser -u alice -- agentctl logs "$NAME/web.service" -n 5
usermod -aG systemd-journal alice
check "alice in systemd-journal: logs readable" bash -c "runuser -u alice -- agentctl logs $NAME/web.service -n 50 | grep -q web.service"
gpasswd -d alice systemd-journal >/dev/null

AGENT_PID=$(runuser -u "$NAME" -- env XDG_RUNTIME_DIR=/run/user/$UID_ systemctl --user show -P MainPID unroot-agent.service)
sleep 5
c1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$AGENT_PID/status")
sleep 60
c2=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$AGENT_PID/status")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT_PID/status")
echo "    | agent pid $AGENT_PID: voluntary context switches over 60 s idle: $c1 -> $c2; VmRSS ${rss} kB"
check "idle 60 s with a health-checked container running: no agent wake-ups ($c1 -> $c2)" test "$c1" = "$c2"
check "idle RSS ${rss} kB" test -n "$rss"

echo "Environment=EDITED=1" >>"$SRC/web.container"
check "edit: the unit file is rewritten" wait_for 30 grep -q EDITED=1 "$HOME_/.config/systemd/user/web.service"
check "edit: web.service restarted, nothing else" wait_for 60 bash -c \
        "journalctl --no-pager _UID=$UID_ | grep -q 'Applied: 0 started, 1 restarted, 0 stopped'"
check "edit: web.service active again" wait_for 60 user_active web.service
printf '[Container]\nExec=/bin/true\n' >"$SRC/broken.container"
check "bad input: the status names the file and the reason" wait_for 30 bash -c \
        "agentctl --json status $NAME | grep -qF 'converting \\\"broken.container\\\"'"
check "bad input: web.service keeps running" user_active web.service
rm -f "$SRC/web.container" "$SRC/broken.container"
check "remove: the unit file is gone" wait_for 30 test ! -e "$HOME_/.config/systemd/user/web.service"
check_fail "remove: web.service is stopped" user_active web.service
journalctl --no-pager _UID=$UID_ | grep 'unroot-agent' | tail -12 | sed 's/^/    | /'

summary
