#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Raw-frame client for bad-input.sh: sends every case of helper-anchors.md §5.1 (names), §5.2
# (range arithmetic) and §5.7 (frames, varints, structure, strings) to the real helper's socket as
# one SOCK_SEQPACKET datagram, decodes the HelperReply by hand, and checks that the reply is a
# refusal (never CHANGED/UNCHANGED) whose `field` or message names the expected field. Protobuf is
# encoded and decoded by hand so that malformed wire data can be made. The caller checks /etc.
# usage: bad-input.py SOCKET  → prints PASS/FAIL lines, exit 1 on any FAIL
import os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helperproto import FRAME_REQUEST_MAX, STATUS, varint, key, vi, ld, enroll, unenroll, decode
import helperproto

sock_path = sys.argv[1]
def send(frame, timeout=30):
    return helperproto.send(sock_path, frame, timeout)

PASS = FAIL = 0
def check(desc, frame, field, refuse=('INVALID', 'CONFLICT')):
    global PASS, FAIL
    r, err = send(frame)
    if r is None or len(r) == 0:
        FAIL += 1; print('FAIL: %s: no reply (%s)' % (desc, err or 'EOF')); return
    m = decode(r)
    st = STATUS.get(m.get(1), m.get(1))
    msg = m.get(2, b'').decode('utf-8', 'replace'); fld = m.get(3, b'').decode('utf-8', 'replace')
    ok = st in refuse and (field is None or fld == field or ("'%s'" % field) in msg or field in msg)
    if ok:
        PASS += 1; print('PASS: %s → %s field=%r' % (desc, st, fld))
    else:
        FAIL += 1; print('FAIL: %s → %s field=%r message=%r (wanted %s naming %r)' % (desc, st, fld, msg, '/'.join(refuse), field))

# §5.1 names
for n, why in [(b'root', 'reserved'), (b'daemon', 'reserved'), (b'nobody', 'reserved'), (b'alice', 'human user')]:
    check('enroll %s (%s)' % (n.decode(), why), enroll(n), 'name')
for n in [b'../x', b'a/b', b'.', b'..', b'123', b'-x', b'-1', b'Upper', b'a.b', b'foo$', 'Ünïcode'.encode(),
          b'\xff', b'\xc0\xaf', 'a\u202eb'.encode(), 'a\u200db'.encode(), b'a:b', b'a,b', b'a b', b'a\nb',
          b'a\tb', b'a\x00b', b'a' * 32, b'a' * 33, b'a' * (FRAME_REQUEST_MAX - 64), b'']:
    check('enroll name %r' % (n[:20] + (b'...' if len(n) > 20 else b'')), enroll(n), 'name')
# privileged and system groups: a name equal to one would make the helper add members to it
# (confused deputy), so they are reserved like the users
for n in [b'sudo', b'adm', b'shadow', b'disk', b'docker', b'systemd-journal', b'root', b'unroot-accounts',
          b'unroot-admins', b'systemd-network']:
    check('enroll %s (system group)' % n.decode(), enroll(n), 'name')
check('unenroll name ../x', unenroll(b'../x'), 'name')
check('unenroll name a\\0b', unenroll(b'a\x00b'), 'name')
check('unenroll root', unenroll(b'root'), 'name', refuse=('INVALID', 'CONFLICT', 'NOT_FOUND'))
check('enroll without name (required field absent)', vi(1, 1) + ld(10, vi(2, 65536)), None)
# §5.2 arithmetic on the requested count
for c in [0, 1 << 31, (1 << 32) - 1, 1 << 32, (1 << 64) - 1]:
    check('enroll subid_count=%d' % c, enroll(b'container-ok', c), 'subid_count')
# §5.7 frames
# a 0-byte SEQPACKET datagram reads as EOF (recv returns 0): closing without a reply is right
r, err = send(b'')
if not r:
    PASS += 1; print('PASS: 0-byte frame → connection closed without a reply (indistinguishable from EOF)')
else:
    FAIL += 1; print('FAIL: 0-byte frame got a reply %r' % r[:60])
check('1-byte frame', b'\x08', None)
pad = lambda total: enroll(b'container-ok', extra=ld(99, b'x' * (total - len(enroll(b'container-ok')) - 4)))
for total in (FRAME_REQUEST_MAX - 1, FRAME_REQUEST_MAX, FRAME_REQUEST_MAX + 1, 64 * 1024):
    f = pad(total)
    check('%d-byte frame (with an unknown field)' % len(f), f, None)
check('length prefix 0xFFFFFFFF', vi(1, 1) + key(10, 2) + b'\xff\xff\xff\xff\x0f' + ld(1, b'svc'), None)
check('truncated frame', enroll(b'container-ok')[:-3], None)
check('11-byte varint', b'\x08' + b'\xff' * 10 + b'\x01' + ld(10, ld(1, b'container-ok')), None)
check('varint 2^64-1 in uint32 version', vi(1, (1 << 64) - 1) + ld(10, ld(1, b'container-ok')), None)
check('version 2', enroll(b'container-ok', version=2), 'version', refuse=('INVALID',))
check('wire-type mismatch', key(1, 2) + varint(1) + b'\x01' + ld(10, ld(1, b'container-ok')), None)
check('unknown top-level field', enroll(b'container-ok') + vi(99, 1), None)
check('unknown field in enroll', enroll(b'container-ok', extra=vi(77, 5)), None)
check('name repeated 10k times', vi(1, 1) + ld(10, ld(1, b'container-ok') * 10000), None)
check('no oneof member', vi(1, 1), None)
check('two oneof members, bad one last', vi(1, 1) + ld(10, ld(1, b'container-ok')) + ld(11, ld(1, b'../x')), 'name')
check('two oneof members, bad one first', vi(1, 1) + ld(11, ld(1, b'../x')) + ld(10, ld(1, b'Bad')), 'name')
check('enroll with a negative count varint', enroll(b'container-ok', -1), 'subid_count')
# bool and enum-like values out of range: interactive=999 is not a proto2 bool the schema allows
check('interactive=999', vi(1, 1) + vi(2, 999) + ld(10, ld(1, b'Bad')), None)
check('interactive=2^64-1', vi(1, 1) + vi(2, (1 << 64) - 1) + ld(10, ld(1, b'../x')), None)
check('garbage', bytes(range(256)) * 4, None)
# sequencing: a second request on the same connection gets nothing (one request per connection)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(30); s.connect(sock_path)
s.send(enroll(b'../x')); first = s.recv(1 << 17)
try:
    s.send(enroll(b'../y')); second = s.recv(1 << 17)
except OSError:
    second = b''
s.close()
if first and STATUS.get(decode(first).get(1)) == 'INVALID' and not second:
    PASS += 1; print('PASS: a second request on the same connection is not served')
else:
    FAIL += 1; print('FAIL: sequencing: first=%r second=%r' % (first[:60], second[:60]))
# the client closing before the reply: the helper must not crash or touch anything (caller checks /etc)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sock_path); s.send(enroll(b'../z')); s.close()
time.sleep(0.3)
print('%d passed, %d failed' % (PASS, FAIL))
sys.exit(1 if FAIL else 0)
