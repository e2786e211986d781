#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host test of the agent's apply loop (suite integration, no root, no systemd): unroot-agent runs
# with --root on a temp tree and talks to fake-manager (tests/agent/fake-systemd1.c) over a
# private socket; the fake logs every Reload and job, so the test sees what the agent asked the
# user manager to do, and in which order. Checks: first apply starts everything in start order;
# an edit restarts only that unit; a drop-in counts as an edit; a removal stops the unit before
# the reload and removes its files; a broken file is reported and keeps the last good unit; a
# search directory created later is noticed; foreign units are refused; an idle agent does not
# wake up.
#
#   apply-host.sh BUILD_ROOT
set -u

BUILD=$(realpath "${1:?usage: apply-host.sh BUILD_ROOT}")
AGENT=$BUILD/agent/unroot-agent
PROBE=$BUILD/tests/agent/agent-probe
FAKE_MGR=$BUILD/tests/agent/fake-manager

TMP=$(mktemp -d /tmp/unroot-apply-test.XXXXXX)
AGENT_PID= MGR_PID=
cleanup() {
        [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
        [ -n "$MGR_PID" ] && kill "$MGR_PID" 2>/dev/null && wait "$MGR_PID" 2>/dev/null
        [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

. "$(dirname "$0")/host-lib.sh"

ROOT=$TMP/root
H=/home/svc
RT=/run/user/4242
SRC=$ROOT$H/.config/containers/systemd
UNITS=$ROOT$H/.config/systemd/user
CALLS=$TMP/calls
mkdir -p "$SRC" "$ROOT$RT" "$ROOT/etc/containers/systemd" "$UNITS"
echo "# written by someone else" >"$UNITS/foreign.service"
: >"$CALLS"

FAKE_MANAGER_LOG=$CALLS "$FAKE_MGR" "$TMP/mgr.sock" running 2>"$TMP/mgr.err" &
MGR_PID=$!
wait_for 5 test -S "$TMP/mgr.sock" || { echo "fake manager did not start"; cat "$TMP/mgr.err"; exit 1; }

cat >"$SRC/data.volume" <<'X'
[Volume]
X
cat >"$SRC/web.container" <<'X'
[Container]
Image=localhost/web
Volume=data.volume:/data
PublishPort=127.0.0.1:8080:80
HealthCmd=/bin/true
[Install]
WantedBy=default.target
X

UNROOT_POD_SHAPE=watch HOME=$H XDG_RUNTIME_DIR=$RT "$AGENT" --socket "$TMP/agent.sock" --root "$ROOT" --podman-version 4.3 \
        --manager-address "unix:path=$TMP/mgr.sock" -v 2>"$TMP/agent.log" &
AGENT_PID=$!
SOCK=$TMP/agent.sock
applied() { grep -c 'Applied:' "$TMP/agent.log"; }
wait_applied() { # wait_applied N: until the Nth apply is logged
        for _ in $(seq 200); do [ "$(applied)" -ge "$1" ] && return 0; sleep 0.05; done
        return 1
}

check "first apply done" wait_applied 1
check "the container and the volume unit are written" test -f "$UNITS/web.service" -a -f "$UNITS/data-volume.service"
check "[Install] WantedBy rendered as a link" test -L "$UNITS/default.target.wants/web.service"
check "the manifest lists what the agent owns" contains "$UNITS/.unroot-agent-manifest" "web.service"
check "first apply: reload, then the volume before the container" \
        test "$(tr '\n' ' ' <"$CALLS")" = "Reload StartUnit data-volume.service StartUnit web.service "

"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "status lists web.service with its source" grep -qE "^unit=web.service active=[a-z]+ .* source=.*/web.container " "$TMP/out"
check "status lists data-volume.service" grep -q "^unit=data-volume.service " "$TMP/out"
check "status reports the podman version used" contains "$TMP/out" "podman_version=4.3 (--podman-version)"
check "no pod yet: the pod shape is not decided" contains "$TMP/out" "pod_shape= pod_shape_reason=not decided yet: no pod units"
check "status has no errors" lacks "$TMP/out" "error=converting"

# Idle: no periodic wake-ups. voluntary_ctxt_switches counts every time the agent slept.
ctx() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$AGENT_PID/status"; }
sleep 1
c1=$(ctx)
sleep 3
c2=$(ctx)
check "idle for 3 s: no wake-ups ($c1 -> $c2 voluntary context switches)" test "$c1" = "$c2"
check "idle: the connection to the manager was closed" contains "$TMP/agent.log" "Idle: closed the connection"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT_PID/status")
if ldd "$AGENT" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "# idle VmRSS ${rss} kB (sanitizer build: not checked)"
else
        check "idle VmRSS ${rss} kB <= 2048 kB (clean text pages returned while idle)" test "$rss" -le 2048
fi

# Edit: only web.service restarts.
: >"$CALLS"
echo "Environment=A=1" >>"$SRC/web.container"
check "edit: applied" wait_applied 2
check "edit: reload then restart of web.service only" test "$(tr '\n' ' ' <"$CALLS")" = "Reload RestartUnit web.service "
check "edit: the unit file has the new environment" contains "$UNITS/web.service" "A=1"

# A burst of edits is one apply (debounce).
n=$(applied)
: >"$CALLS"
for i in 1 2 3 4 5; do echo "Environment=B$i=1" >>"$SRC/web.container"; sleep 0.02; done
check "burst: applied" wait_applied $((n + 1))
sleep 0.5
check "burst of 5 writes: one apply ($(applied) applies after $n)" test "$(applied)" = $((n + 1))
check "burst: one restart" test "$(grep -c RestartUnit "$CALLS")" = 1

# A drop-in directory created after the start counts as an edit of its unit.
n=$(applied)
: >"$CALLS"
mkdir "$SRC/web.container.d"
check "drop-in dir: noticed" wait_applied $((n + 1))
n=$(applied)
printf '[Container]\nEnvironment=DROPIN=1\n' >"$SRC/web.container.d/10-x.conf"
check "drop-in: applied" wait_applied $((n + 1))
check "drop-in: restarts web.service" contains "$CALLS" "RestartUnit web.service"
check "drop-in: merged into the unit" contains "$UNITS/web.service" "DROPIN=1"

# A broken file: reported, the last good unit stays, the other units are untouched.
n=$(applied)
: >"$CALLS"
cp "$SRC/web.container" "$TMP/web.good"
printf '[Container]\nPublishPort=127.0.0.1:8080:80\n' >"$SRC/web.container"
check "broken: applied" wait_applied $((n + 1))
"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "broken: the error names the file and says why" grep -q '^error=converting "web.container": .*Image' "$TMP/out"
check "broken: the unit keeps its last good rendering" contains "$UNITS/web.service" "DROPIN=1"
check "broken: the unit shows its translation error" grep -q '^unit=web.service .*translation_error=converting "web.container"' "$TMP/out"
check "broken: nothing restarted or stopped" lacks "$CALLS" "Unit "
cp "$TMP/web.good" "$SRC/web.container"
check "fixed: applied" wait_applied $((n + 2))

# A sibling appearing next to a missing search directory is not a change of the sources.
n=$(applied)
c1=$(ctx)
touch "$ROOT/etc/containers/systemd/unrelated.conf"
sleep 0.6
check "a file next to a missing search dir: no apply" test "$(applied)" = "$n"

# A directory that did not exist at start: /etc/containers/systemd/users/UID.
n=$(applied)
: >"$CALLS"
mkdir -p "$ROOT/etc/containers/systemd/users/$(id -u)"
printf '[Volume]\n' >"$ROOT/etc/containers/systemd/users/$(id -u)/extra.volume"
check "new search dir: noticed" wait_for 10 grep -q "StartUnit extra-volume.service" "$CALLS"

# A pod and a member: the shape is decided (forced here by $UNROOT_POD_SHAPE) and applied to the
# pod unit before the diff; the pod starts before its member.
n=$(applied)
: >"$CALLS"
printf '[Pod]\n' >"$TMP/app.pod"
printf '[Container]\nImage=localhost/web\nPod=app.pod\n' >"$SRC/member.container"
mv "$TMP/app.pod" "$SRC/app.pod"
check "pod: applied" wait_for 10 grep -q "StartUnit member.service" "$CALLS"
check "pod: the pod starts before its member" \
        test "$(grep -o 'StartUnit [a-z-]*.service' "$CALLS" | tr '\n' ' ')" = "StartUnit app-pod.service StartUnit member.service "
check "pod: the pod unit is in the watcher shape" contains "$UNITS/app-pod.service" "unroot-pod-watch"
"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "pod: status reports the shape and why" grep -q "pod_shape=watch pod_shape_reason=.*UNROOT_POD_SHAPE" "$TMP/out"
wait_applied $((n + 1))

# Removal: stop first, then the files go, then the reload.
wait_applied $((n + 1))
: >"$CALLS"
n=$(applied)
rm -r "$SRC/web.container" "$SRC/web.container.d"
check "remove: applied" wait_applied $((n + 1))
check "remove: stop before reload" test "$(tr '\n' ' ' <"$CALLS")" = "StopUnit web.service Reload "
check "remove: the unit file is gone" test ! -e "$UNITS/web.service"
check "remove: its [Install] link is gone" test ! -e "$UNITS/default.target.wants/web.service"
check "remove: a foreign file in the unit dir is untouched" contains "$UNITS/foreign.service" "written by someone else"

# Unit actions over the socket.
"$PROBE" "$SOCK" restart data-volume.service >"$TMP/out" 2>&1
check "restart of an owned unit: done" contains "$TMP/out" "status=0 field= message= unit=data-volume.service result=done"
check "restart: the manager got it" contains "$CALLS" "RestartUnit data-volume.service"
"$PROBE" "$SOCK" stop sshd.service >"$TMP/out" 2>&1
check "a unit the agent did not generate is refused, naming the field" \
        contains "$TMP/out" "status=1 field=unit message=unit: 'sshd.service' is not a unit unroot-agent generated"
"$PROBE" "$SOCK" start "../x.service" >"$TMP/out" 2>&1
check "a malformed unit name is refused, naming the field" contains "$TMP/out" "status=1 field=unit message=unit: the unit name contains byte 0x2f"
"$PROBE" "$SOCK" start "web" >"$TMP/out" 2>&1
check "a name without suffix is refused" contains "$TMP/out" "status=1 field=unit message=unit: 'web' has no unit type suffix"
"$PROBE" "$SOCK" bad-action data-volume.service >"$TMP/out" 2>&1
check "an unknown action is refused" grep -qE "status=1 field=(action)? message=" "$TMP/out"
echo "Environment=C=1" >>"$TMP/web.good"
cp "$TMP/web.good" "$SRC/web.container"
"$PROBE" "$SOCK" reapply >"$TMP/out" 2>&1
check "reapply answers when done and says what it did" contains "$TMP/out" "status=0 field= message= started=web.service"

# Jobs that fail are recorded on the unit, not fatal.
kill "$MGR_PID"; wait "$MGR_PID" 2>/dev/null
rm -f "$TMP/mgr.sock"
FAKE_MANAGER_LOG=$CALLS FAKE_MANAGER_JOB_RESULT=failed "$FAKE_MGR" "$TMP/mgr.sock" running 2>"$TMP/mgr.err" &
MGR_PID=$!
wait_for 5 test -S "$TMP/mgr.sock"
"$PROBE" "$SOCK" restart web.service >"$TMP/out" 2>&1
check "a failed restart: AGENT_FAILED with the job result" contains "$TMP/out" "status=3 field= message=restart failed: job result 'failed' unit=web.service result=failed"
"$PROBE" "$SOCK" status >"$TMP/out" 2>&1
check "status shows the unit's apply error" grep -q "^unit=web.service .*apply_error=restart failed: job result 'failed'" "$TMP/out"
check "the agent is still running" kill -0 "$AGENT_PID"

kill "$AGENT_PID"; wait "$AGENT_PID"; rc=$?; AGENT_PID=
check "agent exits 0 on SIGTERM" test $rc = 0

echo "apply-host: $passed passed, $failed failed"
[ "$failed" = 0 ]
