/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The shift journal: one text line per record, each ending in a CRC-32 of the line, so a record is
 * either whole or recognisably torn. Written append-only; every record reaches the disk
 * (fdatasync) before the change it describes is made (see shift-walk.c for the batching argument).
 *
 *   unroot-shift-journal 2 <account> <uid self:start:count> <gid self:start:count> <path> *<crc>
 *   C <dev> <ino> <old uid> <old gid> <old mode> <new uid> <new gid> <new mode> <relpath>
 *     <old acl> <old default acl> <old cap> <new acl> <new default acl> <new cap> <digest> *<crc>
 *   S <reason> <relpath> *<crc>        an entry left alone, for the report
 *   D *<crc>                           the shift completed
 *
 * Numbers are decimal, modes octal, xattr values hex or "-" (absent), paths %XX-escaped (every byte
 * outside 0x21..0x7e, and '%'); relpath is relative to the shifted directory, "." for itself.
 * <digest> is the SHA-256 of a regular file's content before the shift, in hex, for the files whose
 * setuid/setgid bits or capability a rollback may put back (shift_record_privileged()), else "-".
 * Version 1 journals (from before the digest) have no <digest>: they are still read and resumed,
 * and their privileged files get their owner and mode back without those bits.
 * Parsing is pure; the file functions at the end do the I/O. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shift-idmap.h"
#include "shift-sha256.h"

#define SHIFT_JOURNAL_MAGIC "unroot-shift-journal"
#define SHIFT_JOURNAL_VERSION 2U
#define SHIFT_XATTR_VALUE_MAX 4096U

typedef enum ShiftXattrKind {
        SHIFT_XATTR_ACL,
        SHIFT_XATTR_DEFAULT_ACL,
        SHIFT_XATTR_CAP,
        _SHIFT_XATTR_MAX,
} ShiftXattrKind;

extern const char *const shift_xattr_names[_SHIFT_XATTR_MAX];

typedef struct ShiftBlob {
        bool present;
        uint16_t len;
        uint8_t *data;
} ShiftBlob;

typedef struct ShiftRecord {
        uint64_t dev, ino;
        uint32_t old_uid, old_gid, old_mode;
        uint32_t new_uid, new_gid, new_mode;
        char *path;
        ShiftBlob old_x[_SHIFT_XATTR_MAX], new_x[_SHIFT_XATTR_MAX];
        bool has_digest;
        uint8_t digest[SHIFT_SHA256_SIZE];
} ShiftRecord;

void shift_record_done(ShiftRecord *r);

/* A regular file whose old mode has setuid, or setgid with group execute, or which had a file
 * capability: putting those back on content someone else wrote would hand them its privileges, so
 * the shift records a digest of its content and the rollback checks it. */
bool shift_record_privileged(const ShiftRecord *r, unsigned type);

typedef struct ShiftHeader {
        unsigned version; /* as read; records are appended in the same version */
        char account[32];
        ShiftMap map;
        char *path; /* the shifted directory, absolute */
} ShiftHeader;

typedef struct ShiftJournal {
        ShiftHeader header;
        ShiftRecord *records;
        size_t n_records;
        size_t n_skips;
        bool done;        /* a D record: the shift completed */
        size_t valid_len; /* bytes up to the end of the last whole record */
        bool torn;        /* something followed valid_len: a record cut short by a crash */
} ShiftJournal;

void shift_journal_done(ShiftJournal *j);

/* A growing byte buffer for formatting records. */
typedef struct ShiftBuf {
        char *data;
        size_t len, alloc;
} ShiftBuf;
void shift_buf_done(ShiftBuf *b);

int shift_header_format(ShiftBuf *b, const ShiftHeader *h);
/* In the record format of journal version `version` (1: without the digest). */
int shift_record_format(ShiftBuf *b, const ShiftRecord *r, unsigned version);
int shift_skip_format(ShiftBuf *b, const char *reason, const char *relpath);
int shift_done_format(ShiftBuf *b);

/* Parses a whole journal. A last line that is incomplete or fails its CRC is a torn tail (torn set,
 * valid_len excludes it); a bad line followed by a good one is corruption: -EBADMSG, with the line
 * number in *ret_line. An empty file or a bad header: -EBADMSG with line 1. */
int shift_journal_parse(const char *data, size_t len, ShiftJournal *ret, size_t *ret_line);

/* Escaping, exposed for the tests. */
int shift_path_escape(ShiftBuf *b, const char *s);
char *shift_path_unescape(const char *s, size_t len);

uint32_t shift_crc32(const void *data, size_t len);

/* --- I/O --- */

/* Reads and parses the journal at fd (from offset 0). */
int shift_journal_read(int fd, ShiftJournal *ret, size_t *ret_line);
/* Appends b to fd, then fdatasync()s; b is emptied. */
int shift_journal_append(int fd, ShiftBuf *b, bool sync);
