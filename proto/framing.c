/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "framing.h"
#include "macro.h"

int frame_recv(int fd, size_t max, int timeout_ms, uint8_t **ret_buf, size_t *ret_len) {
        _cleanup_free_ uint8_t *buf = NULL;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        int r;

        for (;;) {
                r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                break;
        }

        /* One byte more than allowed, plus MSG_TRUNC which makes recv() return the real datagram
         * length: anything above max is refused whole, never decoded in part. */
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        do
                n = recv(fd, buf, max + 1, MSG_TRUNC | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                /* SEQPACKET cannot tell an empty datagram from EOF; neither is a request. */
                return -ECONNRESET;
        if ((size_t) n > max)
                return -EMSGSIZE;

        *ret_len = (size_t) n;
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

int frame_send(int fd, const void *buf, size_t len) {
        ssize_t n;

        if (len == 0)
                return -EINVAL;
        do
                n = send(fd, buf, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int frame_send_message(int fd, const ProtobufCMessage *msg, size_t max) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;

        if (!protobuf_c_message_check(msg))
                return -EINVAL;
        len = protobuf_c_message_get_packed_size(msg);
        if (len == 0 || len > max)
                return -EMSGSIZE;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        if (protobuf_c_message_pack(msg, buf) != len)
                return -EIO;
        return frame_send(fd, buf, len);
}

/* Each block carries its size so that free can give the budget back. */
typedef struct BlockHeader {
        size_t size;
        max_align_t align[];
} BlockHeader;

static void *bounded_alloc(void *data, size_t size) {
        BoundedAllocator *a = data;
        BlockHeader *h;
        size_t total;

        if (!ADD_SAFE(&total, size, sizeof(BlockHeader)))
                return NULL;
        if (total > a->budget - a->used)
                return NULL;
        h = malloc(total);
        if (!h)
                return NULL;
        h->size = total;
        a->used += total;
        return h->align;
}

static void bounded_free(void *data, void *p) {
        BoundedAllocator *a = data;
        BlockHeader *h;

        if (!p)
                return;
        h = (BlockHeader *) ((uint8_t *) p - offsetof(BlockHeader, align));
        a->used -= h->size;
        free(h);
}

void bounded_allocator_init(BoundedAllocator *a, size_t budget) {
        *a = (BoundedAllocator) {
                .base = {
                        .alloc = bounded_alloc,
                        .free = bounded_free,
                        .allocator_data = a,
                },
                .budget = budget,
        };
}

int proto_message_check_strict(const ProtobufCMessage *m) {
        const ProtobufCMessageDescriptor *d;

        if (!m)
                return -EINVAL;
        if (!protobuf_c_message_check(m))
                return -EBADMSG;
        if (m->n_unknown_fields > 0)
                return -EBADMSG;

        d = m->descriptor;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                const void *member = (const uint8_t *) m + f->offset;

                if (f->type != PROTOBUF_C_TYPE_MESSAGE)
                        continue;
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                        size_t n = *(const size_t *) ((const uint8_t *) m + f->quantifier_offset);
                        ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *) member;
                        for (size_t j = 0; j < n; j++) {
                                int r = proto_message_check_strict(v[j]);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        const ProtobufCMessage *sub = *(ProtobufCMessage *const *) member;
                        if (sub) {
                                int r = proto_message_check_strict(sub);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

int proto_unpack_request(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, ProtoUnpacked *u,
                         ErrorInfo *e) {
        u->msg = NULL;
        if (!buf || len == 0)
                return error_set(e, -EBADMSG, "", "empty request");
        if (len > FRAME_REQUEST_MAX)
                return error_set(e, -EMSGSIZE, "", "request of %zu bytes exceeds the limit of %u bytes",
                                 len, FRAME_REQUEST_MAX);

        bounded_allocator_init(&u->alloc, len * FRAME_ARENA_FACTOR + 4096);
        u->msg = protobuf_c_message_unpack(d, &u->alloc.base, len, buf);
        if (!u->msg)
                return error_set(e, -EBADMSG, "", "malformed request: not a valid %s message", d->short_name);
        if (proto_message_check_strict(u->msg) < 0)
                return error_set(e, -EBADMSG, "", "malformed request: unknown or missing fields");
        return 0;
}

void proto_unpacked_done(ProtoUnpacked *u) {
        if (u->msg)
                protobuf_c_message_free_unpacked(u->msg, &u->alloc.base);
        u->msg = NULL;
}
