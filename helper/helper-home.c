/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper-home.h"
#include "macro.h"

#define HOME_MODE 0711
#define TREE_DEPTH_MAX 256

/* Opens each component of path below dirfd as a directory, refusing symlinks; creates missing ones
 * (root-owned, 0755) when create is set. */
static int open_dir_path(int dirfd, const char *path, bool create, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        fd = openat(dirfd, ".", O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next;

                if (streq(c, ".") || streq(c, ".."))
                        return -EINVAL;
                if (create && mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
                        return -errno;
                next = openat(fd, c, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                safe_close(fd);
                fd = next;
        }
        *ret = TAKE_FD(fd);
        return 0;
}

static int open_root(const char *root) {
        int fd = open(root && *root ? root : "/", O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Creates (or opens) a root-owned directory of the skeleton; refuses symlinks and directories that
 * belong to somebody else. */
static int mkdir_skeleton(int parentfd, const char *name, mode_t mode, uid_t uid, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (mkdirat(parentfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parentfd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Only finish what we started: a root-owned directory (ours, from a run that crashed) or
         * one already handed over. */
        if (st.st_uid != 0 && st.st_uid != uid)
                return -EEXIST;
        *ret = TAKE_FD(fd);
        return 0;
}

static int hand_over(int fd, mode_t mode, uid_t uid, gid_t gid) {
        if (fchmod(fd, mode) < 0 || fchown(fd, uid, gid) < 0)
                return -errno;
        return 0;
}

int home_ensure(const char *root, const char *statedir, const char *name, uid_t uid, gid_t gid,
                ChangeList *changes, ErrorInfo *e) {
        _cleanup_close_ int rootfd = -EBADF, statefd = -EBADF, homefd = -EBADF, configfd = -EBADF,
                            containersfd = -EBADF;
        const char *sd = statedir ?: ACCOUNTS_DEFAULT_STATEDIR;
        struct stat st;
        int r;

        rootfd = open_root(root);
        if (rootfd < 0)
                return error_set(e, rootfd, "", "cannot open root directory: %s", strerror(-rootfd));
        r = open_dir_path(rootfd, sd, true, &statefd);
        if (r < 0)
                return error_set(e, r, "", "cannot open state directory %s: %s", sd, strerror(-r));
        /* The account-file lock is released by now; two helpers enrolling the same name at once
         * must not build and hand over the same home concurrently. Held until statefd closes. */
        if (flock(statefd, LOCK_EX) < 0)
                return error_set(e, -errno, "", "cannot lock state directory %s: %m", sd);

        if (mkdirat(statefd, name, 0700) < 0 && errno != EEXIST)
                return error_set(e, -errno, "", "cannot create %s/%s: %m", sd, name);
        /* O_PATH: a handed-over home is 0711, which the helper (no CAP_DAC_READ_SEARCH) may not
         * read; it only needs to see who owns it. */
        homefd = openat(statefd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (homefd < 0)
                return error_set(e, -errno, "", "cannot open %s/%s (a symlink or not a directory?): %m", sd, name);
        if (fstat(homefd, &st) < 0)
                return error_set(e, -errno, "", "cannot stat %s/%s: %m", sd, name);

        if (st.st_uid == uid)
                return 0; /* handed over earlier: the account's business now */
        if (st.st_uid != 0)
                return error_set(e, -EEXIST, "name", "home %s/%s exists and belongs to uid %u, not to %s",
                                 sd, name, (unsigned) st.st_uid, name);
        {
                /* Root-owned, so ours: reopen the pinned inode for real. */
                int fd = openat(homefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return error_set(e, -errno, "", "cannot open %s/%s: %m", sd, name);
                safe_close(homefd);
                homefd = fd;
        }

        /* Still ours (new, or left by a crash): build the skeleton while everything is root-owned
         * (the helper has no CAP_DAC_OVERRIDE to write into the account's 0700 directories), then
         * hand it over from the bottom up, the home last. */
        {
                _cleanup_close_ int systemdfd = -EBADF, localfd = -EBADF;

                r = mkdir_skeleton(homefd, ".config", 0700, uid, &configfd);
                if (r >= 0)
                        r = mkdir_skeleton(configfd, "containers", 0700, uid, &containersfd);
                if (r >= 0)
                        r = mkdir_skeleton(containersfd, "systemd", 0700, uid, &systemdfd);
                if (r >= 0)
                        r = mkdir_skeleton(homefd, ".local", 0700, uid, &localfd);
                if (r >= 0)
                        r = hand_over(systemdfd, 0700, uid, gid);
                if (r >= 0)
                        r = hand_over(containersfd, 0700, uid, gid);
                if (r >= 0)
                        r = hand_over(configfd, 0700, uid, gid);
                if (r >= 0)
                        r = hand_over(localfd, 0700, uid, gid);
                if (r >= 0)
                        r = hand_over(homefd, HOME_MODE, uid, gid);
                if (r < 0)
                        return error_set(e, r, "", "cannot prepare home %s/%s: %s", sd, name, strerror(-r));
        }

        (void) change_list_add(changes, "created home %s/%s (mode 0711)", sd, name);
        return 1;
}

/* Removes everything below dirfd. Entries are examined with fstatat(AT_SYMLINK_NOFOLLOW) and
 * directories opened with O_NOFOLLOW, so a symlink is removed, never followed; a directory on
 * another mount is left in place and makes the removal fail. */
static int remove_below(int dirfd, dev_t dev, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        int fd, r = 0;

        if (depth > TREE_DEPTH_MAX)
                return -ELOOP;
        fd = openat(dirfd, ".", O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (errno = 0, de = readdir(d)); ) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = r ?: -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = -EBADF;
                        int k;

                        if (st.st_dev != dev) {
                                r = r ?: -EXDEV;
                                continue;
                        }
                        sub = openat(dirfd, de->d_name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = r ?: -errno;
                                continue;
                        }
                        k = remove_below(sub, dev, depth + 1);
                        if (k < 0) {
                                r = r ?: k;
                                continue;
                        }
                        if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
                                r = r ?: -errno;
                } else if (unlinkat(dirfd, de->d_name, 0) < 0)
                        r = r ?: -errno;
        }
        if (errno != 0)
                r = r ?: -errno;
        return r;
}

int home_remove(const char *root, const char *statedir, const char *name, uid_t uid, ChangeList *changes,
                ErrorInfo *e) {
        _cleanup_close_ int rootfd = -EBADF, statefd = -EBADF, homefd = -EBADF;
        const char *sd = statedir ?: ACCOUNTS_DEFAULT_STATEDIR;
        struct stat st;
        int r;

        rootfd = open_root(root);
        if (rootfd < 0)
                return error_set(e, rootfd, "", "cannot open root directory: %s", strerror(-rootfd));
        r = open_dir_path(rootfd, sd, false, &statefd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(e, r, "", "cannot open state directory %s: %s", sd, strerror(-r));
        if (flock(statefd, LOCK_EX) < 0)
                return error_set(e, -errno, "", "cannot lock state directory %s: %m", sd);
        homefd = openat(statefd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (homefd < 0 && errno == ENOENT)
                return 0;
        if (homefd < 0)
                return error_set(e, -errno, "", "cannot open home %s/%s: %m", sd, name);
        if (fstat(homefd, &st) < 0)
                return error_set(e, -errno, "", "cannot stat home %s/%s: %m", sd, name);
        if (st.st_uid != uid && st.st_uid != 0)
                return error_set(e, -EPERM, "name", "home %s/%s belongs to uid %u, not to %s; not removing it",
                                 sd, name, (unsigned) st.st_uid, name);

        r = remove_below(homefd, st.st_dev, 0);
        if (r < 0)
                return error_set(e, r, "", "cannot remove all of home %s/%s: %s", sd, name, strerror(-r));
        if (unlinkat(statefd, name, AT_REMOVEDIR) < 0)
                return error_set(e, -errno, "", "cannot remove home %s/%s: %m", sd, name);
        (void) change_list_add(changes, "removed home %s/%s", sd, name);
        return 1;
}
