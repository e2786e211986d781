/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* unroot's account-file library: creates and removes unroot service accounts by editing
 * <root>/etc/{group,gshadow,passwd,shadow,subuid,subgid} directly, under the <root>/etc/.pwd.lock OFD
 * lock plus shadow-utils' per-file "<file>.lock" files,
 * crash-safely (see helper-anchors.md §2.5-2.8).
 *
 * Every entry point takes `root`: NULL or "/" is the live system, anything else a directory that is
 * treated as the system root (like systemd-sysusers --root). Nothing here logs; errors come back as
 * a negative errno plus an ErrorInfo naming the field at fault.
 *
 * Return convention: 0 = nothing changed, 1 = changed, < 0 = error (e filled, nothing changed unless
 * the error happened while renaming, see etc-write.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ACCOUNTS_GROUP "unroot-accounts"
#define ACCOUNTS_DEFAULT_STATEDIR "/var/lib/unroot"
#define ACCOUNTS_SHELL "/usr/sbin/nologin"
#define ACCOUNTS_GECOS "unroot service account"
#define ACCOUNT_NAME_MAX 31U

/* Requested subordinate id count: at least 1, at most 2^24 (256 ranges of 65536; enough for any
 * nested-userns setup, small enough that a typo cannot eat the window). */
#define ACCOUNTS_SUBID_COUNT_DEFAULT 65536U
#define ACCOUNTS_SUBID_COUNT_MAX 16777216U

/* Names: ^[a-z][a-z0-9-]{0,30}$. len is the length as received (a protobuf string may carry NULs);
 * name need not be NUL-terminated. */
bool account_name_is_valid(const char *name, size_t len);
/* True for names that belong to the distribution or to unroot itself (root, nobody, sudo, systemd-*,
 * unroot-*, ...). name must be NUL-terminated. */
bool account_name_is_reserved(const char *name);
/* -EINVAL (syntax) or -EEXIST (reserved name, "is not managed by unroot") with field "name" and the
 * reason in e; 0 if the name may be enrolled. */
int account_name_check(const char *name, size_t len, ErrorInfo *e);
/* -EINVAL with field "subid_count" unless 1 <= count <= ACCOUNTS_SUBID_COUNT_MAX. */
int accounts_subid_count_check(uint64_t count, ErrorInfo *e);

typedef struct SubidRange {
        uint32_t start, count;
} SubidRange;

typedef struct AccountInfo {
        char *name;
        uint32_t uid, gid;
        char *home;
        SubidRange subuid, subgid;           /* first range the account owns, {0,0} if none */
        uint64_t subuid_total, subgid_total; /* sum over all ranges it owns (by name or uid) */
} AccountInfo;
void account_info_done(AccountInfo *i);

/* Human-readable list of what changed, one item per change, e.g.
 * "created group 'container-db' (gid 998)", "appended /etc/subuid: container-db:100000:65536". */
typedef struct ChangeList {
        char **items;
        size_t n;
} ChangeList;
void change_list_done(ChangeList *l);
int change_list_add(ChangeList *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NSS collision checks (sysusers' uid_is_ok): callers pass them for the live system so that LDAP or
 * sssd users are not shadowed; tests pass NULL or fakes. Any member may be NULL. They are consulted
 * in addition to the files, whatever the root. */
typedef struct AccountsHooks {
        bool (*user_exists)(const char *name, void *userdata);
        bool (*group_exists)(const char *name, void *userdata);
        bool (*uid_taken)(uint32_t uid, void *userdata);
        bool (*gid_taken)(uint32_t gid, void *userdata);
        void *userdata;
} AccountsHooks;

/* Creates (or confirms) group NAME, system user NAME (uid == gid where possible, top-down in
 * [SYS_UID_MIN, SYS_UID_MAX]), home <statedir>/NAME (statedir NULL = ACCOUNTS_DEFAULT_STATEDIR),
 * shell ACCOUNTS_SHELL, GECOS ACCOUNTS_GECOS, shadow "!*" without ageing, a gshadow line, membership
 * in ACCOUNTS_GROUP (created if missing), and subuid/subgid ranges of subid_count ids. Does not create
 * the home directory. ret_info (may be NULL) is filled on success; items are appended to changes
 * (may be NULL) on success only. */
int accounts_enroll(const char *root, const char *name, uint32_t subid_count, const char *statedir,
                    const AccountsHooks *hooks, AccountInfo *ret_info, ChangeList *changes, ErrorInfo *e);

/* Takes /etc/.pwd.lock as a read lock when it can; unprivileged callers (who cannot open it, nor read
 * shadow/gshadow) get an unlocked read of the world-readable files, which is consistent per file.
 * -ENOENT if there is no such account (or it is only partially enrolled), -EPERM if a user or group
 * of that name exists but is not an unroot account. 0 and ret_info filled otherwise. */
int accounts_lookup(const char *root, const char *name, AccountInfo *ret_info, ErrorInfo *e);

/* Lists every member of ACCOUNTS_GROUP (as in the group file). ret is a NULL-terminated strv. */
int accounts_list(const char *root, char ***ret, ErrorInfo *e);
void strv_free_accounts(char **l);

/* Purges an unroot account: its passwd/shadow/group/gshadow lines, its ACCOUNTS_GROUP membership and
 * the subuid/subgid lines it owns (by name, or by its numeric uid). 0 if there was nothing to remove,
 * 1 if removed, -EPERM for accounts unroot did not create. */
int accounts_remove(const char *root, const char *name, ChangeList *changes, ErrorInfo *e);

/* How long to wait for <root>/etc/.pwd.lock (default 15 s, like lckpwdf). For tests. */
void accounts_set_lock_timeout_usec(uint64_t usec);
