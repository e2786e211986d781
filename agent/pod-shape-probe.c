/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod shape probe: one throw-away pod in a transient user unit of the stock shape. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "pod-shape-probe.h"
#include "strv.h"

#define SD1_DEST "org.freedesktop.systemd1"
#define SD1_PATH "/org/freedesktop/systemd1"
#define SD1_MANAGER "org.freedesktop.systemd1.Manager"
#define SD1_UNIT "org.freedesktop.systemd1.Unit"
#define SD1_SERVICE "org.freedesktop.systemd1.Service"
#define PROBE_DEFAULT_TIMEOUT_USEC (120ULL * 1000000ULL)


/* JobRemoved signals seen so far (they may be dispatched before the method reply is looked at). */
typedef struct Jobs {
        Strv paths, results;
} Jobs;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Jobs *j = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0) {
                strv_add(&j->paths, path);
                strv_add(&j->results, result);
        }
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* Waits for the JobRemoved of job_path; returns its result in *ret (borrowed from j). */
static int wait_job(sd_bus *bus, Jobs *j, const char *job_path, uint64_t timeout_usec, const char **ret) {
        uint64_t deadline = now_usec() + timeout_usec;
        int r;

        for (;;) {
                for (size_t i = 0; i < j->paths.n; i++)
                        if (streq(j->paths.v[i], job_path)) {
                                *ret = j->results.v[i];
                                return 0;
                        }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                uint64_t n = now_usec();
                if (n >= deadline)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, deadline - n);
                if (r < 0)
                        return r;
        }
}

static int append_exec(sd_bus_message *m, const char *property, bool ignore_failure, char **argv) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", property);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", ignore_failure);
        for (int k = 0; r >= 0 && k < 4; k++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int start_probe_unit(sd_bus *bus, const char *unit, const char *podman, const char *pod,
                            const char *pidfile, uint64_t timeout_usec, char **ret_job,
                            sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *infra = strdup_printf("%s-infra", pod), *pidopt = strdup_printf("--infra-conmon-pidfile=%s", pidfile),
                            *env = strdup_printf("PODMAN_SYSTEMD_UNIT=%s", unit);
        const char *job;
        int r;

        if (!infra || !pidopt || !env)
                return -ENOMEM;
        char *create[] = { (char *) podman, (char *) "pod", (char *) "create", pidopt, (char *) "--replace",
                           (char *) "--infra-name", infra, (char *) "--name", (char *) pod, NULL };
        char *start[] = { (char *) podman, (char *) "pod", (char *) "start", (char *) pod, NULL };
        char *rm[] = { (char *) podman, (char *) "pod", (char *) "rm", (char *) "--ignore", (char *) "--force",
                       (char *) pod, NULL };

        r = sd_bus_message_new_method_call(bus, &m, SD1_DEST, SD1_PATH, SD1_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)",
                                          "Description", "s", "unroot-agent: does this user manager take a pod's PID file?",
                                          "Type", "s", "forking",
                                          "PIDFile", "s", pidfile,
                                          "TimeoutStartUSec", "t", timeout_usec,
                                          "Environment", "as", 1, env);
        if (r >= 0)
                r = append_exec(m, "ExecStartPre", false, create);
        if (r >= 0)
                r = append_exec(m, "ExecStart", false, start);
        if (r >= 0)
                r = append_exec(m, "ExecStopPost", true, rm);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        *ret_job = strdup(job);
        return *ret_job ? 0 : -ENOMEM;
}

static int stop_probe_unit(sd_bus *bus, Jobs *j, const char *unit, uint64_t timeout_usec) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job, *result;
        int r;

        r = sd_bus_call_method(bus, SD1_DEST, SD1_PATH, SD1_MANAGER, "StopUnit", NULL, &reply, "ss", unit, "replace");
        if (r >= 0 && sd_bus_message_read(reply, "o", &job) >= 0) {
                _cleanup_free_ char *path = strdup(job);
                if (!path)
                        return -ENOMEM;
                r = wait_job(bus, j, path, timeout_usec, &result);
                if (r < 0)
                        log_warning_errno(r, "Pod shape probe: stopping %s: %m", unit);
        }
        /* A failed transient unit stays loaded until reset; an inactive one goes by itself. */
        (void) sd_bus_call_method(bus, SD1_DEST, SD1_PATH, SD1_MANAGER, "ResetFailedUnit", NULL, NULL, "s", unit);
        return 0;
}

int pod_shape_probe(const PodShapeProbeOptions *o, PodShape *ret, char **ret_reason) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = NULL, *pod = NULL, *pidfile = NULL, *job = NULL, *upath = NULL,
                            *active = NULL, *result = NULL, *reason = NULL;
        const char *podman = o->podman ?: PODMAN_BINARY, *job_result = NULL;
        uint64_t timeout = o->timeout_usec ?: PROBE_DEFAULT_TIMEOUT_USEC;
        Jobs jobs = {};
        uint32_t main_pid = 0;
        int r;

        if (!o->runtime_dir || o->runtime_dir[0] != '/')
                return -EINVAL;
        pod = strdup_printf("unroot-pod-probe-%d", (int) getpid());
        unit = strdup_printf("%s.service", strempty(pod));
        pidfile = strdup_printf("%s/%s.pid", o->runtime_dir, strempty(pod));
        if (!pod || !unit || !pidfile)
                return -ENOMEM;
        (void) unlink(pidfile);

        r = sd_bus_open_user(&bus);
        if (r < 0) {
                reason = strdup_printf("cannot connect to the user manager: %s", strerror(-r));
                goto finish;
        }
        r = sd_bus_match_signal(bus, &slot, SD1_DEST, SD1_PATH, SD1_MANAGER, "JobRemoved", on_job_removed, &jobs);
        if (r >= 0)
                r = sd_bus_call_method(bus, SD1_DEST, SD1_PATH, SD1_MANAGER, "Subscribe", NULL, NULL, NULL);
        if (r < 0) {
                reason = strdup_printf("cannot watch the user manager's jobs: %s", strerror(-r));
                goto finish;
        }

        log_info("Pod shape probe: starting %s (Type=forking, PIDFile=%s).", unit, pidfile);
        r = start_probe_unit(bus, unit, podman, pod, pidfile, timeout, &job, &error);
        if (r < 0) {
                reason = strdup_printf("StartTransientUnit %s: %s", unit, error.message ?: strerror(-r));
                goto finish;
        }
        r = wait_job(bus, &jobs, job, timeout + 5 * 1000000ULL, &job_result);
        if (r < 0)
                reason = strdup_printf("start job of %s: %s", unit, strerror(-r));
        else {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *p;
                if (sd_bus_call_method(bus, SD1_DEST, SD1_PATH, SD1_MANAGER, "GetUnit", NULL, &reply, "s", unit) >= 0 &&
                    sd_bus_message_read(reply, "o", &p) >= 0)
                        upath = strdup(p);
                if (upath) {
                        (void) sd_bus_get_property_string(bus, SD1_DEST, upath, SD1_UNIT, "ActiveState", NULL, &active);
                        (void) sd_bus_get_property_string(bus, SD1_DEST, upath, SD1_SERVICE, "Result", NULL, &result);
                        (void) sd_bus_get_property_trivial(bus, SD1_DEST, upath, SD1_SERVICE, "MainPID", NULL, 'u', &main_pid);
                }
                if (streq(job_result, "done") && active && streq(active, "active") && main_pid > 0) {
                        *ret = POD_SHAPE_PIDFILE;
                        reason = strdup_printf("a Type=forking unit took the infra conmon (PID %u) from its PID file",
                                               main_pid);
                } else if (result && streq(result, "protocol")) {
                        *ret = POD_SHAPE_WATCH;
                        reason = strdup_printf("the user manager refused the infra conmon's PID file (start job %s, "
                                               "Result=protocol)", job_result);
                } else {
                        r = -EPROTO;
                        reason = strdup_printf("inconclusive: start job %s, ActiveState=%s, Result=%s", job_result,
                                               strna(active), strna(result));
                }
        }
        (void) stop_probe_unit(bus, &jobs, unit, timeout);

finish:
        strv_done(&jobs.paths);
        strv_done(&jobs.results);
        (void) unlink(pidfile);
        if (!reason)
                return -ENOMEM;
        log_full_errno(r < 0 ? LOG_WARNING : LOG_INFO, 0, "Pod shape probe: %s.", reason);
        if (ret_reason)
                *ret_reason = TAKE_PTR(reason);
        if (r >= 0)
                return 0;
        return r == -ETIMEDOUT || r == -EPROTO ? r : -EPROTO;
}

int pod_shape_podman_version(const char *podman, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[256] = "";
        int pipefd[2], status;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execl(podman ?: PODMAN_BINARY, "podman", "--version", (char *) NULL);
                _exit(127);
        }
        safe_close(pipefd[1]);
        f = fdopen(pipefd[0], "r");
        if (!f) {
                safe_close(pipefd[0]);
                (void) waitpid(pid, NULL, 0);
                return -errno;
        }
        if (!fgets(line, sizeof(line), f))
                line[0] = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        line[strcspn(line, "\n")] = 0;
        /* "podman version 4.3.1": the last word. */
        const char *v = strrchr(line, ' ');
        v = v ? v + 1 : line;
        if (!*v)
                return -EBADMSG;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int manager_version(char **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_user(&bus);
        if (r < 0)
                return r;
        return sd_bus_get_property_string(bus, SD1_DEST, SD1_PATH, SD1_MANAGER, "Version", NULL, ret);
}

int pod_shape_decide(const PodShapeProbeOptions *o, PodShapeDecision *ret) {
        _cleanup_(pod_shape_decision_done) PodShapeDecision d = { .shape = _POD_SHAPE_INVALID };
        _cleanup_(pod_shape_decision_done) PodShapeDecision cached = { .shape = _POD_SHAPE_INVALID };
        const char *force = getenv(POD_SHAPE_ENV);
        int r;

        if (force && *force) {
                d.shape = pod_shape_from_string(force);
                if (d.shape < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "$" POD_SHAPE_ENV ": \"%s\" is neither "
                                               "\"pidfile\" nor \"watch\".", force);
                d.forced = true;
                d.reason = strdup("forced by $" POD_SHAPE_ENV);
                if (!d.reason)
                        return -ENOMEM;
                goto done;
        }

        r = manager_version(&d.systemd_version);
        if (r < 0)
                log_warning_errno(r, "Pod shape: cannot read the user manager's version: %m");
        r = pod_shape_podman_version(o->podman, &d.podman_version);
        if (r < 0)
                log_warning_errno(r, "Pod shape: cannot run %s --version: %m", o->podman ?: PODMAN_BINARY);

        if (o->state_dir && pod_shape_cache_read(o->root, o->state_dir, &cached) >= 0 &&
            pod_shape_cache_matches(&cached, d.systemd_version, d.podman_version)) {
                cached.cached = true;
                pod_shape_decision_done(&d);
                d = cached;
                cached = (PodShapeDecision) { .shape = _POD_SHAPE_INVALID };
                goto done;
        }

        r = pod_shape_probe(o, &d.shape, &d.reason);
        if (r == -ENOMEM || r == -EINVAL)
                return r;
        if (r < 0) {
                _cleanup_free_ char *seen = TAKE_PTR(d.reason);
                d.shape = POD_SHAPE_WATCH;
                d.reason = strdup_printf("probe %s; the watcher works either way", strna(seen));
                if (!d.reason)
                        return -ENOMEM;
        } else if (o->state_dir && d.systemd_version && d.podman_version) {
                r = pod_shape_cache_write(o->root, o->state_dir, &d);
                if (r < 0)
                        log_warning_errno(r, "Pod shape: cannot cache the decision in %s/" POD_SHAPE_CACHE_FILE ": %m",
                                          o->state_dir);
        }

done:
        *ret = d;
        d = (PodShapeDecision) { .shape = _POD_SHAPE_INVALID };
        return 0;
}
