/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The migration plan of `agentctl migrate plan|apply` (issue 5, docs/migrate-contract): which root
 * Quadlet files move to a service account, which data is ownership-shifted, which images and secrets
 * are copied, which lines are rewritten and why, what the admin must change on the host, and what
 * blocks the move. Pure: the root Quadlet files come in parsed, every fact about the host comes
 * through MigrateFacts (filled by migrate-gather.c on a real host, by fakes in the tests). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "strv.h"
#include "unitfile.h"

/* Technique vocabulary of the contract (exact strings, used in record.json and the report). */
#define MIGRATE_T_OWNERSHIP_SHIFT "ownership-shift"
#define MIGRATE_T_IMAGE_COPY "image-copy"
#define MIGRATE_T_PULL_NEVER "pull-never"
#define MIGRATE_T_HOST_LOOPBACK "host-loopback"
#define MIGRATE_T_ADDRESS_REWRITE "address-rewrite"
#define MIGRATE_T_HOST_CHECK_LOOPBACK "host-check-loopback"
#define MIGRATE_T_SECRET_RECREATE "secret-recreate"
#define MIGRATE_T_SECRET_GROUP "secret-group"
#define MIGRATE_T_PORT_REMAP "port-remap"
#define MIGRATE_T_UNPRIVILEGED_PORT_START "unprivileged-port-start"
#define MIGRATE_T_ROOTLESS_POD "rootless-pod"

#define MIGRATE_BRIDGE_GATEWAY_DEFAULT "10.88.0.1"
#define MIGRATE_HOST_ALIAS "host.containers.internal"

typedef enum MigrateImageState {
        MIGRATE_IMAGE_ABSENT,    /* not in root's store */
        MIGRATE_IMAGE_PULLABLE,  /* in root's store, and pulled from a registry (has a repo digest) */
        MIGRATE_IMAGE_ROOT_ONLY, /* in root's store only: localhost/, built or loaded locally */
} MigrateImageState;

typedef struct MigrateListener {
        char addr[64]; /* "10.88.0.1", "0.0.0.0", "127.0.0.1", "::" */
        uint16_t port;
} MigrateListener;

typedef struct MigrateFileStat {
        bool exists, is_dir;
        uint32_t uid, gid, mode;
        char *owner_name; /* NSS name of uid, NULL if none; freed by the planner */
} MigrateFileStat;

/* Everything the planner needs to know about the host. */
typedef struct MigrateFacts {
        const char *account;         /* target account name */
        bool account_enrolled;       /* false: apply enrolls it first; ids below are then unknown */
        uint32_t account_uid, account_gid;
        uint32_t subuid_start, subuid_count, subgid_start, subgid_count;
        const char *account_home;    /* NULL when not enrolled */
        unsigned podman_major, podman_minor; /* 4.3 → slirp4netns, >= 5.0 → pasta */
        uint32_t unprivileged_port_start; /* net.ipv4.ip_unprivileged_port_start */
        const char *bridge_gateway;  /* NULL: 10.88.0.1 */
        const MigrateListener *listeners; /* TCP listeners on the host (/proc/net/tcp, tcp6) */
        size_t n_listeners;
        char *const *shift_roots;    /* allowed roots of the helper's shift (NULL-terminated) */
        char *const *secret_roots;   /* allowed roots of the helper's secret-group operation */

        /* Lookups; ud is passed back. image: the name as the unit says it. */
        MigrateImageState (*image_state)(const char *image, void *ud);
        /* Mount point of a named volume in root's store, or -ENOENT. */
        int (*volume_mountpoint)(const char *volume, char **ret, void *ud);
        /* lstat() of a host path (not following symlinks). -ENOENT when absent. */
        int (*stat_path)(const char *path, MigrateFileStat *ret, void *ud);
        /* State of an earlier migration of service (record.json "state"), NULL when none. */
        const char *(*record_state)(const char *service, void *ud);
        void *ud;
} MigrateFacts;

typedef enum MigrateFileRole {
        MIGRATE_FILE_MAIN,       /* the service's .container or .pod */
        MIGRATE_FILE_MEMBER,     /* a .container of a pod */
        MIGRATE_FILE_REFERENCED, /* .volume, .network, .image the service uses */
} MigrateFileRole;

typedef struct MigrateFile {
        char *service;
        char *name;       /* "metabase.container" */
        char *root_path;  /* "/etc/containers/systemd/metabase.container" (without the root prefix) */
        char *unit;       /* the unit the account's agent generates: "metabase.service" */
        MigrateFileRole role;
        char *text;       /* rewritten Quadlet text to install into ~/.config/containers/systemd */
} MigrateFile;

typedef enum MigrateShiftKind {
        MIGRATE_SHIFT_BIND,   /* a host directory bind-mounted into the container: shifted in place */
        MIGRATE_SHIFT_VOLUME, /* a named volume in root's store: moved into the account's store, shifted */
} MigrateShiftKind;

typedef struct MigrateShift {
        char *service;
        char *file;        /* the unit file whose Volume= names it */
        MigrateShiftKind kind;
        char *source;      /* host path, or the volume's name */
        char *host_path;   /* what the helper shifts now (volume: root store mount point) */
        char *target;      /* path inside the container */
} MigrateShift;

typedef struct MigrateImage {
        char *service;
        char *image;
        bool pull_never;
        char *reason;
} MigrateImage;

typedef enum MigrateSecretKind {
        MIGRATE_SECRET_PODMAN, /* Secret=: recreated in the account's store */
        MIGRATE_SECRET_FILE,   /* a bind-mounted file owned by a host service user: secret group */
} MigrateSecretKind;

typedef struct MigrateSecret {
        char *service;
        MigrateSecretKind kind;
        char *name;   /* podman secret name, or the host file */
        char *owner;  /* file: its owner (user name) */
        char *group;  /* file: the secret group */
        char *how;
} MigrateSecret;

typedef struct MigrateRewrite {
        char *service;
        char *file;
        char *key;
        char *before; /* NULL: line added */
        char *after;  /* NULL: line removed */
        char *technique;
        char *reason;
} MigrateRewrite;

typedef struct MigrateBlocker {
        char *service;
        char *field;  /* "PublishPort" etc. */
        char *reason;
        Strv choices; /* what the admin can do (each names its technique) */
} MigrateBlocker;

typedef struct MigrateService {
        char *name;
        bool is_pod;
        Strv units;      /* generated user units */
        Strv root_files; /* paths below root (without the root prefix) */
        Strv techniques;
        Strv host_changes;
} MigrateService;

typedef struct MigratePlan {
        char *account;
        bool enroll;
        uint32_t account_uid, subuid_start, subgid_start; /* id map; 0 when not enrolled yet */
        MigrateService *services;
        size_t n_services;
        MigrateFile *files;
        size_t n_files;
        MigrateShift *shifts;
        size_t n_shifts;
        MigrateImage *images;
        size_t n_images;
        MigrateSecret *secrets;
        size_t n_secrets;
        MigrateRewrite *rewrites;
        size_t n_rewrites;
        Strv host_notes;
        MigrateBlocker *blockers;
        size_t n_blockers;
        bool oom;
} MigratePlan;

void migrate_plan_free(MigratePlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(MigratePlan *, migrate_plan_free);

/* The root Quadlet files, as read from <root>/etc/containers/systemd (files[i]->filename set). */
typedef struct MigrateSources {
        UnitFile **files;
        char **texts; /* raw text of files[i] (rewrites keep comments and layout) */
        size_t n;
} MigrateSources;
void migrate_sources_done(MigrateSources *s);
/* Adds one file (takes a copy of text; parse errors name the file). */
int migrate_sources_add(MigrateSources *s, const char *name, const char *text, ErrorInfo *e);
/* Reads every *.container/.pod/.volume/.network/.image of <root>/etc/containers/systemd. */
int migrate_sources_load(const char *root, MigrateSources *s, ErrorInfo *e);

/* A service name as SERVICE accepts it (a unit name prefix, no template, no path). */
int migrate_service_name_check(const char *name, ErrorInfo *e);

/* Builds the plan for moving services to facts->account. Bad input (unknown service, a service
 * already migrated, an invalid name) fails with -EINVAL/-ENOENT/-EEXIST and e naming the field;
 * what blocks an otherwise valid move is in plan->blockers, not an error. */
int migrate_plan_build(const MigrateSources *src, char *const *services, const MigrateFacts *facts,
                       MigratePlan **ret, ErrorInfo *e);

/* The unit the translator generates for a Quadlet file name ("x.pod" → "x-pod.service"). */
char *migrate_unit_name(const UnitFile *f);

/* Output: one JSON object, and the human text (every step, numbered). */
void migrate_plan_write_json(const MigratePlan *p, FILE *f);
void migrate_plan_write_text(const MigratePlan *p, FILE *f);
