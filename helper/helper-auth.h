/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one authorization gate: every operation maps to its own polkit action, the details are the
 * validated arguments, and any failure to get a clear "yes" is a "no". */

#include <stdbool.h>

#include "error.h"
#include "helper-peer.h"
#include "helper-request.h"

typedef enum AuthResult {
        AUTH_ALLOWED,
        AUTH_DENIED,
        AUTH_CHALLENGE, /* polkit wants a password, but the caller has no agent */
        AUTH_CANCELLED, /* the caller dismissed the password prompt */
        _AUTH_RESULT_MAX,
} AuthResult;

#define HELPER_DETAILS_MAX 5

/* NULL-terminated key, value, key, value, … list; values point into the struct or the request. */
typedef struct HelperDetails {
        const char *kv[HELPER_DETAILS_MAX * 2 + 1];
        char number[16];
} HelperDetails;

typedef struct Authorizer {
        /* Returns an AuthResult, or a negative errno if the question could not be answered. */
        int (*check)(const Peer *peer, const char *action, const char *const *details, bool interactive,
                     void *userdata);
        void *userdata;
} Authorizer;

const char *helper_op_action(HelperOp op);
void helper_details_build(const HelperRequest *req, HelperDetails *ret);

/* Asks a about req on behalf of peer. Returns 0 if allowed; -EACCES (denied, or the authorizer
 * failed: fail closed), -EKEYREJECTED (challenge without agent), -ECANCELED, or -ESTALE if req was
 * changed while the question was out. e gets a message that says what to do next. */
int helper_authorize(const Authorizer *a, const Peer *peer, const HelperRequest *req, ErrorInfo *e);

/* The real thing: polkit's CheckAuthorization on the system bus (helper-polkit.c). */
extern const Authorizer polkit_authorizer;
