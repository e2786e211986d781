/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The agent's answers: a status reply, or an error reply, each one datagram. */

#include <sys/types.h>

#include "agent-account.h"
#include "agent-loop.h"
#include "agent.pb-c.h"

/* Builds and sends the reply for a status request. acct may be NULL (lookup failed: then uid is
 * self_uid and the ranges are empty); manager_state is the user manager's SystemState or
 * "unavailable"; note (may be NULL) goes to AgentReply.message; st (may be NULL) adds the units,
 * errors, podman version and pod shape. A reply that would exceed the frame limit drops the
 * per-unit texts (translation and apply errors) first, then says so in the message. */
int agent_reply_status(int fd, const char *account, uid_t uid, const AgentAccount *acct,
                       const char *manager_state, const char *note, const LoopStatus *st);

/* The reply to a start/stop/restart: OK with the job result "done", else AGENT_FAILED. */
int agent_reply_unit_action(int fd, const char *unit, int r, const char *result, const char *message);

/* The reply to a reapply. */
int agent_reply_reapply(int fd, const ApplyReport *rep);

int agent_reply_error(int fd, Unroot__Agent__AgentStatus status, const char *field, const char *message);

/* Packs a reply into a fresh buffer (the tests use this to check the encoding). */
int agent_reply_pack(const Unroot__Agent__AgentReply *reply, uint8_t **ret_buf, size_t *ret_len);
