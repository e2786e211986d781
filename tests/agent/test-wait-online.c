/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-wait-online's decisions and option checks, without a bus. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wait-online.h"

static void test_decide(void **state) {
        const char *reason = "unset";

        assert_int_equal(wait_online_decide(NULL, false, &reason), WAIT_ONLINE_WAIT);
        assert_null(reason);
        assert_int_equal(wait_online_decide("active", false, &reason), WAIT_ONLINE_DONE);
        assert_int_equal(wait_online_decide("active", true, NULL), WAIT_ONLINE_DONE);
        assert_int_equal(wait_online_decide("reloading", false, NULL), WAIT_ONLINE_DONE);
        /* a start job is queued: it is coming */
        assert_int_equal(wait_online_decide("inactive", true, &reason), WAIT_ONLINE_WAIT);
        assert_null(reason);
        assert_int_equal(wait_online_decide("activating", false, NULL), WAIT_ONLINE_WAIT);
        assert_int_equal(wait_online_decide("activating", true, NULL), WAIT_ONLINE_WAIT);
        assert_int_equal(wait_online_decide("deactivating", true, NULL), WAIT_ONLINE_WAIT);
        assert_int_equal(wait_online_decide("maintenance", false, NULL), WAIT_ONLINE_WAIT);
        /* nothing pulled it in (podman#24796): do not stall the boot */
        assert_int_equal(wait_online_decide("inactive", false, &reason), WAIT_ONLINE_GIVE_UP);
        assert_string_equal(reason, "no job is starting it");
        assert_int_equal(wait_online_decide("deactivating", false, NULL), WAIT_ONLINE_GIVE_UP);
        assert_int_equal(wait_online_decide("failed", true, &reason), WAIT_ONLINE_GIVE_UP);
        assert_string_equal(reason, "it failed");
}

static void test_parse_timeout(void **state) {
        uint64_t usec = 7;

        assert_int_equal(wait_online_parse_timeout("90", &usec), 0);
        assert_true(usec == 90000000ULL);
        assert_int_equal(wait_online_parse_timeout("0", &usec), 0);
        assert_true(usec == 0);
        assert_int_equal(wait_online_parse_timeout("3600", &usec), 0);
        assert_int_equal(wait_online_parse_timeout("3601", &usec), -ERANGE);
        assert_int_equal(wait_online_parse_timeout("99999999999", &usec), -ERANGE);
        assert_int_equal(wait_online_parse_timeout("-1", &usec), -EINVAL);
        assert_int_equal(wait_online_parse_timeout("1.5", &usec), -EINVAL);
        assert_int_equal(wait_online_parse_timeout("", &usec), -EINVAL);
        assert_int_equal(wait_online_parse_timeout("9s", &usec), -EINVAL);
        assert_true(usec == 3600000000ULL); /* untouched on failure */
}

static void test_target_valid(void **state) {
        assert_true(wait_online_target_valid("network-online.target"));
        assert_true(wait_online_target_valid("network.target"));
        assert_true(wait_online_target_valid("NetworkManager-wait-online.service"));
        assert_true(wait_online_target_valid("foo@bar\\x2dbaz.service"));
        assert_false(wait_online_target_valid(NULL));
        assert_false(wait_online_target_valid(""));
        assert_false(wait_online_target_valid("network"));
        assert_false(wait_online_target_valid(".target"));
        assert_false(wait_online_target_valid("network."));
        assert_false(wait_online_target_valid("a b.target"));
        assert_false(wait_online_target_valid("../x.target"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decide),
                cmocka_unit_test(test_parse_timeout),
                cmocka_unit_test(test_target_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
