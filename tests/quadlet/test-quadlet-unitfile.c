/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the Quadlet unit-file parser, writer, lookups and word splitting
 * (docs/quadlet.md §2), and for the pure converter API. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quadlet.h"
#include "unitfile.h"

static UnitFile *parse_ok(const char *text, const char *path) {
        UnitFile *f = NULL;
        char *err = NULL;
        int r = unit_file_parse(text, strlen(text), path, &f, &err);
        if (r < 0)
                print_error("parse failed: %s\n", err ? err : "?");
        assert_int_equal(r, 0);
        assert_null(err);
        return f;
}

static void parse_err(const char *text, const char *want) {
        UnitFile *f = NULL;
        char *err = NULL;
        int r = unit_file_parse(text, strlen(text), "/x/y.container", &f, &err);
        assert_int_equal(r, -EBADMSG);
        assert_null(f);
        assert_non_null(err);
        assert_string_equal(err, want);
        free(err);
}

static void test_continuation(void **state) {
        /* "\ " counts (lines are trimmed first); no separator is inserted; comments inside a
         * continuation are skipped; a pending continuation at EOF is discarded. */
        UnitFile *f = parse_ok("[A]\nK=a \\\n# comment\n\nb \\ \n  c\nL=x\\\n", "/d/t.container");
        char *v = unit_file_lookup(f, "A", "K");
        assert_string_equal(v, "a b c");
        free(v);
        v = unit_file_lookup(f, "A", "L");
        assert_string_equal(v, "x"); /* a '\' on the very last line is just stripped */
        free(v);
        unit_file_free(f);

        f = parse_ok("[A]\nK=a\\\n", NULL);
        assert_true(unit_file_has_key(f, "A", "K"));
        unit_file_free(f);

        f = parse_ok("[A]\nK=a\\\n# c\n", NULL);
        assert_false(unit_file_has_key(f, "A", "K")); /* discarded at EOF */
        unit_file_free(f);
}

static void test_errors(void **state) {
        parse_err("K=v\n", "key file does not start with a group");
        parse_err("[A]\nnonsense\n", "file contains line 2: “nonsense” which is not a key-value pair, group, or comment");
        parse_err("[A]\n=v\n", "file contains line 2: “=v” which is not a key-value pair, group, or comment");
        parse_err("[A\x01]\n", "invalid group name: A\x01");
        /* Keys starting with '[' are refused (a deliberate difference from podman): at the end
         * of the file, a line's trailing '\\' goes after the blanks are trimmed, so "[a=b] \v\\"
         * is the key "[a" with the value "b] \v", which podman's writer prints as the group line
         * "[a=b]". */
        parse_err("[A]\n[a=b]x\n", "invalid key name: [a");
        parse_err("[A]\n[[n=dC] \t\t\v\\\v\v", "invalid key name: [[n");
}

static void test_nul_byte(void **state) {
        /* Found by fuzzing: a NUL inside a value made print → parse not a fixed point. */
        static const char data[] = "[Unit]\n[Un:A=x\v\0\0\0\0\0\0\0\0\0""1\n";
        UnitFile *f = NULL;
        char *err = NULL;

        assert_int_equal(unit_file_parse(data, sizeof data - 1, "/q/nul.container", &f, &err), -EBADMSG);
        assert_null(f);
        assert_non_null(err);
        assert_non_null(strstr(err, "NUL byte"));
        free(err);
}

static void test_lookup(void **state) {
        UnitFile *f = parse_ok("[A]\nName=\"RemoveQuotes\"Name\"\nT=x  \nL=a\nL=\nL=b\nL=c d\n"
                               "B=On\nB2=nope\nN=0x10\nO=010\nNeg=-1\n",
                               NULL);
        Strv s = {};
        char *v;

        v = unit_file_lookup(f, "A", "Name");
        assert_string_equal(v, "RemoveQuotes\"Name");
        free(v);
        v = unit_file_lookup(f, "A", "T");
        assert_string_equal(v, "x");
        free(v);

        unit_file_lookup_all(f, "A", "L", &s);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.v[0], "b");
        assert_string_equal(s.v[1], "c d");
        strv_done(&s);

        unit_file_lookup_all_strv(f, "A", "L", &s);
        assert_int_equal(s.n, 3);
        strv_done(&s);

        assert_int_equal(unit_file_lookup_boolean(f, "A", "B"), 1);
        assert_int_equal(unit_file_lookup_boolean(f, "A", "B2"), 0);
        assert_int_equal(unit_file_lookup_boolean(f, "A", "Missing"), -ENOENT);
        assert_int_equal(unit_file_lookup_uint32(f, "A", "N", 7), 16);
        assert_int_equal(unit_file_lookup_uint32(f, "A", "O", 7), 8);
        assert_int_equal(unit_file_lookup_uint32(f, "A", "Neg", 7), 7);
        unit_file_free(f);
}

static void test_split(void **state) {
        Strv s = {};
        char *err = NULL;

        assert_int_equal(split_string("/p \"an arg\" 'a\"b' '\\110ello \\127orld' a\\sb", WHITESPACE_SEPARATORS,
                                      SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE, &s, &err),
                         0);
        assert_int_equal(s.n, 5);
        assert_string_equal(s.v[1], "an arg");
        assert_string_equal(s.v[2], "a\"b");
        assert_string_equal(s.v[3], "Hello World");
        assert_string_equal(s.v[4], "a b");
        strv_done(&s);

        assert_int_equal(split_string("ok a\\.b", WHITESPACE_SEPARATORS, SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE,
                                      &s, &err),
                         -EINVAL);
        assert_string_equal(err, "unsupported escape char");
        assert_int_equal(s.n, 0); /* nothing appended on error */
        free(err);

        /* strv style keeps backslashes */
        assert_int_equal(split_string("\"a b\" c\\d", WHITESPACE_SEPARATORS, SPLIT_RETAIN_ESCAPE | SPLIT_UNQUOTE, &s,
                                      NULL),
                         0);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.v[0], "a b");
        assert_string_equal(s.v[1], "c\\d");
        strv_done(&s);
}

static void test_escape_words(void **state) {
        char *words[] = { (char *) "podman", (char *) "a b", (char *) "x\"y", (char *) "t\tn\n", (char *) "plain" };
        char *j = escape_words(words, 5);
        assert_string_equal(j, "podman \"a b\" \"x\\\"y\" \"t\\tn\\n\" plain");
        free(j);
}

static void test_writer_order(void **state) {
        /* comments before a group stay with it; one blank line before a group is re-added by the
         * writer; new groups are appended. */
        UnitFile *f = parse_ok("## c1\n[Container]\nImage=x\n\n[Install]\nWantedBy=a\n", "/d/t.container");
        char *out = NULL;

        unit_file_add(f, "Service", "K", "v");
        unit_file_prepend_line(f, "Install", "P", "1");
        unit_file_rename_group(f, "Container", "X-Container");
        assert_int_equal(unit_file_to_string(f, &out), 0);
        assert_string_equal(out, "## c1\n[X-Container]\nImage=x\n\n[Install]\nP=1\nWantedBy=a\n\n[Service]\nK=v\n");
        free(out);
        unit_file_free(f);
}

/* The writer's output reads back to the same file (print is a fixed point): a value ending in
 * backslashes (from a '\\' on a file's last line) is written with "\\x5c" for each, not as a
 * continuation that would swallow the next line; trailing blanks of a value are left out; blank
 * lines before the first group are not written (found by fuzzing, tests/fuzz/corpus). */
static void test_writer_round_trip(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "[A]\nK=a\\\\\n", "[A]\nK=a\\x5c\n" },
                { "[A]\nK=\\\\\\\\\n", "[A]\nK=\\x5c\\x5c\\x5c\n" },
                { "[A]\nK=a \\\n", "[A]\nK=a\n" },
                { "[A]\nK=a\\ \\\n", "[A]\nK=a\\x5c\n" },
                { "\n\n\n[A]\nK=v\n\n\n[B]\nL=w\n", "[A]\nK=v\n\n\n[B]\nL=w\n" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                UnitFile *f = parse_ok(cases[i].in, NULL), *g;
                char *out = NULL, *again = NULL;

                assert_int_equal(unit_file_to_string(f, &out), 0);
                assert_string_equal(out, cases[i].out);
                g = parse_ok(out, NULL);
                assert_int_equal(unit_file_to_string(g, &again), 0);
                assert_string_equal(again, out);
                free(out);
                free(again);
                unit_file_free(f);
                unit_file_free(g);
        }
}

static void test_merge(void **state) {
        UnitFile *a = parse_ok("[Container]\nImage=x\nEnvironment=A=1\n", "/d/t.container");
        UnitFile *b = parse_ok("[Container]\nEnvironment=\nEnvironment=B=2\n[Unit]\nDescription=d\n", "/d/t.container.d/10.conf");
        Strv s = {};

        assert_int_equal(unit_file_merge(a, b), 0);
        unit_file_lookup_all(a, "Container", "Environment", &s);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.v[0], "B=2");
        assert_true(unit_file_has_group(a, "Unit"));
        strv_done(&s);
        unit_file_free(a);
        unit_file_free(b);
}

static int no_path(const char *p, void *userdata) {
        return 0;
}

static void convert(const char *name, const char *text, unsigned version, bool user, UnitFile **ret, char **ret_error) {
        UnitFile *f = NULL;
        QuadletUnitsInfo info = {};
        char *path = NULL;

        assert_true(asprintf(&path, "/q/%s", name) > 0);
        f = parse_ok(text, path);
        assert_int_equal(quadlet_units_info_add(&info, f), 0);
        QuadletContext ctx = {
                .is_user = user, .podman_version = version, .units = &info, .path_exists = no_path,
        };
        (void) quadlet_convert(f, &ctx, ret, NULL, ret_error);
        quadlet_units_info_done(&info);
        unit_file_free(f);
        free(path);
}

static void test_convert_volume_43(void **state) {
        UnitFile *s = NULL;
        char *err = NULL, *v;

        convert("data.volume", "[Volume]\nLabel=a=b\n", QUADLET_PODMAN_VERSION(4, 3), true, &s, &err);
        assert_null(err);
        assert_non_null(s);
        assert_string_equal(s->filename, "data-volume.service");
        v = unit_file_lookup(s, "Service", "ExecStart");
        assert_string_equal(v, "/bin/sh -c \"/usr/bin/podman volume exists systemd-data || exec /usr/bin/podman volume create "
                               "--label a=b systemd-data\"");
        free(v);
        v = unit_file_lookup(s, "Unit", "Wants");
        /* no podman-user-wait-network-online.service before 5.3: unroot's own wait unit */
        assert_string_equal(v, "unroot-wait-online.service");
        free(v);
        v = unit_file_lookup(s, "Unit", "After");
        assert_string_equal(v, "unroot-wait-online.service");
        free(v);
        unit_file_free(s);

        convert("data.volume", "[Volume]\n", QUADLET_PODMAN_VERSION(5, 4), true, &s, &err);
        v = unit_file_lookup(s, "Service", "ExecStart");
        assert_string_equal(v, "/usr/bin/podman volume create --ignore systemd-data");
        free(v);
        unit_file_free(s);
}

/* The implicit network dependency: system target in system mode; in user mode podman's helper
 * unit from 5.3 and unroot's own wait unit below; none with [Quadlet] DefaultDependencies=false. */
static void test_network_dependency(void **state) {
        static const struct {
                unsigned version;
                bool user;
                const char *text, *want; /* want NULL: no Wants= */
        } cases[] = {
                { QUADLET_PODMAN_VERSION(5, 4), false, "[Network]\n", "network-online.target" },
                { QUADLET_PODMAN_VERSION(4, 3), false, "[Network]\n", "network-online.target" },
                { QUADLET_PODMAN_VERSION(5, 4), true, "[Network]\n", "podman-user-wait-network-online.service" },
                { QUADLET_PODMAN_VERSION(5, 3), true, "[Network]\n", "podman-user-wait-network-online.service" },
                { QUADLET_PODMAN_VERSION(5, 2), true, "[Network]\n", "unroot-wait-online.service" },
                { QUADLET_PODMAN_VERSION(4, 3), true, "[Network]\n", "unroot-wait-online.service" },
                { QUADLET_PODMAN_VERSION(4, 3), true, "[Network]\n[Quadlet]\nDefaultDependencies=false\n", NULL },
                { QUADLET_PODMAN_VERSION(4, 3), false, "[Network]\n[Quadlet]\nDefaultDependencies=no\n", NULL },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                UnitFile *s = NULL;
                char *err = NULL, *w, *a;
                Strv all = {};

                convert("n.network", cases[i].text, cases[i].version, cases[i].user, &s, &err);
                assert_null(err);
                assert_non_null(s);
                w = unit_file_lookup(s, "Unit", "Wants");
                a = unit_file_lookup(s, "Unit", "After");
                if (!cases[i].want) {
                        assert_null(w);
                        assert_null(a);
                } else {
                        assert_string_equal(w, cases[i].want);
                        assert_string_equal(a, cases[i].want);
                }
                /* exactly one of each, nothing else network-related */
                unit_file_lookup_all(s, "Unit", "Wants", &all);
                assert_int_equal(all.n, cases[i].want ? 1 : 0);
                strv_done(&all);
                free(w);
                free(a);
                unit_file_free(s);
        }
}

static void test_convert_version_errors(void **state) {
        UnitFile *s = NULL;
        char *err = NULL;

        convert("web.container", "[Container]\nImage=quay.io/x\nNotify=healthy\n", QUADLET_PODMAN_VERSION(4, 3), false, &s,
                &err);
        assert_null(s);
        assert_string_equal(err, "Notify=healthy in [Container] needs podman 5.0 or newer, but the target is podman 4.3");
        free(err);

        convert("web.container", "[Container]\nImage=quay.io/x\nBogus=1\n", QUADLET_PODMAN_VERSION(5, 4), false, &s, &err);
        assert_null(s);
        assert_string_equal(err, "unsupported key 'Bogus' in group 'Container' in /q/web.container");
        free(err);
}

static void test_dropin_dirs(void **state) {
        Strv s = {};

        assert_int_equal(quadlet_dropin_dirs("foo-bar@inst.container", &s), 0);
        assert_int_equal(s.n, 5);
        assert_string_equal(s.v[0], "foo-bar@inst.container.d");
        assert_string_equal(s.v[1], "foo-bar@.container.d");
        assert_string_equal(s.v[2], "foo-@.container.d");
        assert_string_equal(s.v[3], "foo-.container.d");
        assert_string_equal(s.v[4], "container.d");
        strv_done(&s);

        assert_int_equal(quadlet_dropin_dirs("web.volume", &s), 0);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.v[0], "web.volume.d");
        assert_string_equal(s.v[1], "volume.d");
        strv_done(&s);
}

static void test_podman_version(void **state) {
        unsigned v = 0;

        assert_int_equal(quadlet_parse_podman_version("podman version 4.3.1\n", &v), 0);
        assert_int_equal(v, QUADLET_PODMAN_VERSION(4, 3));
        assert_int_equal(quadlet_parse_podman_version("5.4", &v), 0);
        assert_int_equal(v, 504);
        assert_int_equal(quadlet_parse_podman_version("five", &v), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_continuation),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_lookup),
                cmocka_unit_test(test_split),
                cmocka_unit_test(test_escape_words),
                cmocka_unit_test(test_writer_order),
                cmocka_unit_test(test_writer_round_trip),
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_convert_volume_43),
                cmocka_unit_test(test_network_dependency),
                cmocka_unit_test(test_convert_version_errors),
                cmocka_unit_test(test_dropin_dirs),
                cmocka_unit_test(test_podman_version),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
