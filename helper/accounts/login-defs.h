/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The few login.defs keys unroot honours, with shadow's defaults (helper-anchors.md §2.2), and the
 * nsswitch.conf "subid:" check (§2.7). */

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct LoginDefs {
        uint32_t uid_min, uid_max, gid_min, gid_max;
        uint32_t sys_uid_min, sys_uid_max, sys_gid_min, sys_gid_max;
        uint32_t sub_uid_min, sub_uid_max, sub_uid_count;
        uint32_t sub_gid_min, sub_gid_max, sub_gid_count;
} LoginDefs;

/* Debian 12 / shadow 4.13 defaults: UID_MIN 1000, UID_MAX 60000, SYS_UID_MIN 101,
 * SYS_UID_MAX UID_MIN-1, SUB_UID_MIN 100000, SUB_UID_MAX 600100000, SUB_UID_COUNT 65536. */
void login_defs_default(LoginDefs *ret);

/* Parses "KEY VALUE" lines (last one wins, '#' comments); values must be plain decimal. Then
 * validates like shadow's find_new_uid / find_new_sub_uids; errors name the key (field
 * "/etc/login.defs:KEY"). */
int login_defs_parse(const char *data, size_t len, LoginDefs *ret, ErrorInfo *e);
/* A missing <etc>/login.defs gives the defaults. */
int login_defs_load_at(int etcfd, LoginDefs *ret, ErrorInfo *e);

/* -EOPNOTSUPP if a "subid:" line names any service other than "files" (ranges in /etc/subuid would
 * be ignored by newuidmap then). */
int nsswitch_check_subid(const char *data, size_t len, ErrorInfo *e);
int nsswitch_check_subid_at(int etcfd, ErrorInfo *e);
