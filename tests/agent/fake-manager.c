/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for systemd's D-Bus API in the host tests, served peer-to-peer with sd-bus in server
 * mode (no dbus-daemon, no systemd), like systemd's test-bus-server.c:
 *
 *   fake-manager SOCKET SYSTEM_STATE [UNIT ACTIVE_STATE]
 *
 * Answers org.freedesktop.DBus.Hello (so bus clients such as sd_bus_open_system() can connect),
 * the Manager's SystemState property, Manager.GetUnit(UNIT) → a unit whose ActiveState is
 * ACTIVE_STATE, and org.freedesktop.systemd1.NoSuchUnit for every other unit. Serves each
 * connection in a child process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

static const char *arg_state, *arg_unit, *arg_active;

static int get_system_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", arg_state);
}

static int get_active_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", arg_active ? arg_active : "inactive");
}

static int method_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!arg_unit || strcmp(name, arg_unit) != 0)
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
        return sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/unit/fake");
}

static int method_hello(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "s", ":1.42");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("SystemState", "s", get_system_state, 0, 0),
        SD_BUS_METHOD("GetUnit", "s", "o", method_get_unit, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ActiveState", "s", get_active_state, 0, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", method_hello, 0),
        SD_BUS_VTABLE_END,
};

static int serve(int fd) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        int r;

        (void) sd_id128_randomize(&id);
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_set_server(bus, 1, id) < 0)
                return 1;
        r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1/unit/fake",
                                             "org.freedesktop.systemd1.Unit", unit_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                             driver_vtable, NULL);
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

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (argc < 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: fake-manager SOCKET SYSTEM_STATE [UNIT ACTIVE_STATE]\n");
                return 2;
        }
        arg_state = argv[2];
        arg_unit = argc > 3 ? argv[3] : NULL;
        arg_active = argc > 4 ? argv[4] : NULL;
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
