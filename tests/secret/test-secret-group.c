/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of the secret-group operation: group name rules, the group/gshadow planner (which
 * groups may be used, creation, membership, removal), the journal and marker formats, and the file
 * rules (allowed roots, state directory, file type, links, owner). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secret-group-plan.h"
#include "secret-journal.h"
#include "secret-policy.h"
#include "strv-util.h"

/* A Debian-like /etc with one enrolled account (container-monitor, 998), a host service user with
 * its own system group (dns-query-exporter, 990), a human (alice, 1000) and a regular group that is
 * nobody's primary group (app-readers, 1500). */
static const char *const base_passwd =
        "root:x:0:0:root:/root:/bin/bash\n"
        "dns-query-exporter:x:990:990::/var/lib/dns-query-exporter:/usr/sbin/nologin\n"
        "alice:x:1000:1000::/home/alice:/bin/bash\n"
        "container-monitor:x:998:998:unroot service account:/var/lib/unroot/container-monitor:/usr/sbin/nologin\n"
        "container-db:x:997:997:unroot service account:/var/lib/unroot/container-db:/usr/sbin/nologin\n";
static const char *const base_group =
        "root:x:0:\n"
        "sudo:x:27:alice\n"
        "shadow:x:42:\n"
        "dns-query-exporter:x:990:\n"
        "alice:x:1000:\n"
        "unroot-accounts:x:999:container-monitor,container-db\n"
        "container-monitor:x:998:\n"
        "container-db:x:997:\n"
        "app-readers:x:1500:\n"
        "big:x:70000:\n";
static const char *const base_gshadow =
        "root:*::\nsudo:*::alice\nshadow:*::\ndns-query-exporter:!*::\nalice:!::\n"
        "unroot-accounts:!*::container-monitor,container-db\ncontainer-monitor:!*::\ncontainer-db:!*::\n"
        "app-readers:!::\n";

static void db_load(AccountsDb *db, const char *group, const char *gshadow) {
        const char *contents[_ETC_KIND_MAX] = {
                [ETC_PASSWD] = base_passwd,
                [ETC_GROUP] = group ?: base_group,
                [ETC_GSHADOW] = gshadow ?: base_gshadow,
                [ETC_SHADOW] = "",
                [ETC_SUBUID] = "",
                [ETC_SUBGID] = "",
        };
        assert_int_equal(accounts_db_parse(db, contents, NULL), 0);
}

static char *serialize(const AccountsDb *db, EtcKind k) {
        char *s;
        size_t n;
        assert_int_equal(etc_file_serialize(&db->files[k], &s, &n), 0);
        return s;
}

static void test_name_check(void **state) {
        ErrorInfo e = {};

        assert_int_equal(secret_group_name_check("technitium-readers", 18, &e), 0);
        assert_int_equal(secret_group_name_check("", 0, &e), -EINVAL);
        assert_string_equal(e.field, "group");
        assert_int_equal(secret_group_name_check("Bad_Name", 8, &e), -EINVAL);
        assert_string_equal(e.field, "group");
        assert_non_null(strstr(e.message, "'Bad_Name' is not a valid group name"));
        assert_int_equal(secret_group_name_check("sudo\0x", 6, &e), -EINVAL);
        assert_int_equal(secret_group_name_check("../x", 4, &e), -EINVAL);
        assert_int_equal(secret_group_name_check("abcdefghijklmnopqrstuvwxyz01234", 31, &e), 0);
        assert_int_equal(secret_group_name_check("abcdefghijklmnopqrstuvwxyz012345", 32, &e), -EINVAL);
        static const char *const privileged[] = {
                "root", "sudo", "adm", "shadow", "disk", "wheel", "docker", "systemd-journal", "systemd-network",
                "unroot-accounts", "unroot-admins", "kmem", "tty", "users", "staff", "nogroup", "polkitd",
        };
        for (size_t i = 0; i < ELEMENTSOF(privileged); i++) {
                assert_int_equal(secret_group_name_check(privileged[i], strlen(privileged[i]), &e), -EPERM);
                assert_string_equal(e.field, "group");
                assert_non_null(strstr(e.message, "system or privileged group"));
        }
}

static void test_plan_create(void **state) {
        _cleanup_(change_list_done) ChangeList ch = {};
        AccountsDb db;
        SecretGroupPlan p;
        ErrorInfo e = {};
        char *s;

        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "technitium-readers", "container-monitor", NULL, NULL, &p, &ch, &e), 1);
        assert_true(p.group_created);
        assert_true(p.member_changed);
        /* top-down in SYS_GID_MIN..SYS_GID_MAX, skipping 999, 998, 997 (taken) */
        assert_int_equal(p.gid, 996);
        s = serialize(&db, ETC_GROUP);
        assert_non_null(strstr(s, "\ntechnitium-readers:x:996:container-monitor\n"));
        assert_int_equal(strncmp(s, base_group, strlen(base_group)), 0); /* nothing else touched */
        free(s);
        s = serialize(&db, ETC_GSHADOW);
        assert_non_null(strstr(s, "\ntechnitium-readers:!*::container-monitor\n"));
        free(s);
        assert_int_equal(ch.n, 1);
        assert_non_null(strstr(ch.items[0], "created system group 'technitium-readers' (gid 996)"));
        accounts_db_done(&db);
}

static void test_plan_existing(void **state) {
        AccountsDb db;
        SecretGroupPlan p;
        ErrorInfo e = {};
        SecretGroupMarker ours = { .present = true, .gid = 990 }, wrong = { .present = true, .gid = 991 };
        char *s;

        /* a regular group that is nobody's primary group: member added, group not created */
        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "app-readers", "container-monitor", NULL, NULL, &p, NULL, &e), 1);
        assert_false(p.group_created);
        assert_true(p.member_changed);
        assert_int_equal(p.gid, 1500);
        s = serialize(&db, ETC_GSHADOW);
        assert_non_null(strstr(s, "\napp-readers:!::container-monitor\n"));
        free(s);
        /* twice: nothing to do */
        assert_int_equal(secret_group_plan_add(&db, "app-readers", "container-db", NULL, NULL, &p, NULL, &e), 1);
        s = serialize(&db, ETC_GROUP);
        assert_non_null(strstr(s, "\napp-readers:x:1500:container-monitor,container-db\n"));
        free(s);
        accounts_db_done(&db);
        db_load(&db, "app-readers:x:1500:container-monitor\nunroot-accounts:x:999:container-monitor\n", "");
        assert_int_equal(secret_group_plan_add(&db, "app-readers", "container-monitor", NULL, NULL, &p, NULL, &e), 0);
        assert_false(p.member_changed);
        accounts_db_done(&db);

        /* a system group unroot did not create: refused; with a marker naming its gid: ours */
        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "dns-query-exporter", "container-monitor", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_string_equal(e.field, "group");
        assert_non_null(strstr(e.message, "(gid 990) is a system group unroot did not create"));
        assert_int_equal(secret_group_plan_add(&db, "dns-query-exporter", "container-monitor", &wrong, NULL, &p, NULL, &e), -EPERM);
        assert_false(db.files[ETC_GROUP].changed);
        /* a marker with its gid: unroot made it, the gid and primary-group rules are for foreign groups */
        assert_int_equal(secret_group_plan_add(&db, "dns-query-exporter", "container-monitor", &ours, NULL, &p, NULL, &e), 1);
        accounts_db_done(&db);

        /* above GID_MAX, and a user's primary group */
        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "big", "container-monitor", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_int_equal(secret_group_plan_add(&db, "alice", "container-monitor", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_non_null(strstr(e.message, "is the primary group of user 'alice'"));
        assert_int_equal(secret_group_plan_add(&db, "container-db", "container-monitor", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_int_equal(secret_group_plan_add(&db, "sudo", "container-monitor", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_false(db.files[ETC_GROUP].changed);
        assert_false(db.files[ETC_GSHADOW].changed);
        accounts_db_done(&db);
}

static void test_plan_refusals(void **state) {
        AccountsDb db;
        SecretGroupPlan p;
        ErrorInfo e = {};

        db_load(&db, NULL, NULL);
        /* only enrolled unroot accounts */
        assert_int_equal(secret_group_plan_add(&db, "readers", "alice", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_string_equal(e.field, "account");
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-xx", NULL, NULL, &p, NULL, &e), -ENOENT);
        assert_string_equal(e.field, "account");
        assert_int_equal(secret_group_plan_add(&db, "readers", "dns-query-exporter", NULL, NULL, &p, NULL, &e), -EPERM);
        assert_false(db.files[ETC_GROUP].changed);
        accounts_db_done(&db);

        /* a malformed line naming the group; a gshadow line without a group line */
        db_load(&db, "unroot-accounts:x:999:container-monitor\nreaders:x:notanumber:\n", NULL);
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-monitor", NULL, NULL, &p, NULL, &e), -EUCLEAN);
        assert_string_equal(e.field, "/etc/group:2");
        accounts_db_done(&db);
        db_load(&db, "unroot-accounts:x:999:container-monitor\n", "readers:!*::\n");
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-monitor", NULL, NULL, &p, NULL, &e), -EUCLEAN);
        assert_false(db.files[ETC_GROUP].changed);
        accounts_db_done(&db);
}

static bool nss_has_readers(const char *name, void *ud) {
        return streq(name, "readers");
}

static void test_plan_nss_and_completion(void **state) {
        AccountsHooks hooks = { .group_exists = nss_has_readers };
        SecretGroupMarker ours = { .present = true, .gid = 996 };
        AccountsDb db;
        SecretGroupPlan p;
        ErrorInfo e = {};
        char *s;

        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-monitor", NULL, &hooks, &p, NULL, &e), -EPERM);
        assert_non_null(strstr(e.message, "NSS"));
        accounts_db_done(&db);

        /* killed between the group and gshadow renames: the re-run writes the missing gshadow line */
        db_load(&db, "unroot-accounts:x:999:container-monitor\nreaders:x:996:container-monitor\n",
                "unroot-accounts:!*::container-monitor\n");
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-monitor", &ours, NULL, &p, NULL, &e), 1);
        assert_false(p.member_changed);
        assert_false(db.files[ETC_GROUP].changed);
        s = serialize(&db, ETC_GSHADOW);
        assert_string_equal(s, "unroot-accounts:!*::container-monitor\nreaders:!*::container-monitor\n");
        free(s);
        accounts_db_done(&db);
}

static void test_plan_remove(void **state) {
        SecretGroupMarker ours = { .present = true, .gid = 996 };
        AccountsDb db;
        SecretGroupPlan p;
        ErrorInfo e = {};
        char *s;

        /* add then remove: the files are back byte for byte */
        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_add(&db, "readers", "container-monitor", NULL, NULL, &p, NULL, &e), 1);
        assert_int_equal(secret_group_plan_remove(&db, "readers", "container-monitor", true, &ours, &p, NULL, &e), 1);
        assert_true(p.member_changed);
        assert_true(p.group_removed);
        s = serialize(&db, ETC_GROUP);
        assert_string_equal(s, base_group);
        free(s);
        s = serialize(&db, ETC_GSHADOW);
        assert_string_equal(s, base_gshadow);
        free(s);
        accounts_db_done(&db);

        /* another member left: the group stays */
        db_load(&db, "readers:x:996:container-monitor,container-db\n", "readers:!*::container-monitor,container-db\n");
        assert_int_equal(secret_group_plan_remove(&db, "readers", "container-monitor", true, &ours, &p, NULL, &e), 1);
        assert_false(p.group_removed);
        s = serialize(&db, ETC_GROUP);
        assert_string_equal(s, "readers:x:996:container-db\n");
        free(s);
        accounts_db_done(&db);

        /* no marker (not unroot's) or another gid: membership only */
        db_load(&db, "readers:x:1500:container-monitor\n", "");
        assert_int_equal(secret_group_plan_remove(&db, "readers", "container-monitor", true, NULL, &p, NULL, &e), 1);
        assert_false(p.group_removed);
        s = serialize(&db, ETC_GROUP);
        assert_string_equal(s, "readers:x:1500:\n");
        free(s);
        accounts_db_done(&db);

        /* membership not added by this request: kept; the group is then still in use */
        db_load(&db, "readers:x:996:container-monitor\n", "");
        assert_int_equal(secret_group_plan_remove(&db, "readers", "container-monitor", false, &ours, &p, NULL, &e), 0);
        assert_false(p.group_removed);
        accounts_db_done(&db);

        /* an empty group of ours that is someone's primary group stays */
        db_load(&db, "dns-query-exporter:x:990:\n", "");
        SecretGroupMarker m990 = { .present = true, .gid = 990 };
        assert_int_equal(secret_group_plan_remove(&db, "dns-query-exporter", "container-monitor", true, &m990, &p, NULL, &e), 0);
        accounts_db_done(&db);

        /* absent group: nothing */
        db_load(&db, NULL, NULL);
        assert_int_equal(secret_group_plan_remove(&db, "readers", "container-monitor", true, &ours, &p, NULL, &e), 0);
        accounts_db_done(&db);
}

static const char journal_text[] =
        "unroot-secret-group 1\n"
        "account container-monitor\n"
        "group technitium-readers\n"
        "gid 996\n"
        "file /var/lib/dns-query-exporter/a token\n"
        "inode 2049 18446744073709551615\n"
        "owner 990\n"
        "previous-gid 990\n"
        "previous-mode 4640\n"
        "group-created yes\n"
        "member-added no\n";

static void test_journal(void **state) {
        SecretJournal j, k;
        ErrorInfo e = {};
        char *s;
        size_t n;

        assert_int_equal(secret_journal_parse(journal_text, strlen(journal_text), &j, &e), 0);
        assert_string_equal(j.account, "container-monitor");
        assert_string_equal(j.group, "technitium-readers");
        assert_string_equal(j.file, "/var/lib/dns-query-exporter/a token");
        assert_int_equal(j.gid, 996);
        assert_true(j.dev == 2049 && j.ino == UINT64_MAX);
        assert_int_equal(j.previous_mode, 04640);
        assert_true(j.group_created);
        assert_false(j.member_added);
        assert_int_equal(secret_journal_format(&j, &s, &n), 0);
        assert_int_equal(n, strlen(journal_text));
        assert_memory_equal(s, journal_text, n);
        assert_int_equal(secret_journal_parse(s, n, &k, &e), 0);
        assert_memory_equal(&j, &k, sizeof j);
        free(s);

        /* every mutation of one line is refused, naming the journal */
        static const struct { const char *from, *to; } bad[] = {
                { "unroot-secret-group 1", "unroot-secret-group 2" },
                { "unroot-secret-group 1", "unroot-shift-journal 1" },
                { "account container-monitor", "account Container" },
                { "account container-monitor", "account  container-monitor" },
                { "group technitium-readers", "group ../x" },
                { "gid 996", "gid -1" },
                { "gid 996", "gid 4294967296" },
                { "gid 996", "gid 0x10" },
                { "file /var/lib/dns-query-exporter/a token", "file var/lib/x" },
                { "file /var/lib/dns-query-exporter/a token", "file /var/lib/../etc/shadow" },
                { "inode 2049 18446744073709551615", "inode 2049" },
                { "inode 2049 18446744073709551615", "inode 2049 18446744073709551616" },
                { "previous-mode 4640", "previous-mode 0999" },
                { "previous-mode 4640", "previous-mode 640" },
                { "previous-mode 4640", "previous-mode 17777" },
                { "group-created yes", "group-created true" },
                { "member-added no\n", "member-added no" },
                { "member-added no\n", "member-added no\nextra\n" },
                { "owner 990\n", "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char buf[1024];
                const char *at = strstr(journal_text, bad[i].from);
                size_t pre = (size_t) (at - journal_text), tolen = strlen(bad[i].to);

                memcpy(buf, journal_text, pre);
                memcpy(buf + pre, bad[i].to, tolen);
                strcpy(buf + pre + tolen, at + strlen(bad[i].from));
                n = pre + tolen + strlen(at + strlen(bad[i].from));
                e = (ErrorInfo) {};
                assert_int_equal(secret_journal_parse(buf, n, &k, &e), -EBADMSG);
                assert_string_equal(e.field, "journal");
        }
        assert_int_equal(secret_journal_parse("", 0, &k, &e), -EBADMSG);
        /* an embedded NUL (the parser sees the exact length, never a C string) */
        memcpy(s = strdup(journal_text), journal_text, sizeof journal_text);
        s[strstr(journal_text, "owner 990") - journal_text + 7] = 0;
        assert_int_equal(secret_journal_parse(s, strlen(journal_text), &k, &e), -EBADMSG);
        free(s);
}

static void test_marker(void **state) {
        char buf[32];
        uint32_t gid;
        int n = secret_marker_format(996, buf);

        assert_int_equal(secret_marker_parse(buf, (size_t) n, &gid), 0);
        assert_int_equal(gid, 996);
        assert_int_equal(secret_marker_parse("gid 4294967295\n", 15, &gid), 0);
        assert_int_equal(secret_marker_parse("gid 4294967296\n", 15, &gid), -EBADMSG);
        assert_int_equal(secret_marker_parse("gid 996", 7, &gid), -EBADMSG);
        assert_int_equal(secret_marker_parse("gid -1\n", 7, &gid), -EBADMSG);
        assert_int_equal(secret_marker_parse("uid 996\n", 8, &gid), -EBADMSG);
        assert_int_equal(secret_marker_parse("gid \n", 5, &gid), -EBADMSG);
}

static void test_confine(void **state) {
        char *roots[] = { (char *) SECRET_DEDICATED_ROOT, (char *) "/var/lib", NULL };
        const char *allowed = NULL;
        ErrorInfo e = {};

        assert_int_equal(secret_path_confine("/var/lib/dns-query-exporter/token", roots, "/var/lib/unroot", &allowed, &e), 0);
        assert_string_equal(allowed, "/var/lib");
        assert_int_equal(secret_path_confine("/etc/unroot/secrets/api.key", roots, "/var/lib/unroot", &allowed, &e), 0);
        assert_string_equal(allowed, SECRET_DEDICATED_ROOT);
        assert_int_equal(secret_path_confine("/etc/shadow", roots, "/var/lib/unroot", &allowed, &e), -EINVAL);
        assert_string_equal(e.field, "file");
        assert_non_null(strstr(e.message, "not below an allowed root (/etc/unroot/secrets, /var/lib;"));
        assert_int_equal(secret_path_confine("/var/libx/token", roots, "/var/lib/unroot", &allowed, &e), -EINVAL);
        assert_int_equal(secret_path_confine("/var/lib", roots, "/var/lib/unroot", &allowed, &e), -EINVAL);
        assert_int_equal(secret_path_confine("/var/lib/unroot/container-db/x", roots, "/var/lib/unroot", &allowed, &e), -EINVAL);
        assert_non_null(strstr(e.message, "below /var/lib/unroot"));
        assert_int_equal(secret_path_confine("/var/lib/unroot", roots, "/var/lib/unroot/", &allowed, &e), -EINVAL);
        assert_int_equal(secret_path_confine("/var/lib/unrootx/s", roots, "/var/lib/unroot", &allowed, &e), 0);
}

static void test_stat_check(void **state) {
        struct stat st = { .st_mode = S_IFREG | 0600, .st_nlink = 1, .st_uid = 990, .st_gid = 990 };
        ErrorInfo e = {};

        assert_int_equal(secret_stat_check("/var/lib/s/t", "/var/lib", &st, &e), 0);
        st.st_nlink = 2;
        assert_int_equal(secret_stat_check("/var/lib/s/t", "/var/lib", &st, &e), -EINVAL);
        assert_non_null(strstr(e.message, "has 2 hard links"));
        st.st_nlink = 1;
        st.st_uid = 0;
        assert_int_equal(secret_stat_check("/var/lib/s/t", "/var/lib", &st, &e), -EINVAL);
        assert_non_null(strstr(e.message, "belongs to root"));
        assert_int_equal(secret_stat_check("/etc/unroot/secrets/t", SECRET_DEDICATED_ROOT, &st, &e), 0);
        static const mode_t others[] = { S_IFLNK, S_IFDIR, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK };
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                st.st_mode = others[i] | 0644;
                e = (ErrorInfo) {};
                assert_int_equal(secret_stat_check("/etc/unroot/secrets/t", SECRET_DEDICATED_ROOT, &st, &e), -EINVAL);
                assert_string_equal(e.field, "file");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_check),
                cmocka_unit_test(test_plan_create),
                cmocka_unit_test(test_plan_existing),
                cmocka_unit_test(test_plan_refusals),
                cmocka_unit_test(test_plan_nss_and_completion),
                cmocka_unit_test(test_plan_remove),
                cmocka_unit_test(test_journal),
                cmocka_unit_test(test_marker),
                cmocka_unit_test(test_confine),
                cmocka_unit_test(test_stat_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
