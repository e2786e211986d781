/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "shift-journal.h"
#include "shift-walk.h"

#define RESOLVE_SAFE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS)

static int pin(int dirfd, const char *name) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_SAFE,
        };
        long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        return fd < 0 ? -errno : (int) fd;
}

/* Opens a directory entry for the shift: a real fd where that is provably harmless, else the O_PATH
 * pin. Through a pin, xattrs are reached only by the /proc/self/fd magic link (a lookup that costs
 * as much as the chown) and the owner only by fchownat(""); a real fd takes flistxattr() and
 * fchown() directly: 8.8 against 12.9 µs an entry, open to close (ext4, this machine). But a real
 * open runs the inode's open(), so it is only tried:
 *  - for a directory (by d_type): O_DIRECTORY fails on anything else before it is opened;
 *  - for a regular file (by d_type) when `files` is set: the tree's mount is nodev, so a device node
 *    swapped in since readdir is refused by may_open() before its driver's open(). O_NONBLOCK: a FIFO
 *    swapped in, or a file with a write lease, never blocks the walk.
 * d_type only picks the attempt: the caller statx()es the fd as always, and any failure of the real
 * open (a symlink, a socket, a device, a lease, ...) falls back to the pin, which handles it as
 * before. *ret_real tells which one it is. */
static int open_entry(int dirfd, const char *name, unsigned char d_type, bool files, bool *ret_real) {
        struct open_how how = {
                .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_SAFE,
        };
        long fd = -1;

        *ret_real = false;
        if (d_type == DT_DIR) {
                how.flags |= O_DIRECTORY;
                fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        } else if (d_type == DT_REG && files) {
                how.flags |= O_NONBLOCK;
                fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        }
        if (fd >= 0) {
                *ret_real = true;
                return (int) fd;
        }
        return pin(dirfd, name);
}

static int pin_stat(int fd, struct statx *ret) {
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                  STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_NLINK | STATX_INO | STATX_MNT_ID, ret) < 0)
                return -errno;
        if (!(ret->stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        return 0;
}

static uint64_t stx_dev(const struct statx *sx) {
        return makedev(sx->stx_dev_major, sx->stx_dev_minor);
}

/* Whether the tree's name for a pinned non-directory is still its only link. The link count of
 * the pin alone is not enough: a hardlink to a file outside the tree (fs.protected_hardlinks=0, or
 * a file the account may read and write) can be pinned and then have its name in the tree removed
 * before the statx, which then counts only the outside names (seen in shift-race-nodev). Looked up
 * again after that statx, the name still naming this inode with one link means that link is this
 * name; a link made after this is made to the tree's own file. 1 if so, 0 if not, or -errno. */
static int sole_link_in_tree(int dirfd, const char *name, const struct statx *pinned) {
        struct statx now;

        /* By name, this lookup could meet a mount placed on the name since the pin: DONT_SYNC keeps
         * a network or FUSE file system from being asked, NO_AUTOMOUNT keeps autofs still. */
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_INO | STATX_NLINK, &now) < 0)
                return errno == ENOENT ? 0 : -errno;
        return now.stx_ino == pinned->stx_ino && stx_dev(&now) == stx_dev(pinned) && now.stx_nlink == 1;
}

/* The xattr calls have no AT_EMPTY_PATH form that takes an O_PATH pin (EBADF up to at least 6.18),
 * so the pinned inode is reached through its /proc/self/fd/N magic link, which resolves to the pinned
 * inode itself, never to a path that could be swapped. Resolving "/proc/self/fd/N" from / costs four
 * lookups, as much as the chown itself (a quarter of a shift's time, measured). While shift_tree()
 * walks, the working directory is /proc/self/fd (proc_fd_cwd) and the relative name "N" costs one.
 * The shift runs single-threaded in its own process (the helper serves one request per process). */
static bool proc_fd_cwd;

static void fd_path(int fd, char buf[static 32]) {
        static const char prefix[] = "/proc/self/fd/";
        char digits[12];
        size_t n = 0, k = 0;
        unsigned v = (unsigned) fd;

        do
                digits[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        if (!proc_fd_cwd) {
                memcpy(buf, prefix, STRLEN(prefix));
                k = STRLEN(prefix);
        }
        while (n > 0)
                buf[k++] = digits[--n];
        buf[k] = 0;
}

/* Makes /proc/self/fd the working directory for fd_path(); *ret_saved gets the old one back. */
static void proc_fd_cwd_enter(int *ret_saved) {
        int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

        *ret_saved = -EBADF;
        if (saved < 0)
                return; /* then absolute paths, as before */
        if (chdir("/proc/self/fd") < 0) {
                (void) close(saved);
                return;
        }
        proc_fd_cwd = true;
        *ret_saved = saved;
}

static void proc_fd_cwd_leave(int *saved) {
        if (*saved < 0)
                return;
        /* Best effort: neither the helper nor shift-inproc resolves relative paths afterwards. */
        if (fchdir(*saved) < 0)
                proc_fd_cwd = false;
        proc_fd_cwd = false;
        *saved = safe_close(*saved);
}

static int chmod_pinned(int fd, mode_t mode) {
        char p[32];

#ifdef SYS_fchmodat2
        if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) >= 0)
                return 0;
        if (errno != ENOSYS && errno != EPERM && errno != EINVAL)
                return -errno;
#endif
        fd_path(fd, p);
        return RET_NERRNO(chmod(p, mode));
}

/* listxattrat(2), Linux 6.13: lists through the pin itself, without the /proc lookup that costs as
 * much as the chown. Older kernels (Debian 12's 6.1) give ENOSYS and /proc/self/fd is used. */
#ifndef SYS_listxattrat
#  if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__)
#    define SYS_listxattrat 465
#  endif
#endif

static ssize_t list_pinned(int fd, const char *proc_path, char *list, size_t size) {
#ifdef SYS_listxattrat
        static bool no_listxattrat;

        if (!no_listxattrat) {
                long n = syscall(SYS_listxattrat, fd, "", AT_EMPTY_PATH, list, size);
                if (n >= 0 || (errno != ENOSYS && errno != EPERM && errno != EINVAL && errno != EBADF))
                        return (ssize_t) n;
                no_listxattrat = true;
        }
#endif
        return listxattr(proc_path, list, size);
}

/* Reads the xattrs the shift cares about, through a real fd or a pin (`real`). -E2BIG if one is
 * larger than SHIFT_XATTR_VALUE_MAX. */
static int xattrs_read(int fd, bool real, mode_t type, ShiftBlob x[static _SHIFT_XATTR_MAX]) {
        char p[32], list[1024];
        ssize_t n;

        if (!S_ISREG(type) && !S_ISDIR(type))
                return 0;
        fd_path(fd, p);
        /* One listxattr: most inodes have none, and then nothing else is read. */
        n = real ? flistxattr(fd, list, sizeof list) : list_pinned(fd, p, list, sizeof list);
        if (n < 0 && (errno == ENOTSUP || errno == ENODATA))
                return 0;
        if (n < 0 && errno != ERANGE)
                return -errno;
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                uint8_t buf[SHIFT_XATTR_VALUE_MAX];
                bool listed = n < 0; /* list too long: just ask */
                ssize_t len;

                if (k == SHIFT_XATTR_DEFAULT_ACL && !S_ISDIR(type))
                        continue;
                if (k == SHIFT_XATTR_CAP && !S_ISREG(type))
                        continue;
                for (ssize_t i = 0; !listed && i < n; i += (ssize_t) strlen(list + i) + 1)
                        listed = streq(list + i, shift_xattr_names[k]);
                if (!listed)
                        continue;
                len = real ? fgetxattr(fd, shift_xattr_names[k], buf, sizeof buf)
                           : getxattr(p, shift_xattr_names[k], buf, sizeof buf);
                if (len < 0 && (errno == ENODATA || errno == ENOTSUP))
                        continue;
                if (len < 0)
                        return errno == ERANGE ? -E2BIG : -errno;
                x[k].data = malloc(MAX((size_t) len, (size_t) 1));
                if (!x[k].data)
                        return -ENOMEM;
                memcpy(x[k].data, buf, (size_t) len);
                x[k].len = (uint16_t) len;
                x[k].present = true;
        }
        return 0;
}

static int xattr_apply(int fd, bool real, ShiftXattrKind k, const ShiftBlob *want) {
        char p[32];

        if (real) {
                if (want->present)
                        return RET_NERRNO(fsetxattr(fd, shift_xattr_names[k], want->data, want->len, 0));
                if (fremovexattr(fd, shift_xattr_names[k]) < 0 && errno != ENODATA)
                        return -errno;
                return 0;
        }
        fd_path(fd, p);
        if (want->present)
                return RET_NERRNO(setxattr(p, shift_xattr_names[k], want->data, want->len, 0));
        if (removexattr(p, shift_xattr_names[k]) < 0 && errno != ENODATA)
                return -errno;
        return 0;
}

static void blobs_done(ShiftBlob (*x)[_SHIFT_XATTR_MAX]) {
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++)
                free((*x)[k].data);
}

static bool blob_eq(const ShiftBlob *a, const ShiftBlob *b) {
        return a->present == b->present && (!a->present || (a->len == b->len && memcmp(a->data, b->data, a->len) == 0));
}

static int blob_copy(ShiftBlob *dst, const uint8_t *data, size_t len) {
        dst->data = malloc(MAX(len, (size_t) 1));
        if (!dst->data)
                return -ENOMEM;
        memcpy(dst->data, data, len);
        dst->len = (uint16_t) len;
        dst->present = true;
        return 0;
}

static int record_copy(ShiftRecord *dst, const ShiftRecord *src) {
        int r;

        *dst = *src;
        dst->path = strdup(src->path);
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++)
                dst->old_x[k] = dst->new_x[k] = (ShiftBlob) {};
        if (!dst->path)
                return -ENOMEM;
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                if (src->old_x[k].present && (r = blob_copy(&dst->old_x[k], src->old_x[k].data, src->old_x[k].len)) < 0)
                        return r;
                if (src->new_x[k].present && (r = blob_copy(&dst->new_x[k], src->new_x[k].data, src->new_x[k].len)) < 0)
                        return r;
        }
        return 0;
}

/* --- (dev, ino) -> journal record, for resuming --- */

typedef struct InodeIndex {
        size_t *slots; /* record index + 1, 0 = empty */
        size_t mask;
} InodeIndex;

static size_t inode_hash(uint64_t dev, uint64_t ino) {
        uint64_t h = (ino ^ (dev * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
        return (size_t) (h ^ (h >> 31));
}

static int inode_index_build(InodeIndex *ix, const ShiftJournal *j) {
        size_t n = 64;

        while (n < j->n_records * 2)
                n *= 2;
        ix->slots = calloc(n, sizeof *ix->slots);
        if (!ix->slots)
                return -ENOMEM;
        ix->mask = n - 1;
        for (size_t i = 0; i < j->n_records; i++) {
                size_t s = inode_hash(j->records[i].dev, j->records[i].ino) & ix->mask;
                while (ix->slots[s])
                        s = (s + 1) & ix->mask;
                ix->slots[s] = i + 1; /* a later record of the same inode comes later: lookup finds the first */
        }
        return 0;
}

static const ShiftRecord *inode_index_find(const InodeIndex *ix, const ShiftJournal *j, uint64_t dev, uint64_t ino) {
        if (!ix->slots)
                return NULL;
        for (size_t s = inode_hash(dev, ino) & ix->mask; ix->slots[s]; s = (s + 1) & ix->mask) {
                const ShiftRecord *r = &j->records[ix->slots[s] - 1];
                if (r->dev == dev && r->ino == ino)
                        return r;
        }
        return NULL;
}

/* --- one run --- */

typedef struct Pending {
        int fd;
        mode_t type;
        bool journaled; /* the record is in the journal already (resume) */
        bool chown;     /* the owner still has to change */
        bool real;      /* fd is a real open, not an O_PATH pin (open_entry()) */
        bool xattrs;    /* rec's xattrs are still to be read, by the applier (see Run.defer_eighths) */
        bool skip;      /* the applier's xattr reading left it alone */
        ShiftRecord rec;
} Pending;

/* Pinned entries and the journal lines (their records, and the reports of the walk) that must be
 * durable before any of them is changed. */
typedef struct Batch {
        Pending *items;
        size_t n;
        ShiftBuf out;
} Batch;

/* Two stages, so that the fdatasync and the chowns of one batch overlap the walk (openat2, statx,
 * listxattr) that fills the next one, on a second CPU: the walker fills `filling`; the applier
 * (a thread, or the walker itself for a tree of one batch and when no thread can be made) writes a
 * batch's lines, fdatasync()s, and only then changes its entries. The ordering argument of
 * shift-walk.h holds per batch, and batches are applied in walk order. The two stages share no
 * inode: each is pinned and changed once (directories are visited once, other inodes with more
 * than one link are skipped). */
typedef struct Run {
        const ShiftParams *p;
        ShiftStats stats;   /* the walker's counters; the applier keeps changed and failed */
        ShiftJournal old;   /* what an earlier, interrupted run journaled */
        InodeIndex index;
        Batch batches[2];
        Batch *filling;
        size_t batch_max;
        uint64_t top_mnt;
        unsigned journal_version; /* of the journal appended to: a resumed one keeps its own */
        bool real_files;          /* regular files may be opened for real (open_entry()) */
        ErrorInfo *e;

        pthread_mutex_t lock;     /* guards handed, quit, apply_error; serializes p->report */
        pthread_cond_t cond;
        pthread_t applier;
        bool threaded, tried_thread;
        Batch *handed;            /* given to the applier; NULL once it is done with it */
        bool quit;
        int apply_error;          /* the journal could not be written: nothing of that batch changed */
        uint64_t applied, apply_failed, apply_skipped;
        unsigned defer_eighths;   /* the walker's: eighths of the entries whose xattrs the applier reads */
        unsigned defer_tick;
        ShiftBuf apply_out;       /* the applier's reports, written before its next batch */
        ShiftBuf out;             /* lines of the journal outside any batch (header, done, rollback) */
} Run;

static void report_to(Run *run, ShiftBuf *buf, const char *relpath, const char *fmt, ...) _printf_(4, 5);
static void report_to(Run *run, ShiftBuf *buf, const char *relpath, const char *fmt, ...) {
        char reason[160];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        (void) shift_skip_format(buf, reason, relpath);
        if (run->p->report) {
                pthread_mutex_lock(&run->lock);
                run->p->report(reason, relpath, run->p->userdata);
                pthread_mutex_unlock(&run->lock);
        }
}

/* The walker's reports go with the batch being filled; rollback's (no batches) to run->out. */
#define report(run, relpath, ...) \
        report_to((run), (run)->filling ? &(run)->filling->out : &(run)->out, (relpath), __VA_ARGS__)

static void pending_done(Pending *q) {
        q->fd = safe_close(q->fd);
        shift_record_done(&q->rec);
}

static void batch_clear(Batch *b) {
        for (size_t i = 0; i < b->n; i++)
                pending_done(&b->items[i]);
        b->n = 0;
}

static void run_done(Run *run) {
        for (int i = 0; i < 2; i++) {
                batch_clear(&run->batches[i]);
                free(run->batches[i].items);
                shift_buf_done(&run->batches[i].out);
        }
        free(run->index.slots);
        shift_journal_done(&run->old);
        shift_buf_done(&run->apply_out);
        shift_buf_done(&run->out);
        pthread_cond_destroy(&run->cond);
        pthread_mutex_destroy(&run->lock);
}

/* Make one pinned inode look like rec->new_*: owner first (the kernel drops security.capability and
 * setuid bits on chown), then ACLs, then the capability. */
static int apply_new(int fd, bool real, const ShiftRecord *rec, bool do_chown) {
        int r;

        if (do_chown && (real ? fchown(fd, rec->new_uid, rec->new_gid)
                              : fchownat(fd, "", rec->new_uid, rec->new_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) < 0)
                return -errno;
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                /* chown dropped the capability, so it is written even when unchanged. */
                if (k == SHIFT_XATTR_CAP ? !rec->old_x[k].present && !rec->new_x[k].present
                                         : blob_eq(&rec->old_x[k], &rec->new_x[k]))
                        continue;
                r = xattr_apply(fd, real, (ShiftXattrKind) k, &rec->new_x[k]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int record_xattrs(Run *run, ShiftBuf *out, int fd, bool real, mode_t type, ShiftRecord *rec, uint64_t *skipped);

/* The applier's stage: 1. the lines, durably; 2. the changes. On a journal error nothing of the
 * batch is changed. The records are formatted here rather than by the walker, which is the busier
 * stage (openat2, statx and listxattr against chown and close); so are the xattrs of the entries
 * the walker deferred. */
static int batch_apply(Run *run, Batch *b) {
        int r = 0;

        for (size_t i = 0; i < b->n; i++) {
                Pending *q = &b->items[i];

                if (!q->xattrs)
                        continue;
                r = record_xattrs(run, &b->out, q->fd, q->real, q->type, &q->rec, &run->apply_skipped);
                if (r == -ENOMEM) {
                        run->apply_failed++;
                        report_to(run, &b->out, q->rec.path, "failed: %s", strerror(ENOMEM));
                }
                q->skip = r <= 0;
        }
        r = 0;
        for (size_t i = 0; r >= 0 && i < b->n; i++)
                if (!b->items[i].journaled && !b->items[i].skip)
                        r = shift_record_format(&b->out, &b->items[i].rec, run->journal_version);
        if (r >= 0)
                r = shift_journal_append(run->p->journal_fd, &run->apply_out, false);
        if (r >= 0)
                r = shift_journal_append(run->p->journal_fd, &b->out, !run->p->no_sync);
        if (r < 0) {
                batch_clear(b);
                b->out.len = 0;
                return r;
        }
        for (size_t i = 0; i < b->n; i++) {
                Pending *q = &b->items[i];

                if (q->skip) {
                        pending_done(q);
                        continue;
                }
                r = apply_new(q->fd, q->real, &q->rec, q->chown);
                if (r < 0) {
                        run->apply_failed++;
                        report_to(run, &run->apply_out, q->rec.path, "failed: %s", strerror(-r));
                } else
                        run->applied++;
                pending_done(q);
        }
        b->n = 0;
        return 0;
}

static void *applier_main(void *userdata) {
        Run *run = userdata;

        pthread_mutex_lock(&run->lock);
        for (;;) {
                Batch *b;
                int r;

                while (!run->handed && !run->quit)
                        pthread_cond_wait(&run->cond, &run->lock);
                if (!run->handed)
                        break;
                b = run->handed;
                pthread_mutex_unlock(&run->lock);
                r = batch_apply(run, b);
                pthread_mutex_lock(&run->lock);
                if (r < 0 && run->apply_error == 0)
                        run->apply_error = r;
                run->handed = NULL;
                pthread_cond_broadcast(&run->cond);
        }
        pthread_mutex_unlock(&run->lock);
        return NULL;
}

static int journal_error(Run *run, int r) {
        return error_set(run->e, r, "", "cannot write the shift journal: %s; nothing in this batch was changed",
                         strerror(-r));
}

/* Waits until the applier is done with what it was handed; its journal error, if any. */
static int applier_wait(Run *run) {
        int r;

        if (!run->threaded)
                return 0;
        pthread_mutex_lock(&run->lock);
        while (run->handed)
                pthread_cond_wait(&run->cond, &run->lock);
        r = run->apply_error;
        pthread_mutex_unlock(&run->lock);
        return r;
}

static void applier_stop(Run *run) {
        if (!run->threaded)
                return;
        (void) applier_wait(run);
        pthread_mutex_lock(&run->lock);
        run->quit = true;
        pthread_cond_broadcast(&run->cond);
        pthread_mutex_unlock(&run->lock);
        (void) pthread_join(run->applier, NULL);
        run->threaded = false;
}

/* Gives the filled batch to the applier and goes on with the other one. `full`: more will follow,
 * so a thread pays off (a tree of one batch is applied inline, as the crash tests count on). */
static int batch_handoff(Run *run, bool full) {
        Batch *b = run->filling;
        int r;

        if (full && !run->tried_thread) {
                run->tried_thread = true;
                run->threaded = pthread_create(&run->applier, NULL, applier_main, run) == 0;
        }
        if (!run->threaded) {
                r = batch_apply(run, b);
                return r < 0 ? journal_error(run, r) : 0;
        }
        /* Balance the two stages: if the applier is still busy, it reads fewer entries' xattrs for
         * the walker; if it is idle already, more. */
        pthread_mutex_lock(&run->lock);
        if (run->p->defer > 0)
                run->defer_eighths = MIN(run->p->defer - 1, 8U);
        else if (run->handed)
                run->defer_eighths = run->defer_eighths > 0 ? run->defer_eighths - 1 : 0;
        else
                run->defer_eighths = MIN(run->defer_eighths + 1, 8U);
        pthread_mutex_unlock(&run->lock);
        r = applier_wait(run);
        if (r < 0)
                return journal_error(run, r);
        pthread_mutex_lock(&run->lock);
        run->handed = b;
        pthread_cond_broadcast(&run->cond);
        pthread_mutex_unlock(&run->lock);
        run->filling = b == &run->batches[0] ? &run->batches[1] : &run->batches[0];
        return 0;
}

static int batch_add(Run *run, int *fd, bool real, mode_t type, ShiftRecord *rec, bool journaled, bool do_chown,
                     bool xattrs) {
        Batch *b = run->filling;

        b->items[b->n++] = (Pending) {
                .fd = TAKE_FD(*fd), .real = real, .type = type, .journaled = journaled, .chown = do_chown,
                .xattrs = xattrs, .rec = *rec,
        };
        *rec = (ShiftRecord) {};
        if (b->n == run->batch_max)
                return batch_handoff(run, true);
        return 0;
}

/* Larger files are not digested: a rollback then leaves their setuid/setgid bits and capability
 * off, and says so. */
#define SHIFT_DIGEST_FILE_MAX (64U * 1024U * 1024U)

/* A real, read-only fd on the regular file that `fd` (`real` or a pin) refers to. The pin is
 * reopened through its /proc/self/fd magic link, which leads to the pinned inode itself; the caller
 * has checked that it is a regular file, so no device's open() runs. */
static int reopen_regular(int fd, bool real, uint64_t dev, uint64_t ino) {
        char p[32];
        struct stat st;
        int rfd;

        if (real) {
                rfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                return rfd < 0 ? -errno : rfd;
        }
        fd_path(fd, p);
        rfd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (rfd < 0)
                return -errno;
        if (fstat(rfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != dev || st.st_ino != ino) {
                (void) close(rfd);
                return -ESTALE;
        }
        return rfd;
}

/* SHA-256 of a regular file's whole content, read from offset 0 of rfd. -EFBIG past
 * SHIFT_DIGEST_FILE_MAX. */
static int content_digest(int rfd, uint8_t ret[static SHIFT_SHA256_SIZE]) {
        uint8_t buf[16384]; /* on the stack: the walker and the applier may both be here */
        ShiftSha256 h;
        uint64_t off = 0;

        shift_sha256_init(&h);
        for (;;) {
                ssize_t n = pread(rfd, buf, sizeof buf, (off_t) off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                off += (uint64_t) n;
                if (off > SHIFT_DIGEST_FILE_MAX)
                        return -EFBIG;
                shift_sha256_update(&h, buf, (size_t) n);
        }
        shift_sha256_final(&h, ret);
        return 0;
}

/* Reads the ACLs and capability of a pinned inode into rec->old_x and computes rec->new_x, for the
 * walker or (for the entries it defers) the applier. 1: done; 0: the entry is left alone, reported
 * to `out` and counted in *skipped; -ENOMEM. */
static int record_xattrs(Run *run, ShiftBuf *out, int fd, bool real, mode_t type, ShiftRecord *rec, uint64_t *skipped) {
        const ShiftMap *m = &run->p->map;
        int r;

        r = xattrs_read(fd, real, type, rec->old_x);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                (*skipped)++;
                report_to(run, out, rec->path, "cannot read its ACLs or capabilities: %s", strerror(-r));
                return 0;
        }
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                const ShiftBlob *o = &rec->old_x[k];
                uint8_t capbuf[SHIFT_CAP_XATTR_MAX];

                if (!o->present)
                        continue;
                if (k == SHIFT_XATTR_CAP) {
                        r = shift_cap_xattr(m, o->data, o->len, capbuf);
                        if (r > 0)
                                r = blob_copy(&rec->new_x[k], capbuf, (size_t) r);
                } else {
                        r = blob_copy(&rec->new_x[k], o->data, o->len);
                        if (r >= 0)
                                r = shift_acl_xattr(m, rec->new_x[k].data, rec->new_x[k].len);
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        (*skipped)++;
                        report_to(run, out, rec->path, "%s: %s", shift_xattr_names[k],
                                  r == -ERANGE ? "names an id outside the source ids" : "malformed value");
                        return 0;
                }
        }
        if (shift_record_privileged(rec, type)) {
                _cleanup_close_ int rfd = reopen_regular(fd, real, rec->dev, rec->ino);

                r = rfd < 0 ? rfd : content_digest(rfd, rec->digest);
                if (r == -ENOMEM)
                        return r;
                /* Without a digest (too large, unreadable) it is shifted all the same: the shift
                 * drops those bits anyway, and the rollback says it does not put them back. */
                rec->has_digest = r >= 0;
        }
        return 1;
}

/* Decides about one opened entry (`real`: see open_entry()). Takes over *fd unless it is kept for
 * the batch. */
static int visit(Run *run, int *fd, bool real, const struct statx *sx, const char *relpath) {
        const ShiftMap *m = &run->p->map;
        const ShiftRecord *j;
        ShiftRecord rec = {};
        mode_t type = sx->stx_mode & S_IFMT;
        int r;

        rec.dev = stx_dev(sx);
        rec.ino = sx->stx_ino;
        rec.old_uid = sx->stx_uid;
        rec.old_gid = sx->stx_gid;
        rec.old_mode = sx->stx_mode & 07777;

        j = inode_index_find(&run->index, &run->old, rec.dev, rec.ino);
        if (j) {
                ShiftRecord copy;
                bool at_new = sx->stx_uid == j->new_uid && sx->stx_gid == j->new_gid;
                bool at_old = sx->stx_uid == j->old_uid && sx->stx_gid == j->old_gid;
                bool has_x = false;

                for (int k = 0; k < _SHIFT_XATTR_MAX; k++)
                        has_x = has_x || j->new_x[k].present || j->old_x[k].present;
                if (!at_new && !at_old) {
                        run->stats.skipped++;
                        report(run, relpath, "owner %u:%u is neither the journaled old nor new owner",
                               sx->stx_uid, sx->stx_gid);
                        return 0;
                }
                if (at_new && !has_x) {
                        run->stats.unchanged++;
                        return 0;
                }
                /* Journaled by the interrupted run; finish it exactly as recorded. */
                r = record_copy(&copy, j);
                if (r < 0) {
                        shift_record_done(&copy);
                        return r;
                }
                return batch_add(run, fd, real, type, &copy, true, at_old, false);
        }

        if (shift_id_map(&m->uid, rec.old_uid, &rec.new_uid) < 0 || shift_id_map(&m->gid, rec.old_gid, &rec.new_gid) < 0) {
                run->stats.skipped++;
                report(run, relpath, "owner %u:%u is outside the source ids 0..%u:0..%u", rec.old_uid, rec.old_gid,
                       m->uid.count, m->gid.count);
                return 0;
        }
        rec.new_mode = rec.old_mode;
        if (!S_ISDIR(type)) {
                /* What chown does to the mode, kept (helper-anchors.md §3.5: no setuid/setgid on
                 * shifted data). The shift never sets either bit; only rollback puts back the
                 * journaled ones (see RestrictSUIDSGID= in unroot-helper@.service.in). */
                rec.new_mode &= ~(mode_t) S_ISUID;
                if (rec.new_mode & S_IXGRP)
                        rec.new_mode &= ~(mode_t) S_ISGID;
        }

        rec.path = strdup(relpath);
        if (!rec.path) {
                shift_record_done(&rec);
                return -ENOMEM;
        }
        if (run->threaded && (S_ISREG(type) || S_ISDIR(type))) {
                run->defer_tick = (run->defer_tick + 1) & 7;
                if (run->defer_tick < run->defer_eighths)
                        return batch_add(run, fd, real, type, &rec, false, true, true);
        }
        r = record_xattrs(run, &run->filling->out, *fd, real, type, &rec, &run->stats.skipped);
        if (r <= 0) {
                shift_record_done(&rec);
                return r;
        }
        return batch_add(run, fd, real, type, &rec, false, true, false);
}

typedef struct Frame {
        DIR *dir;
        char *path; /* relative to the top; "" for the top */
} Frame;

static int path_join(const char *dir, const char *name, char **ret) {
        size_t a = strlen(dir), b = strlen(name);
        char *s;

        if (a + 1 + b > 4095)
                return -ENAMETOOLONG;
        s = malloc(a + 1 + b + 1);
        if (!s)
                return -ENOMEM;
        if (a > 0) {
                memcpy(s, dir, a);
                s[a++] = '/';
        }
        memcpy(s + a, name, b + 1);
        *ret = s;
        return 0;
}

/* Opens a pinned directory for reading (no path lookup: "." of the pin). */
static int reopen_dir(int fd, DIR **ret) {
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *d;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                (void) close(dfd);
                return r;
        }
        *ret = d;
        return 0;
}

static int walk(Run *run) {
        const ShiftParams *p = run->p;
        unsigned max_depth = p->max_depth ?: SHIFT_DEPTH_MAX;
        uint64_t max_entries = p->max_entries ?: SHIFT_ENTRIES_MAX;
        _cleanup_free_ Frame *stack = NULL;
        _cleanup_close_ int top = -EBADF;
        struct statvfs vfs;
        struct statx sx;
        size_t depth = 0;
        int r;

        stack = calloc(max_depth + 1, sizeof *stack);
        if (!stack)
                return -ENOMEM;

        top = fcntl(p->top_fd, F_DUPFD_CLOEXEC, 3);
        if (top < 0)
                return -errno;
        r = pin_stat(top, &sx);
        if (r < 0)
                return error_set(run->e, r, "path", "path: cannot stat the directory: %s", strerror(-r));
        if (!S_ISDIR(sx.stx_mode))
                return error_set(run->e, -ENOTDIR, "path", "path: not a directory");
        run->top_mnt = sx.stx_mnt_id;
        /* Every entry is opened on this mount (RESOLVE_NO_XDEV from here down), so its nodev covers
         * them all; only root can remount it. */
        run->real_files = fstatvfs(top, &vfs) >= 0 && (vfs.f_flag & ST_NODEV);

        r = reopen_dir(top, &stack[0].dir);
        if (r < 0)
                return error_set(run->e, r, "path", "path: cannot open the directory: %s", strerror(-r));
        stack[0].path = strdup("");
        if (!stack[0].path) {
                closedir(stack[0].dir);
                return -ENOMEM;
        }
        run->stats.scanned++;
        r = visit(run, &top, false, &sx, ".");
        if (r < 0)
                goto out;

        for (;;) {
                Frame *f = &stack[depth];
                _cleanup_free_ char *rel = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct dirent *de;
                bool real;

                errno = 0;
                de = readdir(f->dir);
                if (!de) {
                        if (errno != 0) {
                                run->stats.failed++;
                                report(run, f->path[0] ? f->path : ".", "cannot read the directory: %s", strerror(errno));
                        }
                        closedir(f->dir);
                        free(f->path);
                        *f = (Frame) {};
                        if (depth == 0)
                                break;
                        depth--;
                        continue;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (++run->stats.scanned > max_entries) {
                        r = error_set(run->e, -E2BIG, "path", "path: more than %" PRIu64 " entries; nothing beyond them was changed; "
                                      "the journal keeps what was done", max_entries);
                        goto out;
                }
                r = path_join(f->path, de->d_name, &rel);
                if (r == -ENAMETOOLONG) {
                        run->stats.skipped++;
                        report(run, f->path, "an entry's path is longer than 4095 bytes");
                        continue;
                }
                if (r < 0)
                        goto out;

                fd = open_entry(dirfd(f->dir), de->d_name, de->d_type, run->real_files, &real);
                if (fd == -ENOENT)
                        continue; /* gone since readdir */
                if (fd == -EXDEV) {
                        run->stats.skipped++;
                        report(run, rel, "mount point");
                        continue;
                }
                if (fd < 0) {
                        run->stats.failed++;
                        report(run, rel, "cannot open: %s", strerror(-fd));
                        continue;
                }
                r = pin_stat(fd, &sx);
                if (r < 0) {
                        run->stats.failed++;
                        report(run, rel, "cannot stat: %s", strerror(-r));
                        continue;
                }
                if (sx.stx_mnt_id != run->top_mnt) {
                        run->stats.skipped++;
                        report(run, rel, "mount point");
                        continue;
                }
                if (!S_ISDIR(sx.stx_mode)) {
                        if (sx.stx_nlink > 1) {
                                run->stats.skipped++;
                                report(run, rel, "hardlinked (%u links)", sx.stx_nlink);
                                continue;
                        }
                        r = sole_link_in_tree(dirfd(f->dir), de->d_name, &sx);
                        if (r < 0) {
                                run->stats.failed++;
                                report(run, rel, "cannot stat: %s", strerror(-r));
                                continue;
                        }
                        if (r == 0) {
                                run->stats.skipped++;
                                report(run, rel, "hardlinked, or its name changed while it was opened");
                                continue;
                        }
                }
                if (S_ISDIR(sx.stx_mode)) {
                        if (depth + 1 > max_depth) {
                                run->stats.skipped++;
                                report(run, rel, "deeper than %u levels: not entered", max_depth);
                        } else {
                                r = reopen_dir(fd, &stack[depth + 1].dir);
                                if (r < 0) {
                                        run->stats.failed++;
                                        report(run, rel, "cannot open the directory: %s", strerror(-r));
                                } else {
                                        stack[depth + 1].path = strdup(rel);
                                        if (!stack[depth + 1].path) {
                                                closedir(stack[depth + 1].dir);
                                                stack[depth + 1].dir = NULL;
                                                r = -ENOMEM;
                                                goto out;
                                        }
                                        depth++;
                                }
                        }
                }
                r = visit(run, &fd, real, &sx, rel);
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        for (size_t i = 0; i <= max_depth; i++) {
                if (stack[i].dir)
                        closedir(stack[i].dir);
                free(stack[i].path);
        }
        return r;
}

static unsigned batch_size(const ShiftParams *p) {
        unsigned want = p->batch ?: SHIFT_BATCH_MAX, depth = p->max_depth ?: SHIFT_DEPTH_MAX;
        struct rlimit rl;

        /* Each pending entry holds an fd, each directory level one more. Take what the hard limit
         * allows; leave 64 for everything else. */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0) {
                if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t) want + depth + 64) {
                        rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) want + depth + 64);
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                        (void) getrlimit(RLIMIT_NOFILE, &rl);
                }
                if (rl.rlim_cur < (rlim_t) depth + 64 + 16)
                        return 16;
                want = (unsigned) MIN((rlim_t) want, rl.rlim_cur - depth - 64);
        }
        return MAX(want, 1U);
}

static int journal_start(Run *run, bool rollback) {
        const ShiftParams *p = run->p;
        size_t line = 0;
        struct stat st;
        int r;

        if (fstat(p->journal_fd, &st) < 0)
                return -errno;
        if (st.st_size == 0) {
                ShiftHeader h = { .map = p->map, .path = (char *) p->top_path };

                run->journal_version = SHIFT_JOURNAL_VERSION;
                if (rollback)
                        return 0; /* nothing was ever journaled */
                if (strlen(p->account) >= sizeof h.account)
                        return error_set(run->e, -EINVAL, "account", "account: name too long");
                strcpy(h.account, p->account);
                r = shift_header_format(&run->out, &h);
                if (r < 0)
                        return r;
                r = shift_journal_append(p->journal_fd, &run->out, !p->no_sync);
                return r < 0 ? error_set(run->e, r, "", "cannot write the shift journal: %s", strerror(-r)) : 0;
        }

        r = shift_journal_read(p->journal_fd, &run->old, &line);
        if (r == -EBADMSG)
                return error_set(run->e, r, "journal", "the shift journal is corrupt at line %zu (not a torn tail); "
                                 "nothing was changed; inspect it by hand", line);
        if (r < 0)
                return error_set(run->e, r, "journal", "cannot read the shift journal: %s", strerror(-r));
        run->journal_version = run->old.header.version;
        if (!streq(run->old.header.account, p->account) || !streq(run->old.header.path, p->top_path) ||
            memcmp(&run->old.header.map, &p->map, sizeof p->map) != 0)
                return error_set(run->e, -EEXIST, "account",
                                 "account: '%s' has a shift journal for account '%s' with another id map; "
                                 "roll that shift back first", p->top_path, run->old.header.account);
        if (run->old.torn) {
                /* Only changes that were never made are described past valid_len: cut it off. */
                if (!rollback && ftruncate(p->journal_fd, (off_t) run->old.valid_len) < 0)
                        return error_set(run->e, -errno, "", "cannot trim the torn end of the shift journal: %m");
        }
        if (lseek(p->journal_fd, 0, SEEK_END) < 0)
                return -errno;
        return inode_index_build(&run->index, &run->old);
}

int shift_tree(const ShiftParams *p, ShiftStats *ret_stats, ErrorInfo *e) {
        _cleanup_(run_done) Run run = {
                .p = p, .e = e, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
        };
        int r, saved_cwd = -EBADF;

        if (shift_map_check(&p->map) < 0)
                return error_set(e, -EINVAL, "account", "account: '%s' has an unusable id map (empty range, or it "
                                 "contains the account's own id)", p->account);
        r = journal_start(&run, false);
        if (r < 0)
                return r;
        if (run.old.done) {
                if (ret_stats)
                        *ret_stats = run.stats;
                return 0;
        }
        /* Two batches are in flight (one filled, one applied), each holding an fd per entry. */
        run.batch_max = MAX(batch_size(p) / 2, 1U);
        for (int i = 0; i < 2; i++) {
                run.batches[i].items = calloc(run.batch_max, sizeof *run.batches[i].items);
                if (!run.batches[i].items)
                        return -ENOMEM;
        }
        run.filling = &run.batches[0];

        proc_fd_cwd_enter(&saved_cwd);
        r = walk(&run);
        if (r >= 0)
                r = batch_handoff(&run, false);
        if (r >= 0) {
                r = applier_wait(&run);
                if (r < 0)
                        r = journal_error(&run, r);
        }
        applier_stop(&run);
        proc_fd_cwd_leave(&saved_cwd);
        run.stats.changed = run.applied;
        run.stats.failed += run.apply_failed;
        run.stats.skipped += run.apply_skipped;
        if (r < 0) {
                /* Keep the reports; the records of what was changed are already there, and the batch
                 * being filled (nothing of it changed) has no records yet. */
                batch_clear(run.filling);
                (void) shift_journal_append(p->journal_fd, &run.apply_out, false);
                (void) shift_journal_append(p->journal_fd, &run.filling->out, false);
                if (ret_stats)
                        *ret_stats = run.stats;
                return e && e->message[0] ? r : error_set(e, r, "", "shift failed: %s", strerror(-r));
        }
        r = shift_journal_append(p->journal_fd, &run.apply_out, false);
        if (r >= 0)
                r = shift_done_format(&run.out);
        if (r >= 0)
                r = shift_journal_append(p->journal_fd, &run.out, !p->no_sync);
        if (r < 0)
                return error_set(e, r, "", "cannot finish the shift journal: %s", strerror(-r));
        if (ret_stats)
                *ret_stats = run.stats;
        return 1;
}

/* --- rollback --- */

/* The last steps of restore_privileged(), with the lease held on rfd: the old owner, the exact old
 * mode (setuid and setgid included; CAP_FSETID keeps setgid whatever the group) and the old file
 * capability, all through the real fd. */
static int restore_privileged_bits(int rfd, const ShiftRecord *rec) {
        const ShiftBlob *cap = &rec->old_x[SHIFT_XATTR_CAP];

        if (rec->old_uid != 0 && fchown(rfd, rec->old_uid, rec->old_gid) < 0)
                return -errno;
        if (fchmod(rfd, rec->old_mode) < 0)
                return -errno;
        if (cap->present && fsetxattr(rfd, shift_xattr_names[SHIFT_XATTR_CAP], cap->data, cap->len, 0) < 0)
                return -errno;
        return 0;
}

/* restore_one() for a file whose setuid/setgid bits or capability were dropped by the shift. The
 * account owned it since and may have rewritten it: the bits go back only onto the content the
 * journal's digest describes, and only while nobody else has the file open. So: owner root (the
 * lease needs the caller to own the file) and the old permission bits without setuid/setgid,
 * which closes it to new writers unless the old mode itself allowed them; a write lease, granted
 * only when no other open file exists (no writer holding an fd from before, no writable mapping,
 * no running executable) and making any new open wait until it is released; then the digest of the
 * content, and only if it matches the old owner, mode and capability. Once the lease is released,
 * any write clears setuid/setgid and the capability again (the kernel's file_remove_privs()).
 * Otherwise the file keeps its old owner and mode without those bits, and the rollback says so. */
static int restore_privileged(Run *run, const ShiftRecord *rec, int fd, const struct statx *sx,
                              const bool x_differs[static _SHIFT_XATTR_MAX]) {
        _cleanup_close_ int rfd = -EBADF;
        const char *why = NULL;
        uint8_t digest[SHIFT_SHA256_SIZE];
        mode_t safe = rec->old_mode & ~(mode_t) (S_ISUID | S_ISGID);
        struct statx now;
        int r;

        if ((sx->stx_uid != 0 || sx->stx_gid != rec->old_gid) &&
            fchownat(fd, "", 0, rec->old_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                goto fail;
        }
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                if (k == SHIFT_XATTR_CAP || !x_differs[k])
                        continue;
                r = xattr_apply(fd, false, (ShiftXattrKind) k, &rec->old_x[k]);
                if (r < 0)
                        goto fail;
        }
        r = pin_stat(fd, &now);
        if (r >= 0 && (now.stx_mode & 07777) != safe)
                r = chmod_pinned(fd, safe);
        if (r < 0)
                goto fail;

        if (!rec->has_digest)
                why = "no digest of its content was journaled (larger than 64 MiB, unreadable, or an older journal)";
        else {
                rfd = reopen_regular(fd, false, rec->dev, rec->ino);
                if (rfd < 0) {
                        r = rfd;
                        goto fail;
                }
                if (fcntl(rfd, F_SETLEASE, F_WRLCK) < 0)
                        why = errno == EAGAIN ? "another process has it open" : "no file lease possible here";
                else {
                        r = content_digest(rfd, digest);
                        if (r == -EFBIG || (r >= 0 && memcmp(digest, rec->digest, sizeof digest) != 0)) {
                                why = "its content changed since the shift";
                                r = 0;
                        }
                        if (r >= 0 && !why)
                                r = restore_privileged_bits(rfd, rec);
                        (void) fcntl(rfd, F_SETLEASE, F_UNLCK);
                        if (r < 0)
                                goto fail;
                }
        }
        if (!why) {
                run->stats.changed++;
                return 0;
        }
        if (rec->old_uid != 0 && fchownat(fd, "", rec->old_uid, rec->old_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                goto fail;
        }
        /* chown dropped the shifted capability; one that is there without a chown goes too. */
        r = xattr_apply(fd, false, SHIFT_XATTR_CAP, &(const ShiftBlob) {});
        if (r < 0)
                goto fail;
        run->stats.mismatched++;
        report(run, rec->path, "owner and mode restored without the setuid/setgid bits and file capability "
               "it had before the shift: %s", why);
        return 0;
fail:
        run->stats.failed++;
        report(run, rec->path, "not restored: %s", strerror(-r));
        return 0;
}

static int restore_one(Run *run, const ShiftRecord *rec) {
        const ShiftParams *p = run->p;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(blobs_done) ShiftBlob cur[_SHIFT_XATTR_MAX] = {};
        bool x_differs[_SHIFT_XATTR_MAX] = {};
        struct statx sx;
        bool at_new, at_old, priv, has_x = false, any_x = false;
        int r;

        fd = streq(rec->path, ".") ? fcntl(p->top_fd, F_DUPFD_CLOEXEC, 3) : pin(p->top_fd, rec->path);
        if (fd == -ENOENT || fd == -ELOOP || fd == -EXDEV || fd == -ENOTDIR) {
                run->stats.mismatched++;
                report(run, rec->path, "not restored: %s", fd == -ENOENT ? "gone" : "path now crosses a symlink or mount");
                return 0;
        }
        if (fd < 0) {
                run->stats.failed++;
                report(run, rec->path, "not restored: cannot open: %s", strerror(-fd));
                return 0;
        }
        r = pin_stat(fd, &sx);
        if (r < 0) {
                run->stats.failed++;
                report(run, rec->path, "not restored: cannot stat: %s", strerror(-r));
                return 0;
        }
        if (stx_dev(&sx) != rec->dev || sx.stx_ino != rec->ino || sx.stx_mnt_id != run->top_mnt) {
                run->stats.mismatched++;
                report(run, rec->path, "not restored: another inode is at this path now");
                return 0;
        }
        at_new = sx.stx_uid == rec->new_uid && sx.stx_gid == rec->new_gid;
        at_old = sx.stx_uid == rec->old_uid && sx.stx_gid == rec->old_gid;
        /* restore_privileged() makes a file root-owned on its way back to a non-root owner; a
         * rollback killed there finds it so, and only root could have made it so. */
        priv = shift_record_privileged(rec, sx.stx_mode & S_IFMT);
        if (!at_new && !at_old && !(priv && sx.stx_uid == 0 && sx.stx_gid == rec->old_gid)) {
                run->stats.mismatched++;
                report(run, rec->path, "not restored: owner changed since the shift (now %u:%u)", sx.stx_uid, sx.stx_gid);
                return 0;
        }
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++)
                has_x = has_x || rec->old_x[k].present || rec->new_x[k].present;
        /* What is already as it was is not written again: an inode whose shift failed (immutable,
         * say) still has its old ACL, and rewriting it would fail the rollback for no change. */
        if (has_x) {
                r = xattrs_read(fd, false, sx.stx_mode & S_IFMT, cur);
                if (r < 0)
                        goto fail;
                for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                        x_differs[k] = (rec->old_x[k].present || rec->new_x[k].present) &&
                                       !blob_eq(&cur[k], &rec->old_x[k]);
                        any_x = any_x || x_differs[k];
                }
        }
        if (at_old && (sx.stx_mode & 07777) == rec->old_mode && !any_x) {
                run->stats.unchanged++;
                return 0;
        }
        if (priv)
                return restore_privileged(run, rec, fd, &sx, x_differs);

        if (at_new && fchownat(fd, "", rec->old_uid, rec->old_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                goto fail;
        }
        for (int k = 0; k < _SHIFT_XATTR_MAX; k++) {
                /* chown drops a file capability: after a chown it is written whatever was read */
                if (!x_differs[k] && !(at_new && k == SHIFT_XATTR_CAP && rec->old_x[k].present))
                        continue;
                r = xattr_apply(fd, false, (ShiftXattrKind) k, &rec->old_x[k]);
                if (r < 0)
                        goto fail;
        }
        /* Last, since chown and ACL writes change mode bits: the exact old mode, setuid included.
         * Only when it differs: a directory keeps setgid through chown, so its mode is usually right
         * already, and nothing is asked of the kernel then. */
        if (!S_ISLNK(sx.stx_mode)) {
                r = pin_stat(fd, &sx);
                if (r >= 0 && (sx.stx_mode & 07777) != rec->old_mode)
                        r = chmod_pinned(fd, rec->old_mode);
                if (r < 0)
                        goto fail;
        }
        run->stats.changed++;
        return 0;
fail:
        run->stats.failed++;
        report(run, rec->path, "not restored: %s", strerror(-r));
        return 0;
}

static int sync_tree_fs(int top_fd) {
        _cleanup_close_ int fd = openat(top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        return RET_NERRNO(syncfs(fd));
}

int shift_rollback(const ShiftParams *p, ShiftStats *ret_stats, ErrorInfo *e) {
        _cleanup_(run_done) Run run = {
                .p = p, .e = e, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
        };
        struct statx sx;
        int r;

        r = journal_start(&run, true);
        if (r < 0)
                return r;
        r = pin_stat(p->top_fd, &sx);
        if (r < 0)
                return error_set(e, r, "path", "path: cannot stat the directory: %s", strerror(-r));
        run.top_mnt = sx.stx_mnt_id;

        /* restore_privileged()'s lease: another process's open makes the kernel signal the holder
         * (SIGIO, which would end this process) and wait for the release, which comes anyway. */
        struct sigaction ign = { .sa_handler = SIG_IGN }, saved;
        if (sigaction(SIGIO, &ign, &saved) < 0)
                return error_set(e, -errno, "", "cannot ignore SIGIO: %m");
        for (size_t i = run.old.n_records; r >= 0 && i > 0; i--)
                r = restore_one(&run, &run.old.records[i - 1]);
        (void) sigaction(SIGIO, &saved, NULL);
        if (r < 0)
                return error_set(e, r, "", "rollback failed: %s", strerror(-r));
        /* The restored owners must be on disk before the caller drops the journal. */
        r = sync_tree_fs(p->top_fd);
        if (r < 0)
                return error_set(e, r, "", "cannot sync the restored tree: %s", strerror(-r));
        if (ret_stats)
                *ret_stats = run.stats;
        return run.stats.changed > 0;
}
