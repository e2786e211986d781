/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writing a whole small file so that a reader, or a crash, sees either the old file or the new
 * one, never a torn one. */

#include <stddef.h>
#include <sys/types.h>

/* Replaces path by content with mode: a temporary file in the same directory, written, fsync()ed,
 * renamed over path, and the directory fsync()ed. On failure path is untouched and the temporary
 * file removed. A symlink at path is replaced, not followed. */
int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode);

/* Reads the regular file at path (opened with O_RDONLY|O_CLOEXEC|O_NOCTTY|open_flags, e.g.
 * O_NOFOLLOW) into a NUL-terminated buffer. -EFBIG when it holds more than max bytes, -EBADFD when
 * it is not a regular file, else -errno of open/read. */
int read_file_limited(const char *path, int open_flags, size_t max, char **ret, size_t *ret_len);
