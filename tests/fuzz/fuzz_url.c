/*
 * libFuzzer target for URL path normalisation (iisd_url_normalize): the
 * decoding of a request target's path into the URL that is mapped to a file.
 *
 * The input is the raw path. Invariants checked:
 *   - the result is -400 or a length no longer than the input;
 *   - an accepted path starts with '/', holds no NUL, no '\', no empty, "." or
 *     ".." segment (so no "/../" and nothing that climbs above the root), and
 *     is valid UTF-8 without overlong forms or surrogates;
 *   - it equals the result of an independent reference (decode every %xx once,
 *     '\' to '/', then resolve segments with a stack), and is rejected exactly
 *     when the reference rejects it;
 *   - the double-escaping flag is set exactly when the decoded path still
 *     holds a valid %xx escape;
 *   - normalising an accepted path again, with its '%' escaped, gives it back
 *     (nothing is decoded twice).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

#include "fuzz_check.h"

static int hexdigit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
        return (ch | 0x20) - 'a' + 10;
    return -1;
}

/* Decodes one code point at s[0..n) the arithmetic way; its length, or 0 when invalid. */
static size_t utf8_one(const uint8_t *s, size_t n)
{
    uint32_t cp;
    size_t k;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        k = 2;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        k = 3;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        k = 4;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

static bool utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_one(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* The reference: -400 or the length of the normalised path in out. */
static int reference(const uint8_t *in, size_t n, char *out, bool *dbl)
{
    *dbl = false;
    if (n == 0 || in[0] != '/')
        return -400;
    uint8_t *dec = malloc(n + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '%') {
            if (i + 2 >= n || hexdigit(in[i + 1]) < 0 || hexdigit(in[i + 2]) < 0) {
                free(dec);
                return -400;
            }
            c = (uint8_t)(hexdigit(in[i + 1]) * 16 + hexdigit(in[i + 2]));
            i += 2;
        }
        if (c == 0) {
            free(dec);
            return -400;
        }
        dec[m++] = c == '\\' ? '/' : c;
    }
    if (!utf8_ok(dec, m)) {
        free(dec);
        return -400;
    }
    for (size_t i = 0; i + 2 < m; i++)
        if (dec[i] == '%' && hexdigit(dec[i + 1]) >= 0 && hexdigit(dec[i + 2]) >= 0)
            *dbl = true;

    /* segments onto a stack of (start, length) in dec */
    size_t *st = malloc((m + 1) * 2 * sizeof(size_t));
    size_t depth = 0;
    bool trailing = false; /* the path ends with '/' after its last kept segment */
    for (size_t i = 0; i < m;) {
        while (i < m && dec[i] == '/')
            i++;
        size_t s = i;
        while (i < m && dec[i] != '/')
            i++;
        size_t len = i - s;
        bool slash_after = i < m;
        if (len == 0) {
            continue;
        } else if (len == 1 && dec[s] == '.') {
            trailing = true;
        } else if (len == 2 && dec[s] == '.' && dec[s + 1] == '.') {
            if (depth == 0) {
                free(st);
                free(dec);
                return -400;
            }
            depth--;
            trailing = true;
        } else {
            st[2 * depth] = s;
            st[2 * depth + 1] = len;
            depth++;
            trailing = slash_after;
        }
    }
    size_t o = 0;
    out[o++] = '/';
    for (size_t d = 0; d < depth; d++) {
        memcpy(out + o, dec + st[2 * d], st[2 * d + 1]);
        o += st[2 * d + 1];
        if (d + 1 < depth || trailing)
            out[o++] = '/';
    }
    out[o] = '\0';
    free(st);
    free(dec);
    return (int)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 2);
    char *ref = malloc(size + 2);
    bool dbl = true, rdbl;
    int r = iisd_url_normalize((const char *)data, size, out, &dbl);
    int rr = reference(data, size, ref, &rdbl);
    CHECK(r == -400 || (r >= 1 && (size_t)r <= size));
    CHECK(r == rr);
    if (r > 0) {
        size_t n = (size_t)r;
        CHECK(memcmp(out, ref, n + 1) == 0);
        CHECK(dbl == rdbl);
        CHECK(out[0] == '/' && out[n] == '\0' && strlen(out) == n);
        CHECK(strchr(out, '\\') == NULL);
        CHECK(strstr(out, "//") == NULL && strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
        CHECK(!(n >= 2 && memcmp(out + n - 2, "/.", 2) == 0));
        CHECK(!(n >= 3 && memcmp(out + n - 3, "/..", 3) == 0));
        CHECK(utf8_ok((const uint8_t *)out, n));

        /* with every '%' escaped as %25 it comes back unchanged */
        size_t pc = 0;
        for (size_t i = 0; i < n; i++)
            pc += out[i] == '%';
        char *esc = malloc(n + 2 * pc + 1), *again = malloc(n + 2 * pc + 2);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (out[i] == '%') {
                memcpy(esc + k, "%25", 3);
                k += 3;
            } else {
                esc[k++] = out[i];
            }
        }
        bool d2;
        CHECK(iisd_url_normalize(esc, k, again, &d2) == r);
        CHECK(memcmp(again, out, n + 1) == 0);
        free(esc);
        free(again);
    }
    free(out);
    free(ref);
    return 0;
}
