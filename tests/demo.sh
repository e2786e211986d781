#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: installs what is needed, builds, boots the Debian 12 test bed and runs the founding
# scenario there (tests/migrate/e2e-founding.sh): the migration report's twelve services start as
# root Quadlet services (PostgreSQL and redis on the host, two pods, data owned by non-root container
# uids), are planned and migrated with `agentctl migrate` to container-db, -web, -monitor and -misc
# (one apply is made to fail halfway and re-run), checked rootless and healthy with their data
# intact, and one service and one pod are rolled back. `agentctl report`'s Markdown report is shown
# at the end. 35 to 45 minutes under software emulation.
# The smaller enroll story alone: tests/e2e/run-e2e.sh build . tests/e2e/enroll.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
OUT=$PWD/build/e2e-out/founding-demo
rc=0
UNROOT_TESTBED_OUT=$OUT UNROOT_TESTBED_TIMEOUT=${UNROOT_TESTBED_TIMEOUT:-3600} UNROOT_TESTBED_CPUS=${UNROOT_TESTBED_CPUS:-2} \
        tests/e2e/run-e2e.sh build . \
        tests/migrate/e2e-founding.sh tests/migrate/scenario.sh tests/migrate/scenario-app.sh || rc=$?
echo
if [ -s "$OUT/artifacts/report.md" ]; then
        echo "===== agentctl report (from the test bed, $OUT/artifacts/report.md) ====="
        cat "$OUT/artifacts/report.md"
else
        echo "===== no migration report came back: agentctl report did not run (see the FAIL lines above) ====="
fi
exit $rc
