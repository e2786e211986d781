/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_CONSOLE;
static int log_max_level = LOG_INFO;
static const char *log_program = NULL;

void log_set_target(LogTarget t) {
        log_target = t;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_set_program(const char *name) {
        log_program = name;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        int saved = errno;
        char buf[2048];
        va_list ap;

        (void) file;
        (void) line;
        (void) func;

        if (error < 0)
                error = -error;
        if ((level & LOG_PRIMASK) > log_max_level)
                return -error;

        /* %m must print the error we were handed, not whatever errno happens to be now. */
        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (log_target == LOG_TARGET_KMSG_PREFIX)
                fprintf(stderr, "<%i>%s\n", level & LOG_PRIMASK, buf);
        else if (log_program)
                fprintf(stderr, "%s: %s\n", log_program, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        return -error;
}
