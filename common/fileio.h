/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writing a whole small file so that a reader, or a crash, sees either the old file or the new
 * one, never a torn one. */

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole regular file from fd (at most max bytes, else -EFBIG; not a regular file: -EBADFD).
 * *ret is NUL-terminated. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Writes all of buf, retrying short writes and EINTR. */
int write_all(int fd, const void *buf, size_t len);

/* Replaces path by content with mode: a temporary file in the same directory, written, fsync()ed,
 * renamed over path, and the directory fsync()ed. On failure path is untouched and the temporary
 * file removed. A symlink at path is replaced, not followed. */
int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode);

/* read_full_fd() of path opened with O_RDONLY|O_CLOEXEC|O_NOCTTY|open_flags (e.g. O_NOFOLLOW). */
int read_file_limited(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len);
