/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shift-floor: the system calls the shift's checks need per tree entry, and nothing else, as a
 * lower bound for the shift benchmark (bench-shift.sh). Per entry, as shift-walk.c does:
 *  - openat2() of the name with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV|
 *    RESOLVE_NO_MAGICLINKS: O_PATH (or, with --real-files, a real O_RDONLY|O_NONBLOCK open of
 *    regular files, the nodev case);
 *  - statx() of that fd (type, owner, mount id, link count);
 *  - for non-directories, statx() of the name again (the link count confirmed on the name);
 *  - for regular files and directories, the xattr list (ACLs, file capability): through
 *    /proc/self/fd/N for an O_PATH fd (relative to a working directory of /proc/self/fd, as the
 *    shift does), flistxattr() for a real one;
 *  - the chown: fchownat(fd, "", AT_EMPTY_PATH), or fchown() of a real fd;
 *  - close().
 * Directories are read through a real O_DIRECTORY fd. No journal, no fdatasync, no id map, no
 * report: each of those only adds. The top-level entries are dealt out to THREADS threads (one per
 * CPU in the benchmark), which is more parallelism than the shift has (a walker and an applier).
 * What this takes over chown -R's time is the least any shift with these checks can take here.
 *
 * usage: shift-floor [--real-files] THREADS DIR UID:GID   (root) */

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define THREADS_MAX 16
#define DEPTH_MAX 64

static bool real_files;
static int n_threads, top;
static uid_t uid;
static gid_t gid;

static int open_entry(int dirfd, const char *name, unsigned char d_type) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };

        if (d_type == DT_DIR)
                how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        else if (d_type == DT_REG && real_files)
                how.flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
        return (int) syscall(SYS_openat2, dirfd, name, &how, sizeof how);
}

/* Shifts one entry; for a directory, returns its fd still open (the caller reads it), else -1. */
static int visit(int dirfd, const char *name, unsigned char d_type, long *failed) {
        char list[1024], digits[16];
        struct statx sx, again;
        bool real = d_type == DT_DIR || (d_type == DT_REG && real_files);
        int fd = open_entry(dirfd, name, d_type);

        if (fd < 0 ||
            statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                  STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_NLINK | STATX_INO | STATX_MNT_ID, &sx) < 0) {
                (*failed)++;
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        if (!S_ISDIR(sx.stx_mode) &&
            statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_INO | STATX_NLINK, &again) < 0)
                (*failed)++;
        if (real)
                (void) flistxattr(fd, list, sizeof list);
        else if (S_ISREG(sx.stx_mode)) { /* the magic link followed to the pinned inode */
                snprintf(digits, sizeof digits, "%d", fd);
                (void) listxattr(digits, list, sizeof list);
        }
        if ((real && !S_ISLNK(sx.stx_mode) ? fchown(fd, uid, gid) : fchownat(fd, "", uid, gid, AT_EMPTY_PATH)) < 0)
                (*failed)++;
        if (S_ISDIR(sx.stx_mode))
                return fd;
        close(fd);
        return -1;
}

static void *work(void *arg) {
        long t = (long) arg, failed = 0, i = 0;
        DIR *stack[DEPTH_MAX] = {};
        int depth = 0, fd;
        struct dirent *de;

        fd = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not dup(): its own offset */
        stack[0] = fd >= 0 ? fdopendir(fd) : NULL;
        if (!stack[0])
                return (void *) 1;
        while (depth >= 0) {
                de = readdir(stack[depth]);
                if (!de) {
                        closedir(stack[depth--]);
                        continue;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (depth == 0 && i++ % n_threads != t)
                        continue;
                fd = visit(dirfd(stack[depth]), de->d_name, de->d_type, &failed);
                if (fd >= 0) {
                        if (depth + 1 >= DEPTH_MAX || !(stack[depth + 1] = fdopendir(fd))) {
                                close(fd);
                                failed++;
                        } else
                                depth++;
                }
        }
        return (void *) failed;
}

int main(int argc, char *argv[]) {
        pthread_t th[THREADS_MAX];
        long failed = 0;
        int a = 1;

        if (argc > 1 && !strcmp(argv[1], "--real-files")) {
                real_files = true;
                a++;
        }
        if (argc - a != 3 || sscanf(argv[a + 2], "%u:%u", &uid, &gid) != 2) {
                fprintf(stderr, "usage: shift-floor [--real-files] THREADS DIR UID:GID\n");
                return 2;
        }
        n_threads = atoi(argv[a]);
        if (n_threads < 1 || n_threads > THREADS_MAX)
                return 2;
        top = open(argv[a + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (top < 0 || fchown(top, uid, gid) < 0 || chdir("/proc/self/fd") < 0) {
                perror("shift-floor");
                return 1;
        }
        for (long t = 1; t < n_threads; t++)
                if (pthread_create(&th[t], NULL, work, (void *) t) != 0)
                        return 1;
        failed = (long) work((void *) 0);
        for (long t = 1; t < n_threads; t++) {
                void *f;

                (void) pthread_join(th[t], &f);
                failed += (long) f;
        }
        if (failed) {
                fprintf(stderr, "shift-floor: %ld entries failed\n", failed);
                return 1;
        }
        return 0;
}
