#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host test of `agentctl report --root` (suite integration, no systemd): a temp root with the
# founding report's accounts in its passwd/group/subuid files, root Quadlet files, migration
# records in every state, and two real unroot-agents (--root, each talking to a fake user manager,
# tests/agent/fake-manager) for container-db and container-misc; container-web and
# container-monitor have no agent. Checks the Markdown: services per account from the live agent,
# an applied record whose unit failed or whose agent does not answer reported as not running,
# what stayed root and why (not migrated, failed, unreadable record) with the migrate planner's
# blockers, a bad record skipped with a warning naming the file and field, the count and share; --json, --output (atomic, 0644),
# the empty host, and usage errors.
#
#   report-host.sh BUILD_ROOT
set -u

BUILD=$(realpath "${1:?usage: report-host.sh BUILD_ROOT}")
AGENTCTL=$BUILD/agent/agentctl
AGENT=$BUILD/agent/unroot-agent
FAKE_MGR=$BUILD/tests/agent/fake-manager

# The planner asks podman about root's images: never this machine's real store.
export UNROOT_PODMAN=/bin/false

TMP=$(mktemp -d /tmp/unroot-report-test.XXXXXX)
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

. "$(dirname "$0")/host-lib.sh"

ROOT=$TMP/root
Q=$ROOT/etc/containers/systemd
M=$ROOT/var/lib/unroot/migrate
mkdir -p "$ROOT/etc" "$Q/users" "$M"

# The four accounts as the helper enrolls them (tests/accounts/data/enroll-debian).
{
        echo "root:x:0:0:root:/root:/bin/bash"
        echo "container-db:x:990:990:unroot service account:/var/lib/unroot/container-db:/usr/sbin/nologin"
        echo "container-web:x:991:991:unroot service account:/var/lib/unroot/container-web:/usr/sbin/nologin"
        echo "container-monitor:x:992:992:unroot service account:/var/lib/unroot/container-monitor:/usr/sbin/nologin"
        echo "container-misc:x:993:993:unroot service account:/var/lib/unroot/container-misc:/usr/sbin/nologin"
} >"$ROOT/etc/passwd"
{
        echo "root:x:0:"
        echo "unroot-accounts:x:997:container-db,container-web,container-monitor,container-misc"
        for i in 0 1 2 3; do echo "$(sed -n "$((i + 2))p" "$ROOT/etc/passwd" | cut -d: -f1):x:$((990 + i)):"; done
} >"$ROOT/etc/group"
sed 's/^\([^:]*\):.*/\1:!*:::::::/' "$ROOT/etc/passwd" >"$ROOT/etc/shadow"
sed 's/^\([^:]*\):x:[0-9]*:\(.*\)/\1:!*::\2/' "$ROOT/etc/group" >"$ROOT/etc/gshadow"
i=0
for a in container-db container-web container-monitor container-misc; do
        echo "$a:$((100000 + i * 65536)):65536" >>"$ROOT/etc/subuid"
        i=$((i + 1))
done
cp "$ROOT/etc/subuid" "$ROOT/etc/subgid"
chmod 0640 "$ROOT/etc/shadow" "$ROOT/etc/gshadow"

# Root Quadlet services: budget-board (a pod with two members) and vanna are not migrated,
# opnsense-exporter and litellm have records that cannot be read or that failed. users/ is not root's.
printf '[Pod]\nPublishPort=80:3000\n' >"$Q/budget-board.pod"
printf '[Container]\nImage=localhost/bb-server\nPod=budget-board.pod\n' >"$Q/budget-board-server.container"
printf '[Container]\nImage=localhost/bb-client\nPod=budget-board.pod\n' >"$Q/budget-board-client.container"
printf '[Container]\nImage=localhost/vanna\n' >"$Q/vanna.container"
printf '[Container]\nImage=quay.io/x/opnsense-exporter\n' >"$Q/opnsense-exporter.container"
printf '[Container]\nImage=ghcr.io/berriai/litellm\n' >"$Q/litellm.container"
printf '[Network]\n' >"$Q/litellm.network"
printf '[Container]\nImage=x\n' >"$Q/users/someone.container"

record() { # record SERVICE JSON
        mkdir -p "$M/$1"
        chmod 0700 "$M/$1"
        printf '%s\n' "$2" >"$M/$1/record.json"
}
record metabase '{"service":"metabase","account":"container-db","kind":"container","state":"applied","step":"healthy","units":["metabase.service"],"root_files":["/etc/containers/systemd/metabase.container"],"techniques":["ownership-shift","host-loopback","address-rewrite","host-check-loopback"],"host_changes":[],"error":null,"updated":"2026-11-29T07:00:00Z"}'
record speedtest '{"service":"speedtest","account":"container-misc","kind":"container","state":"applied","step":"healthy","units":["speedtest.service"],"techniques":["port-remap"],"host_changes":["speedtest now publishes 8080 instead of 80"],"error":null,"updated":"2026-11-29T07:01:00Z"}'
record silly-tavern '{"service":"silly-tavern","account":"container-web","kind":"container","state":"applied","step":"healthy","units":["silly-tavern.service"],"techniques":["ownership-shift"],"error":null}'
record litellm '{"service":"litellm","account":"container-db","kind":"container","state":"failed","step":"images","units":[],"techniques":[],"error":"start: litellm.service did not become healthy within 120 s"}'
record opnsense-exporter '{"service":"opnsense-exporter", "account":'
record teable '{"service":"teable","account":"container-db","kind":"container","state":"done"}'

# Two live agents, each with a fake user manager that has the account's one unit in a fixed state.
start_agent() { # start_agent ACCOUNT UID UNIT ACTIVE_STATE
        local home=/var/lib/unroot/$1 rt=$ROOT/run/user/$2
        mkdir -p "$ROOT$home/.config/containers/systemd" "$ROOT$home/.unroot" "$rt"
        printf '[Container]\nImage=localhost/%s\n' "${3%.service}" >"$ROOT$home/.config/containers/systemd/${3%.service}.container"
        FAKE_MANAGER_LOG=$TMP/$1.calls "$FAKE_MGR" "$TMP/$1.mgr" running "$3" "$4" 2>"$TMP/$1.mgr.err" &
        PIDS+=($!)
        wait_for 5 test -S "$TMP/$1.mgr" || { echo "fake manager of $1 did not start"; cat "$TMP/$1.mgr.err"; exit 1; }
        UNROOT_POD_SHAPE=watch HOME=$home XDG_RUNTIME_DIR=/run/user/$2 "$AGENT" --socket "$ROOT$home/.unroot/agent.sock" \
                --root "$ROOT" --podman-version 4.3 --manager-address "unix:path=$TMP/$1.mgr" -v 2>"$TMP/$1.agent.log" &
        PIDS+=($!)
        wait_for 10 grep -q 'Applied:' "$TMP/$1.agent.log" || { echo "agent of $1 did not apply"; cat "$TMP/$1.agent.log"; exit 1; }
}
start_agent container-db 990 metabase.service active
start_agent container-misc 993 speedtest.service failed

OUT=$TMP/report.md
"$AGENTCTL" report --root "$ROOT" >"$OUT" 2>"$TMP/report.err"
rc=$?
check "report exits 0 (rc $rc)" test $rc = 0
check "heading in the founding report's shape" contains "$OUT" "# Rootless Podman Migration - Status Report"
check "services: 4 root (2 unmigrated, 1 failed, 1 unreadable record), 3 applied, 1 unknown = 8" \
        contains "$OUT" "## Running Rootless (1 of 8 services)"
check "container-db has one rootless service" contains "$OUT" "### container-db (1 service)"
check "metabase runs rootless, its unit's state from the live agent" \
        test "$(grep -A1 -F '### container-db (1 service)' "$OUT" | tail -1)" = "- ✅ metabase - metabase.service active (running)"
check "speedtest applied but its unit failed: not counted" \
        contains "$OUT" "- ⚠️ speedtest (container-misc) - the record says applied, but speedtest.service is failed (dead); live: speedtest.service failed (dead)"
check "silly-tavern applied but no agent answers for container-web" \
        contains "$OUT" "- ⚠️ silly-tavern (container-web) - the record says applied, but agent of container-web not answering (not running)"
check "2 migrated but not running" contains "$OUT" "## Migrated but Not Running (2 services)"
check "what stayed root: 4 services, one a pod of 3 containers" \
        contains "$OUT" "## Remaining as Root (4 services, 1 pod; 6 containers)"
check "budget-board pod with its members, not migrated" \
        contains "$OUT" "- ❌ budget-board Pod (server + client + infra) - not migrated"
check "pod members are not services of their own" lacks "$OUT" "budget-board-server -"
check "litellm: the failed record's step and error" \
        contains "$OUT" "- ❌ litellm - the migration to container-db failed after step images: start: litellm.service did not become healthy within 120 s"
check "opnsense-exporter: unreadable record, root file still there" \
        contains "$OUT" "- ❌ opnsense-exporter - not migrated as far as can be told: its record could not be read ($M/opnsense-exporter/record.json: not valid JSON: line 2, column 1: expected a value)"
check "vanna: not migrated" contains "$OUT" "- ❌ vanna - not migrated"
check "the planner's blocker under budget-board: port 80, with both choices" \
        contains "$OUT" "  - blocked: budget-board.pod: PublishPort=80:3000 publishes host port 80, below net.ipv4.ip\\_unprivileged\\_port\\_start (1024): a rootless container cannot bind it, and the port is never changed silently (choices: unprivileged-port-start: "
check "the planner's blocker under vanna: a localhost/ image root does not have" \
        contains "$OUT" "  - blocked: vanna.container: image 'localhost/vanna' is a localhost/ image but is not in root's store"
check "no planner run for a failed or unreadable record" lacks "$OUT" "the migration planner cannot plan"
check "users/ files are not root services" lacks "$OUT" "someone"
check "teable: bad record, no root file: state unknown" \
        contains "$OUT" "- ❓ teable - its record could not be read ($M/teable/record.json: field 'state': 'done' is not one of applying, applied, rolling-back, rolled-back, failed)"
check "warning names the file and the field" \
        contains "$OUT" "- skipped $M/teable/record.json: field 'state': 'done' is not one of"
check "warnings also on stderr" contains "$TMP/report.err" "agentctl: report: warning: skipped $M/opnsense-exporter/record.json: not valid JSON"
check "techniques per service (applied records only)" \
        contains "$OUT" "| metabase | container-db | rootless | ownership-shift, host-loopback, address-rewrite, host-check-loopback |"
check "techniques of a record that is not running are shown with its state" \
        contains "$OUT" "| speedtest | container-misc | not-running | port-remap |"
check "a failed record's techniques are not listed" lacks "$OUT" "| litellm |"
check "per technique with its services" contains "$OUT" "- **ownership-shift** (metabase, silly-tavern): "
check "host changes" contains "$OUT" "- speedtest: speedtest now publishes 8080 instead of 80"
check "accounts: live agent" contains "$OUT" "| container-db | answering (unroot "
check "accounts: an enrolled account without an agent" contains "$OUT" "| container-monitor | agent not answering (not running) |"
check "count and share" contains "$OUT" "**Total Migration:** 1/8 services running rootless (13%)"

# JSON: the same figures.
"$AGENTCTL" report --root "$ROOT" --json >"$TMP/report.json" 2>/dev/null
check "--json: one valid document with the same figures" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in d["services"]}
assert (d["total"], d["rootless"], d["not-running"], d["root"], d["unknown"], d["share_percent"]) == (8, 1, 2, 4, 1, 13), d
assert s["metabase"]["outcome"] == "rootless" and s["speedtest"]["outcome"] == "not-running"
assert s["budget-board"]["kind"] == "pod" and s["budget-board"]["members"] == ["budget-board-client", "budget-board-server"] or \
       s["budget-board"]["members"] == ["budget-board-server", "budget-board-client"]
assert [a["name"] for a in d["accounts"]] == ["container-db", "container-misc", "container-monitor", "container-web"]
assert any("teable/record.json" in w for w in d["warnings"])
' "$TMP/report.json"

# --output: written atomically, 0644, same text as stdout (but for the minute in the first lines).
"$AGENTCTL" report --root "$ROOT" --output "$TMP/out/r.md" 2>/dev/null
check "--output into a missing directory fails" test $? = 1
check "... and leaves nothing" test ! -e "$TMP/out"
mkdir "$TMP/out"
echo old >"$TMP/out/r.md"
ln -s r.md "$TMP/out/link.md"
"$AGENTCTL" report --root "$ROOT" --output "$TMP/out/r.md" 2>/dev/null
check "--output exits 0" test $? = 0
check "--output: mode 0644" test "$(stat -c %a "$TMP/out/r.md")" = 644
check "--output: no temporary file left" test "$(ls -A "$TMP/out" | wc -l)" = 2
check "--output: same report as stdout" diff <(sed 1,3d "$OUT") <(sed 1,3d "$TMP/out/r.md")
"$AGENTCTL" report --root "$ROOT" --output "$TMP/out/link.md" 2>/dev/null
check "--output over a symlink replaces the link, not its target" test ! -L "$TMP/out/link.md" -a "$(sed 1,3d "$TMP/out/r.md" | md5sum)" = "$(sed 1,3d "$TMP/out/link.md" | md5sum)"

# The empty host.
mkdir -p "$TMP/empty"
"$AGENTCTL" report --root "$TMP/empty" >"$TMP/empty.md" 2>&1
check "empty host: exit 0" test $? = 0
check "empty host: says so" contains "$TMP/empty.md" "No services: no root Quadlet service in /etc/containers/systemd and no migration record."
check "empty host: 0/0" contains "$TMP/empty.md" "**Total Migration:** 0/0 services running rootless"

# Usage.
"$AGENTCTL" report --root relative >/dev/null 2>"$TMP/usage.err"
check "--root must be absolute (exit 2)" test $? = 2
check "... and says so" contains "$TMP/usage.err" "report: --root: 'relative' is not an absolute path"
"$AGENTCTL" report extra >/dev/null 2>&1
check "an extra argument is a usage error" test $? = 2

# Records that cannot be listed: a clear error, no report. (Root reads through mode 0, so use a file.)
mkdir -p "$TMP/blocked/var/lib/unroot"
: >"$TMP/blocked/var/lib/unroot/migrate"
"$AGENTCTL" report --root "$TMP/blocked" >"$TMP/blocked.out" 2>"$TMP/blocked.err"
check "an unlistable records directory fails (exit 1)" test $? = 1
check "... naming the directory" contains "$TMP/blocked.err" "cannot list the migration records in $TMP/blocked/var/lib/unroot/migrate: Not a directory"
check "... and prints no report" test ! -s "$TMP/blocked.out"

echo "report-host: $passed passed, $failed failed"
[ "$failed" = 0 ]
