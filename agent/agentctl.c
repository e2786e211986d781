/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agentctl: the admin's command line. Runs unprivileged; privileged steps go to unroot-helper. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "agent-account.h"
#include "agent-client.h"
#include "agentctl-helper.h"
#include "agentctl-output.h"
#include "agentctl-polkit.h"
#include "agentctl-status.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

#define AGENT_WAIT_DEFAULT_SEC 90U
#define AGENT_WAIT_MAX_SEC 3600U
#define AGENT_POLL_INTERVAL_MS 500
#define AGENT_QUERY_TIMEOUT_MS 2000
/* polkit may ask a human for a password: give them time. Without an agent, the helper answers fast. */
#define HELPER_TIMEOUT_INTERACTIVE_MS (5 * 60 * 1000)
#define HELPER_TIMEOUT_MS (90 * 1000)

static bool arg_json = false;
static bool arg_ask_password = true;
static pid_t polkit_agent_pid = 0;
static bool asked_password = false; /* a polkit agent was registered for the request */

static void polkit_agent_stop(void) {
        pid_t pid = polkit_agent_pid;

        polkit_agent_pid = 0;
        polkit_agent_close(pid);
}

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *synopsis;
} Verb;

static int verb_enroll(int argc, char *argv[]);
static int verb_unenroll(int argc, char *argv[]);
static int verb_status(int argc, char *argv[]);

/* Like crun's commands[]: name, handler, one-line synopsis for --help. */
static const Verb verbs[] = {
        { "enroll", verb_enroll, "enroll NAME [--subids N] [--no-wait] [--timeout SEC]" },
        { "unenroll", verb_unenroll, "unenroll NAME [--purge]" },
        { "status", verb_status, "status [NAME]" },
};

static void help(void) {
        printf("agentctl [--json] [--no-ask-password] COMMAND ...\n\n"
               "Manage unroot service accounts.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %s\n", verbs[i].synopsis);
        printf("\nOptions:\n"
               "  -h --help             Show this help\n"
               "     --version          Show package version\n"
               "     --json             Print one JSON document on stdout\n"
               "     --no-ask-password  Do not start pkttyagent to ask for a password\n"
               "\nExit status: 0 success, 1 failed, 2 usage or invalid argument, 3 not authorized,\n"
               "4 conflict or not found, 5 helper unreachable, 6 agent did not answer in time.\n"
               "See agentctl(1).\n");
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("agentctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see 'agentctl --help')\n", stderr);
        return AGENTCTL_EXIT_USAGE;
}

/* Options every verb accepts, so `agentctl status --json` works as well as `agentctl --json status`. */
enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_ASK_PASSWORD,
        ARG_SUBIDS,
        ARG_NO_WAIT,
        ARG_TIMEOUT,
        ARG_PURGE,
};

static bool common_option(int c) {
        switch (c) {
        case ARG_JSON:
                arg_json = true;
                return true;
        case ARG_NO_ASK_PASSWORD:
                arg_ask_password = false;
                return true;
        default:
                return false;
        }
}

static int sleep_ms(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

/* Polls the agent socket every 0.5 s until it answers (or refuses: then it runs too) or the time
 * is up. Returns 0 with *ret filled, or -ETIMEDOUT with the last result in *ret. */
static int wait_for_agent(const char *home, unsigned timeout_sec, AgentStatusResult *ret) {
        _cleanup_free_ char *path = agent_socket_path_for_home(home);
        uint64_t deadline = now_ms() + (uint64_t) timeout_sec * 1000U;

        if (!path)
                return -ENOMEM;
        for (;;) {
                uint64_t now = now_ms();
                int t = deadline > now ? (int) MIN(deadline - now, (uint64_t) AGENT_QUERY_TIMEOUT_MS) : 1;

                agent_status_result_done(ret);
                (void) agent_query_status(path, t, ret);
                if (ret->state == AGENT_STATE_ANSWERING || ret->state == AGENT_STATE_REFUSED)
                        return 0;
                now = now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                (void) sleep_ms((int) MIN(deadline - now, (uint64_t) AGENT_POLL_INTERVAL_MS));
        }
}

static void print_changes(const Unroot__Helper__HelperReply *reply) {
        for (size_t i = 0; i < reply->n_changes; i++)
                printf("  %s\n", reply->changes[i]);
}

static void json_begin_reply(const char *op, const char *name, const Unroot__Helper__HelperReply *reply, int exit_code) {
        printf("{\"operation\":");
        json_write_string(stdout, op);
        printf(",\"name\":");
        json_write_string(stdout, name);
        printf(",\"status\":");
        json_write_string(stdout, helper_status_to_string(reply->status));
        printf(",\"exit_code\":%i,\"message\":", exit_code);
        json_write_string(stdout, reply->message);
        printf(",\"field\":");
        json_write_string(stdout, reply->field);
        printf(",\"action\":");
        json_write_string(stdout, reply->action);
        printf(",\"changes\":[");
        for (size_t i = 0; i < reply->n_changes; i++) {
                if (i > 0)
                        putchar(',');
                json_write_string(stdout, reply->changes[i]);
        }
        putchar(']');
}

/* Connects, starts the polkit agent if possible, sends req, receives the reply. Returns an exit code
 * (SUCCESS when a reply arrived, whatever its status). */
static int call_helper(Unroot__Helper__HelperRequest *req, HelperReplyHolder *h) {
        _cleanup_close_ int fd = -EBADF;
        const char *path = helper_socket_path();
        int r;

        r = helper_connect(path, &fd);
        if (r < 0) {
                _cleanup_free_ char *m = helper_unreachable_message(path, r);
                fprintf(stderr, "agentctl: %s\n", m ?: "cannot reach unroot-helper");
                return AGENTCTL_EXIT_UNREACHABLE;
        }

        /* After connecting: if the helper is not there, nobody is asked for a password in vain. */
        if (arg_ask_password) {
                r = polkit_agent_open(&polkit_agent_pid);
                if (r < 0)
                        log_debug_errno(r, "Cannot start %s, ignoring: %m", PKTTYAGENT_BINARY);
        }
        req->has_interactive = true;
        req->interactive = asked_password = polkit_agent_pid > 0;

        r = helper_exchange(fd, req, req->interactive ? HELPER_TIMEOUT_INTERACTIVE_MS : HELPER_TIMEOUT_MS, h);
        polkit_agent_stop();
        if (r == -ECONNRESET || r == -EPIPE) {
                fprintf(stderr, "agentctl: unroot-helper at %s closed the connection without an answer: "
                        "see journalctl -u 'unroot-helper*'\n", path);
                return AGENTCTL_EXIT_FAILED;
        }
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "agentctl: unroot-helper at %s did not answer in time: see journalctl -u 'unroot-helper*'\n",
                        path);
                return AGENTCTL_EXIT_FAILED;
        }
        if (r == -EBADMSG || r == -EMSGSIZE) {
                fprintf(stderr, "agentctl: unroot-helper at %s sent a malformed reply: are agentctl and the helper "
                        "the same version?\n", path);
                return AGENTCTL_EXIT_FAILED;
        }
        if (r < 0) {
                fprintf(stderr, "agentctl: talking to unroot-helper at %s failed: %s\n", path, strerror(-r));
                return AGENTCTL_EXIT_FAILED;
        }
        return AGENTCTL_EXIT_SUCCESS;
}

static void report_failure(const char *op, const char *name, const Unroot__Helper__HelperReply *reply) {
        _cleanup_free_ char *m = helper_status_explain(reply->status, op, name, reply->action, reply->message,
                                                       reply->field, asked_password);
        fprintf(stderr, "agentctl: %s\n", m ?: "the helper refused the request");
}

static int parse_name_arg(const char *verb, int argc, char *argv[], const char **ret) {
        if (optind >= argc)
                return usage_error("%s: missing account NAME", verb);
        if (optind + 1 < argc)
                return usage_error("%s: unexpected argument '%s'", verb, argv[optind + 1]);
        if (!*argv[optind])
                return usage_error("%s: NAME must not be empty", verb);
        *ret = argv[optind];
        return 0;
}

static int verb_enroll(int argc, char *argv[]) {
        static const struct option options[] = {
                { "subids", required_argument, NULL, ARG_SUBIDS },
                { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__EnrollRequest er = UNROOT__HELPER__ENROLL_REQUEST__INIT;
        _cleanup_(helper_reply_holder_done) HelperReplyHolder h = {};
        _cleanup_(agent_status_result_done) AgentStatusResult agent = {};
        unsigned timeout = AGENT_WAIT_DEFAULT_SEC;
        bool wait = true, waited = false;
        const char *name;
        uint32_t subids = 0;
        bool have_subids = false;
        int c, r, ex;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SUBIDS:
                        if (safe_atou32(optarg, &subids) < 0 || subids == 0)
                                return usage_error("enroll: --subids: '%s' is not a positive number", optarg);
                        have_subids = true;
                        break;
                case ARG_NO_WAIT:
                        wait = false;
                        break;
                case ARG_TIMEOUT: {
                        uint32_t t;
                        if (safe_atou32(optarg, &t) < 0 || t > AGENT_WAIT_MAX_SEC)
                                return usage_error("enroll: --timeout: '%s' is not a number of seconds from 0 to %u",
                                                   optarg, AGENT_WAIT_MAX_SEC);
                        timeout = t;
                        break;
                }
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        r = parse_name_arg("enroll", argc, argv, &name);
        if (r != 0)
                return r;

        /* bytes on the wire: the helper sees the exact length and validates the name itself. */
        er.name.data = (uint8_t *) name;
        er.name.len = strlen(name);
        er.has_subid_count = have_subids;
        er.subid_count = subids;
        req.version = 1;
        req.op_case = UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL;
        req.enroll = &er;

        ex = call_helper(&req, &h);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;
        ex = helper_status_to_exit(h.reply->status);

        const Unroot__Helper__EnrollReply *e =
                h.reply->result_case == UNROOT__HELPER__HELPER_REPLY__RESULT_ENROLL ? h.reply->enroll : NULL;

        if (ex == AGENTCTL_EXIT_SUCCESS && wait && e) {
                if (!arg_json)
                        fprintf(stderr, "Waiting up to %u s for the agent of '%s' to answer...\n", timeout, e->name);
                r = wait_for_agent(e->home, timeout, &agent);
                waited = true;
                if (r < 0)
                        ex = AGENTCTL_EXIT_TIMEOUT;
        }

        if (arg_json) {
                json_begin_reply("enroll", name, h.reply, ex);
                printf(",\"account\":");
                if (e) {
                        printf("{\"name\":");
                        json_write_string(stdout, e->name);
                        printf(",\"uid\":%u,\"gid\":%u,\"home\":", e->uid, e->gid);
                        json_write_string(stdout, e->home);
                        printf(",\"subuid\":{\"start\":%u,\"count\":%u},\"subgid\":{\"start\":%u,\"count\":%u},"
                               "\"linger\":%s}",
                               e->subuid_start, e->subuid_count, e->subgid_start, e->subgid_count,
                               e->linger ? "true" : "false");
                } else
                        printf("null");
                printf(",\"agent\":");
                if (waited)
                        agent_status_write_json(&agent, stdout);
                else
                        printf("null");
                printf("}\n");
        } else if (helper_status_to_exit(h.reply->status) == AGENTCTL_EXIT_SUCCESS) {
                printf("enroll '%s': %s%s%s\n", name, helper_status_to_string(h.reply->status),
                       h.reply->message ? ": " : "", strempty(h.reply->message));
                print_changes(h.reply);
                if (e)
                        printf("account %s: uid %u, gid %u, home %s, subuid %u:%u, subgid %u:%u, linger %s\n",
                               e->name, e->uid, e->gid, e->home, e->subuid_start, e->subuid_count,
                               e->subgid_start, e->subgid_count, e->linger ? "on" : "off");
                if (waited) {
                        _cleanup_free_ char *d = agent_state_describe(&agent);
                        printf("agent: %s\n", d ?: "?");
                }
        }

        if (helper_status_to_exit(h.reply->status) != AGENTCTL_EXIT_SUCCESS)
                report_failure("enroll", name, h.reply);
        else if (!e && wait)
                fprintf(stderr, "agentctl: the helper did not say where the account lives; not waiting for its agent\n");
        else if (ex == AGENTCTL_EXIT_TIMEOUT)
                fprintf(stderr, "agentctl: the agent of '%s' did not answer within %u s (%s): check "
                        "'loginctl user-status %s' and 'systemctl --user -M %s@ status unroot-agent.socket'\n",
                        e->name, timeout, agent.message ?: agent_state_to_string(agent.state), e->name, e->name);
        else if (waited && agent.state == AGENT_STATE_REFUSED)
                fprintf(stderr, "agentctl: note: the agent of '%s' runs but refuses you; query it as root or as a "
                        "member of %s\n", e->name, UNROOT_ADMINS_GROUP);
        return ex;
}

static int verb_unenroll(int argc, char *argv[]) {
        static const struct option options[] = {
                { "purge", no_argument, NULL, ARG_PURGE },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__UnenrollRequest ur = UNROOT__HELPER__UNENROLL_REQUEST__INIT;
        _cleanup_(helper_reply_holder_done) HelperReplyHolder h = {};
        bool purge = false;
        const char *name;
        int c, r, ex;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_PURGE:
                        purge = true;
                        break;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        r = parse_name_arg("unenroll", argc, argv, &name);
        if (r != 0)
                return r;

        ur.name.data = (uint8_t *) name;
        ur.name.len = strlen(name);
        ur.has_purge = true;
        ur.purge = purge;
        req.version = 1;
        req.op_case = UNROOT__HELPER__HELPER_REQUEST__OP_UNENROLL;
        req.unenroll = &ur;

        ex = call_helper(&req, &h);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;
        ex = helper_status_to_exit(h.reply->status);

        const Unroot__Helper__UnenrollReply *u =
                h.reply->result_case == UNROOT__HELPER__HELPER_REPLY__RESULT_UNENROLL ? h.reply->unenroll : NULL;
        if (arg_json) {
                json_begin_reply("unenroll", name, h.reply, ex);
                printf(",\"account\":");
                if (u) {
                        printf("{\"name\":");
                        json_write_string(stdout, u->name);
                        printf(",\"uid\":%u,\"purged\":%s}", u->uid, u->purged ? "true" : "false");
                } else
                        printf("null");
                printf("}\n");
        } else if (ex == AGENTCTL_EXIT_SUCCESS) {
                printf("unenroll '%s': %s%s%s\n", name, helper_status_to_string(h.reply->status),
                       h.reply->message ? ": " : "", strempty(h.reply->message));
                print_changes(h.reply);
                if (u)
                        printf("account %s: uid %u, %s\n", u->name, u->uid,
                               u->purged ? "removed with its data" : "data kept");
        }
        if (ex != AGENTCTL_EXIT_SUCCESS)
                report_failure("unenroll", name, h.reply);
        return ex;
}

static int verb_status(int argc, char *argv[]) {
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        AccountStatus *st = NULL;
        char **names = NULL;
        size_t n = 0;
        int c, r, ex = AGENTCTL_EXIT_SUCCESS;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                if (!common_option(c))
                        return AGENTCTL_EXIT_USAGE;
        if (optind + 1 < argc)
                return usage_error("status: unexpected argument '%s'", argv[optind + 1]);

        r = agent_enrolled_accounts(&names);
        if (r == -ENOENT) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return log_oom(), AGENTCTL_EXIT_FAILED;
        } else if (r < 0) {
                fprintf(stderr, "agentctl: cannot list the members of group %s: %s\n", UNROOT_ACCOUNTS_GROUP,
                        strerror(-r));
                return AGENTCTL_EXIT_FAILED;
        }

        if (optind < argc) {
                const char *want = argv[optind];
                bool found = false;
                for (char **i = names; *i; i++)
                        if (streq(*i, want))
                                found = true;
                strv_free_agent(names);
                names = NULL;
                if (!found) {
                        fprintf(stderr, "agentctl: no unroot account '%s' (not a member of group %s): "
                                "'agentctl status' lists them, 'agentctl enroll %s' creates it\n",
                                want, UNROOT_ACCOUNTS_GROUP, want);
                        return AGENTCTL_EXIT_CONFLICT;
                }
                names = calloc(2, sizeof(char *));
                if (!names || !(names[0] = strdup(want))) {
                        strv_free_agent(names);
                        return log_oom(), AGENTCTL_EXIT_FAILED;
                }
        }

        for (char **i = names; *i; i++)
                n++;
        st = calloc(MAX(n, (size_t) 1), sizeof *st);
        if (!st) {
                strv_free_agent(names);
                return log_oom(), AGENTCTL_EXIT_FAILED;
        }

        /* No system bus (a container, a chroot): the user manager state is "unknown", not an error. */
        if (n > 0 && sd_bus_open_system(&bus) < 0)
                bus = NULL;

        for (size_t i = 0; i < n; i++)
                if (account_status_collect(bus, names[i], AGENT_QUERY_TIMEOUT_MS, &st[i]) < 0) {
                        log_oom();
                        ex = AGENTCTL_EXIT_FAILED;
                        goto finish;
                }

        if (arg_json)
                account_status_print_json(st, n, stdout);
        else if (n == 0)
                printf("No enrolled accounts (group %s has no members). Enroll one with 'agentctl enroll NAME'.\n",
                       UNROOT_ACCOUNTS_GROUP);
        else if (account_status_print_table(st, n, stdout) < 0)
                ex = AGENTCTL_EXIT_FAILED;

finish:
        for (size_t i = 0; i < n; i++)
                account_status_done(&st[i]);
        free(st);
        strv_free_agent(names);
        return ex;
}

static int run(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        int c;

        log_set_target(LOG_TARGET_CONSOLE);
        log_set_program("agentctl");

        /* "+": stop at the verb; its options are parsed by the verb. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return AGENTCTL_EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("agentctl %s\n", PACKAGE_VERSION);
                        return AGENTCTL_EXIT_SUCCESS;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        if (optind >= argc)
                return usage_error("missing command");

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name))
                        return verbs[i].run(argc - optind, argv + optind);
        return usage_error("unknown command '%s'", argv[optind]);
}

int main(int argc, char *argv[]) {
        int r;

        (void) signal(SIGPIPE, SIG_IGN);
        r = run(argc, argv);
        polkit_agent_stop();
        fflush(stdout);
        return r;
}
