/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The agent's apply loop and the unit operations built on it.
 *
 * An apply: re-arm the source watch, render_plan → pod shape → render_diff → stop the services
 * whose files go away → render_apply (write, remove, manifest) → Reload → start the added services
 * and restart the changed ones, one at a time in start order. Unchanged units are left alone.
 * Every generated service is started, as an admin would run `systemctl --user start` after a
 * daemon-reload; [Install] links (rendered by agent-render) make them come back at boot through
 * linger. A failed step is recorded on its unit and the loop goes on; nothing here is fatal.
 *
 * Runs at start, after every debounced source change, and on request (reapply). An apply asked
 * for while one runs is run once more afterwards. The connection to the user manager is opened for
 * an operation and closed once nothing is pending, so the manager's unit signals do not wake an
 * idle agent. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "agent-manager.h"
#include "agent-render.h"
#include "agent-request.h"
#include "error.h"
#include "strv.h"

typedef struct AgentLoopOptions {
        const char *root;            /* NULL = "/"; prefixes sources and the unit dir (tests) */
        uid_t uid;
        const char *home;            /* required */
        const char *xdg_config_home; /* may be NULL */
        const char *xdg_runtime_dir; /* may be NULL: then no manager private socket, no health */
        unsigned podman_version;     /* QUADLET_PODMAN_VERSION() */
        const char *podman_version_text;
        uint64_t debounce_usec;      /* 0: default */
        bool watch;                  /* inotify on the sources */
        const char *manager_address; /* override of the manager's address (tests); NULL: private socket, then user bus */
        /* The pod shape (pod-shape.h), kept out of agent-core: decided once, at the first apply
         * with a pod (it may block for a probe), then applied to every plan between render_plan
         * and render_diff. NULL: pods keep the stock shape. decide returns the shape, its name
         * and a one-line reason; rewrite returns the number of units rewritten or -errno. */
        int (*pod_shape_decide)(void *userdata, int *ret_shape, char **ret_name, char **ret_reason);
        int (*pod_shape_rewrite)(RenderPlan *plan, int shape);
        void *pod_shape_userdata;
} AgentLoopOptions;

/* One generated service, as last rendered. */
typedef struct AgentUnit {
        char *name;
        char *source;            /* the Quadlet file, NULL if unknown */
        char *translation_error; /* the source's last load/translation error, NULL if none */
        char *apply_error;       /* the last failed start/stop/restart, NULL if none */
} AgentUnit;

/* Everything the status reply says about the account's services. Valid during the callback. */
typedef struct LoopStatus {
        const char *manager_state;   /* SystemState, or "unavailable" */
        const AgentUnit *units;
        const UnitState *states;     /* states[i] for units[i]; active_state "unknown" if unreadable */
        char *const *health;         /* health[i] or NULL */
        size_t n_units;
        const Strv *errors;
        const char *podman_version;
        const char *pod_shape, *pod_shape_reason;
        uint64_t last_apply_usec;
} LoopStatus;

/* What one apply did. Valid during the callback. */
typedef struct ApplyReport {
        const Strv *started, *restarted, *stopped, *errors;
} ApplyReport;

typedef struct AgentLoop AgentLoop;

typedef void (*loop_status_done_t)(AgentLoop *l, const LoopStatus *st, void *userdata);
typedef void (*loop_apply_done_t)(AgentLoop *l, const ApplyReport *rep, void *userdata);
typedef void (*loop_action_done_t)(AgentLoop *l, int r, const char *result, const char *message, void *userdata);

int agent_loop_new(sd_event *event, const AgentLoopOptions *o, AgentLoop **ret);
AgentLoop *agent_loop_free(AgentLoop *l);

/* Starts an apply (or marks one to follow the running one). cb (optional) runs when an apply that
 * began after this call has finished. */
int agent_loop_apply(AgentLoop *l, loop_apply_done_t cb, void *userdata);
bool agent_loop_busy(AgentLoop *l);

/* Collects the manager state and every generated unit's state; cb runs exactly once. */
int agent_loop_status(AgentLoop *l, loop_status_done_t cb, void *userdata);

/* start/stop/restart of a unit the agent generated. -ENOENT with e naming "unit" if it is not
 * one of them; otherwise cb runs once with the job's outcome. */
int agent_loop_unit_action(AgentLoop *l, AgentOp op, const char *unit, loop_action_done_t cb, void *userdata,
                           ErrorInfo *e);

/* The unit dir, relative to the root: $XDG_CONFIG_HOME/systemd/user or ~/.config/systemd/user. */
const char *agent_loop_unitdir(AgentLoop *l);

/* Reads "podman version X.Y.Z" from `podman --version` (exec'd once, waited for at most 10 s).
 * ret_text gets "X.Y.Z". */
int podman_version_probe(const char *podman, unsigned *ret, char **ret_text);
