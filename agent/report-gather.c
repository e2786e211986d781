/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts.h"
#include "agent-account.h"
#include "fileio.h"
#include "migrate-gather.h"
#include "macro.h"
#include "report-gather.h"
#include "strv-util.h"
#include "unitfile.h"

/* A Quadlet file is a few kilobytes; this only stops a runaway read. */
#define QUADLET_FILE_MAX (1024U * 1024U)

void report_state_done(ReportState *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_services; i++)
                report_service_done(&s->services[i]);
        free(s->services);
        for (size_t i = 0; i < s->n_accounts; i++)
                account_status_done(&s->accounts[i]);
        free(s->accounts);
        strv_free(s->warnings);
        *s = (ReportState) {};
}

static int warn(ReportState *s, const char *fmt, ...) _printf_(2, 3);
static int warn(ReportState *s, const char *fmt, ...) {
        va_list ap;
        char *m;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        return strv_push(&s->warnings, r < 0 ? NULL : m);
}

static ReportService *service_get(ReportState *s, const char *name) {
        ReportService *ns;

        for (size_t i = 0; i < s->n_services; i++)
                if (streq(s->services[i].name, name))
                        return &s->services[i];
        ns = reallocarray(s->services, s->n_services + 1, sizeof(ReportService));
        if (!ns)
                return NULL;
        s->services = ns;
        ns[s->n_services] = (ReportService) { .name = strdup(name) };
        if (!ns[s->n_services].name)
                return NULL;
        return &ns[s->n_services++];
}

static bool name_has_suffix(const char *name, const char *suffix, size_t *ret_base_len) {
        size_t n = strlen(name), k = strlen(suffix);

        if (n <= k || !streq(name + n - k, suffix))
                return false;
        *ret_base_len = n - k;
        return true;
}

typedef struct QuadletFile {
        char *base;   /* "budget-board-server" */
        bool pod;
        char *pod_of; /* .container: the base name of the .pod its Pod= names, if any */
} QuadletFile;

/* The .container and .pod files directly in the root Quadlet directory (not users/: those are
 * per-user files, not root's). */
static int read_quadlet_dir(const char *root, ReportState *s, QuadletFile **ret, size_t *ret_n, ErrorInfo *e) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        QuadletFile *files = NULL;
        size_t n = 0;
        struct dirent *de;
        int r = 0;

        if (asprintf(&dir, "%s%s", root && !streq(root, "/") ? root : "", REPORT_QUADLET_DIR) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                return error_set(e, -errno, "root", "cannot list %s: %s", dir, strerror(errno));
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL, *pod = NULL;
                _cleanup_(unit_file_freep) UnitFile *uf = NULL;
                size_t blen, len;
                bool is_pod;
                QuadletFile *nf;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (name_has_suffix(de->d_name, ".container", &blen))
                        is_pod = false;
                else if (name_has_suffix(de->d_name, ".pod", &blen))
                        is_pod = true;
                else
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                /* Quadlet follows symlinks to unit files; so does the count. */
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                nf = reallocarray(files, n + 1, sizeof(QuadletFile));
                if (!nf) {
                        r = -ENOMEM;
                        break;
                }
                files = nf;
                files[n] = (QuadletFile) { .base = strndup(de->d_name, blen), .pod = is_pod };
                if (!files[n++].base) {
                        r = -ENOMEM;
                        break;
                }
                if (is_pod)
                        continue;

                /* Only a member's Pod= is needed; a file that cannot be read still counts as a service. */
                r = read_file_limited(path, 0, QUADLET_FILE_MAX, &text, &len);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        r = warn(s, "%s: cannot read (%s): counted as a service of its own", path, strerror(-r));
                        if (r < 0)
                                break;
                        continue;
                }
                r = unit_file_parse(text, len, path, &uf, &err);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        r = warn(s, "%s: cannot be parsed (%s): counted as a service of its own", path,
                                 err ?: "syntax error");
                        if (r < 0)
                                break;
                        continue;
                }
                pod = unit_file_lookup(uf, "Container", "Pod");
                if (pod && name_has_suffix(pod, ".pod", &blen) && !strchr(pod, '/')) {
                        files[n - 1].pod_of = strndup(pod, blen);
                        if (!files[n - 1].pod_of) {
                                r = -ENOMEM;
                                break;
                        }
                }
                r = 0;
        }
        if (r >= 0 && errno != 0)
                r = error_set(e, -errno, "root", "cannot list %s: %s", dir, strerror(errno));
        if (r < 0) {
                for (size_t i = 0; i < n; i++) {
                        free(files[i].base);
                        free(files[i].pod_of);
                }
                free(files);
                return r;
        }
        *ret = files;
        *ret_n = n;
        return 0;
}

static bool have_pod(const QuadletFile *f, size_t n, const char *base) {
        for (size_t i = 0; i < n; i++)
                if (f[i].pod && streq(f[i].base, base))
                        return true;
        return false;
}

static int add_root_services(const char *root, ReportState *s, ErrorInfo *e) {
        QuadletFile *files = NULL;
        size_t n = 0;
        int r;

        r = read_quadlet_dir(root, s, &files, &n, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const QuadletFile *f = &files[i];
                ReportService *svc;

                if (!f->pod && f->pod_of && have_pod(files, n, f->pod_of))
                        continue; /* a member: counted with its pod */
                svc = service_get(s, f->base);
                if (!svc) {
                        r = -ENOMEM;
                        break;
                }
                svc->root_files_present = true;
                svc->pod = f->pod;
                if (!f->pod)
                        continue;
                if (!svc->members && !(svc->members = calloc(1, sizeof(char *)))) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t j = 0; j < n && r >= 0; j++)
                        if (!files[j].pod && files[j].pod_of && streq(files[j].pod_of, f->base))
                                r = strv_push(&svc->members, strdup(files[j].base));
        }
        for (size_t i = 0; i < n; i++) {
                free(files[i].base);
                free(files[i].pod_of);
        }
        free(files);
        return r;
}

static int add_records(const char *root, ReportState *s, ErrorInfo *e) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = migrate_record_list(root, &names);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(e, r, "root", "cannot list the migration records in %s%s: %s%s",
                                 root && !streq(root, "/") ? root : "", MIGRATE_STATE_DIR, strerror(-r),
                                 r == -EACCES ? " (agentctl report reads them as root)" : "");
        for (char **n = names; *n; n++) {
                _cleanup_(migrate_record_done) MigrateRecord rec = {};
                ErrorInfo re = {};
                ReportService *svc;

                r = migrate_record_load(root, *n, &rec, &re);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT) {
                        /* A directory without a record: an apply that died before its first write. */
                        r = warn(s, "%s%s/%s has no %s: skipped", root && !streq(root, "/") ? root : "",
                                 MIGRATE_STATE_DIR, *n, MIGRATE_RECORD_FILE);
                        if (r < 0)
                                return r;
                        continue;
                }
                svc = service_get(s, *n);
                if (!svc)
                        return -ENOMEM;
                if (r < 0) {
                        svc->record_error = strdup(re.message);
                        if (!svc->record_error)
                                return -ENOMEM;
                        r = warn(s, "skipped %s", re.message);
                        if (r < 0)
                                return r;
                        continue;
                }
                svc->record = malloc(sizeof(MigrateRecord));
                if (!svc->record)
                        return -ENOMEM;
                *svc->record = rec;
                rec = (MigrateRecord) {};
                svc->pod = svc->pod || svc->record->pod;
        }
        return 0;
}

/* The planner's account is only where the plan would move a service; what blocks a move (ports,
 * images, volumes, references) does not depend on it, so one name that is no account serves all
 * (not "unroot-…": that namespace is reserved and refused). */
#define REPORT_PLAN_ACCOUNT "migration-report"

static bool wants_blockers(const ReportService *svc) {
        /* Not a failed or unreadable record: the planner refuses those until apply or rollback ran. */
        return svc->root_files_present && !svc->record_error &&
               (!svc->record || svc->record->state == MIGRATE_STATE_ROLLED_BACK);
}

/* What `agentctl migrate plan` says blocks each service still on root. The host's facts are
 * gathered once; a planner error is a warning, never the end of the report. */
static int add_blockers(const char *root, ReportState *s) {
        _cleanup_(migrate_sources_done) MigrateSources src = {};
        _cleanup_(migrate_host_done) MigrateHost host = {};
        bool any = false;
        ErrorInfo e = {};
        int r;

        for (size_t i = 0; i < s->n_services; i++)
                any = any || wants_blockers(&s->services[i]);
        if (!any)
                return 0;
        r = migrate_sources_load(root, &src, &e);
        if (r >= 0)
                r = migrate_host_gather(root, REPORT_PLAN_ACCOUNT, false, &host, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return warn(s, "what blocks the services still on root is not known: %s", e.message);

        for (size_t i = 0; i < s->n_services; i++) {
                ReportService *svc = &s->services[i];
                _cleanup_(migrate_plan_freep) MigratePlan *plan = NULL;
                char *const services[] = { svc->name, NULL };

                if (!wants_blockers(svc))
                        continue;
                e = (ErrorInfo) {};
                r = migrate_plan_build(&src, services, &host.facts, &plan, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = warn(s, "%s: the migration planner cannot plan it: %s", svc->name, e.message);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!svc->blockers && !(svc->blockers = calloc(1, sizeof(char *))))
                        return -ENOMEM;
                for (size_t k = 0; k < plan->n_blockers; k++) {
                        const MigrateBlocker *b = &plan->blockers[k];
                        char *text = NULL;
                        size_t sz = 0;
                        FILE *f = open_memstream(&text, &sz);

                        if (!f)
                                return -ENOMEM;
                        fputs(b->reason, f);
                        for (size_t c = 0; c < b->choices.n; c++)
                                fprintf(f, "%s%s", c == 0 ? " (choices: " : "; ", b->choices.v[c]);
                        if (b->choices.n > 0)
                                fputc(')', f);
                        if (fclose(f) != 0) {
                                free(text);
                                return -ENOMEM;
                        }
                        r = strv_push(&svc->blockers, text);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int cmp_service(const void *a, const void *b) {
        return strcmp(((const ReportService *) a)->name, ((const ReportService *) b)->name);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int collect_accounts(const char *root, sd_bus *bus, int timeout_ms, ReportState *s) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        size_t n;
        int r;

        if (!names)
                return -ENOMEM;
        /* The accounts of every record that has or may have units running. */
        for (size_t i = 0; i < s->n_services; i++) {
                const MigrateRecord *rec = s->services[i].record;
                if (!rec || rec->state == MIGRATE_STATE_ROLLED_BACK || rec->state == MIGRATE_STATE_FAILED ||
                    strv_contains(names, rec->account))
                        continue;
                r = strv_push(&names, strdup(rec->account));
                if (r < 0)
                        return r;
        }
        /* And every enrolled account, even one without services: from NSS on the real system, as
         * `agentctl status` lists them; below another root from its group file. */
        {
                _cleanup_strv_free_ char **enrolled = NULL;
                ErrorInfo ae = {};

                if (!root || streq(root, "/"))
                        r = agent_enrolled_accounts(&enrolled);
                else
                        r = accounts_list(root, &enrolled, &ae);
                if (r == -ENOMEM)
                        return r;
                for (char **a = r >= 0 ? enrolled : NULL; a && *a; a++)
                        if (!strv_contains(names, *a)) {
                                r = strv_push(&names, strdup(*a));
                                if (r < 0)
                                        return r;
                        }
        }
        n = strv_length(names);
        qsort(names, n, sizeof(char *), cmp_str);
        s->accounts = calloc(MAX(n, (size_t) 1), sizeof(AccountStatus));
        if (!s->accounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = account_status_collect(root, bus, names[i], timeout_ms, &s->accounts[i]);
                s->n_accounts = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

int report_gather(const char *root, sd_bus *system_bus, int agent_timeout_ms, ReportState *ret, ErrorInfo *e) {
        _cleanup_(report_state_done) ReportState s = {};
        int r;

        s.warnings = calloc(1, sizeof(char *));
        if (!s.warnings)
                return -ENOMEM;
        r = add_root_services(root, &s, e);
        if (r >= 0)
                r = add_records(root, &s, e);
        if (r >= 0)
                r = add_blockers(root, &s);
        if (r < 0)
                return r;
        if (s.n_services > 0)
                qsort(s.services, s.n_services, sizeof(ReportService), cmp_service);
        r = collect_accounts(root, system_bus, agent_timeout_ms, &s);
        if (r < 0)
                return r;
        *ret = s;
        s = (ReportState) {};
        return 0;
}

ReportInput report_state_input(const ReportState *s, const char *generated, const char *host) {
        return (ReportInput) {
                .generated = generated,
                .host = host,
                .services = s->services,
                .n_services = s->n_services,
                .accounts = s->accounts,
                .n_accounts = s->n_accounts,
                .warnings = s->warnings,
        };
}
