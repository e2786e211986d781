/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The agent's server in-process, without root: a client thread talks to the sd-event loop. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent-account.h"
#include "agent-client.h"
#include "agent-server.h"
#include "agent.pb-c.h"
#include "framing.h"

typedef struct Fixture {
        char dir[64];
        char path[128];
        sd_event *event;
        AgentServer *server;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        int fd;

        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-agent-server.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/.unroot/agent.sock", f->dir);
        assert_int_equal(agent_listen_path(f->path, &fd), 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(agent_server_new(f->event, fd, getuid(), NULL, &f->server), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        agent_server_free(f->server);
        sd_event_unref(f->event);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

typedef struct Client {
        const char *path;
        const void *send;   /* NULL: a status request through agent_query_status() */
        size_t send_len;
        bool silent;        /* connect, send nothing, wait for the close */
        AgentStatusResult result;
        int r;
        int reply_status;   /* raw mode: AgentReply.status, or -1 if closed */
        bool done;
} Client;

static void *client_thread(void *p) {
        Client *c = p;

        if (!c->send && !c->silent) {
                c->r = agent_query_status(c->path, 5000, &c->result);
        } else {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                uint8_t *buf = NULL;
                size_t len;
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

                strcpy(sa.sun_path, c->path);
                c->r = connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 0;
                if (c->r == 0 && c->send)
                        c->r = frame_send(fd, c->send, c->send_len);
                if (c->r == 0) {
                        c->r = frame_recv(fd, FRAME_REPLY_MAX, 10000, &buf, &len);
                        if (c->r == 0) {
                                Unroot__Agent__AgentReply *m = unroot__agent__agent_reply__unpack(NULL, len, buf);
                                c->reply_status = m ? (int) m->status : -2;
                                if (m)
                                        unroot__agent__agent_reply__free_unpacked(m, NULL);
                        } else if (c->r == -ECONNRESET)
                                c->reply_status = -1;
                }
                free(buf);
                close(fd);
        }
        __atomic_store_n(&c->done, true, __ATOMIC_SEQ_CST);
        return NULL;
}

/* Runs the loop until all clients are done (at most ~8 s). */
static void run_clients(Fixture *f, Client *c, size_t n) {
        pthread_t t[8];

        assert_true(n <= 8);
        for (size_t i = 0; i < n; i++) {
                c[i].path = f->path;
                assert_int_equal(pthread_create(&t[i], NULL, client_thread, &c[i]), 0);
        }
        for (int k = 0; k < 800; k++) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all = all && __atomic_load_n(&c[i].done, __ATOMIC_SEQ_CST);
                if (all)
                        break;
                assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
        }
        for (size_t i = 0; i < n; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_listen_path(void **state) {
        Fixture *f = *state;
        struct stat st;
        char dir[128];

        assert_int_equal(stat(f->path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0666);
        snprintf(dir, sizeof dir, "%s/.unroot", f->dir);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0711);
}

static void test_status(void **state) {
        Fixture *f = *state;
        Client c[1] = {};
        char *me = NULL;

        run_clients(f, c, 1);
        assert_int_equal(c[0].r, 0);
        assert_int_equal(c[0].result.state, AGENT_STATE_ANSWERING);
        assert_int_equal(c[0].result.uid, getuid());
        assert_int_equal(agent_user_name(getuid(), &me), 0);
        assert_string_equal(c[0].result.account, me);
        assert_string_equal(c[0].result.version, PACKAGE_VERSION);
        assert_non_null(c[0].result.manager_state);
        free(me);
        agent_status_result_done(&c[0].result);
}

static void test_malformed(void **state) {
        Fixture *f = *state;
        static const uint8_t big[FRAME_REQUEST_MAX + 1];
        Client c[4] = {
                { .send = "garbage", .send_len = 7 },
                { .send = "\x08\x02\x52", .send_len = 4 },
                { .send = "\x08\x01", .send_len = 2 },
                { .send = big, .send_len = sizeof big },
        };

        run_clients(f, c, 4);
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(c[i].r, 0);
                assert_int_equal(c[i].reply_status, UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID);
        }
}

static void test_silent_peer_does_not_block(void **state) {
        Fixture *f = *state;
        Client c[3] = { { .silent = true }, {}, {} };

        /* The silent client is closed after AGENT_REQUEST_TIMEOUT_USEC; the others are answered at once. */
        run_clients(f, c, 3);
        assert_int_equal(c[0].r, -ECONNRESET);
        assert_int_equal(c[0].reply_status, -1);
        assert_int_equal(c[1].result.state, AGENT_STATE_ANSWERING);
        assert_int_equal(c[2].result.state, AGENT_STATE_ANSWERING);
        agent_status_result_done(&c[1].result);
        agent_status_result_done(&c[2].result);
}

static void test_check_listen_fd(void **state) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int q = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        assert_int_equal(agent_check_listen_fd(s), -EPROTOTYPE);
        /* not listening */
        assert_int_equal(agent_check_listen_fd(q), -EPROTOTYPE);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-agent-server.XXXXXX";
        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", dir);
        assert_int_equal(bind(q, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(q, 1), 0);
        assert_int_equal(agent_check_listen_fd(q), 0);
        assert_int_equal(unlink(sa.sun_path), 0);
        assert_int_equal(rmdir(dir), 0);
        close(s);
        close(q);
        assert_true(agent_check_listen_fd(1000) < 0);
}

static void test_listen_refuses_non_socket(void **state) {
        char dir[] = "/tmp/test-agent-server.XXXXXX", p[128];
        int fd = -1;

        assert_non_null(mkdtemp(dir));
        snprintf(p, sizeof p, "%s/file", dir);
        fclose(fopen(p, "w"));
        /* never unlinks anything but a stale socket */
        assert_int_equal(agent_listen_path(p, &fd), -EEXIST);
        assert_int_equal(access(p, F_OK), 0);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(rmdir(dir), 0);
        char longp[200];
        memset(longp, 'a', sizeof longp - 1);
        longp[0] = '/';
        longp[sizeof longp - 1] = 0;
        assert_int_equal(agent_listen_path(longp, &fd), -ENAMETOOLONG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_listen_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_silent_peer_does_not_block, setup, teardown),
                cmocka_unit_test(test_check_listen_fd),
                cmocka_unit_test(test_listen_refuses_non_socket),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
