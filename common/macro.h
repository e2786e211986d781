/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The few basics every unroot program shares: cleanup attributes, ownership transfer and
 * overflow-checked arithmetic, modelled on systemd's alloc-util.h and macro-fundamental.h. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _fallthrough_ __attribute__((fallthrough))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(x) (sizeof(x) - 1)
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* Hand ownership of a pointer or fd to someone else and leave NULL / -EBADF behind. */
#define TAKE_PTR(p)                              \
        ({                                       \
                typeof(p) _take_tmp = (p);       \
                (p) = NULL;                      \
                _take_tmp;                       \
        })
#define TAKE_FD(fd)                              \
        ({                                       \
                int _take_fd = (fd);             \
                (fd) = -EBADF;                   \
                _take_fd;                        \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Defines `static inline void func##p(type *p)` calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)          \
        static inline void func##p(type *p) {            \
                if (*p)                                  \
                        func(*p);                        \
        }

/* Overflow-checked arithmetic: true on success, result in *r. */
#define ADD_SAFE(r, a, b) (!__builtin_add_overflow((a), (b), (r)))
#define MUL_SAFE(r, a, b) (!__builtin_mul_overflow((a), (b), (r)))

/* Negative errno from the current errno, never 0 (for libc calls that "failed" without setting it). */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
#define RET_NERRNO(expr)                         \
        ({                                       \
                int _r = (expr);                 \
                _r < 0 ? negative_errno() : _r;  \
        })

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline const char *strna(const char *s) {
        return s ?: "n/a";
}
