/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agentctl-output.h"
#include "json-parse.h"
#include "migrate-ledger.h"
#include "migrate-record.h"

void migrate_ledger_done(MigrateLedger *r) {
        free(r->service);
        free(r->account);
        free(r->kind);
        free(r->state);
        free(r->step);
        free(r->error);
        free(r->updated);
        strv_done(&r->units);
        strv_done(&r->root_files);
        strv_done(&r->techniques);
        strv_done(&r->host_changes);
        strv_done(&r->root_active);
        strv_done(&r->shifted);
        strv_done(&r->volumes);
        strv_done(&r->images);
        strv_done(&r->secrets);
        strv_done(&r->secret_files);
        strv_done(&r->installed);
        *r = (MigrateLedger) {};
}

typedef struct Field {
        const char *key;
        size_t str_off;  /* offsetof a char* member, or SIZE_MAX */
        size_t strv_off; /* offsetof a Strv member, or SIZE_MAX */
} Field;

#define S(k, m) { k, offsetof(MigrateLedger, m), SIZE_MAX }
#define V(k, m) { k, SIZE_MAX, offsetof(MigrateLedger, m) }
/* In the contract's order; the contract's fields first. */
static const Field fields[] = {
        S("service", service), S("account", account), S("kind", kind), S("state", state), S("step", step),
        V("units", units), V("root_files", root_files), V("techniques", techniques),
        V("host_changes", host_changes), S("error", error), S("updated", updated),
        V("root_active", root_active), V("shifted", shifted), V("volumes", volumes), V("images", images),
        V("secrets", secrets), V("secret_files", secret_files), V("installed", installed),
};

void migrate_ledger_write_json(const MigrateLedger *r, FILE *f) {
        fputc('{', f);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (i > 0)
                        fputc(',', f);
                json_write_string(f, fields[i].key);
                fputc(':', f);
                if (fields[i].str_off != SIZE_MAX) {
                        json_write_string(f, *(char *const *) ((const char *) r + fields[i].str_off));
                        continue;
                }
                const Strv *v = (const Strv *) ((const char *) r + fields[i].strv_off);
                fputc('[', f);
                for (size_t j = 0; j < v->n; j++) {
                        if (j > 0)
                                fputc(',', f);
                        json_write_string(f, v->v[j]);
                }
                fputc(']', f);
        }
        fputs("}\n", f);
}

static int get_string(const JsonValue *o, const char *key, char **ret) {
        const JsonValue *v = json_object_get(o, key);

        if (!v || v->type == JSON_NULL)
                return 0;
        if (v->type != JSON_STRING)
                return -EBADMSG;
        *ret = strdup(v->text);
        return *ret ? 0 : -ENOMEM;
}

static int get_strv(const JsonValue *o, const char *key, Strv *ret) {
        const JsonValue *v = json_object_get(o, key);

        if (!v)
                return 0;
        if (v->type != JSON_ARRAY)
                return -EBADMSG;
        for (size_t i = 0; i < v->n_items; i++) {
                if (v->items[i].type != JSON_STRING)
                        return -EBADMSG;
                strv_add(ret, v->items[i].text);
        }
        return strv_error(ret);
}

int migrate_ledger_parse(const char *json, MigrateLedger *ret) {
        _cleanup_(json_value_done) JsonValue doc = {};
        MigrateLedger r = {};
        int k;

        /* The strict reader of migrate-record.h; the fields are the contract's plus the undo lists. */
        k = json_parse(json, strlen(json), &doc, NULL);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || doc.type != JSON_OBJECT)
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (fields[i].str_off != SIZE_MAX)
                        k = get_string(&doc, fields[i].key, (char **) ((char *) &r + fields[i].str_off));
                else
                        k = get_strv(&doc, fields[i].key, (Strv *) ((char *) &r + fields[i].strv_off));
                if (k < 0)
                        goto fail;
        }
        if (!r.service || !r.state) {
                k = -EBADMSG;
                goto fail;
        }
        *ret = r;
        return 0;
fail:
        migrate_ledger_done(&r);
        return k;
}

char *migrate_ledger_dir(const char *root, const char *service) {
        char *d;
        if (asprintf(&d, "%s" MIGRATE_STATE_DIR "/%s", root && !streq(root, "/") ? root : "", service) < 0)
                return NULL;
        return d;
}

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int migrate_ledger_save(const char *root, MigrateLedger *r) {
        _cleanup_free_ char *dir = migrate_ledger_dir(root, r->service), *tmp = NULL, *path = NULL;
        _cleanup_close_ int dfd = -EBADF;
        char now[32];
        time_t t = time(NULL);
        struct tm tm;
        FILE *f;
        int fd, k;

        if (!dir)
                return -ENOMEM;
        k = mkdir_parents(dir, 0700);
        if (k < 0)
                return k;
        (void) chmod(dir, 0700);
        (void) strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        free(r->updated);
        r->updated = strdup(now);
        if (!r->updated)
                return -ENOMEM;
        if (asprintf(&tmp, "%s/.record.json.tmp", dir) < 0 || asprintf(&path, "%s/record.json", dir) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                k = -errno;
                close(fd);
                return k;
        }
        migrate_ledger_write_json(r, f);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
                k = -errno;
                fclose(f);
                (void) unlink(tmp);
                return k;
        }
        if (fclose(f) != 0)
                return -errno;
        if (rename(tmp, path) < 0)
                return -errno;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

int migrate_ledger_load(const char *root, const char *service, MigrateLedger *ret) {
        _cleanup_free_ char *dir = migrate_ledger_dir(root, service), *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_buf_ Buf b = {};
        char buf[4096];
        size_t n;

        if (!dir || asprintf(&path, "%s/record.json", dir) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                buf_putn(&b, buf, n);
        if (ferror(f))
                return -EIO;
        if (b.oom)
                return -ENOMEM;
        if (!b.s)
                return -EBADMSG;
        return migrate_ledger_parse(b.s, ret);
}

static int b64val(char c) {
        return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+' ? 62 : c == '/' ? 63 : -1;
}

int migrate_filedriver_secret(const char *json, size_t len, const char *id, Buf *ret) {
        _cleanup_(json_value_done) JsonValue doc = {};
        const JsonValue *v;
        unsigned acc = 0, bits = 0;
        int k;

        k = json_parse(json, len, &doc, NULL);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || doc.type != JSON_OBJECT)
                return -EBADMSG;
        v = json_object_get(&doc, id);
        if (!v)
                return -ENOENT;
        if (v->type != JSON_STRING)
                return -EBADMSG;
        /* Go's encoding/json writes []byte as standard base64 with padding. */
        for (const char *p = v->text; *p && *p != '='; p++) {
                int b = b64val(*p);
                if (b < 0)
                        return -EBADMSG;
                acc = (acc << 6) | (unsigned) b;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        buf_putc(ret, (char) ((acc >> bits) & 0xff));
                }
        }
        return ret->oom ? -ENOMEM : 0;
}
