/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd's D-Bus API for the host tests (fake-systemd1.c), two ways:
 *
 *   fake-manager SOCKET SYSTEM_STATE [UNIT ACTIVE_STATE]
 *       listens on SOCKET and serves each connection peer-to-peer in a child process (sd-bus in
 *       server mode, no dbus-daemon), like systemd's private socket: SystemState, and UNIT in
 *       ACTIVE_STATE (NoSuchUnit for every other unit).
 *   fake-manager --bus UNIT ACTIVE_STATE JOB_ID [DELAY_MS NEW_STATE]
 *       takes the name org.freedesktop.systemd1 on the system bus ($DBUS_SYSTEM_BUS_ADDRESS, a
 *       private dbus-daemon) with UNIT in ACTIVE_STATE and Job JOB_ID (0: none); after DELAY_MS
 *       the unit turns NEW_STATE with no job and PropertiesChanged goes to subscribers.
 *
 * With $FAKE_MANAGER_LOG set, the socket form accepts any unit for jobs and LoadUnit, finishes
 * every job "done" (or $FAKE_MANAGER_JOB_RESULT), and appends each Reload and job to that file
 * ("Reload", "StartUnit web.service"): each connection runs in its own child, so the file is what
 * the tests read. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "fake-systemd1.h"

static FakeSystemd1 fake;

static int serve(int fd) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        int r;

        (void) sd_id128_randomize(&id);
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_set_server(bus, 1, id) < 0)
                return 1;
        r = fake_systemd1_export(&fake, bus);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "fake-manager: %s\n", strerror(-r));
                return 1;
        }
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break; /* the client went away */
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}

static const char *arg_new_state;

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata) {
        int r = fake_systemd1_set_state(&fake, &fake.units[0], arg_new_state, 0);
        if (r < 0)
                fprintf(stderr, "fake-manager: PropertiesChanged: %s\n", strerror(-r));
        return 0;
}

static int serve_bus(int argc, char *argv[]) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        FakeUnit *u;
        int r;

        if (argc != 5 && argc != 7) {
                fprintf(stderr, "usage: fake-manager --bus UNIT ACTIVE_STATE JOB_ID [DELAY_MS NEW_STATE]\n");
                return 2;
        }
        u = fake_systemd1_add_unit(&fake, argv[2], argv[3]);
        if (!u)
                return 2;
        u->job_id = (uint32_t) strtoul(argv[4], NULL, 10);
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = fake_systemd1_export(&fake, bus);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0 && argc == 7) {
                arg_new_state = argv[6];
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC,
                                               strtoull(argv[5], NULL, 10) * 1000ULL, 0, on_delay, NULL);
        }
        if (r >= 0)
                r = sd_event_loop(event);
        if (r < 0)
                fprintf(stderr, "fake-manager: %s\n", strerror(-r));
        return r < 0 ? 1 : 0;
}

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (argc > 1 && strcmp(argv[1], "--bus") == 0)
                return serve_bus(argc, argv);
        if (argc < 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: fake-manager SOCKET SYSTEM_STATE [UNIT ACTIVE_STATE]\n");
                return 2;
        }
        fake.system_state = argv[2];
        fake.log_path = getenv("FAKE_MANAGER_LOG");
        if (fake.log_path) {
                fake.auto_units = true;
                fake.job_result = getenv("FAKE_MANAGER_JOB_RESULT") ?: "done";
        }
        if (argc > 3 && !fake_systemd1_add_unit(&fake, argv[3], argc > 4 ? argv[4] : "inactive"))
                return 2;
        /* Bound under a temporary name and renamed once listening: when SOCKET appears, it accepts. */
        if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s.tmp", argv[1]) >= (int) sizeof sa.sun_path)
                return 2;
        (void) unlink(sa.sun_path);
        (void) signal(SIGCHLD, SIG_IGN); /* children reap themselves */

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(fd, 16) < 0 || rename(sa.sun_path, argv[1]) < 0) {
                perror("fake-manager: listen");
                return 1;
        }
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("fake-manager: accept");
                        return 1;
                }
                pid_t pid = fork();
                if (pid == 0) {
                        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                        close(fd);
                        _exit(serve(c));
                }
                close(c);
        }
}
