/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentctl-output.h"
#include "macro.h"
#include "report-render.h"
#include "strv-util.h"

void report_service_done(ReportService *s) {
        if (!s)
                return;
        free(s->name);
        strv_free(s->members);
        if (s->record) {
                migrate_record_done(s->record);
                free(s->record);
        }
        free(s->record_error);
        strv_free(s->blockers);
        *s = (ReportService) {};
}

void report_verdict_done(ReportVerdict *v) {
        if (!v)
                return;
        free(v->reason);
        free(v->units);
        strv_free(v->notes);
        *v = (ReportVerdict) {};
}

static const char *const outcome_names[_REPORT_OUTCOME_MAX] = {
        [REPORT_ROOTLESS] = "rootless",
        [REPORT_NOT_RUNNING] = "not-running",
        [REPORT_IN_PROGRESS] = "in-progress",
        [REPORT_ROOT] = "root",
        [REPORT_UNKNOWN] = "unknown",
};

const char *report_outcome_to_string(ReportOutcome o) {
        return o < _REPORT_OUTCOME_MAX ? outcome_names[o] : NULL;
}

/* What each technique of the contract's vocabulary means, in the founding report's words. */
static const struct {
        const char *name, *what;
} techniques[] = {
        { "ownership-shift", "volume data re-owned into the account's subordinate ids (container uid N -> subuid start + N - 1, uid 0 -> the account), journaled for rollback" },
        { "image-copy", "images that exist only in root's store copied into the account's store" },
        { "pull-never", "`Pull=never`, so a copied image is never looked up in a registry" },
        { "host-loopback", "host services reached over the loopback (slirp4netns:allow_host_loopback=true, or pasta's equivalent)" },
        { "address-rewrite", "the root bridge address (10.88.0.1) in environment values and health checks replaced by host.containers.internal" },
        { "host-check-loopback", "host-side checks (`ExecStartPre`, e.g. pg_isready) pointed at 127.0.0.1" },
        { "secret-recreate", "podman secrets recreated in the account's store" },
        { "secret-group", "a secret file shared through a group (owner:group, mode 0440; the account joined the group; `GroupAdd=keep-groups`)" },
        { "port-remap", "a published port below 1024 remapped to an unprivileged one" },
        { "unprivileged-port-start", "net.ipv4.ip_unprivileged_port_start lowered on the host (approved by the admin)" },
        { "rootless-pod", "the pod runs under the account's user manager with the agent's rootless pod support" },
};

static const char *technique_what(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(techniques); i++)
                if (streq(techniques[i].name, name))
                        return techniques[i].what;
        return NULL;
}

static const AccountStatus *find_account(const AccountStatus *a, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (a[i].name && streq(a[i].name, name))
                        return &a[i];
        return NULL;
}

static const AgentUnitInfo *find_unit(const AgentStatusResult *a, const char *name) {
        for (size_t i = 0; i < a->n_units; i++)
                if (a->units[i].name && streq(a->units[i].name, name))
                        return &a->units[i];
        return NULL;
}

/* Live state of the record's units: fills *units (one clause per unit) and, if any unit is not
 * well, *problem (the first problem). */
static int units_state(const MigrateRecord *rec, const AccountStatus *acct, char **ret_units, char **ret_problem) {
        _cleanup_free_ char *buf = NULL, *problem = NULL;
        size_t sz = 0;
        FILE *f;
        int r = 0;

        if (!acct) {
                if (asprintf(&problem, "agent not answering (account '%s' is not enrolled)", rec->account) < 0)
                        return -ENOMEM;
                *ret_problem = TAKE_PTR(problem);
                return 0;
        }
        if (!acct->found || acct->agent.state != AGENT_STATE_ANSWERING) {
                _cleanup_free_ char *d = acct->found ? agent_state_describe(&acct->agent) : NULL;
                if (acct->found && !d)
                        return -ENOMEM;
                if (asprintf(&problem, "agent of %s not answering (%s)", rec->account,
                             acct->found ? d : acct->error ?: "no such user") < 0)
                        return -ENOMEM;
                *ret_problem = TAKE_PTR(problem);
                return 0;
        }
        if (!rec->units || !rec->units[0]) {
                problem = strdup("the record lists no units");
                if (!problem)
                        return -ENOMEM;
                *ret_problem = TAKE_PTR(problem);
                return 0;
        }

        f = open_memstream(&buf, &sz);
        if (!f)
                return -ENOMEM;
        for (char **u = rec->units; *u; u++) {
                const AgentUnitInfo *info = find_unit(&acct->agent, *u);
                _cleanup_free_ char *p = NULL;

                if (u != rec->units)
                        fputs("; ", f);
                if (!info) {
                        fprintf(f, "%s unknown to the agent", *u);
                        if (asprintf(&p, "%s is unknown to the agent of %s", *u, rec->account) < 0)
                                r = -ENOMEM;
                } else {
                        const char *active = info->active_state ?: "unknown", *sub = info->sub_state ?: "unknown";
                        fprintf(f, "%s %s (%s)", *u, active, sub);
                        if (info->health)
                                fprintf(f, ", %s", info->health);
                        if (!streq(active, "active")) {
                                if (asprintf(&p, "%s is %s (%s)", *u, active, sub) < 0)
                                        r = -ENOMEM;
                        } else if (info->health && !streq(info->health, "healthy")) {
                                if (asprintf(&p, "%s is %s", *u, info->health) < 0)
                                        r = -ENOMEM;
                        }
                }
                if (p && !problem)
                        problem = TAKE_PTR(p);
        }
        if (fclose(f) != 0 || r < 0)
                return -ENOMEM;
        *ret_units = TAKE_PTR(buf);
        *ret_problem = TAKE_PTR(problem);
        return 0;
}

int report_classify(const ReportService *s, const AccountStatus *accounts, size_t n_accounts, ReportVerdict *ret) {
        _cleanup_(report_verdict_done) ReportVerdict v = {};
        const MigrateRecord *rec = s->record;
        int r = 0;

        if (!rec) {
                if (s->record_error && !s->root_files_present) {
                        v.outcome = REPORT_UNKNOWN;
                        r = asprintf(&v.reason, "its record could not be read (%s) and no root Quadlet file is left",
                                     s->record_error);
                } else {
                        v.outcome = REPORT_ROOT;
                        if (s->record_error)
                                r = asprintf(&v.reason, "not migrated as far as can be told: its record could not be "
                                             "read (%s)", s->record_error);
                        else
                                r = asprintf(&v.reason, "not migrated");
                }
                if (r < 0)
                        return -ENOMEM;
                *ret = v;
                v = (ReportVerdict) {};
                return 0;
        }

        switch (rec->state) {
        case MIGRATE_STATE_APPLIED: {
                _cleanup_free_ char *problem = NULL;

                r = units_state(rec, find_account(accounts, n_accounts, rec->account), &v.units, &problem);
                if (r < 0)
                        return r;
                if (problem) {
                        v.outcome = REPORT_NOT_RUNNING;
                        r = asprintf(&v.reason, "the record says applied, but %s", problem);
                } else
                        v.outcome = REPORT_ROOTLESS;
                if (r >= 0 && s->root_files_present)
                        r = strv_push(&v.notes, strdup("its root Quadlet file is still in /etc/containers/systemd: "
                                                         "root may run it too"));
                break;
        }
        case MIGRATE_STATE_APPLYING:
        case MIGRATE_STATE_ROLLING_BACK:
                v.outcome = REPORT_IN_PROGRESS;
                r = asprintf(&v.reason, "%s to %s (last step done: %s%s%s)", rec->state == MIGRATE_STATE_APPLYING ?
                             "being applied" : "being rolled back", rec->account, rec->step ?: "none",
                             rec->updated ? ", at " : "", strempty(rec->updated));
                break;
        case MIGRATE_STATE_FAILED:
                v.outcome = REPORT_ROOT;
                r = asprintf(&v.reason, "the migration to %s failed%s%s: %s", rec->account,
                             rec->step ? " after step " : "", strempty(rec->step), rec->error ?: "no error recorded");
                break;
        case MIGRATE_STATE_ROLLED_BACK:
        default:
                v.outcome = REPORT_ROOT;
                r = asprintf(&v.reason, "rolled back from %s%s%s%s%s", rec->account, rec->updated ? " at " : "",
                             strempty(rec->updated), rec->error ? ": " : "", strempty(rec->error));
                break;
        }
        if (r < 0)
                return -ENOMEM;
        if (v.outcome == REPORT_ROOT && !s->root_files_present)
                r = strv_push(&v.notes, strdup("its root Quadlet file is not in /etc/containers/systemd: it runs "
                                                 "nowhere; see 'agentctl migrate rollback'"));
        if (r < 0)
                return r;
        *ret = v;
        v = (ReportVerdict) {};
        return 0;
}

/* Markdown text: control characters become spaces, the characters that format are escaped. */
static void md(FILE *f, const char *s) {
        for (; s && *s; s++) {
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        fputc(' ', f);
                else {
                        if (strchr("\\`*_[]<>|#", *s))
                                fputc('\\', f);
                        fputc(*s, f);
                }
        }
}

static unsigned share_percent(size_t part, size_t total) {
        return total == 0 ? 0 : (unsigned) ((part * 200 + total) / (total * 2)); /* rounded half up */
}

/* Pod members as the founding report writes them: "server + client + infra". */
static void md_members(FILE *f, const ReportService *s) {
        size_t plen = strlen(s->name);

        fputs(" Pod (", f);
        for (char **m = s->members; m && *m; m++) {
                const char *n = *m;
                if (strneq(n, s->name, plen) && n[plen] == '-' && n[plen + 1])
                        n += plen + 1;
                md(f, n);
                fputs(" + ", f);
        }
        fputs("infra)", f);
}

static size_t containers_of(const ReportService *s) {
        return s->pod ? strv_length(s->members) + 1 : 1;
}

typedef struct Row {
        const ReportService *s;
        ReportVerdict v;
} Row;

static void rows_free(Row *rows, size_t n) {
        for (size_t i = 0; rows && i < n; i++)
                report_verdict_done(&rows[i].v);
        free(rows);
}

static int classify_all(const ReportInput *in, Row **ret, size_t counts[static _REPORT_OUTCOME_MAX]) {
        Row *rows = calloc(MAX(in->n_services, (size_t) 1), sizeof(Row));
        int r;

        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < _REPORT_OUTCOME_MAX; i++)
                counts[i] = 0;
        for (size_t i = 0; i < in->n_services; i++) {
                rows[i].s = &in->services[i];
                r = report_classify(&in->services[i], in->accounts, in->n_accounts, &rows[i].v);
                if (r < 0) {
                        rows_free(rows, i);
                        return r;
                }
                counts[rows[i].v.outcome]++;
        }
        *ret = rows;
        return 0;
}

static const char *record_account(const Row *row) {
        return row->s->record ? row->s->record->account : NULL;
}

static void md_notes(FILE *f, const Row *row) {
        for (char **n = row->v.notes; n && *n; n++) {
                fputs("  - note: ", f);
                md(f, *n);
                fputc('\n', f);
        }
}

/* One line per service with outcome o: "- ✅ name[ Pod (members)][ (account)] - reason[; live: …]",
 * then its blockers and notes. */
static void md_items(FILE *f, const Row *rows, size_t n, ReportOutcome o, const char *mark) {
        for (size_t i = 0; i < n; i++) {
                const Row *row = &rows[i];
                if (row->v.outcome != o)
                        continue;
                fprintf(f, "- %s ", mark);
                md(f, row->s->name);
                if (o == REPORT_ROOT && row->s->pod)
                        md_members(f, row->s);
                if (o == REPORT_NOT_RUNNING) {
                        fputs(" (", f);
                        md(f, record_account(row));
                        fputc(')', f);
                }
                fputs(" - ", f);
                md(f, row->v.reason);
                if (o == REPORT_NOT_RUNNING && row->v.units) {
                        fputs("; live: ", f);
                        md(f, row->v.units);
                }
                fputc('\n', f);
                for (char **b = row->s->blockers; b && *b; b++) {
                        fputs("  - blocked: ", f);
                        md(f, *b);
                        fputc('\n', f);
                }
                md_notes(f, row);
        }
}

/* A section of its own only when some service is in it. */
static void md_section(FILE *f, const Row *rows, size_t n, const size_t *counts, ReportOutcome o, const char *title,
                       const char *mark) {
        if (counts[o] == 0)
                return;
        fprintf(f, "\n## %s (%zu service%s)\n\n", title, counts[o], counts[o] == 1 ? "" : "s");
        md_items(f, rows, n, o, mark);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The distinct techniques of the applied records: the vocabulary's order first, then any it does
 * not know, as first seen. */
static int used_techniques(const Row *rows, size_t n, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t k = 0; k <= ELEMENTSOF(techniques); k++)
                for (size_t i = 0; i < n; i++) {
                        const MigrateRecord *rec = rows[i].s->record;
                        if (!rec || rec->state != MIGRATE_STATE_APPLIED)
                                continue;
                        for (char **t = rec->techniques; t && *t; t++) {
                                if (k < ELEMENTSOF(techniques) ? !streq(*t, techniques[k].name) : !!technique_what(*t))
                                        continue;
                                if (strv_contains(l, *t))
                                        continue;
                                r = strv_push(&l, strdup(*t));
                                if (r < 0)
                                        return r;
                        }
                }
        *ret = TAKE_PTR(l);
        return 0;
}

/* The sorted, distinct accounts of the rootless services. */
static int rootless_accounts(const Row *rows, size_t n, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (rows[i].v.outcome != REPORT_ROOTLESS || strv_contains(l, record_account(&rows[i])))
                        continue;
                r = strv_push(&l, strdup(record_account(&rows[i])));
                if (r < 0)
                        return r;
        }
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

static int write_markdown(FILE *f, const ReportInput *in, const Row *rows, const size_t *counts) {
        _cleanup_strv_free_ char **accounts = NULL, **used = NULL;
        size_t total = in->n_services;
        bool any_technique, any_host_change = false;
        int r;

        r = rootless_accounts(rows, in->n_services, &accounts);
        if (r >= 0)
                r = used_techniques(rows, in->n_services, &used);
        if (r < 0)
                return r;

        fputs("# Rootless Podman Migration - Status Report\n\n", f);
        fputs("Written by `agentctl report` from live state", f);
        if (in->host) {
                fputs(" on ", f);
                md(f, in->host);
        }
        if (in->generated) {
                fputs(", ", f);
                md(f, in->generated);
        }
        fputs(": the root Quadlet files in /etc/containers/systemd, the migration records in "
              MIGRATE_STATE_DIR ", and what each account's agent reports about its units right now.\n", f);

        if (total == 0)
                fputs("\nNo services: no root Quadlet service in /etc/containers/systemd and no migration record.\n", f);

        /* Services per account, like the founding report's "Successfully Converted". */
        if (total > 0) {
                fprintf(f, "\n## Running Rootless (%zu of %zu service%s)\n", counts[REPORT_ROOTLESS], total,
                        total == 1 ? "" : "s");
                if (counts[REPORT_ROOTLESS] == 0)
                        fputs("\nNone.\n", f);
        }
        for (char **a = accounts; *a; a++) {
                size_t k = 0;

                for (size_t i = 0; i < in->n_services; i++)
                        if (rows[i].v.outcome == REPORT_ROOTLESS && streq(record_account(&rows[i]), *a))
                                k++;
                fputs("\n### ", f);
                md(f, *a);
                fprintf(f, " (%zu service%s)\n", k, k == 1 ? "" : "s");
                for (size_t i = 0; i < in->n_services; i++) {
                        const Row *row = &rows[i];
                        if (row->v.outcome != REPORT_ROOTLESS || !streq(record_account(row), *a))
                                continue;
                        fputs("- ✅ ", f);
                        md(f, row->s->name);
                        fputs(row->s->record->pod ? " - pod: " : " - ", f);
                        md(f, row->v.units);
                        fputc('\n', f);
                        md_notes(f, row);
                }
        }

        md_section(f, rows, in->n_services, counts, REPORT_NOT_RUNNING, "Migrated but Not Running", "⚠️");
        md_section(f, rows, in->n_services, counts, REPORT_IN_PROGRESS, "Migration in Progress", "⏳");

        /* What stayed root, and why. */
        if (total > 0) {
                size_t n_pods = 0, n_containers = 0;

                for (size_t i = 0; i < in->n_services; i++)
                        if (rows[i].v.outcome == REPORT_ROOT) {
                                n_pods += rows[i].s->pod;
                                n_containers += containers_of(rows[i].s);
                        }
                fprintf(f, "\n## Remaining as Root (%zu service%s", counts[REPORT_ROOT], counts[REPORT_ROOT] == 1 ? "" : "s");
                if (n_pods > 0)
                        fprintf(f, ", %zu pod%s; %zu container%s", n_pods, n_pods == 1 ? "" : "s", n_containers,
                                n_containers == 1 ? "" : "s");
                fputs(")\n\n", f);
                if (counts[REPORT_ROOT] == 0)
                        fputs("None.\n", f);
        }
        md_items(f, rows, in->n_services, REPORT_ROOT, "❌");
        md_section(f, rows, in->n_services, counts, REPORT_UNKNOWN, "State Unknown", "❓");

        /* The techniques, per service and per technique (the founding report's "Key Technical
         * Solutions"), of every service whose record says it was applied. */
        any_technique = used[0];
        for (size_t i = 0; i < in->n_services; i++) {
                const MigrateRecord *rec = rows[i].s->record;
                if (rec && rec->state == MIGRATE_STATE_APPLIED && rec->host_changes && rec->host_changes[0])
                        any_host_change = true;
        }
        if (any_technique) {
                fputs("\n## Techniques Applied\n\n| Service | Account | State | Techniques |\n|---|---|---|---|\n", f);
                for (size_t i = 0; i < in->n_services; i++) {
                        const MigrateRecord *rec = rows[i].s->record;
                        if (!rec || rec->state != MIGRATE_STATE_APPLIED)
                                continue;
                        fputs("| ", f);
                        md(f, rows[i].s->name);
                        fputs(" | ", f);
                        md(f, rec->account);
                        fputs(" | ", f);
                        fputs(report_outcome_to_string(rows[i].v.outcome), f);
                        fputs(" | ", f);
                        for (char **t = rec->techniques; t && *t; t++) {
                                if (t != rec->techniques)
                                        fputs(", ", f);
                                md(f, *t);
                        }
                        fputs(" |\n", f);
                }
                fputc('\n', f);
                for (char **t = used; t && *t; t++) {
                        size_t c = 0;

                        fputs("- **", f);
                        md(f, *t);
                        fputs("** (", f);
                        for (size_t i = 0; i < in->n_services; i++) {
                                const MigrateRecord *rec = rows[i].s->record;
                                if (!rec || rec->state != MIGRATE_STATE_APPLIED || !strv_contains(rec->techniques, *t))
                                        continue;
                                if (c++ > 0)
                                        fputs(", ", f);
                                md(f, rows[i].s->name);
                        }
                        fputc(')', f);
                        if (technique_what(*t)) {
                                fputs(": ", f);
                                fputs(technique_what(*t), f);
                        }
                        fputc('\n', f);
                }
        }
        if (any_host_change) {
                fputs("\n## Host Changes\n\n", f);
                for (size_t i = 0; i < in->n_services; i++) {
                        const MigrateRecord *rec = rows[i].s->record;
                        if (!rec || rec->state != MIGRATE_STATE_APPLIED)
                                continue;
                        for (char **h = rec->host_changes; h && *h; h++) {
                                fputs("- ", f);
                                md(f, rows[i].s->name);
                                fputs(": ", f);
                                md(f, *h);
                                fputc('\n', f);
                        }
                }
        }

        if (in->n_accounts > 0) {
                fputs("\n## Accounts\n\n| Account | Agent |\n|---|---|\n", f);
                for (size_t i = 0; i < in->n_accounts; i++) {
                        const AccountStatus *a = &in->accounts[i];
                        _cleanup_free_ char *d = a->found ? agent_state_describe(&a->agent) : NULL;
                        fputs("| ", f);
                        md(f, a->name);
                        fputs(" | ", f);
                        if (!a->found)
                                md(f, a->error ?: "no such user");
                        else if (a->agent.state == AGENT_STATE_ANSWERING)
                                md(f, d);
                        else {
                                fputs("agent not answering (", f);
                                md(f, d);
                                fputc(')', f);
                        }
                        fputs(" |\n", f);
                }
        }

        if (in->warnings && in->warnings[0]) {
                fputs("\n## Warnings\n\n", f);
                for (char *const *w = in->warnings; *w; w++) {
                        fputs("- ", f);
                        md(f, *w);
                        fputc('\n', f);
                }
        }

        fprintf(f, "\n**Total Migration:** %zu/%zu services running rootless", counts[REPORT_ROOTLESS], total);
        if (total > 0)
                fprintf(f, " (%u%%)", share_percent(counts[REPORT_ROOTLESS], total));
        fputs("\n", f);
        return 0;
}

static void json_strv_member(FILE *f, const char *key, char *const *l) {
        fprintf(f, ",\"%s\":[", key);
        for (char *const *i = l; i && *i; i++) {
                if (i != l)
                        fputc(',', f);
                json_write_string(f, *i);
        }
        fputc(']', f);
}

static int write_json(FILE *f, const ReportInput *in, const Row *rows, const size_t *counts) {
        fputs("{\"generated\":", f);
        json_write_string(f, in->generated);
        fputs(",\"host\":", f);
        json_write_string(f, in->host);
        fprintf(f, ",\"total\":%zu,\"rootless\":%zu,\"share_percent\":%u", in->n_services, counts[REPORT_ROOTLESS],
                share_percent(counts[REPORT_ROOTLESS], in->n_services));
        for (size_t o = 0; o < _REPORT_OUTCOME_MAX; o++)
                if (o != REPORT_ROOTLESS)
                        fprintf(f, ",\"%s\":%zu", outcome_names[o], counts[o]);
        fputs(",\"services\":[", f);
        for (size_t i = 0; i < in->n_services; i++) {
                const ReportService *s = rows[i].s;
                const MigrateRecord *rec = s->record;

                if (i > 0)
                        fputc(',', f);
                fputs("{\"name\":", f);
                json_write_string(f, s->name);
                fprintf(f, ",\"kind\":\"%s\",\"outcome\":\"%s\",\"account\":", (rec ? rec->pod : s->pod) ? "pod" : "container",
                        outcome_names[rows[i].v.outcome]);
                json_write_string(f, rec ? rec->account : NULL);
                fputs(",\"record_state\":", f);
                json_write_string(f, rec ? migrate_record_state_to_string(rec->state) : NULL);
                fputs(",\"reason\":", f);
                json_write_string(f, rows[i].v.reason);
                fputs(",\"units\":", f);
                json_write_string(f, rows[i].v.units);
                fprintf(f, ",\"root_files_present\":%s", s->root_files_present ? "true" : "false");
                json_strv_member(f, "members", s->members);
                json_strv_member(f, "techniques", rec ? rec->techniques : NULL);
                json_strv_member(f, "host_changes", rec ? rec->host_changes : NULL);
                json_strv_member(f, "blockers", s->blockers);
                json_strv_member(f, "notes", rows[i].v.notes);
                fputs(",\"record_error\":", f);
                json_write_string(f, s->record_error);
                fputc('}', f);
        }
        fputs("],\"accounts\":[", f);
        for (size_t i = 0; i < in->n_accounts; i++) {
                if (i > 0)
                        fputc(',', f);
                account_status_write_json(&in->accounts[i], f);
        }
        fputc(']', f);
        json_strv_member(f, "warnings", in->warnings);
        fputs("}\n", f);
        return 0;
}

/* Classifies every service, then lets write() produce the document into a string. */
static int render(const ReportInput *in, int (*write)(FILE *, const ReportInput *, const Row *, const size_t *),
                  char **ret) {
        size_t counts[_REPORT_OUTCOME_MAX], sz = 0;
        _cleanup_free_ char *buf = NULL;
        Row *rows = NULL;
        FILE *f;
        int r;

        r = classify_all(in, &rows, counts);
        if (r < 0)
                return r;
        f = open_memstream(&buf, &sz);
        if (!f) {
                rows_free(rows, in->n_services);
                return -ENOMEM;
        }
        r = write(f, in, rows, counts);
        rows_free(rows, in->n_services);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int report_render_markdown(const ReportInput *in, char **ret) {
        return render(in, write_markdown, ret);
}

int report_render_json(const ReportInput *in, char **ret) {
        return render(in, write_json, ret);
}
