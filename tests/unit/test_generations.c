/*
 * Configuration generations: a thread picking up the current generation
 * (iisd_pipeline_acquire) while another installs the next one (iisd_pipeline_set_conf)
 * always gets a generation that is still alive. Reader threads here are not loop owners:
 * they stand for a module's own threads and for threads that lost their loop to a takeover.
 * A generation freed under a reader is a use-after-free, which the ASan build reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include "config/conf.h"
#include "pipeline/engine.h"

#define READERS   3
#define SWAPS     20000
#define MIN_PICKS 1000 /* per reader, made while generations are being swapped */

static bool stop;
static unsigned long picked[READERS];

static iisd_conf_t *generation(unsigned id)
{
    iisd_conf_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->refs = 1; /* the pipeline's */
    c->id = id;
    return c;
}

static void *reader(void *arg)
{
    unsigned long *n = arg;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        iisd_conf_t *c = iisd_pipeline_acquire();
        /* alive: the pipeline's reference or ours keeps it at one or more */
        if (__atomic_load_n(&c->refs, __ATOMIC_RELAXED) < 1)
            abort();
        iisd_conf_unref(c);
        __atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
        /* A reader picks generations again and again but, like a worker between requests, is
           not always inside iisd_pipeline_acquire: where threads take turns on one CPU (under
           valgrind, say) the swapping thread would otherwise rarely find none of them inside. */
        sched_yield();
    }
    return NULL;
}

static void test_a_generation_is_never_freed_under_a_reader(void **state)
{
    (void)state;
    iisd_pipeline.conf = generation(0);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &picked[i]), 0);
    /* Swap at least SWAPS times, and on until every reader has picked up generations
     * MIN_PICKS times while they were changing: on a busy or single-CPU machine a
     * reader may not run at all during the first SWAPS. */
    unsigned swaps = 0;
    for (;;) {
        iisd_pipeline_set_conf(generation(++swaps));
        if (swaps < SWAPS)
            continue;
        int behind = 0;
        for (int i = 0; i < READERS; i++)
            behind += __atomic_load_n(&picked[i], __ATOMIC_RELAXED) < MIN_PICKS;
        if (!behind)
            break;
        sched_yield();
    }
    __atomic_store_n(&stop, true, __ATOMIC_RELAXED);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    iisd_conf_t *last = iisd_pipeline.conf;
    assert_int_equal(last->id, swaps);
    assert_int_equal(last->refs, 1); /* every reader gave its reference back */
    iisd_pipeline.conf = NULL;
    iisd_conf_unref(last);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_generation_is_never_freed_under_a_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
