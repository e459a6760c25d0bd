/*
 * The pure helpers of the static file handlers (src/modules/httputil.h):
 * HTTP-date formatting and parsing, entity-tag lists, conditional request
 * evaluation, If-Range, Range parsing and the MIME map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "modules/httputil.h"

#define S(x) x, strlen(x)

static const int64_t T1994 = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

static void test_date_format(void **state)
{
    (void)state;
    char out[HU_DATE_LEN + 1];
    hu_http_date(T1994, out);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    hu_http_date(0, out);
    assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    hu_http_date(951782400, out); /* leap day */
    assert_string_equal(out, "Tue, 29 Feb 2000 00:00:00 GMT");
    hu_http_date(1700000000, out);
    assert_string_equal(out, "Tue, 14 Nov 2023 22:13:20 GMT");
}

static void test_date_parse_formats(void **state)
{
    (void)state;
    assert_int_equal(hu_parse_http_date(S("Sun, 06 Nov 1994 08:49:37 GMT")), T1994);
    assert_int_equal(hu_parse_http_date(S("Sunday, 06-Nov-94 08:49:37 GMT")), T1994);
    assert_int_equal(hu_parse_http_date(S("Sun Nov  6 08:49:37 1994")), T1994);
    assert_int_equal(hu_parse_http_date(S("Tue, 29 Feb 2000 00:00:00 GMT")), 951782400);
    /* surrounding whitespace is not part of the value */
    assert_int_equal(hu_parse_http_date(S("  Sun, 06 Nov 1994 08:49:37 GMT ")), T1994);
    /* round trip */
    char out[HU_DATE_LEN + 1];
    for (int64_t t = 0; t < 4102444800; t += 86400 * 37 + 3601) {
        hu_http_date(t, out);
        assert_int_equal(hu_parse_http_date(out, strlen(out)), t);
    }
}

static void test_date_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 30 Feb 1994 08:49:37 GMT",
        "Sun, 29 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sonday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "1994-11-06T08:49:37Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hu_parse_http_date(bad[i], strlen(bad[i])), -1);
    assert_int_equal(hu_parse_http_date(NULL, 0), -1);
}

static void test_etag_lists(void **state)
{
    (void)state;
    const char *tag = "\"1d2c3b4a:0\"";
    size_t tl = strlen(tag);
    assert_true(hu_etag_list_match(S("\"1d2c3b4a:0\""), tag, tl, false));
    assert_true(hu_etag_list_match(S("\"x\", \"1d2c3b4a:0\""), tag, tl, false));
    assert_true(hu_etag_list_match(S("\"x\",\t\"1d2c3b4a:0\" , \"y\""), tag, tl, true));
    assert_true(hu_etag_list_match(S("*"), tag, tl, false));
    assert_false(hu_etag_list_match(S("\"x\", \"y\""), tag, tl, true));
    /* weak tags: only the weak comparison matches them */
    assert_true(hu_etag_list_match(S("W/\"1d2c3b4a:0\""), tag, tl, true));
    assert_false(hu_etag_list_match(S("W/\"1d2c3b4a:0\""), tag, tl, false));
    /* our tag weak: never strongly equal */
    assert_false(hu_etag_list_match(S("\"abc\""), S("W/\"abc\""), false));
    assert_true(hu_etag_list_match(S("\"abc\""), S("W/\"abc\""), true));
    /* a partial match is not a match; malformed lists match nothing */
    assert_false(hu_etag_list_match(S("\"1d2c3b4a:\""), tag, tl, true));
    assert_false(hu_etag_list_match(S("1d2c3b4a:0"), tag, tl, true));
    assert_false(hu_etag_list_match(S("\"1d2c3b4a:0"), tag, tl, true));
    assert_false(hu_etag_list_match(S(""), tag, tl, true));
    /* the compressed copies' tags match weakly (If-None-Match), never strongly (If-Match) */
    assert_true(hu_etag_list_match(S("\"1d2c3b4a:0-br\""), tag, tl, true));
    assert_true(hu_etag_list_match(S("\"x\", W/\"1d2c3b4a:0-gzip\""), tag, tl, true));
    assert_false(hu_etag_list_match(S("\"1d2c3b4a:0-br\""), tag, tl, false));
    assert_false(hu_etag_list_match(S("\"1d2c3b4a:0-xz\""), tag, tl, true));
    assert_false(hu_etag_list_match(S("\"1d2c3b4a:0-b\""), tag, tl, true));
}

static hu_cond_t cond(void)
{
    hu_cond_t c;
    memset(&c, 0, sizeof(c));
    c.get_or_head = true;
    c.etag = "\"abc:0\"";
    c.etag_len = strlen(c.etag);
    c.mtime = T1994;
    return c;
}

#define SET(c, field, v) ((c).field = (v), (c).field##_len = strlen(v))

static void test_evaluate_order(void **state)
{
    (void)state;
    hu_cond_t c = cond();
    assert_int_equal(hu_evaluate(&c), 0);
    /* If-None-Match */
    SET(c, if_none_match, "\"abc:0\"");
    assert_int_equal(hu_evaluate(&c), 304);
    c.get_or_head = false;
    assert_int_equal(hu_evaluate(&c), 412);
    c = cond();
    SET(c, if_none_match, "W/\"abc:0\"");
    assert_int_equal(hu_evaluate(&c), 304); /* weak comparison */
    SET(c, if_none_match, "\"other\"");
    /* If-None-Match present: If-Modified-Since is not looked at */
    SET(c, if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(hu_evaluate(&c), 0);
    /* If-Modified-Since alone */
    c = cond();
    SET(c, if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(hu_evaluate(&c), 304);
    SET(c, if_modified_since, "Sun, 06 Nov 1994 08:49:36 GMT");
    assert_int_equal(hu_evaluate(&c), 0);
    SET(c, if_modified_since, "Sunday, 06-Nov-94 08:49:38 GMT");
    assert_int_equal(hu_evaluate(&c), 304);
    SET(c, if_modified_since, "not a date");
    assert_int_equal(hu_evaluate(&c), 0);
    c.get_or_head = false; /* only GET and HEAD */
    SET(c, if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(hu_evaluate(&c), 0);
    /* If-Match: strong comparison, "*" */
    c = cond();
    SET(c, if_match, "\"abc:0\"");
    assert_int_equal(hu_evaluate(&c), 0);
    SET(c, if_match, "W/\"abc:0\"");
    assert_int_equal(hu_evaluate(&c), 412);
    SET(c, if_match, "*");
    assert_int_equal(hu_evaluate(&c), 0);
    /* If-Match present: If-Unmodified-Since is not looked at */
    SET(c, if_unmodified_since, "Sun, 06 Nov 1994 08:00:00 GMT");
    assert_int_equal(hu_evaluate(&c), 0);
    /* If-Unmodified-Since alone */
    c = cond();
    SET(c, if_unmodified_since, "Sun, 06 Nov 1994 08:00:00 GMT");
    assert_int_equal(hu_evaluate(&c), 412);
    SET(c, if_unmodified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_int_equal(hu_evaluate(&c), 0);
    SET(c, if_unmodified_since, "garbage");
    assert_int_equal(hu_evaluate(&c), 0);
    /* a failed If-Match wins over a matching If-None-Match */
    SET(c, if_match, "\"zzz\"");
    SET(c, if_none_match, "\"abc:0\"");
    assert_int_equal(hu_evaluate(&c), 412);
}

static void test_if_range(void **state)
{
    (void)state;
    const char *tag = "\"abc:0\"";
    assert_true(hu_if_range(S("\"abc:0\""), tag, strlen(tag), T1994));
    assert_false(hu_if_range(S("\"abd:0\""), tag, strlen(tag), T1994));
    assert_false(hu_if_range(S("W/\"abc:0\""), tag, strlen(tag), T1994));
    assert_true(hu_if_range(S("Sun, 06 Nov 1994 08:49:37 GMT"), tag, strlen(tag), T1994));
    assert_false(hu_if_range(S("Sun, 06 Nov 1994 08:49:38 GMT"), tag, strlen(tag), T1994));
    assert_false(hu_if_range(S("rubbish"), tag, strlen(tag), T1994));
    assert_false(hu_if_range(S(""), tag, strlen(tag), T1994));
}

static int range(const char *s, uint64_t size, hu_range_t *r, unsigned *n)
{
    return hu_parse_range(s, strlen(s), size, r, n);
}

static void test_ranges(void **state)
{
    (void)state;
    hu_range_t r[HU_MAX_RANGES];
    unsigned n;
    assert_int_equal(range("bytes=0-9", 100, r, &n), HU_RANGE_OK);
    assert_int_equal(n, 1);
    assert_true(r[0].first == 0 && r[0].last == 9);
    assert_int_equal(range("bytes=90-", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 1 && r[0].first == 90 && r[0].last == 99);
    assert_int_equal(range("bytes=-10", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 1 && r[0].first == 90 && r[0].last == 99);
    assert_int_equal(range("bytes=-500", 100, r, &n), HU_RANGE_OK); /* longer than the file */
    assert_true(n == 1 && r[0].first == 0 && r[0].last == 99);
    assert_int_equal(range("bytes=50-5000", 100, r, &n), HU_RANGE_OK); /* clamped */
    assert_true(n == 1 && r[0].first == 50 && r[0].last == 99);
    assert_int_equal(range("BYTES=0-0", 100, r, &n), HU_RANGE_OK);
    assert_int_equal(range("bytes=0-99999999999999999999999", 100, r, &n), HU_RANGE_OK);
    assert_true(r[0].last == 99);
    /* several, kept in order when apart */
    assert_int_equal(range("bytes=50-59, 0-9", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 2 && r[0].first == 50 && r[1].first == 0 && r[1].last == 9);
    /* overlapping and adjacent ranges are merged */
    assert_int_equal(range("bytes=0-9,5-19,20-29,60-69", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 2 && r[0].first == 0 && r[0].last == 29 && r[1].first == 60 && r[1].last == 69);
    assert_int_equal(range("bytes=0-,0-,0-", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 1 && r[0].first == 0 && r[0].last == 99);
    /* unsatisfiable ranges are dropped; none left: 416 */
    assert_int_equal(range("bytes=200-300, 10-19", 100, r, &n), HU_RANGE_OK);
    assert_true(n == 1 && r[0].first == 10);
    assert_int_equal(range("bytes=100-", 100, r, &n), HU_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=-0", 100, r, &n), HU_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=0-", 0, r, &n), HU_RANGE_UNSATISFIABLE);
    /* syntax errors and other units: the header is ignored */
    const char *bad[] = {"bytes=",    "bytes=abc", "bytes=5-1", "bytes=1-2-3", "items=0-1",
                         "bytes 0-1", "bytes=-",   "bytes=--1", "bytes=0-1;x", "bytes=0x10-20"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(range(bad[i], 100, r, &n), HU_RANGE_IGNORE);
    /* too many ranges: ignored */
    char many[2048] = "bytes=";
    for (int i = 0; i <= HU_MAX_RANGES; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%s%d-%d", i ? "," : "", i * 10, i * 10 + 1);
        strcat(many, part);
    }
    assert_int_equal(range(many, 100000, r, &n), HU_RANGE_IGNORE);
}

static void test_mime(void **state)
{
    (void)state;
    hu_mime_t *m = hu_mime_new(2);
    assert_non_null(m);
    assert_true(hu_mime_add(m, ".html", "text/html"));
    assert_true(hu_mime_add(m, ".JSON", "application/json"));
    assert_true(hu_mime_add(m, ".woff2", "font/woff2"));
    for (int i = 0; i < 500; i++) { /* growth */
        char ext[16];
        snprintf(ext, sizeof(ext), ".x%d", i);
        assert_true(hu_mime_add(m, ext, "application/x-test"));
    }
    assert_int_equal(hu_mime_count(m), 503);
    assert_string_equal(hu_mime_lookup(m, S("/site/a/index.HTML")), "text/html");
    assert_string_equal(hu_mime_lookup(m, S("data.json")), "application/json");
    assert_string_equal(hu_mime_lookup(m, S("f.Woff2")), "font/woff2");
    assert_string_equal(hu_mime_lookup(m, S("f.x499")), "application/x-test");
    assert_null(hu_mime_lookup(m, S("archive.tar.gz")));
    assert_null(hu_mime_lookup(m, S("README")));
    assert_null(hu_mime_lookup(m, S("/dir.html/README"))); /* the dot of a folder does not count */
    assert_null(hu_mime_lookup(m, S("page.htm")));
    /* replacing a mapping */
    assert_true(hu_mime_add(m, ".html", "application/xhtml+xml"));
    assert_string_equal(hu_mime_lookup(m, S("a.html")), "application/xhtml+xml");
    /* "." maps files without an extension, ".*" everything else */
    assert_true(hu_mime_add(m, ".", "text/plain"));
    assert_string_equal(hu_mime_lookup(m, S("README")), "text/plain");
    assert_null(hu_mime_lookup(m, S("a.unknown")));
    assert_null(hu_mime_any(m));
    assert_true(hu_mime_add(m, "*", "application/octet-stream"));
    assert_string_equal(hu_mime_lookup(m, S("a.unknown")), "application/octet-stream");
    assert_string_equal(hu_mime_lookup(m, S("a.html")), "application/xhtml+xml");
    hu_mime_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_parse_formats),
        cmocka_unit_test(test_date_parse_invalid),
        cmocka_unit_test(test_etag_lists),
        cmocka_unit_test(test_evaluate_order),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_mime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
