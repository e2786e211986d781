/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "accounts.h"
#include "helper-request.h"
#include "shift-walk.h"

typedef struct HelperContext {
        const char *root;     /* NULL: the live system */
        const char *statedir; /* NULL: /var/lib/unroot */
        /* The live system has logind, NSS and nscd; a --root tree (tests, images) has none of them,
         * like systemd-sysusers --root, which never talks to running services. */
        bool live;
} HelperContext;

/* What an operation did, for the reply. */
typedef struct OpResult {
        ChangeList changes;
        AccountInfo info;
        bool linger;
        bool purged;
        ShiftStats shift;     /* shift */
        char *shift_journal;  /* shift */
        char *secret_journal; /* secret-group */
        uint32_t secret_gid;  /* secret-group */
        bool group_created;   /* secret-group: created (rollback: removed) the group */
        bool member_changed;  /* secret-group: added (rollback: removed) the membership */
} OpResult;

void op_result_done(OpResult *r);

/* The live system's NSS collision checks (sysusers' uid_is_ok), and the nscd flush after the
 * account files changed (logind and user@ resolve through NSS). */
extern const AccountsHooks helper_nss_hooks;
void helper_nscd_invalidate(void);

/* 0 unchanged, 1 changed, <0 error with e filled. */
int op_enroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
/* helper-shift.c */
int op_shift(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
/* helper-secret.c */
int op_secret_group(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
int op_unenroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
