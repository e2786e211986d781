/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "subid.h"
#include "util.h"

typedef struct Interval {
        uint64_t s, e; /* [s, e) */
} Interval;

static int interval_cmp(const void *a, const void *b) {
        const Interval *x = a, *y = b;

        if (x->s != y->s)
                return x->s < y->s ? -1 : 1;
        return x->e < y->e ? -1 : x->e > y->e;
}

/* Lowest start in [lo, hi) with count free ids; intervals sorted by start (overlaps allowed). */
static bool first_fit(const Interval *iv, size_t n, uint64_t lo, uint64_t hi, uint64_t count, uint64_t *ret) {
        uint64_t low = lo;

        if (lo >= hi)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (iv[i].e <= low)
                        continue;
                if (iv[i].s >= hi)
                        break;
                if (iv[i].s > low && iv[i].s - low >= count) {
                        *ret = low;
                        return true;
                }
                low = MAX(low, iv[i].e);
                if (low >= hi)
                        return false;
        }
        if (hi - low >= count) {
                *ret = low;
                return true;
        }
        return false;
}

static bool range_free(const Interval *iv, size_t n, uint64_t s, uint64_t e) {
        for (size_t i = 0; i < n; i++)
                if (iv[i].s < e && s < iv[i].e)
                        return false;
        return true;
}

int subid_find_free(const SubidRange *used, size_t n_used, const SubidRequest *req,
                    SubidRange *ret, SubidPlacement *ret_placement) {
        static const Interval reserved[] = {
                { 60001, 60514 }, /* systemd-homed */
                { 61184, 65520 }, /* DynamicUser= */
                { 65534, 65536 }, /* nobody, and (uid_t) -1 in 16 bit */
        };
        _cleanup_free_ Interval *iv = NULL;
        size_t n = 0;
        uint64_t lo, hi, start;
        SubidPlacement placement;

        if (!req || req->count == 0 || req->win_min > req->win_max)
                return -EINVAL;

        iv = reallocarray(NULL, n_used + ELEMENTSOF(reserved) + 2, sizeof(Interval));
        if (!iv)
                return -ENOMEM;
        for (size_t i = 0; i < n_used; i++)
                if (used[i].count > 0)
                        iv[n++] = (Interval) { used[i].start, (uint64_t) used[i].start + used[i].count };
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                iv[n++] = reserved[i];
        iv[n++] = (Interval) { 0, (uint64_t) req->id_max + 1 };
        iv[n++] = (Interval) { req->own_id, (uint64_t) req->own_id + 1 };
        qsort(iv, n, sizeof(Interval), interval_cmp);

        lo = req->win_min;
        hi = MIN((uint64_t) req->win_max + 1, SUBID_CEILING);

        if (req->has_hint) {
                uint64_t s = req->hint, e = s + req->count;
                /* The hint obeys strict_container like every other placement (it did not, found by
                 * fuzz-etcfiles: a hint inside systemd's range was granted). */
                bool in_container = s < SUBID_CONTAINER_END && e > SUBID_CONTAINER_START;
                if (s >= lo && e <= hi && !(req->strict_container && in_container) && range_free(iv, n, s, e)) {
                        *ret = (SubidRange) { (uint32_t) s, req->count };
                        if (ret_placement)
                                *ret_placement = SUBID_PLACED_HINT;
                        return 0;
                }
        }

        if (first_fit(iv, n, lo, MIN(hi, (uint64_t) SUBID_CONTAINER_START), req->count, &start))
                placement = SUBID_PLACED_BELOW_CONTAINER;
        else if (first_fit(iv, n, MAX(lo, (uint64_t) SUBID_CONTAINER_END), hi, req->count, &start))
                placement = SUBID_PLACED_ABOVE_CONTAINER;
        else if (!req->strict_container && first_fit(iv, n, lo, hi, req->count, &start))
                placement = SUBID_PLACED_IN_CONTAINER;
        else
                return -ENOSPC;

        *ret = (SubidRange) { (uint32_t) start, req->count };
        if (ret_placement)
                *ret_placement = placement;
        return 0;
}

int subid_collect(const EtcFile *f, SubidRange **ret, size_t *ret_n) {
        SubidRange *v;
        size_t n = 0;

        v = reallocarray(NULL, f->n_lines + 1, sizeof(SubidRange));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_lines; i++) {
                const EtcLine *l = &f->lines[i];
                if (!l->deleted && l->type == LINE_RECORD)
                        v[n++] = (SubidRange) { l->id[0], l->id[1] };
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int subid_file_check(const EtcFile *f, ErrorInfo *e) {
        ssize_t i = etc_file_first_malformed(f);
        char field[64];

        if (i < 0)
                return 0;
        const EtcLine *l = &f->lines[i];
        (void) snprintf(field, sizeof field, "/etc/%s:%u", etc_kind_file(f->kind), l->line_no);
        /* A typo may be a real delegation: allocating around it could hand the same ids out twice. */
        return error_set(e, -EBADMSG, field,
                         "/etc/%s line %u %s; refusing to allocate subordinate ids until it is fixed.",
                         etc_kind_file(f->kind), l->line_no, l->why);
}

static bool owned_by(const EtcLine *l, const char *name, const char *uidstr) {
        return !l->deleted && l->type == LINE_RECORD && (streq(l->fields[0], name) || streq(l->fields[0], uidstr));
}

bool subid_line_owned(const EtcFile *f, size_t i, const char *name, uint32_t uid) {
        char buf[16];

        (void) snprintf(buf, sizeof buf, "%" PRIu32, uid);
        return owned_by(&f->lines[i], name, buf);
}

uint64_t subid_owner_total(const EtcFile *f, const char *name, uint32_t uid, SubidRange *ret_first) {
        uint64_t total = 0;
        bool first = true;
        char buf[16];

        (void) snprintf(buf, sizeof buf, "%" PRIu32, uid);
        if (ret_first)
                *ret_first = (SubidRange) {};
        for (size_t i = 0; i < f->n_lines; i++) {
                const EtcLine *l = &f->lines[i];
                if (!owned_by(l, name, buf))
                        continue;
                total += l->id[1];
                if (first && ret_first && l->id[1] > 0) {
                        *ret_first = (SubidRange) { l->id[0], l->id[1] };
                        first = false;
                }
        }
        return total;
}

SubidRange subid_owner_last(const EtcFile *f, const char *name, uint32_t uid) {
        char buf[16];

        (void) snprintf(buf, sizeof buf, "%" PRIu32, uid);
        for (size_t i = f->n_lines; i > 0; i--)
                if (owned_by(&f->lines[i - 1], name, buf) && f->lines[i - 1].id[1] > 0)
                        return (SubidRange) { f->lines[i - 1].id[0], f->lines[i - 1].id[1] };
        return (SubidRange) {};
}
