/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agentctl output: the JSON string escaper, the table, and the status document. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentctl-output.h"
#include "agentctl-status.h"

static void check_escape(const char *in, const char *want) {
        char *s = json_escape(in);
        assert_non_null(s);
        assert_string_equal(s, want);
        free(s);
}

static void test_json_escape(void **state) {
        check_escape(NULL, "null");
        check_escape("", "\"\"");
        check_escape("container-db", "\"container-db\"");
        check_escape("a\"b\\c", "\"a\\\"b\\\\c\"");
        check_escape("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
        check_escape("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
        check_escape("/", "\"/\"");
        /* valid UTF-8 passes through */
        check_escape("caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x90\xb3", "\"caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x90\xb3\"");
        /* invalid: lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF */
        check_escape("\x80", "\"\\ufffd\"");
        check_escape("a\xc3", "\"a\\ufffd\"");
        check_escape("\xc0\xaf", "\"\\ufffd\\ufffd\"");
        check_escape("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
        check_escape("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
        check_escape("\xe2\x80", "\"\\ufffd\\ufffd\"");
}

static char *print_table(Table *t) {
        char *buf = NULL;
        size_t sz = 0;
        FILE *f = open_memstream(&buf, &sz);

        assert_non_null(f);
        assert_int_equal(table_print(t, f), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_table(void **state) {
        static const char *const headers[] = { "ACCOUNT", "UID", "AGENT" };
        static const char *const r1[] = { "container-db", "990", "answering" };
        static const char *const r2[] = { "web", "65534", NULL };
        static const char *const r3[] = { "caf\xc3\xa9", "7", "x" };
        Table *t = table_new(3, headers);
        char *out;

        assert_non_null(t);
        assert_int_equal(table_rows(t), 0);
        table_set_align_right(t, 1);
        assert_int_equal(table_add_row(t, r1), 0);
        assert_int_equal(table_add_row(t, r2), 0);
        assert_int_equal(table_add_row(t, r3), 0);
        assert_int_equal(table_rows(t), 3);
        out = print_table(t);
        assert_string_equal(out,
                            "ACCOUNT         UID  AGENT\n"
                            "container-db    990  answering\n"
                            "web           65534  -\n"
                            "caf\xc3\xa9              7  x\n");
        free(out);
        table_free(t);

        static const char *const one[] = { "A" };
        t = table_new(1, one);
        out = print_table(t);
        assert_string_equal(out, "A\n");
        free(out);
        table_free(t);
        assert_null(table_new(0, NULL));
}

static void test_range_format(void **state) {
        char *s;

        s = subid_range_format(true, 100000, 65536);
        assert_string_equal(s, "100000:65536");
        free(s);
        s = subid_range_format(true, 0, 0);
        assert_string_equal(s, "-");
        free(s);
        s = subid_range_format(false, 1, 1);
        assert_string_equal(s, "?");
        free(s);
        s = subid_range_format(true, 4294901760U, 65536);
        assert_string_equal(s, "4294901760:65536");
        free(s);
}

static AccountStatus sample(void) {
        return (AccountStatus) {
                .name = (char *) "container-db",
                .found = true,
                .account = {
                        .name = (char *) "container-db", .uid = 990, .gid = 990,
                        .home = (char *) "/var/lib/unroot/container-db", .have_ranges = true,
                        .subuid_start = 100000, .subuid_count = 65536, .subgid_start = 100000, .subgid_count = 65536,
                },
                .linger = true,
                .user_manager = (char *) "active",
                .agent = {
                        .state = AGENT_STATE_ANSWERING, .version = (char *) "0.1.0",
                        .manager_state = (char *) "running",
                },
        };
}

static void test_units_json_and_table(void **state) {
        AgentUnitInfo units[2] = {
                { .name = (char *) "web.service", .source = (char *) "/h/.config/containers/systemd/web.container",
                  .load_state = (char *) "loaded", .active_state = (char *) "active", .sub_state = (char *) "running",
                  .health = (char *) "healthy", .since_usec = 0, .n_restarts = 2, .main_pid = 4242 },
                { .name = (char *) "bad.service", .active_state = (char *) "failed", .sub_state = (char *) "failed",
                  .translation_error = (char *) "converting \"bad.container\": no Image key specified",
                  .apply_error = (char *) "start failed: job result 'failed'" },
        };
        char *errors[] = { (char *) "converting \"x.container\": \"tab\there\"", NULL };
        AccountStatus s = sample();
        char *buf = NULL;
        size_t sz = 0;
        FILE *f;

        s.agent.units = units;
        s.agent.n_units = 2;
        s.agent.errors = errors;
        s.agent.podman_version = (char *) "4.3.1 (podman --version)";
        s.agent.pod_shape = (char *) "watch";
        s.agent.pod_shape_reason = (char *) "the user manager refuses pod PID files";
        s.agent.last_apply_usec = 1700000000000000ULL;

        f = open_memstream(&buf, &sz);
        agent_status_write_json(&s.agent, f);
        fclose(f);
        assert_string_equal(buf,
                "{\"state\":\"answering\",\"version\":\"0.1.0\",\"manager_state\":\"running\",\"message\":null,"
                "\"podman_version\":\"4.3.1 (podman --version)\",\"pod_shape\":\"watch\","
                "\"pod_shape_reason\":\"the user manager refuses pod PID files\",\"last_apply_usec\":1700000000000000,"
                "\"errors\":[\"converting \\\"x.container\\\": \\\"tab\\there\\\"\"],"
                "\"units\":[{\"name\":\"web.service\",\"source\":\"/h/.config/containers/systemd/web.container\","
                "\"load_state\":\"loaded\",\"active_state\":\"active\",\"sub_state\":\"running\",\"since_usec\":0,"
                "\"n_restarts\":2,\"main_pid\":4242,\"health\":\"healthy\",\"translation_error\":null,\"apply_error\":null},"
                "{\"name\":\"bad.service\",\"source\":null,\"load_state\":null,\"active_state\":\"failed\","
                "\"sub_state\":\"failed\",\"since_usec\":0,\"n_restarts\":0,\"main_pid\":0,\"health\":null,"
                "\"translation_error\":\"converting \\\"bad.container\\\": no Image key specified\","
                "\"apply_error\":\"start failed: job result 'failed'\"}]}");
        free(buf);

        buf = NULL;
        f = open_memstream(&buf, &sz);
        assert_int_equal(units_print_table(&s, 1, f), 0);
        fclose(f);
        assert_string_equal(buf,
                "\n"
                "UNIT                      ACTIVE  SUB      SINCE  RESTARTS  HEALTH    PID  SOURCE                                       PROBLEM\n"
                "container-db/web.service  active  running  -             2  healthy  4242  /h/.config/containers/systemd/web.container  -\n"
                "container-db/bad.service  failed  failed   -             0  -           -  -                                            "
                "converting \"bad.container\": no Image key specified; start failed: job result 'failed'\n"
                "container-db: converting \"x.container\": \"tab here\"\n");
        free(buf);
}

static void test_status_json(void **state) {
        AccountStatus s[2] = { sample(), { .name = (char *) "gone\"x", .found = false, .error = (char *) "no such user" } };
        char *buf = NULL;
        size_t sz = 0;
        FILE *f = open_memstream(&buf, &sz);

        account_status_print_json(s, 2, f);
        fclose(f);
        assert_string_equal(buf,
                "{\"accounts\":[{\"name\":\"container-db\",\"found\":true,\"uid\":990,\"gid\":990,"
                "\"home\":\"/var/lib/unroot/container-db\",\"ranges_known\":true,"
                "\"subuid\":{\"start\":100000,\"count\":65536},\"subgid\":{\"start\":100000,\"count\":65536},"
                "\"ranges_error\":null,\"linger\":true,\"user_manager\":\"active\",\"agent\":{\"state\":\"answering\",\"version\":\"0.1.0\","
                "\"manager_state\":\"running\",\"message\":null,\"podman_version\":null,\"pod_shape\":null,"
                "\"pod_shape_reason\":null,\"last_apply_usec\":0,\"errors\":[],\"units\":[]}},"
                "{\"name\":\"gone\\\"x\",\"found\":false,\"error\":\"no such user\"}]}\n");
        free(buf);

        buf = NULL;
        f = open_memstream(&buf, &sz);
        account_status_print_json(s, 0, f);
        fclose(f);
        assert_string_equal(buf, "{\"accounts\":[]}\n");
        free(buf);
}

static void test_status_table(void **state) {
        AccountStatus s[2] = { sample(), sample() };
        char *buf = NULL;
        size_t sz = 0;
        FILE *f;

        s[1].name = (char *) "web";
        s[1].account.uid = 989;
        s[1].account.have_ranges = false;
        s[1].linger = false;
        s[1].user_manager = (char *) "inactive";
        s[1].agent = (AgentStatusResult) { .state = AGENT_STATE_NOT_RUNNING };

        f = open_memstream(&buf, &sz);
        assert_int_equal(account_status_print_table(s, 2, f), 0);
        fclose(f);
        assert_string_equal(buf,
                "ACCOUNT       UID  SUBUID        SUBGID        LINGER  USER MANAGER  AGENT\n"
                "container-db  990  100000:65536  100000:65536  yes     active        answering (unroot 0.1.0, manager running)\n"
                "web           989  ?             ?             no      inactive      not running\n");
        free(buf);
}

static void test_agent_describe(void **state) {
        AgentStatusResult a = { .state = AGENT_STATE_REFUSED };
        char *s = agent_state_describe(&a);

        assert_string_equal(s, "refused (run as root or in group unroot-admins)");
        free(s);
        a = (AgentStatusResult) { .state = AGENT_STATE_ERROR, .message = (char *) "no reply" };
        s = agent_state_describe(&a);
        assert_string_equal(s, "error: no reply");
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_escape),
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_range_format),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_units_json_and_table),
                cmocka_unit_test(test_status_table),
                cmocka_unit_test(test_agent_describe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
