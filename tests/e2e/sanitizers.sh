#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The long-running programs under ASan+UBSan in the test bed (issue 6 part 2): unroot-helper (one
# process per request, LSan at each exit), unroot-agent (per account, LSan when it stops) and
# agentctl, all from the --asan build (run-e2e.sh). Runs the enroll scenario (enroll.sh, copied
# into the payload) $E2E_SAN_ROUNDS times over, then asks one agent for its status 150 times and
# compares its RSS after 50 and after 150 requests. Every sanitizer report goes to a file under
# /var/log/unroot-sanitizers (log_path); the test fails if any appears, or if the journal shows
# one, or if the agent grew by more than its ASan quarantine can hold. LSan runs at every exit (each
# helper process serves one request); GLib's and polkit's process-lifetime allocations are
# suppressed by name (lsan.supp). Takes about 6 minutes under TCG, boot included.
set -u
. "${TESTBED_LIB:-./lib.sh}"
ROUNDS=${E2E_SAN_ROUNDS:-1}
LOG=/var/log/unroot-sanitizers
# quarantine_size_mb: freed memory ASan holds back (use-after-free detection); small so that the
# RSS comparison below measures leaks, not the quarantine filling up. disable_coredump=0: ASan's
# setrlimit(RLIMIT_CORE) is outside the helper's @system-service filter anyway (reset below).
ASAN="log_path=$LOG/asan:detect_leaks=1:disable_coredump=0:quarantine_size_mb=1:malloc_context_size=30"
UBSAN="log_path=$LOG/ubsan:print_stacktrace=1"
# GLib's and polkit's process-lifetime allocations (lsan.supp says which and why); matching them by
# function name needs full stacks through GLib, which has no frame pointers: the slow unwinder, for
# the helper only (short-lived; the agent and agentctl do not hold a bus connection through GLib).
install -m 0644 ./lsan.supp /etc/unroot-lsan.supp
LSAN="suppressions=/etc/unroot-lsan.supp:print_suppressions=0"

section "install the ASan+UBSan build"
if ! check "install the freshly built unroot (ASan+UBSan)" tb_install_unroot ./unroot-install.tar; then
        summary; exit 1
fi
check "unroot-helper is an ASan build" bash -c 'ldd /usr/libexec/unroot-helper | grep -q libasan'
check "unroot-agent is an ASan build" bash -c 'ldd /usr/libexec/unroot-agent | grep -q libasan'
mkdir -p -m 1777 "$LOG"
# The unit as installed (the ASan tarball's unit files are the release build's), before the drop-in
tb_check_helper_exposure
# The sanitizer runtime needs what the helper's sandbox forbids: LSan stops the threads with
# ptrace (@debug), ASan sets RLIMIT_CORE (@resources), and its shadow memory counts against
# MemoryMax. Only for this test; the rest of the sandbox stays.
mkdir -p /etc/systemd/system/unroot-helper@.service.d /etc/systemd/user/unroot-agent.service.d
cat > /etc/systemd/system/unroot-helper@.service.d/50-sanitizers.conf <<EOF
[Service]
Environment=ASAN_OPTIONS=$ASAN:fast_unwind_on_malloc=0 UBSAN_OPTIONS=$UBSAN LSAN_OPTIONS=$LSAN
ReadWritePaths=$LOG
SystemCallFilter=
MemoryMax=infinity
EOF
cat > /etc/systemd/user/unroot-agent.service.d/50-sanitizers.conf <<EOF
[Service]
Environment=ASAN_OPTIONS=$ASAN UBSAN_OPTIONS=$UBSAN LSAN_OPTIONS=$LSAN
EOF
systemctl daemon-reload
export ASAN_OPTIONS=$ASAN UBSAN_OPTIONS=$UBSAN LSAN_OPTIONS=$LSAN   # agentctl, run by the scenario

# a report is a file with an error in it (LSan also leaves warnings, e.g. a thread it could not
# suspend, which are counted but are no finding)
reports() { grep -l -E 'ERROR: |runtime error' "$LOG"/* 2>/dev/null | head -20; }
show_reports() { for f in $(reports); do echo "    --- $f"; grep -v '^ *$' "$f" | head -40 | sed 's/^/    | /'; done; }

section "the enroll scenario, $ROUNDS times over"
for r in $(seq "$ROUNDS"); do
        t0=$SECONDS
        out=$(E2E_SANDBOX_RELAXED="the sanitizer drop-in clears SystemCallFilter (checked above, before it)" \
                bash ./enroll.sh 2>&1); rc=$?
        line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
        echo "    round $r: ${line:-no summary} ($((SECONDS - t0)) s)"
        [ $rc = 0 ] && pass "round $r: enroll.sh passes under ASan+UBSan ($line)" ||
                { fail "round $r: enroll.sh rc $rc ($line)"; echo "$out" | grep -E '^FAIL' | sed 's/^/    | /'; }
        [ -z "$(reports)" ] && pass "round $r: no sanitizer report" || { fail "round $r: sanitizer reports: $(reports)"; show_reports; }
done

section "agent memory per request"
# enroll.sh leaves container-db enrolled, with its agent running
runuser -u alice -- agentctl enroll container-db >/dev/null 2>&1
check "container-db's agent active" wait_for 60 asuser container-db systemctl --user is-active unroot-agent.service
status_n() { (cd /tmp && runuser -u alice -- sh -c "for i in \$(seq $1); do agentctl status container-db >/dev/null 2>&1; done"); }
agent_pid() { asuser container-db systemctl --user show -P MainPID unroot-agent.service 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# RSS after every 10 requests, 150 in all. The first 50 are warm-up: ASan's allocator maps its size
# classes and fills its 1 MiB quarantine (freed memory held back) as requests come; what counts is
# the growth over the last 100, where a leak keeps growing and the warm-up has stopped.
series= rss50= pid=$(agent_pid) t0=$SECONDS
for n in $(seq 10 10 150); do
        status_n 10
        r=$(rss_kb "$pid"); series+=" $r"
        [ $n = 50 ] && rss50=$r
done
rss150=$r
echo "    agent pid $pid, VmRSS (kB) after every 10 status requests:$series ($((SECONDS - t0)) s)"
[ "$(agent_pid)" = "$pid" ] && pass "the same agent process answered all 150 requests" || fail "the agent was restarted (pid $pid → $(agent_pid))"
if [ -n "$rss50" ] && [ -n "$rss150" ]; then
        # the quarantine (1 MiB) plus 512 KiB of allocator slack: more than 15 kB a request grows past it
        [ $((rss150 - rss50)) -le 1536 ] && pass "agent RSS growth over requests 51 to 150: $((rss150 - rss50)) kB (≤ 1536)" ||
                fail "agent RSS grew by $((rss150 - rss50)) kB over requests 51 to 150"
else
        fail "could not read the agent's RSS (pid '$pid')"
fi
# stop it: LSan checks the long-running agent at exit
asuser container-db systemctl --user stop unroot-agent.service unroot-agent.socket
sleep 2

section "sanitizer reports"
echo "    report files: $(ls "$LOG" | wc -l) (warnings only: $(grep -L -E 'ERROR: |runtime error' "$LOG"/* 2>/dev/null | wc -l)); threads LSan could not suspend: $(cat "$LOG"/* 2>/dev/null | grep -c 'was not suspended')"
[ -z "$(reports)" ] && pass "no ASan/UBSan/LSan report file in $LOG (helper, agent, agentctl)" || { fail "reports: $(reports)"; show_reports; }
hits=$(journalctl -b --no-pager -o cat 2>/dev/null | grep -E 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' | head -5)
[ -z "$hits" ] && pass "no sanitizer message in the journal" || { fail "sanitizer messages in the journal"; echo "$hits" | sed 's/^/    | /'; }
n=$(journalctl -b --no-pager -o cat SYSLOG_IDENTIFIER=unroot-helper 2>/dev/null | grep -c 'UNROOT\|enroll' )
echo "    helper journal lines this boot: $n"
cp -a "$LOG" "${TESTBED_ARTIFACTS:-/tmp}/" 2>/dev/null
summary
