/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-health.h"
#include "macro.h"
#include "strv.h"

/* Health logs hold the last few check outputs; a bounded read is plenty for the status, which
 * comes first. */
#define HEALTH_READ_MAX (64U * 1024U)

int health_parse_log(const char *json, char **ret) {
        const char *p = strstr(json, "\"Status\"");
        size_t n;

        if (!p)
                return -ENODATA;
        p += strlen("\"Status\"");
        p += strspn(p, " \t\r\n");
        if (*p != ':')
                return -ENODATA;
        p++;
        p += strspn(p, " \t\r\n");
        if (*p != '"')
                return -ENODATA;
        p++;
        n = strcspn(p, "\"\\");
        if (p[n] != '"' || n == 0 || n > 32)
                return -ENODATA;
        *ret = strndup(p, n);
        return *ret ? 0 : -ENOMEM;
}

static int read_small(const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        size_t off = 0;

        if (fd < 0)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        while (off < max) {
                ssize_t k = read(fd, buf + off, max - off);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                off += (size_t) k;
        }
        buf[off] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int unit_container_id(const char *root, const char *runtime_dir, const char *unit, char **ret) {
        const char *pre = !root || !root[0] || streq(root, "/") ? "" : root;
        _cleanup_free_ char *cidfile = NULL, *cid = NULL;
        size_t n = strlen(unit);
        int r;

        if (!runtime_dir || n <= 8 || !streq(unit + n - 8, ".service"))
                return -ENOENT;
        cidfile = strdup_printf("%s%s/%.*s.cid", pre, runtime_dir, (int) (n - 8), unit);
        if (!cidfile)
                return -ENOMEM;
        r = read_small(cidfile, 128, &cid);
        if (r < 0)
                return r;
        cid[strcspn(cid, " \t\r\n")] = 0;
        if (strlen(cid) != 64 || strspn(cid, "0123456789abcdef") != 64)
                return -ENOENT;
        *ret = TAKE_PTR(cid);
        return 0;
}

int container_health(const char *root, const char *runtime_dir, const char *home, const char *unit, char **ret) {
        const char *pre = !root || !root[0] || streq(root, "/") ? "" : root;
        _cleanup_free_ char *cid = NULL;
        int r;

        r = unit_container_id(root, runtime_dir, unit, &cid);
        if (r < 0)
                return r;

        /* podman 4.3 keeps the log next to the container's run directory
         * (<runroot>/<driver>-containers/ID/healthcheck.log, runroot = $XDG_RUNTIME_DIR/containers
         * for rootless), older versions inside userdata of the persistent storage. The storage
         * driver (overlay, vfs, btrfs) names the directory, so every "*-containers" is tried. */
        for (unsigned i = 0; i < 2; i++) {
                _cleanup_free_ char *base = NULL;
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;

                if (i == 0)
                        base = strdup_printf("%s%s/containers", pre, runtime_dir);
                else if (home)
                        base = strdup_printf("%s%s/.local/share/containers/storage", pre, home);
                else
                        break;
                if (!base)
                        return -ENOMEM;
                d = opendir(base);
                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        size_t l = strlen(de->d_name);
                        if (l <= 11 || !streq(de->d_name + l - 11, "-containers"))
                                continue;
                        for (unsigned k = 0; k < 2; k++) {
                                _cleanup_free_ char *path = NULL, *json = NULL;
                                path = strdup_printf("%s/%s/%s/%shealthcheck.log", base, de->d_name, cid,
                                                     k == 0 ? "" : "userdata/");
                                if (!path)
                                        return -ENOMEM;
                                if (read_small(path, HEALTH_READ_MAX, &json) < 0)
                                        continue;
                                r = health_parse_log(json, ret);
                                if (r != -ENODATA)
                                        return r;
                        }
                }
        }
        return -ENOENT;
}
