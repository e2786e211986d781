/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agent-client.h"
#include "agent-request.h"
#include "agent.pb-c.h"
#include "framing.h"
#include "macro.h"

static const char *const state_names[_AGENT_STATE_MAX] = {
        [AGENT_STATE_ANSWERING] = "answering",
        [AGENT_STATE_NOT_RUNNING] = "not running",
        [AGENT_STATE_REFUSED] = "refused",
        [AGENT_STATE_ERROR] = "error",
};

const char *agent_state_to_string(AgentState s) {
        if (s < 0 || s >= _AGENT_STATE_MAX)
                return NULL;
        return state_names[s];
}

void agent_status_result_done(AgentStatusResult *r) {
        if (!r)
                return;
        free(r->message);
        free(r->account);
        free(r->manager_state);
        free(r->version);
        *r = (AgentStatusResult) {};
}

char *agent_socket_path_for_home(const char *home) {
        char *p;

        if (asprintf(&p, "%s/.unroot/agent.sock", home) < 0)
                return NULL;
        return p;
}

static void set_message(AgentStatusResult *r, const char *m) {
        free(r->message);
        r->message = m ? strdup(m) : NULL;
}

typedef struct UnpackedReply {
        Unroot__Agent__AgentReply *msg;
        BoundedAllocator *alloc;
} UnpackedReply;

static void unpacked_reply_done(UnpackedReply *u) {
        if (u->msg)
                unroot__agent__agent_reply__free_unpacked(u->msg, &u->alloc->base);
}

int agent_reply_parse(const uint8_t *buf, size_t len, AgentStatusResult *r) {
        BoundedAllocator alloc;
        _cleanup_(unpacked_reply_done) UnpackedReply u = { .alloc = &alloc };
        const Unroot__Agent__StatusReply *st;

        r->state = AGENT_STATE_ERROR;
        if (!buf || len == 0 || len > FRAME_REPLY_MAX) {
                set_message(r, "the agent sent an empty or oversized reply");
                return -EBADMSG;
        }
        bounded_allocator_init(&alloc, len * FRAME_ARENA_FACTOR + 4096);
        u.msg = unroot__agent__agent_reply__unpack(&alloc.base, len, buf);
        if (!u.msg || proto_message_check_strict(&u.msg->base) < 0) {
                set_message(r, "the agent sent a malformed reply");
                return -EBADMSG;
        }
        set_message(r, u.msg->message);

        switch (u.msg->status) {
        case UNROOT__AGENT__AGENT_STATUS__AGENT_OK:
                if (u.msg->result_case != UNROOT__AGENT__AGENT_REPLY__RESULT_STATUS_REPLY) {
                        set_message(r, "the agent replied OK without a status");
                        return -EBADMSG;
                }
                st = u.msg->status_reply;
                r->account = strdup(st->account);
                r->manager_state = strdup(st->manager_state);
                r->version = strdup(st->version);
                if (!r->account || !r->manager_state || !r->version)
                        return -ENOMEM;
                r->uid = st->uid;
                if (st->n_subuid > 0) {
                        r->subuid_start = st->subuid[0]->start;
                        r->subuid_count = st->subuid[0]->count;
                }
                if (st->n_subgid > 0) {
                        r->subgid_start = st->subgid[0]->start;
                        r->subgid_count = st->subgid[0]->count;
                }
                r->state = AGENT_STATE_ANSWERING;
                return 0;
        case UNROOT__AGENT__AGENT_STATUS__AGENT_DENIED:
                r->state = AGENT_STATE_REFUSED;
                return 0;
        case UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID:
        case UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED:
        default:
                if (!r->message)
                        set_message(r, "the agent reported an error");
                return 0;
        }
}

int agent_query_status(const char *path, int timeout_ms, AgentStatusResult *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *req = NULL, *buf = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t req_len, len;
        char msg[512];
        int r;

        *ret = (AgentStatusResult) { .state = AGENT_STATE_ERROR };

        if (strlen(path) >= sizeof sa.sun_path) {
                set_message(ret, "socket path too long");
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ECONNREFUSED || r == -ENOTDIR)
                        ret->state = AGENT_STATE_NOT_RUNNING;
                (void) snprintf(msg, sizeof msg, "cannot connect to '%s': %s", path, strerror(-r));
                set_message(ret, msg);
                return r;
        }

        r = agent_request_pack_status(&req, &req_len);
        if (r < 0)
                return r;
        r = frame_send(fd, req, req_len);
        if (r < 0) {
                (void) snprintf(msg, sizeof msg, "cannot send to '%s': %s", path, strerror(-r));
                set_message(ret, msg);
                return r;
        }
        r = frame_recv(fd, FRAME_REPLY_MAX, timeout_ms, &buf, &len);
        if (r < 0) {
                /* ECONNRESET here: the agent accepted and closed, e.g. while stopping. */
                (void) snprintf(msg, sizeof msg, "no reply from '%s': %s", path,
                                r == -ETIMEDOUT ? "timed out" : strerror(-r));
                set_message(ret, msg);
                return r;
        }
        return agent_reply_parse(buf, len, ret);
}
