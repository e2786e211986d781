/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shadow-lock.h"
#include "util.h"

/* usermod's and userdel's order (see shadow-lock.h). */
static const EtcKind lock_order[] = { ETC_PASSWD, ETC_SHADOW, ETC_GROUP, ETC_GSHADOW, ETC_SUBUID, ETC_SUBGID };

/* Longest content we accept: a pid, a terminator, and nothing else. */
#define PID_TEXT_MAX 24

int shadow_lock_parse_pid(const char *buf, size_t len, pid_t *ret) {
        uint64_t v = 0;
        size_t i;

        /* shadow writes "%lu" plus the NUL; a newline is what other tools put there. */
        if (len > 0 && (buf[len - 1] == '\0' || buf[len - 1] == '\n'))
                len--;
        if (len == 0 || len > 10)
                return -EBADMSG;
        for (i = 0; i < len; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (buf[i] - '0');
        }
        if (v == 0 || v > INT_MAX)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

static bool pid_is_alive(pid_t pid) {
        /* EPERM: it exists, we may just not signal it. Only ESRCH proves it is gone. */
        return kill(pid, 0) >= 0 || errno != ESRCH;
}

/* Reads the pid in <file>.lock. -ENOENT if it vanished meanwhile, -EBADMSG if it holds no pid. */
static int read_lock_pid(int etcfd, const char *lock, pid_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[PID_TEXT_MAX + 1];
        ssize_t n;

        fd = openat(etcfd, lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf);
        if (n < 0)
                return -errno;
        return shadow_lock_parse_pid(buf, (size_t) n, ret);
}

/* link() made the lock ours only if the link count says so (shadow's check_link_count: on file
 * systems where link() may report failure after succeeding, or the reverse, this is the truth). */
static int link_and_check(int etcfd, const char *tmp, const char *lock) {
        struct stat st;

        if (linkat(etcfd, tmp, etcfd, lock, 0) < 0)
                return -errno;
        if (fstatat(etcfd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_nlink != 2) {
                (void) unlinkat(etcfd, lock, 0);
                return -EEXIST;
        }
        return 0;
}

/* One attempt at <file>.lock: 0 = taken, -EBUSY = a live process holds it (its pid in *ret_holder,
 * 0 if unknown; e untouched), other negative errno = failure with e filled. */
static int lock_one(int etcfd, const char *file, pid_t self, pid_t *ret_holder, ErrorInfo *e) {
        char tmp[64], lock[64], field[80], text[PID_TEXT_MAX];
        _cleanup_close_ int fd = -EBADF;
        pid_t holder = 0;
        int r, len;

        (void) snprintf(tmp, sizeof tmp, "%s.%d", file, (int) self);
        (void) snprintf(lock, sizeof lock, "%s.lock", file);
        (void) snprintf(field, sizeof field, "/etc/%s", lock);
        len = snprintf(text, sizeof text, "%d", (int) self) + 1; /* with the NUL, as shadow writes it */

        fd = openat(etcfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return error_set(e, -errno, field, "Cannot create /etc/%s to take /etc/%s: %m", tmp, lock);
        r = write_all(fd, text, (size_t) len);
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(etcfd, tmp, 0);
                errno = -r;
                return error_set(e, r, field, "Cannot write /etc/%s to take /etc/%s: %m", tmp, lock);
        }

        r = link_and_check(etcfd, tmp, lock);
        if (r == -EEXIST) {
                r = read_lock_pid(etcfd, lock, &holder);
                if (r == -ENOENT) /* released meanwhile: try again */
                        r = -EBUSY;
                else if (r == -EBADMSG) {
                        (void) unlinkat(etcfd, tmp, 0);
                        return error_set(e, r, field,
                                         "/etc/%s holds no process id, so it cannot be told stale: remove it if "
                                         "no program is editing the account files. Nothing was changed.", lock);
                } else if (r < 0) {
                        (void) unlinkat(etcfd, tmp, 0);
                        errno = -r;
                        return error_set(e, r, field, "Cannot read /etc/%s: %m", lock);
                } else if (holder != self && pid_is_alive(holder))
                        r = -EBUSY;
                else {
                        /* Stale: its owner is gone (or was an earlier process with our pid, for which
                         * we are not holding it). Replace it as shadow does: unlink, link again; if
                         * someone beat us to it, that is a plain busy lock. */
                        if (unlinkat(etcfd, lock, 0) < 0 && errno != ENOENT) {
                                r = -errno;
                                (void) unlinkat(etcfd, tmp, 0);
                                errno = -r;
                                return error_set(e, r, field, "Cannot remove the stale /etc/%s (pid %d is gone): %m",
                                                 lock, (int) holder);
                        }
                        r = link_and_check(etcfd, tmp, lock);
                        if (r == -EEXIST)
                                r = -EBUSY, holder = 0;
                }
        }
        (void) unlinkat(etcfd, tmp, 0);
        if (r == -EBUSY) {
                if (ret_holder)
                        *ret_holder = holder;
                return r;
        }
        if (r < 0) {
                errno = -r;
                return error_set(e, r, field, "Cannot link /etc/%s to /etc/%s: %m", tmp, lock);
        }
        return 0;
}

/* Unlinks our locks, in reverse order; keeps etcfd. */
static void unlock_held(ShadowLocks *l) {
        char lock[64];
        pid_t holder;

        for (size_t i = ELEMENTSOF(lock_order); i > 0; i--) {
                EtcKind k = lock_order[i - 1];

                if (!(l->held & (1U << k)))
                        continue;
                (void) snprintf(lock, sizeof lock, "%s.lock", etc_kind_file(k));
                /* Never remove a lock that is not ours any more (someone judged us dead). */
                if (read_lock_pid(l->etcfd, lock, &holder) >= 0 && holder == l->pid)
                        (void) unlinkat(l->etcfd, lock, 0);
                l->held &= ~(1U << k);
        }
}

void shadow_locks_release(ShadowLocks *l) {
        if (!l || l->etcfd < 0)
                return;
        unlock_held(l);
        l->etcfd = safe_close(l->etcfd);
}

/* "<file>.<digits>" of a process that is gone: shadow's temp name, left by a crash between its
 * creation and its unlink (ours or shadow's). Only regular files holding that same pid. */
static void clean_stale_temps(int etcfd, pid_t self) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(etcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return;
        }
        while ((de = readdir(d))) {
                const char *dot = strrchr(de->d_name, '.');
                pid_t name_pid, content_pid;
                bool known = false;

                if (!dot || shadow_lock_parse_pid(dot + 1, strlen(dot + 1), &name_pid) < 0 || name_pid == self)
                        continue;
                for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                        if (strlen(etc_kind_file(k)) == (size_t) (dot - de->d_name) &&
                            strneq(de->d_name, etc_kind_file(k), (size_t) (dot - de->d_name)))
                                known = true;
                if (!known || read_lock_pid(etcfd, de->d_name, &content_pid) < 0 || content_pid != name_pid ||
                    pid_is_alive(name_pid))
                        continue;
                (void) unlinkat(etcfd, de->d_name, 0);
        }
}

int shadow_locks_take(int etcfd, uint64_t timeout_usec, ShadowLocks *ret, ErrorInfo *e) {
        _cleanup_(shadow_locks_release) ShadowLocks l = { .etcfd = -EBADF, .pid = getpid() };
        uint64_t deadline, delay = 1000;
        int r;

        l.etcfd = fcntl(etcfd, F_DUPFD_CLOEXEC, 3);
        if (l.etcfd < 0)
                return error_set(e, -errno, "root", "Cannot duplicate the /etc fd: %m");

        deadline = now_usec() + timeout_usec;
        for (;;) {
                EtcKind busy = _ETC_KIND_INVALID;
                pid_t holder = 0;

                for (size_t i = 0; i < ELEMENTSOF(lock_order); i++) {
                        r = lock_one(l.etcfd, etc_kind_file(lock_order[i]), l.pid, &holder, e);
                        if (r == -EBUSY) {
                                busy = lock_order[i];
                                break;
                        }
                        if (r < 0)
                                return r;
                        l.held |= 1U << lock_order[i];
                }
                if (busy < 0)
                        break;

                /* Back off with nothing held, so that a tool taking these in another order finishes. */
                unlock_held(&l);
                uint64_t now = now_usec();
                if (now >= deadline) {
                        char field[80], who[48] = "";

                        (void) snprintf(field, sizeof field, "/etc/%s.lock", etc_kind_file(busy));
                        if (holder > 0)
                                (void) snprintf(who, sizeof who, ", held by pid %d", (int) holder);
                        return error_set(e, -ETIMEDOUT, field,
                                         "Timed out after %.1f s waiting for %s%s: another program (useradd, usermod, "
                                         "vipw, …) is editing the account files. Nothing was changed; try again.",
                                         (double) timeout_usec / 1e6, field, who);
                }
                /* Short sleeps: shadow's tools hold the locks for milliseconds, and a slow poller
                 * would get in between two of an admin's commands only by luck. */
                uint64_t d = MIN(delay, deadline - now);
                struct timespec ts = { .tv_sec = (time_t) (d / 1000000), .tv_nsec = (long) (d % 1000000) * 1000 };
                (void) nanosleep(&ts, NULL);
                delay = MIN(delay * 2, (uint64_t) 20000);
        }
        clean_stale_temps(l.etcfd, l.pid);
        *ret = l;
        l = SHADOW_LOCKS_NULL;
        return 0;
}
