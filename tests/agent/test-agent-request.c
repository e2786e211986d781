/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding and validation of agent requests (malformed frames included) and the reply round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent-client.h"
#include "agent-request.h"
#include "agent-status.h"
#include "agent.pb-c.h"
#include "framing.h"

static size_t pack_request(uint8_t *buf, uint32_t version, bool set_op) {
        Unroot__Agent__AgentRequest req = UNROOT__AGENT__AGENT_REQUEST__INIT;
        Unroot__Agent__StatusRequest st = UNROOT__AGENT__STATUS_REQUEST__INIT;

        req.version = version;
        if (set_op) {
                req.op_case = UNROOT__AGENT__AGENT_REQUEST__OP_STATUS;
                req.status = &st;
        }
        return unroot__agent__agent_request__pack(&req, buf);
}

static void test_status_valid(void **state) {
        uint8_t buf[64];
        AgentRequest r = { .op = _AGENT_OP_INVALID };
        ErrorInfo e = {};
        size_t n = pack_request(buf, 1, true);

        assert_int_equal(n, 4); /* 08 01 52 00 */
        assert_int_equal(agent_request_parse(buf, n, &r, &e), 0);
        assert_int_equal(r.op, AGENT_OP_STATUS);
        assert_string_equal(agent_op_to_string(r.op), "status");
}

static void test_pack_status_matches(void **state) {
        uint8_t *buf = NULL;
        size_t n = 0;
        AgentRequest r;

        assert_int_equal(agent_request_pack_status(&buf, &n), 0);
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "\x08\x01\x52\x00", 4);
        assert_int_equal(agent_request_parse(buf, n, &r, NULL), 0);
        free(buf);
}

static void test_empty(void **state) {
        ErrorInfo e = {};
        AgentRequest r;
        uint8_t b = 0;

        assert_int_equal(agent_request_parse(&b, 0, &r, &e), -EBADMSG);
        assert_string_equal(e.message, "empty request");
        assert_int_equal(agent_request_parse(NULL, 0, &r, &e), -EBADMSG);
}

static void test_garbage(void **state) {
        static const uint8_t g1[] = "garbage";
        static const uint8_t g2[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
        static const uint8_t truncated[] = { 0x08 };          /* tag without value */
        static const uint8_t short_len[] = { 0x08, 0x01, 0x52, 0x05, 0x00 }; /* sub-message longer than frame */
        ErrorInfo e = {};
        AgentRequest r;

        assert_int_equal(agent_request_parse(g1, sizeof g1 - 1, &r, &e), -EBADMSG);
        assert_non_null(strstr(e.message, "malformed"));
        assert_int_equal(agent_request_parse(g2, sizeof g2, &r, &e), -EBADMSG);
        assert_int_equal(agent_request_parse(truncated, sizeof truncated, &r, &e), -EBADMSG);
        assert_int_equal(agent_request_parse(short_len, sizeof short_len, &r, &e), -EBADMSG);
}

static void test_missing_version(void **state) {
        static const uint8_t only_op[] = { 0x52, 0x00 }; /* required version absent */
        ErrorInfo e = {};
        AgentRequest r;

        assert_int_equal(agent_request_parse(only_op, sizeof only_op, &r, &e), -EBADMSG);
}

static void test_unknown_fields(void **state) {
        uint8_t buf[64];
        ErrorInfo e = {};
        AgentRequest r;
        size_t n = pack_request(buf, 1, true);

        /* field 99, varint 7, at top level */
        memcpy(buf + n, "\x98\x06\x07", 3);
        assert_int_equal(agent_request_parse(buf, n + 3, &r, &e), -EBADMSG);
        assert_non_null(strstr(e.message, "unknown"));

        /* inside StatusRequest: 52 03 <field 5 varint 1> */
        static const uint8_t nested[] = { 0x08, 0x01, 0x52, 0x02, 0x28, 0x01 };
        assert_int_equal(agent_request_parse(nested, sizeof nested, &r, &e), -EBADMSG);
}

static void test_oneof_unset(void **state) {
        uint8_t buf[64];
        ErrorInfo e = {};
        AgentRequest r;
        size_t n = pack_request(buf, 1, false);

        assert_int_equal(n, 2);
        assert_int_equal(agent_request_parse(buf, n, &r, &e), -EINVAL);
        assert_string_equal(e.field, "op");
}

static void test_wrong_version(void **state) {
        uint8_t buf[64];
        ErrorInfo e = {};
        AgentRequest r;

        for (uint32_t v = 0; v < 4; v++) {
                size_t n = pack_request(buf, v == 1 ? 4294967295U : v, true);
                assert_int_equal(agent_request_parse(buf, n, &r, &e), -EPROTO);
                assert_string_equal(e.field, "version");
        }
}

static void test_oversized(void **state) {
        size_t n = FRAME_REQUEST_MAX + 1;
        uint8_t *buf = calloc(1, n);
        ErrorInfo e = {};
        AgentRequest r;

        assert_non_null(buf);
        /* a valid message followed by a huge unknown bytes field: refused for its size first */
        assert_int_equal(agent_request_parse(buf, n, &r, &e), -EMSGSIZE);
        assert_non_null(strstr(e.message, "exceeds"));

        /* exactly at the limit: decoded (and refused for the unknown field, not the size) */
        size_t h = pack_request(buf, 1, true);
        size_t rest = FRAME_REQUEST_MAX - h - 4; /* tag 0xa2 0x06 (field 100, bytes), 2-byte length */
        buf[h] = 0xa2;
        buf[h + 1] = 0x06;
        buf[h + 2] = (uint8_t) (0x80 | (rest & 0x7f));
        buf[h + 3] = (uint8_t) (rest >> 7);
        assert_int_equal(agent_request_parse(buf, FRAME_REQUEST_MAX, &r, &e), -EBADMSG);
        free(buf);
}

static void test_reply_roundtrip(void **state) {
        AgentAccount a = {
                .name = (char *) "container-db", .uid = 990, .gid = 990, .home = (char *) "/var/lib/unroot/container-db",
                .have_ranges = true, .subuid_start = 100000, .subuid_count = 65536,
                .subgid_start = 165536, .subgid_count = 65536,
        };
        int sv[2];
        uint8_t *buf = NULL;
        size_t len;
        AgentStatusResult res = {};

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(agent_reply_status(sv[0], "ignored", 1, &a, "running", NULL, NULL), 0);
        assert_int_equal(frame_recv(sv[1], FRAME_REPLY_MAX, 1000, &buf, &len), 0);
        assert_int_equal(agent_reply_parse(buf, len, &res), 0);
        assert_int_equal(res.state, AGENT_STATE_ANSWERING);
        assert_string_equal(res.account, "container-db");
        assert_int_equal(res.uid, 990);
        assert_int_equal(res.subuid_start, 100000);
        assert_int_equal(res.subuid_count, 65536);
        assert_int_equal(res.subgid_start, 165536);
        assert_int_equal(res.subgid_count, 65536);
        assert_string_equal(res.manager_state, "running");
        assert_string_equal(res.version, PACKAGE_VERSION);
        assert_null(res.message);
        agent_status_result_done(&res);
        free(buf);

        assert_int_equal(agent_reply_error(sv[0], UNROOT__AGENT__AGENT_STATUS__AGENT_DENIED, NULL, "go away"), 0);
        assert_int_equal(frame_recv(sv[1], FRAME_REPLY_MAX, 1000, &buf, &len), 0);
        assert_int_equal(agent_reply_parse(buf, len, &res), 0);
        assert_int_equal(res.state, AGENT_STATE_REFUSED);
        assert_string_equal(res.message, "go away");
        agent_status_result_done(&res);
        free(buf);

        /* OK without a status is malformed, not "answering" */
        assert_int_equal(agent_reply_error(sv[0], UNROOT__AGENT__AGENT_STATUS__AGENT_OK, NULL, NULL), 0);
        assert_int_equal(frame_recv(sv[1], FRAME_REPLY_MAX, 1000, &buf, &len), 0);
        assert_int_equal(agent_reply_parse(buf, len, &res), -EBADMSG);
        assert_int_equal(res.state, AGENT_STATE_ERROR);
        agent_status_result_done(&res);
        free(buf);

        assert_int_equal(agent_reply_parse((const uint8_t *) "junk", 4, &res), -EBADMSG);
        assert_int_equal(res.state, AGENT_STATE_ERROR);
        agent_status_result_done(&res);
        close(sv[0]);
        close(sv[1]);
}

static void test_query_not_running(void **state) {
        AgentStatusResult res = {};

        assert_int_equal(agent_query_status("/nonexistent/agent.sock", 100, &res), -ENOENT);
        assert_int_equal(res.state, AGENT_STATE_NOT_RUNNING);
        assert_string_equal(agent_state_to_string(res.state), "not running");
        agent_status_result_done(&res);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_valid),
                cmocka_unit_test(test_pack_status_matches),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_missing_version),
                cmocka_unit_test(test_unknown_fields),
                cmocka_unit_test(test_oneof_unset),
                cmocka_unit_test(test_wrong_version),
                cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_reply_roundtrip),
                cmocka_unit_test(test_query_not_running),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
