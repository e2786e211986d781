/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The transaction writer (helper-anchors.md §2.6). For every changed file: a temp file in the same
 * directory (unpredictable name, O_EXCL, relative to the pinned /etc fd), explicit fchmod/fchown
 * from the EtcFile's mode/uid/gid, write, fsync; a "<file>-" backup of the old contents written the
 * same atomic way with the same mode and owner. Only when every temp file is durable: rename the
 * backups, then the files in EtcKind order (group, gshadow, passwd, shadow, subuid, subgid), then
 * fsync the directory once. Any error before the first rename of a primary file unlinks every temp
 * file and leaves the primary files untouched. An error during the primary renames leaves a prefix
 * of that order in place (each file old or new, never torn), which a re-run of the same operation
 * completes. */

#include <stddef.h>

#include "error.h"
#include "etcfile.h"

/* Temp files are named ".#unroot-<file>.<16 hex digits>" ("<file>-" for backups). */
#define ETC_TEMP_PREFIX ".#unroot-"

/* files[k] must have kind k, for all k < _ETC_KIND_MAX. Returns 0 if nothing was changed, 1 if
 * files were replaced. */
int etc_write_files(int etcfd, EtcFile files[static _ETC_KIND_MAX], ErrorInfo *e);

typedef enum EtcWriteOrder {
        ETC_WRITE_ADD,    /* group, gshadow, passwd, shadow, subuid, subgid */
        ETC_WRITE_REMOVE, /* the reverse: subgid … group, membership in unroot-accounts last */
} EtcWriteOrder;
int etc_write_files_ordered(int etcfd, EtcFile files[static _ETC_KIND_MAX], EtcWriteOrder order, ErrorInfo *e);

/* Unlinks temp files left by a killed run. Call with /etc/.pwd.lock held. Returns how many. */
int etc_write_clean_stale(int etcfd);

/* Test seam: called before each step ("create", "write", "fsync", "rename-backup", "rename",
 * "fsync-dir") with the file name; a negative return is injected as that step's error. */
typedef int (*EtcWriteFault)(const char *step, const char *file);
void etc_write_set_fault(EtcWriteFault f);
