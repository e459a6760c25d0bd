#include "core/str.h"
#include <stdint.h>
#include <string.h>

bool iisd_strcaseeq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (iisd_tolower(a[i]) != iisd_tolower(b[i]))
            return false;
    return true;
}

/* Returns the code point at *s (advancing it), or U+FFFD for a bad sequence. */
static uint32_t utf8_next(const unsigned char **sp, const unsigned char *end)
{
    const unsigned char *s = *sp;
    uint32_t c = *s++;
    int more;
    uint32_t min;
    if (c < 0x80) {
        *sp = s;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        c &= 0x1f, more = 1, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        c &= 0x0f, more = 2, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        c &= 0x07, more = 3, min = 0x10000;
    } else {
        *sp = s;
        return 0xfffd;
    }
    for (int i = 0; i < more; i++) {
        if (s >= end || (*s & 0xc0) != 0x80) {
            *sp = s;
            return 0xfffd;
        }
        c = (c << 6) | (*s++ & 0x3f);
    }
    *sp = s;
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0xfffd;
    return c;
}

size_t iisd_utf8_to_wcs(const char *str, size_t n, wchar_t *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    size_t count = 0;
    /* ASCII eight bytes at a time while they fit */
    while (end - s >= 8 && count + 8 < cap) {
        uint64_t x;
        memcpy(&x, s, 8);
        if (x & 0x8080808080808080ull)
            break;
        for (int k = 0; k < 8; k++)
            out[count + k] = (wchar_t)s[k];
        s += 8;
        count += 8;
    }
    while (s < end) {
        uint32_t c = *s < 0x80 ? *s++ : utf8_next(&s, end);
        if (count + 1 < cap)
            out[count] = (wchar_t)c;
        count++;
    }
    if (cap > 0)
        out[count < cap ? count : cap - 1] = L'\0';
    return count;
}

size_t iisd_wcs_to_utf8(const wchar_t *s, size_t n, char *out, size_t cap)
{
    size_t len = 0, i = 0;
    /* ASCII first, a byte per character: paths and names usually are nothing else */
    if (cap == 0)
        while (i < n && (uint32_t)s[i] < 0x80)
            i++, len++;
    while (i < n && (uint32_t)s[i] < 0x80 && len + 1 < cap)
        out[len++] = (char)s[i++];
    for (; i < n; i++) {
        uint32_t c = (uint32_t)s[i];
        unsigned char buf[4];
        size_t k;
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            c = 0xfffd;
        if (c < 0x80) {
            buf[0] = (unsigned char)c, k = 1;
        } else if (c < 0x800) {
            buf[0] = (unsigned char)(0xc0 | (c >> 6)), buf[1] = (unsigned char)(0x80 | (c & 0x3f)), k = 2;
        } else if (c < 0x10000) {
            buf[0] = (unsigned char)(0xe0 | (c >> 12));
            buf[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            buf[2] = (unsigned char)(0x80 | (c & 0x3f)), k = 3;
        } else {
            buf[0] = (unsigned char)(0xf0 | (c >> 18));
            buf[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
            buf[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            buf[3] = (unsigned char)(0x80 | (c & 0x3f)), k = 4;
        }
        if (len + k < cap)
            memcpy(out + len, buf, k);
        else if (cap > 0 && len < cap)
            cap = len + 1; /* stop writing: keep output a valid prefix */
        len += k;
    }
    if (cap > 0)
        out[len < cap ? len : cap - 1] = '\0';
    return len;
}

wchar_t *iisd_arena_wcs_from_utf8(iisd_arena_t *a, const char *s, size_t n, size_t *outlen)
{
    /* one pass: a string of n bytes has at most n characters */
    wchar_t *w = iisd_arena_alloc(a, (n + 1) * sizeof(wchar_t));
    if (w == NULL)
        return NULL;
    size_t got = iisd_utf8_to_wcs(s, n, w, n + 1);
    if (outlen)
        *outlen = got;
    return w;
}

char *iisd_arena_utf8_from_wcs(iisd_arena_t *a, const wchar_t *s, size_t n, size_t *outlen)
{
    size_t ascii = 0;
    while (ascii < n && (uint32_t)s[ascii] < 0x80)
        ascii++;
    if (ascii == n) { /* one pass: a byte per character */
        char *u = iisd_arena_alloc(a, n + 1);
        if (u == NULL)
            return NULL;
        for (size_t i = 0; i < n; i++)
            u[i] = (char)s[i];
        u[n] = '\0';
        if (outlen)
            *outlen = n;
        return u;
    }
    size_t need = iisd_wcs_to_utf8(s, n, NULL, 0);
    char *u = iisd_arena_alloc(a, need + 1);
    iisd_wcs_to_utf8(s, n, u, need + 1);
    if (outlen)
        *outlen = need;
    return u;
}
