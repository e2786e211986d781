/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Temp-root helpers for the account-file tests (sysusers test style: initial tree + expected tree). */

#include <stdbool.h>
#include <stddef.h>

/* mkdtemp under $TMPDIR (or /tmp) with an empty etc/; returns the root path (malloc'd). */
char *test_root_new(void);
/* rm -rf, for the root made above. */
void test_root_free(char *root);
/* Copies every regular file of <ACCOUNTS_TEST_DATA>/<rel> into <root>/etc. */
void test_root_populate(const char *root, const char *rel);
/* Writes <root>/etc/<file> (or a path relative to root when file contains '/'). */
void test_write_file(const char *root, const char *file, const char *data, size_t len);
#define test_write_str(root, file, s) test_write_file(root, file, s, strlen(s))
/* Reads <root>/etc/<file>; NULL if missing. */
char *test_read_file(const char *root, const char *file, size_t *ret_len);
/* Every file of <ACCOUNTS_TEST_DATA>/<rel> must equal <root>/etc/<same> byte for byte, and
 * <root>/etc must hold no other regular files apart from "-" backups, .pwd.lock and the names in
 * ignore (NULL-terminated, may be NULL). Fails the test with a diff hint otherwise. */
void test_compare_expected(const char *root, const char *rel);
/* Asserts that no temp file of ours exists in <root>/etc. */
void test_assert_no_temp_files(const char *root);
/* Snapshot of all six files for "byte-identical afterwards" checks. */
typedef struct TestSnapshot {
        char *data[8];
        size_t len[8];
} TestSnapshot;
void test_snapshot(const char *root, TestSnapshot *s);
void test_assert_same_snapshot(const char *root, const TestSnapshot *s);
void test_snapshot_done(TestSnapshot *s);
const char *test_data_dir(void);

#define xsprintf(buf, ...) assert_true((size_t) snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))
