/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The rootless id map of one account (helper-anchors.md §3.4) and what it does to owners, POSIX ACL
 * xattrs and security.capability. Pure: no I/O, no logging.
 *
 * Forward ("shift"): container id 0 -> the account's own uid (gid); container id c in 1..count ->
 * start + c - 1. Anything else is outside the source domain and is refused. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ShiftIdRange {
        uint32_t self;  /* the account's uid (or gid): host id of container id 0 */
        uint32_t start; /* first subordinate id: host id of container id 1 */
        uint32_t count; /* container ids 1..count are mapped */
} ShiftIdRange;

typedef struct ShiftMap {
        ShiftIdRange uid, gid;
} ShiftMap;

/* -EINVAL if a range is empty, wraps past 2^32-1, or contains the account's own id. */
int shift_map_check(const ShiftMap *m);

/* Container id -> host id. -ERANGE if id is outside 0..count. */
int shift_id_map(const ShiftIdRange *r, uint32_t id, uint32_t *ret);
/* Host id -> container id (the inverse). -ERANGE if id is not a host id of the map. */
int shift_id_unmap(const ShiftIdRange *r, uint32_t id, uint32_t *ret);

/* POSIX ACL xattr (system.posix_acl_access / _default, the kernel's posix_acl_xattr format: a
 * le32 version 2 header, then {le16 tag, le16 perm, le32 id} entries). ACL_USER and ACL_GROUP
 * qualifiers are mapped in place through m; the other entries carry no id.
 * -EBADMSG for a malformed value, -ERANGE if a qualifier is unmapped (buf then unchanged). */
int shift_acl_xattr(const ShiftMap *m, uint8_t *buf, size_t len);

/* security.capability (struct vfs_cap_data v1/v2, or vfs_ns_cap_data v3 with a rootid).
 * Policy (helper-anchors.md §3.5 recommendation 2):
 *  - v1/v2 (no rootid, i.e. "valid for host root"): rewrite as v3 with rootid = the host id of
 *    container root (the account's uid), which is what the container's root now is;
 *  - v3: map the rootid through the uid map; unmapped -> drop the capability.
 * Writes the new value to out (at least SHIFT_CAP_XATTR_MAX bytes) and returns its length; 0 means
 * "drop the xattr"; -EBADMSG for a malformed value. */
#define SHIFT_CAP_XATTR_MAX 24U
int shift_cap_xattr(const ShiftMap *m, const uint8_t *in, size_t len, uint8_t *out);
