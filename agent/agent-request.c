/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent-request.h"
#include "agent.pb-c.h"
#include "framing.h"

static const char *const op_names[_AGENT_OP_MAX] = {
        [AGENT_OP_STATUS] = "status",
        [AGENT_OP_START] = "start",
        [AGENT_OP_STOP] = "stop",
        [AGENT_OP_RESTART] = "restart",
        [AGENT_OP_REAPPLY] = "reapply",
};

const char *agent_op_to_string(AgentOp op) {
        if (op < 0 || op >= _AGENT_OP_MAX)
                return NULL;
        return op_names[op];
}

static const char *const unit_suffixes[] = {
        ".service", ".socket", ".target", ".timer", ".path", ".mount", ".slice", ".scope",
};

int agent_unit_name_check(const char *name, const char *field, ErrorInfo *e) {
        size_t n = name ? strlen(name) : 0;
        const char *dot;

        if (n == 0)
                return error_set(e, -EINVAL, field, "%s: the unit name is empty", field);
        if (n > AGENT_UNIT_NAME_MAX)
                return error_set(e, -EINVAL, field, "%s: the unit name is longer than %u bytes", field,
                                 AGENT_UNIT_NAME_MAX);
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(":_.\\@-", c)))
                        /* Not quoted back: the byte may be a control character. */
                        return error_set(e, -EINVAL, field,
                                         "%s: the unit name contains byte 0x%02x at offset %zu, which systemd does "
                                         "not allow in unit names", field, (unsigned) (unsigned char) c, i);
        }
        dot = strrchr(name, '.');
        if (dot && dot != name)
                for (size_t i = 0; i < ELEMENTSOF(unit_suffixes); i++)
                        if (streq(dot, unit_suffixes[i]))
                                return 0;
        return error_set(e, -EINVAL, field, "%s: '%s' has no unit type suffix (like .service)", field, name);
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
        case UNROOT__AGENT__AGENT_REQUEST__OP_REAPPLY:
                req.op = AGENT_OP_REAPPLY;
                break;
        case UNROOT__AGENT__AGENT_REQUEST__OP_UNIT_ACTION: {
                const Unroot__Agent__UnitActionRequest *a = msg->unit_action;
                switch (a->action) {
                case UNROOT__AGENT__UNIT_ACTION__UNIT_START:
                        req.op = AGENT_OP_START;
                        break;
                case UNROOT__AGENT__UNIT_ACTION__UNIT_STOP:
                        req.op = AGENT_OP_STOP;
                        break;
                case UNROOT__AGENT__UNIT_ACTION__UNIT_RESTART:
                        req.op = AGENT_OP_RESTART;
                        break;
                default:
                        return error_set(e, -EINVAL, "action", "action: unknown unit action %d", (int) a->action);
                }
                /* protobuf-c stops a string at its first NUL: a name with an embedded NUL arrives
                 * shorter, and then fails the ownership check like any other unknown name. */
                r = agent_unit_name_check(a->unit, "unit", e);
                if (r < 0)
                        return r;
                strcpy(req.unit, a->unit);
                break;
        }
        case UNROOT__AGENT__AGENT_REQUEST__OP__NOT_SET:
                return error_set(e, -EINVAL, "op", "op: the request names no operation");
        default:
                return error_set(e, -EINVAL, "op", "op: unknown operation %d", (int) msg->op_case);
        }

        *ret = req;
        return 0;
}

int agent_request_pack(AgentOp op, const char *unit, uint8_t **ret_buf, size_t *ret_len) {
        Unroot__Agent__StatusRequest st = UNROOT__AGENT__STATUS_REQUEST__INIT;
        Unroot__Agent__ReapplyRequest ra = UNROOT__AGENT__REAPPLY_REQUEST__INIT;
        Unroot__Agent__UnitActionRequest ua = UNROOT__AGENT__UNIT_ACTION_REQUEST__INIT;
        Unroot__Agent__AgentRequest req = UNROOT__AGENT__AGENT_REQUEST__INIT;
        uint8_t *buf;
        size_t len;

        req.version = AGENT_PROTOCOL_VERSION;
        switch (op) {
        case AGENT_OP_STATUS:
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_STATUS;
                req.status = &st;
                break;
        case AGENT_OP_REAPPLY:
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_REAPPLY;
                req.reapply = &ra;
                break;
        case AGENT_OP_START:
        case AGENT_OP_STOP:
        case AGENT_OP_RESTART:
                if (!unit)
                        return -EINVAL;
                ua.unit = (char *) unit;
                ua.action = op == AGENT_OP_START ? UNROOT__AGENT__UNIT_ACTION__UNIT_START :
                            op == AGENT_OP_STOP ? UNROOT__AGENT__UNIT_ACTION__UNIT_STOP :
                                                  UNROOT__AGENT__UNIT_ACTION__UNIT_RESTART;
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_UNIT_ACTION;
                req.unit_action = &ua;
                break;
        default:
                return -EINVAL;
        }

        len = unroot__agent__agent_request__get_packed_size(&req);
        if (len > FRAME_REQUEST_MAX)
                return -EMSGSIZE;
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

int agent_request_pack_status(uint8_t **ret_buf, size_t *ret_len) {
        return agent_request_pack(AGENT_OP_STATUS, NULL, ret_buf, ret_len);
}
