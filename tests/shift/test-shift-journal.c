/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shift journal format: round trip, escaping, and the torn-tail rule (a record cut short by a
 * crash is ignored; damage followed by a good record is corruption). Also the request-path check
 * and the allowed-roots match. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "macro.h"
#include "shift-journal.h"
#include "shift-roots.h"

static const ShiftHeader header = {
        .account = "container-db",
        .map = { .uid = { 990, 100000, 65536 }, .gid = { 991, 100000, 65536 } },
        .path = (char *) "/srv/unroot/pg data\n%x",
};

static void record_fill(ShiftRecord *r, uint64_t ino, const char *path) {
        static uint8_t acl[] = { 2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff };
        static uint8_t cap[] = { 0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

        *r = (ShiftRecord) {
                .dev = 65024, .ino = ino,
                .old_uid = 999, .old_gid = 999, .old_mode = 04755,
                .new_uid = 100998, .new_gid = 100998, .new_mode = 0755,
                .path = (char *) path,
        };
        r->old_x[SHIFT_XATTR_ACL] = (ShiftBlob) { true, sizeof acl, acl };
        r->new_x[SHIFT_XATTR_ACL] = (ShiftBlob) { true, sizeof acl, acl };
        r->old_x[SHIFT_XATTR_CAP] = (ShiftBlob) { true, sizeof cap, cap };
}

static char *build(size_t *ret_len, size_t *ret_after_first) {
        ShiftBuf b = {};
        ShiftRecord r;

        assert_int_equal(shift_header_format(&b, &header), 0);
        record_fill(&r, 12, ".");
        assert_int_equal(shift_record_format(&b, &r), 0);
        if (ret_after_first)
                *ret_after_first = b.len;
        assert_int_equal(shift_skip_format(&b, "hardlinked (2 links)", "a/hl"), 0);
        record_fill(&r, 13, "dir/\xff name\twith%stuff");
        assert_int_equal(shift_record_format(&b, &r), 0);
        assert_int_equal(shift_done_format(&b), 0);
        *ret_len = b.len;
        return b.data;
}

/* The journal's line sums are the standard CRC-32 (zlib's), whatever the length and alignment: a
 * journal written by an earlier build must still read. Reference values from zlib.crc32. */
static void test_crc32(void **state) {
        static const char text[] = "hello world, this is a longer line 0123";
        uint32_t bytewise = 0xFFFFFFFFU;

        assert_int_equal(shift_crc32("123456789", 9), 0xCBF43926U);
        assert_int_equal(shift_crc32(text, strlen(text)), 0x69FF36C6U);
        assert_int_equal(shift_crc32("", 0), 0);
        /* Every length and start offset against the plain bitwise definition. */
        for (size_t off = 0; off < 8; off++)
                for (size_t len = 0; off + len <= strlen(text); len++) {
                        bytewise = 0xFFFFFFFFU;
                        for (size_t i = 0; i < len; i++) {
                                bytewise ^= (uint8_t) text[off + i];
                                for (int j = 0; j < 8; j++)
                                        bytewise = bytewise & 1 ? 0xEDB88320U ^ (bytewise >> 1) : bytewise >> 1;
                        }
                        assert_int_equal(shift_crc32(text + off, len), bytewise ^ 0xFFFFFFFFU);
                }
}

static void test_round_trip(void **state) {
        _cleanup_free_ char *data = NULL;
        _cleanup_(shift_journal_done) ShiftJournal j = {};
        size_t len, line = 0;

        data = build(&len, NULL);
        assert_int_equal(shift_journal_parse(data, len, &j, &line), 0);
        assert_string_equal(j.header.account, "container-db");
        assert_string_equal(j.header.path, header.path);
        assert_memory_equal(&j.header.map, &header.map, sizeof header.map);
        assert_int_equal(j.n_records, 2);
        assert_int_equal(j.n_skips, 1);
        assert_true(j.done);
        assert_false(j.torn);
        assert_int_equal(j.valid_len, len);
        assert_string_equal(j.records[0].path, ".");
        assert_string_equal(j.records[1].path, "dir/\xff name\twith%stuff");
        assert_int_equal(j.records[1].ino, 13);
        assert_int_equal(j.records[1].old_mode, 04755);
        assert_int_equal(j.records[1].new_uid, 100998);
        assert_true(j.records[1].old_x[SHIFT_XATTR_CAP].present);
        assert_int_equal(j.records[1].old_x[SHIFT_XATTR_CAP].len, 20);
        assert_false(j.records[1].new_x[SHIFT_XATTR_CAP].present);
        assert_false(j.records[1].old_x[SHIFT_XATTR_DEFAULT_ACL].present);
        assert_int_equal(j.records[1].new_x[SHIFT_XATTR_ACL].data[8], 0xff);
        /* one line per record, whatever the path holds */
        size_t lines = 0;
        for (size_t i = 0; i < len; i++)
                lines += data[i] == '\n';
        assert_int_equal(lines, 5);
}

/* Every prefix of a journal is either what was written up to a record boundary, or that plus a torn
 * tail: never an error, never a record that was not whole. */
static void test_every_truncation(void **state) {
        _cleanup_free_ char *data = NULL;
        size_t len, first_line_end;

        data = build(&len, NULL);
        first_line_end = (size_t) ((char *) memchr(data, '\n', len) - data) + 1;
        for (size_t cut = 0; cut < len; cut++) {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                size_t line = 0;
                int r = shift_journal_parse(data, cut, &j, &line);

                if (cut < first_line_end) {
                        assert_int_equal(r, -EBADMSG); /* no header: nothing can be trusted */
                        continue;
                }
                assert_int_equal(r, 0);
                assert_true(j.valid_len <= cut);
                assert_true(data[j.valid_len - 1] == '\n');
                assert_int_equal(j.torn, j.valid_len != cut);
                assert_false(j.done);
        }
}

static void test_torn_tail_garbage(void **state) {
        _cleanup_free_ char *data = NULL;
        size_t len, after_first;

        data = build(&len, &after_first);
        /* A crash can leave zeros or a half-written line at the end: torn, ignored. */
        {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                char *d = malloc(after_first + 40);
                memcpy(d, data, after_first);
                memset(d + after_first, 0, 40);
                assert_int_equal(shift_journal_parse(d, after_first + 40, &j, NULL), 0);
                assert_true(j.torn);
                assert_int_equal(j.valid_len, after_first);
                assert_int_equal(j.n_records, 1);
                free(d);
        }
        /* A flipped byte in the last line, with its newline: the CRC catches it, still a tail. */
        {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                data[len - 4] ^= 1;
                assert_int_equal(shift_journal_parse(data, len, &j, NULL), 0);
                assert_true(j.torn);
                assert_false(j.done);
                assert_int_equal(j.n_records, 2);
                data[len - 4] ^= 1;
        }
}

static void test_corruption_in_the_middle(void **state) {
        _cleanup_free_ char *data = NULL;
        _cleanup_(shift_journal_done) ShiftJournal j = {};
        size_t len, after_first, line = 0;

        data = build(&len, &after_first);
        data[after_first - 20] ^= 0x10; /* inside the first record; good lines follow */
        assert_int_equal(shift_journal_parse(data, len, &j, &line), -EBADMSG);
        assert_int_equal(line, 2);
}

static void test_nothing_after_done(void **state) {
        _cleanup_free_ char *data = NULL;
        _cleanup_(shift_journal_done) ShiftJournal j = {};
        ShiftBuf b = {};
        size_t len;

        data = build(&len, NULL);
        b.data = data;
        b.len = b.alloc = len;
        data = NULL;
        assert_int_equal(shift_skip_format(&b, "late", "x"), 0);
        /* a record after D is damage (the last line, so "torn"), and D is not taken back */
        assert_int_equal(shift_journal_parse(b.data, b.len, &j, NULL), 0);
        assert_true(j.torn);
        shift_buf_done(&b);
}

static void test_escape(void **state) {
        ShiftBuf b = {};
        _cleanup_free_ char *back = NULL;

        assert_int_equal(shift_path_escape(&b, "a b\n%\x7f\xc3\xa9/x"), 0);
        assert_string_equal(b.data, "a%20b%0a%25%7f%c3%a9/x");
        back = shift_path_unescape(b.data, b.len);
        assert_string_equal(back, "a b\n%\x7f\xc3\xa9/x");
        assert_null(shift_path_unescape("a%00b", 5)); /* no embedded NUL */
        assert_null(shift_path_unescape("a%2", 3));
        assert_null(shift_path_unescape("a b", 3));
        assert_null(shift_path_unescape("", 0));
        shift_buf_done(&b);
}

static void test_header_mismatch_fields(void **state) {
        static const char *bad[] = {
                "unroot-shift-journal 2 a 1:2:3 1:2:3 /x",
                "unroot-shift-journal 1 a 1:2 1:2:3 /x",
                "unroot-shift-journal 1 a 1:2:3 1:2:3",
                "something-else 1 a 1:2:3 1:2:3 /x",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char line[256];
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                size_t line_no = 0;
                int n = snprintf(line, sizeof line, "%s *%08x\n", bad[i], shift_crc32(bad[i], strlen(bad[i])));
                assert_int_equal(shift_journal_parse(line, (size_t) n, &j, &line_no), -EBADMSG);
                assert_int_equal(line_no, 1);
        }
}

static void test_path_check(void **state) {
        static const char *ok[] = { "/srv/unroot/a", "/var/lib/containers/storage/volumes/pg/_data", "/a/.b/..c" };
        static const char *bad[] = { "", "relative", "/", "/srv//x", "/srv/./x", "/srv/../etc", "/srv/x/", "/srv/x/..",
                                     "/srv/\nx" };
        ErrorInfo e = {};

        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                assert_int_equal(shift_path_check(ok[i], strlen(ok[i]), "path", &e), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                e = (ErrorInfo) {};
                assert_int_equal(shift_path_check(bad[i], strlen(bad[i]), "path", &e), -EINVAL);
                assert_string_equal(e.field, "path");
                assert_non_null(strstr(e.message, "path"));
        }
        assert_int_equal(shift_path_check("/srv/a\0b", 8, "path", &e), -EINVAL);
        char *big = malloc(5000);
        memset(big, 'a', 5000);
        big[0] = '/';
        assert_int_equal(shift_path_check(big, 5000, "path", &e), -EINVAL);
        free(big);
}

static void test_roots_find(void **state) {
        char *roots[] = { (char *) "/srv/unroot", (char *) "/var/lib/containers/storage/volumes",
                          (char *) "/var/lib/unroot/container-db", NULL };

        assert_string_equal(shift_roots_find(roots, "/srv/unroot/x"), "/srv/unroot");
        assert_string_equal(shift_roots_find(roots, "/var/lib/unroot/container-db/data"), "/var/lib/unroot/container-db");
        assert_null(shift_roots_find(roots, "/srv/unroot"));           /* the root itself: no */
        assert_null(shift_roots_find(roots, "/srv/unroot2/x"));        /* component-wise: no */
        assert_null(shift_roots_find(roots, "/var/lib/unroot/container-dbx/y"));
        assert_null(shift_roots_find(roots, "/etc"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_every_truncation),
                cmocka_unit_test(test_torn_tail_garbage),
                cmocka_unit_test(test_corruption_in_the_middle),
                cmocka_unit_test(test_nothing_after_done),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_header_mismatch_fields),
                cmocka_unit_test(test_path_check),
                cmocka_unit_test(test_roots_find),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
