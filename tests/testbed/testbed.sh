#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# testbed.sh — unroot's end-to-end test bed: a real, throw-away Debian 12 machine.
#
# Boots a Debian 12 (bookworm) guest under qemu whose PID 1 is systemd (cgroup v2,
# dbus, logind, polkitd, podman 4.3.1 rootless stack), runs ONE test script in it
# as root from a system unit, collects output + journal, powers off and exits with
# the test's exit code.  Works on a host whose PID 1 is not systemd.
# Adapted from ../shared/tools/testbed/e2e-env.sh (see tests/testbed/README.md).
#
#   testbed.sh build                  build the guest image if missing/outdated (cached)
#   testbed.sh run TEST [PATH...]     build if needed, boot, run TEST inside; PATHs
#                                     (files or dirs, e.g. unroot-install.tar) are
#                                     copied next to it into the guest's cwd
#   testbed.sh shell                  boot the image with an interactive serial
#                                     console (root, no password; Ctrl-A X quits)
#   testbed.sh clean                  remove image and results (keeps the .deb cache)
#
# In the guest the test runs as root from testbed-runner.service, cwd = the payload
# dir (/var/lib/testbed/in), under `timeout`, with these variables exported:
#   TESTBED=1  TESTBED_IN (payload dir)  TESTBED_DIR (dir holding lib.sh and
#   make-image.sh)  TESTBED_LIB (path of lib.sh)  TESTBED_ARTIFACTS (files put
#   there come back to the host; E2E_ARTIFACTS is an alias)
# Results land in $UNROOT_TESTBED_OUT (default $WORK/out/last):
#   output.log exit-code journal.txt failed-units.txt boot-time.txt console.log artifacts/
# output.log is also printed to stdout; progress goes to stderr.
#
# Exit codes: the test's own exit code; 124 timeout (guest- or host-side);
#             3 no result came back; 2 usage or infrastructure error.
#
# Environment knobs (defaults in brackets):
#   UNROOT_TESTBED_WORK [<repo>/.cache/testbed]  image, .deb cache, results
#   UNROOT_TESTBED_TIMEOUT [1200] s for boot+test+poweroff (the guest stops the
#                          test itself 60 s earlier so its log still comes back)
#   UNROOT_TESTBED_TEST_TIMEOUT [TIMEOUT-240, or -60 up to 600] s the guest lets the test run (then 124)
#   UNROOT_TESTBED_OUT [$WORK/out/last]   UNROOT_TESTBED_MEM [2048] MiB
#   UNROOT_TESTBED_CPUS [1 under TCG, 2 with KVM]   UNROOT_TESTBED_DISK_SIZE [4G] guest root fs size
#   UNROOT_TESTBED_MIRROR [http://deb.debian.org/debian]
#   UNROOT_TESTBED_SECURITY_MIRROR [http://deb.debian.org/debian-security]
#   UNROOT_TESTBED_EXTRA_PACKAGES [] comma-separated extra Debian packages (changes the stamp)
#   UNROOT_TESTBED_REBUILD [0]  1 = rebuild the image even if up to date
#   UNROOT_TESTBED_INSTALL_HOST_DEPS [1]  1 = apt-get install missing host tools
#   UNROOT_TESTBED_ACCEL [auto]  kvm | tcg | auto (kvm only with kvm_intel/kvm_amd)
#   UNROOT_TESTBED_LOCK [/tmp/unroot-testbed.lock]  machine-wide lock: a build (or
#                          shell, clean) excludes every VM; runs share it and then
#                          take one of the run slots ($LOCK.slotN); "none" disables it
#   UNROOT_TESTBED_SLOTS [2]  VMs that may run at once. One TCG VM keeps about 1.1 of
#                          a 2-core host's cores busy on average (measured over the
#                          founding scenario): two side by side finish the e2e suite
#                          much sooner than one after the other
# Must run as root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
W=${UNROOT_TESTBED_WORK:-$REPO/.cache/testbed}
TIMEOUT=${UNROOT_TESTBED_TIMEOUT:-1200}
MEM=${UNROOT_TESTBED_MEM:-2048}
CPUS=${UNROOT_TESTBED_CPUS:-}   # default chosen in run_qemu, by accelerator
DISK_SIZE=${UNROOT_TESTBED_DISK_SIZE:-4G}
MIRROR=${UNROOT_TESTBED_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${UNROOT_TESTBED_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
LOCK=${UNROOT_TESTBED_LOCK:-/tmp/unroot-testbed.lock}
SLOTS=${UNROOT_TESTBED_SLOTS:-2}
case $SLOTS in ''|*[!0-9]*|0) echo "testbed: UNROOT_TESTBED_SLOTS must be a number >= 1 (got '$SLOTS')" >&2; exit 2;; esac
SUITE=bookworm

# Guest package set.  --variant=apt gives Essential:yes + apt; everything else is
# listed explicitly: mmdebstrap installs no Recommends, and uidmap, catatonit,
# dbus-user-session, slirp4netns and fuse-overlayfs are only Recommends of podman.
# The next line is unroot's runtime libraries and test tools; the last one the host services of
# issue 5's founding scenario (tests/migrate/), which are disabled at boot (see build()).
GUEST_PACKAGES="systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,\
polkitd,passwd,login,podman,crun,conmon,catatonit,uidmap,slirp4netns,passt,\
fuse-overlayfs,busybox-static,iproute2,procps,kmod,udev,\
linux-image-cloud-amd64,initramfs-tools,e2fsprogs,\
libprotobuf-c1,libcap2,libpolkit-gobject-1-0,strace,acl,sudo,\
postgresql,redis-server"
[ -n "${UNROOT_TESTBED_EXTRA_PACKAGES:-}" ] && GUEST_PACKAGES="$GUEST_PACKAGES,$UNROOT_TESTBED_EXTRA_PACKAGES"

log() { printf '[testbed %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

# ---------------------------------------------------------------- guest files
# testbed-runner: installed as /usr/local/sbin/testbed-runner in the image.
read -r -d '' GUEST_RUNNER <<'RUNNER' || true
#!/bin/bash
# Runs once at boot (testbed-runner.service): untars the payload from /dev/vdb,
# runs ./test.sh as root, writes the results back onto /dev/vdb, powers off.
set -u
# not under /run: initramfs-tools mounts /run noexec
IN=/var/lib/testbed/in OUT=/var/lib/testbed/out
rm -rf "$IN" "$OUT"; mkdir -p "$IN" "$OUT/artifacts"
if grep -qw 'testbed.io=vdb' /proc/cmdline && [ -b /dev/vdb ]; then
    if ! tar -xf /dev/vdb -C "$IN"; then
        echo "testbed-runner: bad payload" | tee "$OUT/output.log"; echo 2 > "$OUT/exit-code"
        echo "results of testbed-runner" > "$OUT/.testbed-results"
        tar -cf /dev/vdb -C "$OUT" . && sync; systemctl poweroff --no-block; exit 0
    fi
else
    echo "testbed-runner: no payload, leaving the machine up"; exit 0
fi
TEST_TIMEOUT=600
[ -f "$IN/testbed.env" ] && . "$IN/testbed.env"
echo "testbed-runner: system state: $(systemctl is-system-running --wait)"
systemd-analyze > "$OUT/boot-time.txt" 2>&1
chmod +x "$IN/test.sh"
echo "===== testbed test start ====="
( cd "$IN" && export TESTBED=1 TESTBED_IN="$IN" TESTBED_DIR="$IN/.testbed" \
      TESTBED_LIB="$IN/.testbed/lib.sh" TESTBED_ARTIFACTS="$OUT/artifacts" \
      E2E_ARTIFACTS="$OUT/artifacts" && \
  exec timeout -k 10 "$TEST_TIMEOUT" ./test.sh ) 2>&1 < /dev/null | tee "$OUT/output.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 124 ] && echo "testbed-runner: TIMEOUT: the test was stopped after ${TEST_TIMEOUT}s" | tee -a "$OUT/output.log"
echo "===== testbed test end: exit code $rc ====="
echo "$rc" > "$OUT/exit-code"
systemctl --failed --no-pager > "$OUT/failed-units.txt" 2>&1
journalctl -b --no-pager -o short-monotonic > "$OUT/journal.txt" 2>&1
echo "results of testbed-runner" > "$OUT/.testbed-results"   # tells results from the payload
tar -cf /dev/vdb -C "$OUT" . && sync
systemctl poweroff --no-block
RUNNER

read -r -d '' GUEST_UNIT <<'UNIT' || true
[Unit]
Description=unroot test bed runner
After=multi-user.target
[Service]
# Type=exec, not oneshot: the start job must finish at once, otherwise the boot
# never completes while the test runs ("systemctl is-system-running --wait"
# would wait for our own job: deadlock).
Type=exec
ExecStart=/usr/local/sbin/testbed-runner
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
UNIT

# ------------------------------------------------------------------- helpers
need_host_tools() {
    local missing=() t
    for t in "$@"; do
        case $t in
            mmdebstrap) command -v mmdebstrap >/dev/null || missing+=(mmdebstrap);;
            mkfs.ext4)  command -v mkfs.ext4  >/dev/null || missing+=(e2fsprogs);;
            qemu)       command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86);;
            qemu-img)   command -v qemu-img >/dev/null || missing+=(qemu-utils);;
            flock)      command -v flock >/dev/null || missing+=(util-linux);;
        esac
    done
    [ ${#missing[@]} = 0 ] && return 0
    [ "${UNROOT_TESTBED_INSTALL_HOST_DEPS:-1}" = 1 ] || die "missing host packages: ${missing[*]}"
    log "installing host packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 || {
        log "install failed, running apt-get update and retrying"
        apt-get update >&2 || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
            die "could not install host packages: ${missing[*]}"; }
}

# A build replaces the image that running VMs use as their backing file: it takes
# $LOCK exclusively, runs take it shared. The locks are released when we exit.
take_lock() { # take_lock [-s] WHAT
    [ "$LOCK" = none ] && return 0
    local mode=-x; [ "$1" = -s ] && { mode=-s; shift; }
    need_host_tools flock
    exec 9>>"$LOCK"
    if ! flock -n $mode 9; then
        log "waiting for $LOCK ($(cat "$LOCK.owner" 2>/dev/null || echo '?'))"
        local t0=$SECONDS
        flock $mode 9
        log "got the lock after $((SECONDS - t0))s"
    fi
    [ $mode = -x ] && note_owner "$*"
    return 0
}

# Who holds the lock exclusively, for the "waiting for" message of the others.
note_owner() { printf 'pid %s since %(%H:%M:%S)T: %s\n' "$$" -1 "$*" > "$LOCK.owner" 2>/dev/null || true; }

# One of $SLOTS run slots (fd 8), so that at most $SLOTS VMs run at once.
take_slot() {
    [ "$LOCK" = none ] && return 0
    local k t0=$SECONDS waited=
    while :; do
        for ((k = 0; k < SLOTS; k++)); do
            exec 8>>"$LOCK.slot$k"
            if flock -n 8; then
                [ -n "$waited" ] && log "got run slot $k after $((SECONDS - t0))s"
                return 0
            fi
            exec 8>&-
        done
        [ -n "$waited" ] || log "all $SLOTS run slots are busy, waiting"
        waited=1
        sleep 2
    done
}

# stamp = what the image depends on; a change triggers a rebuild (bump "vN"
# when build() itself changes)
image_stamp() { printf '%s\n%s\n%s\n%s\n%s\n' "$GUEST_PACKAGES" "$GUEST_RUNNER" "$GUEST_UNIT" "$DISK_SIZE" "unroot-v3" | sha256sum | cut -c1-16; }

prepare_work() {
    mkdir -p "$W"
    # never let the work dir (image ~550 MB, .deb cache ~110 MB) reach git
    [ -f "$W/.gitignore" ] || echo '*' > "$W/.gitignore"
}

image_current() {
    [ "${UNROOT_TESTBED_REBUILD:-0}" != 1 ] && [ -f "$W/image/stamp" ] && [ "$(cat "$W/image/stamp")" = "$(image_stamp)" ]
}

build() {
    prepare_work
    local stamp; stamp=$(image_stamp)
    if image_current; then
        log "image up to date ($W/image, stamp $stamp)"; return 0
    fi
    need_host_tools mmdebstrap mkfs.ext4
    mkdir -p "$W/cache/debs"
    rm -rf "$W/rootfs.new" "$W/image.new"
    local t0=$SECONDS
    log "mmdebstrap $SUITE -> $W/rootfs.new (debs cached in $W/cache/debs)"
    # The hooks keep every downloaded .deb in $W/cache/debs and feed them back in
    # on the next build, so only changed packages are downloaded again.
    mmdebstrap --variant=apt --include="$GUEST_PACKAGES" \
        --skip=essential/unlink \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $W/cache/debs /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $W/cache/debs" \
        "$SUITE" "$W/rootfs.new" \
        "deb $MIRROR $SUITE main" \
        "deb $MIRROR $SUITE-updates main" \
        "deb $SECMIRROR $SUITE-security main" >&2 || die "mmdebstrap failed"
    log "mmdebstrap done in $((SECONDS - t0))s"

    # ---- configure the guest
    local R=$W/rootfs.new
    echo unroot-testbed > "$R/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 unroot-testbed\n::1 localhost ip6-localhost\n' > "$R/etc/hosts"
    echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > "$R/etc/fstab"
    # fixed machine-id: an empty one means "first boot" and systemd-firstboot
    # would prompt on the console and hang the boot
    { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; echo; } > "$R/etc/machine-id"
    chroot "$R" passwd -d root >/dev/null          # console login for `shell`
    printf '%s\n' "$GUEST_RUNNER" > "$R/usr/local/sbin/testbed-runner"
    chmod 755 "$R/usr/local/sbin/testbed-runner"
    printf '%s\n' "$GUEST_UNIT" > "$R/etc/systemd/system/testbed-runner.service"
    chroot "$R" systemctl enable testbed-runner.service >/dev/null 2>&1
    chroot "$R" systemctl set-default multi-user.target >/dev/null 2>&1
    # nothing periodic / network-related should run during a test
    chroot "$R" systemctl disable apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
        e2scrub_all.timer fstrim.timer podman-auto-update.timer >/dev/null 2>&1 || true
    # the founding scenario's host services start only in the tests that use them: every other
    # boot stays as fast as before
    chroot "$R" systemctl disable postgresql.service redis-server.service >/dev/null 2>&1 || true
    rm -f "$R/etc/resolv.conf"; : > "$R/etc/resolv.conf"
    rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"* 2>/dev/null || true
    chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' > "$W/packages.txt.new" 2>/dev/null || true

    # ---- qemu artefacts: kernel, initrd, ext4 root image built from the dir
    mkdir -p "$W/image.new"
    cp "$R"/boot/vmlinuz-* "$W/image.new/vmlinuz"
    cp "$R"/boot/initrd.img-* "$W/image.new/initrd.img"
    local t1=$SECONDS
    # mkfs.ext4 -d: no loop mount needed
    mkfs.ext4 -q -F -L testbed-root -d "$R" "$W/image.new/root.img" "$DISK_SIZE" >&2 || die "mkfs.ext4 failed"
    log "ext4 image in $((SECONDS - t1))s"
    mv "$W/packages.txt.new" "$W/image.new/packages.txt" 2>/dev/null || true
    echo "$stamp" > "$W/image.new/stamp"
    rm -rf "$W/image" "$R"      # the rootfs dir is not needed once root.img exists
    mv "$W/image.new" "$W/image"
    log "image built in $((SECONDS - t0))s: $(du -sh --apparent-size "$W/image/root.img" | cut -f1) apparent, $(du -sh "$W/image/root.img" | cut -f1) used"
}

accel() {
    case ${UNROOT_TESTBED_ACCEL:-auto} in kvm|tcg) echo "$UNROOT_TESTBED_ACCEL"; return;; esac
    # Only hardware KVM (kvm_intel / kvm_amd) is worth using.  Some cloud VMs
    # offer /dev/kvm through kvm_pvm (software "PVM", no VT-x): an unmodified
    # Debian kernel crawls there and dies on "KVM internal error ... emulation
    # failure" (lock cmpxchg16b).  TCG boots the same guest in ~30 s.
    if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && \
       echo quit | timeout 20 qemu-system-x86_64 -accel kvm -machine none -display none \
            -nodefaults -no-user-config -monitor stdio >/dev/null 2>&1; then
        echo kvm
    else
        echo tcg
    fi
}

QPID=
RUNDIR=
cleanup() {
    # only our own qemu, by PID
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null || true; fi
    [ -n "$RUNDIR" ] && rm -rf "$RUNDIR"
    return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 2' INT TERM HUP

# run_qemu PAYLOAD_DIR OUT_DIR [interactive]
run_qemu() {
    local payload=$1 out=$2 interactive=${3:-} acc rc=0
    need_host_tools qemu qemu-img
    RUNDIR=$W/run.$$; mkdir -p "$RUNDIR"
    # per-run copy-on-write overlay: the base image is never modified
    qemu-img create -q -f qcow2 -F raw -b "$W/image/root.img" "$RUNDIR/root.qcow2" || die "qemu-img failed"
    local append="console=ttyS0,115200 root=/dev/vda rw panic=-1 systemd.firstboot=off net.ifnames=0"
    local io=()
    if [ -z "$interactive" ]; then
        tar -cf "$RUNDIR/io.img" -C "$payload" . || die "cannot write the payload"
        # room for the results (sparse): at least 512 MiB, more for big payloads
        local sz; sz=$(stat -c %s "$RUNDIR/io.img")
        sz=$(( (sz + 512*1024*1024 + 1048575) / 1048576 ))
        truncate -s "${sz}M" "$RUNDIR/io.img"
        io=(-drive "file=$RUNDIR/io.img,if=virtio,format=raw")
        append="$append testbed.io=vdb"
    fi
    acc=$(accel); [ "$acc" = tcg ] && log "no hardware KVM: using TCG (software emulation)"
    local cpu=host accel_opt=kvm
    # TCG: multi-threaded TCG (one host thread per vCPU), bigger translation cache
    [ "$acc" = tcg ] && cpu=max && accel_opt=tcg,thread=multi,tb-size=512
    # TCG: one vCPU. Two VMs with two vCPUs each on a two-core host run podman 1.3 to 1.8 times
    # slower than two with one each (measured: podman --version, podman images, iptables, boot),
    # since a guest whose vCPU thread is preempted makes the other spin; one VM alone used only
    # 1.1 cores with two.
    [ -n "$CPUS" ] || { [ "$acc" = tcg ] && CPUS=1 || CPUS=2; }
    local qemu=(qemu-system-x86_64 -accel "$accel_opt" -cpu "$cpu" -m "$MEM" -smp "$CPUS"
        -nodefaults -no-user-config -no-reboot -display none -nic none
        -kernel "$W/image/vmlinuz" -initrd "$W/image/initrd.img" -append "$append"
        -drive "file=$RUNDIR/root.qcow2,if=virtio,format=qcow2,cache=unsafe" "${io[@]}"
        -device virtio-rng-pci)
    if [ -n "$interactive" ]; then
        log "interactive console: log in as root (no password); 'poweroff' or Ctrl-A X to leave"
        "${qemu[@]}" -serial mon:stdio || true
        rm -rf "$RUNDIR"; RUNDIR=; return 0
    fi
    log "booting qemu ($acc, ${CPUS} cpu, ${MEM} MiB), timeout ${TIMEOUT}s"
    local t0=$SECONDS
    "${qemu[@]}" -serial "file:$out/console.log" -monitor none </dev/null &
    QPID=$!
    # wait for poweroff, or kill the VM (only our own qemu, by PID) on timeout
    while kill -0 "$QPID" 2>/dev/null; do
        if (( SECONDS - t0 > TIMEOUT )); then
            log "TIMEOUT after ${TIMEOUT}s, killing qemu $QPID"; kill "$QPID"; rc=124; break
        fi
        sleep 1
    done
    wait "$QPID" 2>/dev/null || true
    QPID=
    log "VM finished after $((SECONDS - t0))s"
    # results were written by the guest as a tar onto the io disk
    # (if the guest never wrote them, the disk still holds the payload: ignore it)
    mkdir -p "$RUNDIR/res"
    if tar -xf "$RUNDIR/io.img" -C "$RUNDIR/res" 2>/dev/null && [ -f "$RUNDIR/res/.testbed-results" ]; then
        rm -f "$RUNDIR/res/.testbed-results"; cp -a "$RUNDIR/res/." "$out/"
    else
        log "no results on the io disk"
    fi
    rm -rf "$RUNDIR"; RUNDIR=
    return $rc
}

run_test() {
    local test=$1; shift
    [ -f "$test" ] || die "no such test script: $test"
    local p
    for p in "$@"; do [ -e "$p" ] || die "no such file: $p"; done
    build
    local out=${UNROOT_TESTBED_OUT:-$W/out/last}
    rm -rf "$out"; mkdir -p "$out"
    local payload; payload=$(mktemp -d "$W/payload.XXXXXX")
    cp "$test" "$payload/test.sh"
    mkdir -p "$payload/.testbed"
    cp "$HERE/lib.sh" "$HERE/make-image.sh" "$payload/.testbed/"
    for p in "$@"; do cp -a "$p" "$payload/"; done
    # the guest stops the test itself before the host kills the VM, so that
    # output.log + journal of a hanging test still come back
    # (the VM's limit counts the boot too: up to two minutes under TCG beside another VM)
    echo "TEST_TIMEOUT=${UNROOT_TESTBED_TEST_TIMEOUT:-$((TIMEOUT > 600 ? TIMEOUT - 240 : TIMEOUT > 180 ? TIMEOUT - 60 : TIMEOUT * 2 / 3))}" > "$payload/testbed.env"
    local rc=0
    run_qemu "$payload" "$out" || rc=$?
    rm -rf "$payload"
    if [ -f "$out/output.log" ]; then
        echo "----- test output ($(basename "$test")) -----"; cat "$out/output.log"; echo "-----"
    else
        echo "----- no test output; last console lines -----"; tail -40 "$out/console.log" 2>/dev/null || true
    fi
    if [ $rc = 0 ]; then
        if [ -f "$out/exit-code" ]; then rc=$(cat "$out/exit-code"); else rc=3; fi
    fi
    log "results in $out (exit code $rc)"
    return "$rc"
}

usage() { sed -n '3,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; }

case ${1:-} in
    -h|--help|help) usage; exit 0;;
esac
[ "$(id -u)" = 0 ] || die "must run as root"
case ${1:-} in
    build) take_lock build; build;;
    run)   shift; [ $# -ge 1 ] || die "usage: $0 run TEST [PATH...]"
           [ -f "$1" ] || die "no such test script: $1"
           for p in "${@:2}"; do [ -e "$p" ] || die "no such file: $p"; done
           # shared with other runs; exclusive only while the image must be (re)built
           take_lock -s "run $*"
           if ! image_current; then
               if [ "$LOCK" = none ]; then build
               else
                   # Several runs may find the image missing at once (CI's first e2e tests): one
                   # builds under the exclusive lock, the others wait until it is there.
                   exec 9>&-
                   while :; do
                       exec 9>>"$LOCK"
                       if flock -n -x 9; then
                           note_owner "build for run $*"
                           build; flock -s 9; break
                       fi
                       if image_current; then flock -s 9; break; fi
                       exec 9>&-
                       sleep 2
                   done
               fi
               UNROOT_TESTBED_REBUILD=0
           fi
           take_slot
           rc=0; run_test "$@" || rc=$?; exit $rc;;
    shell) take_lock shell; build; run_qemu "" "" interactive;;
    clean) take_lock clean; rm -rf "$W/rootfs" "$W/rootfs.new" "$W/image" "$W/image.new" "$W/out" "$W"/run.* "$W"/payload.*
           log "cleaned $W (kept $W/cache)";;
    *) usage >&2; exit 2;;
esac
