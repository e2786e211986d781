/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"

static const char *const six[] = { "passwd", "group", "shadow", "gshadow", "subuid", "subgid" };

const char *test_data_dir(void) {
        return ACCOUNTS_TEST_DATA;
}

char *test_root_new(void) {
        const char *tmp = getenv("TMPDIR");
        char *p, *etc;

        assert_true(asprintf(&p, "%s/unroot-accounts-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        assert_non_null(mkdtemp(p));
        assert_true(asprintf(&etc, "%s/etc", p) > 0);
        assert_int_equal(mkdir(etc, 0755), 0);
        free(etc);
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                return rmdir(path);
        return unlink(path);
}

void test_root_free(char *root) {
        if (!root)
                return;
        (void) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
}

static char *read_path(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t n = 0, alloc = 0;

        if (!f)
                return NULL;
        for (;;) {
                if (alloc - n < 4096) {
                        alloc = alloc ? alloc * 2 : 8192;
                        buf = realloc(buf, alloc + 1);
                        assert_non_null(buf);
                }
                size_t k = fread(buf + n, 1, alloc - n, f);
                n += k;
                if (k == 0)
                        break;
        }
        fclose(f);
        buf[n] = 0;
        if (ret_len)
                *ret_len = n;
        return buf;
}

static void write_path(const char *path, const char *data, size_t len, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

void test_write_file(const char *root, const char *file, const char *data, size_t len) {
        char path[PATH_MAX];

        assert_non_null(root);
        assert_non_null(file);
        if (strchr(file, '/'))
                xsprintf(path, "%s/%s", root, file);
        else
                xsprintf(path, "%s/etc/%s", root, file);
        write_path(path, data, len, strstr(file, "shadow") ? 0640 : 0644);
}

char *test_read_file(const char *root, const char *file, size_t *ret_len) {
        char path[PATH_MAX];

        xsprintf(path, "%s/etc/%s", root, file);
        return read_path(path, ret_len);
}

void test_root_populate(const char *root, const char *rel) {
        char dir[PATH_MAX], path[PATH_MAX];
        struct dirent *de;
        DIR *d;

        xsprintf(dir, "%s/%s", test_data_dir(), rel);
        d = opendir(dir);
        if (!d)
                fail_msg("cannot open test data %s: %s", dir, strerror(errno));
        while ((de = readdir(d))) {
                size_t len;
                char *data;

                if (de->d_name[0] == '.')
                        continue;
                xsprintf(path, "%s/%s", dir, de->d_name);
                data = read_path(path, &len);
                assert_non_null(data);
                test_write_file(root, de->d_name, data, len);
                free(data);
        }
        closedir(d);
}

static void report_diff(const char *what, const char *exp, size_t elen, const char *got, size_t glen) {
        size_t i = 0, line = 1;

        while (i < elen && i < glen && exp[i] == got[i]) {
                if (exp[i] == '\n')
                        line++;
                i++;
        }
        print_error("%s differs from the expected file at byte %zu (line %zu)\n--- expected\n%s\n--- got\n%s\n",
                    what, i, line, exp, got ? got : "(missing)");
}

void test_compare_expected(const char *root, const char *rel) {
        char dir[PATH_MAX], path[PATH_MAX], etc[PATH_MAX];
        struct dirent *de;
        bool ok = true;
        DIR *d;

        xsprintf(dir, "%s/%s", test_data_dir(), rel);
        /* UNROOT_ACCOUNTS_REGEN=1 rewrites the golden files from the result; review the diff. */
        if (getenv("UNROOT_ACCOUNTS_REGEN")) {
                (void) mkdir(dir, 0755);
                for (size_t i = 0; i < sizeof six / sizeof six[0]; i++) {
                        size_t len;
                        char *data = test_read_file(root, six[i], &len);
                        xsprintf(path, "%s/%s", dir, six[i]);
                        if (data)
                                write_path(path, data, len, 0644);
                        else
                                (void) unlink(path);
                        free(data);
                }
        }
        d = opendir(dir);
        if (!d)
                fail_msg("cannot open test data %s: %s", dir, strerror(errno));
        while ((de = readdir(d))) {
                size_t elen, glen = 0;
                char *exp, *got;

                if (de->d_name[0] == '.')
                        continue;
                xsprintf(path, "%s/%s", dir, de->d_name);
                exp = read_path(path, &elen);
                assert_non_null(exp);
                got = test_read_file(root, de->d_name, &glen);
                if (!got || glen != elen || memcmp(exp, got, elen) != 0) {
                        report_diff(de->d_name, exp, elen, got, glen);
                        ok = false;
                }
                free(exp);
                free(got);
        }
        closedir(d);
        /* And nothing of the six that is not expected. */
        for (size_t i = 0; i < sizeof six / sizeof six[0]; i++) {
                struct stat st;
                xsprintf(path, "%s/%s", dir, six[i]);
                xsprintf(etc, "%s/etc/%s", root, six[i]);
                if (stat(path, &st) < 0 && stat(etc, &st) >= 0) {
                        print_error("/etc/%s exists but was not expected\n", six[i]);
                        ok = false;
                }
        }
        if (!ok)
                fail_msg("%s: result differs from the golden files", rel);
}

void test_assert_no_temp_files(const char *root) {
        char etc[PATH_MAX];
        struct dirent *de;
        DIR *d;

        xsprintf(etc, "%s/etc", root);
        d = opendir(etc);
        assert_non_null(d);
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, ".#", 2) == 0 || strstr(de->d_name, ".lock") ||
                    (strlen(de->d_name) > 1 && de->d_name[strlen(de->d_name) - 1] == '+')) {
                        if (strcmp(de->d_name, ".pwd.lock") == 0)
                                continue;
                        closedir(d);
                        fail_msg("temp or lock file left behind: %s", de->d_name);
                }
        }
        closedir(d);
}

void test_snapshot(const char *root, TestSnapshot *s) {
        *s = (TestSnapshot) {};
        for (size_t i = 0; i < sizeof six / sizeof six[0]; i++)
                s->data[i] = test_read_file(root, six[i], &s->len[i]);
}

void test_assert_same_snapshot(const char *root, const TestSnapshot *s) {
        for (size_t i = 0; i < sizeof six / sizeof six[0]; i++) {
                size_t len = 0;
                char *now = test_read_file(root, six[i], &len);

                if (!s->data[i] != !now || (now && (len != s->len[i] || memcmp(now, s->data[i], len) != 0))) {
                        report_diff(six[i], s->data[i] ? s->data[i] : "(missing)", s->len[i], now, len);
                        free(now);
                        fail_msg("/etc/%s changed", six[i]);
                }
                free(now);
        }
}

void test_snapshot_done(TestSnapshot *s) {
        for (size_t i = 0; i < 8; i++)
                free(s->data[i]);
        *s = (TestSnapshot) {};
}
