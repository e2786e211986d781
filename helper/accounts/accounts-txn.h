/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An open transaction on the account files, for callers that must do something of their own
 * between planning and writing (the secret-group operation journals its plan first): <root>/etc
 * locked exclusively (.pwd.lock plus shadow's per-file locks), stale temp files cleaned, all six
 * files read under the lock. Edit db with the pure planners, then commit (etc-write.h), then done. */

#include "enroll-plan.h"
#include "etc-lock.h"
#include "etc-write.h"

typedef struct AccountsTxn {
        int etcfd;
        EtcLock lock;
        AccountsDb db;
} AccountsTxn;

int accounts_txn_begin(const char *root, AccountsTxn *ret, ErrorInfo *e);
/* Writes the changed files (nothing if none changed): 0 nothing written, 1 written. */
int accounts_txn_commit(AccountsTxn *t, EtcWriteOrder order, ErrorInfo *e);
/* Releases the locks; safe on a zeroed or failed transaction only after accounts_txn_begin(). */
void accounts_txn_done(AccountsTxn *t);
