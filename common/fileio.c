/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        for (;;) {
                if (alloc - len < 4096) {
                        size_t nalloc = alloc ? alloc * 2 : 16384;
                        char *p;

                        if (nalloc > max + 1)
                                nalloc = max + 1;
                        if (nalloc <= len)
                                return -EFBIG;
                        p = realloc(buf, nalloc + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = nalloc;
                }
                ssize_t k = read(fd, buf + len, alloc - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int write_file_atomic_owned(const char *path, const char *content, size_t len, mode_t mode, uid_t uid, gid_t gid,
                            const struct timespec times[2]) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        const char *slash = strrchr(path, '/'), *base;
        int r;

        if (slash) {
                dir = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
                base = slash + 1;
        } else {
                dir = strdup(".");
                base = path;
        }
        if (!dir)
                return -ENOMEM;
        if (!*base)
                return -EISDIR;
        if (asprintf(&tmp, "%s/.#%s.XXXXXX", dir, base) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Owner before mode: chown clears the setuid and setgid bits. */
        r = (uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0 ? -errno : 0;
        if (r >= 0 && fchmod(fd, mode & 07777) < 0)
                r = -errno;
        if (r >= 0)
                r = write_all(fd, content, len);
        /* Times last: the write sets the modification time. */
        if (r >= 0 && times && futimens(fd, times) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        /* The rename itself is durable only once the directory is. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode) {
        return write_file_atomic_owned(path, content, len, mode, (uid_t) -1, (gid_t) -1, NULL);
}

int read_file_limited(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len) {
        return read_file_limited_stat(path, open_flags, max, ret, ret_len, NULL);
}

int read_file_limited_stat(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len,
                           struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | open_flags);
        if (fd < 0)
                return -errno;
        if (ret_st && fstat(fd, ret_st) < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}
