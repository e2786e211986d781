/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure text rewrites of Quadlet files for a migration: lines are edited in place so comments, order
 * and layout of the admin's file survive, and each added line carries a comment saying why. */

#include <stddef.h>

/* Replaces every occurrence of the IPv4 address addr in s that stands alone (not part of a longer
 * address or number, e.g. 10.88.0.1 but not 10.88.0.10 or 110.88.0.1) by with. Returns the number
 * of replacements (>= 0) with *ret set to the new string (NULL when 0), or -ENOMEM. */
int migrate_replace_address(const char *s, const char *addr, const char *with, char **ret);

typedef enum MigrateEditOp {
        MIGRATE_EDIT_ADDRESS, /* in values of key: addr → with */
        MIGRATE_EDIT_SET,     /* key=value: earlier key= lines are commented out, the new line appended */
} MigrateEditOp;

typedef struct MigrateEdit {
        MigrateEditOp op;
        const char *group;   /* "Container", "Pod", "Service" */
        const char *key;
        const char *addr, *with; /* ADDRESS */
        const char *value;       /* SET */
        const char *comment;     /* SET: why, written as "# unroot migrate: <comment>" above the line */
} MigrateEdit;

/* Applies edits in order to a unit file's text. A SET on a group the file lacks appends the group.
 * Returns 0 and the new text, or -ENOMEM. */
int migrate_rewrite_text(const char *text, const MigrateEdit *edits, size_t n_edits, char **ret);
