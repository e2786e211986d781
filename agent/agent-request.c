/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "agent-request.h"
#include "agent.pb-c.h"
#include "framing.h"

static const char *const op_names[_AGENT_OP_MAX] = {
        [AGENT_OP_STATUS] = "status",
};

const char *agent_op_to_string(AgentOp op) {
        if (op < 0 || op >= _AGENT_OP_MAX)
                return NULL;
        return op_names[op];
}

typedef struct UnpackedRequest {
        Unroot__Agent__AgentRequest *msg;
        BoundedAllocator *alloc;
} UnpackedRequest;

static void unpacked_request_done(UnpackedRequest *u) {
        if (u->msg)
                unroot__agent__agent_request__free_unpacked(u->msg, &u->alloc->base);
}

int agent_request_parse(const uint8_t *buf, size_t len, AgentRequest *ret, ErrorInfo *e) {
        BoundedAllocator alloc;
        _cleanup_(unpacked_request_done) UnpackedRequest u = { .alloc = &alloc };
        AgentRequest req = {};

        if (!buf || len == 0)
                return error_set(e, -EBADMSG, "", "empty request");
        if (len > FRAME_REQUEST_MAX)
                return error_set(e, -EMSGSIZE, "", "request of %zu bytes exceeds the limit of %u bytes",
                                 len, FRAME_REQUEST_MAX);

        bounded_allocator_init(&alloc, len * FRAME_ARENA_FACTOR + 4096);
        u.msg = unroot__agent__agent_request__unpack(&alloc.base, len, buf);
        if (!u.msg)
                return error_set(e, -EBADMSG, "", "malformed request: not a valid AgentRequest message");
        if (proto_message_check_strict(&u.msg->base) < 0)
                return error_set(e, -EBADMSG, "", "malformed request: unknown or missing fields");
        if (u.msg->version != AGENT_PROTOCOL_VERSION)
                return error_set(e, -EPROTO, "version",
                                 "version: protocol version %u is not supported (expected %u)",
                                 u.msg->version, AGENT_PROTOCOL_VERSION);

        switch (u.msg->op_case) {
        case UNROOT__AGENT__AGENT_REQUEST__OP_STATUS:
                req.op = AGENT_OP_STATUS;
                break;
        case UNROOT__AGENT__AGENT_REQUEST__OP__NOT_SET:
                return error_set(e, -EINVAL, "op", "op: the request names no operation");
        default:
                return error_set(e, -EINVAL, "op", "op: unknown operation %d", (int) u.msg->op_case);
        }

        *ret = req;
        return 0;
}

int agent_request_pack_status(uint8_t **ret_buf, size_t *ret_len) {
        Unroot__Agent__StatusRequest st = UNROOT__AGENT__STATUS_REQUEST__INIT;
        Unroot__Agent__AgentRequest req = UNROOT__AGENT__AGENT_REQUEST__INIT;
        uint8_t *buf;
        size_t len;

        req.version = AGENT_PROTOCOL_VERSION;
        req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_STATUS;
        req.status = &st;

        len = unroot__agent__agent_request__get_packed_size(&req);
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        if (unroot__agent__agent_request__pack(&req, buf) != len) {
                free(buf);
                return -EIO;
        }
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}
