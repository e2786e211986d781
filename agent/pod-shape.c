/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod unit shapes: the watcher rewrite of rendered pod units, and the cached decision. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "pod-shape.h"
#include "strv.h"

static const char *const shape_names[_POD_SHAPE_MAX] = {
        [POD_SHAPE_PIDFILE] = "pidfile",
        [POD_SHAPE_WATCH] = "watch",
};

const char *pod_shape_to_string(PodShape s) {
        return s >= 0 && s < _POD_SHAPE_MAX ? shape_names[s] : NULL;
}

PodShape pod_shape_from_string(const char *s) {
        for (PodShape i = 0; s && i < _POD_SHAPE_MAX; i++)
                if (streq(s, shape_names[i]))
                        return i;
        return _POD_SHAPE_INVALID;
}

/* ---- the rewrite ---- */

/* One logical line of a unit file: physical lines [first, last], continued by a trailing '\'. */
typedef struct Line {
        const char *start; /* first byte of the first physical line */
        size_t len;        /* up to and including the last physical line's '\n', if any */
        bool service;      /* inside [Service] */
        char key[32];      /* the key of an assignment, "" otherwise */
        const char *value; /* after '=' */
} Line;

static const char *skip_blanks(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* Splits text into logical lines. Returns the count, or -ENOMEM. */
static int split_lines(const char *text, Line **ret) {
        Line *lines = NULL;
        size_t n = 0, cap = 0;
        bool service = false;

        for (const char *p = text; *p;) {
                const char *s = p, *eol;

                /* A logical line ends at a newline not preceded by a backslash (comments do not
                 * continue, as in systemd's parser). */
                for (;;) {
                        eol = strchrnul(p, '\n');
                        const char *first = skip_blanks(s);
                        bool comment = *first == '#' || *first == ';';
                        if (comment || *eol == 0 || eol == p || eol[-1] != '\\')
                                break;
                        p = eol + 1;
                }
                p = *eol ? eol + 1 : eol;

                if (n == cap) {
                        Line *m = reallocarray(lines, cap ? cap * 2 : 64, sizeof(Line));
                        if (!m) {
                                free(lines);
                                return -ENOMEM;
                        }
                        lines = m;
                        cap = cap ? cap * 2 : 64;
                }
                Line *l = &lines[n++];
                *l = (Line) { .start = s, .len = p - s };
                const char *b = skip_blanks(s);
                if (*b == '[') {
                        service = strneq(b, "[Service]", STRLEN("[Service]"));
                        continue;
                }
                l->service = service;
                if (*b == '#' || *b == ';')
                        continue;
                const char *eq = strchr(b, '=');
                if (!eq || eq >= s + l->len)
                        continue;
                size_t k = eq - b;
                while (k > 0 && (b[k - 1] == ' ' || b[k - 1] == '\t'))
                        k--;
                if (k == 0 || k >= sizeof(l->key))
                        continue;
                memcpy(l->key, b, k);
                l->key[k] = 0;
                l->value = skip_blanks(eq + 1);
        }
        *ret = lines;
        return (int) n;
}

/* The value of a one-physical-line assignment, without the newline. */
static char *line_value(const Line *l) {
        size_t n = l->start + l->len - l->value;
        while (n > 0 && (l->value[n - 1] == '\n' || l->value[n - 1] == ' ' || l->value[n - 1] == '\t'))
                n--;
        return strndup(l->value, n);
}

static bool is_key(const Line *l, const char *key) {
        return l->service && streq(l->key, key);
}

int pod_shape_rewrite_unit(const char *content, const char *watch_path, char **ret) {
        _cleanup_free_ Line *lines = NULL;
        _cleanup_free_ char *type = NULL, *pidfile = NULL;
        _cleanup_buf_ Buf b = {};
        const Line *exec = NULL;
        size_t n_exec = 0;
        int n;

        *ret = NULL;
        n = split_lines(content, &lines);
        if (n < 0)
                return n;

        for (int i = 0; i < n; i++) {
                const Line *l = &lines[i];
                if (is_key(l, "Type")) {
                        free(type);
                        if (!(type = line_value(l)))
                                return -ENOMEM;
                } else if (is_key(l, "PIDFile")) {
                        free(pidfile);
                        if (!(pidfile = line_value(l)))
                                return -ENOMEM;
                } else if (is_key(l, "ExecStart")) {
                        if (*l->value == '\n' || *l->value == 0) {
                                exec = NULL; /* "ExecStart=" resets the list */
                                n_exec = 0;
                        } else {
                                exec = l;
                                n_exec++;
                        }
                }
        }
        /* Only the stock form: one command whose main PID the manager would take from the file.
         * '@' (own argv[0]) cannot be passed through the watcher's "--"; the translator never
         * writes it. A PID file path that would need quoting is not the translator's either. */
        if (!type || !streq(type, "forking") || !pidfile || !pidfile[0] || n_exec != 1 ||
            strpbrk(pidfile, " \t\"'\\") || exec->value[strspn(exec->value, "-:+!")] == '@')
                return 0;

        bool typed = false;
        for (int i = 0; i < n; i++) {
                const Line *l = &lines[i];
                const char *h = skip_blanks(l->start);

                if (*h == '[' && strneq(h, "[Service]", STRLEN("[Service]"))) {
                        buf_printf(&b, "# unroot-agent: pod shape \"watch\": %s supervises the infra conmon named by\n"
                                       "# %s through a pidfd, because this user manager refuses that PID file.\n",
                                   watch_path, pidfile);
                        buf_putn(&b, l->start, l->len);
                } else if (is_key(l, "Type")) {
                        /* The first Type= becomes ours, later ones go. */
                        if (typed)
                                continue;
                        typed = true;
                        buf_puts(&b, "Type=notify\nNotifyAccess=main\n");
                } else if (is_key(l, "PIDFile") || is_key(l, "NotifyAccess")) {
                        continue;
                } else if (l == exec) {
                        size_t np = strspn(exec->value, "-:+!");
                        buf_puts(&b, "ExecStart=");
                        buf_putn(&b, exec->value, np);
                        buf_printf(&b, "%s --pidfile=%s -- ", watch_path, pidfile);
                        buf_putn(&b, exec->value + np, l->start + l->len - (exec->value + np));
                } else
                        buf_putn(&b, l->start, l->len);
        }
        if (b.oom)
                return -ENOMEM;
        *ret = buf_steal(&b);
        return *ret ? 1 : -ENOMEM;
}

static bool entry_is_pod_service(const RenderEntry *e) {
        return !e->symlink && e->source && endswith(e->source, ".pod") && endswith(e->path, ".service");
}

int pod_shape_rewrite_plan(RenderPlan *plan, PodShape shape) {
        int n = 0, r;

        if (!plan || shape < 0 || shape >= _POD_SHAPE_MAX)
                return -EINVAL;
        if (shape == POD_SHAPE_PIDFILE)
                return 0;

        for (size_t i = 0; i < plan->n; i++) {
                RenderEntry *e = &plan->entries[i];
                char *t = NULL;

                if (!entry_is_pod_service(e))
                        continue;
                r = pod_shape_rewrite_unit(e->content, UNROOT_POD_WATCH_PATH, &t);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                free(e->content);
                e->content = t;
                n++;
        }
        return n;
}

/* ---- the decision and its cache ---- */

void pod_shape_decision_done(PodShapeDecision *d) {
        if (!d)
                return;
        free(d->systemd_version);
        free(d->podman_version);
        free(d->reason);
        *d = (PodShapeDecision) { .shape = _POD_SHAPE_INVALID };
}

static bool value_ok(const char *v) {
        return v && v[0] && !strchr(v, '\n');
}

int pod_shape_cache_parse(const char *text, PodShapeDecision *ret) {
        _cleanup_(pod_shape_decision_done) PodShapeDecision d = { .shape = _POD_SHAPE_INVALID };

        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n'), *eq = memchr(p, '=', eol - p);
                char **slot = NULL;

                if (eq) {
                        size_t k = eq - p;
                        if (k == STRLEN("shape") && strneq(p, "shape", k)) {
                                _cleanup_free_ char *v = strndup(eq + 1, eol - eq - 1);
                                if (!v)
                                        return -ENOMEM;
                                d.shape = pod_shape_from_string(v);
                        } else if (k == STRLEN("systemd") && strneq(p, "systemd", k))
                                slot = &d.systemd_version;
                        else if (k == STRLEN("podman") && strneq(p, "podman", k))
                                slot = &d.podman_version;
                        else if (k == STRLEN("reason") && strneq(p, "reason", k))
                                slot = &d.reason;
                }
                if (slot) {
                        free(*slot);
                        if (!(*slot = strndup(eq + 1, eol - eq - 1)))
                                return -ENOMEM;
                }
                p = *eol ? eol + 1 : eol;
        }
        if (d.shape < 0 || !value_ok(d.systemd_version) || !value_ok(d.podman_version))
                return -EBADMSG;
        *ret = d;
        d = (PodShapeDecision) {};
        return 0;
}

int pod_shape_cache_format(const PodShapeDecision *d, char **ret) {
        _cleanup_buf_ Buf b = {};

        if (!pod_shape_to_string(d->shape) || !value_ok(d->systemd_version) || !value_ok(d->podman_version))
                return -EINVAL;
        buf_printf(&b, "shape=%s\nsystemd=%s\npodman=%s\nreason=", pod_shape_to_string(d->shape),
                   d->systemd_version, d->podman_version);
        for (const char *s = strempty(d->reason); *s; s++)
                buf_putc(&b, *s == '\n' ? ' ' : *s);
        buf_putc(&b, '\n');
        if (b.oom)
                return -ENOMEM;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static char *cache_path(const char *root, const char *dir, const char *suffix) {
        bool plain = !root || !root[0] || streq(root, "/");
        return strdup_printf("%s%s/%s%s", plain ? "" : root, dir, POD_SHAPE_CACHE_FILE, suffix);
}

int pod_shape_cache_read(const char *root, const char *dir, PodShapeDecision *ret) {
        _cleanup_free_ char *path = cache_path(root, dir, ""), *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        ssize_t k;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > 4096)
                return -EBADMSG;
        if (!(text = calloc(1, st.st_size + 1)))
                return -ENOMEM;
        k = read(fd, text, st.st_size);
        if (k < 0)
                return -errno;
        text[k] = 0;
        return pod_shape_cache_parse(text, ret);
}

int pod_shape_cache_write(const char *root, const char *dir, const PodShapeDecision *d) {
        _cleanup_free_ char *path = cache_path(root, dir, ""), *tmp = cache_path(root, dir, ".XXXXXX"), *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        if (!path || !tmp)
                return -ENOMEM;
        r = pod_shape_cache_format(d, &text);
        if (r < 0)
                return r;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        len = strlen(text);
        if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t) len || fsync(fd) < 0 ||
            rename(tmp, path) < 0) {
                r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

bool pod_shape_cache_matches(const PodShapeDecision *d, const char *systemd_version, const char *podman_version) {
        return d && !d->forced && d->shape >= 0 && d->systemd_version && d->podman_version && systemd_version &&
               podman_version && streq(d->systemd_version, systemd_version) && streq(d->podman_version, podman_version);
}

char *pod_shape_decision_describe(const PodShapeDecision *d) {
        const char *s = pod_shape_to_string(d->shape);

        if (!s)
                return strdup("undecided");
        if (d->forced)
                return strdup_printf("%s (forced by $" POD_SHAPE_ENV ")", s);
        return strdup_printf("%s (%s for systemd %s, podman %s: %s)", s, d->cached ? "cached, probed" : "probed",
                             strna(d->systemd_version), strna(d->podman_version), strna(d->reason));
}
