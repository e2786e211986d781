/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The agent's socket server: one request per connection, answered from the sd-event loop. */

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "agent-loop.h"

/* At most this many connections waiting for their request at once; more are closed at accept. */
#define AGENT_CONNECTIONS_MAX 64U
/* How long a peer has to send its request after connecting. */
#define AGENT_REQUEST_TIMEOUT_USEC (5ULL * 1000000ULL)

typedef struct AgentServer AgentServer;

/* Takes ownership of listen_fd. loop (not owned, may be NULL) answers status, the unit actions and
 * reapply. */
int agent_server_new(sd_event *event, int listen_fd, uid_t self_uid, AgentLoop *loop, AgentServer **ret);
AgentServer *agent_server_free(AgentServer *s);

/* Binds a SOCK_SEQPACKET listening socket at path (mode 0666: access is checked per peer);
 * creates the parent directory with mode 0711 if missing; replaces a stale socket. */
int agent_listen_path(const char *path, int *ret_fd);

/* Checks that fd is an AF_UNIX SOCK_SEQPACKET socket in listening state. */
int agent_check_listen_fd(int fd);
