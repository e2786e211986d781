/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "config.h"
#include "json-parse.h"
#include "log.h"
#include "migrate-gather.h"
#include "migrate-record.h"
#include "pod-shape-probe.h"
#include "secret-policy.h"
#include "shift-roots.h"

int migrate_parse_proc_net_tcp(const char *text, bool ipv6, MigrateListener **l, size_t *n) {
        const char *p = text;

        /* The first line is the header. */
        p = strchr(p, '\n');
        while (p && *++p) {
                char local[64], remote[64], st[8];
                const char *nl = strchr(p, '\n');
                unsigned port;

                if (sscanf(p, " %*[0-9]: %63[0-9A-Fa-f:] %63[0-9A-Fa-f:] %7s", local, remote, st) != 3)
                        goto next;
                if (!streq(st, "0A")) /* TCP_LISTEN */
                        goto next;
                char *colon = strchr(local, ':');
                if (!colon || sscanf(colon + 1, "%x", &port) != 1 || port > 65535)
                        goto next;
                *colon = 0;

                MigrateListener li = { .port = (uint16_t) port };
                if (!ipv6) {
                        unsigned a;
                        /* The kernel prints the address as a host-order number of its network-order
                         * bytes: reading it back the same way gives the bytes in order. */
                        if (strlen(local) != 8 || sscanf(local, "%x", &a) != 1)
                                goto next;
                        struct in_addr in = { .s_addr = (uint32_t) a };
                        if (!inet_ntop(AF_INET, &in, li.addr, sizeof li.addr))
                                goto next;
                } else {
                        struct in6_addr in6;
                        if (strlen(local) != 32)
                                goto next;
                        for (size_t w = 0; w < 4; w++) {
                                char word[9];
                                unsigned a;
                                memcpy(word, local + w * 8, 8);
                                word[8] = 0;
                                if (sscanf(word, "%x", &a) != 1)
                                        goto next;
                                uint32_t a32 = (uint32_t) a;
                                memcpy(&in6.s6_addr[w * 4], &a32, 4);
                        }
                        if (!inet_ntop(AF_INET6, &in6, li.addr, sizeof li.addr))
                                goto next;
                }
                MigrateListener *nl2 = reallocarray(*l, *n + 1, sizeof(MigrateListener));
                if (!nl2)
                        return -ENOMEM;
                *l = nl2;
                (*l)[(*n)++] = li;
        next:
                p = nl;
        }
        return 0;
}

int migrate_parse_podman_version(const char *v, unsigned *ret_major, unsigned *ret_minor) {
        unsigned a, b;

        if (!v || sscanf(v, "%u.%u", &a, &b) != 2)
                return -EINVAL;
        *ret_major = a;
        *ret_minor = b;
        return 0;
}

int migrate_run(char *const *argv, int stdin_fd, bool keep_stderr, char **ret_out) {
        _cleanup_buf_ Buf out = {};
        int pipefd[2] = { -EBADF, -EBADF }, status;
        pid_t pid;

        if (ret_out && pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                /* A killed agentctl must not leave a step running behind the back of its re-run. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(stdin_fd >= 0 ? stdin_fd : null, STDIN_FILENO) < 0)
                        _exit(127);
                if (dup2(ret_out ? pipefd[1] : null, STDOUT_FILENO) < 0)
                        _exit(127);
                if (!keep_stderr && dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        if (ret_out) {
                char buf[4096];
                ssize_t k;
                safe_close(pipefd[1]);
                while ((k = read(pipefd[0], buf, sizeof buf)) != 0) {
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                break;
                        buf_putn(&out, buf, (size_t) k);
                }
                safe_close(pipefd[0]);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_out) {
                if (out.oom)
                        return -ENOMEM;
                *ret_out = out.s ? buf_steal(&out) : strdup("");
                if (!*ret_out)
                        return -ENOMEM;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int migrate_parse_image_names(const char *json, size_t len, char ***ret) {
        _cleanup_(json_value_done) JsonValue v = {};
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = json_parse(json, len, &v, NULL);
        if (r < 0)
                return r;
        if (v.type != JSON_ARRAY)
                return -EINVAL;
        for (size_t i = 0; i < v.n_items; i++) {
                const JsonValue *l = json_object_get(&v.items[i], "Names");
                if (!l)
                        l = json_object_get(&v.items[i], "RepoTags");
                if (!l || l->type == JSON_NULL)
                        continue; /* a dangling image has no name */
                if (l->type != JSON_ARRAY)
                        return -EINVAL;
                for (size_t j = 0; j < l->n_items; j++) {
                        if (l->items[j].type != JSON_STRING)
                                return -EINVAL;
                        if (strv_push(&names, strdup(l->items[j].text)) < 0)
                                return -ENOMEM;
                }
        }
        if (!names && !(names = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(names);
        return 0;
}

bool migrate_image_listed(char *const *names, const char *image) {
        _cleanup_free_ char *full = NULL;
        const char *slash = strchr(image, '/'), *last;

        if (!slash || strchr(image, '@'))
                return false;
        /* The first component names a registry only with a dot or a port, or as localhost. */
        size_t n = (size_t) (slash - image);
        if (!memchr(image, '.', n) && !memchr(image, ':', n) && !(n == 9 && startswith(image, "localhost")))
                return false;
        last = strrchr(image, '/');
        if (!strchr(last, ':') && asprintf(&full, "%s:latest", image) < 0)
                return false;
        return strv_contains(names, full ?: image);
}

static char *root_path(const MigrateHost *h, const char *path) {
        char *p;
        return asprintf(&p, "%s%s", h->root, path) < 0 ? NULL : p;
}

static int read_small(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_buf_ Buf b = {};
        char buf[4096];
        size_t k;

        if (!f)
                return -errno;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
                buf_putn(&b, buf, k);
                if (b.n > 16 * 1024 * 1024)
                        return -EFBIG;
        }
        if (ferror(f))
                return -EIO;
        if (b.oom)
                return -ENOMEM;
        *ret = b.s ? buf_steal(&b) : strdup("");
        return *ret ? 0 : -ENOMEM;
}

/* One `podman images` instead of one `podman image exists` per image: each podman start costs
 * seconds on a slow host, and a plan asks for every image of every service. */
static void list_images(MigrateHost *h) {
        char *argv[] = { (char *) h->podman, (char *) "images", (char *) "--format", (char *) "json", NULL };
        _cleanup_free_ char *out = NULL;

        h->images_listed = true;
        if (migrate_run(argv, -EBADF, false, &out) != 0 ||
            migrate_parse_image_names(out, strlen(out), &h->image_names) < 0)
                h->image_names = NULL; /* every image is then asked for on its own */
}

static MigrateImageState host_image_state(const char *image, void *ud) {
        MigrateHost *h = ud;
        char *argv[] = { (char *) h->podman, (char *) "image", (char *) "exists", (char *) image, NULL };

        if (!h->images_listed)
                list_images(h);
        if (!migrate_image_listed(h->image_names, image) && migrate_run(argv, -EBADF, false, NULL) != 0)
                return MIGRATE_IMAGE_ABSENT;
        /* Whether a registry still has the image cannot be told offline (built, loaded and pulled
         * images all carry repo digests): unless the admin allows pulling, every image is treated as
         * one that exists only here. localhost/ images never come from a registry. */
        if (startswith(image, "localhost/") || !h->pull_allowed)
                return MIGRATE_IMAGE_ROOT_ONLY;
        return MIGRATE_IMAGE_PULLABLE;
}

static int host_volume_mountpoint(const char *volume, char **ret, void *ud) {
        MigrateHost *h = ud;
        char *argv[] = { (char *) h->podman, (char *) "volume", (char *) "inspect", (char *) "--format",
                         (char *) "{{.Mountpoint}}", (char *) volume, NULL };
        _cleanup_free_ char *out = NULL;
        int r;

        r = migrate_run(argv, -EBADF, false, &out);
        if (r < 0)
                return r;
        if (r != 0)
                return -ENOENT;
        out[strcspn(out, "\n")] = 0;
        if (out[0] != '/')
                return -ENOENT;
        *ret = TAKE_PTR(out);
        return 0;
}

static int host_stat_path(const char *path, MigrateFileStat *ret, void *ud) {
        MigrateHost *h = ud;
        _cleanup_free_ char *p = root_path(h, path);
        struct stat st;

        *ret = (MigrateFileStat) {};
        if (!p)
                return -ENOMEM;
        if (lstat(p, &st) < 0)
                return -errno;
        ret->exists = true;
        ret->is_dir = S_ISDIR(st.st_mode);
        ret->uid = st.st_uid;
        ret->gid = st.st_gid;
        ret->mode = st.st_mode;
        struct passwd *pw = getpwuid(st.st_uid);
        if (pw) {
                ret->owner_name = strdup(pw->pw_name);
                if (!ret->owner_name)
                        return -ENOMEM;
        }
        return 0;
}

static const char *host_record_state(const char *service, void *ud) {
        _cleanup_(migrate_record_done) MigrateRecord rec = {};
        MigrateHost *h = ud;
        ErrorInfo e = {};
        char *state;
        int r;

        for (size_t i = 0; i < h->n_states; i++)
                if (streq(h->states[i].service, service))
                        return h->states[i].state;
        r = migrate_record_load(*h->root ? h->root : NULL, service, &rec, &e);
        if (r == -ENOENT)
                return NULL;
        /* A record we cannot read still means someone started a migration: never plan over it. */
        state = strdup(r < 0 ? "unreadable" : migrate_record_state_to_string(rec.state));
        if (!state)
                return NULL;
        MigrateRecordState *ns = reallocarray(h->states, h->n_states + 1, sizeof(MigrateRecordState));
        if (!ns) {
                free(state);
                return NULL;
        }
        h->states = ns;
        h->states[h->n_states] = (MigrateRecordState) { .service = strdup(service), .state = state };
        if (!h->states[h->n_states].service) {
                free(state);
                return NULL;
        }
        return h->states[h->n_states++].state;
}

static void gather_listeners(MigrateHost *h) {
        static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = root_path(h, files[i]), *text = NULL;
                if (!p || read_small(p, &text) < 0)
                        continue; /* no IPv6, or a test root without /proc: no listeners */
                (void) migrate_parse_proc_net_tcp(text, i == 1, &h->listeners, &h->n_listeners);
        }
}

static uint32_t gather_port_start(MigrateHost *h) {
        _cleanup_free_ char *p = root_path(h, "/proc/sys/net/ipv4/ip_unprivileged_port_start"), *text = NULL;
        unsigned v;

        if (!p || read_small(p, &text) < 0 || sscanf(text, "%u", &v) != 1 || v > 65536)
                return 1024; /* the kernel's default */
        return v;
}

int migrate_host_gather(const char *root, const char *account, bool pull_allowed, MigrateHost *h, ErrorInfo *e) {
        int r;

        *h = (MigrateHost) {};
        h->root = strdup(root && !streq(root, "/") ? root : "");
        if (!h->root)
                return -ENOMEM;
        h->podman = secure_getenv("UNROOT_PODMAN") ?: PODMAN_BINARY;
        h->pull_allowed = pull_allowed;

        ErrorInfo ae = {};
        r = agent_account_lookup(root, account, &h->acct, &ae);
        if (r == -EPERM)
                return error_set(e, -EPERM, "ACCOUNT", "'%s' exists but is not an unroot account (not in group "
                                 "unroot-accounts): migrate only to accounts enrolled by unroot", account);
        bool enrolled = r >= 0 && h->acct.have_ranges && h->acct.subuid_count > 0;
        if (r >= 0 && !enrolled)
                return error_set(e, -EINVAL, "ACCOUNT", "'%s' has no subuid/subgid range: %s", account,
                                 ae.message[0] ? ae.message : "run 'agentctl enroll' for it");

        r = shift_roots_load(root, enrolled ? h->acct.home : NULL, &h->shift_roots, e);
        if (r < 0)
                return r;
        r = secret_roots_load(root, &h->secret_roots, e);
        if (r < 0)
                return r;

        if (pod_shape_podman_version(h->podman, &h->version) < 0)
                h->version = NULL;
        unsigned maj = 4, min = 3;
        (void) migrate_parse_podman_version(h->version, &maj, &min);
        gather_listeners(h);

        h->facts = (MigrateFacts) {
                .account = account,
                .account_enrolled = enrolled,
                .account_uid = enrolled ? h->acct.uid : 0,
                .account_gid = enrolled ? h->acct.gid : 0,
                .subuid_start = enrolled ? h->acct.subuid_start : 0,
                .subuid_count = enrolled ? h->acct.subuid_count : 0,
                .subgid_start = enrolled ? h->acct.subgid_start : 0,
                .subgid_count = enrolled ? h->acct.subgid_count : 0,
                .account_home = enrolled ? h->acct.home : NULL,
                .podman_major = maj,
                .podman_minor = min,
                .unprivileged_port_start = gather_port_start(h),
                .listeners = h->listeners,
                .n_listeners = h->n_listeners,
                .shift_roots = h->shift_roots,
                .secret_roots = h->secret_roots,
                .image_state = host_image_state,
                .volume_mountpoint = host_volume_mountpoint,
                .stat_path = host_stat_path,
                .record_state = host_record_state,
                .ud = h,
        };
        return 0;
}

void migrate_host_done(MigrateHost *h) {
        free(h->root);
        agent_account_done(&h->acct);
        free(h->version);
        strv_free(h->image_names);
        free(h->listeners);
        strv_free(h->shift_roots);
        strv_free(h->secret_roots);
        for (size_t i = 0; i < h->n_states; i++) {
                free(h->states[i].service);
                free(h->states[i].state);
        }
        free(h->states);
        *h = (MigrateHost) {};
}

int migrate_make_plan(const char *root, char *const *services, const char *account, bool pull_allowed,
                      MigrateSources *src, MigrateHost *host, MigratePlan **ret, ErrorInfo *e) {
        int r;

        r = migrate_sources_load(root, src, e);
        if (r < 0)
                return r;
        r = migrate_host_gather(root, account, pull_allowed, host, e);
        if (r < 0)
                return r;
        return migrate_plan_build(src, services, &host->facts, ret, e);
}
