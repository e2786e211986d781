/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shift library's entry point in-process, without the socket, polkit or account files: for the
 * benchmark (bench-shift.sh) and the library-level tests (tests/shift/). Needs root for chown.
 *
 * usage: shift-inproc [--rollback] [--no-sync] [--quiet] [--max-depth N] [--max-entries N]
 *                     [--batch N] [--defer N] --account NAME --uid SELF:START:COUNT --gid SELF:START:COUNT --journal FILE DIR */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "macro.h"
#include "shift-walk.h"

static bool arg_quiet;

static void print_report(const char *reason, const char *relpath, void *userdata) {
        if (!arg_quiet)
                fprintf(stderr, "left alone '%s': %s\n", relpath, reason);
}

static int parse_range(const char *s, ShiftIdRange *ret) {
        unsigned long a, b, c;
        char end;

        if (sscanf(s, "%lu:%lu:%lu%c", &a, &b, &c, &end) != 3 || a > UINT32_MAX || b > UINT32_MAX || c > UINT32_MAX)
                return -EINVAL;
        *ret = (ShiftIdRange) { (uint32_t) a, (uint32_t) b, (uint32_t) c };
        return 0;
}

int main(int argc, char *argv[]) {
        enum { ARG_ROLLBACK = 0x100, ARG_NO_SYNC, ARG_QUIET, ARG_ACCOUNT, ARG_UID, ARG_GID, ARG_JOURNAL, ARG_DEPTH, ARG_ENTRIES, ARG_BATCH, ARG_DEFER };
        static const struct option options[] = {
                { "rollback", no_argument, NULL, ARG_ROLLBACK },
                { "no-sync", no_argument, NULL, ARG_NO_SYNC },
                { "quiet", no_argument, NULL, ARG_QUIET },
                { "account", required_argument, NULL, ARG_ACCOUNT },
                { "uid", required_argument, NULL, ARG_UID },
                { "gid", required_argument, NULL, ARG_GID },
                { "journal", required_argument, NULL, ARG_JOURNAL },
                { "max-depth", required_argument, NULL, ARG_DEPTH },
                { "max-entries", required_argument, NULL, ARG_ENTRIES },
                { "batch", required_argument, NULL, ARG_BATCH },
                { "defer", required_argument, NULL, ARG_DEFER },
                {}
        };
        ShiftParams p = { .report = print_report };
        const char *journal = NULL;
        _cleanup_close_ int top = -EBADF, jfd = -EBADF;
        _cleanup_free_ char *abs = NULL;
        bool rollback = false;
        ShiftStats st = {};
        ErrorInfo e = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROLLBACK: rollback = true; break;
                case ARG_NO_SYNC: p.no_sync = true; break;
                case ARG_QUIET: arg_quiet = true; break;
                case ARG_ACCOUNT: p.account = optarg; break;
                case ARG_UID: if (parse_range(optarg, &p.map.uid) < 0) goto usage; break;
                case ARG_GID: if (parse_range(optarg, &p.map.gid) < 0) goto usage; break;
                case ARG_JOURNAL: journal = optarg; break;
                case ARG_DEPTH: p.max_depth = (unsigned) strtoul(optarg, NULL, 10); break;
                case ARG_ENTRIES: p.max_entries = strtoull(optarg, NULL, 10); break;
                case ARG_BATCH: p.batch = (unsigned) strtoul(optarg, NULL, 10); break;
                case ARG_DEFER: p.defer = (unsigned) strtoul(optarg, NULL, 10); break;
                default: goto usage;
                }
        if (optind + 1 != argc || !p.account || !journal || p.map.uid.count == 0 || p.map.gid.count == 0)
                goto usage;

        top = open(argv[optind], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0) {
                fprintf(stderr, "shift-inproc: %s: %m\n", argv[optind]);
                return 1;
        }
        abs = realpath(argv[optind], NULL);
        jfd = open(journal, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (rollback ? 0 : O_CREAT), 0600);
        if (jfd < 0) {
                fprintf(stderr, "shift-inproc: %s: %m\n", journal);
                return 1;
        }
        if (flock(jfd, LOCK_EX | LOCK_NB) < 0) {
                fprintf(stderr, "shift-inproc: %s is locked\n", journal);
                return 1;
        }
        p.top_fd = top;
        p.top_path = abs ?: argv[optind];
        p.journal_fd = jfd;

        r = rollback ? shift_rollback(&p, &st, &e) : shift_tree(&p, &st, &e);
        printf("%s: r=%d scanned=%" PRIu64 " changed=%" PRIu64 " unchanged=%" PRIu64 " skipped=%" PRIu64
               " failed=%" PRIu64 " mismatched=%" PRIu64 "\n", rollback ? "rollback" : "shift", r, st.scanned,
               st.changed, st.unchanged, st.skipped, st.failed, st.mismatched);
        if (r < 0) {
                fprintf(stderr, "shift-inproc: %s%s%s\n", e.field[0] ? e.field : "", e.field[0] ? ": " : "", e.message);
                return 1;
        }
        return st.failed > 0 ? 2 : 0;
usage:
        fprintf(stderr, "usage: shift-inproc [--rollback] [--no-sync] [--quiet] --account NAME "
                "--uid SELF:START:COUNT --gid SELF:START:COUNT --journal FILE DIR\n");
        return 2;
}
