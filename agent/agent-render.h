/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The agent's rendering engine: from the account's Quadlet sources to the unit files the agent
 * owns in the account's user unit directory (~/.config/systemd/user).
 *
 * render_plan() is pure apart from reading the sources (quadlet-sources); render_diff() compares
 * the plan with the manifest and the files on disk; render_apply() is the only writer. Ownership is
 * recorded in <unitdir>/.unroot-agent-manifest (one owned path per line, relative to the unit
 * dir); nothing outside the manifest is ever modified or removed. */

#include <stdbool.h>

#include "quadlet-sources.h"
#include "strv.h"
#include "unitfile.h"

#define RENDER_MANIFEST ".unroot-agent-manifest"

typedef struct RenderEntry {
        char *path;    /* relative to the unit dir: "web.service", "default.target.wants/web.service" */
        char *content; /* file content, or the symlink's target */
        bool symlink;
        char *source;  /* the quadlet source path */
        int order;     /* start order: the type weight, with pods before containers */
} RenderEntry;

typedef struct RenderPlan {
        RenderEntry *entries;
        size_t n;
        /* Service file names ("web.service") whose source failed to load or translate: their
         * previously rendered file and symlinks are kept as they are. */
        Strv keep;
        /* Load and translation errors, upstream's wording ("converting \"x\": …"). */
        Strv errors;
} RenderPlan;

void render_plan_done(RenderPlan *p);

/* Adds ExecStartPre=-/bin/rm -f of the container's (or the pod's) own id file to a generated
 * service, so an id file left by an unclean stop does not fail every later start on podman 4.3. */
void render_guard_stale_id_files(UnitFile *service);

/* Loads the sources described by o and translates them for podman_version (QUADLET_PODMAN_VERSION),
 * user mode per o->user. Only -ENOMEM fails; per-source problems land in ret->errors/ret->keep. */
int render_plan(const QuadletSourcesOptions *o, unsigned podman_version, RenderPlan *ret);

typedef struct RenderDiff {
        Strv added, changed, unchanged, removed, kept;
        Strv conflicts; /* messages: a path we would write exists but is not ours */
        Strv restart;   /* added/changed service files in start order: images, networks and volumes,
                         * builds, pods, then containers and kube units */
        Strv manifest;  /* the manifest to write after applying */
} RenderDiff;

void render_diff_done(RenderDiff *d);

/* Reads the manifest of <root>/<unitdir> into ret (missing manifest = empty). */
int render_manifest_read(const char *root, const char *unitdir, Strv *ret);

/* Compares the plan with the manifest and the files in <root>/<unitdir> (NULL root = "/"). */
int render_diff(const char *root, const char *unitdir, const RenderPlan *plan, const Strv *manifest,
                RenderDiff *ret);

/* Writes added/changed entries atomically, removes owned entries whose source is gone, and
 * rewrites the manifest last. Returns 1 if anything changed, 0 if nothing did. */
int render_apply(const char *root, const char *unitdir, const RenderPlan *plan, const RenderDiff *diff);
