/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The authorization gate (helper-anchors.md §5.6): every request type has its own action, present
 * in the shipped policy; polkit errors deny; the details equal the validated arguments; a request
 * changed while polkit thinks is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper-auth.h"

typedef struct Fake {
        int answer;
        HelperRequest *mutate; /* if set, changed during the "polkit call" */
        char action[128];
        char details[16][64];
        size_t n_details;
        bool interactive;
} Fake;

static int fake_check(const Peer *peer, const char *action, const char *const *details, bool interactive,
                      void *userdata) {
        Fake *f = userdata;

        snprintf(f->action, sizeof f->action, "%s", action);
        f->n_details = 0;
        for (size_t i = 0; details[i]; i++)
                snprintf(f->details[f->n_details++], sizeof f->details[0], "%s", details[i]);
        f->interactive = interactive;
        if (f->mutate)
                snprintf(f->mutate->name, sizeof f->mutate->name, "root");
        return f->answer;
}

static HelperRequest enroll_req(void) {
        HelperRequest r = { .op = HELPER_OP_ENROLL, .subid_count = 65536 };
        snprintf(r.name, sizeof r.name, "container-db");
        return r;
}

static void test_every_op_has_distinct_action_in_policy(void **state) {
        const char *src = getenv("UNROOT_SOURCE_ROOT");
        char path[4096], *policy = NULL;
        size_t n = 0;
        FILE *f;

        assert_non_null(src);
        snprintf(path, sizeof path, "%s/policy/org.unroot.helper.policy", src);
        f = fopen(path, "re");
        assert_non_null(f);
        policy = calloc(1, 1 << 16);
        n = fread(policy, 1, (1 << 16) - 1, f);
        fclose(f);
        assert_true(n > 0);

        for (int op = 0; op < _HELPER_OP_MAX; op++) {
                char needle[256];
                const char *a = helper_op_action(op);

                assert_non_null(a);
                assert_non_null(helper_op_to_string(op));
                snprintf(needle, sizeof needle, "<action id=\"%s\">", a);
                assert_non_null(strstr(policy, needle));
                for (int other = 0; other < op; other++)
                        assert_string_not_equal(a, helper_op_action(other));
        }
        assert_null(helper_op_action(_HELPER_OP_MAX));
        assert_null(helper_op_action(-1));
        /* Never "yes" for active sessions: decisions must depend on the uid only. */
        assert_null(strstr(policy, "<allow_active>yes</allow_active>"));
        free(policy);
}

static void test_answers(void **state) {
        static const struct { int answer, expect; } cases[] = {
                { AUTH_ALLOWED, 0 },
                { AUTH_DENIED, -EACCES },
                { AUTH_CHALLENGE, -EKEYREJECTED },
                { AUTH_CANCELLED, -ECANCELED },
                /* polkit unreachable, bus gone, timeout: deny */
                { -EHOSTUNREACH, -EACCES },
                { -ETIMEDOUT, -EACCES },
                { -ECONNREFUSED, -EACCES },
                /* nonsense from the authorizer: deny */
                { 42, -EACCES },
        };
        Peer peer = PEER_NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fake f = { .answer = cases[i].answer };
                Authorizer a = { .check = fake_check, .userdata = &f };
                HelperRequest r = enroll_req();
                ErrorInfo e = {};

                assert_int_equal(helper_authorize(&a, &peer, &r, &e), cases[i].expect);
                if (cases[i].expect != 0)
                        assert_true(strlen(e.message) > 0);
        }
}

static void test_no_authorizer_denies(void **state) {
        Peer peer = PEER_NULL;
        HelperRequest r = enroll_req();
        Authorizer none = {};

        assert_int_equal(helper_authorize(NULL, &peer, &r, NULL), -EACCES);
        assert_int_equal(helper_authorize(&none, &peer, &r, NULL), -EACCES);
        r.op = _HELPER_OP_MAX;
        Fake f = { .answer = AUTH_ALLOWED };
        Authorizer a = { .check = fake_check, .userdata = &f };
        assert_int_equal(helper_authorize(&a, &peer, &r, NULL), -EACCES);
}

static void test_details_equal_validated_args(void **state) {
        Peer peer = PEER_NULL;
        Fake f = { .answer = AUTH_ALLOWED };
        Authorizer a = { .check = fake_check, .userdata = &f };
        HelperRequest r = enroll_req();

        r.subid_count = 131072;
        r.interactive = true;
        assert_int_equal(helper_authorize(&a, &peer, &r, NULL), 0);
        assert_string_equal(f.action, "org.unroot.helper.enroll");
        assert_true(f.interactive);
        assert_int_equal(f.n_details, 6);
        assert_string_equal(f.details[0], "unroot.operation");
        assert_string_equal(f.details[1], "enroll");
        assert_string_equal(f.details[2], "unroot.account");
        assert_string_equal(f.details[3], "container-db");
        assert_string_equal(f.details[4], "unroot.subids");
        assert_string_equal(f.details[5], "131072");

        HelperRequest u = { .op = HELPER_OP_UNENROLL, .purge = true };
        snprintf(u.name, sizeof u.name, "web");
        assert_int_equal(helper_authorize(&a, &peer, &u, NULL), 0);
        assert_string_equal(f.action, "org.unroot.helper.unenroll");
        assert_false(f.interactive);
        assert_int_equal(f.n_details, 6);
        assert_string_equal(f.details[3], "web");
        assert_string_equal(f.details[4], "unroot.purge");
        assert_string_equal(f.details[5], "true");
}

static void test_mutation_during_check_is_refused(void **state) {
        Peer peer = PEER_NULL;
        HelperRequest r = enroll_req();
        Fake f = { .answer = AUTH_ALLOWED, .mutate = &r };
        Authorizer a = { .check = fake_check, .userdata = &f };
        ErrorInfo e = {};

        assert_int_equal(helper_authorize(&a, &peer, &r, &e), -ESTALE);
        /* polkit was asked about the original target, not the mutated one */
        assert_string_equal(f.details[3], "container-db");
}

static void test_proc_stat(void **state) {
        uint64_t v;

        assert_int_equal(proc_stat_parse_start_time(
                "1 (a) b) (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20 21", &v), 0);
        assert_int_equal(v, 4242);
        assert_int_equal(proc_stat_parse_start_time("1 (x) S 1 2", &v), -EBADMSG);
        assert_int_equal(proc_stat_parse_start_time("no paren", &v), -EBADMSG);
        assert_int_equal(proc_stat_parse_start_time(
                "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 20", &v), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_op_has_distinct_action_in_policy),
                cmocka_unit_test(test_answers),
                cmocka_unit_test(test_no_authorizer_denies),
                cmocka_unit_test(test_details_equal_validated_args),
                cmocka_unit_test(test_mutation_during_check_is_refused),
                cmocka_unit_test(test_proc_stat),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
