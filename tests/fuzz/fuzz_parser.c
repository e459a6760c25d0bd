/*
 * libFuzzer driver for the HTTP/1.1 head parser, the chunked decoder and URL
 * normalisation. Every input is parsed in one piece, split in two, and byte
 * by byte; the results must be identical. Crashes, sanitizer reports and
 * mismatches (abort) are findings.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_parser.c \
 *       src/http/parser.c src/http/tokens.c src/core/arena.c src/core/mem.c -o build/fuzz_parser
 *   build/fuzz_parser -max_total_time=60 tests/fuzz/corpus/parser
 *
 * Input layout: byte 0 selects limits and unknown_cap, byte 1 the split
 * position, the rest is the data.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"
#include "core/arena.h"

#include "fuzz_check.h"

#define UCAP 8

struct res {
    int ret;
    iisd_parser_t p;
    iisd_head_t h;
    iisd_field_t uf[UCAP];
    iisd_arena_t a;
    char *buf;
};

static void begin(struct res *r, const uint8_t *data, size_t n, uint16_t ucap)
{
    r->buf = malloc(n + 1);
    memcpy(r->buf, data, n);
    iisd_parser_init(&r->p);
    r->h.unknown = r->uf;
    r->h.unknown_cap = ucap;
    iisd_arena_init(&r->a);
}

static bool same_span(const char *a, size_t al, const char *b, size_t bl)
{
    if (a == NULL || b == NULL)
        return a == b && al == bl;
    return al == bl && memcmp(a, b, al) == 0;
}

static void compare(const struct res *x, const struct res *y)
{
    CHECK(x->ret == y->ret);
    if (x->ret <= 0)
        return;
    const iisd_head_t *a = &x->h, *b = &y->h;
    CHECK(a->head_len == b->head_len && (int)a->head_len == x->ret);
    CHECK(same_span(a->method, a->method_len, b->method, b->method_len));
    CHECK(a->method[a->method_len] == '\0');
    CHECK(a->verb == b->verb && a->target_form == b->target_form);
    CHECK(a->version_major == 1 && a->version_major == b->version_major);
    CHECK(a->version_minor == b->version_minor && a->version_minor <= 1);
    CHECK(same_span(a->target, a->target_len, b->target, b->target_len));
    CHECK(a->target[a->target_len] == '\0');
    CHECK(same_span(a->path, a->path_len, b->path, b->path_len));
    CHECK(same_span(a->query, a->query_len, b->query, b->query_len));
    CHECK(same_span(a->authority, a->authority_len, b->authority, b->authority_len));
    for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++) {
        CHECK(same_span(a->known[i].value, a->known[i].len, b->known[i].value, b->known[i].len));
        if (a->known[i].value != NULL)
            CHECK(a->known[i].value[a->known[i].len] == '\0');
    }
    CHECK(a->unknown_count == b->unknown_count);
    for (int i = 0; i < a->unknown_count; i++) {
        CHECK(same_span(a->unknown[i].name, a->unknown[i].name_len, b->unknown[i].name,
                        b->unknown[i].name_len));
        CHECK(same_span(a->unknown[i].value, a->unknown[i].value_len, b->unknown[i].value,
                        b->unknown[i].value_len));
        CHECK(iisd_req_hdr_lookup(a->unknown[i].name, a->unknown[i].name_len) == IISD_HDR_UNKNOWN);
    }
    CHECK(a->content_length == b->content_length);
    CHECK(a->chunked == b->chunked && a->keep_alive == b->keep_alive);
    CHECK(a->expect_continue == b->expect_continue && a->upgrade == b->upgrade);
    CHECK(!(a->chunked && a->content_length >= 0));
    CHECK(a->path != NULL);
}

static void fuzz_head(const uint8_t *data, size_t n, uint8_t sel, size_t cut)
{
    iisd_parse_limits_t lim = {0};
    if (sel & 1)
        lim = (iisd_parse_limits_t){
            .max_request_line = 24 + (sel >> 4), .max_field = 16 + (sel >> 3), .max_head = 96};
    uint16_t ucap = (sel & 2) ? 1 : UCAP;

    struct res w, s, b;
    begin(&w, data, n, ucap);
    w.ret = iisd_parse_head(&w.p, w.buf, n, &w.h, &lim, &w.a);
    CHECK(w.ret <= (int)n);
    CHECK(w.ret >= 0 || w.ret == -400 || w.ret == -414 || w.ret == -431 || w.ret == -501 || w.ret == -505);
    if (w.ret > 0)
        CHECK(memcmp(w.buf + w.ret, data + w.ret, n - (size_t)w.ret) == 0);

    begin(&s, data, n, ucap);
    if (cut > n)
        cut = n;
    s.ret = iisd_parse_head(&s.p, s.buf, cut, &s.h, &lim, &s.a);
    if (s.ret == 0)
        s.ret = iisd_parse_head(&s.p, s.buf, n, &s.h, &lim, &s.a);
    compare(&w, &s);

    begin(&b, data, n, ucap);
    b.ret = 0;
    for (size_t i = 1; i <= n && b.ret == 0; i++)
        b.ret = iisd_parse_head(&b.p, b.buf, i, &b.h, &lim, &b.a);
    compare(&w, &b);

    struct res *all[] = {&w, &s, &b};
    for (int i = 0; i < 3; i++) {
        iisd_arena_reset(&all[i]->a);
        free(all[i]->buf);
    }
}

static int chunked_run(const uint8_t *data, size_t n, size_t step, size_t cut, char *payload, size_t *plen,
                       size_t *used)
{
    char *wb = malloc(n + 1);
    iisd_chunked_t c;
    iisd_chunked_init(&c);
    size_t pend = 0, fed = 0, out = 0, total = 0;
    int ret = 0;
    while (ret == 0 && fed < n) {
        size_t end = step ? fed + step : (fed < cut ? cut : n);
        if (end > n)
            end = n;
        memcpy(wb + pend, data + fed, end - fed);
        size_t avail = pend + end - fed;
        fed = end;
        size_t len = avail, consumed = 0;
        ret = iisd_chunked_decode(&c, wb, &len, &consumed);
        CHECK(consumed <= avail && len <= consumed);
        CHECK(ret == 0 || ret == 1 || ret == -400);
        memcpy(payload + out, wb, len);
        out += len;
        total += consumed;
        memmove(wb, wb + consumed, avail - consumed);
        pend = avail - consumed;
    }
    free(wb);
    *plen = out;
    *used = total;
    return ret;
}

static void fuzz_chunked(const uint8_t *data, size_t n, size_t cut)
{
    char *p1 = malloc(n + 1), *p2 = malloc(n + 1), *p3 = malloc(n + 1);
    size_t l1, l2, l3, u1, u2, u3;
    int r1 = chunked_run(data, n, 0, n, p1, &l1, &u1);
    int r2 = chunked_run(data, n, 0, cut, p2, &l2, &u2);
    int r3 = chunked_run(data, n, 1, 0, p3, &l3, &u3);
    CHECK(r1 == r2 && r1 == r3);
    if (r1 >= 0) {
        CHECK(l1 == l2 && l1 == l3);
        CHECK(memcmp(p1, p2, l1) == 0 && memcmp(p1, p3, l1) == 0);
        CHECK(u1 == u2 && u1 == u3);
    }
    free(p1);
    free(p2);
    free(p3);
}

static void fuzz_url(const uint8_t *data, size_t n)
{
    char *out = malloc(n + 1);
    bool dbl;
    int r = iisd_url_normalize((const char *)data, n, out, &dbl);
    CHECK(r == -400 || (r >= 1 && (size_t)r <= n));
    if (r > 0) {
        CHECK(out[0] == '/' && out[r] == '\0' && strlen(out) == (size_t)r);
        CHECK(strstr(out, "//") == NULL && strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
        CHECK(strchr(out, '\\') == NULL);
        CHECK(!(r >= 2 && memcmp(out + r - 2, "/.", 2) == 0));
        CHECK(!(r >= 3 && memcmp(out + r - 3, "/..", 3) == 0));
        /* without '%' left, normalising again changes nothing */
        if (memchr(out, '%', (size_t)r) == NULL) {
            char *again = malloc((size_t)r + 1);
            CHECK(iisd_url_normalize(out, (size_t)r, again, NULL) == r);
            CHECK(memcmp(again, out, (size_t)r) == 0);
            free(again);
        }
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t sel = data[0];
    size_t cut = data[1];
    data += 2;
    size -= 2;
    fuzz_head(data, size, sel, cut);
    fuzz_chunked(data, size, cut);
    fuzz_url(data, size);
    return 0;
}
