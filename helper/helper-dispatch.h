/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "helper-auth.h"
#include "helper-ops.h"

/* One connection, one request: identify the peer → receive → decode and validate → authorize →
 * re-verify the peer → drop to the operation's capabilities → execute → reply → audit. Returns 0 if a
 * reply was sent (whatever it said), negative if not even that was possible. */
int helper_handle_connection(const HelperContext *ctx, const Authorizer *auth, int fd);
