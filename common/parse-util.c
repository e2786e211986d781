/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "parse-util.h"

int safe_atou64_span(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || n == 0)
                return -EINVAL;
        /* Leading zeros are refused: "0100000" is a typo or an octal guess, not a uid. */
        if (n > 1 && s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, (uint64_t) (s[i] - '0'), &v))
                        return -ERANGE;
        }
        if (ret)
                *ret = v;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        if (!s)
                return -EINVAL;
        return safe_atou64_span(s, strlen(s), ret);
}

int safe_atou32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        if (ret)
                *ret = (uint32_t) v;
        return 0;
}
