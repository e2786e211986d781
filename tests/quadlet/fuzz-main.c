/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays fuzzer inputs without libFuzzer (systemd's fuzz-main.c): every file given, or every
 * file in every directory given, is fed to LLVMFuzzerTestOneInput once. */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_buf_ Buf b = {};
        char chunk[4096];
        size_t k;

        if (!f)
                return -1;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
                buf_putn(&b, chunk, k);
        if (b.oom)
                return -1;
        /* Corpus unit files have no selector bytes: try them as every type and mode. */
        for (unsigned sel = 0; sel < 7; sel++)
                for (unsigned mode = 0; mode < 4; mode++) {
                        _cleanup_buf_ Buf in = {};
                        buf_putc(&in, (char) sel);
                        buf_putc(&in, (char) mode);
                        buf_putn(&in, b.s ? b.s : "", b.n);
                        if (in.oom)
                                return -1;
                        LLVMFuzzerTestOneInput((const uint8_t *) in.s, in.n);
                }
        LLVMFuzzerTestOneInput((const uint8_t *) (b.s ? b.s : ""), b.n);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_closedir_ DIR *d = opendir(argv[i]);
                        struct dirent *de;
                        while (d && (de = readdir(d))) {
                                _cleanup_free_ char *p = NULL;
                                struct stat fst;
                                if (de->d_name[0] == '.')
                                        continue;
                                p = strdup_printf("%s/%s", argv[i], de->d_name);
                                if (p && stat(p, &fst) == 0 && S_ISREG(fst.st_mode) && run_file(p) == 0)
                                        n++;
                        }
                } else if (run_file(argv[i]) == 0)
                        n++;
        }
        printf("replayed %u inputs\n", n);
        return 0;
}
