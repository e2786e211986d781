/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The helper's "shift" operation (issue 5): resolve and confine the path, find the account's id
 * map, lock and open the journal, and run shift_tree() or shift_rollback() (helper/shift/).
 * op_shift() is declared in helper-ops.h with the other operations. */

#include <stdint.h>

/* The journal of a shift of `path`: <statedir>/shift/<account>-<16 hex digits of FNV-1a(path)>.journal,
 * relative to the root directory. agentctl migrate reports this name. */
#define SHIFT_JOURNAL_SUBDIR "shift"
int shift_journal_name(const char *account, const char *path, char **ret);
