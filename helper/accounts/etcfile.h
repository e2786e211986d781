/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Colon-separated /etc line files, kept as raw lines (so that rewriting preserves every byte of
 * lines we do not touch) plus parsed fields. Parsing is strict; a line that does not parse is kept
 * verbatim and marked malformed. Pure: no I/O except etc_file_load_at(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

typedef enum EtcKind {
        ETC_GROUP,
        ETC_GSHADOW,
        ETC_PASSWD,
        ETC_SHADOW,
        ETC_SUBUID,
        ETC_SUBGID,
        _ETC_KIND_MAX,
        _ETC_KIND_INVALID = -EINVAL,
} EtcKind; /* in rename order */

const char *etc_kind_file(EtcKind k);   /* "passwd" */
unsigned etc_kind_n_fields(EtcKind k); /* 7, 4, 9, 4, 3, 3 */

typedef enum LineType {
        LINE_COMMENT,   /* empty, whitespace only, or starting with '#' */
        LINE_RECORD,    /* parsed */
        LINE_MALFORMED, /* kept verbatim, ignored, `why` says why */
} LineType;

/* Longest subuid/subgid line shadow reads (lib/subordinateio.c); longer ones are malformed. */
#define SUBID_LINE_MAX 1023U

typedef struct EtcLine {
        char *raw;            /* exact bytes, including the "\n" terminator if there was one */
        size_t raw_len;
        LineType type;
        const char *why;      /* static string, for LINE_MALFORMED */
        char *buf;            /* content split at ':' (NUL-separated), for non-comment lines */
        char **fields;        /* pointers into buf */
        size_t n_fields;
        uint32_t id[2];       /* passwd: uid, gid; group: gid; sub[ug]id: start, count */
        unsigned line_no;     /* 1-based, as loaded (0 for appended lines) */
        bool deleted;
} EtcLine;

typedef struct EtcFile {
        EtcKind kind;
        bool existed;
        mode_t mode;          /* of the existing file (permission bits only) */
        uid_t uid;
        gid_t gid;
        char *orig;           /* the bytes as loaded, for the "-" backup */
        size_t orig_len;
        EtcLine *lines;
        size_t n_lines, n_alloc;
        bool changed;
} EtcFile;

/* Parses data into f (f->kind set, lines filled). Never fails on content, only on ENOMEM. */
int etc_file_parse(EtcKind kind, const char *data, size_t len, EtcFile *f);
/* Loads <etcfd>/<file>; a missing file gives an empty EtcFile with existed = false. Refuses
 * symlinks and non-regular files. */
int etc_file_load_at(int etcfd, EtcKind kind, EtcFile *f, ErrorInfo *e);
void etc_file_done(EtcFile *f);

/* Serializes the current lines (deleted ones skipped). */
int etc_file_serialize(const EtcFile *f, char **ret, size_t *ret_len);

/* Index of the first live record (or malformed line) whose first field is name, or -1.
 * etc_file_find_record() considers records only. */
ssize_t etc_file_find_name(const EtcFile *f, const char *name);
ssize_t etc_file_find_record(const EtcFile *f, const char *name);
/* True if a record of this passwd/group file uses id as uid (passwd) or gid (group). */
bool etc_file_id_taken(const EtcFile *f, uint32_t id);
/* Index of the first malformed live line, or -1. */
ssize_t etc_file_first_malformed(const EtcFile *f);

/* Appends a line (content without "\n"). If the last line lacked its final newline, one is added to
 * it first (the only change ever made to a line we did not write). Marks the file changed. */
int etc_file_append(EtcFile *f, const char *content);
/* Replaces the content of line idx, keeping its terminator. */
int etc_file_replace(EtcFile *f, size_t idx, const char *content);
void etc_file_delete(EtcFile *f, size_t idx);
