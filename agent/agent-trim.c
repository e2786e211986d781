/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "agent-trim.h"
#include "macro.h"

int trim_maps_line(const char *line, unsigned long *ret_start, unsigned long *ret_end) {
        unsigned long start, end, offset, inode;
        char perms[8], dev[16];
        int n = 0;

        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &start, &end, perms, &offset, dev, &inode, &n) < 6)
                return 0;
        /* Not writable, private, backed by a file (an inode, a path). */
        if (strlen(perms) != 4 || perms[1] != '-' || perms[3] != 'p' || inode == 0 || n <= 0 || line[n] != '/' ||
            end <= start)
                return 0;
        *ret_start = start;
        *ret_end = end;
        return 1;
}

int trim_text_pages(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
        unsigned long start = 0, end = 0;
        bool candidate = false;
        char line[4096];
        int n = 0;

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                unsigned long anon;

                /* A mapping's header starts with its address (lowercase hex); its attributes start
                 * with a capitalized name ("Rss:", "Anonymous:"). */
                if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
                        candidate = trim_maps_line(line, &start, &end) > 0;
                        continue;
                }
                /* Only a mapping none of whose pages were ever written (no private copy: a
                 * relocated RELRO page is one) reads back exactly from its file. */
                if (candidate && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
                        if (anon == 0 && madvise((void *) start, end - start, MADV_DONTNEED) >= 0)
                                n++;
                        candidate = false;
                }
        }
        return n;
}
