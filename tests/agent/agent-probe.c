/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sends one hand-made datagram to an agent socket and prints the reply's status and message, for
 * the host tests:  agent-probe SOCKET status|garbage|wrong-version|no-op|unknown-field|oversized|silent
 *        agent-probe SOCKET reapply | start|stop|restart UNIT | bad-action UNIT
 * (also: agent-probe PATH notify-wait: print the first sd_notify() datagram sent to PATH;
 *        agent-probe PATH stream: connect a stream socket and exit)
 * Prints "status=N field=F message=M", or "closed" if the agent closed without a reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-request.h"
#include "agent.pb-c.h"
#include "framing.h"

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        Unroot__Agent__AgentReply *reply;
        uint8_t *out = NULL, *buf;
        size_t out_len = 0, len;
        const char *what;
        int fd, r;

        if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: agent-probe SOCKET KIND\n");
                return 2;
        }
        what = argv[2];
        strcpy(sa.sun_path, argv[1]);

        if (strcmp(what, "notify-wait") == 0) {
                /* Be the NOTIFY_SOCKET: print the first sd_notify() datagram. */
                char msg[4096];
                struct timeval tv = { .tv_sec = 10 };
                ssize_t n;

                (void) unlink(argv[1]);
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(argv[1], 0666) < 0 ||
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
                        perror("agent-probe: notify socket");
                        return 1;
                }
                n = recv(fd, msg, sizeof msg - 1, 0);
                if (n < 0) {
                        perror("agent-probe: recv");
                        return 1;
                }
                msg[n] = 0;
                printf("%s\n", msg);
                return 0;
        }
        if (strcmp(what, "stream") == 0) {
                /* Knock on a stream socket (to make systemd-socket-activate start its command). */
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                        perror("agent-probe: connect");
                        return 1;
                }
                return 0;
        }
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                perror("agent-probe: connect");
                return 1;
        }

        if (strcmp(what, "status") == 0) {
                out = (uint8_t *) strdup("\x08\x01\x52");
                out_len = 4; /* 08 01 52 00 */
        } else if (strcmp(what, "garbage") == 0) {
                out = (uint8_t *) strdup("garbage");
                out_len = 7;
        } else if (strcmp(what, "wrong-version") == 0) {
                out = (uint8_t *) strdup("\x08\x02\x52");
                out_len = 4;
        } else if (strcmp(what, "no-op") == 0) {
                out = (uint8_t *) strdup("\x08\x01");
                out_len = 2;
        } else if (strcmp(what, "unknown-field") == 0) {
                out = (uint8_t *) strdup("\x08\x01\x52\x02\x28\x01");
                out_len = 6;
        } else if (strcmp(what, "oversized") == 0) {
                out_len = FRAME_REQUEST_MAX + 100;
                out = calloc(1, out_len);
        } else if (strcmp(what, "reapply") == 0) {
                if (agent_request_pack(AGENT_OP_REAPPLY, NULL, &out, &out_len) < 0)
                        return 1;
        } else if (argc == 4 && (strcmp(what, "start") == 0 || strcmp(what, "stop") == 0 ||
                                 strcmp(what, "restart") == 0)) {
                AgentOp op = strcmp(what, "start") == 0 ? AGENT_OP_START :
                             strcmp(what, "stop") == 0 ? AGENT_OP_STOP : AGENT_OP_RESTART;
                if (agent_request_pack(op, argv[3], &out, &out_len) < 0)
                        return 1;
        } else if (argc == 4 && strcmp(what, "bad-action") == 0) {
                /* A unit action with an action number the schema does not have. */
                Unroot__Agent__UnitActionRequest ua = UNROOT__AGENT__UNIT_ACTION_REQUEST__INIT;
                Unroot__Agent__AgentRequest req = UNROOT__AGENT__AGENT_REQUEST__INIT;
                ua.unit = argv[3];
                ua.action = 7;
                req.version = 1;
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_UNIT_ACTION;
                req.unit_action = &ua;
                out_len = unroot__agent__agent_request__get_packed_size(&req);
                out = malloc(out_len);
                if (!out)
                        return 1;
                unroot__agent__agent_request__pack(&req, out);
        } else if (strcmp(what, "silent") != 0) {
                fprintf(stderr, "agent-probe: unknown kind '%s'\n", what);
                return 2;
        }
        if (out && frame_send(fd, out, out_len) < 0) {
                perror("agent-probe: send");
                return 1;
        }

        r = frame_recv(fd, FRAME_REPLY_MAX, 20000, &buf, &len);
        if (r == -ECONNRESET) {
                printf("closed\n");
                return 0;
        }
        if (r < 0) {
                fprintf(stderr, "agent-probe: recv: %s\n", strerror(-r));
                return 1;
        }
        reply = unroot__agent__agent_reply__unpack(NULL, len, buf);
        if (!reply) {
                fprintf(stderr, "agent-probe: undecodable reply\n");
                return 1;
        }
        printf("status=%d field=%s message=%s", (int) reply->status, reply->field ? reply->field : "",
               reply->message ? reply->message : "");
        if (reply->result_case == UNROOT__AGENT__AGENT_REPLY__RESULT_STATUS_REPLY)
        {
                const Unroot__Agent__StatusReply *st = reply->status_reply;
                printf(" account=%s uid=%u manager_state=%s version=%s", st->account, st->uid, st->manager_state,
                       st->version);
                for (size_t i = 0; i < st->n_subuid; i++)
                        printf(" subuid=%u:%u", st->subuid[i]->start, st->subuid[i]->count);
                for (size_t i = 0; i < st->n_subgid; i++)
                        printf(" subgid=%u:%u", st->subgid[i]->start, st->subgid[i]->count);
                if (st->podman_version)
                        printf("\npodman_version=%s pod_shape=%s pod_shape_reason=%s last_apply=%s",
                               st->podman_version, st->pod_shape ? st->pod_shape : "",
                               st->pod_shape_reason ? st->pod_shape_reason : "",
                               st->last_apply_usec > 0 ? "yes" : "no");
                for (size_t i = 0; i < st->n_units; i++) {
                        const Unroot__Agent__UnitStatus *u = st->units[i];
                        printf("\nunit=%s active=%s sub=%s pid=%u restarts=%u health=%s source=%s "
                               "translation_error=%s apply_error=%s",
                               u->name, u->active_state, u->sub_state, u->main_pid, u->n_restarts,
                               u->health ? u->health : "", u->source ? u->source : "",
                               u->translation_error ? u->translation_error : "",
                               u->apply_error ? u->apply_error : "");
                }
                for (size_t i = 0; i < st->n_errors; i++)
                        printf("\nerror=%s", st->errors[i]);
        } else if (reply->result_case == UNROOT__AGENT__AGENT_REPLY__RESULT_UNIT_ACTION_REPLY)
                printf(" unit=%s result=%s", reply->unit_action_reply->unit, reply->unit_action_reply->result);
        else if (reply->result_case == UNROOT__AGENT__AGENT_REPLY__RESULT_REAPPLY_REPLY) {
                const Unroot__Agent__ReapplyReply *ra = reply->reapply_reply;
                for (size_t i = 0; i < ra->n_started; i++)
                        printf(" started=%s", ra->started[i]);
                for (size_t i = 0; i < ra->n_restarted; i++)
                        printf(" restarted=%s", ra->restarted[i]);
                for (size_t i = 0; i < ra->n_stopped; i++)
                        printf(" stopped=%s", ra->stopped[i]);
                for (size_t i = 0; i < ra->n_errors; i++)
                        printf(" error=%s", ra->errors[i]);
        }
        printf("\n");
        unroot__agent__agent_reply__free_unpacked(reply, NULL);
        free(buf);
        free(out);
        return 0;
}
