/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/prctl.h>

#include <sys/capability.h>

#include "helper-caps.h"
#include "log.h"
#include "macro.h"

/* CAP_CHOWN: owners of new account files (temp files) and homes.
 * CAP_FOWNER: modes of inodes the helper does not own (a home after it was handed over).
 * CAP_DAC_OVERRIDE: only for purge, which removes the account's own 0700 trees.
 * shift: CAP_DAC_READ_SEARCH to walk directories of any owner, CAP_SETFCAP to rewrite
 * security.capability, CAP_FSETID to restore setuid/setgid modes on rollback.
 * secret-group: CAP_CHOWN and CAP_FOWNER for the secret's group and mode, CAP_DAC_READ_SEARCH to
 * reach it through its service's private directories.
 * No CAP_SYS_ADMIN: logind honours root through polkit. Writing root-owned /etc files as uid 0
 * needs no capability at all. */
static const cap_value_t helper_caps[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SETFCAP,
                                           CAP_FSETID };
static const cap_value_t enroll_caps[] = { CAP_CHOWN, CAP_FOWNER };
static const cap_value_t purge_caps[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE };
static const cap_value_t shift_caps[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_READ_SEARCH, CAP_SETFCAP, CAP_FSETID };
static const cap_value_t secret_caps[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_READ_SEARCH };

DEFINE_TRIVIAL_CLEANUP_FUNC(cap_t, cap_free);

static int caps_keep(const cap_value_t *keep, size_t n) {
        _cleanup_(cap_freep) cap_t caps = NULL;

        caps = cap_init(); /* all clear: permitted, effective, inheritable */
        if (!caps)
                return -errno;
        if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, (int) n, keep, CAP_SET) < 0 ||
                      cap_set_flag(caps, CAP_EFFECTIVE, (int) n, keep, CAP_SET) < 0))
                return -errno;

        /* The bounding set first (needs CAP_SETPCAP, which we still have at this point only on the
         * first call; later calls only shrink permitted, which needs nothing). */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                bool wanted = false;
                for (size_t i = 0; i < n; i++)
                        wanted = wanted || keep[i] == c;
                if (!wanted && CAP_IS_SUPPORTED(c) && cap_get_bound(c) > 0 && cap_drop_bound(c) < 0 &&
                    errno != EPERM)
                        return -errno;
        }
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return -errno;
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}

int caps_drop_to_helper_set(void) {
        int r;

        r = caps_keep(helper_caps, ELEMENTSOF(helper_caps));
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities: %m");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error_errno(-errno, "Failed to set no_new_privs: %m");
        return 0;
}

int caps_drop_for_op(HelperOp op, bool purge) {
        int r;

        if (op == HELPER_OP_SHIFT)
                r = caps_keep(shift_caps, ELEMENTSOF(shift_caps));
        else if (op == HELPER_OP_SECRET_GROUP)
                r = caps_keep(secret_caps, ELEMENTSOF(secret_caps));
        else if (op == HELPER_OP_UNENROLL && purge)
                r = caps_keep(purge_caps, ELEMENTSOF(purge_caps));
        else
                r = caps_keep(enroll_caps, ELEMENTSOF(enroll_caps));
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities for %s: %m", helper_op_to_string(op));
        return 0;
}
