/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: one raw datagram through the agent's decode + validate (agent_request_parse). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent-request.h"
#include "framing.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AgentRequest req;
        ErrorInfo e = {};
        int r;

        memset(&req, 0xAA, sizeof req);
        r = agent_request_parse(data, size, &req, &e);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG || r == -EPROTO || r == -EINVAL || r == -EMSGSIZE || r == -ENOMEM);
                FUZZ_ASSERT(memchr(e.message, 0, sizeof e.message) && e.message[0] != 0);
                return 0;
        }
        FUZZ_ASSERT(r == 0);
        FUZZ_ASSERT(size <= FRAME_REQUEST_MAX);
        FUZZ_ASSERT(req.op >= 0 && req.op < _AGENT_OP_MAX);
        FUZZ_ASSERT(agent_op_to_string(req.op) != NULL);

        /* our own encoder's output must always decode */
        uint8_t *buf = NULL;
        size_t len = 0;
        if (agent_request_pack_status(&buf, &len) >= 0) {
                AgentRequest again;
                FUZZ_ASSERT(agent_request_parse(buf, len, &again, NULL) == 0 && again.op == AGENT_OP_STATUS);
                free(buf);
        }
        return 0;
}
