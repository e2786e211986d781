/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The two forms a rendered pod unit can take in the account's user manager.
 *
 * POD_SHAPE_PIDFILE is the translator's stock form: Type=forking, PIDFile=%t/%N.pid, written by the
 * infra container's conmon (--infra-conmon-pidfile). A user manager only takes that PID if conmon
 * is inside the unit's cgroup; otherwise it logs "New main PID … does not belong to service, and
 * PID file is not owned by root. Refusing." and fails the unit with Result=protocol
 * (anchors-quadlet.md §3).
 *
 * POD_SHAPE_WATCH is the fallback: Type=notify, and ExecStart runs unroot-pod-watch, which runs the
 * original `podman pod start`, opens a pidfd on the infra conmon named by the same PID file, says
 * READY=1 and exits when conmon does. The manager never has to trust the PID file, and a
 * `podman pod stop` by hand still ends the unit (unlike Type=oneshot + RemainAfterExit). Pre/stop
 * commands and the Wants=/BindsTo= relations with the members are left exactly as rendered.
 *
 * Which one an account uses is decided by probing (pod-shape-probe.h) and cached, with the systemd
 * and podman versions it was decided for, in the account's state directory (~/.unroot/pod-shape). */

#include <stdbool.h>

#include "agent-render.h"

typedef enum PodShape {
        POD_SHAPE_PIDFILE,
        POD_SHAPE_WATCH,
        _POD_SHAPE_MAX,
        _POD_SHAPE_INVALID = -EINVAL,
} PodShape;

#define POD_SHAPE_CACHE_FILE "pod-shape"
/* Forces a shape ("pidfile" or "watch") without probing: tests, and admins who know better. */
#define POD_SHAPE_ENV "UNROOT_POD_SHAPE"

#ifndef UNROOT_POD_WATCH_PATH
#define UNROOT_POD_WATCH_PATH "/usr/libexec/unroot-pod-watch"
#endif

const char *pod_shape_to_string(PodShape s);
PodShape pod_shape_from_string(const char *s);

/* Rewrites one rendered pod service (content as render_plan() made it) into the watcher form,
 * running watch_path. Pure. Returns 1 and the new text in *ret, 0 (and *ret = NULL) if the unit
 * is not in the stock form (no Type=forking + PIDFile= + ExecStart= in [Service]), so it is left
 * alone; -ENOMEM. */
int pod_shape_rewrite_unit(const char *content, const char *watch_path, char **ret);

/* Applies the shape to every pod service of the plan (entries rendered from a .pod source).
 * POD_SHAPE_PIDFILE changes nothing. Returns the number of units rewritten, or -ENOMEM/-EINVAL. */
int pod_shape_rewrite_plan(RenderPlan *plan, PodShape shape);

/* What was decided, for what, and why: the cache file's content and the status' "pod shape" line. */
typedef struct PodShapeDecision {
        PodShape shape;
        char *systemd_version; /* the user manager's Version property, e.g. "252.39-1~deb12u1" */
        char *podman_version;  /* `podman --version`'s last word, e.g. "4.3.1" */
        char *reason;          /* one line, what the probe saw */
        bool forced;           /* from $UNROOT_POD_SHAPE, never cached */
        bool cached;           /* read from the cache rather than probed now */
} PodShapeDecision;

void pod_shape_decision_done(PodShapeDecision *d);

/* The cache file: "shape=…\nsystemd=…\npodman=…\nreason=…\n". Unknown keys are ignored (newer
 * agents may add some); a missing or bad shape/systemd/podman line is -EBADMSG. Pure. */
int pod_shape_cache_parse(const char *text, PodShapeDecision *ret);
int pod_shape_cache_format(const PodShapeDecision *d, char **ret);

/* <root>/<dir>/pod-shape (NULL root = "/"). read: -ENOENT if absent. write: atomic (temporary
 * file + rename), so a crash leaves the old decision or the new one. */
int pod_shape_cache_read(const char *root, const char *dir, PodShapeDecision *ret);
int pod_shape_cache_write(const char *root, const char *dir, const PodShapeDecision *d);

/* True if a cached decision still holds for these versions (an upgrade of either re-probes). */
bool pod_shape_cache_matches(const PodShapeDecision *d, const char *systemd_version, const char *podman_version);

/* One line for `agentctl status`: "watch (probed on systemd 252…, podman 4.3.1: …)". */
char *pod_shape_decision_describe(const PodShapeDecision *d);
