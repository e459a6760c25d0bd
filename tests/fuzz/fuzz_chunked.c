/*
 * libFuzzer target for the chunked transfer-coding decoder
 * (iisd_chunked_decode, RFC 9112 §7.1).
 *
 * Input layout: byte 0 selects the mode and how the input is cut into reads,
 * the rest is the data.
 *   mode "decode" (bit 0 clear): the data is a request body as received. It is
 *     decoded in one piece, cut in two, and byte by byte; every way must give
 *     the same result, payload and consumed count. Decoded payload is never
 *     longer than the bytes consumed, and nothing past the end of the body is
 *     consumed. A complete body is decoded again by a simple reference decoder,
 *     which must find the same payload and the same end.
 *   mode "encode" (bit 0 set): the data is a payload, chunked here with chunk
 *     sizes, extensions and trailer fields taken from the selector; decoding it
 *     must give back exactly the payload and stop exactly at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

#include "fuzz_check.h"

typedef struct {
    int ret;
    size_t plen;     /* decoded payload bytes */
    size_t consumed; /* input bytes used */
} run_t;

/*
 * Feeds data[0..n) to a fresh decoder in reads of `step` bytes (0: two reads,
 * cut at `cut`), the way the connection does: unconsumed bytes stay at the
 * front of the buffer and are presented again with the next read.
 */
static run_t run(const uint8_t *data, size_t n, size_t step, size_t cut, char *payload)
{
    char *wb = malloc(n + 1);
    iisd_chunked_t c;
    iisd_chunked_init(&c);
    size_t pend = 0, fed = 0;
    run_t r = {0, 0, 0};
    while (r.ret == 0 && fed < n) {
        size_t end = step ? fed + step : (fed < cut ? cut : n);
        if (end > n)
            end = n;
        memcpy(wb + pend, data + fed, end - fed);
        size_t avail = pend + end - fed;
        fed = end;
        size_t len = avail, consumed = 0;
        r.ret = iisd_chunked_decode(&c, wb, &len, &consumed);
        CHECK(r.ret == 0 || r.ret == 1 || r.ret == -400);
        CHECK(consumed <= avail);
        CHECK(len <= consumed); /* in place: the payload never outgrows its encoding */
        memcpy(payload + r.plen, wb, len);
        r.plen += len;
        r.consumed += consumed;
        CHECK(r.plen <= r.consumed);
        memmove(wb, wb + consumed, avail - consumed);
        pend = avail - consumed;
    }
    /* a finished or failed decoder stays so and takes nothing more */
    if (r.ret != 0) {
        char tail[4] = "0\r\n";
        size_t len = 3, consumed = 99;
        CHECK(iisd_chunked_decode(&c, tail, &len, &consumed) == r.ret);
        CHECK(len == 0 && consumed == 0);
    }
    free(wb);
    return r;
}

static int hexdigit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
        return (ch | 0x20) - 'a' + 10;
    return -1;
}

/*
 * Reference decoder for input the real one accepted: chunk-size, anything up
 * to CRLF, the data, CRLF; after the last chunk, lines up to an empty one.
 * Returns the end of the body, or 0 when the input does not have that shape.
 */
static size_t reference(const uint8_t *d, size_t n, char *payload, size_t *plen)
{
    size_t i = 0, o = 0;
    for (;;) {
        uint64_t size = 0;
        size_t digits = 0;
        while (i < n && hexdigit(d[i]) >= 0) {
            if (size > (UINT64_MAX >> 4))
                return 0;
            size = size << 4 | (uint64_t)hexdigit(d[i++]);
            digits++;
        }
        if (digits == 0)
            return 0;
        while (i + 1 < n && !(d[i] == '\r' && d[i + 1] == '\n'))
            i++;
        if (i + 1 >= n)
            return 0;
        i += 2;
        if (size == 0)
            break;
        if (size > n - i || n - i - size < 2)
            return 0;
        memcpy(payload + o, d + i, size);
        o += size;
        i += size;
        if (d[i] != '\r' || d[i + 1] != '\n')
            return 0;
        i += 2;
    }
    for (;;) { /* trailer section */
        size_t s = i;
        while (i + 1 < n && !(d[i] == '\r' && d[i + 1] == '\n'))
            i++;
        if (i + 1 >= n)
            return 0;
        i += 2;
        if (i - s == 2)
            break;
    }
    *plen = o;
    return i;
}

static void fuzz_decode(const uint8_t *data, size_t n, uint8_t sel)
{
    size_t cut = n ? (size_t)sel * 7 % (n + 1) : 0;
    char *p1 = malloc(n + 1), *p2 = malloc(n + 1), *p3 = malloc(n + 1);
    run_t w = run(data, n, 0, n, p1);
    run_t s = run(data, n, 0, cut, p2);
    run_t b = run(data, n, 1, 0, p3);
    CHECK(w.ret == s.ret && w.ret == b.ret);
    if (w.ret >= 0) {
        CHECK(w.plen == s.plen && w.plen == b.plen);
        CHECK(memcmp(p1, p2, w.plen) == 0 && memcmp(p1, p3, w.plen) == 0);
        CHECK(w.consumed == s.consumed && w.consumed == b.consumed);
    }
    if (w.ret == 0)
        CHECK(w.consumed == n); /* an incomplete body is all taken (partial lines are kept inside) */
    if (w.ret == 1) {
        size_t rlen = 0;
        size_t end = reference(data, n, p2, &rlen);
        CHECK(end == w.consumed);
        CHECK(rlen == w.plen && memcmp(p1, p2, rlen) == 0);
    }
    free(p1);
    free(p2);
    free(p3);
}

/* Appends s to the buffer. */
static void put(char *buf, size_t *k, const char *s, size_t n)
{
    memcpy(buf + *k, s, n);
    *k += n;
}

static void fuzz_encode(const uint8_t *data, size_t n, uint8_t sel)
{
    static const char *const exts[] = {"", ";a", ";a=b", " ;name=\"quoted \\\" value\"", ";x ; y=1"};
    static const char *const trailers[] = {"", "Expires: 0\r\n", "X-Sum: abc\r\nX-Other:\r\n"};
    /* worst case per chunk: 16 hex digits, the longest extension, 4 bytes of CRLFs */
    size_t cap = n * 48 + 128;
    char *enc = malloc(cap);
    size_t k = 0, i = 0, chunk = (size_t)(sel >> 1 & 0x0f) + 1;
    unsigned e = (unsigned)(sel >> 5) % 5;
    while (i < n) {
        size_t m = n - i < chunk ? n - i : chunk;
        char line[32];
        int l = snprintf(line, sizeof(line), (sel & 0x40) ? "%zX" : "%zx", m);
        if (sel & 0x80) /* leading zeros are allowed */
            put(enc, &k, "000", 3);
        put(enc, &k, line, (size_t)l);
        put(enc, &k, exts[e], strlen(exts[e]));
        put(enc, &k, "\r\n", 2);
        put(enc, &k, (const char *)data + i, m);
        put(enc, &k, "\r\n", 2);
        i += m;
        chunk = chunk * 3 % 17 + 1;
        e = (e + 1) % 5;
    }
    put(enc, &k, "0", 1);
    put(enc, &k, exts[e], strlen(exts[e]));
    put(enc, &k, "\r\n", 2);
    const char *tr = trailers[sel % 3];
    put(enc, &k, tr, strlen(tr));
    put(enc, &k, "\r\n", 2);
    size_t body = k;
    put(enc, &k, "GET / HTTP/1.1\r\n", 16); /* the next request on the connection */

    char *p = malloc(k + 1);
    for (size_t step = 0; step <= 1; step++) {
        run_t r = run((const uint8_t *)enc, k, step, body / 2, p);
        CHECK(r.ret == 1);
        CHECK(r.consumed == body);
        CHECK(r.plen == n && memcmp(p, data, n) == 0);
    }
    free(p);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    if (sel & 1)
        fuzz_encode(data + 1, size - 1, sel);
    else
        fuzz_decode(data + 1, size - 1, sel);
    return 0;
}
