/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the account-file library's parsers and writers. Byte 0 picks the file kind
 * (passwd, group, shadow, gshadow, subuid, subgid); the rest is the file's content. Invariants:
 *  - parse → serialize reproduces the input bytes exactly (unknown and malformed lines are kept);
 *  - appending a line changes nothing before it except a missing final newline;
 *  - deleting every record and serializing leaves exactly the comment/malformed lines;
 *  - for sub[ug]id: every collected range is well formed, and a range from subid_find_free() is
 *    inside the window, below 2^31, and disjoint from every used range and from [0, id_max]. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcfile.h"
#include "fuzz.h"
#include "subid.h"

static void check_roundtrip(const EtcFile *f, const uint8_t *data, size_t size) {
        char *out = NULL;
        size_t out_len = 0;

        FUZZ_ASSERT(etc_file_serialize(f, &out, &out_len) >= 0);
        FUZZ_ASSERT(out_len == size);
        FUZZ_ASSERT(size == 0 || memcmp(out, data, size) == 0);
        free(out);
}

static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
        /* a count-0 line is an empty range: it overlaps nothing */
        return an > 0 && bn > 0 && a < b + bn && b < a + an;
}

static void check_subid(const EtcFile *f, const uint8_t *data, size_t size) {
        SubidRange *used = NULL;
        size_t n_used = 0;
        ErrorInfo e = {};

        (void) subid_file_check(f, &e);
        if (subid_collect(f, &used, &n_used) < 0)
                return;
        for (size_t i = 0; i < n_used; i++)
                /* count 0 lines are collected (and ignored by the allocator) */
                FUZZ_ASSERT((uint64_t) used[i].start + used[i].count <= UINT64_C(1) << 32);

        /* request parameters from the input's last bytes, so the fuzzer can steer them */
        uint32_t k[4] = { 100000, 65536, 60000, 1000 };
        for (size_t i = 0; i < 4 && size >= 4 * (i + 1); i++)
                memcpy(&k[i], data + size - 4 * (i + 1), 4);
        SubidRequest req = {
                .win_min = k[0] % (UINT32_C(1) << 31),
                .win_max = 600100100U,
                .id_max = k[2] % 200000,
                .own_id = k[3] % 200000,
                .count = k[1] % 1000000,
                .has_hint = size & 1,
                .hint = k[0] ^ k[1],
                .strict_container = size & 2,
        };
        SubidRange got;
        SubidPlacement pl;
        if (req.count == 0 || req.win_min > req.win_max)
                goto out;
        if (subid_find_free(used, n_used, &req, &got, &pl) >= 0) {
                FUZZ_ASSERT(got.count == req.count);
                FUZZ_ASSERT(got.start >= req.win_min);
                FUZZ_ASSERT((uint64_t) got.start + got.count - 1 <= req.win_max);
                FUZZ_ASSERT((uint64_t) got.start + got.count <= SUBID_CEILING);
                FUZZ_ASSERT(got.start > req.id_max);
                FUZZ_ASSERT(!overlaps(got.start, got.count, req.own_id, 1));
                for (size_t i = 0; i < n_used; i++) {
                        if (overlaps(got.start, got.count, used[i].start, used[i].count))
                                fprintf(stderr, "allocated %u+%u (placement %d, window %u-%u, hint %d:%u) overlaps used %u+%u\n",
                                        got.start, got.count, (int) pl, req.win_min, req.win_max, req.has_hint,
                                        req.hint, used[i].start, used[i].count);
                        FUZZ_ASSERT(!overlaps(got.start, got.count, used[i].start, used[i].count));
                }
                /* strict_container: never inside systemd's range, the hint included. */
                if (req.strict_container)
                        FUZZ_ASSERT(!overlaps(got.start, got.count, SUBID_CONTAINER_START,
                                              SUBID_CONTAINER_END - SUBID_CONTAINER_START));
        }
out:
        free(used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        EtcFile f = {};
        EtcKind kind;

        if (size < 1 || size > 256 * 1024)
                return 0;
        kind = data[0] % _ETC_KIND_MAX;
        data++;
        size--;

        FUZZ_ASSERT(etc_file_parse(kind, (const char *) data, size, &f) >= 0);
        FUZZ_ASSERT(f.kind == kind);
        check_roundtrip(&f, data, size);

        size_t n_lines = f.n_lines;
        for (size_t i = 0; i < f.n_lines; i++) {
                const EtcLine *l = &f.lines[i];
                FUZZ_ASSERT(l->raw_len > 0);
                FUZZ_ASSERT(l->type == LINE_COMMENT || l->type == LINE_RECORD || l->type == LINE_MALFORMED);
                /* only the last line may lack its newline; no line holds an inner newline */
                FUZZ_ASSERT(memchr(l->raw, '\n', l->raw_len) == NULL ||
                            memchr(l->raw, '\n', l->raw_len) == l->raw + l->raw_len - 1);
                if (i + 1 < f.n_lines)
                        FUZZ_ASSERT(l->raw[l->raw_len - 1] == '\n');
                if (l->type == LINE_RECORD)
                        FUZZ_ASSERT(l->n_fields == etc_kind_n_fields(kind));
                if (l->type == LINE_MALFORMED)
                        FUZZ_ASSERT(l->why != NULL);
        }
        (void) etc_file_first_malformed(&f);
        (void) etc_file_find_name(&f, "svc");
        (void) etc_file_id_taken(&f, 1000);

        if (kind == ETC_SUBUID || kind == ETC_SUBGID)
                check_subid(&f, data, size);

        /* writer: append one record; everything before it must be kept byte for byte */
        static const char *const rec[_ETC_KIND_MAX] = {
                [ETC_GROUP] = "container-x:x:1999:",
                [ETC_GSHADOW] = "container-x:!::",
                [ETC_PASSWD] = "container-x:x:1999:1999::/var/lib/unroot/container-x:/usr/sbin/nologin",
                [ETC_SHADOW] = "container-x:!*:20000::::::",
                [ETC_SUBUID] = "container-x:100000:65536",
                [ETC_SUBGID] = "container-x:100000:65536",
        };
        if (etc_file_append(&f, rec[kind]) >= 0) {
                char *out = NULL;
                size_t out_len = 0;
                size_t rl = strlen(rec[kind]);
                bool had_nl = size == 0 || data[size - 1] == '\n';
                FUZZ_ASSERT(f.n_lines == n_lines + 1);
                FUZZ_ASSERT(etc_file_serialize(&f, &out, &out_len) >= 0);
                FUZZ_ASSERT(out_len == size + !had_nl + rl + 1);
                FUZZ_ASSERT(size == 0 || memcmp(out, data, size) == 0);
                if (!had_nl)
                        FUZZ_ASSERT(out[size] == '\n');
                FUZZ_ASSERT(memcmp(out + out_len - rl - 1, rec[kind], rl) == 0 && out[out_len - 1] == '\n');

                /* the writer's output must parse back to the appended record */
                EtcFile g = {};
                FUZZ_ASSERT(etc_file_parse(kind, out, out_len, &g) >= 0);
                FUZZ_ASSERT(g.n_lines == f.n_lines);
                FUZZ_ASSERT(g.lines[g.n_lines - 1].type == LINE_RECORD);
                FUZZ_ASSERT(etc_file_find_record(&g, "container-x") >= 0);
                etc_file_done(&g);
                free(out);
        }

        /* delete every record: only comment and malformed lines remain, unchanged */
        for (size_t i = 0; i < f.n_lines; i++)
                if (f.lines[i].type == LINE_RECORD)
                        etc_file_delete(&f, i);
        {
                char *out = NULL;
                size_t out_len = 0, expect = 0;
                FUZZ_ASSERT(etc_file_serialize(&f, &out, &out_len) >= 0);
                for (size_t i = 0; i < f.n_lines; i++)
                        if (f.lines[i].type != LINE_RECORD) {
                                FUZZ_ASSERT(expect + f.lines[i].raw_len <= out_len);
                                FUZZ_ASSERT(memcmp(out + expect, f.lines[i].raw, f.lines[i].raw_len) == 0);
                                expect += f.lines[i].raw_len;
                        }
                FUZZ_ASSERT(expect == out_len);
                free(out);
        }
        etc_file_done(&f);
        return 0;
}
