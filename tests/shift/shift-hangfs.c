/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A FUSE file system that never answers (helper-anchors.md §5.5): every getattr, lookup and
 * readdir blocks forever. Mounted inside a tree being shifted, it shows that the walk never enters
 * a mount (RESOLVE_NO_XDEV refuses the crossing before the kernel asks the daemon anything).
 * usage: shift-hangfs MOUNTPOINT -f -s */
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <unistd.h>

static int hang_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        for (;;)
                pause();
        return 0;
}

static int hang_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                        enum fuse_readdir_flags flags) {
        for (;;)
                pause();
        return 0;
}

static const struct fuse_operations ops = {
        .getattr = hang_getattr,
        .readdir = hang_readdir,
};

int main(int argc, char *argv[]) {
        return fuse_main(argc, argv, &ops, NULL);
}
