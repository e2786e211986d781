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

#include "agent-server.h"
#include "log.h"
#include "macro.h"

static const char *arg_socket = NULL;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Per-account agent of unroot. Normally started by unroot-agent.socket in the\n"
               "account's user manager.\n\n"
               "  -h --help           Show this help\n"
               "     --version        Show package version\n"
               "     --socket PATH    Listen on PATH instead of a socket passed by systemd\n"
               "                      (default when started by hand: $HOME/.unroot/agent.sock)\n"
               "  -v --verbose        Log debug messages\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SOCKET };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
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

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        AgentServer *server = NULL;
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

        r = agent_server_new(event, fd, getuid(), &server);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the server: %m");

        /* Opened once now so the first status is quick; reopened on demand if it goes away. */
        (void) agent_server_user_bus(server);

        (void) sd_notifyf(false, "READY=1\nSTATUS=Answering requests (unroot %s).", PACKAGE_VERSION);
        log_info("unroot-agent %s ready for uid %u.", PACKAGE_VERSION, (unsigned) getuid());

        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1");
        agent_server_free(server);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
