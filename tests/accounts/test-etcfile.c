/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing the six files under a root prefix, against golden files: malformed lines, a
 * CRLF line and a missing final newline survive byte for byte; the writer's atomicity. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "etc-write.h"
#include "etcfile.h"
#include "test-util.h"
#include "util.h"

typedef struct Fixture {
        char *root;
        int etcfd;
        EtcFile files[_ETC_KIND_MAX];
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        f->root = test_root_new();
        test_root_populate(f->root, "etcfile/initial");
        assert_int_equal(open_etc_dir(f->root, &f->etcfd), 0);
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                ErrorInfo e = {};
                assert_int_equal(etc_file_load_at(f->etcfd, k, &f->files[k], &e), 0);
                assert_true(f->files[k].existed);
        }
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        etc_write_set_fault(NULL);
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                etc_file_done(&f->files[k]);
        close(f->etcfd);
        test_root_free(f->root);
        free(f);
        return 0;
}

static void test_roundtrip(void **state) {
        Fixture *f = *state;

        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                size_t olen, slen;
                char *orig = test_read_file(f->root, etc_kind_file(k), &olen), *s;

                assert_int_equal(etc_file_serialize(&f->files[k], &s, &slen), 0);
                assert_int_equal(slen, olen);
                assert_memory_equal(s, orig, olen);
                assert_int_equal(f->files[k].orig_len, olen);
                free(s);
                free(orig);
        }
}

static void expect_types(const EtcFile *file, const LineType *t, size_t n) {
        assert_int_equal(file->n_lines, n);
        for (size_t i = 0; i < n; i++)
                if (file->lines[i].type != t[i])
                        fail_msg("/etc/%s line %zu: type %d, want %d", etc_kind_file(file->kind), i + 1,
                                 file->lines[i].type, t[i]);
}

#define R LINE_RECORD
#define C LINE_COMMENT
#define M LINE_MALFORMED
static void test_classification(void **state) {
        Fixture *f = *state;

        expect_types(&f->files[ETC_PASSWD], (const LineType[]) { R, R, C, C, M, M, M, R, R }, 9);
        expect_types(&f->files[ETC_GROUP], (const LineType[]) { R, R, M, M, R }, 5);
        expect_types(&f->files[ETC_SHADOW], (const LineType[]) { R, R, M }, 3);
        expect_types(&f->files[ETC_GSHADOW], (const LineType[]) { R, R, R }, 3);
        expect_types(&f->files[ETC_SUBUID], (const LineType[]) { C, R, C, R }, 4);
        expect_types(&f->files[ETC_SUBGID], (const LineType[]) { R, M }, 2);

        const EtcFile *pw = &f->files[ETC_PASSWD];
        assert_int_equal(pw->lines[8].id[0], 1000);
        assert_int_equal(pw->lines[8].id[1], 1000);
        assert_int_equal(pw->lines[8].line_no, 9);
        assert_string_equal(pw->lines[8].fields[6], "/bin/bash");
        assert_string_equal(pw->lines[7].fields[6], "/bin/sh\r"); /* CRLF kept inside the record */
        assert_int_equal(etc_file_find_record(pw, "alice"), 8);
        assert_int_equal(etc_file_find_record(pw, "neg"), -1);
        assert_int_equal(etc_file_find_name(pw, "neg"), 6); /* malformed lines still claim their name */
        assert_true(etc_file_id_taken(pw, 1002));
        assert_false(etc_file_id_taken(pw, 5));
        assert_int_equal(etc_file_first_malformed(&f->files[ETC_SUBUID]), -1);
        assert_int_equal(etc_file_first_malformed(&f->files[ETC_SUBGID]), 1);
        assert_int_equal(f->files[ETC_SUBUID].lines[3].id[0], 165536);
        assert_int_equal(f->files[ETC_SUBUID].lines[3].id[1], 65536);
}

static void test_append_write_golden(void **state) {
        Fixture *f = *state;
        static const char *const add[_ETC_KIND_MAX] = {
                [ETC_PASSWD] = "new:x:900:900::/:/usr/sbin/nologin", [ETC_GROUP] = "new:x:900:",
                [ETC_SHADOW] = "new:!*:::::::",                      [ETC_GSHADOW] = "new:!*::",
                [ETC_SUBUID] = "new:231072:65536",                   [ETC_SUBGID] = "new:231072:65536",
        };
        ErrorInfo e = {};
        struct stat st;
        char path[4096];

        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                assert_int_equal(etc_file_append(&f->files[k], add[k]), 0);
        assert_int_equal(etc_write_files(f->etcfd, f->files, &e), 1);
        test_compare_expected(f->root, "etcfile/expected");
        test_assert_no_temp_files(f->root);

        /* Backups hold the old bytes, with the same mode. */
        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++) {
                char bname[32];
                size_t blen, olen;
                xsprintf(bname, "%s-", etc_kind_file(k));
                xsprintf(path, "initial/%s", etc_kind_file(k));
                char *b = test_read_file(f->root, bname, &blen);
                char *o = f->files[k].orig;
                olen = f->files[k].orig_len;
                assert_non_null(b);
                assert_int_equal(blen, olen);
                assert_memory_equal(b, o, olen);
                free(b);
        }
        xsprintf(path, "%s/etc/shadow", f->root);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        xsprintf(path, "%s/etc/shadow-", f->root);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        xsprintf(path, "%s/etc/passwd", f->root);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(st.st_uid, geteuid());
}

static void test_nothing_to_write(void **state) {
        Fixture *f = *state;
        TestSnapshot s;
        ErrorInfo e = {};
        char path[4096];

        test_snapshot(f->root, &s);
        assert_int_equal(etc_write_files(f->etcfd, f->files, &e), 0);
        test_assert_same_snapshot(f->root, &s);
        xsprintf(path, "%s/etc/passwd-", f->root);
        assert_int_equal(access(path, F_OK), -1);
        test_snapshot_done(&s);
}

static void test_replace_delete(void **state) {
        Fixture *f = *state;
        EtcFile *g = &f->files[ETC_GROUP];
        char *s;
        size_t n;

        assert_int_equal(etc_file_replace(g, 4, "alice:x:1000:bob"), 0);
        assert_int_equal(g->lines[4].type, LINE_RECORD);
        etc_file_delete(g, 1);
        assert_int_equal(etc_file_serialize(g, &s, &n), 0);
        assert_string_equal(s, "root:x:0:\nweird line without colons\nhex:x:0x10:\nalice:x:1000:bob\n");
        free(s);

        /* Replacing a line without a final newline keeps it without one. */
        EtcFile *p = &f->files[ETC_PASSWD];
        assert_int_equal(etc_file_replace(p, 8, "alice:x:1000:1000::/home/alice:/bin/zsh"), 0);
        assert_int_equal(etc_file_serialize(p, &s, &n), 0);
        assert_true(n > 0 && s[n - 1] == 'h');
        free(s);
}

static const char *fail_step, *fail_file;
static int fault_once(const char *step, const char *file) {
        if (fail_step && strcmp(step, fail_step) == 0 && strcmp(file, fail_file) == 0)
                return -EIO;
        return 0;
}

static void write_with_fault(Fixture *f, const char *step, const char *file) {
        ErrorInfo e = {};

        for (EtcKind k = 0; k < _ETC_KIND_MAX; k++)
                assert_int_equal(etc_file_append(&f->files[k], "zzz:1:2"), 0);
        fail_step = step;
        fail_file = file;
        etc_write_set_fault(fault_once);
        assert_int_equal(etc_write_files(f->etcfd, f->files, &e), -EIO);
        etc_write_set_fault(NULL);
        assert_string_equal(e.field, file);
        test_assert_no_temp_files(f->root);
}

/* Every failure before the primary renames leaves all six files as they were. */
static void test_fault_before_rename(void **state) {
        static const char *const steps[][2] = {
                { "create", "passwd" }, { "write", "subgid" },   { "fsync", "shadow" },
                { "create", "gshadow-" }, { "fsync", "subuid-" }, { "rename-backup", "shadow-" },
                { "rename", "group" },
        };
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                TestSnapshot s;
                teardown(state);
                setup(state);
                Fixture *f = *state;
                test_snapshot(f->root, &s);
                write_with_fault(f, steps[i][0], steps[i][1]);
                test_assert_same_snapshot(f->root, &s);
                test_snapshot_done(&s);
        }
}

/* A failure in the middle of the primary renames leaves a prefix of the order in place. */
static void test_fault_mid_rename(void **state) {
        Fixture *f = *state;
        char *g, *p;

        write_with_fault(f, "rename", "passwd");
        g = test_read_file(f->root, "group", NULL);
        p = test_read_file(f->root, "passwd", NULL);
        assert_non_null(strstr(g, "zzz:1:2\n"));  /* group and gshadow were replaced */
        assert_null(strstr(p, "zzz"));             /* passwd and later were not */
        free(g);
        free(p);
}

static void test_symlink_refused(void **state) {
        Fixture *f = *state;
        EtcFile x = {};
        ErrorInfo e = {};
        char path[4096];

        xsprintf(path, "%s/etc/passwd", f->root);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(etc_file_load_at(f->etcfd, ETC_PASSWD, &x, &e), -ELOOP);
        assert_string_equal(e.field, "passwd");
        assert_non_null(strstr(e.message, "symlink"));
}

static void test_missing_file(void **state) {
        Fixture *f = *state;
        EtcFile x = {};
        char path[4096];

        xsprintf(path, "%s/etc/subgid", f->root);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(etc_file_load_at(f->etcfd, ETC_SUBGID, &x, NULL), 0);
        assert_false(x.existed);
        assert_int_equal(x.n_lines, 0);
        etc_file_done(&x);
}

static void test_stale_temp_cleanup(void **state) {
        Fixture *f = *state;

        test_write_str(f->root, ".#unroot-passwd.0123456789abcdef", "junk");
        test_write_str(f->root, ".#unroot-subuid-.0123456789abcdef", "junk");
        test_write_str(f->root, ".#something-else", "keep");
        assert_int_equal(etc_write_clean_stale(f->etcfd), 2);
        char *k = test_read_file(f->root, ".#something-else", NULL);
        assert_non_null(k);
        free(k);
        char *gone = test_read_file(f->root, ".#unroot-passwd.0123456789abcdef", NULL);
        assert_null(gone);
}

static void test_parse_edges(void **state) {
        static const struct {
                const char *line;
                LineType t;
        } subid[] = {
                { "a:100000:65536\n", LINE_RECORD },
                { "a:0:0\n", LINE_RECORD },
                { "a:4294901760:65536\n", LINE_RECORD },     /* ends exactly at 2^32 */
                { "a:4294901761:65536\n", LINE_MALFORMED },  /* ends beyond */
                { "a:4294967295:1\n", LINE_RECORD },
                { "a:4294967295:2\n", LINE_MALFORMED },
                { "a:4294967296:1\n", LINE_MALFORMED },      /* > UINT32_MAX */
                { "a:10000000000:1\n", LINE_MALFORMED },     /* 11 digits */
                { "a:100000:18446744073709551615\n", LINE_MALFORMED }, /* 2^64-1 */
                { "a:100000:18446744073709551616\n", LINE_MALFORMED },
                { "a:-1:5\n", LINE_MALFORMED },
                { "a:+5:5\n", LINE_MALFORMED },
                { "a:0x10:5\n", LINE_MALFORMED },
                { "a: 100000:5\n", LINE_MALFORMED },
                { " a:100000:5\n", LINE_RECORD },            /* owner " a" is odd but well-formed */
                { "a:100000:5 \n", LINE_MALFORMED },
                { "a:100000:65536\r\n", LINE_MALFORMED },    /* CRLF */
                { "a:0100000:5\n", LINE_MALFORMED },         /* octal-looking */
                { "a:100000\n", LINE_MALFORMED },
                { "a:1:2:3\n", LINE_MALFORMED },
                { ":1:2\n", LINE_MALFORMED },
                { "a::2\n", LINE_MALFORMED },
                { "# x:1:2\n", LINE_COMMENT },
                { "\n", LINE_COMMENT },
                { "a:1:2", LINE_RECORD },
        };
        for (size_t i = 0; i < sizeof subid / sizeof subid[0]; i++) {
                EtcFile x;
                assert_int_equal(etc_file_parse(ETC_SUBUID, subid[i].line, strlen(subid[i].line), &x), 0);
                assert_int_equal(x.n_lines, 1);
                if (x.lines[0].type != subid[i].t)
                        fail_msg("'%s': type %d, want %d", subid[i].line, x.lines[0].type, subid[i].t);
                etc_file_done(&x);
        }

        /* A 2 KiB line is malformed in subuid, and survives a rewrite byte for byte. */
        char big[2100];
        memset(big, '1', sizeof big);
        memcpy(big, "a:1:", 4);
        big[sizeof big - 1] = '\n';
        EtcFile x;
        assert_int_equal(etc_file_parse(ETC_SUBUID, big, sizeof big, &x), 0);
        assert_int_equal(x.lines[0].type, LINE_MALFORMED);
        assert_int_equal(etc_file_append(&x, "b:1:1"), 0);
        char *s;
        size_t n;
        assert_int_equal(etc_file_serialize(&x, &s, &n), 0);
        assert_int_equal(n, sizeof big + 6);
        assert_memory_equal(s, big, sizeof big);
        free(s);
        etc_file_done(&x);

        /* Embedded NUL. */
        assert_int_equal(etc_file_parse(ETC_PASSWD, "a:x:1:1::/:/bin/sh\0x\n", 21, &x), 0);
        assert_int_equal(x.lines[0].type, LINE_MALFORMED);
        assert_int_equal(etc_file_serialize(&x, &s, &n), 0);
        assert_int_equal(n, 21);
        free(s);
        etc_file_done(&x);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_classification, setup, teardown),
                cmocka_unit_test_setup_teardown(test_append_write_golden, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nothing_to_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replace_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fault_before_rename, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fault_mid_rename, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_temp_cleanup, setup, teardown),
                cmocka_unit_test(test_parse_edges),
        };
        return cmocka_run_group_tests_name("etcfile", tests, NULL, NULL);
}
