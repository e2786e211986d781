/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for all three programs. Daemons write "<N>" sd-daemon level prefixes to stderr, which
 * journald turns into priorities; the CLI writes plain text. Functions return the negative errno
 * they were given, so `return log_error_errno(r, "...: %m")` works as in systemd. %m prints the
 * errno passed in, not the global one. */

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_CONSOLE,     /* plain "prog: message" lines, for agentctl */
        LOG_TARGET_KMSG_PREFIX, /* "<N>message" lines for journald via stderr, for daemons */
} LogTarget;

void log_set_target(LogTarget t);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_program(const char *name);

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")

/* Marks an error the code made up (not received from the kernel); %m still prints it. */
#define SYNTHETIC_ERRNO(e) (e)
