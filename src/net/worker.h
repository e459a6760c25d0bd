/*
 * Worker threads and loop takeover.
 *
 * Each event loop is driven by one thread, and request pipelines run inline
 * on it: no hand-off, no lock on the request path. Module code may block
 * (sleep, a synchronous read from a slow client, a database call), so the
 * engine marks the span in which it runs module code with iisd_zone_enter()
 * and iisd_zone_leave(). A monitor thread watches every loop's owner; when an
 * owner has been inside that span for longer than the takeover threshold, the
 * monitor detaches it and hands the loop to a spare thread, which carries on
 * with the other connections at once. The detached thread finishes the
 * module call and the request it was running, gives the connection back to
 * the loop with iisd_loop_post(), and becomes a spare itself.
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "net/loop.h"

#define IISD_ZONE_OUT      0u
#define IISD_ZONE_DETACHED 1u

typedef struct iisd_worker {
    pthread_t tid;
    iisd_loop_t *loop;     /* loop this thread drives; NULL while spare */
    _Atomic uint64_t zone; /* OUT, DETACHED, or the ms time the module span began (+2) */
    pthread_cond_t cond;
    struct iisd_worker *next_spare;
    bool exiting;
} iisd_worker_t;

extern __thread iisd_worker_t *iisd_worker_self;

typedef struct iisd_worker_opts {
    unsigned takeover_ms;          /* 0 disables takeover */
    unsigned max_threads;          /* cap on threads, loops' and spares' together */
    void (*on_thread_exit)(void);  /* runs on a worker thread before it exits */
    void (*on_thread_spare)(void); /* runs on a detached thread when it has finished and becomes a spare */
} iisd_worker_opts_t;

/* Starts one thread per loop and the monitor. */
int iisd_workers_start(iisd_loop_t **loops, unsigned nloops, const iisd_worker_opts_t *opts);
/* Asks every loop to stop and joins all threads. */
void iisd_workers_stop(void);
/* Calls fn(loop, arg) on each loop's own thread and waits (used for shutdown steps). */
void iisd_workers_broadcast(void (*fn)(iisd_loop_t *loop, void *arg), void *arg);

/*
 * Starts a module span. A thread the monitor has detached keeps IISD_ZONE_DETACHED even if it
 * enters a span again before leaving the first one (a nested span), so that its next
 * iisd_zone_leave() still tells it that the loop is no longer its own.
 */
static inline void iisd_zone_enter(const iisd_loop_t *loop)
{
    iisd_worker_t *w = iisd_worker_self;
    if (w == NULL || w->loop != loop)
        return;
    uint64_t z = atomic_load_explicit(&w->zone, memory_order_relaxed);
    if (z != IISD_ZONE_DETACHED)
        atomic_compare_exchange_strong_explicit(&w->zone, &z, iisd_loop_now(loop) + 2, memory_order_release,
                                                memory_order_relaxed);
}

/*
 * Ends the module span. Returns true when the calling thread still owns
 * `loop`; false when it was detached meanwhile (or never owned it): the
 * caller must then not touch the loop's state and must hand its connection
 * back with iisd_loop_post().
 */
static inline bool iisd_zone_leave(const iisd_loop_t *loop)
{
    iisd_worker_t *w = iisd_worker_self;
    if (w == NULL || w->loop != loop)
        return false;
    if (atomic_exchange_explicit(&w->zone, IISD_ZONE_OUT, memory_order_acq_rel) == IISD_ZONE_DETACHED) {
        w->loop = NULL;
        return false;
    }
    return true;
}
