/*
 * The logic of CustomErrorModule (src/modules/custom_error.c) that stands
 * alone: choosing the <error> entry, reading Accept-Language, telling local
 * clients, naming notifications and escaping HTML. The module source is
 * included so its static helpers can be tested without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "../../src/modules/custom_error.c"

static void test_find_entry(void **state)
{
    (void)state;
    ce_entry_t v[] = {
        {404, -1, RESP_FILE, "", "any404"},
        {404, 3, RESP_FILE, "", "404.3"},
        {500, 19, RESP_FILE, "", "500.19"},
        {404, -1, RESP_FILE, "", "second404"},
    };
    assert_string_equal(find_entry(v, 4, 404, 3)->path, "404.3");
    assert_string_equal(find_entry(v, 4, 404, 0)->path, "any404");
    assert_string_equal(find_entry(v, 4, 404, 7)->path, "any404");
    assert_string_equal(find_entry(v, 4, 500, 19)->path, "500.19");
    assert_null(find_entry(v, 4, 500, 0)); /* no -1 entry for 500 */
    assert_null(find_entry(v, 4, 403, 0));
    assert_null(find_entry(v, 0, 404, 0));
}

static void test_languages(void **state)
{
    (void)state;
    char tag[16];
    const char *p = "de-DE, de;q=0.9 ,en;q=0.5,fr;q=0,*;q=0.1,it;q=0.000, es;q=0.001";
    p = next_language(p, tag, sizeof(tag));
    assert_string_equal(tag, "de-DE");
    p = next_language(p, tag, sizeof(tag));
    assert_string_equal(tag, "de");
    p = next_language(p, tag, sizeof(tag));
    assert_string_equal(tag, "en");
    p = next_language(p, tag, sizeof(tag)); /* fr (q=0), * and it (q=0.000) are skipped */
    assert_string_equal(tag, "es");
    assert_null(next_language(p, tag, sizeof(tag)));
    assert_null(next_language(NULL, tag, sizeof(tag)));
    assert_null(next_language("", tag, sizeof(tag)));
    /* tags that could escape a folder name, or do not fit, are skipped */
    p = next_language("../etc, a/b, verylonglanguagetag-xx, en", tag, sizeof(tag));
    assert_non_null(p);
    assert_string_equal(tag, "en");

    char t1[] = "EN-us", t2[] = "zh-Hant", t3[] = "fr";
    canonical_language(t1);
    canonical_language(t2);
    canonical_language(t3);
    assert_string_equal(t1, "en-US");
    assert_string_equal(t2, "zh-Hant");
    assert_string_equal(t3, "fr");
}

static void test_local_clients(void **state)
{
    (void)state;
    struct sockaddr_in r4 = {.sin_family = AF_INET}, l4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.9", &r4.sin_addr);
    assert_true(is_local_client((struct sockaddr *)&r4, NULL));
    inet_pton(AF_INET, "192.0.2.7", &r4.sin_addr);
    inet_pton(AF_INET, "192.0.2.1", &l4.sin_addr);
    assert_false(is_local_client((struct sockaddr *)&r4, (struct sockaddr *)&l4));
    inet_pton(AF_INET, "192.0.2.1", &r4.sin_addr); /* the address it connected to */
    assert_true(is_local_client((struct sockaddr *)&r4, (struct sockaddr *)&l4));

    struct sockaddr_in6 r6 = {.sin6_family = AF_INET6}, l6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &r6.sin6_addr);
    assert_true(is_local_client((struct sockaddr *)&r6, NULL));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &r6.sin6_addr);
    assert_true(is_local_client((struct sockaddr *)&r6, NULL));
    inet_pton(AF_INET6, "2001:db8::5", &r6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8::1", &l6.sin6_addr);
    assert_false(is_local_client((struct sockaddr *)&r6, (struct sockaddr *)&l6));
    assert_false(is_local_client(NULL, NULL));
}

static void test_names_and_escaping(void **state)
{
    (void)state;
    assert_string_equal(notification_name(RQ_MAP_REQUEST_HANDLER), "MapRequestHandler");
    assert_string_equal(notification_name(RQ_EXECUTE_REQUEST_HANDLER), "ExecuteRequestHandler");
    assert_string_equal(notification_name(0), "Unknown");
    char out[64];
    const char *in = "<a href=\"x\">'&'</a>";
    size_t n = append_html(out, 0, sizeof(out), in, strlen(in));
    assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert_int_equal(n, strlen(out));
    /* never writes past the buffer */
    char small[10];
    n = append_html(small, 0, sizeof(small), "<<<<<<<<", 8);
    assert_true(n < sizeof(small));
    assert_int_equal(strlen(small), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_entry),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_local_clients),
        cmocka_unit_test(test_names_and_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
