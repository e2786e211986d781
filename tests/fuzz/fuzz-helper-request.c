/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: one raw datagram through the helper's decode + validate
 * (helper_request_parse). Invariants checked on every input, beyond "no sanitizer report":
 * success means a known op, a name that passes account_name_check() again, and a bounded count;
 * failure means a negative errno and an error that names a field or says why. */
#include <errno.h>
#include <string.h>

#include "accounts.h"
#include "framing.h"
#include "fuzz.h"
#include "helper-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HelperRequest req;
        ErrorInfo e = {};
        int r;

        memset(&req, 0xAA, sizeof req);
        r = helper_request_parse(data, size, &req, &e);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG || r == -EPROTO || r == -EINVAL || r == -EMSGSIZE ||
                            r == -ENOMEM || r == -EEXIST || r == -EPERM || r == -ERANGE ||
                            r == -ENAMETOOLONG);
                FUZZ_ASSERT(memchr(e.field, 0, sizeof e.field) && memchr(e.message, 0, sizeof e.message));
                FUZZ_ASSERT(e.message[0] != 0);
                return 0;
        }
        FUZZ_ASSERT(r == 0);
        FUZZ_ASSERT(size <= FRAME_REQUEST_MAX);
        FUZZ_ASSERT(req.op == HELPER_OP_ENROLL || req.op == HELPER_OP_UNENROLL);
        FUZZ_ASSERT(helper_op_to_string(req.op) != NULL);
        size_t n = strnlen(req.name, sizeof req.name);
        FUZZ_ASSERT(n > 0 && n <= ACCOUNT_NAME_MAX);
        /* the name the helper acts on must be exactly what validation accepted */
        FUZZ_ASSERT(account_name_check(req.name, n, NULL) == 0);
        for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT((req.name[i] >= 'a' && req.name[i] <= 'z') ||
                            (req.name[i] >= '0' && req.name[i] <= '9') || req.name[i] == '-');
        FUZZ_ASSERT(req.name[0] >= 'a' && req.name[0] <= 'z');
        if (req.op == HELPER_OP_ENROLL)
                FUZZ_ASSERT(req.subid_count > 0);
        return 0;
}
