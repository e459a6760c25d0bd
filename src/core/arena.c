#include "core/arena.h"
#include "core/mem.h"
#include <stdlib.h>
#include <string.h>

struct iisd_arena_chunk {
    struct iisd_arena_chunk *next;
    size_t size;
    /* payload follows, 16-byte aligned */
};

struct iisd_arena_cleanup {
    struct iisd_arena_cleanup *next;
    iisd_cleanup_fn fn;
    void *data;
};

#define HDR       ((sizeof(struct iisd_arena_chunk) + 15) & ~(size_t)15)
#define CACHE_MAX 256

static __thread struct iisd_arena_chunk *chunk_cache;
static __thread unsigned chunk_cache_len;

/* Large blocks up to LARGE_MAX are rounded up to a power of two and recycled per
 * thread too, LARGE_KEEP of each size: a module's 16 KiB page buffer or a
 * compressor's window costs no heap allocation once warm. */
#define LARGE_MIN_SHIFT 12
#define LARGE_CLASSES   6 /* 4 KiB .. 128 KiB */
#define LARGE_MAX       ((size_t)1 << (LARGE_MIN_SHIFT + LARGE_CLASSES - 1))
#define LARGE_KEEP      16
static __thread struct iisd_arena_chunk *large_cache[LARGE_CLASSES];
static __thread unsigned large_cache_len[LARGE_CLASSES];

static int large_class(size_t size)
{
    int k = 0;
    while (((size_t)1 << (LARGE_MIN_SHIFT + k)) < size)
        k++;
    return k;
}

static struct iisd_arena_chunk *large_get(size_t size)
{
    if (size > LARGE_MAX) {
        struct iisd_arena_chunk *big = iisd_xmalloc(size);
        big->size = size;
        return big;
    }
    int k = large_class(size);
    struct iisd_arena_chunk *c = large_cache[k];
    if (c != NULL) {
        large_cache[k] = c->next;
        large_cache_len[k]--;
        return c;
    }
    c = iisd_xmalloc((size_t)1 << (LARGE_MIN_SHIFT + k));
    c->size = (size_t)1 << (LARGE_MIN_SHIFT + k);
    return c;
}

static void large_put(struct iisd_arena_chunk *c)
{
    if (c->size > LARGE_MAX) {
        free(c);
        return;
    }
    int k = large_class(c->size);
    if (large_cache_len[k] >= LARGE_KEEP) {
        free(c);
        return;
    }
    c->next = large_cache[k];
    large_cache[k] = c;
    large_cache_len[k]++;
}

static struct iisd_arena_chunk *chunk_get(void)
{
    struct iisd_arena_chunk *c = chunk_cache;
    if (c != NULL) {
        chunk_cache = c->next;
        chunk_cache_len--;
        return c;
    }
    c = iisd_xmalloc(IISD_ARENA_CHUNK);
    c->size = IISD_ARENA_CHUNK;
    return c;
}

static void chunk_put(struct iisd_arena_chunk *c)
{
    if (chunk_cache_len >= CACHE_MAX) {
        free(c);
        return;
    }
    c->next = chunk_cache;
    chunk_cache = c;
    chunk_cache_len++;
}

void *iisd_arena_alloc_slow(iisd_arena_t *a, size_t n)
{
    if (n == 0)
        n = 16;
    if (n > (IISD_ARENA_CHUNK - HDR) / 4) {
        struct iisd_arena_chunk *big = large_get(HDR + n);
        big->next = a->large;
        a->large = big;
        return (char *)big + HDR;
    }
    struct iisd_arena_chunk *c = chunk_get();
    c->next = a->chunks;
    a->chunks = c;
    a->cur = (char *)c + HDR + n;
    a->end = (char *)c + IISD_ARENA_CHUNK;
    return (char *)c + HDR;
}

void *iisd_arena_calloc(iisd_arena_t *a, size_t n)
{
    void *p = iisd_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *iisd_arena_memdup(iisd_arena_t *a, const void *s, size_t n)
{
    void *p = iisd_arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

char *iisd_arena_strndup(iisd_arena_t *a, const char *s, size_t n)
{
    char *p = iisd_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void iisd_arena_add_cleanup(iisd_arena_t *a, iisd_cleanup_fn fn, void *data)
{
    struct iisd_arena_cleanup *c = iisd_arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

void iisd_arena_reset(iisd_arena_t *a)
{
    /* Cleanups may allocate from the arena; run until none are left. */
    while (a->cleanups != NULL) {
        struct iisd_arena_cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);
    }
    while (a->large != NULL) {
        struct iisd_arena_chunk *c = a->large;
        a->large = c->next;
        large_put(c);
    }
    while (a->chunks != NULL) {
        struct iisd_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        chunk_put(c);
    }
    a->cur = a->end = NULL;
}

void iisd_arena_thread_cleanup(void)
{
    while (chunk_cache != NULL) {
        struct iisd_arena_chunk *c = chunk_cache;
        chunk_cache = c->next;
        free(c);
    }
    chunk_cache_len = 0;
    for (int k = 0; k < LARGE_CLASSES; k++) {
        while (large_cache[k] != NULL) {
            struct iisd_arena_chunk *c = large_cache[k];
            large_cache[k] = c->next;
            free(c);
        }
        large_cache_len[k] = 0;
    }
}
