/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The writing side of <root>/var/lib/unroot/migrate/<SERVICE>/record.json (migrate-record.h is the
 * contract's reader, used by the report): what apply did and is doing, written atomically after
 * every step and before every change it may have to undo, so that rollback (and a re-run after a
 * crash) knows exactly what to put back. Besides the contract's fields it keeps the undo lists. */

#include <stdio.h>

#include "strv.h"

typedef struct MigrateLedger {
        char *service, *account, *kind, *state, *step, *error, *updated;
        Strv units, root_files, techniques, host_changes;
        /* Beyond the contract's fields: what rollback undoes. */
        Strv root_active;  /* root units that were active before (started again by rollback) */
        Strv shifted;      /* bind-mounted directories handed to the helper's shift */
        Strv volumes;      /* "NAME<TAB>ROOT_MOUNTPOINT<TAB>ACCOUNT_MOUNTPOINT": moved named volumes */
        Strv images;       /* loaded into the account's store */
        Strv secrets;      /* podman secrets created in the account's store */
        Strv secret_files; /* "FILE<TAB>GROUP": secret groups set up */
        Strv installed;    /* files written into the account's Quadlet directory */
} MigrateLedger;

void migrate_ledger_done(MigrateLedger *r);

/* Writes r as one JSON object (sets r->updated to now). */
void migrate_ledger_write_json(const MigrateLedger *r, FILE *f);
/* Parses what migrate_ledger_write_json() wrote (strictly, json-parse.h). -EBADMSG if it is not ours. */
int migrate_ledger_parse(const char *json, MigrateLedger *ret);

/* The record directory (root:root 0700) and its files; root "" or NULL for /. */
char *migrate_ledger_dir(const char *root, const char *service);
/* Atomic replace: tmp file, fsync, rename, fsync of the directory. Creates the directory. */
int migrate_ledger_save(const char *root, MigrateLedger *r);
/* -ENOENT when there is none. */
int migrate_ledger_load(const char *root, const char *service, MigrateLedger *ret);

/* The data of secret id in podman's file driver store (secretsdata.json: a JSON object from id to
 * base64), appended to ret. -ENOENT when absent, -EBADMSG when malformed. */
int migrate_filedriver_secret(const char *json, size_t len, const char *id, Buf *ret);
