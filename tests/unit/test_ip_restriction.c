/*
 * Address and subnet matching of IpRestrictionModule
 * (src/modules/ip_restriction/ipmatch.c): IPv4 and IPv6 parsing, dotted,
 * IPv6 and prefix-length masks, matching, and X-Forwarded-For lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "modules/ip_restriction/ipmatch.h"

static ipr_addr_t A(const char *s, bool *v4)
{
    ipr_addr_t a;
    bool dummy;
    assert_true(ipr_parse_addr(s, strlen(s), &a, v4 ? v4 : &dummy));
    return a;
}

static bool in(const char *addr, const char *net, const char *mask)
{
    bool v4;
    ipr_addr_t a = A(addr, NULL), n = A(net, &v4), m;
    assert_true(ipr_parse_mask(mask, v4, &m));
    return ipr_match(&a, &n, &m);
}

static void test_parse_addr(void **state)
{
    (void)state;
    bool v4;
    ipr_addr_t a = A("192.168.1.2", &v4);
    assert_true(v4);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2};
    assert_memory_equal(a.b, mapped, 16);
    /* an IPv4-mapped IPv6 address is the same address */
    ipr_addr_t b = A("::ffff:192.168.1.2", &v4);
    assert_false(v4);
    assert_memory_equal(b.b, mapped, 16);
    a = A("[2001:db8::1]", &v4);
    assert_false(v4);
    assert_int_equal(a.b[0], 0x20);
    assert_int_equal(a.b[15], 1);
    ipr_addr_t x;
    assert_false(ipr_parse_addr("", 0, &x, &v4));
    assert_false(ipr_parse_addr("1.2.3", 5, &x, &v4));
    assert_false(ipr_parse_addr("1.2.3.256", 9, &x, &v4));
    assert_false(ipr_parse_addr("host.example", 12, &x, &v4));
    assert_false(ipr_parse_addr("[1.2.3.4]", 9, &x, &v4));
    assert_false(ipr_parse_addr("2001:db8::g", 11, &x, &v4));
    /* length-bounded: the rest of the buffer is not read */
    assert_true(ipr_parse_addr("10.0.0.1:80", 8, &x, &v4));
}

static void test_masks(void **state)
{
    (void)state;
    ipr_addr_t m, p;
    assert_true(ipr_parse_mask("255.255.255.0", true, &m));
    ipr_prefix_mask(24, true, &p);
    assert_memory_equal(m.b, p.b, 16);
    assert_true(ipr_parse_mask("24", true, &m));
    assert_memory_equal(m.b, p.b, 16);
    assert_true(ipr_parse_mask("/24", true, &m));
    assert_memory_equal(m.b, p.b, 16);
    assert_true(ipr_parse_mask("ffff:ffff:ffff:ffff::", false, &m));
    ipr_prefix_mask(64, false, &p);
    assert_memory_equal(m.b, p.b, 16);
    /* empty: one address */
    assert_true(ipr_parse_mask("", true, &m));
    ipr_prefix_mask(32, true, &p);
    assert_memory_equal(m.b, p.b, 16);
    /* invalid: holes, out of range, wrong family */
    assert_false(ipr_parse_mask("255.0.255.0", true, &m));
    assert_false(ipr_parse_mask("33", true, &m));
    assert_false(ipr_parse_mask("129", false, &m));
    assert_false(ipr_parse_mask("ffff::", true, &m));
    assert_false(ipr_parse_mask("255.255.0.0", false, &m));
    assert_false(ipr_parse_mask("abc", true, &m));
    assert_false(ipr_parse_mask("/", true, &m));
}

static void test_match_v4(void **state)
{
    (void)state;
    assert_true(in("10.1.2.3", "10.0.0.0", "255.0.0.0"));
    assert_true(in("10.1.2.3", "10.0.0.0", "8"));
    assert_false(in("11.1.2.3", "10.0.0.0", "8"));
    assert_true(in("10.1.2.3", "10.1.2.3", ""));
    assert_false(in("10.1.2.4", "10.1.2.3", "255.255.255.255"));
    /* the network's host bits do not matter */
    assert_true(in("192.168.5.77", "192.168.5.1", "255.255.255.0"));
    assert_true(in("1.2.3.4", "0.0.0.0", "0"));
    /* an IPv4 client on an IPv6 socket is still an IPv4 client */
    assert_true(in("::ffff:10.1.2.3", "10.0.0.0", "8"));
    /* a /0 IPv4 rule covers IPv4 only */
    assert_false(in("2001:db8::1", "0.0.0.0", "0"));
}

static void test_match_v6(void **state)
{
    (void)state;
    assert_true(in("2001:db8:1::5", "2001:db8::", "32"));
    assert_false(in("2001:db9::5", "2001:db8::", "32"));
    assert_true(in("2001:db8::1", "2001:db8::1", ""));
    assert_false(in("2001:db8::2", "2001:db8::1", ""));
    assert_true(in("fe80::1234", "fe80::", "ffff:ffff:ffff:ffff::"));
    assert_true(in("10.0.0.1", "::", "0")); /* ::/0 holds every address */
    assert_false(in("::1", "127.0.0.1", ""));
}

static void test_forwarded(void **state)
{
    (void)state;
    const char *list = " 10.0.0.1 , unknown,192.0.2.9:8080,[2001:db8::7]:443, 2001:db8::8 ,";
    size_t pos = 0, n = strlen(list);
    ipr_addr_t a;
    bool v4;
    const char *want[] = {"10.0.0.1", "192.0.2.9", "2001:db8::7", "2001:db8::8"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ipr_next_forwarded(list, n, &pos, &a), 1);
        ipr_addr_t w = A(want[i], &v4);
        assert_memory_equal(a.b, w.b, 16);
    }
    assert_int_equal(ipr_next_forwarded(list, n, &pos, &a), 0);
    pos = 0;
    assert_int_equal(ipr_next_forwarded("", 0, &pos, &a), 0);
    pos = 0;
    assert_int_equal(ipr_next_forwarded("[::1", 4, &pos, &a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_addr), cmocka_unit_test(test_masks),     cmocka_unit_test(test_match_v4),
        cmocka_unit_test(test_match_v6),   cmocka_unit_test(test_forwarded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
