/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "etc-lock.h"
#include "util.h"

void etc_lock_release(EtcLock *l) {
        if (!l)
                return;
        shadow_locks_release(&l->shadow);
        l->fd = safe_close(l->fd);
}

int etc_lock_take(int etcfd, bool exclusive, uint64_t timeout_usec, EtcLock *ret, ErrorInfo *e) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t deadline, delay = 1000;
        ShadowLocks shadow = SHADOW_LOCKS_NULL;
        int r;
        struct flock fl = {
                .l_type = exclusive ? F_WRLCK : F_RDLCK,
                .l_whence = SEEK_SET,
        };

        /* Read-write: a write lock needs a writable fd (glibc's lckpwdf opens O_WRONLY), a read lock a
         * readable one. */
        fd = openat(etcfd, ".pwd.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return error_set(e, -errno, "/etc/.pwd.lock", "Cannot open /etc/.pwd.lock: %m");

        deadline = now_usec() + timeout_usec;
        for (;;) {
                if (fcntl(fd, F_OFD_SETLK, &fl) >= 0)
                        break;
                if (errno != EAGAIN && errno != EACCES && errno != EINTR)
                        return error_set(e, -errno, "/etc/.pwd.lock", "Cannot lock /etc/.pwd.lock: %m");
                uint64_t now = now_usec();
                if (now >= deadline)
                        return error_set(e, -ETIMEDOUT, "/etc/.pwd.lock",
                                         "Timed out after %.1f s waiting for /etc/.pwd.lock: another program "
                                         "(useradd, passwd, vipw, another unroot-helper) is editing the account "
                                         "files. Nothing was changed; try again.",
                                         (double) timeout_usec / 1e6);
                uint64_t d = MIN(delay, deadline - now);
                struct timespec ts = { .tv_sec = (time_t) (d / 1000000), .tv_nsec = (long) (d % 1000000) * 1000 };
                (void) nanosleep(&ts, NULL);
                delay = MIN(delay * 2, (uint64_t) 100000); /* back off to 100 ms */
        }
        if (exclusive) {
                uint64_t now = now_usec();

                r = shadow_locks_take(etcfd, deadline > now ? deadline - now : 0, &shadow, e);
                if (r < 0)
                        return r;
        }
        *ret = (EtcLock) { .fd = TAKE_FD(fd), .shadow = shadow };
        return 0;
}
