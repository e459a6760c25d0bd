/*
 * The parts of StaticCompressionModule and DynamicCompressionModule that stand alone
 * (src/modules/compression/negotiate.c and codec.c): Accept-Encoding negotiation with
 * q-values, MIME type matching of <staticTypes>/<dynamicTypes>, Vary token lookup, and
 * the compressor streams, checked by decoding their output with zlib, libbrotlidec and
 * libzstd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include "modules/compression/compression.h"

static const cmp_codec_t all[] = {CMP_BR, CMP_ZSTD, CMP_GZIP};

static int neg(const char *ae)
{
    return cmp_negotiate(ae, ae ? strlen(ae) : 0, all, 3);
}

static void test_negotiate_basic(void **state)
{
    (void)state;
    assert_int_equal(neg(NULL), -1);                 /* no header: identity */
    assert_int_equal(neg(""), -1);                   /* empty: identity only */
    assert_int_equal(neg("gzip"), 2);                /* the one the client names */
    assert_int_equal(neg("GZip"), 2);                /* codings ignore case */
    assert_int_equal(neg("x-gzip"), 2);              /* x-gzip is gzip */
    assert_int_equal(neg("gzip, deflate, br"), 0);   /* equal q: server order (br first) */
    assert_int_equal(neg("gzip, zstd"), 1);          /* zstd before gzip in server order */
    assert_int_equal(neg("compress, identity"), -1); /* nothing we have */
    assert_int_equal(neg("*"), 0);                   /* anything: the server's first */
}

static void test_negotiate_qvalues(void **state)
{
    (void)state;
    assert_int_equal(neg("br;q=0.5, gzip;q=0.8"), 2);
    assert_int_equal(neg("br;q=0.5, gzip;Q=0.8"), 2);      /* "q" ignores case */
    assert_int_equal(neg("br ; q=0.9 , gzip ; q=0.8"), 0); /* whitespace around ';' and ',' */
    assert_int_equal(neg("br;q=0, gzip"), 2);              /* q=0: not acceptable */
    assert_int_equal(neg("gzip;q=0"), -1);
    assert_int_equal(neg("*;q=0"), -1);
    assert_int_equal(neg("*, br;q=0"), 1); /* the explicit q=0 beats "*" */
    assert_int_equal(neg("*;q=0.3, gzip;q=0.5"), 2);
    assert_int_equal(neg("gzip;q=0.5"), 2);                 /* identity unnamed: last choice */
    assert_int_equal(neg("gzip;q=0.5, identity"), -1);      /* identity preferred */
    assert_int_equal(neg("gzip;q=0.5, identity;q=0.5"), 2); /* a tie goes to the coding */
    assert_int_equal(neg("gzip;q=0.5, *;q=0.9"), 0);        /* "*" covers br and identity */
    assert_int_equal(neg("gzip;q=1.000"), 2);
    assert_int_equal(neg("gzip;q=0.001"), 2);
    assert_int_equal(neg("gzip, gzip;q=0"), 2); /* the first mention counts */
}

static void test_negotiate_malformed(void **state)
{
    (void)state;
    /* bad q-values make the element void */
    assert_int_equal(neg("gzip;q=1.5"), -1);
    assert_int_equal(neg("gzip;q=2"), -1);
    assert_int_equal(neg("gzip;q=0.0001"), -1);
    assert_int_equal(neg("gzip;q=.5"), -1);
    assert_int_equal(neg("gzip;q="), -1);
    assert_int_equal(neg("gzip;q=abc"), -1);
    assert_int_equal(neg("gzip;q=\"1\""), -1);
    assert_int_equal(neg("gzip;=1"), -1);
    assert_int_equal(neg("gzip;"), -1);
    assert_int_equal(neg("gzip q=1"), -1);
    assert_int_equal(neg("gz\"ip"), -1);
    /* a broken element does not spoil the others */
    assert_int_equal(neg("gzip;q=9, br"), 0);
    assert_int_equal(neg(",,, ,gzip,,"), 2);
    assert_int_equal(neg("gzip;level=\"a,b\""), -1); /* the quoted comma splits the element */
    assert_int_equal(neg("br;foo=bar"), 0);          /* other parameters are ignored */
    /* lengths are honoured: no reading past len */
    const char ae[] = "gzipXXXX";
    assert_int_equal(cmp_negotiate(ae, 4, all, 3), 2);
    assert_int_equal(cmp_negotiate(ae, 3, all, 3), -1);
    /* random bytes never crash */
    char buf[64];
    srand(7);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(rand() % (int)sizeof(buf));
        for (size_t k = 0; k < n; k++)
            buf[k] = "gzipbr*;q=0.1, \t\"\\x"[rand() % 20];
        int r = cmp_negotiate(buf, n, all, 3);
        assert_true(r >= -1 && r < 3);
    }
    assert_int_equal(cmp_accept_q("br;q=0.25, gzip", 15, "br"), 250);
    assert_int_equal(cmp_accept_q("br;q=0.25, gzip", 15, "gzip"), 1000);
    assert_int_equal(cmp_accept_q("br;q=0.25, gzip", 15, "zstd"), -1);
}

static void test_codec_names(void **state)
{
    (void)state;
    assert_int_equal(cmp_codec_by_name("gzip", 4), CMP_GZIP);
    assert_int_equal(cmp_codec_by_name("GZIP", 4), CMP_GZIP);
    assert_int_equal(cmp_codec_by_name("deflate", 7), CMP_DEFLATE);
    assert_int_equal(cmp_codec_by_name("br", 2), CMP_BR);
    assert_int_equal(cmp_codec_by_name("zstd", 4), CMP_ZSTD);
    assert_int_equal(cmp_codec_by_name("lzma", 4), -1);
    assert_int_equal(cmp_codec_by_name("gzi", 3), -1);
    assert_string_equal(cmp_codec_token(CMP_BR), "br");
    assert_string_equal(cmp_codec_token(CMP_ZSTD), "zstd");
}

static const cmp_mime_rule_t rules[] = {
    {.pattern = "text/*", .enabled = true},
    {.pattern = "message/*", .enabled = true},
    {.pattern = "application/json", .enabled = true},
    {.pattern = "application/atom+xml; charset=utf-8", .enabled = true},
    {.pattern = "application/*+xml", .enabled = true},
    {.pattern = "image/svg+xml", .enabled = false},
    {.pattern = "*/*", .enabled = false},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static bool mime(const char *ct)
{
    return cmp_mime_allowed(rules, NRULES, ct, strlen(ct));
}

static void test_mime(void **state)
{
    (void)state;
    assert_true(mime("text/html"));
    assert_true(mime("TEXT/Plain"));
    assert_true(mime("text/html; charset=utf-8")); /* parameters do not matter without them in the rule */
    assert_true(mime("application/json"));
    assert_true(mime("application/json;charset=UTF-8"));
    assert_false(mime("application/jsonx"));
    assert_true(mime("application/rss+xml"));
    assert_false(mime("image/svg+xml")); /* listed as disabled */
    assert_false(mime("image/png"));     /* the catch-all rule, disabled */
    assert_false(mime("application/octet-stream"));
    assert_true(mime("application/atom+xml ; charset=utf-8")); /* spaces around ';' */
    assert_false(cmp_mime_allowed(rules, NRULES, "", 0));
    assert_false(cmp_mime_allowed(rules, NRULES, NULL, 0));
    /* first match wins */
    static const cmp_mime_rule_t order[] = {{.pattern = "text/plain", .enabled = false},
                                            {.pattern = "text/*", .enabled = true}};
    assert_false(cmp_mime_allowed(order, 2, "text/plain", 10));
    assert_true(cmp_mime_allowed(order, 2, "text/css", 8));
    /* a rule with parameters needs them */
    static const cmp_mime_rule_t withp[] = {{.pattern = "application/xml; charset=utf-8", .enabled = true}};
    assert_false(cmp_mime_allowed(withp, 1, "application/xml", 15));
    assert_true(cmp_mime_allowed(withp, 1, "application/xml;charset=UTF-8", 29));
    /* no rules: nothing */
    assert_false(cmp_mime_allowed(NULL, 0, "text/html", 9));
}

/* Prepared rules (normalised once, as the modules load them) decide exactly as raw ones. */
static void test_mime_prepared(void **state)
{
    (void)state;
    cmp_mime_rule_t prep[NRULES + 1];
    for (size_t i = 0; i < NRULES; i++)
        prep[i] = (cmp_mime_rule_t){.pattern = strdup(rules[i].pattern), .enabled = rules[i].enabled};
    prep[NRULES] = (cmp_mime_rule_t){.pattern = strdup("application/xml ;  charset=utf-8"), .enabled = true};
    cmp_mime_rules_prepare(prep, NRULES + 1);
    assert_true(prep[3].prepared);
    assert_string_equal(prep[NRULES].pattern, "application/xml;charset=utf-8");
    static const char *const types[] = {"text/html",
                                        "TEXT/Plain",
                                        "text/html; charset=utf-8",
                                        "application/jsonx",
                                        "image/svg+xml",
                                        "image/png",
                                        "application/atom+xml ; charset=utf-8",
                                        "application/atom+xml",
                                        "application/xml;charset=UTF-8",
                                        "application/xml"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *t = types[i];
        static const cmp_mime_rule_t extra = {.pattern = "application/xml ;  charset=utf-8", .enabled = true};
        cmp_mime_rule_t raw[NRULES + 1];
        memcpy(raw, rules, sizeof(rules));
        raw[NRULES] = extra;
        assert_int_equal(cmp_mime_allowed(prep, NRULES + 1, t, strlen(t)),
                         cmp_mime_allowed(raw, NRULES + 1, t, strlen(t)));
    }
    for (size_t i = 0; i <= NRULES; i++)
        free((char *)prep[i].pattern);
}

static void test_glob_and_list(void **state)
{
    (void)state;
    assert_true(cmp_glob("*", 1, "", 0));
    assert_true(cmp_glob("a*b*c", 5, "aXXbYYc", 7));
    assert_false(cmp_glob("a*b*c", 5, "aXXbYY", 6));
    assert_true(cmp_glob("**", 2, "abc", 3));
    assert_true(cmp_list_has("Accept-Encoding", 15, "accept-encoding"));
    assert_true(cmp_list_has("Origin, accept-encoding ", 24, "Accept-Encoding"));
    assert_false(cmp_list_has("Accept-Encodings", 16, "Accept-Encoding"));
    assert_false(cmp_list_has("", 0, "*"));
}

/* ---- streams ----------------------------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    size_t max_piece;
} out_t;

static int collect(void *ctx, const void *data, size_t n)
{
    out_t *o = ctx;
    if (n > o->max_piece)
        o->max_piece = n;
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, data, n);
    o->n += n;
    return 0;
}

static unsigned char *sample(size_t n)
{
    unsigned char *s = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        /* text-like: compressible but not trivial */
        s[i] = (unsigned char)("abcdefgh ijklmnop\n"[(x >> 16) % 18]);
    }
    return s;
}

/* Decodes o with the codec; returns the decoded length (into out, cap bytes), or -1. */
static long decode(cmp_codec_t c, const out_t *o, unsigned char *out, size_t cap, bool partial)
{
    if (c == CMP_GZIP || c == CMP_DEFLATE) {
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, c == CMP_GZIP ? 31 : 15) != Z_OK)
            return -1;
        z.next_in = o->p;
        z.avail_in = (uInt)o->n;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        int rc = inflate(&z, Z_SYNC_FLUSH);
        long got = (long)(cap - z.avail_out);
        inflateEnd(&z);
        if (partial ? (rc != Z_OK && rc != Z_BUF_ERROR) : rc != Z_STREAM_END)
            return -1;
        return got;
    }
    if (c == CMP_BR) {
        BrotliDecoderState *d = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        const uint8_t *in = o->p;
        size_t avail_in = o->n, avail_out = cap;
        uint8_t *next = out;
        BrotliDecoderResult r = BrotliDecoderDecompressStream(d, &avail_in, &in, &avail_out, &next, NULL);
        BrotliDecoderDestroyInstance(d);
        if (partial ? r != BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT : r != BROTLI_DECODER_RESULT_SUCCESS)
            return -1;
        return (long)(cap - avail_out);
    }
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer ib = {o->p, o->n, 0};
    ZSTD_outBuffer ob = {out, cap, 0};
    size_t r = ZSTD_decompressStream(d, &ob, &ib);
    ZSTD_freeDCtx(d);
    if (ZSTD_isError(r) || (!partial && r != 0))
        return -1;
    return (long)ob.pos;
}

static void roundtrip(cmp_codec_t c, unsigned level)
{
    const size_t n = 300000;
    unsigned char *src = sample(n), *dec = malloc(n + 16);
    out_t o = {0};
    cmp_stream_t *s = cmp_stream_get(c, level);
    assert_non_null(s);
    /* three pieces, a flush after the first: everything so far must decode at that point */
    assert_int_equal(cmp_stream_write(s, src, 1000, CMP_RUN, collect, &o), 0);
    assert_int_equal(cmp_stream_write(s, NULL, 0, CMP_FLUSH, collect, &o), 0);
    assert_int_equal(decode(c, &o, dec, n + 16, true), 1000);
    assert_memory_equal(dec, src, 1000);
    assert_int_equal(cmp_stream_write(s, src + 1000, 150000, CMP_RUN, collect, &o), 0);
    assert_int_equal(cmp_stream_write(s, src + 151000, n - 151000, CMP_FINISH, collect, &o), 0);
    assert_true(o.n > 0 && o.n < n);
    assert_true(o.max_piece <= 16384);
    assert_int_equal(decode(c, &o, dec, n + 16, false), (long)n);
    assert_memory_equal(dec, src, n);
    /* back to the pool and out again: a fresh stream */
    cmp_stream_put(s);
    s = cmp_stream_get(c, level);
    assert_non_null(s);
    out_t o2 = {0};
    assert_int_equal(cmp_stream_write(s, "hello", 5, CMP_FINISH, collect, &o2), 0);
    assert_int_equal(decode(c, &o2, dec, n, false), 5);
    assert_memory_equal(dec, "hello", 5);
    cmp_stream_put(s);
    free(o.p);
    free(o2.p);
    free(src);
    free(dec);
}

static void test_stream_gzip(void **state)
{
    (void)state;
    roundtrip(CMP_GZIP, 0);
    roundtrip(CMP_GZIP, 10);
}

static void test_stream_deflate(void **state)
{
    (void)state;
    roundtrip(CMP_DEFLATE, 7);
}

static void test_stream_brotli(void **state)
{
    (void)state;
    roundtrip(CMP_BR, 0);
    roundtrip(CMP_BR, 7);
}

static void test_stream_zstd(void **state)
{
    (void)state;
    roundtrip(CMP_ZSTD, 0);
    roundtrip(CMP_ZSTD, 7);
}

static void test_stream_empty_and_bad(void **state)
{
    (void)state;
    for (int c = 0; c < CMP_NCODECS; c++) {
        out_t o = {0};
        unsigned char dec[8];
        cmp_stream_t *s = cmp_stream_get((cmp_codec_t)c, 3);
        assert_non_null(s);
        assert_int_equal(cmp_stream_write(s, NULL, 0, CMP_FINISH, collect, &o), 0);
        assert_true(o.n > 0);
        assert_int_equal(decode((cmp_codec_t)c, &o, dec, sizeof(dec), false), 0);
        cmp_stream_put(s);
        free(o.p);
    }
    assert_null(cmp_stream_get((cmp_codec_t)42, 1));
    assert_int_equal(cmp_stream_write(NULL, "x", 1, CMP_RUN, collect, NULL), -1);
    cmp_stream_put(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_basic),
        cmocka_unit_test(test_negotiate_qvalues),
        cmocka_unit_test(test_negotiate_malformed),
        cmocka_unit_test(test_codec_names),
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_mime_prepared),
        cmocka_unit_test(test_glob_and_list),
        cmocka_unit_test(test_stream_gzip),
        cmocka_unit_test(test_stream_deflate),
        cmocka_unit_test(test_stream_brotli),
        cmocka_unit_test(test_stream_zstd),
        cmocka_unit_test(test_stream_empty_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
