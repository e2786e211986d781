/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may talk to an agent: root, the account itself, members of unroot-admins; nobody else. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent-access.h"

#define SELF 990U
#define ADMINS 1500U

static void test_root(void **state) {
        assert_int_equal(agent_access_decide(0, SELF, ADMINS, NULL, 0), AGENT_ACCESS_ROOT);
        /* root even when the admin group does not exist */
        assert_int_equal(agent_access_decide(0, SELF, GID_INVALID, NULL, 0), AGENT_ACCESS_ROOT);
        /* an agent running as root still recognises root first */
        assert_int_equal(agent_access_decide(0, 0, GID_INVALID, NULL, 0), AGENT_ACCESS_ROOT);
}

static void test_self(void **state) {
        assert_int_equal(agent_access_decide(SELF, SELF, ADMINS, NULL, 0), AGENT_ACCESS_SELF);
        assert_int_equal(agent_access_decide(SELF, SELF, GID_INVALID, NULL, 0), AGENT_ACCESS_SELF);
        /* a neighbouring uid is not self */
        assert_int_equal(agent_access_decide(SELF + 1, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(SELF - 1, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
}

static void test_admin_member(void **state) {
        const gid_t primary[] = { ADMINS };
        const gid_t supplementary[] = { 1000, 27, ADMINS, 100 };
        const gid_t last[] = { 1000, ADMINS };

        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, primary, 1), AGENT_ACCESS_ADMIN);
        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, supplementary, 4), AGENT_ACCESS_ADMIN);
        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, last, 2), AGENT_ACCESS_ADMIN);
        /* the count is honoured: ADMINS beyond n is not looked at */
        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, last, 1), AGENT_ACCESS_DENIED);
}

static void test_non_member(void **state) {
        const gid_t groups[] = { 1000, 27, 100 };
        const gid_t invalid[] = { GID_INVALID };

        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, groups, 3), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        /* no admin group on the host: nobody is an admin, even with an "invalid" gid in the list */
        assert_int_equal(agent_access_decide(1000, SELF, GID_INVALID, invalid, 1), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(1000, SELF, GID_INVALID, groups, 3), AGENT_ACCESS_DENIED);
        /* the service account's own group does not make another user "self" */
        const gid_t own[] = { SELF };
        assert_int_equal(agent_access_decide(1000, SELF, ADMINS, own, 1), AGENT_ACCESS_DENIED);
}

static void test_large_uids(void **state) {
        const uid_t big = (uid_t) INT32_MAX + 1U; /* 2147483648: negative if squeezed through an int */
        const gid_t admins_big[] = { (gid_t) INT32_MAX + 5U };

        assert_int_equal(agent_access_decide(big, big, ADMINS, NULL, 0), AGENT_ACCESS_SELF);
        assert_int_equal(agent_access_decide(big, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(4294967294U, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(big, SELF, (gid_t) INT32_MAX + 5U, admins_big, 1), AGENT_ACCESS_ADMIN);
        /* (uid_t) -1 is never anyone, not even if it equalled our own uid */
        assert_int_equal(agent_access_decide(UID_INVALID, SELF, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        assert_int_equal(agent_access_decide(UID_INVALID, UID_INVALID, ADMINS, NULL, 0), AGENT_ACCESS_DENIED);
        const gid_t admins[] = { ADMINS };
        assert_int_equal(agent_access_decide(UID_INVALID, SELF, ADMINS, admins, 1), AGENT_ACCESS_DENIED);
}

static void test_names(void **state) {
        assert_string_equal(agent_access_to_string(AGENT_ACCESS_DENIED), "denied");
        assert_string_equal(agent_access_to_string(AGENT_ACCESS_ADMIN), "admin");
        assert_null(agent_access_to_string(_AGENT_ACCESS_MAX));
        assert_null(agent_access_to_string(_AGENT_ACCESS_INVALID));
}

static void test_check_peer_root_and_self(void **state) {
        /* These two never need a lookup. */
        assert_int_equal(agent_access_check_peer(0, 12345), AGENT_ACCESS_ROOT);
        assert_int_equal(agent_access_check_peer(12345, 12345), AGENT_ACCESS_SELF);
        assert_int_equal(agent_access_check_peer(UID_INVALID, 12345), AGENT_ACCESS_DENIED);
        /* a uid with no passwd entry is nobody's admin */
        assert_int_equal(agent_access_check_peer(3999999999U, 12345), AGENT_ACCESS_DENIED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root),
                cmocka_unit_test(test_self),
                cmocka_unit_test(test_admin_member),
                cmocka_unit_test(test_non_member),
                cmocka_unit_test(test_large_uids),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_check_peer_root_and_self),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
