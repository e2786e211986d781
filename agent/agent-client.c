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
#include "strv-util.h"

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

static void unit_info_done(AgentUnitInfo *u) {
        free(u->name);
        free(u->source);
        free(u->load_state);
        free(u->active_state);
        free(u->sub_state);
        free(u->health);
        free(u->translation_error);
        free(u->apply_error);
}

void agent_status_result_done(AgentStatusResult *r) {
        if (!r)
                return;
        free(r->message);
        free(r->account);
        free(r->manager_state);
        free(r->version);
        for (size_t i = 0; i < r->n_units; i++)
                unit_info_done(&r->units[i]);
        free(r->units);
        strv_free(r->errors);
        free(r->podman_version);
        free(r->pod_shape);
        free(r->pod_shape_reason);
        *r = (AgentStatusResult) {};
}

void agent_action_result_done(AgentActionResult *r) {
        if (!r)
                return;
        free(r->message);
        free(r->field);
        free(r->result);
        strv_free(r->started);
        strv_free(r->restarted);
        strv_free(r->stopped);
        strv_free(r->errors);
        *r = (AgentActionResult) {};
}

static char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

/* A copy of a protobuf repeated string as a NULL-terminated list (never NULL on success). */
static int copy_strv(char *const *v, size_t n, char ***ret) {
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(l[i] = strdup(v[i]))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

static int copy_units(const Unroot__Agent__StatusReply *st, AgentStatusResult *r) {
        r->units = calloc(MAX(st->n_units, (size_t) 1), sizeof(AgentUnitInfo));
        if (!r->units)
                return -ENOMEM;
        for (size_t i = 0; i < st->n_units; i++) {
                const Unroot__Agent__UnitStatus *u = st->units[i];
                AgentUnitInfo *d = &r->units[i];
                r->n_units++;
                *d = (AgentUnitInfo) {
                        .name = strdup(u->name),
                        .source = strdup_or_null(u->source),
                        .load_state = strdup_or_null(u->load_state),
                        .active_state = strdup(u->active_state),
                        .sub_state = strdup(u->sub_state),
                        .health = u->health && u->health[0] ? strdup(u->health) : NULL,
                        .translation_error = strdup_or_null(u->translation_error),
                        .apply_error = strdup_or_null(u->apply_error),
                        .since_usec = u->since_usec,
                        .n_restarts = u->n_restarts,
                        .main_pid = u->main_pid,
                };
                if (!d->name || !d->active_state || !d->sub_state)
                        return -ENOMEM;
        }
        return copy_strv(st->errors, st->n_errors, &r->errors);
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
                r->podman_version = strdup_or_null(st->podman_version);
                r->pod_shape = strdup_or_null(st->pod_shape);
                r->pod_shape_reason = strdup_or_null(st->pod_shape_reason);
                r->last_apply_usec = st->last_apply_usec;
                if (copy_units(st, r) < 0)
                        return -ENOMEM;
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

/* Connects, sends one request, receives one reply. On failure *ret_state and *ret_message say
 * what happened (NOT_RUNNING when nobody listens). */
static int exchange(const char *path, int op, const char *unit, int timeout_ms, uint8_t **ret_buf, size_t *ret_len,
                    AgentState *ret_state, char **ret_message) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *req = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t req_len;
        char msg[512];
        int r;

        *ret_state = AGENT_STATE_ERROR;
        if (strlen(path) >= sizeof sa.sun_path) {
                *ret_message = strdup("socket path too long");
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ECONNREFUSED || r == -ENOTDIR)
                        *ret_state = AGENT_STATE_NOT_RUNNING;
                (void) snprintf(msg, sizeof msg, "cannot connect to '%s': %s", path, strerror(-r));
                *ret_message = strdup(msg);
                return r;
        }

        r = agent_request_pack((AgentOp) op, unit, &req, &req_len);
        if (r < 0)
                return r;
        r = frame_send(fd, req, req_len);
        if (r < 0) {
                (void) snprintf(msg, sizeof msg, "cannot send to '%s': %s", path, strerror(-r));
                *ret_message = strdup(msg);
                return r;
        }
        r = frame_recv(fd, FRAME_REPLY_MAX, timeout_ms, ret_buf, ret_len);
        if (r < 0) {
                /* ECONNRESET here: the agent accepted and closed, e.g. while stopping. */
                (void) snprintf(msg, sizeof msg, "no reply from '%s': %s", path,
                                r == -ETIMEDOUT ? "timed out" : strerror(-r));
                *ret_message = strdup(msg);
                return r;
        }
        return 0;
}

int agent_query_status(const char *path, int timeout_ms, AgentStatusResult *ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        *ret = (AgentStatusResult) { .state = AGENT_STATE_ERROR };
        r = exchange(path, AGENT_OP_STATUS, NULL, timeout_ms, &buf, &len, &ret->state, &ret->message);
        if (r < 0)
                return r;
        return agent_reply_parse(buf, len, ret);
}

int agent_action_reply_parse(const uint8_t *buf, size_t len, AgentActionResult *r) {
        BoundedAllocator alloc;
        _cleanup_(unpacked_reply_done) UnpackedReply u = { .alloc = &alloc };
        const Unroot__Agent__AgentReply *m;

        r->state = AGENT_STATE_ERROR;
        if (!buf || len == 0 || len > FRAME_REPLY_MAX) {
                r->message = strdup("the agent sent an empty or oversized reply");
                return -EBADMSG;
        }
        bounded_allocator_init(&alloc, len * FRAME_ARENA_FACTOR + 4096);
        u.msg = unroot__agent__agent_reply__unpack(&alloc.base, len, buf);
        if (!u.msg || proto_message_check_strict(&u.msg->base) < 0) {
                r->message = strdup("the agent sent a malformed reply");
                return -EBADMSG;
        }
        m = u.msg;
        r->state = m->status == UNROOT__AGENT__AGENT_STATUS__AGENT_DENIED ? AGENT_STATE_REFUSED : AGENT_STATE_ANSWERING;
        r->status = (int) m->status;
        r->message = strdup_or_null(m->message);
        r->field = strdup_or_null(m->field);
        if (m->result_case == UNROOT__AGENT__AGENT_REPLY__RESULT_UNIT_ACTION_REPLY)
                r->result = strdup_or_null(m->unit_action_reply->result);
        else if (m->result_case == UNROOT__AGENT__AGENT_REPLY__RESULT_REAPPLY_REPLY) {
                const Unroot__Agent__ReapplyReply *ra = m->reapply_reply;
                if (copy_strv(ra->started, ra->n_started, &r->started) < 0 ||
                    copy_strv(ra->restarted, ra->n_restarted, &r->restarted) < 0 ||
                    copy_strv(ra->stopped, ra->n_stopped, &r->stopped) < 0 ||
                    copy_strv(ra->errors, ra->n_errors, &r->errors) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int agent_query_action(const char *path, int op, const char *unit, int timeout_ms, AgentActionResult *ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        *ret = (AgentActionResult) { .state = AGENT_STATE_ERROR };
        r = exchange(path, op, unit, timeout_ms, &buf, &len, &ret->state, &ret->message);
        if (r < 0)
                return r;
        return agent_action_reply_parse(buf, len, ret);
}
