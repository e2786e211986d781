/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Shared by every target: the libFuzzer entry point, and an abort that names the broken invariant
 * (a crash is the only way a fuzz target can report a finding). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,     \
                                #cond);                                                            \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)
