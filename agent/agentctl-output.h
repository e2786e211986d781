/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* agentctl's output: a JSON string writer (no library needed for one escaper) and a plain-text
 * table like systemctl's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s as a JSON string literal, quotes included; NULL becomes null. Control characters are
 * escaped, valid UTF-8 passes through, every byte of an invalid sequence becomes U+FFFD. */
void json_write_string(FILE *f, const char *s);
/* Same, into a new string. */
char *json_escape(const char *s);

typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
Table *table_free(Table *t);
/* Right-align this column (numbers). */
void table_set_align_right(Table *t, size_t column);
/* Adds one row of n_columns cells (NULL prints as "-"). */
int table_add_row(Table *t, const char *const *cells);
size_t table_rows(const Table *t);
/* Columns separated by two spaces, padded to the widest cell (counted in characters, not bytes);
 * no trailing whitespace. */
int table_print(const Table *t, FILE *f);
