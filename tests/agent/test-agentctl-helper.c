/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agentctl and the helper: every Status maps to its documented exit code and a next step. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentctl-helper.h"

static void test_exit_codes(void **state) {
        static const struct {
                int status;
                int exit;
                const char *name;
        } table[] = {
                { UNROOT__HELPER__STATUS__STATUS_CHANGED, 0, "changed" },
                { UNROOT__HELPER__STATUS__STATUS_UNCHANGED, 0, "unchanged" },
                { UNROOT__HELPER__STATUS__STATUS_INVALID, 2, "invalid" },
                { UNROOT__HELPER__STATUS__STATUS_DENIED, 3, "denied" },
                { UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED, 3, "auth-required" },
                { UNROOT__HELPER__STATUS__STATUS_CONFLICT, 4, "conflict" },
                { UNROOT__HELPER__STATUS__STATUS_NOT_FOUND, 4, "not-found" },
                { UNROOT__HELPER__STATUS__STATUS_FAILED, 1, "failed" },
                { UNROOT__HELPER__STATUS__STATUS_BUSY, 1, "busy" },
                { UNROOT__HELPER__STATUS__STATUS_CANCELLED, 3, "cancelled" },
                { 10, 1, "unknown" },
                { -1, 1, "unknown" },
                { 1000000, 1, "unknown" },
        };

        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
                assert_int_equal(helper_status_to_exit(table[i].status), table[i].exit);
                assert_string_equal(helper_status_to_string(table[i].status), table[i].name);
        }
        /* every value of the enum is covered by the table above */
        assert_int_equal(unroot__helper__status__descriptor.n_values, 10);
}

static void test_explain(void **state) {
        char *s;

        assert_null(helper_status_explain(UNROOT__HELPER__STATUS__STATUS_CHANGED, "enroll", "x", NULL, NULL, NULL, false));
        assert_null(helper_status_explain(UNROOT__HELPER__STATUS__STATUS_UNCHANGED, "enroll", "x", NULL, NULL, NULL, false));

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_DENIED, "enroll", "x", NULL, NULL, NULL, false);
        assert_non_null(s);
        assert_non_null(strstr(s, "not authorized for org.unroot.helper.enroll: run as root or as a member of unroot-admins (see "));
        assert_non_null(strstr(s, "/examples/50-unroot-admins.rules)"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_DENIED, "unenroll", "x", "org.unroot.helper.unenroll",
                                  "polkit said no", NULL, true);
        assert_non_null(strstr(s, "not authorized for org.unroot.helper.unenroll"));
        assert_non_null(strstr(s, "polkit said no"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_AUTH_REQUIRED, "enroll", "x", NULL, NULL, NULL, false);
        assert_non_null(strstr(s, "authentication required for org.unroot.helper.enroll"));
        assert_non_null(strstr(s, "--no-ask-password"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_CANCELLED, "enroll", "x", NULL, NULL, NULL, true);
        assert_non_null(strstr(s, "cancelled"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_INVALID, "enroll", "Bad", NULL,
                                  "name: 'Bad' must start with a lowercase letter", "name", false);
        assert_string_equal(s, "invalid request: name: 'Bad' must start with a lowercase letter: fix the argument "
                               "and run again (see agentctl --help)");
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_INVALID, "enroll", "x", NULL, NULL, "subid_count", false);
        assert_non_null(strstr(s, "field 'subid_count' is invalid"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_CONFLICT, "enroll", "postgres", NULL, NULL, NULL, false);
        assert_non_null(strstr(s, "'postgres' belongs to something unroot did not create"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_NOT_FOUND, "unenroll", "x", NULL, NULL, NULL, false);
        assert_non_null(strstr(s, "agentctl status"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_FAILED, "enroll", "x", NULL, "linger failed", NULL, false);
        assert_non_null(strstr(s, "enroll failed: linger failed: run the same command again"));
        free(s);

        s = helper_status_explain(UNROOT__HELPER__STATUS__STATUS_BUSY, "enroll", "x", NULL, NULL, NULL, false);
        assert_non_null(strstr(s, "try again"));
        free(s);

        s = helper_status_explain(42, "enroll", "x", NULL, NULL, NULL, false);
        assert_non_null(strstr(s, "unknown status 42"));
        free(s);
}

static void test_unreachable(void **state) {
        char *s = helper_unreachable_message("/run/unroot/helper.sock", -ENOENT);

        assert_string_equal(s, "cannot reach unroot-helper at /run/unroot/helper.sock (No such file or directory): "
                               "is unroot-helper.socket enabled? (systemctl enable --now unroot-helper.socket)");
        free(s);
}

static void test_socket_path(void **state) {
        unsetenv("UNROOT_HELPER_SOCKET");
        assert_string_equal(helper_socket_path(), HELPER_SOCKET_PATH);
        setenv("UNROOT_HELPER_SOCKET", "/tmp/x.sock", 1);
        assert_string_equal(helper_socket_path(), "/tmp/x.sock");
        setenv("UNROOT_HELPER_SOCKET", "", 1);
        assert_string_equal(helper_socket_path(), HELPER_SOCKET_PATH);
        unsetenv("UNROOT_HELPER_SOCKET");
}

static void test_reply_decode(void **state) {
        Unroot__Helper__HelperReply reply = UNROOT__HELPER__HELPER_REPLY__INIT;
        char *changes[] = { (char *) "created group 'a'", (char *) "linger on" };
        HelperReplyHolder h = {};
        uint8_t buf[512];
        size_t n;

        reply.status = UNROOT__HELPER__STATUS__STATUS_CHANGED;
        reply.n_changes = 2;
        reply.changes = changes;
        n = unroot__helper__helper_reply__pack(&reply, buf);
        assert_int_equal(helper_reply_decode(buf, n, &h), 0);
        assert_int_equal(h.reply->status, UNROOT__HELPER__STATUS__STATUS_CHANGED);
        assert_int_equal(h.reply->n_changes, 2);
        assert_string_equal(h.reply->changes[1], "linger on");
        helper_reply_holder_done(&h);
        assert_null(h.reply);

        /* unknown field → refused */
        memcpy(buf + n, "\x98\x06\x07", 3);
        assert_int_equal(helper_reply_decode(buf, n + 3, &h), -EBADMSG);
        assert_null(h.reply);
        assert_int_equal(helper_reply_decode(buf, 0, &h), -EBADMSG);
        assert_int_equal(helper_reply_decode((const uint8_t *) "\xff\xff", 2, &h), -EBADMSG);
        /* status missing (required) */
        assert_int_equal(helper_reply_decode((const uint8_t *) "\x12\x01x", 3, &h), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_codes),
                cmocka_unit_test(test_explain),
                cmocka_unit_test(test_unreachable),
                cmocka_unit_test(test_socket_path),
                cmocka_unit_test(test_reply_decode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
