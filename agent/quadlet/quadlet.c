/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "quadlet.h"

/* ---- unit types ---- */

static const struct {
        const char *ext;
        const char *group;
        const char *xgroup;
        const char *suffix; /* service name suffix */
        int order;
} unit_types[_QUADLET_TYPE_MAX] = {
        [QUADLET_CONTAINER] = { ".container", "Container", "X-Container", "", 4 },
        [QUADLET_VOLUME] = { ".volume", "Volume", "X-Volume", "-volume", 2 },
        [QUADLET_NETWORK] = { ".network", "Network", "X-Network", "-network", 2 },
        [QUADLET_KUBE] = { ".kube", "Kube", "X-Kube", "", 4 },
        [QUADLET_IMAGE] = { ".image", "Image", "X-Image", "-image", 1 },
        [QUADLET_BUILD] = { ".build", "Build", "X-Build", "-build", 3 },
        [QUADLET_POD] = { ".pod", "Pod", "X-Pod", "-pod", 5 },
};

QuadletUnitType quadlet_unit_type_from_filename(const char *filename) {
        const char *dot = strrchr(filename, '.');

        if (!dot)
                return _QUADLET_TYPE_INVALID;
        for (int t = 0; t < _QUADLET_TYPE_MAX; t++)
                if (streq(dot, unit_types[t].ext))
                        return (QuadletUnitType) t;
        return _QUADLET_TYPE_INVALID;
}

int quadlet_unit_type_order(QuadletUnitType t) {
        return t >= 0 && t < _QUADLET_TYPE_MAX ? unit_types[t].order : 0;
}

const char *quadlet_unit_type_group(QuadletUnitType t) {
        return t >= 0 && t < _QUADLET_TYPE_MAX ? unit_types[t].group : NULL;
}

/* Supported keys per group, podman 5.4.2 (newer keys are unknown keys, exactly as 5.4.2 says). */
static const char *const container_keys[] = {
        "AddCapability", "AddDevice", "AddHost", "Annotation", "AutoUpdate", "CgroupsMode", "ContainerName",
        "ContainersConfModule", "DNS", "DNSOption", "DNSSearch", "DropCapability", "Environment",
        "EnvironmentFile", "EnvironmentHost", "Entrypoint", "Exec", "ExposeHostPort", "GIDMap", "GlobalArgs",
        "Group", "GroupAdd", "HealthCmd", "HealthInterval", "HealthOnFailure", "HealthLogDestination",
        "HealthMaxLogCount", "HealthMaxLogSize", "HealthRetries", "HealthStartPeriod", "HealthStartupCmd",
        "HealthStartupInterval", "HealthStartupRetries", "HealthStartupSuccess", "HealthStartupTimeout",
        "HealthTimeout", "HostName", "IP6", "IP", "Image", "Label", "LogDriver", "LogOpt", "Mask", "Mount",
        "Network", "NetworkAlias", "NoNewPrivileges", "Notify", "PidsLimit", "Pod", "PodmanArgs",
        "PublishPort", "Pull", "ReadOnly", "ReadOnlyTmpfs", "RemapGid", "RemapUid", "RemapUidSize",
        "RemapUsers", "Rootfs", "RunInit", "SeccompProfile", "Secret", "SecurityLabelDisable",
        "SecurityLabelFileType", "SecurityLabelLevel", "SecurityLabelNested", "SecurityLabelType",
        "ServiceName", "ShmSize", "StopSignal", "StartWithPod", "StopTimeout", "SubGIDMap", "SubUIDMap",
        "Sysctl", "Timezone", "Tmpfs", "UIDMap", "Ulimit", "Unmask", "User", "UserNS", "VolatileTmp", "Volume",
        "WorkingDir", NULL,
};
static const char *const volume_keys[] = {
        "ContainersConfModule", "Copy", "Device", "Driver", "GlobalArgs", "Group", "Image", "Label", "Options",
        "PodmanArgs", "ServiceName", "Type", "User", "VolumeName", NULL,
};
static const char *const network_keys[] = {
        "Label", "DNS", "ContainersConfModule", "GlobalArgs", "DisableDNS", "Driver", "Gateway", "IPAMDriver",
        "IPRange", "IPv6", "Internal", "NetworkName", "Options", "ServiceName", "Subnet", "PodmanArgs", NULL,
};
static const char *const kube_keys[] = {
        "AutoUpdate", "ConfigMap", "ContainersConfModule", "ExitCodePropagation", "GlobalArgs", "KubeDownForce",
        "LogDriver", "LogOpt", "Network", "PodmanArgs", "PublishPort", "RemapGid", "RemapUid", "RemapUidSize",
        "RemapUsers", "ServiceName", "SetWorkingDirectory", "UserNS", "Yaml", NULL,
};
static const char *const image_keys[] = {
        "AllTags", "Arch", "AuthFile", "CertDir", "ContainersConfModule", "Creds", "DecryptionKey", "GlobalArgs",
        "Image", "ImageTag", "OS", "PodmanArgs", "ServiceName", "TLSVerify", "Variant", NULL,
};
static const char *const build_keys[] = {
        "Annotation", "Arch", "AuthFile", "ContainersConfModule", "DNS", "DNSOption", "DNSSearch", "Environment",
        "File", "ForceRM", "GlobalArgs", "GroupAdd", "ImageTag", "Label", "Network", "PodmanArgs", "Pull",
        "Secret", "ServiceName", "SetWorkingDirectory", "Target", "TLSVerify", "Variant", "Volume", NULL,
};
static const char *const pod_keys[] = {
        "AddHost", "ContainersConfModule", "DNS", "DNSOption", "DNSSearch", "GIDMap", "GlobalArgs", "IP", "IP6",
        "Network", "NetworkAlias", "PodName", "PodmanArgs", "PublishPort", "RemapGid", "RemapUid",
        "RemapUidSize", "RemapUsers", "ServiceName", "ShmSize", "SubGIDMap", "SubUIDMap", "UIDMap", "UserNS",
        "Volume", NULL,
};
static const char *const quadlet_keys[] = { "DefaultDependencies", NULL };

static const char *const *const group_keys[_QUADLET_TYPE_MAX] = {
        [QUADLET_CONTAINER] = container_keys, [QUADLET_VOLUME] = volume_keys, [QUADLET_NETWORK] = network_keys,
        [QUADLET_KUBE] = kube_keys,           [QUADLET_IMAGE] = image_keys,   [QUADLET_BUILD] = build_keys,
        [QUADLET_POD] = pod_keys,
};

static bool key_in(const char *const *keys, const char *key) {
        for (; *keys; keys++)
                if (streq_quick(*keys, key))
                        return true;
        return false;
}

/* ---- conversion state ---- */

typedef struct Conv {
        const UnitFile *unit;
        const QuadletContext *ctx;
        QuadletUnitType type;
        const char *group;
        UnitFile *service;
        QuadletUnitInfo *info;
        Strv *warnings;
        char **ret_error;
        unsigned version;
} Conv;

static int fail(Conv *c, const char *fmt, ...) _printf_(2, 3);
static int fail(Conv *c, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (!m)
                return -ENOMEM;
        if (c->ret_error) {
                free(*c->ret_error);
                *c->ret_error = m;
        } else
                free(m);
        return -EINVAL;
}

/* Fails when the target podman lacks a flag this unit needs. `what` names the key (and value). */
static int need_version(Conv *c, unsigned need, const char *what) {
        if (c->version >= need)
                return 0;
        return fail(c, "%s in [%s] needs podman %u.%u or newer, but the target is podman %u.%u", what, c->group,
                    need / 100, need % 100, c->version / 100, c->version % 100);
}

static void warn(Conv *c, const char *fmt, ...) _printf_(2, 3);
static void warn(Conv *c, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        if (!c->warnings)
                return;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        strv_consume(c->warnings, m);
}

static const char *podman_binary(const Conv *c) {
        return c->ctx->podman ?: "/usr/bin/podman";
}

static char *lookup(Conv *c, const char *key) {
        return unit_file_lookup(c->unit, c->group, key);
}

static bool nonempty(const char *s) {
        return s && s[0];
}

/* podman [--module=X]... [GlobalArgs...] */
static int base_command(Conv *c, Strv *cmd) {
        _cleanup_strv_ Strv mods = {}, globals = {};

        strv_add(cmd, podman_binary(c));
        unit_file_lookup_all(c->unit, c->group, "ContainersConfModule", &mods);
        if (mods.n > 0) {
                int r = need_version(c, QUADLET_PODMAN_VERSION(4, 7), "ContainersConfModule");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < mods.n; i++)
                strv_addf(cmd, "--module=%s", mods.v[i]);
        unit_file_lookup_all_args(c->unit, c->group, "GlobalArgs", &globals);
        strv_extend(cmd, &globals);
        return strv_error(cmd) ?: strv_error(&mods) ?: strv_error(&globals);
}

typedef struct FlagKey {
        const char *key;
        const char *flag;
} FlagKey;

static void add_strings(Conv *c, const FlagKey *keys, size_t n, Strv *cmd) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = lookup(c, keys[i].key);
                if (nonempty(v)) {
                        strv_add(cmd, keys[i].flag);
                        strv_add(cmd, v);
                }
        }
}

static void add_all_strings(Conv *c, const FlagKey *keys, size_t n, Strv *cmd) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_ Strv all = {};
                unit_file_lookup_all(c->unit, c->group, keys[i].key, &all);
                for (size_t j = 0; j < all.n; j++) {
                        strv_add(cmd, keys[i].flag);
                        strv_add(cmd, all.v[j]);
                }
                if (all.oom)
                        cmd->oom = true;
        }
}

static void add_bool_flag(Strv *cmd, const char *flag, bool v) {
        if (v)
                strv_add(cmd, flag);
        else
                strv_addf(cmd, "%s=false", flag);
}

static void add_booleans(Conv *c, const FlagKey *keys, size_t n, Strv *cmd) {
        for (size_t i = 0; i < n; i++) {
                int r = unit_file_lookup_boolean(c->unit, c->group, keys[i].key);
                if (r >= 0)
                        add_bool_flag(cmd, keys[i].flag, r > 0);
        }
}

static void add_keyvals(Conv *c, const FlagKey *keys, size_t n, Strv *cmd) {
        for (size_t i = 0; i < n; i++) {
                KeyValList l = {};
                _cleanup_strv_ Strv w = {};

                unit_file_lookup_all_keyval(c->unit, c->group, keys[i].key, &l, &w);
                for (size_t j = 0; j < l.n; j++) {
                        /* podman 5.4.2 drops words without '=' */
                        if (!l.items[j].value)
                                continue;
                        strv_add(cmd, keys[i].flag);
                        strv_addf(cmd, "%s=%s", l.items[j].key, l.items[j].value);
                }
                for (size_t j = 0; j < w.n; j++)
                        warn(c, "%s", w.v[j]);
                if (l.oom || w.oom)
                        cmd->oom = true;
                keyval_list_done(&l);
        }
}

static void add_podman_args(Conv *c, Strv *cmd) {
        _cleanup_strv_ Strv a = {};

        unit_file_lookup_all_args(c->unit, c->group, "PodmanArgs", &a);
        strv_extend(cmd, &a);
}

static void add_publish_ports(Conv *c, Strv *cmd) {
        static const FlagKey k[] = { { "PublishPort", "--publish" } };
        add_all_strings(c, k, 1, cmd);
}

static void add_log_driver(Conv *c, Strv *cmd) {
        _cleanup_free_ char *v = lookup(c, "LogDriver");
        _cleanup_strv_ Strv opts = {};

        if (v) {
                strv_add(cmd, "--log-driver");
                strv_add(cmd, v);
        }
        unit_file_lookup_all_strv(c->unit, c->group, "LogOpt", &opts);
        for (size_t i = 0; i < opts.n; i++) {
                strv_add(cmd, "--log-opt");
                strv_add(cmd, opts.v[i]);
        }
}

/* ---- paths ---- */

/* Go's path.Clean. */
static char *path_clean(const char *p) {
        _cleanup_strv_ Strv parts = {};
        _cleanup_buf_ Buf b = {};
        bool rooted = p[0] == '/';
        const char *s = p;

        while (*s) {
                const char *e = strchrnul(s, '/');
                size_t n = e - s;
                if (n == 0 || (n == 1 && s[0] == '.'))
                        ;
                else if (n == 2 && s[0] == '.' && s[1] == '.') {
                        if (parts.n > 0 && !streq(parts.v[parts.n - 1], "..")) {
                                free(parts.v[--parts.n]);
                                parts.v[parts.n] = NULL;
                        } else if (!rooted)
                                strv_add(&parts, "..");
                } else
                        strv_addn(&parts, s, n);
                s = *e ? e + 1 : e;
        }
        if (rooted)
                buf_putc(&b, '/');
        for (size_t i = 0; i < parts.n; i++) {
                if (i > 0)
                        buf_putc(&b, '/');
                buf_puts(&b, parts.v[i]);
        }
        if (b.n == 0)
                buf_putc(&b, '.');
        if (parts.oom)
                return NULL;
        return buf_steal(&b);
}

static char *dirname_of(const char *p) {
        const char *s = strrchr(p, '/');
        _cleanup_free_ char *d = NULL;

        if (!s)
                return strdup(".");
        d = strndup(p, s - p);
        if (!d)
                return NULL;
        if (!d[0])
                return strdup("/");
        return path_clean(d);
}

static bool starts_with_specifier(const char *p) {
        return p[0] == '%' && p[1] != '%';
}

/* Relative paths are resolved against the quadlet file's directory, unless they start with a
 * systemd specifier. */
static char *absolute_path(Conv *c, const char *p) {
        _cleanup_free_ char *d = NULL, *j = NULL;

        if (starts_with_specifier(p) || p[0] == '/' || !c->unit->path)
                return strdup(p);
        d = dirname_of(c->unit->path);
        if (!d)
                return NULL;
        j = strdup_printf("%s/%s", d, p);
        if (!j)
                return NULL;
        return path_clean(j);
}

/* ---- shared handlers ---- */

static int handle_image_source(Conv *c, const char *image, char **ret) {
        if (endswith(image, ".build") || endswith(image, ".image")) {
                QuadletUnitInfo *i = quadlet_units_info_find(c->ctx->units, image);
                _cleanup_free_ char *svc = NULL;

                if (!i)
                        return fail(c, "requested Quadlet image %s was not found", image);
                svc = strdup_printf("%s.service", i->service_name);
                if (!svc)
                        return -ENOMEM;
                unit_file_add(c->service, "Unit", "Requires", svc);
                unit_file_add(c->service, "Unit", "After", svc);
                *ret = strdup(strempty(i->resource_name));
        } else
                *ret = strdup(image);
        return *ret ? 0 : -ENOMEM;
}

static int handle_storage_source(Conv *c, const char *source, bool check_image, char **ret) {
        _cleanup_free_ char *s = strdup(source);

        if (!s)
                return -ENOMEM;
        if (s[0] == '.') {
                char *a = absolute_path(c, s);
                if (!a)
                        return -ENOMEM;
                free(s);
                s = a;
        }
        if (s[0] == '/')
                unit_file_add(c->service, "Unit", "RequiresMountsFor", s);
        else if (endswith(s, ".volume") || (check_image && endswith(s, ".image"))) {
                QuadletUnitInfo *i = quadlet_units_info_find(c->ctx->units, s);
                _cleanup_free_ char *svc = NULL;

                if (!i)
                        return fail(c, "requested Quadlet source %s was not found", s);
                svc = strdup_printf("%s.service", i->service_name);
                if (!svc)
                        return -ENOMEM;
                unit_file_add(c->service, "Unit", "Requires", svc);
                unit_file_add(c->service, "Unit", "After", svc);
                free(s);
                s = strdup(strempty(i->resource_name));
                if (!s)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int add_volumes(Conv *c, Strv *cmd) {
        _cleanup_strv_ Strv vols = {};

        unit_file_lookup_all(c->unit, c->group, "Volume", &vols);
        for (size_t i = 0; i < vols.n; i++) {
                _cleanup_free_ char *source = NULL, *dest = NULL, *opts = NULL;
                const char *v = vols.v[i], *c1 = strchr(v, ':');
                int r;

                if (c1) {
                        const char *c2 = strchr(c1 + 1, ':');
                        source = strndup(v, c1 - v);
                        dest = c2 ? strndup(c1 + 1, c2 - c1 - 1) : strdup(c1 + 1);
                        opts = c2 ? strdup(c2) : strdup("");
                } else {
                        source = strdup("");
                        dest = strdup(v);
                        opts = strdup("");
                }
                if (!source || !dest || !opts)
                        return -ENOMEM;
                if (source[0]) {
                        char *s = NULL;
                        r = handle_storage_source(c, source, false, &s);
                        if (r < 0)
                                return r;
                        free(source);
                        source = s;
                }
                strv_add(cmd, "-v");
                if (!source[0])
                        strv_add(cmd, dest);
                else
                        strv_addf(cmd, "%s:%s%s", source, dest, opts);
        }
        return strv_error(&vols);
}

static int add_networks(Conv *c, Strv *cmd) {
        _cleanup_strv_ Strv nets = {};

        unit_file_lookup_all(c->unit, c->group, "Network", &nets);
        for (size_t i = 0; i < nets.n; i++) {
                _cleanup_free_ char *name = NULL, *net = NULL;
                const char *v = nets.v[i], *colon = strchr(v, ':');
                bool is_net, is_ctr;

                name = colon ? strndup(v, colon - v) : strdup(v);
                if (!name)
                        return -ENOMEM;
                is_net = endswith(name, ".network");
                is_ctr = endswith(name, ".container");
                if (is_net || is_ctr) {
                        QuadletUnitInfo *u = quadlet_units_info_find(c->ctx->units, name);
                        _cleanup_free_ char *svc = NULL;

                        if (!u)
                                return fail(c, "requested Quadlet unit %s was not found", name);
                        if (!nonempty(u->resource_name))
                                return fail(c, "cannot get the resource name of %s", name);
                        svc = strdup_printf("%s.service", u->service_name);
                        if (!svc)
                                return -ENOMEM;
                        unit_file_add(c->service, "Unit", "Requires", svc);
                        unit_file_add(c->service, "Unit", "After", svc);
                        if (colon) {
                                if (is_ctr)
                                        return fail(c, "extra options are not supported when joining another container's network");
                                net = strdup_printf("%s:%s", u->resource_name, colon + 1);
                        } else if (is_ctr)
                                net = strdup_printf("container:%s", u->resource_name);
                        else
                                net = strdup(u->resource_name);
                } else
                        net = strdup(v);
                if (!net)
                        return -ENOMEM;
                strv_add(cmd, "--network");
                strv_consume(cmd, TAKE_PTR(net));
        }
        return strv_error(&nets);
}

static int handle_user_remap(Conv *c, Strv *cmd, bool support_manual) {
        _cleanup_strv_ Strv uids = {}, gids = {};
        _cleanup_free_ char *remap = NULL;
        const char *raw;

        unit_file_lookup_all_strv(c->unit, c->group, "RemapUid", &uids);
        unit_file_lookup_all_strv(c->unit, c->group, "RemapGid", &gids);
        raw = unit_file_lookup_last_raw(c->unit, c->group, "RemapUsers");
        remap = strdup(strempty(raw));
        if (!remap)
                return -ENOMEM;

        if (!remap[0]) {
                if (uids.n > 0)
                        return fail(c, "UidMap set without RemapUsers");
                if (gids.n > 0)
                        return fail(c, "GidMap set without RemapUsers");
        } else if (streq(remap, "manual")) {
                if (!support_manual)
                        return fail(c, "RemapUsers=manual is not supported");
                for (size_t i = 0; i < uids.n; i++) {
                        strv_add(cmd, "--uidmap");
                        strv_add(cmd, uids.v[i]);
                }
                for (size_t i = 0; i < gids.n; i++) {
                        strv_add(cmd, "--gidmap");
                        strv_add(cmd, gids.v[i]);
                }
        } else if (streq(remap, "auto")) {
                _cleanup_buf_ Buf b = {};
                uint32_t size;
                bool first = true;

                buf_puts(&b, "auto");
                for (size_t i = 0; i < uids.n; i++) {
                        buf_printf(&b, "%suidmapping=%s", first ? ":" : ",", uids.v[i]);
                        first = false;
                }
                for (size_t i = 0; i < gids.n; i++) {
                        buf_printf(&b, "%sgidmapping=%s", first ? ":" : ",", gids.v[i]);
                        first = false;
                }
                size = unit_file_lookup_uint32(c->unit, c->group, "RemapUidSize", 0);
                if (size > 0)
                        buf_printf(&b, "%ssize=%u", first ? ":" : ",", size);
                strv_add(cmd, "--userns");
                strv_consume(cmd, buf_steal(&b));
        } else if (streq(remap, "keep-id")) {
                _cleanup_buf_ Buf b = {};
                bool first = true;

                buf_puts(&b, "keep-id");
                if (uids.n > 0) {
                        if (uids.n > 1)
                                return fail(c, "RemapUsers=keep-id supports only a single value for UID mapping");
                        buf_printf(&b, ":uid=%s", uids.v[0]);
                        first = false;
                }
                if (gids.n > 0) {
                        if (gids.n > 1)
                                return fail(c, "RemapUsers=keep-id supports only a single value for GID mapping");
                        buf_printf(&b, "%sgid=%s", first ? ":" : ",", gids.v[0]);
                }
                strv_add(cmd, "--userns");
                strv_consume(cmd, buf_steal(&b));
        } else
                return fail(c, "unsupported RemapUsers option '%s'", remap);

        return strv_error(&uids) ?: strv_error(&gids);
}

static int handle_user_mappings(Conv *c, Strv *cmd, bool support_manual) {
        _cleanup_free_ char *userns = lookup(c, "UserNS"), *subuid = lookup(c, "SubUIDMap"),
                            *subgid = lookup(c, "SubGIDMap");
        _cleanup_strv_ Strv uidmaps = {}, gidmaps = {};
        bool defined = false;

        if (nonempty(userns)) {
                strv_add(cmd, "--userns");
                strv_add(cmd, userns);
                defined = true;
        }
        unit_file_lookup_all_strv(c->unit, c->group, "UIDMap", &uidmaps);
        for (size_t i = 0; i < uidmaps.n; i++) {
                strv_add(cmd, "--uidmap");
                strv_add(cmd, uidmaps.v[i]);
                defined = true;
        }
        unit_file_lookup_all_strv(c->unit, c->group, "GIDMap", &gidmaps);
        for (size_t i = 0; i < gidmaps.n; i++) {
                strv_add(cmd, "--gidmap");
                strv_add(cmd, gidmaps.v[i]);
                defined = true;
        }
        if (nonempty(subuid)) {
                strv_add(cmd, "--subuidname");
                strv_add(cmd, subuid);
                defined = true;
        }
        if (nonempty(subgid)) {
                strv_add(cmd, "--subgidname");
                strv_add(cmd, subgid);
                defined = true;
        }
        if (defined) {
                if (unit_file_has_key(c->unit, c->group, "RemapUid") ||
                    unit_file_has_key(c->unit, c->group, "RemapGid") ||
                    unit_file_has_key(c->unit, c->group, "RemapUsers"))
                        return fail(c, "deprecated Remap keys are set along with explicit mapping keys");
                return strv_error(&uidmaps) ?: strv_error(&gidmaps);
        }
        return handle_user_remap(c, cmd, support_manual);
}

static int handle_set_working_directory(Conv *c, char **ret_context) {
        _cleanup_free_ char *swd = lookup(c, "SetWorkingDirectory"), *rel = NULL, *context = NULL;

        *ret_context = NULL;
        if (!nonempty(swd))
                return 0;

        if (strcasecmp(swd, "yaml") == 0) {
                if (c->type != QUADLET_KUBE)
                        return fail(c, "SetWorkingDirectory=%s is only supported in .kube files", swd);
                rel = lookup(c, "Yaml");
                if (!rel)
                        return fail(c, "no Yaml key specified");
        } else if (strcasecmp(swd, "file") == 0) {
                if (c->type != QUADLET_BUILD)
                        return fail(c, "SetWorkingDirectory=%s is only supported in .build files", swd);
                rel = lookup(c, "File");
                if (!rel)
                        return fail(c, "no File key specified");
        } else if (strcasecmp(swd, "unit") == 0) {
                rel = c->unit->path ? strdup(c->unit->path) : NULL;
        } else {
                if (c->type != QUADLET_BUILD)
                        return fail(c, "unsupported value for %s: %s ", "WorkingDirectory", swd);
                context = strdup(swd);
                if (!context)
                        return -ENOMEM;
                if (context[0] != '/' && c->unit->path)
                        rel = strdup(c->unit->path);
        }

        if (nonempty(rel) && !(context && (startswith(context, "http://") || startswith(context, "https://") ||
                                           startswith(context, "git://") || startswith(context, "github.com/")))) {
                _cleanup_free_ char *wd = unit_file_lookup(c->unit, "Service", "WorkingDirectory"), *abs = NULL,
                                    *dir = NULL;
                if (nonempty(wd))
                        return 0;
                abs = absolute_path(c, rel);
                if (!abs)
                        return -ENOMEM;
                dir = dirname_of(abs);
                if (!dir)
                        return -ENOMEM;
                unit_file_add(c->service, "Service", "WorkingDirectory", dir);
        }
        *ret_context = TAKE_PTR(context);
        return 0;
}

/* ---- [Unit]/[Service] common setup ---- */

static int check_unknown_keys(Conv *c, const char *group, const char *const *keys) {
        _cleanup_strv_ Strv k = {};
        int r;

        r = unit_file_list_keys(c->unit, group, &k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k.n; i++)
                if (!key_in(keys, k.v[i]))
                        return fail(c, "unsupported key '%s' in group '%s' in %s", k.v[i], group,
                                    strempty(c->unit->path));
        return 0;
}

static int init_service(Conv *c) {
        _cleanup_free_ char *fn = NULL;
        int r;

        r = check_unknown_keys(c, c->group, group_keys[c->type]);
        if (r < 0)
                return r;
        r = check_unknown_keys(c, "Quadlet", quadlet_keys);
        if (r < 0)
                return r;

        /* Deliberate deviation: podman joins ServiceName= onto the output directory as is, so
         * "ServiceName=../x" writes outside it. A unit name never contains '/'. */
        if (strchr(c->info->service_name, '/') || !c->info->service_name[0])
                return fail(c, "invalid ServiceName '%s': a unit name must be non-empty and contain no '/'",
                            c->info->service_name);

        c->service = unit_file_dup(c->unit);
        if (!c->service)
                return -ENOMEM;
        fn = strdup_printf("%s.service", c->info->service_name);
        if (!fn)
                return -ENOMEM;
        free(c->service->filename);
        c->service->filename = TAKE_PTR(fn);

        if (unit_file_lookup_boolean_default(c->service, "Quadlet", "DefaultDependencies", true)) {
                /* A user manager cannot wait for the system's network-online.target, so podman
                 * 5.3+ points user units at its helper unit. Older podman does not ship that unit;
                 * unroot ships its own (systemd/unroot-wait-online.service.in) for them, with the
                 * same Wants=/After= shape and the same DefaultDependencies=false opt-out. */
                const char *net = !c->ctx->is_user                                 ? "network-online.target"
                                  : c->version >= QUADLET_PODMAN_VERSION(5, 3) ? "podman-user-wait-network-online.service"
                                                                               : "unroot-wait-online.service";
                unit_file_prepend_line(c->service, "Unit", "After", net);
                unit_file_prepend_line(c->service, "Unit", "Wants", net);
        }
        /* Need the containers filesystem mounted to start podman. Where this line goes differs by
         * type in 5.4.2: .build adds it before SourcePath, .container only after resolving Image=. */
        if (c->type == QUADLET_BUILD)
                unit_file_add(c->service, "Unit", "RequiresMountsFor", "%t/containers");
        if (c->unit->path)
                unit_file_add(c->service, "Unit", "SourcePath", c->unit->path);
        if (c->type != QUADLET_BUILD && c->type != QUADLET_CONTAINER)
                unit_file_add(c->service, "Unit", "RequiresMountsFor", "%t/containers");
        unit_file_rename_group(c->service, c->group, unit_types[c->type].xgroup);
        unit_file_rename_group(c->service, "Quadlet", "X-Quadlet");
        return unit_file_error(c->service);
}

static void default_oneshot(Conv *c, bool remain) {
        if (!unit_file_has_key(c->service, "Service", "SyslogIdentifier"))
                unit_file_set(c->service, "Service", "SyslogIdentifier", "%N");
        if (!unit_file_has_key(c->service, "Service", "Type"))
                unit_file_set(c->service, "Service", "Type", "oneshot");
        if (remain && !unit_file_has_key(c->service, "Service", "RemainAfterExit"))
                unit_file_set(c->service, "Service", "RemainAfterExit", "yes");
}

static int check_kill_mode(Conv *c) {
        _cleanup_free_ char *km = unit_file_lookup(c->service, "Service", "KillMode");

        if (!km || (!streq(km, "mixed") && !streq(km, "control-group"))) {
                if (km)
                        return fail(c, "invalid KillMode '%s'", km);
                unit_file_set(c->service, "Service", "KillMode", "mixed");
        }
        return 0;
}

/* ---- podman < 4.4: no `volume create --ignore` / `network create --ignore` ---- */

static char *shell_quote(const char *w) {
        _cleanup_buf_ Buf b = {};
        bool plain = *w;

        for (const char *p = w; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+", *p))
                        plain = false;
        if (plain)
                buf_puts(&b, w);
        else {
                buf_putc(&b, '\'');
                for (const char *p = w; *p; p++) {
                        if (*p == '\'')
                                buf_puts(&b, "'\\''");
                        else
                                buf_putc(&b, *p);
                }
                buf_putc(&b, '\'');
        }
        return buf_steal(&b);
}

/* cmd is "podman [globals] volume|network create ARGS... NAME" (no --ignore). Podman 4.3 has no
 * --ignore, so we create only when `podman volume|network exists NAME` fails. A shell is the only
 * way to express "A || B" in one ExecStart=; the alternatives are worse: ExecCondition= would
 * leave the unit inactive ("condition failed") once the resource exists, so dependents and status
 * reporting see a skipped unit; a '-' prefix would also swallow real creation errors. */
static int rewrite_create_without_ignore(Conv *c, Strv *cmd, size_t verb_idx, const char *name) {
        _cleanup_buf_ Buf script = {};
        Strv out = {};

        for (size_t i = 0; i < verb_idx; i++) {
                _cleanup_free_ char *q = shell_quote(cmd->v[i]);
                if (!q)
                        return -ENOMEM;
                buf_printf(&script, "%s ", q);
        }
        {
                _cleanup_free_ char *qv = shell_quote(cmd->v[verb_idx]), *qn = shell_quote(name);
                if (!qv || !qn)
                        return -ENOMEM;
                buf_printf(&script, "%s exists %s || exec", qv, qn);
        }
        for (size_t i = 0; i < cmd->n; i++) {
                _cleanup_free_ char *q = shell_quote(cmd->v[i]);
                if (!q)
                        return -ENOMEM;
                buf_printf(&script, " %s", q);
        }
        /* systemd expands $VAR in Exec lines; "$$" is a literal '$'. */
        {
                _cleanup_buf_ Buf esc = {};
                char *s = buf_steal(&script);
                if (!s)
                        return -ENOMEM;
                for (const char *p = s; *p; p++) {
                        if (*p == '$')
                                buf_putc(&esc, '$');
                        buf_putc(&esc, *p);
                }
                free(s);
                strv_add(&out, "/bin/sh");
                strv_add(&out, "-c");
                strv_consume(&out, buf_steal(&esc));
        }
        (void) c;
        strv_done(cmd);
        *cmd = out;
        return strv_error(cmd);
}

/* ---- .container ---- */

static char *container_name(const UnitFile *u) {
        char *n = unit_file_lookup(u, "Container", "ContainerName");

        if (nonempty(n))
                return n;
        free(n);
        return strdup(u->filename && strchr(u->filename, '@') ? "systemd-%p_%i" : "systemd-%N");
}

static int resolve_mount(Conv *c, const char *mount, char **ret);

static int convert_container(Conv *c) {
        _cleanup_free_ char *image = lookup(c, "Image"), *rootfs = lookup(c, "Rootfs"), *name = NULL,
                            *resolved_image = NULL;
        _cleanup_strv_ Strv stop = {}, podman = {}, tmp = {};
        int r;

        if (!nonempty(image) && !nonempty(rootfs))
                return fail(c, "no Image or Rootfs key specified");
        if (nonempty(image) && nonempty(rootfs))
                return fail(c, "the Image And Rootfs keys conflict can not be specified together");
        if (nonempty(image)) {
                r = handle_image_source(c, image, &resolved_image);
                if (r < 0)
                        return r;
        }

        unit_file_add(c->service, "Unit", "RequiresMountsFor", "%t/containers");

        name = container_name(c->unit);
        if (!name)
                return -ENOMEM;

        unit_file_add(c->service, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        r = check_kill_mode(c);
        if (r < 0)
                return r;

        r = base_command(c, &stop);
        if (r < 0)
                return r;
        strv_add(&stop, "rm");
        strv_add(&stop, "-v");
        strv_add(&stop, "-f");
        strv_add(&stop, "-i");
        strv_add(&stop, "--cidfile=%t/%N.cid");
        unit_file_add_cmdline(c->service, "Service", "ExecStop", &stop);
        if (stop.n > 0) {
                char *m = strdup_printf("-%s", stop.v[0]);
                if (!m)
                        return -ENOMEM;
                free(stop.v[0]);
                stop.v[0] = m;
        }
        unit_file_add_cmdline(c->service, "Service", "ExecStopPost", &stop);
        if (c->version < QUADLET_PODMAN_VERSION(4, 5)) {
                /* podman < 4.5's `rm --cidfile` leaves the file behind and `run --cidfile` refuses
                 * an existing one ("container id file exists"): a restart failed on the 4.3.1 test
                 * bed. podman 4.4's own quadlet removed it the same way. */
                _cleanup_strv_ Strv rm = {};
                strv_add(&rm, "-/bin/rm");
                strv_add(&rm, "-f");
                strv_add(&rm, "%t/%N.cid");
                unit_file_add_cmdline(c->service, "Service", "ExecStopPost", &rm);
        }

        r = base_command(c, &podman);
        if (r < 0)
                return r;
        strv_add(&podman, "run");
        strv_add(&podman, "--name");
        strv_add(&podman, name);
        strv_add(&podman, "--cidfile=%t/%N.cid");
        strv_add(&podman, "--replace");
        strv_add(&podman, "--rm");
        add_log_driver(c, &podman);

        unit_file_add(c->service, "Service", "Delegate", "yes");

        {
                _cleanup_free_ char *cg = lookup(c, "CgroupsMode");
                if (nonempty(cg)) {
                        strv_add(&podman, "--cgroups");
                        strv_add(&podman, cg);
                } else
                        strv_add(&podman, "--cgroups=split");
        }

        /* podman iterates Go maps here, so the order between these keys varies run to run. */
        static const FlagKey string_keys[] = {
                { "Timezone", "--tz" },          { "PidsLimit", "--pids-limit" }, { "ShmSize", "--shm-size" },
                { "Entrypoint", "--entrypoint" }, { "WorkingDir", "--workdir" },   { "IP", "--ip" },
                { "IP6", "--ip6" },              { "HostName", "--hostname" },    { "StopSignal", "--stop-signal" },
                { "StopTimeout", "--stop-timeout" }, { "Pull", "--pull" },
        };
        add_strings(c, string_keys, ELEMENTSOF(string_keys), &podman);

        static const FlagKey all_string_keys[] = {
                { "NetworkAlias", "--network-alias" }, { "Ulimit", "--ulimit" },       { "DNS", "--dns" },
                { "DNSOption", "--dns-option" },       { "DNSSearch", "--dns-search" }, { "GroupAdd", "--group-add" },
                { "AddHost", "--add-host" },           { "Tmpfs", "--tmpfs" },
        };
        add_all_strings(c, all_string_keys, ELEMENTSOF(all_string_keys), &podman);

        static const FlagKey bool_keys[] = {
                { "RunInit", "--init" }, { "EnvironmentHost", "--env-host" }, { "ReadOnlyTmpfs", "--read-only-tmpfs" },
        };
        add_booleans(c, bool_keys, ELEMENTSOF(bool_keys), &podman);

        r = add_networks(c, &podman);
        if (r < 0)
                return r;

        {
                _cleanup_free_ char *type = unit_file_lookup(c->service, "Service", "Type");
                if (type && !streq(type, "notify") && !streq(type, "oneshot"))
                        return fail(c, "invalid service Type '%s'", type);
                if (!type || !streq(type, "oneshot")) {
                        _cleanup_free_ char *notify = lookup(c, "Notify");
                        if (notify && strcasecmp(notify, "healthy") == 0) {
                                r = need_version(c, QUADLET_PODMAN_VERSION(5, 0), "Notify=healthy");
                                if (r < 0)
                                        return r;
                                strv_add(&podman, "--sdnotify=healthy");
                        } else if (unit_file_lookup_boolean_default(c->unit, c->group, "Notify", false))
                                strv_add(&podman, "--sdnotify=container");
                        else
                                strv_add(&podman, "--sdnotify=conmon");
                        unit_file_set(c->service, "Service", "Type", "notify");
                        unit_file_set(c->service, "Service", "NotifyAccess", "all");
                        strv_add(&podman, "-d");
                }
        }

        if (!unit_file_has_key(c->unit, "Service", "SyslogIdentifier"))
                unit_file_set(c->service, "Service", "SyslogIdentifier", "%N");

        if (unit_file_lookup_boolean_default(c->unit, c->group, "NoNewPrivileges", false))
                strv_add(&podman, "--security-opt=no-new-privileges");
        if (unit_file_lookup_boolean_default(c->unit, c->group, "SecurityLabelDisable", false)) {
                strv_add(&podman, "--security-opt");
                strv_add(&podman, "label=disable");
        }
        if (unit_file_lookup_boolean_default(c->unit, c->group, "SecurityLabelNested", false)) {
                strv_add(&podman, "--security-opt");
                strv_add(&podman, "label=nested");
        }
        static const FlagKey label_keys[] = {
                { "SecurityLabelType", "label=type:" },
                { "SecurityLabelFileType", "label=filetype:" },
                { "SecurityLabelLevel", "label=level:" },
        };
        for (size_t i = 0; i < ELEMENTSOF(label_keys); i++) {
                _cleanup_free_ char *v = lookup(c, label_keys[i].key);
                if (nonempty(v)) {
                        strv_add(&podman, "--security-opt");
                        strv_addf(&podman, "%s%s", label_keys[i].flag, v);
                }
        }

        unit_file_lookup_all_strv(c->unit, c->group, "AddDevice", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                const char *d = tmp.v[i];
                if (d[0] == '-') {
                        _cleanup_free_ char *host = NULL;
                        d++;
                        host = strndup(d, strcspn(d, ":"));
                        if (!host)
                                return -ENOMEM;
                        if (c->ctx->path_exists && c->ctx->path_exists(host, c->ctx->userdata) == 0)
                                continue;
                }
                strv_add(&podman, "--device");
                strv_add(&podman, d);
        }
        strv_clear(&tmp);

        {
                _cleanup_free_ char *sp = lookup(c, "SeccompProfile");
                if (sp) {
                        strv_add(&podman, "--security-opt");
                        strv_addf(&podman, "seccomp=%s", sp);
                }
        }

        static const FlagKey cap_keys[] = { { "DropCapability", "--cap-drop" }, { "AddCapability", "--cap-add" } };
        for (size_t k = 0; k < ELEMENTSOF(cap_keys); k++) {
                unit_file_lookup_all_strv(c->unit, c->group, cap_keys[k].key, &tmp);
                for (size_t i = 0; i < tmp.n; i++) {
                        strv_add(&podman, cap_keys[k].flag);
                        for (char *p = tmp.v[i]; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        strv_add(&podman, tmp.v[i]);
                }
                strv_clear(&tmp);
        }

        unit_file_lookup_all_strv(c->unit, c->group, "Sysctl", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                strv_add(&podman, "--sysctl");
                strv_add(&podman, tmp.v[i]);
        }
        strv_clear(&tmp);

        r = unit_file_lookup_boolean(c->unit, c->group, "ReadOnly");
        bool read_only = r > 0;
        if (r >= 0)
                add_bool_flag(&podman, "--read-only", read_only);
        if (unit_file_lookup_boolean_default(c->unit, c->group, "VolatileTmp", false) && !read_only) {
                strv_add(&podman, "--tmpfs");
                strv_add(&podman, "/tmp:rw,size=512M,mode=1777");
        }

        {
                _cleanup_free_ char *user = lookup(c, "User"), *group = lookup(c, "Group");
                if (!nonempty(user)) {
                        if (nonempty(group))
                                return fail(c, "invalid Group set without User");
                } else {
                        strv_add(&podman, "--user");
                        if (nonempty(group))
                                strv_addf(&podman, "%s:%s", user, group);
                        else
                                strv_add(&podman, user);
                }
        }

        r = handle_user_mappings(c, &podman, true);
        if (r < 0)
                return r;
        r = add_volumes(c, &podman);
        if (r < 0)
                return r;

        {
                _cleanup_free_ char *au = lookup(c, "AutoUpdate");
                if (nonempty(au)) {
                        strv_add(&podman, "--label");
                        strv_addf(&podman, "io.containers.autoupdate=%s", au);
                }
        }

        unit_file_lookup_all(c->unit, c->group, "ExposeHostPort", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                char *p = tmp.v[i];
                size_t n = strlen(p), e;

                /* Allow whitespace around the value; then it must end in N[-M][/tcp|/udp]. */
                while (n > 0 && strchr(" \t\n\r\v\f", p[n - 1]))
                        p[--n] = 0;
                while (*p && strchr(" \t\n\r\v\f", *p)) {
                        p++;
                        n--;
                }
                /* upstream's regex \d+(-\d+)?(/udp|/tcp)?$ is not anchored at the start, so this
                 * only requires a digit right before the optional protocol suffix */
                e = n;
                if (e >= 4 && (streq(p + e - 4, "/udp") || streq(p + e - 4, "/tcp")))
                        e -= 4;
                if (e == 0 || p[e - 1] < '0' || p[e - 1] > '9')
                        return fail(c, "invalid port format '%s'", p);
                strv_add(&podman, "--expose");
                strv_add(&podman, p);
        }
        strv_clear(&tmp);

        add_publish_ports(c, &podman);

        static const FlagKey kv_keys[] = {
                { "Environment", "--env" }, { "Label", "--label" }, { "Annotation", "--annotation" },
        };
        add_keyvals(c, kv_keys, ELEMENTSOF(kv_keys), &podman);

        static const FlagKey args_opts[] = { { "Mask", "mask=" }, { "Unmask", "unmask=" } };
        for (size_t k = 0; k < ELEMENTSOF(args_opts); k++) {
                unit_file_lookup_all_args(c->unit, c->group, args_opts[k].key, &tmp);
                for (size_t i = 0; i < tmp.n; i++) {
                        strv_add(&podman, "--security-opt");
                        strv_addf(&podman, "%s%s", args_opts[k].flag, tmp.v[i]);
                }
                strv_clear(&tmp);
        }

        unit_file_lookup_all_args(c->unit, c->group, "EnvironmentFile", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                strv_add(&podman, "--env-file");
                strv_consume(&podman, absolute_path(c, tmp.v[i]));
        }
        strv_clear(&tmp);

        unit_file_lookup_all_args(c->unit, c->group, "Secret", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                strv_add(&podman, "--secret");
                strv_add(&podman, tmp.v[i]);
        }
        strv_clear(&tmp);

        unit_file_lookup_all_args(c->unit, c->group, "Mount", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                char *m = NULL;
                r = resolve_mount(c, tmp.v[i], &m);
                if (r < 0)
                        return r;
                strv_add(&podman, "--mount");
                strv_consume(&podman, m);
        }
        strv_clear(&tmp);

        static const struct {
                const char *key, *arg;
                unsigned since;
        } health[] = {
                { "HealthCmd", "cmd", 0 },
                { "HealthInterval", "interval", 0 },
                { "HealthOnFailure", "on-failure", 0 },
                { "HealthLogDestination", "log-destination", QUADLET_PODMAN_VERSION(5, 3) },
                { "HealthMaxLogCount", "max-log-count", QUADLET_PODMAN_VERSION(5, 3) },
                { "HealthMaxLogSize", "max-log-size", QUADLET_PODMAN_VERSION(5, 3) },
                { "HealthRetries", "retries", 0 },
                { "HealthStartPeriod", "start-period", 0 },
                { "HealthTimeout", "timeout", 0 },
                { "HealthStartupCmd", "startup-cmd", QUADLET_PODMAN_VERSION(4, 4) },
                { "HealthStartupInterval", "startup-interval", QUADLET_PODMAN_VERSION(4, 4) },
                { "HealthStartupRetries", "startup-retries", QUADLET_PODMAN_VERSION(4, 4) },
                { "HealthStartupSuccess", "startup-success", QUADLET_PODMAN_VERSION(4, 4) },
                { "HealthStartupTimeout", "startup-timeout", QUADLET_PODMAN_VERSION(4, 4) },
        };
        for (size_t i = 0; i < ELEMENTSOF(health); i++) {
                _cleanup_free_ char *v = lookup(c, health[i].key);
                if (!nonempty(v))
                        continue;
                if (health[i].since) {
                        r = need_version(c, health[i].since, health[i].key);
                        if (r < 0)
                                return r;
                }
                strv_addf(&podman, "--health-%s", health[i].arg);
                strv_add(&podman, v);
        }

        {
                _cleanup_free_ char *pod = lookup(c, "Pod");
                if (nonempty(pod)) {
                        QuadletUnitInfo *pi;
                        if (!endswith(pod, ".pod"))
                                return fail(c, "pod %s is not Quadlet based", pod);
                        pi = quadlet_units_info_find(c->ctx->units, pod);
                        if (!pi)
                                return fail(c, "quadlet pod unit %s does not exist", pod);
                        strv_add(&podman, "--pod-id-file");
                        strv_addf(&podman, "%%t/%s.pod-id", pi->service_name);
                        {
                                _cleanup_free_ char *svc = strdup_printf("%s.service", pi->service_name);
                                if (!svc)
                                        return -ENOMEM;
                                unit_file_add(c->service, "Unit", "BindsTo", svc);
                                unit_file_add(c->service, "Unit", "After", svc);
                        }
                        if (unit_file_lookup_boolean_default(c->unit, c->group, "StartWithPod", true))
                                strv_add(&pi->containers_to_start, c->service->filename);
                }
        }

        add_podman_args(c, &podman);

        if (nonempty(image))
                strv_add(&podman, resolved_image);
        else {
                strv_add(&podman, "--rootfs");
                strv_add(&podman, rootfs);
        }

        /* An Exec= with an unsupported escape is dropped silently by podman 5.4.2. */
        r = unit_file_lookup_last_args(c->unit, c->group, "Exec", &tmp, NULL);
        if (r > 0)
                strv_extend(&podman, &tmp);
        strv_clear(&tmp);

        unit_file_add_cmdline(c->service, "Service", "ExecStart", &podman);
        return strv_error(&podman) ?: strv_error(&stop) ?: strv_error(&tmp);
}

/* RFC 4180 field splitting (Go's encoding/csv, one record, strict quotes). */
static int csv_split(const char *s, Strv *ret) {
        _cleanup_buf_ Buf f = {};
        const char *p = s;

        for (;;) {
                if (*p == '"') {
                        p++;
                        for (;;) {
                                if (!*p)
                                        return -EINVAL;
                                if (*p == '"') {
                                        if (p[1] == '"') {
                                                buf_putc(&f, '"');
                                                p += 2;
                                                continue;
                                        }
                                        p++;
                                        break;
                                }
                                buf_putc(&f, *p++);
                        }
                        if (*p && *p != ',')
                                return -EINVAL;
                } else {
                        while (*p && *p != ',') {
                                if (*p == '"')
                                        return -EINVAL;
                                buf_putc(&f, *p++);
                        }
                }
                strv_consume(ret, buf_steal(&f));
                if (!*p)
                        break;
                p++;
        }
        return strv_error(ret);
}

static void csv_join(Buf *b, const Strv *fields) {
        for (size_t i = 0; i < fields->n; i++) {
                const char *v = fields->v[i];
                bool q = v[0] && (strpbrk(v, ",\"\r\n") || v[0] == ' ' || v[0] == '\t' || streq(v, "\\."));
                if (i > 0)
                        buf_putc(b, ',');
                if (!q) {
                        buf_puts(b, v);
                        continue;
                }
                buf_putc(b, '"');
                for (const char *p = v; *p; p++) {
                        if (*p == '"')
                                buf_putc(b, '"');
                        buf_putc(b, *p);
                }
                buf_putc(b, '"');
        }
}

static int resolve_mount(Conv *c, const char *mount, char **ret) {
        _cleanup_strv_ Strv fields = {}, tokens = {};
        _cleanup_free_ char *type = NULL, *resolved = NULL;
        _cleanup_buf_ Buf b = {};
        ssize_t src = -1;
        int r;

        if (csv_split(mount, &fields) < 0)
                return fail(c, "invalid mount format '%s'", mount);
        for (size_t i = 0; i < fields.n; i++) {
                const char *eq = strchr(fields.v[i], '=');
                if (type || !startswith(fields.v[i], "type") || (eq ? eq - fields.v[i] : (ssize_t) strlen(fields.v[i])) != 4) {
                        strv_add(&tokens, fields.v[i]);
                        continue;
                }
                if (!eq || strchr(eq + 1, '='))
                        return fail(c, "invalid mount type: %s", fields.v[i]);
                type = strdup(eq + 1);
                if (!type)
                        return -ENOMEM;
        }
        if (!type)
                type = strdup("volume");
        if (!type || tokens.oom)
                return -ENOMEM;

        if (!streq(type, "volume") && !streq(type, "bind") && !streq(type, "glob") && !streq(type, "image")) {
                *ret = strdup(mount);
                return *ret ? 0 : -ENOMEM;
        }

        for (size_t i = 0; i < tokens.n; i++) {
                const char *eq = strchr(tokens.v[i], '=');
                size_t kn = eq ? (size_t) (eq - tokens.v[i]) : strlen(tokens.v[i]);
                if ((kn == 6 && strneq(tokens.v[i], "source", 6)) || (kn == 3 && strneq(tokens.v[i], "src", 3))) {
                        if (!eq)
                                return fail(c, "source parameter does not include a value");
                        src = (ssize_t) i;
                }
        }
        if (src >= 0) {
                const char *v = strchr(tokens.v[src], '=') + 1;
                if (!v[0])
                        return fail(c, "source parameter does not include a value");
                r = handle_storage_source(c, v, true, &resolved);
                if (r < 0)
                        return r;
                free(tokens.v[src]);
                tokens.v[src] = strdup_printf("source=%s", resolved);
                if (!tokens.v[src])
                        return -ENOMEM;
        }

        {
                _cleanup_strv_ Strv all = {};
                strv_addf(&all, "type=%s", type);
                strv_extend(&all, &tokens);
                if (all.oom)
                        return -ENOMEM;
                csv_join(&b, &all);
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* ---- .volume ---- */

static char *name_from_filename(const char *filename, const char *prefix) {
        const char *dot = strrchr(filename, '.');
        size_t n = dot && dot != filename ? (size_t) (dot - filename) : strlen(filename);
        return strdup_printf("%s%.*s", prefix, (int) n, filename);
}

/* The start of "podman [global args] volume|network create [--ignore]", shared by .volume and
 * .network; *ret_verb is where the subcommand starts (the 4.3 emulation wraps from there). */
static int resource_create_command(Conv *c, const char *kind, Strv *podman, size_t *ret_verb) {
        int r;

        r = base_command(c, podman);
        if (r < 0)
                return r;
        *ret_verb = podman->n;
        strv_add(podman, kind);
        strv_add(podman, "create");
        /* --ignore came with podman 4.4; below that the caller emulates it. */
        if (c->version >= QUADLET_PODMAN_VERSION(4, 4))
                strv_add(podman, "--ignore");
        return 0;
}

static int convert_volume(Conv *c) {
        _cleanup_free_ char *vname = lookup(c, "VolumeName"), *driver = lookup(c, "Driver");
        _cleanup_strv_ Strv podman = {};
        _cleanup_buf_ Buf opts = {};
        size_t verb;
        int r;

        if (!nonempty(vname)) {
                free(vname);
                vname = name_from_filename(c->unit->filename, "systemd-");
                if (!vname)
                        return -ENOMEM;
        }

        r = resource_create_command(c, "volume", &podman, &verb);
        if (r < 0)
                return r;

        if (driver) {
                strv_add(&podman, "--driver");
                strv_add(&podman, driver);
        }

        if (driver && streq(driver, "image")) {
                _cleanup_free_ char *img = lookup(c, "Image"), *res = NULL;
                buf_puts(&opts, "image=");
                if (!img)
                        return fail(c, "the key Image is mandatory when using the image driver");
                r = handle_image_source(c, img, &res);
                if (r < 0)
                        return r;
                buf_puts(&opts, res);
        } else {
                bool dev_valid = false;
                _cleanup_free_ char *dev = lookup(c, "Device"), *devtype = lookup(c, "Type"),
                                    *mopts = lookup(c, "Options");

                buf_puts(&opts, "o=");
                if (unit_file_has_key(c->unit, c->group, "User"))
                        buf_printf(&opts, "%suid=%u", opts.n > 2 ? "," : "",
                                   unit_file_lookup_uint32(c->unit, c->group, "User", 0));
                if (unit_file_has_key(c->unit, c->group, "Group"))
                        buf_printf(&opts, "%sgid=%u", opts.n > 2 ? "," : "",
                                   unit_file_lookup_uint32(c->unit, c->group, "Group", 0));

                r = unit_file_lookup_boolean(c->unit, c->group, "Copy");
                if (r >= 0) {
                        strv_add(&podman, "--opt");
                        strv_add(&podman, r > 0 ? "copy" : "nocopy");
                }
                if (nonempty(dev)) {
                        strv_add(&podman, "--opt");
                        strv_addf(&podman, "device=%s", dev);
                        dev_valid = true;
                }
                if (nonempty(devtype)) {
                        if (!dev_valid)
                                return fail(c, "key Type can't be used without Device");
                        strv_add(&podman, "--opt");
                        strv_addf(&podman, "type=%s", devtype);
                        if (streq(devtype, "bind"))
                                unit_file_add(c->service, "Unit", "RequiresMountsFor", dev);
                }
                if (nonempty(mopts)) {
                        if (!dev_valid)
                                return fail(c, "key Options can't be used without Device");
                        if (opts.n > 2)
                                buf_putc(&opts, ',');
                        buf_puts(&opts, mopts);
                }
        }
        if (opts.oom)
                return -ENOMEM;
        if (opts.n > 2) {
                strv_add(&podman, "--opt");
                strv_consume(&podman, buf_steal(&opts));
        }

        static const FlagKey kv[] = { { "Label", "--label" } };
        add_keyvals(c, kv, 1, &podman);
        add_podman_args(c, &podman);
        strv_add(&podman, vname);

        if (c->version < QUADLET_PODMAN_VERSION(4, 4)) {
                r = rewrite_create_without_ignore(c, &podman, verb, vname);
                if (r < 0)
                        return r;
        }
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &podman);
        default_oneshot(c, true);

        free(c->info->resource_name);
        c->info->resource_name = TAKE_PTR(vname);
        return strv_error(&podman);
}

/* ---- .network ---- */

static int convert_network(Conv *c) {
        _cleanup_free_ char *nname = lookup(c, "NetworkName");
        _cleanup_strv_ Strv podman = {}, subnets = {}, gateways = {}, ranges = {}, dns = {};
        size_t verb;
        int r;

        if (!nonempty(nname)) {
                free(nname);
                nname = name_from_filename(c->unit->filename, "systemd-");
                if (!nname)
                        return -ENOMEM;
        }

        r = resource_create_command(c, "network", &podman, &verb);
        if (r < 0)
                return r;

        static const FlagKey bools[] = {
                { "DisableDNS", "--disable-dns" }, { "Internal", "--internal" }, { "IPv6", "--ipv6" },
        };
        add_booleans(c, bools, ELEMENTSOF(bools), &podman);
        static const FlagKey strings[] = { { "Driver", "--driver" }, { "IPAMDriver", "--ipam-driver" } };
        add_strings(c, strings, ELEMENTSOF(strings), &podman);

        unit_file_lookup_all(c->unit, c->group, "DNS", &dns);
        if (dns.n > 0) {
                r = need_version(c, QUADLET_PODMAN_VERSION(4, 4), "DNS");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < dns.n; i++) {
                strv_add(&podman, "--dns");
                strv_add(&podman, dns.v[i]);
        }

        unit_file_lookup_all(c->unit, c->group, "Subnet", &subnets);
        unit_file_lookup_all(c->unit, c->group, "Gateway", &gateways);
        unit_file_lookup_all(c->unit, c->group, "IPRange", &ranges);
        if (subnets.n > 0) {
                if (gateways.n > subnets.n)
                        return fail(c, "cannot set more gateways than subnets");
                if (ranges.n > subnets.n)
                        return fail(c, "cannot set more ranges than subnets");
                for (size_t i = 0; i < subnets.n; i++) {
                        strv_add(&podman, "--subnet");
                        strv_add(&podman, subnets.v[i]);
                        if (i < gateways.n) {
                                strv_add(&podman, "--gateway");
                                strv_add(&podman, gateways.v[i]);
                        }
                        if (i < ranges.n) {
                                strv_add(&podman, "--ip-range");
                                strv_add(&podman, ranges.v[i]);
                        }
                }
        } else if (ranges.n > 0 || gateways.n > 0)
                return fail(c, "cannot set gateway or range without subnet");

        static const FlagKey kv[] = { { "Options", "--opt" }, { "Label", "--label" } };
        add_keyvals(c, kv, ELEMENTSOF(kv), &podman);
        add_podman_args(c, &podman);
        strv_add(&podman, nname);

        if (c->version < QUADLET_PODMAN_VERSION(4, 4)) {
                r = rewrite_create_without_ignore(c, &podman, verb, nname);
                if (r < 0)
                        return r;
        }
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &podman);
        default_oneshot(c, true);

        free(c->info->resource_name);
        c->info->resource_name = TAKE_PTR(nname);
        return strv_error(&podman) ?: strv_error(&subnets) ?: strv_error(&gateways) ?: strv_error(&ranges);
}

/* ---- .kube ---- */

static int convert_kube(Conv *c) {
        _cleanup_free_ char *yaml = lookup(c, "Yaml"), *abs = NULL, *ecp = NULL, *context = NULL;
        _cleanup_strv_ Strv start = {}, stop = {}, tmp = {};
        int r;

        if (!nonempty(yaml))
                return fail(c, "no Yaml key specified");
        abs = absolute_path(c, yaml);
        if (!abs)
                return -ENOMEM;

        r = check_kill_mode(c);
        if (r < 0)
                return r;
        unit_file_add(c->service, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        {
                _cleanup_free_ char *type = unit_file_lookup(c->service, "Service", "Type");
                if (type && !streq(type, "notify") && !streq(type, "oneshot"))
                        return fail(c, "invalid service Type '%s'", type);
                if (!type || !streq(type, "oneshot")) {
                        unit_file_set(c->service, "Service", "Type", "notify");
                        unit_file_set(c->service, "Service", "NotifyAccess", "all");
                }
        }
        if (!unit_file_has_key(c->unit, "Service", "SyslogIdentifier"))
                unit_file_set(c->service, "Service", "SyslogIdentifier", "%N");

        r = base_command(c, &start);
        if (r < 0)
                return r;
        strv_add(&start, "kube");
        strv_add(&start, "play");
        strv_add(&start, "--replace");
        strv_add(&start, "--service-container=true");

        ecp = lookup(c, "ExitCodePropagation");
        if (nonempty(ecp)) {
                r = need_version(c, QUADLET_PODMAN_VERSION(4, 6), "ExitCodePropagation");
                if (r < 0)
                        return r;
                strv_addf(&start, "--service-exit-code-propagation=%s", ecp);
        }
        add_log_driver(c, &start);

        r = handle_user_mappings(c, &start, false);
        if (r < 0)
                return r;
        r = add_networks(c, &start);
        if (r < 0)
                return r;

        unit_file_lookup_all_strv(c->unit, c->group, "AutoUpdate", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                const char *slash = strchr(tmp.v[i], '/');
                if (slash)
                        strv_addf(&start, "--annotation=io.containers.autoupdate/%.*s=%s", (int) (slash - tmp.v[i]),
                                  tmp.v[i], slash + 1);
                else
                        strv_addf(&start, "--annotation=io.containers.autoupdate=%s", tmp.v[i]);
        }
        strv_clear(&tmp);

        unit_file_lookup_all_strv(c->unit, c->group, "ConfigMap", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                strv_add(&start, "--configmap");
                strv_consume(&start, absolute_path(c, tmp.v[i]));
        }
        strv_clear(&tmp);

        add_publish_ports(c, &start);
        add_podman_args(c, &start);
        strv_add(&start, abs);
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &start);

        r = base_command(c, &stop);
        if (r < 0)
                return r;
        strv_add(&stop, "kube");
        strv_add(&stop, "down");
        r = unit_file_lookup_boolean(c->unit, c->group, "KubeDownForce");
        if (r >= 0)
                add_bool_flag(&stop, "--force", r > 0);
        strv_add(&stop, abs);
        unit_file_add_cmdline(c->service, "Service", "ExecStopPost", &stop);

        r = handle_set_working_directory(c, &context);
        if (r < 0)
                return r;
        return strv_error(&start) ?: strv_error(&stop) ?: strv_error(&tmp);
}

/* ---- .image ---- */

static int convert_image(Conv *c) {
        _cleanup_free_ char *img = lookup(c, "Image"), *tag = NULL;
        _cleanup_strv_ Strv podman = {};
        int r;

        if (!nonempty(img))
                return fail(c, "no Image key specified");

        r = base_command(c, &podman);
        if (r < 0)
                return r;
        strv_add(&podman, "image");
        strv_add(&podman, "pull");

        {
                _cleanup_free_ char *dk = lookup(c, "DecryptionKey");
                if (nonempty(dk)) {
                        r = need_version(c, QUADLET_PODMAN_VERSION(4, 4), "DecryptionKey");
                        if (r < 0)
                                return r;
                }
        }
        static const FlagKey strings[] = {
                { "Arch", "--arch" },   { "AuthFile", "--authfile" }, { "CertDir", "--cert-dir" },
                { "Creds", "--creds" }, { "DecryptionKey", "--decryption-key" }, { "OS", "--os" },
                { "Variant", "--variant" },
        };
        add_strings(c, strings, ELEMENTSOF(strings), &podman);
        static const FlagKey bools[] = { { "AllTags", "--all-tags" }, { "TLSVerify", "--tls-verify" } };
        add_booleans(c, bools, ELEMENTSOF(bools), &podman);
        add_podman_args(c, &podman);
        strv_add(&podman, img);
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &podman);
        default_oneshot(c, true);

        tag = lookup(c, "ImageTag");
        free(c->info->resource_name);
        c->info->resource_name = nonempty(tag) ? TAKE_PTR(tag) : TAKE_PTR(img);
        return strv_error(&podman);
}

/* ---- .build ---- */

static bool is_url(const char *s) {
        /* upstream: ^((https?)|(git)://)|(github\.com/).+$ (unanchored second branch) */
        if (startswith(s, "http") || startswith(s, "https") || startswith(s, "git://"))
                return true;
        {
                const char *g = strstr(s, "github.com/");
                return g && g[strlen("github.com/")];
        }
}

static int convert_build(Conv *c) {
        _cleanup_free_ char *context = NULL, *wd = NULL, *file = NULL;
        _cleanup_strv_ Strv podman = {}, tmp = {};
        int r;

        if (!nonempty(c->info->resource_name))
                return fail(c, "no ImageTag key specified");

        r = base_command(c, &podman);
        if (r < 0)
                return r;
        strv_add(&podman, "build");
        {
                _cleanup_free_ char *pull = lookup(c, "Pull");
                if (nonempty(pull))
                        strv_addf(&podman, "--pull=%s", pull);
        }
        static const FlagKey strings[] = {
                { "Arch", "--arch" }, { "AuthFile", "--authfile" }, { "Target", "--target" }, { "Variant", "--variant" },
        };
        add_strings(c, strings, ELEMENTSOF(strings), &podman);
        static const FlagKey bools[] = { { "TLSVerify", "--tls-verify" }, { "ForceRM", "--force-rm" } };
        add_booleans(c, bools, ELEMENTSOF(bools), &podman);
        static const FlagKey all[] = {
                { "DNS", "--dns" },           { "DNSOption", "--dns-option" }, { "DNSSearch", "--dns-search" },
                { "GroupAdd", "--group-add" }, { "ImageTag", "--tag" },
        };
        add_all_strings(c, all, ELEMENTSOF(all), &podman);
        static const FlagKey kv[] = {
                { "Environment", "--env" }, { "Label", "--label" }, { "Annotation", "--annotation" },
        };
        add_keyvals(c, kv, ELEMENTSOF(kv), &podman);

        r = add_networks(c, &podman);
        if (r < 0)
                return r;
        unit_file_lookup_all_args(c->unit, c->group, "Secret", &tmp);
        for (size_t i = 0; i < tmp.n; i++) {
                strv_add(&podman, "--secret");
                strv_add(&podman, tmp.v[i]);
        }
        r = add_volumes(c, &podman);
        if (r < 0)
                return r;

        r = handle_set_working_directory(c, &context);
        if (r < 0)
                return r;

        wd = unit_file_lookup(c->service, "Service", "WorkingDirectory");
        file = lookup(c, "File");
        if (!nonempty(wd) && !nonempty(file) && !nonempty(context))
                return fail(c, "neither SetWorkingDirectory, nor File key specified");
        if (nonempty(file)) {
                strv_add(&podman, "--file");
                strv_add(&podman, file);
        }
        add_podman_args(c, &podman);
        if (nonempty(context))
                strv_add(&podman, context);
        else if (!(file && file[0] == '/') && !is_url(strempty(file))) {
                if (!nonempty(wd))
                        return fail(c, "relative path in File key requires SetWorkingDirectory key to be set");
                strv_add(&podman, wd);
        }
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &podman);
        default_oneshot(c, false);
        return strv_error(&podman) ?: strv_error(&tmp);
}

/* ---- .pod ---- */

static int convert_pod(Conv *c) {
        _cleanup_strv_ Strv start = {}, stop = {}, stoppost = {}, pre = {};
        const char *pod = c->info->resource_name;
        int r;

        for (size_t i = 0; i < c->info->containers_to_start.n; i++) {
                unit_file_add(c->service, "Unit", "Wants", c->info->containers_to_start.v[i]);
                unit_file_add(c->service, "Unit", "Before", c->info->containers_to_start.v[i]);
        }
        if (!unit_file_has_key(c->unit, "Service", "SyslogIdentifier"))
                unit_file_set(c->service, "Service", "SyslogIdentifier", "%N");

        r = base_command(c, &start);
        if (r < 0)
                return r;
        strv_add(&start, "pod");
        strv_add(&start, "start");
        strv_add(&start, "--pod-id-file=%t/%N.pod-id");
        unit_file_add_cmdline(c->service, "Service", "ExecStart", &start);

        r = base_command(c, &stop);
        if (r < 0)
                return r;
        strv_add(&stop, "pod");
        strv_add(&stop, "stop");
        strv_add(&stop, "--pod-id-file=%t/%N.pod-id");
        strv_add(&stop, "--ignore");
        strv_add(&stop, "--time=10");
        unit_file_add_cmdline(c->service, "Service", "ExecStop", &stop);

        r = base_command(c, &stoppost);
        if (r < 0)
                return r;
        strv_add(&stoppost, "pod");
        strv_add(&stoppost, "rm");
        strv_add(&stoppost, "--pod-id-file=%t/%N.pod-id");
        strv_add(&stoppost, "--ignore");
        strv_add(&stoppost, "--force");
        unit_file_add_cmdline(c->service, "Service", "ExecStopPost", &stoppost);

        if (c->version < QUADLET_PODMAN_VERSION(5, 0)) {
                /* podman 4.x's `pod create --pod-id-file` refuses an existing file ("pod id file
                 * exists"), and `pod rm --pod-id-file` leaves it behind, so a restarted pod unit
                 * fails (seen on the 4.3.1 test bed). Remove stale files first, as 4.3's own
                 * `podman generate systemd --new` does. */
                _cleanup_strv_ Strv rm = {};
                strv_add(&rm, "/bin/rm");
                strv_add(&rm, "-f");
                strv_add(&rm, "%t/%N.pid");
                strv_add(&rm, "%t/%N.pod-id");
                unit_file_add_cmdline(c->service, "Service", "ExecStartPre", &rm);
        }

        r = base_command(c, &pre);
        if (r < 0)
                return r;
        strv_add(&pre, "pod");
        strv_add(&pre, "create");
        strv_add(&pre, "--infra-conmon-pidfile=%t/%N.pid");
        strv_add(&pre, "--pod-id-file=%t/%N.pod-id");
        strv_add(&pre, "--exit-policy=stop");
        strv_add(&pre, "--replace");

        r = handle_user_mappings(c, &pre, true);
        if (r < 0)
                return r;
        add_publish_ports(c, &pre);
        r = add_networks(c, &pre);
        if (r < 0)
                return r;
        static const FlagKey strings[] = { { "IP", "--ip" }, { "IP6", "--ip6" }, { "ShmSize", "--shm-size" } };
        add_strings(c, strings, ELEMENTSOF(strings), &pre);
        static const FlagKey all[] = {
                { "NetworkAlias", "--network-alias" }, { "DNS", "--dns" },       { "DNSOption", "--dns-option" },
                { "DNSSearch", "--dns-search" },       { "AddHost", "--add-host" },
        };
        add_all_strings(c, all, ELEMENTSOF(all), &pre);
        r = add_volumes(c, &pre);
        if (r < 0)
                return r;
        strv_add(&pre, "--infra-name");
        strv_addf(&pre, "%s-infra", pod);
        strv_add(&pre, "--name");
        strv_add(&pre, pod);
        add_podman_args(c, &pre);
        unit_file_add_cmdline(c->service, "Service", "ExecStartPre", &pre);

        unit_file_set(c->service, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
        unit_file_set(c->service, "Service", "Type", "forking");
        unit_file_set(c->service, "Service", "Restart", "on-failure");
        unit_file_set(c->service, "Service", "PIDFile", "%t/%N.pid");
        return strv_error(&start) ?: strv_error(&stop) ?: strv_error(&stoppost) ?: strv_error(&pre);
}

/* ---- entry points ---- */

static bool is_image_id(const char *s) {
        if (startswith(s, "sha256:"))
                return true;
        if (strlen(s) != 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!isxdigit((unsigned char) *p))
                        return false;
        return true;
}

static bool is_unambiguous_name(const char *s) {
        const char *slash;

        if (is_image_id(s))
                return true;
        slash = strchr(s, '/');
        if (!slash)
                return false;
        if (memchr(s, '.', slash - s) || memchr(s, ':', slash - s) ||
            ((size_t) (slash - s) == 9 && strneq(s, "localhost", 9)))
                return true;
        return false;
}

static void warn_if_ambiguous_image(Conv *c) {
        _cleanup_free_ char *img = lookup(c, "Image");

        if (!img || endswith(img, ".image") || endswith(img, ".build"))
                return;
        if (!is_unambiguous_name(img))
                warn(c, "Warning: %s specifies the image \"%s\" which not a fully qualified image name. This is not "
                        "ideal for performance and security reasons. See the podman-pull manpage discussion of "
                        "short-name-aliases.conf for details.",
                     c->unit->filename, img);
}

int quadlet_convert(const UnitFile *unit, const QuadletContext *ctx, UnitFile **ret_service, Strv *warnings,
                    char **ret_error) {
        _cleanup_free_ char *err = NULL;
        Conv c = {
                .unit = unit,
                .ctx = ctx,
                .warnings = warnings,
                .ret_error = &err,
                .version = ctx->podman_version ?: QUADLET_PODMAN_VERSION_DEFAULT,
        };
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!unit->filename)
                return -EINVAL;
        c.type = quadlet_unit_type_from_filename(unit->filename);
        if (c.type < 0) {
                if (ret_error)
                        *ret_error = strdup_printf("unsupported file type %s", unit->filename);
                return -EINVAL;
        }
        c.group = unit_types[c.type].group;
        c.info = quadlet_units_info_find(ctx->units, unit->filename);
        if (!c.info) {
                if (ret_error)
                        *ret_error = strdup_printf("internal error while processing %s", unit->filename);
                return -EINVAL;
        }

        if (c.type == QUADLET_CONTAINER || c.type == QUADLET_IMAGE || c.type == QUADLET_VOLUME)
                warn_if_ambiguous_image(&c);

        r = init_service(&c);
        if (r >= 0) {
                switch (c.type) {
                case QUADLET_CONTAINER: r = convert_container(&c); break;
                case QUADLET_VOLUME: r = convert_volume(&c); break;
                case QUADLET_NETWORK: r = convert_network(&c); break;
                case QUADLET_KUBE: r = convert_kube(&c); break;
                case QUADLET_IMAGE: r = convert_image(&c); break;
                case QUADLET_BUILD: r = convert_build(&c); break;
                case QUADLET_POD: r = convert_pod(&c); break;
                default: r = -EINVAL; break;
                }
        }
        if (r >= 0 && c.service && c.service->oom)
                r = -ENOMEM;
        if (r >= 0 && unit->oom)
                r = -ENOMEM;
        if (r < 0) {
                unit_file_free(c.service);
                if (ret_error)
                        *ret_error = TAKE_PTR(err);
                return r;
        }
        *ret_service = c.service;
        return 0;
}

void quadlet_units_info_done(QuadletUnitsInfo *m) {
        for (size_t i = 0; i < m->n; i++) {
                QuadletUnitInfo *u = m->items[i];
                free(u->filename);
                free(u->service_name);
                free(u->resource_name);
                strv_done(&u->containers_to_start);
                free(u);
        }
        free(m->items);
        *m = (QuadletUnitsInfo) {};
}

/* The index of the first item whose filename sorts after filename (upper), or not before it. */
static size_t units_info_bound(const QuadletUnitsInfo *m, const char *filename, bool upper) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int k = strcmp(m->items[mid]->filename, filename);

                if (k < 0 || (upper && k == 0))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

QuadletUnitInfo *quadlet_units_info_find(const QuadletUnitsInfo *m, const char *filename) {
        size_t i;

        if (!m)
                return NULL;
        i = units_info_bound(m, filename, false);
        return i < m->n && streq(m->items[i]->filename, filename) ? m->items[i] : NULL;
}

int quadlet_units_info_add(QuadletUnitsInfo *m, const UnitFile *unit) {
        QuadletUnitType t = quadlet_unit_type_from_filename(strempty(unit->filename));
        QuadletUnitInfo *u, **ni;
        size_t pos;
        char *sn;

        if (t < 0)
                return -EINVAL;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->filename = strdup(unit->filename);
        sn = unit_file_lookup(unit, unit_types[t].group, "ServiceName");
        u->service_name = sn ? sn : name_from_filename(unit->filename, "");
        if (!sn && u->service_name) {
                char *s = strdup_printf("%s%s", u->service_name, unit_types[t].suffix);
                free(u->service_name);
                u->service_name = s;
        }
        switch (t) {
        case QUADLET_CONTAINER: {
                /* Only %N is resolved; anything else leaves the name unknown. */
                _cleanup_free_ char *n = container_name(unit);
                _cleanup_buf_ Buf b = {};
                if (!n)
                        break;
                for (const char *p = n; *p; p++) {
                        if (p[0] == '%' && p[1] == 'N') {
                                buf_puts(&b, strempty(u->service_name));
                                p++;
                        } else
                                buf_putc(&b, *p);
                }
                {
                        char *s = buf_steal(&b);
                        if (s && !strchr(s, '%'))
                                u->resource_name = s;
                        else
                                free(s);
                }
                break;
        }
        case QUADLET_BUILD: {
                _cleanup_strv_ Strv tags = {};
                unit_file_lookup_all(unit, "Build", "ImageTag", &tags);
                if (tags.n > 0)
                        u->resource_name = strdup(tags.v[0]);
                break;
        }
        case QUADLET_POD: {
                char *pn = unit_file_lookup(unit, "Pod", "PodName");
                if (!nonempty(pn)) {
                        free(pn);
                        pn = name_from_filename(unit->filename, "systemd-");
                }
                u->resource_name = pn;
                break;
        }
        default:
                break;
        }
        if (!u->filename || !u->service_name) {
                free(u->filename);
                free(u->service_name);
                free(u->resource_name);
                free(u);
                return -ENOMEM;
        }
        ni = reallocarray(m->items, m->n + 1, sizeof(*ni));
        if (!ni) {
                free(u->filename);
                free(u->service_name);
                free(u->resource_name);
                free(u);
                return -ENOMEM;
        }
        m->items = ni;
        /* after any equal name, so that find() keeps returning the first one added */
        pos = units_info_bound(m, u->filename, true);
        memmove(m->items + pos + 1, m->items + pos, (m->n - pos) * sizeof(*ni));
        m->items[pos] = u;
        m->n++;
        return 0;
}

int quadlet_install_symlinks(const UnitFile *service, Strv *ret_links, Strv *ret_targets, Strv *warnings) {
        _cleanup_strv_ Strv aliases = {}, links = {};
        _cleanup_free_ char *base = NULL, *inst = NULL, *fn = NULL;
        bool tmpl;

        unit_file_lookup_all_strv(service, "Install", "Alias", &aliases);
        for (size_t i = 0; i < aliases.n; i++)
                strv_consume(&links, path_clean(aliases.v[i]));

        tmpl = unit_file_template_parts(service->filename, &base, &inst);
        if (!base || !inst)
                return -ENOMEM;
        fn = strdup(service->filename);
        if (!fn)
                return -ENOMEM;
        if (tmpl && !inst[0]) {
                _cleanup_free_ char *di = unit_file_lookup(service, "Install", "DefaultInstance");
                free(fn);
                fn = NULL;
                if (di) {
                        /* upstream: parts[0] + "@" + DefaultInstance + parts[1] of the template base */
                        fn = strdup_printf("%s@%s.service", base, di);
                        if (!fn)
                                return -ENOMEM;
                }
        }
        if (fn) {
                static const char *const kinds[][2] = { { "WantedBy", "wants" }, { "RequiredBy", "requires" } };
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        _cleanup_strv_ Strv v = {};
                        unit_file_lookup_all_strv(service, "Install", kinds[k][0], &v);
                        for (size_t i = 0; i < v.n; i++)
                                if (!strchr(v.v[i], '/'))
                                        strv_addf(&links, "%s.%s/%s", v.v[i], kinds[k][1], fn);
                        if (v.oom)
                                return -ENOMEM;
                }
        }
        if (links.oom || aliases.oom)
                return -ENOMEM;

        for (size_t i = 0; i < links.n; i++) {
                /* filepath.Rel(dir(link), service filename): "../" per directory level of the link */
                _cleanup_buf_ Buf t = {};
                _cleanup_free_ char *d = dirname_of(links.v[i]);
                if (!d)
                        return -ENOMEM;
                if (!streq(d, ".")) {
                        /* Go's filepath.Rel fails for an absolute directory or one that climbs out
                         * with "..": podman logs and skips the link. Skipping also keeps every
                         * link inside the output directory. */
                        if (d[0] == '/' || streq(d, "..") || startswith(d, "../")) {
                                if (warnings)
                                        strv_addf(warnings, "Can't create symlink %s: Rel: can't make %s relative to %s",
                                                  links.v[i], service->filename, d);
                                continue;
                        }
                        for (const char *p = d; p; p = strchr(p + 1, '/'))
                                buf_puts(&t, "../");
                }
                buf_puts(&t, service->filename);
                strv_add(ret_links, links.v[i]);
                strv_consume(ret_targets, buf_steal(&t));
        }
        return strv_error(ret_links) ?: strv_error(ret_targets);
}

int quadlet_dropin_dirs(const char *filename, Strv *ret) {
        _cleanup_free_ char *base = NULL, *inst = NULL;
        const char *ext = strrchr(filename, '.');
        _cleanup_strv_ Strv list = {};
        bool tmpl;

        if (!ext)
                return -EINVAL;
        tmpl = unit_file_template_parts(filename, &base, &inst);
        if (!base || !inst)
                return -ENOMEM;
        strv_addf(&list, "%s.d", ext + 1);
        /* truncations at each '-' of the unit (template) name: "foo-.container.d" … */
        for (const char *p = base; (p = strchr(p, '-')); p++) {
                int n = (int) (p - base + 1);
                strv_addf(&list, "%.*s%s.d", n, base, ext);
                if (tmpl)
                        strv_addf(&list, "%.*s@%s.d", n, base, ext);
        }
        if (inst[0])
                strv_addf(&list, "%s@%s.d", base, ext);
        strv_addf(&list, "%s.d", filename);
        for (size_t i = list.n; i > 0; i--)
                strv_add(ret, list.v[i - 1]);
        return strv_error(ret) ?: strv_error(&list);
}

/* A port of Go's sort.Slice (pattern-defeating quicksort, Go >= 1.19, src/sort/zsortfunc.go), so
 * units of equal weight are converted in exactly the order podman 5.4.2 converts them: that order
 * decides which of two units with the same service name is written last, the order of a pod's
 * Wants=/Before= lines and the order of error messages. */
typedef struct GoSort {
        UnitFile **v;
        int *w;
} GoSort;

static bool gs_less(GoSort *d, long i, long j) {
        return d->w[i] < d->w[j];
}

static void gs_swap(GoSort *d, long i, long j) {
        UnitFile *t = d->v[i];
        int tw = d->w[i];
        d->v[i] = d->v[j];
        d->w[i] = d->w[j];
        d->v[j] = t;
        d->w[j] = tw;
}

static int bits_len(unsigned long x) {
        int n = 0;
        while (x) {
                n++;
                x >>= 1;
        }
        return n;
}

static void gs_insertion(GoSort *d, long a, long b) {
        for (long i = a + 1; i < b; i++)
                for (long j = i; j > a && gs_less(d, j, j - 1); j--)
                        gs_swap(d, j, j - 1);
}

static void gs_sift_down(GoSort *d, long lo, long hi, long first) {
        long root = lo;
        for (;;) {
                long child = 2 * root + 1;
                if (child >= hi)
                        return;
                if (child + 1 < hi && gs_less(d, first + child, first + child + 1))
                        child++;
                if (!gs_less(d, first + root, first + child))
                        return;
                gs_swap(d, first + root, first + child);
                root = child;
        }
}

static void gs_heap(GoSort *d, long a, long b) {
        long first = a, hi = b - a;
        for (long i = (hi - 1) / 2; i >= 0; i--)
                gs_sift_down(d, i, hi, first);
        for (long i = hi - 1; i >= 0; i--) {
                gs_swap(d, first, first + i);
                gs_sift_down(d, 0, i, first);
        }
}

static long gs_partition(GoSort *d, long a, long b, long pivot, bool *already) {
        long i = a + 1, j = b - 1;

        gs_swap(d, a, pivot);
        while (i <= j && gs_less(d, i, a))
                i++;
        while (i <= j && !gs_less(d, j, a))
                j--;
        if (i > j) {
                gs_swap(d, j, a);
                *already = true;
                return j;
        }
        gs_swap(d, i, j);
        i++;
        j--;
        for (;;) {
                while (i <= j && gs_less(d, i, a))
                        i++;
                while (i <= j && !gs_less(d, j, a))
                        j--;
                if (i > j)
                        break;
                gs_swap(d, i, j);
                i++;
                j--;
        }
        gs_swap(d, j, a);
        *already = false;
        return j;
}

static long gs_partition_equal(GoSort *d, long a, long b, long pivot) {
        long i = a + 1, j = b - 1;

        gs_swap(d, a, pivot);
        for (;;) {
                while (i <= j && !gs_less(d, a, i))
                        i++;
                while (i <= j && gs_less(d, a, j))
                        j--;
                if (i > j)
                        break;
                gs_swap(d, i, j);
                i++;
                j--;
        }
        return i;
}

static bool gs_partial_insertion(GoSort *d, long a, long b) {
        long i = a + 1;
        for (int step = 0; step < 5; step++) {
                while (i < b && !gs_less(d, i, i - 1))
                        i++;
                if (i == b)
                        return true;
                if (b - a < 50)
                        return false;
                gs_swap(d, i, i - 1);
                if (i - a >= 2)
                        for (long j = i - 1; j >= 1; j--) {
                                if (!gs_less(d, j, j - 1))
                                        break;
                                gs_swap(d, j, j - 1);
                        }
                if (b - i >= 2)
                        for (long j = i + 1; j < b; j++) {
                                if (!gs_less(d, j, j - 1))
                                        break;
                                gs_swap(d, j, j - 1);
                        }
        }
        return false;
}

static void gs_break_patterns(GoSort *d, long a, long b) {
        long length = b - a;
        if (length >= 8) {
                uint64_t r = (uint64_t) length;
                unsigned long modulus = 1ul << bits_len((unsigned long) length);
                for (long idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
                        long other;
                        r ^= r << 13;
                        r ^= r >> 7;
                        r ^= r << 17;
                        other = (long) ((unsigned long) r & (modulus - 1));
                        if (other >= length)
                                other -= length;
                        gs_swap(d, idx, a + other);
                }
        }
}

static void gs_order2(GoSort *d, long *a, long *b, int *swaps) {
        if (gs_less(d, *b, *a)) {
                long t = *a;
                (*swaps)++;
                *a = *b;
                *b = t;
        }
}

static long gs_median(GoSort *d, long a, long b, long c, int *swaps) {
        gs_order2(d, &a, &b, swaps);
        gs_order2(d, &b, &c, swaps);
        gs_order2(d, &a, &b, swaps);
        return b;
}

enum { HINT_UNKNOWN, HINT_INCREASING, HINT_DECREASING };

static long gs_choose_pivot(GoSort *d, long a, long b, int *hint) {
        long l = b - a, i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;
        int swaps = 0;

        if (l >= 8) {
                if (l >= 50) {
                        i = gs_median(d, i - 1, i, i + 1, &swaps);
                        j = gs_median(d, j - 1, j, j + 1, &swaps);
                        k = gs_median(d, k - 1, k, k + 1, &swaps);
                }
                j = gs_median(d, i, j, k, &swaps);
        }
        *hint = swaps == 0 ? HINT_INCREASING : swaps == 12 ? HINT_DECREASING : HINT_UNKNOWN;
        return j;
}

static void gs_pdqsort(GoSort *d, long a, long b, int limit) {
        bool was_balanced = true, was_partitioned = true;

        for (;;) {
                long length = b - a, pivot, mid;
                int hint;
                bool already;

                if (length <= 12) {
                        gs_insertion(d, a, b);
                        return;
                }
                if (limit == 0) {
                        gs_heap(d, a, b);
                        return;
                }
                if (!was_balanced) {
                        gs_break_patterns(d, a, b);
                        limit--;
                }
                pivot = gs_choose_pivot(d, a, b, &hint);
                if (hint == HINT_DECREASING) {
                        for (long i = a, j = b - 1; i < j; i++, j--)
                                gs_swap(d, i, j);
                        pivot = (b - 1) - (pivot - a);
                        hint = HINT_INCREASING;
                }
                if (was_balanced && was_partitioned && hint == HINT_INCREASING && gs_partial_insertion(d, a, b))
                        return;
                if (a > 0 && !gs_less(d, a - 1, pivot)) {
                        a = gs_partition_equal(d, a, b, pivot);
                        continue;
                }
                mid = gs_partition(d, a, b, pivot, &already);
                was_partitioned = already;
                if (mid - a < b - mid) {
                        was_balanced = mid - a >= length / 8;
                        gs_pdqsort(d, a, mid, limit);
                        a = mid + 1;
                } else {
                        was_balanced = b - mid >= length / 8;
                        gs_pdqsort(d, mid + 1, b, limit);
                        b = mid;
                }
        }
}

void quadlet_sort_units(UnitFile **units, size_t n) {
        _cleanup_free_ int *w = NULL;
        GoSort d;

        if (n < 2)
                return;
        w = calloc(n, sizeof(int));
        if (!w) {
                /* fall back to a stable insertion sort; only the order among equals differs */
                for (size_t i = 1; i < n; i++) {
                        UnitFile *x = units[i];
                        int ox = quadlet_unit_type_order(quadlet_unit_type_from_filename(strempty(x->filename)));
                        size_t j = i;
                        while (j > 0 && quadlet_unit_type_order(quadlet_unit_type_from_filename(
                                                strempty(units[j - 1]->filename))) > ox) {
                                units[j] = units[j - 1];
                                j--;
                        }
                        units[j] = x;
                }
                return;
        }
        for (size_t i = 0; i < n; i++)
                w[i] = quadlet_unit_type_order(quadlet_unit_type_from_filename(strempty(units[i]->filename)));
        d = (GoSort) { .v = units, .w = w };
        gs_pdqsort(&d, 0, (long) n, bits_len((unsigned long) n));
}

int quadlet_parse_podman_version(const char *s, unsigned *ret) {
        unsigned major = 0, minor = 0;
        const char *p;
        int n = 0;

        p = strstr(s, "version ");
        if (p)
                s = p + strlen("version ");
        while (*s == ' ')
                s++;
        if (sscanf(s, "%u.%u%n", &major, &minor, &n) < 2 || n <= 0)
                return -EINVAL;
        if (major > 99 || minor > 99)
                return -ERANGE;
        *ret = QUADLET_PODMAN_VERSION(major, minor);
        return 0;
}
