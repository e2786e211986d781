/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent-manager.h"
#include "log.h"
#include "macro.h"

#define SD1_DEST "org.freedesktop.systemd1"
#define SD1_PATH "/org/freedesktop/systemd1"
#define SD1_MANAGER "org.freedesktop.systemd1.Manager"
#define SD1_UNIT "org.freedesktop.systemd1.Unit"
#define SD1_SERVICE "org.freedesktop.systemd1.Service"
#define ERROR_NO_SUCH_UNIT "org.freedesktop.systemd1.NoSuchUnit"
#define DISCONNECTED_MESSAGE "The connection to the user manager was lost."

/* systemd's own errors, so that sd_bus_message_get_errno() gives callers something to switch on
 * (the same mapping as systemd's bus-common-errors.c for the ones a unit operation can meet). */
static const sd_bus_error_map systemd1_errors[] = {
        SD_BUS_ERROR_MAP(ERROR_NO_SUCH_UNIT, ENOENT),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.NoSuchJob", ENOENT),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.NotSubscribed", EINVAL),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.LoadFailed", EIO),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.UnitMasked", ERFKILL),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.JobTypeNotApplicable", EBADR),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.OnlyByDependency", EINVAL),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.TransactionIsDestructive", EDEADLK),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.TransactionOrderIsCyclic", EDEADLK),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.TransactionJobsConflicting", EDEADLK),
        SD_BUS_ERROR_MAP("org.freedesktop.systemd1.ShuttingDown", ECANCELED),
        SD_BUS_ERROR_MAP_END
};

typedef enum CallKind {
        CALL_RELOAD,
        CALL_JOB,
        CALL_STATE,
} CallKind;

struct ManagerCall {
        AgentManager *manager;
        ManagerCall *prev, *next;
        CallKind kind;
        sd_bus_slot *slot;       /* the method call in flight */
        sd_event_source *timer;  /* a job: how long we wait for JobRemoved */
        char *name;              /* the unit */
        char *path;              /* the job's object path, or the unit's */
        bool loading;            /* a state read: GetUnit said NoSuchUnit, LoadUnit was sent */
        UnitState state;
        union {
                manager_done_t done;
                manager_job_done_t job;
                manager_state_done_t state;
        } cb;
        void *userdata;
};

struct AgentManager {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *job_removed, *disconnected, *subscribe;
        ManagerCall *calls;
        unsigned n_calls;
        uint64_t call_usec, job_usec;
};

void unit_state_done(UnitState *s) {
        if (!s)
                return;
        free(s->load_state);
        free(s->active_state);
        free(s->sub_state);
        free(s->result);
        *s = (UnitState) {};
}

static ManagerCall *call_free(ManagerCall *c) {
        if (!c)
                return NULL;
        if (c->manager) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        c->manager->calls = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                c->manager->n_calls--;
        }
        sd_bus_slot_unref(c->slot);
        sd_event_source_disable_unref(c->timer);
        free(c->name);
        free(c->path);
        unit_state_done(&c->state);
        free(c);
        return NULL;
}

void manager_call_cancel(ManagerCall *c) {
        call_free(c);
}

static int call_new(AgentManager *m, CallKind kind, const char *name, void *cb, void *userdata,
                    ManagerCall **ret) {
        ManagerCall *c;

        if (name && (!*name || strlen(name) > 255 || strchr(name, '/')))
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        if (name) {
                c->name = strdup(name);
                if (!c->name) {
                        free(c);
                        return -ENOMEM;
                }
        }
        c->kind = kind;
        c->userdata = userdata;
        switch (kind) {
        case CALL_RELOAD:
                c->cb.done = (manager_done_t) cb;
                break;
        case CALL_JOB:
                c->cb.job = (manager_job_done_t) cb;
                break;
        case CALL_STATE:
                c->cb.state = (manager_state_done_t) cb;
                break;
        }
        c->manager = m;
        c->next = m->calls;
        if (m->calls)
                m->calls->prev = c;
        m->calls = c;
        m->n_calls++;
        *ret = c;
        return 0;
}

/* Reports once and frees: unlinked before the callback, so the callback may start new calls. */
static void call_finish(ManagerCall *c, int r, const char *result, const sd_bus_error *error) {
        AgentManager *m = c->manager;
        sd_bus_error fallback = SD_BUS_ERROR_NULL;

        if (r < 0 && !sd_bus_error_is_set(error)) {
                (void) sd_bus_error_set_errno(&fallback, r);
                error = &fallback;
        }
        switch (c->kind) {
        case CALL_RELOAD:
                if (c->cb.done)
                        c->cb.done(m, r, error, c->userdata);
                break;
        case CALL_JOB:
                if (c->cb.job)
                        c->cb.job(m, r, result, error, c->userdata);
                break;
        case CALL_STATE:
                if (c->cb.state)
                        c->cb.state(m, r, r >= 0 ? &c->state : NULL, error, c->userdata);
                break;
        }
        sd_bus_error_free(&fallback);
        call_free(c);
}

static void call_fail_reply(ManagerCall *c, sd_bus_message *reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* sd-bus fails the calls in flight of a closed connection with a synthetic NoReply, which
         * would read as a timeout: say what happened instead. */
        if (sd_bus_message_is_method_error(reply, SD_BUS_ERROR_NO_REPLY) &&
            sd_bus_is_open(c->manager->bus) <= 0) {
                (void) sd_bus_error_set(&error, SD_BUS_ERROR_DISCONNECTED, DISCONNECTED_MESSAGE);
                call_finish(c, -ECONNRESET, NULL, &error);
                return;
        }
        call_finish(c, sd_bus_message_get_errno(reply) > 0 ? -sd_bus_message_get_errno(reply) : -EIO, NULL,
                    sd_bus_message_get_error(reply));
}

static int call_method(ManagerCall *c, const char *path, const char *interface, const char *member,
                       sd_bus_message_handler_t handler, uint64_t timeout, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(c->manager->bus, &msg, SD1_DEST, path, interface, member);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        c->slot = sd_bus_slot_unref(c->slot);
        return sd_bus_call_async(c->manager->bus, &c->slot, msg, handler, c, timeout);
}

/* Keeps the object path of a reply (a job's or a unit's) in c->path. */
static int call_read_path(ManagerCall *c, sd_bus_message *reply) {
        const char *path;
        int r;

        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        free(c->path);
        c->path = strdup(path);
        return c->path ? 0 : -ENOMEM;
}

/* --- Reload ------------------------------------------------------------------------------------ */

static int on_reload_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ManagerCall *c = userdata;

        if (sd_bus_message_is_method_error(reply, NULL))
                call_fail_reply(c, reply);
        else
                call_finish(c, 0, NULL, NULL);
        return 0;
}

int manager_reload(AgentManager *m, manager_done_t cb, void *userdata, ManagerCall **ret_call) {
        ManagerCall *c;
        int r;

        r = call_new(m, CALL_RELOAD, NULL, cb, userdata, &c);
        if (r < 0)
                return r;
        /* systemd answers Reload only once the reload is complete, so the reply is the completion. */
        r = call_method(c, SD1_PATH, SD1_MANAGER, "Reload", on_reload_reply, m->job_usec, NULL);
        if (r < 0)
                return call_free(c), r;
        if (ret_call)
                *ret_call = c;
        return 0;
}

/* --- Jobs -------------------------------------------------------------------------------------- */

static int job_result_to_errno(const char *result) {
        if (streq(result, "done") || streq(result, "skipped"))
                return 0;
        if (streq(result, "canceled"))
                return -ECANCELED;
        if (streq(result, "timeout"))
                return -ETIME;
        return -EIO; /* failed, dependency, invalid, assert, unsupported, collected, once, frozen */
}

static int on_job_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ManagerCall *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* The job stays queued in the manager; we only stop waiting for it. */
        (void) sd_bus_error_setf(&error, SD_BUS_ERROR_TIMEOUT,
                                 "Job %s for unit '%s' did not finish within %llu s.", c->path, c->name,
                                 (unsigned long long) (c->manager->job_usec / 1000000ULL));
        call_finish(c, -ETIMEDOUT, NULL, &error);
        return 0;
}

static int on_job_enqueued(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ManagerCall *c = userdata;
        int r;

        c->slot = sd_bus_slot_unref(c->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                call_fail_reply(c, reply);
                return 0;
        }
        r = call_read_path(c, reply);
        if (r >= 0)
                r = sd_event_add_time_relative(c->manager->event, &c->timer, CLOCK_MONOTONIC,
                                               c->manager->job_usec, 0, on_job_timeout, c);
        if (r < 0)
                call_finish(c, r, NULL, NULL);
        return 0;
}

static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        AgentManager *m = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "uoss", &id, &path, &unit, &result);
        if (r < 0) {
                log_debug_errno(r, "Malformed JobRemoved signal, ignoring: %m");
                return 0;
        }
        /* "replace" merges a job into one of the same type already queued, so several calls may
         * wait for the same job. Restart the scan after each report: a callback may add calls. */
        for (;;) {
                ManagerCall *c;

                for (c = m->calls; c; c = c->next)
                        if (c->kind == CALL_JOB && c->path && streq(c->path, path))
                                break;
                if (!c)
                        break;
                call_finish(c, job_result_to_errno(result), result, NULL);
        }
        return 0;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        AgentManager *m = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* sd-bus has already failed the method calls in flight; the jobs we wait for would only time
         * out, since no JobRemoved can arrive any more. */
        (void) sd_bus_error_set(&error, SD_BUS_ERROR_DISCONNECTED, DISCONNECTED_MESSAGE);
        for (ManagerCall *c = m->calls; c;) {
                ManagerCall *next = c->next;
                if (c->kind == CALL_JOB && c->path)
                        call_finish(c, -ECONNRESET, NULL, &error);
                c = next;
        }
        return 0;
}

static int job(AgentManager *m, const char *method, const char *name, manager_job_done_t cb, void *userdata,
               ManagerCall **ret_call) {
        ManagerCall *c;
        int r;

        r = call_new(m, CALL_JOB, name, cb, userdata, &c);
        if (r < 0)
                return r;
        r = call_method(c, SD1_PATH, SD1_MANAGER, method, on_job_enqueued, m->call_usec, "ss", name, "replace");
        if (r < 0)
                return call_free(c), r;
        if (ret_call)
                *ret_call = c;
        return 0;
}

int manager_unit_start(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                       ManagerCall **ret_call) {
        return job(m, "StartUnit", name, cb, userdata, ret_call);
}

int manager_unit_stop(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                      ManagerCall **ret_call) {
        return job(m, "StopUnit", name, cb, userdata, ret_call);
}

int manager_unit_restart(AgentManager *m, const char *name, manager_job_done_t cb, void *userdata,
                         ManagerCall **ret_call) {
        return job(m, "RestartUnit", name, cb, userdata, ret_call);
}

/* --- State ------------------------------------------------------------------------------------- */

typedef struct Property {
        const char *name;
        char type; /* 's', 't' or 'u' */
        size_t offset;
} Property;

static const Property unit_properties[] = {
        { "LoadState", 's', offsetof(UnitState, load_state) },
        { "ActiveState", 's', offsetof(UnitState, active_state) },
        { "SubState", 's', offsetof(UnitState, sub_state) },
        { "StateChangeTimestamp", 't', offsetof(UnitState, state_change_usec) },
        {}
};

static const Property service_properties[] = {
        { "Result", 's', offsetof(UnitState, result) },
        { "NRestarts", 'u', offsetof(UnitState, n_restarts) },
        { "MainPID", 'u', offsetof(UnitState, main_pid) },
        {}
};

/* Reads the a{sv} of a GetAll reply, keeping the listed properties and skipping all others. */
static int read_properties(sd_bus_message *msg, const Property *props, UnitState *state) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const Property *p;
                const char *name;
                char sig[2] = {};

                r = sd_bus_message_read(msg, "s", &name);
                if (r < 0)
                        return r;
                for (p = props; p->name; p++)
                        if (streq(p->name, name))
                                break;
                if (!p->name) {
                        r = sd_bus_message_skip(msg, "v");
                        if (r < 0)
                                return r;
                } else {
                        uint8_t *field = (uint8_t *) state + p->offset;
                        const char *s;

                        sig[0] = p->type;
                        r = sd_bus_message_enter_container(msg, 'v', sig);
                        if (r < 0)
                                return r; /* a property of the wrong type: the peer is not systemd */
                        switch (p->type) {
                        case 's':
                                r = sd_bus_message_read_basic(msg, 's', &s);
                                if (r >= 0) {
                                        char *copy = strdup(s);
                                        if (!copy)
                                                return -ENOMEM;
                                        free(*(char **) field);
                                        *(char **) field = copy;
                                }
                                break;
                        default:
                                r = sd_bus_message_read_basic(msg, p->type, field);
                                break;
                        }
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static bool is_service(const char *name) {
        size_t n = strlen(name);
        return n > STRLEN(".service") && streq(name + n - STRLEN(".service"), ".service");
}

static int on_service_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ManagerCall *c = userdata;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                call_fail_reply(c, reply);
                return 0;
        }
        r = read_properties(reply, service_properties, &c->state);
        call_finish(c, r < 0 ? r : 0, NULL, NULL);
        return 0;
}

static int on_unit_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ManagerCall *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                call_fail_reply(c, reply);
                return 0;
        }
        r = read_properties(reply, unit_properties, &c->state);
        if (r < 0) {
                call_finish(c, r, NULL, NULL);
                return 0;
        }
        /* LoadUnit of a unit that does not exist succeeds with a stub; report it like GetUnit would. */
        if (c->state.load_state && streq(c->state.load_state, "not-found")) {
                (void) sd_bus_error_setf(&error, ERROR_NO_SUCH_UNIT, "Unit %s not found.", c->name);
                call_finish(c, -ENOENT, NULL, &error);
                return 0;
        }
        if (!is_service(c->name)) {
                call_finish(c, 0, NULL, NULL);
                return 0;
        }
        r = call_method(c, c->path, "org.freedesktop.DBus.Properties", "GetAll", on_service_properties,
                        c->manager->call_usec, "s", SD1_SERVICE);
        if (r < 0)
                call_finish(c, r, NULL, NULL);
        return 0;
}

static int on_unit_path(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ManagerCall *c = userdata;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* Not loaded right now (garbage-collected while inactive): load it, like systemctl
                 * status does. LoadUnit answers NoSuchUnit itself only for names it cannot load. */
                if (!c->loading && sd_bus_message_is_method_error(reply, ERROR_NO_SUCH_UNIT)) {
                        c->loading = true;
                        r = call_method(c, SD1_PATH, SD1_MANAGER, "LoadUnit", on_unit_path,
                                        c->manager->call_usec, "s", c->name);
                        if (r < 0)
                                call_finish(c, r, NULL, NULL);
                        return 0;
                }
                call_fail_reply(c, reply);
                return 0;
        }
        r = call_read_path(c, reply);
        if (r >= 0)
                r = call_method(c, c->path, "org.freedesktop.DBus.Properties", "GetAll", on_unit_properties,
                                c->manager->call_usec, "s", SD1_UNIT);
        if (r < 0)
                call_finish(c, r, NULL, NULL);
        return 0;
}

int manager_unit_state(AgentManager *m, const char *name, manager_state_done_t cb, void *userdata,
                       ManagerCall **ret_call) {
        ManagerCall *c;
        int r;

        r = call_new(m, CALL_STATE, name, cb, userdata, &c);
        if (r < 0)
                return r;
        r = call_method(c, SD1_PATH, SD1_MANAGER, "GetUnit", on_unit_path, m->call_usec, "s", name);
        if (r < 0)
                return call_free(c), r;
        if (ret_call)
                *ret_call = c;
        return 0;
}

/* --- The connection ---------------------------------------------------------------------------- */

static int on_subscribed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AgentManager *m = userdata;

        m->subscribe = sd_bus_slot_unref(m->subscribe);
        /* Peer-to-peer connections to systemd receive every signal anyway; on the bus, a failed
         * Subscribe means jobs are seen to finish only by their timeout. */
        if (sd_bus_message_is_method_error(reply, NULL))
                log_warning("Subscribe to the user manager failed, ignoring: %s",
                            sd_bus_message_get_error(reply)->message);
        return 0;
}

int manager_new(sd_event *event, sd_bus *bus, AgentManager **ret) {
        _cleanup_(manager_freep) AgentManager *m = NULL;
        int r;

        r = sd_bus_error_add_map(systemd1_errors);
        if (r < 0)
                return r;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->call_usec = MANAGER_CALL_TIMEOUT_USEC;
        m->job_usec = MANAGER_JOB_TIMEOUT_USEC;
        m->event = sd_event_ref(event);
        m->bus = sd_bus_ref(bus);
        if (!sd_bus_get_event(bus)) {
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        return r;
        }
        /* On a shared bus only systemd may finish our jobs; a peer-to-peer connection has no senders. */
        r = sd_bus_match_signal_async(bus, &m->job_removed, sd_bus_is_bus_client(bus) > 0 ? SD1_DEST : NULL,
                                      SD1_PATH, SD1_MANAGER, "JobRemoved", on_job_removed, NULL, m);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(bus, &m->disconnected, NULL, "/org/freedesktop/DBus/Local",
                                      "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, NULL, m);
        if (r < 0)
                return r;
        /* Sent after the match, before any job: JobRemoved of our first job cannot be missed. */
        r = sd_bus_call_method_async(bus, &m->subscribe, SD1_DEST, SD1_PATH, SD1_MANAGER, "Subscribe",
                                     on_subscribed, m, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

AgentManager *manager_free(AgentManager *m) {
        if (!m)
                return NULL;
        while (m->calls)
                call_free(m->calls);
        sd_bus_slot_unref(m->job_removed);
        sd_bus_slot_unref(m->disconnected);
        sd_bus_slot_unref(m->subscribe);
        sd_bus_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

void manager_set_timeouts(AgentManager *m, uint64_t call_usec, uint64_t job_usec) {
        if (call_usec > 0)
                m->call_usec = call_usec;
        if (job_usec > 0)
                m->job_usec = job_usec;
}

unsigned manager_n_pending(AgentManager *m) {
        return m->n_calls;
}
