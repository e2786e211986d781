/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration planner and its rewrites, with the shapes of the founding report
 * (docs/migration-report.md): PostgreSQL and redis at the root bridge gateway, custom localhost/
 * images, a secret file owned by a host service user, pods, a privileged port, and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "migrate-plan.h"
#include "migrate-rewrite.h"

/* ---- fake host ---- */

typedef struct FakeHost {
        const char *const *root_only; /* images only in root's store */
        const char *const *pullable;
        const char *const *volumes;   /* name, mount point, ... */
        const char *const *dirs;      /* existing directories */
        const char *secret_file;      /* a 0400 file owned by dns-query-exporter */
        const char *public_file;      /* a 0644 file */
        const char *migrated;         /* a service with record state "applied" */
} FakeHost;

static bool in_list(const char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static MigrateImageState fake_image(const char *image, void *ud) {
        const FakeHost *h = ud;
        if (in_list(h->root_only, image))
                return MIGRATE_IMAGE_ROOT_ONLY;
        if (in_list(h->pullable, image))
                return MIGRATE_IMAGE_PULLABLE;
        return MIGRATE_IMAGE_ABSENT;
}

static int fake_volume(const char *name, char **ret, void *ud) {
        const FakeHost *h = ud;
        for (const char *const *v = h->volumes; v && *v; v += 2)
                if (streq(v[0], name)) {
                        *ret = strdup(v[1]);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

static int fake_stat(const char *path, MigrateFileStat *ret, void *ud) {
        const FakeHost *h = ud;
        *ret = (MigrateFileStat) {};
        if (in_list(h->dirs, path)) {
                *ret = (MigrateFileStat) { .exists = true, .is_dir = true, .mode = S_IFDIR | 0750, .uid = 999 };
                return 0;
        }
        if (h->secret_file && streq(path, h->secret_file)) {
                *ret = (MigrateFileStat) { .exists = true, .mode = S_IFREG | 0400, .uid = 980, .gid = 980,
                                           .owner_name = strdup("dns-query-exporter") };
                return 0;
        }
        if (h->public_file && streq(path, h->public_file)) {
                *ret = (MigrateFileStat) { .exists = true, .mode = S_IFREG | 0644 };
                return 0;
        }
        return -ENOENT;
}

static const char *fake_record(const char *service, void *ud) {
        const FakeHost *h = ud;
        return h->migrated && streq(h->migrated, service) ? "applied" : NULL;
}

static char *const shift_roots[] = { (char *) "/srv/unroot", (char *) "/var/lib/containers/storage/volumes", NULL };
/* As an admin's /etc/unroot/secret-roots.conf that allows /run/secrets */
static char *const secret_roots[] = { (char *) "/run/secrets", (char *) "/etc/unroot/secrets", NULL };

static MigrateListener listeners[] = {
        { "0.0.0.0", 5432 },   /* PostgreSQL on every address */
        { "10.88.0.1", 5432 },
        { "10.88.0.1", 6379 }, /* redis bound to the bridge only, as in the report */
        { "127.0.0.1", 9100 },
};

static MigrateFacts facts_for(FakeHost *h) {
        return (MigrateFacts) {
                .account = "container-db",
                .account_enrolled = true,
                .account_uid = 990, .account_gid = 990,
                .subuid_start = 100000, .subuid_count = 65536,
                .subgid_start = 200000, .subgid_count = 65536,
                .account_home = "/var/lib/unroot/container-db",
                .podman_major = 4, .podman_minor = 3,
                .unprivileged_port_start = 1024,
                .listeners = listeners, .n_listeners = ELEMENTSOF(listeners),
                .shift_roots = shift_roots,
                .secret_roots = secret_roots,
                .image_state = fake_image,
                .volume_mountpoint = fake_volume,
                .stat_path = fake_stat,
                .record_state = fake_record,
                .ud = h,
        };
}

static void add(MigrateSources *s, const char *name, const char *text) {
        ErrorInfo e = {};
        assert_int_equal(migrate_sources_add(s, name, text, &e), 0);
}

static const MigrateFile *plan_file(const MigratePlan *p, const char *name) {
        for (size_t i = 0; i < p->n_files; i++)
                if (streq(p->files[i].name, name))
                        return &p->files[i];
        fail_msg("no file %s in the plan", name);
        return NULL;
}

static bool has_technique(const MigratePlan *p, const char *service, const char *t) {
        for (size_t i = 0; i < p->n_services; i++)
                if (streq(p->services[i].name, service))
                        return strv_has(&p->services[i].techniques, t);
        return false;
}

static MigratePlan *plan1(const MigrateSources *s, const char *service, const MigrateFacts *f) {
        char *services[] = { (char *) service, NULL };
        MigratePlan *p = NULL;
        ErrorInfo e = {};
        int r = migrate_plan_build(s, services, f, &p, &e);
        if (r < 0)
                fail_msg("plan %s: %s", service, e.message);
        return p;
}

/* ---- rewrites ---- */

static void test_replace_address(void **state) {
        char *s = NULL;

        assert_int_equal(migrate_replace_address("POSTGRES_HOST=10.88.0.1", "10.88.0.1", "h", &s), 1);
        assert_string_equal(s, "POSTGRES_HOST=h");
        free(s);
        assert_int_equal(migrate_replace_address("DB=postgres://u@10.88.0.1:5432/x R=10.88.0.1.", "10.88.0.1", "h", &s), 2);
        assert_string_equal(s, "DB=postgres://u@h:5432/x R=h.");
        free(s);
        /* other hosts that merely contain the address */
        assert_int_equal(migrate_replace_address("A=10.88.0.10 B=110.88.0.1 C=10.88.0.1.5", "10.88.0.1", "h", &s), 0);
        assert_null(s);
        assert_int_equal(migrate_replace_address("", "10.88.0.1", "h", &s), 0);
}

static void test_rewrite_text(void **state) {
        static const char in[] =
                "# metabase, by hand\n"
                "[Unit]\n"
                "Description=x\n"
                "\n"
                "[Container]\n"
                "Image=a\n"
                "Network=podman\n"
                "Environment=MB_DB_HOST=10.88.0.1 \\\n"
                "  OTHER=10.88.0.1\n"
                "; a comment with 10.88.0.1 stays\n"
                "\n"
                "[Install]\n"
                "WantedBy=default.target\n";
        const MigrateEdit edits[] = {
                { .op = MIGRATE_EDIT_SET, .group = "Container", .key = "Network", .value = "slirp4netns:allow_host_loopback=true",
                  .comment = "why" },
                { .op = MIGRATE_EDIT_ADDRESS, .group = "Container", .key = "Environment", .addr = "10.88.0.1",
                  .with = "host.containers.internal" },
                { .op = MIGRATE_EDIT_SET, .group = "Service", .key = "Restart", .value = "always" },
        };
        char *out = NULL;

        assert_int_equal(migrate_rewrite_text(in, edits, ELEMENTSOF(edits), &out), 0);
        assert_string_equal(out,
                "# metabase, by hand\n"
                "[Unit]\n"
                "Description=x\n"
                "\n"
                "[Container]\n"
                "Image=a\n"
                "# unroot migrate: was: Network=podman\n"
                "Environment=MB_DB_HOST=host.containers.internal \\\n"
                "  OTHER=host.containers.internal\n"
                "; a comment with 10.88.0.1 stays\n"
                "# unroot migrate: why\n"
                "Network=slirp4netns:allow_host_loopback=true\n"
                "\n"
                "[Install]\n"
                "WantedBy=default.target\n"
                "\n"
                "[Service]\n"
                "Restart=always\n");
        free(out);

        /* No edits: byte for byte (apart from a final newline). */
        assert_int_equal(migrate_rewrite_text("[Container]\nImage=a\n", NULL, 0, &out), 0);
        assert_string_equal(out, "[Container]\nImage=a\n");
        free(out);
}

/* ---- service shapes of the founding report ---- */

static void test_metabase(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .pullable = (const char *const[]) { "docker.io/metabase/metabase:latest", NULL },
                       .dirs = (const char *const[]) { "/srv/unroot/metabase", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;

        add(&s, "metabase.container",
            "[Unit]\nDescription=Metabase\n\n"
            "[Container]\n"
            "Image=docker.io/metabase/metabase:latest\n"
            "Environment=MB_DB_TYPE=postgres MB_DB_HOST=10.88.0.1 MB_DB_PORT=5432\n"
            "Environment=NOT_THE_GATEWAY=10.88.0.10\n"
            "PublishPort=127.0.0.1:3000:3000\n"
            "Volume=/srv/unroot/metabase:/metabase-data:Z\n"
            "HealthCmd=curl -f http://localhost:3000/api/health\n\n"
            "[Service]\n"
            "ExecStartPre=/usr/bin/pg_isready -h 10.88.0.1 -p 5432\n\n"
            "[Install]\nWantedBy=multi-user.target\n");
        add(&s, "other.container", "[Container]\nImage=x\n");

        p = plan1(&s, "metabase", &f);
        assert_false(p->enroll);
        assert_int_equal(p->n_services, 1);
        assert_false(p->services[0].is_pod);
        assert_int_equal(p->n_files, 1);
        const MigrateFile *mf = plan_file(p, "metabase.container");
        assert_string_equal(mf->root_path, "/etc/containers/systemd/metabase.container");
        assert_string_equal(mf->unit, "metabase.service");
        assert_non_null(strstr(mf->text, "\nNetwork=slirp4netns:allow_host_loopback=true\n"));
        assert_non_null(strstr(mf->text, "MB_DB_HOST=host.containers.internal MB_DB_PORT=5432\n"));
        assert_non_null(strstr(mf->text, "NOT_THE_GATEWAY=10.88.0.10\n"));
        assert_non_null(strstr(mf->text, "ExecStartPre=/usr/bin/pg_isready -h 127.0.0.1 -p 5432\n"));
        assert_null(strstr(mf->text, "Pull=")); /* pullable: copied, but may still be pulled */

        assert_int_equal(p->n_shifts, 1);
        assert_string_equal(p->shifts[0].host_path, "/srv/unroot/metabase");
        assert_string_equal(p->shifts[0].target, "/metabase-data");
        assert_int_equal(p->shifts[0].kind, MIGRATE_SHIFT_BIND);
        assert_int_equal(p->n_images, 1);
        assert_false(p->images[0].pull_never);
        assert_int_equal(p->n_blockers, 0);
        /* Network, one Environment line, ExecStartPre */
        assert_int_equal(p->n_rewrites, 3);
        for (size_t i = 0; i < p->n_rewrites; i++)
                assert_non_null(p->rewrites[i].reason);
        assert_true(has_technique(p, "metabase", MIGRATE_T_HOST_LOOPBACK));
        assert_true(has_technique(p, "metabase", MIGRATE_T_ADDRESS_REWRITE));
        assert_true(has_technique(p, "metabase", MIGRATE_T_HOST_CHECK_LOOPBACK));
        assert_true(has_technique(p, "metabase", MIGRATE_T_OWNERSHIP_SHIFT));
        assert_true(has_technique(p, "metabase", MIGRATE_T_IMAGE_COPY));
        assert_false(has_technique(p, "metabase", MIGRATE_T_PULL_NEVER));
        /* PostgreSQL listens on 0.0.0.0 too: fine. redis is not this service's business... but the
         * gateway was used, so a bridge-only listener is flagged. */
        assert_int_equal(p->host_notes.n, 1);
        assert_non_null(strstr(p->host_notes.v[0], "10.88.0.1:6379 only"));
}

static void test_litellm_redis_on_bridge(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .root_only = (const char *const[]) { "ghcr.io/berriai/litellm:main-latest", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;

        add(&s, "litellm.container",
            "[Container]\nImage=ghcr.io/berriai/litellm:main-latest\n"
            "Environment=DATABASE_URL=postgresql://litellm@10.88.0.1:5432/litellm\n"
            "Environment=REDIS_HOST=10.88.0.1 REDIS_PORT=6379\n"
            "HealthCmd=sh -c 'nc -z 10.88.0.1 6379'\n"
            "Network=bridge\n");
        p = plan1(&s, "litellm", &f);
        const MigrateFile *mf = plan_file(p, "litellm.container");
        assert_non_null(strstr(mf->text, "@host.containers.internal:5432/"));
        assert_non_null(strstr(mf->text, "REDIS_HOST=host.containers.internal "));
        assert_non_null(strstr(mf->text, "HealthCmd=sh -c 'nc -z host.containers.internal 6379'"));
        assert_non_null(strstr(mf->text, "# unroot migrate: was: Network=bridge\n"));
        assert_non_null(strstr(mf->text, "\nPull=never\n"));
        assert_true(has_technique(p, "litellm", MIGRATE_T_PULL_NEVER));
        assert_int_equal(p->services[0].host_changes.n, 1);
        assert_non_null(strstr(p->services[0].host_changes.v[0], "10.88.0.1:6379"));
        assert_null(strstr(p->services[0].host_changes.v[0], "5432"));
}

static void test_technitium_secret_file(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .root_only = (const char *const[]) { "localhost/technitium-dns-exporter:latest", NULL },
                       .secret_file = "/run/secrets/technitium-token",
                       .public_file = "/etc/technitium/exporter.yml" };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;

        f.account = "container-monitor";
        add(&s, "technitium-dns-exporter.container",
            "[Container]\nImage=localhost/technitium-dns-exporter:latest\n"
            "Volume=/run/secrets/technitium-token:/run/secrets/token:ro\n"
            "Volume=/etc/technitium/exporter.yml:/etc/exporter.yml:ro\n"
            "PublishPort=127.0.0.1:9274:9274\n");
        p = plan1(&s, "technitium-dns-exporter", &f);
        assert_int_equal(p->n_secrets, 1);
        assert_int_equal(p->secrets[0].kind, MIGRATE_SECRET_FILE);
        assert_string_equal(p->secrets[0].name, "/run/secrets/technitium-token");
        assert_string_equal(p->secrets[0].owner, "dns-query-exporter");
        assert_string_equal(p->secrets[0].group, "technitium-dns-exporter-secrets");
        assert_true(strlen(p->secrets[0].group) <= 32);
        assert_non_null(strstr(p->secrets[0].how, "container-monitor"));
        assert_int_equal(p->n_shifts, 0); /* files are not shifted */
        const MigrateFile *mf = plan_file(p, "technitium-dns-exporter.container");
        assert_non_null(strstr(mf->text, "\nGroupAdd=keep-groups\n"));
        assert_non_null(strstr(mf->text, "\nPull=never\n"));
        assert_true(has_technique(p, "technitium-dns-exporter", MIGRATE_T_SECRET_GROUP));
        assert_true(has_technique(p, "technitium-dns-exporter", MIGRATE_T_IMAGE_COPY));
        assert_int_equal(p->n_blockers, 0);
        assert_int_equal(p->host_notes.n, 0); /* no gateway use: no listener notes */

        /* Outside the helper's allowed secret roots: blocked in the plan, with the remedy, instead of
         * failing halfway through apply. */
        char *const defaults[] = { (char *) "/etc/unroot/secrets", (char *) "/var/lib", NULL };
        f.secret_roots = defaults;
        migrate_plan_free(p);
        p = plan1(&s, "technitium-dns-exporter", &f);
        assert_int_equal(p->n_secrets, 0);
        assert_int_equal(p->n_blockers, 1);
        assert_string_equal(p->blockers[0].field, "Volume");
        assert_non_null(strstr(p->blockers[0].reason, "/run/secrets/technitium-token"));
        assert_non_null(strstr(p->blockers[0].reason, "not below an allowed root"));
        assert_non_null(strstr(p->blockers[0].choices.v[0], "/etc/unroot/secret-roots.conf"));
}

static void test_vanna_localhost_image(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .root_only = (const char *const[]) { "localhost/vanna:latest", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL, *p2 = NULL;

        add(&s, "vanna.container", "[Container]\nImage=localhost/vanna:latest\nPull=missing\nSecret=vanna-api-key,type=env,target=KEY\n");
        p = plan1(&s, "vanna", &f);
        assert_int_equal(p->n_images, 1);
        assert_true(p->images[0].pull_never);
        const MigrateFile *mf = plan_file(p, "vanna.container");
        assert_non_null(strstr(mf->text, "# unroot migrate: was: Pull=missing\n"));
        assert_non_null(strstr(mf->text, "\nPull=never\n"));
        assert_int_equal(p->n_secrets, 1);
        assert_int_equal(p->secrets[0].kind, MIGRATE_SECRET_PODMAN);
        assert_string_equal(p->secrets[0].name, "vanna-api-key");
        assert_true(has_technique(p, "vanna", MIGRATE_T_SECRET_RECREATE));

        /* The localhost/ image gone from root's store: nothing to copy, nothing to pull. */
        h.root_only = NULL;
        p2 = plan1(&s, "vanna", &f);
        assert_int_equal(p2->n_blockers, 1);
        assert_string_equal(p2->blockers[0].field, "Image");
        assert_non_null(strstr(p2->blockers[0].reason, "localhost/vanna:latest"));
}

static void test_pod(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .pullable = (const char *const[]) { "docker.io/budget/server:1", "docker.io/budget/client:1", NULL },
                       .volumes = (const char *const[]) { "systemd-budget-data",
                                                          "/var/lib/containers/storage/volumes/systemd-budget-data/_data",
                                                          NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;

        add(&s, "budget-board.pod", "[Pod]\nPublishPort=8080:80\n");
        add(&s, "budget-board-server.container",
            "[Container]\nImage=docker.io/budget/server:1\nPod=budget-board.pod\n"
            "Volume=budget-data.volume:/data\nEnvironment=DB=10.88.0.1\n");
        add(&s, "budget-board-client.container",
            "[Container]\nImage=docker.io/budget/client:1\nPod=budget-board.pod\nVolume=budget-data.volume:/data:ro\n");
        add(&s, "budget-data.volume", "[Volume]\n");
        add(&s, "unrelated.container", "[Container]\nImage=x\n");

        p = plan1(&s, "budget-board", &f);
        assert_true(p->services[0].is_pod);
        assert_int_equal(p->n_files, 4);
        assert_int_equal(plan_file(p, "budget-board.pod")->role, MIGRATE_FILE_MAIN);
        assert_int_equal(plan_file(p, "budget-board-server.container")->role, MIGRATE_FILE_MEMBER);
        assert_int_equal(plan_file(p, "budget-board-client.container")->role, MIGRATE_FILE_MEMBER);
        assert_int_equal(plan_file(p, "budget-data.volume")->role, MIGRATE_FILE_REFERENCED);
        assert_string_equal(plan_file(p, "budget-board.pod")->unit, "budget-board-pod.service");
        assert_string_equal(plan_file(p, "budget-data.volume")->unit, "budget-data-volume.service");
        assert_true(strv_has(&p->services[0].units, "budget-board-server.service"));
        assert_true(strv_has(&p->services[0].root_files, "/etc/containers/systemd/budget-data.volume"));
        /* The network is the pod's: set there, never on a member. */
        assert_non_null(strstr(plan_file(p, "budget-board.pod")->text, "\nNetwork=slirp4netns:allow_host_loopback=true\n"));
        assert_null(strstr(plan_file(p, "budget-board-server.container")->text, "Network="));
        assert_non_null(strstr(plan_file(p, "budget-board-server.container")->text, "DB=host.containers.internal"));
        /* One named volume, mounted by both members: shifted once. */
        assert_int_equal(p->n_shifts, 1);
        assert_int_equal(p->shifts[0].kind, MIGRATE_SHIFT_VOLUME);
        assert_string_equal(p->shifts[0].source, "systemd-budget-data");
        assert_int_equal(p->n_images, 2);
        assert_true(has_technique(p, "budget-board", MIGRATE_T_ROOTLESS_POD));
        assert_int_equal(p->n_blockers, 0);

        /* A member alone is not a service. */
        char *member[] = { (char *) "budget-board-server", NULL };
        MigratePlan *q = NULL;
        ErrorInfo e = {};
        assert_int_equal(migrate_plan_build(&s, member, &f, &q, &e), -EINVAL);
        assert_null(q);
        assert_string_equal(e.field, "SERVICE");
        assert_non_null(strstr(e.message, "migrate the pod 'budget-board'"));
}

static void test_privileged_port(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .pullable = (const char *const[]) { "docker.io/speedtest:latest", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL, *p2 = NULL;

        add(&s, "speedtest.container",
            "[Container]\nImage=docker.io/speedtest:latest\nPublishPort=80:80\nPublishPort=127.0.0.1:8443:443\n"
            "PublishPort=[::1]:53:53/udp\nPublishPort=9000\n");
        p = plan1(&s, "speedtest", &f);
        assert_int_equal(p->n_blockers, 2);
        assert_string_equal(p->blockers[0].field, "PublishPort");
        assert_non_null(strstr(p->blockers[0].reason, "host port 80,"));
        assert_int_equal(p->blockers[0].choices.n, 2);
        assert_non_null(strstr(p->blockers[0].choices.v[0], "unprivileged-port-start"));
        assert_non_null(strstr(p->blockers[0].choices.v[0], "ip_unprivileged_port_start=80"));
        assert_non_null(strstr(p->blockers[0].choices.v[1], "port-remap"));
        assert_non_null(strstr(p->blockers[0].choices.v[1], "PublishPort=8080:80"));
        assert_non_null(strstr(p->blockers[1].reason, "host port 53,"));
        /* Never remapped silently: the text keeps the port. */
        assert_non_null(strstr(plan_file(p, "speedtest.container")->text, "\nPublishPort=80:80\n"));

        /* The admin lowered the sysctl: no blocker, the technique and a host note instead. */
        f.unprivileged_port_start = 53;
        p2 = plan1(&s, "speedtest", &f);
        assert_int_equal(p2->n_blockers, 0);
        assert_true(has_technique(p2, "speedtest", MIGRATE_T_UNPRIVILEGED_PORT_START));
        assert_int_equal(p2->host_notes.n, 2);
}

static void test_shared_and_outside(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .dirs = (const char *const[]) { "/opt/data/teable", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL, *p2 = NULL;

        add(&s, "teable.container", "[Container]\nImage=x\nVolume=shared.volume:/a\nVolume=/opt/data/teable:/data\n"
            "Volume=/srv/unroot/missing:/m\n");
        add(&s, "nocobase.container", "[Container]\nImage=y\nVolume=shared.volume:/b\nNetwork=gone.network\n");
        add(&s, "shared.volume", "[Volume]\n");
        p = plan1(&s, "teable", &f);
        assert_int_equal(p->n_blockers, 3);
        assert_string_equal(p->blockers[0].field, "shared.volume");
        assert_non_null(strstr(p->blockers[0].reason, "nocobase.container"));
        assert_non_null(strstr(p->blockers[1].reason, "outside the allowed roots"));
        assert_non_null(strstr(p->blockers[2].reason, "does not exist"));

        /* Both together: the shared volume moves once; nocobase's missing network blocks. */
        char *both[] = { (char *) "teable", (char *) "nocobase", NULL };
        ErrorInfo e = {};
        assert_int_equal(migrate_plan_build(&s, both, &f, &p2, &e), 0);
        size_t n_shared = 0, n_block_shared = 0, n_gone = 0;
        for (size_t i = 0; i < p2->n_files; i++)
                n_shared += streq(p2->files[i].name, "shared.volume");
        for (size_t i = 0; i < p2->n_blockers; i++) {
                n_block_shared += streq(p2->blockers[i].field, "shared.volume");
                n_gone += streq(p2->blockers[i].field, "gone.network");
        }
        assert_int_equal(n_shared, 1);
        assert_int_equal(n_block_shared, 0);
        assert_int_equal(n_gone, 1);
}

static void test_bad_input(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .migrated = "wallabag" };
        MigrateFacts f = facts_for(&h);
        MigratePlan *p = NULL;
        ErrorInfo e = {};

        add(&s, "wallabag.container", "[Container]\nImage=x\n");
        add(&s, "both.container", "[Container]\nImage=x\n");
        add(&s, "both.pod", "[Pod]\n");

        char *unknown[] = { (char *) "nosuch", NULL };
        assert_int_equal(migrate_plan_build(&s, unknown, &f, &p, &e), -ENOENT);
        assert_string_equal(e.field, "SERVICE");
        assert_non_null(strstr(e.message, "'nosuch'"));
        assert_non_null(strstr(e.message, "nosuch.container"));

        e = (ErrorInfo) {};
        char *done[] = { (char *) "wallabag", NULL };
        assert_int_equal(migrate_plan_build(&s, done, &f, &p, &e), -EEXIST);
        assert_string_equal(e.field, "SERVICE");
        assert_non_null(strstr(e.message, "already migrated"));

        static const char *const bad[] = { "a/b", "", "x@y", ".hidden", "web.container", "sp ace", "-opt" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *one[] = { (char *) bad[i], NULL };
                e = (ErrorInfo) {};
                assert_int_equal(migrate_plan_build(&s, one, &f, &p, &e), -EINVAL);
                assert_string_equal(e.field, "SERVICE");
                assert_non_null(strstr(e.message, "SERVICE"));
        }

        e = (ErrorInfo) {};
        char *twice[] = { (char *) "both", NULL };
        assert_int_equal(migrate_plan_build(&s, twice, &f, &p, &e), -EINVAL);
        e = (ErrorInfo) {};
        char *dup[] = { (char *) "wallabag", (char *) "wallabag", NULL };
        h.migrated = NULL;
        assert_int_equal(migrate_plan_build(&s, dup, &f, &p, &e), -EINVAL);
        assert_non_null(strstr(e.message, "twice"));
        e = (ErrorInfo) {};
        f.account = "";
        assert_int_equal(migrate_plan_build(&s, unknown, &f, &p, &e), -EINVAL);
        assert_string_equal(e.field, "ACCOUNT");
        assert_null(p);

        /* A file that does not parse names itself. */
        MigrateSources s2 = {};
        e = (ErrorInfo) {};
        assert_int_equal(migrate_sources_add(&s2, "broken.container", "[Container]\nnot a key\n", &e), -EBADMSG);
        assert_string_equal(e.field, "broken.container");
        migrate_sources_done(&s2);
}

static void test_not_enrolled_and_output(void **state) {
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        FakeHost h = { .pullable = (const char *const[]) { "docker.io/x:1", NULL } };
        MigrateFacts f = facts_for(&h);
        _cleanup_(migrate_plan_freep) MigratePlan *p = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *m;

        f.account_enrolled = false;
        f.podman_major = 5;
        add(&s, "silly-tavern.container", "[Container]\nImage=docker.io/x:1\nContainerName=\"quo\\\"te\"\n");
        p = plan1(&s, "silly-tavern", &f);
        assert_true(p->enroll);
        assert_non_null(strstr(p->files[0].text, "\nNetwork=pasta:--map-gw\n"));

        m = open_memstream(&buf, &len);
        assert_non_null(m);
        migrate_plan_write_json(p, m);
        fclose(m);
        assert_non_null(strstr(buf, "\"account\":\"container-db\",\"enroll\":true,\"id_map\":null,\"ok\":true"));
        assert_non_null(strstr(buf, "\"techniques\":[\"host-loopback\",\"image-copy\"]"));
        assert_non_null(strstr(buf, "quo\\\\\\\"te")); /* the text's backslash and quote escaped */
        free(buf);

        m = open_memstream(&buf, &len);
        migrate_plan_write_text(p, m);
        fclose(m);
        assert_non_null(strstr(buf, " 1. enroll 'container-db'"));
        assert_non_null(strstr(buf, "silly-tavern.container Network: (not set) -> pasta:--map-gw  [host-loopback]"));
        assert_non_null(strstr(buf, "Nothing blocks the move."));
        free(buf);
}

static void test_sources_load(void **state) {
        char tmp[] = "/tmp/test-migrate-XXXXXX";
        char path[256];
        _cleanup_(migrate_sources_done) MigrateSources s = {};
        ErrorInfo e = {};
        FILE *f;

        assert_non_null(mkdtemp(tmp));
        snprintf(path, sizeof path, "%s/etc", tmp);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/etc/containers", tmp);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/etc/containers/systemd", tmp);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/etc/containers/systemd/a.container", tmp);
        f = fopen(path, "w");
        fputs("[Container]\nImage=a\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/etc/containers/systemd/README", tmp);
        f = fopen(path, "w");
        fputs("not a unit\n", f);
        fclose(f);

        assert_int_equal(migrate_sources_load(tmp, &s, &e), 0);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.files[0]->filename, "a.container");
        assert_string_equal(s.texts[0], "[Container]\nImage=a\n");

        snprintf(path, sizeof path, "rm -rf '%s'", tmp);
        assert_int_equal(system(path), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replace_address),
                cmocka_unit_test(test_rewrite_text),
                cmocka_unit_test(test_metabase),
                cmocka_unit_test(test_litellm_redis_on_bridge),
                cmocka_unit_test(test_technitium_secret_file),
                cmocka_unit_test(test_vanna_localhost_image),
                cmocka_unit_test(test_pod),
                cmocka_unit_test(test_privileged_port),
                cmocka_unit_test(test_shared_and_outside),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_not_enrolled_and_output),
                cmocka_unit_test(test_sources_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
