/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* agentctl's side of the helper protocol: exit codes, the sentence that says what to do next, and
 * one request/reply exchange. */

#include <stdbool.h>
#include <stdint.h>

#include "helper.pb-c.h"
#include "framing.h"

/* Exit codes scripts can rely on (agentctl(1), EXIT STATUS). */
typedef enum AgentctlExit {
        AGENTCTL_EXIT_SUCCESS = 0,     /* done, changed or unchanged */
        AGENTCTL_EXIT_FAILED = 1,      /* the operation failed (or the helper is busy) */
        AGENTCTL_EXIT_USAGE = 2,       /* bad command line, or the helper said STATUS_INVALID */
        AGENTCTL_EXIT_DENIED = 3,      /* DENIED, AUTH_REQUIRED, CANCELLED */
        AGENTCTL_EXIT_CONFLICT = 4,    /* CONFLICT, NOT_FOUND */
        AGENTCTL_EXIT_UNREACHABLE = 5, /* no helper at the socket */
        AGENTCTL_EXIT_TIMEOUT = 6,     /* the account's agent did not answer in time */
} AgentctlExit;

/* Every Status maps explicitly; an unknown value (a newer helper) is FAILED. */
AgentctlExit helper_status_to_exit(int status);
/* "changed", "unchanged", "invalid", "denied", "auth-required", "conflict", "not-found", "failed",
 * "busy", "cancelled"; "unknown" for anything else. */
const char *helper_status_to_string(int status);

/* The error line for a non-success reply: what happened and what to do next. NULL for
 * CHANGED/UNCHANGED. op is "enroll" or "unenroll", action the polkit action (NULL: derived from op),
 * message/field from the reply (may be NULL). asked_password: a polkit agent was running. */
char *helper_status_explain(int status, const char *op, const char *name, const char *action,
                            const char *message, const char *field, bool asked_password);

/* The socket: $UNROOT_HELPER_SOCKET or HELPER_SOCKET_PATH. */
const char *helper_socket_path(void);

/* Connects a SOCK_SEQPACKET socket to path. */
int helper_connect(const char *path, int *ret_fd);

/* The sentence for an unreachable helper. */
char *helper_unreachable_message(const char *path, int error);

typedef struct HelperReplyHolder {
        Unroot__Helper__HelperReply *reply;
        BoundedAllocator alloc;
} HelperReplyHolder;
void helper_reply_holder_done(HelperReplyHolder *h);

/* Sends req over fd and receives the reply (timeout_ms, -1 forever), decoded strictly into h. */
int helper_exchange(int fd, const Unroot__Helper__HelperRequest *req, int timeout_ms, HelperReplyHolder *h);
/* Fills req and sr (both initialised by the caller, sr must outlive req) with a shift request:
 * ownership shift of path to account, or its rollback. The strings are not copied. */
void helper_shift_request(Unroot__Helper__HelperRequest *req, Unroot__Helper__ShiftRequest *sr, const char *account,
                          const char *path, bool rollback);

/* Fills req and sr the same way with a secret-group request: share file with account through group
 * (file group := group, mode 0440, account joins group), or its rollback. The strings are not copied. */
void helper_secret_group_request(Unroot__Helper__HelperRequest *req, Unroot__Helper__SecretGroupRequest *sr,
                                 const char *account, const char *file, const char *group, bool rollback);

/* Decodes one reply datagram strictly (used by helper_exchange and the tests). */
int helper_reply_decode(const uint8_t *buf, size_t len, HelperReplyHolder *h);
