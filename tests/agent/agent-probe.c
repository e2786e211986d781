/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sends one hand-made datagram to an agent socket and prints the reply's status and message, for
 * the host tests:  agent-probe SOCKET status|garbage|wrong-version|no-op|unknown-field|oversized|silent
 * Prints "status=N field=F message=M", or "closed" if the agent closed without a reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
        printf("status=%d field=%s message=%s\n", (int) reply->status, reply->field ? reply->field : "",
               reply->message ? reply->message : "");
        unroot__agent__agent_reply__free_unpacked(reply, NULL);
        free(buf);
        free(out);
        return 0;
}
