/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Asking an agent for its status, as agentctl does. */

#include <stdint.h>
#include <stddef.h>

typedef enum AgentState {
        AGENT_STATE_ANSWERING,   /* replied AGENT_OK with a status */
        AGENT_STATE_NOT_RUNNING, /* no socket, or nobody listening */
        AGENT_STATE_REFUSED,     /* replied AGENT_DENIED */
        AGENT_STATE_ERROR,       /* anything else: see message */
        _AGENT_STATE_MAX,
        _AGENT_STATE_INVALID = -22,
} AgentState;

typedef struct AgentStatusResult {
        AgentState state;
        char *message;        /* the agent's message or a local description; may be NULL */
        char *account;
        uint32_t uid;
        uint32_t subuid_start, subuid_count, subgid_start, subgid_count;
        char *manager_state;
        char *version;
} AgentStatusResult;

void agent_status_result_done(AgentStatusResult *r);
const char *agent_state_to_string(AgentState s);

/* Decodes an AgentReply datagram into r (always fills r->state; returns 0 if it was a well-formed
 * reply, else -EBADMSG with state ERROR). */
int agent_reply_parse(const uint8_t *buf, size_t len, AgentStatusResult *r);

/* Connects to the agent socket at path, sends a status request, waits at most timeout_ms for the
 * reply. Always fills *ret; returns 0 when the state is ANSWERING or REFUSED, else a negative
 * errno (-ENOENT/-ECONNREFUSED → NOT_RUNNING). */
int agent_query_status(const char *path, int timeout_ms, AgentStatusResult *ret);

/* <home>/.unroot/agent.sock */
char *agent_socket_path_for_home(const char *home);
