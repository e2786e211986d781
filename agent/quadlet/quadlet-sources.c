/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quadlet source discovery (quadlet.md §0): search path, loading, drop-ins. Moved here from the
 * unroot-quadlet front end so that the agent renders from exactly the same set of sources. */

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "quadlet.h"
#include "quadlet-sources.h"

typedef struct Ctx {
        const QuadletSourcesOptions *o;
        const char *root;     /* "" for the real root, else the prefix as given (no trailing '/') */
        char *root_resolved;  /* realpath of root, NULL for the real root */
        Strv *errors;
} Ctx;

/* Takes ownership of m (a strdup_printf() result; NULL on OOM drops the message). */
static void ctx_log(const Ctx *c, bool debug, char *m) {
        if (m && c->o->log)
                c->o->log(c->o->userdata, debug, m);
        free(m);
}

#define ctx_error(c, ...) strv_addf((c)->errors, __VA_ARGS__)

/* The path as seen inside the root (for the filters that compare against absolute paths). */
static const char *ctx_inside(const Ctx *c, const char *p) {
        size_t n;

        if (c->root_resolved && startswith(p, c->root_resolved)) {
                n = strlen(c->root_resolved);
                if (p[n] == '/' || p[n] == 0)
                        return p[n] ? p + n : "/";
        }
        n = strlen(c->root);
        if (n > 0 && startswith(p, c->root) && (p[n] == '/' || p[n] == 0))
                return p[n] ? p + n : "/";
        return p;
}

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
static void walk_dirs(const Ctx *c, Strv *dirs, Seen *seen, const char *path, DirFilter filter) {
        _cleanup_strv_ Strv names = {}, maybe_dirs = {};
        char resolved[PATH_MAX];
        struct stat st;

        if (!realpath(path, resolved) || stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
                /* Like upstream, keep the path anyway (for the "No files parsed" message). */
                if (!strv_has(dirs, path) && (!filter || filter(ctx_inside(c, path))))
                        strv_add(dirs, path);
                return;
        }
        /* Filter before marking the directory visited: users/UID is skipped by the users/ walk
         * (numeric) but must still be found by its own walk right after, as upstream does. */
        if (filter && !filter(ctx_inside(c, resolved)))
                return;
        if (!seen_add(seen, &st))
                return;
        strv_add(dirs, resolved);
        if (read_dir_sorted_full(resolved, &names, &maybe_dirs) < 0)
                return;
        for (size_t i = 0; i < maybe_dirs.n; i++) {
                _cleanup_free_ char *sub = strdup_printf("%s/%s", resolved, maybe_dirs.v[i]);
                struct stat sst;
                if (!sub || stat(sub, &sst) < 0 || !S_ISDIR(sst.st_mode))
                        continue;
                walk_dirs(c, dirs, seen, sub, filter);
        }
}

/* walk_dirs() on root + path. */
static void walk_rooted(const Ctx *c, Strv *dirs, Seen *seen, const char *path, DirFilter filter) {
        _cleanup_free_ char *p = NULL;

        if (!c->root[0]) {
                walk_dirs(c, dirs, seen, path, filter);
                return;
        }
        p = strdup_printf("%s%s", c->root, path);
        if (!p) {
                dirs->oom = true;
                return;
        }
        walk_dirs(c, dirs, seen, p, filter);
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

static int get_unit_dirs(const Ctx *c, Strv *dirs) {
        const QuadletSourcesOptions *o = c->o;
        Seen seen = {};

        if (o->unit_dirs && o->unit_dirs[0]) {
                _cleanup_free_ char *copy = strdup(o->unit_dirs);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                        if (t[0] != '/') {
                                ctx_log(c, false, strdup_printf("%s not a valid file path", t));
                                break;
                        }
                        walk_rooted(c, dirs, &seen, t, NULL);
                }
        } else if (o->user) {
                _cleanup_free_ char *conf = NULL, *run = NULL, *uid = NULL, *uid2 = NULL;

                if (o->xdg_runtime_dir && o->xdg_runtime_dir[0]) {
                        run = strdup_printf("%s/containers/systemd", o->xdg_runtime_dir);
                        if (run)
                                walk_rooted(c, dirs, &seen, run, NULL);
                }
                if (o->xdg_config_home && o->xdg_config_home[0])
                        conf = strdup_printf("%s/containers/systemd", o->xdg_config_home);
                else if (o->home)
                        conf = strdup_printf("%s/.config/containers/systemd", o->home);
                if (conf)
                        walk_rooted(c, dirs, &seen, conf, NULL);
                walk_rooted(c, dirs, &seen, "/etc/containers/systemd/users", filter_users_nonnumeric);
                uid = strdup_printf("/etc/containers/systemd/users/%u", (unsigned) o->uid);
                if (uid)
                        walk_rooted(c, dirs, &seen, uid, NULL);
                walk_rooted(c, dirs, &seen, "/usr/share/containers/systemd/users", filter_users_nonnumeric);
                uid2 = strdup_printf("/usr/share/containers/systemd/users/%u", (unsigned) o->uid);
                if (uid2)
                        walk_rooted(c, dirs, &seen, uid2, NULL);
        } else {
                walk_rooted(c, dirs, &seen, "/run/containers/systemd", filter_system);
                walk_rooted(c, dirs, &seen, "/etc/containers/systemd", filter_system);
                walk_rooted(c, dirs, &seen, "/usr/share/containers/systemd", filter_system);
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
                /* grow only when little room is left: the read that sees EOF needs no more */
                if (b.cap - b.n < 1024 && !buf_reserve(&b, 4096))
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

static int load_units(const Ctx *c, const Strv *dirs, Strv *listings, QuadletSources *s, Strv *seen) {
        for (size_t d = 0; d < dirs->n; d++) {
                _cleanup_strv_ Strv maybe_dirs = {};

                if (read_dir_sorted_full(dirs->v[d], &listings[d], &maybe_dirs) < 0)
                        continue;
                const Strv names = listings[d]; /* borrowed */
                for (size_t i = 0; i < names.n; i++) {
                        _cleanup_free_ char *path = NULL, *err = NULL;
                        UnitFile *f = NULL, **nv;
                        struct stat st;

                        /* names are unique within a directory: only later ones can repeat a name */
                        if (quadlet_unit_type_from_filename(names.v[i]) < 0 || (d > 0 && strv_has(seen, names.v[i])))
                                continue;
                        path = strdup_printf("%s/%s", dirs->v[d], names.v[i]);
                        if (!path)
                                return -ENOMEM;
                        /* Directories are skipped; only names whose d_type may be one cost a stat(). */
                        if (maybe_dirs.n > 0 &&
                            bsearch(&names.v[i], maybe_dirs.v, maybe_dirs.n, sizeof(char *), name_cmp) &&
                            (stat(path, &st) < 0 || S_ISDIR(st.st_mode)))
                                continue;
                        if (c->o->debug)
                                ctx_log(c, true, strdup_printf("Loading source unit file %s", path));
                        if (parse_file(path, &f, &err) < 0) {
                                ctx_error(c, "error loading \"%s\", %s", path, strempty(err));
                                strv_add(&s->failed, names.v[i]);
                                continue;
                        }
                        strv_add(seen, names.v[i]);
                        nv = reallocarray(s->units, s->n_units + 1, sizeof(UnitFile *));
                        if (!nv) {
                                unit_file_free(f);
                                return -ENOMEM;
                        }
                        s->units = nv;
                        s->units[s->n_units++] = f;
                }
        }
        return strv_error(seen);
}

static int load_dropins(const Ctx *c, UnitFile *unit, const Strv *dirs, const Strv *listings) {
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
                                if (!endswith(files.v[i], ".conf") || strv_has(&names, files.v[i]))
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
                        if (c->o->debug)
                                ctx_log(c, true, strdup_printf("Loading source drop-in file %s", paths.v[best]));
                        if (parse_file(paths.v[best], &d, &err) < 0) {
                                ctx_error(c, "error loading \"%s\", %s", paths.v[best], strempty(err));
                        } else if (unit_file_merge(unit, d) < 0)
                                return -ENOMEM;
                }
                names.v[best][0] = 0;
        }
        return 0;
}

/* ---- API ---- */

static int ctx_init(Ctx *c, const QuadletSourcesOptions *o, Strv *errors) {
        *c = (Ctx) { .o = o, .root = "", .errors = errors };
        if (o->root && o->root[0] && !streq(o->root, "/")) {
                char resolved[PATH_MAX];
                c->root = o->root;
                if (realpath(o->root, resolved)) {
                        c->root_resolved = strdup(resolved);
                        if (!c->root_resolved)
                                return -ENOMEM;
                }
        }
        return 0;
}

void quadlet_sources_done(QuadletSources *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_units; i++)
                unit_file_free(s->units[i]);
        free(s->units);
        strv_done(&s->dirs);
        strv_done(&s->errors);
        strv_done(&s->failed);
        *s = (QuadletSources) {};
}

int quadlet_sources_dirs(const QuadletSourcesOptions *o, Strv *dirs) {
        _cleanup_strv_ Strv errors = {};
        Ctx c;
        int r;

        r = ctx_init(&c, o, &errors);
        if (r >= 0)
                r = get_unit_dirs(&c, dirs);
        free(c.root_resolved);
        return r;
}

int quadlet_sources_load(const QuadletSourcesOptions *o, QuadletSources *ret) {
        QuadletSources s = {};
        _cleanup_strv_ Strv seen = {};
        Strv *listings = NULL;
        size_t n_listings = 0;
        Ctx c;
        int r;

        r = ctx_init(&c, o, &s.errors);
        if (r < 0)
                return r;
        r = get_unit_dirs(&c, &s.dirs);
        if (r < 0)
                goto finish;
        listings = calloc(MAX(s.dirs.n, (size_t) 1), sizeof(Strv));
        if (!listings) {
                r = -ENOMEM;
                goto finish;
        }
        n_listings = s.dirs.n;
        r = load_units(&c, &s.dirs, listings, &s, &seen);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < s.n_units; i++) {
                r = load_dropins(&c, s.units[i], &s.dirs, listings);
                if (r < 0)
                        goto finish;
        }
        r = strv_error(&s.errors) ?: strv_error(&s.failed);

finish:
        for (size_t i = 0; i < n_listings; i++)
                strv_done(&listings[i]);
        free(listings);
        free(c.root_resolved);
        if (r < 0) {
                quadlet_sources_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* ---- small helpers shared with the writers ---- */

int quadlet_mkdir_p(const char *path) {
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
