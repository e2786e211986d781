# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the Quadlet test runners: an independent Python port of podman's unit-file
parser and word splitting (docs/quadlet.md §2), go-shellwords tokenising (§6.3), the corpus
manifest and the upstream test-directory layout (§6.1)."""

import os
import re
import shutil
import subprocess
import tempfile

SUPPORTED_EXT = (".container", ".volume", ".network", ".kube", ".image", ".build", ".pod")
SUFFIX = {".container": "", ".kube": "", ".volume": "-volume", ".network": "-network",
          ".image": "-image", ".build": "-build", ".pod": "-pod", ".artifact": "-artifact"}


# ---------------------------------------------------------------- output trees

def snapshot_tree(d, file_value):
    """Every link and file below d by relative path: ("link", target) or ("file",
    file_value(path)). For comparing a generator's output directory."""
    res = {}
    for root, dirs, names in os.walk(d):
        for n in dirs + names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, d)
            if os.path.islink(p):
                res[rel] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                res[rel] = ("file", file_value(p))
    return res


# ---------------------------------------------------------------- unit files

class Unit:
    def __init__(self):
        self.groups = []          # [(name, [(key, value)])] in order
        self.by_name = {}

    def group(self, name):
        if name not in self.by_name:
            g = (name, [])
            self.groups.append(g)
            self.by_name[name] = g
        return self.by_name[name]

    def lookup_all(self, group, key):
        g = self.by_name.get(group)
        vals = []
        if not g:
            return vals
        for k, v in g[1]:
            if k == key:
                if v == "":
                    vals = []
                else:
                    vals.append(v)
        return vals

    def lookup_last(self, group, key):
        g = self.by_name.get(group)
        if not g:
            return None
        last = None
        for k, v in g[1]:
            if k == key:
                last = v
        return last


def parse_unit(text):
    u = Unit()
    if text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n")
    remaining = ""
    cur = None
    for i, line in enumerate(lines):
        line = line.strip()
        is_comment = line == "" or line[0] in "#;"
        if is_comment:
            if remaining != "":
                continue
            continue
        if line.endswith("\\"):
            line = line[:-1]
            if i != len(lines) - 1:
                remaining += line
                continue
        if remaining != "":
            line = remaining + line
            remaining = ""
        if line.startswith("[") and "]" in line and line[line.index("]") + 1:].strip(" \t") == "":
            cur = u.group(line[1:line.index("]")])
            continue
        if "=" in line and line.index("=") > 0:
            if cur is None:
                raise ValueError("key file does not start with a group")
            k, v = line.split("=", 1)
            cur[1].append((k.rstrip(), v.lstrip()))
            continue
        raise ValueError("line %d: %r" % (i + 1, line))
    return u


_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
        "\\": "\\", '"': '"', "'": "'", "s": " "}


def _cunescape_one(s, p):
    """Returns (consumed, char) or (-1, None); s[p] is the char after the backslash."""
    c = s[p] if p < len(s) else ""
    if c in _ESC:
        return 1, _ESC[c]
    hexd = "0123456789abcdefABCDEF"
    if c == "x":
        h = s[p + 1:p + 3]
        if len(h) < 2 or any(ch not in hexd for ch in h) or int(h, 16) == 0:
            return -1, None
        return 3, chr(int(h, 16))
    if c in ("u", "U"):
        n = 4 if c == "u" else 8
        h = s[p + 1:p + 1 + n]
        if len(h) < n or any(ch not in hexd for ch in h):
            return -1, None
        v = int(h, 16)
        if v == 0 or v > 0x10FFFF:
            return -1, None
        return n + 1, chr(v)
    if c and c in "01234567":
        o = s[p:p + 3]
        if len(o) < 3 or any(ch not in "01234567" for ch in o):
            return -1, None
        v = int(o, 8)
        if v == 0 or v > 255:
            return -1, None
        return 3, chr(v)
    return -1, None


def split_exec(s):
    """Exec-style split (SplitRelax|SplitUnquote|SplitCUnescape). Raises ValueError on a bad escape."""
    words = []
    p, n = 0, len(s)
    sep = " \t\n\r"
    while True:
        while p < n and s[p] in sep:
            p += 1
        if p >= n:
            break
        w = []
        quote = None
        while p < n:
            c = s[p]
            if quote:
                if c == quote:
                    quote = None
                    p += 1
                    continue
                if c == "\\":
                    if p + 1 >= n:
                        p += 1
                        break
                    k, ch = _cunescape_one(s, p + 1)
                    if k < 0:
                        raise ValueError("unsupported escape char")
                    w.append(ch)
                    p += 1 + k
                    continue
                w.append(c)
                p += 1
                continue
            if c in "'\"":
                quote = c
                p += 1
                continue
            if c == "\\":
                if p + 1 >= n:
                    p += 1
                    break
                k, ch = _cunescape_one(s, p + 1)
                if k < 0:
                    raise ValueError("unsupported escape char")
                w.append(ch)
                p += 1 + k
                continue
            if c in sep:
                break
            w.append(c)
            p += 1
        if not w:
            break   # upstream stops at an empty word
        words.append("".join(w))
    return words


# ---------------------------------------------------------------- go-shellwords

def shellwords(line):
    words, buf, got = [], [], False
    i, n = 0, len(line)
    sq = dq = esc = False
    while i < n:
        c = line[i]
        if esc:
            buf.append({"t": "\t", "n": "\n"}.get(c, c) if not dq else {"t": "\t", "n": "\n"}.get(c, c))
            esc, got = False, True
            i += 1
            continue
        if c == "\\" and not sq:
            esc = True
            i += 1
            continue
        if c in " \t\r\n" and not sq and not dq:
            if got:
                words.append("".join(buf))
            buf, got = [], False
            i += 1
            continue
        if c == "'" and not dq:
            sq = not sq
            i += 1
            if not sq and not buf:
                pass
            continue
        if c == '"' and not sq:
            dq = not dq
            i += 1
            continue
        if not sq and not dq and c in ";&|<>":
            break
        buf.append(c)
        got = True
        i += 1
    if got:
        words.append("".join(buf))
    return words


# ---------------------------------------------------------------- corpus

def load_manifest(corpus):
    rows = []
    with open(os.path.join(corpus, "MANIFEST.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            file, mode, code, stderr, svc, deps = (parts + ["-"] * 6)[:6]
            rows.append({
                "file": file, "mode": mode, "exit": int(code),
                "stderr": "" if stderr == "-" else stderr,
                "service": None if svc == "-" else svc,
                "deps": [] if deps == "-" else deps.split(","),
            })
    return rows


def service_name(row):
    f = row["file"]
    base, ext = os.path.splitext(f)
    name = row["service"] or (base + SUFFIX.get(ext, ""))
    return name + ".service"


def layout_case(corpus, row, tmproot):
    """Lays the case out as upstream does: <tmp>/podman-e2e-*/subtest-*/{quadlet,generated}."""
    e2e = tempfile.mkdtemp(prefix="podman-e2e-", dir=tmproot)
    sub = tempfile.mkdtemp(prefix="subtest-", dir=e2e)
    qdir = os.path.join(sub, "quadlet")
    gdir = os.path.join(sub, "generated")
    os.makedirs(qdir)
    os.makedirs(gdir)
    f = row["file"]
    for name in [f] + row["deps"]:
        shutil.copy(os.path.join(corpus, name), os.path.join(qdir, name))
    dropins = [f + ".d"]
    base, ext = os.path.splitext(f)
    if "@" in base:
        tmpl = base.split("@", 1)[0] + "@" + ext + ".d"
        if tmpl not in dropins:
            dropins.append(tmpl)
    for d in dropins:
        src = os.path.join(corpus, d)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(qdir, d))
    return e2e, qdir, gdir


def run_generator(argv, qdir, gdir, user, extra_env=None, timeout=30):
    env = dict(os.environ)
    env["QUADLET_UNIT_DIRS"] = qdir
    env.pop("PODMAN", None)
    if extra_env:
        env.update(extra_env)
    cmd = list(argv) + (["-user"] if user else []) + ["-no-kmsg-log", gdir]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def read_xfail(path):
    xf = {}
    if not path or not os.path.exists(path):
        return xf
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            xf[parts[0]] = parts[1] if len(parts) > 1 else ""
    return xf
