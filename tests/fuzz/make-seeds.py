#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the hand-made seed inputs of corpus/<target>/seed-*; fuzzer finds are added beside them.
# Encodes protobuf by hand (no protobuf dependency) so that malformed wire data can be made too.
import os, sys

here = os.path.dirname(os.path.abspath(__file__))

sys.path.insert(0, os.path.join(here, '..', 'hardening'))
from helperproto import varint, key, vi, ld, enroll, unenroll  # the same hand-made encoder

def write(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)

helper = {
    'enroll-ok': enroll(b'container-db'),
    'enroll-count': enroll(b'container-web', 131072),
    'enroll-interactive': vi(1, 1) + vi(2, 1) + ld(10, ld(1, b'svc')),
    'unenroll': unenroll(b'container-db', False),
    'unenroll-purge': unenroll(b'container-db', True),
    'empty': b'',
    'one-byte': b'\x08',
    'no-op': vi(1, 1),
    'two-ops': vi(1, 1) + ld(10, ld(1, b'aaa')) + ld(11, ld(1, b'../x')),
    'two-ops-rev': vi(1, 1) + ld(11, ld(1, b'root')) + ld(10, ld(1, b'aaa')),
    'version-2': enroll(b'svc', version=2),
    'version-max': vi(1, (1 << 64) - 1) + ld(10, ld(1, b'svc')),
    'name-nul': enroll(b'a\x00b'),
    'name-dotdot': enroll(b'..'),
    'name-root': enroll(b'root'),
    'name-upper': enroll(b'Upper'),
    'name-utf8': enroll('Ünïcode'.encode()),
    'name-rtl': enroll('a\u202eb'.encode()),
    'name-overlong': enroll(b'\xc0\xaf'),
    'name-32': enroll(b'a' * 32),
    'name-31': enroll(b'a' * 31),
    'name-64k': enroll(b'a' * 65536),
    'count-0': enroll(b'svc', 0),
    'count-max': enroll(b'svc', (1 << 64) - 1),
    'count-2-32': enroll(b'svc', 1 << 32),
    'unknown-field': enroll(b'svc') + vi(99, 1),
    'unknown-inner': enroll(b'svc', extra=vi(77, 5)),
    'varint-11': vi(1, 1)[:1] + b'\xff' * 10 + b'\x01' + ld(10, ld(1, b'svc')),
    'wiretype': key(1, 2) + varint(1) + b'\x01' + ld(10, ld(1, b'svc')),
    'repeated-10k': vi(1, 1) + ld(10, ld(1, b'svc')) * 2000,
    'len-ffffffff': vi(1, 1) + key(10, 2) + b'\xff\xff\xff\xff\x0f' + ld(1, b'svc'),
    'truncated': enroll(b'container-db')[:-3],
    'frame-max': vi(1, 1) + ld(10, ld(1, b'svc') + ld(99, b'x' * (16384 - 20))),
}
for k, v in helper.items():
    write('fuzz-helper-request', k, v)

agent = {
    'status': vi(1, 1) + ld(10, b''),
    'no-op': vi(1, 1),
    'no-version': ld(10, b''),
    'version-2': vi(1, 2) + ld(10, b''),
    'unknown': vi(1, 1) + ld(10, vi(5, 1)),
    'status-twice': vi(1, 1) + ld(10, b'') * 3,
    'empty': b'',
    'garbage': bytes(range(256)),
    'huge-len': vi(1, 1) + key(10, 2) + b'\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01',
    'oversize': vi(1, 1) + ld(10, b'') + ld(50, b'z' * 17000),
}
for k, v in agent.items():
    write('fuzz-agent-request', k, v)

# byte 0 selects: 0 group, 1 gshadow, 2 passwd, 3 shadow, 4 subuid, 5 subgid
etc = {
    'passwd': (2, b'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'
                  b'container-db:x:990:990::/var/lib/unroot/container-db:/usr/sbin/nologin\n'),
    'passwd-odd': (2, b'# comment\n\nbad line\nroot:x:0:0::/:/bin/sh\r\n+::::::\nx:x:-1:0:::\nlong:x:99999999999:1:::\nnoeol:x:5:5:::'),
    'group': (0, b'root:x:0:\nshadow:x:42:\nreaders:x:1500:a,b,c\n'),
    'gshadow': (1, b'root:*::\nshadow:*::\nreaders:!::a,b\n'),
    'shadow': (3, b'root:*:19000:0:99999:7:::\ncontainer-db:!*:20000::::::\nshort:x\n'),
    'subuid': (4, b'alice:100000:65536\ncontainer-db:165536:65536\n1001:231072:65536\n'),
    'subuid-odd': (4, b'a:+5:10\nb:0x10:5\n c:1:1\nd:-1:5\ne:4294901760:65536\nf:4294967295:1\ng:1:0\nh:1:2:3\n# x\nn:1:1\r\n' + b'z' * 2048 + b'\nlast:200000:65536'),
    'subgid-full': (5, b'a:100000:424288\nb:1879048192:268435456\n'),
    'subgid-crlf': (5, b'a:100000:65536\r\nb:200000:65536\r\n'),
    'empty': (4, b''),
    'newline': (2, b'\n'),
}
for k, (sel, v) in etc.items():
    write('fuzz-etcfiles', k, bytes([sel]) + v)

units = {
    'container': b'[Unit]\nDescription=db\n\n[Container]\nImage=docker.io/library/postgres:16\nVolume=db:/var/lib/postgresql\n# comment\nExec=sh -c "echo \\\n  hi"\n\n[Install]\nWantedBy=default.target\n',
    'continuation': b'[Service]\nExecStart=/bin/true \\\n  --flag \\\n\n[X]\nA=\n',
    'odd': b'\xef\xbb\xbf[Unit]\n;semicolon\n  Key = value with spaces  \n[Empty]\n[Dup]\nA=1\nA=2\n',
    'bad-group': b'[Unit\nA=1\n',
    'no-group': b'A=1\n',
    'nul': b'[Unit]\nA=x\x00y\n',
    'crlf': b'[Unit]\r\nA=1\r\n',
    'empty': b'',
}
for k, v in units.items():
    write('fuzz-quadlet-unitfile', k, v)
