/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "shift-idmap.h"

static int range_check(const ShiftIdRange *r) {
        uint32_t last;

        if (r->count == 0)
                return -EINVAL;
        if (!ADD_SAFE(&last, r->start, r->count - 1))
                return -EINVAL;
        if (r->self >= r->start && r->self <= last)
                return -EINVAL;
        return 0;
}

int shift_map_check(const ShiftMap *m) {
        if (range_check(&m->uid) < 0 || range_check(&m->gid) < 0)
                return -EINVAL;
        return 0;
}

int shift_id_map(const ShiftIdRange *r, uint32_t id, uint32_t *ret) {
        if (id == 0) {
                *ret = r->self;
                return 0;
        }
        if (id > r->count)
                return -ERANGE;
        *ret = r->start + (id - 1); /* cannot wrap: shift_map_check() bounds start + count - 1 */
        return 0;
}

int shift_id_unmap(const ShiftIdRange *r, uint32_t id, uint32_t *ret) {
        if (id == r->self) {
                *ret = 0;
                return 0;
        }
        if (id < r->start || id - r->start >= r->count)
                return -ERANGE;
        *ret = id - r->start + 1;
        return 0;
}

#define ACL_XATTR_VERSION 2U
#define ACL_TAG_USER 0x02U
#define ACL_TAG_GROUP 0x08U
#define ACL_ENTRY_SIZE 8U

int shift_acl_xattr(const ShiftMap *m, uint8_t *buf, size_t len) {
        uint32_t v, mapped[(64 * 1024) / ACL_ENTRY_SIZE];
        size_t n;

        if (len < 4 || (len - 4) % ACL_ENTRY_SIZE != 0 || (len - 4) / ACL_ENTRY_SIZE > ELEMENTSOF(mapped))
                return -EBADMSG;
        memcpy(&v, buf, 4);
        if (le32toh(v) != ACL_XATTR_VERSION)
                return -EBADMSG;
        n = (len - 4) / ACL_ENTRY_SIZE;

        /* Two passes: map everything first, write only if every qualifier mapped. */
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = buf + 4 + i * ACL_ENTRY_SIZE;
                uint16_t tag;
                uint32_t id;
                int r;

                memcpy(&tag, e, 2);
                memcpy(&id, e + 4, 4);
                tag = le16toh(tag);
                id = le32toh(id);
                if (tag == ACL_TAG_USER)
                        r = shift_id_map(&m->uid, id, &mapped[i]);
                else if (tag == ACL_TAG_GROUP)
                        r = shift_id_map(&m->gid, id, &mapped[i]);
                else {
                        mapped[i] = id;
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                uint32_t id = htole32(mapped[i]);
                memcpy(buf + 4 + i * ACL_ENTRY_SIZE + 4, &id, 4);
        }
        return 0;
}

/* linux/capability.h, spelled out so this file needs no kernel headers. */
#define VFS_CAP_REVISION_MASK 0xFF000000U
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001U
#define VFS_CAP_REVISION_1 0x01000000U
#define VFS_CAP_REVISION_2 0x02000000U
#define VFS_CAP_REVISION_3 0x03000000U
#define XATTR_CAPS_SZ_1 12U
#define XATTR_CAPS_SZ_2 20U
#define XATTR_CAPS_SZ_3 24U

int shift_cap_xattr(const ShiftMap *m, const uint8_t *in, size_t len, uint8_t *out) {
        uint32_t magic, rev, rootid, host, v;

        if (len < 4)
                return -EBADMSG;
        memcpy(&magic, in, 4);
        magic = le32toh(magic);
        rev = magic & VFS_CAP_REVISION_MASK;

        memset(out, 0, XATTR_CAPS_SZ_3);
        switch (rev) {
        case VFS_CAP_REVISION_1:
        case VFS_CAP_REVISION_2:
                if (len != (rev == VFS_CAP_REVISION_1 ? XATTR_CAPS_SZ_1 : XATTR_CAPS_SZ_2))
                        return -EBADMSG;
                rootid = 0;
                break;
        case VFS_CAP_REVISION_3:
                if (len != XATTR_CAPS_SZ_3)
                        return -EBADMSG;
                memcpy(&rootid, in + 20, 4);
                rootid = le32toh(rootid);
                break;
        default:
                return -EBADMSG;
        }
        if (shift_id_map(&m->uid, rootid, &host) < 0)
                return 0; /* a capability for a root we cannot map would be wrong everywhere: drop */

        /* v1 has one 32-bit set pair, v2/v3 two; the rest stays zero. */
        memcpy(out + 4, in + 4, len - 4 - (rev == VFS_CAP_REVISION_3 ? 4 : 0));
        v = htole32(VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE));
        memcpy(out, &v, 4);
        v = htole32(host);
        memcpy(out + 20, &v, 4);
        return XATTR_CAPS_SZ_3;
}
