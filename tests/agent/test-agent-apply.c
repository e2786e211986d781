/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The apply loop's pure parts: diff → action plan, the debounce deadline, the health log parser,
 * unit name validation and the new requests (unit actions, reapply). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent-apply.h"
#include "agent-health.h"
#include "agent-request.h"
#include "agent-trim.h"
#include "agent-watch.h"
#include "agent.pb-c.h"

static void add(Strv *s, const char *const *v) {
        for (; *v; v++)
                strv_add(s, *v);
}

static void test_actions_from_diff(void **state) {
        RenderDiff d = {};
        ApplyActions a = {};

        add(&d.added, (const char *[]) { "db-volume.service", "default.target.wants/web.service", "web.service", NULL });
        add(&d.changed, (const char *[]) { "app.service", NULL });
        add(&d.unchanged, (const char *[]) { "cache.service", NULL });
        add(&d.removed, (const char *[]) { "old.service", "default.target.wants/old.service", "old-net.service", NULL });
        add(&d.kept, (const char *[]) { "broken.service", NULL });
        /* start order from render_diff: volume, then containers */
        add(&d.restart, (const char *[]) { "db-volume.service", "app.service", "web.service", NULL });

        assert_int_equal(apply_actions_from_diff(&d, &a), 0);
        assert_int_equal(a.n, 5);
        assert_int_equal(a.n_stop, 2);
        assert_true(a.reload);
        assert_int_equal(a.steps[0].kind, APPLY_STOP);
        assert_string_equal(a.steps[0].unit, "old.service");
        assert_int_equal(a.steps[1].kind, APPLY_STOP);
        assert_string_equal(a.steps[1].unit, "old-net.service");
        assert_int_equal(a.steps[2].kind, APPLY_START);
        assert_string_equal(a.steps[2].unit, "db-volume.service");
        assert_int_equal(a.steps[3].kind, APPLY_RESTART);
        assert_string_equal(a.steps[3].unit, "app.service");
        assert_int_equal(a.steps[4].kind, APPLY_START);
        assert_string_equal(a.steps[4].unit, "web.service");
        assert_string_equal(apply_step_kind_to_string(APPLY_RESTART), "restart");
        assert_null(apply_step_kind_to_string(_APPLY_STEP_KIND_MAX));
        apply_actions_done(&a);
        render_diff_done(&d);
}

static void test_actions_nothing_changed(void **state) {
        RenderDiff d = {};
        ApplyActions a = {};

        add(&d.unchanged, (const char *[]) { "web.service", "default.target.wants/web.service", NULL });
        add(&d.kept, (const char *[]) { "broken.service", NULL });
        assert_int_equal(apply_actions_from_diff(&d, &a), 0);
        assert_int_equal(a.n, 0);
        assert_false(a.reload);
        apply_actions_done(&a);
        render_diff_done(&d);

        /* Only a link changed: reload, nothing to start. */
        d = (RenderDiff) {};
        add(&d.added, (const char *[]) { "default.target.wants/web.service", NULL });
        assert_int_equal(apply_actions_from_diff(&d, &a), 0);
        assert_int_equal(a.n, 0);
        assert_true(a.reload);
        apply_actions_done(&a);
        render_diff_done(&d);
}

static void test_path_is_service(void **state) {
        assert_true(apply_path_is_service("web.service"));
        assert_false(apply_path_is_service("default.target.wants/web.service"));
        assert_false(apply_path_is_service("web.socket"));
        assert_false(apply_path_is_service(".service"));
}

static void test_debounce(void **state) {
        const uint64_t ms = 1000;

        /* first event: now + delay */
        assert_int_equal(debounce_deadline(0, 1000 * ms, 200 * ms, 2000 * ms), 1200 * ms);
        /* a later event of the same burst moves it */
        assert_int_equal(debounce_deadline(1000 * ms, 1100 * ms, 200 * ms, 2000 * ms), 1300 * ms);
        /* but never beyond first + max */
        assert_int_equal(debounce_deadline(1000 * ms, 2900 * ms, 200 * ms, 2000 * ms), 3000 * ms);
        assert_int_equal(debounce_deadline(1000 * ms, 5000 * ms, 200 * ms, 2000 * ms), 5000 * ms);
        /* a first event in the future (clock confusion) is ignored */
        assert_int_equal(debounce_deadline(9000 * ms, 1000 * ms, 200 * ms, 2000 * ms), 1200 * ms);
}

static void test_health_parse(void **state) {
        char *s = NULL;

        assert_int_equal(health_parse_log("{\"Status\":\"healthy\",\"FailingStreak\":0,\"Log\":[]}", &s), 0);
        assert_string_equal(s, "healthy");
        free(s);
        assert_int_equal(health_parse_log("{ \"Status\" : \"unhealthy\" }", &s), 0);
        assert_string_equal(s, "unhealthy");
        free(s);
        assert_int_equal(health_parse_log("{\"Log\":[{\"ExitCode\":0}]}", &s), -ENODATA);
        assert_int_equal(health_parse_log("{\"Status\":\"\"}", &s), -ENODATA);
        assert_int_equal(health_parse_log("{\"Status\":\"esc\\\"aped\"}", &s), -ENODATA);
        assert_int_equal(health_parse_log("{\"Status\":42}", &s), -ENODATA);
        assert_int_equal(health_parse_log("{\"Status\":\"unterminated", &s), -ENODATA);
        assert_int_equal(container_health(NULL, "/nonexistent", "/nonexistent", "web.service", &s), -ENOENT);
        assert_int_equal(container_health(NULL, "/nonexistent", NULL, "web.socket", &s), -ENOENT);
}

static void put(const char *dir, const char *name, const char *text) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void test_unit_container_id(void **state) {
        char root[] = "/tmp/test-cid.XXXXXX", dir[256], p[512];
        static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char *cid = NULL;

        assert_non_null(mkdtemp(root));
        snprintf(dir, sizeof dir, "%s/run", root);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(dir, sizeof dir, "%s/run/user", root);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(dir, sizeof dir, "%s/run/user/990", root);
        assert_int_equal(mkdir(dir, 0755), 0);

        put(dir, "web.cid", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
        assert_int_equal(unit_container_id(root, "/run/user/990", "web.service", &cid), 0);
        assert_string_equal(cid, id);
        free(cid);
        cid = NULL;
        /* garbage: not an id, too short, upper case, a symlink, a FIFO (must not block), none */
        put(dir, "junk.cid", "not a container id\n");
        assert_int_equal(unit_container_id(root, "/run/user/990", "junk.service", &cid), -ENOENT);
        put(dir, "short.cid", "0123456789abcdef");
        assert_int_equal(unit_container_id(root, "/run/user/990", "short.service", &cid), -ENOENT);
        put(dir, "upper.cid", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_int_equal(unit_container_id(root, "/run/user/990", "upper.service", &cid), -ENOENT);
        snprintf(p, sizeof p, "%s/link.cid", dir);
        assert_int_equal(symlink("web.cid", p), 0);
        assert_int_equal(unit_container_id(root, "/run/user/990", "link.service", &cid), -ELOOP);
        snprintf(p, sizeof p, "%s/fifo.cid", dir);
        assert_int_equal(mkfifo(p, 0600), 0);
        assert_int_equal(unit_container_id(root, "/run/user/990", "fifo.service", &cid), -ENOENT);
        assert_int_equal(unit_container_id(root, "/run/user/990", "gone.service", &cid), -ENOENT);
        assert_int_equal(unit_container_id(root, "/run/user/990", "web.socket", &cid), -ENOENT);
        assert_null(cid);

        snprintf(p, sizeof p, "rm -rf '%s'", root);
        assert_int_equal(system(p), 0);
}

static void test_unit_name_check(void **state) {
        ErrorInfo e = {};
        char longname[300];

        assert_int_equal(agent_unit_name_check("web.service", "unit", &e), 0);
        assert_int_equal(agent_unit_name_check("a-b_c@x\\x2d.timer", "unit", &e), 0);
        assert_int_equal(agent_unit_name_check("", "unit", &e), -EINVAL);
        assert_string_equal(e.field, "unit");
        assert_string_equal(e.message, "unit: the unit name is empty");
        assert_int_equal(agent_unit_name_check("../x.service", "unit", &e), -EINVAL);
        assert_string_equal(e.message, "unit: the unit name contains byte 0x2f at offset 2, which systemd does not allow in unit names");
        assert_int_equal(agent_unit_name_check("web", "unit", &e), -EINVAL);
        assert_string_equal(e.message, "unit: 'web' has no unit type suffix (like .service)");
        assert_int_equal(agent_unit_name_check(".service", "unit", &e), -EINVAL);
        assert_int_equal(agent_unit_name_check("web.exe", "unit", &e), -EINVAL);
        assert_int_equal(agent_unit_name_check("we\nb.service", "unit", &e), -EINVAL);
        memset(longname, 'a', sizeof longname);
        strcpy(longname + 250, ".service");
        assert_int_equal(agent_unit_name_check(longname, "unit", &e), -EINVAL);
        assert_string_equal(e.message, "unit: the unit name is longer than 255 bytes");
}

static void test_requests(void **state) {
        static const AgentOp ops[] = { AGENT_OP_START, AGENT_OP_STOP, AGENT_OP_RESTART };
        AgentRequest r = {};
        ErrorInfo e = {};
        uint8_t *buf = NULL;
        size_t len;

        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(agent_request_pack(ops[i], "web.service", &buf, &len), 0);
                assert_int_equal(agent_request_parse(buf, len, &r, &e), 0);
                assert_int_equal(r.op, ops[i]);
                assert_string_equal(r.unit, "web.service");
                free(buf);
        }
        assert_int_equal(agent_request_pack(AGENT_OP_REAPPLY, NULL, &buf, &len), 0);
        assert_int_equal(agent_request_parse(buf, len, &r, &e), 0);
        assert_int_equal(r.op, AGENT_OP_REAPPLY);
        assert_string_equal(agent_op_to_string(r.op), "reapply");
        free(buf);
        assert_int_equal(agent_request_pack(AGENT_OP_START, NULL, &buf, &len), -EINVAL);

        /* A bad unit name is refused naming the field, whatever the peer's packer allowed. */
        assert_int_equal(agent_request_pack(AGENT_OP_STOP, "a/b.service", &buf, &len), 0);
        assert_int_equal(agent_request_parse(buf, len, &r, &e), -EINVAL);
        assert_string_equal(e.field, "unit");
        free(buf);

        /* An action number outside the enum. */
        {
                Unroot__Agent__UnitActionRequest ua = UNROOT__AGENT__UNIT_ACTION_REQUEST__INIT;
                Unroot__Agent__AgentRequest req = UNROOT__AGENT__AGENT_REQUEST__INIT;
                uint8_t b[64];
                ua.unit = (char *) "web.service";
                ua.action = 9;
                req.version = 1;
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_UNIT_ACTION;
                req.unit_action = &ua;
                len = unroot__agent__agent_request__pack(&req, b);
                memset(&e, 0, sizeof e);
                assert_true(agent_request_parse(b, len, &r, &e) < 0);
                assert_non_null(strstr(e.message, "action") ?: strstr(e.message, "malformed"));
        }
}

static void test_trim_maps_line(void **state) {
        unsigned long a = 0, b = 0;

        assert_int_equal(trim_maps_line("7f0000000000-7f0000010000 r-xp 00028000 08:01 1234    /usr/lib/libc.so.6\n",
                                        &a, &b), 1);
        assert_int_equal(a, 0x7f0000000000UL);
        assert_int_equal(b, 0x7f0000010000UL);
        assert_int_equal(trim_maps_line("7f0000000000-7f0000010000 r--p 00000000 08:01 1234    /usr/lib/libc.so.6\n",
                                        &a, &b), 1);
        /* writable, shared, anonymous, special */
        assert_int_equal(trim_maps_line("7f0000000000-7f0000010000 rw-p 00000000 08:01 1234    /usr/lib/libc.so.6\n",
                                        &a, &b), 0);
        assert_int_equal(trim_maps_line("7f0000000000-7f0000010000 r-xs 00000000 08:01 1234    /dev/shm/x\n", &a, &b), 0);
        assert_int_equal(trim_maps_line("7f0000000000-7f0000010000 r--p 00000000 00:00 0 \n", &a, &b), 0);
        assert_int_equal(trim_maps_line("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0       [vdso]\n", &a, &b), 0);
        assert_int_equal(trim_maps_line("Rss:                   4 kB\n", &a, &b), 0);
        /* and the real thing runs without harm */
        assert_true(trim_text_pages() >= 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_actions_from_diff),
                cmocka_unit_test(test_actions_nothing_changed),
                cmocka_unit_test(test_path_is_service),
                cmocka_unit_test(test_debounce),
                cmocka_unit_test(test_health_parse),
                cmocka_unit_test(test_unit_container_id),
                cmocka_unit_test(test_unit_name_check),
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_trim_maps_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
