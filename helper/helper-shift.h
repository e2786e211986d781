/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The helper's "shift" operation (issue 5): resolve and confine the path, find the account's id
 * map, lock and open the journal, and run shift_tree() or shift_rollback() (helper/shift/).
 * op_shift() is declared in helper-ops.h with the other operations. */

#include <stdbool.h>
#include <stdint.h>

/* The journal of a shift of `path`: <statedir>/shift/<account>-<16 hex digits of FNV-1a(path)>.journal,
 * relative to the root directory. agentctl migrate reports this name. */
#define SHIFT_JOURNAL_SUBDIR "shift"
int shift_journal_name(const char *account, const char *path, char **ret);

/* openat2(dirfd, rel) with O_CLOEXEC|O_NOFOLLOW added to flags and the given RESOLVE_* flags;
 * the fd or a negative errno. */
int helper_open_beneath(int dirfd, const char *rel, uint64_t resolve, int flags);
/* <statedir>/<subdir> below rootfd (statedir absolute), created 0700 if create; no symlinks on the
 * way; -EPERM unless it belongs to the helper and nobody else may write or read it. */
int helper_open_state_subdir(int rootfd, const char *statedir, const char *subdir, bool create, int *ret);
