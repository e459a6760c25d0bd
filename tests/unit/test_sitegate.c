/*
 * Unit tests for src/http/sitegate.c: per-site connection counting
 * (maxConnections) and the bandwidth budget (maxBandwidth).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/sitegate.h"

static void test_gate_per_site_id(void **state)
{
    iisd_site_gate_t *a = iisd_site_gate(7), *b = iisd_site_gate(8);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(iisd_site_gate(7), a); /* the same gate across lookups (and reloads) */
    assert_int_equal(a->site_id, 7);
}

static void test_enter_leave(void **state)
{
    iisd_site_gate_t *g = iisd_site_gate(20);
    assert_true(iisd_site_gate_enter(g, 2));
    assert_true(iisd_site_gate_enter(g, 2));
    assert_false(iisd_site_gate_enter(g, 2)); /* the third is over the limit */
    assert_int_equal(g->conns, 2);
    iisd_site_gate_leave(g);
    assert_true(iisd_site_gate_enter(g, 2));
    /* a lowered limit refuses new connections, never drops counted ones */
    assert_false(iisd_site_gate_enter(g, 1));
    assert_int_equal(g->conns, 2);
    iisd_site_gate_leave(g);
    iisd_site_gate_leave(g);
    assert_false(iisd_site_gate_enter(g, 0)); /* maxConnections 0: nothing */
    for (int i = 0; i < 1000; i++)
        assert_true(iisd_site_gate_enter(g, IISD_UNLIMITED));
    assert_int_equal(g->conns, 1000);
}

static void test_bandwidth_budget(void **state)
{
    iisd_site_gate_t *g = iisd_site_gate(30);
    uint32_t wait = 0;
    uint64_t t = 1000000;
    /* a tenth of a second's worth at once, then nothing until it refills */
    assert_int_equal(iisd_site_gate_take(g, 10000, 1 << 20, t, &wait), 1000);
    assert_int_equal(iisd_site_gate_take(g, 10000, 1 << 20, t, &wait), 0);
    assert_true(wait >= 1 && wait <= 1000);
    /* 50 ms later: 500 bytes */
    assert_int_equal(iisd_site_gate_take(g, 10000, 1 << 20, t + 50, &wait), 500);
    /* smaller wants are served whole */
    assert_int_equal(iisd_site_gate_take(g, 10000, 100, t + 100, &wait), 100);
    assert_int_equal(iisd_site_gate_take(g, 10000, 1 << 20, t + 100, &wait), 400);
    /* a long pause refills only up to the burst */
    assert_int_equal(iisd_site_gate_take(g, 10000, 1 << 20, t + 60000, &wait), 1000);
    /* over a simulated second, in 1 ms steps, about the rate goes out */
    size_t total = 0;
    for (uint64_t ms = 1; ms <= 1000; ms++)
        total += iisd_site_gate_take(g, 10000, 1 << 20, t + 60000 + ms, &wait);
    assert_in_range(total, 9900, 10100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_per_site_id),
        cmocka_unit_test(test_enter_leave),
        cmocka_unit_test(test_bandwidth_budget),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    iisd_site_gates_free();
    return rc;
}
