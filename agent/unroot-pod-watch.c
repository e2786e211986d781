/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-pod-watch: the main process of a pod unit in the "watch" shape (pod-shape.h).
 *
 * Runs the pod's start command (`podman pod start …`), reads the infra conmon's PID from the file
 * podman was told to write (--infra-conmon-pidfile), opens a pidfd on it, tells the manager
 * READY=1 (Type=notify, NotifyAccess=main) and sleeps in poll() until conmon exits. So the unit is
 * active exactly as long as the pod's infra is, including a `podman pod stop` by hand, without the
 * manager ever trusting a PID file the user wrote (which user managers refuse for a process
 * outside the unit's cgroup), and without a shell or `tail --pid`. A pidfd cannot be fooled by
 * PID reuse once opened, and poll() on it costs no wake-ups while the pod runs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "macro.h"
#include "parse-util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

static const char *arg_pidfile;
static unsigned arg_pidfile_timeout_sec = 10;

static void help(void) {
        printf("%s --pidfile PATH [--pidfile-timeout SEC] -- COMMAND [ARG...]\n\n"
               "Runs COMMAND (the pod's start command), then watches the process whose PID is in\n"
               "PATH (the infra conmon) through a pidfd, reports READY=1 to systemd and exits 0 when\n"
               "that process exits. Exits with COMMAND's status if COMMAND fails.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show package version\n"
               "     --pidfile PATH         The infra conmon's PID file (--infra-conmon-pidfile)\n"
               "     --pidfile-timeout SEC  How long to wait for PATH after COMMAND (default %u)\n",
               program_invocation_short_name, arg_pidfile_timeout_sec);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_PIDFILE, ARG_PIDFILE_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "pidfile", required_argument, NULL, ARG_PIDFILE },
                { "pidfile-timeout", required_argument, NULL, ARG_PIDFILE_TIMEOUT },
                {}
        };
        int c;

        /* '+': stop at the first non-option, COMMAND's own options are not ours. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("unroot " PACKAGE_VERSION);
                        return 0;
                case ARG_PIDFILE:
                        if (optarg[0] != '/')
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "--pidfile: \"%s\" is not an absolute path.", optarg);
                        arg_pidfile = optarg;
                        break;
                case ARG_PIDFILE_TIMEOUT: {
                        uint32_t v;
                        if (safe_atou32(optarg, &v) < 0 || v == 0 || v > 3600)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "--pidfile-timeout: \"%s\" is not a number of seconds in 1…3600.", optarg);
                        arg_pidfile_timeout_sec = v;
                        break;
                }
                default:
                        return -EINVAL;
                }
        if (!arg_pidfile)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--pidfile: missing (the infra conmon's PID file).");
        if (optind >= argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "COMMAND: missing (the pod's start command).");
        return 1;
}

/* Runs argv, returns its exit status (0…255, 128+signal) or a negative errno. NOTIFY_SOCKET is
 * ours: podman must not speak for the unit (NotifyAccess=main would drop it anyway, noisily). */
static int run(char **argv) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return log_error_errno(negative_errno(), "fork: %m");
        if (pid == 0) {
                (void) unsetenv("NOTIFY_SOCKET");
                execv(argv[0], argv);
                log_error_errno(negative_errno(), "Cannot run %s: %m", argv[0]);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(negative_errno(), "waitpid: %m");
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

/* The PID in the file: -ENOENT while it is missing or still empty (conmon writes it itself). */
static int read_pidfile(pid_t *ret) {
        _cleanup_close_ int fd = open(arg_pidfile, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[32];
        uint32_t v;
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = read(fd, buf, sizeof(buf) - 1);
        if (k < 0)
                return -errno;
        while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' '))
                k--;
        if (k == 0)
                return -ENOENT;
        buf[k] = 0;
        if (safe_atou32(buf, &v) < 0 || v <= 1 || v > INT32_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: \"%s\" is not a PID.", arg_pidfile, buf);
        *ret = (pid_t) v;
        return 0;
}

static int wait_pidfile(pid_t *ret) {
        struct timespec step = { .tv_nsec = 100 * 1000 * 1000 };
        int r;

        for (unsigned i = 0; i < arg_pidfile_timeout_sec * 10; i++) {
                r = read_pidfile(ret);
                if (r != -ENOENT)
                        return r;
                (void) nanosleep(&step, NULL);
        }
        return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "%s: no PID after %u s; was the pod created with "
                               "--infra-conmon-pidfile=%s?", arg_pidfile, arg_pidfile_timeout_sec, arg_pidfile);
}

static int watch(void) {
        _cleanup_close_ int pidfd = -EBADF;
        pid_t pid, again;
        int r;

        r = wait_pidfile(&pid);
        if (r < 0)
                return r;
        pidfd = (int) syscall(__NR_pidfd_open, pid, 0);
        if (pidfd < 0)
                return log_error_errno(negative_errno(), "Infra conmon PID %d (from %s) is gone before it could be "
                                       "watched: %m", (int) pid, arg_pidfile);
        /* The PID could have been reused between the read and pidfd_open(): the file must still
         * name it now that the pidfd pins the process. */
        r = read_pidfile(&again);
        if (r < 0 || again != pid)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "%s changed while opening a pidfd on PID %d.",
                                       arg_pidfile, (int) pid);

        (void) sd_notifyf(false, "READY=1\nSTATUS=Watching the infra conmon, PID %d", (int) pid);
        log_info("Pod started; watching its infra conmon, PID %d.", (int) pid);

        for (;;) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                if (poll(&p, 1, -1) >= 0)
                        break;
                if (errno != EINTR)
                        return log_error_errno(negative_errno(), "poll on the pidfd of PID %d: %m", (int) pid);
        }
        (void) sd_notify(false, "STOPPING=1\nSTATUS=The infra conmon exited");
        log_info("Infra conmon PID %d exited: the pod is stopped.", (int) pid);
        return 0;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_target(getenv("JOURNAL_STREAM") ? LOG_TARGET_KMSG_PREFIX : LOG_TARGET_CONSOLE);
        log_set_program(program_invocation_short_name);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        r = run(argv + optind);
        if (r < 0)
                return 1;
        if (r != 0) {
                log_error("%s exited with status %d.", argv[optind], r);
                return r;
        }
        return watch() < 0 ? 1 : 0;
}
