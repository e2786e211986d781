/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-agent: runs as a service account inside its user manager and answers agentctl. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "agent-loop.h"
#include "agent-server.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "pod-shape-probe.h"
#include "quadlet.h"

static const char *arg_socket = NULL;
static const char *arg_podman_version = NULL;
static const char *arg_root = NULL;
static const char *arg_manager_address = NULL;
static uint64_t arg_debounce_usec = 0;
static bool arg_watch = true;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Per-account agent of unroot. Normally started by unroot-agent.socket in the\n"
               "account's user manager.\n\n"
               "  -h --help           Show this help\n"
               "     --version        Show package version\n"
               "     --socket PATH    Listen on PATH instead of a socket passed by systemd\n"
               "                      (default when started by hand: $HOME/.unroot/agent.sock)\n"
               "     --podman-version X.Y\n"
               "                      Translate for this podman version instead of asking\n"
               "                      'podman --version'\n"
               "     --debounce-ms MS Quiet time after a source change before applying\n"
               "                      (default 200)\n"
               "     --no-watch       Do not watch the Quadlet directories (apply at start\n"
               "                      and on request only)\n"
               "     --root DIR       Look for sources and write units below DIR (tests)\n"
               "     --manager-address ADDRESS\n"
               "                      D-Bus address of the user manager (tests)\n"
               "  -v --verbose        Log debug messages\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SOCKET, ARG_PODMAN_VERSION, ARG_DEBOUNCE, ARG_NO_WATCH, ARG_ROOT, ARG_MANAGER };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "podman-version", required_argument, NULL, ARG_PODMAN_VERSION },
                { "debounce-ms", required_argument, NULL, ARG_DEBOUNCE },
                { "no-watch", no_argument, NULL, ARG_NO_WATCH },
                { "root", required_argument, NULL, ARG_ROOT },
                { "manager-address", required_argument, NULL, ARG_MANAGER },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("unroot-agent %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SOCKET:
                        if (!*optarg || optarg[0] != '/')
                                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                                       "--socket: '%s' is not an absolute path", optarg);
                        arg_socket = optarg;
                        break;
                case ARG_PODMAN_VERSION: {
                        unsigned v;
                        if (quadlet_parse_podman_version(optarg, &v) < 0 || v < QUADLET_PODMAN_VERSION_MIN)
                                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                                       "--podman-version: '%s' is not a podman version of 4.3 or later",
                                                       optarg);
                        arg_podman_version = optarg;
                        break;
                }
                case ARG_DEBOUNCE: {
                        uint32_t ms;
                        if (safe_atou32(optarg, &ms) < 0 || ms == 0 || ms > 60000)
                                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                                       "--debounce-ms: '%s' is not a number from 1 to 60000", optarg);
                        arg_debounce_usec = (uint64_t) ms * 1000ULL;
                        break;
                }
                case ARG_NO_WATCH:
                        arg_watch = false;
                        break;
                case ARG_ROOT:
                        if (optarg[0] != '/')
                                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                                       "--root: '%s' is not an absolute path", optarg);
                        arg_root = optarg;
                        break;
                case ARG_MANAGER:
                        arg_manager_address = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL), "unexpected argument '%s'", argv[optind]);
        return 1;
}

static int get_listen_fd(int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        int n, r;

        if (!arg_socket) {
                n = sd_listen_fds(true);
                if (n < 0)
                        return log_error_errno(n, "Cannot read the sockets passed by systemd: %m");
                if (n > 1)
                        return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                               "Expected one socket from systemd, got %i.", n);
                if (n == 1) {
                        r = agent_check_listen_fd(SD_LISTEN_FDS_START);
                        if (r < 0)
                                return log_error_errno(r, "The socket passed by systemd is not a listening "
                                                       "AF_UNIX SOCK_SEQPACKET socket: %m");
                        *ret_fd = SD_LISTEN_FDS_START;
                        return 0;
                }
                const char *home = getenv("HOME");
                if (!home || home[0] != '/')
                        return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                               "No socket from systemd, no --socket, and $HOME is not set.");
                if (asprintf(&path, "%s/.unroot/agent.sock", home) < 0)
                        return log_oom();
        }

        r = agent_listen_path(arg_socket ?: path, ret_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on '%s': %m", arg_socket ?: path);
        log_debug("Listening on '%s'.", arg_socket ?: path);
        return 0;
}

/* The podman version units are translated for: the option, else `podman --version` once. */
static int podman_version(unsigned *ret, char **ret_text) {
        char *v = NULL;
        int r;

        if (arg_podman_version) {
                (void) quadlet_parse_podman_version(arg_podman_version, ret);
                v = strdup_printf("%s (--podman-version)", arg_podman_version);
                if (!v)
                        return -ENOMEM;
                *ret_text = v;
                return 0;
        }
        r = podman_version_probe("podman", ret, &v);
        if (r >= 0) {
                *ret_text = strdup_printf("%s (podman --version)", v);
                free(v);
                return *ret_text ? 0 : -ENOMEM;
        }
        log_warning_errno(r, "'podman --version' failed, translating for podman %u.%u: %m",
                          QUADLET_PODMAN_VERSION_DEFAULT / 100, QUADLET_PODMAN_VERSION_DEFAULT % 100);
        *ret = QUADLET_PODMAN_VERSION_DEFAULT;
        *ret_text = strdup_printf("%u.%u (default: podman --version failed: %s)", QUADLET_PODMAN_VERSION_DEFAULT / 100,
                                  QUADLET_PODMAN_VERSION_DEFAULT % 100, strerror(-r));
        return *ret_text ? 0 : -ENOMEM;
}

typedef struct PodShapeContext {
        const char *root, *home, *runtime_dir;
} PodShapeContext;

/* The pod shape decision for the apply loop: $UNROOT_POD_SHAPE, the cache in ~/.unroot, or a
 * probe (blocking, once per systemd/podman version pair). */
static int decide_pod_shape(void *userdata, int *ret_shape, char **ret_name, char **ret_reason) {
        const PodShapeContext *c = userdata;
        _cleanup_(pod_shape_decision_done) PodShapeDecision d = {};
        _cleanup_free_ char *state = strdup_printf("%s/.unroot", c->home);
        PodShapeProbeOptions o = {
                .root = c->root,
                .state_dir = state,
                .runtime_dir = c->runtime_dir,
        };
        int r;

        if (!state)
                return -ENOMEM;
        r = pod_shape_decide(&o, &d);
        if (r < 0) {
                *ret_reason = strdup_printf("%s: %s", POD_SHAPE_ENV, strerror(-r));
                return r;
        }
        *ret_shape = d.shape;
        *ret_name = strdup(pod_shape_to_string(d.shape));
        *ret_reason = pod_shape_decision_describe(&d);
        return *ret_name && *ret_reason ? 0 : -ENOMEM;
}

static int rewrite_pods(RenderPlan *plan, int shape) {
        return pod_shape_rewrite_plan(plan, (PodShape) shape);
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *pv_text = NULL;
        AgentServer *server = NULL;
        AgentLoop *loop = NULL;
        const char *home;
        unsigned pv = 0;
        sigset_t ss;
        int fd = -EBADF, r;

        log_set_target(LOG_TARGET_KMSG_PREFIX);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        r = get_listen_fd(&fd);
        if (r < 0)
                return r;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot allocate event loop: %m");

        (void) sigemptyset(&ss);
        (void) sigaddset(&ss, SIGTERM);
        (void) sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "Cannot block signals: %m");
        r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        home = getenv("HOME");
        /* A user manager sets $XDG_RUNTIME_DIR; started by hand without it, use where logind puts it. */
        const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
        _cleanup_free_ char *runtime_fallback = NULL;
        if (!runtime_dir || runtime_dir[0] != '/') {
                runtime_fallback = strdup_printf("/run/user/%u", (unsigned) getuid());
                runtime_dir = runtime_fallback;
        }
        PodShapeContext psc = { .root = arg_root, .home = home, .runtime_dir = runtime_dir };
        if (home && home[0] == '/') {
                r = podman_version(&pv, &pv_text);
                if (r < 0)
                        return log_oom();
                AgentLoopOptions o = {
                        .root = arg_root,
                        .uid = getuid(),
                        .home = home,
                        .xdg_config_home = getenv("XDG_CONFIG_HOME"),
                        .xdg_runtime_dir = runtime_dir,
                        .podman_version = pv,
                        .podman_version_text = pv_text,
                        .debounce_usec = arg_debounce_usec,
                        .watch = arg_watch,
                        .manager_address = arg_manager_address,
                        .pod_shape_decide = decide_pod_shape,
                        .pod_shape_rewrite = rewrite_pods,
                        .pod_shape_userdata = &psc,
                };
                r = agent_loop_new(event, &o, &loop);
                if (r < 0)
                        return log_error_errno(r, "Cannot set up the apply loop: %m");
        } else
                log_warning("$HOME is not set: no Quadlet sources, answering status only.");

        r = agent_server_new(event, fd, getuid(), loop, &server);
        if (r < 0) {
                agent_loop_free(loop);
                return log_error_errno(r, "Cannot set up the server: %m");
        }

        (void) sd_notifyf(false, "READY=1\nSTATUS=Answering requests (unroot %s).", PACKAGE_VERSION);
        log_info("unroot-agent %s ready for uid %u.", PACKAGE_VERSION, (unsigned) getuid());
        if (loop) {
                log_info("Translating for podman %s; units in '%s'.", pv_text, agent_loop_unitdir(loop));
                (void) agent_loop_apply(loop, NULL, NULL);
        }

        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1");
        agent_server_free(server);
        agent_loop_free(loop);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
