/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "etcfile.h"
#include "parse-util.h"
#include "util.h"

/* Refuse to slurp absurd files into a root process: /etc/passwd with a million users is ~100 MB. */
#define ETC_FILE_MAX (256U * 1024U * 1024U)

static const char *const kind_file[_ETC_KIND_MAX] = {
        [ETC_GROUP] = "group",   [ETC_GSHADOW] = "gshadow", [ETC_PASSWD] = "passwd",
        [ETC_SHADOW] = "shadow", [ETC_SUBUID] = "subuid",   [ETC_SUBGID] = "subgid",
};
static const unsigned kind_fields[_ETC_KIND_MAX] = {
        [ETC_GROUP] = 4,  [ETC_GSHADOW] = 4, [ETC_PASSWD] = 7,
        [ETC_SHADOW] = 9, [ETC_SUBUID] = 3,  [ETC_SUBGID] = 3,
};

const char *etc_kind_file(EtcKind k) {
        return k >= 0 && k < _ETC_KIND_MAX ? kind_file[k] : NULL;
}

unsigned etc_kind_n_fields(EtcKind k) {
        return k >= 0 && k < _ETC_KIND_MAX ? kind_fields[k] : 0;
}

static void line_done(EtcLine *l) {
        free(l->raw);
        free(l->buf);
        free(l->fields);
        *l = (EtcLine) {};
}

static int parse_u32_field(const char *s, uint32_t *ret) {
        uint64_t v;

        if (safe_atou64_span(s, strlen(s), &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* Fills l->type/fields/id from l->raw. Only fails with -ENOMEM. */
static int line_parse(EtcKind kind, EtcLine *l) {
        size_t cn = l->raw_len;
        const char *c = l->raw;
        size_t n = 1;

        if (cn > 0 && c[cn - 1] == '\n')
                cn--;

        free(l->buf);
        free(l->fields);
        l->buf = NULL;
        l->fields = NULL;
        l->n_fields = 0;
        l->why = NULL;

        if (memchr(c, 0, cn)) {
                l->type = LINE_MALFORMED;
                l->why = "contains a NUL byte";
                return 0;
        }
        if (cn == 0 || c[0] == '#' || strspn(c, " \t\r") >= cn) {
                l->type = LINE_COMMENT;
                return 0;
        }

        l->buf = strndup(c, cn);
        if (!l->buf)
                return -ENOMEM;
        for (size_t i = 0; i < cn; i++)
                if (c[i] == ':')
                        n++;
        l->fields = calloc(n + 1, sizeof(char *));
        if (!l->fields)
                return -ENOMEM;
        l->fields[0] = l->buf;
        for (size_t i = 0, k = 1; i < cn; i++)
                if (l->buf[i] == ':') {
                        l->buf[i] = 0;
                        l->fields[k++] = l->buf + i + 1;
                }
        l->n_fields = n;

        l->type = LINE_MALFORMED;
        if (n != kind_fields[kind]) {
                l->why = "has the wrong number of ':'-separated fields";
                return 0;
        }
        if (l->fields[0][0] == 0) {
                l->why = "has an empty name";
                return 0;
        }
        switch (kind) {
        case ETC_PASSWD:
                if (parse_u32_field(l->fields[2], &l->id[0]) < 0 || parse_u32_field(l->fields[3], &l->id[1]) < 0) {
                        l->why = "has a uid or gid that is not a decimal number below 2^32";
                        return 0;
                }
                break;
        case ETC_GROUP:
                if (parse_u32_field(l->fields[2], &l->id[0]) < 0) {
                        l->why = "has a gid that is not a decimal number below 2^32";
                        return 0;
                }
                break;
        case ETC_SUBUID:
        case ETC_SUBGID:
                /* helper-anchors §2.8: decimal only, each value < 2^32, the range inside [0, 2^32). */
                if (cn > SUBID_LINE_MAX) {
                        l->why = "is longer than 1023 bytes";
                        return 0;
                }
                if (parse_u32_field(l->fields[1], &l->id[0]) < 0 || parse_u32_field(l->fields[2], &l->id[1]) < 0) {
                        l->why = "has a start or count that is not a plain decimal number below 2^32";
                        return 0;
                }
                if ((uint64_t) l->id[0] + l->id[1] > (UINT64_C(1) << 32)) {
                        l->why = "describes a range that ends beyond 2^32";
                        return 0;
                }
                break;
        case ETC_SHADOW:
        case ETC_GSHADOW:
                break;
        default:

                return -EINVAL;
        }
        l->type = LINE_RECORD;
        return 0;
}

static int file_add_line(EtcFile *f, const char *raw, size_t n, unsigned line_no) {
        EtcLine *p, *l;
        int r;

        if (f->n_lines >= f->n_alloc) {
                /* Geometric growth: 10,000-line subuid files are parsed in linear time. */
                size_t na = f->n_alloc ? f->n_alloc * 2 : 64;
                p = reallocarray(f->lines, na, sizeof(EtcLine));
                if (!p)
                        return -ENOMEM;
                f->lines = p;
                f->n_alloc = na;
        }
        l = &f->lines[f->n_lines];
        *l = (EtcLine) { .line_no = line_no };
        l->raw = malloc(n + 1);
        if (!l->raw)
                return -ENOMEM;
        memcpy(l->raw, raw, n);
        l->raw[n] = 0;
        l->raw_len = n;
        r = line_parse(f->kind, l);
        if (r < 0) {
                line_done(l);
                return r;
        }
        f->n_lines++;
        return 0;
}

int etc_file_parse(EtcKind kind, const char *data, size_t len, EtcFile *f) {
        unsigned line_no = 0;
        int r;

        *f = (EtcFile) { .kind = kind };
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(data + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (data + i)) + 1 : len - i;

                r = file_add_line(f, data + i, n, ++line_no);
                if (r < 0) {
                        etc_file_done(f);
                        return r;
                }
                i += n;
        }
        return 0;
}

int etc_file_load_at(int etcfd, EtcKind kind, EtcFile *f, ErrorInfo *e) {
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t len;
        int r;

        fd = openat(etcfd, kind_file[kind], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT) {
                        *f = (EtcFile) { .kind = kind };
                        return 0;
                }
                r = -errno;
                return error_set(e, r, kind_file[kind], "Cannot open /etc/%s: %s%s", kind_file[kind],
                                 strerror(-r), r == -ELOOP ? " (it is a symlink, which is refused)" : ".");
        }
        if (fstat(fd, &st) < 0)
                return error_set(e, -errno, kind_file[kind], "Cannot stat /etc/%s: %m", kind_file[kind]);
        if (!S_ISREG(st.st_mode))
                return error_set(e, -EBADFD, kind_file[kind], "/etc/%s is not a regular file.", kind_file[kind]);
        r = read_full_fd(fd, ETC_FILE_MAX, &data, &len);
        if (r < 0)
                return error_set(e, r, kind_file[kind], "Cannot read /etc/%s: %s", kind_file[kind], strerror(-r));
        r = etc_file_parse(kind, data, len, f);
        if (r < 0)
                return error_set(e, r, kind_file[kind], "Out of memory parsing /etc/%s.", kind_file[kind]);
        f->existed = true;
        f->mode = st.st_mode & 07777;
        f->uid = st.st_uid;
        f->gid = st.st_gid;
        f->orig = TAKE_PTR(data);
        f->orig_len = len;
        return 0;
}

void etc_file_done(EtcFile *f) {
        for (size_t i = 0; i < f->n_lines; i++)
                line_done(&f->lines[i]);
        free(f->lines);
        free(f->orig);
        *f = (EtcFile) { .kind = f->kind };
}

int etc_file_serialize(const EtcFile *f, char **ret, size_t *ret_len) {
        size_t n = 0;
        char *s, *p;

        for (size_t i = 0; i < f->n_lines; i++)
                if (!f->lines[i].deleted)
                        n += f->lines[i].raw_len;
        s = p = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_lines; i++)
                if (!f->lines[i].deleted) {
                        memcpy(p, f->lines[i].raw, f->lines[i].raw_len);
                        p += f->lines[i].raw_len;
                }
        *p = 0;
        *ret = s;
        *ret_len = n;
        return 0;
}

ssize_t etc_file_find_name(const EtcFile *f, const char *name) {
        for (size_t i = 0; i < f->n_lines; i++) {
                const EtcLine *l = &f->lines[i];
                if (!l->deleted && l->type != LINE_COMMENT && l->fields && streq(l->fields[0], name))
                        return (ssize_t) i;
        }
        return -1;
}

ssize_t etc_file_find_record(const EtcFile *f, const char *name) {
        for (size_t i = 0; i < f->n_lines; i++) {
                const EtcLine *l = &f->lines[i];
                if (!l->deleted && l->type == LINE_RECORD && streq(l->fields[0], name))
                        return (ssize_t) i;
        }
        return -1;
}

bool etc_file_id_taken(const EtcFile *f, uint32_t id) {
        for (size_t i = 0; i < f->n_lines; i++) {
                const EtcLine *l = &f->lines[i];
                if (!l->deleted && l->type == LINE_RECORD && l->id[0] == id)
                        return true;
        }
        return false;
}

ssize_t etc_file_first_malformed(const EtcFile *f) {
        for (size_t i = 0; i < f->n_lines; i++)
                if (!f->lines[i].deleted && f->lines[i].type == LINE_MALFORMED)
                        return (ssize_t) i;
        return -1;
}

int etc_file_append(EtcFile *f, const char *content) {
        size_t n = strlen(content);
        _cleanup_free_ char *raw = NULL;
        int r;

        /* A last line without its newline gets one, or the new line would be glued onto it. */
        for (size_t i = f->n_lines; i > 0; i--) {
                EtcLine *l = &f->lines[i - 1];
                if (l->deleted)
                        continue;
                if (l->raw_len > 0 && l->raw[l->raw_len - 1] != '\n') {
                        char *p = realloc(l->raw, l->raw_len + 2);
                        if (!p)
                                return -ENOMEM;
                        l->raw = p;
                        l->raw[l->raw_len++] = '\n';
                        l->raw[l->raw_len] = 0;
                }
                break;
        }
        raw = malloc(n + 2);
        if (!raw)
                return -ENOMEM;
        memcpy(raw, content, n);
        raw[n] = '\n';
        raw[n + 1] = 0;
        r = file_add_line(f, raw, n + 1, 0);
        if (r < 0)
                return r;
        f->changed = true;
        return 0;
}

int etc_file_replace(EtcFile *f, size_t idx, const char *content) {
        EtcLine *l = &f->lines[idx];
        bool nl = l->raw_len > 0 && l->raw[l->raw_len - 1] == '\n';
        size_t n = strlen(content);
        char *raw;

        raw = malloc(n + 2);
        if (!raw)
                return -ENOMEM;
        memcpy(raw, content, n);
        if (nl)
                raw[n++] = '\n';
        raw[n] = 0;
        free(l->raw);
        l->raw = raw;
        l->raw_len = n;
        f->changed = true;
        return line_parse(f->kind, l);
}

void etc_file_delete(EtcFile *f, size_t idx) {
        f->lines[idx].deleted = true;
        f->changed = true;
}
