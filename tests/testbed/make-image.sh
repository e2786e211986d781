#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-image.sh — small offline container images for podman tests, inside the
# test bed guest (no network, no registry).  Run as root.
#
#   make-image.sh [-n NAME] [USER...]
#
# Builds a busybox-static root file system once (cached as /var/cache/testbed/bb.tar)
# and `podman import`s it as NAME (default localhost/bb:latest) into the storage
# of each USER, run as that user with its session environment (like lib.sh's
# asuser), or into root's storage when no USER is given.  A USER needs a home
# directory; with linger on (user@UID running) podman also gets its user bus.
#
# The image: /bin/busybox with a symlink per applet (sh, httpd, wget, nc, sleep,
# id, touch, …), CMD ["/bin/sh"], /etc/passwd with root (0), app (1000) and
# nobody (65534), /tmp mode 1777 (non-root container users must be able to write
# there), /www/index.html containing "hello from container httpd".
# busybox 1.35 traps: `busybox wget -T N` segfaults (use `timeout N wget …`),
# and busybox as PID 1 ignores SIGTERM (stop with -t 0/--stop-timeout or use --init).
set -euo pipefail
. "$(dirname "$0")/lib.sh"   # tb_busybox_links

NAME=localhost/bb:latest
if [ "${1:-}" = -n ]; then NAME=$2; shift 2; fi
CACHE=/var/cache/testbed
TAR=$CACHE/bb.tar

build_tar() {
    [ -s "$TAR" ] && return 0
    local bb; bb=$(command -v busybox) || { echo "make-image: busybox not installed" >&2; return 1; }
    local r; r=$(mktemp -d /tmp/bb-rootfs.XXXXXX)
    chmod 755 "$r"    # mktemp makes it 0700: the image's / would be closed to non-root users
    mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,var/tmp,root,home/app,www}
    install -d -m 1777 "$r/tmp"
    chmod 1777 "$r/var/tmp"
    cp "$bb" "$r/bin/busybox"
    tb_busybox_links "$r/bin" "$bb"
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
    printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' > "$r/etc/group"
    chown 1000:1000 "$r/home/app"
    echo "hello from container httpd" > "$r/www/index.html"
    mkdir -p "$CACHE"; chmod 755 "$CACHE"
    tar --numeric-owner -C "$r" -cf "$TAR.new" . && chmod 644 "$TAR.new" && mv "$TAR.new" "$TAR"
    rm -rf "$r"
}

import_as() {  # import_as USER|""
    local u=$1
    if [ -z "$u" ]; then
        podman import --change 'CMD=["/bin/sh"]' "$TAR" "$NAME" >/dev/null
        return
    fi
    local uid home
    uid=$(id -u "$u") || { echo "make-image: no such user: $u" >&2; return 1; }
    home=$(getent passwd "$u" | cut -d: -f6)
    [ -n "$home" ] && [ -d "$home" ] || { echo "make-image: user $u has no home directory ($home)" >&2; return 1; }
    local envs=(-u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS)
    [ -d "/run/user/$uid" ] && envs=(XDG_RUNTIME_DIR="/run/user/$uid"
        DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus")
    (cd /tmp && runuser -u "$u" -- env "${envs[@]}" HOME="$home" \
        podman import --change 'CMD=["/bin/sh"]' "$TAR" "$NAME" >/dev/null)
}

build_tar
rc=0
if [ $# -eq 0 ]; then
    import_as "" || { echo "make-image: podman import for root failed" >&2; rc=1; }
else
    for u in "$@"; do
        import_as "$u" || { echo "make-image: podman import as $u failed" >&2; rc=1; }
    done
fi
[ $rc = 0 ] && echo "make-image: $NAME ready for ${*:-root}"
exit $rc
