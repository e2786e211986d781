/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agentctl-helper.h"
#include "macro.h"

#ifndef UNROOT_EXAMPLES_DIR
#define UNROOT_EXAMPLES_DIR "/usr/share/doc/unroot/examples"
#endif
#define ADMIN_RULE_HINT \
        "run as root or as a member of " UNROOT_ADMINS_GROUP " (see " UNROOT_EXAMPLES_DIR "/50-unroot-admins.rules)"

AgentctlExit helper_status_to_exit(int status) {
        switch ((Unroot__Helper__Status) status) {
        case UNROOT__HELPER__STATUS__STATUS_CHANGED:
        case UNROOT__HELPER__STATUS__STATUS_UNCHANGED:
                return AGENTCTL_EXIT_SUCCESS;
        case UNROOT__HELPER__STATUS__STATUS_INVALID:
                return AGENTCTL_EXIT_USAGE;
        case UNROOT__HELPER__STATUS__STATUS_DENIED:
        case UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED:
        case UNROOT__HELPER__STATUS__STATUS_CANCELLED:
                return AGENTCTL_EXIT_DENIED;
        case UNROOT__HELPER__STATUS__STATUS_CONFLICT:
        case UNROOT__HELPER__STATUS__STATUS_NOT_FOUND:
                return AGENTCTL_EXIT_CONFLICT;
        case UNROOT__HELPER__STATUS__STATUS_FAILED:
                return AGENTCTL_EXIT_FAILED;
        case UNROOT__HELPER__STATUS__STATUS_BUSY:
                /* Transient: nothing was changed and a retry will do; scripts treat it as a failure. */
                return AGENTCTL_EXIT_FAILED;
        case _UNROOT__HELPER__STATUS_IS_INT_SIZE:
        default:
                return AGENTCTL_EXIT_FAILED;
        }
}

const char *helper_status_to_string(int status) {
        switch ((Unroot__Helper__Status) status) {
        case UNROOT__HELPER__STATUS__STATUS_CHANGED:
                return "changed";
        case UNROOT__HELPER__STATUS__STATUS_UNCHANGED:
                return "unchanged";
        case UNROOT__HELPER__STATUS__STATUS_INVALID:
                return "invalid";
        case UNROOT__HELPER__STATUS__STATUS_DENIED:
                return "denied";
        case UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED:
                return "auth-required";
        case UNROOT__HELPER__STATUS__STATUS_CONFLICT:
                return "conflict";
        case UNROOT__HELPER__STATUS__STATUS_NOT_FOUND:
                return "not-found";
        case UNROOT__HELPER__STATUS__STATUS_FAILED:
                return "failed";
        case UNROOT__HELPER__STATUS__STATUS_BUSY:
                return "busy";
        case UNROOT__HELPER__STATUS__STATUS_CANCELLED:
                return "cancelled";
        case _UNROOT__HELPER__STATUS_IS_INT_SIZE:
        default:
                return "unknown";
        }
}

char *helper_status_explain(int status, const char *op, const char *name, const char *action,
                            const char *message, const char *field, bool asked_password) {
        _cleanup_free_ char *act = NULL, *what = NULL;
        char *s = NULL;
        int r;

        if (!action || !*action) {
                if (asprintf(&act, "org.unroot.helper.%s", op) < 0)
                        return NULL;
                action = act;
        }
        /* The helper's own sentence names the field and the reason; we add the next step. */
        if (message && *message)
                what = strdup(message);
        else if (field && *field && asprintf(&what, "field '%s' is invalid", field) < 0)
                what = NULL;

        switch ((Unroot__Helper__Status) status) {
        case UNROOT__HELPER__STATUS__STATUS_CHANGED:
        case UNROOT__HELPER__STATUS__STATUS_UNCHANGED:
                return NULL;
        case UNROOT__HELPER__STATUS__STATUS_INVALID:
                r = asprintf(&s, "invalid request: %s: fix the argument and run again (see agentctl --help)",
                             what ?: "the helper refused a field");
                break;
        case UNROOT__HELPER__STATUS__STATUS_DENIED:
                r = asprintf(&s, "not authorized for %s: " ADMIN_RULE_HINT "%s%s", action,
                             what ? "; helper said: " : "", strempty(what));
                break;
        case UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED:
                r = asprintf(&s, "authentication required for %s: %s, or " ADMIN_RULE_HINT, action,
                             asked_password ? "no password prompt could be shown"
                                            : "run agentctl on a terminal without --no-ask-password so polkit can ask for a password");
                break;
        case UNROOT__HELPER__STATUS__STATUS_CANCELLED:
                r = asprintf(&s, "authentication for %s was cancelled: run the command again and enter the password, or "
                             ADMIN_RULE_HINT, action);
                break;
        case UNROOT__HELPER__STATUS__STATUS_CONFLICT:
                r = asprintf(&s, "conflict: %s: '%s' belongs to something unroot did not create; choose another name",
                             what ?: "the name is taken", strempty(name));
                break;
        case UNROOT__HELPER__STATUS__STATUS_NOT_FOUND:
                r = asprintf(&s, "not found: %s: 'agentctl status' lists the enrolled accounts",
                             what ?: "no such unroot account");
                break;
        case UNROOT__HELPER__STATUS__STATUS_FAILED:
                r = asprintf(&s, "%s failed: %s: run the same command again to converge; details in the journal "
                             "(journalctl -u 'unroot-helper*')", op, what ?: "the helper gave no reason");
                break;
        case UNROOT__HELPER__STATUS__STATUS_BUSY:
                r = asprintf(&s, "busy: %s: the account files are locked by another program; try again in a moment",
                             what ?: "the helper is busy");
                break;
        case _UNROOT__HELPER__STATUS_IS_INT_SIZE:
        default:
                r = asprintf(&s, "unroot-helper answered with unknown status %i%s%s: is agentctl older than the helper?",
                             status, what ? ": " : "", strempty(what));
                break;
        }
        return r < 0 ? NULL : s;
}

const char *helper_socket_path(void) {
        const char *p = secure_getenv("UNROOT_HELPER_SOCKET");
        return p && *p ? p : HELPER_SOCKET_PATH;
}

int helper_connect(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

char *helper_unreachable_message(const char *path, int error) {
        char *s;

        if (asprintf(&s, "cannot reach unroot-helper at %s (%s): is unroot-helper.socket enabled? "
                     "(systemctl enable --now unroot-helper.socket)", path, strerror(error < 0 ? -error : error)) < 0)
                return NULL;
        return s;
}

void helper_reply_holder_done(HelperReplyHolder *h) {
        if (h && h->reply)
                unroot__helper__helper_reply__free_unpacked(h->reply, &h->alloc.base);
        if (h)
                h->reply = NULL;
}

int helper_reply_decode(const uint8_t *buf, size_t len, HelperReplyHolder *h) {
        if (!buf || len == 0 || len > FRAME_REPLY_MAX)
                return -EBADMSG;
        bounded_allocator_init(&h->alloc, len * FRAME_ARENA_FACTOR + 4096);
        h->reply = unroot__helper__helper_reply__unpack(&h->alloc.base, len, buf);
        if (!h->reply)
                return -EBADMSG;
        if (proto_message_check_strict(&h->reply->base) < 0) {
                helper_reply_holder_done(h);
                return -EBADMSG;
        }
        return 0;
}

int helper_exchange(int fd, const Unroot__Helper__HelperRequest *req, int timeout_ms, HelperReplyHolder *h) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = frame_send_message(fd, &req->base, FRAME_REQUEST_MAX);
        if (r < 0)
                return r;
        r = frame_recv(fd, FRAME_REPLY_MAX, timeout_ms, &buf, &len);
        if (r < 0)
                return r;
        return helper_reply_decode(buf, len, h);
}

void helper_shift_request(Unroot__Helper__HelperRequest *req, Unroot__Helper__ShiftRequest *sr, const char *account,
                          const char *path, bool rollback) {
        sr->account.data = (uint8_t *) account;
        sr->account.len = strlen(account);
        sr->path.data = (uint8_t *) path;
        sr->path.len = strlen(path);
        sr->has_rollback = true;
        sr->rollback = rollback;
        req->version = 1;
        req->op_case = UNROOT__HELPER__HELPER_REQUEST__OP_SHIFT;
        req->shift = sr;
}

void helper_secret_group_request(Unroot__Helper__HelperRequest *req, Unroot__Helper__SecretGroupRequest *sr,
                                 const char *account, const char *file, const char *group, bool rollback) {
        sr->account.data = (uint8_t *) account;
        sr->account.len = strlen(account);
        sr->file.data = (uint8_t *) file;
        sr->file.len = strlen(file);
        sr->group.data = (uint8_t *) group;
        sr->group.len = strlen(group);
        sr->has_rollback = true;
        sr->rollback = rollback;
        req->version = 1;
        req->op_case = UNROOT__HELPER__HELPER_REQUEST__OP_SECRET_GROUP;
        req->secret_group = sr;
}
