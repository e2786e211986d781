/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io-floor: the file-system work of a generator run and nothing else, as a lower bound for the
 * quadlet benchmark. It lists SRC (as unroot-quadlet does), reads every regular file in it, and
 * writes N files into OUT (each the bytes of one source file plus 512, about a generated unit's
 * size, one page either way) plus L symlinks into OUT/default.target.wants. No parsing, no
 * translation. Static and libc-only, like unroot-quadlet. A single-threaded translator can't be
 * faster than this on the same machine, so podman's time divided by this one's is the most any
 * speed-up of one can be.
 *
 * With THREADS > 1 the files are dealt out to that many threads (file i to thread i % THREADS),
 * each reading and writing its own share: the bound for a translator that parallelizes all of its
 * file-system work perfectly and spends no time on anything else.
 *
 * usage: io-floor SRC OUT N L [THREADS] */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAMES_MAX 4096
#define THREADS_MAX 16

static char *names[NAMES_MAX];
static int n_names, src, out, wants, n_write, n_link, n_threads = 1;

static void *work(void *arg) {
        static char bufs[THREADS_MAX][1 << 16];
        long t = (long) arg;
        char *buf = bufs[t];

        for (int i = (int) t; i < n_names; i += n_threads) {
                ssize_t k;
                int fd = openat(src, names[i], O_RDONLY | O_CLOEXEC);

                if (fd < 0)
                        continue;
                k = read(fd, buf, (1 << 16) - 512);
                while (k > 0 && read(fd, buf, 1) > 0) /* a generator reads to EOF */
                        ;
                close(fd);
                if (i < n_write) {
                        fd = openat(out, names[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        if (fd < 0 || write(fd, buf, (size_t) (k > 0 ? k : 0) + 512) < 0)
                                return (void *) 1;
                        close(fd);
                }
                if (i < n_link && symlinkat("../x.service", wants, names[i]) < 0)
                        return (void *) 1;
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        pthread_t th[THREADS_MAX];
        struct dirent *de;
        void *failed = NULL;
        DIR *d;

        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: io-floor SRC OUT N L [THREADS]\n");
                return 2;
        }
        n_write = atoi(argv[3]);
        n_link = atoi(argv[4]);
        if (argc == 6)
                n_threads = atoi(argv[5]);
        if (n_threads < 1 || n_threads > THREADS_MAX)
                return 2;
        src = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = src >= 0 ? fdopendir(src) : NULL;
        out = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!d || out < 0 || mkdirat(out, "default.target.wants", 0755) < 0)
                return 1;
        wants = openat(out, "default.target.wants", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (wants < 0)
                return 1;
        while ((de = readdir(d)))
                if (de->d_type == DT_REG && n_names < NAMES_MAX)
                        names[n_names++] = strdup(de->d_name);
        if (n_write > n_names || n_link > n_names)
                return 1;
        for (long t = 1; t < n_threads; t++)
                if (pthread_create(&th[t], NULL, work, (void *) t) != 0)
                        return 1;
        failed = work((void *) 0);
        for (long t = 1; t < n_threads; t++) {
                void *f;

                (void) pthread_join(th[t], &f);
                failed = failed ?: f;
        }
        return failed ? 1 : 0;
}
