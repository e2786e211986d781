/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the unit-file parser and writer alone (agent/quadlet/unitfile.h); the whole
 * translator is fuzzed by tests/quadlet/fuzz-quadlet.c. Invariant: parse → print → parse → print is
 * a fixed point (the second print equals the first), and a parse error always comes with a message. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unitfile.h"

/* In place: drops comment and blank lines. Comments are not always a fixed point (one known
 * quirk, see below); keys, values and groups must be. */
static char *drop_comments(char *s) {
        char *w = s;
        for (char *r = s; *r;) {
                size_t n = strcspn(r, "\n");
                bool comment = n == 0 || r[0] == '#' || r[0] == ';';
                if (!comment) {
                        memmove(w, r, n);
                        w += n;
                        *w++ = '\n';
                }
                r += n + (r[n] == '\n');
        }
        *w = 0;
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UnitFile *f = NULL, *g = NULL;
        char *err = NULL, *s1 = NULL, *s2 = NULL;
        int r;

        if (size > 256 * 1024)
                return 0;
        r = unit_file_parse((const char *) data, size, "/q/fuzz.container", &f, &err);
        if (r < 0) {
                FUZZ_ASSERT(f == NULL || r != -EBADMSG || err != NULL);
                goto out;
        }
        FUZZ_ASSERT(f != NULL);
        if (unit_file_to_string(f, &s1) < 0)
                goto out;
        r = unit_file_parse(s1, strlen(s1), "/q/fuzz.container", &g, &err);
        if (r < 0)
                fprintf(stderr, "printed unit does not parse again: %s\n---\n%s---\n", err ? err : "?", s1);
        FUZZ_ASSERT(r >= 0);
        FUZZ_ASSERT(unit_file_to_string(g, &s2) >= 0);
        /* print(parse(x)) is a fixed point: the next parse and print give the same text. One KNOWN
         * BUG is left (same as podman's writer, whose bytes the generated units must match): a
         * comment at the end of a group that is not printed last (a repeated group, merged, whose
         * file ends in a comment) moves to the next group's leading comments on the next parse,
         * with one more blank line. So comments are compared exactly only with
         * UNROOT_FUZZ_KNOWN_BUGS=1 (corpus-known-bugs/, should_fail). */
        if (getenv("UNROOT_FUZZ_KNOWN_BUGS")) {
                if (strcmp(s1, s2) != 0)
                        fprintf(stderr, "print is not a fixed point:\n--- first\n%s--- second\n%s---\n", s1, s2);
                FUZZ_ASSERT(strcmp(s1, s2) == 0);
        } else {
                if (strcmp(drop_comments(s1), drop_comments(s2)) != 0)
                        fprintf(stderr, "print is not a fixed point:\n--- first\n%s--- second\n%s---\n", s1, s2);
                FUZZ_ASSERT(strcmp(s1, s2) == 0);
        }

        UnitFile *d = unit_file_dup(f);
        if (d) {
                FUZZ_ASSERT(unit_file_merge(d, f) >= 0 || d->oom);
                unit_file_free(d);
        }
out:
        unit_file_free(f);
        unit_file_free(g);
        free(err);
        free(s1);
        free(s2);
        return 0;
}
