/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pure planners: loaded databases + request -> edited databases (EtcFile.changed marks what to
 * write) + a change list. No I/O; the NSS hooks are the only outside input. */

#include "accounts.h"
#include "error.h"
#include "etcfile.h"
#include "login-defs.h"

typedef struct AccountsDb {
        EtcFile files[_ETC_KIND_MAX]; /* indexed by EtcKind */
        LoginDefs defs;
} AccountsDb;

void accounts_db_done(AccountsDb *db);
/* Parses in-memory contents (NULL = file absent); for tests and the benchmark. */
int accounts_db_parse(AccountsDb *db, const char *const contents[static _ETC_KIND_MAX], const LoginDefs *defs);

/* True if name is listed as a member of ACCOUNTS_GROUP in the group file. */
bool accounts_db_is_member(const AccountsDb *db, const char *name);

/* Returns 1 if something must be written, 0 if the account is complete, < 0 on refusal. */
int enroll_plan(AccountsDb *db, const char *name, uint32_t subid_count, const char *statedir,
                const AccountsHooks *hooks, AccountInfo *ret_info, ChangeList *changes, ErrorInfo *e);
int remove_plan(AccountsDb *db, const char *name, ChangeList *changes, ErrorInfo *e);
int lookup_plan(const AccountsDb *db, const char *name, AccountInfo *ret_info, ErrorInfo *e);

/* Rewrites field 3 (member list) of a group or gshadow line with name added or removed. Returns 1
 * if the line changed. */
int group_line_edit_member(EtcFile *f, size_t idx, const char *name, bool add);
/* A free gid in SYS_GID_MIN..SYS_GID_MAX, top-down (files and NSS hooks). */
int accounts_alloc_system_gid(const AccountsDb *db, const AccountsHooks *hooks, uint32_t *ret, ErrorInfo *e);

/* Pure allocation of one subordinate range for the account in file kind (ETC_SUBUID/ETC_SUBGID),
 * appended to it. Exposed for the benchmark and tests. */
int enroll_plan_subid(AccountsDb *db, EtcKind kind, const char *name, uint32_t uid, uint32_t count,
                      const SubidRange *hint, SubidRange *ret, ChangeList *changes, ErrorInfo *e);
