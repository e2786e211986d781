/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding and validation of every helper request type, malformed frames included
 * (helper-anchors.md §5.1, §5.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "framing.h"
#include "helper-request.h"
#include "helper.pb-c.h"

static size_t pack_enroll(uint8_t *buf, const void *name, size_t name_len, bool has_count, uint32_t count,
                          uint32_t version) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__EnrollRequest en = UNROOT__HELPER__ENROLL_REQUEST__INIT;

        en.name.data = (uint8_t *) name;
        en.name.len = name_len;
        en.has_subid_count = has_count;
        en.subid_count = count;
        req.version = version;
        req.op_case = UNROOT__HELPER__HELPER_REQUEST__OP_ENROLL;
        req.enroll = &en;
        return unroot__helper__helper_request__pack(&req, buf);
}

static size_t pack_unenroll(uint8_t *buf, const char *name, bool purge) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__UnenrollRequest un = UNROOT__HELPER__UNENROLL_REQUEST__INIT;

        un.name.data = (uint8_t *) name;
        un.name.len = strlen(name);
        un.has_purge = true;
        un.purge = purge;
        req.version = 1;
        req.op_case = UNROOT__HELPER__HELPER_REQUEST__OP_UNENROLL;
        req.unenroll = &un;
        return unroot__helper__helper_request__pack(&req, buf);
}

static void test_enroll_valid(void **state) {
        uint8_t buf[256];
        HelperRequest r;
        ErrorInfo e = {};
        size_t n = pack_enroll(buf, "container-db", 12, false, 0, 1);

        assert_int_equal(helper_request_parse(buf, n, &r, &e), 0);
        assert_int_equal(r.op, HELPER_OP_ENROLL);
        assert_string_equal(r.name, "container-db");
        assert_int_equal(r.subid_count, 65536);
        assert_false(r.interactive);

        n = pack_enroll(buf, "a", 1, true, 1, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), 0);
        assert_int_equal(r.subid_count, 1);
        n = pack_enroll(buf, "a", 1, true, ACCOUNTS_SUBID_COUNT_MAX, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), 0);
        assert_int_equal(r.subid_count, ACCOUNTS_SUBID_COUNT_MAX);
}

static void test_enroll_bad_count(void **state) {
        uint8_t buf[256];
        HelperRequest r;
        ErrorInfo e = {};
        size_t n;

        n = pack_enroll(buf, "a", 1, true, 0, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "subid_count");
        n = pack_enroll(buf, "a", 1, true, ACCOUNTS_SUBID_COUNT_MAX + 1, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "subid_count");
        n = pack_enroll(buf, "a", 1, true, UINT32_MAX, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
}

static void test_bad_names(void **state) {
        static const char *const bad[] = {
                "../x", "a/b", ".", "..", "123", "-x", "-1", "Upper", "a.b", "foo$", "\xc3\x9cn\xc3\xaf" "code",
                "\xff", "\xc0\xaf", "a:b", "a,b", "a b", "a\nb", "a\tb", "",
                "abcdefghijabcdefghijabcdefghijab", /* 32 */
        };
        static const char *const reserved[] = { "root", "daemon", "nobody", "sudo", "unroot-admins" };
        uint8_t buf[256];
        HelperRequest r;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ErrorInfo e = {};
                n = pack_enroll(buf, bad[i], strlen(bad[i]), false, 0, 1);
                assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
                assert_string_equal(e.field, "name");
        }
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++) {
                ErrorInfo e = {};
                n = pack_enroll(buf, reserved[i], strlen(reserved[i]), false, 0, 1);
                assert_true(helper_request_parse(buf, n, &r, &e) < 0);
                assert_string_equal(e.field, "name");
        }
        /* 31 characters is the longest valid name. */
        n = pack_enroll(buf, "abcdefghijabcdefghijabcdefghija", 31, false, 0, 1);
        assert_int_equal(helper_request_parse(buf, n, &r, NULL), 0);
}

static void test_embedded_nul(void **state) {
        uint8_t buf[256];
        HelperRequest r;
        ErrorInfo e = {};
        size_t n = pack_enroll(buf, "a\0b", 3, false, 0, 1);

        /* As a C string this would read "a", a valid name: the length check must catch it. */
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "name");
}

static void test_unenroll(void **state) {
        uint8_t buf[256];
        HelperRequest r;
        size_t n = pack_unenroll(buf, "container-db", true);

        assert_int_equal(helper_request_parse(buf, n, &r, NULL), 0);
        assert_int_equal(r.op, HELPER_OP_UNENROLL);
        assert_true(r.purge);
        assert_string_equal(r.name, "container-db");
        n = pack_unenroll(buf, "Bad", false);
        assert_int_equal(helper_request_parse(buf, n, &r, NULL), -EINVAL);
}

static size_t pack_secret(uint8_t *buf, const void *account, size_t alen, const void *file, size_t flen,
                          const void *group, size_t glen, bool rollback) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        Unroot__Helper__SecretGroupRequest sg = UNROOT__HELPER__SECRET_GROUP_REQUEST__INIT;

        sg.account = (ProtobufCBinaryData) { alen, (uint8_t *) account };
        sg.file = (ProtobufCBinaryData) { flen, (uint8_t *) file };
        sg.group = (ProtobufCBinaryData) { glen, (uint8_t *) group };
        sg.has_rollback = true;
        sg.rollback = rollback;
        req.version = 1;
        req.op_case = UNROOT__HELPER__HELPER_REQUEST__OP_SECRET_GROUP;
        req.secret_group = &sg;
        return unroot__helper__helper_request__pack(&req, buf);
}
#define SG(buf, a, f, g, rb) pack_secret(buf, a, sizeof(a) - 1, f, sizeof(f) - 1, g, sizeof(g) - 1, rb)

static void test_secret_group(void **state) {
        uint8_t buf[512];
        HelperRequest r;
        ErrorInfo e = {};
        size_t n;

        n = SG(buf, "container-monitor", "/var/lib/dqe/token", "technitium-readers", true);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), 0);
        assert_int_equal(r.op, HELPER_OP_SECRET_GROUP);
        assert_string_equal(r.name, "container-monitor");
        assert_string_equal(r.path, "/var/lib/dqe/token");
        assert_string_equal(r.group, "technitium-readers");
        assert_true(r.rollback);
        assert_string_equal(helper_op_to_string(r.op), "secret-group");

        /* each field refused by name */
        n = SG(buf, "root", "/var/lib/dqe/token", "readers", false);
        assert_true(helper_request_parse(buf, n, &r, &e) < 0);
        assert_string_equal(e.field, "account");
        n = SG(buf, "a\0b", "/var/lib/dqe/token", "readers", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "account");
        n = SG(buf, "container-db", "var/lib/x", "readers", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "file");
        n = SG(buf, "container-db", "/var/lib/../../etc/shadow", "readers", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "file");
        n = SG(buf, "container-db", "/var/lib/x\0/etc/shadow", "readers", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "file");
        n = SG(buf, "container-db", "/var/lib/x", "sudo\0x", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "group");
        n = SG(buf, "container-db", "/var/lib/x", "sudo", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EPERM);
        assert_string_equal(e.field, "group");
        n = SG(buf, "container-db", "/var/lib/x", "", false);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "group");
}

static void test_version_and_oneof(void **state) {
        Unroot__Helper__HelperRequest req = UNROOT__HELPER__HELPER_REQUEST__INIT;
        uint8_t buf[256];
        HelperRequest r;
        ErrorInfo e = {};
        size_t n;

        n = pack_enroll(buf, "a", 1, false, 0, 2);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EPROTO);
        assert_string_equal(e.field, "version");

        req.version = 1;
        n = unroot__helper__helper_request__pack(&req, buf);
        assert_int_equal(helper_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "op");
}

static void test_malformed_frames(void **state) {
        static uint8_t big[FRAME_REQUEST_MAX + 1];
        uint8_t buf[512] = {};
        HelperRequest r;
        size_t n;

        assert_int_equal(helper_request_parse(buf, 0, &r, NULL), -EBADMSG);
        assert_int_equal(helper_request_parse(NULL, 5, &r, NULL), -EBADMSG);
        buf[0] = 0xff;
        assert_int_equal(helper_request_parse(buf, 1, &r, NULL), -EBADMSG);
        assert_int_equal(helper_request_parse(big, sizeof big, &r, NULL), -EMSGSIZE);

        /* Missing required version: field 10 (enroll) only. */
        const uint8_t noversion[] = { 0x52, 0x03, 0x0a, 0x01, 'a' };
        assert_int_equal(helper_request_parse(noversion, sizeof noversion, &r, NULL), -EBADMSG);

        /* Unknown field 99 (varint) appended to a valid request: strict decoding refuses it. */
        n = pack_enroll(buf, "a", 1, false, 0, 1);
        buf[n++] = 0x98;
        buf[n++] = 0x06;
        buf[n++] = 0x01;
        assert_int_equal(helper_request_parse(buf, n, &r, NULL), -EBADMSG);

        /* An 11-byte varint for version. */
        const uint8_t longvarint[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
        assert_int_equal(helper_request_parse(longvarint, sizeof longvarint, &r, NULL), -EBADMSG);

        /* Wire-type mismatch: version (field 1) sent as length-delimited. */
        const uint8_t wiretype[] = { 0x0a, 0x01, 0x01 };
        assert_int_equal(helper_request_parse(wiretype, sizeof wiretype, &r, NULL), -EBADMSG);

        /* Truncated: a length prefix pointing past the end. */
        n = pack_enroll(buf, "container-db", 12, false, 0, 1);
        assert_int_equal(helper_request_parse(buf, n - 3, &r, NULL), -EBADMSG);
}

static void test_two_oneof_members(void **state) {
        uint8_t buf[512];
        HelperRequest r;
        size_t n, m;

        /* Enroll "ok" followed by unenroll "Bad": the last member wins, and it is what gets validated. */
        n = pack_enroll(buf, "ok", 2, false, 0, 1);
        m = pack_unenroll(buf + n, "Bad", false);
        /* Two concatenated messages are one merged message to protobuf. */
        assert_int_equal(helper_request_parse(buf, n + m, &r, NULL), -EINVAL);

        n = pack_enroll(buf, "Bad", 3, false, 0, 1);
        m = pack_unenroll(buf + n, "good", false);
        assert_int_equal(helper_request_parse(buf, n + m, &r, NULL), 0);
        assert_int_equal(r.op, HELPER_OP_UNENROLL);
        assert_string_equal(r.name, "good");
}

static void test_repeated_field_flood(void **state) {
        static uint8_t buf[FRAME_REQUEST_MAX];
        HelperRequest r;
        size_t n = 0;

        /* version=1, then the enroll submessage field repeated until the frame is full: protobuf-c
         * merges them; the bounded allocator keeps memory in check, and the result still validates. */
        buf[n++] = 0x08;
        buf[n++] = 0x01;
        while (n + 7 <= sizeof buf) {
                buf[n++] = 0x52;
                buf[n++] = 0x05;
                buf[n++] = 0x0a;
                buf[n++] = 0x03;
                buf[n++] = 'a';
                buf[n++] = 'b';
                buf[n++] = 'c';
        }
        int k = helper_request_parse(buf, n, &r, NULL);
        assert_true(k == 0 || k == -EBADMSG);
        if (k == 0)
                assert_string_equal(r.name, "abc");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_enroll_valid),
                cmocka_unit_test(test_enroll_bad_count),
                cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_embedded_nul),
                cmocka_unit_test(test_unenroll),
                cmocka_unit_test(test_secret_group),
                cmocka_unit_test(test_version_and_oneof),
                cmocka_unit_test(test_malformed_frames),
                cmocka_unit_test(test_two_oneof_members),
                cmocka_unit_test(test_repeated_field_flood),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
