/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "helper-audit.h"
#include "log.h"

void audit_log(const Peer *peer, const char *action, const char *target, const char *result, const char *message) {
        (void) sd_journal_send("MESSAGE=unroot-helper: %s %s for uid %u: %s%s%s", strna(action), strna(target),
                               (unsigned) peer->uid, strna(result), message && *message ? ": " : "",
                               strempty(message),
                               "PRIORITY=%i", LOG_NOTICE,
                               "SYSLOG_IDENTIFIER=unroot-helper",
                               "UNROOT_PEER_UID=%u", (unsigned) peer->uid,
                               "UNROOT_PEER_PID=%i", (int) peer->pid,
                               "UNROOT_ACTION=%s", strna(action),
                               "UNROOT_TARGET=%s", strna(target),
                               "UNROOT_RESULT=%s", strna(result),
                               NULL);
        log_notice("audit: peer_uid=%u peer_pid=%i action=%s target=%s result=%s%s%s", (unsigned) peer->uid,
                   (int) peer->pid, strna(action), strna(target), strna(result),
                   message && *message ? " message=" : "", strempty(message));
}
