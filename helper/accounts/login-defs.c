/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "login-defs.h"
#include "parse-util.h"
#include "util.h"

void login_defs_default(LoginDefs *ret) {
        *ret = (LoginDefs) {
                .uid_min = 1000, .uid_max = 60000, .gid_min = 1000, .gid_max = 60000,
                .sys_uid_min = 101, .sys_uid_max = 999, .sys_gid_min = 101, .sys_gid_max = 999,
                .sub_uid_min = 100000, .sub_uid_max = 600100000, .sub_uid_count = 65536,
                .sub_gid_min = 100000, .sub_gid_max = 600100000, .sub_gid_count = 65536,
        };
}

typedef struct Key {
        const char *name;
        size_t offset;
} Key;

#define KEY(n, f) { n, offsetof(LoginDefs, f) }
static const Key keys[] = {
        KEY("UID_MIN", uid_min),         KEY("UID_MAX", uid_max),
        KEY("GID_MIN", gid_min),         KEY("GID_MAX", gid_max),
        KEY("SYS_UID_MIN", sys_uid_min), KEY("SYS_UID_MAX", sys_uid_max),
        KEY("SYS_GID_MIN", sys_gid_min), KEY("SYS_GID_MAX", sys_gid_max),
        KEY("SUB_UID_MIN", sub_uid_min), KEY("SUB_UID_MAX", sub_uid_max),
        KEY("SUB_UID_COUNT", sub_uid_count),
        KEY("SUB_GID_MIN", sub_gid_min), KEY("SUB_GID_MAX", sub_gid_max),
        KEY("SUB_GID_COUNT", sub_gid_count),
};

static int check_sub(const char *kind, uint32_t min, uint32_t max, uint32_t count, ErrorInfo *e) {
        char field[64];

        /* The same three checks as shadow's find_new_sub_uids(), which says "Invalid configuration". */
        if (min > max) {
                (void) snprintf(field, sizeof field, "/etc/login.defs:SUB_%s_MIN", kind);
                return error_set(e, -EINVAL, field,
                                 "Invalid configuration in /etc/login.defs: SUB_%s_MIN (%" PRIu32
                                 ") is greater than SUB_%s_MAX (%" PRIu32 ").", kind, min, kind, max);
        }
        (void) snprintf(field, sizeof field, "/etc/login.defs:SUB_%s_COUNT", kind);
        if (count == 0)
                return error_set(e, -EINVAL, field,
                                 "SUB_%s_COUNT is 0 in /etc/login.defs, which disables subordinate id "
                                 "allocation; unroot honours that and allocates none.", kind);
        if (count >= max)
                return error_set(e, -EINVAL, field,
                                 "Invalid configuration in /etc/login.defs: SUB_%s_COUNT (%" PRIu32
                                 ") is not below SUB_%s_MAX (%" PRIu32 ").", kind, count, kind, max);
        if ((uint64_t) min + count - 1 > max)
                return error_set(e, -EINVAL, field,
                                 "Invalid configuration in /etc/login.defs: SUB_%s_MIN + SUB_%s_COUNT - 1 "
                                 "(%" PRIu64 ") exceeds SUB_%s_MAX (%" PRIu32 ").",
                                 kind, kind, (uint64_t) min + count - 1, kind, max);
        return 0;
}

int login_defs_parse(const char *data, size_t len, LoginDefs *ret, ErrorInfo *e) {
        bool sys_uid_max_set = false, sys_gid_max_set = false;
        LoginDefs d;
        int r;

        login_defs_default(&d);
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(data + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (data + i)) : len - i;
                const char *p = data + i, *end = p + n;

                i += n + (nl ? 1 : 0);
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if (p >= end || *p == '#')
                        continue;
                const char *k = p;
                while (p < end && *p != ' ' && *p != '\t')
                        p++;
                size_t kn = (size_t) (p - k);
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                const char *v = p;
                const char *ve = end;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
                        ve--;
                /* shadow allows "KEY "VALUE"" quoting. */
                if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"')
                        v++, ve--;

                for (size_t j = 0; j < ELEMENTSOF(keys); j++) {
                        uint64_t val;
                        char field[64];

                        if (strlen(keys[j].name) != kn || !strneq(keys[j].name, k, kn))
                                continue;
                        r = safe_atou64_span(v, (size_t) (ve - v), &val);
                        if (r < 0 || val > UINT32_MAX) {
                                char shown[64];
                                cescape_span(v, MIN((size_t) (ve - v), (size_t) 20), shown, sizeof shown);
                                (void) snprintf(field, sizeof field, "/etc/login.defs:%s", keys[j].name);
                                return error_set(e, -EINVAL, field,
                                                 "Invalid value '%s' for %s in /etc/login.defs: expected a "
                                                 "plain decimal number below 2^32.", shown, keys[j].name);
                        }
                        *(uint32_t *) ((uint8_t *) &d + keys[j].offset) = (uint32_t) val;
                        if (streq(keys[j].name, "SYS_UID_MAX"))
                                sys_uid_max_set = true;
                        if (streq(keys[j].name, "SYS_GID_MAX"))
                                sys_gid_max_set = true;
                }
        }
        /* find_new_uid(): SYS_UID_MAX defaults to UID_MIN - 1. */
        if (!sys_uid_max_set)
                d.sys_uid_max = d.uid_min > 0 ? d.uid_min - 1 : 0;
        if (!sys_gid_max_set)
                d.sys_gid_max = d.gid_min > 0 ? d.gid_min - 1 : 0;

        if (d.sys_uid_min > d.sys_uid_max || d.sys_uid_min == 0)
                return error_set(e, -EINVAL, "/etc/login.defs:SYS_UID_MIN",
                                 "Invalid configuration in /etc/login.defs: SYS_UID_MIN (%" PRIu32
                                 ") must be between 1 and SYS_UID_MAX (%" PRIu32 ").", d.sys_uid_min, d.sys_uid_max);
        if (d.sys_gid_min > d.sys_gid_max || d.sys_gid_min == 0)
                return error_set(e, -EINVAL, "/etc/login.defs:SYS_GID_MIN",
                                 "Invalid configuration in /etc/login.defs: SYS_GID_MIN (%" PRIu32
                                 ") must be between 1 and SYS_GID_MAX (%" PRIu32 ").", d.sys_gid_min, d.sys_gid_max);
        r = check_sub("UID", d.sub_uid_min, d.sub_uid_max, d.sub_uid_count, e);
        if (r < 0)
                return r;
        r = check_sub("GID", d.sub_gid_min, d.sub_gid_max, d.sub_gid_count, e);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

static int read_etc(int etcfd, const char *file, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(etcfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, 4U * 1024U * 1024U, ret, ret_len);
}

int login_defs_load_at(int etcfd, LoginDefs *ret, ErrorInfo *e) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_etc(etcfd, "login.defs", &data, &len);
        if (r == -ENOENT) {
                login_defs_default(ret);
                return 0;
        }
        if (r < 0)
                return error_set(e, r, "/etc/login.defs", "Cannot read /etc/login.defs: %s", strerror(-r));
        return login_defs_parse(data, len, ret, e);
}

int nsswitch_check_subid(const char *data, size_t len, ErrorInfo *e) {
        unsigned line_no = 0;

        for (size_t i = 0; i < len;) {
                const char *nl = memchr(data + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (data + i)) : len - i;
                const char *p = data + i, *end = p + n;

                i += n + (nl ? 1 : 0);
                line_no++;
                const char *hash = memchr(p, '#', n);
                if (hash)
                        end = hash;
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if ((size_t) (end - p) < STRLEN("subid:") || !strneq(p, "subid:", STRLEN("subid:")))
                        continue;
                p += STRLEN("subid:");
                /* Every service named must be "files": libsubid uses only one source, and any other
                 * makes newuidmap ignore the ranges written to /etc/subuid. */
                for (;;) {
                        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
                                p++;
                        if (p >= end)
                                break;
                        const char *w = p;
                        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
                                p++;
                        if ((size_t) (p - w) != STRLEN("files") || !strneq(w, "files", STRLEN("files"))) {
                                char shown[64], field[64];
                                cescape_span(w, MIN((size_t) (p - w), (size_t) 24), shown, sizeof shown);
                                (void) snprintf(field, sizeof field, "/etc/nsswitch.conf:%u", line_no);
                                return error_set(e, -EOPNOTSUPP, field,
                                                 "/etc/nsswitch.conf line %u sends subordinate ids to '%s' "
                                                 "(subid: must be 'files' or absent): ranges written to "
                                                 "/etc/subuid would be ignored, so unroot refuses to allocate.",
                                                 line_no, shown);
                        }
                }
        }
        return 0;
}

int nsswitch_check_subid_at(int etcfd, ErrorInfo *e) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_etc(etcfd, "nsswitch.conf", &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(e, r, "/etc/nsswitch.conf", "Cannot read /etc/nsswitch.conf: %s", strerror(-r));
        return nsswitch_check_subid(data, len, e);
}
