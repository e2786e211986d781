/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spawn-measure: runs one command and prints "WALL_NS CPU_NS MAXRSS_KIB EXIT" for it.
 *
 * The quadlet benchmark times each generator run through this helper instead of Python plus GNU
 * time: those added ~4 ms of their own start-up to every run of both generators, as much as a
 * whole unroot-quadlet run. Wall time here is from just before posix_spawn() to wait4()
 * returning: exec, dynamic loading, the run and process exit, nothing else. CPU time and peak RSS
 * come from wait4()'s rusage; a posix_spawn()ed child starts with this small static program's
 * RSS high-water mark (~1 MiB), not Python's, which is why this is a separate program.
 *
 * usage: spawn-measure [--stdout FILE] [--stderr FILE] -- COMMAND [ARG...] */

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long ns(const struct timespec *t) {
        return (long long) t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char *argv[]) {
        const char *out = "/dev/null", *err = "/dev/null";
        posix_spawn_file_actions_t fa;
        struct timespec a, b;
        struct rusage ru;
        int i, r, status;
        pid_t pid;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                }
                if (i + 1 < argc && strcmp(argv[i], "--stdout") == 0)
                        out = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--stderr") == 0)
                        err = argv[++i];
                else {
                        fprintf(stderr, "spawn-measure: unknown argument '%s'\n", argv[i]);
                        return 2;
                }
        }
        if (i >= argc) {
                fprintf(stderr, "usage: spawn-measure [--stdout FILE] [--stderr FILE] -- COMMAND [ARG...]\n");
                return 2;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        clock_gettime(CLOCK_MONOTONIC, &a);
        r = posix_spawn(&pid, argv[i], &fa, NULL, argv + i, environ);
        if (r != 0) {
                fprintf(stderr, "spawn-measure: cannot run '%s': %s\n", argv[i], strerror(r));
                return 2;
        }
        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR) {
                        perror("spawn-measure: wait4");
                        return 2;
                }
        clock_gettime(CLOCK_MONOTONIC, &b);

        printf("%lld %lld %ld %d\n", ns(&b) - ns(&a),
               ns(&(struct timespec) { ru.ru_utime.tv_sec, ru.ru_utime.tv_usec * 1000 }) +
                       ns(&(struct timespec) { ru.ru_stime.tv_sec, ru.ru_stime.tv_usec * 1000 }),
               ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}
