/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allocator benchmark: 10,000 existing subuid/subgid ranges (shuffled, as an admin's file may be).
 *
 *  1. in process: unroot's parse + check + allocate of /etc/subuid, many repetitions;
 *  2. as processes, each on a fresh copy of the same tree, in the same run:
 *       unroot:  accounts_enroll() (lock, read six files, allocate, write six files with fsync)
 *       shadow:  useradd --prefix ROOT -r -F ... (allocates subuid/subgid with find_new_sub_uids)
 *       shadow:  usermod --prefix ROOT --add-subuids A-B --add-subgids A-B (a given range, no search)
 *     and reports medians and the ratios.
 *
 * Usage: bench-allocator [--ranges N] [--reps N]      (shadow's tools need root; skipped otherwise)
 *        bench-allocator --enroll ROOT NAME            (internal: one enroll, used for timing) */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "etcfile.h"
#include "subid.h"

#define WIN_MAX 700000000U

#define xsnprintf(buf, ...)                                                      \
        do {                                                                     \
                if ((size_t) snprintf(buf, sizeof(buf), __VA_ARGS__) >= sizeof(buf)) { \
                        errno = ENAMETOOLONG;                                    \
                        die("path");                                             \
                }                                                                \
        } while (0)

static void die(const char *what);

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what) {
        fprintf(stderr, "bench-allocator: %s: %s\n", what, strerror(errno));
        exit(EXIT_FAILURE);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode) {
        char p[4096];
        int fd;

        xsnprintf(p, "%s/%s", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, data, len) != (ssize_t) len || fchmod(fd, mode) < 0)
                die(p);
        close(fd);
}

static char *read_file(const char *dir, const char *name, size_t *ret_len) {
        char p[4096];
        struct stat st;
        char *buf;
        int fd;

        xsnprintf(p, "%s/%s", dir, name);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                die(p);
        buf = malloc((size_t) st.st_size + 1);
        if (!buf || read(fd, buf, (size_t) st.st_size) != st.st_size)
                die(p);
        buf[st.st_size] = 0;
        close(fd);
        if (ret_len)
                *ret_len = (size_t) st.st_size;
        return buf;
}

static const char *const files[] = { "passwd", "group", "shadow", "gshadow", "subuid", "subgid", "login.defs" };

static void copy_tree(const char *from_root, const char *to_root) {
        char from[4096], to[4096];

        xsnprintf(from, "%s/etc", from_root);
        xsnprintf(to, "%s/etc", to_root);
        if (mkdir(to_root, 0755) < 0 || mkdir(to, 0755) < 0)
                die(to);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                size_t len;
                char *d = read_file(from, files[i], &len);
                write_file(to, files[i], d, len, strstr(files[i], "shadow") ? 0640 : 0644);
                free(d);
        }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_rf(const char *p) {
        (void) nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The same shuffled file for everyone: user<i> owns [100000 + i*65536, +65536). */
static char *make_subid(unsigned n, uint64_t seed) {
        unsigned *order = malloc(n * sizeof(unsigned));
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);

        if (!order || !m)
                die("malloc");
        for (unsigned i = 0; i < n; i++)
                order[i] = i;
        for (unsigned i = n; i > 1; i--) { /* Fisher-Yates with a fixed LCG */
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned j = (unsigned) ((seed >> 33) % i), t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
        }
        for (unsigned i = 0; i < n; i++)
                fprintf(m, "user%u:%" PRIu64 ":65536\n", order[i], 100000 + (uint64_t) order[i] * 65536);
        fclose(m);
        free(order);
        return text;
}

static void make_template(const char *root, unsigned n) {
        char etc[4096];
        char *sub = make_subid(n, 42), defs[256];

        xsnprintf(etc, "%s/etc", root);
        if (mkdir(root, 0755) < 0 || mkdir(etc, 0755) < 0)
                die(etc);
#define W(name, s, mode) write_file(etc, name, s, strlen(s), mode)
        W("passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0644);
        W("group", "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n", 0644);
        W("shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0640);
        W("gshadow", "root:*::\ndaemon:*::\nshadow:*::\nnogroup:*::\n", 0640);
        W("subuid", sub, 0644);
        W("subgid", sub, 0644);
        /* A window big enough for 10,000 ranges of 65536 plus one; both tools honour it. */
        (void) snprintf(defs, sizeof defs,
                        "SUB_UID_MIN 100000\nSUB_UID_MAX %u\nSUB_UID_COUNT 65536\n"
                        "SUB_GID_MIN 100000\nSUB_GID_MAX %u\nSUB_GID_COUNT 65536\nUSERGROUPS_ENAB yes\n",
                        WIN_MAX, WIN_MAX);
        W("login.defs", defs, 0644);
#undef W
        free(sub);
}

/* Runs argv, returns wall time in ms; dies if it fails. stdout/stderr go to /dev/null. */
static double run_timed(char *const argv[]) {
        double t0 = now_ms();
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid)
                die("waitpid");
        double dt = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench-allocator: %s failed (status %d)\n", argv[0], status);
                exit(EXIT_FAILURE);
        }
        return dt;
}

static uint32_t last_start(const char *root, const char *file, const char *owner) {
        char etc[4096], *d, *p;
        uint32_t start = 0;
        size_t n = strlen(owner);

        xsnprintf(etc, "%s/etc", root);
        d = read_file(etc, file, NULL);
        for (p = d; p && *p;) {
                if (strncmp(p, owner, n) == 0 && p[n] == ':')
                        start = (uint32_t) strtoul(p + n + 1, NULL, 10);
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        free(d);
        return start;
}

static int enroll_once(const char *root, const char *name) {
        ErrorInfo e = {};
        AccountInfo info = {};
        int r = accounts_enroll(root, name, 65536, NULL, NULL, &info, NULL, &e);

        if (r < 0) {
                fprintf(stderr, "enroll: %s: %s\n", e.field, e.message);
                return EXIT_FAILURE;
        }
        printf("%s uid %" PRIu32 " subuid %" PRIu32 ":%" PRIu32 "\n", name, info.uid, info.subuid.start,
               info.subuid.count);
        account_info_done(&info);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        unsigned n_ranges = 10000, reps = 7;
        char self[4096], base[] = "/tmp/unroot-bench-allocator.XXXXXX", tmpl[4200];

        if (argc == 4 && strcmp(argv[1], "--enroll") == 0)
                return enroll_once(argv[2], argv[3]);
        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--ranges") == 0)
                        n_ranges = (unsigned) strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--reps") == 0)
                        reps = (unsigned) strtoul(argv[i + 1], NULL, 10);
        }
        if (n_ranges == 0 || n_ranges > 10000 || reps == 0 || reps > 100) {
                fprintf(stderr, "bench-allocator: --ranges 1..10000, --reps 1..100\n");
                return EXIT_FAILURE;
        }
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k < 0)
                die("readlink /proc/self/exe");
        self[k] = 0;
        if (!mkdtemp(base))
                die("mkdtemp");
        xsnprintf(tmpl, "%s/template", base);
        make_template(tmpl, n_ranges);
        const uint32_t expect = 100000 + n_ranges * 65536U; /* every gap is full: first fit is at the end */

        /* 1. In process: parse + check + allocate, repeated for about a second. */
        char etc[4300];
        size_t len;
        xsnprintf(etc, "%s/etc", tmpl);
        char *text = read_file(etc, "subuid", &len);
        double *t = calloc(2000, sizeof(double));
        unsigned iters = 0;
        double t_end = now_ms() + 1000;
        while (iters < 2000 && (iters < 20 || now_ms() < t_end)) {
                double t0 = now_ms();
                EtcFile f;
                SubidRange *used, got;
                size_t n;
                SubidRequest req = { .win_min = 100000, .win_max = WIN_MAX, .id_max = 60000, .own_id = 999, .count = 65536 };

                if (etc_file_parse(ETC_SUBUID, text, len, &f) < 0 || subid_file_check(&f, NULL) < 0 ||
                    subid_collect(&f, &used, &n) < 0 || subid_find_free(used, n, &req, &got, NULL) < 0) {
                        fprintf(stderr, "bench-allocator: in-process allocation failed\n");
                        return EXIT_FAILURE;
                }
                t[iters++] = now_ms() - t0;
                if (got.start != expect || n != n_ranges) {
                        fprintf(stderr, "bench-allocator: allocated %" PRIu32 ", expected %" PRIu32 "\n", got.start, expect);
                        return EXIT_FAILURE;
                }
                free(used);
                etc_file_done(&f);
        }
        double alloc_ms = median(t, iters);
        free(text);

        /* 2. Whole operations as processes, each on a fresh copy. */
        bool shadow_ok = geteuid() == 0 && access("/usr/sbin/useradd", X_OK) == 0 && access("/usr/sbin/usermod", X_OK) == 0;
        double *tu = calloc(reps, sizeof(double)), *ts = calloc(reps, sizeof(double)), *tm = calloc(reps, sizeof(double));
        for (unsigned i = 0; i < reps; i++) {
                char ru[4300], rs[4300], rm[4300], range[64];

                xsnprintf(ru, "%s/unroot-%u", base, i);
                xsnprintf(rs, "%s/useradd-%u", base, i);
                xsnprintf(rm, "%s/usermod-%u", base, i);
                copy_tree(tmpl, ru);
                tu[i] = run_timed((char *[]) { self, (char *) "--enroll", ru, (char *) "svc", NULL });
                if (last_start(ru, "subuid", "svc") != expect || last_start(ru, "subgid", "svc") != expect) {
                        fprintf(stderr, "bench-allocator: unroot allocated an unexpected range\n");
                        return EXIT_FAILURE;
                }
                rm_rf(ru);
                if (!shadow_ok)
                        continue;
                copy_tree(tmpl, rs);
                ts[i] = run_timed((char *[]) { (char *) "/usr/sbin/useradd", (char *) "--prefix", rs, (char *) "-r",
                                               (char *) "-F", (char *) "-M", (char *) "-s", (char *) "/usr/sbin/nologin",
                                               (char *) "-d", (char *) "/var/lib/unroot/svc", (char *) "-c",
                                               (char *) "unroot service account", (char *) "svc", NULL });
                if (last_start(rs, "subuid", "svc") != expect) {
                        fprintf(stderr, "bench-allocator: useradd allocated %" PRIu32 ", expected %" PRIu32 "\n",
                                last_start(rs, "subuid", "svc"), expect);
                        return EXIT_FAILURE;
                }
                rm_rf(rs);
                /* usermod needs the user to exist already; that part is not timed. */
                copy_tree(tmpl, rm);
                xsnprintf(etc, "%s/etc", rm);
                char *pw = read_file(etc, "passwd", &len), *npw;
                if (asprintf(&npw, "%ssvc:x:999:999::/var/lib/unroot/svc:/usr/sbin/nologin\n", pw) < 0)
                        die("asprintf");
                write_file(etc, "passwd", npw, strlen(npw), 0644);
                free(pw);
                free(npw);
                xsnprintf(range, "%" PRIu32 "-%" PRIu32, expect, expect + 65535);
                tm[i] = run_timed((char *[]) { (char *) "/usr/sbin/usermod", (char *) "--prefix", rm,
                                               (char *) "--add-subuids", range, (char *) "--add-subgids", range,
                                               (char *) "svc", NULL });
                if (last_start(rm, "subuid", "svc") != expect) {
                        fprintf(stderr, "bench-allocator: usermod did not add the range\n");
                        return EXIT_FAILURE;
                }
                rm_rf(rm);
        }
        double u = median(tu, reps);
        printf("existing ranges: %u (shuffled), window %u..%u, new range at %" PRIu32 "\n", n_ranges, 100000U,
               WIN_MAX, expect);
        printf("unroot parse+check+allocate (in process):        %8.3f ms  (median of %u)\n", alloc_ms, iters);
        printf("unroot enroll, whole process (6 files, fsync):    %8.3f ms  (median of %u)\n", u, reps);
        if (shadow_ok) {
                double s = median(ts, reps), m = median(tm, reps);
                printf("shadow useradd --prefix -r -F (allocates):        %8.3f ms  (median of %u)\n", s, reps);
                printf("shadow usermod --prefix --add-sub[ug]ids (given): %8.3f ms  (median of %u)\n", m, reps);
                printf("RESULT allocator-%u: unroot enroll %.2f ms, useradd -r -F %.2f ms (%.1fx), usermod --add-subuids "
                       "%.2f ms (%.1fx); in-process allocate %.3f ms\n",
                       n_ranges, u, s, s / u, m, m / u, alloc_ms);
        } else
                printf("RESULT allocator-%u: unroot enroll %.2f ms; in-process allocate %.3f ms; shadow comparison "
                       "skipped (needs root and /usr/sbin/useradd, usermod)\n", n_ranges, u, alloc_ms);
        free(t);
        free(tu);
        free(ts);
        free(tm);
        rm_rf(base);
        return EXIT_SUCCESS;
}
