/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The subordinate id allocator, login.defs and nsswitch.conf checks, and a property test over
 * random existing files. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enroll-plan.h"
#include "login-defs.h"
#include "subid.h"

static SubidRequest debian(uint32_t count) {
        return (SubidRequest) { .win_min = 100000, .win_max = 600100000, .id_max = 60000, .own_id = 998, .count = count };
}

static void expect_alloc(const SubidRange *used, size_t n, SubidRequest req, uint32_t want_start, SubidPlacement want_p) {
        SubidRange got;
        SubidPlacement p;
        int r = subid_find_free(used, n, &req, &got, &p);

        if (r < 0)
                fail_msg("allocation failed: %d, want start %u", r, want_start);
        assert_int_equal(got.start, want_start);
        assert_int_equal(got.count, req.count);
        assert_int_equal(p, want_p);
}

static void expect_enospc(const SubidRange *used, size_t n, SubidRequest req) {
        SubidRange got = {};
        int r = subid_find_free(used, n, &req, &got, NULL);
        if (r != -ENOSPC)
                fail_msg("expected ENOSPC, got %d (start %u)", r, got.start);
}

static void test_basic(void **state) {
        expect_alloc(NULL, 0, debian(65536), 100000, SUBID_PLACED_BELOW_CONTAINER);
        expect_alloc((SubidRange[]) { { 100000, 65536 } }, 1, debian(65536), 165536, SUBID_PLACED_BELOW_CONTAINER);
        /* A gap of one id is not enough; unsorted and overlapping input is fine. */
        expect_alloc((SubidRange[]) { { 165537, 65536 }, { 100000, 65536 }, { 100000, 10 } }, 3, debian(65536),
                     231073, SUBID_PLACED_BELOW_CONTAINER);
        /* Hole in front of a range is used (first fit, lowest address). */
        expect_alloc((SubidRange[]) { { 300000, 65536 } }, 1, debian(65536), 100000, SUBID_PLACED_BELOW_CONTAINER);
        expect_alloc((SubidRange[]) { { 150000, 65536 } }, 1, debian(65536), 215536, SUBID_PLACED_BELOW_CONTAINER);
        /* Empty ranges block nothing. */
        expect_alloc((SubidRange[]) { { 100000, 0 } }, 1, debian(65536), 100000, SUBID_PLACED_BELOW_CONTAINER);
        /* Bad requests. */
        SubidRequest bad = debian(0);
        SubidRange got;
        assert_int_equal(subid_find_free(NULL, 0, &bad, &got, NULL), -EINVAL);
}

static void test_window_edges(void **state) {
        SubidRequest req = debian(65536);

        /* Exactly count left: fits. count - 1 left: refused. */
        req.win_max = 165535;
        expect_alloc(NULL, 0, req, 100000, SUBID_PLACED_BELOW_CONTAINER);
        req.win_max = 165534;
        expect_enospc(NULL, 0, req);
        req.win_max = 231071;
        expect_alloc((SubidRange[]) { { 100000, 65536 } }, 1, req, 165536, SUBID_PLACED_BELOW_CONTAINER);
        req.win_max = 231070;
        expect_enospc((SubidRange[]) { { 100000, 65536 } }, 1, req);
        /* Window below UID_MAX: [0, id_max] is never handed out. */
        req = debian(100);
        req.win_min = 1000;
        req.win_max = 60613;
        expect_alloc(NULL, 0, req, 60001 + 513, SUBID_PLACED_BELOW_CONTAINER); /* after homed's range */
        req.win_max = 60612;
        expect_enospc(NULL, 0, req);
        /* systemd's reserved 61184-65519 and 65534-65535. */
        req = debian(4000);
        req.win_min = 60514;
        req.id_max = 1000;
        expect_alloc(NULL, 0, req, 65536, SUBID_PLACED_BELOW_CONTAINER);
        /* The account's own uid is never inside. */
        req = (SubidRequest) { .win_min = 900, .win_max = 1000000, .id_max = 0, .own_id = 1000, .count = 65536 };
        expect_alloc(NULL, 0, req, 65536, SUBID_PLACED_BELOW_CONTAINER);
        req.count = 50;
        expect_alloc(NULL, 0, req, 900, SUBID_PLACED_BELOW_CONTAINER);
        req.count = 100; /* [900, 1000) ends just before the uid */
        expect_alloc(NULL, 0, req, 900, SUBID_PLACED_BELOW_CONTAINER);
        req.count = 101;
        expect_alloc(NULL, 0, req, 1001, SUBID_PLACED_BELOW_CONTAINER);
}

static void test_ceiling(void **state) {
        /* Ranges end at or below 2^31, even with SUB_UID_MAX at 2^32-1. */
        SubidRequest req = { .win_min = 2147418112, .win_max = UINT32_MAX, .id_max = 60000, .count = 65536 };
        expect_alloc(NULL, 0, req, 2147418112, SUBID_PLACED_ABOVE_CONTAINER);
        req.win_min = 2147418113;
        expect_enospc(NULL, 0, req);
        /* start = 4294901760, count 65536 (ends exactly at 2^32) is never produced. */
        req = (SubidRequest) { .win_min = 4294901760U, .win_max = UINT32_MAX, .id_max = 60000, .count = 65536 };
        expect_enospc(NULL, 0, req);
        req = (SubidRequest) { .win_min = UINT32_MAX, .win_max = UINT32_MAX, .id_max = 60000, .count = 1 };
        expect_enospc(NULL, 0, req);
}

static void test_container_range(void **state) {
        SubidRange below_full[] = { { 100000, 524288 - 100000 - 65535 } }; /* leaves 65535 below */
        SubidRequest req = debian(65536);

        /* Debian's window ends inside the container range: overlap it, and say so. */
        expect_alloc(below_full, 1, req, 524288 - 65535, SUBID_PLACED_IN_CONTAINER); /* first fit */
        req.strict_container = true;
        expect_enospc(below_full, 1, req);
        /* A hint inside the container range is not granted under strict_container (it was). */
        req.has_hint = true;
        req.hint = 600000;
        expect_enospc(below_full, 1, req);
        req.strict_container = false;
        expect_alloc(below_full, 1, req, 600000, SUBID_PLACED_HINT);
        /* A hint straddling its start is inside too. */
        req.strict_container = true;
        req.hint = 524288 - 100;
        expect_enospc(below_full, 1, req);
        /* A window reaching above it: jump over it. */
        req = debian(65536);
        req.win_max = 2000000000;
        expect_alloc(below_full, 1, req, 1879048192, SUBID_PLACED_ABOVE_CONTAINER);
        /* Room below is used first, even when the window goes higher. */
        expect_alloc(NULL, 0, req, 100000, SUBID_PLACED_BELOW_CONTAINER);
        /* Exactly count left below the container range. */
        SubidRange exact[] = { { 100000, 524288 - 100000 - 65536 } };
        expect_alloc(exact, 1, req, 524288 - 65536, SUBID_PLACED_BELOW_CONTAINER);
        /* A window entirely inside the container range. */
        req = debian(65536);
        req.win_min = 600000;
        req.win_max = 900000;
        expect_alloc(NULL, 0, req, 600000, SUBID_PLACED_IN_CONTAINER);
}

static void test_hint(void **state) {
        SubidRange used[] = { { 100000, 65536 } };
        SubidRequest req = debian(65536);

        req.has_hint = true;
        req.hint = 300000;
        expect_alloc(used, 1, req, 300000, SUBID_PLACED_HINT);
        req.hint = 130000; /* overlaps: ignored */
        expect_alloc(used, 1, req, 165536, SUBID_PLACED_BELOW_CONTAINER);
        req.hint = 600100000 - 65534; /* pokes out of the window: ignored */
        expect_alloc(used, 1, req, 165536, SUBID_PLACED_BELOW_CONTAINER);
}

static void test_file_check(void **state) {
        static const char *const bad[] = {
                "a:100000:65536\nb:4294967290:65536\n",          /* beyond 2^32 */
                "a:100000:18446744073709551615\n",               /* 2^64-1, shadow's overlap bug */
                "a:10000000000:1\n",                             /* 11 digits */
                "x\na:1:2:3\n",
                "a:100000:65536\r\n",
        };
        static const unsigned bad_line[] = { 2, 1, 1, 1, 1 };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                EtcFile f;
                ErrorInfo e = {};
                char field[64];

                assert_int_equal(etc_file_parse(ETC_SUBUID, bad[i], strlen(bad[i]), &f), 0);
                assert_int_equal(subid_file_check(&f, &e), -EBADMSG);
                (void) snprintf(field, sizeof field, "/etc/subuid:%u", bad_line[i]);
                assert_string_equal(e.field, field);
                assert_non_null(strstr(e.message, "refusing to allocate"));
                etc_file_done(&f);
        }
        EtcFile f;
        const char *ok = "# comment\n\nalice:100000:65536\n1001:165536:65536\nalice:300000:10\n";
        assert_int_equal(etc_file_parse(ETC_SUBUID, ok, strlen(ok), &f), 0);
        assert_int_equal(subid_file_check(&f, NULL), 0);
        SubidRange first;
        assert_int_equal(subid_owner_total(&f, "alice", 5, &first), 65546);
        assert_int_equal(first.start, 100000);
        assert_int_equal(subid_owner_total(&f, "bob", 1001, &first), 65536); /* by numeric uid */
        assert_int_equal(first.start, 165536);
        assert_int_equal(subid_owner_total(&f, "carol", 1002, &first), 0);
        etc_file_done(&f);
}

static void test_login_defs(void **state) {
        static const struct {
                const char *text;
                const char *field; /* NULL: valid */
        } cases[] = {
                { "", NULL },
                { "# SUB_UID_MIN 5\nSUB_UID_MIN\t200000\nSUB_UID_COUNT \"65536\"\n", NULL },
                { "SUB_UID_MIN 200000\nSUB_UID_MAX 100000\n", "/etc/login.defs:SUB_UID_MIN" },
                { "SUB_UID_COUNT 0\n", "/etc/login.defs:SUB_UID_COUNT" },
                { "SUB_GID_COUNT 0\n", "/etc/login.defs:SUB_GID_COUNT" },
                { "SUB_UID_MIN 10\nSUB_UID_MAX 1000\nSUB_UID_COUNT 1000\n", "/etc/login.defs:SUB_UID_COUNT" },
                { "SUB_UID_MIN 100000\nSUB_UID_MAX 150000\n", "/etc/login.defs:SUB_UID_COUNT" },
                { "SUB_UID_MIN 0x100\n", "/etc/login.defs:SUB_UID_MIN" },
                { "SUB_UID_MIN -1\n", "/etc/login.defs:SUB_UID_MIN" },
                { "SUB_UID_MAX 4294967296\n", "/etc/login.defs:SUB_UID_MAX" },
                { "SYS_UID_MIN 900\nSYS_UID_MAX 800\n", "/etc/login.defs:SYS_UID_MIN" },
                { "SYS_GID_MIN 0\n", "/etc/login.defs:SYS_GID_MIN" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                LoginDefs d;
                ErrorInfo e = {};
                int r = login_defs_parse(cases[i].text, strlen(cases[i].text), &d, &e);

                if (!cases[i].field) {
                        if (r < 0)
                                fail_msg("case %zu: %s", i, e.message);
                        continue;
                }
                if (r != -EINVAL)
                        fail_msg("case %zu ('%s'): got %d, want -EINVAL", i, cases[i].text, r);
                assert_string_equal(e.field, cases[i].field);
        }

        LoginDefs d;
        const char *t = "UID_MIN 500\nSUB_UID_MIN 200000\nSUB_UID_MIN 300000\n";
        assert_int_equal(login_defs_parse(t, strlen(t), &d, NULL), 0);
        assert_int_equal(d.sys_uid_max, 499); /* UID_MIN - 1, as find_new_uid() */
        assert_int_equal(d.sys_gid_max, 999);
        assert_int_equal(d.sub_uid_min, 300000); /* last one wins */
        assert_int_equal(d.sub_uid_max, 600100000);
        assert_int_equal(d.sub_gid_count, 65536);
}

static void test_nsswitch(void **state) {
        static const struct {
                const char *text;
                int r;
        } cases[] = {
                { "", 0 },
                { "passwd: files systemd\ngroup: files sss\n", 0 },
                { "subid: files\n", 0 },
                { "subid:files # comment sss\n", 0 },
                { "#subid: sss\n", 0 },
                { "passwd: files\nsubid: sss\n", -EOPNOTSUPP },
                { "subid:\tfiles sss\n", -EOPNOTSUPP },
                { "  subid: ldap", -EOPNOTSUPP },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                ErrorInfo e = {};
                int r = nsswitch_check_subid(cases[i].text, strlen(cases[i].text), &e);
                if (r != cases[i].r)
                        fail_msg("case %zu ('%s'): got %d, want %d", i, cases[i].text, r, cases[i].r);
        }
        ErrorInfo e = {};
        assert_int_equal(nsswitch_check_subid("passwd: files\nsubid: sss\n", 25, &e), -EOPNOTSUPP);
        assert_string_equal(e.field, "/etc/nsswitch.conf:2");
        assert_non_null(strstr(e.message, "'sss'"));
}

/* --- property test --- */

static uint64_t rng_state;
static uint64_t rnd(void) {
        /* xorshift64*: deterministic for a given seed. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}
static uint64_t rnd_between(uint64_t lo, uint64_t hi) { /* inclusive */
        return lo + rnd() % (hi - lo + 1);
}

typedef struct Iv {
        uint64_t s, e;
} Iv;

static bool free_in(const Iv *iv, size_t n, uint64_t s, uint64_t e) {
        for (size_t i = 0; i < n; i++)
                if (iv[i].s < e && s < iv[i].e)
                        return false;
        return true;
}

/* Brute-force reference: lowest candidate start (lo, or the end of any occupied interval) in
 * [lo, hi) where count ids are free. */
static bool reference(const Iv *iv, size_t n, uint64_t lo, uint64_t hi, uint64_t count, uint64_t *ret) {
        bool found = false;
        uint64_t best = 0;

        for (size_t i = 0; i <= n; i++) {
                uint64_t c = i == n ? lo : iv[i].e;
                if (c < lo || c + count > hi || !free_in(iv, n, c, c + count))
                        continue;
                if (!found || c < best)
                        best = c, found = true;
        }
        *ret = best;
        return found;
}

static void test_property(void **state) {
        const char *seed_env = getenv("UNROOT_TEST_SEED");
        uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20261128;
        unsigned iterations = 2000, allocated = 0, refused = 0, placements[_SUBID_PLACED_MAX] = {};

        rng_state = seed ? seed : 1;
        for (unsigned it = 0; it < iterations; it++) {
                char *text = NULL;
                size_t tlen = 0;
                FILE *m = open_memstream(&text, &tlen);
                unsigned mode = (unsigned) (rnd() % 4), n_lines = (unsigned) rnd_between(0, 60);
                SubidRequest req = { .id_max = (uint32_t) rnd_between(0, 70000), .own_id = (uint32_t) rnd_between(0, 2000000) };

                switch (mode) {
                case 0: /* Debian window, dense ranges */
                        req.win_min = 100000;
                        req.win_max = 600100000;
                        break;
                case 1: /* window reaching past the container range and the 2^31 ceiling */
                        req.win_min = (uint32_t) rnd_between(0, 1000000);
                        req.win_max = (uint32_t) rnd_between(1879048192, UINT32_MAX);
                        break;
                case 2: /* small window, nearly full */
                        req.win_min = (uint32_t) rnd_between(60000, 600000);
                        req.win_max = req.win_min + (uint32_t) rnd_between(0, 400000);
                        break;
                default: /* anywhere */
                        req.win_min = (uint32_t) rnd_between(0, UINT32_MAX);
                        req.win_max = (uint32_t) rnd_between(req.win_min, UINT32_MAX);
                        break;
                }
                req.count = (uint32_t) (rnd() % 3 == 0 ? rnd_between(1, 1 << 20) : 65536);
                req.strict_container = rnd() % 5 == 0;
                if (rnd() % 4 == 0) {
                        req.has_hint = true;
                        req.hint = (uint32_t) rnd_between(req.win_min, req.win_max);
                }

                for (unsigned i = 0; i < n_lines; i++) {
                        uint64_t s, c;
                        switch (rnd() % 6) {
                        case 0:
                                fprintf(m, "# comment %u\n", i);
                                continue;
                        case 1: /* near the window, aligned-ish */
                                s = rnd_between(req.win_min, MIN((uint64_t) req.win_max, req.win_min + 2000000ULL));
                                c = rnd() % 2 ? 65536 : rnd_between(0, 200000);
                                break;
                        case 2: /* anywhere, huge */
                                s = rnd_between(0, UINT32_MAX);
                                c = rnd_between(0, UINT32_MAX);
                                break;
                        default:
                                s = rnd_between(req.win_min, req.win_max);
                                c = rnd_between(0, 1 << 21);
                                break;
                        }
                        if (s + c > (UINT64_C(1) << 32))
                                c = (UINT64_C(1) << 32) - s;
                        fprintf(m, "user%u:%" PRIu64 ":%" PRIu64 "\n", i, s, c);
                }
                fclose(m);

                EtcFile f;
                SubidRange *used, got;
                SubidPlacement p;
                size_t n;
                assert_int_equal(etc_file_parse(ETC_SUBUID, text, tlen, &f), 0);
                assert_int_equal(subid_file_check(&f, NULL), 0);
                assert_int_equal(subid_collect(&f, &used, &n), 0);
                int r = subid_find_free(used, n, &req, &got, &p);

                /* The occupied set, built independently of the allocator. */
                Iv *iv = calloc(n + 5, sizeof(Iv));
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                        iv[k++] = (Iv) { used[i].start, (uint64_t) used[i].start + used[i].count };
                iv[k++] = (Iv) { 0, (uint64_t) req.id_max + 1 };
                iv[k++] = (Iv) { 60001, 60514 };
                iv[k++] = (Iv) { 61184, 65520 };
                iv[k++] = (Iv) { 65534, 65536 };
                iv[k++] = (Iv) { req.own_id, (uint64_t) req.own_id + 1 };
                uint64_t lo = req.win_min, hi = MIN((uint64_t) req.win_max + 1, UINT64_C(1) << 31), want;
                const uint64_t CS = 524288, CE = 1879048192;

                if (r == 0) {
                        uint64_t s = got.start, e = s + got.count;
                        allocated++;
                        placements[p]++;
                        if (got.count != req.count || s < lo || e > hi || e > (UINT64_C(1) << 31))
                                fail_msg("seed %" PRIu64 " it %u: %u+%u outside window %u..%u", seed, it, got.start,
                                         got.count, req.win_min, req.win_max);
                        for (size_t i = 0; i < k; i++)
                                if (iv[i].s < e && s < iv[i].e)
                                        fail_msg("seed %" PRIu64 " it %u: %u+%u overlaps occupied [%" PRIu64 ",%" PRIu64 ")",
                                                 seed, it, got.start, got.count, iv[i].s, iv[i].e);
                        /* First fit, in the documented order. */
                        if (p == SUBID_PLACED_HINT) {
                                assert_true(req.has_hint && got.start == req.hint);
                                assert_true(!req.strict_container || e <= CS || s >= CE);
                        }
                        else if (p == SUBID_PLACED_BELOW_CONTAINER) {
                                assert_true(reference(iv, k, lo, MIN(hi, CS), req.count, &want));
                                assert_int_equal(want, s);
                        } else if (p == SUBID_PLACED_ABOVE_CONTAINER) {
                                assert_false(reference(iv, k, lo, MIN(hi, CS), req.count, &want));
                                assert_true(reference(iv, k, MAX(lo, CE), hi, req.count, &want));
                                assert_int_equal(want, s);
                        } else {
                                assert_int_equal(p, SUBID_PLACED_IN_CONTAINER);
                                assert_false(req.strict_container);
                                assert_false(reference(iv, k, lo, MIN(hi, CS), req.count, &want));
                                assert_false(reference(iv, k, MAX(lo, CE), hi, req.count, &want));
                                assert_true(reference(iv, k, lo, hi, req.count, &want));
                                assert_int_equal(want, s);
                                assert_true(s < CE && e > CS);
                        }
                } else {
                        assert_int_equal(r, -ENOSPC);
                        refused++;
                        /* Really no room. */
                        assert_false(reference(iv, k, lo, MIN(hi, CS), req.count, &want));
                        assert_false(reference(iv, k, MAX(lo, CE), hi, req.count, &want));
                        if (!req.strict_container)
                                assert_false(reference(iv, k, lo, hi, req.count, &want));
                }
                free(iv);
                free(used);
                etc_file_done(&f);
                free(text);
        }
        print_message("# property: seed %" PRIu64 ", %u iterations, %u allocated (hint %u, below %u, above %u, "
                      "inside %u), %u refused\n", seed, iterations, allocated, placements[0], placements[1],
                      placements[2], placements[3], refused);
        /* The generator must exercise every outcome, or the test proves little. */
        assert_true(refused > 0);
        for (int i = 0; i < _SUBID_PLACED_MAX; i++)
                assert_true(placements[i] > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic),      cmocka_unit_test(test_window_edges),
                cmocka_unit_test(test_ceiling),    cmocka_unit_test(test_container_range),
                cmocka_unit_test(test_hint),       cmocka_unit_test(test_file_check),
                cmocka_unit_test(test_login_defs), cmocka_unit_test(test_nsswitch),
                cmocka_unit_test(test_property),
        };
        return cmocka_run_group_tests_name("subid", tests, NULL, NULL);
}
