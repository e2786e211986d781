/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agentctl migrate: option parsing, the plan, and the dispatch to apply and rollback. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentctl-helper.h"
#include "agentctl-migrate.h"
#include "agentctl-output.h"
#include "log.h"
#include "migrate-apply.h"
#include "migrate-gather.h"
#include "migrate-plan.h"

enum {
        ARG_JSON = 0x100,
        ARG_NO_ASK_PASSWORD,
        ARG_TO,
        ARG_ROOT,
        ARG_PULL_ALLOWED,
        ARG_TIMEOUT,
};

static int usage(const char *fmt, ...) _printf_(1, 2);
static int usage(const char *fmt, ...) {
        va_list ap;

        fputs("agentctl: migrate ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see 'agentctl --help')\n", stderr);
        return AGENTCTL_EXIT_USAGE;
}

static int error_exit(int r) {
        switch (r) {
        case -EINVAL:
                return AGENTCTL_EXIT_USAGE;
        case -ENOENT:
        case -EEXIST:
                return AGENTCTL_EXIT_CONFLICT;
        case -EPERM:
        case -EACCES:
                return AGENTCTL_EXIT_DENIED;
        default:
                return AGENTCTL_EXIT_FAILED;
        }
}

static void print_error(bool json, const char *cmd, int r, const ErrorInfo *e) {
        const char *m = e->message[0] ? e->message : strerror(-r);

        fprintf(stderr, "agentctl: migrate %s: %s\n", cmd, m);
        if (!json)
                return;
        printf("{\"operation\":");
        json_write_string(stdout, cmd);
        printf(",\"exit_code\":%d,\"error\":", error_exit(r));
        json_write_string(stdout, m);
        printf(",\"field\":");
        json_write_string(stdout, e->field[0] ? e->field : NULL);
        printf("}\n");
}

static int run_plan(char *const *services, const MigrateOptions *o) {
        _cleanup_(migrate_sources_done) MigrateSources src = {};
        _cleanup_(migrate_host_done) MigrateHost host = {};
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;
        ErrorInfo e = {};
        int r;

        r = migrate_make_plan(o->root, services, o->account, o->pull_allowed, &src, &host, &p, &e);
        if (r < 0) {
                print_error(o->json, "plan", r, &e);
                return error_exit(r);
        }
        if (o->json)
                migrate_plan_write_json(p, stdout);
        else
                migrate_plan_write_text(p, stdout);
        /* The plan was made; a blocked one says so in the exit code as well. */
        return p->n_blockers > 0 ? AGENTCTL_EXIT_CONFLICT : AGENTCTL_EXIT_SUCCESS;
}

int verb_migrate_main(int argc, char *argv[], bool json, bool ask_password) {
        static const struct option options[] = {
                { "to", required_argument, NULL, ARG_TO },
                { "root", required_argument, NULL, ARG_ROOT },
                { "pull-allowed", no_argument, NULL, ARG_PULL_ALLOWED },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        MigrateOptions o = { .json = json, .ask_password = ask_password, .timeout_sec = 300 };
        const char *cmd;
        int c;

        if (argc < 2)
                return usage("%s", ": missing plan, apply or rollback");
        cmd = argv[1];
        if (!streq(cmd, "plan") && !streq(cmd, "apply") && !streq(cmd, "rollback"))
                return usage("'%s': unknown command: plan, apply or rollback", cmd);

        optind = 0;
        while ((c = getopt_long(argc - 1, argv + 1, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_TO:
                        o.account = optarg;
                        break;
                case ARG_ROOT:
                        if (optarg[0] != '/')
                                return usage("%s: --root: '%s' is not an absolute path", cmd, optarg);
                        o.root = optarg;
                        break;
                case ARG_PULL_ALLOWED:
                        o.pull_allowed = true;
                        break;
                case ARG_TIMEOUT: {
                        char *end;
                        unsigned long t = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || t == 0 || t > 3600)
                                return usage("%s: --timeout: '%s' is not a number of seconds from 1 to 3600", cmd,
                                             optarg);
                        o.timeout_sec = (unsigned) t;
                        break;
                }
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        o.ask_password = false;
                        break;
                default:
                        return AGENTCTL_EXIT_USAGE;
                }
        char *const *services = argv + 1 + optind;
        if (!*services)
                return usage("%s: missing SERVICE", cmd);
        if (streq(cmd, "rollback")) {
                if (o.account)
                        return usage("%s: --to is not an option of rollback (the record names the account)", cmd);
        } else if (!o.account)
                return usage("%s: missing --to ACCOUNT", cmd);

        /* root's image store, root's units and /etc/containers/systemd: only root sees and changes
         * them. A --root tree (tests) is read as whoever runs it. */
        if (geteuid() != 0 && !o.root) {
                fprintf(stderr, "agentctl: migrate %s reads root's image store and root's Quadlet files: run it "
                        "as root\n", cmd);
                return AGENTCTL_EXIT_DENIED;
        }

        if (streq(cmd, "plan"))
                return run_plan(services, &o);
        if (streq(cmd, "apply"))
                return migrate_apply(services, &o);
        return migrate_rollback(services, &o);
}
