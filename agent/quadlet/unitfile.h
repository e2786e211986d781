/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* systemd-style unit files as podman's Quadlet reads and writes them (pkg/systemd/parser):
 * comment-preserving, group order preserving, repeated groups merged. Pure: no I/O here.
 * See docs/quadlet.md §2 for the exact rules this follows. */

#include <stdbool.h>
#include <stdint.h>

#include "strv.h"

typedef struct UnitLine {
        char *key;    /* NULL for comments */
        char *value;  /* the comment text for comments */
        bool is_comment;
} UnitLine;

typedef struct UnitGroup {
        char *name;         /* "" for the pseudo group holding comments of a group-less file */
        UnitLine **comments; /* comments before the [name] line */
        size_t n_comments;
        UnitLine **lines;
        size_t n_lines;
        uint64_t key_bits;  /* one bit per key hash of lines (see unitfile.c), for quick misses */
} UnitGroup;

typedef struct UnitFile {
        UnitGroup **groups;
        size_t n_groups;
        char *filename; /* basename, e.g. "web.container" */
        char *path;     /* full source path, may be NULL */
        bool oom;       /* sticky allocation failure, see unit_file_error() */
} UnitFile;

UnitFile *unit_file_new(void);
UnitFile *unit_file_free(UnitFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitFile *, unit_file_free);
#define _cleanup_unit_file_ _cleanup_(unit_file_freep)

static inline int unit_file_error(const UnitFile *f) {
        return f->oom ? -ENOMEM : 0;
}

/* Parses data (len bytes, need not be NUL-terminated). path may be NULL; its basename becomes the
 * filename. On a syntax error returns -EBADMSG and, if ret_error is non-NULL, upstream's message
 * (e.g. "file contains line 3: “x” which is not a key-value pair, group, or comment"). */
int unit_file_parse(const char *data, size_t len, const char *path, UnitFile **ret, char **ret_error);

/* Appends every group of src to dst (drop-in merge: lines are appended, nothing replaced). */
int unit_file_merge(UnitFile *dst, const UnitFile *src);
/* Copy of f with the same filename but no path. */
UnitFile *unit_file_dup(const UnitFile *f);

/* Serialises f (groups in order, one blank line between groups, comments kept). */
int unit_file_to_string(const UnitFile *f, char **ret);

bool unit_file_has_group(const UnitFile *f, const char *group);
UnitGroup *unit_file_find_group(const UnitFile *f, const char *group);
/* Distinct keys of a group, in first-seen order. */
int unit_file_list_keys(const UnitFile *f, const char *group, Strv *ret);

/* Lookups (docs/quadlet.md §2). Returned strings are owned by the caller. */
bool unit_file_has_key(const UnitFile *f, const char *group, const char *key);
const char *unit_file_lookup_last_raw(const UnitFile *f, const char *group, const char *key);
/* Lookup: last value, trailing whitespace trimmed, one pair of surrounding quotes stripped.
 * Returns NULL when the key is absent (or on OOM, which also sets f->oom). */
char *unit_file_lookup(const UnitFile *f, const char *group, const char *key);
/* LookupAll: every value, an empty value resets the list. */
void unit_file_lookup_all(const UnitFile *f, const char *group, const char *key, Strv *ret);
void unit_file_lookup_all_strv(const UnitFile *f, const char *group, const char *key, Strv *ret);
void unit_file_lookup_all_args(const UnitFile *f, const char *group, const char *key, Strv *ret);
/* LookupLastArgs: 0 = key absent, 1 = found, -EINVAL = bad escape ("unsupported escape char" etc.
 * in *ret_error if given). */
int unit_file_lookup_last_args(const UnitFile *f, const char *group, const char *key, Strv *ret,
                               char **ret_error);
/* LookupAllKeyVal: keys sorted, later wins; values NULL for a bare key. Values with a bad escape are
 * skipped, and each such failure is appended to warnings (if given). */
typedef struct KeyVal {
        char *key;
        char *value; /* NULL: no '=' */
} KeyVal;
typedef struct KeyValList {
        KeyVal *items;
        size_t n;
        bool oom;
} KeyValList;
void keyval_list_done(KeyValList *l);
void unit_file_lookup_all_keyval(const UnitFile *f, const char *group, const char *key, KeyValList *ret,
                                 Strv *warnings);
/* LookupBoolean: 0/1 when present, -ENOENT when absent. */
int unit_file_lookup_boolean(const UnitFile *f, const char *group, const char *key);
bool unit_file_lookup_boolean_default(const UnitFile *f, const char *group, const char *key, bool def);
/* LookupUint32: strtol-like (0x hex, leading 0 octal); def on absence or error; negatives rejected. */
uint32_t unit_file_lookup_uint32(const UnitFile *f, const char *group, const char *key, uint32_t def);

/* Mutators (used by the converters). */
void unit_file_add(UnitFile *f, const char *group, const char *key, const char *value);
void unit_file_set(UnitFile *f, const char *group, const char *key, const char *value);
void unit_file_unset(UnitFile *f, const char *group, const char *key);
void unit_file_prepend_line(UnitFile *f, const char *group, const char *key, const char *value);
void unit_file_prepend_comment(UnitFile *f, const char *comment);
void unit_file_rename_group(UnitFile *f, const char *from, const char *to);
/* Adds Key=<words escaped Exec-style>. */
void unit_file_add_cmdline(UnitFile *f, const char *group, const char *key, const Strv *args);

/* "foo@bar.container" → base "foo", instance "bar", returns true if '@' present. */
bool unit_file_template_parts(const char *filename, char **ret_base, char **ret_instance);

/* Word splitting as systemd's extract_first_word() (podman's split.go). */
enum {
        SPLIT_RELAX = 1 << 0,
        SPLIT_CUNESCAPE = 1 << 1,
        SPLIT_UNESCAPE_RELAX = 1 << 2,
        SPLIT_UNESCAPE_SEPARATORS = 1 << 3,
        SPLIT_KEEP_QUOTE = 1 << 4,
        SPLIT_UNQUOTE = 1 << 5,
        SPLIT_DONT_COALESCE_SEPARATORS = 1 << 6,
        SPLIT_RETAIN_ESCAPE = 1 << 7,
        SPLIT_RETAIN_SEPARATORS = 1 << 8,
};
#define WHITESPACE_SEPARATORS " \t\n\r"
/* Appends the words of s to ret. On error (-EINVAL) nothing is appended and *ret_error (if given)
 * gets "unsupported escape char", "unbalanced quotes" or "unbalanced escape". */
int split_string(const char *s, const char *separators, unsigned flags, Strv *ret, char **ret_error);
/* Joins words Exec-style: a word with whitespace, control characters, quotes or backslashes is
 * written in double quotes with C escapes. */
char *escape_words(char *const *words, size_t n);
bool word_needs_escape(const char *word);
