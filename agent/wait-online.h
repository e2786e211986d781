/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pure part of unroot-wait-online: when to stop waiting for a system target, and its options. */

#include <stdbool.h>
#include <stdint.h>

#define WAIT_ONLINE_DEFAULT_TARGET "network-online.target"
#define WAIT_ONLINE_DEFAULT_TIMEOUT_SEC 90U
#define WAIT_ONLINE_TIMEOUT_MAX_SEC 3600U

typedef enum WaitOnlineDecision {
        WAIT_ONLINE_WAIT,     /* not there yet, but something is on the way */
        WAIT_ONLINE_DONE,     /* the target is active */
        WAIT_ONLINE_GIVE_UP,  /* it will not become active: continue at once, with a warning */
} WaitOnlineDecision;

/* active_state is the target's ActiveState, NULL while unknown; job_pending tells whether the
 * unit's Job property names a queued job. An inactive target with no job is not going to come:
 * nothing pulled it into the boot transaction (the Arch case of podman#24796), so waiting for
 * it would only stall. *ret_reason, on GIVE_UP, says why in a few words. */
WaitOnlineDecision wait_online_decide(const char *active_state, bool job_pending, const char **ret_reason);

/* --timeout: whole seconds, 0 … WAIT_ONLINE_TIMEOUT_MAX_SEC; -EINVAL or -ERANGE otherwise. */
int wait_online_parse_timeout(const char *s, uint64_t *ret_usec);

/* --target: a plausible unit name (what systemd accepts, roughly): 1–255 characters of
 * [A-Za-z0-9:_.\-@], a type suffix after the last '.'. */
bool wait_online_target_valid(const char *name);
