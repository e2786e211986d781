#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden tests: cases the podman corpus does not cover, above all the output for older podman
(--podman-version 4.3 …), dry-run output and the front end's behaviour.

Each directory under golden/ is one case:
  args            generator arguments, one line (e.g. "--podman-version 4.3 -user"); optional;
                  without --podman-version the case runs with --podman-version 5.4
  in/             the quadlet source directory (QUADLET_UNIT_DIRS)
  out/            the expected output directory: unit files and symlinks, byte for byte
  stdout          expected stdout (dry runs); optional
  exit            expected exit code; default 0
  stderr          substrings expected on stderr, one per line; optional
  pre-mkdir       directories to create in the output directory before the run, one relative path
                  per line (what a previous run or an admin left there); optional
In expected text, @SRC@ stands for the source directory, @OUT@ for the output directory and @ARGV0@
for the generator's argv[0].
--update rewrites out/ and stdout from the current output (review the diff before committing)."""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quadlet_testlib as T  # noqa: E402


def snapshot(d, src, argv0):
    def text(p):
        with open(p, encoding="utf-8") as f:
            return f.read().replace(src, "@SRC@").replace(argv0, "@ARGV0@")
    return T.snapshot_tree(d, text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unroot", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()

    cases = sorted(c for c in os.listdir(a.golden) if os.path.isdir(os.path.join(a.golden, c)))
    if a.cases:
        cases = [c for c in cases if c in a.cases]
    passed = failed = 0
    tmproot = tempfile.mkdtemp(prefix="unroot-quadlet-golden-")
    try:
        for case in cases:
            cdir = os.path.join(a.golden, case)
            work = os.path.join(tmproot, case)
            src = os.path.join(work, "quadlet")
            out = os.path.join(work, "out")
            shutil.copytree(os.path.join(cdir, "in"), src, symlinks=True)
            os.makedirs(out)
            if os.path.exists(os.path.join(cdir, "pre-mkdir")):
                with open(os.path.join(cdir, "pre-mkdir")) as f:
                    for rel in f.read().split():
                        os.makedirs(os.path.join(out, rel))
            args = []
            if os.path.exists(os.path.join(cdir, "args")):
                with open(os.path.join(cdir, "args")) as f:
                    args = shlex.split(f.read())
            if not any(x.lstrip("-").startswith("podman-version") for x in args):
                # never depend on the podman installed on the test host
                args = ["--podman-version", "5.4"] + args
            env = dict(os.environ, QUADLET_UNIT_DIRS=src)
            env.pop("PODMAN", None)
            dry = "-dryrun" in args or "--dryrun" in args
            cmd = [a.unroot] + args + ([] if "-no-kmsg-log" in args else ["-no-kmsg-log"]) + ([] if dry else [out])
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
            got = snapshot(out, src, a.unroot)
            stdout = p.stdout.replace(src, "@SRC@").replace(a.unroot, "@ARGV0@")
            errs = []
            want_exit = 0
            if os.path.exists(os.path.join(cdir, "exit")):
                with open(os.path.join(cdir, "exit")) as f:
                    want_exit = int(f.read().strip())
            if p.returncode != want_exit:
                errs.append("exit %d, expected %d; stderr: %s" % (p.returncode, want_exit, p.stderr.strip()))
            if os.path.exists(os.path.join(cdir, "stderr")):
                with open(os.path.join(cdir, "stderr"), encoding="utf-8") as f:
                    for line in f.read().splitlines():
                        line = line.replace("@SRC@", src).replace("@OUT@", out)
                        if line and line not in p.stderr:
                            errs.append("stderr lacks %r; got %r" % (line, p.stderr.strip()))
            if a.update:
                exp_out = os.path.join(cdir, "out")
                shutil.rmtree(exp_out, ignore_errors=True)
                os.makedirs(exp_out)
                for rel, (kind, val) in sorted(got.items()):
                    dst = os.path.join(exp_out, rel)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    if kind == "link":
                        os.symlink(val, dst)
                    else:
                        with open(dst, "w", encoding="utf-8") as f:
                            f.write(val)
                with open(os.path.join(exp_out, ".keep"), "w"):
                    pass
                if dry:
                    with open(os.path.join(cdir, "stdout"), "w", encoding="utf-8") as f:
                        f.write(stdout)
            else:
                exp_dir = os.path.join(cdir, "out")
                want = snapshot(exp_dir, "\0", "\0") if os.path.isdir(exp_dir) else {}
                want.pop(".keep", None)
                if got != want:
                    for rel in sorted(set(got) | set(want)):
                        if got.get(rel) != want.get(rel):
                            errs.append("%s differs:\n--- expected\n%s\n--- got\n%s" % (
                                rel, want.get(rel, ("", "(missing)"))[1], got.get(rel, ("", "(missing)"))[1]))
                if os.path.exists(os.path.join(cdir, "stdout")):
                    with open(os.path.join(cdir, "stdout"), encoding="utf-8") as f:
                        if f.read() != stdout:
                            errs.append("stdout differs:\n%s" % stdout)
            if errs:
                failed += 1
                print("FAIL %s" % case)
                for e in errs:
                    print("    " + e.replace("\n", "\n    "))
            else:
                passed += 1
                print("ok %s" % case)
    finally:
        shutil.rmtree(tmproot, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
