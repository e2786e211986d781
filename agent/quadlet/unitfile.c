/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "unitfile.h"

/* ---- lines and groups ---- */

/* One allocation holds the line, its value and its key (a unit file has thousands of lines, and
 * three allocations each were a tenth of a generator run). Lines are never edited in place:
 * unit_file_set() replaces the whole line. */
static UnitLine *unit_line_new(const char *key, const char *value, bool is_comment) {
        size_t vl = strlen(value) + 1, kl = key ? strlen(key) + 1 : 0;
        UnitLine *l = malloc(sizeof(UnitLine) + vl + kl);
        char *p;

        if (!l)
                return NULL;
        p = (char *) (l + 1);
        l->is_comment = is_comment;
        l->value = memcpy(p, value, vl);
        l->key = key ? memcpy(p + vl, key, kl) : NULL;
        return l;
}

static void unit_line_free(UnitLine *l) {
        free(l);
}

static UnitLine *unit_line_dup(const UnitLine *l) {
        return unit_line_new(l->key, l->value, l->is_comment);
}

static bool unit_line_is_key(const UnitLine *l, const char *key) {
        return !l->is_comment && streq_quick(l->key, key);
}

static void group_free(UnitGroup *g) {
        if (!g)
                return;
        for (size_t i = 0; i < g->n_comments; i++)
                unit_line_free(g->comments[i]);
        for (size_t i = 0; i < g->n_lines; i++)
                unit_line_free(g->lines[i]);
        free(g->comments);
        free(g->lines);
        free(g->name);
        free(g);
}

/* Inserts l at position idx of the array (*arr, *n). Frees l on failure. */
static int lines_insert(UnitLine ***arr, size_t *n, size_t idx, UnitLine *l) {
        UnitLine **na;

        if (!l)
                return -ENOMEM;
        na = reallocarray(*arr, *n + 1, sizeof(UnitLine *));
        if (!na) {
                unit_line_free(l);
                return -ENOMEM;
        }
        memmove(na + idx + 1, na + idx, (*n - idx) * sizeof(UnitLine *));
        na[idx] = l;
        *arr = na;
        (*n)++;
        return 0;
}

/* Most lookups are for keys a group does not have (a converter asks for every key it knows). A
 * 64-bit set of key hashes per group answers most of those without comparing the group's keys.
 * Bits are only ever added (unset lines leave theirs): a set bit means "maybe". */
static uint64_t key_bit(const char *key) {
        size_t n = strlen(key);
        if (n == 0)
                return 1;
        unsigned h = (unsigned char) key[0] * 31u + (unsigned char) key[n / 2] * 7u + (unsigned char) key[n - 1] + (unsigned) n;
        return UINT64_C(1) << (h & 63);
}

static bool group_may_have(const UnitGroup *g, const char *key) {
        return g->key_bits & key_bit(key);
}

/* Inserts l (taken over, freed on failure) into g's lines at idx. */
static int group_insert_line(UnitGroup *g, size_t idx, UnitLine *l) {
        int r = lines_insert(&g->lines, &g->n_lines, idx, l);
        if (r >= 0 && !l->is_comment)
                g->key_bits |= key_bit(l->key);
        return r;
}

UnitFile *unit_file_new(void) {
        return calloc(1, sizeof(UnitFile));
}

UnitFile *unit_file_free(UnitFile *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_groups; i++)
                group_free(f->groups[i]);
        free(f->groups);
        free(f->filename);
        free(f->path);
        free(f);
        return NULL;
}

UnitGroup *unit_file_find_group(const UnitFile *f, const char *name) {
        for (size_t i = 0; i < f->n_groups; i++)
                if (streq_quick(f->groups[i]->name, name))
                        return f->groups[i];
        return NULL;
}

bool unit_file_has_group(const UnitFile *f, const char *name) {
        return unit_file_find_group(f, name);
}

static UnitGroup *ensure_group(UnitFile *f, const char *name) {
        UnitGroup *g, **ng;

        g = unit_file_find_group(f, name);
        if (g)
                return g;

        g = calloc(1, sizeof(UnitGroup));
        if (!g || !(g->name = strdup(name))) {
                free(g);
                f->oom = true;
                return NULL;
        }
        ng = reallocarray(f->groups, f->n_groups + 1, sizeof(UnitGroup *));
        if (!ng) {
                group_free(g);
                f->oom = true;
                return NULL;
        }
        ng[f->n_groups++] = g;
        f->groups = ng;
        return g;
}

static void group_merge(UnitFile *f, UnitGroup *dst, const UnitGroup *src) {
        for (size_t i = 0; i < src->n_comments; i++)
                if (lines_insert(&dst->comments, &dst->n_comments, dst->n_comments, unit_line_dup(src->comments[i])) < 0)
                        f->oom = true;
        for (size_t i = 0; i < src->n_lines; i++)
                if (group_insert_line(dst, dst->n_lines, unit_line_dup(src->lines[i])) < 0)
                        f->oom = true;
}

int unit_file_merge(UnitFile *dst, const UnitFile *src) {
        for (size_t i = 0; i < src->n_groups; i++) {
                UnitGroup *g = ensure_group(dst, src->groups[i]->name);
                if (g)
                        group_merge(dst, g, src->groups[i]);
        }
        return unit_file_error(dst);
}

UnitFile *unit_file_dup(const UnitFile *f) {
        _cleanup_unit_file_ UnitFile *c = unit_file_new();

        if (!c)
                return NULL;
        if (unit_file_merge(c, f) < 0)
                return NULL;
        if (f->filename && !(c->filename = strdup(f->filename)))
                return NULL;
        return TAKE_PTR(c);
}

/* ---- parsing ---- */

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool line_is_comment(const char *l) {
        return l[0] == 0 || l[0] == '#' || l[0] == ';';
}

static bool line_is_group(const char *l) {
        const char *end;

        if (l[0] != '[')
                return false;
        end = strchr(l, ']');
        if (!end)
                return false;
        for (const char *p = end + 1; *p; p++)
                if (*p != ' ' && *p != '\t')
                        return false;
        return true;
}

static bool group_name_is_valid(const char *name) {
        if (!*name)
                return false;
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
                if (*p == '[' || *p == ']' || *p < 0x20 || *p == 0x7f)
                        return false;
        /* U+0080..U+009F (C2 80..C2 9F) are control characters too, as Go's unicode.IsControl says. */
        for (const unsigned char *p = (const unsigned char *) name; p[0] && p[1]; p++)
                if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                        return false;
        return true;
}

typedef struct Parser {
        UnitFile *file;
        UnitGroup *current;
        UnitLine **pending;
        size_t n_pending;
} Parser;

static void parser_flush(Parser *p, bool to_comment) {
        for (size_t i = 0; i < p->n_pending; i++) {
                UnitGroup *g = p->current;
                if (to_comment)
                        (void) lines_insert(&g->comments, &g->n_comments, g->n_comments, p->pending[i]);
                else
                        (void) group_insert_line(g, g->n_lines, p->pending[i]);
        }
        free(p->pending);
        p->pending = NULL;
        p->n_pending = 0;
}

static int parse_line(Parser *p, char *line, size_t lineno, char **ret_error) {
        if (line_is_comment(line))
                return lines_insert(&p->pending, &p->n_pending, p->n_pending, unit_line_new(NULL, line, true));

        if (line_is_group(line)) {
                char *end = strchr(line, ']');
                *end = 0;
                if (!group_name_is_valid(line + 1)) {
                        if (ret_error)
                                *ret_error = strdup_printf("invalid group name: %s", line + 1);
                        return -EBADMSG;
                }
                p->current = ensure_group(p->file, line + 1);
                if (!p->current)
                        return -ENOMEM;
                /* One blank line before a group is dropped; the writer puts it back. */
                if (p->n_pending > 0 && p->pending[0]->value[0] == 0) {
                        unit_line_free(p->pending[0]);
                        memmove(p->pending, p->pending + 1, (p->n_pending - 1) * sizeof(UnitLine *));
                        p->n_pending--;
                }
                parser_flush(p, true);
                return 0;
        }

        char *eq = strchr(line, '=');
        if (eq && eq != line) {
                char *kend = eq, *v = eq + 1;

                if (!p->current) {
                        if (ret_error)
                                *ret_error = strdup("key file does not start with a group");
                        return -EBADMSG;
                }
                while (kend > line && is_space(kend[-1]))
                        kend--;
                *kend = 0;
                /* Deliberate difference from podman: a key starting with '[' is refused. podman
                 * accepts "[a=b] \v" (not a group: \v after the ']'), but its writer drops the
                 * trailing blank and prints "[a=b]", a group line on the next read; systemd reads
                 * any line starting with '[' as a section header and rejects this one. Found by
                 * fuzzing (corpus/fuzz-quadlet-unitfile/group-line-reprinted-unparsable). */
                if (!line[0] || line[0] == ' ' || line[0] == '[' || kend[-1] == ' ') {
                        if (ret_error)
                                *ret_error = strdup_printf("invalid key name: %s", line);
                        return -EBADMSG;
                }
                while (*v && is_space(*v))
                        v++;
                parser_flush(p, false);
                return group_insert_line(p->current, p->current->n_lines, unit_line_new(line, v, false));
        }

        if (ret_error)
                *ret_error = strdup_printf("file contains line %zu: “%s” which is not a key-value pair, group, or comment",
                                           lineno, line);
        return -EBADMSG;
}

static char *strip(const char *s, size_t n) {
        while (n > 0 && is_space(*s)) {
                s++;
                n--;
        }
        while (n > 0 && is_space(s[n - 1]))
                n--;
        return strndup(s, n);
}

int unit_file_parse(const char *data, size_t len, const char *path, UnitFile **ret, char **ret_error) {
        _cleanup_unit_file_ UnitFile *f = NULL;
        _cleanup_free_ char *remaining = NULL;
        Parser p = {};
        size_t nlines = 1, lineno = 0;
        const char *s, *end;
        int r = 0;

        if (ret_error)
                *ret_error = NULL;

        f = unit_file_new();
        if (!f)
                return -ENOMEM;
        if (path) {
                const char *b = strrchr(path, '/');
                f->path = strdup(path);
                f->filename = strdup(b ? b + 1 : path);
                if (!f->path || !f->filename)
                        return -ENOMEM;
        }
        p.file = f;

        /* Deliberate difference from podman: Go strings carry NUL bytes through, but C strings
         * (and systemd) would cut the value there, so what is shown and what is used would differ
         * (found by fuzzing: "A=x\v\0…1" printed "A=x\v" and re-read as "A=x"). Refuse. */
        if (memchr(data, 0, len)) {
                if (ret_error)
                        *ret_error = strdup_printf("%s: file contains a NUL byte", path ?: "unit file");
                return -EBADMSG;
        }

        /* Drop one trailing newline, then split on '\n'. */
        if (len > 0 && data[len - 1] == '\n')
                len--;
        for (size_t i = 0; i < len; i++)
                if (data[i] == '\n')
                        nlines++;

        s = data;
        end = data + len;
        for (;;) {
                const char *nl = memchr(s, '\n', end - s);
                size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
                _cleanup_free_ char *line = strip(s, n);
                if (!line) {
                        r = -ENOMEM;
                        break;
                }
                lineno++;

                if (line_is_comment(line)) {
                        /* Comments inside a continuation are skipped. */
                        if (remaining && remaining[0])
                                goto next;
                } else {
                        size_t l = strlen(line);
                        if (l > 0 && line[l - 1] == '\\') {
                                line[l - 1] = 0;
                                if (lineno != nlines) {
                                        char *j = strdup_printf("%s%s", strempty(remaining), line);
                                        if (!j) {
                                                r = -ENOMEM;
                                                break;
                                        }
                                        free(remaining);
                                        remaining = j;
                                        goto next;
                                }
                        }
                        if (remaining && remaining[0]) {
                                char *j = strdup_printf("%s%s", remaining, line);
                                if (!j) {
                                        r = -ENOMEM;
                                        break;
                                }
                                free(line);
                                line = j;
                                free(remaining);
                                remaining = NULL;
                        }
                }
                r = parse_line(&p, line, lineno, ret_error);
                if (r < 0)
                        break;
        next:
                if (!nl)
                        break;
                s = nl + 1;
        }

        if (r >= 0) {
                if (!p.current)
                        p.current = ensure_group(f, "");
                if (p.current)
                        parser_flush(&p, false);
        }
        for (size_t i = 0; i < p.n_pending; i++)
                unit_line_free(p.pending[i]);
        free(p.pending);

        if (r < 0)
                return r;
        if (f->oom)
                return -ENOMEM;
        *ret = TAKE_PTR(f);
        return 0;
}

/* ---- writing ---- */

/* A value is written as is, except at its end, where the line syntax cannot hold what the value
 * has: trailing whitespace would be trimmed on reading (so it is left out), and a trailing '\\'
 * would make the line continue onto the next one (systemd and podman's parser both would swallow
 * the next line). Each trailing backslash is written as "\\x5c" instead, which the keys that
 * C-unescape (Exec*, Environment=) read as a backslash, and which reads back unchanged. podman's
 * own writer prints such values raw; no value it generates from a valid file ends this way. */
static void put_value(Buf *b, const char *v) {
        size_t n = strlen(v), k = 0;

        while (n > 0 && is_space(v[n - 1]))
                n--;
        while (k < n && v[n - 1 - k] == '\\')
                k++;
        buf_putn(b, v, n - k);
        for (size_t i = 0; i < k; i++)
                buf_putn(b, "\\x5c", 4);
}

int unit_file_to_string(const UnitFile *f, char **ret) {
        _cleanup_buf_ Buf b = {};

        for (size_t i = 0; i < f->n_groups; i++) {
                const UnitGroup *g = f->groups[i];

                if (i != 0)
                        buf_putc(&b, '\n');
                for (size_t j = 0; j < g->n_comments; j++) {
                        /* Blank lines before the first group are dropped: the parser keeps all
                         * but one of them, so they would shrink by one on every round trip. */
                        if (b.n == 0 && !g->comments[j]->value[0])
                                continue;
                        buf_puts(&b, g->comments[j]->value);
                        buf_putc(&b, '\n');
                }
                if (!g->name[0])
                        continue;
                /* Plain copies, no printf: this loop writes every generated line. */
                buf_putc(&b, '[');
                buf_puts(&b, g->name);
                buf_puts(&b, "]\n");
                for (size_t j = 0; j < g->n_lines; j++) {
                        const UnitLine *l = g->lines[j];
                        if (l->is_comment)
                                buf_puts(&b, l->value);
                        else {
                                buf_puts(&b, l->key);
                                buf_putc(&b, '=');
                                put_value(&b, l->value);
                        }
                        buf_putc(&b, '\n');
                }
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- lookups ---- */

int unit_file_list_keys(const UnitFile *f, const char *group, Strv *ret) {
        const UnitGroup *g = unit_file_find_group(f, group);

        if (!g)
                return 0;
        for (size_t i = 0; i < g->n_lines; i++)
                if (!g->lines[i]->is_comment && !strv_has(ret, g->lines[i]->key))
                        strv_add(ret, g->lines[i]->key);
        return strv_error(ret);
}

const char *unit_file_lookup_last_raw(const UnitFile *f, const char *group, const char *key) {
        const UnitGroup *g = unit_file_find_group(f, group);

        if (!g || !group_may_have(g, key))
                return NULL;
        for (size_t i = g->n_lines; i > 0; i--)
                if (unit_line_is_key(g->lines[i - 1], key))
                        return g->lines[i - 1]->value;
        return NULL;
}

bool unit_file_has_key(const UnitFile *f, const char *group, const char *key) {
        return unit_file_lookup_last_raw(f, group, key);
}

char *unit_file_lookup(const UnitFile *f, const char *group, const char *key) {
        const char *v = unit_file_lookup_last_raw(f, group, key);
        size_t n;
        char *r;

        if (!v)
                return NULL;
        n = strlen(v);
        while (n > 0 && is_space(v[n - 1]))
                n--;
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v++;
                n -= 2;
        }
        r = strndup(v, n);
        if (!r)
                ((UnitFile *) f)->oom = true;
        return r;
}

void unit_file_lookup_all(const UnitFile *f, const char *group, const char *key, Strv *ret) {
        const UnitGroup *g = unit_file_find_group(f, group);

        if (!g || !group_may_have(g, key))
                return;
        for (size_t i = 0; i < g->n_lines; i++) {
                const UnitLine *l = g->lines[i];
                if (!unit_line_is_key(l, key))
                        continue;
                if (!l->value[0])
                        strv_clear(ret);
                else
                        strv_add(ret, l->value);
        }
}

void unit_file_lookup_all_strv(const UnitFile *f, const char *group, const char *key, Strv *ret) {
        _cleanup_strv_ Strv all = {};

        unit_file_lookup_all(f, group, key, &all);
        for (size_t i = 0; i < all.n; i++)
                (void) split_string(all.v[i], WHITESPACE_SEPARATORS, SPLIT_RETAIN_ESCAPE | SPLIT_UNQUOTE, ret, NULL);
        if (all.oom)
                ret->oom = true;
}

void unit_file_lookup_all_args(const UnitFile *f, const char *group, const char *key, Strv *ret) {
        _cleanup_strv_ Strv all = {};

        unit_file_lookup_all(f, group, key, &all);
        for (size_t i = 0; i < all.n; i++)
                (void) split_string(all.v[i], WHITESPACE_SEPARATORS,
                                    SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE, ret, NULL);
        if (all.oom)
                ret->oom = true;
}

int unit_file_lookup_last_args(const UnitFile *f, const char *group, const char *key, Strv *ret,
                               char **ret_error) {
        const char *v = unit_file_lookup_last_raw(f, group, key);
        int r;

        if (!v)
                return 0;
        r = split_string(v, WHITESPACE_SEPARATORS, SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE, ret, ret_error);
        if (r < 0)
                return r;
        return 1;
}

void keyval_list_done(KeyValList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].key);
                free(l->items[i].value);
        }
        free(l->items);
        *l = (KeyValList) {};
}

static void keyval_set(KeyValList *l, const char *k, size_t kn, const char *v) {
        size_t i;
        KeyVal *ni;
        char *nk, *nv = NULL;

        /* Kept sorted by key (byte order, like Go's sort.Strings). */
        for (i = 0; i < l->n; i++) {
                int c = strncmp(l->items[i].key, k, kn);
                if (c == 0 && l->items[i].key[kn] == 0) {
                        if (v && !(nv = strdup(v))) {
                                l->oom = true;
                                return;
                        }
                        free(l->items[i].value);
                        l->items[i].value = nv;
                        return;
                }
                if (c > 0 || (c == 0 && l->items[i].key[kn] != 0))
                        break;
        }
        nk = strndup(k, kn);
        if (v)
                nv = strdup(v);
        ni = reallocarray(l->items, l->n + 1, sizeof(KeyVal));
        if (!nk || (v && !nv) || !ni) {
                free(nk);
                free(nv);
                if (ni)
                        l->items = ni;
                l->oom = true;
                return;
        }
        l->items = ni;
        memmove(l->items + i + 1, l->items + i, (l->n - i) * sizeof(KeyVal));
        l->items[i] = (KeyVal) { .key = nk, .value = nv };
        l->n++;
}

void unit_file_lookup_all_keyval(const UnitFile *f, const char *group, const char *key, KeyValList *ret,
                                 Strv *warnings) {
        _cleanup_strv_ Strv all = {};

        unit_file_lookup_all(f, group, key, &all);
        if (all.oom)
                ret->oom = true;
        for (size_t i = 0; i < all.n; i++) {
                _cleanup_strv_ Strv words = {};
                _cleanup_free_ char *err = NULL;

                if (split_string(all.v[i], WHITESPACE_SEPARATORS, SPLIT_RELAX | SPLIT_UNQUOTE | SPLIT_CUNESCAPE,
                                 &words, &err) < 0) {
                        if (warnings)
                                strv_consume(warnings, TAKE_PTR(err));
                        continue;
                }
                if (words.oom)
                        ret->oom = true;
                for (size_t j = 0; j < words.n; j++) {
                        const char *eq = strchr(words.v[j], '=');
                        if (eq)
                                keyval_set(ret, words.v[j], eq - words.v[j], eq + 1);
                        else
                                keyval_set(ret, words.v[j], strlen(words.v[j]), NULL);
                }
        }
}

int unit_file_lookup_boolean(const UnitFile *f, const char *group, const char *key) {
        _cleanup_free_ char *v = unit_file_lookup(f, group, key);

        if (!v)
                return -ENOENT;
        return strcasecmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
               strcasecmp(v, "on") == 0;
}

bool unit_file_lookup_boolean_default(const UnitFile *f, const char *group, const char *key, bool def) {
        int r = unit_file_lookup_boolean(f, group, key);
        return r < 0 ? def : r > 0;
}

static int parse_digits(const char *s, unsigned base, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                unsigned d;
                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (*s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (*s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        return -EINVAL;
                if (d >= base)
                        return -EINVAL;
                if (!MUL_SAFE(&v, v, (uint64_t) base) || !ADD_SAFE(&v, v, (uint64_t) d))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

uint32_t unit_file_lookup_uint32(const UnitFile *f, const char *group, const char *key, uint32_t def) {
        _cleanup_free_ char *v = unit_file_lookup(f, group, key);
        const char *s;
        uint64_t n;
        int r;

        if (!v)
                return def;
        s = v;
        if (*s == '+')
                s++;
        else if (*s == '-')
                /* Go's parser multiplies negatives by -11 (upstream bug); we simply reject them. */
                return def;
        if (startswith(s, "0x") || startswith(s, "0X"))
                r = parse_digits(s + 2, 16, &n);
        else if (s[0] == '0')
                r = parse_digits(s, 8, &n);
        else
                r = parse_digits(s, 10, &n);
        if (r < 0 || n > UINT32_MAX)
                return def;
        return (uint32_t) n;
}

/* ---- mutators ---- */

void unit_file_add(UnitFile *f, const char *group, const char *key, const char *value) {
        UnitGroup *g = ensure_group(f, group);

        if (g && group_insert_line(g, g->n_lines, unit_line_new(key, value, false)) < 0)
                f->oom = true;
}

void unit_file_set(UnitFile *f, const char *group, const char *key, const char *value) {
        UnitGroup *g = ensure_group(f, group);

        if (!g)
                return;
        for (size_t i = group_may_have(g, key) ? g->n_lines : 0; i > 0; i--)
                if (unit_line_is_key(g->lines[i - 1], key)) {
                        UnitLine *l = unit_line_new(key, value, false);
                        if (!l) {
                                f->oom = true;
                                return;
                        }
                        unit_line_free(g->lines[i - 1]);
                        g->lines[i - 1] = l;
                        return;
                }
        unit_file_add(f, group, key, value);
}

void unit_file_unset(UnitFile *f, const char *group, const char *key) {
        UnitGroup *g = unit_file_find_group(f, group);
        size_t j = 0;

        if (!g)
                return;
        for (size_t i = 0; i < g->n_lines; i++) {
                if (unit_line_is_key(g->lines[i], key))
                        unit_line_free(g->lines[i]);
                else
                        g->lines[j++] = g->lines[i];
        }
        g->n_lines = j;
}

void unit_file_prepend_line(UnitFile *f, const char *group, const char *key, const char *value) {
        UnitGroup *g = (!group[0] && f->n_groups > 0) ? f->groups[0] : ensure_group(f, group);

        if (g && group_insert_line(g, 0, unit_line_new(key, value, false)) < 0)
                f->oom = true;
}

void unit_file_prepend_comment(UnitFile *f, const char *comment) {
        UnitGroup *g = f->n_groups > 0 ? f->groups[0] : ensure_group(f, "");
        _cleanup_free_ char *c = strdup_printf("# %s", comment);

        if (!g || !c || lines_insert(&g->comments, &g->n_comments, 0, unit_line_new(NULL, c, true)) < 0)
                f->oom = true;
}

void unit_file_rename_group(UnitFile *f, const char *from, const char *to) {
        UnitGroup *g = unit_file_find_group(f, from), *ng;
        char *n;

        if (!g)
                return;
        ng = unit_file_find_group(f, to);
        if (!ng) {
                n = strdup(to);
                if (!n) {
                        f->oom = true;
                        return;
                }
                free(g->name);
                g->name = n;
        } else if (ng != g) {
                size_t j = 0;
                group_merge(f, ng, g);
                for (size_t i = 0; i < f->n_groups; i++)
                        if (f->groups[i] != g)
                                f->groups[j++] = f->groups[i];
                f->n_groups = j;
                group_free(g);
        }
}

void unit_file_add_cmdline(UnitFile *f, const char *group, const char *key, const Strv *args) {
        _cleanup_free_ char *v = NULL;

        if (args->oom) {
                f->oom = true;
                return;
        }
        v = escape_words(args->v, args->n);
        if (!v) {
                f->oom = true;
                return;
        }
        unit_file_add(f, group, key, v);
}

bool unit_file_template_parts(const char *filename, char **ret_base, char **ret_instance) {
        const char *dot = strrchr(filename, '.'), *slash = strrchr(filename, '/');
        size_t n = (dot && (!slash || dot > slash)) ? (size_t) (dot - filename) : strlen(filename);
        const char *at = memchr(filename, '@', n);

        if (!at) {
                if (ret_base)
                        *ret_base = strndup(filename, n);
                if (ret_instance)
                        *ret_instance = strdup("");
                return false;
        }
        if (ret_base)
                *ret_base = strndup(filename, at - filename);
        if (ret_instance)
                *ret_instance = strndup(at + 1, n - (at - filename) - 1);
        return true;
}

/* ---- splitting and escaping (systemd's extract_first_word / cunescape_one) ---- */

static int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int unoctchar(char c) {
        return c >= '0' && c <= '7' ? c - '0' : -1;
}

/* Returns the number of characters consumed (> 0) and the code point, or -1. */
static int cunescape_one(const char *p, size_t len, uint32_t *ret) {
        int a[8];

        if (len < 1)
                return -1;
        switch (p[0]) {
        case 'a': *ret = '\a'; return 1;
        case 'b': *ret = '\b'; return 1;
        case 'f': *ret = '\f'; return 1;
        case 'n': *ret = '\n'; return 1;
        case 'r': *ret = '\r'; return 1;
        case 't': *ret = '\t'; return 1;
        case 'v': *ret = '\v'; return 1;
        case '\\': *ret = '\\'; return 1;
        case '"': *ret = '"'; return 1;
        case '\'': *ret = '\''; return 1;
        case 's': *ret = ' '; return 1;
        case 'x':
                if (len < 3)
                        return -1;
                a[0] = unhexchar(p[1]);
                a[1] = unhexchar(p[2]);
                if (a[0] < 0 || a[1] < 0 || (a[0] == 0 && a[1] == 0))
                        return -1;
                *ret = (uint32_t) ((a[0] << 4) | a[1]);
                return 3;
        case 'u':
        case 'U': {
                int k = p[0] == 'u' ? 4 : 8;
                uint32_t c = 0;
                if (len < (size_t) k + 1)
                        return -1;
                for (int i = 0; i < k; i++) {
                        int d = unhexchar(p[1 + i]);
                        if (d < 0)
                                return -1;
                        c = (c << 4) | (uint32_t) d;
                }
                if (c == 0 || c > 0x10FFFF)
                        return -1;
                *ret = c;
                return k + 1;
        }
        case '0' ... '7':
                if (len < 3)
                        return -1;
                a[0] = unoctchar(p[0]);
                a[1] = unoctchar(p[1]);
                a[2] = unoctchar(p[2]);
                if (a[0] < 0 || a[1] < 0 || a[2] < 0 || (a[0] == 0 && a[1] == 0 && a[2] == 0))
                        return -1;
                if (((a[0] << 6) | (a[1] << 3) | a[2]) > 255)
                        return -1;
                *ret = (uint32_t) ((a[0] << 6) | (a[1] << 3) | a[2]);
                return 3;
        default:
                return -1;
        }
}

static void buf_put_rune(Buf *b, uint32_t c) {
        char u[4];

        if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xFFFD; /* as Go's WriteRune does for surrogates */
        if (c < 0x80)
                buf_putc(b, (char) c);
        else if (c < 0x800) {
                u[0] = (char) (0xC0 | (c >> 6));
                u[1] = (char) (0x80 | (c & 0x3F));
                buf_putn(b, u, 2);
        } else if (c < 0x10000) {
                u[0] = (char) (0xE0 | (c >> 12));
                u[1] = (char) (0x80 | ((c >> 6) & 0x3F));
                u[2] = (char) (0x80 | (c & 0x3F));
                buf_putn(b, u, 3);
        } else {
                u[0] = (char) (0xF0 | (c >> 18));
                u[1] = (char) (0x80 | ((c >> 12) & 0x3F));
                u[2] = (char) (0x80 | ((c >> 6) & 0x3F));
                u[3] = (char) (0x80 | (c & 0x3F));
                buf_putn(b, u, 4);
        }
}

/* One word from in[*pos...]. Returns 1 and the word, 0 when there are no more words, or -EINVAL. */
static int extract_first_word(const char *in, size_t end, size_t *pos, const char *sep, unsigned flags,
                              char **ret, const char **ret_error) {
        _cleanup_buf_ Buf s = {};
        char quote = 0, c;
        bool backslash = false, any = false;
        size_t p = *pos;

#define NEXT() (++p >= end ? (char) 0 : in[p])
#define CUR() (p >= end ? (char) 0 : in[p])
        if (p >= end)
                goto finish;

        for (c = CUR();; c = NEXT()) {
                if (c == 0)
                        goto finish_force_terminate;
                if (strchr(sep, c)) {
                        if (flags & SPLIT_DONT_COALESCE_SEPARATORS) {
                                if (!(flags & SPLIT_RETAIN_SEPARATORS))
                                        p++;
                                goto finish_force_next;
                        }
                        continue;
                }
                break;
        }

        for (;; c = NEXT()) {
                if (backslash) {
                        if (c == 0) {
                                if ((flags & SPLIT_UNESCAPE_RELAX) && (quote == 0 || (flags & SPLIT_RELAX))) {
                                        buf_putc(&s, '\\');
                                        any = true;
                                        goto finish_force_terminate;
                                }
                                if (flags & SPLIT_RELAX)
                                        goto finish_force_terminate;
                                *ret_error = "unbalanced escape";
                                return -EINVAL;
                        }
                        if (flags & (SPLIT_CUNESCAPE | SPLIT_UNESCAPE_SEPARATORS)) {
                                int r = -1;
                                uint32_t u = 0;

                                if (flags & SPLIT_CUNESCAPE)
                                        r = cunescape_one(in + p, end - p, &u);
                                if (r > 0) {
                                        p += r - 1;
                                        buf_put_rune(&s, u);
                                } else if ((flags & SPLIT_UNESCAPE_SEPARATORS) && (strchr(sep, c) || c == '\\'))
                                        buf_putc(&s, c);
                                else if (flags & SPLIT_UNESCAPE_RELAX) {
                                        buf_putc(&s, '\\');
                                        buf_putc(&s, c);
                                } else {
                                        *ret_error = "unsupported escape char";
                                        return -EINVAL;
                                }
                        } else
                                buf_putc(&s, c);
                        any = true;
                        backslash = false;
                } else if (quote != 0) {
                        for (;; c = NEXT()) {
                                if (c == 0) {
                                        if (flags & SPLIT_RELAX)
                                                goto finish_force_terminate;
                                        *ret_error = "unbalanced quotes";
                                        return -EINVAL;
                                }
                                if (c == quote) {
                                        quote = 0;
                                        if (flags & SPLIT_UNQUOTE)
                                                break;
                                } else if (c == '\\' && !(flags & SPLIT_RETAIN_ESCAPE)) {
                                        backslash = true;
                                        break;
                                }
                                buf_putc(&s, c);
                                any = true;
                                if (quote == 0)
                                        break;
                        }
                } else {
                        for (;; c = NEXT()) {
                                if (c == 0)
                                        goto finish_force_terminate;
                                if ((c == '\'' || c == '"') && (flags & (SPLIT_KEEP_QUOTE | SPLIT_UNQUOTE))) {
                                        quote = c;
                                        if (flags & SPLIT_UNQUOTE)
                                                break;
                                } else if (c == '\\' && !(flags & SPLIT_RETAIN_ESCAPE)) {
                                        backslash = true;
                                        break;
                                } else if (strchr(sep, c)) {
                                        if (flags & SPLIT_DONT_COALESCE_SEPARATORS) {
                                                if (!(flags & SPLIT_RETAIN_SEPARATORS))
                                                        p++;
                                                goto finish_force_next;
                                        }
                                        if (!(flags & SPLIT_RETAIN_SEPARATORS))
                                                for (;; c = NEXT()) {
                                                        if (c == 0)
                                                                goto finish_force_terminate;
                                                        if (!strchr(sep, c))
                                                                break;
                                                }
                                        goto finish;
                                }
                                buf_putc(&s, c);
                                any = true;
                                if (quote != 0)
                                        break;
                        }
                }
        }
#undef NEXT
#undef CUR

finish_force_terminate:
        p = end;
finish:
        if (s.n == 0) {
                *pos = end;
                return 0;
        }
finish_force_next:
        (void) any;
        if (s.oom)
                return -ENOMEM;
        *pos = p > end ? end : p;
        *ret = buf_steal(&s);
        return *ret ? 1 : -ENOMEM;
}

int split_string(const char *str, const char *separators, unsigned flags, Strv *ret, char **ret_error) {
        _cleanup_strv_ Strv words = {};
        size_t pos = 0, end = strlen(str);

        for (;;) {
                const char *err = NULL;
                char *w = NULL;
                int r = extract_first_word(str, end, &pos, separators, flags, &w, &err);
                if (r == -EINVAL) {
                        if (ret_error)
                                *ret_error = strdup(err);
                        return r;
                }
                if (r < 0) {
                        ret->oom = true;
                        return r;
                }
                if (r == 0)
                        break;
                strv_consume(&words, w);
        }
        strv_extend(ret, &words);
        return strv_error(ret);
}

static bool char_needs_escape(unsigned char c) {
        if (c > 128)
                return false; /* UTF-8 passes through */
        return c <= 0x20 || c == 0x7f || c == 0x80 || c == '"' || c == '\'' || c == '\\';
}

bool word_needs_escape(const char *word) {
        /* char_needs_escape() as a table, NUL included as the stop: every word of every
         * generated command line goes through here. */
        static bool table[256];
        static bool init = false;
        const unsigned char *p = (const unsigned char *) word;

        if (!init) {
                for (unsigned c = 0; c < 256; c++)
                        table[c] = c == 0 || char_needs_escape((unsigned char) c);
                init = true;
        }
        while (!table[*p])
                p++;
        return *p != 0;
}

static void escape_word(Buf *b, const char *word) {
        buf_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *) word; *p; p++) {
                if (!char_needs_escape(*p)) {
                        buf_putc(b, (char) *p);
                        continue;
                }
                switch (*p) {
                case '\a': buf_puts(b, "\\a"); break;
                case '\b': buf_puts(b, "\\b"); break;
                case '\n': buf_puts(b, "\\n"); break;
                case '\r': buf_puts(b, "\\r"); break;
                case '\t': buf_puts(b, "\\t"); break;
                case '\v': buf_puts(b, "\\v"); break;
                case '\f': buf_puts(b, "\\f"); break;
                case '\\': buf_puts(b, "\\\\"); break;
                case ' ': buf_puts(b, " "); break;
                case '"': buf_puts(b, "\\\""); break;
                case '\'': buf_puts(b, "'"); break;
                default: buf_printf(b, "\\x%.2x", *p); break;
                }
        }
        buf_putc(b, '"');
}

char *escape_words(char *const *words, size_t n) {
        _cleanup_buf_ Buf b = {};

        for (size_t i = 0; i < n; i++) {
                if (i != 0)
                        buf_putc(&b, ' ');
                if (word_needs_escape(words[i]))
                        escape_word(&b, words[i]);
                else
                        buf_puts(&b, words[i]);
        }
        return buf_steal(&b);
}
