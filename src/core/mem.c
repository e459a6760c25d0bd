#include "core/mem.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void IISD_COLD oom(size_t n)
{
    fprintf(stderr, "iisd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *iisd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (IISD_UNLIKELY(p == NULL))
        oom(n);
    return p;
}

void *iisd_xcalloc(size_t nmemb, size_t n)
{
    void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
    if (IISD_UNLIKELY(p == NULL))
        oom(nmemb * n);
    return p;
}

void *iisd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (IISD_UNLIKELY(q == NULL))
        oom(n);
    return q;
}

char *iisd_xstrndup(const char *s, size_t n)
{
    char *p = iisd_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *iisd_xstrdup(const char *s)
{
    return iisd_xstrndup(s, strlen(s));
}
