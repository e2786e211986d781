/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-helper: the only part of unroot that runs as root. Started by unroot-helper.socket with
 * Accept=yes: one process per connection, one request per process, then it exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "helper-caps.h"
#include "helper-dispatch.h"
#include "log.h"

static const char *arg_root = NULL;
static const char *arg_statedir = NULL;

static void help(void) {
        printf("unroot-helper [--root=DIR] [--statedir=DIR]\n\n"
               "Privileged helper of unroot, started by unroot-helper.socket (Accept=yes).\n"
               "It serves one request on the connection passed as fd 3 and exits.\n\n"
               "  --root=DIR      operate on the account files below DIR (tests, images);\n"
               "                  logind, NSS and nscd are then left alone\n"
               "  --statedir=DIR  where homes are created (default /var/lib/unroot)\n"
               "  --version       print the version\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_ROOT = 0x100, ARG_STATEDIR, ARG_VERSION };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "root", required_argument, NULL, ARG_ROOT },
                { "statedir", required_argument, NULL, ARG_STATEDIR },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                case ARG_STATEDIR:
                        arg_statedir = optarg;
                        break;
                case ARG_VERSION:
                        puts(PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL), "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

static int run(int argc, char *argv[]) {
        HelperContext ctx;
        int n, fd, r;

        log_set_target(LOG_TARGET_KMSG_PREFIX);
        log_set_program("unroot-helper");

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to get the connection from systemd: %m");
        if (n != 1)
                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL),
                                       "Expected exactly one connection fd from unroot-helper.socket (Accept=yes), got %d.", n);
        fd = SD_LISTEN_FDS_START;
        r = sd_is_socket_unix(fd, SOCK_SEQPACKET, 0, NULL, 0);
        if (r <= 0)
                return log_error_errno(r < 0 ? r : -EINVAL, "fd %d is not a connected AF_UNIX SOCK_SEQPACKET socket.", fd);

        (void) signal(SIGPIPE, SIG_IGN);

        if (geteuid() == 0) {
                r = caps_drop_to_helper_set();
                if (r < 0)
                        return r;
        }

        ctx = (HelperContext) {
                .root = arg_root,
                .statedir = arg_statedir,
                .live = !arg_root || streq(arg_root, "/"),
        };
        r = helper_handle_connection(&ctx, &polkit_authorizer, fd);
        (void) close(fd);
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? 1 : 0;
}
