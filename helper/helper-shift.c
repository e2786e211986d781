/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper-ops.h"
#include "helper-shift.h"
#include "shift-journal.h"
#include "shift-roots.h"
#include "strv-util.h"

#define REPORT_LINES_MAX 64U

int shift_journal_name(const char *account, const char *path, char **ret) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const unsigned char *p = (const unsigned char *) path; *p; p++)
                h = (h ^ *p) * 0x100000001b3ULL;
        return asprintf(ret, "%s-%016" PRIx64 ".journal", account, h) < 0 ? -ENOMEM : 0;
}

int helper_open_beneath(int dirfd, const char *rel, uint64_t resolve, int flags) {
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC | O_NOFOLLOW), .resolve = resolve };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        return fd < 0 ? -errno : (int) fd;
}

int helper_open_state_subdir(int rootfd, const char *statedir, const char *subdir, bool create, int *ret) {
        _cleanup_close_ int sfd = -EBADF, fd = -EBADF;
        struct stat st;

        sfd = helper_open_beneath(rootfd, statedir + 1, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                           O_PATH | O_DIRECTORY);
        if (sfd < 0)
                return sfd;
        if (create && mkdirat(sfd, subdir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = helper_open_beneath(sfd, subdir, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        /* Journals decide what is restored as root: only ever read them from a directory nobody
         * else can write (an account named like the subdirectory would own its home there). */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                return -EPERM;
        *ret = TAKE_FD(fd);
        return 0;
}

typedef struct Reporter {
        ChangeList *changes;
        uint64_t n;
        bool rollback;
} Reporter;

static void report_cb(const char *reason, const char *relpath, void *userdata) {
        Reporter *rep = userdata;
        ShiftBuf b = {};

        /* Names are the container's: escaped as in the journal (no newlines or invalid UTF-8 in a
         * reply string). */
        if (rep->n++ < REPORT_LINES_MAX && shift_path_escape(&b, relpath) >= 0)
                (void) change_list_add(rep->changes, "%s '%s': %s", rep->rollback ? "rollback" : "left alone",
                                       b.data, reason);
        shift_buf_done(&b);
}

int op_shift(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e) {
        const char *statedir = ctx->statedir ?: ACCOUNTS_DEFAULT_STATEDIR;
        _cleanup_close_ int rootfd = -EBADF, allowedfd = -EBADF, topfd = -EBADF, jdir = -EBADF, jfd = -EBADF;
        _cleanup_strv_free_ char **roots = NULL;
        _cleanup_free_ char *home = NULL, *jname = NULL;
        Reporter rep = { .changes = &res->changes, .rollback = req->rollback };
        ShiftParams p = {};
        const char *allowed;
        int r, k;

        r = accounts_lookup(ctx->root, req->name, &res->info, e);
        if (r < 0)
                return r == -EINVAL ? r : error_set(e, r, "account", "account: %s", e->message);
        if (res->info.subuid.count == 0 || res->info.subgid.count == 0)
                return error_set(e, -ENOENT, "account", "account: '%s' has no subordinate uid or gid range; "
                                 "run 'agentctl enroll %s' first", req->name, req->name);

        if (statedir[0] != '/' || asprintf(&home, "%s/%s", statedir, req->name) < 0)
                return -ENOMEM;
        r = shift_roots_load(ctx->root, home, &roots, e);
        if (r < 0)
                return r;
        allowed = shift_roots_find(roots, req->path);
        if (!allowed) {
                char list[512] = "";
                for (char **s = roots; *s; s++)
                        (void) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", s == roots ? "" : ", ", *s);
                return error_set(e, -EINVAL, "path", "path: '%s' is not below an allowed root (%s; configure more in %s)",
                                 req->path, list, SHIFT_ROOTS_CONF);
        }

        rootfd = open(ctx->root && *ctx->root ? ctx->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(e, -errno, "", "cannot open the root directory: %m");
        /* The allowed root is the admin's: it may be a mount point of its own, but no symlink. */
        allowedfd = helper_open_beneath(rootfd, allowed + 1, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                                 O_PATH | O_DIRECTORY);
        if (allowedfd < 0)
                return error_set(e, allowedfd, "path", "path: cannot open the allowed root '%s': %s", allowed,
                                 strerror(-allowedfd));
        /* Below it, everything may be the container's: no symlink, no mount crossing. */
        topfd = helper_open_beneath(allowedfd, req->path + strlen(allowed) + 1,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
                             O_PATH | O_DIRECTORY);
        if (topfd == -ENOTDIR) {
                /* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR: name the real reason. */
                _cleanup_close_ int lfd = helper_open_beneath(allowedfd, req->path + strlen(allowed) + 1,
                                                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
                                                       RESOLVE_NO_MAGICLINKS, O_PATH);
                struct stat st;
                if (lfd >= 0 && fstat(lfd, &st) >= 0 && S_ISLNK(st.st_mode))
                        topfd = -ELOOP;
        }
        if (topfd < 0)
                return error_set(e, topfd == -ENOENT ? -ENOENT : -EINVAL, "path", "path: '%s': %s", req->path,
                                 topfd == -ELOOP ? "a component is a symlink" :
                                 topfd == -EXDEV ? "crosses a mount point below the allowed root" :
                                 topfd == -ENOTDIR ? "not a directory" : strerror(-topfd));

        r = shift_journal_name(req->name, req->path, &jname);
        if (r < 0)
                return r;
        r = helper_open_state_subdir(rootfd, statedir, SHIFT_JOURNAL_SUBDIR, !req->rollback, &jdir);
        if (r == -ENOENT && req->rollback)
                goto no_journal;
        if (r < 0)
                return error_set(e, r, "", "cannot open the journal directory %s/%s: %s", statedir,
                                 SHIFT_JOURNAL_SUBDIR, strerror(-r));
        if (asprintf(&res->shift_journal, "%s/%s/%s", statedir, SHIFT_JOURNAL_SUBDIR, jname) < 0)
                return -ENOMEM;
        jfd = openat(jdir, jname, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (req->rollback ? 0 : O_CREAT), 0600);
        if (jfd < 0 && errno == ENOENT && req->rollback)
                goto no_journal;
        if (jfd < 0)
                return error_set(e, -errno, "", "cannot open the journal %s: %m", res->shift_journal);
        if (flock(jfd, LOCK_EX | LOCK_NB) < 0)
                return error_set(e, errno == EWOULDBLOCK ? -EBUSY : -errno, "path",
                                 "path: another shift or rollback of '%s' is running", req->path);
        if (!req->rollback && fsync(jdir) < 0)
                return error_set(e, -errno, "", "cannot sync the journal directory: %m");

        p = (ShiftParams) {
                .top_fd = topfd,
                .top_path = req->path,
                .account = req->name,
                .map = {
                        .uid = { res->info.uid, res->info.subuid.start, res->info.subuid.count },
                        .gid = { res->info.gid, res->info.subgid.start, res->info.subgid.count },
                },
                .journal_fd = jfd,
                .report = report_cb,
                .userdata = &rep,
        };
        r = req->rollback ? shift_rollback(&p, &res->shift, e) : shift_tree(&p, &res->shift, e);
        if (rep.n > REPORT_LINES_MAX)
                (void) change_list_add(&res->changes, "… and %" PRIu64 " more (all of them are in %s)",
                                       rep.n - REPORT_LINES_MAX, res->shift_journal);
        if (r < 0)
                return r;

        if (req->rollback && res->shift.failed == 0) {
                /* Everything that could be restored is, and on disk (shift_rollback synced): the
                 * journal has done its job. A failure keeps it for another try. */
                if (unlinkat(jdir, jname, 0) < 0 || fsync(jdir) < 0)
                        return error_set(e, -errno, "", "rolled back, but cannot remove the journal %s: %m",
                                         res->shift_journal);
                (void) change_list_add(&res->changes, "rolled back %" PRIu64 " inodes of %s from %s (journal removed)",
                                       res->shift.changed, req->path, res->shift_journal);
        } else if (req->rollback)
                return error_set(e, -EIO, "", "%" PRIu64 " inodes of '%s' could not be restored (listed above); "
                                 "the journal %s is kept: fix them and roll back again", res->shift.failed, req->path,
                                 res->shift_journal);
        else if (r == 0)
                (void) change_list_add(&res->changes, "%s was already shifted to %s (journal %s)", req->path,
                                       req->name, res->shift_journal);
        else
                (void) change_list_add(&res->changes, "shifted %" PRIu64 " inodes of %s to %s (uid %u+%u, gid %u+%u); "
                                       "%" PRIu64 " left alone, %" PRIu64 " failed; journal %s",
                                       res->shift.changed, req->path, req->name, res->info.subuid.start,
                                       res->info.subuid.count, res->info.subgid.start, res->info.subgid.count,
                                       res->shift.skipped, res->shift.failed, res->shift_journal);
        k = res->shift.failed > 0 && !req->rollback
                ? error_set(e, -EIO, "", "%" PRIu64 " inodes of '%s' could not be changed (listed above); "
                            "fix them and run the shift again to finish", res->shift.failed, req->path)
                : r;
        return k;

no_journal:
        /* Nothing journaled (never shifted, or rolled back before): nothing to undo. */
        if (!res->shift_journal && asprintf(&res->shift_journal, "%s/%s/%s", statedir, SHIFT_JOURNAL_SUBDIR, jname) < 0)
                return -ENOMEM;
        (void) change_list_add(&res->changes, "no shift journal for %s: nothing to roll back", req->path);
        return 0;
}
