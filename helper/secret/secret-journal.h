/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The secret-group journal: what one "secret-group ACCOUNT FILE GROUP" found before it changed
 * anything, so that its rollback restores exactly that. One small text file per (account, file),
 * always replaced whole (temp file, fsync, rename, fsync of the directory), so it is old or new,
 * never torn. Written before the account files and the secret file are touched; a re-run keeps the
 * first journal's "previous" values and only adds what it did on top.
 *
 *   unroot-secret-group 1
 *   account container-monitor
 *   group technitium-readers
 *   gid 998
 *   file /var/lib/dns-query-exporter/token
 *   inode 2049 131078
 *   owner 997
 *   previous-gid 997
 *   previous-mode 0600
 *   group-created yes
 *   member-added yes
 *
 * Pure: formatting and strict parsing only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "shift-roots.h"

#define SECRET_JOURNAL_MAGIC "unroot-secret-group"
#define SECRET_JOURNAL_VERSION 1U
/* Below the helper's state directory. Not a valid account name (no '_' there), so no account's home
 * (<statedir>/<account>) can ever be this directory. */
#define SECRET_STATE_SUBDIR "secret_group"
/* Markers of the groups unroot created, next to the journals: <statedir>/secret_group/<group>.group,
 * holding "gid N". (Journals end in ".journal", so the names never meet.) */
#define SECRET_MARKER_SUFFIX ".group"

typedef struct SecretJournal {
        char account[32];
        char group[32];
        uint32_t gid;             /* the group's gid as set on the file */
        char file[SHIFT_PATH_MAX + 1];
        uint64_t dev, ino;        /* the file's inode: a replaced file is never "restored" */
        uint32_t owner;           /* the file's owner, never changed */
        uint32_t previous_gid;
        uint32_t previous_mode;   /* permission bits, 07777 */
        bool group_created;       /* this request created the group */
        bool member_added;        /* this request added the account to the group */
} SecretJournal;

int secret_journal_format(const SecretJournal *j, char **ret, size_t *ret_len);
/* -EBADMSG with e naming the line for anything but exactly the format above. */
int secret_journal_parse(const char *data, size_t len, SecretJournal *ret, ErrorInfo *e);

int secret_marker_format(uint32_t gid, char buf[static 32]);
/* "gid N\n"; -EBADMSG otherwise. */
int secret_marker_parse(const char *data, size_t len, uint32_t *ret_gid);
