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
        sd_bus *bus;
        unsigned n_connections;
};

typedef struct Connection {
        AgentServer *server;
        int fd;
        struct ucred cred;
        AgentAccess access;
        sd_event_source *io, *timer;
        sd_bus_slot *slot; /* pending SystemState query */
} Connection;

static Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        sd_bus_slot_unref(c->slot);
        safe_close(c->fd);
        if (c->server)
                c->server->n_connections--;
        free(c);
        return NULL;
}

sd_bus *agent_server_user_bus(AgentServer *s) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *rt;
        int r;

        if (s->bus && sd_bus_is_open(s->bus) > 0)
                return s->bus;
        s->bus = sd_bus_flush_close_unref(s->bus);

        /* Like `systemctl --user`: the manager's private socket first, which works without a D-Bus
         * user bus (dbus-user-session is not installed everywhere), then the user bus. */
        rt = getenv("XDG_RUNTIME_DIR");
        if (rt && *rt) {
                _cleanup_free_ char *addr = NULL;
                if (asprintf(&addr, "unix:path=%s/systemd/private", rt) >= 0 && sd_bus_new(&bus) >= 0) {
                        if (sd_bus_set_address(bus, addr) < 0 || sd_bus_start(bus) < 0)
                                bus = sd_bus_flush_close_unref(bus);
                }
        }
        if (!bus) {
                r = sd_bus_open_user(&bus);
                if (r < 0) {
                        log_debug_errno(r, "No user bus, manager state unavailable: %m");
                        return NULL;
                }
        }
        (void) sd_bus_set_method_call_timeout(bus, AGENT_BUS_TIMEOUT_USEC);
        r = sd_bus_attach_event(bus, s->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                log_warning_errno(r, "Cannot attach to the user bus, ignoring: %m");
                return NULL;
        }
        s->bus = TAKE_PTR(bus);
        return s->bus;
}

static void connection_answer(Connection *c, const char *manager_state) {
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

        r = agent_reply_status(c->fd, name, s->self_uid, r < 0 ? NULL : &acct, manager_state, note);
        if (r < 0)
                log_warning_errno(r, "Cannot send status reply to pid %i, ignoring: %m", (int) c->cred.pid);
        else
                log_debug("Status sent to uid %u (%s).", (unsigned) c->cred.uid, agent_access_to_string(c->access));
}

static int on_system_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Connection *c = userdata;
        const char *state = NULL;
        int r;

        c->slot = sd_bus_slot_unref(c->slot);
        if (sd_bus_message_is_method_error(m, NULL)) {
                log_debug("SystemState query failed: %s", sd_bus_message_get_error(m)->message);
                state = "unavailable";
        } else {
                r = sd_bus_message_read(m, "v", "s", &state);
                if (r < 0 || !state)
                        state = "unavailable";
        }
        connection_answer(c, state);
        connection_free(c);
        return 0;
}

static void connection_handle(Connection *c) {
        _cleanup_free_ uint8_t *buf = NULL;
        AgentRequest req;
        ErrorInfo e = {};
        size_t len;
        sd_bus *bus;
        int r;

        /* The socket said it is readable, so do not wait: a peer gets one datagram. */
        r = frame_recv(c->fd, FRAME_REQUEST_MAX, 0, &buf, &len);
        if (r < 0 && r != -EMSGSIZE) {
                log_debug_errno(r, "Dropping connection from pid %i: %m", (int) c->cred.pid);
                goto done;
        }

        /* A refused peer's bytes are never decoded, and it learns nothing about them either: the
         * only thing it gets is the refusal. */
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

        r = agent_request_parse(buf, len, &req, &e);
        if (r < 0) {
                log_info("Invalid request from uid %u: %s", (unsigned) c->cred.uid, e.message);
                (void) agent_reply_error(c->fd, UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID, e.field, e.message);
                goto done;
        }

        switch (req.op) {
        case AGENT_OP_STATUS:
                bus = agent_server_user_bus(c->server);
                if (bus) {
                        r = sd_bus_call_method_async(bus, &c->slot, "org.freedesktop.systemd1",
                                                     "/org/freedesktop/systemd1",
                                                     "org.freedesktop.DBus.Properties", "Get",
                                                     on_system_state, c, "ss",
                                                     "org.freedesktop.systemd1.Manager", "SystemState");
                        if (r >= 0) {
                                /* The reply comes from on_system_state(); stop watching the socket. */
                                c->io = sd_event_source_disable_unref(c->io);
                                return;
                        }
                        log_debug_errno(r, "Cannot query SystemState: %m");
                }
                connection_answer(c, "unavailable");
                break;
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

int agent_server_new(sd_event *event, int listen_fd, uid_t self_uid, AgentServer **ret) {
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
        sd_bus_flush_close_unref(s->bus);
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
