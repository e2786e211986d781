/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helper-auth.h"

static const char *const op_actions[_HELPER_OP_MAX] = {
        [HELPER_OP_ENROLL] = "org.unroot.helper.enroll",
        [HELPER_OP_UNENROLL] = "org.unroot.helper.unenroll",
        [HELPER_OP_SHIFT] = "org.unroot.helper.shift",
        [HELPER_OP_SECRET_GROUP] = "org.unroot.helper.secret-group",
};

const char *helper_op_action(HelperOp op) {
        if (op < 0 || op >= _HELPER_OP_MAX)
                return NULL;
        return op_actions[op];
}

void helper_details_build(const HelperRequest *req, HelperDetails *ret) {
        size_t i = 0;

        *ret = (HelperDetails) {};
        ret->kv[i++] = "unroot.operation";
        ret->kv[i++] = helper_op_to_string(req->op);
        ret->kv[i++] = "unroot.account";
        ret->kv[i++] = req->name;
        switch (req->op) {
        case HELPER_OP_ENROLL:
                (void) snprintf(ret->number, sizeof ret->number, "%u", req->subid_count);
                ret->kv[i++] = "unroot.subids";
                ret->kv[i++] = ret->number;
                break;
        case HELPER_OP_UNENROLL:
                ret->kv[i++] = "unroot.purge";
                ret->kv[i++] = req->purge ? "true" : "false";
                break;
        case HELPER_OP_SHIFT:
                ret->kv[i++] = "unroot.path";
                ret->kv[i++] = req->path;
                ret->kv[i++] = "unroot.rollback";
                ret->kv[i++] = req->rollback ? "true" : "false";
                break;
        case HELPER_OP_SECRET_GROUP:
                ret->kv[i++] = "unroot.file";
                ret->kv[i++] = req->path;
                ret->kv[i++] = "unroot.group";
                ret->kv[i++] = req->group;
                ret->kv[i++] = "unroot.rollback";
                ret->kv[i++] = req->rollback ? "true" : "false";
                break;
        default:
                break;
        }
        ret->kv[i] = NULL;
}

int helper_authorize(const Authorizer *a, const Peer *peer, const HelperRequest *req, ErrorInfo *e) {
        HelperRequest asked = *req;
        HelperDetails details;
        const char *action;
        int r;

        action = helper_op_action(asked.op);
        if (!action || !a || !a->check)
                return error_set(e, -EACCES, "op", "no authorization is defined for this operation");

        /* Ask about a private copy and execute only what was asked about: if anything changes the
         * request while polkit thinks (systemd's -ESTALE rule), refuse. */
        helper_details_build(&asked, &details);
        r = a->check(peer, action, (const char *const *) details.kv, asked.interactive, a->userdata);
        if (memcmp(&asked, req, sizeof asked) != 0)
                return error_set(e, -ESTALE, "", "the request changed during authorization; refusing");

        if (r < 0)
                return error_set(e, -EACCES, "",
                                 "not authorized for %s: could not ask polkit (%s); refusing. "
                                 "Check that polkit.service is running.",
                                 action, strerror(-r));
        switch (r) {
        case AUTH_ALLOWED:
                return 0;
        case AUTH_CHALLENGE:
                return error_set(e, -EKEYREJECTED, "",
                                 "not authorized for %s: authentication is required but no polkit agent "
                                 "is available; run agentctl on a terminal, as root, or as a member of "
                                 "unroot-admins", action);
        case AUTH_CANCELLED:
                return error_set(e, -ECANCELED, "", "authentication for %s was cancelled", action);
        case AUTH_DENIED:
        default:
                return error_set(e, -EACCES, "",
                                 "not authorized for %s: run as root or as a member of unroot-admins "
                                 "(see /usr/share/doc/unroot/examples/50-unroot-admins.rules)", action);
        }
}
