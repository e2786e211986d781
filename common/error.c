/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int error_set(ErrorInfo *e, int r, const char *field, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return r;
        (void) snprintf(e->field, sizeof e->field, "%s", strempty(field));
        va_start(ap, fmt);
        (void) vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
        return r;
}
