/*
 * The W3C format of HttpLoggingModule (src/modules/http_logging/w3c.c):
 * field names and order, value escaping, line and header formatting, and the
 * log file names of every rollover period, with fixed times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include "modules/http_logging/w3c.h"

#define ALL_FLAGS 0x3fffffu

/* 2026-03-01 23:59:59 UTC, a Sunday */
static const time_t T_SUN = 1772409599;

static void test_fields_in_iis_order(void **state)
{
    (void)state;
    char out[1024];
    size_t n = w3c_fields_line(ALL_FLAGS, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_string_equal(
        out, "#Fields: date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query "
             "s-port cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host "
             "sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken\r\n");
    /* the site default set */
    uint32_t def = W3C_DATE | W3C_TIME | W3C_CLIENT_IP | W3C_USER_NAME | W3C_SERVER_IP | W3C_METHOD |
                   W3C_URI_STEM | W3C_URI_QUERY | W3C_HTTP_STATUS | W3C_WIN32_STATUS | W3C_TIME_TAKEN |
                   W3C_SERVER_PORT | W3C_USER_AGENT | W3C_REFERER | W3C_HTTP_SUB_STATUS;
    w3c_fields_line(def, out, sizeof(out));
    assert_string_equal(out,
                        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
                        "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n");
    /* every flag is one column, and the schema values match */
    uint32_t seen = 0;
    for (int i = 0; i < W3C_NCOLS; i++) {
        assert_int_equal(__builtin_popcount(w3c_fields[i].flag), 1);
        assert_false(seen & w3c_fields[i].flag);
        seen |= w3c_fields[i].flag;
    }
    assert_int_equal(seen, ALL_FLAGS);
    assert_int_equal(W3C_HTTP_SUB_STATUS, 2097152);
    assert_int_equal(W3C_REFERER, 262144);
    assert_int_equal(w3c_fields_line(ALL_FLAGS, out, 40), 0); /* does not fit */
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    size_t n = w3c_escape("", 0, out, sizeof(out));
    assert_int_equal(n, 1);
    assert_memory_equal(out, "-", 1);
    n = w3c_escape(NULL, 0, out, sizeof(out));
    assert_memory_equal(out, "-", n);
    n = w3c_escape("Mozilla/5.0 (X11; Linux)", 24, out, sizeof(out));
    assert_int_equal(n, 24);
    assert_memory_equal(out, "Mozilla/5.0+(X11;+Linux)", 24);
    /* control characters cannot break a line */
    n = w3c_escape("a\r\nb\tc\x7f", 7, out, sizeof(out));
    assert_memory_equal(out, "a++b+c+", 7);
    /* UTF-8 stays as it is */
    n = w3c_escape("/caf\xc3\xa9", 6, out, sizeof(out));
    assert_int_equal(n, 6);
    assert_memory_equal(out, "/caf\xc3\xa9", 6);
    /* cut to the room left */
    assert_int_equal(w3c_escape("abcdef", 6, out, 3), 3);
    assert_memory_equal(out, "abc", 3);
    /* every byte value in every position of a longer value: only controls, space and DEL change */
    char in[40], want[40];
    for (unsigned c = 0; c < 256; c++)
        for (unsigned pos = 0; pos < sizeof(in); pos++) {
            memset(in, 'x', sizeof(in));
            in[pos] = (char)c;
            memcpy(want, in, sizeof(in));
            if (c <= ' ' || c == 0x7f)
                want[pos] = '+';
            assert_int_equal(w3c_escape(in, sizeof(in), out, sizeof(out)), sizeof(in));
            assert_memory_equal(out, want, sizeof(in));
        }
}

static void test_line(void **state)
{
    (void)state;
    w3c_str_t v[W3C_NCOLS];
    memset(v, 0, sizeof(v));
    v[W3C_COL_DATE] = (w3c_str_t){"2026-03-01", 10};
    v[W3C_COL_TIME] = (w3c_str_t){"23:59:59", 8};
    v[W3C_COL_METHOD] = (w3c_str_t){"GET", 3};
    v[W3C_COL_URI_STEM] = (w3c_str_t){"/a b.htm", 8};
    v[W3C_COL_HTTP_STATUS] = (w3c_str_t){"200", 3};
    v[W3C_COL_USER_AGENT] = (w3c_str_t){"curl/8", 6};
    char out[256];
    uint32_t f = W3C_DATE | W3C_TIME | W3C_METHOD | W3C_URI_STEM | W3C_URI_QUERY | W3C_HTTP_STATUS |
                 W3C_USER_AGENT | W3C_REFERER;
    size_t n = w3c_format_line(f, v, out, sizeof(out));
    out[n] = '\0';
    /* columns in IIS order whatever the flag order; "-" for the empty ones */
    assert_string_equal(out, "2026-03-01 23:59:59 GET /a+b.htm - curl/8 - 200\r\n");
    /* maxLogLineLength: cut, CR LF kept */
    n = w3c_format_line(f, v, out, 12);
    assert_int_equal(n, 12);
    assert_memory_equal(out, "2026-03-01\r\n", 12);
    /* no flags: an empty line */
    n = w3c_format_line(0, v, out, sizeof(out));
    assert_int_equal(n, 2);
}

static void test_header(void **state)
{
    (void)state;
    char out[1024];
    size_t n = w3c_header("iisd/0.1", W3C_DATE | W3C_TIME | W3C_HTTP_STATUS, T_SUN, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "#Software: iisd/0.1\r\n#Version: 1.0\r\n#Date: 2026-03-01 23:59:59\r\n"
                             "#Fields: date time sc-status\r\n");
    assert_int_equal(w3c_header("iisd/0.1", ALL_FLAGS, T_SUN, out, 80), 0);
    char date[11], clock[9];
    w3c_date_time(0, date, clock);
    assert_string_equal(date, "1970-01-01");
    assert_string_equal(clock, "00:00:00");
}

static const char *name(int period, bool utf8, bool local, time_t t, unsigned seq)
{
    static char out[64];
    size_t n = w3c_file_name(period, utf8, local, t, seq, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_file_names_utc(void **state)
{
    (void)state;
    assert_string_equal(name(W3C_DAILY, true, false, T_SUN, 0), "u_ex260301.log");
    assert_string_equal(name(W3C_DAILY, true, false, T_SUN + 1, 0),
                        "u_ex260302.log"); /* rollover at 00:00 UTC */
    assert_string_equal(name(W3C_HOURLY, true, false, T_SUN, 0), "u_ex26030123.log");
    assert_string_equal(name(W3C_HOURLY, true, false, T_SUN + 1, 0), "u_ex26030200.log");
    assert_string_equal(name(W3C_MONTHLY, true, false, T_SUN, 0), "u_ex2603.log");
    assert_string_equal(name(W3C_MONTHLY, true, false, T_SUN - 86400 * 1, 0), "u_ex2602.log");
    assert_string_equal(name(W3C_MAXSIZE, true, false, T_SUN, 1), "u_extend1.log");
    assert_string_equal(name(W3C_MAXSIZE, true, false, T_SUN, 12), "u_extend12.log");
    /* logInUTF8="false": no u_ prefix */
    assert_string_equal(name(W3C_DAILY, false, false, T_SUN, 0), "ex260301.log");
    assert_string_equal(name(W3C_MAXSIZE, false, false, T_SUN, 3), "extend3.log");
    char small[8];
    assert_int_equal(w3c_file_name(W3C_DAILY, true, false, T_SUN, 0, small, sizeof(small)), 0);
}

static void test_weeks_of_the_month(void **state)
{
    (void)state;
    /* March 2026 starts on a Sunday: 1-7 week 1, 8-14 week 2, ..., 29-31 week 5 */
    assert_string_equal(name(W3C_WEEKLY, true, false, T_SUN, 0), "u_ex260301.log");
    assert_string_equal(name(W3C_WEEKLY, true, false, T_SUN + 86400 * 6, 0), "u_ex260301.log"); /* Sat 7th */
    assert_string_equal(name(W3C_WEEKLY, true, false, T_SUN + 86400 * 7, 0), "u_ex260302.log"); /* Sun 8th */
    assert_string_equal(name(W3C_WEEKLY, true, false, T_SUN + 86400 * 29, 0),
                        "u_ex260305.log"); /* Mon 30th */
    /* February 2026 starts on a Sunday too; 2026-04-01 is a Wednesday: 1-4 week 1, Sun 5th week 2 */
    time_t apr1 = T_SUN + 86400 * 31;
    assert_string_equal(name(W3C_WEEKLY, true, false, apr1, 0), "u_ex260401.log");
    assert_string_equal(name(W3C_WEEKLY, true, false, apr1 + 86400 * 3, 0), "u_ex260401.log"); /* Sat 4th */
    assert_string_equal(name(W3C_WEEKLY, true, false, apr1 + 86400 * 4, 0), "u_ex260402.log"); /* Sun 5th */
}

static void test_local_time_rollover(void **state)
{
    (void)state;
    /* 14 hours east of UTC: 23:59:59 UTC on the 1st is 13:59:59 on the 2nd */
    setenv("TZ", "XXX-14", 1);
    tzset();
    assert_string_equal(name(W3C_DAILY, true, true, T_SUN, 0), "u_ex260302.log");
    assert_string_equal(name(W3C_HOURLY, true, true, T_SUN, 0), "u_ex26030213.log");
    assert_string_equal(name(W3C_DAILY, true, false, T_SUN, 0), "u_ex260301.log");
    /* the time column is UTC whatever the zone */
    char date[11], clock[9];
    w3c_date_time(T_SUN, date, clock);
    assert_string_equal(date, "2026-03-01");
    assert_string_equal(clock, "23:59:59");
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_extend_seq(void **state)
{
    (void)state;
    assert_int_equal(w3c_extend_seq("u_extend1.log", true), 1);
    assert_int_equal(w3c_extend_seq("u_extend27.log", true), 27);
    assert_int_equal(w3c_extend_seq("extend4.log", false), 4);
    assert_int_equal(w3c_extend_seq("extend4.log", true), 0);
    assert_int_equal(w3c_extend_seq("u_extend.log", true), 0);
    assert_int_equal(w3c_extend_seq("u_extend3.log.bak", true), 0);
    assert_int_equal(w3c_extend_seq("u_ex260301.log", true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_in_iis_order),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_file_names_utc),
        cmocka_unit_test(test_weeks_of_the_month),
        cmocka_unit_test(test_local_time_rollover),
        cmocka_unit_test(test_extend_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
