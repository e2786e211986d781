/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agentctl: the admin's command line. Runs unprivileged; privileged steps go to unroot-helper. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <inttypes.h>
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
#include "agentctl-migrate.h"
#include "agentctl-output.h"
#include "agentctl-polkit.h"
#include "agentctl-status.h"
#include "agent-request.h"
#include "fileio.h"
#include "report-gather.h"
#include "agent.pb-c.h"
#include "strv-util.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

#define AGENT_WAIT_DEFAULT_SEC 90U
#define AGENT_WAIT_MAX_SEC 3600U
#define AGENT_POLL_INTERVAL_MS 500
#define AGENT_QUERY_TIMEOUT_MS 2000
/* A status asks the user manager about every unit: give a busy manager time. */
#define AGENT_STATUS_TIMEOUT_MS 15000
/* A start may pull an image, a reapply starts everything in turn; the manager bounds each job. */
#define AGENT_ACTION_TIMEOUT_SEC_DEFAULT 300U
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
static int verb_unit_action(int argc, char *argv[]);
static int verb_reapply(int argc, char *argv[]);
static int verb_logs(int argc, char *argv[]);
static int verb_shift(int argc, char *argv[]);
static int verb_migrate(int argc, char *argv[]);
static int verb_secret_group(int argc, char *argv[]);
static int verb_report(int argc, char *argv[]);

/* Like crun's commands[]: name, handler, one-line synopsis for --help. */
static const Verb verbs[] = {
        { "enroll", verb_enroll, "enroll NAME [--subids N] [--no-wait] [--timeout SEC]" },
        { "unenroll", verb_unenroll, "unenroll NAME [--purge]" },
        { "status", verb_status, "status [NAME]" },
        { "start", verb_unit_action, "start NAME/UNIT [--timeout SEC]" },
        { "stop", verb_unit_action, "stop NAME/UNIT [--timeout SEC]" },
        { "restart", verb_unit_action, "restart NAME/UNIT [--timeout SEC]" },
        { "reapply", verb_reapply, "reapply NAME [--timeout SEC]" },
        { "logs", verb_logs, "logs NAME/UNIT [-n N] [-f]" },
        { "report", verb_report, "report [--output FILE] [--root DIR]   (the migration report, Markdown; run as root)" },
        { "shift", verb_shift, "shift NAME PATH [--rollback]   (ownership shift of a root container's data; used by migrate)" },
        { "migrate", verb_migrate, "migrate plan|apply SERVICE... --to ACCOUNT, migrate rollback SERVICE...   (move root Quadlet services)" },
        { "secret-group", verb_secret_group, "secret-group NAME FILE GROUP [--rollback]   (share a host secret file through a group; used by migrate)" },
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
        ARG_ROLLBACK,
        ARG_OUTPUT,
        ARG_ROOT,
};

/* Journal readers besides root (journald's file ACLs on Debian 12 and upstream). */
static const char *const journal_groups[] = { "systemd-journal", "adm", "wheel" };

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

/* The options of the helper verbs that can be undone: --rollback plus the common ones, then exactly
 * n_args arguments. Returns 0 with *ret_rollback set, or an exit code. */
static int parse_rollback_verb(int argc, char *argv[], int n_args, const char *usage, bool *ret_rollback) {
        static const struct option options[] = {
                { "rollback", no_argument, NULL, ARG_ROLLBACK },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        int c;

        *ret_rollback = false;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROLLBACK:
                        *ret_rollback = true;
                        break;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        if (optind + n_args != argc)
                return usage_error("%s", usage);
        return 0;
}

static int verb_shift(int argc, char *argv[]) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__ShiftRequest sr = UNROOT__HELPER__SHIFT_REQUEST__INIT;
        _cleanup_(helper_reply_holder_done) HelperReplyHolder h = {};
        bool rollback;
        int ex;

        ex = parse_rollback_verb(argc, argv, 2, "shift: expected NAME PATH", &rollback);
        if (ex != 0)
                return ex;

        helper_shift_request(&req, &sr, argv[optind], argv[optind + 1], rollback);
        ex = call_helper(&req, &h);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;
        ex = helper_status_to_exit(h.reply->status);

        const Unroot__Helper__ShiftReply *s =
                h.reply->result_case == UNROOT__HELPER__HELPER_REPLY__RESULT_SHIFT ? h.reply->shift : NULL;
        if (arg_json) {
                json_begin_reply("shift", argv[optind], h.reply, ex);
                printf(",\"shift\":");
                if (s) {
                        printf("{\"path\":");
                        json_write_string(stdout, s->path);
                        printf(",\"journal\":");
                        json_write_string(stdout, s->journal);
                        printf(",\"rollback\":%s,\"scanned\":%" PRIu64 ",\"changed\":%" PRIu64 ",\"unchanged\":%" PRIu64
                               ",\"skipped\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"mismatched\":%" PRIu64 "}",
                               s->rollback ? "true" : "false", s->scanned, s->changed, s->unchanged, s->skipped,
                               s->failed, s->mismatched);
                } else
                        printf("null");
                printf("}\n");
        } else {
                printf("%s '%s' %s: %s\n", rollback ? "rollback of" : "shift of", argv[optind + 1], argv[optind],
                       helper_status_to_string(h.reply->status));
                print_changes(h.reply);
                if (s)
                        printf("scanned %" PRIu64 ", changed %" PRIu64 ", unchanged %" PRIu64 ", skipped %" PRIu64
                               ", failed %" PRIu64 ", mismatched %" PRIu64 "\n", s->scanned, s->changed, s->unchanged,
                               s->skipped, s->failed, s->mismatched);
        }
        if (ex != AGENTCTL_EXIT_SUCCESS)
                report_failure("shift", argv[optind], h.reply);
        return ex;
}

static int verb_secret_group(int argc, char *argv[]) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__SecretGroupRequest sr = UNROOT__HELPER__SECRET_GROUP_REQUEST__INIT;
        _cleanup_(helper_reply_holder_done) HelperReplyHolder h = {};
        bool rollback;
        int ex;

        ex = parse_rollback_verb(argc, argv, 3, "secret-group: expected NAME FILE GROUP", &rollback);
        if (ex != 0)
                return ex;

        helper_secret_group_request(&req, &sr, argv[optind], argv[optind + 1], argv[optind + 2], rollback);
        ex = call_helper(&req, &h);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;
        ex = helper_status_to_exit(h.reply->status);

        const Unroot__Helper__SecretGroupReply *s =
                h.reply->result_case == UNROOT__HELPER__HELPER_REPLY__RESULT_SECRET_GROUP ? h.reply->secret_group : NULL;
        if (arg_json) {
                json_begin_reply("secret-group", argv[optind], h.reply, ex);
                printf(",\"secret_group\":");
                if (s) {
                        printf("{\"file\":");
                        json_write_string(stdout, s->file);
                        printf(",\"group\":");
                        json_write_string(stdout, s->group);
                        printf(",\"gid\":%u,\"uid\":%u,\"journal\":", s->gid, s->uid);
                        json_write_string(stdout, s->journal);
                        printf(",\"rollback\":%s,\"group_created\":%s,\"member_changed\":%s,\"restart_required\":%s}",
                               s->rollback ? "true" : "false", s->group_created ? "true" : "false",
                               s->member_changed ? "true" : "false", s->restart_required ? "true" : "false");
                } else
                        printf("null");
                printf("}\n");
        } else {
                printf("%s '%s' %s %s: %s\n", rollback ? "rollback of secret-group" : "secret-group", argv[optind + 1],
                       argv[optind], argv[optind + 2], helper_status_to_string(h.reply->status));
                print_changes(h.reply);
        }
        /* The running user manager keeps the groups it started with; agentctl migrate restarts it. */
        if (s && s->restart_required && ex == AGENTCTL_EXIT_SUCCESS)
                fprintf(stderr, "agentctl: the user manager of %s must be restarted to %s group '%s': "
                        "systemctl restart user@%u.service (agentctl migrate does this)\n", argv[optind],
                        rollback ? "drop" : "pick up", s->group, s->uid);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                report_failure("secret-group", argv[optind], h.reply);
        return ex;
}

static int verb_migrate(int argc, char *argv[]) {
        return verb_migrate_main(argc, argv, arg_json, arg_ask_password);
}

static int verb_report(int argc, char *argv[]) {
        static const struct option options[] = {
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "root", required_argument, NULL, ARG_ROOT },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(report_state_done) ReportState st = {};
        _cleanup_free_ char *text = NULL;
        const char *output = NULL, *root = NULL;
        char host[256] = "", when[64] = "";
        ErrorInfo e = {};
        struct tm tm;
        time_t now;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_OUTPUT:
                        if (!*optarg)
                                return usage_error("report: --output: FILE must not be empty");
                        output = optarg;
                        break;
                case ARG_ROOT:
                        if (optarg[0] != '/')
                                return usage_error("report: --root: '%s' is not an absolute path", optarg);
                        root = optarg;
                        break;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        if (optind < argc)
                return usage_error("report: unexpected argument '%s'", argv[optind]);

        /* No system bus (a container, a chroot): the user managers' state is "unknown", not an error. */
        if (sd_bus_open_system(&bus) < 0)
                bus = NULL;
        r = report_gather(root, bus, AGENT_STATUS_TIMEOUT_MS, &st, &e);
        if (r == -ENOMEM)
                return log_oom(), AGENTCTL_EXIT_FAILED;
        if (r < 0) {
                fprintf(stderr, "agentctl: report: %s\n", e.message[0] ? e.message : strerror(-r));
                return r == -EACCES || r == -EPERM ? AGENTCTL_EXIT_DENIED : AGENTCTL_EXIT_FAILED;
        }

        now = time(NULL);
        if (gmtime_r(&now, &tm))
                (void) strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        if (gethostname(host, sizeof host - 1) < 0)
                host[0] = 0;
        ReportInput in = report_state_input(&st, when[0] ? when : NULL, host[0] ? host : NULL);
        r = arg_json ? report_render_json(&in, &text) : report_render_markdown(&in, &text);
        if (r < 0)
                return log_oom(), AGENTCTL_EXIT_FAILED;

        for (char **w = st.warnings; w && *w; w++)
                fprintf(stderr, "agentctl: report: warning: %s\n", *w);
        if (!output) {
                fputs(text, stdout);
                return fflush(stdout) == 0 ? AGENTCTL_EXIT_SUCCESS : AGENTCTL_EXIT_FAILED;
        }
        r = write_file_atomic(output, text, strlen(text), 0644);
        if (r < 0) {
                fprintf(stderr, "agentctl: report: cannot write %s: %s\n", output, strerror(-r));
                return AGENTCTL_EXIT_FAILED;
        }
        return AGENTCTL_EXIT_SUCCESS;
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
                if (account_status_collect(NULL, bus, names[i], AGENT_STATUS_TIMEOUT_MS, &st[i]) < 0) {
                        log_oom();
                        ex = AGENTCTL_EXIT_FAILED;
                        goto finish;
                }

        if (arg_json)
                account_status_print_json(st, n, stdout);
        else if (n == 0)
                printf("No enrolled accounts (group %s has no members). Enroll one with 'agentctl enroll NAME'.\n",
                       UNROOT_ACCOUNTS_GROUP);
        else if (account_status_print_table(st, n, stdout) < 0 || units_print_table(st, n, stdout) < 0)
                ex = AGENTCTL_EXIT_FAILED;

finish:
        for (size_t i = 0; i < n; i++)
                account_status_done(&st[i]);
        free(st);
        strv_free_agent(names);
        return ex;
}

/* The account's agent socket, or an exit code with the reason printed. */
static int account_socket(const char *verb, const char *name, AgentAccount *ret_acct, char **ret_path) {
        ErrorInfo e = {};
        int r;

        r = agent_account_lookup(NULL, name, ret_acct, &e);
        if (r < 0) {
                fprintf(stderr, "agentctl: %s: %s ('agentctl status' lists the enrolled accounts)\n", verb,
                        e.message[0] ? e.message : strerror(-r));
                return AGENTCTL_EXIT_CONFLICT;
        }
        *ret_path = agent_socket_path_for_home(ret_acct->home);
        if (!*ret_path)
                return log_oom(), AGENTCTL_EXIT_FAILED;
        return AGENTCTL_EXIT_SUCCESS;
}

/* ACCOUNT/UNIT, both checked here so that a typo is a usage error, not a round trip. */
static int parse_account_unit(const char *verb, int argc, char *argv[], char **ret_account, const char **ret_unit) {
        const char *arg, *slash;
        ErrorInfo e = {};

        if (optind >= argc)
                return usage_error("%s: missing ACCOUNT/UNIT", verb);
        if (optind + 1 < argc)
                return usage_error("%s: unexpected argument '%s'", verb, argv[optind + 1]);
        arg = argv[optind];
        slash = strchr(arg, '/');
        if (!slash || slash == arg || !slash[1])
                return usage_error("%s: '%s' is not ACCOUNT/UNIT (like 'web/web.service')", verb, arg);
        if (agent_unit_name_check(slash + 1, "UNIT", &e) < 0)
                return usage_error("%s: %s", verb, e.message);
        *ret_account = strndup(arg, (size_t) (slash - arg));
        if (!*ret_account)
                return log_oom(), AGENTCTL_EXIT_FAILED;
        *ret_unit = slash + 1;
        return 0;
}

/* The options of the verbs that wait for the agent: --timeout SEC and the common ones. */
static int parse_timeout_options(const char *verb, int argc, char *argv[], unsigned *ret) {
        static const struct option options[] = {
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        uint32_t t;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_TIMEOUT:
                        if (safe_atou32(optarg, &t) < 0 || t == 0 || t > AGENT_WAIT_MAX_SEC)
                                return usage_error("%s: --timeout: '%s' is not a number of seconds from 1 to %u",
                                                   verb, optarg, AGENT_WAIT_MAX_SEC);
                        *ret = t;
                        break;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        return 0;
}

static int action_exit(const AgentActionResult *a) {
        switch (a->state) {
        case AGENT_STATE_ANSWERING:
                switch (a->status) {
                case UNROOT__AGENT__AGENT_STATUS__AGENT_OK:
                        return AGENTCTL_EXIT_SUCCESS;
                case UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID:
                        /* The one INVALID a correct agentctl meets: a unit the agent does not own. */
                        return a->field && streq(a->field, "unit") ? AGENTCTL_EXIT_CONFLICT : AGENTCTL_EXIT_USAGE;
                default:
                        return AGENTCTL_EXIT_FAILED;
                }
        case AGENT_STATE_REFUSED:
                return AGENTCTL_EXIT_DENIED;
        case AGENT_STATE_NOT_RUNNING:
                return AGENTCTL_EXIT_UNREACHABLE;
        default:
                return a->message && strstr(a->message, "timed out") ? AGENTCTL_EXIT_TIMEOUT : AGENTCTL_EXIT_FAILED;
        }
}

static const char *action_status_string(const AgentActionResult *a) {
        if (a->state != AGENT_STATE_ANSWERING)
                return agent_state_to_string(a->state);
        switch (a->status) {
        case UNROOT__AGENT__AGENT_STATUS__AGENT_OK:
                return "ok";
        case UNROOT__AGENT__AGENT_STATUS__AGENT_INVALID:
                return "invalid";
        case UNROOT__AGENT__AGENT_STATUS__AGENT_DENIED:
                return "refused";
        default:
                return "failed";
        }
}

static void json_strv(const char *key, char **l) {
        printf(",\"%s\":[", key);
        for (char **i = l; i && *i; i++) {
                if (i != l)
                        putchar(',');
                json_write_string(stdout, *i);
        }
        putchar(']');
}

static void report_action_failure(const char *what, const char *account, const AgentActionResult *a) {
        switch (a->state) {
        case AGENT_STATE_REFUSED:
                fprintf(stderr, "agentctl: %s: the agent of '%s' refused: %s\n", what, account,
                        a->message ?: "run as root or as a member of " UNROOT_ADMINS_GROUP);
                break;
        case AGENT_STATE_NOT_RUNNING:
                fprintf(stderr, "agentctl: %s: the agent of '%s' is not running (%s): check "
                        "'loginctl user-status %s'\n", what, account, a->message ?: "no socket", account);
                break;
        case AGENT_STATE_ANSWERING:
                fprintf(stderr, "agentctl: %s: %s\n", what, a->message ?: "the agent reported an error");
                break;
        default:
                fprintf(stderr, "agentctl: %s: %s\n", what, a->message ?: "the agent did not answer");
                break;
        }
}

static int verb_unit_action(int argc, char *argv[]) {
        _cleanup_(agent_action_result_done) AgentActionResult a = {};
        _cleanup_(agent_account_done) AgentAccount acct = {};
        _cleanup_free_ char *account = NULL, *path = NULL, *what = NULL;
        const char *verb = argv[0], *unit = NULL;
        unsigned timeout = AGENT_ACTION_TIMEOUT_SEC_DEFAULT;
        AgentOp op = streq(verb, "start") ? AGENT_OP_START : streq(verb, "stop") ? AGENT_OP_STOP : AGENT_OP_RESTART;
        int r, ex;

        r = parse_timeout_options(verb, argc, argv, &timeout);
        if (r != 0)
                return r;
        r = parse_account_unit(verb, argc, argv, &account, &unit);
        if (r != 0)
                return r;
        ex = account_socket(verb, account, &acct, &path);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;

        (void) agent_query_action(path, op, unit, (int) timeout * 1000, &a);
        ex = action_exit(&a);
        if (arg_json) {
                printf("{\"operation\":");
                json_write_string(stdout, verb);
                printf(",\"account\":");
                json_write_string(stdout, account);
                printf(",\"unit\":");
                json_write_string(stdout, unit);
                printf(",\"status\":");
                json_write_string(stdout, action_status_string(&a));
                printf(",\"exit_code\":%i,\"result\":", ex);
                json_write_string(stdout, a.result);
                printf(",\"message\":");
                json_write_string(stdout, a.message);
                printf(",\"field\":");
                json_write_string(stdout, a.field);
                printf("}\n");
        } else if (ex == AGENTCTL_EXIT_SUCCESS)
                printf("%s %s/%s: %s\n", verb, account, unit, a.result ?: "done");
        if (ex != AGENTCTL_EXIT_SUCCESS) {
                if (asprintf(&what, "%s %s/%s", verb, account, unit) < 0)
                        what = NULL;
                report_action_failure(what ?: verb, account, &a);
        }
        return ex;
}

static int verb_reapply(int argc, char *argv[]) {
        _cleanup_(agent_action_result_done) AgentActionResult a = {};
        _cleanup_(agent_account_done) AgentAccount acct = {};
        _cleanup_free_ char *path = NULL;
        unsigned timeout = AGENT_ACTION_TIMEOUT_SEC_DEFAULT;
        const char *name;
        int r, ex;

        r = parse_timeout_options("reapply", argc, argv, &timeout);
        if (r != 0)
                return r;
        r = parse_name_arg("reapply", argc, argv, &name);
        if (r != 0)
                return r;
        ex = account_socket("reapply", name, &acct, &path);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;

        (void) agent_query_action(path, AGENT_OP_REAPPLY, NULL, (int) timeout * 1000, &a);
        ex = action_exit(&a);
        if (arg_json) {
                printf("{\"operation\":\"reapply\",\"account\":");
                json_write_string(stdout, name);
                printf(",\"status\":");
                json_write_string(stdout, action_status_string(&a));
                printf(",\"exit_code\":%i,\"message\":", ex);
                json_write_string(stdout, a.message);
                json_strv("started", a.started);
                json_strv("restarted", a.restarted);
                json_strv("stopped", a.stopped);
                json_strv("errors", a.errors);
                printf("}\n");
        } else if (ex == AGENTCTL_EXIT_SUCCESS) {
                printf("reapply %s: %zu started, %zu restarted, %zu stopped, %zu errors\n", name,
                       strv_length(a.started), strv_length(a.restarted), strv_length(a.stopped),
                       strv_length(a.errors));
                for (char **i = a.started; i && *i; i++)
                        printf("  started %s\n", *i);
                for (char **i = a.restarted; i && *i; i++)
                        printf("  restarted %s\n", *i);
                for (char **i = a.stopped; i && *i; i++)
                        printf("  stopped %s\n", *i);
                for (char **i = a.errors; i && *i; i++)
                        printf("  error: %s\n", *i);
        }
        if (ex != AGENTCTL_EXIT_SUCCESS)
                report_action_failure("reapply", name, &a);
        return ex;
}

/* Whether the caller can read other users' journal entries: root, or a member of a group that
 * journald gives read access to all journal files. unroot-admins alone does not. */
static bool can_read_journal(uid_t account_uid) {
        gid_t groups[NGROUPS_MAX];
        int n;

        if (geteuid() == 0 || getuid() == account_uid)
                return true;
        n = getgroups(ELEMENTSOF(groups), groups);
        for (size_t k = 0; k < ELEMENTSOF(journal_groups); k++) {
                struct group *g = getgrnam(journal_groups[k]);
                if (!g)
                        continue;
                if (getegid() == g->gr_gid)
                        return true;
                for (int i = 0; i < n; i++)
                        if (groups[i] == g->gr_gid)
                                return true;
        }
        return false;
}

static int verb_logs(int argc, char *argv[]) {
        static const struct option options[] = {
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        _cleanup_(agent_account_done) AgentAccount acct = {};
        _cleanup_free_ char *account = NULL, *path = NULL;
        char uidm[32], unitm[300], usrm[300], nbuf[16];
        const char *unit = NULL, *lines = NULL;
        const char *jargv[16];
        bool follow = false;
        size_t k = 0;
        int c, r, ex;

        optind = 0;
        while ((c = getopt_long(argc, argv, "n:f", options, NULL)) >= 0)
                switch (c) {
                case 'n': {
                        uint32_t v;
                        if (safe_atou32(optarg, &v) < 0)
                                return usage_error("logs: -n: '%s' is not a number of lines", optarg);
                        (void) snprintf(nbuf, sizeof nbuf, "%u", v);
                        lines = nbuf;
                        break;
                }
                case 'f':
                        follow = true;
                        break;
                default:
                        if (common_option(c))
                                break;
                        return AGENTCTL_EXIT_USAGE;
                }
        r = parse_account_unit("logs", argc, argv, &account, &unit);
        if (r != 0)
                return r;
        ex = account_socket("logs", account, &acct, &path);
        if (ex != AGENTCTL_EXIT_SUCCESS)
                return ex;
        if (!can_read_journal(acct.uid)) {
                fprintf(stderr, "agentctl: logs %s/%s: reading the journal of another account needs root or "
                        "membership in group 'systemd-journal' (or 'adm'); membership in %s alone does not give "
                        "journal access\n", account, unit, UNROOT_ADMINS_GROUP);
                return AGENTCTL_EXIT_DENIED;
        }

        /* What `journalctl --user-unit` matches, but for the account's uid instead of the caller's:
         * messages from the unit's processes (container output included: conmon runs in the unit's
         * cgroup), and the user manager's messages about the unit. */
        (void) snprintf(uidm, sizeof uidm, "_UID=%u", (unsigned) acct.uid);
        (void) snprintf(unitm, sizeof unitm, "_SYSTEMD_USER_UNIT=%s", unit);
        (void) snprintf(usrm, sizeof usrm, "USER_UNIT=%s", unit);
        jargv[k++] = "journalctl";
        jargv[k++] = "--no-pager";
        if (arg_json)
                jargv[k++] = "--output=json";
        if (lines) {
                jargv[k++] = "-n";
                jargv[k++] = lines;
        }
        if (follow)
                jargv[k++] = "--follow";
        jargv[k++] = uidm;
        jargv[k++] = unitm;
        jargv[k++] = "+";
        jargv[k++] = uidm;
        jargv[k++] = usrm;
        jargv[k] = NULL;
        fflush(stdout);
        execvp(secure_getenv("UNROOT_JOURNALCTL") ?: "journalctl", (char **) jargv);
        fprintf(stderr, "agentctl: logs: cannot run journalctl: %s\n", strerror(errno));
        return AGENTCTL_EXIT_FAILED;
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
