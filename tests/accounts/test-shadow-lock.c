/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shadow-utils' per-file lock protocol as the helper takes it: the pid parser, taking and releasing
 * all six "<file>.lock", exclusion against a holder (a live process), replacement of a stale lock
 * (a dead pid), refusal of a lock without a pid, and removal of a dead process's "<file>.<pid>". */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shadow-lock.h"
#include "test-util.h"
#include "util.h"

static const char *const files[] = { "passwd", "shadow", "group", "gshadow", "subuid", "subgid" };

static void test_parse_pid(void **state) {
        pid_t p = 0;

        assert_int_equal(shadow_lock_parse_pid("1234", 5, &p), 0); /* "1234\0", as shadow writes it */
        assert_int_equal(p, 1234);
        assert_int_equal(shadow_lock_parse_pid("77\n", 3, &p), 0);
        assert_int_equal(p, 77);
        assert_int_equal(shadow_lock_parse_pid("2147483647", 10, &p), 0);
        assert_int_equal(p, 2147483647);
        assert_int_equal(shadow_lock_parse_pid("", 0, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("\0", 1, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("0", 1, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("2147483648", 10, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("12a", 3, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("-5", 2, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("12\0\0", 4, &p), -EBADMSG);
        assert_int_equal(shadow_lock_parse_pid("99999999999", 11, &p), -EBADMSG);
}

static int open_etc(const char *root) {
        char p[4096];
        int fd;

        xsprintf(p, "%s/etc", root);
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static bool exists(int etcfd, const char *name) {
        return faccessat(etcfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

/* A pid that surely is not running: a child that has exited and been reaped. */
static pid_t dead_pid(void) {
        pid_t p = fork();

        assert_true(p >= 0);
        if (p == 0)
                _exit(0);
        assert_int_equal(waitpid(p, NULL, 0), p);
        return p;
}

static void test_take_release(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};
        char want[32], name[64];

        assert_int_equal(shadow_locks_take(etcfd, 1000000, &l, &e), 0);
        xsprintf(want, "%d", (int) getpid());
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                xsprintf(name, "%s.lock", files[i]);
                size_t n;
                char *c = test_read_file(root, name, &n);
                assert_non_null(c);
                assert_int_equal(n, strlen(want) + 1); /* the NUL is part of shadow's format */
                assert_string_equal(c, want);
                free(c);
                xsprintf(name, "%s.%d", files[i], (int) getpid());
                assert_false(exists(etcfd, name)); /* the link source is gone */
        }
        shadow_locks_release(&l);
        shadow_locks_release(&l); /* idempotent */
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                xsprintf(name, "%s.lock", files[i]);
                assert_false(exists(etcfd, name));
        }
        close(etcfd);
        test_root_free(root);
}

/* A live holder of one lock (here: a sleeping child's pid in group.lock) makes the take time out,
 * naming the lock and the pid, with none of ours left; once the holder is gone it is stale. */
static void test_busy_then_stale(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};
        char text[32], field[64];
        pid_t child;

        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        xsprintf(text, "%d", (int) child);
        test_write_file(root, "group.lock", text, strlen(text) + 1);

        assert_int_equal(shadow_locks_take(etcfd, 200000, &l, &e), -ETIMEDOUT);
        assert_string_equal(e.field, "/etc/group.lock");
        xsprintf(field, "pid %d", (int) child);
        assert_non_null(strstr(e.message, field));
        assert_false(exists(etcfd, "passwd.lock")); /* released while backing off */
        assert_false(exists(etcfd, "shadow.lock"));
        assert_true(exists(etcfd, "group.lock"));   /* the holder's, untouched */

        kill(child, SIGKILL);
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_int_equal(shadow_locks_take(etcfd, 1000000, &l, &e), 0);
        size_t n;
        char *c = test_read_file(root, "group.lock", &n);
        xsprintf(text, "%d", (int) getpid());
        assert_string_equal(c, text);
        free(c);
        shadow_locks_release(&l);
        assert_false(exists(etcfd, "group.lock"));
        close(etcfd);
        test_root_free(root);
}

/* The holder finishes while we wait: we get all locks within the timeout. */
static void test_waits_for_holder(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};
        char text[32];
        pid_t child;
        int pfd[2];

        assert_int_equal(pipe(pfd), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                ShadowLocks cl = SHADOW_LOCKS_NULL;
                ErrorInfo ce = {};
                if (shadow_locks_take(etcfd, 1000000, &cl, &ce) < 0)
                        _exit(1);
                (void) !write(pfd[1], "x", 1);
                usleep(300000);
                shadow_locks_release(&cl);
                _exit(0);
        }
        close(pfd[1]);
        assert_int_equal(read(pfd[0], text, 1), 1);
        close(pfd[0]);
        uint64_t t0 = now_usec();
        assert_int_equal(shadow_locks_take(etcfd, 5000000, &l, &e), 0);
        assert_true(now_usec() - t0 >= 100000); /* it did wait for the child */
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        shadow_locks_release(&l);
        close(etcfd);
        test_root_free(root);
}

static void test_garbage_lock_refused(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};

        test_write_str(root, "shadow.lock", "");
        assert_int_equal(shadow_locks_take(etcfd, 1000000, &l, &e), -EBADMSG);
        assert_string_equal(e.field, "/etc/shadow.lock");
        assert_non_null(strstr(e.message, "no process id"));
        assert_false(exists(etcfd, "passwd.lock"));
        assert_true(exists(etcfd, "shadow.lock"));
        close(etcfd);
        test_root_free(root);
}

/* A crash between creating "<file>.<pid>" and unlinking it leaves that file; the next taker removes
 * it if its pid is gone, and leaves a live process's alone (it may be mid-protocol). */
static void test_stale_temp_removed(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};
        char dead[32], live[32], text[32];
        pid_t d = dead_pid();

        xsprintf(dead, "passwd.%d", (int) d);
        xsprintf(text, "%d", (int) d);
        test_write_file(root, dead, text, strlen(text) + 1);
        xsprintf(live, "subuid.%d", (int) getppid());
        xsprintf(text, "%d", (int) getppid());
        test_write_file(root, live, text, strlen(text) + 1);
        test_write_str(root, "passwd.12345x", "12345"); /* not shadow's name: kept */

        assert_int_equal(shadow_locks_take(etcfd, 1000000, &l, &e), 0);
        shadow_locks_release(&l);
        assert_false(exists(etcfd, dead));
        assert_true(exists(etcfd, live));
        assert_true(exists(etcfd, "passwd.12345x"));
        close(etcfd);
        test_root_free(root);
}

/* Failures other than a busy lock (ENOSPC, EROFS, …) are not retried. Here the temp name is a
 * directory (EISDIR), which fails the same way for root. */
static void test_error_fails_at_once(void **state) {
        char *root = test_root_new();
        int etcfd = open_etc(root);
        ShadowLocks l = SHADOW_LOCKS_NULL;
        ErrorInfo e = {};
        char name[64];

        xsprintf(name, "shadow.%d", (int) getpid());
        assert_int_equal(mkdirat(etcfd, name, 0755), 0);
        uint64_t t0 = now_usec();
        assert_int_equal(shadow_locks_take(etcfd, 5000000, &l, &e), -EISDIR);
        assert_true(now_usec() - t0 < 1000000);
        assert_string_equal(e.field, "/etc/shadow.lock");
        assert_false(exists(etcfd, "passwd.lock")); /* taken before, released on the error */
        close(etcfd);
        test_root_free(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_pid),
                cmocka_unit_test(test_take_release),
                cmocka_unit_test(test_busy_then_stale),
                cmocka_unit_test(test_waits_for_holder),
                cmocka_unit_test(test_garbage_lock_refused),
                cmocka_unit_test(test_stale_temp_removed),
                cmocka_unit_test(test_error_fails_at_once),
        };
        return cmocka_run_group_tests_name("shadow-lock", tests, NULL, NULL);
}
