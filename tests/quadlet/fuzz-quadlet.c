/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the Quadlet parser, converters and writer. Byte 0 picks the unit type,
 * byte 1 the mode and target podman version; the rest is the unit file. Built as a real fuzzer
 * with -Dfuzz=true (clang), and replayed over fuzz-corpus/ and podman's corpus in the normal
 * suite through fuzz-main.c. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quadlet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int exists(const char *path, void *userdata) {
        return path[0] != 0 && path[1] != 'x';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = {
                "fuzz.container", "fuzz@.volume", "fuzz.network", "fuzz.kube", "fuzz.image", "fuzz.build", "fuzz.pod",
        };
        static const char *const deps[] = {
                "/q/basic.volume", "/q/basic.network", "/q/basic.image", "/q/basic.build", "/q/basic.pod",
                "/q/basic.container",
        };
        _cleanup_unit_file_ UnitFile *f = NULL, *svc = NULL;
        _cleanup_free_ char *err = NULL, *text = NULL, *path = NULL;
        _cleanup_strv_ Strv warnings = {}, links = {}, targets = {};
        QuadletUnitsInfo info = {};
        uint8_t sel, mode;

        if (size < 2)
                return 0;
        sel = data[0];
        mode = data[1];
        path = strdup_printf("/q/%s", names[sel % ELEMENTSOF(names)]);
        if (!path)
                return 0;
        if (unit_file_parse((const char *) data + 2, size - 2, path, &f, &err) < 0)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(deps); i++) {
                _cleanup_unit_file_ UnitFile *d = NULL;
                const char *hdr = strstr(deps[i], ".volume") ? "[Volume]\n" : "[X]\n";
                if (unit_file_parse(hdr, strlen(hdr), deps[i], &d, NULL) >= 0)
                        (void) quadlet_units_info_add(&info, d);
        }
        (void) quadlet_units_info_add(&info, f);

        QuadletContext ctx = {
                .is_user = mode & 1,
                .podman_version = (mode & 2) ? QUADLET_PODMAN_VERSION(4, 3) : QUADLET_PODMAN_VERSION(5, 4),
                .units = &info,
                .path_exists = exists,
        };
        if (quadlet_convert(f, &ctx, &svc, &warnings, &err) >= 0) {
                (void) unit_file_to_string(svc, &text);
                (void) quadlet_install_symlinks(svc, &links, &targets, &warnings);
        }
        quadlet_units_info_done(&info);
        return 0;
}
