#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host test for unroot-agent and agentctl (suite integration, needs root, no systemd needed).
#
# Runs in a private mount namespace where /etc is a bind-mounted copy, so the throwaway users it
# creates with useradd never touch the real /etc. Starts unroot-agent as an unprivileged service
# account and checks who it answers (root, itself, unroot-admins) and who it refuses; then runs
# agentctl against a fake helper for every helper Status and checks exit codes and messages.
#
#   agent-host.sh BUILD_ROOT
set -u

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (creates throwaway users inside a private mount namespace)"
        exit 77
fi
for t in unshare useradd groupadd setpriv mount; do
        if ! command -v "$t" >/dev/null; then
                echo "SKIP: '$t' is not installed"
                exit 77
        fi
done

BUILD=$(realpath "${1:?usage: agent-host.sh BUILD_ROOT}")

if [ -z "${UNROOT_AGENT_TEST_NS:-}" ]; then
        exec unshare -m --propagation private env UNROOT_AGENT_TEST_NS=1 "$0" "$@"
fi

AGENT=$BUILD/agent/unroot-agent
CTL=$BUILD/agent/agentctl
FAKE=$BUILD/tests/agent/fake-helper
PROBE=$BUILD/tests/agent/agent-probe
VERSION=$("$CTL" --version | awk '{print $2}')

TMP=$(mktemp -d /tmp/unroot-agent-test.XXXXXX)
chmod 0755 "$TMP"
AGENT_PID=
cleanup() {
        [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
        umount /etc 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

. "$(dirname "$0")/host-lib.sh"

# --- a private /etc with throwaway accounts -----------------------------------------------------
cp -a /etc "$TMP/etc" || exit 1
mount --bind "$TMP/etc" /etc || { echo "SKIP: cannot bind-mount /etc"; exit 77; }

groupadd -r unroot-accounts 2>/dev/null || true
groupadd -r unroot-admins 2>/dev/null || true
mkdir -p "$TMP/home"
useradd -r -M -d "$TMP/home/ut-svc" -s /usr/sbin/nologin -G unroot-accounts ut-svc || exit 1
useradd -M -d "$TMP/home/ut-out" -s /bin/sh ut-out || exit 1
useradd -M -d "$TMP/home/ut-adm" -s /bin/sh -G unroot-admins ut-adm || exit 1
mkdir -p "$TMP/home/ut-svc"
chown ut-svc:ut-svc "$TMP/home/ut-svc"
chmod 0711 "$TMP/home/ut-svc"
echo "ut-svc:300000:65536" >>/etc/subuid
echo "ut-svc:400000:65536" >>/etc/subgid
SVC_UID=$(id -u ut-svc)
OUT_UID=$(id -u ut-out)
mkdir -p "$TMP/linger"
export UNROOT_LINGER_DIR=$TMP/linger

as() { # as USER COMMAND...
        local u=$1; shift
        setpriv --reuid="$u" --regid="$u" --init-groups env -i PATH=/usr/bin:/bin HOME="$TMP/home/$u" \
                UNROOT_LINGER_DIR="$UNROOT_LINGER_DIR" "$@"
}

start_agent() {
        rm -f "$TMP/agent.log"
        # Not through as(): $! must be the agent itself, not a subshell around it.
        setpriv --reuid=ut-svc --regid=ut-svc --init-groups env -i PATH=/usr/bin:/bin HOME="$TMP/home/ut-svc" \
                "$AGENT" -v 2>"$TMP/agent.log" &
        AGENT_PID=$!
        # The socket file appears at bind(), before listen(): wait until it answers.
        for _ in $(seq 100); do
                "$PROBE" "$TMP/home/ut-svc/.unroot/agent.sock" status >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        echo "agent did not start:"; cat "$TMP/agent.log"
        return 1
}

# --- unroot-agent -------------------------------------------------------------------------------
start_agent || exit 1
SOCK=$TMP/home/ut-svc/.unroot/agent.sock
check "agent binds \$HOME/.unroot/agent.sock with mode 0666 in a 0711 directory" \
        test "$(stat -c %a "$SOCK") $(stat -c %a "$TMP/home/ut-svc/.unroot")" = "666 711"
check "agent logs with sd-daemon prefixes" contains "$TMP/agent.log" "<6>unroot-agent $VERSION ready for uid $SVC_UID."

"$CTL" --json status ut-svc >"$TMP/out" 2>&1; rc=$?
check "root: status exits 0" test $rc = 0
check "root: agent answering" contains "$TMP/out" "\"agent\":{\"state\":\"answering\",\"version\":\"$VERSION\",\"manager_state\":\"unavailable\""
check "root: uid in status" contains "$TMP/out" "{\"name\":\"ut-svc\",\"found\":true,\"uid\":$SVC_UID,"
check "root: linger off without a linger file" contains "$TMP/out" "\"linger\":false"
check "root: ranges from the account library" contains "$TMP/out" \
        '"ranges_known":true,"subuid":{"start":300000,"count":65536},"subgid":{"start":400000,"count":65536},"ranges_error":null'

touch "$TMP/linger/ut-svc"
"$CTL" status ut-svc >"$TMP/out" 2>&1; rc=$?
check "root: human status exits 0" test $rc = 0
check "root: table header" contains "$TMP/out" "ACCOUNT  UID"
check "root: table row answering" \
        grep -qE "^ut-svc +$SVC_UID  .*  yes +[a-z]+ +answering \(unroot $VERSION, manager unavailable\)\$" "$TMP/out"

as ut-out "$CTL" --json status ut-svc >"$TMP/out" 2>&1; rc=$?
check "outsider: status still exits 0" test $rc = 0
check "outsider: refused by the agent" contains "$TMP/out" "\"agent\":{\"state\":\"refused\""
check "outsider: refusal says who may connect" contains "$TMP/out" "only root, the account itself, and members of group 'unroot-admins'"
check "agent logs the refusal" contains "$TMP/agent.log" "Refused uid $OUT_UID"

as ut-adm "$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "unroot-admins member: answered" contains "$TMP/out" "\"state\":\"answering\""
check "unprivileged agentctl: ranges from the account library" contains "$TMP/out" \
        '"ranges_known":true,"subuid":{"start":300000,"count":65536},"subgid":{"start":400000,"count":65536},"ranges_error":null'
as ut-svc "$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "the account itself: answered" contains "$TMP/out" "\"state\":\"answering\""

"$CTL" --json status >"$TMP/out" 2>&1; rc=$?
check "status of all accounts lists exactly ut-svc" \
        test "$rc $(grep -o '"name":"[^"]*"' "$TMP/out" | tr '\n' ' ')" = '0 "name":"ut-svc" '
"$CTL" status ut-out >"$TMP/out" 2>&1; rc=$?
check "status of a non-enrolled user exits 4" test $rc = 4
check "status of a non-enrolled user says so" contains "$TMP/out" "no unroot account 'ut-out' (not a member of group unroot-accounts)"

"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "probe: status request answered OK" contains "$TMP/out" "status=0 "
check "the agent reports its account, uid, version and ranges" contains "$TMP/out" \
        "status=0 field= message= account=ut-svc uid=$SVC_UID manager_state=unavailable version=$VERSION subuid=300000:65536 subgid=400000:65536"
"$PROBE" "$SOCK" garbage >"$TMP/out" 2>&1
check "probe: garbage gets AGENT_INVALID" contains "$TMP/out" "status=1 field= message=malformed request"
"$PROBE" "$SOCK" wrong-version >"$TMP/out" 2>&1
check "probe: wrong version gets AGENT_INVALID naming the field" contains "$TMP/out" "status=1 field=version"
"$PROBE" "$SOCK" no-op >"$TMP/out" 2>&1
check "probe: unset oneof gets AGENT_INVALID naming op" contains "$TMP/out" "status=1 field=op"
"$PROBE" "$SOCK" unknown-field >"$TMP/out" 2>&1
check "probe: unknown field refused" contains "$TMP/out" "status=1 field= message=malformed request: unknown or missing fields"
"$PROBE" "$SOCK" oversized >"$TMP/out" 2>&1
check "probe: oversized datagram refused" contains "$TMP/out" "status=1 field= message=request exceeds the size limit"
as ut-out "$PROBE" "$SOCK" garbage >"$TMP/out" 2>&1
check "probe: an outsider's garbage is not decoded, only refused" contains "$TMP/out" "status=2 "
as ut-out "$PROBE" "$SOCK" oversized >"$TMP/out" 2>&1
check "probe: an outsider's oversized datagram is refused too" contains "$TMP/out" "status=2 "

# A peer that connects and says nothing must not hold up anyone else (event loop, no blocking read).
"$PROBE" "$SOCK" silent >"$TMP/silent" 2>&1 &
SILENT=$!
sleep 0.2
start=$(date +%s%N)
"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
elapsed=$((($(date +%s%N) - start) / 1000000))
check "a silent peer does not block the next request (${elapsed} ms)" test "$elapsed" -lt 1000
check "the next request is answered" contains "$TMP/out" "status=0 "
wait $SILENT
check "a silent peer is disconnected after the request timeout" contains "$TMP/silent" "closed"

kill "$AGENT_PID"; wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "agent exits 0 on SIGTERM" test $rc = 0
"$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "stopped agent: not running" contains "$TMP/out" "\"state\":\"not running\""

# --- the user manager's state, user@UID.service and socket activation ---------------------------
FAKE_MGR=$BUILD/tests/agent/fake-manager
mkdir -p "$TMP/rt/systemd"
"$FAKE_MGR" "$TMP/rt/systemd/private" degraded 2>"$TMP/mgr.err" &
MGR_PID=$!
"$FAKE_MGR" "$TMP/sysbus" running "user@$SVC_UID.service" active 2>"$TMP/sysbus.err" &
SYSBUS_PID=$!
for _ in $(seq 100); do [ -S "$TMP/rt/systemd/private" ] && [ -S "$TMP/sysbus" ] && break; sleep 0.02; done
"$PROBE" "$TMP/notify.sock" notify-wait >"$TMP/notify" 2>&1 &
NOTIFY_PID=$!
for _ in $(seq 100); do [ -S "$TMP/notify.sock" ] && break; sleep 0.02; done
setpriv --reuid=ut-svc --regid=ut-svc --init-groups env -i PATH=/usr/bin:/bin HOME="$TMP/home/ut-svc" \
        XDG_RUNTIME_DIR="$TMP/rt" NOTIFY_SOCKET="$TMP/notify.sock" "$AGENT" 2>"$TMP/agent.log" &
AGENT_PID=$!
wait "$NOTIFY_PID"
check "agent sends READY=1 to \$NOTIFY_SOCKET" contains "$TMP/notify" "READY=1"
"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "agent reads SystemState from the manager's private socket" \
        contains "$TMP/out" "account=ut-svc uid=$SVC_UID manager_state=degraded version=$VERSION"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/sysbus "$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "agentctl reads user@UID.service ActiveState from the system bus" contains "$TMP/out" '"user_manager":"active"'
check "agentctl shows the agent's manager state" contains "$TMP/out" '"manager_state":"degraded"'
kill "$SYSBUS_PID"; wait "$SYSBUS_PID" 2>/dev/null
rm -f "$TMP/sysbus"
"$FAKE_MGR" "$TMP/sysbus" running "user@1.service" active 2>"$TMP/sysbus.err" &
SYSBUS_PID=$!
for _ in $(seq 100); do [ -S "$TMP/sysbus" ] && break; sleep 0.02; done
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/sysbus "$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "a user@UID.service that is not loaded is inactive" contains "$TMP/out" '"user_manager":"inactive"'
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMP/nonexistent "$CTL" --json status ut-svc >"$TMP/out" 2>&1
check "no system bus: unknown" contains "$TMP/out" '"user_manager":"unknown"'
kill "$SYSBUS_PID" "$MGR_PID" "$AGENT_PID"; wait "$SYSBUS_PID" "$MGR_PID" "$AGENT_PID" 2>/dev/null; AGENT_PID=

if command -v systemd-socket-activate >/dev/null; then
        timeout 20 systemd-socket-activate --seqpacket -l "$TMP/act.sock" "$AGENT" 2>"$TMP/act.log" &
        ACT_PID=$!
        for _ in $(seq 100); do "$PROBE" "$TMP/act.sock" status >"$TMP/out" 2>&1 && break; sleep 0.02; done
        check "socket activation: the passed SEQPACKET socket is served" contains "$TMP/out" "status=0 "
        kill "$ACT_PID"; wait "$ACT_PID" 2>/dev/null
        timeout 20 systemd-socket-activate -l "$TMP/stream.sock" "$AGENT" 2>"$TMP/act.log" &
        ACT_PID=$!
        # The file appears at bind(), before listen(): knock until it is listening.
        for _ in $(seq 100); do "$PROBE" "$TMP/stream.sock" stream 2>/dev/null && break; sleep 0.02; done
        wait "$ACT_PID"; rc=$?
        check "socket activation: a stream socket is refused (exit $rc)" test $rc = 1
        check "socket activation: says why" contains "$TMP/act.log" "is not a listening AF_UNIX SOCK_SEQPACKET socket"
else
        echo "# systemd-socket-activate not installed, socket activation not tested"
fi

# --- agentctl against a fake helper -------------------------------------------------------------
export UNROOT_HELPER_SOCKET=$TMP/helper.sock
FAKE_PID=
fake() { # fake STATUS [HOME]
        rm -f "$UNROOT_HELPER_SOCKET"
        "$FAKE" "$UNROOT_HELPER_SOCKET" "$@" >"$TMP/request" 2>"$TMP/fake.err" &
        FAKE_PID=$!
        for _ in $(seq 100); do
                [ -S "$UNROOT_HELPER_SOCKET" ] && return 0
                sleep 0.02
        done
        echo "fake helper did not start"; cat "$TMP/fake.err"
        return 1
}

expect=(0 0 2 3 3 4 4 1 1 3)
words=("enroll 'ut-new': changed: fake message for status 0"
       "enroll 'ut-new': unchanged: fake message for status 1"
       "agentctl: invalid request: fake message for status 2: fix the argument"
       "agentctl: not authorized for org.unroot.helper.enroll: run as root or as a member of unroot-admins (see "
       "agentctl: authentication required for org.unroot.helper.enroll: run agentctl on a terminal without --no-ask-password"
       "agentctl: conflict: fake message for status 5: 'ut-new' belongs to something unroot did not create"
       "agentctl: not found: fake message for status 6: 'agentctl status' lists the enrolled accounts"
       "agentctl: enroll failed: fake message for status 7: run the same command again"
       "agentctl: busy: fake message for status 8"
       "agentctl: authentication for org.unroot.helper.enroll was cancelled")
for s in 0 1 2 3 4 5 6 7 8 9; do
        fake "$s" || exit 1
        "$CTL" enroll ut-new --no-wait >"$TMP/out" 2>&1; rc=$?
        wait "$FAKE_PID"
        check "helper status $s: exit ${expect[$s]} (got $rc)" test "$rc" = "${expect[$s]}"
        check "helper status $s: message" contains "$TMP/out" "${words[$s]}"
done
check "request carried name, default count, version 1, not interactive without a tty" \
        contains "$TMP/request" "op=enroll name=ut-new subid_count=default:65536 version=1 interactive=false"

# On a terminal agentctl starts pkttyagent first; here polkitd is absent, so pkttyagent gives up,
# and agentctl must notice, not hang, and not claim it can answer a password prompt.
if command -v script >/dev/null && [ -x /usr/bin/pkttyagent ]; then
        fake 0 || exit 1
        timeout 20 script -qec "$CTL enroll ut-new --no-wait" /dev/null >"$TMP/out" 2>&1; rc=$?
        wait "$FAKE_PID"
        check "on a terminal without polkitd: exit 0 (got $rc)" test $rc = 0
        check "on a terminal without polkitd: pkttyagent was started" contains "$TMP/out" "Authorization not available"
        check "on a terminal without polkitd: request not interactive" contains "$TMP/request" "interactive=false"
        fake 0 || exit 1
        timeout 20 script -qec "$CTL --no-ask-password enroll ut-new --no-wait" /dev/null >"$TMP/out" 2>&1; rc=$?
        wait "$FAKE_PID"
        check "--no-ask-password: no pkttyagent" test "$rc $(grep -c 'Authorization not available' "$TMP/out")" = "0 0"
else
        echo "# script(1) or pkttyagent missing, terminal path not tested"
fi

fake 0 || exit 1
"$CTL" --json enroll ut-new --subids 1000 --no-wait >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "enroll --subids is sent" contains "$TMP/request" "op=enroll name=ut-new subid_count=1000 "
check "enroll --json: one document" test "$rc $(wc -l <"$TMP/out")" = "0 1"
check "enroll --json: content" contains "$TMP/out" '{"operation":"enroll","name":"ut-new","status":"changed","exit_code":0,"message":"fake message for status 0","field":null,"action":"org.unroot.helper.enroll","changes":["created group '"'NAME'"'","turned linger on"],"account":{"name":"ut-new","uid":990,"gid":991,"home":"/nonexistent","subuid":{"start":100000,"count":65536},"subgid":{"start":200000,"count":65536},"linger":true},"agent":null}'
check "human enroll lists the account" true
fake 0 || exit 1
"$CTL" enroll ut-new --no-wait >"$TMP/out" 2>&1; wait "$FAKE_PID"
check "human enroll prints changes and the account" \
        contains "$TMP/out" "account ut-new: uid 990, gid 991, home /nonexistent, subuid 100000:65536, subgid 200000:65536, linger on"

# After enroll, agentctl waits for the agent: once it answers, and once with nobody there.
start_agent || exit 1
fake 1 "$TMP/home/ut-svc" || exit 1
"$CTL" enroll ut-svc --timeout 10 >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "enroll waits for the agent and reports it (exit $rc)" test $rc = 0
check "enroll shows the agent answering" contains "$TMP/out" "agent: answering (unroot $VERSION, manager unavailable)"

mkdir -p "$TMP/home/nobody-here"
fake 0 "$TMP/home/nobody-here" || exit 1
start=$(date +%s%N)
"$CTL" enroll ut-new --timeout 1 >"$TMP/out" 2>&1; rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$FAKE_PID"
check "no agent: exit 6 (got $rc)" test $rc = 6
check "no agent: waited about the timeout (${elapsed} ms)" test "$elapsed" -ge 900 -a "$elapsed" -lt 4000
check "no agent: says what to check" contains "$TMP/out" "the agent of 'ut-new' did not answer within 1 s"

fake 6 || exit 1
"$CTL" unenroll ut-gone --purge >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "unenroll not found: exit 4" test $rc = 4
check "unenroll sends purge" contains "$TMP/request" "op=unenroll name=ut-gone purge=true version=1"
fake 0 || exit 1
"$CTL" unenroll ut-new --json >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "unenroll --json" test "$rc $(cat "$TMP/out")" = '0 {"operation":"unenroll","name":"ut-new","status":"changed","exit_code":0,"message":"fake message for status 0","field":null,"action":"org.unroot.helper.unenroll","changes":["created group '"'NAME'"'","turned linger on"],"account":{"name":"ut-new","uid":990,"purged":false}}'

fake garbage || exit 1
"$CTL" enroll ut-new --no-wait >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "malformed helper reply: exit 1" test $rc = 1
check "malformed helper reply: message" contains "$TMP/out" "sent a malformed reply"
fake close || exit 1
"$CTL" enroll ut-new --no-wait >"$TMP/out" 2>&1; rc=$?
wait "$FAKE_PID"
check "helper closes without answer: exit 1" test $rc = 1

rm -f "$UNROOT_HELPER_SOCKET"
"$CTL" enroll ut-new >"$TMP/out" 2>&1; rc=$?
check "helper unreachable: exit 5" test $rc = 5
check "helper unreachable: says what to do" contains "$TMP/out" \
        "cannot reach unroot-helper at $UNROOT_HELPER_SOCKET (No such file or directory): is unroot-helper.socket enabled? (systemctl enable --now unroot-helper.socket)"

# --- agentctl's unit verbs against an agent with units (fake user manager) -----------------------
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=
unset UNROOT_HELPER_SOCKET
mkdir -p "$TMP/rt2/systemd" "$TMP/home/ut-svc/.config/containers/systemd"
printf '[Container]\nImage=localhost/web\n[Install]\nWantedBy=default.target\n' \
        >"$TMP/home/ut-svc/.config/containers/systemd/web.container"
chown -R ut-svc:ut-svc "$TMP/home/ut-svc/.config" "$TMP/rt2"
: >"$TMP/calls"
chmod 0666 "$TMP/calls"
FAKE_MANAGER_LOG=$TMP/calls "$FAKE_MGR" "$TMP/rt2/systemd/private" running 2>"$TMP/mgr.err" &
MGR_PID=$!
for _ in $(seq 100); do [ -S "$TMP/rt2/systemd/private" ] && break; sleep 0.02; done
setpriv --reuid=ut-svc --regid=ut-svc --init-groups env -i PATH=/usr/bin:/bin HOME="$TMP/home/ut-svc" \
        XDG_RUNTIME_DIR="$TMP/rt2" "$AGENT" -v 2>"$TMP/agent.log" &
AGENT_PID=$!
for _ in $(seq 200); do grep -q "Applied:" "$TMP/agent.log" 2>/dev/null && break; sleep 0.05; done
check "the agent renders and starts web.service" contains "$TMP/calls" "StartUnit web.service"

"$CTL" --json status ut-svc >"$TMP/out" 2>&1; rc=$?
check "status --json: exit 0" test $rc = 0
check "status --json lists the unit with its source" grep -qE '"units":\[\{"name":"web.service","source":"[^"]*/web.container","load_state":' "$TMP/out"
check "status --json has the podman version and pod shape fields" grep -qE '"podman_version":"[^"]+","pod_shape":"[^"]*","pod_shape_reason":' "$TMP/out"
"$CTL" status ut-svc >"$TMP/out" 2>&1
check "status: the units table" grep -qE "^ut-svc/web.service +[a-z]+ +[a-z]+ " "$TMP/out"

"$CTL" restart ut-svc/web.service >"$TMP/out" 2>&1; rc=$?
check "restart ACCOUNT/UNIT: exit 0 (got $rc)" test $rc = 0
check "restart: says done" contains "$TMP/out" "restart ut-svc/web.service: done"
check "restart: the manager got it" contains "$TMP/calls" "RestartUnit web.service"
"$CTL" --json stop ut-svc/sshd.service >"$TMP/out" 2>&1; rc=$?
check "stop of a unit the agent does not own: exit 4 (got $rc)" test $rc = 4
check "stop of a foreign unit: JSON names the field" contains "$TMP/out" \
        '{"operation":"stop","account":"ut-svc","unit":"sshd.service","status":"invalid","exit_code":4,"result":null,"message":"unit: '"'sshd.service'"' is not a unit unroot-agent generated for this account (see '"'agentctl status'"')","field":"unit"}'
as ut-out "$CTL" start ut-svc/web.service >"$TMP/out" 2>&1; rc=$?
check "an outsider's start is refused: exit 3 (got $rc)" test $rc = 3
as ut-adm "$CTL" --json start ut-svc/web.service >"$TMP/out" 2>&1; rc=$?
check "an unroot-admins member may start: exit 0 (got $rc)" test $rc = 0
check "start --json" contains "$TMP/out" '{"operation":"start","account":"ut-svc","unit":"web.service","status":"ok","exit_code":0,"result":"done","message":null,"field":null}'
"$CTL" --json reapply ut-svc >"$TMP/out" 2>&1; rc=$?
check "reapply --json: exit 0 (got $rc)" test $rc = 0
check "reapply --json: nothing to do" contains "$TMP/out" '{"operation":"reapply","account":"ut-svc","status":"ok","exit_code":0,"message":null,"started":[],"restarted":[],"stopped":[],"errors":[]}'
for args in "start" "start ut-svc" "start ut-svc/" "start /web.service" "start ut-svc/web" "stop ut-svc/a/b.service" \
            "restart ut-svc/web.service extra" "reapply" "logs ut-svc/web.service -n x" "start ut-svc/web.service --timeout 0"; do
        # shellcheck disable=SC2086
        "$CTL" $args >"$TMP/out" 2>&1; rc=$?
        check "usage error '$args': exit 2 (got $rc)" test $rc = 2
done
"$CTL" start ut-out/web.service >"$TMP/out" 2>&1; rc=$?
check "a unit of a non-enrolled user: exit 4 (got $rc)" test $rc = 4

# logs: journalctl with the account's uid and unit (a stand-in prints its arguments).
printf '#!/bin/sh\necho "journalctl $*"\n' >"$TMP/journalctl"
chmod 0755 "$TMP/journalctl"
UNROOT_JOURNALCTL=$TMP/journalctl "$CTL" logs ut-svc/web.service -n 5 >"$TMP/out" 2>&1; rc=$?
check "logs as root: exit 0 (got $rc)" test $rc = 0
check "logs: the unit's messages and the manager's about it, for the account's uid" contains "$TMP/out" \
        "journalctl --no-pager -n 5 _UID=$SVC_UID _SYSTEMD_USER_UNIT=web.service + _UID=$SVC_UID USER_UNIT=web.service"
UNROOT_JOURNALCTL=$TMP/journalctl "$CTL" --json logs ut-svc/web.service -f >"$TMP/out" 2>&1
check "logs --json -f: journalctl --output=json --follow" contains "$TMP/out" "journalctl --no-pager --output=json --follow _UID=$SVC_UID"
as ut-adm env UNROOT_JOURNALCTL="$TMP/journalctl" "$CTL" logs ut-svc/web.service >"$TMP/out" 2>&1; rc=$?
check "logs as an unroot-admins member outside systemd-journal: exit 3 (got $rc)" test $rc = 3
check "logs: says which group gives journal access" contains "$TMP/out" "needs root or membership in group 'systemd-journal'"
groupadd -r systemd-journal 2>/dev/null || true
usermod -aG systemd-journal ut-adm
as ut-adm env UNROOT_JOURNALCTL="$TMP/journalctl" "$CTL" logs ut-svc/web.service >"$TMP/out" 2>&1; rc=$?
check "logs as an admin in systemd-journal: exit 0 (got $rc)" test $rc = 0
kill "$AGENT_PID" "$MGR_PID"; wait "$AGENT_PID" "$MGR_PID" 2>/dev/null; AGENT_PID=
export UNROOT_HELPER_SOCKET=$TMP/helper.sock

for args in "" "enroll" "enroll a b" "enroll a --subids x" "enroll a --subids 0" "enroll a --timeout -1" \
            "unenroll" "status a b" "frobnicate" "--bogus status" "enroll --purge a"; do
        # shellcheck disable=SC2086
        "$CTL" $args >"$TMP/out" 2>&1; rc=$?
        check "usage error '$args': exit 2 (got $rc)" test $rc = 2
done
"$CTL" --help >"$TMP/out" 2>&1; rc=$?
check "--help exits 0 and lists the verbs" \
        test "$rc $(grep -c '^  \(enroll\|unenroll\|status\|start\|stop\|restart\|reapply\|logs\) ' "$TMP/out")" = "0 8"

echo "agent-host: $passed passed, $failed failed"
[ "$failed" = 0 ]
