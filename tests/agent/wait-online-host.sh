#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host test for unroot-wait-online (suite integration; needs no root): the real binary against a
# private dbus-daemon standing in for the system bus, with fake-manager --bus owning
# org.freedesktop.systemd1 and exporting the target unit. Checks exit status, time taken and warnings
# for each way the wait can end.
#
#   wait-online-host.sh BUILD_ROOT
set -u

for t in dbus-daemon dbus-send; do
        command -v $t >/dev/null || { echo "SKIP: $t not installed (tests/run-all.sh installs it)"; exit 77; }
done

BUILD=$(realpath "${1:?usage: wait-online-host.sh BUILD_ROOT}")
WAIT=$BUILD/agent/unroot-wait-online
FAKE=$BUILD/tests/agent/fake-manager

T=$(mktemp -d /tmp/unroot-wait-online.XXXXXX)
PIDS=()
FAKE_PID=
cleanup() { for p in "${PIDS[@]}" $FAKE_PID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

# The session configuration is enough: the client only needs $DBUS_SYSTEM_BUS_ADDRESS to point at it.
dbus-daemon --session --nofork --nopidfile --nosyslog --print-address=3 3>"$T/address" 2>"$T/dbus.log" &
PIDS+=($!)
for i in $(seq 100); do [ -s "$T/address" ] && break; sleep 0.1; done
DBUS_SYSTEM_BUS_ADDRESS=$(head -n1 "$T/address")
[ -n "$DBUS_SYSTEM_BUS_ADDRESS" ] || { echo "dbus-daemon did not start:"; cat "$T/dbus.log"; exit 1; }
export DBUS_SYSTEM_BUS_ADDRESS

has_owner() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
                string:org.freedesktop.systemd1 2>/dev/null | grep -q 'boolean true'
}
fake() { # fake UNIT ACTIVE_STATE JOB_ID [DELAY_MS NEW_STATE]: (re)start the fake systemd
        stop_fake
        "$FAKE" --bus "$@" 2>"$T/fake.err" &
        FAKE_PID=$!
        for i in $(seq 100); do has_owner && return 0; sleep 0.05; done
        echo "fake-manager did not take its name:"; cat "$T/fake.err"; return 1
}
stop_fake() {
        [ -n "$FAKE_PID" ] || return 0
        kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=
        for i in $(seq 100); do has_owner || return 0; sleep 0.05; done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# expect DESC MIN_MS MAX_MS STDERR_PATTERN ARGS...: exit 0 within [MIN, MAX] ms, stderr matching
# STDERR_PATTERN ('' = no warning at all)
expect() {
        local desc=$1 min=$2 max=$3 pat=$4; shift 4
        local t0 rc took
        t0=$(now_ms)
        timeout 30 "$WAIT" "$@" 2>"$T/err"
        rc=$?
        took=$(($(now_ms) - t0))
        if [ $rc -ne 0 ]; then fail "$desc: exit $rc"; sed 's/^/   | /' "$T/err"; return; fi
        if [ $took -lt "$min" ] || [ $took -gt "$max" ]; then
                fail "$desc: took $took ms, expected $min..$max"; sed 's/^/   | /' "$T/err"; return
        fi
        if [ -z "$pat" ]; then
                if grep -q '^<4>' "$T/err"; then fail "$desc: unexpected warning"; sed 's/^/   | /' "$T/err"; return; fi
        elif ! grep -qE -- "$pat" "$T/err"; then
                fail "$desc: expected '$pat' on stderr"; sed 's/^/   | /' "$T/err"; return
        fi
        ok "$desc ($took ms)"
}

fake network-online.target active 0 || exit 1
expect "already active: exits 0 at once" 0 800 '' --timeout 5

fake network-online.target inactive 7 1000 active || exit 1
expect "becomes active after 1 s: exits 0 after ~1 s" 800 2500 '' --timeout 10

fake network-online.target inactive 7 || exit 1
expect "never active: exits 0 after --timeout 2, with a warning" 1800 3500 '^<4>.*not active after 2 s' --timeout 2

fake network-online.target inactive 0 || exit 1
expect "inactive and no job starts it: exits 0 at once, with a warning" 0 800 '^<4>.*no job is starting it' \
        --timeout 10

fake network-online.target failed 0 || exit 1
expect "failed: exits 0 at once, with a warning" 0 800 '^<4>.*it failed' --timeout 10

fake network.target active 0 || exit 1
expect "--target network.target" 0 800 '' --target network.target --timeout 5

stop_fake
expect "no systemd on the bus: exits 0 at once, with a warning" 0 2000 '^<4>.*Cannot read the state' --timeout 10

DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/nonexistent expect "no system bus: exits 0, with a warning" 0 800 \
        '^<4>No system bus' --timeout 10

rc=0; "$WAIT" --timeout 1x 2>"$T/err" || rc=$?
if [ $rc -ne 0 ] && grep -q -- "--timeout: '1x'" "$T/err"; then ok "bad --timeout is refused"; else fail "bad --timeout: rc=$rc"; cat "$T/err"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
