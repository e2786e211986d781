#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what building and testing unroot needs on Debian 12 (as root). The test bed's own host
# tools (mmdebstrap, qemu) are installed by tests/testbed/testbed.sh when it first runs.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root (apt-get)" >&2; exit 2; }
PKGS=(meson ninja-build gcc clang pkg-config
      protobuf-c-compiler libprotobuf-c-dev libcmocka-dev libsystemd-dev libpolkit-gobject-1-dev libcap-dev
      libacl1-dev acl attr libcap2-bin fuse3 libfuse3-dev bc
      dbus polkitd systemd util-linux passwd python3 strace
      podman uidmap)
missing=()
for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps.sh: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
