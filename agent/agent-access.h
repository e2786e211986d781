/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who may talk to an account's agent. The decision is a pure function of numbers taken from the
 * kernel (SO_PEERCRED) and the group database, so it can be tested without any lookups; the
 * lookups live in agent_access_check_peer(). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define UID_INVALID ((uid_t) -1)
#define GID_INVALID ((gid_t) -1)

typedef enum AgentAccess {
        AGENT_ACCESS_DENIED,
        AGENT_ACCESS_ROOT,
        AGENT_ACCESS_SELF,
        AGENT_ACCESS_ADMIN,
        _AGENT_ACCESS_MAX,
        _AGENT_ACCESS_INVALID = -EINVAL,
} AgentAccess;

/* peer_uid: from SO_PEERCRED. self_uid: the agent's own uid. admins_gid: gid of unroot-admins, or
 * GID_INVALID when the group does not exist. peer_groups: the peer user's primary and supplementary
 * gids (getgrouplist()). Returns the reason access is granted, or AGENT_ACCESS_DENIED. */
AgentAccess agent_access_decide(uid_t peer_uid, uid_t self_uid, gid_t admins_gid,
                                const gid_t *peer_groups, size_t n_peer_groups);

const char *agent_access_to_string(AgentAccess a);

/* Looks up the peer's groups and the admin group (NSS), then decides. Lookup failures deny. */
AgentAccess agent_access_check_peer(uid_t peer_uid, uid_t self_uid);

/* The sentence a refused peer gets: who may connect instead. */
#define AGENT_ACCESS_DENIED_MESSAGE                                                              \
        "access denied: only root, the account itself, and members of group '" UNROOT_ADMINS_GROUP \
        "' may talk to this agent"
