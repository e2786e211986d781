/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering: Quadlet sources → owned unit files in the account's user unit directory. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-render.h"
#include "fileio.h"
#include "macro.h"
#include "quadlet.h"

static void entry_done(RenderEntry *e) {
        free(e->path);
        free(e->content);
        free(e->source);
}

void render_plan_done(RenderPlan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                entry_done(&p->entries[i]);
        free(p->entries);
        strv_done(&p->keep);
        strv_done(&p->errors);
        *p = (RenderPlan) {};
}

static int plan_add(RenderPlan *p, const char *path, char *content, bool symlink, const char *source, int order) {
        RenderEntry *n = reallocarray(p->entries, p->n + 1, sizeof(RenderEntry));

        if (!n) {
                free(content);
                return -ENOMEM;
        }
        p->entries = n;
        n[p->n] = (RenderEntry) {
                .path = strdup(path),
                .content = content,
                .symlink = symlink,
                .source = strdup(strempty(source)),
                .order = order,
        };
        p->n++;
        if (!n[p->n - 1].path || !n[p->n - 1].source || !content)
                return -ENOMEM;
        return 0;
}

/* A container's or pod's id file left behind by an unclean stop (the user manager's stop timeout
 * killed podman before ExecStopPost's `rm -f`, e.g. on `systemctl restart user@UID` with a slow
 * container) makes every later start fail on podman 4.3: "container id file exists" even with
 * --replace (seen in the test bed). The agent's units remove their own id file before creating the
 * container or pod. Only the agent's rendering does this: unroot-quadlet's output stays podman's. */
void render_guard_stale_id_files(UnitFile *service) {
        /* The container's own id file is on ExecStart=, the pod's on its `pod create` ExecStartPre=;
         * a pod member names the pod's file on ExecStart= too, so for members only --cidfile counts. */
        const char *start = unit_file_lookup_last_raw(service, "Service", "ExecStart");
        const char *pre = unit_file_lookup_last_raw(service, "Service", "ExecStartPre");

        if (start && strstr(start, "--cidfile=%t/%N.cid"))
                unit_file_prepend_line(service, "Service", "ExecStartPre", "-/bin/rm -f %t/%N.cid");
        else if (pre && strstr(pre, " pod create ") && strstr(pre, "--pod-id-file=%t/%N.pod-id"))
                unit_file_prepend_line(service, "Service", "ExecStartPre", "-/bin/rm -f %t/%N.pod-id");
}

/* The service file name a quadlet file renders to, from its file name alone (used when the source
 * could not even be parsed). */
static int service_name_of(const char *filename, char **ret) {
        _cleanup_unit_file_ UnitFile *u = unit_file_new();
        QuadletUnitsInfo info = {};
        int r;

        if (!u || !(u->filename = strdup(filename)))
                return -ENOMEM;
        r = quadlet_units_info_add(&info, u);
        if (r >= 0) {
                *ret = strdup_printf("%s.service", info.items[0]->service_name);
                r = *ret ? 0 : -ENOMEM;
        }
        quadlet_units_info_done(&info);
        return r;
}

/* Start order: quadlet_unit_type_order() (images, then networks and volumes, then builds, then
 * containers), except that a pod starts before its members, while it is converted after them. */
static int start_order(const char *filename) {
        QuadletUnitType t = quadlet_unit_type_from_filename(filename);

        if (t == QUADLET_POD)
                return 2 * quadlet_unit_type_order(QUADLET_CONTAINER) - 1;
        return 2 * quadlet_unit_type_order(t);
}

int render_plan(const QuadletSourcesOptions *o, unsigned podman_version, RenderPlan *ret) {
        _cleanup_quadlet_sources_ QuadletSources s = {};
        RenderPlan p = {};
        QuadletUnitsInfo info = {};
        int r;

        r = quadlet_sources_load(o, &s);
        if (r < 0)
                return r;
        strv_extend(&p.errors, &s.errors);
        /* A source that failed to load keeps its last rendered unit. */
        for (size_t i = 0; i < s.failed.n; i++) {
                char *svc = NULL;
                if (service_name_of(s.failed.v[i], &svc) >= 0)
                        strv_consume(&p.keep, svc);
        }

        quadlet_sort_units(s.units, s.n_units);
        for (size_t i = 0; i < s.n_units; i++) {
                r = quadlet_units_info_add(&info, s.units[i]);
                if (r < 0)
                        goto finish;
        }

        QuadletContext ctx = {
                .is_user = o->user,
                .podman_version = podman_version,
                .units = &info,
        };
        for (size_t i = 0; i < s.n_units; i++) {
                const UnitFile *u = s.units[i];
                _cleanup_unit_file_ UnitFile *service = NULL;
                _cleanup_strv_ Strv links = {}, targets = {};
                _cleanup_free_ char *err = NULL, *hdr = NULL;
                char *data = NULL;
                int order = start_order(u->filename);

                r = quadlet_convert(u, &ctx, &service, NULL, &err);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0) {
                        QuadletUnitInfo *ui = quadlet_units_info_find(&info, u->filename);
                        strv_addf(&p.errors, "converting \"%s\": %s", u->filename, strempty(err));
                        if (ui)
                                strv_addf(&p.keep, "%s.service", ui->service_name);
                        continue;
                }
                render_guard_stale_id_files(service);
                /* The marker goes where podman puts its "Automatically generated" line. */
                hdr = strdup_printf("Generated by unroot-agent from %s; edits are overwritten", strempty(u->path));
                if (!hdr) {
                        r = -ENOMEM;
                        goto finish;
                }
                unit_file_prepend_comment(service, "");
                unit_file_prepend_comment(service, hdr);
                r = unit_file_to_string(service, &data);
                if (r >= 0)
                        r = plan_add(&p, service->filename, data, false, u->path, order);
                if (r >= 0)
                        r = quadlet_install_symlinks(service, &links, &targets, NULL);
                for (size_t k = 0; r >= 0 && k < links.n; k++)
                        r = plan_add(&p, links.v[k], strdup(targets.v[k]), true, u->path, order);
                if (r < 0)
                        goto finish;
        }
        r = strv_error(&p.errors) ?: strv_error(&p.keep);

finish:
        quadlet_units_info_done(&info);
        if (r < 0) {
                render_plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* ---- diff ---- */

void render_diff_done(RenderDiff *d) {
        if (!d)
                return;
        strv_done(&d->added);
        strv_done(&d->changed);
        strv_done(&d->unchanged);
        strv_done(&d->removed);
        strv_done(&d->kept);
        strv_done(&d->conflicts);
        strv_done(&d->restart);
        strv_done(&d->manifest);
}

static char *unitdir_path(const char *root, const char *unitdir) {
        if (!root || !root[0] || streq(root, "/"))
                return strdup(unitdir);
        return strdup_printf("%s/%s", root, unitdir);
}

/* A manifest line must stay inside the unit dir. */
static bool owned_path_ok(const char *p) {
        return p[0] && p[0] != '/' && !strstr(p, "..") && !streq(p, RENDER_MANIFEST);
}

int render_manifest_read(const char *root, const char *unitdir, Strv *ret) {
        _cleanup_free_ char *dir = unitdir_path(root, unitdir), *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t cap = 0;
        ssize_t k;
        int fd;

        if (!dir || !(path = strdup_printf("%s/%s", dir, RENDER_MANIFEST)))
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -errno;
        }
        while ((k = getline(&line, &cap, f)) > 0) {
                if (line[k - 1] == '\n')
                        line[k - 1] = 0;
                if (owned_path_ok(line) && !strv_has(ret, line))
                        strv_add(ret, line);
        }
        return strv_error(ret);
}

static const RenderEntry *plan_find(const RenderPlan *p, const char *path) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->entries[i].path, path))
                        return &p->entries[i];
        return NULL;
}

/* Opens the directory holding rel below dfd (creating it if create) without following symlinks in
 * any component: the agent never follows a symlink it did not create. *ret_base is the last
 * component. */
static int open_parent(int dfd, const char *rel, bool create, int *ret_fd, const char **ret_base) {
        _cleanup_free_ char *copy = strdup(rel);
        _cleanup_close_ int cur = -EBADF;
        char *p, *slash;

        if (!copy)
                return -ENOMEM;
        cur = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        p = copy;
        while ((slash = strchr(p, '/'))) {
                int nfd;
                *slash = 0;
                if (create && mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                nfd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (nfd < 0)
                        return -errno;
                close(cur);
                cur = nfd;
                p = slash + 1;
        }
        *ret_base = rel + (p - copy);
        *ret_fd = TAKE_FD(cur);
        return 0;
}

/* 1 if the entry on disk matches e, 0 if it differs or is missing, < 0 on error. */
static int entry_matches(int top, const RenderEntry *e) {
        _cleanup_close_ int dfd = -EBADF;
        const char *base = NULL;
        struct stat st;
        int r;

        /* A missing or symlinked parent directory means "differs"; apply then refuses the symlink. */
        r = open_parent(top, e->path, false, &dfd, &base);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (e->symlink) {
                char buf[4096];
                ssize_t n;
                if (!S_ISLNK(st.st_mode))
                        return 0;
                n = readlinkat(dfd, base, buf, sizeof(buf) - 1);
                if (n < 0)
                        return -errno;
                buf[n] = 0;
                return streq(buf, e->content);
        }
        if (!S_ISREG(st.st_mode) || (size_t) st.st_size != strlen(e->content))
                return 0;
        {
                _cleanup_close_ int fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                _cleanup_free_ char *buf = NULL;
                size_t len = strlen(e->content), off = 0;
                if (fd < 0)
                        return -errno;
                buf = malloc(len + 1);
                if (!buf)
                        return -ENOMEM;
                while (off <= len) {
                        ssize_t n = read(fd, buf + off, len + 1 - off);
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                break;
                        off += (size_t) n;
                }
                return off == len && memcmp(buf, e->content, len) == 0;
        }
}

/* Whether an owned path belongs to a unit kept as it is (its file, or a symlink pointing to it). */
static bool is_kept(int dfd, const Strv *keep, const char *path) {
        const char *base = strrchr(path, '/');
        char buf[4096];
        ssize_t n;

        if (strv_has(keep, base ? base + 1 : path))
                return true;
        {
                _cleanup_close_ int pfd = -EBADF;
                const char *name = NULL;
                if (dfd < 0 || open_parent(dfd, path, false, &pfd, &name) < 0)
                        return false;
                n = readlinkat(pfd, name, buf, sizeof(buf) - 1);
        }
        if (n < 0)
                return false;
        buf[n] = 0;
        base = strrchr(buf, '/');
        return strv_has(keep, base ? base + 1 : buf);
}

static int order_cmp(const void *a, const void *b) {
        const RenderEntry *x = *(const RenderEntry *const *) a, *y = *(const RenderEntry *const *) b;
        return x->order != y->order ? (x->order < y->order ? -1 : 1) : strcmp(x->path, y->path);
}

int render_diff(const char *root, const char *unitdir, const RenderPlan *plan, const Strv *manifest,
                RenderDiff *ret) {
        _cleanup_free_ char *dir = unitdir_path(root, unitdir);
        _cleanup_free_ const RenderEntry **starts = NULL;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_strv_ Strv blocked = {};
        RenderDiff d = {};
        size_t n_starts = 0;
        int r = 0;

        if (!dir)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0 && errno != ENOENT)
                return -errno;
        starts = calloc(plan->n + 1, sizeof(RenderEntry *));
        if (!starts)
                return -ENOMEM;

        for (size_t i = 0; i < plan->n; i++) {
                const RenderEntry *e = &plan->entries[i];
                bool owned = strv_has(manifest, e->path);
                struct stat st;

                /* A unit we may not write gets no [Install] links either: they would enable the
                 * foreign file of the same name. (The plan lists a service before its links.) */
                if (e->symlink && strv_has(&blocked, e->source))
                        continue;
                if (!owned) {
                        _cleanup_close_ int pfd = -EBADF;
                        const char *name = NULL;
                        /* Anything already at that path (or a parent that is not a plain
                         * directory) is not ours: a conflict, never overwritten. */
                        r = dfd >= 0 ? open_parent(dfd, e->path, false, &pfd, &name) : -ENOENT;
                        if (r == -ENOMEM)
                                goto fail;
                        if ((r < 0 && r != -ENOENT) || (r >= 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0)) {
                                strv_addf(&d.conflicts,
                                          "'%s/%s' exists and was not written by unroot-agent, not overwriting it",
                                          dir, e->path);
                                if (!e->symlink)
                                        strv_add(&blocked, e->source);
                                continue;
                        }
                        strv_add(&d.added, e->path);
                } else {
                        r = dfd >= 0 ? entry_matches(dfd, e) : 0;
                        if (r < 0)
                                goto fail;
                        strv_add(r ? &d.unchanged : &d.changed, e->path);
                        if (r) {
                                strv_add(&d.manifest, e->path);
                                continue;
                        }
                }
                strv_add(&d.manifest, e->path);
                if (!e->symlink)
                        starts[n_starts++] = e;
        }
        for (size_t i = 0; i < manifest->n; i++) {
                const char *m = manifest->v[i];
                if (plan_find(plan, m))
                        continue;
                if (is_kept(dfd, &plan->keep, m)) {
                        strv_add(&d.kept, m);
                        strv_add(&d.manifest, m);
                } else
                        strv_add(&d.removed, m);
        }
        if (n_starts > 0)
                qsort(starts, n_starts, sizeof(RenderEntry *), order_cmp);
        for (size_t i = 0; i < n_starts; i++)
                strv_add(&d.restart, starts[i]->path);

        r = strv_error(&d.added) ?: strv_error(&d.changed) ?: strv_error(&d.unchanged) ?: strv_error(&d.removed)
                ?: strv_error(&d.kept) ?: strv_error(&d.conflicts) ?: strv_error(&d.restart)
                ?: strv_error(&d.manifest) ?: strv_error(&blocked);
        if (r < 0)
                goto fail;
        *ret = d;
        return 0;
fail:
        render_diff_done(&d);
        return r;
}

/* ---- apply ---- */

/* Replaces dfd/name by a regular file (content) or a symlink, atomically (temp + rename). */
static int replace_at(int dfd, const char *name, const char *content, bool symlink, bool do_fsync) {
        _cleanup_free_ char *tmp = strdup_printf(".#%s.unroot-agent.%d", name, (int) getpid());
        int r;

        if (!tmp)
                return -ENOMEM;
        (void) unlinkat(dfd, tmp, 0);
        if (symlink) {
                if (symlinkat(content, dfd, tmp) < 0)
                        return -errno;
        } else {
                _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return -errno;
                r = write_all(fd, content, strlen(content));
                if (r >= 0 && do_fsync && fsync(fd) < 0)
                        r = -errno;
                if (r < 0) {
                        (void) unlinkat(dfd, tmp, 0);
                        return r;
                }
        }
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static int write_entry(int dfd, const RenderEntry *e) {
        _cleanup_close_ int pfd = -EBADF;
        const char *base = NULL;
        struct stat st;
        int r;

        r = open_parent(dfd, e->path, true, &pfd, &base);
        if (r < 0)
                return r;
        /* An owned path that became a directory is not ours to replace. */
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode))
                return -EISDIR;
        return replace_at(pfd, base, e->content, e->symlink, false);
}

static int remove_entry(int dfd, const char *path) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int pfd = -EBADF;
        const char *slash = strrchr(path, '/'), *base = NULL;
        struct stat st;
        int r;

        r = open_parent(dfd, path, false, &pfd, &base);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
                return -EISDIR;
        if (unlinkat(pfd, base, 0) < 0)
                return -errno;
        /* Drop a now empty .wants/.requires directory; fails harmlessly if not empty. */
        if (slash && (parent = strndup(path, (size_t) (slash - path))))
                (void) unlinkat(dfd, parent, AT_REMOVEDIR);
        return 0;
}

/* Writes the manifest (temp + fsync + rename, then fsync of the directory). */
static int manifest_write(int dfd, const Strv *a, const Strv *b) {
        _cleanup_buf_ Buf m = {};
        int r;

        for (size_t i = 0; i < a->n; i++)
                buf_printf(&m, "%s\n", a->v[i]);
        for (size_t i = 0; b && i < b->n; i++)
                buf_printf(&m, "%s\n", b->v[i]);
        if (m.oom)
                return -ENOMEM;
        r = replace_at(dfd, RENDER_MANIFEST, m.s ? m.s : "", false, true);
        if (r < 0)
                return r;
        return fsync(dfd) < 0 ? -errno : 0;
}

int render_apply(const char *root, const char *unitdir, const RenderPlan *plan, const RenderDiff *diff) {
        _cleanup_free_ char *dir = unitdir_path(root, unitdir);
        _cleanup_close_ int dfd = -EBADF;
        bool changed = false;
        int r;

        if (!dir)
                return -ENOMEM;
        if (diff->added.n > 0) {
                r = quadlet_mkdir_p(dir); /* the account's own ~/.config/systemd/user */
                if (r < 0)
                        return r;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT && diff->removed.n == 0 ? 0 : -errno;
        /* Claim new paths before creating them: a crash in between must not leave files the next
         * run would take for someone else's (a conflict). Old owned paths stay listed until the
         * final manifest below. */
        if (diff->added.n > 0) {
                r = manifest_write(dfd, &diff->manifest, &diff->removed);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < plan->n; i++) {
                const RenderEntry *e = &plan->entries[i];
                if (!strv_has(&diff->added, e->path) && !strv_has(&diff->changed, e->path))
                        continue;
                r = write_entry(dfd, e);
                if (r < 0)
                        return r;
                changed = true;
        }
        for (size_t i = 0; i < diff->removed.n; i++) {
                r = remove_entry(dfd, diff->removed.v[i]);
                if (r < 0)
                        return r;
                changed = true;
        }
        if (!changed)
                return 0;
        r = manifest_write(dfd, &diff->manifest, NULL);
        return r < 0 ? r : 1;
}
