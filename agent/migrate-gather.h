/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The facts a migration plan needs, gathered from the real host: the account, root's image and
 * volume stores (podman as root), TCP listeners (/proc/net/tcp, tcp6), the unprivileged port
 * sysctl, the shift's allowed roots and earlier migration records. Files are read below a root
 * directory; podman is $UNROOT_PODMAN or PODMAN_BINARY. The parsers are pure and tested alone. */

#include <stdbool.h>

#include "agent-account.h"
#include "migrate-plan.h"

/* Listening sockets (state 0A) of a /proc/net/tcp or tcp6 text, appended to *l. */
int migrate_parse_proc_net_tcp(const char *text, bool ipv6, MigrateListener **l, size_t *n);
/* "4.3.1" → 4, 3. */
int migrate_parse_podman_version(const char *v, unsigned *ret_major, unsigned *ret_minor);
/* The names of every image in `podman images --format json` output (each entry's "Names", or its
 * "RepoTags" where an older podman has no "Names"), as a strv. -EINVAL if it is not that shape. */
int migrate_parse_image_names(const char *json, size_t len, char ***ret);
/* Whether image, as written in Image=, is one of names without asking podman: only for a fully
 * qualified reference (registry or localhost first; no digest), with ":latest" added when untagged.
 * false means "not known from the list" (a short name podman resolves through registries.conf, or
 * a spelling podman normalises), never "absent". */
bool migrate_image_listed(char *const *names, const char *image);

typedef struct MigrateRecordState {
        char *service, *state;
} MigrateRecordState;

typedef struct MigrateHost {
        char *root;    /* "" for / */
        const char *podman;
        bool pull_allowed; /* images not under localhost/ may be pulled again: no Pull=never */
        AgentAccount acct;
        char *version;
        char **image_names;  /* root's store, listed once; NULL until asked */
        bool images_listed;
        MigrateListener *listeners;
        size_t n_listeners;
        char **shift_roots;
        char **secret_roots;
        MigrateRecordState *states;
        size_t n_states;
        MigrateFacts facts;
} MigrateHost;

/* Fills h (and h->facts, pointing into h) for moving services to account. root NULL: /.
 * Fails with e naming the field only for what makes a plan impossible (an account that exists but
 * is not an unroot account, a broken shift-roots.conf). */
int migrate_host_gather(const char *root, const char *account, bool pull_allowed, MigrateHost *h, ErrorInfo *e);
void migrate_host_done(MigrateHost *h);

/* Loads root's Quadlet files, gathers the facts and builds the plan. */
int migrate_make_plan(const char *root, char *const *services, const char *account, bool pull_allowed,
                      MigrateSources *src, MigrateHost *host, MigratePlan **ret, ErrorInfo *e);

/* Runs argv (stdin from stdin_fd, or /dev/null if negative; stderr discarded unless keep_stderr),
 * stdout into *ret_out if given (else /dev/null). Returns the exit status (>= 0) or a negative errno. */
int migrate_run(char *const *argv, int stdin_fd, bool keep_stderr, char **ret_out);
