/* Accept-Encoding negotiation and Content-Type matching for the compression modules. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "modules/compression/compression.h"

static const char *const tokens[CMP_NCODECS] = {"gzip", "deflate", "br", "zstd"};

const char *cmp_codec_token(cmp_codec_t c)
{
    return (unsigned)c < CMP_NCODECS ? tokens[c] : "identity";
}

int cmp_codec_by_name(const char *name, size_t n)
{
    for (int i = 0; i < CMP_NCODECS; i++)
        if (strlen(tokens[i]) == n && strncasecmp(tokens[i], name, n) == 0)
            return i;
    return -1;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]. Returns thousandths or -1. */
static int parse_qvalue(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    int v = (p[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (p[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v += (p[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

/*
 * Walks the elements of an Accept-Encoding value; for each well-formed one calls
 * fn(coding, coding_len, q, ctx).
 */
typedef void (*elem_fn)(const char *coding, size_t n, int q, void *ctx);

static void walk(const char *s, size_t len, elem_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < len) {
        /* one element: up to the next ',' */
        size_t end = i;
        while (end < len && s[end] != ',')
            end++;
        size_t a = i, b = end;
        i = end + 1;
        while (a < b && is_ows(s[a]))
            a++;
        while (b > a && is_ows(s[b - 1]))
            b--;
        if (a == b)
            continue; /* empty list element */
        size_t t = a;
        while (t < b && is_tchar((unsigned char)s[t]))
            t++;
        if (t == a)
            continue;
        const char *coding = s + a;
        size_t clen = t - a;
        int q = 1000;
        bool ok = true;
        size_t p = t;
        while (ok && p < b) {
            while (p < b && is_ows(s[p]))
                p++;
            if (p == b)
                break;
            if (s[p] != ';') {
                ok = false;
                break;
            }
            p++;
            while (p < b && is_ows(s[p]))
                p++;
            size_t ns = p;
            while (p < b && is_tchar((unsigned char)s[p]))
                p++;
            size_t nlen = p - ns;
            if (nlen == 0 || p >= b || s[p] != '=') {
                ok = false;
                break;
            }
            p++;
            size_t vs = p;
            if (p < b && s[p] == '"') {
                /* quoted-string parameter value (not a q-value) */
                p++;
                while (p < b && s[p] != '"')
                    p += (s[p] == '\\' && p + 1 < b) ? 2 : 1;
                if (p >= b) {
                    ok = false;
                    break;
                }
                p++;
                if (nlen == 1 && (s[ns] == 'q' || s[ns] == 'Q'))
                    ok = false;
                continue;
            }
            while (p < b && is_tchar((unsigned char)s[p]))
                p++;
            if (nlen == 1 && (s[ns] == 'q' || s[ns] == 'Q')) {
                q = parse_qvalue(s + vs, p - vs);
                if (q < 0)
                    ok = false;
            } else if (p == vs) {
                ok = false;
            }
        }
        if (ok)
            fn(coding, clen, q, ctx);
    }
}

typedef struct {
    const char *want;
    int q;
} find_ctx_t;

static bool coding_is(const char *c, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(c, name, n) == 0;
}

static void find_one(const char *coding, size_t n, int q, void *ctx)
{
    find_ctx_t *f = ctx;
    if (f->q < 0 &&
        (coding_is(coding, n, f->want) || (strcmp(f->want, "gzip") == 0 && coding_is(coding, n, "x-gzip"))))
        f->q = q;
}

int cmp_accept_q(const char *accept, size_t len, const char *coding)
{
    find_ctx_t f = {coding, -1};
    if (accept != NULL)
        walk(accept, len, find_one, &f);
    return f.q;
}

typedef struct {
    int q[CMP_NCODECS]; /* first q seen per codec, -1 */
    int star, identity;
} neg_ctx_t;

static void collect(const char *coding, size_t n, int q, void *ctx)
{
    neg_ctx_t *g = ctx;
    if (n == 1 && coding[0] == '*') {
        if (g->star < 0)
            g->star = q;
        return;
    }
    if (coding_is(coding, n, "identity")) {
        if (g->identity < 0)
            g->identity = q;
        return;
    }
    int c = coding_is(coding, n, "x-gzip") ? CMP_GZIP : cmp_codec_by_name(coding, n);
    if (c >= 0 && g->q[c] < 0)
        g->q[c] = q;
}

int cmp_negotiate(const char *accept, size_t len, const cmp_codec_t *codecs, unsigned n)
{
    if (accept == NULL || n == 0)
        return -1;
    neg_ctx_t g;
    for (int i = 0; i < CMP_NCODECS; i++)
        g.q[i] = -1;
    g.star = g.identity = -1;
    walk(accept, len, collect, &g);
    int best = -1, best_q = 0;
    for (unsigned i = 0; i < n; i++) {
        if ((unsigned)codecs[i] >= CMP_NCODECS)
            continue;
        int q = g.q[codecs[i]] >= 0 ? g.q[codecs[i]] : g.star >= 0 ? g.star : 0;
        if (q > best_q) {
            best_q = q;
            best = (int)i;
        }
    }
    if (best < 0)
        return -1;
    /* identity is always acceptable; a client preferring it (a higher q-value, given to
       "identity" or through "*") gets it, otherwise it is the last choice */
    int id_q = g.identity >= 0 ? g.identity : g.star >= 0 ? g.star : 0;
    return best_q >= id_q ? best : -1;
}

/* ---- MIME types ----------------------------------------------------------------- */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool cmp_glob(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t p = 0, i = 0, star_p = (size_t)-1, star_i = 0;
    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star_p = p++;
            star_i = i;
        } else if (p < plen && lower(pat[p]) == lower(s[i])) {
            p++;
            i++;
        } else if (star_p != (size_t)-1) {
            p = star_p + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

/* Copies a media type value without spaces around ';' and '=' and trailing ones. */
static size_t normalise(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (is_ows(s[i])) {
            size_t j = i;
            while (j < n && is_ows(s[j]))
                j++;
            bool next_sep = j >= n || s[j] == ';' || s[j] == '=';
            bool prev_sep = k == 0 || out[k - 1] == ';' || out[k - 1] == '=';
            if (!next_sep && !prev_sep)
                out[k++] = ' ';
            i = j - 1;
            continue;
        }
        out[k++] = s[i];
    }
    out[k] = '\0';
    return k;
}

bool cmp_mime_allowed(const cmp_mime_rule_t *rules, unsigned n, const char *ct, size_t len)
{
    if (ct == NULL || len == 0)
        return false;
    char buf[512], pat[512];
    const char *full = ct;
    size_t flen = len;
    for (size_t i = 0; i < len; i++)
        if (is_ows(ct[i])) { /* spaces to take out: the normal form is a copy */
            flen = normalise(ct, len, buf, sizeof(buf));
            full = buf;
            break;
        }
    size_t tlen = 0;
    while (tlen < flen && full[tlen] != ';')
        tlen++;
    for (unsigned i = 0; i < n; i++) {
        const char *p = rules[i].pattern;
        if (p == NULL)
            continue;
        size_t plen;
        bool has_params;
        if (rules[i].prepared) {
            plen = rules[i].plen;
            has_params = rules[i].has_params;
            size_t sl = has_params ? flen : tlen;
            if (rules[i].kind == CMP_MIME_EXACT) { /* what cmp_glob would say, without its loop */
                if (plen == sl && strncasecmp(p, full, sl) == 0)
                    return rules[i].enabled;
                continue;
            }
            if (rules[i].kind == CMP_MIME_PREFIX) {
                if (sl >= plen - 1u && strncasecmp(p, full, plen - 1u) == 0)
                    return rules[i].enabled;
                continue;
            }
        } else {
            plen = normalise(p, strlen(p), pat, sizeof(pat));
            has_params = memchr(pat, ';', plen) != NULL;
            p = pat;
        }
        if (cmp_glob(p, plen, full, has_params ? flen : tlen))
            return rules[i].enabled;
    }
    return false;
}

void cmp_mime_rules_prepare(cmp_mime_rule_t *rules, unsigned n)
{
    char pat[512];
    for (unsigned i = 0; i < n; i++) {
        if (rules[i].pattern == NULL || rules[i].prepared)
            continue;
        size_t plen = normalise(rules[i].pattern, strlen(rules[i].pattern), pat, sizeof(pat));
        char *norm = strdup(pat);
        if (norm == NULL)
            continue;
        free((char *)rules[i].pattern);
        rules[i].pattern = norm;
        rules[i].plen = (uint16_t)plen;
        rules[i].has_params = memchr(norm, ';', plen) != NULL;
        const char *star = memchr(norm, '*', plen);
        rules[i].kind = star == NULL              ? CMP_MIME_EXACT
                        : star == norm + plen - 1 ? CMP_MIME_PREFIX
                                                  : CMP_MIME_GLOB;
        rules[i].prepared = true;
    }
}

bool cmp_list_has(const char *v, size_t len, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (v != NULL && i < len) {
        while (i < len && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}
