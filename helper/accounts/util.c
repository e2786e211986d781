/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

void cescape_span(const char *s, size_t n, char *buf, size_t bufsz) {
        size_t j = 0;

        if (bufsz == 0)
                return;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char tmp[5];
                size_t k;

                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
                        tmp[0] = (char) c, k = 1;
                else if (c == '\n')
                        memcpy(tmp, "\\n", 2), k = 2;
                else if (c == '\t')
                        memcpy(tmp, "\\t", 2), k = 2;
                else if (c == '\r')
                        memcpy(tmp, "\\r", 2), k = 2;
                else {
                        (void) snprintf(tmp, sizeof tmp, "\\x%02x", c);
                        k = 4;
                }
                if (j + k + 1 > bufsz)
                        break;
                memcpy(buf + j, tmp, k);
                j += k;
        }
        buf[j] = 0;
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

int open_etc_dir(const char *root, int *ret_fd) {
        _cleanup_close_ int rfd = -EBADF;
        int fd;

        rfd = open(root_is_live(root) ? "/" : root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        /* "etc" itself must be a real directory: a symlink there would redirect every write. */
        fd = openat(rfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **p;

        p = reallocarray(*l, n + 2, sizeof(char *));
        if (!p) {
                free(s);
                return -ENOMEM;
        }
        p[n] = s;
        p[n + 1] = NULL;
        *l = p;
        return 0;
}

int strv_split_char(const char *s, char c, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return -ENOMEM;
        if (*s) {
                for (const char *p = s;;) {
                        const char *q = strchr(p, c);
                        size_t n = q ? (size_t) (q - p) : strlen(p);
                        char *f = strndup(p, n);

                        if (!f)
                                return -ENOMEM;
                        r = strv_push(&l, f);
                        if (r < 0)
                                return r;
                        if (!q)
                                break;
                        p = q + 1;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int strv_join_char(char *const *l, char c, char **ret) {
        size_t n = 1;
        char *s, *p;

        for (char *const *i = l; i && *i; i++)
                n += strlen(*i) + 1;
        s = p = malloc(n);
        if (!s)
                return -ENOMEM;
        for (char *const *i = l; i && *i; i++) {
                if (p != s)
                        *p++ = c;
                p = stpcpy(p, *i);
        }
        *p = 0;
        *ret = s;
        return 0;
}

uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

DIR *opendir_at(int dirfd) {
        DIR *d;
        int fd;

        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d) {
                int saved = errno;
                safe_close(fd);
                errno = saved;
        }
        return d;
}
