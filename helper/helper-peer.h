/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who is on the other end of the connection, as the kernel says (SO_PEERCRED), pinned so that a
 * pid reused by another process is noticed (helper-anchors.md §1.5). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct Peer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        uint64_t start_time; /* field 22 of /proc/PID/stat, read right after accept */
        int proc_fd;         /* O_DIRECTORY fd of /proc/PID, pins the process for re-reads */
        int pidfd;           /* SO_PEERPIDFD where the kernel has it (≥ 6.5), else -EBADF */
} Peer;

#define PEER_NULL ((Peer) { .proc_fd = -EBADF, .pidfd = -EBADF })

/* Fills *ret from a connected AF_UNIX socket. -EPERM for identities polkit cannot represent safely
 * (uid > INT32_MAX, the overflow uid 65534, pid ≤ 0), -ESRCH if the peer already vanished. */
int peer_identify(int fd, Peer *ret);
/* 0 if the same process still exists with the same start time and the connection is still open,
 * -ESRCH otherwise. */
int peer_verify(const Peer *p, int fd);
void peer_done(Peer *p);

/* Parses the start time (field 22) from the contents of /proc/PID/stat. comm (field 2) may contain
 * spaces and parentheses, so fields are counted after the last ')'. */
int proc_stat_parse_start_time(const char *stat, uint64_t *ret);
