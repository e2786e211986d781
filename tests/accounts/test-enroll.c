/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* accounts_enroll / accounts_lookup / accounts_remove end to end on a temporary root: golden results,
 * idempotency, foreign names, crash convergence, stale temp files, the lock, removal. */
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
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "etc-write.h"
#include "test-util.h"

#define INITIAL "enroll-debian/initial"

static int setup(void **state) {
        char *root = test_root_new();

        test_root_populate(root, INITIAL);
        accounts_set_lock_timeout_usec(5ULL * 1000000ULL);
        *state = root;
        return 0;
}

static int teardown(void **state) {
        etc_write_set_fault(NULL);
        test_root_free(*state);
        return 0;
}

static bool has_item(const ChangeList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i], s) == 0)
                        return true;
        return false;
}

static void dump_changes(const ChangeList *l) {
        for (size_t i = 0; i < l->n; i++)
                print_message("#   %s\n", l->items[i]);
}

static int enroll(const char *root, const char *name, ChangeList *ch, ErrorInfo *e) {
        return accounts_enroll(root, name, 65536, NULL, NULL, NULL, ch, e);
}

static void test_golden_and_idempotent(void **state) {
        const char *root = *state;
        ChangeList ch = {};
        AccountInfo info = {};
        ErrorInfo e = {};
        TestSnapshot s;
        int r;

        r = accounts_enroll(root, "container-db", 65536, "/var/lib/unroot", NULL, &info, &ch, &e);
        if (r != 1)
                fail_msg("enroll: %d %s: %s", r, e.field, e.message);
        dump_changes(&ch);
        test_compare_expected(root, "enroll-debian/expected");
        test_assert_no_temp_files(root);

        assert_string_equal(info.name, "container-db");
        assert_int_equal(info.uid, 996);
        assert_int_equal(info.gid, 996);
        assert_string_equal(info.home, "/var/lib/unroot/container-db");
        assert_int_equal(info.subuid.start, 165536);
        assert_int_equal(info.subuid.count, 65536);
        assert_int_equal(info.subgid.start, 165536);
        assert_int_equal(info.subuid_total, 65536);
        assert_true(has_item(&ch, "created group 'unroot-accounts' (gid 997)"));
        assert_true(has_item(&ch, "created group 'container-db' (gid 996)"));
        assert_true(has_item(&ch, "appended /etc/subuid: container-db:165536:65536"));
        assert_true(has_item(&ch, "appended /etc/subgid: container-db:165536:65536"));
        assert_int_equal(ch.n, 10);
        account_info_done(&info);
        change_list_done(&ch);

        /* Backups hold the previous bytes. */
        size_t l1, l2;
        char *b = test_read_file(root, "passwd-", &l1), *o;
        char p[4096];
        xsprintf(p, "%s/" INITIAL "/passwd", test_data_dir());
        FILE *f = fopen(p, "re");
        assert_non_null(f);
        o = calloc(1, 8192);
        l2 = fread(o, 1, 8192, f);
        fclose(f);
        assert_int_equal(l1, l2);
        assert_memory_equal(b, o, l1);
        free(b);
        free(o);

        /* Second run: unchanged, empty change list, byte-identical files (backups included). */
        test_snapshot(root, &s);
        r = accounts_enroll(root, "container-db", 65536, "/var/lib/unroot", NULL, &info, &ch, &e);
        assert_int_equal(r, 0);
        assert_int_equal(ch.n, 0);
        assert_int_equal(info.uid, 996);
        assert_int_equal(info.subgid.start, 165536);
        test_assert_same_snapshot(root, &s);
        test_snapshot_done(&s);
        account_info_done(&info);

        /* A second account goes below the first, ranges after it. */
        r = accounts_enroll(root, "container-web", 65536, NULL, NULL, &info, &ch, &e);
        assert_int_equal(r, 1);
        assert_int_equal(info.uid, 995);
        assert_int_equal(info.subuid.start, 231072);
        test_compare_expected(root, "enroll-debian/expected-two");
        account_info_done(&info);
        change_list_done(&ch);
}

static void test_stat_rights(void **state) {
        const char *root = *state;
        char p[4096];
        struct stat st;

        xsprintf(p, "%s/etc/shadow", root);
        assert_int_equal(chmod(p, 0600), 0);
        if (geteuid() == 0)
                assert_int_equal(chown(p, 0, 42), 0);
        assert_int_equal(enroll(root, "container-db", NULL, NULL), 1);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600); /* copied from the old file */
        if (geteuid() == 0)
                assert_int_equal(st.st_gid, 42);
        xsprintf(p, "%s/etc/shadow-", root);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        xsprintf(p, "%s/etc/gshadow", root);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_empty_root(void **state) {
        char *root = test_root_new();
        AccountInfo info = {};
        char p[4096];
        struct stat st;

        assert_int_equal(accounts_enroll(root, "container-db", 65536, NULL, NULL, &info, NULL, NULL), 1);
        assert_int_equal(info.uid, 998); /* 999 went to unroot-accounts */
        assert_int_equal(info.subuid.start, 100000);
        test_compare_expected(root, "enroll-empty/expected");
        xsprintf(p, "%s/etc/subuid", root);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        /* No shadow or gshadow is invented. */
        xsprintf(p, "%s/etc/shadow", root);
        assert_int_equal(access(p, F_OK), -1);
        account_info_done(&info);
        test_root_free(root);
}

static void expect_refused(const char *root, const char *name, int want, const char *field, const char *msg) {
        TestSnapshot s;
        ErrorInfo e = {};
        ChangeList ch = {};
        int r;

        test_snapshot(root, &s);
        r = accounts_enroll(root, name, 65536, NULL, NULL, NULL, &ch, &e);
        if (r != want)
                fail_msg("enroll '%s': got %d (%s), want %d", name, r, e.message, want);
        assert_string_equal(e.field, field);
        if (msg && !strstr(e.message, msg))
                fail_msg("message '%s' lacks '%s'", e.message, msg);
        assert_int_equal(ch.n, 0);
        test_assert_same_snapshot(root, &s);
        test_assert_no_temp_files(root);
        test_snapshot_done(&s);
}

static void test_foreign_refused(void **state) {
        const char *root = *state;

        expect_refused(root, "alice", -EEXIST, "name", "not managed by unroot");
        expect_refused(root, "root", -EEXIST, "name", "not managed by unroot");
        expect_refused(root, "nobody", -EEXIST, "name", "not managed by unroot");
        expect_refused(root, "messagebus", -EEXIST, "name", "not managed by unroot");
        expect_refused(root, "../x", -EINVAL, "name", NULL);
        /* A group alone, a malformed passwd line and a shadow-only leftover all claim the name. */
        char *g = test_read_file(root, "group", NULL);
        char *ng;
        assert_true(asprintf(&ng, "%s\nsvc-x:x:5000:\n", g) > 0);
        test_write_str(root, "group", ng);
        expect_refused(root, "svc-x", -EEXIST, "name", "not managed by unroot");
        free(g);
        free(ng);
        char *pw = test_read_file(root, "passwd", NULL), *npw;
        assert_true(asprintf(&npw, "%soddsvc:x:abc:1::/:/bin/sh\n", pw) > 0);
        test_write_str(root, "passwd", npw);
        expect_refused(root, "oddsvc", -EEXIST, "name", "not managed by unroot");
        free(pw);
        free(npw);
        char *sh = test_read_file(root, "shadow", NULL), *nsh;
        assert_true(asprintf(&nsh, "%sleftover:!:19000::::::\n", sh) > 0);
        test_write_str(root, "shadow", nsh);
        expect_refused(root, "leftover", -EEXIST, "name", "not managed by unroot");
        free(sh);
        free(nsh);
}

static bool fake_user_exists(const char *name, void *ud) {
        return strcmp(name, "ldapsvc") == 0;
}
static bool fake_uid_taken(uint32_t uid, void *ud) {
        ++*(unsigned *) ud;
        return uid == 996;
}
static bool fake_gid_taken(uint32_t gid, void *ud) {
        return gid == 996 || gid == 997;
}

static void test_nss_hooks(void **state) {
        const char *root = *state;
        unsigned calls = 0;
        AccountsHooks h = {
                .user_exists = fake_user_exists,
                .uid_taken = fake_uid_taken,
                .gid_taken = fake_gid_taken,
                .userdata = &calls,
        };
        AccountInfo info = {};
        ErrorInfo e = {};
        TestSnapshot s;

        test_snapshot(root, &s);
        assert_int_equal(accounts_enroll(root, "ldapsvc", 65536, NULL, &h, NULL, NULL, &e), -EEXIST);
        assert_non_null(strstr(e.message, "NSS"));
        test_assert_same_snapshot(root, &s);
        test_snapshot_done(&s);

        /* NSS holds uid 996 and gids 996, 997: unroot-accounts gets 995, the account 994. */
        assert_int_equal(accounts_enroll(root, "container-db", 65536, NULL, &h, &info, NULL, &e), 1);
        assert_int_equal(info.uid, 994);
        assert_int_equal(info.gid, 994);
        assert_true(calls > 0);
        char *g = test_read_file(root, "group", NULL);
        assert_non_null(strstr(g, "\nunroot-accounts:x:995:container-db\n"));
        free(g);
        account_info_done(&info);
}

/* What an interrupted run leaves behind: group (+membership) written, passwd not. */
static void test_partial_converges(void **state) {
        const char *root = *state;
        static const char *const prefix_files[] = { "group", "gshadow", "passwd", "shadow", "subuid", "subgid" };
        char p[4096];

        for (size_t stop = 1; stop < 6; stop++) {
                char *r2 = test_root_new();
                test_root_populate(r2, INITIAL);
                /* The first `stop` files in rename order already new. */
                for (size_t i = 0; i < stop; i++) {
                        size_t len;
                        xsprintf(p, "%s/enroll-debian/expected/%s", test_data_dir(), prefix_files[i]);
                        FILE *f = fopen(p, "re");
                        char *buf = calloc(1, 65536);
                        assert_non_null(f);
                        len = fread(buf, 1, 65536, f);
                        fclose(f);
                        test_write_file(r2, prefix_files[i], buf, len);
                        free(buf);
                }
                ChangeList ch = {};
                ErrorInfo e = {};
                int r = enroll(r2, "container-db", &ch, &e);
                if (r != 1)
                        fail_msg("stop %zu: %d %s", stop, r, e.message);
                assert_true(ch.n > 0 && ch.n < 10);
                test_compare_expected(r2, "enroll-debian/expected");
                change_list_done(&ch);
                test_root_free(r2);
        }
        (void) root;
}

/* The same through real failures at each rename: the next run converges. */
static const char *fault_file;
static int fault_rename(const char *step, const char *file) {
        return strcmp(step, "rename") == 0 && strcmp(file, fault_file) == 0 ? -EIO : 0;
}

static void test_fault_then_rerun(void **state) {
        static const char *const files[] = { "group", "gshadow", "passwd", "shadow", "subuid", "subgid" };

        for (size_t i = 0; i < 6; i++) {
                char *r2 = test_root_new();
                ErrorInfo e = {};
                test_root_populate(r2, INITIAL);
                fault_file = files[i];
                etc_write_set_fault(fault_rename);
                assert_int_equal(enroll(r2, "container-db", NULL, &e), -EIO);
                assert_string_equal(e.field, files[i]);
                etc_write_set_fault(NULL);
                test_assert_no_temp_files(r2);
                assert_int_equal(enroll(r2, "container-db", NULL, &e), 1);
                test_compare_expected(r2, "enroll-debian/expected");
                assert_int_equal(enroll(r2, "container-db", NULL, &e), 0);
                test_root_free(r2);
        }
}

static void test_stale_temp_removed(void **state) {
        const char *root = *state;

        test_write_str(root, ".#unroot-passwd.00112233445566ff", "stale");
        test_write_str(root, ".#unroot-shadow-.ffeeddccbbaa0099", "stale");
        assert_int_equal(enroll(root, "container-db", NULL, NULL), 1);
        test_assert_no_temp_files(root);
        test_compare_expected(root, "enroll-debian/expected");
}

/* Holds /etc/.pwd.lock from a child, the way lckpwdf() does (classic F_SETLKW) or another
 * unroot-helper does (OFD), until told to let go. */
static pid_t hold_lock(const char *root, bool ofd, int *ret_release) {
        int ready[2], release[2];
        char p[4096];
        pid_t pid;

        xsprintf(p, "%s/etc/.pwd.lock", root);
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(release, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                char c;
                close(ready[0]);
                close(release[1]);
                if (fd < 0 || fcntl(fd, ofd ? F_OFD_SETLKW : F_SETLKW, &fl) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1)
                        _exit(2);
                /* Returns at EOF, when the parent closes its end. */
                _exit(read(release[0], &c, 1) < 0 ? 3 : 0);
        }
        close(ready[1]);
        close(release[0]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        *ret_release = release[1];
        return pid;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_lock_timeout(void **state) {
        const char *root = *state;

        for (int ofd = 0; ofd <= 1; ofd++) {
                int release, status;
                TestSnapshot s;
                ErrorInfo e = {};
                pid_t pid = hold_lock(root, ofd, &release);

                test_snapshot(root, &s);
                accounts_set_lock_timeout_usec(300000);
                double t0 = now_s();
                assert_int_equal(enroll(root, "container-db", NULL, &e), -ETIMEDOUT);
                double dt = now_s() - t0;
                assert_true(dt >= 0.29 && dt < 5.0);
                assert_string_equal(e.field, "/etc/.pwd.lock");
                assert_non_null(strstr(e.message, "Timed out"));
                assert_int_equal(accounts_lookup(root, "container-db", NULL, &e), -ETIMEDOUT);
                test_assert_same_snapshot(root, &s);
                test_assert_no_temp_files(root);
                test_snapshot_done(&s);

                close(release);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }

        accounts_set_lock_timeout_usec(5ULL * 1000000ULL);
}

static void test_lock_waits(void **state) {
        const char *root = *state;
        int release, status;
        pid_t pid = hold_lock(root, false, &release);
        pid_t child;

        /* The enroll runs in a child while we hold the lock for 300 ms, then let go. */
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                close(release);
                accounts_set_lock_timeout_usec(10ULL * 1000000ULL);
                _exit(enroll(root, "container-db", NULL, NULL) == 1 ? 0 : 1);
        }
        usleep(300000);
        close(release);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        test_compare_expected(root, "enroll-debian/expected");
}

static void test_refusals_change_nothing(void **state) {
        const char *root = *state;
        ErrorInfo e = {};
        TestSnapshot s;

        test_snapshot(root, &s);
        assert_int_equal(accounts_enroll(root, "container-db", 0, NULL, NULL, NULL, NULL, &e), -EINVAL);
        assert_string_equal(e.field, "subid_count");
        assert_int_equal(accounts_enroll(root, "container-db", 16777217, NULL, NULL, NULL, NULL, &e), -EINVAL);
        assert_int_equal(accounts_enroll(root, "container-db", 65536, "relative/dir", NULL, NULL, NULL, &e), -EINVAL);
        assert_string_equal(e.field, "statedir");
        assert_int_equal(accounts_enroll(root, "container-db", 65536, "/a:b", NULL, NULL, NULL, &e), -EINVAL);
        test_assert_same_snapshot(root, &s);
        test_snapshot_done(&s);

        test_write_str(root, "nsswitch.conf", "passwd: files\nsubid: sss\n");
        expect_refused(root, "container-db", -EOPNOTSUPP, "/etc/nsswitch.conf:2", "'sss'");
        test_write_str(root, "nsswitch.conf", "subid: files\n");

        test_write_str(root, "subuid", "alice:100000:65536\n# fine\nbob:200000:65536x\n");
        expect_refused(root, "container-db", -EBADMSG, "/etc/subuid:3", "refusing to allocate");
        test_write_str(root, "subuid", "# ranges for people\nalice:100000:65536\n");
        test_write_str(root, "subgid", "alice:100000:18446744073709551615\n");
        expect_refused(root, "container-db", -EBADMSG, "/etc/subgid:1", NULL);
        test_write_str(root, "subgid", "alice:100000:65536\n");

        test_write_str(root, "login.defs", "SUB_UID_COUNT 0\n");
        expect_refused(root, "container-db", -EINVAL, "/etc/login.defs:SUB_UID_COUNT", NULL);
        test_write_str(root, "login.defs", "SUB_GID_MIN 200000\nSUB_GID_MAX 100000\n");
        expect_refused(root, "container-db", -EINVAL, "/etc/login.defs:SUB_GID_MIN", NULL);
        /* Window: exactly 65536 left after alice works, 65535 does not. */
        test_write_str(root, "login.defs", "SUB_UID_MAX 231070\nSUB_GID_MAX 231070\n");
        expect_refused(root, "container-db", -ENOSPC, "/etc/subuid", "window");
        test_write_str(root, "login.defs", "SUB_UID_MAX 231071\nSUB_GID_MAX 231071\n");
        assert_int_equal(enroll(root, "container-db", NULL, &e), 1);
        test_compare_expected(root, "enroll-debian/expected");

        /* passwd as a symlink is refused. */
        char p[4096];
        xsprintf(p, "%s/etc/group", root);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink("passwd", p), 0);
        assert_int_equal(accounts_enroll(root, "container-web", 65536, NULL, NULL, NULL, NULL, &e), -ELOOP);
        assert_string_equal(e.field, "group");
}

/* Ids never handed out, whatever login.defs allows: 65534/65535, and above INT32_MAX (4294967294,
 * 4294967295 and every id polkit cannot represent). unroot-accounts takes the top free gid first. */
static void test_id_edges(void **state) {
        const char *root = *state;
        AccountInfo info = {};
        ErrorInfo e = {};

        test_write_str(root, "login.defs", "SYS_UID_MIN 65530\nSYS_UID_MAX 65535\nSYS_GID_MIN 65530\nSYS_GID_MAX 65535\n");
        assert_int_equal(accounts_enroll(root, "container-a", 65536, NULL, NULL, &info, NULL, &e), 1);
        assert_int_equal(info.uid, 65532);
        assert_int_equal(info.gid, 65532);
        account_info_done(&info);
        test_write_str(root, "login.defs", "SYS_UID_MIN 2147483640\nSYS_UID_MAX 4294967295\nSYS_GID_MIN 2147483640\nSYS_GID_MAX 4294967295\n");
        assert_int_equal(accounts_enroll(root, "container-b", 65536, NULL, NULL, &info, NULL, &e), 1);
        assert_int_equal(info.uid, 2147483647);
        assert_int_equal(info.gid, 2147483647);
        account_info_done(&info);
        test_write_str(root, "login.defs", "SYS_UID_MIN 2147483648\nSYS_UID_MAX 4294967295\nSYS_GID_MIN 2147483648\nSYS_GID_MAX 4294967295\n");
        expect_refused(root, "container-c", -ENOSPC, "gid", "No free system gid");
        test_write_str(root, "login.defs", "SYS_UID_MIN 65534\nSYS_UID_MAX 65535\nSYS_GID_MIN 100\nSYS_GID_MAX 999\n");
        expect_refused(root, "container-c", -ENOSPC, "uid", "No free system uid");
}

static void test_malformed_marker(void **state) {
        const char *root = *state;
        char *g = test_read_file(root, "group", NULL), *ng;

        /* A broken unroot-accounts line is not silently duplicated. */
        assert_true(asprintf(&ng, "%s\nunroot-accounts:x:997\n", g) > 0);
        test_write_str(root, "group", ng);
        expect_refused(root, "container-db", -EUCLEAN, "/etc/group:10", "unroot-accounts");
        free(ng);
        /* Nor is a broken line of an account we own. */
        assert_true(asprintf(&ng, "%s\nunroot-accounts:x:997:container-db\ncontainer-db:x:nope:\n", g) > 0);
        test_write_str(root, "group", ng);
        expect_refused(root, "container-db", -EUCLEAN, "/etc/group:11", "container-db");
        free(ng);
        free(g);
}

static void test_reuse(void **state) {
        const char *root = *state;
        AccountInfo info = {};
        ChangeList ch = {};

        /* Already has enough: by name in subuid, by numeric uid (996, which it will get) in subgid. */
        test_write_str(root, "subuid", "alice:100000:65536\ncontainer-db:300000:65536\n");
        test_write_str(root, "subgid", "alice:100000:65536\n996:400000:70000\n");
        assert_int_equal(accounts_enroll(root, "container-db", 65536, NULL, NULL, &info, &ch, NULL), 1);
        assert_int_equal(info.uid, 996);
        assert_int_equal(info.subuid.start, 300000);
        assert_int_equal(info.subgid.start, 400000);
        assert_int_equal(info.subgid_total, 70000);
        for (size_t i = 0; i < ch.n; i++)
                assert_null(strstr(ch.items[i], "/etc/sub"));
        char *u = test_read_file(root, "subuid", NULL);
        assert_string_equal(u, "alice:100000:65536\ncontainer-db:300000:65536\n");
        free(u);
        account_info_done(&info);
        change_list_done(&ch);

        /* Fewer than asked: only the difference is appended. */
        assert_int_equal(accounts_enroll(root, "container-db", 131072, NULL, NULL, &info, &ch, NULL), 1);
        assert_int_equal(info.subuid_total, 131072);
        assert_int_equal(info.subgid_total, 131072);
        u = test_read_file(root, "subuid", NULL);
        /* Paired with the newest subgid range (400000, free in subuid) ... */
        assert_string_equal(u, "alice:100000:65536\ncontainer-db:300000:65536\ncontainer-db:400000:65536\n");
        free(u);
        u = test_read_file(root, "subgid", NULL);
        /* ... while 400000 is taken in subgid, so the 61072 missing gids go to the first fit. */
        assert_string_equal(u, "alice:100000:65536\n996:400000:70000\ncontainer-db:165536:61072\n");
        free(u);
        assert_int_equal(ch.n, 2);
        account_info_done(&info);
        change_list_done(&ch);
}

static void test_lookup_remove(void **state) {
        const char *root = *state;
        AccountInfo info = {};
        ChangeList ch = {};
        ErrorInfo e = {};
        TestSnapshot s;
        char **l = NULL;

        assert_int_equal(accounts_lookup(root, "container-db", &info, &e), -ENOENT);
        assert_int_equal(accounts_remove(root, "container-db", &ch, &e), 0);
        assert_int_equal(ch.n, 0);
        assert_int_equal(enroll(root, "container-db", NULL, NULL), 1);
        assert_int_equal(enroll(root, "container-web", NULL, NULL), 1);

        assert_int_equal(accounts_lookup(root, "container-db", &info, &e), 0);
        assert_int_equal(info.uid, 996);
        assert_int_equal(info.subuid.start, 165536);
        assert_string_equal(info.home, "/var/lib/unroot/container-db");
        account_info_done(&info);
        assert_int_equal(accounts_lookup(root, "alice", &info, &e), -EPERM);
        assert_non_null(strstr(e.message, "not managed by unroot"));
        assert_int_equal(accounts_lookup(root, "root", &info, &e), -EPERM);
        assert_int_equal(accounts_lookup(root, "nobody-here", &info, &e), -ENOENT);
        assert_int_equal(accounts_lookup(root, "Bad", &info, &e), -EINVAL);
        assert_int_equal(accounts_list(root, &l, &e), 0);
        assert_string_equal(l[0], "container-db");
        assert_string_equal(l[1], "container-web");
        assert_null(l[2]);
        strv_free_accounts(l);

        test_snapshot(root, &s);
        assert_int_equal(accounts_remove(root, "alice", &ch, &e), -EPERM);
        assert_int_equal(accounts_remove(root, "root", &ch, &e), -EPERM);
        test_assert_same_snapshot(root, &s);
        test_snapshot_done(&s);

        assert_int_equal(accounts_remove(root, "container-web", &ch, &e), 1);
        dump_changes(&ch);
        assert_true(has_item(&ch, "removed user 'container-web' (uid 995) from /etc/passwd"));
        assert_true(has_item(&ch, "removed /etc/subuid: container-web:231072:65536"));
        assert_int_equal(ch.n, 8);
        change_list_done(&ch);
        test_compare_expected(root, "enroll-debian/expected");
        assert_int_equal(accounts_remove(root, "container-web", &ch, &e), 0);
        assert_int_equal(accounts_lookup(root, "container-web", &info, &e), -ENOENT);

        assert_int_equal(accounts_remove(root, "container-db", &ch, &e), 1);
        change_list_done(&ch);
        test_compare_expected(root, "enroll-debian/removed");
        test_assert_no_temp_files(root);
        /* Enrolling again gives the same ids back. */
        assert_int_equal(enroll(root, "container-db", NULL, NULL), 1);
        test_compare_expected(root, "enroll-debian/expected");
}

static void test_partial_lookup(void **state) {
        const char *root = *state;
        ErrorInfo e = {};
        char *g = test_read_file(root, "group", NULL), *ng;

        assert_true(asprintf(&ng, "%s\nunroot-accounts:x:997:half\nhalf:x:996:\n", g) > 0);
        test_write_str(root, "group", ng);
        assert_int_equal(accounts_lookup(root, "half", NULL, &e), -ENOENT);
        assert_non_null(strstr(e.message, "partially"));
        assert_int_equal(enroll(root, "half", NULL, &e), 1);
        assert_int_equal(accounts_lookup(root, "half", NULL, &e), 0);
        free(g);
        free(ng);
}

/* §5.4: kill -9 at every step of the writer. After each kill every file is either the old or the
 * new version, and a re-run converges to the golden result and removes the leftover temp files. */
static const char *kill_step, *kill_file;
static int kill_at(const char *step, const char *file) {
        if (strcmp(step, kill_step) == 0 && strcmp(file, kill_file) == 0)
                raise(SIGKILL);
        return 0;
}

static bool file_is(const char *root, const char *file, const char *rel) {
        char p[4096];
        size_t a = 0, b = 0;
        bool same;

        xsprintf(p, "%s/%s/%s", test_data_dir(), rel, file);
        FILE *f = fopen(p, "re");
        assert_non_null(f);
        char *want = calloc(1, 65536);
        a = fread(want, 1, 65536, f);
        fclose(f);
        char *got = test_read_file(root, file, &b);
        same = got && a == b && memcmp(want, got, a) == 0;
        free(want);
        free(got);
        return same;
}

static void test_kill9_converges(void **state) {
        static const char *const six[] = { "group", "gshadow", "passwd", "shadow", "subuid", "subgid" };
        static const char *const steps[] = { "create", "write", "fsync", "rename-backup", "rename", "fsync-dir" };
        unsigned killed = 0;

        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
                for (size_t f = 0; f < 6; f++)
                        for (int backup = 0; backup <= 1; backup++) {
                                char file[32];
                                int status;

                                bool backup_step = strcmp(steps[s], "rename-backup") == 0;
                                bool fsync_dir = strcmp(steps[s], "fsync-dir") == 0;

                                /* create/write/fsync happen for files and backups alike. */
                                if ((backup_step && !backup) || ((strcmp(steps[s], "rename") == 0 || fsync_dir) && backup))
                                        continue;
                                if (fsync_dir && f > 0)
                                        continue;
                                xsprintf(file, "%s%s", fsync_dir ? "" : six[f], backup ? "-" : "");
                                char *r2 = test_root_new();
                                test_root_populate(r2, INITIAL);
                                kill_step = steps[s];
                                kill_file = file;
                                pid_t pid = fork();
                                assert_true(pid >= 0);
                                if (pid == 0) {
                                        etc_write_set_fault(kill_at);
                                        (void) enroll(r2, "container-db", NULL, NULL);
                                        _exit(0);
                                }
                                assert_int_equal(waitpid(pid, &status, 0), pid);
                                if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                                        fail_msg("%s %s: child was not killed", steps[s], file);
                                killed++;
                                for (size_t i = 0; i < 6; i++)
                                        if (!file_is(r2, six[i], INITIAL) && !file_is(r2, six[i], "enroll-debian/expected"))
                                                fail_msg("kill at %s %s: /etc/%s is neither old nor new", steps[s], file, six[i]);
                                /* Never a user without its group: passwd new implies group new. */
                                if (file_is(r2, "passwd", "enroll-debian/expected"))
                                        assert_true(file_is(r2, "group", "enroll-debian/expected"));
                                /* Killed after the last rename: already complete. */
                                assert_int_equal(enroll(r2, "container-db", NULL, NULL), fsync_dir ? 0 : 1);
                                test_compare_expected(r2, "enroll-debian/expected");
                                test_assert_no_temp_files(r2);
                                assert_int_equal(enroll(r2, "container-db", NULL, NULL), 0);
                                test_root_free(r2);
                        }
        print_message("# killed the writer at %u points; every re-run converged\n", killed);
        assert_int_equal(killed, 3 * 12 + 6 + 6 + 1);
}

/* The agent and agentctl look accounts up unprivileged: no lock file, no shadow, same answer. */
static void test_lookup_unprivileged(void **state) {
        const char *root = *state;
        char p[4096];
        int status;

        if (geteuid() != 0) {
                print_message("# skipped: needs root to drop to nobody\n");
                return;
        }
        assert_int_equal(enroll(root, "container-db", NULL, NULL), 1);
        assert_int_equal(chmod(root, 0755), 0);
        xsprintf(p, "%s/etc/shadow", root);
        assert_int_equal(chmod(p, 0640), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                AccountInfo info = {};
                ErrorInfo e = {};
                if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(10);
                if (access(p, R_OK) == 0)
                        _exit(11); /* the test would prove nothing */
                int r = accounts_lookup(root, "container-db", &info, &e);
                if (r != 0)
                        _exit(12);
                if (info.uid != 996 || info.subuid.start != 165536 || info.subgid.start != 165536)
                        _exit(13);
                account_info_done(&info);
                if (accounts_lookup(root, "alice", &info, &e) != -EPERM)
                        _exit(14);
                /* Writing still needs the lock, and fails cleanly. */
                if (accounts_enroll(root, "container-web", 65536, NULL, NULL, NULL, NULL, &e) != -EACCES)
                        _exit(15);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("unprivileged child failed with status %d", WEXITSTATUS(status));
        test_compare_expected(root, "enroll-debian/expected");
}

/* §5.3: parallel enrolls of the same and of different names serialize on the lock: one line per
 * account, unique ids, pairwise-disjoint ranges, and every name's membership exactly once. */
static void test_parallel(void **state) {
        const char *root = *state;
        enum { NAMES = 6, PER_NAME = 3 };
        pid_t pids[NAMES * PER_NAME];
        char name[32];

        for (int i = 0; i < NAMES * PER_NAME; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        ErrorInfo e = {};
                        snprintf(name, sizeof name, "svc%d", i % NAMES);
                        accounts_set_lock_timeout_usec(60ULL * 1000000ULL);
                        int r = accounts_enroll(root, name, 65536, NULL, NULL, NULL, NULL, &e);
                        _exit(r >= 0 ? 0 : 1);
                }
        }
        for (int i = 0; i < NAMES * PER_NAME; i++) {
                int status;
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        test_assert_no_temp_files(root);

        AccountInfo info[NAMES];
        for (int i = 0; i < NAMES; i++) {
                ErrorInfo e = {};
                ChangeList ch = {};
                snprintf(name, sizeof name, "svc%d", i);
                assert_int_equal(accounts_lookup(root, name, &info[i], &e), 0);
                assert_int_equal(info[i].subuid_total, 65536); /* exactly one range each */
                assert_int_equal(info[i].subgid_total, 65536);
                assert_int_equal(accounts_enroll(root, name, 65536, NULL, NULL, NULL, &ch, &e), 0);
                assert_int_equal(ch.n, 0);
                for (int j = 0; j < i; j++) {
                        assert_int_not_equal(info[i].uid, info[j].uid);
                        assert_int_not_equal(info[i].gid, info[j].gid);
                        assert_true(info[i].subuid.start + info[i].subuid.count <= info[j].subuid.start ||
                                    info[j].subuid.start + info[j].subuid.count <= info[i].subuid.start);
                        assert_true(info[i].subgid.start + info[i].subgid.count <= info[j].subgid.start ||
                                    info[j].subgid.start + info[j].subgid.count <= info[i].subgid.start);
                }
        }
        for (int i = 0; i < NAMES; i++)
                account_info_done(&info[i]);
        char **l = NULL;
        assert_int_equal(accounts_list(root, &l, NULL), 0);
        size_t n = 0;
        while (l[n])
                n++;
        assert_int_equal(n, NAMES);
        strv_free_accounts(l);
        char *pw = test_read_file(root, "passwd", NULL);
        size_t lines = 0;
        for (char *c = pw; *c; c++)
                lines += *c == '\n';
        assert_int_equal(lines, 9 + NAMES);
        free(pw);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_golden_and_idempotent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stat_rights, setup, teardown),
                cmocka_unit_test(test_empty_root),
                cmocka_unit_test_setup_teardown(test_foreign_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nss_hooks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partial_converges, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fault_then_rerun, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_temp_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock_waits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_marker, setup, teardown),
                cmocka_unit_test_setup_teardown(test_id_edges, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lookup_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partial_lookup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lookup_unprivileged, setup, teardown),
                cmocka_unit_test(test_kill9_converges),
        };
        return cmocka_run_group_tests_name("enroll", tests, NULL, NULL);
}
