/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-watch.h"
#include "log.h"
#include "macro.h"

/* A watch on an ancestor of a missing search directory: only the creation (or arrival) of the
 * next component on the way down matters; anything else in that directory is not ours. */
typedef struct Pending {
        int wd;
        char *child;
} Pending;

struct AgentWatch {
        sd_event *event;
        int fd;
        Pending *pending;
        size_t n_pending;
        sd_event_source *io, *timer;
        uint64_t debounce_usec;
        uint64_t first_usec; /* first event of the pending burst, 0 if none */
        watch_fired_t cb;
        void *userdata;
};

/* What changes a Quadlet source or a drop-in: files appearing, going, rewritten or renamed, and the
 * directory itself going away. IN_MODIFY is left out: IN_CLOSE_WRITE marks the end of a write. */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | \
                    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define ANCESTOR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void pending_clear(AgentWatch *w) {
        for (size_t i = 0; i < w->n_pending; i++)
                free(w->pending[i].child);
        free(w->pending);
        w->pending = NULL;
        w->n_pending = 0;
}

/* Whether an event matters: anything on a directory watched for itself; on an ancestor, only its
 * own going away or the next component appearing. */
static bool event_relevant(const AgentWatch *w, const struct inotify_event *ev) {
        bool ancestor = false;

        if (ev->mask & IN_Q_OVERFLOW)
                return true;
        for (size_t i = 0; i < w->n_pending; i++) {
                if (w->pending[i].wd != ev->wd)
                        continue;
                ancestor = true;
                if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                        return true;
                if (ev->len > 0 && streq(ev->name, w->pending[i].child))
                        return true;
        }
        return !ancestor;
}

uint64_t debounce_deadline(uint64_t first_usec, uint64_t now_usec, uint64_t delay_usec, uint64_t max_usec) {
        uint64_t d = now_usec + delay_usec, cap = first_usec + max_usec;

        if (first_usec == 0 || first_usec > now_usec)
                return d;
        return MIN(d, MAX(cap, now_usec));
}

int nearest_existing_dir(const char *path, char **ret) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;

        if (!p)
                return -ENOMEM;
        for (;;) {
                char *slash;
                if (p[0] && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        break;
                slash = strrchr(p, '/');
                if (!slash || slash == p) {
                        free(p);
                        p = strdup("/");
                        if (!p)
                                return -ENOMEM;
                        break;
                }
                *slash = 0;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int watch_dirs(const QuadletSourcesOptions *o, Strv *ret) {
        const char *pre = !o->root || !o->root[0] || streq(o->root, "/") ? "" : o->root;
        _cleanup_strv_ Strv existing = {};
        Strv d = {};
        int r;

        /* The same roots as quadlet-sources' user search path; kept here because that walk only
         * returns directories that exist, and a missing one must be watched for its creation. */
        if (o->unit_dirs && o->unit_dirs[0]) {
                _cleanup_free_ char *copy = strdup(o->unit_dirs);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
                        if (t[0] == '/')
                                strv_consume(&d, strdup_printf("%s%s", pre, t));
        } else {
                if (o->xdg_runtime_dir && o->xdg_runtime_dir[0])
                        strv_consume(&d, strdup_printf("%s%s/containers/systemd", pre, o->xdg_runtime_dir));
                if (o->xdg_config_home && o->xdg_config_home[0])
                        strv_consume(&d, strdup_printf("%s%s/containers/systemd", pre, o->xdg_config_home));
                else if (o->home)
                        strv_consume(&d, strdup_printf("%s%s/.config/containers/systemd", pre, o->home));
                strv_consume(&d, strdup_printf("%s/etc/containers/systemd/users", pre));
                strv_consume(&d, strdup_printf("%s/etc/containers/systemd/users/%u", pre, (unsigned) o->uid));
                strv_consume(&d, strdup_printf("%s/usr/share/containers/systemd/users", pre));
                strv_consume(&d, strdup_printf("%s/usr/share/containers/systemd/users/%u", pre, (unsigned) o->uid));
        }
        r = quadlet_sources_dirs(o, &existing);
        if (r < 0) {
                strv_done(&d);
                return r;
        }
        for (size_t i = 0; i < existing.n; i++)
                if (!strv_has(&d, existing.v[i]))
                        strv_add(&d, existing.v[i]);
        r = strv_error(&d);
        if (r < 0) {
                strv_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AgentWatch *w = userdata;

        w->first_usec = 0;
        w->cb(w, w->userdata);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AgentWatch *w = userdata;
        union {
                struct inotify_event ev;
                char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
        } u;
        bool relevant = false;
        uint64_t now = 0;
        int r;

        /* Drain: which file changed does not matter, only that something did (the apply re-reads
         * all), unless every event is about a sibling of a directory we wait for. */
        for (;;) {
                ssize_t n = read(fd, &u, sizeof u);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_warning_errno(-errno, "Cannot read inotify events, ignoring: %m");
                        break;
                }
                if (n == 0)
                        break;
                for (char *p = u.buf; p < u.buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        relevant = relevant || event_relevant(w, ev);
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
        if (!relevant)
                return 0;

        (void) sd_event_now(w->event, CLOCK_MONOTONIC, &now);
        if (w->first_usec == 0)
                w->first_usec = now;
        r = sd_event_source_set_time(w->timer,
                                     debounce_deadline(w->first_usec, now, w->debounce_usec, WATCH_DEBOUNCE_MAX_USEC));
        if (r >= 0)
                r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot arm the debounce timer, ignoring: %m");
        return 0;
}

int watch_new(sd_event *event, uint64_t debounce_usec, watch_fired_t cb, void *userdata, AgentWatch **ret) {
        AgentWatch *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->fd = -EBADF;
        w->debounce_usec = debounce_usec;
        w->cb = cb;
        w->userdata = userdata;
        r = sd_event_add_time(event, &w->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        if (r < 0) {
                watch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

AgentWatch *watch_free(AgentWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->timer);
        safe_close(w->fd);
        pending_clear(w);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}

int watch_set(AgentWatch *w, const Strv *dirs) {
        _cleanup_free_ int *full = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n_full = 0;
        int n = 0, r;

        /* A fresh inotify instance each time: dropping single watches of directories that were
         * renamed or removed is error-prone, and the set is small. Pending events of the old
         * instance are covered by the read of the sources that follows. */
        w->io = sd_event_source_disable_unref(w->io);
        w->fd = safe_close(w->fd);
        pending_clear(w);

        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Whole directories first: inotify gives one wd per inode and merges the masks, so a
         * directory that is both a search dir and an ancestor of another keeps its full mask. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < dirs->n; i++) {
                        _cleanup_free_ char *d = NULL;
                        const char *rest;
                        Pending *np;
                        size_t len;
                        int wd;

                        r = nearest_existing_dir(dirs->v[i], &d);
                        if (r < 0)
                                return r;
                        if (streq(d, dirs->v[i]) != (pass == 0))
                                continue;
                        wd = inotify_add_watch(fd, d, pass == 0 ? WATCH_MASK : ANCESTOR_MASK | IN_MASK_ADD);
                        if (wd < 0) {
                                log_debug_errno(-errno, "Cannot watch '%s', ignoring: %m", d);
                                continue;
                        }
                        n++;
                        if (pass == 0) {
                                int *nf = reallocarray(full, n_full + 1, sizeof(int));
                                if (!nf)
                                        return -ENOMEM;
                                full = nf;
                                full[n_full++] = wd;
                                log_debug("Watching '%s'.", d);
                                continue;
                        }
                        for (size_t k = 0; k < n_full; k++)
                                if (full[k] == wd)
                                        goto next; /* watched whole already */
                        /* The next component below d on the way to the wanted directory. */
                        rest = dirs->v[i] + (streq(d, "/") ? 1 : strlen(d) + 1);
                        len = strcspn(rest, "/");
                        np = reallocarray(w->pending, w->n_pending + 1, sizeof(Pending));
                        if (!np)
                                return -ENOMEM;
                        w->pending = np;
                        np[w->n_pending].wd = wd;
                        np[w->n_pending].child = strndup(rest, len);
                        if (!np[w->n_pending].child)
                                return -ENOMEM;
                        w->n_pending++;
                        log_debug("Watching '%s' for '%.*s' (on the way to '%s').", d, (int) len, rest, dirs->v[i]);
                next:;
                }
        r = sd_event_add_io(w->event, &w->io, fd, EPOLLIN, on_inotify, w);
        if (r < 0)
                return r;
        w->fd = TAKE_FD(fd);
        return n;
}
