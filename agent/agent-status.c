/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"

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

static void fill_units(Unroot__Agent__UnitStatus *us, Unroot__Agent__UnitStatus **usp, const LoopStatus *st,
                       bool texts) {
        for (size_t i = 0; i < st->n_units; i++) {
                Unroot__Agent__UnitStatus *u = &us[i];
                const UnitState *s = &st->states[i];

                unroot__agent__unit_status__init(u);
                u->name = st->units[i].name;
                u->source = st->units[i].source;
                u->load_state = s->load_state;
                u->active_state = s->active_state ?: (char *) "unknown";
                u->sub_state = s->sub_state ?: (char *) "unknown";
                u->has_since_usec = true;
                u->since_usec = s->state_change_usec;
                u->has_n_restarts = true;
                u->n_restarts = s->n_restarts;
                u->has_main_pid = true;
                u->main_pid = s->main_pid;
                u->health = st->health[i];
                if (texts) {
                        u->translation_error = st->units[i].translation_error;
                        u->apply_error = st->units[i].apply_error;
                }
                usp[i] = u;
        }
}

int agent_reply_status(int fd, const char *account, uid_t uid, const AgentAccount *acct,
                       const char *manager_state, const char *note, const LoopStatus *ls) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;
        Unroot__Agent__StatusReply st = UNROOT__AGENT__STATUS_REPLY__INIT;
        Unroot__Agent__SubidRange su = UNROOT__AGENT__SUBID_RANGE__INIT, sg = UNROOT__AGENT__SUBID_RANGE__INIT;
        Unroot__Agent__SubidRange *sup[1] = { &su }, *sgp[1] = { &sg };
        _cleanup_free_ Unroot__Agent__UnitStatus *us = NULL;
        _cleanup_free_ Unroot__Agent__UnitStatus **usp = NULL;

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
        if (ls) {
                us = calloc(MAX(ls->n_units, (size_t) 1), sizeof *us);
                usp = calloc(MAX(ls->n_units, (size_t) 1), sizeof *usp);
                if (!us || !usp)
                        return -ENOMEM;
                fill_units(us, usp, ls, true);
                st.n_units = ls->n_units;
                st.units = usp;
                st.n_errors = ls->errors->n;
                st.errors = ls->errors->v;
                st.podman_version = (char *) ls->podman_version;
                st.pod_shape = (char *) ls->pod_shape;
                st.pod_shape_reason = (char *) ls->pod_shape_reason;
                st.has_last_apply_usec = true;
                st.last_apply_usec = ls->last_apply_usec;
        }

        reply.status = UNROOT__AGENT__AGENT_STATUS__AGENT_OK;
        reply.message = (char *) note;
        reply.result_case = UNROOT__AGENT__AGENT_REPLY__RESULT_STATUS_REPLY;
        reply.status_reply = &st;
        if (ls && unroot__agent__agent_reply__get_packed_size(&reply) > FRAME_REPLY_MAX) {
                /* Long error texts are what grows without bound; the states always fit. */
                fill_units(us, usp, ls, false);
                st.n_errors = 0;
                reply.message = (char *) "the reply was too long: error texts left out, see the agent's journal";
        }
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}

int agent_reply_unit_action(int fd, const char *unit, int r, const char *result, const char *message) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;
        Unroot__Agent__UnitActionReply ua = UNROOT__AGENT__UNIT_ACTION_REPLY__INIT;

        ua.unit = (char *) unit;
        ua.result = (char *) (result ?: (r >= 0 ? "done" : "error"));
        reply.status = r >= 0 ? UNROOT__AGENT__AGENT_STATUS__AGENT_OK : UNROOT__AGENT__AGENT_STATUS__AGENT_FAILED;
        reply.message = (char *) message;
        reply.result_case = UNROOT__AGENT__AGENT_REPLY__RESULT_UNIT_ACTION_REPLY;
        reply.unit_action_reply = &ua;
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}

int agent_reply_reapply(int fd, const ApplyReport *rep) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;
        Unroot__Agent__ReapplyReply ra = UNROOT__AGENT__REAPPLY_REPLY__INIT;

        ra.n_started = rep->started->n;
        ra.started = rep->started->v;
        ra.n_restarted = rep->restarted->n;
        ra.restarted = rep->restarted->v;
        ra.n_stopped = rep->stopped->n;
        ra.stopped = rep->stopped->v;
        ra.n_errors = rep->errors->n;
        ra.errors = rep->errors->v;
        reply.status = UNROOT__AGENT__AGENT_STATUS__AGENT_OK;
        reply.result_case = UNROOT__AGENT__AGENT_REPLY__RESULT_REAPPLY_REPLY;
        reply.reapply_reply = &ra;
        if (unroot__agent__agent_reply__get_packed_size(&reply) > FRAME_REPLY_MAX) {
                ra.n_errors = 0;
                reply.message = (char *) "the reply was too long: errors left out, see 'agentctl status'";
        }
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}

int agent_reply_error(int fd, Unroot__Agent__AgentStatus status, const char *field, const char *message) {
        Unroot__Agent__AgentReply reply = UNROOT__AGENT__AGENT_REPLY__INIT;

        reply.status = status;
        reply.message = (char *) message;
        reply.field = field && *field ? (char *) field : NULL;
        return frame_send_message(fd, &reply.base, FRAME_REPLY_MAX);
}
