#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Differential runner: podman 5.4.2's real quadlet generator against unroot-quadlet on every
corpus case, in system and -user mode.

Both generators run on the same source directory. Compared: exit code, the set of generated
files and symlinks (with targets), and each unit section by section, key by key, in order.
Comments are ignored. Exec lines compare word by word; when podman itself emits flags in Go map
order (docs/quadlet.md §4.1 items 7-9 and 18) the words compare as a multiset instead.

The oracle comes from ../shared/tools/quadlet-oracle (cached in $QUADLET_ORACLE_CACHE); if it
cannot be fetched, or the corpus is absent, the test is skipped (exit 77)."""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quadlet_testlib as T  # noqa: E402


def snapshot(gdir):
    files, links = {}, {}
    for root, dirs, names in os.walk(gdir):
        for n in dirs + names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, gdir)
            if os.path.islink(p):
                links[rel] = os.readlink(p)
            elif os.path.isfile(p):
                with open(p, encoding="utf-8", errors="replace") as f:
                    files[rel] = f.read()
    return files, links


def compare_units(a, b):
    """a: oracle text, b: ours. Returns a list of differences."""
    ua, ub = T.parse_unit(a), T.parse_unit(b)
    diffs = []
    ga = [g[0] for g in ua.groups if g[1] or g[0]]
    gb = [g[0] for g in ub.groups if g[1] or g[0]]
    if ga != gb:
        diffs.append("groups %s vs %s" % (ga, gb))
    for name in ga:
        la = ua.by_name[name][1]
        lb = ub.by_name.get(name, (name, []))[1]
        if len(la) != len(lb):
            diffs.append("[%s]: %d lines vs %d" % (name, len(la), len(lb)))
        for (ka, va), (kb, vb) in zip(la, lb):
            if ka != kb:
                diffs.append("[%s] key %s vs %s" % (name, ka, kb))
                continue
            if va == vb:
                continue
            if ka.startswith("Exec"):
                try:
                    wa, wb = T.split_exec(va), T.split_exec(vb)
                except ValueError:
                    wa, wb = [va], [vb]
                if collections.Counter(wa) == collections.Counter(wb) and wa[0] == wb[0]:
                    continue   # same words; order differs only where podman iterates a map
            diffs.append("[%s] %s=\n      podman: %s\n      unroot: %s" % (name, ka, va, vb))
    return diffs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unroot", required=True)
    ap.add_argument("--corpus", default="")
    ap.add_argument("--oracle-tool", default="")
    ap.add_argument("--oracle", default="", help="path of podman's quadlet binary (skips the tool)")
    ap.add_argument("--xfail", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()

    if not a.corpus or not os.path.isfile(os.path.join(a.corpus, "MANIFEST.tsv")):
        print("SKIP: Quadlet corpus not found at %r" % a.corpus)
        return 77
    oracle = a.oracle
    if not oracle:
        if not a.oracle_tool or not os.access(a.oracle_tool, os.X_OK):
            print("SKIP: quadlet-oracle tool not found at %r" % a.oracle_tool)
            return 77
        p = subprocess.run([a.oracle_tool], capture_output=True, text=True)
        if p.returncode != 0 or not p.stdout.strip():
            print("SKIP: quadlet-oracle failed: %s" % p.stderr.strip())
            return 77
        oracle = p.stdout.strip()
    if not os.access(oracle, os.X_OK):
        print("SKIP: oracle %r is not executable" % oracle)
        return 77

    rows = T.load_manifest(a.corpus)
    if a.cases:
        rows = [r for r in rows if r["file"] in a.cases]
    xfail = T.read_xfail(a.xfail)
    tmproot = tempfile.mkdtemp(prefix="unroot-quadlet-diff-")
    same = differ = xfailed = xpassed = exact = 0
    try:
        for mode in ("system", "user"):
            for row in rows:
                name = "%s:%s" % (mode, row["file"])
                e2e, qdir, gdir = T.layout_case(a.corpus, row, tmproot)
                odir = gdir + "-oracle"
                os.makedirs(odir)
                oc, _, oerr = T.run_generator([oracle], qdir, odir, mode == "user")
                uc, _, uerr = T.run_generator([a.unroot, "--podman-version", "5.4"], qdir, gdir, mode == "user")
                diffs = []
                if oc != uc:
                    diffs.append("exit code podman %d, unroot %d (%s)" % (oc, uc, uerr.strip()[:200]))
                of, ol = snapshot(odir)
                uf, ul = snapshot(gdir)
                if sorted(of) != sorted(uf):
                    diffs.append("files podman %s, unroot %s" % (sorted(of), sorted(uf)))
                if ol != ul:
                    diffs.append("symlinks podman %s, unroot %s" % (ol, ul))
                byte_same = sorted(of) == sorted(uf)
                for fn in sorted(set(of) & set(uf)):
                    # byte for byte apart from line 1 ("# Automatically generated by <argv0>")
                    if of[fn].split("\n", 1)[1:] != uf[fn].split("\n", 1)[1:]:
                        byte_same = False
                    for d in compare_units(of[fn], uf[fn]):
                        diffs.append("%s: %s" % (fn, d))
                shutil.rmtree(e2e, ignore_errors=True)
                xf = xfail.get(name, xfail.get(row["file"]))
                if diffs and xf is not None:
                    xfailed += 1
                elif diffs:
                    differ += 1
                    print("DIFF %s" % name)
                    for d in diffs:
                        print("    " + d)
                elif xf is not None:
                    xpassed += 1
                    print("XPASS %s: listed in xfail (%s) but identical; remove it" % (name, xf))
                else:
                    same += 1
                    exact += byte_same
                    if a.verbose and not byte_same:
                        print("SAME %s (flag order differs where podman iterates a Go map)" % name)
                    elif a.verbose:
                        print("SAME %s" % name)
        # The whole corpus in one source directory: conversion order among units of the same
        # type (podman's Go sort), which unit wins a service-name clash, and stderr must match too.
        if not a.cases:
            for mode in ("system", "user"):
                name = "%s:<whole corpus>" % mode
                src = os.path.join(tmproot, "all-src")
                shutil.rmtree(src, ignore_errors=True)
                shutil.copytree(a.corpus, src, ignore=shutil.ignore_patterns("MANIFEST.tsv", "SOURCE.md"))
                odir, udir = os.path.join(tmproot, "all-o"), os.path.join(tmproot, "all-u")
                for d in (odir, udir):
                    shutil.rmtree(d, ignore_errors=True)
                    os.makedirs(d)
                oc, _, oerr = T.run_generator([oracle], src, odir, mode == "user")
                uc, _, uerr = T.run_generator([a.unroot, "--podman-version", "5.4"], src, udir, mode == "user")
                diffs = []
                norm = lambda e: re.sub(r"quadlet-generator\[\d+\]", "quadlet-generator", e)
                if oc != uc:
                    diffs.append("exit code podman %d, unroot %d" % (oc, uc))
                if norm(oerr) != norm(uerr):
                    diffs.append("stderr differs:\n      podman: %s\n      unroot: %s" % (norm(oerr), norm(uerr)))
                of, ol = snapshot(odir)
                uf, ul = snapshot(udir)
                if sorted(of) != sorted(uf) or ol != ul:
                    diffs.append("file or symlink sets differ")
                for fn in sorted(set(of) & set(uf)):
                    for d in compare_units(of[fn], uf[fn]):
                        diffs.append("%s: %s" % (fn, d))
                if diffs:
                    differ += 1
                    print("DIFF %s" % name)
                    for d in diffs:
                        print("    " + d)
                else:
                    same += 1
                    if a.verbose:
                        print("SAME %s" % name)
    finally:
        shutil.rmtree(tmproot, ignore_errors=True)
    print("%d identical (%d byte for byte), %d differ, %d xfail, %d xpass" % (same, exact, differ, xfailed, xpassed))
    return 1 if differ or xpassed else 0


if __name__ == "__main__":
    sys.exit(main())
