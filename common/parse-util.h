/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <stddef.h>

/* Strict decimal parsers: digits only, no sign, no whitespace, no leading zeros except "0" itself,
 * no overflow. Return 0 or -EINVAL / -ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
/* Same, on a (not NUL-terminated) span. */
int safe_atou64_span(const char *s, size_t n, uint64_t *ret);
