#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# All benchmarks, each compared in the same run with the tool an admin would otherwise use:
#  - allocator: unroot's subuid allocator vs shadow's usermod on 10,000 existing ranges (host);
#  - quadlet: the whole podman corpus through unroot-quadlet vs podman 5.4.2's generator (host);
#  - shift: ownership shift of a 200,000-file tree by the shift library in-process vs chown -R (and
#    podman unshare chown -R when podman is installed) (host, root);
#  - enroll: 50 × agentctl enroll vs useradd + usermod --add-subuids/--add-subgids + loginctl
#    enable-linger, in the booted test bed (real logind and polkit);
#  - agent idle: unroot-agent's RSS and wake-ups over 60 s vs a resident `podman system service`
#    in the same user manager (test bed).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
echo "=== allocator (host) ==="
meson test -C build --benchmark --verbose 2>&1 | grep -vE '^(ninja|\[)' || true
echo "=== quadlet: whole corpus, unroot-quadlet vs podman 5.4.2's generator (host) ==="
if oracle=$(QUADLET_ORACLE_CACHE=$PWD/build/quadlet-oracle ../shared/tools/quadlet-oracle 2>/dev/null); then
        python3 bench/quadlet/bench-quadlet.py --unroot build/agent/quadlet/unroot-quadlet --oracle "$oracle" \
                --measure build/bench/spawn-measure --floor build/bench/io-floor --corpus ../shared/corpus/quadlet-5.4.2 --runs 30
else
        echo "SKIP: podman 5.4.2's generator could not be fetched (../shared/tools/quadlet-oracle)"
fi
echo "=== shift: 200,000 files, shift_tree() in-process vs chown -R and podman unshare chown -R (host) ==="
bench/shift/bench-shift.sh build 5 || echo "shift benchmark skipped or failed (exit $?)"
echo "=== enroll (test bed) ==="
tests/e2e/run-e2e.sh build . bench/enroll/bench-enroll.sh
echo "=== agent idle: unroot-agent vs a resident podman system service, RSS and wake-ups (test bed) ==="
tests/e2e/run-e2e.sh build . bench/agent/bench-agent-idle.sh
