/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One protobuf message per SOCK_SEQPACKET datagram: message boundaries come from the kernel, a
 * hard size cap is checked before anything is decoded, and an oversized datagram (MSG_TRUNC) is an
 * error rather than a silently cut message. */

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "error.h"

#define FRAME_REQUEST_MAX (16U * 1024U)
#define FRAME_REPLY_MAX (64U * 1024U)
/* Decoding may allocate at most this many times the frame size (protobuf-c amplifies: one scanned
 * member per field occurrence, packed varints, strings). */
#define FRAME_ARENA_FACTOR 8U

/* Receives one datagram of at most max bytes, waiting at most timeout_ms (-1: forever).
 * -EMSGSIZE if it was larger, -EBADMSG if empty, -ECONNRESET on EOF, -ETIMEDOUT. */
int frame_recv(int fd, size_t max, int timeout_ms, uint8_t **ret_buf, size_t *ret_len);
/* Sends one datagram; never raises SIGPIPE. */
int frame_send(int fd, const void *buf, size_t len);

/* Packs msg and sends it as one datagram. */
int frame_send_message(int fd, const ProtobufCMessage *msg, size_t max);

/* A bounded allocator for protobuf_c_message_unpack(): fails allocations once `budget` bytes are
 * outstanding. Free the unpacked message with the same allocator. */
typedef struct BoundedAllocator {
        ProtobufCAllocator base;
        size_t budget;
        size_t used;
} BoundedAllocator;

void bounded_allocator_init(BoundedAllocator *a, size_t budget);

/* Strictness beyond protobuf-c: no unknown fields at any level, all required fields present. Walks
 * sub-messages; the schemas are flat, so the depth is small and bounded by the descriptor. */
int proto_message_check_strict(const ProtobufCMessage *m);

/* The common front half of every request decoder: refuse empty and oversized frames, unpack with a
 * bounded allocator, refuse unknown or missing fields. u must stay where it is until
 * proto_unpacked_done() (the allocator points into it). -EBADMSG or -EMSGSIZE with e filled. */
typedef struct ProtoUnpacked {
        ProtobufCMessage *msg;
        BoundedAllocator alloc;
} ProtoUnpacked;

int proto_unpack_request(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, ProtoUnpacked *u,
                         ErrorInfo *e);
void proto_unpacked_done(ProtoUnpacked *u);
