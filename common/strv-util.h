/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string lists (char **), shared by every program. The translator's growable Strv
 * (agent/quadlet/strv.h) is a different type with its own functions. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends s to *l (NULL or NULL-terminated), taking ownership: s is freed on failure, and a NULL s
 * (a failed strdup()) is -ENOMEM. */
int strv_push(char ***l, char *s);

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
