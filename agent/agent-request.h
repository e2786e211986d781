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
        AGENT_OP_START,
        AGENT_OP_STOP,
        AGENT_OP_RESTART,
        AGENT_OP_REAPPLY,
        _AGENT_OP_MAX,
        _AGENT_OP_INVALID = -EINVAL,
} AgentOp;

/* Longest unit name systemd accepts (UNIT_NAME_MAX). */
#define AGENT_UNIT_NAME_MAX 255U

typedef struct AgentRequest {
        AgentOp op;
        char unit[AGENT_UNIT_NAME_MAX + 1]; /* start/stop/restart: a syntactically valid unit name */
} AgentRequest;

/* A unit name as systemd spells it: [A-Za-z0-9:_.\\@-], at most 255 bytes, with a unit type
 * suffix. 0, or -EINVAL with e naming field and reason. Whether the agent owns it is checked by the
 * caller. */
int agent_unit_name_check(const char *name, const char *field, ErrorInfo *e);

/* Returns 0, or a negative errno with e naming the fault: -EBADMSG (not a valid message, unknown
 * or missing fields), -EMSGSIZE (over FRAME_REQUEST_MAX), -EPROTO (wrong version), -EINVAL (no
 * operation). */
int agent_request_parse(const uint8_t *buf, size_t len, AgentRequest *ret, ErrorInfo *e);

const char *agent_op_to_string(AgentOp op);

/* Packs a status request (used by agentctl and the tests). Caller frees *ret_buf. */
int agent_request_pack_status(uint8_t **ret_buf, size_t *ret_len);
/* Packs any request: unit is used by start/stop/restart only. */
int agent_request_pack(AgentOp op, const char *unit, uint8_t **ret_buf, size_t *ret_len);
