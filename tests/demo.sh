#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: install what is needed, build, boot the Debian 12 test bed and run the demo in it.
# The demo today is the enroll story: a member of unroot-admins runs `agentctl enroll container-db`
# and gets a service account with subuid/subgid ranges, linger, a running user manager and an
# answering agent; then status, a refused outsider, and unenroll.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
exec tests/e2e/run-e2e.sh build . tests/e2e/enroll.sh
