#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The founding scenario as a demo: installs what is needed, builds, boots the Debian 12 test bed and
# runs tests/migrate/e2e-founding.sh there: the report's twelve services start as root Quadlet
# services (PostgreSQL and redis on the host, two pods, data owned by non-root container uids), are
# migrated with `agentctl migrate` to container-db, -web, -monitor and -misc, and `agentctl report`
# prints the migration report, which is shown at the end. Until migrate and report are on main, the
# demo shows the "before" state and says which sections it skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
OUT=$PWD/build/e2e-out/founding-demo
rc=0
UNROOT_TESTBED_OUT=$OUT UNROOT_TESTBED_TIMEOUT=${UNROOT_TESTBED_TIMEOUT:-3600} tests/e2e/run-e2e.sh build . \
        tests/migrate/e2e-founding.sh tests/migrate/scenario.sh tests/migrate/scenario-app.sh || rc=$?
echo
if [ -s "$OUT/artifacts/report.md" ]; then
        echo "===== agentctl report (from the test bed, $OUT/artifacts/report.md) ====="
        cat "$OUT/artifacts/report.md"
else
        echo "===== no migration report: agentctl report did not run (see the SKIP lines above) ====="
fi
exit $rc
