/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writing a whole small file so that a reader, or a crash, sees either the old file or the new
 * one, never a torn one. */

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* Reads a whole regular file from fd (at most max bytes, else -EFBIG; not a regular file: -EBADFD).
 * *ret is NUL-terminated. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Writes all of buf, retrying short writes and EINTR. */
int write_all(int fd, const void *buf, size_t len);

/* Replaces path by content with mode: a temporary file in the same directory, written, fsync()ed,
 * renamed over path, and the directory fsync()ed. On failure path is untouched and the temporary
 * file removed. A symlink at path is replaced, not followed. */
int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode);
/* write_file_atomic() that also gives the file the owner uid:gid ((uid_t) -1 and (gid_t) -1 leave
 * it) and, if times is not NULL, these access and modification times, before it is renamed in. */
int write_file_atomic_owned(const char *path, const char *content, size_t len, mode_t mode, uid_t uid, gid_t gid,
                            const struct timespec times[2]);

/* read_full_fd() of path opened with O_RDONLY|O_CLOEXEC|O_NOCTTY|open_flags (e.g. O_NOFOLLOW). */
int read_file_limited(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len);
/* read_file_limited(), and *ret_st (if not NULL) gets the fstat() of the file read. */
int read_file_limited_stat(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len,
                           struct stat *ret_st);
