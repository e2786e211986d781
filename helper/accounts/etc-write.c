/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "etc-write.h"
#include "util.h"

static EtcWriteFault fault_hook = NULL;

void etc_write_set_fault(EtcWriteFault f) {
        fault_hook = f;
}

static int fault(const char *step, const char *file) {
        return fault_hook ? fault_hook(step, file) : 0;
}

typedef struct Temp {
        char name[64];
        char target[32];
        bool live; /* exists on disk under name */
} Temp;

static int random_suffix(char buf[static 17]) {
        uint8_t b[8];
        ssize_t k;

        k = getrandom(b, sizeof b, 0);
        if (k != (ssize_t) sizeof b)
                return k < 0 ? -errno : -EIO;
        for (size_t i = 0; i < sizeof b; i++)
                (void) snprintf(buf + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* Creates a temp file next to target with exactly data, mode and owner, durable on return. */
static int write_temp(int etcfd, const char *target, const char *data, size_t len,
                      mode_t mode, uid_t uid, gid_t gid, Temp *t, ErrorInfo *e) {
        _cleanup_close_ int fd = -EBADF;
        char sfx[17];
        int r;

        r = fault("create", target);
        if (r >= 0)
                r = random_suffix(sfx);
        if (r < 0)
                return error_set(e, r, target, "Cannot create a temporary file for /etc/%s: %s", target, strerror(-r));
        (void) snprintf(t->name, sizeof t->name, ETC_TEMP_PREFIX "%s.%s", target, sfx);
        (void) snprintf(t->target, sizeof t->target, "%s", target);
        /* 0600 until fchmod: the unit's UMask and a reader racing us never see shadow data with
         * looser permissions than the final file. */
        fd = openat(etcfd, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return error_set(e, -errno, target, "Cannot create a temporary file for /etc/%s: %m", target);
        t->live = true;
        /* Owner before mode: fchown clears set-id bits, and the mode is set explicitly afterwards. */
        if (fchown(fd, uid, gid) < 0)
                return error_set(e, -errno, target, "Cannot set the owner of the new /etc/%s: %m", target);
        if (fchmod(fd, mode) < 0)
                return error_set(e, -errno, target, "Cannot set the mode of the new /etc/%s: %m", target);
        r = fault("write", target);
        if (r >= 0)
                r = write_all(fd, data, len);
        if (r < 0)
                return error_set(e, r, target, "Cannot write the new /etc/%s: %s", target, strerror(-r));
        r = fault("fsync", target);
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        if (r < 0)
                return error_set(e, r, target, "Cannot fsync the new /etc/%s: %s", target, strerror(-r));
        r = RET_NERRNO(close(TAKE_FD(fd)));
        if (r < 0)
                return error_set(e, r, target, "Cannot close the new /etc/%s: %s", target, strerror(-r));
        return 0;
}

static void unlink_temps(int etcfd, Temp *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (t[i].live) {
                        (void) unlinkat(etcfd, t[i].name, 0);
                        t[i].live = false;
                }
}

static int rename_temp(int etcfd, Temp *t, const char *step, ErrorInfo *e) {
        int r;

        r = fault(step, t->target);
        if (r >= 0)
                r = RET_NERRNO(renameat(etcfd, t->name, etcfd, t->target));
        if (r < 0)
                return error_set(e, r, t->target, "Cannot rename the new /etc/%s into place: %s", t->target,
                                 strerror(-r));
        t->live = false;
        return 0;
}

int etc_write_files(int etcfd, EtcFile files[static _ETC_KIND_MAX], ErrorInfo *e) {
        return etc_write_files_ordered(etcfd, files, ETC_WRITE_ADD, e);
}

int etc_write_files_ordered(int etcfd, EtcFile files[static _ETC_KIND_MAX], EtcWriteOrder order, ErrorInfo *e) {
        Temp news[_ETC_KIND_MAX] = {}, backups[_ETC_KIND_MAX] = {};
        size_t n_new = 0, n_backup = 0;
        int r;

        for (EtcKind i = 0; i < _ETC_KIND_MAX; i++) {
                /* news[] gets the rename order: EtcKind order when adding, reversed when removing. */
                EtcKind k = order == ETC_WRITE_REMOVE ? _ETC_KIND_MAX - 1 - i : i;
                EtcFile *f = &files[k];
                _cleanup_free_ char *data = NULL;
                size_t len;
                char bname[32];

                if (!f->changed)
                        continue;
                r = etc_file_serialize(f, &data, &len);
                if (r < 0) {
                        r = error_set(e, r, etc_kind_file(k), "Out of memory.");
                        goto fail;
                }
                r = write_temp(etcfd, etc_kind_file(k), data, len, f->mode, f->uid, f->gid, &news[n_new++], e);
                if (r < 0)
                        goto fail;
                if (!f->existed)
                        continue;
                /* Backup with the same mode and owner: a world-readable shadow- would leak hashes. */
                (void) snprintf(bname, sizeof bname, "%s-", etc_kind_file(k));
                r = write_temp(etcfd, bname, f->orig, f->orig_len, f->mode, f->uid, f->gid, &backups[n_backup++], e);
                if (r < 0)
                        goto fail;
        }
        if (n_new == 0)
                return 0;

        for (size_t i = 0; i < n_backup; i++) {
                r = rename_temp(etcfd, &backups[i], "rename-backup", e);
                if (r < 0)
                        goto fail;
        }
        /* news[] is in rename order. Adding: group first, subgid last, so a crash leaves a group
         * without its user at worst, never a user without its group. Removing: the reverse, so the
         * ranges go before the user, the user before its group, and the unroot-accounts membership
         * (in the group file) last: a crash leaves something a re-run still recognises as ours. */
        for (size_t i = 0; i < n_new; i++) {
                r = rename_temp(etcfd, &news[i], "rename", e);
                if (r < 0) {
                        if (i > 0)
                                (void) snprintf(e ? e->message + strlen(e->message) : NULL,
                                                e ? sizeof e->message - strlen(e->message) : 0,
                                                " The files before it were already replaced; running the same "
                                                "operation again completes the change.");
                        goto fail;
                }
        }
        r = fault("fsync-dir", "");
        if (r >= 0)
                r = RET_NERRNO(fsync(etcfd));
        if (r < 0)
                /* The renames happened; only their durability is in doubt. */
                return error_set(e, r, "/etc", "Cannot fsync /etc after replacing the account files: %s",
                                 strerror(-r));
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                files[k].changed = false;
        return 1;

fail:
        unlink_temps(etcfd, news, n_new);
        unlink_temps(etcfd, backups, n_backup);
        return r;
}

int etc_write_clean_stale(int etcfd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        d = opendir_at(etcfd);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                struct stat st;

                if (!strneq(de->d_name, ETC_TEMP_PREFIX, STRLEN(ETC_TEMP_PREFIX)))
                        continue;
                /* Only regular files we could have made; never follow or remove anything else. */
                if (fstatat(etcfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(etcfd, de->d_name, 0) >= 0)
                        n++;
        }
        return n;
}
