/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration report renderer (agent/report-render.c): the founding report's twelve services in
 * the states a host can be in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json-parse.h"
#include "macro.h"
#include "report-render.h"
#include "strv-util.h"

/* The founding report's services: name, account, pod members (NULL: a container), techniques. */
typedef struct Spec {
        const char *name, *account;
        const char *members[3];
        const char *techniques;
} Spec;

static const Spec founding[] = {
        { "metabase", "container-db", {}, "\"ownership-shift\",\"host-loopback\",\"address-rewrite\",\"host-check-loopback\"" },
        { "wallabag", "container-db", {}, "\"ownership-shift\",\"host-loopback\",\"address-rewrite\"" },
        { "teable", "container-db", {}, "\"ownership-shift\",\"host-loopback\",\"address-rewrite\"" },
        { "nocobase", "container-db", {}, "\"ownership-shift\",\"host-loopback\",\"address-rewrite\"" },
        { "vanna", "container-db", {}, "\"image-copy\",\"pull-never\",\"host-loopback\"" },
        { "litellm", "container-db", {}, "\"host-loopback\",\"address-rewrite\",\"secret-recreate\"" },
        { "silly-tavern", "container-web", {}, "\"ownership-shift\"" },
        { "opnsense-exporter", "container-monitor", {}, "" },
        { "technitium-dns-exporter", "container-monitor", {}, "\"image-copy\",\"pull-never\",\"secret-group\"" },
        { "speedtest", "container-misc", {}, "" },
        { "budget-board", "container-misc", { "budget-board-server", "budget-board-client" }, "\"rootless-pod\",\"ownership-shift\"" },
        { "changedetection", "container-misc", { "changedetection-app", "changedetection-exporter" }, "\"rootless-pod\"" },
};

static const char *const account_names[] = { "container-db", "container-web", "container-monitor", "container-misc" };

typedef struct Fixture {
        ReportService services[ELEMENTSOF(founding) + 2];
        size_t n_services;
        AccountStatus accounts[ELEMENTSOF(account_names)];
        AgentUnitInfo units[ELEMENTSOF(account_names)][16];
        char unit_names[ELEMENTSOF(account_names)][16][64];
} Fixture;

static char **strv_of(const char *const *l, size_t n) {
        char **v = calloc(n + 1, sizeof(char *));
        assert_non_null(v);
        for (size_t i = 0; i < n && l[i]; i++)
                assert_non_null(v[i] = strdup(l[i]));
        return v;
}

static MigrateRecord *record(const char *json) {
        MigrateRecord *r = calloc(1, sizeof *r);
        ErrorInfo e = {};

        assert_non_null(r);
        if (migrate_record_parse(json, strlen(json), "test", r, &e) < 0)
                fail_msg("%s", e.message);
        return r;
}

static size_t account_index(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(account_names); i++)
                if (streq(account_names[i], name))
                        return i;
        fail_msg("no account %s", name);
        return 0;
}

/* Adds a running, healthy unit to the account's agent status. */
static void add_unit(Fixture *fx, const char *account, const char *unit) {
        size_t a = account_index(account);
        AgentStatusResult *st = &fx->accounts[a].agent;

        assert_true(st->n_units < 16);
        snprintf(fx->unit_names[a][st->n_units], 64, "%s", unit);
        fx->units[a][st->n_units] = (AgentUnitInfo) {
                .name = fx->unit_names[a][st->n_units],
                .active_state = (char *) "active",
                .sub_state = (char *) "running",
                .health = (char *) "healthy",
        };
        st->n_units++;
}

static AgentUnitInfo *unit_of(Fixture *fx, const char *account, const char *unit) {
        size_t a = account_index(account);
        for (size_t i = 0; i < fx->accounts[a].agent.n_units; i++)
                if (streq(fx->units[a][i].name, unit))
                        return &fx->units[a][i];
        fail_msg("no unit %s", unit);
        return NULL;
}

/* The first `migrated` services applied and running under their accounts, the rest still root. */
static void fixture_init(Fixture *fx, size_t migrated) {
        *fx = (Fixture) {};
        for (size_t i = 0; i < ELEMENTSOF(account_names); i++)
                fx->accounts[i] = (AccountStatus) {
                        .name = (char *) account_names[i],
                        .found = true,
                        .agent = { .state = AGENT_STATE_ANSWERING, .version = (char *) "0.1.0",
                                   .manager_state = (char *) "running", .units = fx->units[i] },
                };
        for (size_t i = 0; i < ELEMENTSOF(founding); i++) {
                const Spec *sp = &founding[i];
                ReportService *s = &fx->services[fx->n_services++];
                bool pod = sp->members[0];
                char *json = NULL, units[512];

                *s = (ReportService) { .pod = pod };
                assert_non_null(s->name = strdup(sp->name));
                if (pod)
                        s->members = strv_of(sp->members, 2);
                if (i >= migrated) {
                        s->root_files_present = true;
                        continue;
                }
                if (pod)
                        snprintf(units, sizeof units, "\"%s-pod.service\",\"%s.service\",\"%s.service\"", sp->name,
                                 sp->members[0], sp->members[1]);
                else
                        snprintf(units, sizeof units, "\"%s.service\"", sp->name);
                assert_true(asprintf(&json, "{\"service\":\"%s\",\"account\":\"%s\",\"kind\":\"%s\",\"state\":\"applied\","
                                     "\"step\":\"healthy\",\"units\":[%s],\"techniques\":[%s],\"host_changes\":[%s],"
                                     "\"updated\":\"2026-11-29T07:00:00Z\"}",
                                     sp->name, sp->account, pod ? "pod" : "container", units, sp->techniques,
                                     streq(sp->name, "litellm") ? "\"redis: bind 127.0.0.1 instead of 10.88.0.1\"" : "") > 0);
                s->record = record(json);
                free(json);
                for (char **u = s->record->units; *u; u++)
                        add_unit(fx, sp->account, *u);
        }
}

/* Replaces service i's record (json NULL: none). */
static void set_record(Fixture *fx, size_t i, const char *json) {
        if (fx->services[i].record) {
                migrate_record_done(fx->services[i].record);
                free(fx->services[i].record);
        }
        fx->services[i].record = json ? record(json) : NULL;
}

static void fixture_done(Fixture *fx) {
        for (size_t i = 0; i < fx->n_services; i++)
                report_service_done(&fx->services[i]);
}

static char *render(Fixture *fx, char *const *warnings) {
        ReportInput in = {
                .generated = "2026-11-29 07:00 UTC",
                .host = "testbed",
                .services = fx->services,
                .n_services = fx->n_services,
                .accounts = fx->accounts,
                .n_accounts = ELEMENTSOF(account_names),
                .warnings = warnings,
        };
        char *md = NULL;

        assert_int_equal(report_render_markdown(&in, &md), 0);
        assert_non_null(md);
        if (getenv("TEST_REPORT_PRINT")) /* to look at the reports by eye */
                fprintf(stderr, "%s\n=====\n", md);
        return md;
}

static void expect(const char *md, const char *want) {
        if (!strstr(md, want)) {
                fprintf(stderr, "# report does not contain:\n%s\n# --- report:\n%s", want, md);
                fail();
        }
}

static void expect_not(const char *md, const char *unwanted) {
        if (strstr(md, unwanted)) {
                fprintf(stderr, "# report contains:\n%s\n# --- report:\n%s", unwanted, md);
                fail();
        }
}

/* JSON document's integer member. */
static long json_count(const char *doc, const char *key) {
        JsonValue v = {};
        const JsonValue *x;
        long n;

        assert_int_equal(json_parse(doc, strlen(doc), &v, NULL), 0);
        x = json_object_get(&v, key);
        assert_non_null(x);
        assert_int_equal(x->type, JSON_NUMBER);
        n = strtol(x->text, NULL, 10);
        json_value_done(&v);
        return n;
}

static char *render_json(Fixture *fx) {
        ReportInput in = {
                .services = fx->services,
                .n_services = fx->n_services,
                .accounts = fx->accounts,
                .n_accounts = ELEMENTSOF(account_names),
        };
        char *doc = NULL;

        assert_int_equal(report_render_json(&in, &doc), 0);
        return doc;
}

static void test_twelve_of_twelve(void **state) {
        Fixture fx;
        char *md, *doc;

        fixture_init(&fx, 12);
        md = render(&fx, NULL);
        expect(md, "# Rootless Podman Migration - Status Report\n");
        expect(md, " on testbed, 2026-11-29 07:00 UTC");
        expect(md, "## Running Rootless (12 of 12 services)\n");
        expect(md, "\n### container-db (6 services)\n- ✅ metabase - metabase.service active (running), healthy\n");
        expect(md, "\n### container-misc (3 services)\n");
        expect(md, "- ✅ budget-board - pod: budget-board-pod.service active (running), healthy; "
                   "budget-board-server.service active (running), healthy; budget-board-client.service active (running), healthy\n");
        expect(md, "\n### container-monitor (2 services)\n");
        expect(md, "\n### container-web (1 service)\n- ✅ silly-tavern - silly-tavern.service active (running), healthy\n");
        expect(md, "## Remaining as Root (0 services)\n\nNone.\n");
        expect(md, "| metabase | container-db | rootless | ownership-shift, host-loopback, address-rewrite, host-check-loopback |\n");
        expect(md, "| opnsense-exporter | container-monitor | rootless |  |\n");
        /* per technique, in the vocabulary's order, with its users */
        expect(md, "- **ownership-shift** (metabase, wallabag, teable, nocobase, silly-tavern, budget-board): volume data");
        expect(md, "- **secret-group** (technitium-dns-exporter): a secret file shared through a group");
        expect(md, "- **rootless-pod** (budget-board, changedetection): ");
        assert_true(strstr(md, "- **ownership-shift**") < strstr(md, "- **image-copy**"));
        assert_true(strstr(md, "- **image-copy**") < strstr(md, "- **rootless-pod**"));
        expect(md, "## Host Changes\n\n- litellm: redis: bind 127.0.0.1 instead of 10.88.0.1\n");
        expect(md, "| container-db | answering (unroot 0.1.0, manager running) |\n");
        expect(md, "\n**Total Migration:** 12/12 services running rootless (100%)\n");
        expect_not(md, "Not Running");
        expect_not(md, "Warnings");
        free(md);

        doc = render_json(&fx);
        assert_int_equal(json_count(doc, "total"), 12);
        assert_int_equal(json_count(doc, "rootless"), 12);
        assert_int_equal(json_count(doc, "share_percent"), 100);
        assert_int_equal(json_count(doc, "root"), 0);
        free(doc);
        fixture_done(&fx);
}

/* The founding report's own outcome: ten moved, both pods on root. */
static void test_ten_of_twelve(void **state) {
        static const char *const blockers[] = { "PublishPort=80:3000: port 80 is below net.ipv4.ip_unprivileged_port_start (1024)" };
        Fixture fx;
        char *md, *doc;

        fixture_init(&fx, 10);
        fx.services[10].blockers = strv_of(blockers, 1);
        md = render(&fx, NULL);
        expect(md, "## Running Rootless (10 of 12 services)\n");
        expect(md, "\n### container-db (6 services)\n");
        expect(md, "\n### container-misc (1 service)\n- ✅ speedtest - ");
        expect(md, "## Remaining as Root (2 services, 2 pods; 6 containers)\n\n"
                   "- ❌ budget-board Pod (server + client + infra) - not migrated\n"
                   "  - blocked: PublishPort=80:3000: port 80 is below net.ipv4.ip\\_unprivileged\\_port\\_start (1024)\n"
                   "- ❌ changedetection Pod (app + exporter + infra) - not migrated\n");
        expect(md, "\n**Total Migration:** 10/12 services running rootless (83%)\n");
        /* techniques only of what was applied */
        expect_not(md, "rootless-pod");
        free(md);

        doc = render_json(&fx);
        assert_int_equal(json_count(doc, "rootless"), 10);
        assert_int_equal(json_count(doc, "root"), 2);
        assert_int_equal(json_count(doc, "share_percent"), 83);
        free(doc);
        fixture_done(&fx);
}

static void test_failed_and_rolled_back(void **state) {
        Fixture fx;
        char *md;

        fixture_init(&fx, 12);
        /* vanna: apply failed halfway and undid itself, root runs it again */
        set_record(&fx, 4, "{\"service\":\"vanna\",\"account\":\"container-db\",\"kind\":\"container\","
                   "\"state\":\"failed\",\"step\":\"shift\",\"units\":[\"vanna.service\"],"
                   "\"techniques\":[\"image-copy\"],\"error\":\"image copy: localhost/vanna:latest: "
                   "no space left on device\",\"updated\":\"2026-11-29T07:10:00Z\"}");
        fx.services[4].root_files_present = true;
        /* changedetection: rolled back, but its root file is gone */
        set_record(&fx, 11, "{\"service\":\"changedetection\",\"account\":\"container-misc\",\"kind\":\"pod\","
                   "\"state\":\"rolled-back\",\"updated\":\"2026-11-29T07:20:00Z\"}");
        /* silly-tavern: an apply still running */
        set_record(&fx, 6, "{\"service\":\"silly-tavern\",\"account\":\"container-web\",\"kind\":\"container\","
                   "\"state\":\"applying\",\"step\":\"stop-root\"}");
        md = render(&fx, NULL);
        expect(md, "## Running Rootless (9 of 12 services)\n");
        expect(md, "## Migration in Progress (1 service)\n\n- ⏳ silly-tavern - being applied to container-web "
                   "(last step done: stop-root)\n");
        expect(md, "## Remaining as Root (2 services, 1 pod; 4 containers)\n\n"
                   "- ❌ vanna - the migration to container-db failed after step shift: image copy: "
                   "localhost/vanna:latest: no space left on device\n"
                   "- ❌ changedetection Pod (app + exporter + infra) - rolled back from container-misc at 2026-11-29T07:20:00Z\n"
                   "  - note: its root Quadlet file is not in /etc/containers/systemd: it runs nowhere");
        /* a failed record's techniques were not applied */
        expect_not(md, "| vanna |");
        expect_not(md, "\n### container-web");
        expect(md, "\n**Total Migration:** 9/12 services running rootless (75%)\n");
        free(md);
        fixture_done(&fx);
}

static void test_applied_but_down(void **state) {
        Fixture fx;
        AgentUnitInfo *u;
        char *md, *doc;

        fixture_init(&fx, 12);
        u = unit_of(&fx, "container-misc", "speedtest.service");
        u->active_state = (char *) "failed";
        u->sub_state = (char *) "failed";
        u->health = NULL;
        unit_of(&fx, "container-db", "teable.service")->health = (char *) "unhealthy";
        unit_of(&fx, "container-misc", "changedetection-app.service")->name = (char *) "other.service";
        /* container-web's agent does not answer */
        fx.accounts[1].agent.state = AGENT_STATE_NOT_RUNNING;
        md = render(&fx, NULL);
        expect(md, "## Running Rootless (8 of 12 services)\n");
        expect(md, "\n### container-db (5 services)\n");
        expect(md, "## Migrated but Not Running (4 services)\n\n");
        expect(md, "- ⚠️ teable (container-db) - the record says applied, but teable.service is unhealthy; "
                   "live: teable.service active (running), unhealthy\n");
        expect(md, "- ⚠️ silly-tavern (container-web) - the record says applied, but agent of container-web not "
                   "answering (not running)\n");
        expect(md, "- ⚠️ speedtest (container-misc) - the record says applied, but speedtest.service is failed (failed); "
                   "live: speedtest.service failed (failed)\n");
        expect(md, "- ⚠️ changedetection (container-misc) - the record says applied, but changedetection-app.service is "
                   "unknown to the agent of container-misc; live: changedetection-pod.service active (running), healthy; "
                   "changedetection-app.service unknown to the agent;");
        expect(md, "| speedtest | container-misc | not-running |");
        expect(md, "| container-web | agent not answering (not running) |\n");
        expect(md, "\n**Total Migration:** 8/12 services running rootless (67%)\n");
        expect_not(md, "- ✅ speedtest");
        free(md);

        doc = render_json(&fx);
        assert_int_equal(json_count(doc, "rootless"), 8);
        assert_int_equal(json_count(doc, "not-running"), 4);
        free(doc);
        fixture_done(&fx);
}

static void test_empty_host(void **state) {
        ReportInput in = {};
        char *md = NULL, *doc = NULL;

        assert_int_equal(report_render_markdown(&in, &md), 0);
        expect(md, "# Rootless Podman Migration - Status Report\n\nWritten by `agentctl report` from live state: ");
        expect(md, "\nNo services: no root Quadlet service in /etc/containers/systemd and no migration record.\n");
        expect(md, "\n**Total Migration:** 0/0 services running rootless\n");
        expect_not(md, "Running Rootless (");
        expect_not(md, "%");
        expect_not(md, "Accounts");
        free(md);
        assert_int_equal(report_render_json(&in, &doc), 0);
        assert_int_equal(json_count(doc, "total"), 0);
        assert_int_equal(json_count(doc, "share_percent"), 0);
        free(doc);
}

static void test_bad_record(void **state) {
        static const char *const warnings[] = {
                "skipped /var/lib/unroot/migrate/wallabag/record.json: field 'state': 'done' is not one of applying, "
                "applied, rolling-back, rolled-back, failed",
                NULL,
        };
        Fixture fx;
        char *md, *doc;

        fixture_init(&fx, 12);
        /* wallabag's record is unreadable and its root file is back: root, and says why */
        set_record(&fx, 1, NULL);
        fx.services[1].record_error = strdup("field 'state': 'done' is not one of …");
        fx.services[1].root_files_present = true;
        /* teable's is unreadable and nothing is left on root: unknown, not counted as rootless */
        set_record(&fx, 2, NULL);
        fx.services[2].record_error = strdup("/var/lib/unroot/migrate/teable/record.json: not valid JSON: line 1, column 2: x");
        md = render(&fx, (char *const *) warnings);
        expect(md, "## Running Rootless (10 of 12 services)\n");
        expect(md, "- ❌ wallabag - not migrated as far as can be told: its record could not be read (field 'state': "
                   "'done' is not one of …)\n");
        expect(md, "## State Unknown (1 service)\n\n- ❓ teable - its record could not be read "
                   "(/var/lib/unroot/migrate/teable/record.json: not valid JSON: line 1, column 2: x) and no root "
                   "Quadlet file is left\n");
        expect(md, "## Warnings\n\n- skipped /var/lib/unroot/migrate/wallabag/record.json: field 'state': 'done' is not one of");
        expect(md, "\n**Total Migration:** 10/12 services running rootless (83%)\n");
        free(md);
        doc = render_json(&fx);
        assert_int_equal(json_count(doc, "unknown"), 1);
        free(doc);
        fixture_done(&fx);
}

static void test_markdown_escaping(void **state) {
        Fixture fx;
        char *md;

        fixture_init(&fx, 0);
        free(fx.services[0].name);
        fx.services[0].name = strdup("my_app*1");
        fx.services[0].blockers = calloc(2, sizeof(char *));
        fx.services[0].blockers[0] = strdup("Exec=a|b\n# not a heading <b>");
        md = render(&fx, NULL);
        expect(md, "- ❌ my\\_app\\*1 - not migrated\n  - blocked: Exec=a\\|b \\# not a heading \\<b\\>\n");
        free(md);
        fixture_done(&fx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_twelve_of_twelve),
                cmocka_unit_test(test_ten_of_twelve),
                cmocka_unit_test(test_failed_and_rolled_back),
                cmocka_unit_test(test_applied_but_down),
                cmocka_unit_test(test_empty_host),
                cmocka_unit_test(test_bad_record),
                cmocka_unit_test(test_markdown_escaping),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
