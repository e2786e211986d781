/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "agent-account.h"
#include "macro.h"

void agent_account_done(AgentAccount *a) {
        if (!a)
                return;
        free(a->name);
        free(a->home);
        *a = (AgentAccount) {};
}

void strv_free_agent(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

int agent_user_name(uid_t uid, char **ret) {
        struct passwd *pw;

        errno = 0;
        pw = getpwuid(uid);
        if (!pw)
                return errno > 0 ? -errno : -ESRCH;
        *ret = strdup(pw->pw_name);
        return *ret ? 0 : -ENOMEM;
}

static int account_from_nss(const char *name, AgentAccount *ret, ErrorInfo *e) {
        AgentAccount a = {};
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(name);
        if (!pw)
                return error_set(e, errno > 0 ? -errno : -ESRCH, "name", "no such user '%s'", name);
        a.name = strdup(pw->pw_name);
        a.home = strdup(pw->pw_dir);
        if (!a.name || !a.home) {
                agent_account_done(&a);
                return -ENOMEM;
        }
        a.uid = pw->pw_uid;
        a.gid = pw->pw_gid;
        *ret = a;
        return 0;
}

int agent_account_lookup(const char *root, const char *name, AgentAccount *ret, ErrorInfo *e) {
        _cleanup_(account_info_done) AccountInfo info = {};
        ErrorInfo ae = {};
        AgentAccount a = {};
        int r;

        /* The account library is the one reader of /etc/subuid and /etc/subgid. */
        r = accounts_lookup(root, name, &info, &ae);
        if (r == -ENOENT || r == -EPERM || r == -EINVAL || r == -EEXIST) {
                if (e)
                        *e = ae;
                return r;
        }
        if (r < 0) {
                /* The account files could not be read (permissions, a malformed line, a lock held
                 * too long): still show who the account is, from NSS, and say why the ranges are
                 * unknown. */
                r = account_from_nss(name, ret, e);
                if (r < 0)
                        return r;
                (void) error_set(e, 0, "subuid", "subordinate id ranges unavailable: %s", ae.message);
                return 0;
        }

        a.name = TAKE_PTR(info.name);
        a.home = TAKE_PTR(info.home);
        a.uid = info.uid;
        a.gid = info.gid;
        a.have_ranges = true;
        a.subuid_start = info.subuid.start;
        a.subuid_count = info.subuid.count;
        a.subgid_start = info.subgid.start;
        a.subgid_count = info.subgid.count;
        *ret = a;
        return 0;
}

static int strv_push(char ***l, size_t *n, const char *s) {
        char **nl;

        for (size_t i = 0; i < *n; i++)
                if (streq((*l)[i], s))
                        return 0;
        nl = reallocarray(*l, *n + 2, sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[*n] = strdup(s);
        if (!nl[*n])
                return -ENOMEM;
        nl[++*n] = NULL;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int agent_enrolled_accounts(char ***ret) {
        char **l = NULL;
        size_t n = 0;
        struct group *gr;
        struct passwd *pw;
        gid_t gid;
        int r;

        errno = 0;
        gr = getgrnam(UNROOT_ACCOUNTS_GROUP);
        if (!gr)
                return errno > 0 ? -errno : -ENOENT;
        gid = gr->gr_gid;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char **m = gr->gr_mem; m && *m; m++) {
                r = strv_push(&l, &n, *m);
                if (r < 0)
                        goto fail;
        }
        /* The group membership is the marker (the helper adds every account it creates); a user
         * whose primary group is unroot-accounts counts as well. */
        setpwent();
        while ((pw = getpwent()))
                if (pw->pw_gid == gid) {
                        r = strv_push(&l, &n, pw->pw_name);
                        if (r < 0) {
                                endpwent();
                                goto fail;
                        }
                }
        endpwent();

        qsort(l, n, sizeof(char *), cmp_str);
        *ret = l;
        return 0;
fail:
        strv_free_agent(l);
        return r;
}
