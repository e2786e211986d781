/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The steps of `agentctl migrate apply` and their undo (= `agentctl migrate rollback`).
 *
 * Every change is written into the service's record *before* it is made ("intent"), and every undo
 * tolerates a change that never happened, so a kill at any point leaves a record from which
 * rollback restores root's service, and a re-run of apply first finishes that rollback and then
 * migrates again. Privileged steps run agentctl's own verbs (enroll, shift, secret-group, reapply,
 * stop) as child processes; podman runs as root for root's store and as the account (setpriv, with
 * the account's environment) for the account's store. */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "agent-account.h"
#include "agent-client.h"
#include "agent-health.h"
#include "agentctl-helper.h"
#include "agentctl-output.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "migrate-apply.h"
#include "migrate-ledger.h"
#include "migrate-record.h"

#define SECRETS_DATA "/var/lib/containers/storage/secrets/filedriver/secretsdata.json"
#define SECRET_MAX (60 * 1024) /* written into a pipe before the reader starts */

typedef struct Run {
        const MigrateOptions *o;
        char self[4096];
        const char *podman;
        const char *root; /* "" for / */
        /* the account, once known */
        char *account, *home;
        uid_t uid;
        gid_t gid;
} Run;

static void run_done(Run *r) {
        free(r->account);
        free(r->home);
}

static void say(const Run *r, const char *fmt, ...) _printf_(2, 3);
static void say(const Run *r, const char *fmt, ...) {
        va_list ap;

        /* With --json stdout carries one document; progress goes to stderr then. */
        FILE *f = r->o->json ? stderr : stdout;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
        fflush(f);
}

static int run_init(Run *r, const MigrateOptions *o) {
        ssize_t n;

        *r = (Run) { .o = o };
        n = readlink("/proc/self/exe", r->self, sizeof r->self - 1);
        if (n < 0)
                return -errno;
        r->self[n] = 0;
        r->podman = secure_getenv("UNROOT_PODMAN") ?: PODMAN_BINARY;
        r->root = o->root && !streq(o->root, "/") ? o->root : "";
        return 0;
}

static int run_set_account(Run *r, const char *account, ErrorInfo *e) {
        _cleanup_(agent_account_done) AgentAccount a = {};
        int k;

        k = agent_account_lookup(*r->root ? r->root : NULL, account, &a, e);
        if (k < 0)
                return k;
        free(r->account);
        free(r->home);
        r->account = strdup(a.name);
        r->home = strdup(a.home);
        if (!r->account || !r->home)
                return -ENOMEM;
        r->uid = a.uid;
        r->gid = a.gid;
        return 0;
}

/* agentctl VERB ARGS... as a child; its stdout is shown (text mode) or dropped (--json). */
static int agentctl(const Run *r, const char *const *args) {
        const char *argv[16];
        _cleanup_free_ char *out = NULL;
        size_t k = 0;
        int ex;

        argv[k++] = r->self;
        if (!r->o->ask_password)
                argv[k++] = "--no-ask-password";
        for (; *args && k < ELEMENTSOF(argv) - 1; args++)
                argv[k++] = *args;
        argv[k] = NULL;
        ex = migrate_run((char *const *) argv, -EBADF, true, &out);
        if (!r->o->json && out && *out) {
                fputs(out, stdout);
                fflush(stdout);
        }
        return ex;
}

static int systemctl(const Run *r, const char *verb, const char *unit) {
        char *argv[] = { (char *) (secure_getenv("UNROOT_SYSTEMCTL") ?: "systemctl"), (char *) verb, (char *) unit, NULL };
        (void) r;
        return migrate_run(argv, -EBADF, true, NULL);
}

/* podman as the account, in its own store: its uid, groups and environment. */
/* keep_stderr false: a probe whose failure is an answer ("no such secret"), not an error to show. */
static int podman_as_account_full(const Run *r, const char *const *args, int stdin_fd, bool keep_stderr,
                                  char **ret_out) {
        char reuid[32], regid[32], chdir_[4200], home[4200], user[300], logname[300], xdg[64], bus[128];
        const char *argv[32];
        size_t k = 0;

        (void) snprintf(reuid, sizeof reuid, "--reuid=%u", (unsigned) r->uid);
        (void) snprintf(regid, sizeof regid, "--regid=%u", (unsigned) r->gid);
        (void) snprintf(chdir_, sizeof chdir_, "--chdir=%s", r->home);
        (void) snprintf(home, sizeof home, "HOME=%s", r->home);
        (void) snprintf(user, sizeof user, "USER=%s", r->account);
        (void) snprintf(logname, sizeof logname, "LOGNAME=%s", r->account);
        (void) snprintf(xdg, sizeof xdg, "XDG_RUNTIME_DIR=/run/user/%u", (unsigned) r->uid);
        (void) snprintf(bus, sizeof bus, "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%u/bus", (unsigned) r->uid);
        argv[k++] = secure_getenv("UNROOT_SETPRIV") ?: "setpriv";
        argv[k++] = reuid;
        argv[k++] = regid;
        argv[k++] = "--init-groups";
        argv[k++] = "env";
        argv[k++] = chdir_;
        argv[k++] = "-i";
        argv[k++] = home;
        argv[k++] = user;
        argv[k++] = logname;
        argv[k++] = xdg;
        argv[k++] = bus;
        argv[k++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        argv[k++] = r->podman;
        for (; *args && k < ELEMENTSOF(argv) - 1; args++)
                argv[k++] = *args;
        argv[k] = NULL;
        return migrate_run((char *const *) argv, stdin_fd, keep_stderr, ret_out);
}

static int podman_as_account(const Run *r, const char *const *args, int stdin_fd, char **ret_out) {
        return podman_as_account_full(r, args, stdin_fd, true, ret_out);
}

static bool account_has(const Run *r, const char *const *args) {
        return podman_as_account_full(r, args, -EBADF, false, NULL) == 0;
}

static int podman_as_root(const Run *r, const char *const *args, char **ret_out) {
        const char *argv[16];
        size_t k = 0;

        argv[k++] = r->podman;
        for (; *args && k < ELEMENTSOF(argv) - 1; args++)
                argv[k++] = *args;
        argv[k] = NULL;
        return migrate_run((char *const *) argv, -EBADF, false, ret_out);
}

static int save_record(const Run *r, MigrateLedger *rec) {
        int k = migrate_ledger_save(r->root, rec);
        if (k < 0)
                log_error_errno(k, "Cannot write the migration record of '%s': %m", rec->service);
        return k;
}

/* ---- file copies for orig/ and the account's Quadlet directory ---- */

/* Root's Quadlet files and podman's secrets metadata are small; anything larger is not what we
 * think it is. */
#define COPIED_FILE_MAX (16U * 1024U * 1024U)

/* Copies src (a symlink is not followed) to dst atomically, with src's owner, mode and times.
 * -ENOENT: src is not there. */
static int copy_file_preserving(const char *src, const char *dst) {
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len;
        int k;

        k = read_file_limited_stat(src, O_NOFOLLOW, COPIED_FILE_MAX, &data, &len, &st);
        if (k < 0)
                return k;
        return write_file_atomic_owned(dst, data, len, st.st_mode, st.st_uid, st.st_gid,
                                       (const struct timespec[2]) { st.st_atim, st.st_mtim });
}

/* mkdir -p below base (which exists), each created directory owned by uid:gid. */
static int mkdir_owned(const char *base, const char *rel, uid_t uid, gid_t gid) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", base, rel) < 0)
                return -ENOMEM;
        for (char *s = p + strlen(base) + 1;; s++) {
                bool end = !*s;
                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (mkdir(p, 0755) == 0) {
                        if (chown(p, uid, gid) < 0)
                                return -errno;
                } else if (errno != EEXIST)
                        return -errno;
                if (end)
                        break;
                *s = '/';
        }
        return 0;
}

static char *orig_path(const Run *r, const char *service, const char *root_file) {
        _cleanup_free_ char *dir = migrate_ledger_dir(r->root, service);
        const char *base = strrchr(root_file, '/');
        char *p;

        if (!dir || asprintf(&p, "%s/orig/%s", dir, base ? base + 1 : root_file) < 0)
                return NULL;
        return p;
}

static char *in_root(const Run *r, const char *path) {
        char *p;
        return asprintf(&p, "%s%s", r->root, path) < 0 ? NULL : p;
}

/* ---- the undo path: rollback of whatever the record lists ---- */

static bool step_reached(const MigrateLedger *rec, const char *step) {
        static const char *const order[] = { "enroll", "stop-root", "shift", "images", "secrets", "install",
                                             "start", "healthy" };
        ssize_t have = -1, want = -1;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                if (rec->step && streq(rec->step, order[i]))
                        have = (ssize_t) i;
                if (streq(step, order[i]))
                        want = (ssize_t) i;
        }
        return have >= want;
}

static int restore_root_files(const Run *r, MigrateLedger *rec) {
        int ret = 0;

        for (size_t i = 0; i < rec->root_files.n; i++) {
                _cleanup_free_ char *orig = orig_path(r, rec->service, rec->root_files.v[i]);
                _cleanup_free_ char *dst = in_root(r, rec->root_files.v[i]);
                struct stat st;
                int k;

                if (!orig || !dst)
                        return -ENOMEM;
                /* Apply removes a root file only after its copy is safe, and nothing else touches it:
                 * a root file that is there is the truth (an orig/ copy may be from an older move). */
                if (access(dst, F_OK) == 0)
                        continue;
                if (fstatat(AT_FDCWD, orig, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        continue; /* never copied: the root file was never removed either */
                k = copy_file_preserving(orig, dst);
                if (k < 0) {
                        log_error_errno(k, "Cannot restore %s from %s: %m", dst, orig);
                        ret = k;
                }
        }
        return ret;
}

/* Undoes everything rec lists, newest first. Returns 0 if root's service is back. */
static int undo(Run *r, MigrateLedger *rec) {
        ErrorInfo e = {};
        int ret = 0, k;

        free(rec->state);
        rec->state = strdup("rolling-back");
        if (!rec->state)
                return -ENOMEM;
        (void) save_record(r, rec);

        bool have_account = rec->account && run_set_account(r, rec->account, &e) >= 0;

        /* The rootless copy: stop its units, remove its files, let the agent drop the units. */
        if (have_account && (rec->installed.n > 0 || step_reached(rec, "start"))) {
                for (size_t i = rec->units.n; i-- > 0;) {
                        _cleanup_free_ char *au = NULL;
                        if (asprintf(&au, "%s/%s", rec->account, rec->units.v[i]) < 0)
                                return -ENOMEM;
                        (void) agentctl(r, (const char *const[]) { "stop", au, NULL });
                }
                for (size_t i = 0; i < rec->installed.n; i++)
                        if (unlink(rec->installed.v[i]) < 0 && errno != ENOENT) {
                                ret = log_error_errno(-errno, "Cannot remove %s: %m", rec->installed.v[i]);
                        }
                (void) agentctl(r, (const char *const[]) { "reapply", rec->account, NULL });
        }

        if (have_account)
                for (size_t i = rec->secret_files.n; i-- > 0;) {
                        _cleanup_free_ char *file = strndup(rec->secret_files.v[i], strcspn(rec->secret_files.v[i], "\t"));
                        const char *group = strchr(rec->secret_files.v[i], '\t');
                        if (!file || !group)
                                continue;
                        k = agentctl(r, (const char *const[]) { "secret-group", rec->account, file, group + 1,
                                                                "--rollback", NULL });
                        if (k != 0 && k != AGENTCTL_EXIT_CONFLICT) /* CONFLICT/NOT_FOUND: nothing was done */
                                ret = log_error_errno(-EIO, "The secret group of %s was not rolled back (exit %d)",
                                                      file, k);
                }
        if (have_account) {
                for (size_t i = 0; i < rec->secrets.n; i++)
                        (void) podman_as_account(r, (const char *const[]) { "secret", "rm", rec->secrets.v[i], NULL },
                                                 -EBADF, NULL);
                for (size_t i = 0; i < rec->images.n; i++)
                        (void) podman_as_account(r, (const char *const[]) { "rmi", rec->images.v[i], NULL }, -EBADF,
                                                 NULL);
        }

        /* Named volumes: shift back where the data is now, then move it back into root's store. */
        for (size_t i = rec->volumes.n; i-- > 0;) {
                _cleanup_free_ char *name = NULL, *from = NULL, *to = NULL;
                const char *v = rec->volumes.v[i], *t1 = strchr(v, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
                struct stat st;

                if (!t1 || !t2)
                        continue;
                name = strndup(v, (size_t) (t1 - v));
                from = strndup(t1 + 1, (size_t) (t2 - t1 - 1));
                to = strdup(t2 + 1);
                if (!name || !from || !to)
                        return -ENOMEM;
                if (have_account) {
                        k = agentctl(r, (const char *const[]) { "shift", rec->account, to, "--rollback", NULL });
                        if (k != 0 && k != AGENTCTL_EXIT_CONFLICT)
                                ret = log_error_errno(-EIO, "Rollback of the shift of %s failed (exit %d)", to, k);
                }
                if (lstat(from, &st) < 0 && errno == ENOENT && lstat(to, &st) == 0) {
                        if (rename(to, from) < 0)
                                ret = log_error_errno(-errno, "Cannot move %s back to %s: %m", to, from);
                }
                if (have_account)
                        (void) podman_as_account(r, (const char *const[]) { "volume", "rm", "--force", name, NULL },
                                                 -EBADF, NULL);
        }

        if (have_account) {
                for (size_t i = rec->shifted.n; i-- > 0;) {
                        k = agentctl(r, (const char *const[]) { "shift", rec->account, rec->shifted.v[i], "--rollback",
                                                                NULL });
                        if (k != 0 && k != AGENTCTL_EXIT_CONFLICT)
                                ret = log_error_errno(-EIO, "Rollback of the shift of %s failed (exit %d)",
                                                      rec->shifted.v[i], k);
                }
        } else if (rec->shifted.n > 0 || rec->volumes.n > 0)
                ret = log_error_errno(-ENOENT, "Account '%s' is gone: %s", strna(rec->account), e.message);

        k = restore_root_files(r, rec);
        if (k < 0)
                ret = k;
        (void) systemctl(r, "daemon-reload", NULL);
        for (size_t i = 0; i < rec->root_active.n; i++) {
                k = systemctl(r, "start", rec->root_active.v[i]);
                if (k != 0)
                        ret = log_error_errno(-EIO, "Root's %s did not start again (systemctl exit %d)",
                                              rec->root_active.v[i], k);
        }

        free(rec->state);
        rec->state = strdup(ret < 0 ? "failed" : "rolled-back");
        if (!rec->state)
                return -ENOMEM;
        if (ret >= 0) {
                /* Nothing left to undo: the lists describe a move that no longer exists. */
                strv_clear(&rec->shifted);
                strv_clear(&rec->volumes);
                strv_clear(&rec->images);
                strv_clear(&rec->secrets);
                strv_clear(&rec->secret_files);
                strv_clear(&rec->installed);
        }
        (void) save_record(r, rec);
        return ret;
}

/* ---- apply's steps ---- */

typedef struct Apply {
        Run run;
        MigrateSources src;
        MigrateHost host;
        MigratePlan *plan;
        MigrateLedger *recs;
        size_t n_recs;
        struct timespec step_start; /* when the step now running began */
} Apply;

static MigrateLedger *rec_for(Apply *a, const char *service) {
        for (size_t i = 0; i < a->n_recs; i++)
                if (streq(a->recs[i].service, service))
                        return &a->recs[i];
        return NULL;
}

/* Seconds since *t, and restarts the clock at now. */
static double lap(struct timespec *t) {
        struct timespec now;
        double d;

        (void) clock_gettime(CLOCK_MONOTONIC, &now);
        d = (double) (now.tv_sec - t->tv_sec) + (double) (now.tv_nsec - t->tv_nsec) / 1e9;
        *t = now;
        return d;
}

static int save_all(Apply *a, const char *step) {
        /* How long each step took tells an admin where a slow migration spends its time. */
        if (step)
                say(&a->run, "step '%s' done (%.1f s)", step, lap(&a->step_start));
        for (size_t i = 0; i < a->n_recs; i++) {
                if (step) {
                        free(a->recs[i].step);
                        a->recs[i].step = strdup(step);
                        if (!a->recs[i].step)
                                return -ENOMEM;
                }
                int k = save_record(&a->run, &a->recs[i]);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int intent(Apply *a, MigrateLedger *rec, Strv *list, const char *item) {
        strv_add(list, item);
        if (list->oom)
                return -ENOMEM;
        return save_record(&a->run, rec);
}

static int plan_again(Apply *a, char *const *services, ErrorInfo *e) {
        migrate_plan_free(a->plan);
        a->plan = NULL;
        migrate_sources_done(&a->src);
        migrate_host_done(&a->host);
        return migrate_make_plan(a->run.o->root, services, a->run.o->account, a->run.o->pull_allowed, &a->src,
                                 &a->host, &a->plan, e);
}

static int step_stop_root(Apply *a) {
        for (size_t i = 0; i < a->plan->n_services; i++) {
                MigrateLedger *rec = rec_for(a, a->plan->services[i].name);
                for (size_t j = 0; j < a->plan->n_files; j++) {
                        const MigrateFile *f = &a->plan->files[j];
                        if (!streq(f->service, rec->service) || f->role == MIGRATE_FILE_REFERENCED)
                                continue;
                        /* Remember what ran, so rollback starts exactly that again. */
                        if (systemctl(&a->run, "is-active", f->unit) == 0)
                                strv_add(&rec->root_active, f->unit);
                }
                if (rec->root_active.oom)
                        return -ENOMEM;
                int k = save_record(&a->run, rec);
                if (k < 0)
                        return k;
        }
        for (size_t j = 0; j < a->plan->n_files; j++) {
                int k = systemctl(&a->run, "stop", a->plan->files[j].unit);
                if (k != 0 && k != 5) /* 5: unit not loaded, nothing to stop */
                        return log_error_errno(-EIO, "systemctl stop %s failed (exit %d)", a->plan->files[j].unit, k);
                say(&a->run, "stop-root: stopped %s", a->plan->files[j].unit);
        }
        return 0;
}

static int move_volume(Apply *a, MigrateLedger *rec, const MigrateShift *s) {
        const Run *r = &a->run;
        _cleanup_free_ char *mp = NULL, *entry = NULL;
        int k;

        if (!account_has(r, (const char *const[]) { "volume", "exists", s->source, NULL })) {
                k = podman_as_account(r, (const char *const[]) { "volume", "create", s->source, NULL }, -EBADF, NULL);
                if (k != 0)
                        return log_error_errno(-EIO, "podman volume create %s as %s failed (exit %d)", s->source,
                                               r->account, k);
        }
        k = podman_as_account(r, (const char *const[]) { "volume", "inspect", "--format", "{{.Mountpoint}}", s->source,
                                                         NULL }, -EBADF, &mp);
        if (k != 0 || !mp)
                return log_error_errno(-EIO, "podman volume inspect %s as %s failed (exit %d)", s->source, r->account, k);
        mp[strcspn(mp, "\n")] = 0;
        if (mp[0] != '/')
                return log_error_errno(-EIO, "podman volume inspect %s as %s: no mount point", s->source, r->account);
        if (asprintf(&entry, "%s\t%s\t%s", s->source, s->host_path, mp) < 0)
                return -ENOMEM;
        k = intent(a, rec, &rec->volumes, entry);
        if (k < 0)
                return k;
        /* The account's fresh volume directory is empty; root's data takes its place (same file
         * system: a rename, nothing copied, nothing to lose if killed between the two calls). */
        if (rmdir(mp) < 0 && errno != ENOENT)
                return log_error_errno(-errno, "Cannot replace the account's empty volume %s: %m", mp);
        if (rename(s->host_path, mp) < 0) {
                k = -errno;
                /* Put the account's empty volume back as it was. */
                if (mkdir(mp, 0755) == 0 && chown(mp, r->uid, r->gid) < 0)
                        log_debug_errno(-errno, "Cannot chown %s, ignoring: %m", mp);
                if (k == -EXDEV)
                        return log_error_errno(k, "Volume '%s': %s and %s are on different file systems: moving "
                                               "the data by copying is not supported yet", s->source, s->host_path, mp);
                return log_error_errno(k, "Cannot move %s to %s: %m", s->host_path, mp);
        }
        say(r, "shift: moved volume '%s' from %s to %s", s->source, s->host_path, mp);
        k = agentctl(r, (const char *const[]) { "shift", r->account, mp, NULL });
        if (k != 0)
                return log_error_errno(-EIO, "The ownership shift of %s failed (exit %d)", mp, k);
        return 0;
}

static int step_shift(Apply *a) {
        for (size_t i = 0; i < a->plan->n_shifts; i++) {
                const MigrateShift *s = &a->plan->shifts[i];
                MigrateLedger *rec = rec_for(a, s->service);
                int k;

                if (s->kind == MIGRATE_SHIFT_VOLUME) {
                        k = move_volume(a, rec, s);
                        if (k < 0)
                                return k;
                        continue;
                }
                k = intent(a, rec, &rec->shifted, s->host_path);
                if (k < 0)
                        return k;
                k = agentctl(&a->run, (const char *const[]) { "shift", a->run.account, s->host_path, NULL });
                if (k != 0)
                        return log_error_errno(-EIO, "The ownership shift of %s failed (exit %d)", s->host_path, k);
        }
        return 0;
}

/* podman save as root | podman load as the account. */
static int copy_image(Apply *a, const char *image) {
        const Run *r = &a->run;
        int pipefd[2], status, k;
        pid_t saver;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        saver = fork();
        if (saver < 0) {
                k = -errno;
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return k;
        }
        if (saver == 0) {
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execlp(r->podman, r->podman, "save", "--quiet", image, (char *) NULL);
                _exit(127);
        }
        safe_close(pipefd[1]);
        k = podman_as_account(r, (const char *const[]) { "load", "--quiet", NULL }, pipefd[0], NULL);
        safe_close(pipefd[0]);
        while (waitpid(saver, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(-EIO, "podman save %s (as root) failed", image);
        if (k != 0)
                return log_error_errno(-EIO, "podman load of %s as %s failed (exit %d)", image, r->account, k);
        return 0;
}

static int step_images(Apply *a) {
        for (size_t i = 0; i < a->plan->n_images; i++) {
                const MigrateImage *im = &a->plan->images[i];
                MigrateLedger *rec = rec_for(a, im->service);
                int k;

                /* Already in the account's store (another service of it uses the image): neither
                 * copied nor recorded, so a rollback of this service does not take it away. */
                if (account_has(&a->run, (const char *const[]) { "image", "exists", im->image, NULL })) {
                        say(&a->run, "images: %s is already in the store of '%s'", im->image, a->run.account);
                        continue;
                }
                k = intent(a, rec, &rec->images, im->image);
                if (k < 0)
                        return k;
                k = copy_image(a, im->image);
                if (k < 0)
                        return k;
                say(&a->run, "images: copied %s into the store of '%s'%s", im->image, a->run.account,
                    im->pull_never ? " (Pull=never)" : "");
        }
        return 0;
}


/* Root's secret data: `podman secret inspect --showsecret` (podman >= 4.5), else the file
 * driver's store, where the data is base64 in a JSON map from secret id. */
static int root_secret_data(Apply *a, const char *name, Buf *ret) {
        _cleanup_free_ char *out = NULL, *id = NULL, *json = NULL;
        size_t len;
        int k;

        k = podman_as_root(&a->run, (const char *const[]) { "secret", "inspect", "--showsecret", "--format",
                                                             "{{.SecretData}}", name, NULL }, &out);
        if (k == 0 && out) {
                size_t n = strlen(out);
                if (n > 0 && out[n - 1] == '\n')
                        n--; /* the template's newline, not the secret's */
                buf_putn(ret, out, n);
                return ret->oom ? -ENOMEM : 0;
        }
        k = podman_as_root(&a->run, (const char *const[]) { "secret", "inspect", "--format", "{{.ID}}", name, NULL }, &id);
        if (k != 0 || !id)
                return log_error_errno(-ENOENT, "Root has no podman secret '%s'", name);
        id[strcspn(id, "\n")] = 0;
        _cleanup_free_ char *path = in_root(&a->run, SECRETS_DATA);
        if (!path)
                return -ENOMEM;
        k = read_file_limited(path, O_NOFOLLOW, COPIED_FILE_MAX, &json, &len);
        if (k < 0)
                return log_error_errno(k, "Cannot read %s: %m", path);
        k = migrate_filedriver_secret(json, len, id, ret);
        if (k == -ENOENT)
                return log_error_errno(k, "Secret '%s' (id %s) is not in %s", name, id, path);
        if (k < 0)
                return log_error_errno(k, "Secret '%s' in %s cannot be read: %m", name, path);
        return 0;
}

static int step_secrets(Apply *a, bool *ret_groups_changed) {
        for (size_t i = 0; i < a->plan->n_secrets; i++) {
                const MigrateSecret *s = &a->plan->secrets[i];
                MigrateLedger *rec = rec_for(a, s->service);
                int k;

                if (s->kind == MIGRATE_SECRET_PODMAN) {
                        _cleanup_buf_ Buf data = {};
                        int pipefd[2];

                        /* Another service of the account shares it: leave it, and leave it to that one. */
                        if (account_has(&a->run, (const char *const[]) { "secret", "inspect", s->name, NULL })) {
                                say(&a->run, "secrets: podman secret '%s' already exists for '%s'", s->name,
                                    a->run.account);
                                continue;
                        }

                        k = root_secret_data(a, s->name, &data);
                        if (k < 0)
                                return k;
                        if (data.n > SECRET_MAX)
                                return log_error_errno(-EFBIG, "Secret '%s' is larger than %u bytes", s->name, SECRET_MAX);
                        k = intent(a, rec, &rec->secrets, s->name);
                        if (k < 0)
                                return k;
                        if (pipe2(pipefd, O_CLOEXEC) < 0)
                                return -errno;
                        /* Fits into the pipe's buffer: written before the reader starts. */
                        if (data.n > 0 && write(pipefd[1], data.s, data.n) != (ssize_t) data.n) {
                                k = -errno;
                                safe_close(pipefd[0]);
                                safe_close(pipefd[1]);
                                return k;
                        }
                        safe_close(pipefd[1]);
                        k = podman_as_account(&a->run, (const char *const[]) { "secret", "create", s->name, "-", NULL },
                                              pipefd[0], NULL);
                        safe_close(pipefd[0]);
                        if (k != 0)
                                return log_error_errno(-EIO, "podman secret create %s as %s failed (exit %d)", s->name,
                                                       a->run.account, k);
                        say(&a->run, "secrets: podman secret '%s' recreated in the store of '%s'", s->name,
                            a->run.account);
                        continue;
                }
                _cleanup_free_ char *entry = NULL;
                if (asprintf(&entry, "%s\t%s", s->name, s->group) < 0)
                        return -ENOMEM;
                k = intent(a, rec, &rec->secret_files, entry);
                if (k < 0)
                        return k;
                k = agentctl(&a->run, (const char *const[]) { "secret-group", a->run.account, s->name, s->group, NULL });
                if (k == AGENTCTL_EXIT_USAGE)
                        return log_error_errno(-EINVAL, "Secret file %s: the helper refused to share it (the reason "
                                               "is above)", s->name);
                if (k != 0)
                        return log_error_errno(-EIO, "secret-group %s %s %s failed (exit %d)", a->run.account, s->name,
                                               s->group, k);
                *ret_groups_changed = true;
        }
        return 0;
}

static int wait_agent(const Run *r, unsigned timeout_sec) {
        _cleanup_free_ char *path = agent_socket_path_for_home(r->home);
        time_t deadline = time(NULL) + (time_t) timeout_sec;

        if (!path)
                return -ENOMEM;
        for (;;) {
                _cleanup_(agent_status_result_done) AgentStatusResult st = {};
                (void) agent_query_status(path, 2000, &st);
                if (st.state == AGENT_STATE_ANSWERING)
                        return 0;
                if (time(NULL) >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(500 * 1000);
        }
}

static int step_install(Apply *a) {
        const Run *r = &a->run;
        _cleanup_free_ char *qdir = NULL;
        int k;

        k = mkdir_owned(r->home, ".config/containers/systemd", r->uid, r->gid);
        if (k < 0)
                return log_error_errno(k, "Cannot create %s/.config/containers/systemd: %m", r->home);
        if (asprintf(&qdir, "%s/.config/containers/systemd", r->home) < 0)
                return -ENOMEM;

        /* Byte copies of root's files first (owner, mode, times kept), then the account's files. */
        for (size_t i = 0; i < a->plan->n_files; i++) {
                const MigrateFile *f = &a->plan->files[i];
                _cleanup_free_ char *src = in_root(r, f->root_path), *dst = orig_path(r, f->service, f->root_path);
                _cleanup_free_ char *dir = migrate_ledger_dir(r->root, f->service);

                if (!src || !dst || !dir)
                        return -ENOMEM;
                /* Always fresh: an interrupted run was undone before this one started, so root's
                 * file is the original, and a copy from an older move may be stale. */
                k = mkdir_owned(dir, "orig", 0, 0);
                if (k < 0)
                        return log_error_errno(k, "Cannot create %s/orig: %m", dir);
                k = copy_file_preserving(src, dst);
                if (k < 0)
                        return log_error_errno(k, "Cannot copy %s to %s: %m", src, dst);
        }
        for (size_t i = 0; i < a->plan->n_files; i++) {
                const MigrateFile *f = &a->plan->files[i];
                MigrateLedger *rec = rec_for(a, f->service);
                _cleanup_free_ char *dst = NULL;

                if (asprintf(&dst, "%s/%s", qdir, f->name) < 0)
                        return -ENOMEM;
                k = intent(a, rec, &rec->installed, dst);
                if (k < 0)
                        return k;
                k = write_file_atomic_owned(dst, f->text, strlen(f->text), 0644, r->uid, r->gid, NULL);
                if (k < 0)
                        return log_error_errno(k, "Cannot write %s: %m", dst);
                say(r, "install: %s -> %s", f->root_path, dst);
        }
        /* Only now do root's files go: root's generator must not bring the service back at boot. */
        for (size_t i = 0; i < a->plan->n_files; i++) {
                _cleanup_free_ char *src = in_root(r, a->plan->files[i].root_path);
                if (!src)
                        return -ENOMEM;
                if (unlink(src) < 0 && errno != ENOENT)
                        return log_error_errno(-errno, "Cannot remove %s: %m", src);
        }
        (void) systemctl(r, "daemon-reload", NULL);
        return 0;
}

static bool unit_ready(const AgentStatusResult *st, const char *unit, const char **ret_why) {
        for (size_t i = 0; i < st->n_units; i++) {
                const AgentUnitInfo *u = &st->units[i];
                if (!streq(u->name, unit))
                        continue;
                if (!u->active_state || !streq(u->active_state, "active")) {
                        *ret_why = u->active_state ?: "unknown";
                        return false;
                }
                if (u->health && (streq(u->health, "unhealthy") || streq(u->health, "starting"))) {
                        *ret_why = u->health;
                        return false;
                }
                return true;
        }
        *ret_why = "not generated";
        return false;
}

/* A container whose first health check has not run yet ("starting") gets it run now, as
 * `podman healthcheck run` would by hand: its HealthInterval may be minutes away, and the check
 * itself is the container's own. The container is found through the unit's cid file. */
static void run_health_check_now(const Run *r, const char *unit) {
        _cleanup_free_ char *cid = NULL;
        char runtime_dir[32];

        (void) snprintf(runtime_dir, sizeof runtime_dir, "/run/user/%u", (unsigned) r->uid);
        if (unit_container_id(r->root, runtime_dir, unit, &cid) < 0)
                return;
        say(r, "healthy: running the health check of %s now instead of waiting for its interval", unit);
        (void) podman_as_account_full(r, (const char *const[]) { "healthcheck", "run", cid, NULL }, -EBADF, false,
                                      NULL);
}

static int step_healthy(Apply *a) {
        const Run *r = &a->run;
        _cleanup_free_ char *path = agent_socket_path_for_home(r->home);
        time_t deadline = time(NULL) + (time_t) r->o->timeout_sec;
        _cleanup_strv_free_ char **checked = NULL;

        if (!path)
                return -ENOMEM;
        for (;;) {
                _cleanup_(agent_status_result_done) AgentStatusResult st = {};
                const char *why = NULL, *which = NULL;
                bool all = true;

                (void) agent_query_status(path, 15000, &st);
                for (size_t i = 0; i < a->plan->n_services; i++)
                        for (size_t j = 0; j < a->plan->services[i].units.n; j++) {
                                const char *u = a->plan->services[i].units.v[j], *w = NULL;
                                /* .volume/.network units are oneshots that may be inactive once done. */
                                if (endswith(u, "-volume.service") || endswith(u, "-network.service") ||
                                    endswith(u, "-image.service"))
                                        continue;
                                if (st.state == AGENT_STATE_ANSWERING && unit_ready(&st, u, &w))
                                        continue;
                                if (all) {
                                        which = u;
                                        why = w;
                                        all = false;
                                }
                                /* Once per unit: a check that keeps failing is left to its interval. */
                                if (w && streq(w, "starting") && !strv_contains(checked, u)) {
                                        run_health_check_now(r, u);
                                        if (strv_push(&checked, strdup(u)) < 0)
                                                return -ENOMEM;
                                }
                        }
                if (all)
                        return 0;
                if (time(NULL) >= deadline)
                        return log_error_errno(-ETIMEDOUT, "%s of '%s' is not active and healthy after %u s (%s)",
                                               strna(which), r->account, r->o->timeout_sec,
                                               st.state == AGENT_STATE_ANSWERING ? strna(why)
                                                                                 : agent_state_to_string(st.state));
                (void) usleep(1000 * 1000);
        }
}

static void apply_done(Apply *a) {
        for (size_t i = 0; i < a->n_recs; i++)
                migrate_ledger_done(&a->recs[i]);
        free(a->recs);
        migrate_plan_free(a->plan);
        migrate_sources_done(&a->src);
        migrate_host_done(&a->host);
        run_done(&a->run);
}

static void print_records(const Run *r, MigrateLedger *recs, size_t n, const char *op, int ex) {
        if (!r->o->json)
                return;
        printf("{\"operation\":\"%s\",\"exit_code\":%d,\"records\":[", op, ex);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        putchar(',');
                migrate_ledger_write_json(&recs[i], stdout);
        }
        printf("]}\n");
}

static const char *const resumable[] = { "applying", "failed", "rolling-back" };

/* A record left by an interrupted apply (or rollback): undo it first, so root's service runs again. */
static int resume_interrupted(Run *r, char *const *services) {
        for (char *const *s = services; *s; s++) {
                _cleanup_(migrate_ledger_done) MigrateLedger rec = {};
                ErrorInfo e = {};
                bool found = false;

                if (migrate_service_name_check(*s, &e) < 0)
                        continue; /* the plan reports it */
                if (migrate_ledger_load(r->root, *s, &rec) < 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(resumable); i++)
                        found |= streq(rec.state, resumable[i]);
                if (!found)
                        continue;
                say(r, "%s: an earlier migration stopped in state '%s' after step '%s': undoing it first", *s, rec.state,
                    strna(rec.step));
                int k = undo(r, &rec);
                if (k < 0)
                        return log_error_errno(k, "%s: undoing the interrupted migration failed; see 'agentctl migrate "
                                               "rollback %s'", *s, *s);
        }
        return 0;
}

int migrate_apply(char *const *services, const MigrateOptions *o) {
        _cleanup_(apply_done) Apply a = {};
        ErrorInfo e = {};
        bool groups_changed = false;
        int k, ex;

        k = run_init(&a.run, o);
        if (k < 0)
                return log_error_errno(k, "Cannot find agentctl's own executable: %m"), AGENTCTL_EXIT_FAILED;
        k = resume_interrupted(&a.run, services);
        if (k < 0)
                return AGENTCTL_EXIT_FAILED;
        k = plan_again(&a, services, &e);
        if (k < 0) {
                fprintf(stderr, "agentctl: migrate apply: %s\n", e.message[0] ? e.message : strerror(-k));
                return k == -EINVAL ? AGENTCTL_EXIT_USAGE : k == -ENOENT || k == -EEXIST ? AGENTCTL_EXIT_CONFLICT
                                                                                         : AGENTCTL_EXIT_FAILED;
        }
        if (a.plan->n_blockers > 0) {
                if (o->json)
                        migrate_plan_write_json(a.plan, stdout);
                else
                        migrate_plan_write_text(a.plan, stdout);
                fprintf(stderr, "agentctl: migrate apply: the plan is blocked (see above); nothing was changed\n");
                return AGENTCTL_EXIT_CONFLICT;
        }

        /* Enrolling is not undone (an empty account harms nothing) and is idempotent, so it comes
         * before the records: the plan then knows the account's ids, home and allowed roots. */
        bool enrolled_now = a.plan->enroll;
        if (enrolled_now) {
                say(&a.run, "enroll: '%s' is not enrolled yet", o->account);
                k = agentctl(&a.run, (const char *const[]) { "enroll", o->account, NULL });
                if (k != 0) {
                        fprintf(stderr, "agentctl: migrate apply: agentctl enroll %s failed (exit %d); nothing else "
                                "was changed\n", o->account, k);
                        return AGENTCTL_EXIT_FAILED;
                }
                k = plan_again(&a, services, &e);
                if (k < 0) {
                        fprintf(stderr, "agentctl: migrate apply: %s\n", e.message[0] ? e.message : strerror(-k));
                        return AGENTCTL_EXIT_FAILED;
                }
                if (a.plan->enroll || a.plan->n_blockers > 0) {
                        fprintf(stderr, "agentctl: migrate apply: after enrolling, '%s' is %s; nothing else was changed\n",
                                o->account, a.plan->enroll ? "still not usable" : "blocked (see 'agentctl migrate plan')");
                        return AGENTCTL_EXIT_FAILED;
                }
        }
        k = run_set_account(&a.run, o->account, &e);
        if (k < 0) {
                fprintf(stderr, "agentctl: migrate apply: account '%s': %s\n", o->account, e.message);
                return AGENTCTL_EXIT_FAILED;
        }

        /* One record per service, written before anything changes. */
        a.recs = calloc(a.plan->n_services, sizeof(MigrateLedger));
        if (!a.recs)
                return log_oom(), AGENTCTL_EXIT_FAILED;
        a.n_recs = a.plan->n_services;
        for (size_t i = 0; i < a.n_recs; i++) {
                const MigrateService *s = &a.plan->services[i];
                MigrateLedger *rec = &a.recs[i];
                rec->service = strdup(s->name);
                rec->account = strdup(o->account);
                rec->kind = strdup(s->is_pod ? "pod" : "container");
                rec->state = strdup("applying");
                rec->step = enrolled_now ? strdup("enroll") : NULL;
                if (!rec->service || !rec->account || !rec->kind || !rec->state || (enrolled_now && !rec->step))
                        return log_oom(), AGENTCTL_EXIT_FAILED;
                strv_extend(&rec->units, &s->units);
                strv_extend(&rec->root_files, &s->root_files);
                strv_extend(&rec->techniques, &s->techniques);
                strv_extend(&rec->host_changes, &s->host_changes);
        }
        const char *failed_step = "records";
        (void) lap(&a.step_start);
        k = save_all(&a, NULL);
        if (k < 0)
                goto fail;

        failed_step = "stop-root";
        k = step_stop_root(&a);
        if (k < 0 || (k = save_all(&a, "stop-root")) < 0)
                goto fail;
        failed_step = "shift";
        k = step_shift(&a);
        if (k < 0 || (k = save_all(&a, "shift")) < 0)
                goto fail;
        failed_step = "images";
        k = step_images(&a);
        if (k < 0 || (k = save_all(&a, "images")) < 0)
                goto fail;
        failed_step = "secrets";
        k = step_secrets(&a, &groups_changed);
        if (k < 0)
                goto fail;
        if (groups_changed) {
                /* A running user manager keeps its old groups: restart it so the agent, and every
                 * container it starts, has the secret group. */
                char unit[64];
                (void) snprintf(unit, sizeof unit, "user@%u.service", (unsigned) a.run.uid);
                say(&a.run, "secrets: restarting %s so that '%s' has its new group", unit, a.run.account);
                k = systemctl(&a.run, "restart", unit);
                if (k != 0) {
                        k = log_error_errno(-EIO, "systemctl restart %s failed (exit %d)", unit, k);
                        goto fail;
                }
                k = wait_agent(&a.run, o->timeout_sec);
                if (k < 0) {
                        log_error_errno(k, "The agent of '%s' did not come back after the restart: %m", a.run.account);
                        goto fail;
                }
        }
        if ((k = save_all(&a, "secrets")) < 0)
                goto fail;
        failed_step = "install";
        k = step_install(&a);
        if (k < 0 || (k = save_all(&a, "install")) < 0)
                goto fail;
        failed_step = "start";
        char timeout[16];
        (void) snprintf(timeout, sizeof timeout, "%u", o->timeout_sec);
        k = agentctl(&a.run, (const char *const[]) { "reapply", a.run.account, "--timeout", timeout, NULL });
        if (k != 0) {
                k = log_error_errno(-EIO, "agentctl reapply %s failed (exit %d)", a.run.account, k);
                goto fail;
        }
        if ((k = save_all(&a, "start")) < 0)
                goto fail;
        failed_step = "healthy";
        k = step_healthy(&a);
        if (k < 0)
                goto fail;
        for (size_t i = 0; i < a.n_recs; i++) {
                free(a.recs[i].state);
                a.recs[i].state = strdup("applied");
                if (!a.recs[i].state)
                        goto fail;
        }
        if ((k = save_all(&a, "healthy")) < 0)
                goto fail;
        for (size_t i = 0; i < a.plan->n_services; i++)
                say(&a.run, "%s: migrated to '%s', active and healthy", a.plan->services[i].name, a.run.account);
        if (a.plan->host_notes.n > 0)
                say(&a.run, "host changes the admin must make:");
        for (size_t i = 0; i < a.plan->host_notes.n; i++)
                say(&a.run, "  - %s", a.plan->host_notes.v[i]);
        print_records(&a.run, a.recs, a.n_recs, "apply", AGENTCTL_EXIT_SUCCESS);
        return AGENTCTL_EXIT_SUCCESS;

fail:
        ex = AGENTCTL_EXIT_FAILED;
        for (size_t i = 0; i < a.n_recs; i++) {
                MigrateLedger *rec = &a.recs[i];
                free(rec->error);
                if (asprintf(&rec->error, "step %s failed: %s", strna(failed_step), strerror(k < 0 ? -k : EIO)) < 0)
                        rec->error = NULL;
                say(&a.run, "%s: step '%s' failed: undoing the steps already done", rec->service, strna(failed_step));
                if (undo(&a.run, rec) < 0)
                        say(&a.run, "%s: the undo did not complete: run 'agentctl migrate rollback %s'", rec->service,
                            rec->service);
                else
                        say(&a.run, "%s: back on root as before", rec->service);
        }
        print_records(&a.run, a.recs, a.n_recs, "apply", ex);
        return ex;
}

int migrate_rollback(char *const *services, const MigrateOptions *o) {
        _cleanup_(run_done) Run r = {};
        MigrateLedger *recs = NULL;
        size_t n = 0;
        int ex = AGENTCTL_EXIT_SUCCESS, k;

        k = run_init(&r, o);
        if (k < 0)
                return log_error_errno(k, "Cannot find agentctl's own executable: %m"), AGENTCTL_EXIT_FAILED;
        /* Validate everything before changing anything. */
        for (char *const *s = services; *s; s++) {
                ErrorInfo e = {};
                if (migrate_service_name_check(*s, &e) < 0) {
                        fprintf(stderr, "agentctl: migrate rollback: %s\n", e.message);
                        ex = AGENTCTL_EXIT_USAGE;
                        goto out;
                }
                MigrateLedger *nr = reallocarray(recs, n + 1, sizeof(MigrateLedger));
                if (!nr) {
                        ex = AGENTCTL_EXIT_FAILED;
                        goto out;
                }
                recs = nr;
                recs[n] = (MigrateLedger) {};
                k = migrate_ledger_load(r.root, *s, &recs[n]);
                if (k == -ENOENT) {
                        fprintf(stderr, "agentctl: migrate rollback: SERVICE '%s' was never migrated (no record in "
                                "%s" MIGRATE_STATE_DIR "/%s)\n", *s, r.root, *s);
                        ex = AGENTCTL_EXIT_CONFLICT;
                        goto out;
                }
                if (k < 0) {
                        fprintf(stderr, "agentctl: migrate rollback: the record of '%s' cannot be read: %s\n", *s,
                                strerror(-k));
                        ex = AGENTCTL_EXIT_FAILED;
                        goto out;
                }
                n++;
                if (streq(recs[n - 1].state, "rolled-back")) {
                        fprintf(stderr, "agentctl: migrate rollback: SERVICE '%s' is already rolled back\n", *s);
                        ex = AGENTCTL_EXIT_CONFLICT;
                        goto out;
                }
        }
        for (size_t i = 0; i < n; i++) {
                say(&r, "%s: rolling back from '%s' (state %s, step %s)", recs[i].service, strna(recs[i].account),
                    recs[i].state, strna(recs[i].step));
                if (undo(&r, &recs[i]) < 0) {
                        ex = AGENTCTL_EXIT_FAILED;
                        say(&r, "%s: rollback incomplete (state failed): fix the error above and run it again",
                            recs[i].service);
                } else
                        say(&r, "%s: back on root", recs[i].service);
        }
        print_records(&r, recs, n, "rollback", ex);
out:
        for (size_t i = 0; i < n; i++)
                migrate_ledger_done(&recs[i]);
        free(recs);
        return ex;
}
