/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The live state `agentctl report` renders (report-render.h), read from a host below a root
 * directory: the root Quadlet services in <root>/etc/containers/systemd (a service is the base name
 * of a .container or .pod; a .container whose Pod= names a .pod there is a member of that pod, not a
 * service), the migration records in <root>/var/lib/unroot/migrate, and the status of every account
 * the records name, asked of its agent like `agentctl status` does. */

#include <systemd/sd-bus.h>

#include "report-render.h"

#define REPORT_QUADLET_DIR "/etc/containers/systemd"

typedef struct ReportState {
        ReportService *services; /* sorted by name */
        size_t n_services;
        AccountStatus *accounts; /* sorted by name */
        size_t n_accounts;
        char **warnings;         /* NULL-terminated, never NULL after a successful gather */
} ReportState;

void report_state_done(ReportState *s);

/* root: NULL or "/" for the real system. Accounts: those the records name, and every enrolled one
 * (NSS on the real system, like `agentctl status`; the group file below another root), each looked
 * up below root, its agent socket too. system_bus may be NULL (user managers' state "unknown").
 *
 * An unreadable record or Quadlet file is skipped with a warning in ret->warnings (naming the file
 * and the field); only what makes the whole report impossible fails, with e saying why: the
 * records directory or the Quadlet directory cannot be listed (not root?). */
int report_gather(const char *root, sd_bus *system_bus, int agent_timeout_ms, ReportState *ret, ErrorInfo *e);

/* The input of the renderers, pointing into s. */
ReportInput report_state_input(const ReportState *s, const char *generated, const char *host);
