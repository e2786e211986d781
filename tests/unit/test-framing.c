/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SEQPACKET framing (helper-anchors.md §5.7): max−1, max and max+1 byte datagrams, empty, EOF,
 * a silent peer, and the bounded decoder allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <errno.h>

#include "framing.h"
#include "macro.h"
#include "helper.pb-c.h"

static void pair(int sv[2]) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        int sz = 1 << 20;
        (void) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        (void) setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

static void test_sizes(void **state) {
        static uint8_t data[FRAME_REQUEST_MAX + 2];
        const size_t sizes[] = { 1, FRAME_REQUEST_MAX - 1, FRAME_REQUEST_MAX, FRAME_REQUEST_MAX + 1 };
        int sv[2];

        memset(data, 0x5a, sizeof data);
        pair(sv);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint8_t *buf = NULL;
                size_t len = 0;

                assert_int_equal(frame_send(sv[0], data, sizes[i]), 0);
                int r = frame_recv(sv[1], FRAME_REQUEST_MAX, 1000, &buf, &len);
                if (sizes[i] > FRAME_REQUEST_MAX) {
                        assert_int_equal(r, -EMSGSIZE);
                        assert_null(buf);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(len, sizes[i]);
                        assert_memory_equal(buf, data, len);
                }
                free(buf);
        }
        close(sv[0]);
        close(sv[1]);
}

static void test_empty_eof_timeout(void **state) {
        uint8_t *buf = NULL;
        size_t len;
        int sv[2];

        pair(sv);
        assert_int_equal(frame_send(sv[0], "", 0), -EINVAL);
        assert_int_equal(frame_recv(sv[1], 64, 10, &buf, &len), -ETIMEDOUT);
        /* An empty datagram looks like EOF on SEQPACKET; neither is a request. */
        assert_int_equal(send(sv[0], "", 0, 0), 0);
        assert_int_equal(frame_recv(sv[1], 64, 1000, &buf, &len), -ECONNRESET);
        close(sv[0]);
        assert_int_equal(frame_recv(sv[1], 64, 1000, &buf, &len), -ECONNRESET);
        assert_null(buf);
        close(sv[1]);
}

static void test_send_to_closed_peer(void **state) {
        int sv[2];

        pair(sv);
        close(sv[1]);
        /* MSG_NOSIGNAL: an error, not SIGPIPE. */
        assert_int_equal(frame_send(sv[0], "x", 1), -EPIPE);
        close(sv[0]);
}

static void test_message_roundtrip_and_cap(void **state) {
        Unroot__Helper__HelperReply reply = UNROOT__HELPER__HELPER_REPLY__INIT;
        char *changes[] = { (char *) "one", (char *) "two" };
        uint8_t *buf = NULL;
        size_t len;
        int sv[2];

        pair(sv);
        reply.status = UNROOT__HELPER__STATUS__STATUS_CHANGED;
        reply.changes = changes;
        reply.n_changes = 2;
        assert_int_equal(frame_send_message(sv[0], &reply.base, FRAME_REPLY_MAX), 0);
        assert_int_equal(frame_recv(sv[1], FRAME_REPLY_MAX, 1000, &buf, &len), 0);
        Unroot__Helper__HelperReply *got = unroot__helper__helper_reply__unpack(NULL, len, buf);
        assert_non_null(got);
        assert_int_equal(got->n_changes, 2);
        assert_string_equal(got->changes[1], "two");
        assert_int_equal(proto_message_check_strict(&got->base), 0);
        unroot__helper__helper_reply__free_unpacked(got, NULL);
        free(buf);

        /* Bigger than the cap: refused before sending anything. */
        assert_int_equal(frame_send_message(sv[0], &reply.base, 4), -EMSGSIZE);
        close(sv[0]);
        close(sv[1]);
}

static void test_bounded_allocator(void **state) {
        Unroot__Helper__HelperReply reply = UNROOT__HELPER__HELPER_REPLY__INIT;
        static char big[4096];
        char *changes[64];
        uint8_t *buf;
        size_t len;
        BoundedAllocator a;

        memset(big, 'x', sizeof big - 1);
        for (size_t i = 0; i < ELEMENTSOF(changes); i++)
                changes[i] = big;
        reply.status = UNROOT__HELPER__STATUS__STATUS_CHANGED;
        reply.changes = changes;
        reply.n_changes = ELEMENTSOF(changes);
        len = unroot__helper__helper_reply__get_packed_size(&reply);
        buf = malloc(len);
        unroot__helper__helper_reply__pack(&reply, buf);

        bounded_allocator_init(&a, 16 * 1024);
        assert_null(unroot__helper__helper_reply__unpack(&a.base, len, buf));
        assert_int_equal(a.used, 0);

        bounded_allocator_init(&a, len * FRAME_ARENA_FACTOR);
        Unroot__Helper__HelperReply *got = unroot__helper__helper_reply__unpack(&a.base, len, buf);
        assert_non_null(got);
        assert_true(a.used > 0);
        unroot__helper__helper_reply__free_unpacked(got, &a.base);
        assert_int_equal(a.used, 0);
        free(buf);
}

static void test_unknown_fields_refused(void **state) {
        /* status=0 followed by unknown field 15 (varint). */
        const uint8_t wire[] = { 0x08, 0x00, 0x78, 0x01 };
        Unroot__Helper__HelperReply *got = unroot__helper__helper_reply__unpack(NULL, sizeof wire, wire);

        assert_non_null(got);
        assert_int_equal(proto_message_check_strict(&got->base), -EBADMSG);
        unroot__helper__helper_reply__free_unpacked(got, NULL);
        assert_int_equal(proto_message_check_strict(NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_empty_eof_timeout),
                cmocka_unit_test(test_send_to_closed_peer),
                cmocka_unit_test(test_message_roundtrip_and_cap),
                cmocka_unit_test(test_bounded_allocator),
                cmocka_unit_test(test_unknown_fields_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
