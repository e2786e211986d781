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
