#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 6 part 8: `systemd-analyze security` of the helper's unit, as built, must give an overall
# exposure of 2.5 or lower. --offline reads the unit file itself, so this runs on any host with
# systemd >= 250 installed (no running systemd needed); the test bed's e2e-sanitizers checks the same
# against the installed unit in a booted system.
# usage: sandbox-exposure.sh UNIT_FILE
set -u
UNIT=${1:?unit file}
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' ||
        { echo "SKIP: this systemd-analyze has no --offline (systemd < 250)"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# an instance name, as systemd would load it
cp "$UNIT" "$T/unroot-helper@0.service"
out=$(cd "$T" && systemd-analyze security --offline=true --no-pager "$T/unroot-helper@0.service" 2>&1)
line=$(grep 'Overall exposure level' <<< "$out")
echo "$line"
level=$(sed -n 's/.*: \([0-9][0-9]*\.[0-9]\).*/\1/p' <<< "$line")
[ -n "$level" ] || { echo "FAIL: no exposure level in the output:"; echo "$out" | tail -5; exit 1; }
if awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }'; then
        echo "PASS: exposure $level <= 2.5"
else
        echo "FAIL: exposure $level > 2.5; the settings it marks:"
        grep "^✗" <<< "$out" | head -30
        exit 1
fi
