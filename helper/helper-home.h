/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "accounts.h"

/* The account's home <root><statedir>/<name>: mode 0711 so that root and unroot-admins can reach
 * the agent socket in it, with .config/containers/systemd and .local at 0700. Created root-owned,
 * filled, then handed over, home last: a crash leaves a root-owned home that the next run finishes.
 * A home that already belongs to the account is left alone. 0 unchanged, 1 changed. */
int home_ensure(const char *root, const char *statedir, const char *name, uid_t uid, gid_t gid,
                ChangeList *changes, ErrorInfo *e);

/* Removes the home tree without following symlinks or crossing mounts. 0 if absent, 1 removed. */
int home_remove(const char *root, const char *statedir, const char *name, uid_t uid, ChangeList *changes,
                ErrorInfo *e);
