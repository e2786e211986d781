/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A migration plan as JSON and as the text `agentctl migrate plan` prints: every step, in the order
 * apply takes them, each rewrite with its reason. */
#include <string.h>

#include "agentctl-output.h"
#include "migrate-plan.h"

static void json_key(FILE *f, bool *first, const char *key) {
        if (!*first)
                fputc(',', f);
        *first = false;
        json_write_string(f, key);
        fputc(':', f);
}

static void json_kv(FILE *f, bool *first, const char *key, const char *value) {
        json_key(f, first, key);
        json_write_string(f, value);
}

static void json_strv(FILE *f, bool *first, const char *key, const Strv *v) {
        json_key(f, first, key);
        fputc('[', f);
        for (size_t i = 0; i < v->n; i++) {
                if (i > 0)
                        fputc(',', f);
                json_write_string(f, v->v[i]);
        }
        fputc(']', f);
}

static const char *file_role(MigrateFileRole r) {
        return r == MIGRATE_FILE_MAIN ? "main" : r == MIGRATE_FILE_MEMBER ? "pod-member" : "referenced";
}

void migrate_plan_write_json(const MigratePlan *p, FILE *f) {
        bool first = true;

        fputc('{', f);
        json_kv(f, &first, "account", p->account);
        json_key(f, &first, "enroll");
        fputs(p->enroll ? "true" : "false", f);
        json_key(f, &first, "id_map");
        if (p->enroll)
                fputs("null", f);
        else
                fprintf(f, "{\"uid_0\":%u,\"subuid_start\":%u,\"subgid_start\":%u,"
                        "\"rule\":\"container id 0 -> account, N -> start+N-1\"}",
                        p->account_uid, p->subuid_start, p->subgid_start);
        json_key(f, &first, "ok");
        fputs(p->n_blockers == 0 ? "true" : "false", f);

        json_key(f, &first, "services");
        fputc('[', f);
        for (size_t i = 0; i < p->n_services; i++) {
                const MigrateService *s = &p->services[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", s->name);
                json_kv(f, &ff, "kind", s->is_pod ? "pod" : "container");
                json_strv(f, &ff, "units", &s->units);
                json_strv(f, &ff, "root_files", &s->root_files);
                json_strv(f, &ff, "techniques", &s->techniques);
                json_strv(f, &ff, "host_changes", &s->host_changes);
                fputc('}', f);
        }
        fputc(']', f);

        json_key(f, &first, "files");
        fputc('[', f);
        for (size_t i = 0; i < p->n_files; i++) {
                const MigrateFile *m = &p->files[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", m->service);
                json_kv(f, &ff, "name", m->name);
                json_kv(f, &ff, "root_path", m->root_path);
                json_kv(f, &ff, "unit", m->unit);
                json_kv(f, &ff, "role", file_role(m->role));
                json_kv(f, &ff, "text", m->text);
                fputc('}', f);
        }
        fputc(']', f);

        json_key(f, &first, "shifts");
        fputc('[', f);
        for (size_t i = 0; i < p->n_shifts; i++) {
                const MigrateShift *s = &p->shifts[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", s->service);
                json_kv(f, &ff, "file", s->file);
                json_kv(f, &ff, "kind", s->kind == MIGRATE_SHIFT_BIND ? "bind" : "volume");
                json_kv(f, &ff, "source", s->source);
                json_kv(f, &ff, "host_path", s->host_path);
                json_kv(f, &ff, "target", s->target);
                fputc('}', f);
        }
        fputc(']', f);

        json_key(f, &first, "images");
        fputc('[', f);
        for (size_t i = 0; i < p->n_images; i++) {
                const MigrateImage *m = &p->images[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", m->service);
                json_kv(f, &ff, "image", m->image);
                json_key(f, &ff, "pull_never");
                fputs(m->pull_never ? "true" : "false", f);
                json_kv(f, &ff, "reason", m->reason);
                fputc('}', f);
        }
        fputc(']', f);

        json_key(f, &first, "secrets");
        fputc('[', f);
        for (size_t i = 0; i < p->n_secrets; i++) {
                const MigrateSecret *s = &p->secrets[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", s->service);
                json_kv(f, &ff, "kind", s->kind == MIGRATE_SECRET_PODMAN ? "podman" : "file");
                json_kv(f, &ff, "name", s->name);
                json_kv(f, &ff, "owner", s->owner);
                json_kv(f, &ff, "group", s->group);
                json_kv(f, &ff, "how", s->how);
                fputc('}', f);
        }
        fputc(']', f);

        json_key(f, &first, "rewrites");
        fputc('[', f);
        for (size_t i = 0; i < p->n_rewrites; i++) {
                const MigrateRewrite *w = &p->rewrites[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", w->service);
                json_kv(f, &ff, "file", w->file);
                json_kv(f, &ff, "key", w->key);
                json_kv(f, &ff, "before", w->before);
                json_kv(f, &ff, "after", w->after);
                json_kv(f, &ff, "technique", w->technique);
                json_kv(f, &ff, "reason", w->reason);
                fputc('}', f);
        }
        fputc(']', f);

        json_strv(f, &first, "host_changes", &p->host_notes);

        json_key(f, &first, "blockers");
        fputc('[', f);
        for (size_t i = 0; i < p->n_blockers; i++) {
                const MigrateBlocker *b = &p->blockers[i];
                bool ff = true;
                fputs(i ? ",{" : "{", f);
                json_kv(f, &ff, "service", b->service);
                json_kv(f, &ff, "field", b->field);
                json_kv(f, &ff, "reason", b->reason);
                json_strv(f, &ff, "choices", &b->choices);
                fputc('}', f);
        }
        fputs("]}\n", f);
}

void migrate_plan_write_text(const MigratePlan *p, FILE *f) {
        unsigned step = 0;

        fprintf(f, "Migration plan: ");
        for (size_t i = 0; i < p->n_services; i++)
                fprintf(f, "%s%s%s", i ? ", " : "", p->services[i].name, p->services[i].is_pod ? " (pod)" : "");
        fprintf(f, " -> account '%s'\n", p->account);

        if (p->enroll)
                fprintf(f, "%2u. enroll '%s': it is not an unroot account yet (account, subuid/subgid ranges, "
                        "linger, agent)\n", ++step, p->account);
        else
                fprintf(f, "%2u. '%s' is enrolled (uid %u, subuids from %u, subgids from %u)\n", ++step,
                        p->account, p->account_uid, p->subuid_start, p->subgid_start);

        fprintf(f, "%2u. stop the root units:", ++step);
        for (size_t i = 0; i < p->n_files; i++)
                fprintf(f, " %s", p->files[i].unit);
        fputc('\n', f);

        fprintf(f, "%2u. shift the ownership of the data through the helper", ++step);
        if (p->enroll)
                fprintf(f, " (id map: container uid/gid 0 -> the account, N -> subuid/subgid start + N - 1; "
                        "known after enrolling)");
        else
                fprintf(f, " (id map: container uid 0 -> %u, N -> %u+N-1; gid 0 -> the account's group, "
                        "N -> %u+N-1)", p->account_uid, p->subuid_start, p->subgid_start);
        fputs(p->n_shifts ? ":\n" : ": nothing to shift\n", f);
        for (size_t i = 0; i < p->n_shifts; i++) {
                const MigrateShift *s = &p->shifts[i];
                if (s->kind == MIGRATE_SHIFT_BIND)
                        fprintf(f, "      %s  (bind mount at %s, %s)\n", s->host_path, s->target, s->file);
                else
                        fprintf(f, "      volume '%s' at %s  (mounted at %s, %s): moved into the account's "
                                "volume store and shifted there\n", s->source, s->host_path, s->target, s->file);
        }

        fprintf(f, "%2u. copy images from root's store to the account's store%s\n", ++step,
                p->n_images ? ":" : ": none");
        for (size_t i = 0; i < p->n_images; i++)
                fprintf(f, "      %s%s: %s\n", p->images[i].image, p->images[i].pull_never ? " (Pull=never)" : "",
                        p->images[i].reason);

        fprintf(f, "%2u. secrets%s\n", ++step, p->n_secrets ? ":" : ": none");
        for (size_t i = 0; i < p->n_secrets; i++)
                fprintf(f, "      %s %s: %s\n", p->secrets[i].kind == MIGRATE_SECRET_PODMAN ? "podman secret" : "file",
                        p->secrets[i].name, p->secrets[i].how);

        fprintf(f, "%2u. install the Quadlet files into ~%s/.config/containers/systemd (owned by the account), "
                "keeping byte copies of the root files:\n", ++step, p->account);
        for (size_t i = 0; i < p->n_files; i++)
                fprintf(f, "      %s -> %s  (unit %s)\n", p->files[i].root_path, p->files[i].name, p->files[i].unit);
        if (p->n_rewrites)
                fprintf(f, "    with these rewrites:\n");
        for (size_t i = 0; i < p->n_rewrites; i++) {
                const MigrateRewrite *w = &p->rewrites[i];
                fprintf(f, "      %s %s: %s -> %s  [%s]\n        why: %s\n", w->file, w->key,
                        w->before ? w->before : "(not set)", w->after ? w->after : "(removed)", w->technique,
                        w->reason);
        }

        fprintf(f, "%2u. reapply the account's agent, start the units and wait until they are active and healthy:",
                ++step);
        for (size_t i = 0; i < p->n_services; i++)
                for (size_t j = 0; j < p->services[i].units.n; j++)
                        fprintf(f, " %s", p->services[i].units.v[j]);
        fputc('\n', f);

        fprintf(f, "\nHost changes the admin must make%s\n", p->host_notes.n ? ":" : ": none");
        for (size_t i = 0; i < p->host_notes.n; i++)
                fprintf(f, "  - %s\n", p->host_notes.v[i]);

        fprintf(f, "\nTechniques:");
        for (size_t i = 0; i < p->n_services; i++) {
                fprintf(f, "%s %s:", i ? ";" : "", p->services[i].name);
                if (p->services[i].techniques.n == 0)
                        fprintf(f, " (none)");
                for (size_t j = 0; j < p->services[i].techniques.n; j++)
                        fprintf(f, " %s", p->services[i].techniques.v[j]);
        }
        fputc('\n', f);

        if (p->n_blockers == 0) {
                fprintf(f, "\nNothing blocks the move.\n");
                return;
        }
        fprintf(f, "\nBlocked (apply refuses until these are resolved):\n");
        for (size_t i = 0; i < p->n_blockers; i++) {
                const MigrateBlocker *b = &p->blockers[i];
                fprintf(f, "  - %s [%s]: %s\n", b->service, b->field, b->reason);
                for (size_t j = 0; j < b->choices.n; j++)
                        fprintf(f, "      choice: %s\n", b->choices.v[j]);
        }
}
