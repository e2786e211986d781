#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Generates the benchmark tree: 100 x 20 directories, 100 empty files each (200,000 files, 2,101
# directories), owned like a root container's volume: mostly container root, a database's uid 999
# in every tenth directory. usage: gen-tree.py DIR
import os, sys
top = sys.argv[1]
os.makedirs(top)
for i in range(100):
    for j in range(20):
        d = os.path.join(top, f"d{i:03}", f"s{j:02}")
        os.makedirs(d)
        owner = 999 if j % 10 == 0 else 0
        for k in range(100):
            p = os.path.join(d, f"f{k:03}")
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
            if owner:
                os.chown(p, owner, owner)
