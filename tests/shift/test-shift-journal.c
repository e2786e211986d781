/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shift journal format: round trip, escaping, and the torn-tail rule (a record cut short by a
 * crash is ignored; damage followed by a good record is corruption); version 1 journals (no content
 * digest) still read. The content digest (SHA-256) and which records need one. Also the
 * request-path check and the allowed-roots match. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "macro.h"
#include "shift-journal.h"
#include "shift-roots.h"
#include "shift-sha256.h"

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
        assert_int_equal(shift_record_format(&b, &r, SHIFT_JOURNAL_VERSION), 0);
        if (ret_after_first)
                *ret_after_first = b.len;
        assert_int_equal(shift_skip_format(&b, "hardlinked (2 links)", "a/hl"), 0);
        record_fill(&r, 13, "dir/\xff name\twith%stuff");
        r.has_digest = true;
        for (size_t i = 0; i < SHIFT_SHA256_SIZE; i++)
                r.digest[i] = (uint8_t) (0xf0 ^ i);
        assert_int_equal(shift_record_format(&b, &r, SHIFT_JOURNAL_VERSION), 0);
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
        assert_int_equal(j.header.version, SHIFT_JOURNAL_VERSION);
        assert_false(j.records[0].has_digest);
        assert_true(j.records[1].has_digest);
        for (size_t i = 0; i < SHIFT_SHA256_SIZE; i++)
                assert_int_equal(j.records[1].digest[i], 0xf0 ^ i);
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
                "unroot-shift-journal 3 a 1:2:3 1:2:3 /x",
                "unroot-shift-journal 0 a 1:2:3 1:2:3 /x",
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

static void append_line(ShiftBuf *b, const char *content) {
        char line[1024];
        int n = snprintf(line, sizeof line, "%s *%08x\n", content, shift_crc32(content, strlen(content)));
        size_t at = b->len;

        assert_true(n > 0 && (size_t) n < sizeof line);
        b->data = realloc(b->data, b->len + (size_t) n + 1);
        assert_non_null(b->data);
        memcpy(b->data + at, line, (size_t) n + 1);
        b->len += (size_t) n;
}

/* A journal written before the digest (version 1: 16 fields per record) still reads, so an
 * interrupted shift can be resumed or rolled back after an upgrade; each version's records have
 * exactly their own number of fields; records appended to a version 1 journal stay version 1. */
static void test_version1(void **state) {
        static const char *c16 = "C 1 2 0 0 4755 990 991 755 suid - - - - - -";
        static const char *c17 = "C 1 2 0 0 4755 990 991 755 suid - - - - - - -";
        ShiftBuf b = {};
        ShiftRecord r;
        size_t line = 0;

        append_line(&b, "unroot-shift-journal 1 a 1:2:3 1:2:3 /x");
        append_line(&b, c16);
        record_fill(&r, 13, "f");
        r.has_digest = true;
        assert_int_equal(shift_record_format(&b, &r, 1), 0);
        {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                assert_int_equal(shift_journal_parse(b.data, b.len, &j, &line), 0);
                assert_int_equal(j.header.version, 1);
                assert_int_equal(j.n_records, 2);
                assert_false(j.records[0].has_digest);
                assert_false(j.records[1].has_digest); /* version 1 has no field for it */
                assert_int_equal(j.records[0].old_mode, 04755);
        }
        append_line(&b, c17);
        {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                assert_int_equal(shift_journal_parse(b.data, b.len, &j, &line), 0);
                assert_true(j.torn); /* a 17-field record in a version 1 journal is not a record */
                assert_int_equal(j.n_records, 2);
        }
        shift_buf_done(&b);

        append_line(&b, "unroot-shift-journal 2 a 1:2:3 1:2:3 /x");
        append_line(&b, c16);
        {
                _cleanup_(shift_journal_done) ShiftJournal j = {};
                assert_int_equal(shift_journal_parse(b.data, b.len, &j, &line), 0);
                assert_true(j.torn);
                assert_int_equal(j.n_records, 0);
        }
        shift_buf_done(&b);
        append_line(&b, "unroot-shift-journal 2 a 1:2:3 1:2:3 /x");
        for (size_t i = 0; i < 3; i++) {
                static const char *bad[] = {
                        "C 1 2 0 0 4755 990 991 755 suid - - - - - - 0123",   /* too short */
                        "C 1 2 0 0 4755 990 991 755 suid - - - - - - x0123",  /* not hex */
                        "C 1 2 0 0 4755 990 991 755 suid - - - - - - "
                        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", /* upper case */
                };
                ShiftBuf one = {};
                _cleanup_(shift_journal_done) ShiftJournal j = {};

                append_line(&one, "unroot-shift-journal 2 a 1:2:3 1:2:3 /x");
                append_line(&one, bad[i]);
                assert_int_equal(shift_journal_parse(one.data, one.len, &j, &line), 0);
                assert_true(j.torn);
                assert_int_equal(j.n_records, 0);
                shift_buf_done(&one);
        }
        shift_buf_done(&b);
}

static void test_privileged(void **state) {
        ShiftRecord r = { .old_mode = 0755 };

        assert_false(shift_record_privileged(&r, S_IFREG));
        r.old_mode = 04755;
        assert_true(shift_record_privileged(&r, S_IFREG));
        assert_false(shift_record_privileged(&r, S_IFDIR));
        assert_false(shift_record_privileged(&r, S_IFLNK));
        r.old_mode = 02755;
        assert_true(shift_record_privileged(&r, S_IFREG));
        r.old_mode = 02745; /* setgid without group execute: a locking mark, not a privilege */
        assert_false(shift_record_privileged(&r, S_IFREG));
        r.old_mode = 0755;
        r.old_x[SHIFT_XATTR_CAP].present = true;
        assert_true(shift_record_privileged(&r, S_IFREG));
        r.old_x[SHIFT_XATTR_CAP].present = false;
        r.new_x[SHIFT_XATTR_CAP].present = true; /* only what it had before the shift counts */
        assert_false(shift_record_privileged(&r, S_IFREG));
}

static void hex(const uint8_t d[static SHIFT_SHA256_SIZE], char out[static 2 * SHIFT_SHA256_SIZE + 1]) {
        for (size_t i = 0; i < SHIFT_SHA256_SIZE; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-4 examples, the million 'a's, and the padding boundaries (55, 56, 63, 64, 65, 119, 120
 * bytes; reference values from Python's hashlib), each fed whole and in 1- to 7-byte pieces. */
static void test_sha256(void **state) {
        static const struct { size_t n; const char *want; } sizes[] = {
                { 55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b" },
                { 56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27" },
                { 63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055" },
                { 64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241" },
                { 65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e" },
                { 119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e" },
                { 120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5" },
        };
        static const struct { const char *in; const char *want; } texts[] = {
                { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
                { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
                { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        };
        uint8_t data[120], d[SHIFT_SHA256_SIZE];
        char got[2 * SHIFT_SHA256_SIZE + 1];
        ShiftSha256 h;

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) ((i * 7 + 3) & 255);
        for (size_t t = 0; t < ELEMENTSOF(texts); t++) {
                shift_sha256_init(&h);
                shift_sha256_update(&h, texts[t].in, strlen(texts[t].in));
                shift_sha256_final(&h, d);
                hex(d, got);
                assert_string_equal(got, texts[t].want);
        }
        for (size_t t = 0; t < ELEMENTSOF(sizes); t++)
                for (size_t piece = 0; piece <= 7; piece++) {
                        shift_sha256_init(&h);
                        for (size_t at = 0; at < sizes[t].n;) {
                                size_t n = piece == 0 ? sizes[t].n : MIN(piece, sizes[t].n - at);
                                shift_sha256_update(&h, data + at, n);
                                at += n;
                        }
                        shift_sha256_final(&h, d);
                        hex(d, got);
                        assert_string_equal(got, sizes[t].want);
                }
        char *a = malloc(1000000);
        assert_non_null(a);
        memset(a, 'a', 1000000);
        shift_sha256_init(&h);
        for (size_t at = 0; at < 1000000; at += 1000)
                shift_sha256_update(&h, a + at, 1000);
        shift_sha256_final(&h, d);
        hex(d, got);
        assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
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
                cmocka_unit_test(test_version1),
                cmocka_unit_test(test_privileged),
                cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_path_check),
                cmocka_unit_test(test_roots_find),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
