/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* shadow-utils' per-file locks (lib/commonio.c, commonio_lock_nowait/do_lock_file): "<file>.lock"
 * next to each account file, made by writing the decimal pid plus a NUL into "<file>.<pid>" and
 * link()ing that to "<file>.lock"; link() is the atomic step. A lock whose pid is gone (kill(pid, 0)
 * says ESRCH) is stale and is replaced, as shadow does. useradd/usermod/userdel --prefix take only
 * these, not /etc/.pwd.lock (lckpwdf), so the helper must take both to exclude them.
 *
 * Order: passwd, shadow, group, gshadow, subuid, subgid, as usermod and userdel take them (useradd
 * takes shadow last). Every user tool takes passwd.lock first, so whoever holds it has excluded all
 * of them; the rest only waits for group tools. A busy lock releases everything taken so far before
 * backing off, so no order another tool uses can deadlock with us. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "etcfile.h"

typedef struct ShadowLocks {
        int etcfd;         /* our own duplicate of the <root>/etc fd; -EBADF when nothing is held */
        pid_t pid;         /* the pid written into the locks we hold */
        unsigned held;     /* bit k: "<etc_kind_file(k)>.lock" is ours */
} ShadowLocks;

#define SHADOW_LOCKS_NULL ((ShadowLocks) { .etcfd = -EBADF })

/* Parses a lock file's contents as shadow writes them ("1234\0"; a trailing newline is accepted
 * too). -EBADMSG unless it is a positive pid. Pure. */
int shadow_lock_parse_pid(const char *buf, size_t len, pid_t *ret);

/* Takes all six locks under etcfd, retrying with back-off while a live process holds one, until
 * timeout_usec has passed (-ETIMEDOUT, naming the lock and its holder). Other errors (a lock file
 * without a pid, ENOSPC, EROFS, …) fail at once. On failure nothing is held and no file of ours is
 * left. Also removes "<file>.<pid>" leftovers of dead processes (a crash between create and link). */
int shadow_locks_take(int etcfd, uint64_t timeout_usec, ShadowLocks *ret, ErrorInfo *e);

/* Unlinks every lock still holding our pid, in reverse order. Idempotent; safe on SHADOW_LOCKS_NULL. */
void shadow_locks_release(ShadowLocks *l);
