/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A container's health, read from podman's own files rather than by running podman (no exec, no
 * user namespace to join, nothing to wait for). Quadlet's container units write the container id
 * to %t/%N.cid; podman 4.x keeps the result of the last health check run as JSON in
 * healthcheck.log next to the container's run directory ({"Status":"healthy",...}). */

/* Pure: the "Status" value of a healthcheck.log document, or -ENODATA. */
int health_parse_log(const char *json, char **ret);

/* The container id (64 hex digits) that the container of service unit (e.g. "web.service") wrote
 * to <root><runtime_dir>/<name>.cid; -ENOENT when there is none or it is not an id. The file is
 * the user's: opened without following a symlink or blocking on a FIFO. */
int unit_container_id(const char *root, const char *runtime_dir, const char *unit, char **ret);

/* Health of the container of service unit (e.g. "web.service") of a user whose runtime dir is
 * runtime_dir: "healthy", "unhealthy", "starting"; -ENOENT when there is no cid file or no
 * health log (no health check, or not running). root prefixes every path (NULL = /). */
int container_health(const char *root, const char *runtime_dir, const char *home, const char *unit, char **ret);
