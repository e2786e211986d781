/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "accounts.h"
#include "framing.h"
#include "helper-request.h"
#include "helper.pb-c.h"
#include "secret-group-plan.h"
#include "shift-roots.h"

static const char *const op_names[_HELPER_OP_MAX] = {
        [HELPER_OP_ENROLL] = "enroll",
        [HELPER_OP_UNENROLL] = "unenroll",
        [HELPER_OP_SHIFT] = "shift",
        [HELPER_OP_SECRET_GROUP] = "secret-group",
};

const char *helper_op_to_string(HelperOp op) {
        if (op < 0 || op >= _HELPER_OP_MAX)
                return NULL;
        return op_names[op];
}

static int parse_name(const ProtobufCBinaryData *b, char ret[static ACCOUNT_NAME_MAX + 1], ErrorInfo *e) {
        int r;

        /* bytes, not string: the exact length is known, so "a\0b" is refused instead of being
         * read as "a". account_name_check() also refuses reserved names. */
        r = account_name_check((const char *) b->data, b->len, e);
        if (r < 0)
                return r;
        memcpy(ret, b->data, b->len);
        ret[b->len] = 0;
        return 0;
}

int helper_request_parse(const uint8_t *buf, size_t len, HelperRequest *ret, ErrorInfo *e) {
        _cleanup_(proto_unpacked_done) ProtoUnpacked u = {};
        const Unroot__Helper__HelperRequest *msg;
        HelperRequest req = {};
        int r;

        r = proto_unpack_request(&unroot__helper__helper_request__descriptor, buf, len, &u, e);
        if (r < 0)
                return r;
        msg = (const Unroot__Helper__HelperRequest *) u.msg;
        if (msg->version != HELPER_PROTOCOL_VERSION)
                return error_set(e, -EPROTO, "version", "version: protocol version %u is not supported (expected %u)",
                                 msg->version, HELPER_PROTOCOL_VERSION);

        req.interactive = msg->has_interactive && msg->interactive;

        switch (msg->op_case) {
        case UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL: {
                const Unroot__Helper__EnrollRequest *m = msg->enroll;

                req.op = HELPER_OP_ENROLL;
                r = parse_name(&m->name, req.name, e);
                if (r < 0)
                        return r;
                req.subid_count = m->has_subid_count ? m->subid_count : ACCOUNTS_SUBID_COUNT_DEFAULT;
                r = accounts_subid_count_check(req.subid_count, e);
                if (r < 0)
                        return r;
                break;
        }
        case UNROOT__HELPER__HELPER_REQUEST__OP_UNENROLL: {
                const Unroot__Helper__UnenrollRequest *m = msg->unenroll;

                req.op = HELPER_OP_UNENROLL;
                r = parse_name(&m->name, req.name, e);
                if (r < 0)
                        return r;
                req.purge = m->has_purge && m->purge;
                break;
        }
        case UNROOT__HELPER__HELPER_REQUEST__OP_SHIFT: {
                const Unroot__Helper__ShiftRequest *m = msg->shift;

                req.op = HELPER_OP_SHIFT;
                r = parse_name(&m->account, req.name, e);
                if (r < 0) {
                        /* The account check names its field "name"; here it is "account". */
                        ErrorInfo copy = e ? *e : (ErrorInfo) {};
                        return error_set(e, r, "account", "account: %s", copy.message);
                }
                r = shift_path_check((const char *) m->path.data, m->path.len, "path", e);
                if (r < 0)
                        return r;
                memcpy(req.path, m->path.data, m->path.len);
                req.path[m->path.len] = 0;
                req.rollback = m->has_rollback && m->rollback;
                break;
        }
        case UNROOT__HELPER__HELPER_REQUEST__OP_SECRET_GROUP: {
                const Unroot__Helper__SecretGroupRequest *m = msg->secret_group;

                req.op = HELPER_OP_SECRET_GROUP;
                r = parse_name(&m->account, req.name, e);
                if (r < 0) {
                        ErrorInfo copy = e ? *e : (ErrorInfo) {};
                        return error_set(e, r, "account", "account: %s", copy.message);
                }
                r = shift_path_check((const char *) m->file.data, m->file.len, "file", e);
                if (r < 0)
                        return r;
                memcpy(req.path, m->file.data, m->file.len);
                req.path[m->file.len] = 0;
                /* bytes: the exact length, so "sudo\0x" is refused, not read as "sudo". */
                r = secret_group_name_check((const char *) m->group.data, m->group.len, e);
                if (r < 0)
                        return r;
                memcpy(req.group, m->group.data, m->group.len);
                req.group[m->group.len] = 0;
                req.rollback = m->has_rollback && m->rollback;
                break;
        }
        case UNROOT__HELPER__HELPER_REQUEST__OP__NOT_SET:
                return error_set(e, -EINVAL, "op", "op: the request names no operation");
        default:
                return error_set(e, -EINVAL, "op", "op: unknown operation %d", (int) msg->op_case);
        }

        *ret = req;
        return 0;
}
