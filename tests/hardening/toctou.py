#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Client for toctou.sh: sends request A, then, while polkit is still deciding about A (the test's
# rule sleeps 2 s), request B on the same connection; prints what came back and when.
# usage: toctou.py SOCKET NAME_A COUNT_A NAME_B COUNT_B
#   → "status=S name=N subuid_count=C b_sent_at=T reply_at=T second=none|<n> bytes"
import os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperproto import STATUS, enroll, decode

path, name_a, count_a, name_b, count_b = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4].encode(), int(sys.argv[5])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(60)
s.connect(path)
t0 = time.monotonic()
s.send(enroll(name_a, count_a))
time.sleep(0.7)
try:
    s.send(enroll(name_b, count_b))
    b_at = time.monotonic() - t0
except OSError as e:
    b_at = -1
r = s.recv(1 << 17)
reply_at = time.monotonic() - t0
s.settimeout(2)
try:
    second = s.recv(1 << 17)
except socket.timeout:
    second = None
s.close()
m = decode(r) if r else {}
res = decode(m[10]) if 10 in m else {}
print('status=%s name=%s subuid_count=%s b_sent_at=%.2f reply_at=%.2f second=%s message=%r' % (
    STATUS.get(m.get(1), m.get(1)), res.get(1, b'-').decode(), res.get(6, '-'), b_at, reply_at,
    'none' if not second else '%d bytes' % len(second), m.get(2, b'').decode('utf-8', 'replace')))
