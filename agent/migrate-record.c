/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "json-parse.h"
#include "macro.h"
#include "migrate-record.h"
#include "strv-util.h"

static const char *const state_names[_MIGRATE_STATE_MAX] = {
        [MIGRATE_STATE_APPLYING] = "applying",
        [MIGRATE_STATE_APPLIED] = "applied",
        [MIGRATE_STATE_ROLLING_BACK] = "rolling-back",
        [MIGRATE_STATE_ROLLED_BACK] = "rolled-back",
        [MIGRATE_STATE_FAILED] = "failed",
};

const char *migrate_record_state_to_string(MigrateState s) {
        return s >= 0 && s < _MIGRATE_STATE_MAX ? state_names[s] : NULL;
}

MigrateState migrate_record_state_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
                if (streq(s, state_names[i]))
                        return (MigrateState) i;
        return _MIGRATE_STATE_INVALID;
}

void migrate_record_done(MigrateRecord *r) {
        if (!r)
                return;
        free(r->service);
        free(r->account);
        free(r->step);
        strv_free(r->units);
        strv_free(r->root_files);
        strv_free(r->techniques);
        strv_free(r->host_changes);
        free(r->error);
        free(r->updated);
        *r = (MigrateRecord) {};
}

/* A value printed into Markdown and onto terminals: no control characters. */
static bool text_ok(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* A name used as a directory and unit name part: non-empty, no '/', not "." or "..". */
static bool name_ok(const char *s) {
        return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && text_ok(s);
}

static int get_string(const JsonValue *o, const char *key, bool required, bool name, const char *path,
                      char **ret, ErrorInfo *e) {
        const JsonValue *v = json_object_get(o, key);

        *ret = NULL;
        if (!v || v->type == JSON_NULL) {
                if (required)
                        return error_set(e, -EINVAL, key, "%s: field '%s' is missing", path, key);
                return 0;
        }
        if (v->type != JSON_STRING)
                return error_set(e, -EINVAL, key, "%s: field '%s' must be a string, not %s", path, key,
                                 json_type_to_string(v->type));
        if (name ? !name_ok(v->text) : !text_ok(v->text))
                return error_set(e, -EINVAL, key, "%s: field '%s': '%s' is not a valid %s", path, key, v->text,
                                 name ? "name (empty, '.', '..', or contains '/' or a control character)"
                                      : "text (contains a control character)");
        *ret = strdup(v->text);
        return *ret ? 0 : -ENOMEM;
}

/* An array of non-empty strings; absent or null is an empty list. */
static int get_strv(const JsonValue *o, const char *key, const char *path, char ***ret, ErrorInfo *e) {
        const JsonValue *v = json_object_get(o, key);
        _cleanup_strv_free_ char **l = NULL;

        l = calloc((v && v->type == JSON_ARRAY ? v->n_items : 0) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        if (v && v->type != JSON_NULL) {
                if (v->type != JSON_ARRAY)
                        return error_set(e, -EINVAL, key, "%s: field '%s' must be an array of strings, not %s", path,
                                         key, json_type_to_string(v->type));
                for (size_t i = 0; i < v->n_items; i++) {
                        const JsonValue *it = &v->items[i];
                        char field[64];

                        (void) snprintf(field, sizeof field, "%s[%zu]", key, i);
                        if (it->type != JSON_STRING)
                                return error_set(e, -EINVAL, field, "%s: field '%s' must be a string, not %s", path,
                                                 field, json_type_to_string(it->type));
                        if (!*it->text || !text_ok(it->text))
                                return error_set(e, -EINVAL, field, "%s: field '%s' is empty or contains a control "
                                                 "character", path, field);
                        l[i] = strdup(it->text);
                        if (!l[i])
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int migrate_record_parse(const char *text, size_t len, const char *path, MigrateRecord *ret, ErrorInfo *e) {
        _cleanup_(json_value_done) JsonValue doc = {};
        _cleanup_(migrate_record_done) MigrateRecord rec = {};
        _cleanup_free_ char *why = NULL, *kind = NULL, *state = NULL;
        int r;

        r = json_parse(text, len, &doc, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(e, r, "", "%s: not valid JSON: %s", path, why ?: "parse error");
        if (doc.type != JSON_OBJECT)
                return error_set(e, -EINVAL, "", "%s: must hold one JSON object, not %s", path,
                                 json_type_to_string(doc.type));

        r = get_string(&doc, "service", true, true, path, &rec.service, e);
        if (r >= 0)
                r = get_string(&doc, "account", true, true, path, &rec.account, e);
        if (r >= 0)
                r = get_string(&doc, "kind", true, false, path, &kind, e);
        if (r >= 0)
                r = get_string(&doc, "state", true, false, path, &state, e);
        if (r >= 0)
                r = get_string(&doc, "step", false, false, path, &rec.step, e);
        if (r >= 0)
                r = get_strv(&doc, "units", path, &rec.units, e);
        if (r >= 0)
                r = get_strv(&doc, "root_files", path, &rec.root_files, e);
        if (r >= 0)
                r = get_strv(&doc, "techniques", path, &rec.techniques, e);
        if (r >= 0)
                r = get_strv(&doc, "host_changes", path, &rec.host_changes, e);
        if (r >= 0)
                r = get_string(&doc, "error", false, false, path, &rec.error, e);
        if (r >= 0)
                r = get_string(&doc, "updated", false, false, path, &rec.updated, e);
        if (r < 0)
                return r;

        if (streq(kind, "pod"))
                rec.pod = true;
        else if (!streq(kind, "container"))
                return error_set(e, -EINVAL, "kind", "%s: field 'kind': '%s' is not 'container' or 'pod'", path, kind);
        rec.state = migrate_record_state_from_string(state);
        if (rec.state < 0)
                return error_set(e, -EINVAL, "state", "%s: field 'state': '%s' is not one of applying, applied, "
                                 "rolling-back, rolled-back, failed", path, state);

        *ret = rec;
        rec = (MigrateRecord) {};
        return 0;
}

static char *state_dir(const char *root) {
        char *p;

        if (asprintf(&p, "%s%s", root && !streq(root, "/") ? root : "", MIGRATE_STATE_DIR) < 0)
                return NULL;
        return p;
}

int migrate_record_load(const char *root, const char *service, MigrateRecord *ret, ErrorInfo *e) {
        _cleanup_free_ char *dir = state_dir(root), *path = NULL, *text = NULL;
        _cleanup_(migrate_record_done) MigrateRecord rec = {};
        size_t n = 0;
        int r;

        if (!dir || asprintf(&path, "%s/%s/%s", dir, service, MIGRATE_RECORD_FILE) < 0)
                return -ENOMEM;
        /* Written by root only (0700 directory); not following a symlink keeps a planted link from
         * making the report read some other file. */
        r = read_file_limited(path, O_NOFOLLOW, MIGRATE_RECORD_SIZE_MAX, &text, &n);
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return error_set(e, r, "", "%s: more than a record can be (%u bytes)", path, MIGRATE_RECORD_SIZE_MAX);
        if (r == -EBADFD)
                return error_set(e, -EINVAL, "", "%s: not a regular file", path);
        if (r < 0)
                return error_set(e, r, "", "%s: cannot read: %s", path, strerror(-r));

        r = migrate_record_parse(text, n, path, &rec, e);
        if (r < 0)
                return r;
        if (!streq(rec.service, service))
                return error_set(e, -EINVAL, "service", "%s: field 'service': '%s' is not the name of its "
                                 "directory ('%s')", path, rec.service, service);
        *ret = rec;
        rec = (MigrateRecord) {};
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int migrate_record_list(const char *root, char ***ret) {
        _cleanup_free_ char *dir = state_dir(root);
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!dir)
                return -ENOMEM;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        while ((errno = 0, de = readdir(d))) {
                char **nl;

                if (de->d_name[0] == '.')
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                nl = reallocarray(l, n + 2, sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n] = strdup(de->d_name);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
        }
        if (errno != 0)
                return -errno;
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}
