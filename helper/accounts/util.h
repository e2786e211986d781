/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fileio.h"
#include "strv-util.h"

/* Small basics only this library needs. */

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"

/* Writes a C-escaped, NUL-terminated rendering of s[0..n) into buf (truncated to fit). */
void cescape_span(const char *s, size_t n, char *buf, size_t bufsz);


/* A DIR stream of the directory dirfd refers to (its own fd, dirfd stays open); NULL with errno. */
DIR *opendir_at(int dirfd);
/* Opens <root>/etc as a directory fd without following a symlink at "etc". */
int open_etc_dir(const char *root, int *ret_fd);
/* Root-relative display path "/etc/<file>". */
static inline bool root_is_live(const char *root) {
        return !root || root[0] == 0 || streq(root, "/");
}

/* NULL-terminated string vectors (strv_push() is in strv-util.h). */
/* Splits s on c (no empty-field squashing except that "" gives an empty vector). */
int strv_split_char(const char *s, char c, char ***ret);
/* Joins with c. */
int strv_join_char(char *const *l, char c, char **ret);

uint64_t now_usec(void);

static inline char *mfree_str(char *p) {
        free(p);
        return NULL;
}
static inline bool endswith_slash(const char *s) {
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '/';
}

#define TAKE_STRUCT(s)                           \
        ({                                       \
                typeof(s) _take_s = (s);         \
                (s) = (typeof(s)) {};            \
                _take_s;                         \
        })
