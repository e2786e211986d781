/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `agentctl report`: the migration report in the shape of the founding report
 * (docs/migration-report.md): services per account, what stayed root and why, the techniques
 * applied to each service, the rootless count and the share. Pure: the live state comes in as
 * structs (gathered by report-gather.h), the Markdown or JSON document goes out as a string. */

#include <stdbool.h>
#include <stddef.h>

#include "agentctl-status.h"
#include "migrate-record.h"

typedef struct ReportService {
        char *name;
        bool pod;
        char **members;          /* pod: its member containers' base names (root files); may be NULL */
        bool root_files_present; /* its .container or .pod is (still) in /etc/containers/systemd */
        MigrateRecord *record;   /* NULL: no record */
        char *record_error;      /* the record could not be read: why (names the file and field) */
        char **blockers;         /* what the migrate planner says blocks the move; may be NULL */
} ReportService;

void report_service_done(ReportService *s);

typedef struct ReportInput {
        const char *generated;   /* when, as the reader should see it ("2026-11-29 07:00 UTC"); may be NULL */
        const char *host;        /* may be NULL */
        const ReportService *services;
        size_t n_services;
        /* Live status of the accounts the records name (and any other enrolled account), as
         * `agentctl status` collects it. */
        const AccountStatus *accounts;
        size_t n_accounts;
        char *const *warnings;   /* NULL-terminated or NULL: things the reader must know (bad records) */
} ReportInput;

typedef enum ReportOutcome {
        REPORT_ROOTLESS,    /* applied, and every unit is active and not unhealthy right now */
        REPORT_NOT_RUNNING, /* applied, but a unit is not active/healthy, or its agent does not answer */
        REPORT_IN_PROGRESS, /* applying or rolling back */
        REPORT_ROOT,        /* not migrated, failed, or rolled back */
        REPORT_UNKNOWN,     /* the record cannot be read and no root file is left */
        _REPORT_OUTCOME_MAX,
} ReportOutcome;

const char *report_outcome_to_string(ReportOutcome o);

typedef struct ReportVerdict {
        ReportOutcome outcome;
        char *reason;    /* ROOT/NOT_RUNNING/IN_PROGRESS/UNKNOWN: why, one sentence, plain text */
        char *units;     /* the units' live state: "metabase.service active (running), healthy; …" */
        char **notes;    /* further remarks (a root file left next to a migrated copy, …) */
} ReportVerdict;

void report_verdict_done(ReportVerdict *v);

/* Decides what one service is, from its record and its account's live status. */
int report_classify(const ReportService *s, const AccountStatus *accounts, size_t n_accounts, ReportVerdict *ret);

/* The whole report as Markdown / as one JSON object (both end with a newline). */
int report_render_markdown(const ReportInput *in, char **ret);
int report_render_json(const ReportInput *in, char **ret);
