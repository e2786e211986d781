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

/* One generated unit as the agent reports it. */
typedef struct AgentUnitInfo {
        char *name, *source, *load_state, *active_state, *sub_state, *health;
        char *translation_error, *apply_error;
        uint64_t since_usec;
        uint32_t n_restarts, main_pid;
} AgentUnitInfo;

typedef struct AgentStatusResult {
        AgentState state;
        char *message;        /* the agent's message or a local description; may be NULL */
        char *account;
        uint32_t uid;
        uint32_t subuid_start, subuid_count, subgid_start, subgid_count;
        char *manager_state;
        char *version;
        /* From an agent with an apply loop; empty otherwise. */
        AgentUnitInfo *units;
        size_t n_units;
        char **errors;        /* NULL-terminated, may be NULL */
        char *podman_version, *pod_shape, *pod_shape_reason;
        uint64_t last_apply_usec;
} AgentStatusResult;

void agent_status_result_done(AgentStatusResult *r);

/* The answer to start/stop/restart/reapply. */
typedef struct AgentActionResult {
        AgentState state;     /* ANSWERING: the agent replied (see status) */
        int status;           /* Unroot__Agent__AgentStatus when ANSWERING */
        char *message, *field;
        char *result;         /* start/stop/restart: systemd's job result */
        char **started, **restarted, **stopped, **errors; /* reapply; NULL-terminated or NULL */
} AgentActionResult;

void agent_action_result_done(AgentActionResult *r);

/* Decodes a reply to start/stop/restart/reapply. */
int agent_action_reply_parse(const uint8_t *buf, size_t len, AgentActionResult *r);

/* Sends op (start/stop/restart with unit, or reapply) to the agent at path and waits at most
 * timeout_ms. Always fills *ret; returns 0 when the agent replied (whatever it said). */
int agent_query_action(const char *path, int op, const char *unit, int timeout_ms, AgentActionResult *ret);
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
