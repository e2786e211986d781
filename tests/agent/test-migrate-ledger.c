/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate apply's record (round trip, atomic save under a root directory, refusal of foreign JSON)
 * and the host fact parsers (/proc/net/tcp and tcp6 listeners, podman's version). */
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

#include "migrate-gather.h"
#include "migrate-ledger.h"
#include "migrate-record.h"

static void test_record_round_trip(void **state) {
        MigrateLedger r = {}, back = {};
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        r.service = strdup("budget-board");
        r.account = strdup("container-web");
        r.kind = strdup("pod");
        r.state = strdup("applying");
        r.step = strdup("shift");
        r.error = strdup("step images failed: quote \" backslash \\");
        strv_add(&r.units, "budget-board-pod.service");
        strv_add(&r.units, "budget-board-server.service");
        strv_add(&r.root_files, "/etc/containers/systemd/budget-board.pod");
        strv_add(&r.techniques, "rootless-pod");
        strv_add(&r.volumes, "systemd-data\t/var/lib/containers/storage/volumes/systemd-data/_data\t/home/x/_data");
        f = open_memstream(&buf, &len);
        migrate_ledger_write_json(&r, f);
        fclose(f);
        /* The contract's keys, its order, null for no step result. */
        assert_non_null(strstr(buf, "{\"service\":\"budget-board\",\"account\":\"container-web\",\"kind\":\"pod\","
                                    "\"state\":\"applying\",\"step\":\"shift\",\"units\":["));
        assert_non_null(strstr(buf, "\"updated\":null"));

        /* The contract's reader (migrate-record.h, used by the report) takes what apply writes. */
        MigrateRecord mr = {};
        ErrorInfo e = {};
        assert_int_equal(migrate_record_parse(buf, strlen(buf), "record.json", &mr, &e), 0);
        assert_string_equal(mr.service, "budget-board");
        assert_true(mr.pod);
        assert_int_equal(mr.state, MIGRATE_STATE_APPLYING);
        assert_string_equal(mr.step, "shift");
        assert_string_equal(mr.units[1], "budget-board-server.service");
        assert_string_equal(mr.error, r.error);
        migrate_record_done(&mr);
        free(buf);

        /* Our own reader keeps any text, control characters included. */
        free(r.error);
        r.error = strdup("tab\t newline\n");
        f = open_memstream(&buf, &len);
        migrate_ledger_write_json(&r, f);
        fclose(f);
        assert_int_equal(migrate_ledger_parse(buf, &back), 0);
        assert_string_equal(back.service, "budget-board");
        assert_string_equal(back.error, r.error);
        assert_int_equal(back.units.n, 2);
        assert_string_equal(back.units.v[1], "budget-board-server.service");
        assert_string_equal(back.volumes.v[0], r.volumes.v[0]);
        assert_int_equal(back.images.n, 0);
        assert_null(back.updated);
        migrate_ledger_done(&back);
        free(buf);

        /* Not ours, or torn: refused, nothing half-filled. */
        static const char *const bad[] = { "", "[]", "{\"service\":\"x\"}", "{\"service\":\"x\",\"state\":\"a",
                                           "{\"service\":\"x\",\"state\":\"a\",\"units\":[1]}",
                                           "{\"service\":\"x\" \"state\":\"a\"}" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(migrate_ledger_parse(bad[i], &back), -EBADMSG);
        /* Unknown keys and numbers of a newer writer are skipped. */
        assert_int_equal(migrate_ledger_parse("{\"service\":\"x\",\"n\":12,\"new\":[\"a\"],\"state\":\"applied\"}",
                                              &back), 0);
        assert_string_equal(back.state, "applied");
        migrate_ledger_done(&back);
        migrate_ledger_done(&r);
}

static void test_record_save_load(void **state) {
        char tmp[] = "/tmp/test-migrate-ledger-XXXXXX", cmd[128], *dir;
        MigrateLedger r = {}, back = {};
        struct stat st;

        assert_non_null(mkdtemp(tmp));
        r.service = strdup("metabase");
        r.state = strdup("applied");
        strv_add(&r.shifted, "/srv/unroot/metabase");
        assert_int_equal(migrate_ledger_load(tmp, "metabase", &back), -ENOENT);
        assert_int_equal(migrate_ledger_save(tmp, &r), 0);
        assert_non_null(r.updated);
        assert_int_equal(strlen(r.updated), 20); /* 2026-11-29T07:00:00Z */
        dir = migrate_ledger_dir(tmp, "metabase");
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        free(dir);
        assert_int_equal(migrate_ledger_load(tmp, "metabase", &back), 0);
        assert_string_equal(back.state, "applied");
        assert_string_equal(back.shifted.v[0], "/srv/unroot/metabase");
        assert_string_equal(back.updated, r.updated);
        migrate_ledger_done(&back);
        migrate_ledger_done(&r);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        assert_int_equal(system(cmd), 0);
}

static void test_proc_net_tcp(void **state) {
        static const char tcp[] =
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                "   0: 0100580A:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   104        0 1 1\n"
                "   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 2 1\n"
                "   2: 0100007F:2382 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n";
        static const char tcp6[] =
                "  sl  local_address                         remote_address                        st\n"
                "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0 0 0\n"
                "   1: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 0A 0 0 0\n";
        MigrateListener *l = NULL;
        size_t n = 0;

        assert_int_equal(migrate_parse_proc_net_tcp(tcp, false, &l, &n), 0);
        assert_int_equal(n, 2); /* the established connection is not a listener */
        assert_string_equal(l[0].addr, "10.88.0.1");
        assert_int_equal(l[0].port, 6379);
        assert_string_equal(l[1].addr, "0.0.0.0");
        assert_int_equal(l[1].port, 5432);
        assert_int_equal(migrate_parse_proc_net_tcp(tcp6, true, &l, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(l[2].addr, "::");
        assert_int_equal(l[2].port, 80);
        assert_string_equal(l[3].addr, "::1");
        assert_int_equal(l[3].port, 53);
        /* garbage lines are skipped */
        assert_int_equal(migrate_parse_proc_net_tcp("header\nnot a line\n   0: zz:1 0 0A\n", false, &l, &n), 0);
        assert_int_equal(n, 4);
        free(l);
}

static void test_podman_version(void **state) {
        unsigned a = 0, b = 0;
        assert_int_equal(migrate_parse_podman_version("4.3.1", &a, &b), 0);
        assert_int_equal(a, 4);
        assert_int_equal(b, 3);
        assert_int_equal(migrate_parse_podman_version("5.4.2-dev", &a, &b), 0);
        assert_int_equal(a, 5);
        assert_int_equal(migrate_parse_podman_version("podman", &a, &b), -EINVAL);
        assert_int_equal(migrate_parse_podman_version(NULL, &a, &b), -EINVAL);
}

static void test_image_names(void **state) {
        /* The shape of podman 4.3's `podman images --format json` (trimmed), with a dangling image. */
        static const char json[] =
                "[\n  {\n    \"Id\": \"5c1c\",\n    \"Names\": [\n      \"localhost/vanna:latest\"\n    ]\n  },\n"
                "  { \"Id\": \"77aa\", \"Names\": [\"docker.io/metabase/metabase:v0.50.20\", \"ghcr.io/x/y:main\"] },\n"
                "  { \"Id\": \"0d0d\" },\n  { \"Id\": \"9e9e\", \"RepoTags\": [\"quay.io/old/style:1\"] }\n]\n";
        _cleanup_strv_free_ char **names = NULL;

        assert_int_equal(migrate_parse_image_names(json, strlen(json), &names), 0);
        assert_int_equal(strv_length(names), 4);
        assert_true(migrate_image_listed(names, "localhost/vanna"));        /* :latest added */
        assert_true(migrate_image_listed(names, "localhost/vanna:latest"));
        assert_true(migrate_image_listed(names, "docker.io/metabase/metabase:v0.50.20"));
        assert_true(migrate_image_listed(names, "quay.io/old/style:1"));
        assert_true(migrate_image_listed(names, "ghcr.io/x/y:main"));
        assert_false(migrate_image_listed(names, "docker.io/metabase/metabase")); /* other tag */
        assert_false(migrate_image_listed(names, "metabase/metabase:v0.50.20"));  /* short: podman resolves */
        assert_false(migrate_image_listed(names, "vanna"));
        assert_false(migrate_image_listed(names, "localhost/vanna@sha256:00"));   /* digest: podman decides */
        assert_false(migrate_image_listed(NULL, "localhost/vanna"));
        assert_true(migrate_image_listed(names, "localhost:5000/a:b") == false);

        strv_free(names);
        names = NULL;
        assert_int_equal(migrate_parse_image_names("[]", 2, &names), 0);
        assert_non_null(names);
        assert_int_equal(strv_length(names), 0);
        strv_free(names);
        names = NULL;
        assert_int_equal(migrate_parse_image_names("{}", 2, &names), -EINVAL);
        assert_int_equal(migrate_parse_image_names("[{\"Names\": \"x\"}]", 16, &names), -EINVAL);
        assert_int_equal(migrate_parse_image_names("[{\"Names\": [1]}]", 16, &names), -EINVAL);
        assert_int_equal(migrate_parse_image_names("[", 1, &names), -EINVAL);
        assert_null(names);
}

static void test_filedriver_secret(void **state) {
        /* As podman 4.3 writes it: indented, a space after the colon. */
        static const char json[] = "{\n  \"ce7b8666802083d197104c075\": \"dG9rLTEyMw==\",\n  \"ab\": \"eA==\"\n}\n";
        _cleanup_buf_ Buf b = {};

        assert_int_equal(migrate_filedriver_secret(json, strlen(json), "ce7b8666802083d197104c075", &b), 0);
        assert_int_equal(b.n, 7);
        assert_memory_equal(b.s, "tok-123", 7);
        buf_done(&b);
        assert_int_equal(migrate_filedriver_secret(json, strlen(json), "nope", &b), -ENOENT);
        assert_int_equal(migrate_filedriver_secret("{\"a\":\"!!\"}", 11, "a", &b), -EBADMSG);
        assert_int_equal(migrate_filedriver_secret("[]", 2, "a", &b), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record_round_trip),
                cmocka_unit_test(test_record_save_load),
                cmocka_unit_test(test_proc_net_tcp),
                cmocka_unit_test(test_podman_version),
                cmocka_unit_test(test_filedriver_secret),
                cmocka_unit_test(test_image_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
