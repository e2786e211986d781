/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "helper-peer.h"

/* One journal record per request, with structured fields an auditor can filter on:
 * UNROOT_PEER_UID, UNROOT_PEER_PID, UNROOT_ACTION, UNROOT_TARGET, UNROOT_RESULT. Also mirrored to
 * stderr so that it shows without a journal (tests, --root). */
void audit_log(const Peer *peer, const char *action, const char *target, const char *result, const char *message);
