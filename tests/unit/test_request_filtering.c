/*
 * The matching helpers of RequestFilteringModule (src/modules/request_filtering.c):
 * percent decoding, double-escaping detection, hidden segments, the extension
 * of the last segment and case-insensitive sequences. The module source is
 * included so its static helpers can be tested without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "../../src/modules/request_filtering.c"

static void test_pct_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(pct_decode("/a%2541.txt", 11, out), 9);
    assert_string_equal(out, "/a%41.txt");
    assert_int_equal(pct_decode("/%62in/x", 8, out), 6);
    assert_string_equal(out, "/bin/x");
    /* incomplete and invalid escapes stay as they are */
    pct_decode("/a%4", 4, out);
    assert_string_equal(out, "/a%4");
    pct_decode("/a%zz%", 6, out);
    assert_string_equal(out, "/a%zz%");
}

static void test_has_escape(void **state)
{
    (void)state;
    assert_true(has_escape("/a%41.txt", 9));
    assert_true(has_escape("/a+b", 4));
    assert_false(has_escape("/a%4", 4));
    assert_false(has_escape("/a%zz", 5));
    assert_false(has_escape("/plain/path.txt", 15));
    assert_false(has_escape("", 0));
}

static void test_high_bit(void **state)
{
    (void)state;
    assert_true(has_high_bit("/caf\xc3\xa9", 6));
    assert_false(has_high_bit("/cafe", 5));
}

/* Is one of the segments of path one of the items (a, and b unless NULL)? */
static bool segment_in(const char *path, const char *a, const char *b)
{
    struct {
        modcfg_list_t l;
        struct modcfg_list_item it[2];
    } x;
    memset(&x, 0, sizeof(x));
    const char *items[2] = {a, b};
    for (unsigned i = 0; i < 2 && items[i] != NULL; i++) {
        x.l.item[i].s = items[i];
        x.l.item[i].len = strlen(items[i]);
        x.l.n++;
    }
    return has_segment(path, &x.l);
}

static void test_segments(void **state)
{
    (void)state;
    assert_true(segment_in("/bin/x.txt", "bin", NULL));
    assert_true(segment_in("/a/BIN", "bin", NULL));
    assert_true(segment_in("/web.config", "Web.Config", NULL));
    assert_false(segment_in("/binary.txt", "bin", NULL));
    assert_false(segment_in("/a/cabin/x", "bin", NULL));
    assert_false(segment_in("/", "bin", NULL));
    /* several items: any segment equal to any item */
    assert_true(segment_in("/a/App_Data/x", "bin", "app_data"));
    assert_true(segment_in("\\a\\bin", "app_data", "bin"));
    assert_false(segment_in("/a/App_Datax/bins", "bin", "app_data"));
    assert_false(segment_in("/a/b", NULL, NULL));
}

static void test_extension(void **state)
{
    (void)state;
    assert_string_equal(last_extension("/a/b.cs"), ".cs");
    assert_string_equal(last_extension("/a.b/c.tar.gz"), ".gz");
    assert_string_equal(last_extension("/a.dir/noext"), ".");
    assert_string_equal(last_extension("/a/trailingdot."), ".");
    assert_string_equal(last_extension("/"), ".");
}

static void test_icontains(void **state)
{
    (void)state;
    assert_true(icontains("/seq/EVIL.txt", 13, "evil"));
    assert_true(icontains("a...b", 5, "..."));
    assert_false(icontains("/seq/ev", 7, "evil"));
    assert_false(icontains("abc", 3, ""));
    /* only the first n bytes count */
    assert_false(icontains("abcdef", 3, "def"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_decode), cmocka_unit_test(test_has_escape),
        cmocka_unit_test(test_high_bit),   cmocka_unit_test(test_segments),
        cmocka_unit_test(test_extension),  cmocka_unit_test(test_icontains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
