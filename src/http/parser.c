/*
 * Strict, incremental HTTP/1.1 request-head parser (RFC 9112, RFC 9110),
 * chunked transfer-coding decoder and URL path normalisation.
 * See parser.h for the contracts.
 */
#include "http/parser.h"
#include "http/chars.h"
#include "core/mem.h"
#include <limits.h>
#include <string.h>
#if defined(__SSE2__) && !defined(IISD_NO_SIMD)
#include <emmintrin.h>
#endif

#define cls iisd_http_cls
#define lc  iisd_http_lc

#define DEFAULT_MAX_REQUEST_LINE 8192
#define DEFAULT_MAX_HEAD         16384
#define DEFAULT_MAX_FIELD        8192
#define MAX_LEADING_EMPTY_LINES  8
/* Keeps every length in its uint16_t / int field. */
#define MAX_FIELD_CAP UINT16_MAX
#define MAX_HEAD_CAP  (1u << 30)

enum { ST_FRESH = 0, ST_RLINE, ST_FIELDS, ST_DONE, ST_ERROR };

static inline bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive compare of s[0..n) with the lower-case literal l of length ln. */
static inline bool ieq_lit(const char *s, size_t n, const char *l, size_t ln)
{
    if (n != ln)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lc[(uint8_t)s[i]] != (uint8_t)l[i])
            return false;
    return true;
}
#define IEQ(s, n, lit) ieq_lit((s), (n), lit, sizeof(lit) - 1)

static inline unsigned hexval(uint8_t c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/*
 * Skips whole 16-byte blocks of bytes that are VCHAR or SP (and obs-text
 * when high is set); stops at the block holding any other byte (CTL, DEL,
 * HTAB) and returns the position of that byte, or where fewer than 16 bytes
 * remain before stop. The caller finishes with the byte table.
 */
#if defined(__SSE2__) && !defined(IISD_NO_SIMD)
static inline size_t scan_block(const uint8_t *u, size_t s, size_t stop, bool high)
{
    const __m128i c1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
    while (s + 16 <= stop) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + s));
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v), _mm_cmpeq_epi8(v, del));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (!high)
            m |= (unsigned)_mm_movemask_epi8(v);
        if (m != 0)
            return s + (size_t)__builtin_ctz(m);
        s += 16;
    }
    return s;
}
#else
static inline size_t scan_block(const uint8_t *u, size_t s, size_t stop, bool high)
{
    const uint8_t mask = high ? IISD_C_FIELD : IISD_C_RLINE;
    while (s + 4 <= stop && (cls[u[s]] & mask) && (cls[u[s + 1]] & mask) && (cls[u[s + 2]] & mask) &&
           (cls[u[s + 3]] & mask))
        s += 4;
    return s;
}
#endif

static IISD_COLD int fail(iisd_parser_t *p, int status)
{
    p->state = ST_ERROR;
    p->skip = (uint16_t)status;
    return -status;
}

/* ---- authority / Host ---------------------------------------------------- */

/* IP-literal between the brackets: IPv6address (hex, ':', '.') or IPvFuture. */
static bool valid_ip_literal(const uint8_t *s, size_t n)
{
    if (n == 0)
        return false;
    if (s[0] == 'v' || s[0] == 'V') {
        /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        size_t i = 1;
        while (i < n && (cls[s[i]] & IISD_C_HEX))
            i++;
        if (i == 1 || i >= n || s[i] != '.' || i + 1 == n)
            return false;
        for (i++; i < n; i++)
            if (!(cls[s[i]] & IISD_C_HOST) && s[i] != ':')
                return false;
        return true;
    }
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colon = true;
        else if (!(cls[s[i]] & IISD_C_HEX) && s[i] != '.')
            return false;
    }
    return colon;
}

/*
 * uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2). The host must not
 * be empty; port is at most 65535 and must be present when need_port.
 */
static bool valid_hostport(const uint8_t *s, size_t n, bool need_port)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        const uint8_t *rb = memchr(s, ']', n);
        if (rb == NULL || !valid_ip_literal(s + 1, (size_t)(rb - s) - 1))
            return false;
        i = (size_t)(rb - s) + 1;
    } else {
        while (i < n) {
            if (cls[s[i]] & IISD_C_HOST)
                i++;
            else if (s[i] == '%' && n - i >= 3 && (cls[s[i + 1]] & IISD_C_HEX) &&
                     (cls[s[i + 2]] & IISD_C_HEX))
                i += 3;
            else
                break;
        }
        if (i == 0)
            return false;
    }
    if (i == n)
        return !need_port;
    if (s[i] != ':')
        return false;
    i++;
    if (i == n)
        return !need_port; /* "host:" - empty port (RFC 3986 port = *DIGIT) */
    if (n - i > 5)
        return false;
    unsigned port = 0;
    for (; i < n; i++) {
        if (!(cls[s[i]] & IISD_C_DIGIT))
            return false;
        port = port * 10 + (unsigned)(s[i] - '0');
    }
    return port <= 65535;
}

/* ---- request line ------------------------------------------------------ */

/* "HTTP/" DIGIT "." DIGIT; 0 when valid, else -400 or -505. */
static int parse_version(const uint8_t *v, size_t n, iisd_head_t *h)
{
    if (n == 8 && memcmp(v, "HTTP/1.", 7) == 0 && (cls[v[7]] & IISD_C_DIGIT)) {
        h->version_major = 1;
        /* RFC 9112 §2.3: a higher minor version is served as HTTP/1.1. */
        h->version_minor = v[7] == '0' ? 0 : 1;
        return 0;
    }
    /* Tell a well-formed other version (505) from garbage (400). */
    if (n < 6 || memcmp(v, "HTTP/", 5) != 0)
        return -400;
    size_t i = 5;
    while (i < n && (cls[v[i]] & IISD_C_DIGIT))
        i++;
    if (i == 5)
        return -400;
    size_t maj_end = i;
    if (i < n) {
        if (v[i] != '.')
            return -400;
        size_t d = ++i;
        while (i < n && (cls[v[i]] & IISD_C_DIGIT))
            i++;
        if (i == d || i != n)
            return -400;
    }
    size_t z = 5;
    while (z + 1 < maj_end && v[z] == '0')
        z++;
    if (z + 1 == maj_end && v[z] == '1')
        return -400; /* major 1 but not "1.DIGIT": malformed */
    return -505;
}

static const char slash_path[] = "/";

static int parse_request_line(iisd_head_t *h, char *buf, size_t b, size_t e)
{
    const uint8_t *u = (const uint8_t *)buf;
    size_t i = b;
    while (i < e && (cls[u[i]] & IISD_C_TCHAR))
        i++;
    if (i == b || i >= e || u[i] != ' ' || i - b > UINT16_MAX)
        return -400;
    size_t mlen = i - b;
    size_t t = i + 1;
    const uint8_t *sp = memchr(u + t, ' ', e - t);
    if (sp == NULL || sp == u + t)
        return -400;
    size_t te = (size_t)(sp - u);
    int r = parse_version(u + te + 1, e - te - 1, h);
    if (r != 0)
        return r;

    const char *tg = buf + t;
    size_t tlen = te - t;
    if (memchr(tg, '#', tlen) != NULL)
        return -400;
    int verb = iisd_verb_lookup(buf + b, mlen);

    h->path = tg;
    h->path_len = (uint32_t)tlen;
    h->query = NULL;
    h->query_len = 0;
    h->authority = NULL;
    h->authority_len = 0;
    if (verb == IISD_VERB_CONNECT) {
        /* CONNECT takes the authority-form, and only CONNECT does (RFC 9112 §3.2.3). */
        if (!valid_hostport((const uint8_t *)tg, tlen, true))
            return -400;
        h->target_form = IISD_TARGET_AUTHORITY;
        h->authority = tg;
        h->authority_len = (uint32_t)tlen;
        h->path = slash_path + 1; /* "" */
        h->path_len = 0;
    } else if (tg[0] == '/') {
        h->target_form = IISD_TARGET_ORIGIN;
        const char *q = memchr(tg, '?', tlen);
        if (q != NULL) {
            h->path_len = (uint32_t)(q - tg);
            h->query = q + 1;
            h->query_len = (uint32_t)(tlen - h->path_len - 1);
        }
    } else if (tlen == 1 && tg[0] == '*') {
        if (verb != IISD_VERB_OPTIONS)
            return -400;
        h->target_form = IISD_TARGET_ASTERISK;
    } else if ((tlen > 7 && IEQ(tg, 7, "http://")) || (tlen > 8 && IEQ(tg, 8, "https://"))) {
        size_t off = (tg[4] == ':') ? 7 : 8;
        size_t ae = off;
        while (ae < tlen && tg[ae] != '/' && tg[ae] != '?')
            ae++;
        if (!valid_hostport((const uint8_t *)tg + off, ae - off, false))
            return -400;
        h->target_form = IISD_TARGET_ABSOLUTE;
        h->authority = tg + off;
        h->authority_len = (uint32_t)(ae - off);
        const char *q = memchr(tg + ae, '?', tlen - ae);
        size_t pe = q != NULL ? (size_t)(q - tg) : tlen;
        if (pe > ae) {
            h->path = tg + ae;
            h->path_len = (uint32_t)(pe - ae);
        } else {
            h->path = slash_path;
            h->path_len = 1;
        }
        if (q != NULL) {
            h->query = q + 1;
            h->query_len = (uint32_t)(tlen - pe - 1);
        }
    } else {
        return -400;
    }

    buf[i] = '\0';
    buf[te] = '\0';
    h->method = buf + b;
    h->method_len = (uint16_t)mlen;
    h->verb = (uint8_t)verb;
    h->target = tg;
    h->target_len = (uint32_t)tlen;
    return 0;
}

/* ---- field lines ------------------------------------------------------- */

/*
 * Content-Length = 1*DIGIT, or a list of identical 1*DIGIT elements
 * (RFC 9112 §6.3 item 5). Returns the length of the first element or 0 when
 * invalid; *val receives its value.
 */
static size_t parse_content_length(const uint8_t *s, size_t n, int64_t *val)
{
    size_t i = 0;
    int64_t v = 0;
    while (i < n && (cls[s[i]] & IISD_C_DIGIT)) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        i++;
    }
    size_t el = i;
    if (el == 0)
        return 0;
    while (i < n) {
        while (i < n && is_ows(s[i]))
            i++;
        if (i == n || s[i] != ',')
            return 0;
        i++;
        while (i < n && is_ows(s[i]))
            i++;
        if (n - i < el || memcmp(s + i, s, el) != 0)
            return 0;
        i += el;
        if (i < n && (cls[s[i]] & IISD_C_DIGIT))
            return 0;
    }
    *val = v;
    return el;
}

static inline size_t combined_cap(size_t len)
{
    size_t c = 64;
    while (c < len + 1)
        c <<= 1;
    return c;
}

static int add_known(iisd_parser_t *p, iisd_head_t *h, int id, char *v, size_t vlen, iisd_arena_t *a)
{
    if (h->known[id].value == NULL) {
        if (id == IISD_H_CONTENT_LENGTH) {
            size_t el = parse_content_length((const uint8_t *)v, vlen, &h->content_length);
            if (el == 0)
                return -400;
            v[el] = '\0';
            vlen = el;
        }
        h->known[id].value = v;
        h->known[id].len = (uint16_t)vlen;
        return 0;
    }
    if (id == IISD_H_HOST)
        return -400;
    if (id == IISD_H_CONTENT_LENGTH) {
        int64_t cl;
        size_t el = parse_content_length((const uint8_t *)v, vlen, &cl);
        if (el == 0 || el != h->known[id].len || memcmp(v, h->known[id].value, el) != 0)
            return -400;
        return 0;
    }
    /* RFC 9110 §5.3: combine into one comma-separated list (Cookie: "; "). */
    if (vlen == 0)
        return 0;
    size_t olen = h->known[id].len;
    if (olen == 0) {
        h->known[id].value = v;
        h->known[id].len = (uint16_t)vlen;
        return 0;
    }
    size_t nlen = olen + 2 + vlen;
    if (nlen > UINT16_MAX)
        return -431;
    if (a == NULL)
        return -400;
    const char *sep = id == IISD_H_COOKIE ? "; " : ", ";
    uint64_t bit = (uint64_t)1 << id;
    char *d;
    /* Arena copies have capacity combined_cap(len): grow geometrically so
       many repeats cost linear, not quadratic, arena space. */
    if ((p->combined & bit) && nlen + 1 <= combined_cap(olen)) {
        d = (char *)h->known[id].value;
    } else {
        d = iisd_arena_alloc(a, combined_cap(nlen));
        memcpy(d, h->known[id].value, olen);
        p->combined |= bit;
    }
    memcpy(d + olen, sep, 2);
    memcpy(d + olen + 2, v, vlen);
    d[nlen] = '\0';
    h->known[id].value = d;
    h->known[id].len = (uint16_t)nlen;
    return 0;
}

static int parse_field(iisd_parser_t *p, iisd_head_t *h, char *buf, size_t b, size_t e, iisd_arena_t *a)
{
    const uint8_t *u = (const uint8_t *)buf;
    size_t i = b;
    while (i < e && (cls[u[i]] & IISD_C_TCHAR))
        i++;
    /* Empty name, no colon, or whitespace between name and colon (RFC 9112 §5.1). */
    if (i == b || i == e || u[i] != ':')
        return -400;
    size_t nlen = i - b;
    size_t v = i + 1;
    while (v < e && is_ows(u[v]))
        v++;
    size_t ve = e;
    while (ve > v && is_ows(u[ve - 1]))
        ve--;
    buf[i] = '\0';
    buf[ve] = '\0';
    int id = iisd_req_hdr_lookup(buf + b, nlen);
    if (id >= 0)
        return add_known(p, h, id, buf + v, ve - v, a);
    if (h->unknown_count >= h->unknown_cap)
        return -431;
    iisd_field_t *f = &h->unknown[h->unknown_count++];
    f->name = buf + b;
    f->name_len = (uint16_t)nlen;
    f->value = buf + v;
    f->value_len = (uint16_t)(ve - v);
    return 0;
}

/* ---- end of head: framing ---------------------------------------------- */

/* Skips BWS, then a token; returns its end or (size_t)-1 when missing. */
static size_t skip_token(const uint8_t *s, size_t n, size_t i)
{
    size_t st = i;
    while (i < n && (cls[s[i]] & IISD_C_TCHAR))
        i++;
    return i == st ? (size_t)-1 : i;
}

/* Skips a quoted-string starting at s[i] == '"'; returns its end or (size_t)-1. */
static size_t skip_quoted(const uint8_t *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '"')
            return i + 1;
        if (s[i] == '\\') {
            if (++i == n || !(cls[s[i]] & IISD_C_FIELD))
                return (size_t)-1;
        } else if (!(cls[s[i]] & IISD_C_QDTEXT)) {
            return (size_t)-1;
        }
    }
    return (size_t)-1;
}

/*
 * Transfer-Encoding = #transfer-coding (RFC 9112 §6.1, RFC 9110 §10.1.4).
 * The last coding must be chunked and chunked may appear once (else 400);
 * any coding other than chunked is not implemented (501).
 */
static int check_transfer_encoding(const uint8_t *s, size_t n)
{
    unsigned codings = 0, chunked = 0;
    bool last_chunked = false, other = false;
    size_t i = 0;
    while (i < n) {
        if (is_ows(s[i]) || s[i] == ',') {
            i++;
            continue;
        }
        size_t st = i;
        i = skip_token(s, n, i);
        if (i == (size_t)-1)
            return -400;
        bool is_chunked = IEQ((const char *)s + st, i - st, "chunked");
        bool params = false;
        for (;;) {
            size_t j = i;
            while (j < n && is_ows(s[j]))
                j++;
            if (j == n || s[j] != ';') {
                i = j;
                break;
            }
            /* transfer-parameter = token BWS "=" BWS ( token / quoted-string ) */
            params = true;
            j++;
            while (j < n && is_ows(s[j]))
                j++;
            if ((j = skip_token(s, n, j)) == (size_t)-1)
                return -400;
            while (j < n && is_ows(s[j]))
                j++;
            if (j == n || s[j] != '=')
                return -400;
            j++;
            while (j < n && is_ows(s[j]))
                j++;
            j = (j < n && s[j] == '"') ? skip_quoted(s, n, j) : skip_token(s, n, j);
            if (j == (size_t)-1)
                return -400;
            i = j;
        }
        if (i < n && s[i] != ',')
            return -400;
        codings++;
        if (is_chunked) {
            if (params) /* chunked has no parameters */
                return -400;
            chunked++;
        } else {
            other = true;
        }
        last_chunked = is_chunked;
    }
    if (codings == 0 || !last_chunked || chunked > 1)
        return -400;
    return other ? -501 : 0;
}

enum { CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2, CONN_UPGRADE = 4 };

static unsigned connection_tokens(const char *s, size_t n)
{
    unsigned f = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_ows((uint8_t)s[i]) || s[i] == ','))
            i++;
        size_t st = i;
        while (i < n && s[i] != ',')
            i++;
        size_t e = i;
        while (e > st && is_ows((uint8_t)s[e - 1]))
            e--;
        if (IEQ(s + st, e - st, "close"))
            f |= CONN_CLOSE;
        else if (IEQ(s + st, e - st, "keep-alive"))
            f |= CONN_KEEP_ALIVE;
        else if (IEQ(s + st, e - st, "upgrade"))
            f |= CONN_UPGRADE;
    }
    return f;
}

static int finish_head(iisd_parser_t *p, iisd_head_t *h, size_t end, iisd_arena_t *a)
{
    bool v11 = h->version_minor >= 1;
    const char *host = h->known[IISD_H_HOST].value;
    if (host == NULL) {
        if (v11)
            return fail(p, 400);
    } else if (h->known[IISD_H_HOST].len != 0 &&
               !valid_hostport((const uint8_t *)host, h->known[IISD_H_HOST].len, false)) {
        return fail(p, 400);
    }
    /* RFC 9112 §3.2.2: the authority of an absolute-form target replaces Host. */
    if (h->target_form == IISD_TARGET_ABSOLUTE && a != NULL && h->authority_len <= UINT16_MAX &&
        (h->authority_len != h->known[IISD_H_HOST].len ||
         memcmp(h->authority, host, h->authority_len) != 0)) {
        char *copy = iisd_arena_alloc(a, h->authority_len + 1);
        memcpy(copy, h->authority, h->authority_len);
        copy[h->authority_len] = '\0';
        h->known[IISD_H_HOST].value = copy;
        h->known[IISD_H_HOST].len = (uint16_t)h->authority_len;
    }
    const char *te = h->known[IISD_H_TRANSFER_ENCODING].value;
    if (te != NULL) {
        if (h->known[IISD_H_CONTENT_LENGTH].value != NULL || !v11)
            return fail(p, 400);
        int r = check_transfer_encoding((const uint8_t *)te, h->known[IISD_H_TRANSFER_ENCODING].len);
        if (r != 0)
            return fail(p, -r);
        h->chunked = true;
    }
    unsigned conn = 0;
    if (h->known[IISD_H_CONNECTION].value != NULL)
        conn = connection_tokens(h->known[IISD_H_CONNECTION].value, h->known[IISD_H_CONNECTION].len);
    if (conn & CONN_CLOSE)
        h->keep_alive = false;
    else
        h->keep_alive = v11 || (conn & CONN_KEEP_ALIVE);
    /* Upgrade and Expect are ignored in HTTP/1.0 (RFC 9110 §7.8, §10.1.1). */
    h->upgrade = v11 && (conn & CONN_UPGRADE) && h->known[IISD_H_UPGRADE].len > 0;
    h->expect_continue = v11 && h->known[IISD_H_EXPECT].value != NULL &&
                         IEQ(h->known[IISD_H_EXPECT].value, h->known[IISD_H_EXPECT].len, "100-continue");
    h->head_len = (uint32_t)end;
    p->pos = (uint32_t)end;
    p->scan = 0;
    p->state = ST_DONE;
    return (int)end;
}

static void head_reset(iisd_head_t *h)
{
    iisd_field_t *unknown = h->unknown;
    uint16_t cap = h->unknown_cap;
    memset(h, 0, sizeof(*h));
    h->unknown = unknown;
    h->unknown_cap = cap;
    h->content_length = -1;
}

static inline uint32_t limit_or(uint32_t v, uint32_t def, uint32_t cap)
{
    if (v == 0)
        v = def;
    return v > cap ? cap : v;
}

int iisd_parse_head(iisd_parser_t *p, char *buf, size_t len, iisd_head_t *h, const iisd_parse_limits_t *lim,
                    iisd_arena_t *a)
{
    switch (p->state) {
    case ST_FRESH:
        head_reset(h);
        p->pos = 0;
        p->scan = 0;
        p->skip = 0;
        p->combined = 0;
        p->state = ST_RLINE;
        break;
    case ST_DONE:
        return (int)h->head_len;
    case ST_ERROR:
        return -(int)p->skip;
    }
    size_t max_rl = limit_or(lim ? lim->max_request_line : 0, DEFAULT_MAX_REQUEST_LINE, MAX_HEAD_CAP);
    size_t max_head = limit_or(lim ? lim->max_head : 0, DEFAULT_MAX_HEAD, MAX_HEAD_CAP);
    size_t max_field = limit_or(lim ? lim->max_field : 0, DEFAULT_MAX_FIELD, MAX_FIELD_CAP);
    /* A line's content must leave room for its CRLF and the final CRLF. */
    size_t head_content_end = max_head > 4 ? max_head - 4 : 0;
    const uint8_t *u = (const uint8_t *)buf;

    for (;;) {
        size_t line = p->pos;
        size_t s = line + p->scan;
        if (s >= len)
            return 0;
        if (p->scan == 0) {
            uint8_t c = u[line];
            if (c == '\r' || c == '\n') {
                /* Empty line: before the request line it is skipped
                   (RFC 9112 §2.2); after the fields it ends the head. */
                if (c == '\n')
                    return fail(p, 400);
                if (line + 1 >= len)
                    return 0;
                if (u[line + 1] != '\n')
                    return fail(p, 400);
                if (p->state == ST_FIELDS)
                    return finish_head(p, h, line + 2, a);
                if (++p->skip > MAX_LEADING_EMPTY_LINES)
                    return fail(p, 400);
                p->pos = (uint32_t)(line + 2);
                continue;
            }
            /* Whitespace at the start of a field line: obs-fold, or
               whitespace between the start-line and the first field. */
            if (p->state == ST_FIELDS && is_ows(c))
                return fail(p, 400);
        }

        /* Content bytes may occupy [line, cap); one at cap is over a limit. */
        size_t cap;
        int over;
        uint8_t mask;
        if (p->state == ST_RLINE) {
            cap = line + max_rl;
            over = 414;
            mask = IISD_C_RLINE;
        } else {
            cap = line + max_field;
            over = 431;
            mask = IISD_C_FIELD;
        }
        if (head_content_end < cap) {
            cap = head_content_end;
            over = 431;
        }
        size_t stop = len < cap ? len : cap;
        for (;;) {
            s = scan_block(u, s, stop, mask == IISD_C_FIELD);
            if (s >= stop || !(cls[u[s]] & mask))
                break;
            s++; /* HTAB in a field value, or the tail of the buffer */
        }
        if (s >= stop) {
            if (s >= len) {
                p->scan = (uint32_t)(s - line);
                return 0;
            }
            if (cls[u[s]] & mask)
                return fail(p, over);
        }
        /* u[s] ends the line content: only CRLF is acceptable. */
        if (u[s] != '\r')
            return fail(p, 400);
        if (s + 1 >= len) {
            p->scan = (uint32_t)(s - line);
            return 0;
        }
        if (u[s + 1] != '\n')
            return fail(p, 400);

        int r;
        if (p->state == ST_RLINE) {
            r = parse_request_line(h, buf, line, s);
            p->state = ST_FIELDS;
        } else {
            r = parse_field(p, h, buf, line, s, a);
        }
        if (r != 0)
            return fail(p, -r);
        p->pos = (uint32_t)(s + 2);
        p->scan = 0;
    }
}

/* ---- chunked transfer coding --------------------------------------------- */

#define CHUNK_LINE_MAX    4096
#define CHUNK_TRAILER_MAX 65536

enum {
    CS_SIZE0,       /* start of a chunk-size line: need a HEXDIG */
    CS_SIZE,        /* in chunk-size */
    CS_EXT_AFTER,   /* after chunk-size or an extension: ';', BWS or CR */
    CS_EXT_WS,      /* BWS seen: more BWS or ';' */
    CS_EXT_NAME0,   /* after ';': BWS or the first name byte */
    CS_EXT_NAME,    /* in chunk-ext-name */
    CS_EXT_NAME_WS, /* BWS after the name: '=' or ';' */
    CS_EXT_VAL0,    /* after '=': BWS, token or '"' */
    CS_EXT_TOKEN,   /* in a token value */
    CS_EXT_QS,      /* in a quoted-string */
    CS_EXT_QS_ESC,  /* after '\' in a quoted-string */
    CS_SIZE_LF,     /* CR seen at the end of the chunk-size line */
    CS_DATA,        /* chunk data */
    CS_DATA_CR,     /* CRLF after the data */
    CS_DATA_LF,
    CS_TR_START, /* start of a trailer line or the final CRLF */
    CS_TR_NAME,
    CS_TR_VALUE,
    CS_TR_LF,
    CS_END_LF,
    CS_DONE,
    CS_ERROR,
};

int iisd_chunked_decode(iisd_chunked_t *c, char *buf, size_t *len, size_t *consumed)
{
    const size_t n = *len;
    uint8_t *u = (uint8_t *)buf;
    size_t i = 0, o = 0;
    unsigned st = c->state;
    int ret = 0;

    if (st == CS_DONE || st == CS_ERROR) {
        *len = 0;
        *consumed = 0;
        return st == CS_DONE ? 1 : -400;
    }
    while (i < n) {
        if (st == CS_DATA) {
            size_t k = n - i;
            if (c->remaining < k)
                k = (size_t)c->remaining;
            if (o != i)
                memmove(buf + o, buf + i, k);
            o += k;
            i += k;
            c->remaining -= k;
            if (c->remaining == 0)
                st = CS_DATA_CR;
            continue;
        }
        uint8_t ch = u[i++];
        if (st <= CS_EXT_QS_ESC || (st >= CS_TR_NAME && st <= CS_TR_VALUE)) {
            if (ch != '\r' && ++c->line_len > CHUNK_LINE_MAX)
                goto bad;
        }
        switch (st) {
        case CS_SIZE0:
            if (!(cls[ch] & IISD_C_HEX))
                goto bad;
            c->remaining = hexval(ch);
            st = CS_SIZE;
            break;
        case CS_SIZE:
            if (cls[ch] & IISD_C_HEX) {
                if (c->remaining > (UINT64_MAX >> 4))
                    goto bad;
                c->remaining = (c->remaining << 4) | hexval(ch);
                break;
            }
            /* fall through */
        case CS_EXT_AFTER:
            if (ch == ';')
                st = CS_EXT_NAME0;
            else if (is_ows(ch))
                st = CS_EXT_WS;
            else if (ch == '\r')
                st = CS_SIZE_LF;
            else
                goto bad;
            break;
        case CS_EXT_WS:
            if (ch == ';')
                st = CS_EXT_NAME0;
            else if (!is_ows(ch))
                goto bad;
            break;
        case CS_EXT_NAME0:
            if (cls[ch] & IISD_C_TCHAR)
                st = CS_EXT_NAME;
            else if (!is_ows(ch))
                goto bad;
            break;
        case CS_EXT_NAME:
            if (cls[ch] & IISD_C_TCHAR)
                break;
            /* fall through */
        case CS_EXT_NAME_WS:
            if (ch == '=')
                st = CS_EXT_VAL0;
            else if (ch == ';')
                st = CS_EXT_NAME0;
            else if (is_ows(ch))
                st = CS_EXT_NAME_WS;
            else if (ch == '\r' && st == CS_EXT_NAME)
                st = CS_SIZE_LF;
            else
                goto bad;
            break;
        case CS_EXT_VAL0:
            if (ch == '"')
                st = CS_EXT_QS;
            else if (cls[ch] & IISD_C_TCHAR)
                st = CS_EXT_TOKEN;
            else if (!is_ows(ch))
                goto bad;
            break;
        case CS_EXT_TOKEN:
            if (cls[ch] & IISD_C_TCHAR)
                break;
            if (ch == ';')
                st = CS_EXT_NAME0;
            else if (is_ows(ch))
                st = CS_EXT_WS;
            else if (ch == '\r')
                st = CS_SIZE_LF;
            else
                goto bad;
            break;
        case CS_EXT_QS:
            if (ch == '"')
                st = CS_EXT_AFTER;
            else if (ch == '\\')
                st = CS_EXT_QS_ESC;
            else if (!(cls[ch] & IISD_C_QDTEXT))
                goto bad;
            break;
        case CS_EXT_QS_ESC:
            if (!(cls[ch] & IISD_C_FIELD))
                goto bad;
            st = CS_EXT_QS;
            break;
        case CS_SIZE_LF:
            if (ch != '\n')
                goto bad;
            c->line_len = 0;
            st = c->remaining == 0 ? CS_TR_START : CS_DATA; /* 0: last-chunk */
            break;
        case CS_DATA_CR:
            if (ch != '\r')
                goto bad;
            st = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            if (ch != '\n')
                goto bad;
            st = CS_SIZE0;
            break;
        case CS_TR_START:
            if (ch == '\r') {
                st = CS_END_LF;
            } else if (cls[ch] & IISD_C_TCHAR) {
                c->line_len = 1;
                st = CS_TR_NAME;
            } else {
                goto bad; /* obs-fold, bare LF, or not a field name */
            }
            break;
        case CS_TR_NAME:
            if (ch == ':')
                st = CS_TR_VALUE;
            else if (!(cls[ch] & IISD_C_TCHAR))
                goto bad;
            break;
        case CS_TR_VALUE:
            if (ch == '\r')
                st = CS_TR_LF;
            else if (!(cls[ch] & IISD_C_FIELD))
                goto bad;
            break;
        case CS_TR_LF:
            if (ch != '\n')
                goto bad;
            c->trailer_len += c->line_len + 2u;
            if (c->trailer_len > CHUNK_TRAILER_MAX)
                goto bad;
            c->line_len = 0;
            st = CS_TR_START;
            break;
        case CS_END_LF:
            if (ch != '\n')
                goto bad;
            st = CS_DONE;
            ret = 1;
            goto out;
        default:
            goto bad;
        }
    }
out:
    c->state = (uint8_t)st;
    *len = o;
    *consumed = i;
    return ret;
bad:
    c->state = CS_ERROR;
    *len = o;
    *consumed = i;
    return -400;
}

/* ---- URL normalisation ----------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or code points > U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

int iisd_url_normalize(const char *path, size_t len, char *out, bool *double_escaped)
{
    const uint8_t *in = (const uint8_t *)path;
    uint8_t *o = (uint8_t *)out;
    if (double_escaped != NULL)
        *double_escaped = false;
    out[0] = '\0';
    if (len == 0 || in[0] != '/' || len > INT_MAX)
        return -400;

    /* 1. Percent-decode; '\' becomes '/'. */
    size_t n = 0;
    bool high = false, pct = false;
    for (size_t i = 0; i < len;) {
        uint8_t c = in[i];
        if (c == '%') {
            if (len - i < 3 || !(cls[in[i + 1]] & IISD_C_HEX) || !(cls[in[i + 2]] & IISD_C_HEX))
                return -400;
            c = (uint8_t)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
            pct |= c == '%';
            i += 3;
        } else {
            i++;
        }
        if (c == '\0')
            return -400;
        if (c == '\\')
            c = '/';
        high |= c >= 0x80;
        o[n++] = c;
    }
    if (high && !utf8_valid(o, n)) {
        out[0] = '\0';
        return -400;
    }
    if (pct && double_escaped != NULL) {
        for (size_t i = 0; i + 2 < n; i++) {
            if (o[i] == '%' && (cls[o[i + 1]] & IISD_C_HEX) && (cls[o[i + 2]] & IISD_C_HEX)) {
                *double_escaped = true;
                break;
            }
        }
    }

    /* 2. Remove dot-segments and empty segments, in place (RFC 3986 §5.2.4).
       Invariant: before each segment the output ends with '/'. */
    size_t r = 1, w = 1;
    while (r < n) {
        if (o[r] == '/') {
            r++;
            continue;
        }
        size_t e = r;
        while (e < n && o[e] != '/')
            e++;
        size_t sl = e - r;
        if (sl == 1 && o[r] == '.') {
            /* "." - nothing */
        } else if (sl == 2 && o[r] == '.' && o[r + 1] == '.') {
            if (w == 1) {
                out[0] = '\0';
                return -400; /* above the root */
            }
            w--;
            while (o[w - 1] != '/')
                w--;
        } else {
            memmove(o + w, o + r, sl);
            w += sl;
            if (e < n)
                o[w++] = '/';
        }
        r = e;
    }
    o[w] = '\0';
    return (int)w;
}
