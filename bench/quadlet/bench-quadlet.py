#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: translate the whole podman corpus in one process with unroot-quadlet and with podman
5.4.2's generator, alternating in the same run, and report the wall-time, CPU-time and peak-memory
ratios.

Both get the same input (a copy of the corpus on tmpfs, via QUADLET_UNIT_DIRS), both write every
unit and [Install] link into a fresh output directory on tmpfs (like a real generator's
/run/systemd/generator), with stdout and stderr to /dev/null and no podman to ask: unroot-quadlet
is told --podman-version 5.4, podman's generator never runs podman. After the runs the two output
trees are compared: same file names and links, same contents (compared line by line as sets of
words: the header line naming the generator is left out, and podman itself varies the order of
a few flags).

A third program, io-floor (bench/quadlet/io-floor.c), does the same file-system work (list and read
the corpus, write as many units and links as podman did) without parsing or translating anything:
no single-threaded generator can be faster on this machine, so podman's time over io-floor's is the
largest speed-up there is to have. io-floor runs a second time with that work dealt out to one thread
per CPU, the bound for a generator that parallelizes perfectly and spends nothing on translating.

Each run is timed by spawn-measure (bench/quadlet/spawn-measure.c, built with the project): wall
time from posix_spawn() to wait4(), CPU time and peak RSS from wait4()'s rusage. (Timing through
Python and GNU time, as before, added ~4 ms of their own to every run of both.)

usage: bench-quadlet.py --unroot BIN --oracle BIN --corpus DIR --measure SPAWN_MEASURE
                       [--floor IO_FLOOR] [--runs N]"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "quadlet"))
import quadlet_testlib as T  # noqa: E402


def run_once(measure, argv, src, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    env = dict(os.environ, QUADLET_UNIT_DIRS=src)
    argv = [w if w != "@OUT@" else out for w in argv] if "@OUT@" in argv else argv + ["-no-kmsg-log", out]
    r = subprocess.run([measure, "--"] + argv, env=env,
                       stdout=subprocess.PIPE, text=True, check=True)
    wall_ns, cpu_ns, rss_kib, code = (int(x) for x in r.stdout.split())
    return wall_ns / 1e6, cpu_ns / 1e6, rss_kib, code


def tree(d):
    def words(p):
        with open(p, encoding="utf-8") as f:
            lines = f.read().split("\n")
        # the first line names the generator binary; podman varies the order of a few flags
        return tuple(sorted(" ".join(sorted(line.split(" "))) for line in lines[1:]))
    return T.snapshot_tree(d, words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unroot", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--measure", required=True)
    ap.add_argument("--floor", default="")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="unroot-quadlet-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(a.corpus, src)
        outs = {"unroot": os.path.join(tmp, "u"), "podman": os.path.join(tmp, "p"), "floor": os.path.join(tmp, "f")}
        argvs = {"unroot": [a.unroot, "--podman-version", "5.4"], "podman": [a.oracle]}
        kinds = ["unroot", "podman"]
        if a.floor:
            # an untimed podman run first, for the number of units and links to write
            run_once(a.measure, argvs["podman"], src, outs["podman"])
            t = tree(outs["podman"])
            argvs["floor"] = [a.floor, src, "@OUT@", str(sum(1 for v in t.values() if v[0] == "file")),
                              str(sum(1 for v in t.values() if v[0] == "link"))]
            kinds.append("floor")
            # the same work dealt out to one thread per CPU: the bound for a perfectly parallel translator
            threads = len(os.sched_getaffinity(0))
            if threads > 1:
                argvs["floor-par"] = argvs["floor"] + [str(threads)]
                outs["floor-par"] = os.path.join(tmp, "fp")
                kinds.append("floor-par")
        res = {k: [] for k in kinds}
        for _ in range(a.runs):
            for k in kinds:
                res[k].append(run_once(a.measure, argvs[k], src, outs[k]))
        tu, tp = tree(outs["unroot"]), tree(outs["podman"])
        same = sum(1 for k in tu if tp.get(k) == tu[k])
        units = len([k for k in tp if k.endswith(".service") and tp[k][0] == "file"])
        print("corpus: %d units generated per run, %d runs each, alternating" % (units, a.runs))
        print("output: %d of %d entries (units and links) the same in both trees, exit codes %d/%d"
              % (same, max(len(tu), len(tp)), res["unroot"][-1][3], res["podman"][-1][3]))
        s = {}
        for k in kinds:
            r = res[k]
            s[k] = dict(wall=statistics.median(x[0] for x in r), wall_min=min(x[0] for x in r),
                        cpu=statistics.median(x[1] for x in r), rss=max(x[2] for x in r))
            name = {"unroot": "unroot-quadlet", "podman": "podman quadlet", "floor": "I/O floor",
                    "floor-par": "I/O floor, %d threads" % len(os.sched_getaffinity(0))}[k]
            print("%s: wall median %.2f ms (min %.2f), CPU median %.2f ms, peak RSS %d KiB"
                  % (name, s[k]["wall"], s[k]["wall_min"], s[k]["cpu"], s[k]["rss"]))
        print("ratio: %.1fx faster (wall, medians; %.1fx on the minima), %.1fx less CPU, %.1fx less memory"
              % (s["podman"]["wall"] / s["unroot"]["wall"], s["podman"]["wall_min"] / s["unroot"]["wall_min"],
                 s["podman"]["cpu"] / s["unroot"]["cpu"], s["podman"]["rss"] / s["unroot"]["rss"]))
        if a.floor:
            print("I/O floor: podman takes %.1fx its wall time (medians; %.1fx on the minima), unroot-quadlet %.1fx"
                  % (s["podman"]["wall"] / s["floor"]["wall"], s["podman"]["wall_min"] / s["floor"]["wall_min"],
                     s["unroot"]["wall"] / s["floor"]["wall"]))
        if "floor-par" in s:
            print("I/O floor, %d threads: podman takes %.1fx its wall time (medians; %.1fx on the minima)"
                  % (len(os.sched_getaffinity(0)), s["podman"]["wall"] / s["floor-par"]["wall"],
                     s["podman"]["wall_min"] / s["floor-par"]["wall_min"]))
        if same != max(len(tu), len(tp)):
            print("WARNING: the output trees differ: the comparison is not like for like")
            return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
