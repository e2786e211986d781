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

static bool sorted_has(const Strv *s, const char *name) {
        return s->n > 0 && bsearch(&name, s->v, s->n, sizeof(char *), name_cmp);
}

static void sort_names(Strv *s) {
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(char *), name_cmp);
}

/* A directory's entries, sorted like Go's os.ReadDir. The walk reads every search directory once
 * and keeps the listing: the quadlet files and the drop-in directories are then looked up in it
 * instead of listing each directory two or three times. */
typedef struct Listing {
        Strv names;
        Strv subdirs;    /* the names d_type says are directories */
        Strv maybe_dirs; /* symlinks, and names d_type knows nothing about: only stat() can tell */
        bool ok;         /* false if the directory could not be read */
} Listing;

static void listing_done(Listing *l) {
        strv_done(&l->names);
        strv_done(&l->subdirs);
        strv_done(&l->maybe_dirs);
        l->ok = false;
}

/* getdents64() on the fd the caller has already fstat()ed: fdopendir() would fstat() it again and
 * check its flags, and opendir() would open it a second time. */
static int read_dir_fd(int fd, Listing *ret) {
        union {
                struct dirent64 de;
                char buf[32768];
        } u;
        _cleanup_(listing_done) Listing l = {};

        for (;;) {
                ssize_t n = getdents64(fd, u.buf, sizeof u.buf);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (u.buf + off);

                        off += de->d_reclen;
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        strv_add(&l.names, de->d_name);
                        if (de->d_type == DT_DIR)
                                strv_add(&l.subdirs, de->d_name);
                        else if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN)
                                strv_add(&l.maybe_dirs, de->d_name);
                }
        }
        if (strv_error(&l.names) || strv_error(&l.subdirs) || strv_error(&l.maybe_dirs))
                return -ENOMEM;
        sort_names(&l.names);
        sort_names(&l.subdirs);
        sort_names(&l.maybe_dirs);
        l.ok = true;
        *ret = l;
        l = (Listing) {};
        return 0;
}

static int read_dir_path(const char *path, Listing *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return read_dir_fd(fd, ret);
}

/* The search directories in precedence order, each with its listing when the caller wants them
 * (listings is then parallel to dirs->v). */
typedef struct Walk {
        Strv *dirs;
        bool keep_listings;
        Listing *listings;
        size_t n_listings; /* == dirs->n unless out of memory */
        Seen seen;
} Walk;

static void walk_done(Walk *w) {
        for (size_t i = 0; i < w->n_listings; i++)
                listing_done(&w->listings[i]);
        free(w->listings);
        free(w->seen.dev);
        free(w->seen.ino);
        *w = (Walk) {};
}

static void walk_add(Walk *w, const char *path) {
        size_t n = w->dirs->n;

        if (w->keep_listings) {
                Listing *nl = reallocarray(w->listings, n + 1, sizeof(Listing));
                if (!nl) {
                        w->dirs->oom = true;
                        return;
                }
                w->listings = nl;
        }
        strv_add(w->dirs, path);
        if (w->keep_listings && w->dirs->n > n)
                w->listings[w->n_listings++] = (Listing) {};
}

typedef bool (*DirFilter)(const char *path);

/* Adds path and its subdirectories, depth first in name order (filepath.WalkDir). Symlinks are
 * resolved, each directory is visited once. is_subdir: path is a subdirectory (d_type says so) of
 * a directory that is resolved already, so it is its own realpath(); the walk of its parent would
 * have skipped it if it can't be stat()ed. */
static void walk_dirs(const Ctx *c, Walk *w, const char *path, bool is_subdir, DirFilter filter) {
        _cleanup_(listing_done) Listing l = {};
        _cleanup_close_ int fd = -EBADF;
        char buf[PATH_MAX];
        const char *resolved = path;
        struct stat st;
        size_t idx;

        if (!is_subdir && !realpath(path, buf))
                goto unresolved;
        if (!is_subdir)
                resolved = buf;
        /* The fd to list the directory with gives its dev/ino too. Without one (no read access),
         * the directory is still a search directory, just an empty one. */
        fd = open(resolved, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if ((fd >= 0 ? fstat(fd, &st) : stat(resolved, &st)) < 0 || !S_ISDIR(st.st_mode)) {
                if (is_subdir)
                        return;
                goto unresolved;
        }
        /* Filter before marking the directory visited: users/UID is skipped by the users/ walk
         * (numeric) but must still be found by its own walk right after, as upstream does. */
        if (filter && !filter(ctx_inside(c, resolved)))
                return;
        if (!seen_add(&w->seen, &st))
                return;
        idx = w->dirs->n;
        walk_add(w, resolved);
        if (fd < 0 || read_dir_fd(fd, &l) < 0)
                return;
        fd = safe_close(fd); /* one fd at a time, however deep the tree */

        /* subdirs and maybe_dirs are disjoint and sorted: merge them to keep the name order */
        for (size_t i = 0, j = 0; i < l.subdirs.n || j < l.maybe_dirs.n;) {
                bool dir = j >= l.maybe_dirs.n ||
                           (i < l.subdirs.n && strcmp(l.subdirs.v[i], l.maybe_dirs.v[j]) < 0);
                _cleanup_free_ char *sub = NULL;
                struct stat sst;

                if (dir) {
                        sub = strdup_printf("%s/%s", streq(resolved, "/") ? "" : resolved, l.subdirs.v[i++]);
                        if (sub)
                                walk_dirs(c, w, sub, true, filter);
                        continue;
                }
                sub = strdup_printf("%s/%s", resolved, l.maybe_dirs.v[j++]);
                if (!sub || stat(sub, &sst) < 0 || !S_ISDIR(sst.st_mode))
                        continue;
                walk_dirs(c, w, sub, false, filter);
        }
        if (idx < w->n_listings) {
                w->listings[idx] = l;
                l = (Listing) {};
        }
        return;

unresolved:
        /* Like upstream, keep the path anyway (for the "No files parsed" message). */
        if (!strv_has(w->dirs, path) && (!filter || filter(ctx_inside(c, path))))
                walk_add(w, path);
}

/* walk_dirs() on root + path. */
static void walk_rooted(const Ctx *c, Walk *w, const char *path, DirFilter filter) {
        _cleanup_free_ char *p = NULL;

        if (!c->root[0]) {
                walk_dirs(c, w, path, false, filter);
                return;
        }
        p = strdup_printf("%s%s", c->root, path);
        if (!p) {
                w->dirs->oom = true;
                return;
        }
        walk_dirs(c, w, p, false, filter);
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

static int get_unit_dirs(const Ctx *c, Walk *w) {
        const QuadletSourcesOptions *o = c->o;

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
                        walk_rooted(c, w, t, NULL);
                }
        } else if (o->user) {
                _cleanup_free_ char *conf = NULL, *run = NULL, *uid = NULL, *uid2 = NULL;

                if (o->xdg_runtime_dir && o->xdg_runtime_dir[0]) {
                        run = strdup_printf("%s/containers/systemd", o->xdg_runtime_dir);
                        if (run)
                                walk_rooted(c, w, run, NULL);
                }
                if (o->xdg_config_home && o->xdg_config_home[0])
                        conf = strdup_printf("%s/containers/systemd", o->xdg_config_home);
                else if (o->home)
                        conf = strdup_printf("%s/.config/containers/systemd", o->home);
                if (conf)
                        walk_rooted(c, w, conf, NULL);
                walk_rooted(c, w, "/etc/containers/systemd/users", filter_users_nonnumeric);
                uid = strdup_printf("/etc/containers/systemd/users/%u", (unsigned) o->uid);
                if (uid)
                        walk_rooted(c, w, uid, NULL);
                walk_rooted(c, w, "/usr/share/containers/systemd/users", filter_users_nonnumeric);
                uid2 = strdup_printf("/usr/share/containers/systemd/users/%u", (unsigned) o->uid);
                if (uid2)
                        walk_rooted(c, w, uid2, NULL);
        } else {
                walk_rooted(c, w, "/run/containers/systemd", filter_system);
                walk_rooted(c, w, "/etc/containers/systemd", filter_system);
                walk_rooted(c, w, "/usr/share/containers/systemd", filter_system);
        }
        return strv_error(w->dirs);
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

static int load_units(const Ctx *c, const Strv *dirs, const Listing *listings, QuadletSources *s, Strv *seen) {
        for (size_t d = 0; d < dirs->n; d++) {
                const Listing *l = &listings[d];

                if (!l->ok)
                        continue;
                for (size_t i = 0; i < l->names.n; i++) {
                        const char *name = l->names.v[i];
                        _cleanup_free_ char *path = NULL, *err = NULL;
                        UnitFile *f = NULL, **nv;
                        struct stat st;

                        /* names are unique within a directory: only later ones can repeat a name */
                        if (quadlet_unit_type_from_filename(name) < 0 || (d > 0 && strv_has(seen, name)))
                                continue;
                        /* Directories are skipped; only names d_type can't tell about cost a stat(). */
                        if (sorted_has(&l->subdirs, name))
                                continue;
                        path = strdup_printf("%s/%s", dirs->v[d], name);
                        if (!path)
                                return -ENOMEM;
                        if (sorted_has(&l->maybe_dirs, name) && (stat(path, &st) < 0 || S_ISDIR(st.st_mode)))
                                continue;
                        if (c->o->debug)
                                ctx_log(c, true, strdup_printf("Loading source unit file %s", path));
                        if (parse_file(path, &f, &err) < 0) {
                                ctx_error(c, "error loading \"%s\", %s", path, strempty(err));
                                strv_add(&s->failed, name);
                                continue;
                        }
                        strv_add(seen, name);
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

/* The listing of dir, from the walk if it visited dir under this very path (a drop-in directory is
 * a subdirectory of its search directory, so it usually did), else read now into *buf. */
static const Listing *dropin_listing(const Strv *dirs, const Listing *listings, const char *dir, Listing *buf) {
        for (size_t j = 0; j < dirs->n; j++)
                if (listings[j].ok && streq(dirs->v[j], dir))
                        return &listings[j];
        return read_dir_path(dir, buf) < 0 ? NULL : buf;
}

static int load_dropins(const Ctx *c, UnitFile *unit, const Strv *dirs, const Listing *listings) {
        _cleanup_strv_ Strv dnames = {}, names = {}, paths = {};
        int r;

        r = quadlet_dropin_dirs(unit->filename, &dnames);
        if (r < 0)
                return r;
        for (size_t s = 0; s < dirs->n; s++)
                for (size_t k = 0; k < dnames.n; k++) {
                        _cleanup_(listing_done) Listing buf = {};
                        _cleanup_free_ char *dir = NULL;
                        const Listing *files;

                        /* Only look into drop-in dirs the source dir listing has. Only a directory,
                         * a symlink or an entry of unknown type can be one: regular files, most of
                         * a listing, would fail to open as a directory anyway. */
                        if (!sorted_has(&listings[s].subdirs, dnames.v[k]) &&
                            !sorted_has(&listings[s].maybe_dirs, dnames.v[k]))
                                continue;
                        dir = strdup_printf("%s/%s", dirs->v[s], dnames.v[k]);
                        if (!dir)
                                return -ENOMEM;
                        files = dropin_listing(dirs, listings, dir, &buf);
                        if (!files)
                                continue;
                        for (size_t i = 0; i < files->names.n; i++) {
                                if (!endswith(files->names.v[i], ".conf") || strv_has(&names, files->names.v[i]))
                                        continue;
                                strv_add(&names, files->names.v[i]);
                                strv_addf(&paths, "%s/%s", dir, files->names.v[i]);
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
        _cleanup_(walk_done) Walk w = { .dirs = dirs };
        Ctx c;
        int r;

        r = ctx_init(&c, o, &errors);
        if (r >= 0)
                r = get_unit_dirs(&c, &w);
        free(c.root_resolved);
        return r;
}

int quadlet_sources_load(const QuadletSourcesOptions *o, QuadletSources *ret) {
        QuadletSources s = {};
        _cleanup_strv_ Strv seen = {};
        _cleanup_(walk_done) Walk w = { .dirs = &s.dirs, .keep_listings = true };
        Ctx c;
        int r;

        r = ctx_init(&c, o, &s.errors);
        if (r < 0)
                return r;
        r = get_unit_dirs(&c, &w);
        if (r < 0)
                goto finish;
        r = load_units(&c, &s.dirs, w.listings, &s, &seen);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < s.n_units; i++) {
                r = load_dropins(&c, s.units[i], &s.dirs, w.listings);
                if (r < 0)
                        goto finish;
        }
        r = strv_error(&s.errors) ?: strv_error(&s.failed);

finish:
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
        _cleanup_free_ char *parent = NULL;
        const char *slash;
        int r;

        /* Bottom up: the directory or its parent nearly always exists, and one mkdir() says so
         * where going top down would try every component from the root. The result and the
         * errors are the same either way. */
        if (mkdir(path, 0755) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        slash = strrchr(path, '/');
        if (!slash || slash == path)
                return -ENOENT;
        parent = strndup(path, slash - path);
        if (!parent)
                return -ENOMEM;
        r = quadlet_mkdir_p(parent);
        if (r < 0)
                return r;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
