/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent-apply.h"
#include "macro.h"

static const char *const kind_names[_APPLY_STEP_KIND_MAX] = {
        [APPLY_STOP] = "stop",
        [APPLY_START] = "start",
        [APPLY_RESTART] = "restart",
};

const char *apply_step_kind_to_string(ApplyStepKind k) {
        if (k < 0 || k >= _APPLY_STEP_KIND_MAX)
                return NULL;
        return kind_names[k];
}

void apply_actions_done(ApplyActions *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                free(a->steps[i].unit);
        free(a->steps);
        *a = (ApplyActions) {};
}

bool apply_path_is_service(const char *path) {
        size_t n = strlen(path);
        return !strchr(path, '/') && n > 8 && streq(path + n - 8, ".service");
}

static int add_step(ApplyActions *a, ApplyStepKind kind, const char *unit) {
        ApplyStep *n = reallocarray(a->steps, a->n + 1, sizeof(ApplyStep));
        char *u;

        if (!n)
                return -ENOMEM;
        a->steps = n;
        u = strdup(unit);
        if (!u)
                return -ENOMEM;
        a->steps[a->n++] = (ApplyStep) { .kind = kind, .unit = u };
        return 0;
}

int apply_actions_from_diff(const RenderDiff *d, ApplyActions *ret) {
        ApplyActions a = {};
        int r = 0;

        /* Stop first, then remove the files, then reload: a unit whose file is already gone can
         * still be stopped, but the manager would forget what it was after the reload. */
        for (size_t i = 0; r >= 0 && i < d->removed.n; i++)
                if (apply_path_is_service(d->removed.v[i]))
                        r = add_step(&a, APPLY_STOP, d->removed.v[i]);
        a.n_stop = a.n;
        /* d->restart holds the added and changed service files, already in start order. */
        for (size_t i = 0; r >= 0 && i < d->restart.n; i++) {
                const char *u = d->restart.v[i];
                if (!apply_path_is_service(u))
                        continue;
                r = add_step(&a, strv_has(&d->added, u) ? APPLY_START : APPLY_RESTART, u);
        }
        if (r < 0) {
                apply_actions_done(&a);
                return r;
        }
        a.reload = d->added.n > 0 || d->changed.n > 0 || d->removed.n > 0;
        *ret = a;
        return 0;
}
