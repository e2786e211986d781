/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Quadlet source discovery: the search path walk, loading of the quadlet files (first basename
 * wins) and drop-in merging, as podman's generator does it (quadlet.md §0). Shared by the
 * unroot-quadlet front end and the agent. No getenv()/getuid(): every input is explicit, and every
 * path is looked up below a root directory prefix (NULL means "/"). Nothing is logged; load errors
 * come back as upstream's messages, and debug/info lines go through an optional callback. */

#include <stdbool.h>
#include <sys/types.h>

#include "strv.h"
#include "unitfile.h"

typedef struct QuadletSourcesOptions {
        const char *root;            /* NULL or "/" = the real root; otherwise prepended to every path */
        bool user;                   /* user generator search path instead of the system one */
        uid_t uid;                   /* for /etc/containers/systemd/users/UID (user mode) */
        const char *unit_dirs;       /* QUADLET_UNIT_DIRS value (":"-separated), overrides the search path */
        const char *xdg_runtime_dir; /* user mode: $XDG_RUNTIME_DIR, may be NULL */
        const char *xdg_config_home; /* user mode: $XDG_CONFIG_HOME, may be NULL */
        const char *home;            /* user mode: $HOME, used when xdg_config_home is unset */
        /* Optional: info messages, and debug messages too if debug is set; without trailing
         * newline. (Debug lines are one per file: not formatting them unasked saves time.) */
        void (*log)(void *userdata, bool debug, const char *message);
        bool debug;
        void *userdata;
} QuadletSourcesOptions;

typedef struct QuadletSources {
        Strv dirs;        /* the search directories, in precedence order (as reported upstream) */
        UnitFile **units; /* loaded, drop-in-merged quadlet files, in discovery order */
        size_t n_units;
        Strv errors;      /* per-file load errors, upstream's wording, in the order they occurred */
        Strv failed;      /* basenames of quadlet files that failed to load (not drop-ins) */
} QuadletSources;

void quadlet_sources_done(QuadletSources *s);
static inline void quadlet_sources_donep(QuadletSources *s) {
        quadlet_sources_done(s);
}
#define _cleanup_quadlet_sources_ _cleanup_(quadlet_sources_donep)

/* Computes the search directories (resolved, subdirectories included) into dirs. */
int quadlet_sources_dirs(const QuadletSourcesOptions *o, Strv *dirs);

/* Computes the directories, loads every quadlet file and merges its drop-ins. Per-file problems
 * are collected in ret->errors and skipped; only -ENOMEM fails. On success *ret owns the result
 * (it is initialized by this call). */
int quadlet_sources_load(const QuadletSourcesOptions *o, QuadletSources *ret);

/* mkdir -p with mode 0755 (used by the unit writers: unroot-quadlet's output dir, the agent's unit
 * dir). Existing directories are fine. */
int quadlet_mkdir_p(const char *path);
