#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attacker loops for shift-race.sh (helper-anchors.md §5.5), run as the user who owns the tree
# (hardlink: as root, standing in for a user on a host with fs.protected_hardlinks=0).
# Loops at least MIN times and until STOPFILE exists; prints the iteration count.
#   symlink  DIR TARGET: DIR/slot flips between a regular file and a symlink to TARGET (rename over)
#   exchange DIR TARGET: DIR/sub (a directory of files) and DIR/sublink (a symlink to TARGET) swap
#                        places with renameat2(RENAME_EXCHANGE)
#   hardlink DIR TARGET: DIR/hl is a hardlink to TARGET, then gone, then back
# usage: shift-racer.py MODE DIR TARGET MIN STOPFILE
import ctypes, os, sys

mode, d, target, minimum, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE = 2
AT_FDCWD = -100

def quiet(f, *a):
    try:
        f(*a)
    except OSError:
        pass

n = 0
if mode == "exchange":
    sub, link = os.path.join(d, "sub"), os.path.join(d, "sublink")
    if not os.path.isdir(sub):
        os.mkdir(sub)
        # a shift already running may take sub from us between these (seen once in 30 runs)
        for i in range(20):
            quiet(lambda: open(os.path.join(sub, "f%d" % i), "w").close())
    quiet(os.symlink, target, link)
while n < minimum or not os.path.exists(stop):
    if mode == "symlink":
        f, l, slot = os.path.join(d, "f.tmp"), os.path.join(d, "l.tmp"), os.path.join(d, "slot")
        quiet(lambda: open(f, "w").close())
        quiet(os.rename, f, slot)
        quiet(os.symlink, target, l)
        quiet(os.rename, l, slot)
    elif mode == "exchange":
        libc.renameat2(AT_FDCWD, sub.encode(), AT_FDCWD, link.encode(), RENAME_EXCHANGE)
    elif mode == "hardlink":
        hl = os.path.join(d, "hl")
        quiet(os.link, target, hl)
        quiet(os.unlink, hl)
    n += 1
print(n)
