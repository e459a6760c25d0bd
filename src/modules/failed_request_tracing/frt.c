#include "modules/failed_request_tracing/frt.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* A decimal number of 1-5 digits; NULL when there is none. */
static const char *number(const char *s, unsigned *v)
{
    unsigned n = 0, k = 0;
    while (*s >= '0' && *s <= '9' && k < 6) {
        n = n * 10 + (unsigned)(*s++ - '0');
        k++;
    }
    if (k == 0 || k > 5)
        return NULL;
    *v = n;
    return s;
}

int frt_parse_codes(const char *s, frt_code_t *out, unsigned cap)
{
    unsigned n = 0;
    s = skip_ws(s);
    if (*s == '\0')
        return 0;
    for (;;) {
        unsigned lo, hi, sub = 0;
        bool has_sub = false;
        s = number(skip_ws(s), &lo);
        if (s == NULL)
            return -1;
        hi = lo;
        s = skip_ws(s);
        if (*s == '.') {
            s = number(s + 1, &sub);
            if (s == NULL || sub > 0xffff)
                return -1;
            has_sub = true;
        } else if (*s == '-') {
            s = number(skip_ws(s + 1), &hi);
            if (s == NULL)
                return -1;
        }
        if (lo < 100 || hi > 999 || hi < lo || n == cap)
            return -1;
        out[n++] = (frt_code_t){(uint16_t)lo, (uint16_t)hi, has_sub ? (int32_t)sub : -1};
        s = skip_ws(s);
        if (*s == '\0')
            return (int)n;
        if (*s != ',')
            return -1;
        s++;
    }
}

bool frt_codes_match(const frt_code_t *v, unsigned n, unsigned status, unsigned sub)
{
    for (unsigned i = 0; i < n; i++)
        if (status >= v[i].lo && status <= v[i].hi && (v[i].sub < 0 || (unsigned)v[i].sub == sub))
            return true;
    return false;
}

bool frt_wildcard(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p != '\0' && (*p == '?' || tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool frt_path_matches(const char *pattern, const char *url)
{
    if (strchr(pattern, '/') != NULL)
        return frt_wildcard(pattern, url);
    const char *last = strrchr(url, '/');
    return frt_wildcard(pattern, last ? last + 1 : url);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

bool frt_parse_guid(const char *s, GUID *g)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    uint8_t b[16];
    int k = 0;
    s = skip_ws(s);
    bool brace = *s == '{';
    if (brace)
        s++;
    for (int gi = 0; gi < 5; gi++) {
        if (gi > 0 && *s++ != '-')
            return false;
        for (int i = 0; i < groups[gi]; i += 2) {
            int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);
            if (h < 0 || l < 0)
                return false;
            b[k++] = (uint8_t)(h << 4 | l);
            s += 2;
        }
    }
    if (brace && *s++ != '}')
        return false;
    if (*skip_ws(s) != '\0')
        return false;
    g->Data1 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    g->Data2 = (uint16_t)(b[4] << 8 | b[5]);
    g->Data3 = (uint16_t)(b[6] << 8 | b[7]);
    memcpy(g->Data4, b + 8, 8);
    return true;
}

void frt_format_guid(const GUID *g, char out[39])
{
    snprintf(out, 39, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned)g->Data1, g->Data2,
             g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5],
             g->Data4[6], g->Data4[7]);
}

enum frt_reason frt_failure(const frt_failure_def_t *d, unsigned status, unsigned sub, uint64_t time_ms,
                            unsigned worst_level)
{
    if (d->ncodes > 0 && frt_codes_match(d->codes, d->ncodes, status, sub))
        return FRT_STATUS_CODE;
    if (d->time_ms > 0 && time_ms >= d->time_ms)
        return FRT_TIME_TAKEN;
    if (d->verbosity > 0 && worst_level > 0 && worst_level <= d->verbosity)
        return FRT_VERBOSITY;
    return FRT_NONE;
}

const char *frt_reason_name(enum frt_reason r)
{
    switch (r) {
    case FRT_STATUS_CODE:
        return "STATUS_CODE";
    case FRT_TIME_TAKEN:
        return "TIME_TAKEN";
    case FRT_VERBOSITY:
        return "VERBOSITY";
    default:
        return "NONE";
    }
}

static bool reserve(frt_buf_t *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void frt_buf_add(frt_buf_t *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void frt_buf_printf(frt_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void frt_buf_xml(frt_buf_t *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\t':
            rep = "&#9;";
            break;
        case '\n':
            rep = "&#10;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            rep = c < 0x20 || c == 0x7f ? "?" : NULL;
        }
        if (rep == NULL) {
            run++;
            continue;
        }
        frt_buf_add(b, s + i - run, run);
        run = 0;
        frt_buf_add(b, rep, strlen(rep));
    }
    frt_buf_add(b, s + n - run, run);
}

void frt_buf_free(frt_buf_t *b)
{
    free(b->p);
    *b = (frt_buf_t){0};
}
