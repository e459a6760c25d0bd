/*
 * alloccount.so: counts heap allocations of the process it is preloaded into.
 *
 *   ALLOCCOUNT_FILE=/tmp/counts LD_PRELOAD=build/tests/alloccount.so build/iisd ...
 *
 * The counters live in a shared page mapped from ALLOCCOUNT_FILE, so another
 * process (tests/alloc/check_alloc.py) reads and resets them while the server
 * runs. Layout (native-endian uint64): [0] allocations, [1] bytes, [2] armed
 * flag, [3] allocations seen while armed, then ALLOC_SITES records of ALLOC_FRAMES
 * return addresses each (innermost first) for the first allocations made while armed. Only malloc-family
 * entry points are counted: free is not an allocation.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <execinfo.h>
#include <unistd.h>

#define ALLOC_SITES  16 /* allocations recorded while armed */
#define ALLOC_FRAMES 4  /* return addresses kept per allocation */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic uint64_t *counts;

__attribute__((constructor)) static void alloccount_init(void)
{
    const char *path = getenv("ALLOCCOUNT_FILE");
    if (path == NULL)
        return;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    void *warm[2];
    backtrace(warm, 2); /* loads the unwinder now: it allocates the first time */
    if (p != MAP_FAILED)
        counts = p;
}

static _Thread_local int in_note;

static void note(size_t n)
{
    if (counts == NULL)
        return;
    atomic_fetch_add_explicit(&counts[0], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&counts[1], n, memory_order_relaxed);
    if (atomic_load_explicit(&counts[2], memory_order_relaxed)) {
        uint64_t i = atomic_fetch_add_explicit(&counts[3], 1, memory_order_relaxed);
        if (i < ALLOC_SITES && !in_note) {
            void *frames[ALLOC_FRAMES + 2];
            in_note = 1;
            int k = backtrace(frames, ALLOC_FRAMES + 2);
            in_note = 0;
            for (int f = 0; f < ALLOC_FRAMES; f++)
                atomic_store_explicit(&counts[4 + i * ALLOC_FRAMES + f],
                                      f + 2 < k ? (uint64_t)(uintptr_t)frames[f + 2] : 0,
                                      memory_order_relaxed);
        }
    }
}

void *malloc(size_t n)
{
    note(n);
    return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
    note(k * n);
    return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
    note(n);
    return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
    note(n);
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    note(n);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    note(n);
    void *p = __libc_memalign(align, n);
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}
