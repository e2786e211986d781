/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-wait-online: in a user manager, wait until the system's network-online.target is active,
 * for podman versions without podman-user-wait-network-online.service (4.3 and older).
 *
 * Event-driven: subscribe to the target's PropertiesChanged on the system bus, read its state
 * once, then sleep until systemd says something changed or the timeout fires. Never fails and
 * never hangs: a timeout, a target that nothing starts, or no system bus at all each end the wait
 * with exit status 0 and a warning, so a boot goes on without the network rather than stalling. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"
#include "wait-online.h"

#define UNIT_PREFIX "/org/freedesktop/systemd1/unit"
#define SD1_DEST "org.freedesktop.systemd1"
#define SD1_UNIT "org.freedesktop.systemd1.Unit"

static const char *arg_target = WAIT_ONLINE_DEFAULT_TARGET;
static uint64_t arg_timeout_usec = WAIT_ONLINE_DEFAULT_TIMEOUT_SEC * 1000000ULL;

typedef struct Waiter {
        sd_event *event;
        sd_bus *bus;
        char *path;
        char *active_state;
        bool job_pending;
        bool have_state; /* the first GetAll was answered: decisions before it would be guesses */
        sd_bus_slot *get_all;
} Waiter;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Waits until a system unit (network-online.target) is active, for user units of\n"
               "unroot service accounts. Always exits 0: on timeout, with no system bus, or when\n"
               "nothing is starting the target, it warns and stops waiting.\n\n"
               "  -h --help           Show this help\n"
               "     --version        Show package version\n"
               "     --timeout SEC    Wait at most SEC seconds (default %u, at most %u)\n"
               "     --target NAME    Wait for NAME instead of %s\n"
               "  -v --verbose        Log debug messages\n",
               program_invocation_short_name, WAIT_ONLINE_DEFAULT_TIMEOUT_SEC, WAIT_ONLINE_TIMEOUT_MAX_SEC,
               WAIT_ONLINE_DEFAULT_TARGET);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_TIMEOUT, ARG_TARGET };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "target", required_argument, NULL, ARG_TARGET },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("unroot-wait-online %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_TIMEOUT:
                        r = wait_online_parse_timeout(optarg, &arg_timeout_usec);
                        if (r < 0)
                                return log_error_errno(r,
                                                       "--timeout: '%s' is not a number of seconds from 0 to %u.",
                                                       optarg, WAIT_ONLINE_TIMEOUT_MAX_SEC);
                        break;
                case ARG_TARGET:
                        if (!wait_online_target_valid(optarg))
                                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                                       "--target: '%s' is not a unit name.", optarg);
                        arg_target = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL), "unexpected argument '%s'", argv[optind]);
        return 1;
}

/* Ends the wait; every way out is exit status 0. */
static void finish(Waiter *w) {
        (void) sd_event_exit(w->event, 0);
}

static void decide(Waiter *w) {
        const char *reason;

        if (!w->have_state)
                return;
        switch (wait_online_decide(w->active_state, w->job_pending, &reason)) {
        case WAIT_ONLINE_DONE:
                log_info("%s is active.", arg_target);
                finish(w);
                break;
        case WAIT_ONLINE_GIVE_UP:
                log_warning("%s is %s and %s; not waiting for it.", arg_target, w->active_state, reason);
                finish(w);
                break;
        case WAIT_ONLINE_WAIT:
                log_debug("%s is %s%s; waiting.", arg_target, strna(w->active_state),
                          w->job_pending ? " with a job queued" : "");
                break;
        }
}

/* Takes ActiveState and Job from an a{sv} (a GetAll reply, or PropertiesChanged's changed list). */
static int read_state(Waiter *w, sd_bus_message *m) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;
                uint32_t job_id;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "ActiveState")) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                char *copy = strdup(s);
                                if (!copy)
                                        return -ENOMEM;
                                free(w->active_state);
                                w->active_state = copy;
                        }
                } else if (streq(name, "Job")) {
                        r = sd_bus_message_read(m, "v", "(uo)", &job_id, &s);
                        if (r >= 0)
                                w->job_pending = job_id != 0;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int on_state(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Waiter *w = userdata;
        const sd_bus_error *e;
        int r;

        w->get_all = sd_bus_slot_unref(w->get_all);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* No systemd on this bus (a container), or it refuses us: nothing to wait for. */
                e = sd_bus_message_get_error(reply);
                log_warning("Cannot read the state of %s (%s: %s); not waiting for it.", arg_target, e->name,
                            e->message);
                finish(w);
                return 0;
        }
        r = read_state(w, reply);
        if (r < 0) {
                log_warning_errno(r, "Unexpected reply reading %s (%m); not waiting for it.", arg_target);
                finish(w);
                return 0;
        }
        w->have_state = true;
        decide(w);
        return 0;
}

static int get_state(Waiter *w) {
        w->get_all = sd_bus_slot_unref(w->get_all);
        return sd_bus_call_method_async(w->bus, &w->get_all, SD1_DEST, w->path,
                                        "org.freedesktop.DBus.Properties", "GetAll", on_state, w, "s", SD1_UNIT);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Waiter *w = userdata;
        const char *interface, *name;
        bool invalidated = false;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || !streq(interface, SD1_UNIT))
                return 0;
        r = read_state(w, m);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0)
                invalidated = invalidated || streq(name, "ActiveState") || streq(name, "Job");
        if (r < 0) {
                log_debug_errno(r, "Malformed PropertiesChanged, ignoring: %m");
                return 0;
        }
        /* systemd sends the values; should a manager only invalidate them, read them again. */
        if (invalidated && !w->get_all) {
                r = get_state(w);
                if (r < 0) {
                        log_warning_errno(r, "Cannot read the state of %s (%m); not waiting for it.",
                                          arg_target);
                        finish(w);
                }
                return 0;
        }
        decide(w);
        return 0;
}

static int on_subscribed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        /* Without Subscribe, systemd sends unit changes on the system bus to nobody; the timeout
         * still bounds the wait. */
        if (sd_bus_message_is_method_error(reply, NULL))
                log_warning("Subscribe to systemd failed (%s), only the timeout will end the wait.",
                            sd_bus_message_get_error(reply)->message);
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        log_warning("Lost the system bus; not waiting for %s.", arg_target);
        finish(userdata);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Waiter *w = userdata;

        log_warning("%s is not active after %llu s (%s); continuing without it. Pick a shorter --timeout or "
                    "--target network.target if it never comes on this machine.",
                    arg_target, (unsigned long long) (arg_timeout_usec / 1000000ULL), strna(w->active_state));
        finish(w);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Waiter w = {};
        int r;

        log_set_target(LOG_TARGET_KMSG_PREFIX);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot allocate event loop: %m");

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_warning_errno(r, "No system bus (%m); not waiting for %s.", arg_target);
                return 0;
        }
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach to the system bus: %m");

        w.event = event;
        w.bus = bus;
        r = sd_bus_path_encode(UNIT_PREFIX, arg_target, &w.path);
        if (r < 0)
                return log_oom();

        /* The order matters: the match is in place before we subscribe and read the state, so a
         * change after the read cannot slip between the two. */
        r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, arg_timeout_usec, 0, on_timeout, &w);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, NULL, SD1_DEST, w.path, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged", on_properties_changed, NULL, &w);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                              "org.freedesktop.DBus.Local", "Disconnected", on_disconnected,
                                              NULL, &w);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, NULL, SD1_DEST, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", "Subscribe", on_subscribed, &w,
                                             NULL);
        if (r >= 0)
                r = get_state(&w);
        if (r < 0) {
                log_warning_errno(r, "Cannot talk to systemd on the system bus (%m); not waiting for %s.",
                                  arg_target);
                r = 0;
        } else {
                log_debug("Waiting up to %llu s for %s.", (unsigned long long) (arg_timeout_usec / 1000000ULL),
                          arg_target);
                r = sd_event_loop(event);
                if (r < 0)
                        log_warning_errno(r, "Event loop failed (%m); not waiting for %s.", arg_target);
        }
        sd_bus_slot_unref(w.get_all);
        free(w.path);
        free(w.active_state);
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
