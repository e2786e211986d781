/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays fuzzer inputs without libFuzzer (systemd's src/fuzz/fuzz-main.c): every file given, or
 * every regular file in every directory given, is fed to LLVMFuzzerTestOneInput once. Exits 1 if
 * nothing was replayed, so that a missing or misnamed corpus directory fails instead of passing. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                if (cap - n < 4096) {
                        uint8_t *nb = realloc(buf, cap + 65536);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return -1;
                        }
                        buf = nb;
                        cap += 65536;
                }
                size_t k = fread(buf + n, 1, cap - n, f);
                if (k == 0)
                        break;
                n += k;
        }
        fclose(f);
        /* An exact-size copy, so ASan sees any read past the end of the input. */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        printf("replay %s (%zu bytes)\n", path, n);
        fflush(stdout);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0, failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        failed++;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                failed++;
                        else
                                n++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        char p[4096];
                        struct stat fst;
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                        if (stat(p, &fst) < 0 || !S_ISREG(fst.st_mode))
                                continue;
                        if (run_file(p) < 0)
                                failed++;
                        else
                                n++;
                }
                if (d)
                        closedir(d);
        }
        printf("replayed %u inputs, %u unreadable\n", n, failed);
        return n > 0 && failed == 0 ? 0 : 1;
}
