/* Heap wrappers: the one place where allocation failure is handled (by aborting). */
#pragma once
#include <stddef.h>

void *iisd_xmalloc(size_t n);
void *iisd_xcalloc(size_t nmemb, size_t n);
void *iisd_xrealloc(void *p, size_t n);
char *iisd_xstrdup(const char *s);
char *iisd_xstrndup(const char *s, size_t n);

#define IISD_LIKELY(x)                       __builtin_expect(!!(x), 1)
#define IISD_UNLIKELY(x)                     __builtin_expect(!!(x), 0)
#define IISD_COLD                            __attribute__((cold))
#define IISD_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))
#define IISD_ARRAY_SIZE(a)                   (sizeof(a) / sizeof((a)[0]))
