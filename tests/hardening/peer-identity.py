#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Peer identity against the real helper (helper-anchors.md §5.6; issue 6 part 5). The process that
# connect()s is the one SO_PEERCRED/SO_PEERPIDFD name, so:
#  1. a child connects and exits (reaped) before the request is sent; the parent, which got the
#     socket through SCM_RIGHTS, sends a valid enroll: must be DENIED, nothing changes;
#  2. same, but the child is still alive and merely passed the socket on: the helper authorizes
#     the connecting process (root here), so this must succeed — the control case showing that (1)
#     is denied because the peer went away, not because of SCM_RIGHTS;
#  3. the caller closes right after sending (never reads): no crash, nothing half-done (the shell
#     side checks /etc).
# usage: peer-identity.py SOCKET NAME1 NAME2 NAME3
import array, os, socket, sys, time

sock_path, n1, n2, n3 = sys.argv[1:5]
STATUS = {0: 'CHANGED', 1: 'UNCHANGED', 2: 'INVALID', 3: 'DENIED', 4: 'AUTH_REQUIRED', 5: 'CONFLICT',
          6: 'NOT_FOUND', 7: 'FAILED', 8: 'BUSY', 9: 'CANCELLED'}
def varint(n):
    out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def ld(f, d): return varint(f << 3 | 2) + varint(len(d)) + d
def enroll(name): return b'\x08\x01' + ld(10, ld(1, name.encode()))
def reply(buf):
    i, out = 0, {}
    while i < len(buf):
        k = buf[i]; i += 1
        if k & 7 == 0:
            v = s = 0
            while True:
                b = buf[i]; i += 1; v |= (b & 0x7f) << s; s += 7
                if not b & 0x80: break
            out[k >> 3] = v
        else:
            n = s = 0
            while True:
                b = buf[i]; i += 1; n |= (b & 0x7f) << s; s += 7
                if not b & 0x80: break
            out.setdefault(k >> 3, buf[i:i + n]); i += n
    return STATUS.get(out.get(1)), out.get(2, b'').decode('utf-8', 'replace')

def connect_in_child(stay_alive):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        a.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sock_path)
        b.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [s.fileno()]))])
        if stay_alive:
            b.recv(1)  # until the parent is done
        os._exit(0)
    b.close()
    msg, anc, _, _ = a.recvmsg(1, socket.CMSG_SPACE(4))
    fd = array.array('i', anc[0][2][:4])[0]
    return socket.socket(fileno=fd), pid, a

PASS = FAIL = 0
def result(ok, text):
    global PASS, FAIL
    if ok: PASS += 1; print('PASS: ' + text)
    else: FAIL += 1; print('FAIL: ' + text)

s, pid, ctl = connect_in_child(False)
os.waitpid(pid, 0)
time.sleep(0.1)
s.settimeout(60)
try:
    s.send(enroll(n1))  # the helper may already have refused and closed: EPIPE, the reply is queued
except BrokenPipeError:
    pass
st, msg = reply(s.recv(65536))
result(st == 'DENIED' and any(w in msg for w in ('went away', 'cannot identify the caller', 'No such process')),
       'connecting process exited before the request: %s %r' % (st, msg))

s, pid, ctl = connect_in_child(True)
s.settimeout(60); s.send(enroll(n2)); st, msg = reply(s.recv(65536))
ctl.send(b'x'); os.waitpid(pid, 0)
result(st == 'CHANGED', 'control: socket passed on while the connecting root process lives: %s %r' % (st, msg))

# 4. pid reuse (only when we are pid namespace root's child, see peer-identity.sh): an unprivileged
#    A connects and exits, root's B is forked with A's pid through ns_last_pid, then the request is
#    sent on A's socket. The helper must not take B for the caller: DENIED.
if os.environ.get('UNROOT_PIDNS') == '1':
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        os.setgid(65534); os.setuid(65534)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sock_path)
        b.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [s.fileno()]))])
        os._exit(0)
    msg, anc, _, _ = a.recvmsg(1, socket.CMSG_SPACE(4))
    s = socket.socket(fileno=array.array('i', anc[0][2][:4])[0])
    os.waitpid(pid, 0)
    # Another task of the namespace (a polkitd or helper thread) may take the pid between the
    # write and the fork; try again while A's pid is still free.
    for attempt in range(50):
        with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
            f.write(str(pid - 1))
        bpid = os.fork()
        if bpid == 0:
            time.sleep(5); os._exit(0)
        if bpid == pid:
            break
        os.kill(bpid, 9); os.waitpid(bpid, 0)
        time.sleep(0.1)
    print('pid reuse: B forked with A\'s pid after %d attempt(s)' % (attempt + 1))
    s.settimeout(60)
    try:
        s.send(enroll('container-reused'))
    except BrokenPipeError:
        pass
    st, msg = reply(s.recv(65536))
    os.kill(bpid, 9); os.waitpid(bpid, 0)
    result(bpid == pid, 'pid reuse: B (root) got A\'s pid %d (B: %d)' % (pid, bpid))
    result(st == 'DENIED', 'pid reuse: request on the socket of exited uid-65534 A, its pid now root\'s B: %s %r' % (st, msg))
else:
    print('(pid reuse not tested: not in a private pid namespace)')

s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sock_path); s.send(enroll(n3)); s.close()
time.sleep(1)
print('%d passed, %d failed' % (PASS, FAIL))
sys.exit(1 if FAIL else 0)
