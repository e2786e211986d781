/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* logind, over the system bus. The helper is root, and polkit always authorizes root, so logind's
 * own polkit checks pass without CAP_SYS_ADMIN. */

/* Reads logind's own record (/var/lib/systemd/linger/NAME). */
bool linger_is_enabled(const char *name);
int logind_set_linger(uid_t uid, bool enable);
/* Ends every session and the user manager of uid. 0 if it had none, 1 if something was stopped. */
int logind_terminate_user(uid_t uid);
/* Waits until logind no longer knows uid (its processes are gone), at most timeout_usec.
 * -ETIMEDOUT if it is still there. */
int logind_wait_user_gone(uid_t uid, uint64_t timeout_usec);
