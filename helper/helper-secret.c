/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's "secret-group" operation (issue 5): share a host service's secret file with an
 * account through a group. Apply: the file keeps its owner and gets group GROUP and mode 0440; the
 * account joins GROUP (created as a system group if absent). Rollback: the journal written before
 * any change says what to restore. The rules are in secret-policy.h and secret-group-plan.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts-txn.h"
#include "helper-ops.h"
#include "helper-shift.h"
#include "secret-group-plan.h"
#include "secret-journal.h"
#include "secret-policy.h"
#include "strv-util.h"
#include "util.h"

#define SECRET_JOURNAL_FILE_MAX 8192U
#define STATE_LOCK_TIMEOUT_USEC (15ULL * 1000000ULL)

/* <dirfd>/<name> replaced by data: temp file, fsync, rename, fsync of the directory. The caller
 * holds the state directory's lock, so the temp name cannot be in use; a killed run's temp file has
 * the account writer's prefix and is removed by etc_write_clean_stale() under that lock. */
static int replace_at(int dirfd, const char *name, const char *data, size_t len) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, ETC_TEMP_PREFIX "%s", name) < 0)
                return -ENOMEM;
        (void) unlinkat(dirfd, tmp, 0);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        if (r >= 0)
                r = RET_NERRNO(renameat(dirfd, tmp, dirfd, name));
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return RET_NERRNO(fsync(dirfd));
}

/* 0 and *ret = NULL if absent. */
static int read_at(int dirfd, const char *name, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, SECRET_JOURNAL_FILE_MAX, ret, ret_len);
}

/* 1 and *ret filled if the journal exists, 0 if not. */
static int journal_load(int sdir, const char *name, const char *shown, SecretJournal *ret, ErrorInfo *e) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_at(sdir, name, &data, &len);
        if (r < 0)
                return error_set(e, r, "", "cannot read the journal %s: %s", shown, strerror(-r));
        if (!data)
                return 0;
        r = secret_journal_parse(data, len, ret, e);
        if (r < 0)
                return error_set(e, r, "", "the journal %s is damaged (%s); move it away to share anew, or "
                                 "restore the file and the group by hand", shown, e ? e->message : "");
        return 1;
}

static int journal_store(int sdir, const char *name, const SecretJournal *j) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = secret_journal_format(j, &data, &len);
        if (r < 0)
                return r;
        return replace_at(sdir, name, data, len);
}

static int marker_load(int sdir, const char *group, SecretGroupMarker *ret) {
        _cleanup_free_ char *name = NULL, *data = NULL;
        size_t len;
        int r;

        *ret = (SecretGroupMarker) {};
        if (asprintf(&name, "%s" SECRET_MARKER_SUFFIX, group) < 0)
                return -ENOMEM;
        r = read_at(sdir, name, &data, &len);
        if (r < 0 || !data)
                return r;
        /* A damaged marker proves nothing: the group is then treated as one unroot did not create. */
        if (secret_marker_parse(data, len, &ret->gid) >= 0)
                ret->present = true;
        return 0;
}

static int marker_store(int sdir, const char *group, uint32_t gid) {
        _cleanup_free_ char *name = NULL;
        char buf[32];
        int n;

        if (asprintf(&name, "%s" SECRET_MARKER_SUFFIX, group) < 0)
                return -ENOMEM;
        n = secret_marker_format(gid, buf);
        return replace_at(sdir, name, buf, (size_t) n);
}

static int marker_remove(int sdir, const char *group) {
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, "%s" SECRET_MARKER_SUFFIX, group) < 0)
                return -ENOMEM;
        if (unlinkat(sdir, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return RET_NERRNO(fsync(sdir));
}

/* One secret-group at a time: journals and markers are read, decided on and replaced under this. */
static int lock_state(int sdir, ErrorInfo *e) {
        uint64_t deadline = now_usec() + STATE_LOCK_TIMEOUT_USEC;

        for (;;) {
                if (flock(sdir, LOCK_EX | LOCK_NB) >= 0)
                        return etc_write_clean_stale(sdir) < 0 ? -EIO : 0;
                if (errno != EWOULDBLOCK)
                        return error_set(e, -errno, "", "cannot lock the secret-group state: %m");
                if (now_usec() >= deadline)
                        return error_set(e, -EBUSY, "", "another secret-group request has been running for 15 s; "
                                         "try again later");
                (void) usleep(20 * 1000);
        }
}

/* Opens the secret as O_PATH: the allowed root without symlinks from the root directory, then the
 * rest without symlinks, magic links or escaping it. A final symlink opens as the link (O_PATH|
 * O_NOFOLLOW) and is refused by secret_stat_check(). */
static int open_secret(int rootfd, const char *allowed, const char *path, int *ret_fd, struct stat *ret_st,
                       ErrorInfo *e) {
        _cleanup_close_ int allowedfd = -EBADF, fd = -EBADF;
        int r;

        allowedfd = helper_open_beneath(rootfd, allowed + 1, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                                        O_PATH | O_DIRECTORY);
        if (allowedfd < 0)
                return error_set(e, allowedfd == -ENOENT ? -ENOENT : -EINVAL, "file",
                                 "file: cannot open the allowed root '%s': %s", allowed,
                                 allowedfd == -ELOOP ? "it is or passes through a symlink" : strerror(-allowedfd));
        fd = helper_open_beneath(allowedfd, path + strlen(allowed) + 1,
                                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, O_PATH);
        if (fd < 0)
                return error_set(e, fd == -ENOENT ? -ENOENT : -EINVAL, "file", "file: '%s': %s", path,
                                 fd == -ELOOP ? "a directory on the way is a symlink" :
                                 fd == -ENOENT ? "no such file" : strerror(-fd));
        if (fstat(fd, ret_st) < 0)
                return error_set(e, -errno, "file", "file: cannot stat '%s': %m", path);
        r = secret_stat_check(path, allowed, ret_st, e);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Moves the file from its current (group, mode) to (gid, mode) without ever widening access on the
 * way: first down to the owner bits both allow, then the group, then the final mode. The owner is
 * never changed ((uid_t) -1). Returns 1 if changed. */
static int file_transition(int fd, const struct stat *st, uint32_t gid, mode_t mode, const char *path, ErrorInfo *e) {
        char proc[64];
        mode_t cur = st->st_mode & 07777;

        if (st->st_gid == gid && cur == mode)
                return 0;
        /* fchmod() refuses O_PATH fds on 6.1 (no fchmodat2): go through the fd's magic link, which
         * names this inode whatever happened to the path since. */
        (void) snprintf(proc, sizeof proc, "/proc/self/fd/%i", fd);
        if (chmod(proc, cur & mode & 0700) < 0)
                return error_set(e, -errno, "file", "file: cannot change the mode of '%s': %m", path);
        if (st->st_gid != gid && fchownat(fd, "", (uid_t) -1, gid, AT_EMPTY_PATH) < 0)
                return error_set(e, -errno, "file", "file: cannot change the group of '%s': %m", path);
        if (chmod(proc, mode) < 0)
                return error_set(e, -errno, "file", "file: cannot change the mode of '%s': %m", path);
        return 1;
}

/* The account files locked and read, and what the state directory says about group. */
static int begin_group(const HelperContext *ctx, int sdir, const char *group, AccountsTxn *txn,
                       SecretGroupMarker *ret_marker, ErrorInfo *e) {
        int r;

        r = accounts_txn_begin(ctx->root, txn, e);
        if (r < 0)
                return r;
        r = marker_load(sdir, group, ret_marker);
        if (r < 0)
                return error_set(e, r, "", "cannot read the group marker in the state directory: %s", strerror(-r));
        return 0;
}

static int secret_apply(const HelperContext *ctx, const HelperRequest *req, OpResult *res, int sdir,
                        const char *jname, int fd, const struct stat *st, ErrorInfo *e) {
        _cleanup_(accounts_txn_done) AccountsTxn txn = { .etcfd = -EBADF, .lock = ETC_LOCK_NULL };
        /* What the plan would do is reported only once it is done. */
        _cleanup_(change_list_done) ChangeList planned = {};
        SecretJournal j = {}, old = {};
        SecretGroupMarker marker;
        SecretGroupPlan plan = {};
        int r, written, k;

        r = begin_group(ctx, sdir, req->group, &txn, &marker, e);
        if (r < 0)
                return r;
        /* The group's rules first: they hold whatever was shared before. Only the in-memory files
         * change here; nothing is written before the journal. */
        r = secret_group_plan_add(&txn.db, req->group, req->name, &marker, ctx->live ? &helper_nss_hooks : NULL,
                                  &plan, &planned, e);
        if (r < 0)
                return r;

        r = journal_load(sdir, jname, res->secret_journal, &old, e);
        if (r < 0)
                return r;
        if (r > 0) {
                /* A re-run (after a crash, or just twice): the first journal knows what was there. */
                if (!streq(old.group, req->group))
                        return error_set(e, -EEXIST, "group", "group: '%s' is already shared with '%s' through "
                                         "group '%s' (journal %s); roll that back first", req->path, req->name,
                                         old.group, res->secret_journal);
                if (old.dev != (uint64_t) st->st_dev || old.ino != (uint64_t) st->st_ino)
                        return error_set(e, -EEXIST, "file", "file: '%s' is not the file that was shared before "
                                         "(journal %s): it was replaced; roll back first, then share the new one",
                                         req->path, res->secret_journal);
                j = old;
        } else {
                (void) snprintf(j.account, sizeof j.account, "%s", req->name);
                (void) snprintf(j.group, sizeof j.group, "%s", req->group);
                (void) snprintf(j.file, sizeof j.file, "%s", req->path);
                j.dev = (uint64_t) st->st_dev;
                j.ino = (uint64_t) st->st_ino;
                j.owner = st->st_uid;
                j.previous_gid = st->st_gid;
                j.previous_mode = st->st_mode & 07777;
        }

        /* Journal (and marker) first, durably: a crash after this point leaves something rollback
         * understands, whatever else happened. */
        j.gid = plan.gid;
        j.group_created = j.group_created || plan.group_created;
        j.member_added = j.member_added || plan.member_changed;
        if (plan.group_created) {
                r = marker_store(sdir, req->group, plan.gid);
                if (r < 0)
                        return error_set(e, r, "", "cannot record the new group in the state directory: %s",
                                         strerror(-r));
        }
        if (memcmp(&j, &old, sizeof j) != 0) {
                r = journal_store(sdir, jname, &j);
                if (r < 0)
                        return error_set(e, r, "", "cannot write the journal %s: %s; nothing was changed",
                                         res->secret_journal, strerror(-r));
        }
        res->secret_gid = plan.gid;

        written = accounts_txn_commit(&txn, ETC_WRITE_ADD, e);
        if (written < 0)
                return written;
        accounts_txn_done(&txn);
        for (size_t i = 0; i < planned.n; i++)
                (void) change_list_add(&res->changes, "%s", planned.items[i]);
        res->group_created = plan.group_created;
        res->member_changed = plan.member_changed;
        if (written > 0 && ctx->live)
                helper_nscd_invalidate();

        k = file_transition(fd, st, plan.gid, SECRET_FILE_MODE, req->path, e);
        if (k < 0)
                return k;
        if (k > 0)
                (void) change_list_add(&res->changes, "%s: group %u -> %s (gid %" PRIu32 "), mode %04o -> %04o, owner "
                                       "%u kept", req->path, (unsigned) st->st_gid, req->group, plan.gid,
                                       (unsigned) (st->st_mode & 07777), SECRET_FILE_MODE, (unsigned) st->st_uid);
        if (written == 0 && k == 0)
                (void) change_list_add(&res->changes, "%s is already shared with %s through group '%s' (journal %s)",
                                       req->path, req->name, req->group, res->secret_journal);
        return written > 0 || k > 0;
}

/* Another journal of the same account and group still needs the membership: it is handed to that
 * journal (its rollback removes it) instead of being removed now. Returns 1 if handed over. */
static int hand_over_membership(int sdir, const char *jname, const SecretJournal *j, ChangeList *changes) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        d = opendir_at(sdir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                SecretJournal other;
                size_t n = strlen(de->d_name);

                if (n < 8 || !streq(de->d_name + n - 8, ".journal") || streq(de->d_name, jname) ||
                    de->d_name[0] == '.')
                        continue;
                if (journal_load(sdir, de->d_name, de->d_name, &other, NULL) <= 0)
                        continue;
                if (!streq(other.account, j->account) || !streq(other.group, j->group))
                        continue;
                if (!other.member_added) {
                        other.member_added = true;
                        if (journal_store(sdir, de->d_name, &other) < 0)
                                return -EIO;
                }
                (void) change_list_add(changes, "kept '%s' in group '%s': %s is still shared with it", j->account,
                                       j->group, other.file);
                return 1;
        }
        return 0;
}

/* A marker whose group was never written (killed before the journal, which rollback needs): gone. */
static int remove_stale_marker(const HelperContext *ctx, int sdir, const char *group, ErrorInfo *e) {
        _cleanup_(accounts_txn_done) AccountsTxn txn = { .etcfd = -EBADF, .lock = ETC_LOCK_NULL };
        SecretGroupMarker marker;
        int r;

        r = begin_group(ctx, sdir, group, &txn, &marker, e);
        if (r < 0 || !marker.present)
                return r;
        if (etc_file_find_record(&txn.db.files[ETC_GROUP], group) >= 0)
                return 0;
        r = marker_remove(sdir, group);
        if (r < 0)
                return error_set(e, r, "", "cannot remove the stale group marker: %s", strerror(-r));
        return 0;
}

static int secret_rollback(const HelperContext *ctx, const HelperRequest *req, OpResult *res, int sdir,
                           const char *jname, int fd, const struct stat *st, const ErrorInfo *open_error,
                           ErrorInfo *e) {
        _cleanup_(accounts_txn_done) AccountsTxn txn = { .etcfd = -EBADF, .lock = ETC_LOCK_NULL };
        _cleanup_(change_list_done) ChangeList planned = {};
        SecretGroupMarker marker;
        SecretGroupPlan plan = {};
        SecretJournal j;
        bool remove_member, group_left;
        int r, k = 0, written;

        r = journal_load(sdir, jname, res->secret_journal, &j, e);
        if (r < 0)
                return r;
        if (r == 0) {
                (void) change_list_add(&res->changes, "no secret-group journal for %s and %s: nothing to roll back",
                                       req->path, req->name);
                return remove_stale_marker(ctx, sdir, req->group, e);
        }
        if (!streq(j.group, req->group))
                return error_set(e, -EINVAL, "group", "group: '%s' was shared with '%s' through group '%s', not '%s' "
                                 "(journal %s)", req->path, req->name, j.group, req->group, res->secret_journal);
        res->secret_gid = j.gid;

        /* The file first (apply did it last). Only the journaled inode, and only while its group is
         * one this operation set or found: anything else is someone's later decision. */
        if (fd < 0)
                (void) change_list_add(&res->changes, "left alone: %s", open_error->message);
        else if ((uint64_t) st->st_dev != j.dev || (uint64_t) st->st_ino != j.ino)
                (void) change_list_add(&res->changes, "left alone: %s is no longer the file that was shared (it was "
                                       "replaced)", req->path);
        else if (st->st_gid != j.gid && st->st_gid != j.previous_gid)
                (void) change_list_add(&res->changes, "left alone: %s now has group %u, neither '%s' (%" PRIu32 ") nor "
                                       "its previous group %" PRIu32, req->path, (unsigned) st->st_gid, j.group,
                                       j.gid, j.previous_gid);
        else {
                k = file_transition(fd, st, j.previous_gid, j.previous_mode, req->path, e);
                if (k < 0)
                        return error_set(e, k, "file", "%s; the journal %s is kept: fix that and roll back again",
                                         e ? e->message : "cannot restore the file", res->secret_journal);
                if (k > 0)
                        (void) change_list_add(&res->changes, "%s: group and mode restored to %" PRIu32 ", %04" PRIo32,
                                               req->path, j.previous_gid, j.previous_mode);
        }

        remove_member = j.member_added;
        if (remove_member) {
                r = hand_over_membership(sdir, jname, &j, &res->changes);
                if (r < 0)
                        return error_set(e, r, "", "cannot update the other journals of '%s': %s", req->name,
                                         strerror(-r));
                remove_member = r == 0;
        }

        r = begin_group(ctx, sdir, req->group, &txn, &marker, e);
        if (r < 0)
                return r;
        r = secret_group_plan_remove(&txn.db, req->group, req->name, remove_member, &marker, &plan, &planned, e);
        if (r < 0)
                return r;
        written = accounts_txn_commit(&txn, ETC_WRITE_REMOVE, e);
        if (written < 0)
                return written;
        group_left = etc_file_find_record(&txn.db.files[ETC_GROUP], req->group) >= 0;
        accounts_txn_done(&txn);
        for (size_t i = 0; i < planned.n; i++)
                (void) change_list_add(&res->changes, "%s", planned.items[i]);
        res->group_created = plan.group_removed;
        res->member_changed = plan.member_changed;
        if (written > 0 && ctx->live)
                helper_nscd_invalidate();

        /* Stale markers (a group removed by hand, a crash before the group was written) go too. */
        if (marker.present && !group_left) {
                r = marker_remove(sdir, req->group);
                if (r < 0)
                        return error_set(e, r, "", "cannot remove the group marker: %s", strerror(-r));
        }
        if (unlinkat(sdir, jname, 0) < 0 || fsync(sdir) < 0)
                return error_set(e, -errno, "", "rolled back, but cannot remove the journal %s: %m", res->secret_journal);
        (void) change_list_add(&res->changes, "journal %s removed", res->secret_journal);
        return k > 0 || written > 0;
}

int op_secret_group(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e) {
        const char *statedir = ctx->statedir ?: ACCOUNTS_DEFAULT_STATEDIR;
        _cleanup_close_ int rootfd = -EBADF, sdir = -EBADF, fd = -EBADF;
        _cleanup_strv_free_ char **roots = NULL;
        _cleanup_free_ char *jname = NULL;
        const char *allowed = NULL;
        ErrorInfo open_error = {};
        struct stat st = {};
        int r;

        r = accounts_lookup(ctx->root, req->name, &res->info, e);
        if (r < 0) {
                ErrorInfo copy = e ? *e : (ErrorInfo) {};
                return r == -EINVAL ? r : error_set(e, r, "account", "account: %s", copy.message);
        }
        if (statedir[0] != '/')
                return error_set(e, -EINVAL, "statedir", "the state directory must be absolute");

        r = secret_roots_load(ctx->root, &roots, e);
        if (r < 0)
                return r;
        /* Applying needs a file that passes every rule. Rolling back does what it can: the group part
         * is undone even if the file is gone or was replaced by something refused now. */
        r = secret_path_confine(req->path, roots, statedir, &allowed, req->rollback ? &open_error : e);
        if (r < 0 && !req->rollback)
                return r;

        rootfd = open(ctx->root && *ctx->root ? ctx->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(e, -errno, "", "cannot open the root directory: %m");
        if (r >= 0) {
                r = open_secret(rootfd, allowed, req->path, &fd, &st, req->rollback ? &open_error : e);
                if (r < 0 && !req->rollback)
                        return r;
        }

        r = shift_journal_name(req->name, req->path, &jname);
        if (r < 0)
                return r;
        if (asprintf(&res->secret_journal, "%s/%s/%s", statedir, SECRET_STATE_SUBDIR, jname) < 0)
                return -ENOMEM;
        r = helper_open_state_subdir(rootfd, statedir, SECRET_STATE_SUBDIR, !req->rollback, &sdir);
        if (r == -ENOENT && req->rollback) {
                (void) change_list_add(&res->changes, "no secret-group journal for %s and %s: nothing to roll back",
                                       req->path, req->name);
                return 0;
        }
        if (r < 0)
                return error_set(e, r, "", "cannot open the state directory %s/%s: %s", statedir, SECRET_STATE_SUBDIR,
                                 r == -EPERM ? "it must belong to root with mode 0700" : strerror(-r));
        r = lock_state(sdir, e);
        if (r < 0)
                return r;

        if (req->rollback)
                return secret_rollback(ctx, req, res, sdir, jname, fd, &st, &open_error, e);
        return secret_apply(ctx, req, res, sdir, jname, fd, &st, e);
}
