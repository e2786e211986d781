/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small allocator for the unroot-quadlet executable only (not the library, not the agent).
 *
 * Why: a generator run is one short, single-threaded process that makes ~55,000 small allocations
 * (unit lines, keys, values, command-line words) with a peak of ~200 KiB live. glibc's malloc and
 * free, with their locking, binning and consolidation, were a third of the run's instructions.
 * Here a block's size class sits in a 16-byte header; freed blocks go on a per-class list and are
 * reused as they are (no splitting or merging), fresh ones are cut from 1 MiB mmap()ed chunks, and
 * blocks above 1 MiB get their own mapping. Memory stays close to glibc's because freed blocks
 * are reused at once.
 *
 * It replaces malloc and its relatives for the whole program, as glibc documents ("Replacing
 * malloc": malloc, free, calloc, realloc, aligned_alloc, malloc_usable_size, memalign,
 * posix_memalign, pvalloc, valloc). Not thread-safe: unroot-quadlet starts no threads. Only built
 * into the static, unsanitized executable (agent/quadlet/meson.build); sanitizer builds use the
 * C library's allocator, so ASan still sees every allocation of the same code. */

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN 16u
#define HDR 16u
#define SMALL_MAX 1024u               /* 16-byte steps up to here: classes 0..63 */
#define N_SMALL (SMALL_MAX / ALIGN)
#define N_POW 10                      /* then powers of two: 2 KiB .. 1 MiB */
#define CHUNK (1u << 20)
#define CLASS_HUGE 0xfffffffeu        /* own mapping; size in the header */
#define CLASS_ALIGNED 0xfffffffdu     /* over-aligned: header points back to the real block */

typedef struct Header {
        uint32_t cls;
        uint32_t back;  /* CLASS_ALIGNED: offset back to the real block's payload */
        uint64_t size;  /* CLASS_HUGE: mapping size */
} Header;
_Static_assert(sizeof(Header) == HDR, "header must keep payloads 16-byte aligned");

static void *free_lists[N_SMALL + N_POW];
static char *chunk_pos, *chunk_end;

static inline Header *hdr(void *p) {
        return (Header *) ((char *) p - HDR);
}

static size_t class_size(uint32_t cls) {
        return cls < N_SMALL ? (size_t) (cls + 1) * ALIGN : (size_t) 2048 << (cls - N_SMALL);
}

/* The class for n bytes, or UINT32_MAX if n is above 1 MiB. */
static uint32_t size_class(size_t n) {
        if (n <= SMALL_MAX)
                return n == 0 ? 0 : (uint32_t) ((n - 1) / ALIGN);
        for (uint32_t c = N_SMALL; c < N_SMALL + N_POW; c++)
                if (n <= class_size(c))
                        return c;
        return UINT32_MAX;
}

static void *map(size_t n) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

static void *alloc_huge(size_t n) {
        size_t total;
        Header *h;

        if (__builtin_add_overflow(n, HDR + (size_t) getpagesize() - 1, &total))
                return NULL;
        total &= ~((size_t) getpagesize() - 1);
        h = map(total);
        if (!h)
                return NULL;
        h->cls = CLASS_HUGE;
        h->size = total;
        return (char *) h + HDR;
}

void *malloc(size_t n) {
        uint32_t cls = size_class(n);
        size_t need;
        Header *h;

        if (cls == UINT32_MAX) {
                void *p = alloc_huge(n);
                if (!p)
                        errno = ENOMEM;
                return p;
        }
        if (free_lists[cls]) {
                void *p = free_lists[cls];
                free_lists[cls] = *(void **) p;
                return p;
        }
        need = HDR + class_size(cls);
        if ((size_t) (chunk_end - chunk_pos) < need) {
                /* the rest of the old chunk is left unused (at most one class size) */
                char *c = map(CHUNK);
                if (!c) {
                        errno = ENOMEM;
                        return NULL;
                }
                chunk_pos = c;
                chunk_end = c + CHUNK;
        }
        h = (Header *) chunk_pos;
        chunk_pos += need;
        h->cls = cls;
        return (char *) h + HDR;
}

void free(void *p) {
        Header *h;

        if (!p)
                return;
        h = hdr(p);
        if (h->cls == CLASS_ALIGNED) {
                free((char *) p - h->back);
                return;
        }
        if (h->cls == CLASS_HUGE) {
                (void) munmap(h, h->size);
                return;
        }
        *(void **) p = free_lists[h->cls];
        free_lists[h->cls] = p;
}

static size_t usable(void *p) {
        Header *h = hdr(p);

        if (h->cls == CLASS_ALIGNED) {
                char *real = (char *) p - h->back;
                return usable(real) - h->back;
        }
        if (h->cls == CLASS_HUGE)
                return h->size - HDR;
        return class_size(h->cls);
}

size_t malloc_usable_size(void *p) {
        return p ? usable(p) : 0;
}

void *calloc(size_t n, size_t size) {
        size_t total;
        void *p;

        if (__builtin_mul_overflow(n, size, &total)) {
                errno = ENOMEM;
                return NULL;
        }
        p = malloc(total);
        if (p)
                memset(p, 0, total);
        return p;
}

void *realloc(void *p, size_t n) {
        size_t have;
        void *q;

        if (!p)
                return malloc(n);
        have = usable(p);
        if (n <= have && hdr(p)->cls != CLASS_HUGE)
                return p;
        q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, have < n ? have : n);
        free(p);
        return q;
}

void *aligned_alloc(size_t align, size_t n) {
        char *raw, *p;
        size_t total;

        if (align <= ALIGN)
                return malloc(n);
        if ((align & (align - 1)) != 0) {
                errno = EINVAL;
                return NULL;
        }
        if (__builtin_add_overflow(n, align + HDR, &total)) {
                errno = ENOMEM;
                return NULL;
        }
        raw = malloc(total);
        if (!raw)
                return NULL;
        p = (char *) (((uintptr_t) raw + HDR + align - 1) & ~(uintptr_t) (align - 1));
        hdr(p)->cls = CLASS_ALIGNED;
        hdr(p)->back = (uint32_t) (p - raw);
        return p;
}

void *memalign(size_t align, size_t n) {
        return aligned_alloc(align, n);
}

int posix_memalign(void **ret, size_t align, size_t n) {
        void *p;

        if (align < sizeof(void *) || (align & (align - 1)) != 0)
                return EINVAL;
        p = aligned_alloc(align, n);
        if (!p)
                return ENOMEM;
        *ret = p;
        return 0;
}

void *valloc(size_t n) {
        return aligned_alloc((size_t) getpagesize(), n);
}

void *pvalloc(size_t n) {
        size_t page = (size_t) getpagesize();

        if (__builtin_add_overflow(n, page - 1, &n)) {
                errno = ENOMEM;
                return NULL;
        }
        return aligned_alloc(page, n & ~(page - 1));
}
