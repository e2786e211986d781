/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-systemd1.h"

#define UNIT_PREFIX "/org/freedesktop/systemd1/unit"

static FakeUnit *find_unit(FakeSystemd1 *f, const char *name) {
        for (unsigned i = 0; i < f->n_units; i++)
                if (strcmp(f->units[i].name, name) == 0)
                        return &f->units[i];
        return NULL;
}

FakeUnit *fake_systemd1_add_unit(FakeSystemd1 *f, const char *name, const char *active_state) {
        FakeUnit *u;

        if (f->n_units >= FAKE_UNITS_MAX || strlen(name) >= sizeof u->name)
                return NULL;
        u = &f->units[f->n_units++];
        *u = (FakeUnit) {
                .load_state = "loaded",
                .active_state = active_state,
                .sub_state = strcmp(active_state, "active") == 0 ? "running" : "dead",
                .result = "success",
        };
        strcpy(u->name, name);
        return u;
}

static void log_call(FakeSystemd1 *f, const char *method, const char *unit) {
        FILE *l;

        if (!f->log_path || !(l = fopen(f->log_path, "ae")))
                return;
        fprintf(l, "%s%s%s\n", method, unit ? " " : "", unit ? unit : "");
        fclose(l);
}

static int no_such_unit(sd_bus_error *error, const char *name) {
        return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
}

static int reply_unit_path(sd_bus_message *m, const FakeUnit *u) {
        char *path = NULL;
        int r = sd_bus_path_encode(UNIT_PREFIX, u->name, &path);
        if (r >= 0)
                r = sd_bus_reply_method_return(m, "o", path);
        free(path);
        return r;
}

static int method_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        FakeSystemd1 *f = userdata;
        const char *name;
        FakeUnit *u;
        int r;

        if (f->silent)
                return 1; /* keeps the call unanswered */
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        u = find_unit(f, name);
        if (!u && f->auto_units && strcmp(sd_bus_message_get_member(m), "LoadUnit") == 0)
                u = fake_systemd1_add_unit(f, name, "inactive");
        if (!u || (u->unloaded && strcmp(sd_bus_message_get_member(m), "GetUnit") == 0))
                return no_such_unit(error, name);
        u->unloaded = false;
        return reply_unit_path(m, u);
}

static int method_job(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        FakeSystemd1 *f = userdata;
        const char *name, *mode, *method = sd_bus_message_get_member(m);
        char job[64];
        FakeUnit *u;
        int r;

        if (f->silent)
                return 1;
        r = sd_bus_message_read(m, "ss", &name, &mode);
        if (r < 0)
                return r;
        snprintf(f->last_method, sizeof f->last_method, "%s", method);
        snprintf(f->last_mode, sizeof f->last_mode, "%s", mode);
        log_call(f, method, name);
        u = find_unit(f, name);
        if (!u && f->auto_units)
                u = fake_systemd1_add_unit(f, name, "inactive");
        if (!u)
                return no_such_unit(error, name);
        f->last_job++;
        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", f->last_job);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0 || !f->job_result)
                return r;
        /* Sent after the reply on the same connection, so the client sees the job path first, as
         * with systemd, which finishes jobs in a later iteration of its loop. */
        if (strcmp(f->job_result, "done") == 0) {
                bool stop = strcmp(method, "StopUnit") == 0;
                u->active_state = stop ? "inactive" : "active";
                u->sub_state = stop ? "dead" : "running";
                u->main_pid = stop ? 0 : 4242;
        } else if (strcmp(f->job_result, "failed") == 0) {
                u->active_state = "failed";
                u->sub_state = "failed";
                u->result = "exit-code";
                u->main_pid = 0;
        }
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", f->last_job, job,
                                  name, f->job_result);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        FakeSystemd1 *f = userdata;

        if (f->silent)
                return 1;
        f->n_reload++;
        log_call(f, "Reload", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        FakeSystemd1 *f = userdata;

        if (f->silent)
                return 1;
        f->n_subscribe++;
        return sd_bus_reply_method_return(m, NULL);
}

static int method_hello(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", ":1.42");
}

static int get_system_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FakeSystemd1 *f = userdata;
        return sd_bus_message_append(reply, "s", f->system_state ? f->system_state : "running");
}

static int get_job(sd_bus *bus, const char *path, const char *interface, const char *property,
                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FakeUnit *u = userdata;
        char job[64];

        if (u->job_id == 0)
                return sd_bus_message_append(reply, "(uo)", 0, "/");
        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", u->job_id);
        return sd_bus_message_append(reply, "(uo)", u->job_id, job);
}

static int get_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FakeUnit *u = userdata;
        return sd_bus_message_append(reply, "s", u->name);
}

/* Unprivileged: sd-bus refuses a caller of another uid otherwise, and the host tests run the agent
 * as a service account against a fake manager run by root. */
#define U SD_BUS_VTABLE_UNPRIVILEGED
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("SystemState", "s", get_system_state, 0, 0),
        SD_BUS_METHOD("GetUnit", "s", "o", method_get_unit, U),
        SD_BUS_METHOD("LoadUnit", "s", "o", method_get_unit, U),
        SD_BUS_METHOD("StartUnit", "ss", "o", method_job, U),
        SD_BUS_METHOD("StopUnit", "ss", "o", method_job, U),
        SD_BUS_METHOD("RestartUnit", "ss", "o", method_job, U),
        SD_BUS_METHOD("Reload", "", "", method_reload, U),
        SD_BUS_METHOD("Subscribe", "", "", method_subscribe, U),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadState", "s", NULL, offsetof(FakeUnit, load_state), EMITS),
        SD_BUS_PROPERTY("ActiveState", "s", NULL, offsetof(FakeUnit, active_state), EMITS),
        SD_BUS_PROPERTY("SubState", "s", NULL, offsetof(FakeUnit, sub_state), EMITS),
        SD_BUS_PROPERTY("StateChangeTimestamp", "t", NULL, offsetof(FakeUnit, state_change_usec), EMITS),
        SD_BUS_PROPERTY("Job", "(uo)", get_job, 0, EMITS),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Result", "s", NULL, offsetof(FakeUnit, result), EMITS),
        SD_BUS_PROPERTY("NRestarts", "u", NULL, offsetof(FakeUnit, n_restarts), EMITS),
        SD_BUS_PROPERTY("MainPID", "u", NULL, offsetof(FakeUnit, main_pid), EMITS),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", method_hello, 0),
        SD_BUS_VTABLE_END,
};

static int find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                sd_bus_error *error, bool service) {
        FakeSystemd1 *f = userdata;
        char *name = NULL;
        FakeUnit *u;
        size_t n;

        if (sd_bus_path_decode(path, UNIT_PREFIX, &name) <= 0)
                return 0;
        u = find_unit(f, name);
        n = strlen(name);
        free(name);
        if (!u || (service && (n < 8 || strcmp(u->name + n - 8, ".service") != 0)))
                return 0;
        *ret_found = u;
        return 1;
}

static int find_unit_object(sd_bus *bus, const char *path, const char *interface, void *userdata,
                            void **ret_found, sd_bus_error *error) {
        return find(bus, path, interface, userdata, ret_found, error, false);
}

static int find_service_object(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **ret_found, sd_bus_error *error) {
        return find(bus, path, interface, userdata, ret_found, error, true);
}

int fake_systemd1_export(FakeSystemd1 *f, sd_bus *bus) {
        int r;

        f->bus = bus;
        r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, f);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, UNIT_PREFIX, "org.freedesktop.systemd1.Unit",
                                               unit_vtable, find_unit_object, f);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, UNIT_PREFIX, "org.freedesktop.systemd1.Service",
                                               service_vtable, find_service_object, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                             driver_vtable, NULL);
        return r;
}

int fake_systemd1_set_state(FakeSystemd1 *f, FakeUnit *u, const char *active_state, uint32_t job_id) {
        char *path = NULL;
        int r;

        u->active_state = active_state;
        u->sub_state = strcmp(active_state, "active") == 0 ? "running" : "dead";
        u->job_id = job_id;
        /* systemd broadcasts unit changes on the bus only while a client is subscribed. */
        if (sd_bus_is_bus_client(f->bus) > 0 && f->n_subscribe == 0)
                return 0;
        r = sd_bus_path_encode(UNIT_PREFIX, u->name, &path);
        if (r >= 0)
                r = sd_bus_emit_properties_changed(f->bus, path, "org.freedesktop.systemd1.Unit", "ActiveState",
                                                   "SubState", "Job", NULL);
        free(path);
        return r;
}
