/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `agentctl migrate apply` and `rollback`: the steps of issue 5 (enroll, stop-root, shift, images,
 * secrets, install, start, healthy), each recorded before it changes anything, and one undo path
 * used both when a step fails and by rollback. */

#include <stdbool.h>

#include "agentctl-migrate.h"
#include "error.h"
#include "migrate-gather.h"
#include "migrate-plan.h"

/* Return agentctl exit codes. */
int migrate_apply(char *const *services, const MigrateOptions *o);
int migrate_rollback(char *const *services, const MigrateOptions *o);
