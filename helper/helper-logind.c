/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "helper-logind.h"
#include "log.h"
#include "macro.h"

#define LOGIND_DEST "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_IFACE "org.freedesktop.login1.Manager"
#define LOGIND_TIMEOUT_USEC (25ULL * 1000 * 1000)


bool linger_is_enabled(const char *name) {
        char path[256];

        (void) snprintf(path, sizeof path, "/var/lib/systemd/linger/%s", name);
        return access(path, F_OK) == 0;
}

static int logind_call(const char *method, sd_bus_error *error, const char *types, ...) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        va_list ap;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_message_new_method_call(bus, &m, LOGIND_DEST, LOGIND_PATH, LOGIND_IFACE, method);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, LOGIND_TIMEOUT_USEC, error, &reply);
}

int logind_set_linger(uid_t uid, bool enable) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = logind_call("SetUserLinger", &error, "ubb", (uint32_t) uid, (int) enable, 0);
        if (r < 0)
                log_error_errno(r, "logind SetUserLinger(%u, %s) failed: %s", (unsigned) uid,
                                enable ? "true" : "false", error.message ?: strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

int logind_terminate_user(uid_t uid) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = logind_call("TerminateUser", &error, "u", (uint32_t) uid);
        if (r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.login1.NoSuchUser"))
                r = 0; /* nothing running: nothing to stop */
        else if (r < 0)
                log_error_errno(r, "logind TerminateUser(%u) failed: %s", (unsigned) uid,
                                error.message ?: strerror(-r));
        else
                r = 1;
        sd_bus_error_free(&error);
        return r;
}

int logind_wait_user_gone(uid_t uid, uint64_t timeout_usec) {
        /* TerminateUser only starts the stop. Before a purge removes the home, the account's
         * processes (podman, conmon) must be gone, or they would write into a tree being removed.
         * logind keeps the user until its last process has exited. The helper is a one-shot
         * process, so a short bounded poll is fine here. */
        for (uint64_t waited = 0;; waited += 200 * 1000) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = logind_call("GetUser", &error, "u", (uint32_t) uid);
                bool gone = r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.login1.NoSuchUser");

                sd_bus_error_free(&error);
                if (gone)
                        return 0;
                if (r < 0)
                        return r;
                if (waited >= timeout_usec)
                        return -ETIMEDOUT;
                (void) usleep(200 * 1000);
        }
}
