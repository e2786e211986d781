#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host side: runs e2e/compat43.sh in the Debian 12 test bed (podman 4.3.1) with this build's
# unroot-quadlet and unroot-wait-online (the user wait unit the 4.3 units depend on).
# usage: run.sh UNROOT_QUADLET SOURCE_DIR UNROOT_WAIT_ONLINE
set -euo pipefail
BIN=${1:?unroot-quadlet binary}
SRC=$(cd "${2:?source dir}" && pwd)
WAIT=${3:?unroot-wait-online binary}
[ "$(id -u)" = 0 ] || { echo "SKIP: the test bed needs root (qemu, mkfs, mmdebstrap)"; exit 77; }
PAY=$(mktemp -d)
trap 'rm -rf "$PAY"' EXIT
cp "$BIN" "$PAY/unroot-quadlet"
cp "$WAIT" "$PAY/unroot-wait-online"
cp "$SRC/systemd/unroot-wait-online.service.in" "$PAY/unroot-wait-online.service.in"
exec "$SRC/tests/testbed/testbed.sh" run "$SRC/tests/quadlet/e2e/compat43.sh" \
        "$PAY/unroot-quadlet" "$PAY/unroot-wait-online" "$PAY/unroot-wait-online.service.in"
