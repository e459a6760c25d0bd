#include "net/loop.h"
#include "core/log.h"
#include "core/mem.h"
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

uint64_t iisd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void run_inbox(iisd_loop_t *loop);
static void run_tasks(iisd_loop_t *loop);
static void run_deferred(iisd_loop_t *loop);

static void wake_cb(iisd_io_t *io, uint32_t events)
{
    iisd_loop_t *loop = (iisd_loop_t *)((char *)io - __builtin_offsetof(iisd_loop_t, wake));
    uint64_t v;
    (void)events;
    while (read(io->fd, &v, sizeof(v)) > 0) {
    }
    run_inbox(loop);
}

int iisd_loop_init(iisd_loop_t *loop, unsigned id)
{
    memset(loop, 0, sizeof(*loop));
    loop->id = id;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        return -errno;
    loop->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake.fd < 0)
        return -errno;
    loop->wake.cb = wake_cb;
    pthread_mutex_init(&loop->inbox_lock, NULL);
    loop->evs = iisd_xcalloc(IISD_LOOP_BATCH, sizeof(struct epoll_event));
    loop->now_ms = iisd_now_ms();
    return iisd_loop_add(loop, &loop->wake, EPOLLIN);
}

void iisd_loop_destroy(iisd_loop_t *loop)
{
    close(loop->wake.fd);
    close(loop->epfd);
    pthread_mutex_destroy(&loop->inbox_lock);
    free(loop->evs);
}

int iisd_loop_add(iisd_loop_t *loop, iisd_io_t *io, uint32_t events)
{
    struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = io};
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int iisd_loop_mod(iisd_loop_t *loop, iisd_io_t *io, uint32_t events)
{
    struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = io};
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void iisd_loop_del(iisd_loop_t *loop, iisd_io_t *io)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void iisd_loop_add_tlist(iisd_loop_t *loop, iisd_tlist_t *list, uint64_t timeout_ms)
{
    list->head = list->tail = NULL;
    list->timeout_ms = timeout_ms;
    loop->tlists[loop->ntlists++] = list;
}

void iisd_loop_wakeup(iisd_loop_t *loop)
{
    uint64_t one = 1;
    ssize_t r = write(loop->wake.fd, &one, sizeof(one));
    (void)r;
}

void iisd_loop_post(iisd_loop_t *loop, iisd_task_t *task)
{
    task->next = NULL;
    pthread_mutex_lock(&loop->inbox_lock);
    if (loop->inbox_tail)
        loop->inbox_tail->next = task;
    else
        loop->inbox_head = task;
    loop->inbox_tail = task;
    pthread_mutex_unlock(&loop->inbox_lock);
    iisd_loop_wakeup(loop);
}

/* Runs the queued tasks. The ones not run yet wait in loop->tasks, where a thread that takes the
   loop over while a task runs a module finds them, as it finds the rest of an event batch. */
static void run_inbox(iisd_loop_t *loop)
{
    pthread_mutex_lock(&loop->inbox_lock);
    loop->tasks = loop->inbox_head;
    loop->inbox_head = loop->inbox_tail = NULL;
    pthread_mutex_unlock(&loop->inbox_lock);
    run_tasks(loop);
}

static void run_tasks(iisd_loop_t *loop)
{
    while (loop->tasks != NULL) {
        iisd_task_t *t = loop->tasks;
        loop->tasks = t->next;
        t->fn(t);
        if (!iisd_loop_owned(loop))
            return; /* taken over while the task ran a module: the rest is the new owner's */
    }
}

void iisd_loop_drain_tasks(iisd_loop_t *loop, iisd_task_fn fn)
{
    run_deferred(loop);
    pthread_mutex_lock(&loop->inbox_lock);
    iisd_task_t *t = loop->inbox_head;
    loop->inbox_head = loop->inbox_tail = NULL;
    pthread_mutex_unlock(&loop->inbox_lock);
    if (loop->tasks != NULL) {
        /* left by an owner that was taken over just before the loop stopped: those first */
        iisd_task_t *last = loop->tasks;
        while (last->next != NULL)
            last = last->next;
        last->next = t;
        t = loop->tasks;
        loop->tasks = NULL;
    }
    while (t != NULL) {
        iisd_task_t *next = t->next;
        if (t->fn == fn)
            t->fn(t);
        t = next;
    }
}

static void run_timeouts(iisd_loop_t *loop)
{
    for (unsigned i = 0; i < loop->ntlists; i++) {
        iisd_tlist_t *l = loop->tlists[i];
        while (l->head != NULL && l->head->deadline <= loop->now_ms) {
            iisd_tnode_t *n = l->head;
            iisd_timeout_clear(n);
            n->cb(n);
            if (!iisd_loop_owned(loop))
                return; /* taken over while the timeout ran a module: the rest is the new owner's */
        }
    }
    loop->timeouts_due = false;
}

static void run_deferred(iisd_loop_t *loop)
{
    while (loop->deferred != NULL) {
        iisd_task_t *t = loop->deferred;
        loop->deferred = t->next;
        t->fn(t);
    }
}

void iisd_loop_run_once(iisd_loop_t *loop, int max_wait_ms)
{
    if (loop->tasks != NULL) {
        /* tasks a previous owner had taken from the inbox and not run */
        run_tasks(loop);
        if (!iisd_loop_owned(loop))
            return;
    }
    if (loop->evi >= loop->nev) {
        if (loop->timeouts_due) {
            /* a previous owner was taken over before it reached the step's timeouts: they run
               before any new event, or a run of takeovers would put them off for ever */
            run_timeouts(loop);
            if (!iisd_loop_owned(loop))
                return;
        }
        run_deferred(loop);
        int wait = max_wait_ms;
        for (unsigned i = 0; i < loop->ntlists; i++) {
            iisd_tlist_t *l = loop->tlists[i];
            if (l->head != NULL) {
                int64_t d = (int64_t)(l->head->deadline - loop->now_ms);
                if (d < 0)
                    d = 0;
                if (wait < 0 || d < wait)
                    wait = (int)d;
            }
        }
        int n = epoll_wait(loop->epfd, loop->evs, IISD_LOOP_BATCH, wait);
        /* atomic: module threads that have lost the loop read it (iisd_loop_now) */
        __atomic_store_n(&loop->now_ms, iisd_now_ms(), __ATOMIC_RELAXED);
        if (n < 0) {
            if (errno != EINTR)
                iisd_log(IISD_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            n = 0;
        }
        loop->nev = n;
        loop->evi = 0;
        loop->timeouts_due = true;
    }
    while (loop->evi < loop->nev) {
        iisd_io_t *io = loop->evs[loop->evi].data.ptr;
        uint32_t events = loop->evs[loop->evi].events;
        loop->evi++;
        io->cb(io, events);
        if (!iisd_loop_owned(loop))
            return;
    }
    run_timeouts(loop);
}
