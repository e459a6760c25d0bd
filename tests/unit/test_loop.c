/*
 * The event loop's ownership hand-over: once the monitor has detached a loop's owner while it
 * ran module code, that thread leaves the loop alone. Whatever the loop still had to do in the
 * step it was running (the rest of an event batch, of the queued tasks, of the expired
 * timeouts) is left for the new owner, exactly once.
 *
 * The threads are played by one thread that switches iisd_worker_self; the monitor's part is
 * the compare-and-swap it makes on the owner's zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "net/loop.h"
#include "net/worker.h"

static iisd_loop_t loop;
static iisd_worker_t first, second; /* the owner the monitor detaches, and the one it hands the loop to */
static iisd_worker_t third;         /* and the one after, when the second is detached in turn */
static int calls[4];                /* calls[i]: how often callback i ran */
static iisd_worker_t *ran_on[4];    /* and as which thread */

static int setup(void **state)
{
    (void)state;
    memset(calls, 0, sizeof(calls));
    memset(ran_on, 0, sizeof(ran_on));
    assert_int_equal(iisd_loop_init(&loop, 0), 0);
    first = (iisd_worker_t){.loop = &loop};
    second = (iisd_worker_t){.loop = NULL};
    third = (iisd_worker_t){.loop = NULL};
    atomic_init(&first.zone, IISD_ZONE_OUT);
    atomic_init(&second.zone, IISD_ZONE_OUT);
    atomic_init(&third.zone, IISD_ZONE_OUT);
    loop.owner = &first;
    iisd_worker_self = &first;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iisd_worker_self = NULL;
    iisd_loop_destroy(&loop);
    return 0;
}

/* What the monitor does to an owner that stays too long in a module span. */
static void monitor_takes_over(void)
{
    uint64_t z = atomic_load(&first.zone);
    assert_true(z > IISD_ZONE_DETACHED); /* the owner is inside a span */
    assert_true(atomic_compare_exchange_strong(&first.zone, &z, IISD_ZONE_DETACHED));
    second.loop = &loop;
    loop.owner = &second;
}

/* Callback 0 runs a module that blocks until it is taken over; the others just count. */
static void module_blocks(int i)
{
    calls[i]++;
    ran_on[i] = iisd_worker_self;
    iisd_zone_enter(&loop);
    monitor_takes_over();
    assert_false(iisd_zone_leave(&loop));
    assert_false(iisd_loop_owned(&loop));
}

static void count(int i)
{
    calls[i]++;
    ran_on[i] = iisd_worker_self;
}

/* The new owner runs the loop until callback i has run. */
static void new_owner_runs(int i)
{
    iisd_worker_self = &second;
    for (int n = 0; n < 10 && calls[i] == 0; n++)
        iisd_loop_run_once(&loop, 0);
}

static void timeout_blocks(iisd_tnode_t *n)
{
    (void)n;
    module_blocks(0);
}

static void timeout_counts(iisd_tnode_t *n)
{
    (void)n;
    count(1);
}

static void test_timeouts_after_a_takeover_are_the_new_owners(void **state)
{
    (void)state;
    iisd_tlist_t l;
    iisd_loop_add_tlist(&loop, &l, 0);
    iisd_tnode_t a = {.cb = timeout_blocks}, b = {.cb = timeout_counts};
    iisd_timeout_set(&l, &a, loop.now_ms);
    iisd_timeout_set(&l, &b, loop.now_ms);
    iisd_loop_run_once(&loop, 0);
    /* the detached thread returned without touching the second expired timeout */
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], 0);
    assert_ptr_equal(b.list, &l);
    new_owner_runs(1);
    assert_int_equal(calls[1], 1);
    assert_ptr_equal(ran_on[1], &second);
    assert_null(b.list);
}

static void task_blocks(iisd_task_t *t)
{
    (void)t;
    module_blocks(0);
}

static void task_counts(iisd_task_t *t)
{
    (void)t;
    count(1);
}

static void test_tasks_after_a_takeover_are_the_new_owners(void **state)
{
    (void)state;
    iisd_task_t a = {.fn = task_blocks}, b = {.fn = task_counts};
    iisd_loop_post(&loop, &a);
    iisd_loop_post(&loop, &b);
    iisd_loop_run_once(&loop, 0);
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], 0);
    new_owner_runs(1);
    assert_int_equal(calls[1], 1);
    assert_ptr_equal(ran_on[1], &second);
}

typedef struct {
    iisd_io_t io;
    int i;
} ev_t;

static void io_cb(iisd_io_t *io, uint32_t events)
{
    (void)events;
    ev_t *e = (ev_t *)io;
    uint64_t v;
    while (read(io->fd, &v, sizeof(v)) > 0) {
    }
    if (calls[0] == 0)
        module_blocks(e->i);
    else
        count(e->i);
}

static void test_events_after_a_takeover_are_the_new_owners(void **state)
{
    (void)state;
    ev_t e[2];
    for (int i = 0; i < 2; i++) {
        e[i] = (ev_t){.io = {.fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC), .cb = io_cb}, .i = 0};
        assert_true(e[i].io.fd >= 0);
        assert_int_equal(iisd_loop_add(&loop, &e[i].io, EPOLLIN), 0);
    }
    /* both are ready: whichever comes first in the batch blocks, the other is the new owner's */
    iisd_loop_run_once(&loop, 0);
    assert_int_equal(calls[0], 1);
    e[0].i = e[1].i = 1;
    new_owner_runs(1);
    assert_int_equal(calls[1], 1);
    assert_ptr_equal(ran_on[1], &second);
    close(e[0].io.fd);
    close(e[1].io.fd);
}

/* An event whose module blocks every owner that dispatches it: the first hands the loop to the
   second, the second to the third. */
static void io_blocks_each_owner(iisd_io_t *io, uint32_t events)
{
    (void)events;
    uint64_t v;
    while (read(io->fd, &v, sizeof(v)) > 0) {
    }
    iisd_worker_t *self = iisd_worker_self, *next = self == &first ? &second : &third;
    calls[2]++;
    iisd_zone_enter(&loop);
    uint64_t z = atomic_load(&self->zone);
    assert_true(z > IISD_ZONE_DETACHED);
    assert_true(atomic_compare_exchange_strong(&self->zone, &z, IISD_ZONE_DETACHED));
    next->loop = &loop;
    loop.owner = next;
    assert_false(iisd_zone_leave(&loop));
}

/* Every step ends in a takeover (each has a blocking module to dispatch): the timeouts that
   expired meanwhile still run, before the next owner takes new events. */
static void test_expired_timeouts_run_through_a_run_of_takeovers(void **state)
{
    (void)state;
    iisd_tlist_t l;
    iisd_loop_add_tlist(&loop, &l, 0);
    iisd_tnode_t b = {.cb = timeout_counts};
    iisd_timeout_set(&l, &b, loop.now_ms);
    iisd_io_t e = {.fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC), .cb = io_blocks_each_owner};
    assert_true(e.fd >= 0);
    assert_int_equal(iisd_loop_add(&loop, &e, EPOLLIN), 0);
    iisd_loop_run_once(&loop, 0);
    assert_int_equal(calls[2], 1);
    assert_int_equal(calls[1], 0); /* taken over before the step reached its timeouts */
    uint64_t one = 1;
    assert_int_equal(write(e.fd, &one, sizeof(one)), (ssize_t)sizeof(one)); /* the module's event again */
    iisd_worker_self = &second;
    iisd_loop_run_once(&loop, 0);
    assert_int_equal(calls[2], 2);
    assert_int_equal(calls[1], 1);
    assert_ptr_equal(ran_on[1], &second);
    assert_null(b.list);
    close(e.fd);
}

/* A span inside a span (module code that runs a request to its end): the detached thread
   learns of the takeover when the inner span ends, and stays detached after it. */
static void test_a_nested_span_keeps_the_takeover(void **state)
{
    (void)state;
    iisd_zone_enter(&loop);
    monitor_takes_over();
    iisd_zone_enter(&loop);
    assert_int_equal(atomic_load(&first.zone), IISD_ZONE_DETACHED);
    assert_false(iisd_zone_leave(&loop));
    assert_false(iisd_zone_leave(&loop));
    assert_false(iisd_loop_owned(&loop));
    iisd_worker_self = &second;
    assert_true(iisd_loop_owned(&loop));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timeouts_after_a_takeover_are_the_new_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_after_a_takeover_are_the_new_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_after_a_takeover_are_the_new_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_timeouts_run_through_a_run_of_takeovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_nested_span_keeps_the_takeover, setup, teardown),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
