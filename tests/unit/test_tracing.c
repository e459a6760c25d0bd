/*
 * FailedRequestsTracingModule's server-independent parts
 * (src/modules/failed_request_tracing/frt.c): the statusCodes list, the
 * failure decision (status, timeTaken, verbosity), rule paths, GUIDs and the
 * XML escaping of the trace files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <httptrace.h>
#include "modules/failed_request_tracing/frt.h"

static void test_codes_parse(void **state)
{
    (void)state;
    frt_code_t v[8];
    int n = frt_parse_codes(" 401.3, 500-999 ,404", v, 8);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].lo, 401);
    assert_int_equal(v[0].hi, 401);
    assert_int_equal(v[0].sub, 3);
    assert_int_equal(v[1].lo, 500);
    assert_int_equal(v[1].hi, 999);
    assert_int_equal(v[1].sub, -1);
    assert_int_equal(v[2].lo, 404);
    assert_int_equal(v[2].sub, -1);
    assert_int_equal(frt_parse_codes("", v, 8), 0);
    assert_int_equal(frt_parse_codes("   ", v, 8), 0);
    assert_int_equal(frt_parse_codes("400 - 499", v, 8), 1);
    assert_int_equal(v[0].hi, 499);
    assert_int_equal(frt_parse_codes("404.0", v, 8), 1);
    assert_int_equal(v[0].sub, 0);
}

static void test_codes_reject(void **state)
{
    (void)state;
    frt_code_t v[2];
    const char *bad[] = {"abc",   "404,", ",404",    "99",   "1000",      "500-400", "404.",
                         "404.x", "40 4", "404;500", "500-", "404.70000", "1-2-3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(frt_parse_codes(bad[i], v, 2), -1);
    assert_int_equal(frt_parse_codes("401,402,403", v, 2), -1); /* more than fit */
}

static void test_codes_match(void **state)
{
    (void)state;
    frt_code_t v[8];
    int n = frt_parse_codes("401.3,500-599", v, 8);
    assert_true(frt_codes_match(v, (unsigned)n, 401, 3));
    assert_false(frt_codes_match(v, (unsigned)n, 401, 0));
    assert_false(frt_codes_match(v, (unsigned)n, 401, 1));
    assert_true(frt_codes_match(v, (unsigned)n, 500, 0));
    assert_true(frt_codes_match(v, (unsigned)n, 503, 7));
    assert_true(frt_codes_match(v, (unsigned)n, 599, 0));
    assert_false(frt_codes_match(v, (unsigned)n, 600, 0));
    assert_false(frt_codes_match(v, (unsigned)n, 499, 0));
    assert_false(frt_codes_match(v, 0, 500, 0));
}

static void test_failure(void **state)
{
    (void)state;
    frt_code_t v[4];
    int n = frt_parse_codes("404", v, 4);
    frt_failure_def_t d = {.codes = v, .ncodes = (unsigned)n, .time_ms = 30000, .verbosity = 0};
    assert_int_equal(frt_failure(&d, 404, 2, 5, 0), FRT_STATUS_CODE);
    assert_int_equal(frt_failure(&d, 200, 0, 29999, 0), FRT_NONE);
    assert_int_equal(frt_failure(&d, 200, 0, 30000, 0), FRT_TIME_TAKEN);
    assert_int_equal(frt_failure(&d, 404, 0, 40000, 0), FRT_STATUS_CODE); /* status wins */
    d.time_ms = 0;                                                        /* 00:00:00: not a condition */
    assert_int_equal(frt_failure(&d, 200, 0, 1000000, 0), FRT_NONE);
    d.verbosity = 3; /* Warning: a warning, an error or a critical error fails the request */
    assert_int_equal(frt_failure(&d, 200, 0, 1, 3), FRT_VERBOSITY);
    assert_int_equal(frt_failure(&d, 200, 0, 1, 1), FRT_VERBOSITY);
    assert_int_equal(frt_failure(&d, 200, 0, 1, 4), FRT_NONE);
    assert_int_equal(frt_failure(&d, 200, 0, 1, 0), FRT_NONE);
    d.verbosity = 2;
    assert_int_equal(frt_failure(&d, 200, 0, 1, 3), FRT_NONE);
    assert_string_equal(frt_reason_name(FRT_TIME_TAKEN), "TIME_TAKEN");
    assert_string_equal(frt_reason_name(FRT_STATUS_CODE), "STATUS_CODE");
}

static void test_wildcard_and_paths(void **state)
{
    (void)state;
    assert_true(frt_wildcard("*", ""));
    assert_true(frt_wildcard("*.aspx", "default.ASPX"));
    assert_false(frt_wildcard("*.aspx", "default.aspx.txt"));
    assert_true(frt_wildcard("a*b*c", "aXXbYYc"));
    assert_false(frt_wildcard("a*b*c", "aXXbYY"));
    assert_true(frt_wildcard("?at.htm", "cat.htm"));
    assert_false(frt_wildcard("?at.htm", "at.htm"));
    assert_true(frt_wildcard("**x", "x"));
    assert_true(frt_path_matches("*.aspx", "/app/sub/page.aspx"));
    assert_false(frt_path_matches("*.aspx", "/page.aspx/other"));
    assert_true(frt_path_matches("page.aspx", "/a/Page.aspx"));
    assert_true(frt_path_matches("*", "/"));
    assert_true(frt_path_matches("/app/*", "/app/x/y.htm"));
    assert_false(frt_path_matches("/app/*", "/other/app/y.htm"));
}

static void test_guid(void **state)
{
    (void)state;
    GUID g;
    char s[39];
    assert_true(frt_parse_guid("{3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}", &g));
    assert_memory_equal(&g, &GUID_IIS_WWW_SERVER_TRACE_PROVIDER, sizeof(GUID));
    frt_format_guid(&g, s);
    assert_string_equal(s, "{3a2a4e84-4c21-4981-ae10-3fda0d9b0f83}");
    assert_true(frt_parse_guid("06b94d9a-b15e-456e-a4ef-37c984a2cb4b", &g));
    assert_memory_equal(&g, &GUID_IIS_ASP_TRACE_TRACE_PROVIDER, sizeof(GUID));
    assert_false(frt_parse_guid("{3a2a4e84-4c21-4981-ae10-3fda0d9b0f8}", &g));
    assert_false(frt_parse_guid("{3a2a4e84-4c21-4981-ae10-3fda0d9b0f83", &g));
    assert_false(frt_parse_guid("3a2a4e84x4c21-4981-ae10-3fda0d9b0f83", &g));
    assert_false(frt_parse_guid("", &g));
}

static void test_xml_escape(void **state)
{
    (void)state;
    frt_buf_t b = {0};
    const char in[] = "a<b>&\"c'\t\n\r\x01\x7f"
                      "é";
    frt_buf_xml(&b, in, sizeof(in) - 1);
    assert_string_equal(b.p, "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;??é");
    frt_buf_xml(&b, "plain", 5);
    frt_buf_printf(&b, "[%d]", 42);
    assert_string_equal(b.p, "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;??éplain[42]");
    assert_false(b.failed);
    frt_buf_free(&b);
    /* long text grows the buffer */
    char big[10000];
    memset(big, '&', sizeof(big));
    frt_buf_xml(&b, big, sizeof(big));
    assert_int_equal(b.len, 5 * sizeof(big));
    assert_memory_equal(b.p + b.len - 5, "&amp;", 5);
    frt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_parse),        cmocka_unit_test(test_codes_reject),
        cmocka_unit_test(test_codes_match),        cmocka_unit_test(test_failure),
        cmocka_unit_test(test_wildcard_and_paths), cmocka_unit_test(test_guid),
        cmocka_unit_test(test_xml_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
