#include "net/worker.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/mem.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__thread iisd_worker_t *iisd_worker_self;

#define MAX_SPARES 8

static struct {
    pthread_mutex_t lock;
    iisd_loop_t **loops;
    unsigned nloops;
    iisd_worker_opts_t opts;
    iisd_worker_t *spares;
    unsigned nspares;
    unsigned nthreads;       /* live worker threads */
    pthread_cond_t all_gone; /* signalled when nthreads drops */
    pthread_t monitor;
    int stopping; /* atomic */
} W = {.lock = PTHREAD_MUTEX_INITIALIZER, .all_gone = PTHREAD_COND_INITIALIZER};

int iisd_loop_owned(const iisd_loop_t *loop)
{
    iisd_worker_t *w = iisd_worker_self;
    return w != NULL && w->loop == loop;
}

static void *worker_main(void *arg);

static iisd_worker_t *worker_new(iisd_loop_t *loop)
{
    iisd_worker_t *w = iisd_xcalloc(1, sizeof(*w));
    w->loop = loop;
    atomic_init(&w->zone, IISD_ZONE_OUT);
    pthread_cond_init(&w->cond, NULL);
    return w;
}

/* Called with W.lock held. */
static int worker_spawn(iisd_worker_t *w)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    int rc = pthread_create(&w->tid, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        W.nthreads++;
    return -rc;
}

static void run_loop(iisd_worker_t *w)
{
    iisd_loop_t *loop = w->loop;
    __atomic_store_n((iisd_worker_t **)&loop->owner, w, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE) && w->loop == loop)
        iisd_loop_run_once(loop, 1000);
}

static void *worker_main(void *arg)
{
    iisd_worker_t *w = arg;
    iisd_worker_self = w;
    for (;;) {
        if (w->loop != NULL)
            run_loop(w);
        /* Either the loop stopped or this thread was detached from it. */
        if (w->loop == NULL && W.opts.on_thread_spare)
            W.opts.on_thread_spare();
        pthread_mutex_lock(&W.lock);
        if (w->loop != NULL || W.stopping || W.nspares >= MAX_SPARES) {
            /* loop stopped for good (shutdown), or enough spares already */
            break;
        }
        w->next_spare = W.spares;
        W.spares = w;
        W.nspares++;
        while (w->loop == NULL && !W.stopping)
            pthread_cond_wait(&w->cond, &W.lock);
        if (w->loop == NULL)
            break;
        pthread_mutex_unlock(&W.lock);
    }
    pthread_mutex_unlock(&W.lock);
    /* Everything this thread does must be over before it is counted out:
       iisd_workers_stop() returns, and the server is torn down, right after. */
    if (W.opts.on_thread_exit)
        W.opts.on_thread_exit();
    iisd_arena_thread_cleanup();
    pthread_cond_destroy(&w->cond);
    free(w);
    pthread_mutex_lock(&W.lock);
    W.nthreads--;
    pthread_cond_broadcast(&W.all_gone);
    pthread_mutex_unlock(&W.lock);
    return NULL;
}

/* Gives `loop` to a spare (or new) thread. Called by the monitor with W.lock held. */
static void hand_over(iisd_loop_t *loop)
{
    iisd_worker_t *s = W.spares;
    if (s != NULL) {
        W.spares = s->next_spare;
        W.nspares--;
        s->loop = loop;
        __atomic_store_n((iisd_worker_t **)&loop->owner, s, __ATOMIC_RELEASE);
        pthread_cond_signal(&s->cond);
        return;
    }
    s = worker_new(loop);
    __atomic_store_n((iisd_worker_t **)&loop->owner, s, __ATOMIC_RELEASE);
    int rc = worker_spawn(s);
    if (rc != 0) {
        iisd_log(IISD_LOG_ERROR, "cannot start a worker thread: %s", strerror(-rc));
        free(s);
    }
}

static void *monitor_main(void *arg)
{
    (void)arg;
    const struct timespec tick = {0, 10 * 1000 * 1000};
    while (!__atomic_load_n(&W.stopping, __ATOMIC_ACQUIRE)) {
        nanosleep(&tick, NULL);
        uint64_t now = iisd_now_ms();
        pthread_mutex_lock(&W.lock);
        for (unsigned i = 0; i < W.nloops && !__atomic_load_n(&W.stopping, __ATOMIC_ACQUIRE); i++) {
            iisd_loop_t *loop = W.loops[i];
            iisd_worker_t *w = __atomic_load_n((iisd_worker_t **)&loop->owner, __ATOMIC_ACQUIRE);
            if (w == NULL)
                continue;
            uint64_t z = atomic_load_explicit(&w->zone, memory_order_acquire);
            if (z <= IISD_ZONE_DETACHED || now + 2 < z + W.opts.takeover_ms)
                continue;
            if (W.nthreads >= W.opts.max_threads && W.spares == NULL)
                continue;
            if (atomic_compare_exchange_strong(&w->zone, &z, IISD_ZONE_DETACHED)) {
                iisd_log(IISD_LOG_DEBUG,
                         "loop %u: owner blocked in a module for %llu ms; another thread takes over",
                         loop->id, (unsigned long long)(now + 2 - z));
                hand_over(loop);
            }
        }
        pthread_mutex_unlock(&W.lock);
    }
    return NULL;
}

int iisd_workers_start(iisd_loop_t **loops, unsigned nloops, const iisd_worker_opts_t *opts)
{
    W.loops = loops;
    W.nloops = nloops;
    W.opts = *opts;
    if (W.opts.max_threads < nloops * 2)
        W.opts.max_threads = nloops * 2;
    pthread_mutex_lock(&W.lock);
    for (unsigned i = 0; i < nloops; i++) {
        iisd_worker_t *w = worker_new(loops[i]);
        loops[i]->owner = w;
        int rc = worker_spawn(w);
        if (rc != 0) {
            pthread_mutex_unlock(&W.lock);
            return rc;
        }
    }
    pthread_mutex_unlock(&W.lock);
    if (opts->takeover_ms > 0) {
        int rc = pthread_create(&W.monitor, NULL, monitor_main, NULL);
        if (rc != 0)
            return -rc;
    }
    return 0;
}

void iisd_workers_stop(void)
{
    pthread_mutex_lock(&W.lock);
    __atomic_store_n(&W.stopping, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < W.nloops; i++) {
        __atomic_store_n(&W.loops[i]->stop, 1, __ATOMIC_RELEASE);
        iisd_loop_wakeup(W.loops[i]);
    }
    for (iisd_worker_t *s = W.spares; s != NULL; s = s->next_spare)
        pthread_cond_signal(&s->cond);
    W.spares = NULL;
    pthread_mutex_unlock(&W.lock);
    if (W.opts.takeover_ms > 0)
        pthread_join(W.monitor, NULL); /* it reads the owners, which exit next */
    pthread_mutex_lock(&W.lock);
    while (W.nthreads > 0)
        pthread_cond_wait(&W.all_gone, &W.lock);
    pthread_mutex_unlock(&W.lock);
}

struct bcast {
    iisd_task_t task;
    void (*fn)(iisd_loop_t *, void *);
    void *arg;
    iisd_loop_t *loop;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    unsigned *left;
};

static void bcast_run(iisd_task_t *t)
{
    struct bcast *b = (struct bcast *)t;
    b->fn(b->loop, b->arg);
    pthread_mutex_lock(b->lock);
    (*b->left)--;
    pthread_cond_signal(b->cond);
    pthread_mutex_unlock(b->lock);
}

void iisd_workers_broadcast(void (*fn)(iisd_loop_t *loop, void *arg), void *arg)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    unsigned left = W.nloops;
    struct bcast *b = iisd_xcalloc(W.nloops, sizeof(*b));
    for (unsigned i = 0; i < W.nloops; i++) {
        b[i] = (struct bcast){.task.fn = bcast_run,
                              .fn = fn,
                              .arg = arg,
                              .loop = W.loops[i],
                              .lock = &lock,
                              .cond = &cond,
                              .left = &left};
        iisd_loop_post(W.loops[i], &b[i].task);
    }
    pthread_mutex_lock(&lock);
    while (left > 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    free(b);
}
