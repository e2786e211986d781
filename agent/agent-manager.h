/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The agent's client of its user manager (org.freedesktop.systemd1 over sd-bus). Every operation is
 * asynchronous on the bus's sd-event loop and bounded by a timeout, so a stuck manager never hangs
 * the agent; nothing wakes up while no call is pending. Each operation reports once, through its
 * callback, with r >= 0 or a negative errno plus the D-Bus error (name and message) that caused it.
 * D-Bus errors of systemd are mapped: NoSuchUnit → -ENOENT, UnitMasked → -ERFKILL, … */

#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* Method calls (GetUnit, GetAll, StartUnit, …) must be answered within this. */
#define MANAGER_CALL_TIMEOUT_USEC (25ULL * 1000000ULL)
/* A Reload, and a job from enqueue to JobRemoved, must finish within this. */
#define MANAGER_JOB_TIMEOUT_USEC (10ULL * 60ULL * 1000000ULL)

typedef struct AgentManager AgentManager;
typedef struct ManagerCall ManagerCall;

typedef struct UnitState {
        char *load_state;            /* "loaded", "not-found", "masked", … */
        char *active_state;          /* "active", "failed", … */
        char *sub_state;             /* "running", "dead", … */
        char *result;                /* services only: "success", "exit-code", …; NULL otherwise */
        uint64_t state_change_usec;  /* CLOCK_REALTIME µs of the last ActiveState change, 0 if never */
        uint32_t n_restarts;         /* services only */
        uint32_t main_pid;           /* services only, 0 if none */
} UnitState;

void unit_state_done(UnitState *s);

/* Completion of a Reload (r = 0). error is set (sd_bus_error_is_set) whenever r < 0. */
typedef void (*manager_done_t)(AgentManager *m, int r, const sd_bus_error *error, void *userdata);
/* Completion of a job: result is JobRemoved's result ("done", "failed", "canceled", "timeout",
 * "dependency", "skipped", …) or NULL if the job was not enqueued or not seen to finish. r is 0 for
 * "done" and "skipped", -EIO for "failed" and "dependency", -ECANCELED, -ETIME for the unit's own
 * "timeout", -ETIMEDOUT if we stopped waiting, or the enqueue error. */
typedef void (*manager_job_done_t)(AgentManager *m, int r, const char *result, const sd_bus_error *error,
                                   void *userdata);
/* Completion of a state read; state is valid only during the callback and only if r >= 0. */
typedef void (*manager_state_done_t)(AgentManager *m, int r, const UnitState *state, const sd_bus_error *error,
                                     void *userdata);

/* Uses bus (a reference is taken), attaches it to event unless it already has a loop, watches
 * JobRemoved and Disconnected and sends Subscribe. bus may be a peer-to-peer connection (the user
 * manager's private socket, or a test's socketpair) or a bus connection (then only signals from
 * org.freedesktop.systemd1 are accepted). */
int manager_new(sd_event *event, sd_bus *bus, AgentManager **ret);
/* Cancels every pending operation without calling its callback. Not from inside a callback. */
AgentManager *manager_free(AgentManager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(AgentManager *, manager_free);

/* Overrides the two timeouts (0 keeps the current value). */
void manager_set_timeouts(AgentManager *m, uint64_t call_usec, uint64_t job_usec);

/* Each returns 0 when the request was sent (the callback runs later, exactly once, unless the
 * call is cancelled) or a negative errno at once (the callback never runs). ret_call is optional:
 * it is valid until the callback returns, and manager_call_cancel() drops it silently. */
int manager_reload(AgentManager *m, manager_done_t cb, void *userdata, ManagerCall **ret_call);
int manager_unit_start(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                       ManagerCall **ret_call);
int manager_unit_stop(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                      ManagerCall **ret_call);
int manager_unit_restart(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                         ManagerCall **ret_call);
/* GetUnit (LoadUnit if not loaded), then GetAll on .Unit and, for services, on .Service.
 * A unit whose LoadState is "not-found" reports -ENOENT like NoSuchUnit. */
int manager_unit_state(AgentManager *m, const char *name, manager_state_done_t cb, void *userdata,
                       ManagerCall **ret_call);
void manager_call_cancel(ManagerCall *c);

/* Number of operations still waiting (for tests and for shutting down cleanly). */
unsigned manager_n_pending(AgentManager *m);
