/*
 * One epoll event loop per worker. A loop is driven by exactly one thread at
 * a time, its owner; see worker.h for how ownership moves when the owner is
 * stuck inside a module. Other threads talk to a loop only through
 * iisd_loop_post(), which queues a task and wakes the loop.
 *
 * Timeouts use lists of nodes that all share one timeout value, so appending
 * keeps each list sorted by deadline and every operation is O(1).
 */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

typedef struct iisd_loop iisd_loop_t;
typedef struct iisd_io iisd_io_t;
typedef void (*iisd_io_cb)(iisd_io_t *io, uint32_t events);

struct iisd_io {
    int fd;
    iisd_io_cb cb;
};

typedef struct iisd_tnode iisd_tnode_t;
typedef void (*iisd_timeout_cb)(iisd_tnode_t *node);
struct iisd_tnode {
    iisd_tnode_t *prev, *next;
    struct iisd_tlist *list; /* NULL when not queued */
    uint64_t deadline;
    iisd_timeout_cb cb;
};

typedef struct iisd_tlist {
    iisd_tnode_t *head, *tail;
    uint64_t timeout_ms;
} iisd_tlist_t;

typedef struct iisd_task iisd_task_t;
typedef void (*iisd_task_fn)(iisd_task_t *task);
struct iisd_task {
    iisd_task_t *next;
    iisd_task_fn fn;
};

#define IISD_LOOP_MAX_TLISTS 12
#define IISD_LOOP_BATCH      128

struct iisd_loop {
    int epfd;
    iisd_io_t wake;
    uint64_t now_ms; /* monotonic, refreshed every iteration */
    iisd_tlist_t *tlists[IISD_LOOP_MAX_TLISTS];
    unsigned ntlists;
    pthread_mutex_t inbox_lock;
    iisd_task_t *inbox_head, *inbox_tail;
    void *owner; /* struct iisd_worker *, managed by worker.c */
    int stop;    /* atomic */
    unsigned id;
    /* The batch being dispatched. When another thread takes the loop over in
       the middle of a batch, it dispatches the rest (see worker.h). */
    int nev, evi;
    struct epoll_event *evs;
    iisd_task_t *tasks; /* the queued tasks being run, likewise */
    bool timeouts_due;  /* the step has not run its expired timeouts yet; likewise */
    /* Tasks to run before the next wait (owner thread only): memory that the
       batch being dispatched may still name is freed there. */
    iisd_task_t *deferred;
};

uint64_t iisd_now_ms(void);
/* The loop's time, from any thread (its owner may read loop->now_ms directly). */
static inline uint64_t iisd_loop_now(const iisd_loop_t *loop)
{
    return __atomic_load_n(&loop->now_ms, __ATOMIC_RELAXED);
}

int iisd_loop_init(iisd_loop_t *loop, unsigned id);
void iisd_loop_destroy(iisd_loop_t *loop);
/* Registers fd (edge-triggered) for EPOLLIN|EPOLLOUT|EPOLLRDHUP. */
int iisd_loop_add(iisd_loop_t *loop, iisd_io_t *io, uint32_t events);
int iisd_loop_mod(iisd_loop_t *loop, iisd_io_t *io, uint32_t events);
void iisd_loop_del(iisd_loop_t *loop, iisd_io_t *io);
void iisd_loop_add_tlist(iisd_loop_t *loop, iisd_tlist_t *list, uint64_t timeout_ms);
/* Owner thread only: runs the task before the loop next waits for events. */
static inline void iisd_loop_defer(iisd_loop_t *loop, iisd_task_t *task)
{
    task->next = loop->deferred;
    loop->deferred = task;
}
/* Thread-safe. The task runs on the loop's thread. */
void iisd_loop_post(iisd_loop_t *loop, iisd_task_t *task);
void iisd_loop_wakeup(iisd_loop_t *loop);
/* After the loop has stopped for good: runs the queued tasks whose function is fn, drops the rest. */
void iisd_loop_drain_tasks(iisd_loop_t *loop, iisd_task_fn fn);

/*
 * Runs one batch: finishes the tasks and the batch left by a previous owner, or waits for
 * events (at most until the next timeout or max_wait_ms) and dispatches them,
 * then runs expired timeouts. Returns early, touching nothing more, as soon as
 * the calling thread is no longer the loop's owner.
 */
void iisd_loop_run_once(iisd_loop_t *loop, int max_wait_ms);
/* Supplied by worker.c: does the calling thread still drive this loop? */
int iisd_loop_owned(const iisd_loop_t *loop);

static inline void iisd_timeout_set(iisd_tlist_t *l, iisd_tnode_t *n, uint64_t now)
{
    if (n->list != NULL) {
        /* unlink */
        if (n->prev)
            n->prev->next = n->next;
        else
            n->list->head = n->next;
        if (n->next)
            n->next->prev = n->prev;
        else
            n->list->tail = n->prev;
    }
    n->list = l;
    n->deadline = now + l->timeout_ms;
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

static inline void iisd_timeout_clear(iisd_tnode_t *n)
{
    if (n->list == NULL)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        n->list->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        n->list->tail = n->prev;
    n->list = NULL;
    n->prev = n->next = NULL;
}
