/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which files the secret-group operation may touch (pure).
 *  - below an allowed root: <root>/etc/unroot/secret-roots.conf (one absolute path per line, '#'
 *    comments), or without it /etc/unroot/secrets and /var/lib;
 *  - never below the helper's state directory (/var/lib/unroot: unroot's journals and the accounts'
 *    homes, whose files the accounts control);
 *  - a regular file with exactly one link (a hardlink could be another name of a file elsewhere);
 *  - owned by root only below /etc/unroot/secrets, the directory made for such secrets: elsewhere in
 *    /var/lib root's own secrets live (systemd's credential.secret, sssd, polkit), and a file that
 *    belongs to a host service's user is what is meant to be shared.
 * Symlinks are refused by the opening (helper-secret.c: openat2 RESOLVE_NO_SYMLINKS, O_NOFOLLOW). */

#include <stdbool.h>
#include <sys/stat.h>

#include "error.h"

#define SECRET_ROOTS_CONF "/etc/unroot/secret-roots.conf"
#define SECRET_DEDICATED_ROOT "/etc/unroot/secrets"
#define SECRET_ROOTS_DEFAULT { SECRET_DEDICATED_ROOT, "/var/lib", NULL }
#define SECRET_FILE_MODE 0440U

int secret_roots_load(const char *root, char ***ret, ErrorInfo *e);

/* path was checked by shift_path_check(). Sets *ret_root to the allowed root it is strictly below;
 * -EINVAL with field "file" if there is none, or if it is below statedir. */
int secret_path_confine(const char *path, char *const *roots, const char *statedir, const char **ret_root,
                        ErrorInfo *e);

/* The opened file's facts against the rules above; -EINVAL with field "file" and the reason. */
int secret_stat_check(const char *path, const char *allowed_root, const struct stat *st, ErrorInfo *e);
