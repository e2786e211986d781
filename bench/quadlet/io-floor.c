/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io-floor: the file-system work of a generator run and nothing else, as a lower bound for the
 * quadlet benchmark. It lists SRC (as unroot-quadlet does), reads every regular file in it, and
 * writes N files into OUT (each the bytes of one source file plus 512, about a generated unit's
 * size, one page either way) plus L symlinks into OUT/default.target.wants. No parsing, no
 * translation. Static and libc-only, like unroot-quadlet. A translator can't be faster than this
 * on the same machine, so podman's time divided by this one's is the most any speed-up can be.
 *
 * usage: io-floor SRC OUT N L */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        static char buf[1 << 16];
        int src, out, wants, written = 0, linked = 0, n, l;
        struct dirent *de;
        DIR *d;

        if (argc != 5) {
                fprintf(stderr, "usage: io-floor SRC OUT N L\n");
                return 2;
        }
        n = atoi(argv[3]);
        l = atoi(argv[4]);
        src = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = src >= 0 ? fdopendir(src) : NULL;
        out = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!d || out < 0 || mkdirat(out, "default.target.wants", 0755) < 0)
                return 1;
        wants = openat(out, "default.target.wants", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (wants < 0)
                return 1;
        while ((de = readdir(d))) {
                ssize_t k;
                int fd;

                if (de->d_type != DT_REG)
                        continue;
                fd = openat(src, de->d_name, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                k = read(fd, buf, sizeof buf - 512);
                while (k > 0 && read(fd, buf, 1) > 0) /* a generator reads to EOF */
                        ;
                close(fd);
                if (written < n) {
                        fd = openat(out, de->d_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        if (fd < 0 || write(fd, buf, (size_t) (k > 0 ? k : 0) + 512) < 0)
                                return 1;
                        close(fd);
                        written++;
                }
                if (linked < l) {
                        if (symlinkat("../x.service", wants, de->d_name) < 0)
                                return 1;
                        linked++;
                }
        }
        closedir(d);
        return written == n ? 0 : 1;
}
