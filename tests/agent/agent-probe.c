/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sends one hand-made datagram to an agent socket and prints the reply's status and message, for
 * the host tests:  agent-probe SOCKET status|garbage|wrong-version|no-op|unknown-field|oversized|silent
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

#include "agent.pb-c.h"
#include "framing.h"

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        Unroot__Agent__AgentReply *reply;
        uint8_t *out = NULL, *buf;
        size_t out_len = 0, len;
        const char *what;
        int fd, r;

        if (argc != 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
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
        }
        printf("\n");
        unroot__agent__agent_reply__free_unpacked(reply, NULL);
        free(buf);
        free(out);
        return 0;
}
