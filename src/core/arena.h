/*
 * Request arena: a bump allocator over 16 KiB chunks taken from a per-thread
 * cache. Everything allocated from it is released at once by
 * iisd_arena_reset(), after the registered cleanups have run. Allocations
 * larger than a quarter chunk get blocks of their own, rounded up to a power
 * of two and recycled through per-thread caches up to 128 KiB.
 * An arena is used by one thread at a time; chunks may be returned to a
 * different thread's cache than the one they came from.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define IISD_ARENA_CHUNK 16384

struct iisd_arena_chunk;
struct iisd_arena_cleanup;

typedef struct iisd_arena {
    char *cur;
    char *end;
    struct iisd_arena_chunk *chunks;
    struct iisd_arena_chunk *large;
    struct iisd_arena_cleanup *cleanups;
} iisd_arena_t;

typedef void (*iisd_cleanup_fn)(void *data);

static inline void iisd_arena_init(iisd_arena_t *a)
{
    a->cur = a->end = NULL;
    a->chunks = a->large = NULL;
    a->cleanups = NULL;
}

void *iisd_arena_alloc_slow(iisd_arena_t *a, size_t n);

/* 16-byte aligned; never returns NULL (aborts when the heap is exhausted). */
static inline void *iisd_arena_alloc(iisd_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) >= n && n != 0) {
        void *p = a->cur;
        a->cur += n;
        return p;
    }
    return iisd_arena_alloc_slow(a, n);
}

void *iisd_arena_calloc(iisd_arena_t *a, size_t n);
char *iisd_arena_strndup(iisd_arena_t *a, const char *s, size_t n);
void *iisd_arena_memdup(iisd_arena_t *a, const void *s, size_t n);
/* Runs fn(data) at reset, in reverse order of registration. */
void iisd_arena_add_cleanup(iisd_arena_t *a, iisd_cleanup_fn fn, void *data);
/* Runs the cleanups and gives every chunk back; the arena is reusable. */
void iisd_arena_reset(iisd_arena_t *a);
/* Frees the calling thread's chunk cache (at thread exit). */
void iisd_arena_thread_cleanup(void);
