/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small strict JSON reader (RFC 8259) for the few documents unroot reads back, such as the
 * migration records (migrate-record.h). Those are written by unroot itself and are small, so a
 * tree of values is simplest; agentctl-output.h is the writing side. Pure: text in, tree out. */

#include <stdbool.h>
#include <stddef.h>

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue {
        JsonType type;
        bool boolean;
        char *text;       /* STRING: decoded UTF-8 (no NUL inside); NUMBER: the literal as written */
        struct JsonValue *items; /* ARRAY: elements; OBJECT: member values */
        char **keys;      /* OBJECT: keys[i] names items[i] */
        size_t n_items;
} JsonValue;

/* Nesting deeper than this is refused (the stack is not the limit). */
#define JSON_DEPTH_MAX 32U

/* Parses exactly one JSON value (surrounding whitespace allowed). Refuses what RFC 8259 refuses,
 * plus: a string containing \u0000, an object with the same key twice, nesting deeper than
 * JSON_DEPTH_MAX. On error returns -EINVAL (-ENOMEM) and, if ret_error is non-NULL, a message
 * "line L, column C: <why>". */
int json_parse(const char *text, size_t len, JsonValue *ret, char **ret_error);
void json_value_done(JsonValue *v);

/* The member key of an object, or NULL (also when o is not an object). */
const JsonValue *json_object_get(const JsonValue *o, const char *key);
const char *json_type_to_string(JsonType t);
