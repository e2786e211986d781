/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One enrolled account as agentctl and the agent show it. A thin adapter over the account library
 * (helper/accounts/, accounts_lookup()), which is the only code that parses /etc/subuid. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct AgentAccount {
        char *name;
        uint32_t uid, gid;
        char *home;
        bool have_ranges;             /* false: the ranges could not be read (see lookup's e) */
        uint32_t subuid_start, subuid_count; /* count 0: no range */
        uint32_t subgid_start, subgid_count;
} AgentAccount;

/* root: NULL for "/". accounts_lookup() first; when it cannot read the account files (unreadable or
 * malformed) the identity comes from NSS, have_ranges is false and e says why.
 * Returns -ENOENT (no such unroot account), -EPERM (not an unroot account), -ESRCH, or 0. */
int agent_account_lookup(const char *root, const char *name, AgentAccount *ret, ErrorInfo *e);
void agent_account_done(AgentAccount *a);

/* Name of the user with this uid (NSS). */
int agent_user_name(uid_t uid, char **ret);

/* Members of group unroot-accounts (supplementary members and users whose primary group it is),
 * sorted, NULL-terminated. -ENOENT if the group does not exist. */
int agent_enrolled_accounts(char ***ret);
void strv_free_agent(char **l);
