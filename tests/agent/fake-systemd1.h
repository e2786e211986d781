/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A stand-in for the part of org.freedesktop.systemd1 unroot uses, served on any sd_bus: a
 * peer-to-peer server connection (in-process over a socketpair, or accepted on a socket, like
 * systemd's test-bus-server.c) or a connection to a private dbus-daemon. Exports the Manager
 * (SystemState, GetUnit, LoadUnit, Start/Stop/RestartUnit, Reload, Subscribe, JobRemoved),
 * each unit under /org/freedesktop/systemd1/unit/<escaped name> with the Unit and, for services,
 * the Service properties the agent reads, and org.freedesktop.DBus.Hello for bus clients. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#define FAKE_UNITS_MAX 32

typedef struct FakeUnit {
        char name[64];
        const char *load_state, *active_state, *sub_state, *result;
        uint64_t state_change_usec;
        uint32_t n_restarts, main_pid;
        uint32_t job_id;      /* the Job property: a queued job, 0 if none */
        bool unloaded;        /* GetUnit says NoSuchUnit until LoadUnit */
} FakeUnit;

typedef struct FakeSystemd1 {
        sd_bus *bus;
        const char *system_state;       /* Manager.SystemState, "running" if NULL */
        FakeUnit units[FAKE_UNITS_MAX];
        unsigned n_units;
        const char *job_result;         /* JobRemoved's result for every job; NULL: jobs never finish */
        bool silent;                    /* never answer a Manager method, like a stuck manager */
        bool auto_units;                /* Start/Stop/Restart/LoadUnit of an unknown unit adds it */
        const char *log_path;           /* if set, every Reload and job is appended as "Method unit\n" */
        unsigned n_subscribe, n_reload;
        uint32_t last_job;
        char last_method[32], last_mode[16];
} FakeSystemd1;

/* Adds a loaded unit in active_state ("active" → sub-state "running", else "dead"). */
FakeUnit *fake_systemd1_add_unit(FakeSystemd1 *f, const char *name, const char *active_state);
/* Exports everything on bus (not started or attached here). */
int fake_systemd1_export(FakeSystemd1 *f, sd_bus *bus);
/* Changes a unit's ActiveState and Job and sends PropertiesChanged like systemd: always on a
 * peer-to-peer connection, on a bus only once somebody called Subscribe. */
int fake_systemd1_set_state(FakeSystemd1 *f, FakeUnit *u, const char *active_state, uint32_t job_id);
