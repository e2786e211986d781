/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Orchestration: open <root>/etc, lock, (re)read, plan, write. Everything with side effects that is
 * not the writer itself lives here; the decisions live in enroll-plan.c. */
#include <errno.h>
#include <string.h>

#include "accounts.h"
#include "accounts-txn.h"
#include "enroll-plan.h"
#include "etc-lock.h"
#include "etc-write.h"
#include "util.h"

#define IN_SET_ACCESS(r) ((r) == -EACCES || (r) == -EPERM || (r) == -EROFS)

static uint64_t lock_timeout_usec = ETC_LOCK_TIMEOUT_USEC_DEFAULT;

void accounts_set_lock_timeout_usec(uint64_t usec) {
        lock_timeout_usec = usec;
}

static int open_etc(const char *root, int *ret, ErrorInfo *e) {
        int r = open_etc_dir(root, ret);
        if (r < 0)
                return error_set(e, r, "root", "Cannot open '%s/etc' as a directory: %s", root_is_live(root) ? "" : root,
                                 strerror(-r));
        return 0;
}

/* Mode and owner for files that do not exist yet (helper-anchors §2.6): 0644 root:root, shadow and
 * gshadow 0640 root:shadow. Only root can give files away; an unprivileged caller (the test suite)
 * gets files owned by itself. */
static void default_rights(AccountsDb *db) {
        gid_t shadow_gid = 0;
        ssize_t i = etc_file_find_record(&db->files[ETC_GROUP], "shadow");

        if (i >= 0)
                shadow_gid = db->files[ETC_GROUP].lines[i].id[0];
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                EtcFile *f = &db->files[k];
                bool secret = k == ETC_SHADOW || k == ETC_GSHADOW;

                if (f->existed)
                        continue;
                f->mode = secret ? 0640 : 0644;
                f->uid = 0;
                f->gid = secret ? shadow_gid : 0;
                if (geteuid() != 0) {
                        f->uid = geteuid();
                        f->gid = getegid();
                }
        }
}

static int db_load(int etcfd, bool readonly, AccountsDb *db, ErrorInfo *e) {
        int r;

        *db = (AccountsDb) {};
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                r = etc_file_load_at(etcfd, k, &db->files[k], e);
                /* Lookups need no secrets: an unprivileged reader (the agent, agentctl) goes on
                 * without shadow and gshadow. */
                if (r == -EACCES && readonly && (k == ETC_SHADOW || k == ETC_GSHADOW)) {
                        db->files[k] = (EtcFile) { .kind = k };
                        continue;
                }
                if (r < 0) {
                        accounts_db_done(db);
                        return r;
                }
        }
        r = login_defs_load_at(etcfd, &db->defs, e);
        if (r < 0) {
                accounts_db_done(db);
                return r;
        }
        default_rights(db);
        return 0;
}

/* Opens, locks and loads; the caller owns *ret_lock and *ret_db on success. */
static int begin(const char *root, bool exclusive, int *ret_etcfd, EtcLock *ret_lock, AccountsDb *ret_db, ErrorInfo *e) {
        _cleanup_(etc_lock_release) EtcLock lock = ETC_LOCK_NULL;
        _cleanup_close_ int etcfd = -EBADF;
        int r;

        r = open_etc(root, &etcfd, e);
        if (r < 0)
                return r;
        r = etc_lock_take(etcfd, exclusive, lock_timeout_usec, &lock, e);
        /* Only root can open /etc/.pwd.lock. An unprivileged lookup reads unlocked: every file is
         * replaced by rename(), so each one is read either old or new, never torn. */
        if (!exclusive && IN_SET_ACCESS(r))
                r = 0;
        if (r < 0)
                return r;
        if (exclusive)
                /* A killed run may have left temp files; under the lock nobody else is writing. */
                (void) etc_write_clean_stale(etcfd);
        /* Read only now, with the lock held: what we plan on is what we replace. */
        r = db_load(etcfd, !exclusive, ret_db, e);
        if (r < 0)
                return r;
        *ret_etcfd = TAKE_FD(etcfd);
        *ret_lock = lock;
        lock = ETC_LOCK_NULL;
        return 0;
}

int accounts_enroll(const char *root, const char *name, uint32_t subid_count, const char *statedir,
                    const AccountsHooks *hooks, AccountInfo *ret_info, ChangeList *changes, ErrorInfo *e) {
        _cleanup_(change_list_done) ChangeList ch = {};
        _cleanup_(accounts_db_done) AccountsDb db = {};
        _cleanup_(account_info_done) AccountInfo info = {};
        _cleanup_(etc_lock_release) EtcLock lock = ETC_LOCK_NULL;
        _cleanup_close_ int etcfd = -EBADF;
        int r, changed;

        if (!name)
                return error_set(e, -EINVAL, "name", "The account name is missing.");
        /* Cheap refusals first, without touching /etc. */
        r = account_name_check(name, strlen(name), e);
        if (r < 0)
                return r;
        r = accounts_subid_count_check(subid_count, e);
        if (r < 0)
                return r;

        r = begin(root, true, &etcfd, &lock, &db, e);
        if (r < 0)
                return r;
        r = nsswitch_check_subid_at(etcfd, e);
        if (r < 0)
                return r;

        changed = enroll_plan(&db, name, subid_count, statedir, hooks, &info, &ch, e);
        if (changed < 0)
                return changed;
        if (changed > 0) {
                r = etc_write_files(etcfd, db.files, e);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ch.n; i++)
                if (change_list_add(changes, "%s", ch.items[i]) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        if (ret_info)
                *ret_info = TAKE_STRUCT(info);
        return changed;
}

int accounts_lookup(const char *root, const char *name, AccountInfo *ret_info, ErrorInfo *e) {
        _cleanup_(accounts_db_done) AccountsDb db = {};
        _cleanup_(etc_lock_release) EtcLock lock = ETC_LOCK_NULL;
        _cleanup_close_ int etcfd = -EBADF;
        int r;

        if (!name)
                return error_set(e, -EINVAL, "name", "The account name is missing.");
        if (!account_name_is_valid(name, strlen(name)))
                return account_name_check(name, strlen(name), e);
        r = begin(root, false, &etcfd, &lock, &db, e);
        if (r < 0)
                return r;
        return lookup_plan(&db, name, ret_info, e);
}

int accounts_list(const char *root, char ***ret, ErrorInfo *e) {
        _cleanup_(accounts_db_done) AccountsDb db = {};
        _cleanup_(etc_lock_release) EtcLock lock = ETC_LOCK_NULL;
        _cleanup_close_ int etcfd = -EBADF;
        _cleanup_strv_free_ char **l = NULL;
        ssize_t i;
        int r;

        r = begin(root, false, &etcfd, &lock, &db, e);
        if (r < 0)
                return r;
        i = etc_file_find_record(&db.files[ETC_GROUP], ACCOUNTS_GROUP);
        if (i >= 0)
                r = strv_split_char(db.files[ETC_GROUP].lines[i].fields[3], ',', &l);
        else {
                l = calloc(1, sizeof(char *));
                r = l ? 0 : -ENOMEM;
        }
        if (r < 0)
                return error_set(e, r, NULL, "Out of memory.");
        *ret = TAKE_PTR(l);
        return 0;
}

void strv_free_accounts(char **l) {
        (void) strv_free(l);
}

int accounts_remove(const char *root, const char *name, ChangeList *changes, ErrorInfo *e) {
        _cleanup_(change_list_done) ChangeList ch = {};
        _cleanup_(accounts_db_done) AccountsDb db = {};
        _cleanup_(etc_lock_release) EtcLock lock = ETC_LOCK_NULL;
        _cleanup_close_ int etcfd = -EBADF;
        int r, changed;

        if (!name)
                return error_set(e, -EINVAL, "name", "The account name is missing.");
        if (!account_name_is_valid(name, strlen(name)))
                return account_name_check(name, strlen(name), e);
        r = begin(root, true, &etcfd, &lock, &db, e);
        if (r < 0)
                return r;
        changed = remove_plan(&db, name, &ch, e);
        if (changed <= 0)
                return changed;
        r = etc_write_files_ordered(etcfd, db.files, ETC_WRITE_REMOVE, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ch.n; i++)
                if (change_list_add(changes, "%s", ch.items[i]) < 0)
                        return error_set(e, -ENOMEM, NULL, "Out of memory.");
        return changed;
}

int accounts_txn_begin(const char *root, AccountsTxn *ret, ErrorInfo *e) {
        *ret = (AccountsTxn) { .etcfd = -EBADF, .lock = ETC_LOCK_NULL };
        return begin(root, true, &ret->etcfd, &ret->lock, &ret->db, e);
}

int accounts_txn_commit(AccountsTxn *t, EtcWriteOrder order, ErrorInfo *e) {
        return etc_write_files_ordered(t->etcfd, t->db.files, order, e);
}

void accounts_txn_done(AccountsTxn *t) {
        if (!t)
                return;
        accounts_db_done(&t->db);
        etc_lock_release(&t->lock);
        t->etcfd = safe_close(t->etcfd);
}
