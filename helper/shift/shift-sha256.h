/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 (FIPS 180-4), for the shift journal's content digest of files whose setuid/setgid bits
 * or file capability a rollback may put back: only content that is still what it was before the
 * shift gets them again. Pure; the I/O is the caller's. */

#include <stddef.h>
#include <stdint.h>

#define SHIFT_SHA256_SIZE 32U

typedef struct ShiftSha256 {
        uint32_t h[8];
        uint64_t total;    /* bytes fed so far */
        uint8_t block[64];
        size_t fill;       /* bytes waiting in block */
} ShiftSha256;

void shift_sha256_init(ShiftSha256 *s);
void shift_sha256_update(ShiftSha256 *s, const void *data, size_t len);
void shift_sha256_final(ShiftSha256 *s, uint8_t ret[static SHIFT_SHA256_SIZE]);
