/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unroot-quadlet: a drop-in for podman's quadlet generator (cmd/quadlet), built on the pure
 * translator in quadlet.c. This file does all the I/O: finding and reading quadlet files and
 * drop-ins, writing units and [Install] symlinks, logging, and asking podman for its version. */

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "quadlet.h"

static bool arg_user = false;
static bool arg_dryrun = false;
static bool arg_no_kmsg = false;
static bool arg_verbose = false;
static unsigned arg_podman_version = 0;
static const char *arg_output = NULL;
static const char *argv0 = "unroot-quadlet";
static FILE *kmsg = NULL;

static void logf_(const char *fmt, ...) _printf_(1, 2);
static void logf_(const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return;
        if (!arg_no_kmsg && !arg_dryrun) {
                if (!kmsg)
                        kmsg = fopen("/dev/kmsg", "we");
                if (kmsg && fprintf(kmsg, "quadlet-generator[%d]: %s", (int) getpid(), m) >= 0 && fflush(kmsg) == 0) {
                        free(m);
                        return;
                }
        }
        fprintf(stderr, "quadlet-generator[%d]: %s\n", (int) getpid(), m);
        fflush(stderr);
        free(m);
}

/* Errors are collected and logged together at exit, one message joined by newlines, as podman's
 * generator does (only the first line carries the "quadlet-generator[PID]: " prefix). */
static Strv reported = {};

static void report_error(const char *fmt, ...) _printf_(1, 2);
static void report_error(const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        strv_consume(&reported, m);
}

#define debugf(...)                              \
        do {                                     \
                if (arg_verbose || arg_dryrun)   \
                        logf_(__VA_ARGS__);      \
        } while (0)

/* ---- search paths ---- */

typedef struct Seen {
        dev_t *dev;
        ino_t *ino;
        size_t n;
} Seen;

static bool seen_add(Seen *s, const struct stat *st) {
        for (size_t i = 0; i < s->n; i++)
                if (s->dev[i] == st->st_dev && s->ino[i] == st->st_ino)
                        return false;
        dev_t *nd = reallocarray(s->dev, s->n + 1, sizeof(dev_t));
        if (nd)
                s->dev = nd;
        ino_t *ni = reallocarray(s->ino, s->n + 1, sizeof(ino_t));
        if (ni)
                s->ino = ni;
        if (!nd || !ni)
                return true;
        s->dev[s->n] = st->st_dev;
        s->ino[s->n] = st->st_ino;
        s->n++;
        return true;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted entry names of a directory (like Go's os.ReadDir). With ret_maybe_dirs, also the names
 * that may be directories (d_type says directory, symlink or unknown), to spare a stat() of every
 * regular file. */
static int read_dir_sorted_full(const char *path, Strv *ret, Strv *ret_maybe_dirs) {
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        strv_add(ret, de->d_name);
                        if (ret_maybe_dirs && (de->d_type == DT_DIR || de->d_type == DT_LNK || de->d_type == DT_UNKNOWN))
                                strv_add(ret_maybe_dirs, de->d_name);
                }
        if (ret_maybe_dirs && ret_maybe_dirs->n > 0)
                qsort(ret_maybe_dirs->v, ret_maybe_dirs->n, sizeof(char *), name_cmp);
        if (ret->n > 0)
                qsort(ret->v, ret->n, sizeof(char *), name_cmp);
        return strv_error(ret) ?: (ret_maybe_dirs ? strv_error(ret_maybe_dirs) : 0);
}

static int read_dir_sorted(const char *path, Strv *ret) {
        return read_dir_sorted_full(path, ret, NULL);
}

typedef bool (*DirFilter)(const char *path);

/* Adds path and its subdirectories, depth first in name order (filepath.WalkDir). Symlinks are
 * resolved, each directory is visited once. */
static void walk_dirs(Strv *dirs, Seen *seen, const char *path, DirFilter filter) {
        _cleanup_strv_ Strv names = {}, maybe_dirs = {};
        char resolved[PATH_MAX];
        struct stat st;

        if (!realpath(path, resolved) || stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
                /* Like upstream, keep the path anyway (for the "No files parsed" message). */
                if (!strv_contains(dirs, path) && (!filter || filter(path)))
                        strv_add(dirs, path);
                return;
        }
        if (!seen_add(seen, &st))
                return;
        if (filter && !filter(resolved))
                return;
        strv_add(dirs, resolved);
        if (read_dir_sorted_full(resolved, &names, &maybe_dirs) < 0)
                return;
        for (size_t i = 0; i < maybe_dirs.n; i++) {
                _cleanup_free_ char *sub = strdup_printf("%s/%s", resolved, maybe_dirs.v[i]);
                struct stat sst;
                if (!sub || stat(sub, &sst) < 0 || !S_ISDIR(sst.st_mode))
                        continue;
                walk_dirs(dirs, seen, sub, filter);
        }
}

static bool filter_system(const char *p) {
        /* The system generator ignores users' directories. */
        return !startswith(p, "/etc/containers/systemd/users");
}

static bool filter_users_nonnumeric(const char *p) {
        const char *rest;

        if (!startswith(p, "/etc/containers/systemd/users"))
                return true;
        rest = p + strlen("/etc/containers/systemd/users");
        if (*rest != '/')
                return true;
        rest++;
        /* first path component below users/ must not be numeric (that is some user's UID) */
        size_t n = strcspn(rest, "/");
        for (size_t i = 0; i < n; i++)
                if (rest[i] < '0' || rest[i] > '9')
                        return true;
        return false;
}

static int get_unit_dirs(Strv *dirs) {
        const char *env = getenv("QUADLET_UNIT_DIRS");
        Seen seen = {};

        if (env && env[0]) {
                _cleanup_free_ char *copy = strdup(env);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                        if (t[0] != '/') {
                                logf_("%s not a valid file path", t);
                                break;
                        }
                        walk_dirs(dirs, &seen, t, NULL);
                }
        } else if (arg_user) {
                const char *xdg_run = getenv("XDG_RUNTIME_DIR"), *xdg_conf = getenv("XDG_CONFIG_HOME"),
                           *home = getenv("HOME");
                _cleanup_free_ char *conf = NULL, *run = NULL, *uid = NULL, *uid2 = NULL;

                if (xdg_run && xdg_run[0]) {
                        run = strdup_printf("%s/containers/systemd", xdg_run);
                        if (run)
                                walk_dirs(dirs, &seen, run, NULL);
                }
                if (xdg_conf && xdg_conf[0])
                        conf = strdup_printf("%s/containers/systemd", xdg_conf);
                else if (home)
                        conf = strdup_printf("%s/.config/containers/systemd", home);
                if (conf)
                        walk_dirs(dirs, &seen, conf, NULL);
                walk_dirs(dirs, &seen, "/etc/containers/systemd/users", filter_users_nonnumeric);
                uid = strdup_printf("/etc/containers/systemd/users/%u", (unsigned) getuid());
                if (uid)
                        walk_dirs(dirs, &seen, uid, NULL);
                walk_dirs(dirs, &seen, "/usr/share/containers/systemd/users", filter_users_nonnumeric);
                uid2 = strdup_printf("/usr/share/containers/systemd/users/%u", (unsigned) getuid());
                if (uid2)
                        walk_dirs(dirs, &seen, uid2, NULL);
        } else {
                walk_dirs(dirs, &seen, "/run/containers/systemd", filter_system);
                walk_dirs(dirs, &seen, "/etc/containers/systemd", filter_system);
                walk_dirs(dirs, &seen, "/usr/share/containers/systemd", filter_system);
        }
        free(seen.dev);
        free(seen.ino);
        return strv_error(dirs);
}

/* ---- loading ---- */

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_buf_ Buf b = {};
        ssize_t k;

        /* Plain read(2) into the growing buffer: no stdio, no fstat; unit files are small. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (!buf_reserve(&b, 4096))
                        return -ENOMEM;
                k = read(fd, b.s + b.n, b.cap - b.n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                b.n += (size_t) k;
                b.s[b.n] = 0;
        }
        *ret_len = b.n;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int parse_file(const char *path, UnitFile **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, &data, &len);
        if (r < 0) {
                *ret_error = strdup_printf("open %s: %s", path, strerror(-r));
                return r;
        }
        return unit_file_parse(data, len, path, ret, ret_error);
}

typedef struct Units {
        UnitFile **v;
        size_t n;
} Units;

static void units_done(Units *u) {
        for (size_t i = 0; i < u->n; i++)
                unit_file_free(u->v[i]);
        free(u->v);
}

static int load_units(const Strv *dirs, Strv *listings, Units *units, Strv *seen) {
        for (size_t d = 0; d < dirs->n; d++) {
                if (read_dir_sorted(dirs->v[d], &listings[d]) < 0)
                        continue;
                const Strv names = listings[d]; /* borrowed */
                for (size_t i = 0; i < names.n; i++) {
                        _cleanup_free_ char *path = NULL, *err = NULL;
                        UnitFile *f = NULL, **nv;
                        struct stat st;

                        if (quadlet_unit_type_from_filename(names.v[i]) < 0 || strv_contains(seen, names.v[i]))
                                continue;
                        path = strdup_printf("%s/%s", dirs->v[d], names.v[i]);
                        if (!path)
                                return -ENOMEM;
                        if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
                                continue;
                        debugf("Loading source unit file %s", path);
                        if (parse_file(path, &f, &err) < 0) {
                                report_error("error loading \"%s\", %s", path, strempty(err));
                                continue;
                        }
                        strv_add(seen, names.v[i]);
                        nv = reallocarray(units->v, units->n + 1, sizeof(UnitFile *));
                        if (!nv) {
                                unit_file_free(f);
                                return -ENOMEM;
                        }
                        units->v = nv;
                        units->v[units->n++] = f;
                }
        }
        return strv_error(seen);
}

static int load_dropins(UnitFile *unit, const Strv *dirs, const Strv *listings) {
        _cleanup_strv_ Strv dnames = {}, names = {}, paths = {};
        int r;

        r = quadlet_dropin_dirs(unit->filename, &dnames);
        if (r < 0)
                return r;
        for (size_t s = 0; s < dirs->n; s++)
                for (size_t k = 0; k < dnames.n; k++) {
                        _cleanup_free_ char *dir = NULL;
                        _cleanup_strv_ Strv files = {};
                        /* only look into drop-in dirs the source dir listing has */
                        if (listings[s].n == 0 ||
                            !bsearch(&dnames.v[k], listings[s].v, listings[s].n, sizeof(char *), name_cmp))
                                continue;
                        dir = strdup_printf("%s/%s", dirs->v[s], dnames.v[k]);
                        if (!dir)
                                return -ENOMEM;
                        if (read_dir_sorted(dir, &files) < 0)
                                continue;
                        for (size_t i = 0; i < files.n; i++) {
                                if (!endswith(files.v[i], ".conf") || strv_contains(&names, files.v[i]))
                                        continue;
                                strv_add(&names, files.v[i]);
                                strv_addf(&paths, "%s/%s", dir, files.v[i]);
                        }
                }
        if (names.oom || paths.oom)
                return -ENOMEM;

        /* Merge in name order; the paths array follows the names. */
        for (size_t pass = 0; pass < names.n; pass++) {
                size_t best = SIZE_MAX;
                for (size_t i = 0; i < names.n; i++)
                        if (names.v[i][0] && (best == SIZE_MAX || strcmp(names.v[i], names.v[best]) < 0))
                                best = i;
                if (best == SIZE_MAX)
                        break;
                {
                        _cleanup_unit_file_ UnitFile *d = NULL;
                        _cleanup_free_ char *err = NULL;
                        debugf("Loading source drop-in file %s", paths.v[best]);
                        if (parse_file(paths.v[best], &d, &err) < 0) {
                                report_error("error loading \"%s\", %s", paths.v[best], strempty(err));
                        } else if (unit_file_merge(unit, d) < 0)
                                return -ENOMEM;
                }
                names.v[best][0] = 0;
        }
        return 0;
}

/* ---- writing ---- */

static int mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int write_service(UnitFile *service) {
        _cleanup_free_ char *path = NULL, *data = NULL, *hdr = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len, off = 0;
        int r;

        hdr = strdup_printf("Automatically generated by %s", argv0);
        if (!hdr)
                return -ENOMEM;
        /* two comment lines, prepended in reverse order */
        unit_file_prepend_comment(service, "");
        unit_file_prepend_comment(service, hdr);
        r = unit_file_to_string(service, &data);
        if (r < 0)
                return r;
        path = strdup_printf("%s/%s", arg_output, service->filename);
        if (!path)
                return -ENOMEM;
        debugf("writing \"%s\"", path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        len = strlen(data);
        while (off < len) {
                ssize_t k = write(fd, data + off, len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (size_t) k;
        }
        /* No fsync(): generator output lives in /run (tmpfs) and is regenerated on every
         * daemon-reload, so syncing buys nothing and costs most of the run time on disk. */
        return 0;
}

static void enable_service(UnitFile *service) {
        _cleanup_strv_ Strv links = {}, targets = {}, warnings = {};

        if (quadlet_install_symlinks(service, &links, &targets, &warnings) < 0) {
                logf_("Can't create symlinks for %s: out of memory", service->filename);
                return;
        }
        for (size_t i = 0; i < warnings.n; i++)
                logf_("%s", warnings.v[i]);
        for (size_t i = 0; i < links.n; i++) {
                _cleanup_free_ char *p = strdup_printf("%s/%s", arg_output, links.v[i]), *dir = NULL;
                char *slash;
                if (!p)
                        return;
                dir = strdup(p);
                if (!dir)
                        return;
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                if (mkdir_p(dir) < 0) {
                        logf_("Can't create dir %s: %m", dir);
                        continue;
                }
                debugf("Creating symlink %s -> %s", p, targets.v[i]);
                (void) unlink(p);
                if (symlink(targets.v[i], p) < 0)
                        logf_("Failed creating symlink %s: %m", p);
        }
}

/* ---- podman version ---- */

static int detect_podman_version(unsigned *ret) {
        int pipefd[2];
        pid_t pid;
        char buf[256];
        ssize_t n;
        size_t off = 0;
        int status;
        const char *podman = getenv("PODMAN");

        if (!podman || !podman[0])
                podman = PODMAN_BINARY;
        if (access(podman, X_OK) < 0)
                return -ENOENT;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (dup2(pipefd[1], 1) < 0 || (null >= 0 && dup2(null, 2) < 0))
                        _exit(127);
                execl(podman, podman, "--version", (char *) NULL);
                _exit(127);
        }
        safe_close(pipefd[1]);
        while (off < sizeof buf - 1 && (n = read(pipefd[0], buf + off, sizeof buf - 1 - off)) > 0)
                off += (size_t) n;
        buf[off] = 0;
        safe_close(pipefd[0]);
        (void) waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        return quadlet_parse_podman_version(buf, ret);
}

/* ---- main ---- */

static int path_exists(const char *path, void *userdata) {
        return access(path, F_OK) == 0;
}

static void help(void) {
        printf("%s [-user] [-dryrun] [-no-kmsg-log] [-v] [-version] [--podman-version X.Y] OUTPUT-DIR [...]\n\n"
               "Generates systemd units from Quadlet files (podman 5.4 semantics).\n",
               argv0);
}

static int parse_argv(int argc, char *argv[]) {
        int i;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *opt;
                const char *val = NULL;

                if (a[0] != '-' || streq(a, "-"))
                        break;
                if (streq(a, "--")) {
                        i++;
                        break;
                }
                opt = a + 1 + (a[1] == '-');
                {
                        const char *eq = strchr(opt, '=');
                        static char name[64];
                        if (eq) {
                                snprintf(name, sizeof name, "%.*s", (int) (eq - opt), opt);
                                val = eq + 1;
                                opt = name;
                        }
                }
#define BOOLOPT(n, var)                                                                              \
        if (streq(opt, n)) {                                                                         \
                var = !val || streq(val, "true") || streq(val, "1");                                 \
                continue;                                                                            \
        }
                BOOLOPT("user", arg_user);
                BOOLOPT("dryrun", arg_dryrun);
                BOOLOPT("no-kmsg-log", arg_no_kmsg);
                BOOLOPT("v", arg_verbose);
                if (streq(opt, "version")) {
                        printf("5.4.2 (unroot-quadlet %s)\n", PACKAGE_VERSION);
                        return 0;
                }
                if (streq(opt, "h") || streq(opt, "help")) {
                        help();
                        return 0;
                }
                if (streq(opt, "podman-version")) {
                        int r;
                        if (!val) {
                                if (i + 1 >= argc) {
                                        fprintf(stderr, "flag needs an argument: -podman-version\n");
                                        return -EINVAL;
                                }
                                val = argv[++i];
                        }
                        r = quadlet_parse_podman_version(val, &arg_podman_version);
                        if (r < 0) {
                                fprintf(stderr, "invalid value \"%s\" for flag -podman-version: expected X.Y\n", val);
                                return -EINVAL;
                        }
                        continue;
                }
                fprintf(stderr, "flag provided but not defined: %s\n", a);
                return -EINVAL;
        }
        if (i < argc)
                arg_output = argv[i];
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_strv_ Strv dirs = {}, seen = {};
        QuadletUnitsInfo info = {};
        Units units = {};
        Strv *listings = NULL;
        size_t n_listings = 0;
        const char *prg;
        int r;

        argv0 = argv[0];
        prg = strrchr(argv0, '/');
        prg = prg ? prg + 1 : argv0;
        arg_user = strstr(prg, "user");

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if (arg_dryrun)
                arg_no_kmsg = true;

        if (!arg_dryrun && !arg_output) {
                logf_("missing output directory argument");
                return -EINVAL;
        }
        if (!arg_dryrun)
                debugf("Starting quadlet-generator, output to: %s", arg_output);

        if (arg_podman_version == 0) {
                if (detect_podman_version(&arg_podman_version) < 0)
                        arg_podman_version = QUADLET_PODMAN_VERSION_DEFAULT;
        }
        if (arg_podman_version > QUADLET_PODMAN_VERSION_DEFAULT)
                arg_podman_version = QUADLET_PODMAN_VERSION_DEFAULT; /* newer podman runs 5.4 units */
        if (arg_podman_version < QUADLET_PODMAN_VERSION_MIN) {
                logf_("podman %u.%u is not supported, the oldest supported version is 4.3", arg_podman_version / 100,
                      arg_podman_version % 100);
                return -EINVAL;
        }

        r = get_unit_dirs(&dirs);
        if (r < 0)
                return r;
        listings = calloc(MAX(dirs.n, (size_t) 1), sizeof(Strv));
        if (!listings) {
                r = -ENOMEM;
                goto finish;
        }
        n_listings = dirs.n;
        r = load_units(&dirs, listings, &units, &seen);
        if (r < 0)
                goto finish;

        if (units.n == 0) {
                _cleanup_buf_ Buf b = {};
                buf_putc(&b, '[');
                for (size_t i = 0; i < dirs.n; i++)
                        buf_printf(&b, "%s%s", i ? " " : "", dirs.v[i]);
                buf_putc(&b, ']');
                debugf("No files parsed from %s", b.s ? b.s : "[]");
                goto finish;
        }

        for (size_t i = 0; i < units.n; i++) {
                r = load_dropins(units.v[i], &dirs, listings);
                if (r < 0)
                        goto finish;
        }

        if (!arg_dryrun) {
                r = mkdir_p(arg_output);
                if (r < 0) {
                        report_error("mkdir %s: %s", arg_output, strerror(-r));
                        goto finish;
                }
        }

        quadlet_sort_units(units.v, units.n);
        for (size_t i = 0; i < units.n; i++) {
                r = quadlet_units_info_add(&info, units.v[i]);
                if (r < 0)
                        goto finish;
        }

        {
                const char *podman = getenv("PODMAN");
                QuadletContext ctx = {
                        .is_user = arg_user,
                        .podman_version = arg_podman_version,
                        .podman = podman && podman[0] ? podman : PODMAN_BINARY,
                        .units = &info,
                        .path_exists = path_exists,
                };

                for (size_t i = 0; i < units.n; i++) {
                        _cleanup_unit_file_ UnitFile *service = NULL;
                        _cleanup_strv_ Strv warnings = {};
                        _cleanup_free_ char *err = NULL;

                        r = quadlet_convert(units.v[i], &ctx, &service, &warnings, &err);
                        for (size_t w = 0; w < warnings.n; w++) {
                                if (startswith(warnings.v[w], "Warning: "))
                                        logf_("%s", warnings.v[w]);
                                else
                                        logf_("converting \"%s\": %s", units.v[i]->filename, warnings.v[w]);
                        }
                        if (r == -ENOMEM)
                                goto finish;
                        if (r < 0) {
                                report_error("converting \"%s\": %s", units.v[i]->filename, strempty(err));
                                continue;
                        }
                        if (arg_dryrun) {
                                _cleanup_free_ char *data = NULL;
                                r = unit_file_to_string(service, &data);
                                if (r < 0)
                                        goto finish;
                                printf("---%s---\n%s\n", service->filename, data);
                                continue;
                        }
                        r = write_service(service);
                        if (r < 0) {
                                report_error("generating service file %s/%s: %s", arg_output, service->filename,
                                             strerror(-r));
                        }
                        enable_service(service);
                }
        }
        r = 0;

finish:
        fflush(stdout);
        units_done(&units);
        quadlet_units_info_done(&info);
        for (size_t i = 0; i < n_listings; i++)
                strv_done(&listings[i]);
        free(listings);
        if (r == -ENOMEM || reported.oom) {
                logf_("out of memory");
                strv_done(&reported);
                return -ENOMEM;
        }
        if (reported.n > 0) {
                _cleanup_buf_ Buf b = {};
                for (size_t i = 0; i < reported.n; i++)
                        buf_printf(&b, "%s%s", i ? "\n" : "", reported.v[i]);
                logf_("%s", b.s ? b.s : "");
                strv_done(&reported);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        if (kmsg)
                fclose(kmsg);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
