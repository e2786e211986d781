/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-parse.h"
#include "macro.h"

typedef struct Parser {
        const char *s;
        size_t len, pos;
        char *error;
        bool oom;
} Parser;

static int fail(Parser *p, const char *fmt, ...) _printf_(2, 3);
static int fail(Parser *p, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL;
        unsigned line = 1, col = 1;
        va_list ap;
        int r;

        if (p->error)
                return -EINVAL;
        /* Line and column count bytes: good enough to find the spot in an editor. */
        for (size_t i = 0; i < p->pos && i < p->len; i++) {
                if (p->s[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        va_start(ap, fmt);
        r = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (r < 0 || asprintf(&p->error, "line %u, column %u: %s", line, col, why) < 0) {
                p->error = NULL;
                p->oom = true;
                return -ENOMEM;
        }
        return -EINVAL;
}

static int oom(Parser *p) {
        p->oom = true;
        return -ENOMEM;
}

static void skip_ws(Parser *p) {
        while (p->pos < p->len &&
               (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
                p->pos++;
}

static bool at_end(const Parser *p) {
        return p->pos >= p->len;
}

static bool literal(Parser *p, const char *word) {
        size_t n = strlen(word);

        if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
                return false;
        p->pos += n;
        return true;
}

static int hex4(Parser *p, uint32_t *ret) {
        uint32_t v = 0;

        if (p->len - p->pos < 4)
                return fail(p, "truncated \\u escape");
        for (size_t i = 0; i < 4; i++) {
                char c = p->s[p->pos + i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return fail(p, "invalid \\u escape");
        }
        p->pos += 4;
        *ret = v;
        return 0;
}

static size_t utf8_encode(uint32_t cp, char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* At the opening quote. The decoded string is never longer than its source. */
static int parse_string(Parser *p, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        int r;

        p->pos++;
        out = malloc(p->len - p->pos + 1);
        if (!out)
                return oom(p);
        for (;;) {
                unsigned char c;

                if (at_end(p))
                        return fail(p, "unterminated string");
                c = (unsigned char) p->s[p->pos];
                if (c == '"') {
                        p->pos++;
                        break;
                }
                if (c < 0x20)
                        return fail(p, "control character 0x%02x in a string", c);
                if (c != '\\') {
                        out[n++] = (char) c;
                        p->pos++;
                        continue;
                }
                p->pos++;
                if (at_end(p))
                        return fail(p, "unterminated string");
                c = (unsigned char) p->s[p->pos++];
                switch (c) {
                case '"':
                case '\\':
                case '/':
                        out[n++] = (char) c;
                        break;
                case 'b':
                        out[n++] = '\b';
                        break;
                case 'f':
                        out[n++] = '\f';
                        break;
                case 'n':
                        out[n++] = '\n';
                        break;
                case 'r':
                        out[n++] = '\r';
                        break;
                case 't':
                        out[n++] = '\t';
                        break;
                case 'u': {
                        uint32_t cp, lo;

                        r = hex4(p, &cp);
                        if (r < 0)
                                return r;
                        if (cp == 0)
                                return fail(p, "\\u0000 in a string");
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return fail(p, "lone low surrogate \\u%04x", cp);
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (!literal(p, "\\u"))
                                        return fail(p, "high surrogate \\u%04x without a low one", cp);
                                r = hex4(p, &lo);
                                if (r < 0)
                                        return r;
                                if (lo < 0xdc00 || lo > 0xdfff)
                                        return fail(p, "high surrogate \\u%04x without a low one", cp);
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        /* \uXXXX is 6 source bytes and at most 3 output bytes; a pair is 12 and 4. */
                        n += utf8_encode(cp, out + n);
                        break;
                }
                default:
                        p->pos--;
                        return fail(p, "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
                }
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_number(Parser *p, char **ret) {
        size_t start = p->pos;

        if (p->s[p->pos] == '-')
                p->pos++;
        if (at_end(p) || p->s[p->pos] < '0' || p->s[p->pos] > '9')
                return fail(p, "invalid number");
        if (p->s[p->pos] == '0')
                p->pos++;
        else
                while (!at_end(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
                        p->pos++;
        if (!at_end(p) && p->s[p->pos] == '.') {
                p->pos++;
                if (at_end(p) || p->s[p->pos] < '0' || p->s[p->pos] > '9')
                        return fail(p, "invalid number: no digit after '.'");
                while (!at_end(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
                        p->pos++;
        }
        if (!at_end(p) && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
                p->pos++;
                if (!at_end(p) && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
                        p->pos++;
                if (at_end(p) || p->s[p->pos] < '0' || p->s[p->pos] > '9')
                        return fail(p, "invalid number: no digit in the exponent");
                while (!at_end(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
                        p->pos++;
        }
        *ret = strndup(p->s + start, p->pos - start);
        return *ret ? 0 : oom(p);
}

static int parse_value(Parser *p, JsonValue *v, unsigned depth);

/* Appends a zeroed item (and a key slot for objects). */
static JsonValue *push_item(Parser *p, JsonValue *v, bool with_key) {
        JsonValue *items;

        items = reallocarray(v->items, v->n_items + 1, sizeof(JsonValue));
        if (!items)
                return oom(p), NULL;
        v->items = items;
        if (with_key) {
                char **keys = reallocarray(v->keys, v->n_items + 1, sizeof(char *));
                if (!keys)
                        return oom(p), NULL;
                v->keys = keys;
                keys[v->n_items] = NULL;
        }
        items[v->n_items] = (JsonValue) {};
        return &items[v->n_items++];
}

static int parse_container(Parser *p, JsonValue *v, unsigned depth) {
        bool object = p->s[p->pos] == '{';
        char close = object ? '}' : ']';
        int r;

        if (depth >= JSON_DEPTH_MAX)
                return fail(p, "nested deeper than %u levels", JSON_DEPTH_MAX);
        v->type = object ? JSON_OBJECT : JSON_ARRAY;
        p->pos++;
        skip_ws(p);
        if (!at_end(p) && p->s[p->pos] == close) {
                p->pos++;
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *key = NULL;
                JsonValue *item;

                skip_ws(p);
                if (object) {
                        if (at_end(p) || p->s[p->pos] != '"')
                                return fail(p, "expected a member name in quotes");
                        r = parse_string(p, &key);
                        if (r < 0)
                                return r;
                        if (json_object_get(v, key))
                                return fail(p, "duplicate key \"%s\"", key);
                        skip_ws(p);
                        if (at_end(p) || p->s[p->pos] != ':')
                                return fail(p, "expected ':' after \"%s\"", key);
                        p->pos++;
                }
                item = push_item(p, v, object);
                if (!item)
                        return -ENOMEM;
                if (object)
                        v->keys[v->n_items - 1] = TAKE_PTR(key);
                r = parse_value(p, item, depth + 1);
                if (r < 0)
                        return r;
                skip_ws(p);
                if (at_end(p))
                        return fail(p, "unterminated %s", object ? "object" : "array");
                if (p->s[p->pos] == ',') {
                        p->pos++;
                        continue;
                }
                if (p->s[p->pos] == close) {
                        p->pos++;
                        return 0;
                }
                return fail(p, "expected ',' or '%c'", close);
        }
}

static int parse_value(Parser *p, JsonValue *v, unsigned depth) {
        char c;

        skip_ws(p);
        if (at_end(p))
                return fail(p, "expected a value");
        c = p->s[p->pos];
        switch (c) {
        case '{':
        case '[':
                return parse_container(p, v, depth);
        case '"':
                v->type = JSON_STRING;
                return parse_string(p, &v->text);
        case 't':
        case 'f':
        case 'n':
                if (literal(p, "true"))
                        *v = (JsonValue) { .type = JSON_BOOLEAN, .boolean = true };
                else if (literal(p, "false"))
                        *v = (JsonValue) { .type = JSON_BOOLEAN };
                else if (literal(p, "null"))
                        *v = (JsonValue) { .type = JSON_NULL };
                else
                        return fail(p, "invalid literal");
                return 0;
        default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                        v->type = JSON_NUMBER;
                        return parse_number(p, &v->text);
                }
                return fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
        }
}

int json_parse(const char *text, size_t len, JsonValue *ret, char **ret_error) {
        Parser p = { .s = text, .len = len };
        JsonValue v = {};
        int r;

        if (memchr(text, 0, len)) {
                p.pos = (size_t) ((const char *) memchr(text, 0, len) - text);
                r = fail(&p, "NUL byte");
        } else {
                r = parse_value(&p, &v, 0);
                if (r >= 0) {
                        skip_ws(&p);
                        if (!at_end(&p))
                                r = fail(&p, "trailing characters after the value");
                }
        }
        if (p.oom)
                r = -ENOMEM;
        if (r < 0) {
                json_value_done(&v);
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                free(p.error);
                return r;
        }
        *ret = v;
        return 0;
}

void json_value_done(JsonValue *v) {
        if (!v)
                return;
        free(v->text);
        for (size_t i = 0; i < v->n_items; i++) {
                json_value_done(&v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        *v = (JsonValue) {};
}

const JsonValue *json_object_get(const JsonValue *o, const char *key) {
        if (!o || o->type != JSON_OBJECT)
                return NULL;
        for (size_t i = 0; i < o->n_items; i++)
                if (o->keys[i] && streq(o->keys[i], key))
                        return &o->items[i];
        return NULL;
}

const char *json_type_to_string(JsonType t) {
        static const char *const names[] = {
                [JSON_NULL] = "null",     [JSON_BOOLEAN] = "a boolean", [JSON_NUMBER] = "a number",
                [JSON_STRING] = "a string", [JSON_ARRAY] = "an array",  [JSON_OBJECT] = "an object",
        };
        return (size_t) t < ELEMENTSOF(names) ? names[t] : "?";
}
