#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, as CI runs it (as root, on Debian 12):
#  1. install build and test dependencies;
#  2. build with warnings as errors; run the unit and quadlet suites;
#  3. build with ASan+UBSan; run the unit and quadlet suites again, and the integration suite (the
#     real helper, polkitd and dbus-daemon on this host) once, under ASan+UBSan only: the release
#     build of the same programs runs in the test bed in step 4;
#  4. run the end-to-end suite in the booted Debian 12 test bed (qemu); its image is built in the
#     background from step 2 on;
#  5. beside step 4, the fuzz suite: every libFuzzer target (clang, ASan+UBSan) for a bounded time,
#     240 s in total split evenly over the targets ($UNROOT_FUZZ_TOTAL_SECONDS changes it).
# Ends with one line "N passed, N failed" over every meson test that ran.
# UNROOT_SKIP_E2E=1 leaves out step 4 (for quick local runs; CI never sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

TOTAL_OK=0 TOTAL_FAIL=0 RC=0
# Wall time per step, printed at the end (CI shows only the log's tail).
STEP_NAME="install dependencies" STEP_T0=$SECONDS TIMINGS=
step() { TIMINGS+="  $STEP_NAME: $((SECONDS - STEP_T0)) s"$'\n'; STEP_NAME=$1 STEP_T0=$SECONDS; echo "=== $1 ==="; }
tests/install-deps.sh || exit 2
# The test bed's image (mmdebstrap, mostly downloads and dpkg) builds in the background while steps
# 2 and 3 use the CPUs; step 4 waits for it. A failed build is retried by the first e2e test.
IMG_PID= IMG_LOG=$SRC/.cache/testbed-build.log
if [ "${UNROOT_SKIP_E2E:-0}" != 1 ]; then
        mkdir -p "$SRC/.cache"
        tests/testbed/testbed.sh build > "$IMG_LOG" 2>&1 &
        IMG_PID=$!
fi
# tally FILE RC: add a meson test log's summary to the totals
tally() {
        local out=$1 rc=$2 ok fail unexp timeout
        ok=$(awk '/^Ok:/{print $2}' "$out" | tail -1)
        fail=$(awk '/^Fail:/{print $2}' "$out" | tail -1)
        unexp=$(awk '/^Unexpected Pass:/{print $3}' "$out" | tail -1)
        timeout=$(awk '/^Timeout:/{print $2}' "$out" | tail -1)
        TOTAL_OK=$((TOTAL_OK + ${ok:-0}))
        TOTAL_FAIL=$((TOTAL_FAIL + ${fail:-0} + ${unexp:-0} + ${timeout:-0}))
        [ "$rc" = 0 ] || RC=1
}
run_meson_tests() { # run_meson_tests BUILDDIR ARGS...
        local dir=$1 out; shift
        out=$(mktemp)
        meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$out"
        tally "$out" "${PIPESTATUS[0]}"
        rm -f "$out"
}

step "build (werror)"
if [ ! -d build-ci ]; then meson setup build-ci -Dwerror=true >/dev/null || exit 2; fi
ninja -C build-ci || exit 2
step "unit and quadlet suites"
# The fuzz corpora are replayed here, in the unit suite; the bounded fuzzing runs in step 4.
run_meson_tests build-ci --suite unit --suite quadlet

step "build (ASan+UBSan)"
if [ ! -d build-asan ]; then
        meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 2
fi
ninja -C build-asan || exit 2
step "unit, quadlet and integration suites under ASan+UBSan"
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_meson_tests build-asan --suite unit --suite quadlet --suite integration

FUZZ_SECONDS=${UNROOT_FUZZ_TOTAL_SECONDS:-240}
if [ "${UNROOT_SKIP_E2E:-0}" != 1 ]; then
        step "end-to-end suite (test bed), the fuzz suite beside it"
        if [ -n "$IMG_PID" ]; then
                wait "$IMG_PID"; echo "test bed image (built beside steps 2 and 3, exit code $?):"
                tail -n 3 "$IMG_LOG" | sed 's/^/    /'
        fi
        # The fuzz suite runs one libFuzzer process at a time, CPU-bound and not timing-sensitive:
        # beside the two VMs, which leave part of the second core idle, instead of before them.
        FUZZ_LOG=$(mktemp)
        ( UNROOT_FUZZ_TOTAL_SECONDS=$FUZZ_SECONDS meson test -C build-ci --no-rebuild --logbase fuzzlog \
                --print-errorlogs --suite fuzz > "$FUZZ_LOG" 2>&1; echo $? > "$FUZZ_LOG.rc" ) &
        FUZZ_PID=$!
        # Every 5 minutes, where each running VM is: its test's last section and the guest's
        # uptime, so that a run cut short still shows how far each test got.
        ( while sleep 300; do
                for c in build-ci/e2e-out/*/console.log; do
                        [ -n "$(find "$c" -mmin -2 2>/dev/null)" ] || continue
                        l=$(grep -a 'testbed-runner.*===' "$c" | tail -n 1 | sed 's/^\[ *\([0-9]*\)\.[0-9]*\] testbed-runner\[[0-9]*\]: /\1 s: /')
                        echo "[e2e progress $(date +%H:%M:%S)] $(basename "$(dirname "$c")"): ${l:-booting}"
                done
          done ) &
        MON_PID=$!
        run_meson_tests build-ci --suite e2e
        kill "$MON_PID" 2>/dev/null
        wait "$FUZZ_PID"
        echo "=== fuzz suite: bounded libFuzzer runs (ran beside the end-to-end suite) ==="
        cat "$FUZZ_LOG"
        tally "$FUZZ_LOG" "$(cat "$FUZZ_LOG.rc" 2>/dev/null || echo 1)"
        rm -f "$FUZZ_LOG" "$FUZZ_LOG.rc"
else
        step "fuzz suite: bounded libFuzzer runs"
        UNROOT_FUZZ_TOTAL_SECONDS=$FUZZ_SECONDS run_meson_tests build-ci --suite fuzz
        echo "=== end-to-end suite skipped: UNROOT_SKIP_E2E=1 ==="
fi

step "end"
echo
echo "wall time per step (total $SECONDS s):"
printf '%s' "$TIMINGS"
echo "$TOTAL_OK passed, $TOTAL_FAIL failed"
exit $RC
