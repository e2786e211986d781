/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Quadlet translation with podman 5.4.2 semantics (docs/quadlet.md §1, §3, §4).
 *
 * Pure: a parsed quadlet file goes in, a service unit comes out. Everything the conversion needs
 * from the outside world comes through QuadletContext: the info map of the other quadlet files
 * (service and resource names), whether a host path exists (AddDevice=-...), and the target podman
 * version. Below 5.4 the output uses only what that podman's command line has, or fails with an
 * error naming the key and the version it needs. */

#include <stdbool.h>

#include "strv.h"
#include "unitfile.h"

#define QUADLET_PODMAN_VERSION(major, minor) ((unsigned) (major) * 100u + (unsigned) (minor))
#define QUADLET_PODMAN_VERSION_DEFAULT QUADLET_PODMAN_VERSION(5, 4)
#define QUADLET_PODMAN_VERSION_MIN QUADLET_PODMAN_VERSION(4, 3)

typedef enum QuadletUnitType {
        QUADLET_CONTAINER,
        QUADLET_VOLUME,
        QUADLET_NETWORK,
        QUADLET_KUBE,
        QUADLET_IMAGE,
        QUADLET_BUILD,
        QUADLET_POD,
        _QUADLET_TYPE_MAX,
        _QUADLET_TYPE_INVALID = -EINVAL,
} QuadletUnitType;

/* From the file name's extension (".container" …). */
QuadletUnitType quadlet_unit_type_from_filename(const char *filename);
/* Processing order weight (image=1, volume=network=2, build=3, container=kube=4, pod=5). */
int quadlet_unit_type_order(QuadletUnitType t);
/* "Container", "Volume", … */
const char *quadlet_unit_type_group(QuadletUnitType t);

/* One entry of the info map, keyed by the quadlet file name ("basic.volume"). */
typedef struct QuadletUnitInfo {
        char *filename;
        char *service_name;  /* without ".service" */
        char *resource_name; /* volume/network/image/pod/container name; NULL until known */
        Strv containers_to_start; /* pods only: member services with StartWithPod=true */
} QuadletUnitInfo;

typedef struct QuadletUnitsInfo {
        QuadletUnitInfo **items; /* sorted by filename: every conversion looks up several entries */
        size_t n;
} QuadletUnitsInfo;

void quadlet_units_info_done(QuadletUnitsInfo *m);
/* Adds the entry for unit, prefilled the way podman does before any conversion: the service name,
 * and the resource name for containers, builds and pods. -EINVAL for an unsupported extension. */
int quadlet_units_info_add(QuadletUnitsInfo *m, const UnitFile *unit);
QuadletUnitInfo *quadlet_units_info_find(const QuadletUnitsInfo *m, const char *filename);

typedef struct QuadletContext {
        bool is_user;             /* user generator (-user) */
        unsigned podman_version;  /* QUADLET_PODMAN_VERSION(x, y); 0 means the default (5.4) */
        const char *podman;       /* binary written into Exec lines; NULL means "/usr/bin/podman" */
        QuadletUnitsInfo *units;  /* info map of every loaded quadlet file; updated by conversions */
        /* > 0 if the host path exists, 0 if not. NULL means "assume it exists". */
        int (*path_exists)(const char *path, void *userdata);
        void *userdata;
} QuadletContext;

/* Converts one quadlet file (drop-ins already merged) into its service unit. The service's
 * filename is set ("<service>.service"). Warnings (non-fatal) are appended to `warnings` (may be
 * NULL). On a conversion error returns -EINVAL and the upstream message (without the
 * `converting "file": ` prefix) in *ret_error; -ENOMEM on allocation failure. */
int quadlet_convert(const UnitFile *unit, const QuadletContext *ctx, UnitFile **ret_service, Strv *warnings,
                    char **ret_error);

/* The [Install] symlinks podman's generator creates for a service: pairs of (link path relative to
 * the output dir, link target). Links that would leave the output directory (absolute or "../"
 * Alias=) are skipped with a message in warnings (may be NULL), as podman does. */
int quadlet_install_symlinks(const UnitFile *service, Strv *ret_links, Strv *ret_targets, Strv *warnings);

/* Drop-in directory names for a quadlet file, most specific first (podman's GetUnitDropinPaths):
 * "foo-bar@i.container" → foo-bar@i.container.d, foo-bar@.container.d, foo-@.container.d,
 * foo-.container.d, container.d. The caller looks for them in every source directory, in search
 * path order; a *.conf name seen first hides later ones; the survivors merge in name order. */
int quadlet_dropin_dirs(const char *filename, Strv *ret);

/* Sorts units into conversion order by type weight. Among units of equal weight the result is
 * the permutation podman's (unstable but deterministic) Go sort.Slice produces for the same input
 * order, so conversions happen in podman's order. */
void quadlet_sort_units(UnitFile **units, size_t n);

/* Parses "X.Y" or "X.Y.Z" (also "podman version X.Y.Z"). */
int quadlet_parse_podman_version(const char *s, unsigned *ret);
