/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-bed driver for agent/pod-shape*.c, so that the probe and the rewrite run against a real
 * user manager and podman 4.3.1 on their own, independently of the agent's apply loop:
 *
 *   pod-shape-tool decide STATE_DIR        prints the decision (probing, or from the cache) as
 *                                          "shape=…" and "status=…" lines; honours $UNROOT_POD_SHAPE
 *   pod-shape-tool rewrite SHAPE WATCH_PATH  stdin: a rendered pod unit, stdout: it in SHAPE */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pod-shape-probe.h"

static char *read_all(FILE *f) {
        size_t n = 0, cap = 0;
        char *s = NULL;
        int c;

        while ((c = fgetc(f)) != EOF) {
                if (n + 2 > cap) {
                        char *t = realloc(s, cap = cap ? cap * 2 : 4096);
                        if (!t) {
                                free(s);
                                return NULL;
                        }
                        s = t;
                }
                s[n++] = (char) c;
        }
        if (!s)
                return strdup("");
        s[n] = 0;
        return s;
}

int main(int argc, char *argv[]) {
        if (argc == 3 && streq(argv[1], "decide")) {
                _cleanup_(pod_shape_decision_done) PodShapeDecision d = {};
                PodShapeProbeOptions o = {
                        .state_dir = argv[2],
                        .runtime_dir = getenv("XDG_RUNTIME_DIR"),
                        .timeout_usec = 300ULL * 1000000ULL, /* the test bed is emulated and slow */
                };
                _cleanup_free_ char *s = NULL;
                int r = pod_shape_decide(&o, &d);
                if (r < 0) {
                        fprintf(stderr, "decide: %s\n", strerror(-r));
                        return 1;
                }
                s = pod_shape_decision_describe(&d);
                printf("shape=%s\nstatus=%s\n", pod_shape_to_string(d.shape), strna(s));
                return 0;
        }
        if (argc == 4 && streq(argv[1], "rewrite")) {
                _cleanup_free_ char *in = read_all(stdin), *out = NULL;
                PodShape shape = pod_shape_from_string(argv[2]);
                int r;

                if (!in || shape < 0) {
                        fprintf(stderr, "rewrite: bad shape \"%s\" or out of memory\n", argv[2]);
                        return 1;
                }
                if (shape == POD_SHAPE_PIDFILE) {
                        fputs(in, stdout);
                        return 0;
                }
                r = pod_shape_rewrite_unit(in, argv[3], &out);
                if (r <= 0) {
                        fprintf(stderr, "rewrite: %s\n", r == 0 ? "not a pod unit in the stock shape" : strerror(-r));
                        return 1;
                }
                fputs(out, stdout);
                return 0;
        }
        fprintf(stderr, "usage: %s decide STATE_DIR | rewrite pidfile|watch WATCH_PATH <UNIT\n", argv[0]);
        return 2;
}
