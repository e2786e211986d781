/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The record `agentctl migrate apply` keeps of each service it moves (../migrate-contract.md):
 * <root>/var/lib/unroot/migrate/<SERVICE>/record.json, one JSON object. Read by `agentctl report`
 * (and rollback). Parsing is pure; loading takes a root directory. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

#define MIGRATE_STATE_DIR "/var/lib/unroot/migrate"
#define MIGRATE_RECORD_FILE "record.json"
/* A record is a few hundred bytes; anything this large is not one. */
#define MIGRATE_RECORD_SIZE_MAX (1024U * 1024U)

typedef enum MigrateState {
        MIGRATE_STATE_APPLYING,
        MIGRATE_STATE_APPLIED,
        MIGRATE_STATE_ROLLING_BACK,
        MIGRATE_STATE_ROLLED_BACK,
        MIGRATE_STATE_FAILED,
        _MIGRATE_STATE_MAX,
        _MIGRATE_STATE_INVALID = -EINVAL,
} MigrateState;

typedef struct MigrateRecord {
        char *service;
        char *account;
        bool pod;                 /* "kind": "pod" (else "container") */
        MigrateState state;
        char *step;               /* last completed step; NULL if none yet */
        char **units;             /* NULL-terminated, never NULL after a successful parse */
        char **root_files;
        char **techniques;
        char **host_changes;
        char *error;              /* NULL when none */
        char *updated;            /* "2026-11-29T07:00:00Z"; NULL if absent */
} MigrateRecord;

void migrate_record_done(MigrateRecord *r);

const char *migrate_record_state_to_string(MigrateState s);
MigrateState migrate_record_state_from_string(const char *s);

/* Parses a record. path is only used in messages. Bad input: -EINVAL, e->field the record's field
 * ("state", "units[2]", or "" for the document itself) and e->message naming path and field.
 * Unknown members are ignored (a newer agentctl may add some). */
int migrate_record_parse(const char *text, size_t len, const char *path, MigrateRecord *ret, ErrorInfo *e);

/* <root>/var/lib/unroot/migrate/<service>/record.json (root NULL = "/"). -ENOENT when there is no
 * record; a record whose "service" is not its directory's name is refused. */
int migrate_record_load(const char *root, const char *service, MigrateRecord *ret, ErrorInfo *e);

/* The service directories under <root>/var/lib/unroot/migrate, sorted, NULL-terminated (empty when
 * the directory does not exist). */
int migrate_record_list(const char *root, char ***ret);
