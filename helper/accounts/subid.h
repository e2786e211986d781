/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The subordinate id allocator (helper-anchors.md §2.8, §7). Pure: works on parsed files. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts.h"
#include "error.h"
#include "etcfile.h"

/* systemd's container range used by nspawn --private-users=pick (docs/UIDS-GIDS.md). */
#define SUBID_CONTAINER_START UINT32_C(524288)
#define SUBID_CONTAINER_END UINT32_C(1879048192) /* exclusive; last id 1879048191 */
/* Everything stays below 2^31: polkit's uid is an int32 and UIDS-GIDS.md warns about the rest. */
#define SUBID_CEILING (UINT64_C(1) << 31)

typedef enum SubidPlacement {
        SUBID_PLACED_HINT,             /* the requested hint was free (used to pair subuid/subgid) */
        SUBID_PLACED_BELOW_CONTAINER,  /* entirely below 524288 */
        SUBID_PLACED_ABOVE_CONTAINER,  /* no room left below, entirely above 1879048191 */
        SUBID_PLACED_IN_CONTAINER,     /* no room outside it in the window: overlaps systemd's range */
        _SUBID_PLACED_MAX,
        _SUBID_PLACED_INVALID = -EINVAL,
} SubidPlacement;

typedef struct SubidRequest {
        uint32_t win_min, win_max; /* SUB_UID_MIN..SUB_UID_MAX, inclusive */
        uint32_t id_max;           /* UID_MAX: [0, id_max] is occupied */
        uint32_t own_id;           /* the account's own uid/gid: never inside the result */
        uint32_t count;            /* > 0 */
        bool has_hint;
        uint32_t hint;             /* tried first if has_hint (same start as the sibling file) */
        bool strict_container;     /* refuse rather than overlap the container range (the hint too) */
} SubidRequest;

/* First fit at the lowest address: below the container range while room is left, then above it,
 * then (unless strict_container) anywhere in the window. Occupied: every range in used, [0, id_max],
 * systemd's reserved 60001-60513, 61184-65519, 65534-65535, and own_id. -ENOSPC if nothing fits. */
int subid_find_free(const SubidRange *used, size_t n_used, const SubidRequest *req,
                    SubidRange *ret, SubidPlacement *ret_placement);

/* All valid ranges of the file, whoever owns them. */
int subid_collect(const EtcFile *f, SubidRange **ret, size_t *ret_n);
/* -EBADMSG naming "/etc/<file>:<line>" if any line is malformed (the allocator refuses then). */
int subid_file_check(const EtcFile *f, ErrorInfo *e);
/* Sum of the counts of every valid range owned by name or by the decimal uid; first such range. */
uint64_t subid_owner_total(const EtcFile *f, const char *name, uint32_t uid, SubidRange *ret_first);
/* The last (most recently appended) valid range owned by name or uid; {0,0} if none. */
SubidRange subid_owner_last(const EtcFile *f, const char *name, uint32_t uid);
/* True if line i is a valid range owned by name or uid. */
bool subid_line_owned(const EtcFile *f, size_t i, const char *name, uint32_t uid);
