/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name validation against helper-anchors.md §5.1, row by row. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"

#define CHECK(lit, expect_r)                                                            \
        do {                                                                            \
                ErrorInfo _e = {};                                                      \
                int _r = account_name_check(lit, sizeof(lit) - 1, &_e);                 \
                if (_r != (expect_r))                                                   \
                        fail_msg("name '%s' (%zu bytes): got %d (%s), want %d", #lit,   \
                                 sizeof(lit) - 1, _r, _e.message, (expect_r));           \
                if (_r < 0) {                                                           \
                        assert_string_equal(_e.field, "name");                          \
                        assert_true(strlen(_e.message) > 10);                           \
                }                                                                       \
                assert_int_equal(account_name_is_valid(lit, sizeof(lit) - 1),           \
                                 (expect_r) != -EINVAL);                                \
        } while (0)

static void test_accepted(void **state) {
        CHECK("container-db", 0);
        CHECK("container-web", 0);
        CHECK("a", 0);
        CHECK("svc1", 0);
        CHECK("a-", 0);
        CHECK("x0-9", 0);
}

/* Row: root, daemon, nobody (existing system names) -> EEXIST "not managed by unroot". */
static void test_reserved(void **state) {
        static const char *const names[] = {
                "root", "daemon", "bin", "sys", "nobody", "nogroup", "sync", "games", "man", "lp", "mail",
                "news", "uucp", "proxy", "www-data", "backup", "list", "irc", "gnats", "messagebus",
                "polkitd", "shadow", "sudo", "adm", "disk", "docker", "systemd-journal", "systemd-network",
                "systemd-anything", "unroot-accounts", "unroot-admins", "unroot",
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                ErrorInfo e = {};
                int r = account_name_check(names[i], strlen(names[i]), &e);
                if (r != -EEXIST)
                        fail_msg("reserved name '%s' gave %d", names[i], r);
                assert_true(account_name_is_valid(names[i], strlen(names[i])));
                assert_true(account_name_is_reserved(names[i]));
                assert_string_equal(e.field, "name");
                assert_non_null(strstr(e.message, "not managed by unroot"));
        }
        assert_false(account_name_is_reserved("container-db"));
        assert_false(account_name_is_reserved("systemd"));    /* prefix needs the dash */
        assert_false(account_name_is_reserved("rooter"));
}

/* Row: ../x, a/b, ., .. */
static void test_paths(void **state) {
        CHECK("../x", -EINVAL);
        CHECK("a/b", -EINVAL);
        CHECK(".", -EINVAL);
        CHECK("..", -EINVAL);
}

/* Row: 123, -x, -1 */
static void test_leading(void **state) {
        CHECK("123", -EINVAL);
        CHECK("-x", -EINVAL);
        CHECK("-1", -EINVAL);
        CHECK("1abc", -EINVAL);
}

/* Row: Upper, a.b, foo$ */
static void test_common_core(void **state) {
        CHECK("Upper", -EINVAL);
        CHECK("a.b", -EINVAL);
        CHECK("foo$", -EINVAL);
        CHECK("a_b", -EINVAL);
        CHECK("aB", -EINVAL);
}

/* Row: Ünïcode, \xff, overlong \xc0\xaf, U+202E, ZWJ */
static void test_unicode(void **state) {
        CHECK("\xc3\x9c" "n" "\xc3\xaf" "code", -EINVAL);
        CHECK("\xff", -EINVAL);
        CHECK("a\xff", -EINVAL);
        CHECK("a\xc0\xaf", -EINVAL);
        CHECK("a\xe2\x80\xae" "b", -EINVAL);  /* U+202E right-to-left override */
        CHECK("a\xe2\x80\x8d" "b", -EINVAL);  /* U+200D zero-width joiner */
}

/* Row: a:b, a,b, a b, a\nb, a\tb, a\0b */
static void test_separators(void **state) {
        CHECK("a:b", -EINVAL);
        CHECK("a,b", -EINVAL);
        CHECK("a b", -EINVAL);
        CHECK("a\nb", -EINVAL);
        CHECK("a\tb", -EINVAL);
        CHECK("a\0b", -EINVAL);
        CHECK("root\0x", -EINVAL); /* must not be read as "root" */
        CHECK("a\0", -EINVAL);
        ErrorInfo e = {};
        assert_int_equal(account_name_check("a\0b", 3, &e), -EINVAL);
        assert_non_null(strstr(e.message, "NUL"));
}

/* Row: 31 OK, 32, 33, 1 MiB */
static void test_lengths(void **state) {
        char buf[40];
        ErrorInfo e = {};

        memset(buf, 'a', sizeof buf);
        assert_int_equal(account_name_check(buf, 31, NULL), 0);
        assert_true(account_name_is_valid(buf, 31));
        assert_int_equal(account_name_check(buf, 32, &e), -EINVAL);
        assert_non_null(strstr(e.message, "32 bytes"));
        assert_false(account_name_is_valid(buf, 32));
        assert_int_equal(account_name_check(buf, 33, NULL), -EINVAL);
        assert_false(account_name_is_valid(buf, 33));

        size_t big = 1024 * 1024;
        char *m = malloc(big);
        assert_non_null(m);
        memset(m, 'a', big);
        assert_int_equal(account_name_check(m, big, &e), -EINVAL);
        assert_true(strlen(e.message) < 200); /* never echoed back whole */
        assert_false(account_name_is_valid(m, big));
        free(m);
}

/* Row: empty string, absent field */
static void test_empty(void **state) {
        assert_int_equal(account_name_check("", 0, NULL), -EINVAL);
        assert_int_equal(account_name_check(NULL, 0, NULL), -EINVAL);
        assert_false(account_name_is_valid("", 0));
        assert_false(account_name_is_valid(NULL, 5));
}

static void test_subid_count(void **state) {
        ErrorInfo e = {};

        assert_int_equal(accounts_subid_count_check(0, &e), -EINVAL);
        assert_string_equal(e.field, "subid_count");
        assert_int_equal(accounts_subid_count_check(1, NULL), 0);
        assert_int_equal(accounts_subid_count_check(65536, NULL), 0);
        assert_int_equal(accounts_subid_count_check(16777216, NULL), 0);
        assert_int_equal(accounts_subid_count_check(16777217, NULL), -EINVAL);
        assert_int_equal(accounts_subid_count_check(UINT64_MAX, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepted),    cmocka_unit_test(test_reserved),
                cmocka_unit_test(test_paths),       cmocka_unit_test(test_leading),
                cmocka_unit_test(test_common_core), cmocka_unit_test(test_unicode),
                cmocka_unit_test(test_separators),  cmocka_unit_test(test_lengths),
                cmocka_unit_test(test_empty),       cmocka_unit_test(test_subid_count),
        };
        return cmocka_run_group_tests_name("account-name", tests, NULL, NULL);
}
