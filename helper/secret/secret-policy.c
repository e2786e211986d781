/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "secret-policy.h"
#include "shift-roots.h"
#include "strv-util.h"

int secret_roots_load(const char *root, char ***ret, ErrorInfo *e) {
        static const char *const defaults[] = SECRET_ROOTS_DEFAULT;

        return roots_conf_load(root, SECRET_ROOTS_CONF, defaults, NULL, ret, e);
}

static bool path_below_or_equal(const char *path, const char *dir) {
        size_t n = strlen(dir);

        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strneq(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

int secret_path_confine(const char *path, char *const *roots, const char *statedir, const char **ret_root,
                        ErrorInfo *e) {
        const char *allowed;

        if (statedir && path_below_or_equal(path, statedir))
                return error_set(e, -EINVAL, "file",
                                 "file: '%s' is below %s, unroot's state and the accounts' homes; a secret shared "
                                 "from there would be under an account's control", path, statedir);
        allowed = shift_roots_find(roots, path);
        if (!allowed) {
                char list[512] = "";
                for (char *const *s = roots; s && *s; s++)
                        (void) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", s == roots ? "" : ", ", *s);
                return error_set(e, -EINVAL, "file", "file: '%s' is not below an allowed root (%s; configure them in %s)",
                                 path, list, SECRET_ROOTS_CONF);
        }
        *ret_root = allowed;
        return 0;
}

int secret_stat_check(const char *path, const char *allowed_root, const struct stat *st, ErrorInfo *e) {
        if (S_ISLNK(st->st_mode))
                return error_set(e, -EINVAL, "file", "file: '%s' is a symbolic link; give the file itself", path);
        if (S_ISDIR(st->st_mode))
                return error_set(e, -EINVAL, "file", "file: '%s' is a directory, not a regular file", path);
        if (!S_ISREG(st->st_mode))
                return error_set(e, -EINVAL, "file", "file: '%s' is not a regular file (a FIFO, socket or device)", path);
        if (st->st_nlink != 1)
                return error_set(e, -EINVAL, "file",
                                 "file: '%s' has %ju hard links; a file with other names is refused (one of them may "
                                 "be outside the allowed roots)", path, (uintmax_t) st->st_nlink);
        if (st->st_uid == 0 && !streq(allowed_root, SECRET_DEDICATED_ROOT))
                return error_set(e, -EINVAL, "file",
                                 "file: '%s' belongs to root; only files below " SECRET_DEDICATED_ROOT " may be "
                                 "root's (elsewhere a secret must belong to the host service that owns it)", path);
        return 0;
}
