/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "shift-journal.h"

const char *const shift_xattr_names[_SHIFT_XATTR_MAX] = {
        [SHIFT_XATTR_ACL] = "system.posix_acl_access",
        [SHIFT_XATTR_DEFAULT_ACL] = "system.posix_acl_default",
        [SHIFT_XATTR_CAP] = "security.capability",
};

/* CRC-32 (the zlib/ethernet one), eight bytes a step ("slicing-by-8"): every journal line is summed,
 * which was a tenth of the shift's user time a byte a step. The same sums as a byte at a time. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t k = i;
                for (int j = 0; j < 8; j++)
                        k = k & 1 ? 0xEDB88320U ^ (k >> 1) : k >> 1;
                crc_table[0][i] = k;
        }
        for (uint32_t i = 0; i < 256; i++)
                for (int t = 1; t < 8; t++)
                        crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xFF] ^ (crc_table[t - 1][i] >> 8);
}

uint32_t shift_crc32(const void *data, size_t len) {
        const uint8_t *p = data;
        uint32_t c = 0xFFFFFFFFU;

        (void) pthread_once(&crc_once, crc_init);
        for (; len >= 8; len -= 8, p += 8) {
                uint32_t lo = c ^ ((uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
                uint32_t hi = (uint32_t) p[4] | (uint32_t) p[5] << 8 | (uint32_t) p[6] << 16 | (uint32_t) p[7] << 24;

                c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
                    crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
                    crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        }
        for (; len > 0; len--, p++)
                c = crc_table[0][(c ^ *p) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFU;
}

void shift_buf_done(ShiftBuf *b) {
        free(b->data);
        *b = (ShiftBuf) {};
}

static int buf_reserve(ShiftBuf *b, size_t n) {
        size_t need;
        char *p;

        if (!ADD_SAFE(&need, b->len, n + 1))
                return -ENOMEM;
        if (need <= b->alloc)
                return 0;
        need = MAX(need, b->alloc * 2);
        need = MAX(need, (size_t) 4096);
        p = realloc(b->data, need);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->alloc = need;
        return 0;
}

static int buf_printf(ShiftBuf *b, const char *fmt, ...) _printf_(2, 3);
static int buf_printf(ShiftBuf *b, const char *fmt, ...) {
        va_list ap;
        int n, r;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        r = buf_reserve(b, (size_t) n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

static const char hexdigits[] = "0123456789abcdef";

/* " <v>" in base 8 or 10, without printf: a record has eight numbers and a shift writes one record
 * per inode, so vfprintf was a tenth of a shift's time (measured). */
static int buf_put_num(ShiftBuf *b, uint64_t v, unsigned base) {
        char digits[24];
        size_t n = 0;
        int r;

        r = buf_reserve(b, 1 + sizeof digits);
        if (r < 0)
                return r;
        do
                digits[n++] = hexdigits[v % base];
        while ((v /= base) > 0);
        b->data[b->len++] = ' ';
        while (n > 0)
                b->data[b->len++] = digits[--n];
        b->data[b->len] = 0;
        return 0;
}

int shift_path_escape(ShiftBuf *b, const char *s) {
        size_t n = strlen(s);
        int r;

        r = buf_reserve(b, n * 3);
        if (r < 0)
                return r;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p <= 0x20 || *p >= 0x7f || *p == '%') {
                        b->data[b->len++] = '%';
                        b->data[b->len++] = hexdigits[*p >> 4];
                        b->data[b->len++] = hexdigits[*p & 15];
                } else
                        b->data[b->len++] = (char) *p;
        }
        b->data[b->len] = 0;
        return 0;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

char *shift_path_unescape(const char *s, size_t len) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t j = 0;

        if (!out || len == 0)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        int hi, lo;
                        if (i + 2 >= len)
                                return NULL;
                        hi = unhex(s[i + 1]);
                        lo = unhex(s[i + 2]);
                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                                return NULL; /* no embedded NUL */
                        out[j++] = (char) (hi << 4 | lo);
                        i += 2;
                } else if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return NULL;
                else
                        out[j++] = s[i];
        }
        out[j] = 0;
        return TAKE_PTR(out);
}

/* Appends 2 * n hex digits; the caller reserved the room. */
static void hex_put(ShiftBuf *b, const uint8_t *data, size_t n) {
        for (size_t i = 0; i < n; i++) {
                b->data[b->len++] = hexdigits[data[i] >> 4];
                b->data[b->len++] = hexdigits[data[i] & 15];
        }
        b->data[b->len] = 0;
}

static int blob_format(ShiftBuf *b, const ShiftBlob *x) {
        int r;

        r = buf_reserve(b, 2 + 2 * (size_t) x->len);
        if (r < 0)
                return r;
        if (!x->present) {
                b->data[b->len++] = ' ';
                b->data[b->len++] = '-';
                b->data[b->len] = 0;
                return 0;
        }
        if (r < 0)
                return r;
        b->data[b->len++] = ' ';
        b->data[b->len++] = 'x'; /* never empty, never "-" */
        hex_put(b, x->data, x->len);
        return 0;
}

/* Closes the line started at `start`: " *<crc of everything before the space>\n". */
static int line_finish(ShiftBuf *b, size_t start) {
        uint32_t crc = shift_crc32(b->data + start, b->len - start);
        int r = buf_reserve(b, 11);

        if (r < 0)
                return r;
        b->data[b->len++] = ' ';
        b->data[b->len++] = '*';
        for (int shift = 28; shift >= 0; shift -= 4)
                b->data[b->len++] = hexdigits[(crc >> shift) & 15];
        b->data[b->len++] = '\n';
        b->data[b->len] = 0;
        return 0;
}

int shift_header_format(ShiftBuf *b, const ShiftHeader *h) {
        size_t start = b->len;
        int r;

        r = buf_printf(b, "%s %u %s %" PRIu32 ":%" PRIu32 ":%" PRIu32 " %" PRIu32 ":%" PRIu32 ":%" PRIu32 " ",
                       SHIFT_JOURNAL_MAGIC, SHIFT_JOURNAL_VERSION, h->account,
                       h->map.uid.self, h->map.uid.start, h->map.uid.count,
                       h->map.gid.self, h->map.gid.start, h->map.gid.count);
        if (r >= 0)
                r = shift_path_escape(b, h->path);
        if (r >= 0)
                r = line_finish(b, start);
        return r;
}

int shift_record_format(ShiftBuf *b, const ShiftRecord *rec, unsigned version) {
        const uint64_t nums[] = { rec->dev, rec->ino, rec->old_uid, rec->old_gid, rec->old_mode,
                                  rec->new_uid, rec->new_gid, rec->new_mode };
        size_t start = b->len;
        int r;

        r = buf_reserve(b, 1);
        if (r < 0)
                return r;
        b->data[b->len++] = 'C';
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(nums); i++)
                r = buf_put_num(b, nums[i], i == 4 || i == 7 ? 8 : 10); /* the modes in octal */
        if (r >= 0)
                r = buf_reserve(b, 1);
        if (r >= 0) {
                b->data[b->len++] = ' ';
                r = shift_path_escape(b, rec->path);
        }
        for (int i = 0; r >= 0 && i < _SHIFT_XATTR_MAX; i++)
                r = blob_format(b, &rec->old_x[i]);
        for (int i = 0; r >= 0 && i < _SHIFT_XATTR_MAX; i++)
                r = blob_format(b, &rec->new_x[i]);
        if (r >= 0 && version >= 2)
                r = buf_reserve(b, 2 + 2 * SHIFT_SHA256_SIZE);
        if (r >= 0 && version >= 2) {
                b->data[b->len++] = ' ';
                if (rec->has_digest)
                        hex_put(b, rec->digest, SHIFT_SHA256_SIZE);
                else {
                        b->data[b->len++] = '-';
                        b->data[b->len] = 0;
                }
        }
        if (r >= 0)
                r = line_finish(b, start);
        return r;
}

bool shift_record_privileged(const ShiftRecord *r, unsigned type) {
        return S_ISREG(type) && ((r->old_mode & S_ISUID) || ((r->old_mode & S_ISGID) && (r->old_mode & S_IXGRP)) ||
                                 r->old_x[SHIFT_XATTR_CAP].present);
}

int shift_skip_format(ShiftBuf *b, const char *reason, const char *relpath) {
        size_t start = b->len;
        int r;

        r = buf_printf(b, "S ");
        if (r >= 0)
                r = shift_path_escape(b, reason);
        if (r >= 0)
                r = buf_printf(b, " ");
        if (r >= 0)
                r = shift_path_escape(b, relpath);
        if (r >= 0)
                r = line_finish(b, start);
        return r;
}

int shift_done_format(ShiftBuf *b) {
        size_t start = b->len;
        int r = buf_printf(b, "D");
        return r < 0 ? r : line_finish(b, start);
}

void shift_record_done(ShiftRecord *r) {
        free(r->path);
        for (int i = 0; i < _SHIFT_XATTR_MAX; i++) {
                free(r->old_x[i].data);
                free(r->new_x[i].data);
        }
        *r = (ShiftRecord) {};
}

void shift_journal_done(ShiftJournal *j) {
        for (size_t i = 0; i < j->n_records; i++)
                shift_record_done(&j->records[i]);
        free(j->records);
        free(j->header.path);
        *j = (ShiftJournal) {};
}

/* --- parsing: fields are separated by single spaces --- */

typedef struct Fields {
        const char *f[24];
        size_t len[24];
        size_t n;
} Fields;

static int split(const char *s, size_t len, Fields *ret) {
        size_t i = 0;

        ret->n = 0;
        while (i <= len) {
                size_t j = i;
                while (j < len && s[j] != ' ')
                        j++;
                if (ret->n == ELEMENTSOF(ret->f) || j == i)
                        return -EBADMSG;
                ret->f[ret->n] = s + i;
                ret->len[ret->n++] = j - i;
                i = j + 1;
        }
        return 0;
}

static int parse_u64(const char *s, size_t len, unsigned base, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0 || len > 20 || (len > 1 && s[0] == '0' && base == 10))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                unsigned d;
                if (s[i] < '0' || s[i] > (base == 8 ? '7' : '9'))
                        return -EBADMSG;
                d = (unsigned) (s[i] - '0');
                if (!MUL_SAFE(&v, v, base) || !ADD_SAFE(&v, v, d))
                        return -EBADMSG;
        }
        if (v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int parse_u32(const char *s, size_t len, unsigned base, uint32_t *ret) {
        uint64_t v;
        int r = parse_u64(s, len, base, UINT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint32_t) v;
        return 0;
}

static int parse_range(const char *s, size_t len, ShiftIdRange *ret) {
        const char *c1 = memchr(s, ':', len), *c2;

        if (!c1)
                return -EBADMSG;
        c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - s));
        if (!c2)
                return -EBADMSG;
        if (parse_u32(s, (size_t) (c1 - s), 10, &ret->self) < 0 ||
            parse_u32(c1 + 1, (size_t) (c2 - c1 - 1), 10, &ret->start) < 0 ||
            parse_u32(c2 + 1, len - (size_t) (c2 + 1 - s), 10, &ret->count) < 0)
                return -EBADMSG;
        return 0;
}

/* Decodes n bytes from 2 * n lower-case hex digits. */
static int hex_get(const char *s, size_t n, uint8_t *ret) {
        for (size_t i = 0; i < n; i++) {
                int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

static int parse_blob(const char *s, size_t len, ShiftBlob *ret) {
        if (len == 1 && s[0] == '-') {
                *ret = (ShiftBlob) {};
                return 0;
        }
        if (len < 1 || s[0] != 'x' || (len - 1) % 2 != 0 || (len - 1) / 2 > SHIFT_XATTR_VALUE_MAX)
                return -EBADMSG;
        ret->len = (uint16_t) ((len - 1) / 2);
        ret->data = malloc(MAX(ret->len, (uint16_t) 1));
        if (!ret->data)
                return -ENOMEM;
        ret->present = true;
        return hex_get(s + 1, ret->len, ret->data);
}

static int parse_digest(const char *s, size_t len, ShiftRecord *rec) {
        if (len == 1 && s[0] == '-')
                return 0;
        if (len != 2 * SHIFT_SHA256_SIZE || hex_get(s, SHIFT_SHA256_SIZE, rec->digest) < 0)
                return -EBADMSG;
        rec->has_digest = true;
        return 0;
}

static int parse_record(const Fields *f, unsigned version, ShiftRecord *rec) {
        uint32_t *u32[] = { &rec->old_uid, &rec->old_gid, &rec->old_mode, &rec->new_uid, &rec->new_gid, &rec->new_mode };
        int r;

        if (f->n != (version >= 2 ? 17U : 16U))
                return -EBADMSG;
        if (version >= 2 && parse_digest(f->f[16], f->len[16], rec) < 0)
                return -EBADMSG;
        if (parse_u64(f->f[1], f->len[1], 10, UINT64_MAX, &rec->dev) < 0 ||
            parse_u64(f->f[2], f->len[2], 10, UINT64_MAX, &rec->ino) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(u32); i++)
                if (parse_u32(f->f[3 + i], f->len[3 + i], i == 2 || i == 5 ? 8 : 10, u32[i]) < 0)
                        return -EBADMSG;
        if (rec->old_mode > 07777 || rec->new_mode > 07777)
                return -EBADMSG;
        rec->path = shift_path_unescape(f->f[9], f->len[9]);
        if (!rec->path)
                return -EBADMSG;
        for (int i = 0; i < _SHIFT_XATTR_MAX; i++) {
                r = parse_blob(f->f[10 + i], f->len[10 + i], &rec->old_x[i]);
                if (r < 0)
                        return r;
                r = parse_blob(f->f[13 + i], f->len[13 + i], &rec->new_x[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_header(const Fields *f, ShiftHeader *h) {
        uint64_t version;

        if (f->n != 6 || f->len[0] != STRLEN(SHIFT_JOURNAL_MAGIC) ||
            memcmp(f->f[0], SHIFT_JOURNAL_MAGIC, f->len[0]) != 0)
                return -EBADMSG;
        if (parse_u64(f->f[1], f->len[1], 10, UINT32_MAX, &version) < 0 || version < 1 || version > SHIFT_JOURNAL_VERSION)
                return -EBADMSG;
        h->version = (unsigned) version;
        if (f->len[2] >= sizeof h->account)
                return -EBADMSG;
        memcpy(h->account, f->f[2], f->len[2]);
        h->account[f->len[2]] = 0;
        if (parse_range(f->f[3], f->len[3], &h->map.uid) < 0 || parse_range(f->f[4], f->len[4], &h->map.gid) < 0)
                return -EBADMSG;
        h->path = shift_path_unescape(f->f[5], f->len[5]);
        return h->path ? 0 : -EBADMSG;
}

/* Checks the trailing " *crc" of one line (without its '\n'); returns the content length. */
static int line_check(const char *s, size_t len, size_t *ret_content) {
        uint64_t crc;

        if (len < 11 || s[len - 10] != ' ' || s[len - 9] != '*')
                return -EBADMSG;
        crc = 0;
        for (size_t i = len - 8; i < len; i++) {
                int d = unhex(s[i]);
                if (d < 0)
                        return -EBADMSG;
                crc = crc << 4 | (uint64_t) d;
        }
        if (crc != shift_crc32(s, len - 10))
                return -EBADMSG;
        *ret_content = len - 10;
        return 0;
}

int shift_journal_parse(const char *data, size_t len, ShiftJournal *ret, size_t *ret_line) {
        _cleanup_(shift_journal_done) ShiftJournal j = {};
        size_t pos = 0, line = 0, alloc = 0;
        bool bad = false;

        while (pos < len) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t llen, content;
                Fields f;
                int r;

                line++;
                if (!nl) {
                        /* No newline: the last write was cut short. */
                        j.torn = true;
                        break;
                }
                llen = (size_t) (nl - (data + pos));
                r = line_check(data + pos, llen, &content);
                if (r >= 0)
                        r = split(data + pos, content, &f);
                if (r >= 0 && line == 1)
                        r = parse_header(&f, &j.header);
                else if (r >= 0 && (j.done || f.len[0] != 1))
                        r = -EBADMSG; /* nothing follows D */
                else if (r >= 0 && f.f[0][0] == 'C') {
                        if (j.n_records == alloc) {
                                size_t na = MAX(alloc * 2, (size_t) 64);
                                ShiftRecord *p = reallocarray(j.records, na, sizeof *p);
                                if (!p)
                                        return -ENOMEM;
                                j.records = p;
                                alloc = na;
                        }
                        j.records[j.n_records] = (ShiftRecord) {};
                        r = parse_record(&f, j.header.version, &j.records[j.n_records]);
                        j.n_records++; /* counted even when bad, so it is freed */
                        if (r < 0)
                                shift_record_done(&j.records[--j.n_records]);
                } else if (r >= 0 && f.f[0][0] == 'S')
                        r = f.n == 3 ? (j.n_skips++, 0) : -EBADMSG;
                else if (r >= 0 && f.f[0][0] == 'D')
                        r = f.n == 1 ? (j.done = true, 0) : -EBADMSG;
                else if (r >= 0)
                        r = -EBADMSG;
                if (r == -ENOMEM)
                        return r;
                pos = (size_t) (nl - data) + 1;
                if (r < 0) {
                        /* A torn tail only if nothing valid follows it. */
                        if (!bad && ret_line)
                                *ret_line = line;
                        bad = true;
                        j.torn = true;
                        continue;
                }
                if (bad)
                        return -EBADMSG; /* a good line after a bad one: not a torn tail */
                j.valid_len = pos;
        }
        if (line == 0 || !j.header.path) {
                if (ret_line)
                        *ret_line = 1;
                return -EBADMSG;
        }
        *ret = j;
        j = (ShiftJournal) {};
        return 0;
}

int shift_journal_read(int fd, ShiftJournal *ret, size_t *ret_line) {
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t n = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size < 0 || (uint64_t) st.st_size > (uint64_t) 4 * 1024 * 1024 * 1024)
                return -EFBIG;
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        while (n < (size_t) st.st_size) {
                ssize_t k = pread(fd, data + n, (size_t) st.st_size - n, (off_t) n);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        return shift_journal_parse(data, n, ret, ret_line);
}

int shift_journal_append(int fd, ShiftBuf *b, bool sync) {
        size_t off = 0;

        while (off < b->len) {
                ssize_t k = write(fd, b->data + off, b->len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (size_t) k;
        }
        b->len = 0;
        if (sync && fdatasync(fd) < 0)
                return -errno;
        return 0;
}
