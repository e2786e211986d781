#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Snapshot of a tree for the shift tests: one line per inode, sorted by path:
#   path uid gid mode(octal) type nlink acl default-acl capability
# (xattrs as hex, "-" if absent). Symlinks are not followed; mount points are listed but not entered.
# usage: shift-snap.py [--no-nlink] DIR...
import os, stat, sys

def x(path, name):
    try:
        return os.getxattr(path, name, follow_symlinks=False).hex()
    except OSError:
        return "-"

def line(path, rel, nlink):
    st = os.lstat(path)
    t = stat.S_IFMT(st.st_mode)
    kind = {stat.S_IFDIR: "d", stat.S_IFREG: "f", stat.S_IFLNK: "l", stat.S_IFIFO: "p"}.get(t, "?")
    n = str(st.st_nlink) if nlink and kind != "d" else "-"
    return " ".join([rel.encode("unicode_escape").decode(), str(st.st_uid), str(st.st_gid),
                     "%o" % stat.S_IMODE(st.st_mode), kind, n, x(path, "system.posix_acl_access"),
                     x(path, "system.posix_acl_default"), x(path, "security.capability")])

args = sys.argv[1:]
nlink = True
if args and args[0] == "--no-nlink":
    nlink = False
    args = args[1:]
out = []
for top in args:
    out.append(line(top, top, nlink))
    for dirpath, dirs, files in os.walk(top):
        keep = []
        for d in dirs:
            p = os.path.join(dirpath, d)
            out.append(line(p, p, nlink))
            if not os.path.ismount(p):
                keep.append(d)
        dirs[:] = keep
        for f in files:
            p = os.path.join(dirpath, f)
            out.append(line(p, p, nlink))
for l in sorted(out):
    print(l)
