#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzzers.sh SECONDS [TARGET...] ($UNROOT_FUZZ_SECONDS overrides SECONDS): builds the clang libFuzzer build (build-fuzz/ in the source
# tree, or $UNROOT_FUZZ_BUILD) and runs each target for SECONDS, one at a time under nice, over a
# scratch copy of its corpus (new finds are left in $UNROOT_FUZZ_OUT, default build-fuzz/fuzz-out,
# to be reviewed and copied into tests/fuzz/corpus/<target>/). Exit 1 if any target crashed,
# 77 if clang's libFuzzer is not available.
set -eu
secs=${UNROOT_FUZZ_SECONDS:-${1:?usage: run-fuzzers.sh SECONDS [TARGET...]}}
shift
src=${UNROOT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${UNROOT_FUZZ_BUILD:-$src/build-fuzz}
out=${UNROOT_FUZZ_OUT:-$build/fuzz-out}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-helper-request fuzz-agent-request fuzz-etcfiles fuzz-quadlet-unitfile)

if ! command -v clang >/dev/null; then
        echo "SKIP: clang not installed"; exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
        clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
        echo "SKIP: clang has no libFuzzer (-fsanitize=fuzzer)"; exit 77
fi
if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" "$src" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
nice ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for t in "${targets[@]}"; do
        mkdir -p "$out/$t/corpus" "$out/$t/artifacts"
        start=$(date +%s)
        rc=0
        nice "$build/tests/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
                -max_len=20000 -print_final_stats=1 -artifact_prefix="$out/$t/artifacts/" \
                "$out/$t/corpus" "$src/tests/fuzz/corpus/$t" >"$out/$t/log" 2>&1 || rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
        echo "$t: rc=$rc, ${runs:-?} executions in $(( $(date +%s) - start ))s, log $out/$t/log"
        if [ "$rc" -ne 0 ]; then
                failed=1
                grep -m5 -E 'ERROR|invariant|runtime error' "$out/$t/log" || tail -20 "$out/$t/log"
                ls "$out/$t/artifacts"
        fi
done
exit $failed
