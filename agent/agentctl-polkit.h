/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Starts pkttyagent for this process when stdin is a terminal and the controlling terminal can be
 * opened (libvirt's virPolkitAgentAvailable), and waits until it has registered (--notify-fd, as
 * systemctl does). Returns 1 and the pid if started, 0 if not applicable, negative on error. */
int polkit_agent_open(pid_t *ret_pid);
/* Stops it (SIGTERM) and reaps it. Accepts 0. */
void polkit_agent_close(pid_t pid);
