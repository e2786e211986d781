/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentctl-output.h"
#include "agentctl-status.h"
#include "macro.h"

void account_status_done(AccountStatus *s) {
        if (!s)
                return;
        free(s->name);
        free(s->error);
        free(s->ranges_error);
        agent_account_done(&s->account);
        free(s->user_manager);
        agent_status_result_done(&s->agent);
        *s = (AccountStatus) {};
}

const char *linger_dir(void) {
        const char *p = secure_getenv("UNROOT_LINGER_DIR");
        return p && *p ? p : "/var/lib/systemd/linger";
}

char *user_manager_state(sd_bus *bus, uint32_t uid) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char unit[64], *state = NULL;
        const char *path;
        int r;

        if (!bus)
                return strdup("unknown");
        (void) snprintf(unit, sizeof unit, "user@%u.service", (unsigned) uid);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply, "s", unit);
        if (r < 0) {
                /* Not loaded means not running: GetUnit only knows loaded units, and LoadUnit would
                 * load it just to say "inactive". */
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        return strdup("inactive");
                return strdup("unknown");
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return strdup("unknown");
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", &error, &state);
        if (r < 0)
                return strdup("unknown");
        return state;
}

int account_status_collect(const char *root, sd_bus *system_bus, const char *name, int agent_timeout_ms,
                           AccountStatus *s) {
        _cleanup_free_ char *lpath = NULL, *sock = NULL, *home = NULL;
        const char *prefix = root && !streq(root, "/") ? root : "";
        ErrorInfo e = {};
        struct stat st;
        int r;

        *s = (AccountStatus) { .agent.state = AGENT_STATE_NOT_RUNNING };
        s->name = strdup(name);
        if (!s->name)
                return -ENOMEM;

        r = agent_account_lookup(root, name, &s->account, &e);
        if (r < 0) {
                s->error = strdup(e.message[0] ? e.message : strerror(-r));
                return s->error ? 0 : -ENOMEM;
        }
        s->found = true;
        if (!s->account.have_ranges) {
                s->ranges_error = strdup(e.message[0] ? e.message : "subordinate id ranges unavailable");
                if (!s->ranges_error)
                        return -ENOMEM;
        }

        /* logind keeps one empty file per lingering user; its presence is the setting. */
        if (asprintf(&lpath, "%s%s/%s", prefix, linger_dir(), name) < 0)
                return -ENOMEM;
        s->linger = lstat(lpath, &st) == 0;

        s->user_manager = user_manager_state(system_bus, s->account.uid);
        if (!s->user_manager)
                return -ENOMEM;

        if (asprintf(&home, "%s%s", prefix, s->account.home) < 0)
                return -ENOMEM;
        sock = agent_socket_path_for_home(home);
        if (!sock)
                return -ENOMEM;
        (void) agent_query_status(sock, agent_timeout_ms, &s->agent);
        return 0;
}

char *agent_state_describe(const AgentStatusResult *a) {
        char *s = NULL;
        int r;

        switch (a->state) {
        case AGENT_STATE_ANSWERING:
                r = asprintf(&s, "answering (unroot %s, manager %s)", a->version, a->manager_state);
                break;
        case AGENT_STATE_NOT_RUNNING:
                r = asprintf(&s, "not running");
                break;
        case AGENT_STATE_REFUSED:
                r = asprintf(&s, "refused (run as root or in group %s)", UNROOT_ADMINS_GROUP);
                break;
        case AGENT_STATE_ERROR:
        default:
                r = asprintf(&s, "error: %s", a->message ?: "unknown");
                break;
        }
        return r < 0 ? NULL : s;
}

char *subid_range_format(bool known, uint32_t start, uint32_t count) {
        char *s;

        if (!known)
                return strdup("?");
        if (count == 0)
                return strdup("-");
        if (asprintf(&s, "%u:%u", start, count) < 0)
                return NULL;
        return s;
}

char *usec_format(uint64_t usec) {
        char buf[64];
        time_t t;
        struct tm tm;

        if (usec == 0)
                return strdup("-");
        t = (time_t) (usec / 1000000ULL);
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return strdup("?");
        return strdup(buf);
}

int units_print_table(const AccountStatus *s, size_t n, FILE *f) {
        static const char *const headers[] = { "UNIT", "ACTIVE", "SUB", "SINCE", "RESTARTS", "HEALTH", "PID",
                                                "SOURCE", "PROBLEM" };
        size_t rows = 0;
        Table *t;
        int r = 0;

        t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align_right(t, 4);
        table_set_align_right(t, 6);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const AgentStatusResult *a = &s[i].agent;
                if (a->state != AGENT_STATE_ANSWERING)
                        continue;
                for (size_t k = 0; k < a->n_units && r >= 0; k++) {
                        const AgentUnitInfo *u = &a->units[k];
                        _cleanup_free_ char *name = NULL, *since = usec_format(u->since_usec), *restarts = NULL,
                                            *pid = NULL, *problem = NULL;
                        if (asprintf(&name, "%s/%s", s[i].name, u->name) < 0 ||
                            asprintf(&restarts, "%u", u->n_restarts) < 0 ||
                            asprintf(&pid, "%u", u->main_pid) < 0 || !since) {
                                r = -ENOMEM;
                                break;
                        }
                        if (u->translation_error && u->apply_error)
                                r = asprintf(&problem, "%s; %s", u->translation_error, u->apply_error) < 0 ? -ENOMEM : 0;
                        else if (u->translation_error || u->apply_error)
                                problem = strdup(u->translation_error ?: u->apply_error);
                        if (r < 0)
                                break;
                        const char *cells[] = { name, u->active_state, u->sub_state, since, restarts,
                                                u->health, u->main_pid ? pid : NULL, u->source, problem };
                        r = table_add_row(t, cells);
                        rows++;
                }
        }
        if (r >= 0 && rows > 0) {
                fputc('\n', f);
                r = table_print(t, f);
        }
        for (size_t i = 0; i < n; i++) {
                const AgentStatusResult *a = &s[i].agent;
                if (a->state != AGENT_STATE_ANSWERING)
                        continue;
                /* Error texts quote file content: no control characters onto the terminal. */
                for (char **e = a->errors; e && *e; e++) {
                        fprintf(f, "%s: ", s[i].name);
                        for (const char *c = *e; *c; c++)
                                fputc((unsigned char) *c < 0x20 || *c == 0x7f ? ' ' : *c, f);
                        fputc('\n', f);
                }
        }
        table_free(t);
        return r;
}

int account_status_print_table(const AccountStatus *s, size_t n, FILE *f) {
        static const char *const headers[] = { "ACCOUNT", "UID", "SUBUID", "SUBGID", "LINGER", "USER MANAGER", "AGENT" };
        Table *t;
        int r = 0;

        t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align_right(t, 1);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *uid = NULL, *su = NULL, *sg = NULL, *agent = NULL;

                if (!s[i].found) {
                        const char *cells[] = { s[i].name, "-", "-", "-", "-", "-", s[i].error ?: "no such user" };
                        r = table_add_row(t, cells);
                        continue;
                }
                if (asprintf(&uid, "%u", s[i].account.uid) < 0)
                        uid = NULL;
                su = subid_range_format(s[i].account.have_ranges, s[i].account.subuid_start, s[i].account.subuid_count);
                sg = subid_range_format(s[i].account.have_ranges, s[i].account.subgid_start, s[i].account.subgid_count);
                agent = agent_state_describe(&s[i].agent);
                if (!uid || !su || !sg || !agent) {
                        r = -ENOMEM;
                        break;
                }
                const char *cells[] = { s[i].name, uid, su, sg, s[i].linger ? "yes" : "no", s[i].user_manager, agent };
                r = table_add_row(t, cells);
        }
        if (r >= 0)
                r = table_print(t, f);
        table_free(t);
        return r;
}

static void write_range(FILE *f, bool known, uint32_t start, uint32_t count) {
        if (!known || count == 0)
                fputs("null", f);
        else
                fprintf(f, "{\"start\":%u,\"count\":%u}", start, count);
}

void agent_status_write_json(const AgentStatusResult *a, FILE *f) {
        fputs("{\"state\":", f);
        json_write_string(f, agent_state_to_string(a->state));
        fputs(",\"version\":", f);
        json_write_string(f, a->version);
        fputs(",\"manager_state\":", f);
        json_write_string(f, a->manager_state);
        fputs(",\"message\":", f);
        json_write_string(f, a->message);
        fputs(",\"podman_version\":", f);
        json_write_string(f, a->podman_version);
        fputs(",\"pod_shape\":", f);
        json_write_string(f, a->pod_shape);
        fputs(",\"pod_shape_reason\":", f);
        json_write_string(f, a->pod_shape_reason);
        fprintf(f, ",\"last_apply_usec\":%" PRIu64 ",\"errors\":[", a->last_apply_usec);
        for (char **e = a->errors; e && *e; e++) {
                if (e != a->errors)
                        fputc(',', f);
                json_write_string(f, *e);
        }
        fputs("],\"units\":[", f);
        for (size_t i = 0; i < a->n_units; i++) {
                const AgentUnitInfo *u = &a->units[i];
                if (i > 0)
                        fputc(',', f);
                fputs("{\"name\":", f);
                json_write_string(f, u->name);
                fputs(",\"source\":", f);
                json_write_string(f, u->source);
                fputs(",\"load_state\":", f);
                json_write_string(f, u->load_state);
                fputs(",\"active_state\":", f);
                json_write_string(f, u->active_state);
                fputs(",\"sub_state\":", f);
                json_write_string(f, u->sub_state);
                fprintf(f, ",\"since_usec\":%" PRIu64 ",\"n_restarts\":%u,\"main_pid\":%u,\"health\":",
                        u->since_usec, u->n_restarts, u->main_pid);
                json_write_string(f, u->health);
                fputs(",\"translation_error\":", f);
                json_write_string(f, u->translation_error);
                fputs(",\"apply_error\":", f);
                json_write_string(f, u->apply_error);
                fputc('}', f);
        }
        fputs("]}", f);
}

void account_status_write_json(const AccountStatus *s, FILE *f) {
        fputs("{\"name\":", f);
        json_write_string(f, s->name);
        fprintf(f, ",\"found\":%s", s->found ? "true" : "false");
        if (!s->found) {
                fputs(",\"error\":", f);
                json_write_string(f, s->error);
                fputc('}', f);
                return;
        }
        fprintf(f, ",\"uid\":%u,\"gid\":%u,\"home\":", s->account.uid, s->account.gid);
        json_write_string(f, s->account.home);
        fprintf(f, ",\"ranges_known\":%s,\"subuid\":", s->account.have_ranges ? "true" : "false");
        write_range(f, s->account.have_ranges, s->account.subuid_start, s->account.subuid_count);
        fputs(",\"subgid\":", f);
        write_range(f, s->account.have_ranges, s->account.subgid_start, s->account.subgid_count);
        fputs(",\"ranges_error\":", f);
        json_write_string(f, s->ranges_error);
        fprintf(f, ",\"linger\":%s,\"user_manager\":", s->linger ? "true" : "false");
        json_write_string(f, s->user_manager);
        fputs(",\"agent\":", f);
        agent_status_write_json(&s->agent, f);
        fputc('}', f);
}

void account_status_print_json(const AccountStatus *s, size_t n, FILE *f) {
        fputs("{\"accounts\":[", f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                account_status_write_json(&s[i], f);
        }
        fputs("]}\n", f);
}
