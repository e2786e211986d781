/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent-access.h"
#include "agent-account.h"
#include "agent-request.h"
#include "agent-server.h"
#include "agent-status.h"
#include "framing.h"
#include "log.h"
#include "macro.h"

struct AgentServer {
        sd_event *event;
        int listen_fd;
        sd_event_source *listen_source;
        uid_t self_uid;
        AgentLoop *loop; /* may be NULL: status without units, no actions */
        unsigned n_connections;
};

typedef struct Connection {
        AgentServer *server;
        int fd;
        struct ucred cred;
        AgentAccess access;
        sd_event_source *io, *timer;
        AgentRequest req;
} Connection;

static Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        if (c->server)
                c->server->n_connections--;
        free(c);
        return NULL;
}

static void connection_answer(Connection *c, const char *manager_state, const LoopStatus *ls) {
        AgentServer *s = c->server;
        _cleanup_(agent_account_done) AgentAccount acct = {};
        _cleanup_free_ char *name = NULL;
        ErrorInfo e = {};
        const char *note = NULL;
        int r;

        r = agent_user_name(s->self_uid, &name);
        if (r < 0) {
                (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED, NULL,
                                         "the agent cannot look up its own account");
                log_warning_errno(r, "Cannot look up uid %u: %m", (unsigned) s->self_uid);
                return;
        }
        r = agent_account_lookup(NULL, name, &acct, &e);
        if (r < 0) {
                log_warning_errno(r, "Cannot look up account '%s', ignoring: %s", name, e.message);
                note = "subordinate id ranges unavailable";
        } else if (!acct.have_ranges)
                note = e.message[0] ? e.message : "subordinate id ranges unavailable";

        r = agent_reply_status(c->fd, name, s->self_uid, r < 0 ? NULL : &acct, manager_state, note, ls);
        if (r < 0)
                log_warning_errno(r, "Cannot send status reply to pid %i, ignoring: %m", (int) c->cred.pid);
        else
                log_debug("Status sent to uid %u (%s).", (unsigned) c->cred.uid, agent_access_to_string(c->access));
}

static void on_status(AgentLoop *l, const LoopStatus *st, void *userdata) {
        Connection *c = userdata;

        connection_answer(c, st->manager_state, st);
        connection_free(c);
}

static void on_action(AgentLoop *l, int r, const char *result, const char *message, void *userdata) {
        Connection *c = userdata;

        if (agent_reply_unit_action(c->fd, c->req.unit, r, result, message) < 0)
                log_debug("Cannot send the %s reply to pid %i, ignoring.", agent_op_to_string(c->req.op),
                          (int) c->cred.pid);
        connection_free(c);
}

static void on_reapplied(AgentLoop *l, const ApplyReport *rep, void *userdata) {
        Connection *c = userdata;

        if (agent_reply_reapply(c->fd, rep) < 0)
                log_debug("Cannot send the reapply reply to pid %i, ignoring.", (int) c->cred.pid);
        connection_free(c);
}

/* The answer comes later, from a callback that owns c from now on: stop watching the socket and
 * stop the request deadline (a start may wait for an image pull; the manager bounds the job). */
static void connection_defer(Connection *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
}

static void connection_handle(Connection *c) {
        _cleanup_free_ uint8_t *buf = NULL;
        AgentLoop *loop = c->server->loop;
        ErrorInfo e = {};
        size_t len;
        int r;

        /* The socket said it is readable, so do not wait: a peer gets one datagram. */
        r = frame_recv(c->fd, FRAME_REQUEST_MAX, 0, &buf, &len);
        if (r < 0 && r != -EMSGSIZE) {
                log_debug_errno(r, "Dropping connection from pid %i: %m", (int) c->cred.pid);
                goto done;
        }

        /* A refused peer's bytes are never decoded, and it learns nothing about them either: the
         * only thing it gets is the refusal. Reading and acting share this one rule. */
        if (c->access == AGENT_ACCESS_DENIED) {
                log_notice("Refused uid %u (pid %i): not root, not uid %u, not in group '%s'.",
                           (unsigned) c->cred.uid, (int) c->cred.pid, (unsigned) c->server->self_uid,
                           UNROOT_ADMINS_GROUP);
                (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_DENIED, NULL,
                                         AGENT_ACCESS_DENIED_MESSAGE);
                goto done;
        }
        if (r == -EMSGSIZE) {
                (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID, NULL,
                                         "request exceeds the size limit");
                goto done;
        }

        r = agent_request_parse(buf, len, &c->req, &e);
        if (r < 0) {
                log_info("Invalid request from uid %u: %s", (unsigned) c->cred.uid, e.message);
                (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID, e.field, e.message);
                goto done;
        }

        switch (c->req.op) {
        case AGENT_OP_STATUS:
                if (!loop) {
                        connection_answer(c, "unavailable", NULL);
                        break;
                }
                connection_defer(c);
                r = agent_loop_status(loop, on_status, c);
                if (r < 0) {
                        (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED, NULL,
                                                 "the agent cannot collect its status (out of memory)");
                        break;
                }
                return;
        case AGENT_OP_START:
        case AGENT_OP_STOP:
        case AGENT_OP_RESTART:
                if (!loop) {
                        (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED, NULL,
                                                 "this agent runs no units");
                        break;
                }
                log_info("uid %u asks to %s '%s'.", (unsigned) c->cred.uid, agent_op_to_string(c->req.op), c->req.unit);
                r = agent_loop_unit_action(loop, c->req.op, c->req.unit, on_action, c, &e);
                if (r < 0) {
                        (void) agent_reply_error(c->fd,
                                                 r == -ENOENT ? UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID :
                                                                UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED,
                                                 e.field, e.message[0] ? e.message : strerror(-r));
                        break;
                }
                connection_defer(c);
                return;
        case AGENT_OP_REAPPLY:
                if (!loop) {
                        (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED, NULL,
                                                 "this agent runs no units");
                        break;
                }
                log_info("uid %u asks to reapply.", (unsigned) c->cred.uid);
                connection_defer(c);
                r = agent_loop_apply(loop, on_reapplied, c);
                if (r < 0) {
                        (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED, NULL,
                                                 "the agent cannot start an apply (out of memory)");
                        break;
                }
                return;
        case _AGENT_OP_MAX:
        case _AGENT_OP_INVALID:
        default:
                break;
        }
done:
        connection_free(c);
}

static int on_connection_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        connection_handle(userdata);
        return 0;
}

static int on_connection_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Connection *c = userdata;

        log_debug("Peer pid %i sent no request in time, closing.", (int) c->cred.pid);
        connection_free(c);
        return 0;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        AgentServer *s = userdata;
        _cleanup_close_ int cfd = -EBADF;
        Connection *c;
        socklen_t sl;
        int r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return 0;
                log_warning_errno(-errno, "accept() failed, ignoring: %m");
                return 0;
        }
        if (s->n_connections >= AGENT_CONNECTIONS_MAX) {
                log_warning("Too many connections (%u), refusing a new one.", s->n_connections);
                return 0;
        }

        c = calloc(1, sizeof *c);
        if (!c)
                return log_oom();
        c->fd = TAKE_FD(cfd);
        c->server = s;
        s->n_connections++;

        /* The peer's identity comes from the kernel, taken at connect() time, never from the
         * payload. No credentials means no access. */
        sl = sizeof c->cred;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) < 0 || sl != sizeof c->cred) {
                log_warning_errno(-errno, "Cannot read peer credentials, closing: %m");
                connection_free(c);
                return 0;
        }
        c->access = agent_access_check_peer(c->cred.uid, s->self_uid);

        r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN, on_connection_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC,
                                               AGENT_REQUEST_TIMEOUT_USEC, 0, on_connection_timeout, c);
        if (r < 0) {
                log_warning_errno(r, "Cannot watch connection, closing: %m");
                connection_free(c);
        }
        return 0;
}

int agent_server_new(sd_event *event, int listen_fd, uid_t self_uid, AgentLoop *loop, AgentServer **ret) {
        AgentServer *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s) {
                safe_close(listen_fd);
                return -ENOMEM;
        }
        s->event = sd_event_ref(event);
        s->listen_fd = listen_fd;
        s->self_uid = self_uid;
        s->loop = loop;

        r = fcntl(listen_fd, F_GETFL);
        if (r < 0 || fcntl(listen_fd, F_SETFL, r | O_NONBLOCK) < 0) {
                r = -errno;
                agent_server_free(s);
                return r;
        }
        r = sd_event_add_io(event, &s->listen_source, listen_fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                agent_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

AgentServer *agent_server_free(AgentServer *s) {
        if (!s)
                return NULL;
        /* Connections still open are owned by their event sources; the event loop going away
         * releases them. */
        sd_event_source_disable_unref(s->listen_source);
        safe_close(s->listen_fd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int agent_check_listen_fd(int fd) {
        int r;

        r = sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0);
        if (r < 0)
                return r;
        return r > 0 ? 0 : -EPROTOTYPE;
}

int agent_listen_path(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *dir = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        char *slash;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                /* 0711: others may reach the socket by name but not list the directory. */
                if (mkdir(dir, 0711) < 0 && errno != EEXIST)
                        return -errno;
        }

        /* Replace a stale socket from an earlier run, but never anything else. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                if (unlink(path) < 0)
                        return -errno;
        }

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* Everyone may connect; agent_access_check_peer() decides per peer (the socket unit uses
         * SocketMode=0666 for the same reason). */
        if (chmod(path, 0666) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
