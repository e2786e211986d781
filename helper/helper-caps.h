/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "helper-request.h"

/* After start-up: keep only the union of what the operations need, clear inheritable and ambient,
 * set no_new_privs. */
int caps_drop_to_helper_set(void);
/* Once the request is known: keep only what this operation needs. */
int caps_drop_for_op(HelperOp op, bool purge);
