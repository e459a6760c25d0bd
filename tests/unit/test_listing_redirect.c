/*
 * The logic of HttpRedirectionModule and DirectoryListingModule that stands
 * alone: wildcard matching and $S/$V/$Q/$P expansion of redirect
 * destinations; HTML escaping, link encoding and the showFlags columns of
 * listings. The module sources are included so their static helpers can be
 * tested without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#define factory  redir_factory
#define g_server redir_g_server
#include "../../src/modules/http_redirection.c"
#undef factory
#undef g_server
#define factory  dl_factory
#define g_server dl_g_server
#include "../../src/modules/directory_listing.c"
#undef factory
#undef g_server

static void test_wildcards(void **state)
{
    (void)state;
    assert_true(wild_match("*.htm", "a/b/page.htm"));
    assert_true(wild_match("*.HTM", "page.htm")); /* case-insensitive */
    assert_true(wild_match("*/img/*", "/site/img/logo.png"));
    assert_true(wild_match("*", ""));
    assert_true(wild_match("a*b*c", "aXXbYYc"));
    assert_false(wild_match("*.htm", "page.html"));
    assert_false(wild_match("a*b", "acb/x"));
    assert_false(wild_match("", "x"));
}

static void test_expand(void **state)
{
    (void)state;
    char out[128];
    vars_t v = {"/x/y.htm", "/old/x/y.htm", "a=1&b=2"};
    assert_true(expand("/new$S$Q", &v, out, sizeof(out)));
    assert_string_equal(out, "/new/x/y.htm?a=1&b=2");
    assert_true(expand("http://h$V?p=$P", &v, out, sizeof(out)));
    assert_string_equal(out, "http://h/old/x/y.htm?p=a=1&b=2");
    assert_false(expand("/plain/$Z$", &v, out, sizeof(out))); /* not a variable */
    assert_string_equal(out, "/plain/$Z$");
    vars_t none = {"", "/p", ""};
    assert_true(expand("/t$Q", &none, out, sizeof(out))); /* no query: no '?' */
    assert_string_equal(out, "/t");
    /* output is cut to the buffer, never overrun */
    char small[8];
    expand("/0123456789$S", &v, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_listing_escaping(void **state)
{
    (void)state;
    sbuf_t b = {malloc(4), 0, 4};
    sb_html(&b, "<a href=\"x\">O'Neil & co</a>");
    assert_string_equal(b.buf, "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
    b.len = 0;
    sb_url(&b, "/dir/a b%#?é.txt");
    assert_string_equal(b.buf, "/dir/a%20b%25%23%3F%C3%A9.txt");
    free(b.buf);
}

static void test_listing_columns(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    entry_t e;
    memset(&e, 0, sizeof(e));
    e.st.st_mtime = 1700000000; /* Tuesday, November 14, 2023 22:13 UTC */
    e.st.st_size = 1234;
    sbuf_t b = {malloc(16), 0, 16};
    put_columns(&b, &e, SHOW_DATE | SHOW_TIME | SHOW_SIZE);
    assert_string_equal(b.buf, "11/14/2023 10:13 PM         1234 ");
    b.len = 0;
    put_columns(&b, &e, SHOW_LONGDATE);
    assert_string_equal(b.buf, "Tuesday, November 14, 2023 10:13 PM ");
    b.len = 0;
    e.dir = true;
    put_columns(&b, &e, SHOW_SIZE);
    assert_string_equal(b.buf, "       &lt;dir&gt; ");
    b.len = 0;
    put_columns(&b, &e, 0);
    assert_string_equal(b.buf, "&lt;dir&gt; ");
    free(b.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_listing_escaping),
        cmocka_unit_test(test_listing_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
