/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agent-manager against a fake systemd1 served in the same process over a socketpair (sd-bus in
 * server mode, no dbus-daemon, no systemd); both ends run on one sd-event loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent-manager.h"
#include "fake-systemd1.h"

typedef struct Fixture {
        sd_event *event;
        sd_bus *server, *client;
        FakeSystemd1 fake;
        AgentManager *manager;
} Fixture;

typedef struct Result {
        bool called;
        unsigned n_calls;
        int r;
        char result[32];
        char error_name[128];
        UnitState state;
        bool has_result;
} Result;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        sd_id128_t id;
        int s[2];

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s), 0);
        assert_int_equal(sd_id128_randomize(&id), 0);

        assert_int_equal(sd_bus_new(&f->server), 0);
        assert_int_equal(sd_bus_set_fd(f->server, s[0], s[0]), 0);
        assert_int_equal(sd_bus_set_server(f->server, 1, id), 0);
        assert_int_equal(fake_systemd1_export(&f->fake, f->server), 0);
        assert_int_equal(sd_bus_start(f->server), 0);
        assert_int_equal(sd_bus_attach_event(f->server, f->event, 0), 0);

        assert_int_equal(sd_bus_new(&f->client), 0);
        assert_int_equal(sd_bus_set_fd(f->client, s[1], s[1]), 0);
        assert_int_equal(sd_bus_start(f->client), 0);
        assert_int_equal(manager_new(f->event, f->client, &f->manager), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        manager_free(f->manager);
        sd_bus_flush_close_unref(f->client);
        sd_bus_flush_close_unref(f->server);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Runs the loop until res->called or max_usec passed; returns the time it took. */
static uint64_t run_until(Fixture *f, Result *res, uint64_t max_usec) {
        uint64_t start = now_usec();

        while (!res->called && now_usec() - start < max_usec)
                assert_true(sd_event_run(f->event, 50 * 1000) >= 0);
        return now_usec() - start;
}

static void record_error(Result *res, int r, const sd_bus_error *error) {
        res->called = true;
        res->n_calls++;
        res->r = r;
        if (r < 0) {
                /* every failure carries a D-Bus error */
                assert_non_null(error);
                assert_true(sd_bus_error_is_set(error));
                snprintf(res->error_name, sizeof res->error_name, "%s", error->name);
        }
}

static void on_done(AgentManager *m, int r, const sd_bus_error *error, void *userdata) {
        record_error(userdata, r, error);
}

static void on_job(AgentManager *m, int r, const char *result, const sd_bus_error *error, void *userdata) {
        Result *res = userdata;
        record_error(res, r, error);
        res->has_result = result;
        snprintf(res->result, sizeof res->result, "%s", result ?: "");
}

static void on_state(AgentManager *m, int r, const UnitState *state, const sd_bus_error *error,
                     void *userdata) {
        Result *res = userdata;
        record_error(res, r, error);
        if (r < 0) {
                assert_null(state);
                return;
        }
        assert_non_null(state);
        res->state = *state;
        /* the strings belong to the call: keep copies */
        res->state.load_state = state->load_state ? strdup(state->load_state) : NULL;
        res->state.active_state = state->active_state ? strdup(state->active_state) : NULL;
        res->state.sub_state = state->sub_state ? strdup(state->sub_state) : NULL;
        res->state.result = state->result ? strdup(state->result) : NULL;
}

static void test_start_done(void **state) {
        Fixture *f = *state;
        Result res = {};

        f->fake.job_result = "done";
        assert_non_null(fake_systemd1_add_unit(&f->fake, "web.service", "inactive"));
        assert_int_equal(manager_unit_start(f->manager, "web.service", on_job, &res, NULL), 0);
        assert_int_equal(manager_n_pending(f->manager), 1);
        run_until(f, &res, 5000000);
        assert_true(res.called);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.result, "done");
        assert_string_equal(f->fake.last_method, "StartUnit");
        assert_string_equal(f->fake.last_mode, "replace");
        assert_int_equal(f->fake.n_subscribe, 1);
        assert_int_equal(manager_n_pending(f->manager), 0);
        assert_string_equal(f->fake.units[0].active_state, "active");
}

static void test_stop_restart(void **state) {
        Fixture *f = *state;
        Result a = {}, b = {};

        f->fake.job_result = "done";
        assert_non_null(fake_systemd1_add_unit(&f->fake, "web.service", "active"));
        assert_int_equal(manager_unit_restart(f->manager, "web.service", on_job, &a, NULL), 0);
        run_until(f, &a, 5000000);
        assert_int_equal(a.r, 0);
        assert_string_equal(f->fake.last_method, "RestartUnit");
        assert_int_equal(manager_unit_stop(f->manager, "web.service", on_job, &b, NULL), 0);
        run_until(f, &b, 5000000);
        assert_int_equal(b.r, 0);
        assert_string_equal(b.result, "done");
        assert_string_equal(f->fake.last_method, "StopUnit");
        assert_string_equal(f->fake.units[0].active_state, "inactive");
        assert_int_equal(a.n_calls + b.n_calls, 2);
}

static void test_start_failed(void **state) {
        Fixture *f = *state;
        Result res = {};

        f->fake.job_result = "failed";
        assert_non_null(fake_systemd1_add_unit(&f->fake, "web.service", "inactive"));
        assert_int_equal(manager_unit_start(f->manager, "web.service", on_job, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -EIO);
        assert_string_equal(res.result, "failed");
        assert_int_equal(res.n_calls, 1);
}

static void test_start_unknown(void **state) {
        Fixture *f = *state;
        Result res = {};

        f->fake.job_result = "done";
        assert_int_equal(manager_unit_start(f->manager, "nope.service", on_job, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -ENOENT);
        assert_false(res.has_result);
        assert_string_equal(res.error_name, "org.freedesktop.systemd1.NoSuchUnit");
}

static void test_reload(void **state) {
        Fixture *f = *state;
        Result res = {};

        assert_int_equal(manager_reload(f->manager, on_done, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, 0);
        assert_int_equal(f->fake.n_reload, 1);
}

static void test_state_service(void **state) {
        Fixture *f = *state;
        Result res = {};
        FakeUnit *u;

        u = fake_systemd1_add_unit(&f->fake, "db.service", "active");
        assert_non_null(u);
        u->n_restarts = 3;
        u->main_pid = 1234;
        u->state_change_usec = 1700000000123456ULL;
        assert_int_equal(manager_unit_state(f->manager, "db.service", on_state, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.state.load_state, "loaded");
        assert_string_equal(res.state.active_state, "active");
        assert_string_equal(res.state.sub_state, "running");
        assert_string_equal(res.state.result, "success");
        assert_int_equal(res.state.n_restarts, 3);
        assert_int_equal(res.state.main_pid, 1234);
        assert_true(res.state.state_change_usec == 1700000000123456ULL);
        unit_state_done(&res.state);
}

static void test_state_unloaded_target(void **state) {
        Fixture *f = *state;
        Result res = {};
        FakeUnit *u;

        /* Not loaded: GetUnit says NoSuchUnit, LoadUnit loads it; not a service: no Service read. */
        u = fake_systemd1_add_unit(&f->fake, "pods.target", "inactive");
        assert_non_null(u);
        u->unloaded = true;
        assert_int_equal(manager_unit_state(f->manager, "pods.target", on_state, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.state.active_state, "inactive");
        assert_string_equal(res.state.sub_state, "dead");
        assert_null(res.state.result);
        assert_int_equal(res.state.main_pid, 0);
        assert_false(u->unloaded);
        unit_state_done(&res.state);
}

static void test_state_unknown(void **state) {
        Fixture *f = *state;
        Result res = {}, nf = {};
        FakeUnit *u;

        assert_int_equal(manager_unit_state(f->manager, "nope.service", on_state, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -ENOENT);
        assert_string_equal(res.error_name, "org.freedesktop.systemd1.NoSuchUnit");

        /* LoadUnit's stub for a missing file: LoadState=not-found reads as NoSuchUnit too */
        u = fake_systemd1_add_unit(&f->fake, "gone.service", "inactive");
        u->load_state = "not-found";
        assert_int_equal(manager_unit_state(f->manager, "gone.service", on_state, &nf, NULL), 0);
        run_until(f, &nf, 5000000);
        assert_int_equal(nf.r, -ENOENT);
        assert_string_equal(nf.error_name, "org.freedesktop.systemd1.NoSuchUnit");
}

static void test_call_timeout(void **state) {
        Fixture *f = *state;
        Result a = {}, b = {};
        uint64_t took;

        f->fake.silent = true;
        fake_systemd1_add_unit(&f->fake, "db.service", "active");
        manager_set_timeouts(f->manager, 300 * 1000, 300 * 1000);
        assert_int_equal(manager_unit_state(f->manager, "db.service", on_state, &a, NULL), 0);
        assert_int_equal(manager_reload(f->manager, on_done, &b, NULL), 0);
        took = run_until(f, &a, 5000000);
        run_until(f, &b, 5000000);
        assert_int_equal(a.r, -ETIMEDOUT);
        assert_int_equal(b.r, -ETIMEDOUT);
        assert_string_equal(a.error_name, SD_BUS_ERROR_NO_REPLY);
        assert_true(took >= 250 * 1000 && took < 3000 * 1000);
}

static void test_job_timeout(void **state) {
        Fixture *f = *state;
        Result res = {};

        f->fake.job_result = NULL; /* enqueued, never finishes */
        fake_systemd1_add_unit(&f->fake, "slow.service", "inactive");
        manager_set_timeouts(f->manager, 0, 300 * 1000);
        assert_int_equal(manager_unit_start(f->manager, "slow.service", on_job, &res, NULL), 0);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -ETIMEDOUT);
        assert_false(res.has_result);
        assert_string_equal(res.error_name, SD_BUS_ERROR_TIMEOUT);
        assert_int_equal(manager_n_pending(f->manager), 0);
}

static void test_disconnect(void **state) {
        Fixture *f = *state;
        Result res = {};

        f->fake.job_result = NULL;
        fake_systemd1_add_unit(&f->fake, "slow.service", "inactive");
        assert_int_equal(manager_unit_start(f->manager, "slow.service", on_job, &res, NULL), 0);
        /* let the job be enqueued, then the manager goes away */
        for (int i = 0; i < 20 && f->fake.last_job == 0; i++)
                assert_true(sd_event_run(f->event, 50 * 1000) >= 0);
        assert_int_equal(f->fake.last_job, 1);
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
        f->server = sd_bus_flush_close_unref(f->server);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -ECONNRESET);
        assert_string_equal(res.error_name, SD_BUS_ERROR_DISCONNECTED);
}

static void test_disconnect_in_flight(void **state) {
        Fixture *f = *state;
        Result res = {};

        /* the manager takes the call and goes away before answering */
        f->fake.silent = true;
        fake_systemd1_add_unit(&f->fake, "db.service", "active");
        assert_int_equal(manager_unit_state(f->manager, "db.service", on_state, &res, NULL), 0);
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
        assert_false(res.called);
        f->server = sd_bus_flush_close_unref(f->server);
        run_until(f, &res, 5000000);
        assert_int_equal(res.r, -ECONNRESET);
        assert_string_equal(res.error_name, SD_BUS_ERROR_DISCONNECTED);
        assert_int_equal(manager_n_pending(f->manager), 0);
}

static void test_cancel_and_invalid(void **state) {
        Fixture *f = *state;
        Result res = {}, other = {};
        ManagerCall *c = NULL;

        f->fake.job_result = "done";
        fake_systemd1_add_unit(&f->fake, "web.service", "inactive");
        assert_int_equal(manager_unit_start(f->manager, "web.service", on_job, &res, &c), 0);
        assert_non_null(c);
        manager_call_cancel(c);
        assert_int_equal(manager_n_pending(f->manager), 0);
        assert_int_equal(manager_reload(f->manager, on_done, &other, NULL), 0);
        run_until(f, &other, 5000000);
        assert_false(res.called);

        assert_int_equal(manager_unit_start(f->manager, "", on_job, &res, NULL), -EINVAL);
        assert_int_equal(manager_unit_state(f->manager, "a/b.service", on_state, &res, NULL), -EINVAL);
        assert_int_equal(manager_n_pending(f->manager), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_done, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_failed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_service, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_unloaded_target, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_call_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_job_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect_in_flight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel_and_invalid, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
