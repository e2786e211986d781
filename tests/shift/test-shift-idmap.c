/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rootless id map (issue 5: container uid N -> subuid_start + N - 1, 0 -> the account), and what
 * it does to POSIX ACL and security.capability xattrs (helper-anchors.md §3.5). */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shift-idmap.h"

static const ShiftMap map = {
        .uid = { .self = 990, .start = 100000, .count = 65536 },
        .gid = { .self = 991, .start = 200000, .count = 1000 },
};

static void test_map_edges(void **state) {
        uint32_t v;

        assert_int_equal(shift_id_map(&map.uid, 0, &v), 0);
        assert_int_equal(v, 990);
        assert_int_equal(shift_id_map(&map.uid, 1, &v), 0);
        assert_int_equal(v, 100000);
        assert_int_equal(shift_id_map(&map.uid, 999, &v), 0);
        assert_int_equal(v, 100998);
        assert_int_equal(shift_id_map(&map.uid, 65536, &v), 0);
        assert_int_equal(v, 165535);
        assert_int_equal(shift_id_map(&map.uid, 65537, &v), -ERANGE);
        assert_int_equal(shift_id_map(&map.uid, UINT32_MAX, &v), -ERANGE);
        assert_int_equal(shift_id_map(&map.gid, 1000, &v), 0);
        assert_int_equal(v, 200999);
        assert_int_equal(shift_id_map(&map.gid, 1001, &v), -ERANGE);
}

static void test_map_round_trip(void **state) {
        for (uint32_t id = 0; id <= 65536; id++) {
                uint32_t host, back;
                assert_int_equal(shift_id_map(&map.uid, id, &host), 0);
                assert_int_equal(shift_id_unmap(&map.uid, host, &back), 0);
                assert_int_equal(back, id);
        }
        uint32_t v;
        assert_int_equal(shift_id_unmap(&map.uid, 99999, &v), -ERANGE);
        assert_int_equal(shift_id_unmap(&map.uid, 165536, &v), -ERANGE);
        assert_int_equal(shift_id_unmap(&map.uid, 0, &v), -ERANGE);
}

static void test_map_check(void **state) {
        ShiftMap m = map;

        assert_int_equal(shift_map_check(&m), 0);
        m.uid.count = 0;
        assert_int_equal(shift_map_check(&m), -EINVAL);
        m = map;
        m.uid.start = UINT32_MAX - 10; /* wraps */
        assert_int_equal(shift_map_check(&m), -EINVAL);
        m = map;
        m.uid.start = UINT32_MAX - 65535; /* ends exactly at 2^32-1 */
        assert_int_equal(shift_map_check(&m), 0);
        m = map;
        m.gid.self = 200500; /* the account's own id inside its range */
        assert_int_equal(shift_map_check(&m), -EINVAL);
}

static size_t acl_build(uint8_t *buf, const uint16_t *tags, const uint32_t *ids, size_t n) {
        uint32_t v = htole32(2);
        memcpy(buf, &v, 4);
        for (size_t i = 0; i < n; i++) {
                uint16_t t = htole16(tags[i]), perm = htole16(6);
                uint32_t id = htole32(ids[i]);
                memcpy(buf + 4 + 8 * i, &t, 2);
                memcpy(buf + 4 + 8 * i + 2, &perm, 2);
                memcpy(buf + 4 + 8 * i + 4, &id, 4);
        }
        return 4 + 8 * n;
}

static uint32_t acl_id(const uint8_t *buf, size_t i) {
        uint32_t id;
        memcpy(&id, buf + 4 + 8 * i + 4, 4);
        return le32toh(id);
}

static void test_acl_shift(void **state) {
        /* USER_OBJ, USER 33, USER 0, GROUP_OBJ, GROUP 44, MASK, OTHER */
        static const uint16_t tags[] = { 0x01, 0x02, 0x02, 0x04, 0x08, 0x10, 0x20 };
        static const uint32_t ids[] = { UINT32_MAX, 33, 0, UINT32_MAX, 44, UINT32_MAX, UINT32_MAX };
        uint8_t buf[64];
        size_t len = acl_build(buf, tags, ids, 7);

        assert_int_equal(shift_acl_xattr(&map, buf, len), 0);
        assert_int_equal(acl_id(buf, 0), UINT32_MAX); /* no qualifier: untouched */
        assert_int_equal(acl_id(buf, 1), 100032);
        assert_int_equal(acl_id(buf, 2), 990);
        assert_int_equal(acl_id(buf, 4), 200043);
        assert_int_equal(acl_id(buf, 6), UINT32_MAX);
}

static void test_acl_unmapped_leaves_buffer(void **state) {
        static const uint16_t tags[] = { 0x01, 0x02, 0x08 };
        static const uint32_t ids[] = { UINT32_MAX, 33, 5000 }; /* gid 5000 > 1000 */
        uint8_t buf[64], copy[64];
        size_t len = acl_build(buf, tags, ids, 3);

        memcpy(copy, buf, len);
        assert_int_equal(shift_acl_xattr(&map, buf, len), -ERANGE);
        assert_memory_equal(buf, copy, len); /* all or nothing */
}

static void test_acl_malformed(void **state) {
        uint8_t buf[64] = {};
        uint32_t v = htole32(1);

        assert_int_equal(shift_acl_xattr(&map, buf, 0), -EBADMSG);
        assert_int_equal(shift_acl_xattr(&map, buf, 3), -EBADMSG);
        memcpy(buf, &v, 4); /* wrong version */
        assert_int_equal(shift_acl_xattr(&map, buf, 12), -EBADMSG);
        v = htole32(2);
        memcpy(buf, &v, 4);
        assert_int_equal(shift_acl_xattr(&map, buf, 11), -EBADMSG); /* not a whole entry */
        assert_int_equal(shift_acl_xattr(&map, buf, 4), 0);           /* empty list is fine */
}

static void put32(uint8_t *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, 4);
}
static uint32_t get32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return le32toh(v);
}

static void test_cap_v2_becomes_v3(void **state) {
        uint8_t in[20] = {}, out[SHIFT_CAP_XATTR_MAX];

        put32(in, 0x02000001); /* v2, effective */
        put32(in + 4, 1U << 13); /* cap_net_raw permitted */
        put32(in + 12, 1);       /* high word */
        assert_int_equal(shift_cap_xattr(&map, in, 20, out), 24);
        assert_int_equal(get32(out), 0x03000001);
        assert_int_equal(get32(out + 4), 1U << 13);
        assert_int_equal(get32(out + 12), 1);
        assert_int_equal(get32(out + 20), 990); /* rootid: container root = the account */
}

static void test_cap_v3_rootid(void **state) {
        uint8_t in[24] = {}, out[SHIFT_CAP_XATTR_MAX];

        put32(in, 0x03000000);
        put32(in + 4, 1U << 10);
        put32(in + 20, 7); /* a nested container's root, uid 7 */
        assert_int_equal(shift_cap_xattr(&map, in, 24, out), 24);
        assert_int_equal(get32(out + 20), 100006);
        assert_int_equal(get32(out + 4), 1U << 10);

        put32(in + 20, 70000); /* unmapped: drop */
        assert_int_equal(shift_cap_xattr(&map, in, 24, out), 0);
}

static void test_cap_v1_and_malformed(void **state) {
        uint8_t in[24] = {}, out[SHIFT_CAP_XATTR_MAX];

        put32(in, 0x01000000);
        put32(in + 4, 3);
        assert_int_equal(shift_cap_xattr(&map, in, 12, out), 24);
        assert_int_equal(get32(out + 4), 3);
        assert_int_equal(get32(out + 20), 990);
        assert_int_equal(shift_cap_xattr(&map, in, 20, out), -EBADMSG); /* v1 header, v2 size */
        put32(in, 0x04000000);
        assert_int_equal(shift_cap_xattr(&map, in, 24, out), -EBADMSG);
        assert_int_equal(shift_cap_xattr(&map, in, 2, out), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_map_edges),
                cmocka_unit_test(test_map_round_trip),
                cmocka_unit_test(test_map_check),
                cmocka_unit_test(test_acl_shift),
                cmocka_unit_test(test_acl_unmapped_leaves_buffer),
                cmocka_unit_test(test_acl_malformed),
                cmocka_unit_test(test_cap_v2_becomes_v3),
                cmocka_unit_test(test_cap_v3_rootid),
                cmocka_unit_test(test_cap_v1_and_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
