/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What went wrong, for a human and for a machine: the request field at fault and a message that
 * names it and says why. Filled by validators and operations, copied into replies. */

#include "macro.h"

typedef struct ErrorInfo {
        char field[64];    /* e.g. "name", "subid_count", "/etc/subuid:12"; empty if no single field */
        char message[512]; /* complete sentence, user values quoted with '…' */
} ErrorInfo;

/* Records field and message (if e is non-NULL) and returns r, which must be a negative errno. */
int error_set(ErrorInfo *e, int r, const char *field, const char *fmt, ...) _printf_(4, 5);
