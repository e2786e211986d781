/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "framing.h"
#include "helper-audit.h"
#include "helper-caps.h"
#include "helper-dispatch.h"
#include "helper.pb-c.h"
#include "log.h"

#define REQUEST_TIMEOUT_MS (30 * 1000)

/* Errors of an operation that already passed authorization: a file system EACCES there is a
 * failure of the operation, not a refusal of the caller. */
static Unroot__Helper__Status status_from_op_errno(int r) {
        switch (r) {
        case -EINVAL:
                return UNROOT__HELPER__STATUS__STATUS_INVALID;
        case -EEXIST:
        case -EPERM:
                return UNROOT__HELPER__STATUS__STATUS_CONFLICT;
        case -ENOENT:
                return UNROOT__HELPER__STATUS__STATUS_NOT_FOUND;
        case -ETIMEDOUT:
        case -EBUSY:
                return UNROOT__HELPER__STATUS__STATUS_BUSY;
        default:
                return UNROOT__HELPER__STATUS__STATUS_FAILED;
        }
}

/* Errors before execution: decoding, validation, identification, authorization. */
static Unroot__Helper__Status status_from_errno(int r) {
        switch (r) {
        case -EINVAL:
        case -EPROTO:
        case -EBADMSG:
        case -EMSGSIZE:
                return UNROOT__HELPER__STATUS__STATUS_INVALID;
        case -EACCES:
        case -ESRCH:
        case -ESTALE:
                return UNROOT__HELPER__STATUS__STATUS_DENIED;
        case -EKEYREJECTED:
                return UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED;
        case -ECANCELED:
                return UNROOT__HELPER__STATUS__STATUS_CANCELLED;
        case -EEXIST:
        case -EPERM:
                return UNROOT__HELPER__STATUS__STATUS_CONFLICT;
        case -ENOENT:
                return UNROOT__HELPER__STATUS__STATUS_NOT_FOUND;
        case -ETIMEDOUT:
        case -EBUSY:
                return UNROOT__HELPER__STATUS__STATUS_BUSY;
        default:
                return UNROOT__HELPER__STATUS__STATUS_FAILED;
        }
}

static const char *result_word(Unroot__Helper__Status s) {
        switch (s) {
        case UNROOT__HELPER__STATUS__STATUS_CHANGED: return "changed";
        case UNROOT__HELPER__STATUS__STATUS_UNCHANGED: return "unchanged";
        case UNROOT__HELPER__STATUS__STATUS_INVALID: return "invalid";
        case UNROOT__HELPER__STATUS__STATUS_DENIED: return "denied";
        case UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED: return "auth-required";
        case UNROOT__HELPER__STATUS__STATUS_CONFLICT: return "conflict";
        case UNROOT__HELPER__STATUS__STATUS_NOT_FOUND: return "not-found";
        case UNROOT__HELPER__STATUS__STATUS_BUSY: return "busy";
        case UNROOT__HELPER__STATUS__STATUS_CANCELLED: return "cancelled";
        default: return "failed";
        }
}

/* One request per connection. Whatever else the caller sent is never read, but closing a socket
 * with unread data makes the kernel reset the connection and the reply is lost (a client that sent a
 * second request while the first was being authorized got ECONNRESET, not its answer: found by
 * tests/hardening/toctou.sh). So: no more input, then discard what is queued, undecoded. */
static void discard_unread(int fd) {
        (void) shutdown(fd, SHUT_RD);
        for (unsigned i = 0; i < 64; i++)
                if (recv(fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) <= 0)
                        break;
}

static int send_reply(int fd, const Peer *peer, const char *action, const char *target, int r,
                      const ErrorInfo *e, const HelperRequest *req, OpResult *res) {
        /* res is only passed once the operation ran. */
        bool executed = res != NULL;
        Unroot__Helper__HelperReply reply = UNROOT__HELPER__HELPER_REPLY__INIT;
        Unroot__Helper__EnrollReply enroll = UNROOT__HELPER__ENROLL_REPLY__INIT;
        Unroot__Helper__UnenrollReply unenroll = UNROOT__HELPER__UNENROLL_REPLY__INIT;
        Unroot__Helper__ShiftReply shift = UNROOT__HELPER__SHIFT_REPLY__INIT;
        Unroot__Helper__SecretGroupReply secret = UNROOT__HELPER__SECRET_GROUP_REPLY__INIT;
        int k;

        if (r < 0) {
                reply.status = executed ? status_from_op_errno(r) : status_from_errno(r);
                reply.message = (char *) (e && e->message[0] ? e->message : strerror(-r));
                if (e && e->field[0])
                        reply.field = (char *) e->field;
        } else {
                reply.status = r > 0 ? UNROOT__HELPER__STATUS__STATUS_CHANGED : UNROOT__HELPER__STATUS__STATUS_UNCHANGED;
                if (res) {
                        reply.n_changes = res->changes.n;
                        reply.changes = res->changes.items;
                }
        }
        if (action)
                reply.action = (char *) action;

        if (r >= 0 && req && res && req->op == HELPER_OP_ENROLL) {
                enroll.name = res->info.name;
                enroll.uid = res->info.uid;
                enroll.gid = res->info.gid;
                enroll.home = res->info.home;
                enroll.subuid_start = res->info.subuid.start;
                enroll.subuid_count = res->info.subuid.count;
                enroll.subgid_start = res->info.subgid.start;
                enroll.subgid_count = res->info.subgid.count;
                enroll.linger = res->linger;
                reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_ENROLL;
                reply.enroll = &enroll;
        } else if (r >= 0 && req && res && req->op == HELPER_OP_UNENROLL) {
                unenroll.name = res->info.name;
                unenroll.uid = res->info.uid;
                unenroll.purged = res->purged;
                reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_UNENROLL;
                reply.unenroll = &unenroll;
        }
        /* A shift that stopped part way still says how far it got. */
        if (req && res && req->op == HELPER_OP_SHIFT && res->shift_journal) {
                shift.account = (char *) req->name;
                shift.path = (char *) req->path;
                shift.rollback = req->rollback;
                shift.journal = res->shift_journal;
                shift.scanned = res->shift.scanned;
                shift.changed = res->shift.changed;
                shift.unchanged = res->shift.unchanged;
                shift.skipped = res->shift.skipped;
                shift.failed = res->shift.failed;
                shift.mismatched = res->shift.mismatched;
                reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_SHIFT;
                reply.shift = &shift;
                reply.n_changes = res->changes.n;
                reply.changes = res->changes.items;
        }

        /* Like a shift, a secret-group that stopped part way still says what it did. */
        if (req && res && req->op == HELPER_OP_SECRET_GROUP && res->secret_journal) {
                secret.account = (char *) req->name;
                secret.file = (char *) req->path;
                secret.group = (char *) req->group;
                secret.gid = res->secret_gid;
                secret.rollback = req->rollback;
                secret.journal = res->secret_journal;
                secret.group_created = res->group_created;
                secret.member_changed = res->member_changed;
                secret.restart_required = res->member_changed;
                secret.uid = res->info.uid;
                reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_SECRET_GROUP;
                reply.secret_group = &secret;
                reply.n_changes = res->changes.n;
                reply.changes = res->changes.items;
        }

        audit_log(peer, action ?: "none", target ?: "", result_word(reply.status), r < 0 ? reply.message : NULL);

        k = frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
        discard_unread(fd);
        if (k < 0)
                return log_warning_errno(k, "Failed to send reply, ignoring: %m");
        return 0;
}

int helper_handle_connection(const HelperContext *ctx, const Authorizer *auth, int fd) {
        _cleanup_(peer_done) Peer peer = PEER_NULL;
        _cleanup_(op_result_done) OpResult res = {};
        _cleanup_free_ uint8_t *buf = NULL;
        HelperRequest req;
        ErrorInfo e = {};
        const char *action;
        size_t len;
        int r;

        /* Identity first, before the caller has had time to exec something else. */
        r = peer_identify(fd, &peer);
        if (r < 0) {
                Peer unknown = PEER_NULL;
                _cleanup_free_ uint8_t *ignored = NULL;
                struct ucred cred;
                socklen_t cl = sizeof cred;
                size_t n;

                /* Audit what the kernel says even when it identifies nobody (uid 65534 or above
                 * INT32_MAX); left at 0 this read as a refused root. */
                unknown.uid = unknown.gid = (uid_t) -1;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) >= 0 && cl == sizeof cred) {
                        unknown.pid = cred.pid;
                        unknown.uid = cred.uid;
                        unknown.gid = cred.gid;
                }

                /* Take the request off the socket (never decoded) before answering: closing with
                 * unread data makes the kernel reset the connection, and the caller would see
                 * ECONNRESET instead of the refusal. */
                (void) frame_recv(fd, FRAME_REQUEST_MAX, 5 * 1000, &ignored, &n);
                (void) error_set(&e, -EACCES, "", "cannot identify the caller (%s); refusing", strerror(-r));
                return send_reply(fd, &unknown, NULL, NULL, -EACCES, &e, NULL, NULL);
        }

        r = frame_recv(fd, FRAME_REQUEST_MAX, REQUEST_TIMEOUT_MS, &buf, &len);
        if (r == -EMSGSIZE)
                (void) error_set(&e, r, "", "request exceeds the limit of %u bytes", FRAME_REQUEST_MAX);
        else if (r == -ETIMEDOUT)
                (void) error_set(&e, -EINVAL, "", "no request within %d s", REQUEST_TIMEOUT_MS / 1000);
        else if (r == -ECONNRESET) {
                audit_log(&peer, "none", "", "invalid", "connection closed without a request");
                return r;
        } else if (r < 0)
                (void) error_set(&e, r, "", "cannot receive the request: %s", strerror(-r));
        if (r < 0)
                return send_reply(fd, &peer, NULL, NULL, r == -ETIMEDOUT ? -EINVAL : r, &e, NULL, NULL);

        r = helper_request_parse(buf, len, &req, &e);
        if (r < 0)
                return send_reply(fd, &peer, NULL, NULL, r, &e, NULL, NULL);
        action = helper_op_action(req.op);

        r = helper_authorize(auth, &peer, &req, &e);
        if (r < 0)
                return send_reply(fd, &peer, action, req.name, r, &e, &req, NULL);

        /* The answer was about a process: make sure it is still the one that asked. */
        r = peer_verify(&peer, fd);
        if (r < 0) {
                (void) error_set(&e, -ESRCH, "", "the caller went away or was replaced during authorization");
                return send_reply(fd, &peer, action, req.name, -ESRCH, &e, &req, NULL);
        }

        if (geteuid() == 0) {
                r = caps_drop_for_op(req.op, req.op == HELPER_OP_UNENROLL && req.purge);
                if (r < 0) {
                        (void) error_set(&e, r, "", "cannot drop capabilities: %s", strerror(-r));
                        return send_reply(fd, &peer, action, req.name, r, &e, &req, NULL);
                }
        }

        switch (req.op) {
        case HELPER_OP_ENROLL:
                r = op_enroll(ctx, &req, &res, &e);
                break;
        case HELPER_OP_UNENROLL:
                r = op_unenroll(ctx, &req, &res, &e);
                break;
        case HELPER_OP_SHIFT:
                r = op_shift(ctx, &req, &res, &e);
                break;
        case HELPER_OP_SECRET_GROUP:
                r = op_secret_group(ctx, &req, &res, &e);
                break;
        default:
                r = error_set(&e, -EINVAL, "op", "unknown operation");
        }
        return send_reply(fd, &peer, action, req.name, r, &e, &req, &res);
}
