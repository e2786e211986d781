/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON reader (agent/json-parse.c) and the migration record (agent/migrate-record.c). */
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

#include "json-parse.h"
#include "macro.h"
#include "migrate-record.h"
#include "strv-util.h"

static void check_bad(const char *text, const char *want_error) {
        JsonValue v = {};
        char *err = NULL;

        assert_int_equal(json_parse(text, strlen(text), &v, &err), -EINVAL);
        assert_non_null(err);
        if (!strstr(err, want_error))
                fail_msg("'%s': error '%s' does not contain '%s'", text, err, want_error);
        free(err);
}

static void test_json_values(void **state) {
        static const char doc[] =
                " {\"s\":\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\udc33\", \"n\":-12.5e+3, \"z\":0,"
                " \"t\":true, \"f\":false, \"null\":null, \"a\":[1,[],{}], \"o\":{\"k\":\"v\"}}\n";
        JsonValue v = {};
        const JsonValue *x;

        assert_int_equal(json_parse(doc, strlen(doc), &v, NULL), 0);
        assert_int_equal(v.type, JSON_OBJECT);
        assert_int_equal(v.n_items, 8);
        x = json_object_get(&v, "s");
        assert_non_null(x);
        assert_int_equal(x->type, JSON_STRING);
        assert_string_equal(x->text, "a\"b\\c/\b\f\n\r\t\xc3\xa9\xf0\x9f\x90\xb3");
        x = json_object_get(&v, "n");
        assert_int_equal(x->type, JSON_NUMBER);
        assert_string_equal(x->text, "-12.5e+3");
        assert_int_equal(json_object_get(&v, "t")->boolean, true);
        assert_int_equal(json_object_get(&v, "f")->type, JSON_BOOLEAN);
        assert_int_equal(json_object_get(&v, "f")->boolean, false);
        assert_int_equal(json_object_get(&v, "null")->type, JSON_NULL);
        x = json_object_get(&v, "a");
        assert_int_equal(x->type, JSON_ARRAY);
        assert_int_equal(x->n_items, 3);
        assert_int_equal(x->items[1].type, JSON_ARRAY);
        assert_int_equal(x->items[2].type, JSON_OBJECT);
        assert_string_equal(json_object_get(json_object_get(&v, "o"), "k")->text, "v");
        assert_null(json_object_get(&v, "missing"));
        assert_null(json_object_get(x, "k")); /* not an object */
        json_value_done(&v);
}

static void test_json_bad(void **state) {
        char deep[JSON_DEPTH_MAX * 2 + 3];
        JsonValue v = {};

        check_bad("", "line 1, column 1: expected a value");
        check_bad("{", "expected a member name");
        check_bad("{\"a\":1,}", "expected a member name");
        check_bad("[1,]", "unexpected character ']'");
        check_bad("[1 2]", "expected ',' or ']'");
        check_bad("{\"a\" 1}", "expected ':'");
        check_bad("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
        check_bad("\"abc", "unterminated string");
        check_bad("\"a\nb\"", "control character 0x0a");
        check_bad("\"\\x\"", "invalid escape '\\x'");
        check_bad("\"\\u00zz\"", "invalid \\u escape");
        check_bad("\"\\u0000\"", "\\u0000");
        check_bad("\"\\udc00\"", "lone low surrogate");
        check_bad("\"\\ud800x\"", "without a low one");
        check_bad("01", "trailing characters");
        check_bad("-", "invalid number");
        check_bad("1.", "no digit after '.'");
        check_bad("1e", "no digit in the exponent");
        check_bad("tru", "invalid literal");
        check_bad("{} {}", "trailing characters");
        check_bad("[1,\n  @]", "line 2, column 3: unexpected character '@'");

        memset(deep, '[', JSON_DEPTH_MAX + 1);
        memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
        deep[2 * JSON_DEPTH_MAX + 2] = 0;
        check_bad(deep, "nested deeper than");
        /* exactly the maximum is fine */
        assert_int_equal(json_parse(deep + 1, 2 * JSON_DEPTH_MAX, &v, NULL), 0);
        json_value_done(&v);

        /* an embedded NUL is refused, not silently cut */
        assert_int_equal(json_parse("{}\0{}", 5, &v, NULL), -EINVAL);
}

#define GOOD_RECORD                                                                                     \
        "{\"service\":\"metabase\",\"account\":\"container-db\",\"kind\":\"container\",\"state\":\"applied\"," \
        "\"step\":\"healthy\",\"units\":[\"metabase.service\"],"                                         \
        "\"root_files\":[\"/etc/containers/systemd/metabase.container\"],"                               \
        "\"techniques\":[\"ownership-shift\",\"host-loopback\"],\"host_changes\":[],"                      \
        "\"error\":null,\"updated\":\"2026-11-29T07:00:00Z\",\"future\":{\"x\":[1]}}"

static void test_record_parse(void **state) {
        MigrateRecord r = {};
        ErrorInfo e = {};

        assert_int_equal(migrate_record_parse(GOOD_RECORD, strlen(GOOD_RECORD), "r.json", &r, &e), 0);
        assert_string_equal(r.service, "metabase");
        assert_string_equal(r.account, "container-db");
        assert_false(r.pod);
        assert_int_equal(r.state, MIGRATE_STATE_APPLIED);
        assert_string_equal(r.step, "healthy");
        assert_int_equal(strv_length(r.units), 1);
        assert_string_equal(r.units[0], "metabase.service");
        assert_string_equal(r.techniques[1], "host-loopback");
        assert_int_equal(strv_length(r.host_changes), 0);
        assert_null(r.error);
        assert_string_equal(r.updated, "2026-11-29T07:00:00Z");
        migrate_record_done(&r);

        /* optional members may be absent: lists come back empty, not NULL */
        static const char minimal[] = "{\"service\":\"bb\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"failed\","
                                      "\"error\":\"shift: 'x' is a symlink\"}";
        assert_int_equal(migrate_record_parse(minimal, strlen(minimal), "r.json", &r, &e), 0);
        assert_true(r.pod);
        assert_int_equal(r.state, MIGRATE_STATE_FAILED);
        assert_non_null(r.units);
        assert_null(r.units[0]);
        assert_string_equal(r.error, "shift: 'x' is a symlink");
        migrate_record_done(&r);
}

static void check_record_bad(const char *text, const char *field, const char *msg) {
        MigrateRecord r = {};
        ErrorInfo e = {};

        assert_int_equal(migrate_record_parse(text, strlen(text), "/x/record.json", &r, &e), -EINVAL);
        assert_string_equal(e.field, field);
        if (!strstr(e.message, msg) || !strstr(e.message, "/x/record.json"))
                fail_msg("error '%s' does not name the file and '%s'", e.message, msg);
        assert_null(r.service);
}

static void test_record_bad(void **state) {
        check_record_bad("[]", "", "must hold one JSON object, not an array");
        check_record_bad("{\"service\":", "", "not valid JSON: line 1, column 12");
        check_record_bad("{\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\"}", "service",
                         "field 'service' is missing");
        check_record_bad("{\"service\":7,\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\"}", "service",
                         "must be a string, not a number");
        check_record_bad("{\"service\":\"../etc\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\"}", "service",
                         "'../etc' is not a valid name");
        check_record_bad("{\"service\":\"s\",\"account\":\"a\",\"kind\":\"vm\",\"state\":\"applied\"}", "kind",
                         "'vm' is not 'container' or 'pod'");
        check_record_bad("{\"service\":\"s\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"done\"}", "state",
                         "'done' is not one of applying, applied");
        check_record_bad("{\"service\":\"s\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\",\"units\":\"x\"}",
                         "units", "must be an array of strings, not a string");
        check_record_bad("{\"service\":\"s\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\","
                         "\"techniques\":[\"a\",null]}", "techniques[1]", "field 'techniques[1]' must be a string, not null");
        check_record_bad("{\"service\":\"s\",\"account\":\"a\",\"kind\":\"pod\",\"state\":\"applied\","
                         "\"error\":\"a\\u001bb\"}", "error", "contains a control character");
}

static char *mkroot(void) {
        char *t = strdup("/tmp/test-migrate-record-XXXXXX");
        assert_non_null(mkdtemp(t));
        return t;
}

static void put(const char *root, const char *rel, const char *text) {
        char *p, *c;
        FILE *f;

        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        for (c = p + strlen(root) + 1; (c = strchr(c, '/')); c++) {
                *c = 0;
                (void) mkdir(p, 0700);
                *c = '/';
        }
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        free(p);
}

static void test_record_load(void **state) {
        char *root = mkroot(), **l = NULL, *cmd;
        MigrateRecord r = {};
        ErrorInfo e = {};

        /* no state directory: no records */
        assert_int_equal(migrate_record_list(root, &l), 0);
        assert_null(l[0]);
        strv_free(l);
        assert_int_equal(migrate_record_load(root, "metabase", &r, &e), -ENOENT);

        put(root, "/var/lib/unroot/migrate/metabase/record.json", GOOD_RECORD);
        put(root, "/var/lib/unroot/migrate/other/record.json", GOOD_RECORD);
        put(root, "/var/lib/unroot/migrate/.tmp-x/record.json", GOOD_RECORD);
        put(root, "/var/lib/unroot/migrate/afile", "");
        assert_int_equal(migrate_record_list(root, &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "metabase");
        assert_string_equal(l[1], "other");
        strv_free(l);

        assert_int_equal(migrate_record_load(root, "metabase", &r, &e), 0);
        assert_string_equal(r.account, "container-db");
        migrate_record_done(&r);

        /* a record in the wrong directory names the mismatch */
        assert_int_equal(migrate_record_load(root, "other", &r, &e), -EINVAL);
        assert_string_equal(e.field, "service");
        assert_non_null(strstr(e.message, "other/record.json: field 'service': 'metabase' is not the name"));

        /* a symlinked record is not followed */
        assert_true(asprintf(&cmd, "mkdir -p %s/var/lib/unroot/migrate/link && ln -s ../metabase/record.json "
                             "%s/var/lib/unroot/migrate/link/record.json", root, root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        assert_int_equal(migrate_record_load(root, "link", &r, &e), -ELOOP);
        assert_non_null(strstr(e.message, "link/record.json: cannot read: Too many levels of symbolic links"));

        assert_true(asprintf(&cmd, "rm -rf %s", root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_values),
                cmocka_unit_test(test_json_bad),
                cmocka_unit_test(test_record_parse),
                cmocka_unit_test(test_record_bad),
                cmocka_unit_test(test_record_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
