#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Ownership shift of a 200,000-file tree (issue 5): the shift library's entry point in-process
# (shift-inproc: the same shift_tree() the helper runs, with every check, the journal and its
# fdatasync; no socket or polkit round trip, which costs milliseconds once) against `chown -R`
# (what the founding report did) and, when podman is installed, `podman unshare chown -R`.
# Alternating, in the same run, on the same warm tree; the tree is reset to the root container's
# owners (uid 0, and 999 in every tenth directory) untimed before each timed run.
# usage: bench-shift.sh BUILD_DIR [ROUNDS]   (root; the tree lives in /var/tmp/unroot-bench-shift)
set -euo pipefail
BUILD=$(cd "${1:?build dir}" && pwd)
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
INPROC=$BUILD/bench/shift/shift-inproc
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chown)"; exit 77; }
W=/var/tmp/unroot-bench-shift
TREE=$W/tree
if [ ! -d "$TREE" ] || [ "$(find "$TREE" -type f | wc -l)" != 200000 ]; then
        rm -rf "$W"; mkdir -p "$W"
        echo "generating 200,000 files in $TREE ..."
        python3 "$HERE/gen-tree.py" "$TREE"
fi
reset() {
        chown -R 0:0 "$TREE"
        chown -R 999:999 "$TREE"/d*/s00 "$TREE"/d*/s10
        rm -f "$W/journal"
        sync
}
now() { date +%s.%N; }
t_shift() {
        local a b; a=$(now)
        "$INPROC" --quiet --account bench --uid 990:100000:65536 --gid 990:100000:65536 --journal "$W/journal" "$TREE" >/dev/null
        b=$(now); echo "$b - $a" | bc
}
t_chown() { local a b; a=$(now); chown -R 100000:100000 "$TREE"; b=$(now); echo "$b - $a" | bc; }
PODMAN=$(command -v podman || true)
t_podman() { local a b; a=$(now); "$PODMAN" unshare chown -R 1000:1000 "$TREE"; b=$(now); echo "$b - $a" | bc; }
command -v bc >/dev/null || { echo "SKIP: bc not installed"; exit 77; }

S=() C=() P=()
for i in $(seq "$ROUNDS"); do
        if [ $((i % 2)) = 1 ]; then
                reset; S+=("$(t_shift)"); reset; C+=("$(t_chown)")
        else
                reset; C+=("$(t_chown)"); reset; S+=("$(t_shift)")
        fi
        [ -n "$PODMAN" ] && { reset; P+=("$(t_podman)"); }
        echo "round $i: shift ${S[-1]} s, chown -R ${C[-1]} s${PODMAN:+, podman unshare chown -R ${P[-1]} s}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms=$(median "${S[@]}") mc=$(median "${C[@]}")
echo "tree: $(find "$TREE" | wc -l) entries on $(df --output=fstype "$TREE" | tail -1), $(nproc) CPUs"
echo "median shift (in-process shift_tree, checks + journal + fdatasync): $ms s"
echo "median chown -R 100000:100000: $mc s"
echo "ratio shift / chown -R: $(echo "scale=2; $ms / $mc" | bc)"
if [ -n "$PODMAN" ]; then
        mp=$(median "${P[@]}")
        echo "median podman unshare chown -R: $mp s; ratio shift / podman unshare chown -R: $(echo "scale=2; $ms / $mp" | bc)"
else
        echo "podman: not installed on this host; compared with chown -R only"
fi
reset
