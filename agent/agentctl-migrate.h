/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `agentctl migrate plan` (agentctl(1)): the read-only plan of moving root Quadlet services. */

#include <stdbool.h>

typedef struct MigrateOptions {
        const char *account; /* --to */
        const char *root;    /* --root, NULL for / */
        bool json, ask_password, pull_allowed;
        unsigned timeout_sec;
} MigrateOptions;

/* argv[0] is "migrate". json/ask_password: the options given before the verb. Returns an exit code. */
int verb_migrate_main(int argc, char *argv[], bool json, bool ask_password);
