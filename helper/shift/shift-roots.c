/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "shift-roots.h"
#include "strv-util.h"

int shift_path_check(const char *path, size_t len, const char *field, ErrorInfo *e) {
        if (len == 0)
                return error_set(e, -EINVAL, field, "%s: empty; give the absolute path of the directory to shift", field);
        if (len > SHIFT_PATH_MAX)
                return error_set(e, -EINVAL, field, "%s: longer than %u bytes", field, SHIFT_PATH_MAX);
        if (memchr(path, 0, len))
                return error_set(e, -EINVAL, field, "%s: contains a NUL byte", field);
        if (path[0] != '/')
                return error_set(e, -EINVAL, field, "%s: '%.*s' is not an absolute path", field, (int) MIN(len, (size_t) 200), path);
        if (len == 1)
                return error_set(e, -EINVAL, field, "%s: '/' cannot be shifted", field);
        if (path[len - 1] == '/')
                return error_set(e, -EINVAL, field, "%s: ends in '/'; give the path without it", field);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) path[i] < 0x20 || path[i] == 0x7f)
                        return error_set(e, -EINVAL, field, "%s: contains a control character at byte %zu", field, i);
        for (size_t i = 0; i < len;) {
                size_t j = i + 1;
                while (j < len && path[j] != '/')
                        j++;
                /* component is path[i+1 .. j) */
                if (j == i + 1)
                        return error_set(e, -EINVAL, field, "%s: contains '//'", field);
                if ((j - i - 1 == 1 && path[i + 1] == '.') || (j - i - 1 == 2 && path[i + 1] == '.' && path[i + 2] == '.'))
                        return error_set(e, -EINVAL, field, "%s: contains a '.' or '..' component", field);
                i = j;
        }
        return 0;
}

const char *shift_roots_find(char *const *roots, const char *path) {
        for (char *const *r = roots; r && *r; r++) {
                size_t n = strlen(*r);
                if (strneq(path, *r, n) && path[n] == '/' && path[n + 1])
                        return *r;
        }
        return NULL;
}

int shift_roots_load(const char *root, const char *home, char ***ret, ErrorInfo *e) {
        static const char *const defaults[] = SHIFT_ROOTS_DEFAULT;

        return roots_conf_load(root, SHIFT_ROOTS_CONF, defaults, home, ret, e);
}

int roots_conf_load(const char *root, const char *conf_path, const char *const *defaults, const char *extra,
                    char ***ret, ErrorInfo *e) {
        const char *base = strrchr(conf_path, '/') ? strrchr(conf_path, '/') + 1 : conf_path;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *conf = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0, alloc = 0, lineno = 0;
        ssize_t k;

        if (asprintf(&conf, "%s%s", root && !streq(root, "/") ? root : "", conf_path) < 0)
                return -ENOMEM;
        f = fopen(conf, "re");
        if (!f && errno != ENOENT)
                return error_set(e, -errno, base, "cannot read %s: %s", conf, strerror(errno));

#define PUSH(s)                                                                         \
        do {                                                                            \
                if (n + 2 > alloc) {                                                    \
                        size_t na = MAX(alloc * 2, (size_t) 8);                         \
                        char **p = reallocarray(l, na, sizeof *p);                      \
                        if (!p)                                                         \
                                return -ENOMEM;                                         \
                        l = p;                                                          \
                        alloc = na;                                                     \
                }                                                                       \
                l[n] = strdup(s);                                                       \
                if (!l[n])                                                              \
                        return -ENOMEM;                                                 \
                l[++n] = NULL;                                                          \
        } while (0)

        if (!f)
                for (size_t i = 0; defaults[i]; i++)
                        PUSH(defaults[i]);
        else {
                size_t cap = 0;
                while ((k = getline(&line, &cap, f)) >= 0) {
                        char field[64];
                        size_t len = (size_t) k;

                        lineno++;
                        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ' || line[len - 1] == '\t'))
                                line[--len] = 0;
                        if (len == 0 || line[0] == '#')
                                continue;
                        (void) snprintf(field, sizeof field, "%s:%zu", base, lineno);
                        if (shift_path_check(line, len, field, e) < 0)
                                return -EINVAL;
                        PUSH(line);
                }
        }
        if (extra)
                PUSH(extra);
#undef PUSH
        *ret = TAKE_PTR(l);
        return 0;
}
