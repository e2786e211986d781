#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Conformance runner: podman's own Quadlet e2e corpus (v5.4.2) against unroot-quadlet.

Every MANIFEST.tsv row is laid out the upstream way and run in system and -user mode; the exit
code, the expected stderr substring and each `## assert-…` line of the file are checked
(docs/quadlet.md §6). Known failures live in xfail.txt ("[system:|user:]FILE reason"); the list
is strict: an unexpected failure and an unexpected pass both fail the run.

Exit 77 (skip) when the corpus is absent."""

import argparse
import csv
import io
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quadlet_testlib as T  # noqa: E402

EXEC_KEYS = {"podman": "ExecStart", "podman-pre": "ExecStartPre", "podman-stop": "ExecStop",
             "podman-stop-post": "ExecStopPost", "podman-reload": "ExecReload"}


class CheckError(Exception):
    pass


def kv_parse(s, sep):
    rd = csv.reader(io.StringIO(s), delimiter=sep)
    res = {}
    for row in rd:
        for field in row:
            k, _, v = field.partition("=")
            res[k] = v
    return res


def find_sublist(args, want, match):
    if not want:
        return False
    for i in range(len(args) - len(want) + 1):
        if all(match(args[i + j], want[j]) for j in range(len(want))):
            return True
    return False


def eq(a, b):
    return a == b


def rx(a, b):
    return re.search(b, a) is not None


def check_keyval(args, flag, sep, expected, regex):
    want = kv_parse(expected, sep)
    for i, a in enumerate(args):
        if a != flag or i + 1 >= len(args):
            continue
        got = kv_parse(args[i + 1], sep)
        if set(got) != set(want):
            continue
        if all((re.search(want[k], got[k]) is not None) if regex else got[k] == want[k] for k in want):
            return True
    return False


def eval_check(op, args, unit, stderr, unitdir):
    if op == "assert-failed":
        return True
    if op == "assert-stderr-contains":
        return args[0] in stderr
    if op == "assert-symlink":
        link = os.path.join(unitdir, args[0])
        if not os.path.islink(link):
            raise CheckError("symlink %s missing" % args[0])
        return os.readlink(link) == args[1]
    if unit is None:
        raise CheckError("check %s on a unit that was not generated" % op)
    if op == "assert-key-is":
        return unit.lookup_all(args[0], args[1]) == args[2:]
    if op == "assert-key-is-regex":
        vals = unit.lookup_all(args[0], args[1])
        return len(vals) == len(args) - 2 and all(re.search(r, v) for v, r in zip(vals, args[2:]))
    if op == "assert-has-key":
        return args[2] in unit.lookup_all(args[0], args[1])
    if op == "assert-key-is-empty":
        return unit.lookup_all(args[0], args[1]) == []
    if op == "assert-key-contains":
        return any(args[2] in v for v in unit.lookup_all(args[0], args[1]))
    if op == "assert-key-not-contains":
        return not any(args[2] in v for v in unit.lookup_all(args[0], args[1]))
    if op in ("assert-last-key-contains", "assert-last-key-not-contains", "assert-last-key-is-regex"):
        # upstream reads the raw last line here (LookupLast), so an empty reset value counts
        last = unit.lookup_last(args[0], args[1])
        if op == "assert-last-key-contains":
            return last is not None and args[2] in last
        if op == "assert-last-key-not-contains":
            return not (last is not None and args[2] in last)
        return last is not None and re.search(args[2], last) is not None
    m = re.match(r"^assert-(podman(?:-pre|-stop-post|-stop|-reload)?)-(.*)$", op)
    if m and m.group(1) in EXEC_KEYS:
        key = EXEC_KEYS[m.group(1)]
        form = m.group(2)
        last = unit.lookup_last("Service", key)
        try:
            cmd = T.split_exec(last) if last is not None else []
        except ValueError:
            cmd = []
        if form in ("args", "args-regex"):
            return find_sublist(cmd, args, rx if form.endswith("regex") else eq)
        if form in ("final-args", "final-args-regex"):
            if not args or len(args) > len(cmd):
                return False
            tail = cmd[len(cmd) - len(args):]
            f = rx if form.endswith("regex") else eq
            return all(f(a, b) for a, b in zip(tail, args))
        if form.startswith("global-args"):
            if len(args) < 1 or args[0] not in cmd:
                return False
            head = cmd[:cmd.index(args[0])]
            rest = args[1:]
            if form in ("global-args", "global-args-regex"):
                return find_sublist(head, rest, rx if form.endswith("regex") else eq)
            if form in ("global-args-key-val", "global-args-key-val-regex"):
                return check_keyval(head, rest[0], rest[1], rest[2], form.endswith("regex"))
        if form in ("args-key-val", "args-key-val-regex"):
            return check_keyval(cmd, args[0], args[1], args[2], form.endswith("regex"))
    raise CheckError("unknown operator %s" % op)


def collect_checks(path):
    checks = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("##"):
                words = T.shellwords(line[2:])
                if not words:
                    continue
                words = [w.replace("\\n", "\n").replace("\\t", "\t") for w in words]
                checks.append((line.rstrip("\n"), words))
    return checks


WAIT_PODMAN = "podman-user-wait-network-online.service"
WAIT_UNROOT = "unroot-wait-online.service"


def run_case(unroot, corpus, row, user, tmproot, podman_version):
    e2e, qdir, gdir = T.layout_case(corpus, row, tmproot)
    try:
        argv = [unroot, "--podman-version", podman_version]
        code, _, stderr = T.run_generator(argv, qdir, gdir, user)
        errors = []
        if code != row["exit"]:
            errors.append("exit code %d, expected %d; stderr: %s" % (code, row["exit"], stderr.strip()[:300]))
        if row["stderr"] and row["stderr"] not in stderr:
            errors.append("stderr lacks %r; got %r" % (row["stderr"], stderr.strip()[:300]))
        checks = collect_checks(os.path.join(qdir, row["file"]))
        if user and tuple(int(x) for x in podman_version.split(".")[:2]) < (5, 3):
            # Deliberate: below 5.3 user units wait for unroot's own unroot-wait-online.service in
            # place of podman's helper unit (docs/unroot-quadlet.md); everything else is checked.
            checks = [(t.replace(WAIT_PODMAN, WAIT_UNROOT), [w.replace(WAIT_PODMAN, WAIT_UNROOT) for w in ws])
                      for t, ws in checks]
        expect_failed = any(w[0] == "assert-failed" for _, w in checks)
        svc = os.path.join(gdir, T.service_name(row))
        unit = None
        if expect_failed:
            if os.path.exists(svc):
                errors.append("unit %s generated although assert-failed" % os.path.basename(svc))
        else:
            if not os.path.exists(svc):
                errors.append("unit %s not generated; stderr: %s" % (os.path.basename(svc), stderr.strip()[:300]))
                return errors
            with open(svc, encoding="utf-8") as f:
                unit = T.parse_unit(f.read())
        for text, words in checks:
            op, args = words[0], words[1:]
            neg = op.startswith("!")
            if neg:
                op = op[1:]
            try:
                ok = eval_check(op, args, unit, stderr, gdir)
            except CheckError as e:
                errors.append("%s: %s" % (text, e))
                continue
            except (IndexError, re.error) as e:
                errors.append("%s: malformed check (%s)" % (text, e))
                continue
            if ok == neg:
                errors.append("failed: %s" % text)
        return errors
    finally:
        shutil.rmtree(e2e, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unroot", required=True)
    ap.add_argument("--corpus", default="")
    ap.add_argument("--xfail", default="")
    ap.add_argument("--mode", choices=["system", "user", "both"], default="both")
    ap.add_argument("--podman-version", default="5.4")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()

    if not a.corpus or not os.path.isfile(os.path.join(a.corpus, "MANIFEST.tsv")):
        print("SKIP: Quadlet corpus not found at %r (set -Dquadlet-corpus=)" % a.corpus)
        return 77

    rows = T.load_manifest(a.corpus)
    if a.cases:
        rows = [r for r in rows if r["file"] in a.cases]
    xfail = T.read_xfail(a.xfail)
    modes = ["system", "user"] if a.mode == "both" else [a.mode]
    tmproot = tempfile.mkdtemp(prefix="unroot-quadlet-corpus-")
    passed = failed = xfailed = xpassed = 0
    try:
        for mode in modes:
            for row in rows:
                name = "%s:%s" % (mode, row["file"])
                errs = run_case(a.unroot, a.corpus, row, mode == "user", tmproot, a.podman_version)
                xf = xfail.get(name, xfail.get(row["file"]))
                if errs and xf is not None:
                    xfailed += 1
                    if a.verbose:
                        print("XFAIL %s (%s)" % (name, xf))
                elif errs:
                    failed += 1
                    print("FAIL %s" % name)
                    for e in errs:
                        print("    " + e)
                elif xf is not None:
                    xpassed += 1
                    print("XPASS %s: listed in xfail.txt (%s) but passes; remove it" % (name, xf))
                else:
                    passed += 1
                    if a.verbose:
                        print("PASS %s" % name)
    finally:
        shutil.rmtree(tmproot, ignore_errors=True)
    print("%d passed, %d failed, %d xfail, %d xpass" % (passed, failed, xfailed, xpassed))
    return 1 if failed or xpassed else 0


if __name__ == "__main__":
    sys.exit(main())
