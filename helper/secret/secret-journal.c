/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "parse-util.h"
#include "secret-journal.h"

int secret_journal_format(const SecretJournal *j, char **ret, size_t *ret_len) {
        char *s;
        int n;

        n = asprintf(&s,
                     SECRET_JOURNAL_MAGIC " %u\n"
                     "account %s\n"
                     "group %s\n"
                     "gid %" PRIu32 "\n"
                     "file %s\n"
                     "inode %" PRIu64 " %" PRIu64 "\n"
                     "owner %" PRIu32 "\n"
                     "previous-gid %" PRIu32 "\n"
                     "previous-mode %04" PRIo32 "\n"
                     "group-created %s\n"
                     "member-added %s\n",
                     SECRET_JOURNAL_VERSION, j->account, j->group, j->gid, j->file, j->dev, j->ino, j->owner,
                     j->previous_gid, j->previous_mode & 07777, j->group_created ? "yes" : "no",
                     j->member_added ? "yes" : "no");
        if (n < 0)
                return -ENOMEM;
        *ret = s;
        *ret_len = (size_t) n;
        return 0;
}

/* Exactly four octal digits, as formatted. */
static int parse_mode(const char *s, uint32_t *ret) {
        uint32_t v = 0;

        if (strlen(s) != 4 || strspn(s, "01234567") != 4)
                return -EBADMSG;
        for (size_t i = 0; i < 4; i++)
                v = v * 8 + (uint32_t) (s[i] - '0');
        *ret = v;
        return 0;
}

static int parse_bool(const char *s, bool *ret) {
        if (streq(s, "yes"))
                *ret = true;
        else if (streq(s, "no"))
                *ret = false;
        else
                return -EBADMSG;
        return 0;
}

int secret_journal_parse(const char *data, size_t len, SecretJournal *ret, ErrorInfo *e) {
        static const char *const keys[] = {
                SECRET_JOURNAL_MAGIC, "account", "group", "gid", "file", "inode", "owner", "previous-gid",
                "previous-mode", "group-created", "member-added",
        };
        SecretJournal j = {};
        size_t pos = 0;
        uint64_t w;
        uint32_t v;

        if (memchr(data, 0, len))
                return error_set(e, -EBADMSG, "journal", "journal: contains a NUL byte");
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                char line[SHIFT_PATH_MAX + 64], *val, *sp;
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t n;
                int r = 0;

                if (!nl)
                        return error_set(e, -EBADMSG, "journal", "journal: line %zu ('%s') is missing or unterminated",
                                         k + 1, keys[k]);
                n = (size_t) (nl - (data + pos));
                if (n >= sizeof line)
                        return error_set(e, -EBADMSG, "journal", "journal: line %zu is too long", k + 1);
                memcpy(line, data + pos, n);
                line[n] = 0;
                pos += n + 1;
                val = strchr(line, ' ');
                if (!val || (size_t) (val - line) != strlen(keys[k]) || !strneq(line, keys[k], strlen(keys[k])))
                        return error_set(e, -EBADMSG, "journal", "journal: line %zu should start with '%s '", k + 1,
                                         keys[k]);
                val++;
                switch (k) {
                case 0:
                        r = safe_atou32(val, &v);
                        if (r >= 0 && v != SECRET_JOURNAL_VERSION)
                                return error_set(e, -EBADMSG, "journal", "journal: version %s is not supported", val);
                        break;
                case 1:
                case 2:
                        if (!account_name_is_valid(val, strlen(val)))
                                r = -EBADMSG;
                        else
                                (void) snprintf(k == 1 ? j.account : j.group, sizeof j.account, "%s", val);
                        break;
                case 3:
                        r = safe_atou32(val, &j.gid);
                        break;
                case 4:
                        r = shift_path_check(val, strlen(val), "file", NULL);
                        if (r >= 0)
                                (void) snprintf(j.file, sizeof j.file, "%s", val);
                        break;
                case 5:
                        sp = strchr(val, ' ');
                        if (!sp) {
                                r = -EBADMSG;
                                break;
                        }
                        *sp = 0;
                        r = safe_atou64(val, &j.dev);
                        if (r >= 0)
                                r = safe_atou64(sp + 1, &w);
                        j.ino = w;
                        break;
                case 6:
                        r = safe_atou32(val, &j.owner);
                        break;
                case 7:
                        r = safe_atou32(val, &j.previous_gid);
                        break;
                case 8:
                        r = parse_mode(val, &j.previous_mode);
                        break;
                case 9:
                        r = parse_bool(val, &j.group_created);
                        break;
                case 10:
                        r = parse_bool(val, &j.member_added);
                        break;
                }
                if (r < 0)
                        return error_set(e, -EBADMSG, "journal", "journal: line %zu: bad value for '%s'", k + 1, keys[k]);
        }
        if (pos != len)
                return error_set(e, -EBADMSG, "journal", "journal: trailing data after line %zu", ELEMENTSOF(keys));
        *ret = j;
        return 0;
}

int secret_marker_format(uint32_t gid, char buf[static 32]) {
        return snprintf(buf, 32, "gid %" PRIu32 "\n", gid);
}

int secret_marker_parse(const char *data, size_t len, uint32_t *ret_gid) {
        uint64_t v;

        if (len < 6 || len > 32 || data[len - 1] != '\n' || !strneq(data, "gid ", 4))
                return -EBADMSG;
        if (safe_atou64_span(data + 4, len - 5, &v) < 0 || v > UINT32_MAX)
                return -EBADMSG;
        *ret_gid = (uint32_t) v;
        return 0;
}
