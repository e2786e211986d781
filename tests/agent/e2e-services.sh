#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end for issue 4 in the booted Debian 12 test bed (podman 4.3.1, systemd 252): an account
# enrolled with agentctl runs Quadlet services and pods in its user manager.
#
#  - pod shape: the probe's decision on this podman/systemd pair, its cache, and a .pod with two
#    members in BOTH shapes (stock PID file, and unroot-pod-watch): all active, `podman pod stop`
#    by hand turns them inactive, restarting a member brings everything back;
#  - with the agent's apply loop (agentctl reapply): a .container with a volume, a published port,
#    environment and a health check, plus a .volume and a .network; editing, deleting, a broken
#    file, `systemctl restart user@UID` with nobody logged in;
#  - access: a user outside unroot-admins is refused by the agent socket.
#
# Payload: unroot-install.tar, and pod-shape-tool (tests/agent/pod-shape-tool.c), which drives the
# probe and the rewrite of agent/pod-shape*.c on their own. Where the installed agent has no apply
# loop yet (no `agentctl reapply`), the pod units are rendered here with the installed translator
# and that tool; the sections that need the loop say so and skip.
set -u
. "${TESTBED_LIB:-./lib.sh}"

ACC=svc-web
PORT=18091
TOOL=
# The payload directory is root's (0700): the account runs its own copy.
[ -f ./pod-shape-tool ] && install -m 0755 ./pod-shape-tool /usr/local/bin/pod-shape-tool && TOOL=/usr/local/bin/pod-shape-tool
WATCH=/usr/libexec/unroot-pod-watch

section "install unroot"
if ! check "install the freshly built unroot" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
echo "podman: $(podman --version); systemd: $(systemctl --version | head -1)"
check "unroot-pod-watch installed" test -x $WATCH
useradd -m -s /bin/bash alice && usermod -aG unroot-admins alice
useradd -m -s /bin/bash bob
install -m 0644 /usr/share/doc/unroot/examples/50-unroot-admins.rules /etc/polkit-1/rules.d/50-unroot-admins.rules
sleep 2 # polkitd reloads rules by inotify

section "enroll $ACC (alice, unroot-admins)"
out=$(cd /tmp && runuser -u alice -- agentctl enroll $ACC 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc = 0 ] && pass "agentctl enroll $ACC" || { fail "agentctl enroll $ACC exits $rc"; summary; exit 1; }
UID_=$(id -u $ACC)
HOME_=$(getent passwd $ACC | cut -d: -f6)
SUBUID=$(awk -F: -v u=$ACC '$1 == u { print $2 }' /etc/subuid)
Q=$HOME_/.config/containers/systemd
UD=$HOME_/.config/systemd/user
check "user manager up" wait_user_manager $ACC 90
check "unroot-agent.service active" wait_for 60 asuser $ACC systemctl --user is-active unroot-agent.service
check "offline image localhost/bb in the account's store" tb_make_image $ACC
asuser $ACC mkdir -p "$Q" "$UD"

# `agentctl reapply` is the apply loop's entry point: without it, this agent only answers status.
if (cd /tmp && agentctl --help 2>&1) | grep -qw reapply; then AGENT_APPLIES=1; else AGENT_APPLIES=0; fi
echo "agent apply loop: $([ $AGENT_APPLIES = 1 ] && echo yes || echo 'no (agentctl has no reapply)')"

reapply() { (cd /tmp && runuser -u alice -- agentctl reapply $ACC); }
ustate() { asuser $ACC systemctl --user show -P "$2" "$1" 2>/dev/null; }
active() { asuser $ACC systemctl --user is-active -q "$1"; }
not_active() { ! asuser $ACC systemctl --user is-active -q "$1"; }
# Settled: stopped, and no longer deactivating.
stopped() { case $(asuser $ACC systemctl --user show -P ActiveState "$1") in inactive|failed) return 0 ;; esac; return 1; }
export -f active not_active stopped
export ACC

section "pod shape: the probe on $(podman --version | awk '{print $3}') + systemd $(systemctl --version | awk 'NR==1{print $2}')"
PROBED=
if [ -n "$TOOL" ]; then
        t0=$SECONDS
        out=$(asuser $ACC "$TOOL" decide "$HOME_/.unroot" 2>&1); rc=$?
        echo "$out" | sed 's/^/    | /'
        echo "    (probe took $((SECONDS - t0)) s)"
        PROBED=$(echo "$out" | sed -n 's/^shape=//p')
        [ $rc = 0 ] && [ -n "$PROBED" ] && pass "probe decided: $PROBED" || fail "probe decided nothing (rc=$rc)"
        case $out in *"probe inconclusive"*) fail "the probe was inconclusive" ;; esac
        check "decision cached with the versions" bash -c "grep -qx 'shape=$PROBED' $HOME_/.unroot/pod-shape &&
                grep -qx 'podman=$(podman --version | awk '{print $3}')' $HOME_/.unroot/pod-shape &&
                grep -qE '^systemd=[0-9]+' $HOME_/.unroot/pod-shape"
        sed 's/^/    | /' "$HOME_/.unroot/pod-shape"
        check "no probe pod or unit left behind" bash -c "[ -z \"\$(asuser $ACC podman pod ps -q)\" ] &&
                ! asuser $ACC systemctl --user list-units --all --no-legend | grep -q unroot-pod-probe"
        out=$(asuser $ACC "$TOOL" decide "$HOME_/.unroot" 2>&1)
        case $out in *"cached, probed"*) pass "second decision comes from the cache" ;; *) fail "second decision not cached: $out" ;; esac
        out=$(asuser $ACC env UNROOT_POD_SHAPE=watch "$TOOL" decide "$HOME_/.unroot" 2>&1)
        case $out in *"shape=watch"*"forced by"*) pass "UNROOT_POD_SHAPE=watch forces the watcher" ;; *) fail "not forced: $out" ;; esac
        check_fail "UNROOT_POD_SHAPE=tail is refused" asuser $ACC env UNROOT_POD_SHAPE=tail "$TOOL" decide "$HOME_/.unroot"
        # A stale cache (other versions) is probed again.
        sed -i 's/^systemd=.*/systemd=1/' "$HOME_/.unroot/pod-shape"
        out=$(asuser $ACC "$TOOL" decide "$HOME_/.unroot" 2>&1)
        case $out in *"cached"*) fail "a cache for systemd 1 was trusted: $out" ;; *"shape=$PROBED"*) pass "changed versions: probed again, same answer" ;; *) fail "re-probe: $out" ;; esac
else
        skip "pod-shape-tool not in the payload: probe not exercised on its own"
fi

cat_pod_sources() {
        asuser $ACC tee "$Q/app.pod" >/dev/null <<'UNIT'
[Pod]
PodName=app
[Install]
WantedBy=default.target
UNIT
        for m in m1 m2; do
                # A shell that exits 0 on SIGTERM, so a stopped member is "inactive", not "failed".
                asuser $ACC tee "$Q/$m.container" >/dev/null <<'UNIT'
[Container]
Image=localhost/bb:latest
Pull=never
Pod=app.pod
Exec=sh -c "trap 'exit 0' TERM; sleep 100000 & wait"
[Service]
TimeoutStartSec=300
UNIT
        done
}

# Without the apply loop: the installed translator renders the three units, the pod unit is put
# in the wanted shape by pod_shape_rewrite_unit(), and they are installed by hand.
render_pod_by_hand() {
        local shape=$1 out=/tmp/pod-render
        rm -rf $out && mkdir -p $out && chown $ACC $out
        asuser $ACC env QUADLET_UNIT_DIRS="$Q" /usr/libexec/unroot-quadlet -user -no-kmsg-log $out || return 1
        asuser $ACC "$TOOL" rewrite "$shape" $WATCH <$out/app-pod.service >$out/app-pod.service.new || return 1
        install -o $ACC -m 0644 $out/app-pod.service.new "$UD/app-pod.service"
        install -o $ACC -m 0644 $out/m1.service $out/m2.service "$UD/"
        asuser $ACC systemctl --user daemon-reload
}

pod_scenario() {
        local shape=$1
        section "pod (shape $shape): a .pod with two members"
        if [ $AGENT_APPLIES = 1 ]; then
                # The agent decides the shape once per run: force it before it sees the pod.
                asuser $ACC systemctl --user set-environment UNROOT_POD_SHAPE=$shape
                asuser $ACC systemctl --user restart unroot-agent.service
                cat_pod_sources
                check "agentctl reapply $ACC" reapply
                out=$(cd /tmp && agentctl --json status $ACC 2>&1)
                case $out in *"\"pod_shape\":\"$shape"*) pass "status records pod shape $shape" ;;
                *) fail "status does not record pod shape $shape: $(echo "$out" | head -c 400)" ;; esac
        elif [ -n "$TOOL" ]; then
                cat_pod_sources
                check "render the pod units by hand in shape $shape" render_pod_by_hand $shape
        else
                skip "no apply loop and no pod-shape-tool: pod (shape $shape) not run"
                return
        fi
        if [ $shape = watch ]; then
                check "pod unit: Type=notify, ExecStart=unroot-pod-watch, no PIDFile" bash -c \
                        "grep -qx Type=notify $UD/app-pod.service && grep -q '^ExecStart=$WATCH --pidfile=%t/%N.pid -- ' $UD/app-pod.service && ! grep -q ^PIDFile= $UD/app-pod.service"
        else
                check "pod unit: stock Type=forking + PIDFile=%t/%N.pid" bash -c \
                        "grep -qx Type=forking $UD/app-pod.service && grep -qx 'PIDFile=%t/%N.pid' $UD/app-pod.service"
        fi
        check "start app-pod.service" asuser $ACC systemctl --user start app-pod.service
        check "pod and both members active" wait_for 180 bash -c 'active app-pod.service && active m1.service && active m2.service'
        local pid comm
        pid=$(ustate app-pod.service MainPID); comm=$(cat /proc/$pid/comm 2>/dev/null)
        echo "    app-pod.service MainPID=$pid ($comm), Result=$(ustate app-pod.service Result)"
        if [ $shape = watch ]; then
                check "main process is unroot-pod-watch" test "$comm" = unroot-pod-watc
                check "it watches the infra conmon named by the PID file" bash -c \
                        "[ \"\$(cat /proc/\$(cat /run/user/$UID_/app-pod.pid)/comm)\" = conmon ]"
        else
                check "main process is the infra conmon" test "$comm" = conmon
        fi
        check "podman: pod app running with 3 containers" bash -c \
                "asuser $ACC podman pod ps --format '{{.Name}} {{.Status}} {{.NumberOfContainers}}' | grep -qx 'app Running 3'"

        check "podman pod stop app (by hand, as $ACC)" asuser $ACC podman pod stop app
        check "pod and both members stopped" wait_for 120 bash -c \
                'stopped app-pod.service && stopped m1.service && stopped m2.service'
        echo "    after podman pod stop: app-pod=$(ustate app-pod.service ActiveState)/$(ustate app-pod.service Result)" \
                "m1=$(ustate m1.service ActiveState)/$(ustate m1.service Result) m2=$(ustate m2.service ActiveState)/$(ustate m2.service Result)"
        check "pod unit loaded and inactive, not failed" \
                test "$(ustate app-pod.service LoadState)/$(ustate app-pod.service ActiveState)" = loaded/inactive

        check "restart a member (m1)" asuser $ACC systemctl --user restart m1.service
        check "pod and both members active again" wait_for 180 bash -c 'active app-pod.service && active m1.service && active m2.service'
        check "stop app-pod.service" asuser $ACC systemctl --user stop app-pod.service
        check "everything inactive, the pod removed" wait_for 120 bash -c \
                "stopped app-pod.service && stopped m1.service && stopped m2.service && ! asuser $ACC podman pod exists app"
        journalctl --no-pager -n 12 --user-unit=app-pod.service 2>&1 | sed 's/^/    j| /'
        asuser $ACC rm -f "$Q/app.pod" "$Q/m1.container" "$Q/m2.container"
        if [ $AGENT_APPLIES = 1 ]; then
                reapply >/dev/null 2>&1
        else
                rm -f "$UD/app-pod.service" "$UD/m1.service" "$UD/m2.service"
                asuser $ACC systemctl --user daemon-reload
        fi
        asuser $ACC systemctl --user reset-failed >/dev/null 2>&1
}

pod_scenario pidfile
pod_scenario watch
[ $AGENT_APPLIES = 1 ] && asuser $ACC systemctl --user unset-environment UNROOT_POD_SHAPE

section "a container with a volume, a port, environment, a health check; a .volume and a .network"
if [ $AGENT_APPLIES = 1 ]; then
        asuser $ACC tee "$Q/web-data.volume" >/dev/null <<'UNIT'
[Volume]
Label=app=web
UNIT
        asuser $ACC tee "$Q/web.network" >/dev/null <<'UNIT'
[Network]
Subnet=10.89.31.0/24
UNIT
        write_web() {
                asuser $ACC tee "$Q/web.container" >/dev/null <<UNIT
[Container]
Image=localhost/bb:latest
Pull=never
Network=web.network
Volume=web-data.volume:/data
PublishPort=127.0.0.1:$PORT:8080
Environment=GREETING=$1
HealthCmd=wget -qO /dev/null http://127.0.0.1:8080/
HealthInterval=600s
Exec=httpd -f -p 8080 -h /www
[Service]
TimeoutStartSec=300
[Install]
WantedBy=default.target
UNIT
        }
        write_web hello
        check "agentctl reapply $ACC" reapply
        for f in web.service web-data-volume.service web-network.service default.target.wants/web.service; do
                check "generated $f" test -e "$UD/$f"
        done
        check "web, volume and network units active" wait_for 180 bash -c \
                'active web.service && active web-data-volume.service && active web-network.service'
        check "the port answers from the host" bash -c \
                "timeout 20 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from container'"
        check "environment: GREETING=hello" bash -c "[ \"\$(asuser $ACC podman exec systemd-web sh -c 'echo \$GREETING')\" = hello ]"
        check "health check passes" asuser $ACC podman healthcheck run systemd-web
        MNT=$(asuser $ACC podman volume inspect systemd-web-data --format '{{.Mountpoint}}')
        asuser $ACC podman exec systemd-web chmod 1777 /data
        asuser $ACC podman exec --user 1000 systemd-web sh -c 'echo data > /data/by-1000'
        asuser $ACC podman exec systemd-web sh -c 'echo data > /data/by-root'
        echo "    volume $MNT: $(stat -c '%n uid=%u' "$MNT"/by-* 2>&1 | tr '\n' ' ')"
        check "data of container uid 1000 lands owned by subuid $SUBUID + 999" \
                test "$(stat -c %u "$MNT/by-1000")" = $((SUBUID + 999))
        check "data of container root lands owned by the account ($UID_)" test "$(stat -c %u "$MNT/by-root")" = $UID_

        out=$(cd /tmp && runuser -u alice -- agentctl status $ACC 2>&1)
        echo "$out" | sed 's/^/    | /'
        check "agentctl status (alice) lists web.service active" bash -c "printf '%s\n' \"\$1\" | grep -qE '^$ACC/web.service +active '" _ "$out"
        out=$(cd /tmp && agentctl logs $ACC/web.service -n 20 2>&1); rc=$?
        [ $rc = 0 ] && [ -n "$out" ] && pass "agentctl logs $ACC/web.service" || fail "agentctl logs exits $rc"
        check "agentctl restart $ACC/web.service" bash -c "cd /tmp && runuser -u alice -- agentctl restart $ACC/web.service"
        check "web active after agentctl restart" wait_for 120 active web.service

        section "editing and removing"
        declare -A before
        for u in web.service web-data-volume.service web-network.service; do before[$u]=$(ustate $u InvocationID); done
        write_web changed
        check "reapply after editing web.container" reapply
        check "web active again" wait_for 180 active web.service
        check "web.service restarted (new InvocationID)" test "$(ustate web.service InvocationID)" != "${before[web.service]}"
        for u in web-data-volume.service web-network.service; do
                check "$u left alone (same InvocationID)" test "$(ustate $u InvocationID)" = "${before[$u]}"
        done
        check "the new environment is live" bash -c "[ \"\$(asuser $ACC podman exec systemd-web sh -c 'echo \$GREETING')\" = changed ]"

        section "bad input"
        asuser $ACC tee "$Q/bad.container" >/dev/null <<'UNIT'
[Container]
Exec=true
UNIT
        reapply >/dev/null 2>&1
        out=$(cd /tmp && runuser -u alice -- agentctl --json status $ACC 2>&1)
        echo "$out" | grep -o '[^"]*bad.container[^"]*' | sort -u | sed 's/^/    | /'
        check "status reports bad.container with upstream's reason" bash -c \
                "printf '%s\n' \"\$1\" | grep -qF 'converting \\\"bad.container\\\"' && printf '%s\n' \"\$1\" | grep -qi 'no Image or Rootfs'" _ "$out"
        check "the other units keep running" bash -c 'active web.service && active web-data-volume.service'
        asuser $ACC rm -f "$Q/bad.container"

        section "boot without login: systemctl restart user@$UID_"
        check "nobody of $ACC logged in" bash -c "! loginctl list-sessions --no-legend | awk '{print \$3}' | grep -qx $ACC"
        check "restart user@$UID_.service" systemctl restart user@$UID_.service
        check "user manager back" wait_user_manager $ACC 90
        check "web.service back by itself" wait_for 240 active web.service
        if ! check "the port answers again" wait_for 60 bash -c "timeout 10 busybox wget -qO- http://127.0.0.1:$PORT/ | grep -q 'hello from'"; then
                asuser $ACC podman ps -a 2>&1 | sed 's/^/    ps| /'
                ss -ltnp 2>&1 | grep ":$PORT" | sed 's/^/    ss| /'
                journalctl --no-pager -n 30 --user-unit=web.service 2>&1 | sed 's/^/    j| /'
        fi

        section "deleting"
        asuser $ACC rm -f "$Q/web.container"
        check "reapply after deleting web.container" reapply
        check "web.service stopped" wait_for 120 not_active web.service
        check "generated web.service and its [Install] link removed" bash -c \
                "[ ! -e $UD/web.service ] && [ ! -e $UD/default.target.wants/web.service ]"
else
        skip "the installed agent has no apply loop (agentctl reapply): container, editing, bad input, user@ restart and deleting not run"
fi

section "access"
out=$(cd /tmp && runuser -u bob -- agentctl --json status $ACC 2>&1)
echo "$out" | head -c 400 | sed 's/^/    | /'; echo
case $out in *'"state":"refused"'*) pass "bob (not in unroot-admins) refused by the agent socket" ;; *) fail "bob was not refused" ;; esac
check "the refusal is in the account's journal" bash -c "journalctl --no-pager _UID=$UID_ | grep -q 'Refused uid $(id -u bob)'"
if [ $AGENT_APPLIES = 1 ]; then
        check_fail "bob cannot stop a unit" bash -c "cd /tmp && runuser -u bob -- agentctl stop $ACC/web-network.service"
fi
out=$(cd /tmp && runuser -u alice -- agentctl --json status $ACC 2>&1)
case $out in *'"state":"answering"'*) pass "alice (unroot-admins) answered" ;; *) fail "alice not answered: $(echo "$out" | head -c 300)" ;; esac

# The agent idle benchmark (bench/agent/bench-agent-idle.sh) when it is in the payload: same boot,
# its own account; its figures are reported here, its checks are not counted in this summary.
if [ -f ./bench-agent-idle.sh ]; then
        section "bench: agent idle (bench/agent/bench-agent-idle.sh, not counted here)"
        bash ./bench-agent-idle.sh 2>&1 | sed 's/^/    b| /'
fi

summary
