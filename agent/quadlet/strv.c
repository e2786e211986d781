/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strv.h"

void strv_done(Strv *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = STRV_INIT;
}

void strv_clear(Strv *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        s->n = 0;
        if (s->v)
                s->v[0] = NULL;
}

void strv_consume(Strv *s, char *p) {
        if (!p || s->oom) {
                s->oom = true;
                free(p);
                return;
        }
        if (s->n + 2 > s->cap) {
                size_t ncap = MAX(s->cap * 2, (size_t) 8);
                char **nv = reallocarray(s->v, ncap, sizeof(char *));
                if (!nv) {
                        s->oom = true;
                        free(p);
                        return;
                }
                s->v = nv;
                s->cap = ncap;
        }
        s->v[s->n++] = p;
        s->v[s->n] = NULL;
}

void strv_add(Strv *s, const char *p) {
        strv_consume(s, strdup(p));
}

void strv_addn(Strv *s, const char *p, size_t n) {
        strv_consume(s, strndup(p, n));
}

/* vasprintf(), with a fast path for the formats the converters use most ("%s/%s", "%s.service",
 * "--label=%s"): only %s and %% are concatenated here, anything else goes to vasprintf(). The
 * printf machinery was a tenth of a generator run, for ~3,000 such strings. */
static char *format(const char *fmt, va_list ap) {
        size_t len = 0;
        const char *f;
        char *p, *w;
        va_list aq;

        va_copy(aq, ap);
        for (f = fmt; *f; f++) {
                if (*f != '%') {
                        len++;
                        continue;
                }
                if (f[1] == '%') {
                        len++;
                        f++;
                } else if (f[1] == 's') {
                        const char *a = va_arg(aq, const char *);
                        len += strlen(a ?: "(null)");
                        f++;
                } else {
                        va_end(aq);
                        return vasprintf(&p, fmt, ap) < 0 ? NULL : p;
                }
        }
        va_end(aq);
        w = p = malloc(len + 1);
        if (!p)
                return NULL;
        for (f = fmt; *f; f++) {
                if (*f != '%')
                        *w++ = *f;
                else if (*++f == '%')
                        *w++ = '%';
                else {
                        const char *a = va_arg(ap, const char *);
                        size_t n;
                        a = a ?: "(null)";
                        n = strlen(a);
                        memcpy(w, a, n);
                        w += n;
                }
        }
        *w = 0;
        return p;
}

void strv_addf(Strv *s, const char *fmt, ...) {
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = format(fmt, ap);
        va_end(ap);
        strv_consume(s, p);
}

void strv_extend(Strv *s, const Strv *other) {
        if (other->oom)
                s->oom = true;
        for (size_t i = 0; i < other->n; i++)
                strv_add(s, other->v[i]);
}

bool strv_has(const Strv *s, const char *p) {
        for (size_t i = 0; i < s->n; i++)
                if (streq_quick(s->v[i], p))
                        return true;
        return false;
}

void buf_done(Buf *b) {
        free(b->s);
        *b = (Buf) {};
}

bool buf_reserve(Buf *b, size_t extra) {
        if (b->oom)
                return false;
        if (b->n + extra + 1 > b->cap) {
                size_t ncap = MAX(b->cap * 2, b->n + extra + 64);
                char *ns = realloc(b->s, ncap);
                if (!ns) {
                        b->oom = true;
                        return false;
                }
                b->s = ns;
                b->cap = ncap;
        }
        return true;
}

/* Formats straight into the buffer; a temporary string per call (vasprintf) was a fifth of the
 * generator's run time. */
void buf_printf(Buf *b, const char *fmt, ...) {
        va_list ap;
        int k;

        if (!buf_reserve(b, 64))
                return;
        va_start(ap, fmt);
        k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
                b->oom = true;
                return;
        }
        if ((size_t) k >= b->cap - b->n) {
                if (!buf_reserve(b, (size_t) k))
                        return;
                va_start(ap, fmt);
                k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
                va_end(ap);
                if (k < 0) {
                        b->oom = true;
                        return;
                }
        }
        b->n += (size_t) k;
}

char *buf_steal(Buf *b) {
        char *s;

        if (b->oom) {
                buf_done(b);
                return NULL;
        }
        s = b->s ? b->s : strdup("");
        *b = (Buf) {};
        return s;
}

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = format(fmt, ap);
        va_end(ap);
        return p;
}
