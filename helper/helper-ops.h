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
} OpResult;

void op_result_done(OpResult *r);

/* 0 unchanged, 1 changed, <0 error with e filled. */
int op_enroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
/* helper-shift.c */
int op_shift(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
int op_unenroll(const HelperContext *ctx, const HelperRequest *req, OpResult *res, ErrorInfo *e);
