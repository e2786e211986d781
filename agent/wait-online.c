/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"
#include "wait-online.h"

WaitOnlineDecision wait_online_decide(const char *active_state, bool job_pending, const char **ret_reason) {
        const char *reason = NULL;
        WaitOnlineDecision d = WAIT_ONLINE_WAIT;

        if (!active_state)
                d = WAIT_ONLINE_WAIT;
        else if (streq(active_state, "active") || streq(active_state, "reloading"))
                d = WAIT_ONLINE_DONE;
        else if (streq(active_state, "failed")) {
                d = WAIT_ONLINE_GIVE_UP;
                reason = "it failed";
        } else if (!job_pending && (streq(active_state, "inactive") || streq(active_state, "deactivating"))) {
                d = WAIT_ONLINE_GIVE_UP;
                reason = "no job is starting it";
        }
        /* activating, or inactive with a start job queued, or a state systemd may add later: wait. */
        if (ret_reason)
                *ret_reason = reason;
        return d;
}

int wait_online_parse_timeout(const char *s, uint64_t *ret_usec) {
        uint32_t sec;
        int r;

        r = safe_atou32(s, &sec);
        if (r < 0)
                return r;
        if (sec > WAIT_ONLINE_TIMEOUT_MAX_SEC)
                return -ERANGE;
        *ret_usec = (uint64_t) sec * 1000000ULL;
        return 0;
}

bool wait_online_target_valid(const char *name) {
        const char *dot;
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n > 255 ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.-@\\") != n)
                return false;
        dot = strrchr(name, '.');
        return dot && dot != name && dot[1] != '\0';
}
