/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the apply loop does to the user manager after a render diff, as a plain list (pure logic,
 * no I/O): stop the services whose files go away, then, after the files are written and the
 * manager reloaded, start the added services and restart the changed ones in the diff's start
 * order (images, networks and volumes, builds, pods, then containers). Unchanged and kept units
 * get no step. [Install] symlinks never get a step of their own: a changed link alone needs only
 * the reload. */

#include "agent-render.h"

typedef enum ApplyStepKind {
        APPLY_STOP,    /* before the files are removed: the unit still exists for the manager */
        APPLY_START,   /* added */
        APPLY_RESTART, /* changed: restart also starts an inactive unit */
        _APPLY_STEP_KIND_MAX,
        _APPLY_STEP_KIND_INVALID = -22,
} ApplyStepKind;

typedef struct ApplyStep {
        ApplyStepKind kind;
        char *unit;
} ApplyStep;

typedef struct ApplyActions {
        ApplyStep *steps; /* every APPLY_STOP first, then starts and restarts in start order */
        size_t n, n_stop;
        bool reload;      /* files change: the manager must reload between stops and starts */
} ApplyActions;

void apply_actions_done(ApplyActions *a);
const char *apply_step_kind_to_string(ApplyStepKind k);

/* Whether an owned path is a unit the agent starts and stops: a top-level service file. */
bool apply_path_is_service(const char *path);

/* Fills ret from d. Only -ENOMEM fails. */
int apply_actions_from_diff(const RenderDiff *d, ApplyActions *ret);
