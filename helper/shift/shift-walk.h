/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The ownership shift of one directory tree and its rollback, by fd only (helper-anchors.md §3.3):
 *  - every entry is opened with openat2(O_NOFOLLOW, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
 *    RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS) relative to its parent's fd, then statx()ed, and changed
 *    (owner and xattrs) through that fd; no path string is ever resolved from the top again during
 *    the shift. The fd is an O_PATH pin (fchownat(fd, "", AT_EMPTY_PATH), xattrs by /proc/self/fd),
 *    or a real open where no open() can have an effect: directories (O_DIRECTORY), and regular files
 *    on a nodev mount (see open_entry() in shift-walk.c);
 *  - symlinks are changed as links and never followed; mount points (EXDEV, or a statx mount id
 *    other than the top's) and non-directories with more than one link are skipped and reported;
 *  - only inodes whose owner and group are both in the source domain of the map are changed.
 *
 * Journal (shift-journal.h): entries are pinned in batches; the batch's records are appended and
 * fdatasync()ed, and only then are the batch's changes made. So every change on disk has a durable
 * record, whatever the crash; a torn tail only ever describes changes that were not made. A re-run
 * reads the journal: journaled inodes still at their old owner get their recorded change, the rest
 * of the tree is walked as before, and inodes already changed are left alone. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "shift-idmap.h"

#define SHIFT_DEPTH_MAX 256U
#define SHIFT_ENTRIES_MAX (16U * 1024U * 1024U)
#define SHIFT_BATCH_MAX 4096U

typedef struct ShiftStats {
        uint64_t scanned;   /* entries looked at */
        uint64_t changed;   /* inodes changed by this run */
        uint64_t unchanged; /* already right (journaled earlier, or nothing to do) */
        uint64_t skipped;   /* left alone and reported: mounts, hardlinks, foreign owners, unmapped ids */
        uint64_t failed;    /* a change was attempted and failed (e.g. EPERM on an immutable file) */
        uint64_t mismatched; /* rollback: the inode is no longer what the journal describes */
} ShiftStats;

/* reason is a short phrase ("mount point", "hardlinked (2 links)", …), relpath relative to the top. */
typedef void (*ShiftReportFn)(const char *reason, const char *relpath, void *userdata);

typedef struct ShiftParams {
        int top_fd;           /* O_PATH fd of the directory to shift, pinned by the caller */
        const char *top_path; /* its absolute path, for the journal header */
        const char *account;
        ShiftMap map;
        int journal_fd;       /* read-write, locked by the caller; empty for a new shift */
        unsigned max_depth;   /* 0: SHIFT_DEPTH_MAX */
        uint64_t max_entries; /* 0: SHIFT_ENTRIES_MAX */
        unsigned batch;       /* 0: SHIFT_BATCH_MAX, lowered to what RLIMIT_NOFILE allows */
        unsigned defer;       /* tests only: 1 + how many eighths of the entries get their xattrs read by
                               * the applier thread, fixed; 0: balanced as the run goes */
        bool no_sync;         /* benchmarks and tests only: skip fdatasync */
        ShiftReportFn report;
        void *userdata;
} ShiftParams;

/* Shift (or resume a shift of) the tree. 1 if anything changed, 0 if the journal says the shift
 * completed before (nothing is touched then), <0 with e filled. Skips are not errors. */
int shift_tree(const ShiftParams *p, ShiftStats *ret_stats, ErrorInfo *e);

/* Undo what the journal records, newest first: owner, mode, ACLs and capabilities of every journaled
 * inode that is still the same inode (dev, ino) at the same path and still has the new owner (or
 * already the old one). Does not remove the journal. 1 if anything changed, 0 if not. */
int shift_rollback(const ShiftParams *p, ShiftStats *ret_stats, ErrorInfo *e);
