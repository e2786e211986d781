/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Decoding and validation of one AgentRequest datagram, and the matching reply encoding. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AGENT_PROTOCOL_VERSION 1U

typedef enum AgentOp {
        AGENT_OP_STATUS,
        _AGENT_OP_MAX,
        _AGENT_OP_INVALID = -EINVAL,
} AgentOp;

typedef struct AgentRequest {
        AgentOp op;
} AgentRequest;

/* Returns 0, or a negative errno with e naming the fault: -EBADMSG (not a valid message, unknown
 * or missing fields), -EMSGSIZE (over FRAME_REQUEST_MAX), -EPROTO (wrong version), -EINVAL (no
 * operation). */
int agent_request_parse(const uint8_t *buf, size_t len, AgentRequest *ret, ErrorInfo *e);

const char *agent_op_to_string(AgentOp op);

/* Packs a status request (used by agentctl and the tests). Caller frees *ret_buf. */
int agent_request_pack_status(uint8_t **ret_buf, size_t *ret_len);
