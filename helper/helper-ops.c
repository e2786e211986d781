/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-home.h"
#include "helper-logind.h"
#include "helper-ops.h"
#include "log.h"

void op_result_done(OpResult *r) {
        change_list_done(&r->changes);
        free(r->shift_journal);
        free(r->secret_journal);
        account_info_done(&r->info);
}

/* sysusers' uid_is_ok(): an id or name known to NSS (LDAP, sssd, …) is taken even if the files
 * don't have it. */
static bool nss_user_exists(const char *name, void *ud) {
        return getpwnam(name) != NULL;
}
static bool nss_group_exists(const char *name, void *ud) {
        return getgrnam(name) != NULL;
}
static bool nss_uid_taken(uint32_t uid, void *ud) {
        return getpwuid(uid) != NULL;
}
static bool nss_gid_taken(uint32_t gid, void *ud) {
        return getgrgid(gid) != NULL;
}

const AccountsHooks helper_nss_hooks = {
        .user_exists = nss_user_exists,
        .group_exists = nss_group_exists,
        .uid_taken = nss_uid_taken,
        .gid_taken = nss_gid_taken,
};

/* logind resolves the uid through NSS; a stale nscd cache would make it miss the new user. */
void helper_nscd_invalidate(void) {
        pid_t pid;

        if (access("/run/nscd/socket", F_OK) < 0 || access("/usr/sbin/nscd", X_OK) < 0)
                return;
        pid = fork();
        if (pid < 0)
                return (void) log_warning_errno(-errno, "Failed to fork for nscd, ignoring: %m");
        if (pid == 0) {
                execl("/usr/sbin/nscd", "nscd", "-i", "passwd", "-i", "group", (char *) NULL);
                _exit(127);
        }
        (void) waitpid(pid, NULL, 0);
}

int op_enroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e) {
        bool changed = false;
        int r;

        r = accounts_enroll(ctx->root, req->name, req->subid_count, ctx->statedir, ctx->live ? &helper_nss_hooks : NULL,
                            &res->info, &res->changes, e);
        if (r < 0)
                return r;
        changed = r > 0;
        if (changed && ctx->live)
                helper_nscd_invalidate();

        r = home_ensure(ctx->root, ctx->statedir, req->name, res->info.uid, res->info.gid, &res->changes, e);
        if (r < 0)
                return r;
        changed = changed || r > 0;

        if (!ctx->live) {
                res->linger = false;
                return changed;
        }
        res->linger = linger_is_enabled(req->name);
        if (!res->linger) {
                r = logind_set_linger(res->info.uid, true);
                if (r < 0)
                        return error_set(e, r, "", "account %s is ready but linger could not be enabled "
                                         "(is systemd-logind running?): %s; run enroll again", req->name,
                                         strerror(-r));
                res->linger = true;
                changed = true;
                (void) change_list_add(&res->changes, "enabled linger for %s (user@%u.service starts now)",
                                       req->name, (unsigned) res->info.uid);
        }
        return changed;
}

int op_unenroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e) {
        bool changed = false;
        int r;

        r = accounts_lookup(ctx->root, req->name, &res->info, e);
        if (r == -ENOENT && req->purge) {
                /* A purge killed after the user was removed leaves the group and its unroot-accounts
                 * membership (removal renames them last); the processes and the home went before.
                 * accounts_remove() recognises that as ours and finishes. */
                r = accounts_remove(ctx->root, req->name, &res->changes, e);
                if (r < 0)
                        return r;
                /* Nothing left (purged before): the same request twice changes nothing and says so. */
                res->info.name = strdup(req->name);
                res->purged = true;
                return r;
        }
        if (r < 0)
                return r;

        if (ctx->live) {
                if (linger_is_enabled(req->name)) {
                        r = logind_set_linger(res->info.uid, false);
                        if (r < 0)
                                return error_set(e, r, "", "cannot disable linger for %s: %s", req->name,
                                                 strerror(-r));
                        changed = true;
                        (void) change_list_add(&res->changes, "disabled linger for %s", req->name);
                }
                r = logind_terminate_user(res->info.uid);
                if (r < 0)
                        return error_set(e, r, "", "cannot stop the processes of %s: %s", req->name,
                                         strerror(-r));
                if (r > 0) {
                        changed = true;
                        (void) change_list_add(&res->changes, "stopped user@%u.service and every process of %s",
                                               (unsigned) res->info.uid, req->name);
                }
                if (req->purge) {
                        r = logind_wait_user_gone(res->info.uid, 60ULL * 1000 * 1000);
                        if (r < 0)
                                return error_set(e, r, "", "processes of %s are still running after 60 s; "
                                                 "not removing its home yet, run unenroll --purge again",
                                                 req->name);
                }
        }

        if (req->purge) {
                r = home_remove(ctx->root, ctx->statedir, req->name, res->info.uid, &res->changes, e);
                if (r < 0)
                        return r;
                changed = changed || r > 0;
                r = accounts_remove(ctx->root, req->name, &res->changes, e);
                if (r < 0)
                        return r;
                changed = changed || r > 0;
                res->purged = true;
                if (ctx->live)
                        helper_nscd_invalidate();
        }
        return changed;
}
