/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration planner: root Quadlet files + host facts in, a plan out. No I/O here except
 * migrate_sources_load(), which only reads the source directory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "migrate-plan.h"
#include "migrate-rewrite.h"
#include "secret-policy.h"

#define QUADLET_DIR "/etc/containers/systemd"
#define EDITS_MAX 64

/* ---- sources ---- */

void migrate_sources_done(MigrateSources *s) {
        for (size_t i = 0; i < s->n; i++) {
                unit_file_free(s->files[i]);
                free(s->texts[i]);
        }
        free(s->files);
        free(s->texts);
        *s = (MigrateSources) {};
}

int migrate_sources_add(MigrateSources *s, const char *name, const char *text, ErrorInfo *e) {
        _cleanup_free_ char *err = NULL, *copy = NULL, *path = NULL;
        UnitFile *f = NULL;
        int r;

        path = strdup_printf("%s/%s", QUADLET_DIR, name);
        copy = strdup(text);
        if (!path || !copy)
                return -ENOMEM;
        r = unit_file_parse(text, strlen(text), path, &f, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(e, r, name, "%s: %s", path, err ?: "cannot be parsed");
        UnitFile **nf = reallocarray(s->files, s->n + 1, sizeof(UnitFile *));
        if (!nf) {
                unit_file_free(f);
                return -ENOMEM;
        }
        s->files = nf;
        char **nt = reallocarray(s->texts, s->n + 1, sizeof(char *));
        if (!nt) {
                unit_file_free(f);
                return -ENOMEM;
        }
        s->texts = nt;
        s->files[s->n] = f;
        s->texts[s->n] = TAKE_PTR(copy);
        s->n++;
        return 0;
}

static bool is_quadlet_name(const char *n) {
        return endswith(n, ".container") || endswith(n, ".pod") || endswith(n, ".volume") ||
                endswith(n, ".network") || endswith(n, ".image");
}

int migrate_sources_load(const char *root, MigrateSources *s, ErrorInfo *e) {
        _cleanup_free_ char *dir = strdup_printf("%s%s", root && !streq(root, "/") ? root : "", QUADLET_DIR);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0; /* no root Quadlet files at all: every SERVICE is unknown */
                return error_set(e, -errno, "root", "cannot read %s: %s", dir, strerror(errno));
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *text = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (de->d_name[0] == '.' || !is_quadlet_name(de->d_name))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return error_set(e, -errno, de->d_name, "cannot read %s/%s: %s", dir, de->d_name,
                                         strerror(errno));
                if (!S_ISREG(st.st_mode))
                        continue;
                if (st.st_size > 1024 * 1024)
                        return error_set(e, -EFBIG, de->d_name, "%s/%s is larger than 1 MiB", dir, de->d_name);
                text = calloc((size_t) st.st_size + 1, 1);
                if (!text)
                        return -ENOMEM;
                size_t got = 0;
                while (got < (size_t) st.st_size) {
                        ssize_t n = read(fd, text + got, (size_t) st.st_size - got);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return error_set(e, -errno, de->d_name, "cannot read %s/%s: %s", dir,
                                                 de->d_name, strerror(errno));
                        if (n == 0)
                                break;
                        got += (size_t) n;
                }
                text[got] = 0;
                r = migrate_sources_add(s, de->d_name, text, e);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return error_set(e, -errno, "root", "cannot read %s: %s", dir, strerror(errno));
        return 0;
}

static ssize_t source_find(const MigrateSources *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->files[i]->filename, name))
                        return (ssize_t) i;
        return -1;
}

/* ---- names ---- */

int migrate_service_name_check(const char *name, ErrorInfo *e) {
        size_t n = strlen(name);

        if (n == 0)
                return error_set(e, -EINVAL, "SERVICE", "SERVICE must not be empty");
        /* Room for the longest suffix the translator adds ("-network.service"); systemd's limit is 255. */
        if (n > 255 - STRLEN("-network.service"))
                return error_set(e, -EINVAL, "SERVICE", "SERVICE '%.40s...' is too long for a unit name", name);
        if (name[0] == '.' || name[0] == '-')
                return error_set(e, -EINVAL, "SERVICE", "SERVICE '%s' is not a valid unit name: it starts with '%c'",
                                 name, name[0]);
        for (const char *p = name; *p; p++) {
                bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        *p == '-' || *p == '_' || *p == '.' || *p == ':';
                if (*p == '@')
                        return error_set(e, -EINVAL, "SERVICE",
                                         "SERVICE '%s': templates (names with '@') are not migrated", name);
                if (!ok)
                        return error_set(e, -EINVAL, "SERVICE",
                                         "SERVICE '%s' is not a valid unit name: character '%c' is not allowed "
                                         "(letters, digits, ':', '-', '_', '.')",
                                         name, *p);
        }
        if (endswith(name, ".container") || endswith(name, ".pod") || endswith(name, ".service"))
                return error_set(e, -EINVAL, "SERVICE",
                                 "SERVICE '%s' has a suffix: give the base name of the Quadlet file", name);
        return 0;
}

char *migrate_unit_name(const UnitFile *f) {
        static const struct {
                const char *suffix, *group, *unit_suffix;
        } kinds[] = {
                { ".container", "Container", ".service" },
                { ".pod", "Pod", "-pod.service" },
                { ".volume", "Volume", "-volume.service" },
                { ".network", "Network", "-network.service" },
                { ".image", "Image", "-image.service" },
        };
        const char *n = f->filename;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                if (!endswith(n, kinds[i].suffix))
                        continue;
                _cleanup_free_ char *sn = unit_file_lookup(f, kinds[i].group, "ServiceName");
                if (sn && *sn)
                        return strdup_printf("%s.service", sn);
                return strdup_printf("%.*s%s", (int) (strlen(n) - strlen(kinds[i].suffix)), n,
                                     kinds[i].unit_suffix);
        }
        return NULL;
}

/* ---- the plan ---- */

void migrate_plan_free(MigratePlan *p) {
        if (!p)
                return;
        free(p->account);
        for (size_t i = 0; i < p->n_services; i++) {
                MigrateService *s = &p->services[i];
                free(s->name);
                strv_done(&s->units);
                strv_done(&s->root_files);
                strv_done(&s->techniques);
                strv_done(&s->host_changes);
        }
        free(p->services);
        for (size_t i = 0; i < p->n_files; i++) {
                free(p->files[i].service);
                free(p->files[i].name);
                free(p->files[i].root_path);
                free(p->files[i].unit);
                free(p->files[i].text);
        }
        free(p->files);
        for (size_t i = 0; i < p->n_shifts; i++) {
                free(p->shifts[i].service);
                free(p->shifts[i].file);
                free(p->shifts[i].source);
                free(p->shifts[i].host_path);
                free(p->shifts[i].target);
        }
        free(p->shifts);
        for (size_t i = 0; i < p->n_images; i++) {
                free(p->images[i].service);
                free(p->images[i].image);
                free(p->images[i].reason);
        }
        free(p->images);
        for (size_t i = 0; i < p->n_secrets; i++) {
                free(p->secrets[i].service);
                free(p->secrets[i].name);
                free(p->secrets[i].owner);
                free(p->secrets[i].group);
                free(p->secrets[i].how);
        }
        free(p->secrets);
        for (size_t i = 0; i < p->n_rewrites; i++) {
                MigrateRewrite *w = &p->rewrites[i];
                free(w->service);
                free(w->file);
                free(w->key);
                free(w->before);
                free(w->after);
                free(w->technique);
                free(w->reason);
        }
        free(p->rewrites);
        strv_done(&p->host_notes);
        for (size_t i = 0; i < p->n_blockers; i++) {
                free(p->blockers[i].service);
                free(p->blockers[i].field);
                free(p->blockers[i].reason);
                strv_done(&p->blockers[i].choices);
        }
        free(p->blockers);
        free(p);
}

/* Appends a zeroed element to *arr; NULL (and p->oom) on failure. */
static void *push(MigratePlan *p, void **arr, size_t *n, size_t size) {
        void *na = p->oom ? NULL : reallocarray(*arr, *n + 1, size);
        if (!na) {
                p->oom = true;
                return NULL;
        }
        *arr = na;
        memset((char *) na + *n * size, 0, size);
        return (char *) na + (*n)++ * size;
}
#define PUSH(p, arr, n) ((typeof(arr)) push((p), (void **) &(arr), &(n), sizeof(*(arr))))

static char *xstrdup(MigratePlan *p, const char *s) {
        char *c;

        if (!s)
                return NULL;
        c = strdup(s);
        if (!c)
                p->oom = true;
        return c;
}

static char *xprintf(MigratePlan *p, const char *fmt, ...) _printf_(2, 3);
static char *xprintf(MigratePlan *p, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0) {
                s = NULL;
                p->oom = true;
        }
        va_end(ap);
        return s;
}

static void add_unique(Strv *v, const char *s) {
        if (!strv_has(v, s))
                strv_add(v, s);
}

/* What one service's analysis accumulates; edits are per file (index into the plan's files). */
typedef struct Ctx {
        MigratePlan *plan;
        const MigrateSources *src;
        const MigrateFacts *facts;
        MigrateService *svc;
        const char *gateway;
        bool uses_gateway;
} Ctx;

typedef struct FileEdits {
        size_t file;    /* index into plan->files */
        ssize_t source; /* index into src */
        MigrateEdit edits[EDITS_MAX];
        size_t n; /* the edits point to literals, facts->bridge_gateway and nothing else */
} FileEdits;

static void technique(Ctx *c, const char *t) {
        add_unique(&c->svc->techniques, t);
}

static void host_change(Ctx *c, char *text) {
        if (!text) {
                c->plan->oom = true;
                return;
        }
        add_unique(&c->svc->host_changes, text);
        add_unique(&c->plan->host_notes, text);
        free(text);
}

static MigrateBlocker *blocker(Ctx *c, const char *field, char *reason) {
        MigrateBlocker *b = PUSH(c->plan, c->plan->blockers, c->plan->n_blockers);
        if (!b) {
                free(reason);
                return NULL;
        }
        b->service = xstrdup(c->plan, c->svc->name);
        b->field = xstrdup(c->plan, field);
        b->reason = reason;
        if (!reason)
                c->plan->oom = true;
        return b;
}

static void rewrite(Ctx *c, const char *file, const char *key, const char *before, const char *after,
                    const char *tech, const char *reason) {
        MigrateRewrite *w = PUSH(c->plan, c->plan->rewrites, c->plan->n_rewrites);
        if (!w)
                return;
        w->service = xstrdup(c->plan, c->svc->name);
        w->file = xstrdup(c->plan, file);
        w->key = xstrdup(c->plan, key);
        w->before = xstrdup(c->plan, before);
        w->after = xstrdup(c->plan, after);
        w->technique = xstrdup(c->plan, tech);
        w->reason = xstrdup(c->plan, reason);
        technique(c, tech);
}

static MigrateEdit *edit(Ctx *c, FileEdits *fe) {
        if (fe->n >= EDITS_MAX) {
                /* More than EDITS_MAX rewrites in one file is not a real Quadlet file. */
                c->plan->oom = true;
                return NULL;
        }
        fe->edits[fe->n] = (MigrateEdit) {};
        return &fe->edits[fe->n++];
}

static void set_line(Ctx *c, FileEdits *fe, const char *group, const char *key, const char *value, const char *tech,
                     const char *reason) {
        const UnitFile *f = c->src->files[fe->source];
        const char *prev = unit_file_lookup_last_raw(f, group, key);
        MigrateEdit *e;

        if (prev && streq(prev, value))
                return;
        e = edit(c, fe);
        if (!e)
                return;
        *e = (MigrateEdit) { .op = MIGRATE_EDIT_SET, .group = group, .key = key, .value = value,
                             .comment = reason };
        rewrite(c, f->filename, key, prev, value, tech, reason);
}

/* Rewrites the gateway address in every value of group/key; with: the replacement. */
static bool address_lines(Ctx *c, FileEdits *fe, const char *group, const char *key, const char *with,
                          const char *tech, const char *reason) {
        const UnitFile *f = c->src->files[fe->source];
        const UnitGroup *g = unit_file_find_group(f, group);
        bool any = false;

        if (!g)
                return false;
        for (size_t i = 0; i < g->n_lines; i++) {
                const UnitLine *l = g->lines[i];
                _cleanup_free_ char *nv = NULL;

                if (l->is_comment || !streq(l->key, key))
                        continue;
                int r = migrate_replace_address(l->value, c->gateway, with, &nv);
                if (r < 0)
                        c->plan->oom = true;
                if (r <= 0)
                        continue;
                rewrite(c, f->filename, key, l->value, nv, tech, reason);
                any = true;
        }
        if (any) {
                MigrateEdit *e = edit(c, fe);
                if (e)
                        *e = (MigrateEdit) { .op = MIGRATE_EDIT_ADDRESS, .group = group, .key = key,
                                             .addr = c->gateway, .with = with };
        }
        return any;
}

static bool network_is_default_bridge(const UnitFile *f, const char *group) {
        _cleanup_strv_ Strv nets = {};

        unit_file_lookup_all(f, group, "Network", &nets);
        if (nets.n == 0)
                return true;
        /* "bridge" and "podman" are root's default network; options after ':' do not change that. */
        for (size_t i = 0; i < nets.n; i++) {
                const char *n = nets.v[i];
                if (!(startswith(n, "bridge") && (n[6] == 0 || n[6] == ':')) &&
                    !(startswith(n, "podman") && (n[6] == 0 || n[6] == ':')))
                        return false;
        }
        return true;
}

static void plan_network(Ctx *c, FileEdits *fe, const char *group) {
        const UnitFile *f = c->src->files[fe->source];
        const MigrateFacts *fa = c->facts;
        bool pasta = fa->podman_major >= 5;

        if (!network_is_default_bridge(f, group))
                return;
        set_line(c, fe, group, "Network",
                 pasta ? "pasta:--map-gw" : "slirp4netns:allow_host_loopback=true", MIGRATE_T_HOST_LOOPBACK,
                 pasta ? "root's default bridge reached the host at the bridge gateway; rootless pasta with --map-gw "
                         "reaches the host's loopback as " MIGRATE_HOST_ALIAS
                       : "root's default bridge reached the host at the bridge gateway; rootless podman 4.x has no "
                         "bridge on the host: slirp4netns with allow_host_loopback reaches the host's loopback as "
                         MIGRATE_HOST_ALIAS);
}

static void plan_addresses(Ctx *c, FileEdits *fe, bool on_bridge) {
        static const char *const exec_keys[] = { "ExecStartPre", "ExecStartPost", "ExecStopPost", "ExecCondition" };
        bool used = false;

        if (on_bridge) {
                used |= address_lines(c, fe, "Container", "Environment", MIGRATE_HOST_ALIAS, MIGRATE_T_ADDRESS_REWRITE,
                                      "the root bridge gateway does not exist in a rootless network namespace; the "
                                      "host is " MIGRATE_HOST_ALIAS " there");
                used |= address_lines(c, fe, "Container", "HealthCmd", MIGRATE_HOST_ALIAS, MIGRATE_T_ADDRESS_REWRITE,
                                      "the health check runs in the container, where the host is " MIGRATE_HOST_ALIAS);
        }
        /* Service-level commands run on the host in the account's user manager, not in the container. */
        for (size_t i = 0; i < ELEMENTSOF(exec_keys); i++)
                used |= address_lines(c, fe, "Service", exec_keys[i], "127.0.0.1", MIGRATE_T_HOST_CHECK_LOOPBACK,
                                      "this check runs on the host, not in the container: it asks the host's "
                                      "loopback, where the rootless container reaches the service too");
        c->uses_gateway |= used;
}

/* Host port of a PublishPort value ("80:80", "127.0.0.1:9100:9100", "[::1]:53:53/udp", "8000-8010:80"),
 * 0 when podman picks one (a bare container port, or "ip::port"). */
static uint32_t publish_host_port(const char *v) {
        const char *s = v, *colon;
        _cleanup_strv_ Strv parts = {};
        char *end;

        if (*s == '[') { /* IPv6 address */
                s = strchr(s, ']');
                if (!s)
                        return 0;
                s++;
                if (*s == ':')
                        s++;
        }
        for (;;) {
                colon = strchr(s, ':');
                strv_addn(&parts, s, colon ? (size_t) (colon - s) : strlen(s));
                if (!colon)
                        break;
                s = colon + 1;
        }
        if (parts.oom)
                return 0;
        /* ip:host:ctr, host:ctr, ctr; after an IPv6 address only host:ctr remain */
        const char *host = parts.n >= 3 ? parts.v[parts.n - 2] : parts.n == 2 ? parts.v[0] : NULL;
        if (!host || !*host)
                return 0;
        unsigned long port = strtoul(host, &end, 10);
        if (end == host || port > 65535)
                return 0;
        return (uint32_t) port;
}

static void plan_ports(Ctx *c, FileEdits *fe, const char *group) {
        const UnitFile *f = c->src->files[fe->source];
        _cleanup_strv_ Strv ports = {};
        uint32_t start = c->facts->unprivileged_port_start;

        unit_file_lookup_all(f, group, "PublishPort", &ports);
        for (size_t i = 0; i < ports.n; i++) {
                uint32_t hp = publish_host_port(ports.v[i]);
                if (hp == 0 || hp >= 1024)
                        continue;
                if (hp >= start) {
                        technique(c, MIGRATE_T_UNPRIVILEGED_PORT_START);
                        host_change(c, xprintf(c->plan, "%s publishes host port %u: relies on "
                                               "net.ipv4.ip_unprivileged_port_start=%u (now set on this host)",
                                               f->filename, hp, start));
                        continue;
                }
                MigrateBlocker *b = blocker(c, "PublishPort",
                                            xprintf(c->plan, "%s: PublishPort=%s publishes host port %u, below "
                                                    "net.ipv4.ip_unprivileged_port_start (%u): a rootless container "
                                                    "cannot bind it, and the port is never changed silently",
                                                    f->filename, ports.v[i], hp, start));
                if (!b)
                        continue;
                strv_consume(&b->choices, xprintf(c->plan, "%s: allow it on the host: sysctl "
                                                  "net.ipv4.ip_unprivileged_port_start=%u (persist it in "
                                                  "/etc/sysctl.d/; a host change the admin approves)",
                                                  MIGRATE_T_UNPRIVILEGED_PORT_START, hp));
                strv_consume(&b->choices, xprintf(c->plan, "%s: publish another host port in the root file, "
                                                  "e.g. PublishPort=%u:%s, and point clients there",
                                                  MIGRATE_T_PORT_REMAP, 8000 + hp,
                                                  strchr(ports.v[i], ':') ? strrchr(ports.v[i], ':') + 1 : ports.v[i]));
        }
}

static void plan_image(Ctx *c, FileEdits *fe) {
        const UnitFile *f = c->src->files[fe->source];
        _cleanup_free_ char *v = unit_file_lookup(f, "Container", "Image"), *name = NULL;
        ssize_t k;

        if (!v || !*v)
                return;
        if (endswith(v, ".build")) {
                host_change(c, xprintf(c->plan, "%s: Image=%s is built by a .build unit: the account builds it again",
                                       f->filename, v));
                return;
        }
        if (endswith(v, ".image")) {
                k = source_find(c->src, v);
                name = k >= 0 ? unit_file_lookup(c->src->files[k], "Image", "Image") : NULL;
                if (!name)
                        return; /* the missing .image file is a blocker of its own (references) */
        } else
                name = TAKE_PTR(v);

        MigrateImageState st = c->facts->image_state ? c->facts->image_state(name, c->facts->ud) : MIGRATE_IMAGE_ABSENT;
        if (st == MIGRATE_IMAGE_ABSENT) {
                if (startswith(name, "localhost/"))
                        blocker(c, "Image", xprintf(c->plan, "%s: image '%s' is a localhost/ image but is not in "
                                                    "root's store: nothing to copy and nothing to pull",
                                                    f->filename, name));
                else
                        host_change(c, xprintf(c->plan, "%s: image '%s' is not in root's store: the account pulls "
                                               "it on the first start (needs the registry)", f->filename, name));
                return;
        }
        MigrateImage *im = PUSH(c->plan, c->plan->images, c->plan->n_images);
        if (!im)
                return;
        im->service = xstrdup(c->plan, c->svc->name);
        im->image = xstrdup(c->plan, name);
        im->pull_never = st == MIGRATE_IMAGE_ROOT_ONLY;
        im->reason = xstrdup(c->plan, im->pull_never
                             ? "only in root's store as far as an offline host can tell (localhost/, built or "
                               "loaded locally, or no registry assumed): copied with 'podman save' as root | "
                               "'podman load' as the account"
                             : "in root's store and pullable: copied anyway so the first start needs no registry");
        technique(c, MIGRATE_T_IMAGE_COPY);
        if (im->pull_never && !endswith(f->filename, ".image"))
                set_line(c, fe, "Container", "Pull", "never", MIGRATE_T_PULL_NEVER,
                         "the image exists only in the account's store after the copy: never ask a registry");
}

static bool under_roots(const char *path, char *const *roots) {
        for (char *const *r = roots; r && *r; r++) {
                size_t n = strlen(*r);
                while (n > 1 && (*r)[n - 1] == '/')
                        n--;
                if (strncmp(path, *r, n) == 0 && path[n] == '/' && path[n + 1])
                        return true;
        }
        return false;
}

static void add_shift(Ctx *c, const char *file, MigrateShiftKind kind, const char *source, const char *host_path,
                      const char *target) {
        for (size_t i = 0; i < c->plan->n_shifts; i++)
                if (streq(c->plan->shifts[i].host_path, host_path))
                        return; /* two members of a pod may mount the same data */
        MigrateShift *s = PUSH(c->plan, c->plan->shifts, c->plan->n_shifts);
        if (!s)
                return;
        s->service = xstrdup(c->plan, c->svc->name);
        s->file = xstrdup(c->plan, file);
        s->kind = kind;
        s->source = xstrdup(c->plan, source);
        s->host_path = xstrdup(c->plan, host_path);
        s->target = xstrdup(c->plan, target);
        technique(c, MIGRATE_T_OWNERSHIP_SHIFT);
}

/* A secret group name for a service: "<service>-secrets", cut to the 32 characters of a group name. */
static char *secret_group_name(MigratePlan *p, const char *service) {
        size_t n = strlen(service);
        if (n > 32 - STRLEN("-secrets"))
                n = 32 - STRLEN("-secrets");
        while (n > 1 && (service[n - 1] == '-' || service[n - 1] == '.' || service[n - 1] == '_'))
                n--;
        return xprintf(p, "%.*s-secrets", (int) n, service);
}

static void plan_bind(Ctx *c, FileEdits *fe, const char *file, const char *src, const char *target, bool *ret_group) {
        MigrateFileStat st = {};
        int r;

        r = c->facts->stat_path ? c->facts->stat_path(src, &st, c->facts->ud) : -ENOENT;
        if (r < 0 || !st.exists) {
                blocker(c, "Volume", xprintf(c->plan, "%s: Volume=%s:%s: the host path does not exist", file, src,
                                             target));
                goto done;
        }
        if (st.is_dir) {
                if (!under_roots(src, c->facts->shift_roots)) {
                        MigrateBlocker *b = blocker(c, "Volume",
                                                    xprintf(c->plan, "%s: Volume=%s:%s: the data directory is outside "
                                                            "the allowed roots of the ownership shift", file, src, target));
                        if (b)
                                strv_consume(&b->choices, xprintf(c->plan, "add its parent to /etc/unroot/shift-roots.conf "
                                                                  "(one allowed root per line)"));
                        goto done;
                }
                add_shift(c, file, MIGRATE_SHIFT_BIND, src, src, target);
                goto done;
        }
        if ((st.mode & S_IFMT) != S_IFREG) {
                blocker(c, "Volume", xprintf(c->plan, "%s: Volume=%s:%s: neither a directory nor a regular file "
                                             "(symlinks are not followed; give the real path)", file, src, target));
                goto done;
        }
        /* A file the container reads: fine if anyone may read it; otherwise it belongs to a host service
         * (or root) and is shared through a group instead of being handed over. */
        if (st.mode & S_IROTH)
                goto done;
        /* The helper refuses files outside its allowed roots: say so now, not halfway through apply. */
        const char *allowed;
        ErrorInfo se = {};
        if (secret_path_confine(src, c->facts->secret_roots, UNROOT_STATE_DIR, &allowed, &se) < 0) {
                MigrateBlocker *b = blocker(c, "Volume", xprintf(c->plan, "%s: Volume=%s:%s: the secret file cannot be "
                                                                 "shared through a secret group: %s", file, src, target,
                                                                 se.message));
                if (b)
                        strv_consume(&b->choices, xprintf(c->plan, "if the admin agrees that files there may be shared "
                                                          "with accounts, add its directory to %s (one allowed root "
                                                          "per line; the defaults then no longer apply)",
                                                          SECRET_ROOTS_CONF));
                goto done;
        }
        MigrateSecret *s = PUSH(c->plan, c->plan->secrets, c->plan->n_secrets);
        if (!s)
                goto done;
        s->service = xstrdup(c->plan, c->svc->name);
        s->kind = MIGRATE_SECRET_FILE;
        s->name = xstrdup(c->plan, src);
        s->owner = st.owner_name ? xstrdup(c->plan, st.owner_name) : xprintf(c->plan, "%u", st.uid);
        s->group = secret_group_name(c->plan, c->svc->name);
        s->how = xprintf(c->plan, "helper secret-group: %s stays owned by '%s', gets group '%s' and mode 0440; "
                         "'%s' joins the group, its user manager is restarted to pick it up, and the container "
                         "keeps the group (GroupAdd=keep-groups)", src, s->owner ?: "?", s->group ?: "?",
                         c->plan->account);
        technique(c, MIGRATE_T_SECRET_GROUP);
        if (!*ret_group) {
                set_line(c, fe, "Container", "GroupAdd", "keep-groups", MIGRATE_T_SECRET_GROUP,
                         "the secret file is readable through the account's secret group; keep-groups passes it "
                         "into the container");
                *ret_group = true;
        }
done:
        free(st.owner_name);
}

static void plan_volume_named(Ctx *c, const char *file, const char *volname, const char *target) {
        _cleanup_free_ char *mp = NULL;
        int r;

        r = c->facts->volume_mountpoint ? c->facts->volume_mountpoint(volname, &mp, c->facts->ud) : -ENOENT;
        if (r < 0 || !mp)
                return; /* never created: the account's podman creates it empty, as root's would have */
        add_shift(c, file, MIGRATE_SHIFT_VOLUME, volname, mp, target);
}

static void plan_volumes(Ctx *c, FileEdits *fe, const char *group) {
        const UnitFile *f = c->src->files[fe->source];
        _cleanup_strv_ Strv vols = {};
        bool group_added = false;

        unit_file_lookup_all(f, group, "Volume", &vols);
        for (size_t i = 0; i < vols.n; i++) {
                _cleanup_free_ char *src = NULL;
                const char *v = vols.v[i], *colon = strchr(v, ':'), *target;
                _cleanup_free_ char *tgt = NULL;

                if (!colon)
                        continue; /* anonymous volume: created empty in the account's store */
                src = strndup(v, (size_t) (colon - v));
                target = colon + 1;
                tgt = strndup(target, strcspn(target, ":"));
                if (!src || !tgt) {
                        c->plan->oom = true;
                        return;
                }
                if (src[0] == '/')
                        plan_bind(c, fe, f->filename, src, tgt, &group_added);
                else if (endswith(src, ".volume")) {
                        ssize_t k = source_find(c->src, src);
                        if (k < 0)
                                continue; /* reported with the references */
                        const UnitFile *vf = c->src->files[k];
                        _cleanup_free_ char *dev = unit_file_lookup(vf, "Volume", "Device");
                        _cleanup_free_ char *vn = unit_file_lookup(vf, "Volume", "VolumeName");
                        if (dev && dev[0] == '/')
                                plan_bind(c, fe, vf->filename, dev, tgt, &group_added);
                        else {
                                _cleanup_free_ char *def = NULL;
                                if (!vn || !*vn) {
                                        def = strdup_printf("systemd-%.*s", (int) (strlen(src) - STRLEN(".volume")), src);
                                        if (!def) {
                                                c->plan->oom = true;
                                                return;
                                        }
                                }
                                plan_volume_named(c, f->filename, vn && *vn ? vn : def, tgt);
                        }
                } else if (src[0] != '%')
                        plan_volume_named(c, f->filename, src, tgt);
        }
}

static void plan_secrets(Ctx *c, FileEdits *fe) {
        const UnitFile *f = c->src->files[fe->source];
        _cleanup_strv_ Strv secs = {};

        unit_file_lookup_all(f, "Container", "Secret", &secs);
        for (size_t i = 0; i < secs.n; i++) {
                MigrateSecret *s = PUSH(c->plan, c->plan->secrets, c->plan->n_secrets);
                if (!s)
                        return;
                s->service = xstrdup(c->plan, c->svc->name);
                s->kind = MIGRATE_SECRET_PODMAN;
                s->name = strndup(secs.v[i], strcspn(secs.v[i], ","));
                if (!s->name)
                        c->plan->oom = true;
                s->how = xprintf(c->plan, "podman secret '%s' is created in the account's store with the data of "
                                 "root's secret (root's secret stays)", strempty(s->name));
                technique(c, MIGRATE_T_SECRET_RECREATE);
        }
}

/* Host services the migrated containers reached at the gateway but which listen there only. */
static void plan_listeners(Ctx *c) {
        const MigrateFacts *fa = c->facts;

        if (!c->uses_gateway)
                return;
        for (size_t i = 0; i < fa->n_listeners; i++) {
                const MigrateListener *l = &fa->listeners[i];
                bool elsewhere = false;

                if (!streq(l->addr, c->gateway))
                        continue;
                for (size_t j = 0; j < fa->n_listeners; j++)
                        if (fa->listeners[j].port == l->port &&
                            (streq(fa->listeners[j].addr, "0.0.0.0") || streq(fa->listeners[j].addr, "127.0.0.1") ||
                             streq(fa->listeners[j].addr, "::")))
                                elsewhere = true;
                if (elsewhere)
                        continue;
                host_change(c, xprintf(c->plan, "a host service listens on %s:%u only: a rootless container reaches "
                                       "the host's 127.0.0.1, so bind it to 127.0.0.1 as well (the founding report "
                                       "moved redis from bind %s to 127.0.0.1)", l->addr, l->port, l->addr));
        }
}

static size_t add_file(Ctx *c, ssize_t k, MigrateFileRole role) {
        const UnitFile *f = c->src->files[k];

        for (size_t i = 0; i < c->plan->n_files; i++)
                if (streq(c->plan->files[i].name, f->filename))
                        return i;
        MigrateFile *mf = PUSH(c->plan, c->plan->files, c->plan->n_files);
        if (!mf)
                return SIZE_MAX;
        mf->service = xstrdup(c->plan, c->svc->name);
        mf->name = xstrdup(c->plan, f->filename);
        mf->root_path = xprintf(c->plan, "%s/%s", QUADLET_DIR, f->filename);
        mf->unit = migrate_unit_name(f);
        if (!mf->unit)
                c->plan->oom = true;
        mf->role = role;
        if (mf->root_path)
                strv_add(&c->svc->root_files, mf->root_path);
        if (mf->unit)
                strv_add(&c->svc->units, mf->unit);
        return c->plan->n_files - 1;
}

/* Which file names f references (Volume=x.volume, Network=x.network, Image=x.image, Pod's too). */
static void references(const UnitFile *f, Strv *ret) {
        static const struct {
                const char *group, *key, *suffix;
        } refs[] = {
                { "Container", "Volume", ".volume" }, { "Container", "Network", ".network" },
                { "Container", "Image", ".image" },  { "Container", "Mount", ".volume" },
                { "Pod", "Volume", ".volume" },      { "Pod", "Network", ".network" },
        };
        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                _cleanup_strv_ Strv vals = {};
                unit_file_lookup_all(f, refs[i].group, refs[i].key, &vals);
                for (size_t j = 0; j < vals.n; j++) {
                        const char *v = vals.v[j];
                        size_t n = strcspn(v, ":");
                        if (streq(refs[i].key, "Mount")) { /* type=volume,source=x.volume,... */
                                const char *s = strstr(v, "source=");
                                if (!s)
                                        s = strstr(v, "src=");
                                if (!s)
                                        continue;
                                v = strchr(s, '=') + 1;
                                n = strcspn(v, ",");
                        }
                        if (n > strlen(refs[i].suffix) && strneq(v + n - strlen(refs[i].suffix), refs[i].suffix,
                                                                   strlen(refs[i].suffix)))
                                strv_addn(ret, v, n);
                }
        }
}

static bool in_service_set(const MigrateSources *src, ssize_t k, const Strv *main_files) {
        const UnitFile *f = src->files[k];
        _cleanup_free_ char *pod = NULL;

        if (strv_has(main_files, f->filename))
                return true;
        pod = unit_file_lookup(f, "Container", "Pod");
        return pod && strv_has(main_files, pod);
}

static void plan_references(Ctx *c, const Strv *files, const Strv *main_files) {
        for (size_t i = 0; i < files->n; i++) {
                ssize_t k = source_find(c->src, files->v[i]);
                _cleanup_strv_ Strv refs = {};

                if (k < 0)
                        continue;
                references(c->src->files[k], &refs);
                for (size_t j = 0; j < refs.n; j++) {
                        ssize_t r = source_find(c->src, refs.v[j]);
                        if (r < 0) {
                                blocker(c, refs.v[j], xprintf(c->plan, "%s references %s, which is not in %s",
                                                              files->v[i], refs.v[j], QUADLET_DIR));
                                continue;
                        }
                        (void) add_file(c, r, MIGRATE_FILE_REFERENCED);
                        /* Shared with a service that stays root? Then it cannot move. */
                        for (size_t o = 0; o < c->src->n; o++) {
                                _cleanup_strv_ Strv orefs = {};
                                if (in_service_set(c->src, (ssize_t) o, main_files))
                                        continue;
                                references(c->src->files[o], &orefs);
                                if (strv_has(&orefs, refs.v[j]))
                                        blocker(c, refs.v[j],
                                                xprintf(c->plan, "%s is shared with %s, which is not part of this "
                                                        "migration: migrate both together", refs.v[j],
                                                        c->src->files[o]->filename));
                        }
                }
        }
}

static int plan_service(MigratePlan *plan, const MigrateSources *src, const MigrateFacts *facts, const char *name,
                        const Strv *main_files, ErrorInfo *e) {
        _cleanup_free_ char *cname = strdup_printf("%s.container", name), *pname = strdup_printf("%s.pod", name);
        _cleanup_strv_ Strv files = {}; /* main + members */
        FileEdits *fes = NULL;
        ssize_t kc, kp;
        Ctx c = { .plan = plan, .src = src, .facts = facts,
                  .gateway = facts->bridge_gateway ?: MIGRATE_BRIDGE_GATEWAY_DEFAULT };
        int r = 0;

        if (!cname || !pname)
                return -ENOMEM;
        kc = source_find(src, cname);
        kp = source_find(src, pname);
        if (kc < 0 && kp < 0)
                return error_set(e, -ENOENT, "SERVICE", "SERVICE '%s': no %s or %s in %s", name, cname, pname,
                                 QUADLET_DIR);
        if (kc >= 0 && kp >= 0)
                return error_set(e, -EINVAL, "SERVICE", "SERVICE '%s': both %s and %s exist: rename one", name, cname,
                                 pname);
        if (kc >= 0) {
                _cleanup_free_ char *pod = unit_file_lookup(src->files[kc], "Container", "Pod");
                if (pod && *pod)
                        return error_set(e, -EINVAL, "SERVICE", "SERVICE '%s' is a member of pod '%s': migrate the pod "
                                         "'%.*s'", name, pod, (int) (strlen(pod) - (endswith(pod, ".pod") ? 4 : 0)), pod);
        }

        MigrateService *svc = PUSH(plan, plan->services, plan->n_services);
        if (!svc)
                return -ENOMEM;
        svc->name = xstrdup(plan, name);
        svc->is_pod = kp >= 0;
        c.svc = svc;

        strv_add(&files, kp >= 0 ? pname : cname);
        if (kp >= 0)
                for (size_t i = 0; i < src->n; i++) {
                        _cleanup_free_ char *pod = unit_file_lookup(src->files[i], "Container", "Pod");
                        if (endswith(src->files[i]->filename, ".container") && pod && streq(pod, pname))
                                strv_add(&files, src->files[i]->filename);
                }
        if (files.oom)
                return -ENOMEM;

        fes = calloc(files.n, sizeof(FileEdits));
        if (!fes)
                return -ENOMEM;
        for (size_t i = 0; i < files.n; i++) {
                fes[i].source = source_find(src, files.v[i]);
                fes[i].file = add_file(&c, fes[i].source, i == 0 ? MIGRATE_FILE_MAIN : MIGRATE_FILE_MEMBER);
        }
        if (svc->is_pod)
                technique(&c, MIGRATE_T_ROOTLESS_POD);
        plan_references(&c, &files, main_files);

        bool pod_bridge = svc->is_pod && network_is_default_bridge(src->files[kp], "Pod");
        for (size_t i = 0; i < files.n; i++) {
                FileEdits *fe = &fes[i];
                const UnitFile *f = src->files[fe->source];
                bool is_podfile = endswith(f->filename, ".pod");

                if (is_podfile) {
                        plan_network(&c, fe, "Pod");
                        plan_ports(&c, fe, "Pod");
                        plan_volumes(&c, fe, "Pod");
                        plan_addresses(&c, fe, false);
                        continue;
                }
                bool bridge = svc->is_pod ? pod_bridge : network_is_default_bridge(f, "Container");
                if (!svc->is_pod)
                        plan_network(&c, fe, "Container");
                plan_image(&c, fe);
                plan_ports(&c, fe, "Container");
                plan_volumes(&c, fe, "Container");
                plan_secrets(&c, fe);
                plan_addresses(&c, fe, bridge);
        }
        plan_listeners(&c);

        /* The rewritten texts: every file of the service, referenced ones unchanged. */
        for (size_t i = 0; i < plan->n_files && !plan->oom; i++) {
                MigrateFile *mf = &plan->files[i];
                const FileEdits *fe = NULL;
                ssize_t k;

                if (mf->text || !mf->service || !streq(mf->service, name))
                        continue;
                for (size_t j = 0; j < files.n; j++)
                        if (fes[j].file == i)
                                fe = &fes[j];
                k = source_find(src, mf->name);
                if (k < 0)
                        continue;
                r = migrate_rewrite_text(src->texts[k], fe ? fe->edits : NULL, fe ? fe->n : 0, &mf->text);
                if (r < 0)
                        break;
        }
        free(fes);
        if (r < 0)
                return r;
        return plan->oom ? -ENOMEM : 0;
}

int migrate_plan_build(const MigrateSources *src, char *const *services, const MigrateFacts *facts,
                       MigratePlan **ret, ErrorInfo *e) {
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;
        _cleanup_strv_ Strv main_files = {};
        int r;

        if (!services || !services[0])
                return error_set(e, -EINVAL, "SERVICE", "no SERVICE given");
        if (!facts->account || !*facts->account)
                return error_set(e, -EINVAL, "ACCOUNT", "--to ACCOUNT is missing");

        for (char *const *s = services; *s; s++) {
                r = migrate_service_name_check(*s, e);
                if (r < 0)
                        return r;
                for (char *const *t = services; t < s; t++)
                        if (streq(*t, *s))
                                return error_set(e, -EINVAL, "SERVICE", "SERVICE '%s' is given twice", *s);
                const char *state = facts->record_state ? facts->record_state(*s, facts->ud) : NULL;
                if (state && !streq(state, "rolled-back"))
                        return error_set(e, -EEXIST, "SERVICE",
                                         "SERVICE '%s' is already migrated (record state '%s'): %s", *s, state,
                                         streq(state, "applied") ? "roll it back first to plan it again"
                                                                 : "run 'agentctl migrate apply' again to complete it, "
                                                                   "or 'agentctl migrate rollback'");
                _cleanup_free_ char *cn = strdup_printf("%s.container", *s), *pn = strdup_printf("%s.pod", *s);
                if (!cn || !pn)
                        return -ENOMEM;
                strv_add(&main_files, source_find(src, pn) >= 0 ? pn : cn);
        }
        if (main_files.oom)
                return -ENOMEM;

        p = calloc(1, sizeof(MigratePlan));
        if (!p)
                return -ENOMEM;
        p->account = strdup(facts->account);
        if (!p->account)
                return -ENOMEM;
        p->enroll = !facts->account_enrolled;
        if (facts->account_enrolled) {
                p->account_uid = facts->account_uid;
                p->subuid_start = facts->subuid_start;
                p->subgid_start = facts->subgid_start;
        }
        for (char *const *s = services; *s; s++) {
                r = plan_service(p, src, facts, *s, &main_files, e);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
