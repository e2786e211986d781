/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "agent-status.h"
#include "framing.h"

int agent_reply_pack(const Unroot__Agent__AgentReply *reply, uint8_t **ret_buf, size_t *ret_len) {
        uint8_t *buf;
        size_t len;

        if (!protobuf_c_message_check(&reply->base))
                return -EINVAL;
        len = unroot__agent__agent_reply__get_packed_size(reply);
        if (len == 0 || len > FRAME_REPLY_MAX)
                return -EMSGSIZE;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        if (unroot__agent__agent_reply__pack(reply, buf) != len) {
                free(buf);
                return -EIO;
        }
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

int agent_reply_status(int fd, const char *account, uid_t uid, const AgentAccount *acct,
                       const char *manager_state, const char *note) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;
        Unroot__Agent__StatusReply st = UNROOT__AGENT__STATUS_REPLY__INIT;
        Unroot__Agent__SubidRange su = UNROOT__AGENT__SUBID_RANGE__INIT, sg = UNROOT__AGENT__SUBID_RANGE__INIT;
        Unroot__Agent__SubidRange *sup[1] = { &su }, *sgp[1] = { &sg };

        st.account = (char *) (acct ? acct->name : account);
        st.uid = acct ? acct->uid : (uint32_t) uid;
        st.manager_state = (char *) manager_state;
        st.version = (char *) PACKAGE_VERSION;
        if (acct && acct->have_ranges && acct->subuid_count > 0) {
                su.start = acct->subuid_start;
                su.count = acct->subuid_count;
                st.n_subuid = 1;
                st.subuid = sup;
        }
        if (acct && acct->have_ranges && acct->subgid_count > 0) {
                sg.start = acct->subgid_start;
                sg.count = acct->subgid_count;
                st.n_subgid = 1;
                st.subgid = sgp;
        }

        reply.status = UNROOT__AGENT__AGENT_STATUS__AGENT_OK;
        reply.message = (char *) note;
        reply.result_case = UNROOT__AGENT__AGENT_REPLY__RESULT_STATUS_REPLY;
        reply.status_reply = &st;
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}

int agent_reply_error(int fd, Unroot__Agent__AgentStatus status, const char *field, const char *message) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;

        reply.status = status;
        reply.message = (char *) message;
        reply.field = field && *field ? (char *) field : NULL;
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}
