/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent-apply.h"
#include "agent-health.h"
#include "agent-loop.h"
#include "agent-render.h"
#include "agent-trim.h"
#include "agent-watch.h"
#include "log.h"
#include "macro.h"
#include "quadlet.h"

#define MANAGER_STATE_UNAVAILABLE "unavailable"

typedef struct Waiter {
        loop_apply_done_t cb;
        void *userdata;
        struct Waiter *next;
} Waiter;

struct AgentLoop {
        sd_event *event;
        AgentLoopOptions o;
        char *unitdir;
        QuadletSourcesOptions so;
        AgentWatch *watch;

        sd_bus *bus;
        AgentManager *manager;
        sd_event_source *release;
        unsigned n_ops; /* status collections and unit actions in flight */

        /* The state the status reports, from the last apply. */
        AgentUnit *units;
        size_t n_units;
        Strv errors;
        char *pod_shape, *pod_shape_reason;
        bool pod_shape_decided;
        int pod_shape_value;
        uint64_t last_apply_usec;

        /* The apply in progress. */
        bool running, again, written;
        Waiter *waiting, *current;
        RenderPlan plan;
        RenderDiff diff;
        ApplyActions actions;
        size_t step;
        Strv started, restarted, stopped, run_errors;
};

static void agent_unit_done(AgentUnit *u) {
        free(u->name);
        free(u->source);
        free(u->translation_error);
        free(u->apply_error);
        *u = (AgentUnit) {};
}

static void units_free(AgentUnit *u, size_t n) {
        for (size_t i = 0; i < n; i++)
                agent_unit_done(&u[i]);
        free(u);
}

static AgentUnit *unit_find(AgentLoop *l, const char *name) {
        for (size_t i = 0; i < l->n_units; i++)
                if (streq(l->units[i].name, name))
                        return &l->units[i];
        return NULL;
}

static void unit_set_apply_error(AgentLoop *l, const char *name, char *msg) {
        AgentUnit *u = unit_find(l, name);

        if (!u) {
                free(msg);
                return;
        }
        free(u->apply_error);
        u->apply_error = msg;
}

const char *agent_loop_unitdir(AgentLoop *l) {
        return l->unitdir;
}

/* ---- the connection to the user manager, open only while needed ---- */

static int open_bus(AgentLoop *l, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *addr = NULL;
        int r;

        /* Like `systemctl --user`: the manager's private socket first, which works without a D-Bus
         * user bus (dbus-user-session is not installed everywhere), then the user bus. */
        if (l->o.manager_address)
                addr = strdup(l->o.manager_address);
        else if (l->o.xdg_runtime_dir)
                addr = strdup_printf("unix:path=%s/systemd/private", l->o.xdg_runtime_dir);
        if (addr) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, addr);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0) {
                        bus = sd_bus_flush_close_unref(bus);
                        if (l->o.manager_address)
                                return r;
                        log_debug_errno(r, "Cannot connect to '%s', trying the user bus: %m", addr);
                }
        }
        if (!bus) {
                r = sd_bus_open_user(&bus);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

static AgentManager *loop_manager(AgentLoop *l, int *ret_error) {
        int r;

        if (l->manager && sd_bus_is_open(l->bus) > 0)
                return l->manager;
        l->manager = manager_free(l->manager);
        l->bus = sd_bus_flush_close_unref(l->bus);
        r = open_bus(l, &l->bus);
        if (r >= 0)
                r = manager_new(l->event, l->bus, &l->manager);
        if (r < 0) {
                log_debug_errno(r, "Cannot reach the user manager: %m");
                l->bus = sd_bus_flush_close_unref(l->bus);
                if (ret_error)
                        *ret_error = r;
                return NULL;
        }
        return l->manager;
}

static bool loop_idle(AgentLoop *l) {
        return !l->running && l->n_ops == 0 && (!l->manager || manager_n_pending(l->manager) == 0);
}

static int on_release(sd_event_source *s, void *userdata) {
        AgentLoop *l = userdata;

        l->release = sd_event_source_disable_unref(l->release);
        if (!loop_idle(l))
                return 0;
        /* Closed while idle: the manager sends every unit's changes to a private connection, and
         * an idle agent must not wake up for them. */
        if (l->manager) {
                l->manager = manager_free(l->manager);
                l->bus = sd_bus_flush_close_unref(l->bus);
                log_debug("Idle: closed the connection to the user manager.");
        }
        (void) trim_text_pages();
        return 0;
}

/* From inside manager callbacks the manager may not be freed (and still counts the call being
 * reported): release from a deferred event, which checks again. */
static void maybe_release(AgentLoop *l) {
        if (l->release || l->running || l->n_ops > 0)
                return;
        if (sd_event_add_defer(l->event, &l->release, on_release, l) < 0)
                l->release = NULL;
}

static void run_error(AgentLoop *l, const char *fmt, ...) _printf_(2, 3);

/* ---- the pod shape ---- */

static bool plan_has_pod(const RenderPlan *plan) {
        for (size_t i = 0; i < plan->n; i++) {
                const char *src = plan->entries[i].source;
                size_t n = src ? strlen(src) : 0;
                if (n > 4 && streq(src + n - 4, ".pod"))
                        return true;
        }
        return false;
}

static int set_pod_shape(AgentLoop *l, const char *shape, const char *reason) {
        char *s = strdup(shape), *r = strdup(reason);

        if (!s || !r) {
                free(s);
                free(r);
                return -ENOMEM;
        }
        free(l->pod_shape);
        free(l->pod_shape_reason);
        l->pod_shape = s;
        l->pod_shape_reason = r;
        return 0;
}

/* The single call site of the pod shape (agent/pod-shape.h): decided at the first plan that has a
 * pod, then every plan's pod services are rewritten into that shape before the diff, so a change
 * of shape shows up as a changed unit and is restarted like any other change. */
static int apply_pod_shape(AgentLoop *l, RenderPlan *plan) {
        int r;

        if (!l->o.pod_shape_decide || !l->o.pod_shape_rewrite)
                return l->pod_shape ? 0 : set_pod_shape(l, "", "not decided: this agent has no pod shape probe");
        if (!l->pod_shape_decided) {
                _cleanup_free_ char *name = NULL, *reason = NULL;
                int shape = 0;

                if (!plan_has_pod(plan))
                        return l->pod_shape ? 0 : set_pod_shape(l, "", "not decided yet: no pod units");
                log_info("Deciding how to run pods (may probe once).");
                r = l->o.pod_shape_decide(l->o.pod_shape_userdata, &shape, &name, &reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        run_error(l, "Cannot decide the pod shape, pods keep the stock shape: %s", strerror(-r));
                        return set_pod_shape(l, "", reason ?: "not decided: the decision failed");
                }
                l->pod_shape_decided = true;
                l->pod_shape_value = shape;
                r = set_pod_shape(l, strempty(name), strempty(reason));
                if (r < 0)
                        return r;
                log_info("Pod shape: %s (%s).", l->pod_shape, l->pod_shape_reason);
        }
        r = l->o.pod_shape_rewrite(plan, l->pod_shape_value);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                run_error(l, "Cannot rewrite the pod units into the %s shape: %s", l->pod_shape, strerror(-r));
        else if (r > 0)
                log_debug("%i pod unit(s) rewritten into the %s shape.", r, l->pod_shape);
        return 0;
}

/* ---- the units of the last plan ---- */

/* The source a kept unit was rendered from, from the marker line agent-render writes. */
static char *read_unit_source(AgentLoop *l, const char *name) {
        const char *pre = !l->o.root || !l->o.root[0] || streq(l->o.root, "/") ? "" : l->o.root;
        _cleanup_free_ char *path = strdup_printf("%s%s/%s", pre, l->unitdir, name);
        _cleanup_close_ int fd = -EBADF;
        char buf[4096], *p, *end;
        ssize_t n;

        if (!path)
                return NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        p = strstr(buf, "Generated by unroot-agent from ");
        if (!p)
                return NULL;
        p += strlen("Generated by unroot-agent from ");
        end = strstr(p, "; edits");
        return end ? strndup(p, (size_t) (end - p)) : NULL;
}

static char *source_error(const Strv *errors, const char *source) {
        _cleanup_free_ char *quoted = NULL;
        const char *base;

        if (!source)
                return NULL;
        base = strrchr(source, '/');
        base = base ? base + 1 : source;
        quoted = strdup_printf("\"%s\"", base);
        for (size_t i = 0; quoted && i < errors->n; i++)
                if (strstr(errors->v[i], quoted) || strstr(errors->v[i], source))
                        return strdup(errors->v[i]);
        return NULL;
}

static int add_unit(AgentUnit **units, size_t *n, const char *name, char *source, const AgentLoop *l) {
        AgentUnit *v = reallocarray(*units, *n + 1, sizeof(AgentUnit));
        AgentUnit *old = NULL;

        if (!v) {
                free(source);
                return -ENOMEM;
        }
        *units = v;
        for (size_t i = 0; i < l->n_units; i++)
                if (streq(l->units[i].name, name))
                        old = &l->units[i];
        v[*n] = (AgentUnit) {
                .name = strdup(name),
                .source = source,
                .apply_error = old && old->apply_error ? strdup(old->apply_error) : NULL,
        };
        (*n)++;
        return v[*n - 1].name ? 0 : -ENOMEM;
}

/* Rebuilds the unit list from the plan and the diff (kept units included), keeping each unit's
 * last apply error. */
static int update_units(AgentLoop *l) {
        AgentUnit *units = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < l->plan.n; i++) {
                const RenderEntry *e = &l->plan.entries[i];
                if (e->symlink || !apply_path_is_service(e->path))
                        continue;
                if (!strv_has(&l->diff.manifest, e->path))
                        continue; /* a conflict with a foreign file: not ours */
                r = add_unit(&units, &n, e->path, e->source && e->source[0] ? strdup(e->source) : NULL, l);
        }
        for (size_t i = 0; r >= 0 && i < l->diff.kept.n; i++)
                if (apply_path_is_service(l->diff.kept.v[i]))
                        r = add_unit(&units, &n, l->diff.kept.v[i], read_unit_source(l, l->diff.kept.v[i]), l);
        for (size_t i = 0; r >= 0 && i < n; i++)
                units[i].translation_error = source_error(&l->plan.errors, units[i].source);
        if (r < 0) {
                units_free(units, n);
                return r;
        }
        units_free(l->units, l->n_units);
        l->units = units;
        l->n_units = n;
        return 0;
}

/* ---- the apply ---- */

static void apply_next(AgentLoop *l);
static void apply_begin(AgentLoop *l);

static void run_error(AgentLoop *l, const char *fmt, ...) {
        char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return;
        log_warning("%s", m);
        strv_add(&l->run_errors, m);
        strv_consume(&l->errors, m);
}

/* Drops what belongs to one apply run. */
static void apply_state_done(AgentLoop *l) {
        render_plan_done(&l->plan);
        render_diff_done(&l->diff);
        apply_actions_done(&l->actions);
        strv_done(&l->started);
        strv_done(&l->restarted);
        strv_done(&l->stopped);
        strv_done(&l->run_errors);
}

static void apply_finish(AgentLoop *l) {
        ApplyReport rep = {
                .started = &l->started,
                .restarted = &l->restarted,
                .stopped = &l->stopped,
                .errors = &l->run_errors,
        };
        struct timespec ts;
        Waiter *w;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        l->last_apply_usec = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        log_info("Applied: %zu started, %zu restarted, %zu stopped, %zu errors.", l->started.n, l->restarted.n,
                 l->stopped.n, l->errors.n);

        w = TAKE_PTR(l->current);
        while (w) {
                Waiter *next = w->next;
                w->cb(l, &rep, w->userdata);
                free(w);
                w = next;
        }
        apply_state_done(l);
        l->running = false;
        if (l->again)
                apply_begin(l);
        maybe_release(l);
}

static char *job_failure(const char *verb, int r, const char *result, const sd_bus_error *error) {
        if (result)
                return strdup_printf("%s failed: job result '%s'", verb, result);
        return strdup_printf("%s failed: %s", verb, error && error->message ? error->message : strerror(-r));
}

static void on_step_done(AgentManager *m, int r, const char *result, const sd_bus_error *error, void *userdata) {
        AgentLoop *l = userdata;
        const ApplyStep *s = &l->actions.steps[l->step];
        const char *verb = apply_step_kind_to_string(s->kind);

        /* A unit the manager does not know is already stopped. */
        if (r < 0 && !(s->kind == APPLY_STOP && r == -ENOENT)) {
                char *msg = job_failure(verb, r, result, error);
                log_warning("%s of '%s': %s", verb, s->unit, msg ?: "failed");
                if (msg)
                        strv_addf(&l->run_errors, "%s: %s", s->unit, msg);
                unit_set_apply_error(l, s->unit, msg);
        } else {
                unit_set_apply_error(l, s->unit, NULL);
                strv_add(s->kind == APPLY_STOP ? &l->stopped : s->kind == APPLY_START ? &l->started : &l->restarted,
                         s->unit);
        }
        l->step++;
        apply_next(l);
}

static void on_reload_done(AgentManager *m, int r, const sd_bus_error *error, void *userdata) {
        AgentLoop *l = userdata;

        if (r < 0)
                run_error(l, "Reload of the user manager failed: %s", error && error->message ? error->message : strerror(-r));
        apply_next(l);
}

static void apply_next(AgentLoop *l) {
        AgentManager *m = l->manager;
        int r;

        for (;;) {
                if (l->step < l->actions.n_stop || (l->written && l->step < l->actions.n)) {
                        const ApplyStep *s = &l->actions.steps[l->step];
                        if (!m) {
                                unit_set_apply_error(l, s->unit,
                                                     strdup_printf("not %s: the user manager is not reachable",
                                                                   s->kind == APPLY_STOP ? "stopped" : "started"));
                                l->step++;
                                continue;
                        }
                        log_debug("%s '%s'.", apply_step_kind_to_string(s->kind), s->unit);
                        r = s->kind == APPLY_STOP ? manager_unit_stop(m, s->unit, on_step_done, l, NULL) :
                            s->kind == APPLY_START ? manager_unit_start(m, s->unit, on_step_done, l, NULL) :
                                                     manager_unit_restart(m, s->unit, on_step_done, l, NULL);
                        if (r >= 0)
                                return;
                        on_step_done(m, r, NULL, NULL, l);
                        return;
                }
                if (!l->written) {
                        const char *pre = !l->o.root || !l->o.root[0] || streq(l->o.root, "/") ? NULL : l->o.root;
                        l->written = true;
                        r = render_apply(pre, l->unitdir, &l->plan, &l->diff);
                        if (r < 0)
                                run_error(l, "Writing the unit files in '%s' failed: %s", l->unitdir, strerror(-r));
                        /* Reload whenever a file may have changed, a partial write included. */
                        if (m && (r != 0 || l->actions.n_stop > 0)) {
                                log_debug("Reloading the user manager.");
                                r = manager_reload(m, on_reload_done, l, NULL);
                                if (r >= 0)
                                        return;
                                run_error(l, "Reload of the user manager failed: %s", strerror(-r));
                        }
                        continue;
                }
                apply_finish(l);
                return;
        }
}

static void apply_begin(AgentLoop *l) {
        const char *pre = !l->o.root || !l->o.root[0] || streq(l->o.root, "/") ? NULL : l->o.root;
        _cleanup_strv_ Strv manifest = {};
        int r, mr = 0;

        l->running = true;
        l->again = false;
        l->written = false;
        l->step = 0;
        l->current = TAKE_PTR(l->waiting);
        strv_done(&l->errors);

        /* Re-armed before the sources are read: a change after this point fires again. */
        if (l->watch) {
                _cleanup_strv_ Strv dirs = {};
                r = watch_dirs(&l->so, &dirs);
                if (r >= 0)
                        r = watch_set(l->watch, &dirs);
                if (r < 0)
                        run_error(l, "Cannot watch the Quadlet directories: %s", strerror(-r));
        }

        r = render_plan(&l->so, l->o.podman_version, &l->plan);
        if (r >= 0)
                r = apply_pod_shape(l, &l->plan);
        if (r >= 0)
                r = render_manifest_read(pre, l->unitdir, &manifest);
        if (r >= 0)
                r = render_diff(pre, l->unitdir, &l->plan, &manifest, &l->diff);
        if (r >= 0)
                r = apply_actions_from_diff(&l->diff, &l->actions);
        if (r >= 0)
                r = update_units(l);
        if (r < 0) {
                run_error(l, "Cannot render the Quadlet files: %s", strerror(-r));
                /* Nothing is written or started from a plan that could not be made. */
                apply_actions_done(&l->actions);
                l->written = true;
                apply_finish(l);
                return;
        }
        strv_extend(&l->errors, &l->plan.errors);
        strv_extend(&l->errors, &l->diff.conflicts);
        for (size_t i = 0; i < l->plan.errors.n; i++)
                log_warning("%s", l->plan.errors.v[i]);
        for (size_t i = 0; i < l->diff.conflicts.n; i++)
                log_warning("%s", l->diff.conflicts.v[i]);

        if (l->actions.n > 0 || l->actions.reload) {
                if (!loop_manager(l, &mr))
                        run_error(l, "Cannot reach the user manager, units are written but not started: %s",
                                  strerror(-mr));
        }
        apply_next(l);
}

int agent_loop_apply(AgentLoop *l, loop_apply_done_t cb, void *userdata) {
        if (cb) {
                Waiter *w = calloc(1, sizeof *w);
                if (!w)
                        return -ENOMEM;
                *w = (Waiter) { .cb = cb, .userdata = userdata, .next = l->waiting };
                l->waiting = w;
        }
        if (l->running) {
                l->again = true;
                return 0;
        }
        apply_begin(l);
        return 0;
}

bool agent_loop_busy(AgentLoop *l) {
        return l->running;
}

static void on_watch(AgentWatch *w, void *userdata) {
        AgentLoop *l = userdata;

        log_debug("Quadlet sources changed.");
        (void) agent_loop_apply(l, NULL, NULL);
}

/* ---- status ---- */

typedef struct StatusCall StatusCall;
typedef struct StateSlot {
        StatusCall *call;
        size_t index;
} StateSlot;

struct StatusCall {
        AgentLoop *loop;
        loop_status_done_t cb;
        void *userdata;
        AgentUnit *units; /* a snapshot: an apply may replace the list meanwhile */
        UnitState *states;
        char **health;
        size_t n;
        unsigned pending;
        StateSlot *slots;
        char *manager_state;
        sd_bus_slot *slot;
};

static void status_call_free(StatusCall *c) {
        for (size_t i = 0; i < c->n; i++) {
                unit_state_done(&c->states[i]);
                free(c->health[i]);
        }
        units_free(c->units, c->n);
        free(c->states);
        free(c->health);
        free(c->slots);
        free(c->manager_state);
        sd_bus_slot_unref(c->slot);
        free(c);
}

static void status_finish(StatusCall *c) {
        AgentLoop *l = c->loop;
        LoopStatus st = {
                .manager_state = c->manager_state ?: MANAGER_STATE_UNAVAILABLE,
                .units = c->units,
                .states = c->states,
                .health = c->health,
                .n_units = c->n,
                .errors = &l->errors,
                .podman_version = l->o.podman_version_text,
                .pod_shape = l->pod_shape,
                .pod_shape_reason = l->pod_shape_reason,
                .last_apply_usec = l->last_apply_usec,
        };

        for (size_t i = 0; i < c->n; i++) {
                UnitState *s = &c->states[i];
                if (!s->active_state)
                        s->active_state = strdup("unknown");
                if (!s->sub_state)
                        s->sub_state = strdup("unknown");
                /* Health only means something for a running container. */
                if (c->units[i].source && strstr(c->units[i].source, ".container") && s->active_state &&
                    streq(s->active_state, "active"))
                        (void) container_health(l->o.root, l->o.xdg_runtime_dir, l->o.home, c->units[i].name,
                                                &c->health[i]);
        }
        c->cb(l, &st, c->userdata);
        l->n_ops--;
        status_call_free(c);
        maybe_release(l);
}

static void status_step(StatusCall *c) {
        if (--c->pending == 0)
                status_finish(c);
}

static void on_unit_state(AgentManager *m, int r, const UnitState *state, const sd_bus_error *error, void *userdata) {
        StateSlot *slot = userdata;
        StatusCall *c = slot->call;
        UnitState *s = &c->states[slot->index];

        if (r >= 0) {
                *s = (UnitState) {
                        .load_state = state->load_state ? strdup(state->load_state) : NULL,
                        .active_state = state->active_state ? strdup(state->active_state) : NULL,
                        .sub_state = state->sub_state ? strdup(state->sub_state) : NULL,
                        .result = state->result ? strdup(state->result) : NULL,
                        .state_change_usec = state->state_change_usec,
                        .n_restarts = state->n_restarts,
                        .main_pid = state->main_pid,
                };
        } else if (r == -ENOENT) {
                s->load_state = strdup("not-found");
                s->active_state = strdup("inactive");
                s->sub_state = strdup("dead");
        } else
                log_debug("State of '%s' unavailable: %s", c->units[slot->index].name,
                          error && error->message ? error->message : strerror(-r));
        status_step(c);
}

static int on_system_state(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StatusCall *c = userdata;
        const char *state = NULL;

        c->slot = sd_bus_slot_unref(c->slot);
        if (!sd_bus_message_is_method_error(reply, NULL) && sd_bus_message_read(reply, "v", "s", &state) >= 0 && state)
                c->manager_state = strdup(state);
        status_step(c);
        return 0;
}

int agent_loop_status(AgentLoop *l, loop_status_done_t cb, void *userdata) {
        StatusCall *c;
        AgentManager *m;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (StatusCall) { .loop = l, .cb = cb, .userdata = userdata, .n = l->n_units };
        c->units = calloc(MAX(l->n_units, (size_t) 1), sizeof(AgentUnit));
        c->states = calloc(MAX(l->n_units, (size_t) 1), sizeof(UnitState));
        c->health = calloc(MAX(l->n_units, (size_t) 1), sizeof(char *));
        c->slots = calloc(MAX(l->n_units, (size_t) 1), sizeof(StateSlot));
        if (!c->units || !c->states || !c->health || !c->slots) {
                c->n = 0;
                status_call_free(c);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l->n_units; i++) {
                const AgentUnit *u = &l->units[i];
                c->units[i] = (AgentUnit) {
                        .name = strdup(u->name),
                        .source = u->source ? strdup(u->source) : NULL,
                        .translation_error = u->translation_error ? strdup(u->translation_error) : NULL,
                        .apply_error = u->apply_error ? strdup(u->apply_error) : NULL,
                };
                if (!c->units[i].name) {
                        status_call_free(c);
                        return -ENOMEM;
                }
        }

        l->n_ops++;
        /* One for this function: the result goes out only after every query was sent. */
        c->pending = 1;
        m = loop_manager(l, NULL);
        if (m) {
                if (sd_bus_call_method_async(l->bus, &c->slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                             "org.freedesktop.DBus.Properties", "Get", on_system_state, c, "ss",
                                             "org.freedesktop.systemd1.Manager", "SystemState") >= 0)
                        c->pending++;
                for (size_t i = 0; i < c->n; i++) {
                        c->slots[i] = (StateSlot) { .call = c, .index = i };
                        if (manager_unit_state(m, c->units[i].name, on_unit_state, &c->slots[i], NULL) >= 0)
                                c->pending++;
                }
        }
        status_step(c);
        return 0;
}

/* ---- unit actions ---- */

typedef struct ActionCall {
        AgentLoop *loop;
        AgentOp op;
        char *unit;
        loop_action_done_t cb;
        void *userdata;
} ActionCall;

static void on_action_done(AgentManager *m, int r, const char *result, const sd_bus_error *error, void *userdata) {
        ActionCall *a = userdata;
        AgentLoop *l = a->loop;
        _cleanup_free_ char *msg = NULL;

        if (r < 0) {
                msg = job_failure(agent_op_to_string(a->op), r, result, error);
                unit_set_apply_error(l, a->unit, msg ? strdup(msg) : NULL);
        } else
                unit_set_apply_error(l, a->unit, NULL);
        log_info("%s of '%s' on request: %s", agent_op_to_string(a->op), a->unit, msg ?: "done");
        a->cb(l, r, result, msg, a->userdata);
        l->n_ops--;
        free(a->unit);
        free(a);
        maybe_release(l);
}

int agent_loop_unit_action(AgentLoop *l, AgentOp op, const char *unit, loop_action_done_t cb, void *userdata,
                           ErrorInfo *e) {
        AgentManager *m;
        ActionCall *a;
        int r = 0;

        if (!unit_find(l, unit))
                return error_set(e, -ENOENT, "unit",
                                 "unit: '%s' is not a unit unroot-agent generated for this account "
                                 "(see 'agentctl status')", unit);
        m = loop_manager(l, &r);
        if (!m)
                return error_set(e, r < 0 ? r : -ECONNREFUSED, NULL, "the user manager is not reachable: %s",
                                 strerror(r < 0 ? -r : ECONNREFUSED));
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        *a = (ActionCall) { .loop = l, .op = op, .unit = strdup(unit), .cb = cb, .userdata = userdata };
        if (!a->unit) {
                free(a);
                return -ENOMEM;
        }
        r = op == AGENT_OP_START ? manager_unit_start(m, unit, on_action_done, a, NULL) :
            op == AGENT_OP_STOP ? manager_unit_stop(m, unit, on_action_done, a, NULL) :
            op == AGENT_OP_RESTART ? manager_unit_restart(m, unit, on_action_done, a, NULL) : -EINVAL;
        if (r < 0) {
                free(a->unit);
                free(a);
                return error_set(e, r, NULL, "cannot ask the user manager to %s '%s': %s", agent_op_to_string(op),
                                 unit, strerror(-r));
        }
        l->n_ops++;
        return 0;
}

/* ---- setup ---- */

int agent_loop_new(sd_event *event, const AgentLoopOptions *o, AgentLoop **ret) {
        AgentLoop *l;
        int r;

        if (!o->home || o->home[0] != '/')
                return -EINVAL;
        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(event);
        l->o = *o;
        if (o->xdg_config_home && o->xdg_config_home[0])
                l->unitdir = strdup_printf("%s/systemd/user", o->xdg_config_home);
        else
                l->unitdir = strdup_printf("%s/.config/systemd/user", o->home);
        if (!l->unitdir) {
                agent_loop_free(l);
                return -ENOMEM;
        }
        l->so = (QuadletSourcesOptions) {
                .root = o->root,
                .user = true,
                .uid = o->uid,
                .xdg_runtime_dir = o->xdg_runtime_dir,
                .xdg_config_home = o->xdg_config_home,
                .home = o->home,
        };
        if (o->watch) {
                r = watch_new(event, o->debounce_usec ?: WATCH_DEBOUNCE_USEC_DEFAULT, on_watch, l, &l->watch);
                if (r < 0) {
                        agent_loop_free(l);
                        return r;
                }
        }
        *ret = l;
        return 0;
}

AgentLoop *agent_loop_free(AgentLoop *l) {
        if (!l)
                return NULL;
        /* Pending manager calls are cancelled with the manager, without their callbacks. */
        l->manager = manager_free(l->manager);
        l->bus = sd_bus_flush_close_unref(l->bus);
        sd_event_source_disable_unref(l->release);
        watch_free(l->watch);
        for (Waiter *w = l->waiting, *n; w; w = n) {
                n = w->next;
                free(w);
        }
        for (Waiter *w = l->current, *n; w; w = n) {
                n = w->next;
                free(w);
        }
        units_free(l->units, l->n_units);
        strv_done(&l->errors);
        free(l->pod_shape);
        free(l->pod_shape_reason);
        apply_state_done(l);
        free(l->unitdir);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

/* ---- podman --version ---- */

int podman_version_probe(const char *podman, unsigned *ret, char **ret_text) {
        char buf[256];
        size_t off = 0;
        int pfd[2], status, r;
        pid_t pid;
        const char *v;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pfd[0]);
                close(pfd[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0 ||
                    dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                execlp(podman, podman, "--version", (char *) NULL);
                _exit(127);
        }
        close(pfd[1]);
        for (;;) {
                struct pollfd p = { .fd = pfd[0], .events = POLLIN };
                ssize_t n;
                r = poll(&p, 1, 10000);
                if (r <= 0) {
                        if (r < 0 && errno == EINTR)
                                continue;
                        (void) kill(pid, SIGKILL);
                        break;
                }
                n = read(pfd[0], buf + off, sizeof buf - 1 - off);
                if (n <= 0)
                        break;
                off += (size_t) n;
                if (off >= sizeof buf - 1)
                        break;
        }
        buf[off] = 0;
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -ENOEXEC;
        r = quadlet_parse_podman_version(buf, ret);
        if (r < 0)
                return r;
        v = strstr(buf, "version ");
        v = v ? v + strlen("version ") : buf;
        *ret_text = strndup(v, strcspn(v, " \r\n"));
        return *ret_text ? 0 : -ENOMEM;
}
