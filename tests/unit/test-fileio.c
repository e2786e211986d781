/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/fileio: whole-file reads with a limit, and atomic replacement with mode, owner and times
 * (what `agentctl migrate` copies root's Quadlet files with). */
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include "fileio.h"
#include "macro.h"

static char dir[] = "/tmp/unroot-test-fileio-XXXXXX";

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[64];

        (void) snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static char *in_dir(const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

/* Nothing but the named entries: no temporary file left behind. */
static void assert_dir_holds(size_t n, const char *const *names) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t seen = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                bool known = false;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                for (size_t i = 0; i < n; i++)
                        known = known || streq(de->d_name, names[i]);
                if (!known)
                        fail_msg("unexpected entry '%s' in %s", de->d_name, dir);
                seen++;
        }
        closedir(d);
        assert_int_equal(seen, n);
}

static void test_read_limited(void **state) {
        _cleanup_free_ char *p = in_dir("read"), *link = in_dir("read-link");
        char *text = NULL;
        struct stat st;
        size_t len = 0;

        assert_int_equal(write_file_atomic(p, "hello\n", 6, 0640), 0);
        assert_int_equal(read_file_limited_stat(p, O_NOFOLLOW, 6, &text, &len, &st), 0);
        assert_int_equal(len, 6);
        assert_string_equal(text, "hello\n");
        assert_int_equal(st.st_size, 6);
        assert_int_equal(st.st_mode & 07777, 0640);
        free(text);
        /* One byte over the limit, a symlink with O_NOFOLLOW, a directory, a missing file. */
        assert_int_equal(read_file_limited(p, 0, 5, &text, &len), -EFBIG);
        assert_int_equal(symlink(p, link), 0);
        assert_int_equal(read_file_limited(link, O_NOFOLLOW, 100, &text, &len), -ELOOP);
        assert_int_equal(read_file_limited(link, 0, 100, &text, &len), 0);
        free(text);
        assert_int_equal(read_file_limited(dir, 0, 100, &text, &len), -EBADFD);
        assert_int_equal(read_file_limited("/nonexistent/unroot", 0, 100, &text, &len), -ENOENT);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(unlink(link), 0);
}

static void test_atomic_replaces_symlink(void **state) {
        _cleanup_free_ char *target = in_dir("target"), *p = in_dir("file");
        char *text = NULL;
        size_t len;
        struct stat st;

        assert_int_equal(write_file_atomic(target, "target\n", 7, 0600), 0);
        assert_int_equal(symlink(target, p), 0);
        assert_int_equal(write_file_atomic(p, "new\n", 4, 0644), 0);
        /* The link was replaced by the file; its target is as it was. */
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(read_file_limited(target, 0, 100, &text, &len), 0);
        assert_string_equal(text, "target\n");
        free(text);
        assert_dir_holds(2, (const char *const[]) { "target", "file" });
        assert_int_equal(unlink(p), 0);
        assert_int_equal(unlink(target), 0);
}

static void test_atomic_failure_leaves_old(void **state) {
        _cleanup_free_ char *sub = in_dir("sub"), *inner = in_dir("sub/keep");

        /* rename() of a file over a non-empty directory fails: the directory and its content stay,
         * and the temporary file is gone. */
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(write_file_atomic(inner, "keep\n", 5, 0644), 0);
        assert_int_equal(write_file_atomic(sub, "x", 1, 0644), -EISDIR);
        assert_dir_holds(1, (const char *const[]) { "sub" });
        assert_int_equal(access(inner, F_OK), 0);
        assert_int_equal(write_file_atomic("", "x", 1, 0644), -EISDIR);
        assert_int_equal(unlink(inner), 0);
        assert_int_equal(rmdir(sub), 0);
}

static void test_atomic_owned(void **state) {
        _cleanup_free_ char *p = in_dir("owned");
        const struct timespec times[2] = { { 1000000000, 5 }, { 1100000000, 7 } };
        struct stat st;

        if (geteuid() != 0) {
                print_message("SKIP: owner and setgid checks need root (chown to another user)\n");
                skip();
        }
        /* Owner before mode: the setgid bit survives the chown. */
        assert_int_equal(write_file_atomic_owned(p, "data", 4, 02750, 4321, 4322, times), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_uid, 4321);
        assert_int_equal(st.st_gid, 4322);
        assert_int_equal(st.st_mode & 07777, 02750);
        assert_int_equal(st.st_size, 4);
        /* Times after the write, which would set the modification time. */
        assert_int_equal(st.st_atim.tv_sec, times[0].tv_sec);
        assert_int_equal(st.st_mtim.tv_sec, times[1].tv_sec);
        assert_int_equal(st.st_mtim.tv_nsec, times[1].tv_nsec);
        /* (uid_t) -1 and (gid_t) -1 leave the owner: the writer's. */
        assert_int_equal(write_file_atomic_owned(p, "d", 1, 0600, (uid_t) -1, (gid_t) -1, NULL), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_uid, geteuid());
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_dir_holds(1, (const char *const[]) { "owned" });
        assert_int_equal(unlink(p), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_limited),
                cmocka_unit_test(test_atomic_replaces_symlink),
                cmocka_unit_test(test_atomic_failure_leaves_old),
                cmocka_unit_test(test_atomic_owned),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
