/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Deciding the pod shape (pod-shape.h) for an account, by trying the real thing once.
 *
 * The probe starts a transient user unit in exactly the stock pod shape (Type=forking,
 * PIDFile=<runtime dir>/….pid, ExecStartPre=podman pod create --infra-conmon-pidfile=…,
 * ExecStart=podman pod start) for a throw-away pod with no members, and looks at how the start job
 * ends: "done" with the unit active → the manager took the infra conmon's PID from the user's file
 * (POD_SHAPE_PIDFILE); failed with Result=protocol → it refused it (POD_SHAPE_WATCH). Anything else
 * (podman failing, a timeout) is inconclusive: POD_SHAPE_WATCH is chosen, because it works whether
 * or not the manager would trust the file, and the decision is not cached.
 *
 * Why a real pod and not a synthetic PID file: whether the refusal happens depends on two things at
 * once, systemd's rule (a PID outside the unit's cgroup needs a root-owned file) and where this
 * podman puts the infra conmon (inside the unit's cgroup or in a scope of its own). A synthetic
 * test of the rule alone would say "refused" on systemd 252 even where podman keeps conmon in the
 * unit, and a version table would be a guess. The probe costs one pod start per account and per
 * systemd/podman version pair; the result is cached in <state dir>/pod-shape.
 *
 * Blocking: it uses its own connection to the user bus and waits (at most timeout_usec per job),
 * so it never runs callbacks of the caller's event loop. */

#include <stdint.h>

#include <systemd/sd-bus.h>

#include "pod-shape.h"

typedef struct PodShapeProbeOptions {
        const char *root;        /* root directory for the cache file (NULL = "/") */
        const char *state_dir;   /* the account's state dir, "~/.unroot"; NULL = do not cache */
        const char *runtime_dir; /* $XDG_RUNTIME_DIR of the account, for the probe's PID file */
        const char *podman;      /* the podman binary; NULL = PODMAN_BINARY */
        uint64_t timeout_usec;   /* per job (start, stop); 0 = 120 s */
} PodShapeProbeOptions;

/* Runs the probe. Returns 0 with a conclusive *ret, or a negative errno (-EPROTO: inconclusive)
 * with what was seen in *ret_reason either way (may be NULL). */
int pod_shape_probe(const PodShapeProbeOptions *o, PodShape *ret, char **ret_reason);

/* $UNROOT_POD_SHAPE if set (forced), else the cache if it matches the current systemd and podman
 * versions, else a probe (written to the cache when conclusive). Only -ENOMEM and a bad
 * $UNROOT_POD_SHAPE (-EINVAL) fail; anything else ends in a POD_SHAPE_WATCH decision that says why. */
int pod_shape_decide(const PodShapeProbeOptions *o, PodShapeDecision *ret);

/* "4.3.1" from `podman --version`. */
int pod_shape_podman_version(const char *podman, char **ret);
