/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* <root>/etc/.pwd.lock, taken as an OFD lock. OFD and classic record locks conflict, so this
 * excludes glibc's lckpwdf() (useradd, usermod, passwd, chpasswd) as well as other unroot helpers,
 * and it vanishes with the process, even on kill -9. The lock file itself is left in place like
 * every passwd tool does: unlinking a lock file races with someone opening it. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define ETC_LOCK_TIMEOUT_USEC_DEFAULT (15ULL * 1000000ULL) /* lckpwdf's 15 s */

/* Retries F_OFD_SETLK (no signals, no alarm()) until timeout_usec has passed; -ETIMEDOUT then.
 * exclusive=false takes a read lock (lookups). Returns the fd holding the lock in *ret_fd. */
int etc_lock_take(int etcfd, bool exclusive, uint64_t timeout_usec, int *ret_fd, ErrorInfo *e);
