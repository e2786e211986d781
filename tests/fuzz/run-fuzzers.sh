#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzzers.sh SECONDS [TARGET...]: builds the clang libFuzzer build (build-fuzz/ in the source
# tree, or $UNROOT_FUZZ_BUILD) and runs each target for SECONDS, one at a time under nice, over a
# scratch copy of its corpus (new finds are left in $UNROOT_FUZZ_OUT, default build-fuzz/fuzz-out,
# to be reviewed and copied into the target's corpus). $UNROOT_FUZZ_SECONDS overrides SECONDS;
# $UNROOT_FUZZ_TOTAL_SECONDS instead splits that total evenly over the targets (CI's bounded run).
# Targets: the four in tests/fuzz/ and the whole Quadlet translator, fuzz-quadlet (tests/quadlet/,
# corpus tests/quadlet/fuzz-corpus). Prints "fuzzed N s in total" at the end. Exit 1 if any target
# crashed, 77 if clang's libFuzzer is not available.
set -eu
secs=${UNROOT_FUZZ_SECONDS:-${1:?usage: run-fuzzers.sh SECONDS [TARGET...]}}
shift
src=${UNROOT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${UNROOT_FUZZ_BUILD:-$src/build-fuzz}
out=${UNROOT_FUZZ_OUT:-$build/fuzz-out}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-helper-request fuzz-agent-request fuzz-etcfiles fuzz-quadlet-unitfile fuzz-quadlet)
if [ -n "${UNROOT_FUZZ_TOTAL_SECONDS:-}" ]; then
        secs=$((UNROOT_FUZZ_TOTAL_SECONDS / ${#targets[@]}))
        [ "$secs" -ge 1 ] || secs=1
fi
# where a target is built and where its checked-in corpus lives
target_dir() { case $1 in fuzz-quadlet) echo tests/quadlet;; *) echo tests/fuzz;; esac; }
target_corpus() { case $1 in fuzz-quadlet) echo "$src/tests/quadlet/fuzz-corpus";; *) echo "$src/tests/fuzz/corpus/$1";; esac; }

if ! command -v clang >/dev/null; then
        echo "SKIP: clang not installed"; exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
        clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
        echo "SKIP: clang has no libFuzzer (-fsanitize=fuzzer)"; exit 77
fi
if [ ! -f "$build/build.ninja" ]; then
        # Warnings are the werror gcc build's business; here clang's -Wformat-nonliteral (part of
        # -Wformat=2, which gcc does not apply to va_list wrappers) must not keep a target from
        # being fuzzed.
        CC=clang meson setup "$build" "$src" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
                -Dc_args=-Wno-error=format-nonliteral >/dev/null
fi

mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0 total=0
for t in "${targets[@]}"; do
        # one target that does not build fails alone; the others are still fuzzed
        if ! nice ninja -C "$build" "$(target_dir "$t")/$t" >"$out/build-$t.log" 2>&1; then
                echo "$t: does not build:"; grep -m5 -E 'error|FAILED' "$out/build-$t.log"
                failed=1; continue
        fi
        mkdir -p "$out/$t/corpus" "$out/$t/artifacts"
        start=$(date +%s)
        rc=0
        nice -n 19 "$build/$(target_dir "$t")/$t" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
                -max_len=20000 -print_final_stats=1 -artifact_prefix="$out/$t/artifacts/" \
                "$out/$t/corpus" "$(target_corpus "$t")" >"$out/$t/log" 2>&1 || rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
        took=$(( $(date +%s) - start )); total=$((total + took))
        echo "$t: rc=$rc, ${runs:-?} executions in ${took}s, log $out/$t/log"
        if [ "$rc" -ne 0 ]; then
                failed=1
                grep -m5 -E 'ERROR|invariant|runtime error' "$out/$t/log" || tail -20 "$out/$t/log"
                ls "$out/$t/artifacts"
        fi
done
echo "fuzzed ${total} s in total over ${#targets[@]} targets"
exit $failed
