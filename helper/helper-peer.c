/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper-peer.h"
#include "macro.h"
#include "parse-util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define OVERFLOW_UID 65534U

int proc_stat_parse_start_time(const char *stat, uint64_t *ret) {
        const char *p, *end;

        p = strrchr(stat, ')');
        if (!p)
                return -EBADMSG;
        p++;
        /* After comm, fields 3… are separated by single spaces; step over 20 of them to field 22. */
        for (unsigned field = 3; field <= 22; field++) {
                if (*p != ' ')
                        return -EBADMSG;
                p++;
                if (field == 22)
                        break;
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
        }
        end = p;
        while (*end >= '0' && *end <= '9')
                end++;
        return safe_atou64_span(p, (size_t) (end - p), ret);
}

static int read_start_time(int proc_fd, uint64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[4096];
        ssize_t n;

        fd = openat(proc_fd, "stat", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        return proc_stat_parse_start_time(buf, ret);
}

int peer_identify(int fd, Peer *ret) {
        _cleanup_(peer_done) Peer p = PEER_NULL;
        struct ucred cred;
        socklen_t len = sizeof cred;
        char path[64];
        int pidfd;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (len != sizeof cred || cred.pid <= 0)
                return -EPERM;
        /* polkit keeps uids in an int32 (CVE-2018-19788), and 65534 is what an unmapped uid from
         * another user namespace looks like: neither identifies anybody. */
        if (cred.uid > INT32_MAX || cred.uid == OVERFLOW_UID || cred.uid == (uid_t) -1)
                return -EPERM;

        p.pid = cred.pid;
        p.uid = cred.uid;
        p.gid = cred.gid;

        /* Where the kernel can name the peer by pidfd (≥ 6.5) the pin is exact; otherwise pid plus
         * start time, read as early as possible. */
        len = sizeof pidfd;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) >= 0 && len == sizeof pidfd)
                p.pidfd = pidfd;

        (void) snprintf(path, sizeof path, "/proc/%i", (int) p.pid);
        p.proc_fd = open(path, O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (p.proc_fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        r = read_start_time(p.proc_fd, &p.start_time);
        if (r < 0)
                return r == -ENOENT || r == -ESRCH ? -ESRCH : r;

        *ret = p;
        p = PEER_NULL;
        return 0;
}

int peer_verify(const Peer *p, int fd) {
        struct pollfd pf = { .fd = fd, .events = POLLIN | POLLRDHUP };
        uint64_t st;
        int r;

        if (p->pidfd >= 0) {
                struct pollfd pp = { .fd = p->pidfd, .events = POLLIN };
                /* A pidfd turns readable when the process exits. */
                if (poll(&pp, 1, 0) != 0)
                        return -ESRCH;
        }
        r = read_start_time(p->proc_fd, &st);
        if (r < 0 || st != p->start_time)
                return -ESRCH;
        /* The caller hung up: nobody is waiting for this result, and the pid may be reused. */
        if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLRDHUP | POLLERR)))
                return -ESRCH;
        return 0;
}

void peer_done(Peer *p) {
        p->proc_fd = safe_close(p->proc_fd);
        p->pidfd = safe_close(p->pidfd);
}
