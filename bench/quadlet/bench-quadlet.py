#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: translate the whole podman corpus in one process with unroot-quadlet and with podman
5.4.2's generator, alternating, and report median wall time and peak RSS of each (os.wait4).

Needs GNU time (/usr/bin/time). usage: bench-quadlet.py --unroot BIN --oracle BIN --corpus DIR [--runs N]"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(argv, src, out):
    """Wall time measured here; peak RSS from GNU time's own wait4() on the generator (a child
    forked from our Python process would inherit Python's RSS high-water mark)."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    env = dict(os.environ, QUADLET_UNIT_DIRS=src)
    rss_file = out + ".rss"
    t0 = time.perf_counter()
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv + ["-no-kmsg-log", out],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return dt, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unroot", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    # output on tmpfs, like a real generator's /run/systemd/generator
    tmp = tempfile.mkdtemp(prefix="unroot-quadlet-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(a.corpus, src)
        res = {"unroot": [], "podman": []}
        for _ in range(a.runs):
            res["unroot"].append(run_once([a.unroot, "--podman-version", "5.4"], src, os.path.join(tmp, "u")))
            res["podman"].append(run_once([a.oracle], src, os.path.join(tmp, "p")))
        n = len([f for f in os.listdir(os.path.join(tmp, "p")) if f.endswith(".service")])
        tu = statistics.median(t for t, _ in res["unroot"])
        tp = statistics.median(t for t, _ in res["podman"])
        mu = max(m for _, m in res["unroot"])
        mp = max(m for _, m in res["podman"])
        print("corpus: %d units generated per run, %d runs each, alternating" % (n, a.runs))
        print("unroot-quadlet: median %.2f ms, peak RSS %d KiB" % (tu * 1000, mu))
        print("podman quadlet: median %.2f ms, peak RSS %d KiB" % (tp * 1000, mp))
        print("ratio: %.1fx faster, %.1fx less memory" % (tp / tu, mp / mu))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
