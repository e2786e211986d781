/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `agentctl migrate plan|apply|rollback` (agentctl(1), MIGRATE). The privileged steps go through
 * agentctl's own verbs (enroll, shift, secret-group, reapply, stop) run as child processes, so each
 * keeps its one code path to the helper and the agent. */

#include <stdbool.h>

typedef struct MigrateOptions {
        const char *account; /* --to */
        const char *root;    /* --root, NULL for / */
        bool json, ask_password, pull_allowed;
        unsigned timeout_sec;
} MigrateOptions;

/* argv[0] is "migrate". json/ask_password: the options given before the verb. Returns an exit code. */
int verb_migrate_main(int argc, char *argv[], bool json, bool ask_password);
