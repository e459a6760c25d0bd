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
        struct iisd_arena_chunk *big = iisd_xmalloc(HDR + n);
        big->size = HDR + n;
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
        free(c);
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
}
