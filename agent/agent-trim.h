/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Returning clean program text to the page cache while idle.
 *
 * An idle agent's resident set is mostly shared-library text it touched once (libc, libsystemd,
 * and what they pull in, each fault mapping a 64 KiB window): about 3 MiB, against 0.4 MiB of its
 * own anonymous memory. Read-only pages of private file mappings that were never written (text,
 * rodata) equal their file, so dropping them
 * (MADV_DONTNEED) loses nothing: the next wake-up faults back in what it uses, from the page cache.
 * Only read-only private file mappings none of whose pages has a private copy are touched (smaps
 * "Anonymous: 0 kB"): data, relocated RELRO pages and anonymous memory never are. */

#include <stdbool.h>
#include <stddef.h>

/* Pure: whether a /proc/self/maps line is a mapping that may be dropped; its range in *ret_start
 * and *ret_end. */
int trim_maps_line(const char *line, unsigned long *ret_start, unsigned long *ret_end);

/* Drops the text pages of every such mapping of this process. Returns how many mappings. */
int trim_text_pages(void);
