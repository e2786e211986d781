/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentctl-polkit.h"
#include "log.h"
#include "macro.h"

/* How long pkttyagent may take to register before we go on without it. */
#define POLKIT_AGENT_REGISTER_TIMEOUT_MS (10 * 1000)
/* How long after POLLHUP an agent that failed to register takes to exit, at most. */
#define POLKIT_AGENT_EXIT_GRACE_MS 100

static int terminal_available(void) {
        char tty[L_ctermid];
        int fd;

        if (!isatty(STDIN_FILENO))
                return 0;
        if (!ctermid(tty) || !*tty)
                return 0;
        fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        safe_close(fd);
        return 1;
}

int polkit_agent_open(pid_t *ret_pid) {
        int pipefd[2];
        char pid_str[32], fd_str[32];
        struct pollfd p;
        pid_t parent = getpid(), pid;
        int r;

        if (!terminal_available())
                return 0;
        if (access(PKTTYAGENT_BINARY, X_OK) < 0) {
                log_debug_errno(-errno, "No %s, not asking for passwords: %m", PKTTYAGENT_BINARY);
                return 0;
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                /* Child: keep only the write end open across exec; die with agentctl. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(EXIT_FAILURE);
                safe_close(pipefd[0]);
                if (fcntl(pipefd[1], F_SETFD, 0) < 0)
                        _exit(EXIT_FAILURE);
                (void) snprintf(pid_str, sizeof pid_str, "%i", (int) parent);
                (void) snprintf(fd_str, sizeof fd_str, "%i", pipefd[1]);
                execl(PKTTYAGENT_BINARY, PKTTYAGENT_BINARY, "--process", pid_str, "--notify-fd", fd_str,
                      "--fallback", (char *) NULL);
                _exit(127);
        }

        safe_close(pipefd[1]);
        /* pkttyagent closes the fd once it is registered with polkitd (or exits on failure):
         * either way POLLHUP, and only then may the request go out, or polkitd finds no agent. */
        p = (struct pollfd) { .fd = pipefd[0], .events = POLLIN };
        for (;;) {
                r = poll(&p, 1, POLKIT_AGENT_REGISTER_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                break;
        }
        safe_close(pipefd[0]);
        if (r == 0) {
                log_warning("%s did not register within %i s, continuing without it.", PKTTYAGENT_BINARY,
                            POLKIT_AGENT_REGISTER_TIMEOUT_MS / 1000);
                polkit_agent_close(pid);
                return 0;
        }
        /* POLLHUP also comes when it exits without registering (no polkitd, no session); the fd
         * then closes as the process dies, so give it a moment to become reapable before claiming
         * we can answer a challenge. A registered agent keeps running. */
        for (int i = 0; i < POLKIT_AGENT_EXIT_GRACE_MS / 5; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return 0;
                (void) usleep(5 * 1000);
        }
        *ret_pid = pid;
        return 1;
}

void polkit_agent_close(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) kill(pid, SIGCONT);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
