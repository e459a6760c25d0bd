/* Core: the request arena, UTF-8 <-> wide conversion, timeout lists, the Date cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include "core/arena.h"
#include "core/str.h"
#include "http/conn.h"
#include "net/loop.h"

static int cleanup_order[4];
static int cleanup_n;

static void record(void *p)
{
    cleanup_order[cleanup_n++] = *(int *)p;
}

static void test_arena_alignment_and_reuse(void **state)
{
    (void)state;
    iisd_arena_t a;
    iisd_arena_init(&a);
    char *p1 = iisd_arena_alloc(&a, 3);
    char *p2 = iisd_arena_alloc(&a, 5);
    assert_int_equal((uintptr_t)p1 % 16, 0);
    assert_int_equal((uintptr_t)p2 % 16, 0);
    assert_true(p2 >= p1 + 16);
    memset(p1, 'x', 3);
    /* a large block is separate and survives small allocations */
    char *big = iisd_arena_alloc(&a, 100000);
    memset(big, 'y', 100000);
    for (int i = 0; i < 1000; i++)
        iisd_arena_alloc(&a, 64);
    assert_int_equal(big[99999], 'y');
    char *s = iisd_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    iisd_arena_reset(&a);
    char *again = iisd_arena_alloc(&a, 8);
    assert_non_null(again);
    iisd_arena_reset(&a);
    iisd_arena_thread_cleanup();
}

static void test_arena_cleanups_run_in_reverse(void **state)
{
    (void)state;
    iisd_arena_t a;
    iisd_arena_init(&a);
    static int one = 1, two = 2, three = 3;
    cleanup_n = 0;
    iisd_arena_add_cleanup(&a, record, &one);
    iisd_arena_add_cleanup(&a, record, &two);
    iisd_arena_add_cleanup(&a, record, &three);
    iisd_arena_reset(&a);
    assert_int_equal(cleanup_n, 3);
    assert_int_equal(cleanup_order[0], 3);
    assert_int_equal(cleanup_order[2], 1);
    iisd_arena_reset(&a); /* idempotent */
    assert_int_equal(cleanup_n, 3);
}

static void test_utf8_roundtrip(void **state)
{
    (void)state;
    const char *s = "/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80";
    wchar_t w[32];
    size_t n = iisd_utf8_to_wcs(s, strlen(s), w, 32);
    assert_int_equal(n, 9);
    assert_int_equal(w[4], 0xe9);
    assert_int_equal(w[6], 0x20ac);
    assert_int_equal(w[8], 0x1f600);
    assert_int_equal(w[9], 0);
    char back[64];
    size_t m = iisd_wcs_to_utf8(w, n, back, sizeof(back));
    assert_int_equal(m, strlen(s));
    assert_string_equal(back, s);
}

static void test_utf8_invalid_and_truncation(void **state)
{
    (void)state;
    wchar_t w[8];
    /* overlong '/' and a lone continuation byte become U+FFFD */
    size_t n = iisd_utf8_to_wcs("\xc0\xaf"
                                "a\x80",
                                4, w, 8);
    assert_int_equal(n, 3);
    assert_int_equal(w[0], 0xfffd);
    assert_int_equal(w[1], L'a');
    assert_int_equal(w[2], 0xfffd);
    /* a short buffer is filled and terminated, the full length is reported */
    n = iisd_utf8_to_wcs("abcdef", 6, w, 3);
    assert_int_equal(n, 6);
    assert_int_equal(w[0], L'a');
    assert_int_equal(w[1], L'b');
    assert_int_equal(w[2], 0);
    assert_true(iisd_strcaseeq("Content-Type", 12, "content-type", 12));
    assert_false(iisd_strcaseeq("Content-Type", 12, "content-typf", 12));
    assert_false(iisd_strcaseeq("Host", 4, "Hos", 3));
}

/* Long ASCII runs (converted several bytes at a time) around non-ASCII characters, at every
   buffer size: the same characters, the same truncation and the same reported length. */
static void test_utf8_ascii_runs(void **state)
{
    (void)state;
    const char *s = "/a/long/ascii/path/\xc3\xa9/and/more/ascii/text/\xe2\x82\xac/x";
    size_t len = strlen(s);
    wchar_t full[64];
    size_t n = iisd_utf8_to_wcs(s, len, full, 64);
    assert_int_equal(n, len - 3);
    assert_int_equal(full[19], 0xe9);
    assert_int_equal(full[n - 3], 0x20ac);
    for (size_t cap = 1; cap <= n + 1; cap++) {
        wchar_t w[64];
        wmemset(w, L'#', 64);
        assert_int_equal(iisd_utf8_to_wcs(s, len, w, cap), n);
        size_t k = cap - 1 < n ? cap - 1 : n;
        assert_memory_equal(w, full, k * sizeof(wchar_t));
        assert_int_equal(w[k], 0);
        assert_int_equal(w[k + 1], L'#');
    }
    iisd_arena_t a;
    iisd_arena_init(&a);
    size_t wl = 0;
    wchar_t *aw = iisd_arena_wcs_from_utf8(&a, s, len, &wl);
    assert_int_equal(wl, n);
    assert_memory_equal(aw, full, (n + 1) * sizeof(wchar_t));
    size_t ul = 0;
    char *au = iisd_arena_utf8_from_wcs(&a, aw, wl, &ul);
    assert_int_equal(ul, len);
    assert_string_equal(au, s);
    au = iisd_arena_utf8_from_wcs(&a, L"plain/ascii", 11, &ul);
    assert_int_equal(ul, 11);
    assert_string_equal(au, "plain/ascii");
    iisd_arena_reset(&a);
}

static int fired[8];
static int nfired;

static void on_timeout(iisd_tnode_t *n)
{
    fired[nfired++] = (int)n->deadline;
}

static void test_timeout_lists(void **state)
{
    (void)state;
    iisd_tlist_t l = {.timeout_ms = 100};
    iisd_tnode_t a = {.cb = on_timeout}, b = {.cb = on_timeout}, c = {.cb = on_timeout};
    iisd_timeout_set(&l, &a, 0);
    iisd_timeout_set(&l, &b, 10);
    iisd_timeout_set(&l, &c, 20);
    assert_ptr_equal(l.head, &a);
    /* re-arming moves a node to the tail with its new deadline */
    iisd_timeout_set(&l, &a, 30);
    assert_ptr_equal(l.head, &b);
    assert_ptr_equal(l.tail, &a);
    assert_int_equal(a.deadline, 130);
    iisd_timeout_clear(&b);
    assert_ptr_equal(l.head, &c);
    assert_null(b.list);
    iisd_timeout_clear(&b); /* clearing twice is harmless */
    iisd_timeout_clear(&c);
    iisd_timeout_clear(&a);
    assert_null(l.head);
    assert_null(l.tail);
}

static void test_http_date_format(void **state)
{
    (void)state;
    const char *d = iisd_http_date();
    assert_int_equal(strlen(d), 29);
    assert_memory_equal(d + 25, " GMT", 4);
    assert_int_equal(d[3], ',');
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm));
    time_t now = time(NULL);
    time_t t = timegm(&tm);
    assert_true(t <= now && now - t <= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment_and_reuse),
        cmocka_unit_test(test_arena_cleanups_run_in_reverse),
        cmocka_unit_test(test_utf8_roundtrip),
        cmocka_unit_test(test_utf8_invalid_and_truncation),
        cmocka_unit_test(test_utf8_ascii_runs),
        cmocka_unit_test(test_timeout_lists),
        cmocka_unit_test(test_http_date_format),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
