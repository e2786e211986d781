#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Ownership shift of a 200,000-file tree (issue 5): the shift library's entry point in-process
# (shift-inproc: the same shift_tree() the helper runs, with every check, the journal and its
# fdatasync; no socket or polkit round trip, which costs milliseconds once) against `chown -R`
# (what the founding report did) and `podman unshare chown -R` (what a rootless user would run).
# The shift runs twice: on the tree as it is (the helper's case for volumes on an ordinary mount:
# regular files pinned with O_PATH, their xattrs read through /proc/self/fd, chowned with
# fchownat("")), and on the same tree through a nodev bind mount, where the shift opens regular files
# for real (flistxattr, fchown; shift-walk.c, open_entry) because no device node can be opened there.
# Rotating order, in the same run, on the same warm tree; before each timed run the tree is reset
# untimed:
#  - shift and chown -R: to a root container's owners (uid 0, and 999 in every tenth directory);
#  - podman unshare chown -R: to the same owners as seen from the bench user's user namespace
#    (container 0 = the bench user, container 999 = its subuid start + 998), since podman's chown can
#    only change inodes whose owners are mapped there; every inode changes owner in all three.
# podman runs as an unprivileged bench user with a subuid/subgid range that exist only in this
# script's private mount namespace (bind-mounted copies of /etc/passwd, group, subuid, subgid).
# shift-floor (shift-floor.c) runs alongside, on both mounts: the system calls the checks need per
# entry and nothing else, one thread per CPU, no journal: the least time any shift with these checks
# can take here.
# Prints medians of wall and CPU (user+sys, children included) time and the ratios to chown -R,
# then the syscalls per tree entry of each tool (strace -c -f, one run each).
# usage: bench-shift.sh BUILD_DIR [ROUNDS]   (root; the tree lives in $UNROOT_BENCH_SHIFT_DIR,
#        default /var/tmp/unroot-bench-shift)
set -euo pipefail
BUILD=$(cd "${1:?build dir}" && pwd)
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
INPROC=$BUILD/bench/shift/shift-inproc
FLOOR=$BUILD/bench/shift/shift-floor
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chown)"; exit 77; }
for t in bc unshare setpriv; do command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }; done
if [ -z "${UNROOT_BENCH_INNER:-}" ]; then
        exec env UNROOT_BENCH_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
W=${UNROOT_BENCH_SHIFT_DIR:-/var/tmp/unroot-bench-shift}
TREE=$W/tree
if [ ! -d "$TREE" ] || [ "$(find "$TREE" -type f | wc -l)" != 200000 ]; then
        rm -rf "$W"; mkdir -p "$W"
        echo "generating 200,000 files in $TREE ..."
        python3 "$HERE/gen-tree.py" "$TREE"
fi
ENTRIES=$(find "$TREE" | wc -l)
# The same tree through a nodev bind mount (this mount namespace only).
NODEV=$W/nodev
mkdir -p "$NODEV"
mount --bind "$TREE" "$NODEV" && mount -o remount,bind,nodev "$NODEV" || { echo "cannot bind-mount the tree nodev"; exit 1; }

# --- the bench user for podman (this mount namespace only)
PODMAN=$(command -v podman || true)
BU=
if [ -z "$PODMAN" ]; then
        echo "podman: not installed (tests/install-deps.sh installs it); compared with chown -R only"
elif ! command -v newuidmap >/dev/null; then
        echo "podman: newuidmap missing (package uidmap); compared with chown -R only"; PODMAN=
else
        BU=1990
        while getent passwd $BU >/dev/null || getent group $BU >/dev/null; do BU=$((BU+1)); done
        SUB=1300000
        mkdir -p "$W/etc" "$W/home" "$W/run"
        for f in passwd group subuid subgid; do cp "/etc/$f" "$W/etc/$f" 2>/dev/null || : > "$W/etc/$f"; done
        echo "unroot-bench:x:$BU:$BU::$W/home:/bin/sh" >> "$W/etc/passwd"
        echo "unroot-bench:x:$BU:" >> "$W/etc/group"
        echo "unroot-bench:$SUB:65536" >> "$W/etc/subuid"
        echo "unroot-bench:$SUB:65536" >> "$W/etc/subgid"
        for f in passwd group subuid subgid; do
                [ -e "/etc/$f" ] || touch "/etc/$f"
                mount --bind "$W/etc/$f" "/etc/$f"
        done
        chown -R $BU:$BU "$W/home" "$W/run"; chmod 700 "$W/run"
        AS_BENCH=(setpriv --reuid=$BU --regid=$BU --clear-groups env HOME="$W/home" XDG_RUNTIME_DIR="$W/run")
        # podman warns that / is not a shared mount (this namespace is private); nothing else differs.
        if ! "${AS_BENCH[@]}" "$PODMAN" unshare true 2>"$W/podman.err"; then
                echo "podman: 'podman unshare true' failed as uid $BU: $(grep -v 'shared mount' "$W/podman.err" | head -3); compared with chown -R only"
                PODMAN=
        fi
fi

reset() {
        chown -R 0:0 "$TREE"
        chown -R 999:999 "$TREE"/d*/s00 "$TREE"/d*/s10
        rm -f "$W/journal"
        sync
}
reset_podman() {
        chown -R $BU:$BU "$TREE"
        chown -R $((SUB + 998)):$((SUB + 998)) "$TREE"/d*/s00 "$TREE"/d*/s10
        sync
}
# timed OUTVAR CMD...: appends "wall cpu" (seconds) of CMD to the array named OUTVAR
timed() {
        local out=$1; shift
        /usr/bin/time -f '%e %U %S' -o "$W/time" "$@" >/dev/null 2>"$W/cmd.err" || { cat "$W/cmd.err" >&2; return 1; }
        read -r wall usr sys < "$W/time"
        eval "$out+=(\"$wall \$(echo \"$usr + $sys\" | bc)\")"
}
run_shift() { reset; timed S "$INPROC" --quiet --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$W/journal" "$TREE"; }
run_shift_nodev() { reset; timed N "$INPROC" --quiet --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$W/journal" "$NODEV"; }
run_chown() { reset; timed C chown -R 100000:100000 "$TREE"; }
# the floor: the checks' system calls alone, one thread per CPU (shift-floor.c)
run_floor() { reset; timed F "$FLOOR" "$(nproc)" "$TREE" 100000:100000; }
run_floor_nodev() { reset; timed G "$FLOOR" --real-files "$(nproc)" "$NODEV" 100000:100000; }
run_podman() { reset_podman; timed P "${AS_BENCH[@]}" "$PODMAN" unshare chown -R 1000:1000 "$TREE"; }

S=() N=() C=() P=() F=() G=()
tools=(run_shift run_shift_nodev run_chown run_floor run_floor_nodev)
[ -n "$PODMAN" ] && tools+=(run_podman)
for i in $(seq "$ROUNDS"); do
        n=${#tools[@]}
        for k in $(seq 0 $((n - 1))); do "${tools[$(( (k + i) % n ))]}"; done
        line="round $i (wall cpu, s): shift ${S[-1]}, shift on nodev ${N[-1]}, chown -R ${C[-1]}, floor ${F[-1]}, floor on nodev ${G[-1]}"
        [ -n "$PODMAN" ] && line+=", podman unshare chown -R ${P[-1]}"
        echo "$line"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { local c=$1; shift; for x in "$@"; do echo "$x" | cut -d' ' -f"$c"; done; }
msw=$(median $(col 1 "${S[@]}")) msc=$(median $(col 2 "${S[@]}"))
mnw=$(median $(col 1 "${N[@]}")) mnc=$(median $(col 2 "${N[@]}"))
mcw=$(median $(col 1 "${C[@]}")) mcc=$(median $(col 2 "${C[@]}"))
echo "tree: $ENTRIES entries on $(df --output=fstype "$TREE" | tail -1), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median shift (in-process shift_tree, checks + journal + fdatasync): wall $msw s, cpu $msc s"
echo "median chown -R 100000:100000: wall $mcw s, cpu $mcc s"
echo "ratio shift / chown -R: wall $(echo "scale=2; $msw / $mcw" | bc), cpu $(echo "scale=2; $msc / $mcc" | bc)"
echo "median shift, tree on a nodev mount (files opened for real): wall $mnw s, cpu $mnc s"
echo "ratio shift on nodev / chown -R: wall $(echo "scale=2; $mnw / $mcw" | bc), cpu $(echo "scale=2; $mnc / $mcc" | bc)"
mfw=$(median $(col 1 "${F[@]}")) mfc=$(median $(col 2 "${F[@]}"))
mgw=$(median $(col 1 "${G[@]}")) mgc=$(median $(col 2 "${G[@]}"))
echo "median floor (the checks' system calls alone, $(nproc) threads, no journal): wall $mfw s, cpu $mfc s; ratio to chown -R: wall $(echo "scale=2; $mfw / $mcw" | bc), cpu $(echo "scale=2; $mfc / $mcc" | bc)"
echo "median floor on nodev (files opened for real): wall $mgw s, cpu $mgc s; ratio to chown -R: wall $(echo "scale=2; $mgw / $mcw" | bc), cpu $(echo "scale=2; $mgc / $mcc" | bc)"
if [ -n "$PODMAN" ]; then
        mpw=$(median $(col 1 "${P[@]}")) mpc=$(median $(col 2 "${P[@]}"))
        echo "median podman unshare chown -R: wall $mpw s, cpu $mpc s; ratio to chown -R: wall $(echo "scale=2; $mpw / $mcw" | bc), cpu $(echo "scale=2; $mpc / $mcc" | bc)"
        echo "ratio shift / podman unshare chown -R: wall $(echo "scale=2; $msw / $mpw" | bc), cpu $(echo "scale=2; $msc / $mpc" | bc)"
        echo "ratio shift on nodev / podman unshare chown -R: wall $(echo "scale=2; $mnw / $mpw" | bc), cpu $(echo "scale=2; $mnc / $mpc" | bc)"
fi

# --- where the time goes: syscalls per tree entry, one traced run of each
if command -v strace >/dev/null; then
        per_entry() { # per_entry NAME STRACE_C_FILE
                awk -v n="$ENTRIES" -v name="$1" '
                        $NF == "total" { total = $4; next }
                        $1 ~ /^[0-9.]+$/ && NF >= 5 { if ($4 / n >= 0.01) list = list sprintf(" %s %.2f", $NF, $4 / n) }
                        END { printf "syscalls per entry, %s: %.2f total:%s\n", name, total / n, list }' "$2"
        }
        reset; strace -f -c -o "$W/strace.shift" "$INPROC" --quiet --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$W/journal" "$TREE" >/dev/null
        per_entry shift "$W/strace.shift"
        reset; strace -f -c -o "$W/strace.nodev" "$INPROC" --quiet --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$W/journal" "$NODEV" >/dev/null
        per_entry "shift on nodev" "$W/strace.nodev"
        reset; strace -f -c -o "$W/strace.chown" chown -R 100000:100000 "$TREE"
        per_entry "chown -R" "$W/strace.chown"
        if [ -n "$PODMAN" ]; then
                reset_podman; strace -f -c -o "$W/strace.podman" "${AS_BENCH[@]}" "$PODMAN" unshare chown -R 1000:1000 "$TREE" 2>/dev/null
                per_entry "podman unshare chown -R (podman, newuidmap and chown together)" "$W/strace.podman"
        fi
fi
reset
