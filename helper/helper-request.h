/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Decode and validate: raw datagram → a plain struct of checked values. Authorization and
 * execution only ever see this struct, never the protobuf message (helper-anchors.md §6.11). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts.h"
#include "error.h"

#define HELPER_PROTOCOL_VERSION 1U

typedef enum HelperOp {
        HELPER_OP_ENROLL,
        HELPER_OP_UNENROLL,
        HELPER_OP_SHIFT,
        HELPER_OP_SECRET_GROUP,
        _HELPER_OP_MAX,
        _HELPER_OP_INVALID = -EINVAL,
} HelperOp;

typedef struct HelperRequest {
        HelperOp op;
        bool interactive;
        char name[ACCOUNT_NAME_MAX + 1];
        uint32_t subid_count; /* enroll */
        bool purge;           /* unenroll */
        char path[4096];      /* shift; secret-group: the file. Checked by shift_path_check() */
        bool rollback;        /* shift, secret-group */
        char group[ACCOUNT_NAME_MAX + 1]; /* secret-group: checked by secret_group_name_check() */
} HelperRequest;

/* Returns 0, or a negative errno with e naming the field at fault: -EBADMSG for a frame that is
 * not a valid message, -EPROTO for a wrong version, -EINVAL for a bad field value. */
int helper_request_parse(const uint8_t *buf, size_t len, HelperRequest *ret, ErrorInfo *e);

const char *helper_op_to_string(HelperOp op);
