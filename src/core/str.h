/* String helpers: case-insensitive compares and UTF-8 <-> wchar_t (UTF-32) conversion. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>
#include "core/arena.h"

/*
 * Steps through a comma-separated list ("a, b,c"): *item and *len get the next item, spaces
 * around it trimmed, and *cursor moves past it. Returns false at the end. Empty items are
 * skipped.
 */
static inline bool iisd_list_next(const char **cursor, const char **item, size_t *len)
{
    const char *p = *cursor;
    while (*p == ' ' || *p == ',')
        p++;
    if (*p == '\0') {
        *cursor = p;
        return false;
    }
    const char *e = p;
    while (*e && *e != ',')
        e++;
    const char *q = e;
    while (q > p && q[-1] == ' ')
        q--;
    *item = p;
    *len = (size_t)(q - p);
    *cursor = e;
    return true;
}

static inline char iisd_tolower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static inline char iisd_toupper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

bool iisd_strcaseeq(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Decodes UTF-8 into wide characters. Writes at most cap-1 characters plus a
 * NUL when cap > 0 and returns the number of characters the whole input
 * needs (without the NUL). Invalid sequences become U+FFFD.
 */
size_t iisd_utf8_to_wcs(const char *s, size_t n, wchar_t *out, size_t cap);
/* Encodes wide characters as UTF-8, same contract as above (bytes). */
size_t iisd_wcs_to_utf8(const wchar_t *s, size_t n, char *out, size_t cap);

wchar_t *iisd_arena_wcs_from_utf8(iisd_arena_t *a, const char *s, size_t n, size_t *outlen);
char *iisd_arena_utf8_from_wcs(iisd_arena_t *a, const wchar_t *s, size_t n, size_t *outlen);
