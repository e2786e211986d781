/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a shift may happen: a request path must be a clean absolute path strictly below one of the
 * allowed roots. The list comes from <root>/etc/unroot/shift-roots.conf (one absolute path per line,
 * '#' comments) or, without that file, SHIFT_ROOTS_DEFAULT; the account's home is always allowed. */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define SHIFT_ROOTS_CONF "/etc/unroot/shift-roots.conf"
#define SHIFT_ROOTS_DEFAULT { "/var/lib/containers/storage/volumes", "/srv/unroot", NULL }
#define SHIFT_PATH_MAX 4095U

/* Absolute, no NUL, no control bytes, no empty, "." or ".." component, no trailing '/', not "/",
 * at most SHIFT_PATH_MAX bytes. -EINVAL with field (e.g. "path") and the reason otherwise. */
int shift_path_check(const char *path, size_t len, const char *field, ErrorInfo *e);

/* The allowed root that path is strictly below (component-wise: /a/c1 is not below /a/c), or NULL. */
const char *shift_roots_find(char *const *roots, const char *path);

/* Reads the configured roots below `root` (NULL: /) and appends home. Lines that are not clean
 * absolute paths are refused: -EINVAL with field "shift-roots.conf:LINE". */
int shift_roots_load(const char *root, const char *home, char ***ret, ErrorInfo *e);

/* The same for any such list: <root><conf_path>, else defaults (NULL-terminated); extra (may be
 * NULL) is appended. Bad lines: -EINVAL with field "<basename of conf_path>:LINE". */
int roots_conf_load(const char *root, const char *conf_path, const char *const *defaults, const char *extra,
                    char ***ret, ErrorInfo *e);
