/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "migrate-rewrite.h"
#include "strv.h"

static bool is_addr_char(char c) {
        return (c >= '0' && c <= '9') || c == '.';
}

int migrate_replace_address(const char *s, const char *addr, const char *with, char **ret) {
        _cleanup_buf_ Buf b = {};
        size_t al = strlen(addr);
        const char *p = s;
        int n = 0;

        for (const char *q; (q = strstr(p, addr)); p = q + al) {
                /* Only a whole address: 10.88.0.1 inside 10.88.0.10 or 110.88.0.1 is another host.
                 * A trailing '.' followed by a non-digit (end of a sentence) still ends the address. */
                bool before_ok = q == s || !is_addr_char(q[-1]);
                bool after_ok = !(q[al] >= '0' && q[al] <= '9') && !(q[al] == '.' && q[al + 1] >= '0' && q[al + 1] <= '9');

                buf_putn(&b, p, (size_t) (q - p));
                if (before_ok && after_ok) {
                        buf_puts(&b, with);
                        n++;
                } else
                        buf_putn(&b, q, al);
        }
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        buf_puts(&b, p);
        if (b.oom)
                return -ENOMEM;
        *ret = buf_steal(&b);
        return *ret ? n : -ENOMEM;
}

static const char *skip_space(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* The group name of a "[Name]" line (into buf), or NULL. */
static const char *line_group(const char *l, char *buf, size_t size) {
        const char *s = skip_space(l), *e;
        size_t n;

        if (*s != '[')
                return NULL;
        e = strchr(s, ']');
        if (!e)
                return NULL;
        n = (size_t) (e - s - 1);
        if (n >= size)
                return NULL;
        memcpy(buf, s + 1, n);
        buf[n] = 0;
        return buf;
}

/* Whether l is "key=..." (leading/trailing blanks around key allowed); sets *ret_value past '='. */
static bool line_is_key(const char *l, const char *key, const char **ret_value) {
        const char *s = skip_space(l);
        size_t kl = strlen(key);

        if (*s == '#' || *s == ';' || strncmp(s, key, kl) != 0)
                return false;
        s = skip_space(s + kl);
        if (*s != '=')
                return false;
        if (ret_value)
                *ret_value = s + 1;
        return true;
}

static bool line_continues(const char *l) {
        size_t n = strlen(l);
        return n > 0 && l[n - 1] == '\\';
}

static int split_lines(const char *text, Strv *ret) {
        const char *p = text;

        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                strv_addn(ret, p, n);
                p += n + (nl ? 1 : 0);
        }
        return strv_error(ret);
}

static void edit_address(Strv *lines, const MigrateEdit *e) {
        char gbuf[128];
        const char *group = NULL;
        bool in_key = false;

        for (size_t i = 0; i < lines->n; i++) {
                const char *l = lines->v[i], *g, *value = NULL;
                _cleanup_free_ char *nv = NULL;
                size_t off;

                if (in_key) {
                        value = l; /* a continuation line of the key */
                        in_key = line_continues(l);
                } else if ((g = line_group(l, gbuf, sizeof gbuf))) {
                        group = g;
                        continue;
                } else if (group && streq(group, e->group) && line_is_key(l, e->key, &value))
                        in_key = line_continues(l);
                else
                        continue;

                off = (size_t) (value - l);
                int r = migrate_replace_address(value, e->addr, e->with, &nv);
                if (r < 0) {
                        lines->oom = true;
                        return;
                }
                if (r == 0)
                        continue;
                char *full = strdup_printf("%.*s%s", (int) off, l, nv);
                if (!full) {
                        lines->oom = true;
                        return;
                }
                free(lines->v[i]);
                lines->v[i] = full;
        }
}

static void insert_line(Strv *lines, size_t idx, char *l) {
        strv_consume(lines, l); /* grows and takes ownership; then rotate into place */
        if (lines->oom)
                return;
        memmove(lines->v + idx + 1, lines->v + idx, (lines->n - 1 - idx) * sizeof(char *));
        lines->v[idx] = l;
}

static void edit_set(Strv *lines, const MigrateEdit *e) {
        char gbuf[128];
        const char *group = NULL;
        size_t last = SIZE_MAX; /* last non-blank line of the group */
        bool found = false, in_key = false;

        for (size_t i = 0; i < lines->n; i++) {
                const char *l = lines->v[i], *g;
                bool was_key = in_key;

                if (!in_key && (g = line_group(l, gbuf, sizeof gbuf))) {
                        if (found)
                                break;
                        group = g;
                        if (streq(group, e->group)) {
                                found = true;
                                last = i;
                        }
                        continue;
                }
                if (!found)
                        continue;
                in_key = was_key ? line_continues(l) : false;
                if (was_key || line_is_key(l, e->key, NULL)) {
                        char *c = strdup_printf("# unroot migrate: was: %s", l);
                        if (!c) {
                                lines->oom = true;
                                return;
                        }
                        if (!was_key)
                                in_key = line_continues(l);
                        free(lines->v[i]);
                        lines->v[i] = c;
                }
                if (*skip_space(lines->v[i]))
                        last = i;
        }

        if (!found) {
                if (lines->n > 0 && *skip_space(lines->v[lines->n - 1]))
                        strv_add(lines, "");
                strv_addf(lines, "[%s]", e->group);
                last = lines->n - 1;
        }
        if (lines->oom)
                return;
        char *c = e->comment ? strdup_printf("# unroot migrate: %s", e->comment) : NULL;
        char *kv = strdup_printf("%s=%s", e->key, e->value);
        if ((e->comment && !c) || !kv) {
                free(c);
                free(kv);
                lines->oom = true;
                return;
        }
        insert_line(lines, last + 1, kv);
        if (c)
                insert_line(lines, last + 1, c);
}

int migrate_rewrite_text(const char *text, const MigrateEdit *edits, size_t n_edits, char **ret) {
        _cleanup_strv_ Strv lines = {};
        _cleanup_buf_ Buf b = {};
        int r;

        r = split_lines(text, &lines);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_edits; i++) {
                if (edits[i].op == MIGRATE_EDIT_ADDRESS)
                        edit_address(&lines, &edits[i]);
                else
                        edit_set(&lines, &edits[i]);
                if (lines.oom)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < lines.n; i++) {
                buf_puts(&b, lines.v[i]);
                buf_putc(&b, '\n');
        }
        if (b.oom)
                return -ENOMEM;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}
