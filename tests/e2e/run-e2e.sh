#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds unroot for the test bed (prefix /usr, as a distribution package would install it),
# packs `meson install --destdir` into unroot-install.tar and runs one guest script in the test bed.
#
# --asan: a separate ASan+UBSan build (e2e-stage-asan), with the sanitizer runtimes in the tarball
# (the guest has no gcc). Further PATHs are copied into the payload next to the script.
#
# usage: run-e2e.sh BUILD_DIR SOURCE_DIR TEST_SCRIPT [--asan] [PATH...]
set -euo pipefail
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
TEST=${3:?test script}
shift 3
ASAN=
[ "${1:-}" = --asan ] && { ASAN=1; shift; }
[ "$(id -u)" = 0 ] || { echo "SKIP: the test bed needs root (qemu, mkfs, mmdebstrap)"; exit 77; }

STAGE=$BUILD/e2e-stage${ASAN:+-asan}
NAME=$(basename "$TEST" .sh)
PAYLOAD=$STAGE/payload-$NAME
# Several e2e tests may run at once (the test bed's run slots): one builds and installs the stage
# at a time, and each packs its own tarball.
mkdir -p "$STAGE"
exec 7>>"$STAGE.lock"
flock 7
if [ ! -d "$STAGE/build" ]; then
        # Debian 12 is merged-/usr: /lib is a symlink, and a tarball with a real lib/ directory would
        # replace it in the guest. Install units below /usr/lib.
        meson setup "$STAGE/build" "$SRC" -Dprefix=/usr -Dtests=false -Dbuildtype=debugoptimized \
                -Dsystemdsystemunitdir=/usr/lib/systemd/system \
                ${ASAN:+-Db_sanitize=address,undefined -Db_lundef=false} >/dev/null
fi
ninja -C "$STAGE/build" >/dev/null
rm -rf "$STAGE/root" "$PAYLOAD"
mkdir -p "$PAYLOAD"
DESTDIR="$STAGE/root" meson install -C "$STAGE/build" --quiet >/dev/null
if [ -n "$ASAN" ]; then
        for l in $(ldd "$STAGE/build/helper/unroot-helper" | awk '/lib(asan|ubsan)\.so/ { print $3 }'); do
                install -D -m 0644 "$(readlink -f "$l")" "$STAGE/root/usr/lib/x86_64-linux-gnu/$(basename "$l")"
        done
fi
tar -C "$STAGE/root" -cf "$PAYLOAD/unroot-install.tar" .
flock -u 7
exec 7>&-
# Results of each script in their own directory: several runs may queue for the test bed.
export UNROOT_TESTBED_OUT=${UNROOT_TESTBED_OUT:-$BUILD/e2e-out/$(basename "$TEST" .sh)}
exec "$SRC/tests/testbed/testbed.sh" run "$TEST" "$PAYLOAD/unroot-install.tar" "$@"
