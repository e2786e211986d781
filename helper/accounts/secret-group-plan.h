/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The group half of the secret-group operation, pure: loaded account files + request -> edited
 * group/gshadow + what was decided. Which groups may be used (helper-anchors.md §5.1, the confused
 * deputy): a group unroot created for a secret (its marker, kept by the caller in the helper's state
 * directory, names the gid), or else a regular group (GID_MIN..GID_MAX from login.defs) that is not
 * reserved (root, sudo, adm, shadow, disk, wheel, docker, systemd-*, unroot-*, …: the list of
 * name.c) and is nobody's primary group (a user private group would hand that user's group-readable
 * files to the account). An absent group is created as a system group (SYS_GID_MIN..SYS_GID_MAX,
 * top-down) with the account as its only member. */

#include <stdbool.h>
#include <stdint.h>

#include "enroll-plan.h"

/* ^[a-z][a-z0-9-]{0,30}$ and not reserved; -EINVAL (syntax) or -EPERM (reserved) with field "group". */
int secret_group_name_check(const char *name, size_t len, ErrorInfo *e);

typedef struct SecretGroupMarker {
        bool present;  /* unroot created a group of this name for a secret */
        uint32_t gid;  /* ... with this gid; a group with another gid is not that group */
} SecretGroupMarker;

typedef struct SecretGroupPlan {
        uint32_t gid;
        bool group_created;  /* add: group line appended */
        bool member_changed; /* add: account appended to the members; remove: taken out */
        bool group_removed;  /* remove: the group unroot created is gone (no members left) */
} SecretGroupPlan;

/* Adds account (an enrolled unroot account) to group, creating it if absent. Returns 1 if the files
 * must be written, 0 if the account already is a member, < 0 on refusal (field "group" or
 * "account"). */
int secret_group_plan_add(AccountsDb *db, const char *group, const char *account, const SecretGroupMarker *m,
                          const AccountsHooks *hooks, SecretGroupPlan *ret, ChangeList *changes, ErrorInfo *e);

/* Undoes it: takes account out of the members if remove_member, then removes the group if unroot
 * created it (marker with its gid), nobody is left in it and it is nobody's primary group. An absent
 * group is not an error. Returns 1 if the files must be written, 0 otherwise. */
int secret_group_plan_remove(AccountsDb *db, const char *group, const char *account, bool remove_member,
                             const SecretGroupMarker *m, SecretGroupPlan *ret, ChangeList *changes, ErrorInfo *e);
