/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What `agentctl status` shows for one enrolled account, and how it prints. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-bus.h>

#include "agent-account.h"
#include "agent-client.h"

typedef struct AccountStatus {
        char *name;
        bool found;          /* false: the user does not exist (error says why) */
        char *error;
        AgentAccount account;
        char *ranges_error;  /* why the ranges are unknown (account.have_ranges false) */
        bool linger;
        char *user_manager;  /* ActiveState of user@UID.service, or "unknown" */
        AgentStatusResult agent;
} AccountStatus;

void account_status_done(AccountStatus *s);

/* Directory of logind's linger flags: $UNROOT_LINGER_DIR or /var/lib/systemd/linger. */
const char *linger_dir(void);

/* ActiveState of user@UID.service over the system bus; "inactive" if the unit is not loaded,
 * "unknown" when bus is NULL or the query fails. */
char *user_manager_state(sd_bus *bus, uint32_t uid);

/* Fills s for account name; never fails except for -ENOMEM (missing data is recorded in s). root
 * (NULL = "/") prefixes the account files, the linger directory and the agent socket. */
int account_status_collect(const char *root, sd_bus *system_bus, const char *name, int agent_timeout_ms,
                           AccountStatus *s);

/* "answering (unroot 0.1.0, manager running)", "not running", "refused", "error: …" */
char *agent_state_describe(const AgentStatusResult *a);

/* "100000:65536", "-" (none) or "?" (unknown) */
char *subid_range_format(bool known, uint32_t start, uint32_t count);

/* "YYYY-MM-DD HH:MM:SS" local time, "-" for 0. */
char *usec_format(uint64_t usec);
/* The units of every answering agent as one table (nothing if there are none), then the agents'
 * global errors, one line each, prefixed with the account. */
int units_print_table(const AccountStatus *s, size_t n, FILE *f);

/* The human table and the JSON document for n accounts. */
int account_status_print_table(const AccountStatus *s, size_t n, FILE *f);
void account_status_print_json(const AccountStatus *s, size_t n, FILE *f);
/* One account as a JSON object (no newline). */
void account_status_write_json(const AccountStatus *s, FILE *f);
/* The agent part as a JSON object. */
void agent_status_write_json(const AgentStatusResult *a, FILE *f);
