/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* <root>/etc/.pwd.lock, taken as an OFD lock. OFD and classic record locks conflict, so this
 * excludes glibc's lckpwdf() (useradd, usermod, passwd, chpasswd) as well as other unroot helpers,
 * and it vanishes with the process, even on kill -9. The lock file itself is left in place like
 * every passwd tool does: unlinking a lock file races with someone opening it. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "shadow-lock.h"

#define ETC_LOCK_TIMEOUT_USEC_DEFAULT (15ULL * 1000000ULL) /* lckpwdf's 15 s */

/* What a writer holds: the .pwd.lock fd and, for writers, shadow's per-file "<file>.lock" files
 * (shadow-lock.h), which useradd/usermod --prefix take instead of lckpwdf(). */
typedef struct EtcLock {
        int fd;
        ShadowLocks shadow;
} EtcLock;

#define ETC_LOCK_NULL ((EtcLock) { .fd = -EBADF, .shadow = SHADOW_LOCKS_NULL })

/* Retries F_OFD_SETLK (no signals, no alarm()) until timeout_usec has passed; -ETIMEDOUT then.
 * exclusive=false takes a read lock (lookups) and nothing else; exclusive=true then takes shadow's
 * per-file locks within the same timeout, in lckpwdf-then-files order like shadow's live tools. */
int etc_lock_take(int etcfd, bool exclusive, uint64_t timeout_usec, EtcLock *ret, ErrorInfo *e);
/* Releases the per-file locks, then .pwd.lock. Idempotent. */
void etc_lock_release(EtcLock *l);
