/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "strv-util.h"

/* A growable, always NULL-terminated string vector with a sticky out-of-memory flag.
 *
 * Command lines and lookup results are built by long sequences of appends; checking every single
 * append would triple the converters' size. Instead a failed allocation sets `oom`, later appends
 * become no-ops, and the owner checks the flag once (strv_error()) before using the result. */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"

typedef struct Strv {
        char **v;     /* NULL-terminated when n > 0 or after any append; may be NULL when empty */
        size_t n;
        size_t cap;
        bool oom;
} Strv;

#define STRV_INIT ((Strv) {})

void strv_done(Strv *s);
static inline void strv_donep(Strv *s) {
        strv_done(s);
}
#define _cleanup_strv_ _cleanup_(strv_donep)

/* Takes ownership of p (freed on failure). NULL p marks the vector OOM (for strdup() results). */
void strv_consume(Strv *s, char *p);
void strv_add(Strv *s, const char *p);
void strv_addn(Strv *s, const char *p, size_t n);
void strv_addf(Strv *s, const char *fmt, ...) _printf_(2, 3);
void strv_extend(Strv *s, const Strv *other);
static inline int strv_error(const Strv *s) {
        return s->oom ? -ENOMEM : 0;
}
/* Drops all entries (keeps the allocation). */
void strv_clear(Strv *s);
bool strv_has(const Strv *s, const char *p);


/* A growable byte buffer, same sticky-OOM idea. Always NUL-terminated once anything was added. */
typedef struct Buf {
        char *s;
        size_t n;
        size_t cap;
        bool oom;
} Buf;

void buf_done(Buf *b);
static inline void buf_donep(Buf *b) {
        buf_done(b);
}
#define _cleanup_buf_ _cleanup_(buf_donep)
/* Room for extra more bytes plus the terminating NUL; false (and oom set) if that fails. */
bool buf_reserve(Buf *b, size_t extra);
/* The appends are inline with the room check first: they write every byte of every generated
 * unit, and a call per byte was a tenth of a generator run. */
static inline void buf_putn(Buf *b, const char *p, size_t n) {
        if (b->n + n + 1 > b->cap && !buf_reserve(b, n))
                return;
        memcpy(b->s + b->n, p, n);
        b->n += n;
        b->s[b->n] = 0;
}
static inline void buf_puts(Buf *b, const char *p) {
        buf_putn(b, p, strlen(p));
}
static inline void buf_putc(Buf *b, char c) {
        if (b->n + 2 > b->cap && !buf_reserve(b, 1))
                return;
        b->s[b->n++] = c;
        b->s[b->n] = 0;
}
void buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
/* Returns the string (never NULL unless OOM; "" for an empty buffer) and resets b. */
char *buf_steal(Buf *b);

/* streq() for the lookup loops: most candidates differ in the first byte, and the inline check
 * spares the call (the linear lookups were a sixth of a generator run in strcmp()). */
static inline bool streq_quick(const char *a, const char *b) {
        return a[0] == b[0] && strcmp(a, b) == 0;
}

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
