/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent-access.h"
#include "macro.h"

static const char *const access_names[_AGENT_ACCESS_MAX] = {
        [AGENT_ACCESS_DENIED] = "denied",
        [AGENT_ACCESS_ROOT] = "root",
        [AGENT_ACCESS_SELF] = "self",
        [AGENT_ACCESS_ADMIN] = "admin",
};

const char *agent_access_to_string(AgentAccess a) {
        if (a < 0 || a >= _AGENT_ACCESS_MAX)
                return NULL;
        return access_names[a];
}

AgentAccess agent_access_decide(uid_t peer_uid, uid_t self_uid, gid_t admins_gid,
                                const gid_t *peer_groups, size_t n_peer_groups) {
        /* (uid_t) -1 is what the kernel reports when it cannot map the peer into our user
         * namespace (the overflow uid is 65534, but -1 is never a real user): never trust it, not
         * even if our own uid were somehow the same value. */
        if (peer_uid == UID_INVALID)
                return AGENT_ACCESS_DENIED;
        if (peer_uid == 0)
                return AGENT_ACCESS_ROOT;
        if (self_uid != UID_INVALID && peer_uid == self_uid)
                return AGENT_ACCESS_SELF;

        /* No admin group on this host means nobody is an admin; an invalid gid in the peer's list
         * must never match an invalid admins_gid. */
        if (admins_gid == GID_INVALID || !peer_groups)
                return AGENT_ACCESS_DENIED;
        for (size_t i = 0; i < n_peer_groups; i++)
                if (peer_groups[i] == admins_gid)
                        return AGENT_ACCESS_ADMIN;
        return AGENT_ACCESS_DENIED;
}

static long sysconf_bufsize(int name) {
        long n = sysconf(name);
        return n > 0 ? n : 16384;
}

static gid_t lookup_admins_gid(void) {
        _cleanup_free_ char *buf = NULL;
        struct group grbuf, *gr = NULL;
        size_t sz = (size_t) sysconf_bufsize(_SC_GETGR_R_SIZE_MAX);

        for (;;) {
                free(buf);
                buf = malloc(sz);
                if (!buf)
                        return GID_INVALID;
                int r = getgrnam_r(UNROOT_ADMINS_GROUP, &grbuf, buf, sz, &gr);
                if (r == ERANGE && sz < (1U << 24)) {
                        sz *= 2;
                        continue;
                }
                if (r != 0 || !gr)
                        return GID_INVALID;
                return gr->gr_gid;
        }
}

AgentAccess agent_access_check_peer(uid_t peer_uid, uid_t self_uid) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        struct passwd pwbuf, *pw = NULL;
        size_t sz = (size_t) sysconf_bufsize(_SC_GETPW_R_SIZE_MAX);
        gid_t admins_gid;
        AgentAccess a;
        int n = 64;

        /* Root and self need no lookups at all, so a broken NSS never locks them out. */
        a = agent_access_decide(peer_uid, self_uid, GID_INVALID, NULL, 0);
        if (a != AGENT_ACCESS_DENIED || peer_uid == UID_INVALID)
                return a;

        admins_gid = lookup_admins_gid();
        if (admins_gid == GID_INVALID)
                return AGENT_ACCESS_DENIED;

        for (;;) {
                free(buf);
                buf = malloc(sz);
                if (!buf)
                        return AGENT_ACCESS_DENIED;
                int r = getpwuid_r(peer_uid, &pwbuf, buf, sz, &pw);
                if (r == ERANGE && sz < (1U << 24)) {
                        sz *= 2;
                        continue;
                }
                if (r != 0 || !pw)
                        return AGENT_ACCESS_DENIED; /* a uid without a user is nobody's admin */
                break;
        }

        /* The group database, not the peer process's current groups: membership is what the admin
         * configured, and a process that dropped the group keeps it here (same as polkit's
         * unix-group: rules, which also use getgrouplist()). */
        for (;;) {
                int want = n;
                free(groups);
                groups = reallocarray(NULL, (size_t) n, sizeof(gid_t));
                if (!groups)
                        return AGENT_ACCESS_DENIED;
                if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0)
                        break;
                if (n <= want) {
                        if (want >= 65536)
                                return AGENT_ACCESS_DENIED;
                        n = want * 2;
                }
        }

        return agent_access_decide(peer_uid, self_uid, admins_gid, groups, (size_t) n);
}
