# SPDX-License-Identifier: LGPL-2.1-or-later
# Hand-made protobuf for the helper's wire format (proto/helper.proto), so that tests can build
# malformed frames: encoders, a HelperReply decoder, and one-datagram request/reply over the socket.
import socket

FRAME_REQUEST_MAX = 16 * 1024
STATUS = {0: 'CHANGED', 1: 'UNCHANGED', 2: 'INVALID', 3: 'DENIED', 4: 'AUTH_REQUIRED', 5: 'CONFLICT',
          6: 'NOT_FOUND', 7: 'FAILED', 8: 'BUSY', 9: 'CANCELLED'}
def varint(n):
    n &= (1 << 64) - 1
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def key(f, wt): return varint(f << 3 | wt)
def vi(f, n): return key(f, 0) + varint(n)
def ld(f, d): return key(f, 2) + varint(len(d)) + d
def enroll(name, count=None, version=1, extra=b''):
    return vi(1, version) + ld(10, ld(1, name) + (vi(2, count) if count is not None else b'') + extra)
def unenroll(name, purge=None):
    return vi(1, 1) + ld(11, ld(1, name) + (vi(2, int(purge)) if purge is not None else b''))

def decode(buf):
    out, i = {}, 0
    def rv():
        nonlocal i
        n = s = 0
        while True:
            b = buf[i]; i += 1
            n |= (b & 0x7f) << s; s += 7
            if not b & 0x80:
                return n
    while i < len(buf):
        k = rv(); f, wt = k >> 3, k & 7
        if wt == 0:
            out[f] = rv()
        elif wt == 2:
            n = rv(); out.setdefault(f, buf[i:i + n]) if f == 4 else out.__setitem__(f, buf[i:i + n]); i += n
        else:
            raise ValueError('wire type %d' % wt)
    return out

def send(sock_path, frame, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        s.send(frame)
    except OSError as e:  # the helper may close a too-big datagram's connection first
        return None, 'send: %s' % e
    try:
        r = s.recv(1 << 17)
    except OSError as e:
        return None, 'recv: %s' % e
    finally:
        s.close()
    return r, None

