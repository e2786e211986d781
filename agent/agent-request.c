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

int agent_request_parse(const uint8_t *buf, size_t len, AgentRequest *ret, ErrorInfo *e) {
        _cleanup_(proto_unpacked_done) ProtoUnpacked u = {};
        const Unroot__Agent__AgentRequest *msg;
        AgentRequest req = {};
        int r;

        r = proto_unpack_request(&unroot__agent__agent_request__descriptor, buf, len, &u, e);
        if (r < 0)
                return r;
        msg = (const Unroot__Agent__AgentRequest *) u.msg;
        if (msg->version != AGENT_PROTOCOL_VERSION)
                return error_set(e, -EPROTO, "version",
                                 "version: protocol version %u is not supported (expected %u)",
                                 msg->version, AGENT_PROTOCOL_VERSION);

        switch (msg->op_case) {
        case UNROOT__AGENT__AGENT_REQUEST__OP_STATUS:
                req.op = AGENT_OP_STATUS;
                break;
        case UNROOT__AGENT__AGENT_REQUEST__OP__NOT_SET:
                return error_set(e, -EINVAL, "op", "op: the request names no operation");
        default:
                return error_set(e, -EINVAL, "op", "op: unknown operation %d", (int) msg->op_case);
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
