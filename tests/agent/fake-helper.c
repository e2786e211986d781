/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for unroot-helper in agentctl's host tests: serves one connection on SOCKET, prints
 * what it received ("op=enroll name=… subid_count=… interactive=…"), and answers with STATUS.
 *
 *   fake-helper SOCKET STATUS [HOME]
 *
 * STATUS is a number (unroot.helper.Status) or "garbage" (an undecodable reply) or "close" (no
 * reply at all). HOME goes into EnrollReply.home (agentctl waits for <HOME>/.unroot/agent.sock). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "framing.h"
#include "helper.pb-c.h"

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        Unroot__Helper__HelperReply reply = UNROOT__HELPER__HELPER_REPLY__INIT;
        Unroot__Helper__EnrollReply er = UNROOT__HELPER__ENROLL_REPLY__INIT;
        Unroot__Helper__UnenrollReply ur = UNROOT__HELPER__UNENROLL_REPLY__INIT;
        Unroot__Helper__HelperRequest *req;
        char *changes[] = { (char *) "created group 'NAME'", (char *) "turned linger on" };
        char message[256], name[64] = "";
        uint8_t *buf;
        size_t len;
        int fd, c, r;

        if (argc < 3 || strlen(argv[1]) + 4 >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: fake-helper SOCKET STATUS [HOME]\n");
                return 2;
        }
        /* Bound under a temporary name and renamed once listening: when SOCKET appears, it accepts. */
        if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s.tmp", argv[1]) >= (int) sizeof sa.sun_path)
                return 2;
        (void) unlink(sa.sun_path);
        alarm(30); /* never outlive a broken test */
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(fd, 4) < 0 || rename(sa.sun_path, argv[1]) < 0) {
                perror("fake-helper: listen");
                return 1;
        }
        c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
                perror("fake-helper: accept");
                return 1;
        }
        r = frame_recv(c, FRAME_REQUEST_MAX, 10000, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "fake-helper: recv: %s\n", strerror(-r));
                return 1;
        }
        req = unroot__helper__helper_request__unpack(NULL, len, buf);
        if (!req || proto_message_check_strict(&req->base) < 0) {
                fprintf(stderr, "fake-helper: malformed request\n");
                return 1;
        }
        if (req->op_case == UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL) {
                snprintf(name, sizeof name, "%.*s", (int) req->enroll->name.len, (const char *) req->enroll->name.data);
                printf("op=enroll name=%s subid_count=%s%u version=%u interactive=%s\n", name,
                       req->enroll->has_subid_count ? "" : "default:", req->enroll->subid_count, req->version,
                       req->interactive ? "true" : "false");
        } else if (req->op_case == UNROOT__HELPER__HELPER_REQUEST__OP_UNENROLL) {
                snprintf(name, sizeof name, "%.*s", (int) req->unenroll->name.len, (const char *) req->unenroll->name.data);
                printf("op=unenroll name=%s purge=%s version=%u interactive=%s\n", name,
                       req->unenroll->purge ? "true" : "false", req->version, req->interactive ? "true" : "false");
        } else
                printf("op=none\n");
        fflush(stdout);

        if (strcmp(argv[2], "close") == 0)
                return 0;
        if (strcmp(argv[2], "garbage") == 0)
                return frame_send(c, "\xff\xff\xff", 3) < 0;

        reply.status = (Unroot__Helper__Status) atoi(argv[2]);
        snprintf(message, sizeof message, "fake message for status %s", argv[2]);
        reply.message = message;
        reply.action = req->op_case == UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL ? (char *) "org.unroot.helper.enroll"
                                                                                  : (char *) "org.unroot.helper.unenroll";
        if (reply.status == UNROOT__HELPER__STATUS__STATUS_INVALID)
                reply.field = (char *) "name";
        if (reply.status == UNROOT__HELPER__STATUS__STATUS_CHANGED) {
                reply.n_changes = 2;
                reply.changes = changes;
        }
        if (reply.status <= UNROOT__HELPER__STATUS__STATUS_UNCHANGED) {
                if (req->op_case == UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL) {
                        er.name = name;
                        er.uid = 990;
                        er.gid = 991;
                        er.home = argc > 3 ? argv[3] : (char *) "/nonexistent";
                        er.subuid_start = 100000;
                        er.subuid_count = 65536;
                        er.subgid_start = 200000;
                        er.subgid_count = 65536;
                        er.linger = true;
                        reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_ENROLL;
                        reply.enroll = &er;
                } else {
                        ur.name = name;
                        ur.uid = 990;
                        ur.purged = req->unenroll->purge;
                        reply.result_case = UNROOT__HELPER__HELPER_REPLY__RESULT_UNENROLL;
                        reply.unenroll = &ur;
                }
        }
        r = frame_send_message(c, &reply.base, FRAME_REPLY_MAX);
        if (r < 0) {
                fprintf(stderr, "fake-helper: send: %s\n", strerror(-r));
                return 1;
        }
        unroot__helper__helper_request__free_unpacked(req, NULL);
        free(buf);
        close(c);
        close(fd);
        (void) unlink(argv[1]);
        return 0;
}
