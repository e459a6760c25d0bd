#include "pipeline/engine.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "net/worker.h"
#include "pipeline/container.h"
#include "pipeline/hctx.h"
#include "pipeline/trace.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wchar.h>

iisd_pipeline_cfg_t iisd_pipeline;

static __thread const iisd_app_t *tls_app; /* of the thread's last client request (GL_THREAD_CLEANUP) ... */
static __thread uint64_t tls_app_gen;      /* ... and its generation */

#define STAGE_AUTHENTICATE 1 /* RQ_AUTHENTICATE_REQUEST */

static const char *const stage_names[IISD_NSTAGES] = {"BEGIN_REQUEST",
                                                      "AUTHENTICATE_REQUEST",
                                                      "AUTHORIZE_REQUEST",
                                                      "RESOLVE_REQUEST_CACHE",
                                                      "MAP_REQUEST_HANDLER",
                                                      "ACQUIRE_REQUEST_STATE",
                                                      "PRE_EXECUTE_REQUEST_HANDLER",
                                                      "EXECUTE_REQUEST_HANDLER",
                                                      "RELEASE_REQUEST_STATE",
                                                      "UPDATE_REQUEST_CACHE",
                                                      "LOG_REQUEST",
                                                      "END_REQUEST"};

/* ---- the plan --------------------------------------------------------- */

typedef struct {
    uint16_t id;
    uint8_t prio;
    uint16_t pos;
} sortent_t;

static int sortent_cmp(const void *a, const void *b)
{
    const sortent_t *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio - y->prio;
    return x->pos - y->pos;
}

static void build_list(iisd_list_t *out, iisd_module_t **mods, unsigned n, bool (*want)(iisd_module_t *, int),
                       const uint8_t *(*prio)(iisd_module_t *), int bit, bool reverse)
{
    sortent_t *tmp = iisd_xcalloc(n ? n : 1, sizeof(*tmp));
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (want(mods[i], bit))
            tmp[k++] =
                (sortent_t){.id = (uint16_t)mods[i]->id, .prio = prio(mods[i])[bit], .pos = (uint16_t)i};
    qsort(tmp, k, sizeof(*tmp), sortent_cmp);
    out->n = (uint16_t)k;
    out->v = iisd_xcalloc(k ? k : 1, sizeof(uint16_t));
    for (unsigned i = 0; i < k; i++)
        out->v[reverse ? k - 1 - i : i] = tmp[i].id;
    free(tmp);
}

static bool want_rq(iisd_module_t *m, int bit)
{
    return m->factory != NULL && (m->rq_mask & (1u << bit));
}
static bool want_post(iisd_module_t *m, int bit)
{
    return m->factory != NULL && (m->post_mask & (1u << bit));
}
static bool want_gl(iisd_module_t *m, int bit)
{
    return m->global != NULL && (m->gl_mask & (1u << bit));
}
static const uint8_t *prio_rq(iisd_module_t *m)
{
    return m->rq_prio;
}
static const uint8_t *prio_post(iisd_module_t *m)
{
    return m->post_prio;
}
static const uint8_t *prio_gl(iisd_module_t *m)
{
    return m->gl_prio;
}

static int bit_of(DWORD flag)
{
    return __builtin_ctz(flag);
}

iisd_plan_t *iisd_plan_build(iisd_module_t **mods, unsigned n)
{
    iisd_plan_t *p = iisd_xcalloc(1, sizeof(*p));
    for (int s = 0; s < IISD_NSTAGES; s++) {
        build_list(&p->ev[s], mods, n, want_rq, prio_rq, s, false);
        build_list(&p->post[s], mods, n, want_post, prio_post, s, false);
    }
    build_list(&p->send, mods, n, want_rq, prio_rq, bit_of(RQ_SEND_RESPONSE), true);
    build_list(&p->map_path, mods, n, want_rq, prio_rq, bit_of(RQ_MAP_PATH), false);
    build_list(&p->read_entity, mods, n, want_rq, prio_rq, bit_of(RQ_READ_ENTITY), false);
    build_list(&p->custom, mods, n, want_rq, prio_rq, bit_of(RQ_CUSTOM_NOTIFICATION), false);
    /* global notifications go to every loaded module, in load order */
    for (int b = 0; b < IISD_GL_BITS; b++)
        build_list(&p->gl[b], iisd_modules.v, iisd_modules.n, want_gl, prio_gl, b, false);
    unsigned k = 0;
    p->req_modules.v = iisd_xcalloc(n ? n : 1, sizeof(uint16_t));
    for (unsigned i = 0; i < n; i++)
        if (mods[i]->factory != NULL)
            p->req_modules.v[k++] = (uint16_t)mods[i]->id;
    p->req_modules.n = (uint16_t)k;
    p->nmodules = (uint16_t)iisd_modules.n;
    return p;
}

static void list_free(iisd_list_t *l)
{
    free(l->v);
}

void iisd_plan_free(iisd_plan_t *p)
{
    if (p == NULL)
        return;
    for (int s = 0; s < IISD_NSTAGES; s++) {
        list_free(&p->ev[s]);
        list_free(&p->post[s]);
    }
    list_free(&p->send);
    list_free(&p->map_path);
    list_free(&p->read_entity);
    list_free(&p->custom);
    list_free(&p->req_modules);
    for (int b = 0; b < IISD_GL_BITS; b++)
        list_free(&p->gl[b]);
    free(p);
}

static size_t dump_list(char *out, size_t cap, const char *what, const iisd_list_t *l)
{
    size_t n = 0;
    if (l->n == 0 || cap == 0)
        return 0;
    n += (size_t)snprintf(out + n, cap - n, "%s:", what);
    for (unsigned i = 0; i < l->n && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, " %s", iisd_modules.v[l->v[i]]->name);
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, "\n");
    return n < cap ? n : cap;
}

void iisd_plan_dump(const iisd_plan_t *p, char *out, size_t cap)
{
    size_t n = 0;
    char what[64];
    out[0] = '\0';
    for (int s = 0; s < IISD_NSTAGES; s++) {
        n += dump_list(out + n, cap - n, stage_names[s], &p->ev[s]);
        snprintf(what, sizeof(what), "POST_%s", stage_names[s]);
        n += dump_list(out + n, cap - n, what, &p->post[s]);
    }
    n += dump_list(out + n, cap - n, "SEND_RESPONSE", &p->send);
    n += dump_list(out + n, cap - n, "MAP_PATH", &p->map_path);
    n += dump_list(out + n, cap - n, "READ_ENTITY", &p->read_entity);
    dump_list(out + n, cap - n, "CUSTOM_NOTIFICATION", &p->custom);
}

/* ---- global notifications ---------------------------------------------- */

typedef GLOBAL_NOTIFICATION_STATUS (*gl_fn)(CGlobalModule *, IHttpEventProvider *);
/* CGlobalModule slot for each GL_* bit (bits 0 and 3 are unused). */
static const int8_t gl_slot[IISD_GL_BITS] = {-1, 0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16};

GLOBAL_NOTIFICATION_STATUS iisd_global_notify(DWORD bit, IHttpEventProvider *provider)
{
    const iisd_plan_t *p = iisd_pipeline.global;
    if (p == NULL || bit >= IISD_GL_BITS || gl_slot[bit] < 0)
        return GL_NOTIFICATION_CONTINUE;
    const iisd_list_t *l = &p->gl[bit];
    for (unsigned i = 0; i < l->n; i++) {
        CGlobalModule *g = iisd_modules.v[l->v[i]]->global;
        GLOBAL_NOTIFICATION_STATUS st;
        if (bit == 2 /* GL_CACHE_CLEANUP */ || bit == 5 /* GL_HEALTH_CHECK */)
            st =
                ((GLOBAL_NOTIFICATION_STATUS(*)(CGlobalModule *))((void *const *)g->lpVtbl)[gl_slot[bit]])(g);
        else
            st = ((gl_fn)((void *const *)g->lpVtbl)[gl_slot[bit]])(g, provider);
        if (st == GL_NOTIFICATION_HANDLED)
            return st;
    }
    return GL_NOTIFICATION_CONTINUE;
}

/* ---- per-request dispatch ---------------------------------------------- */

static void aio_abandon(iisd_hctx_t *h);

typedef REQUEST_NOTIFICATION_STATUS (*rq_fn)(CHttpModule *, IHttpContext *, IHttpEventProvider *);

static IHttpEventProvider *provider_for(iisd_hctx_t *h, int stage, bool post)
{
    if (!post && stage == 1)
        return (IHttpEventProvider *)&h->authp;
    if (!post && stage == 4)
        return (IHttpEventProvider *)&h->maphp;
    return &h->evp;
}

static REQUEST_NOTIFICATION_STATUS call_module(iisd_hctx_t *h, uint16_t id, int slot, DWORD notification,
                                               bool post, IHttpEventProvider *prov)
{
    CHttpModule *m = h->inst[id];
    if (m == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    iisd_module_t *saved = h->cur_module;
    DWORD saved_n = h->cur_notification;
    bool saved_post = h->cur_post;
    h->cur_module = iisd_modules.v[id];
    h->cur_notification = notification;
    h->cur_post = post;
    /* a request without a client has no loop whose clock it could read */
    h->cur_start_ms = IISD_LIKELY(h->c->hl != NULL) ? iisd_loop_now(&h->c->hl->loop) : iisd_now_ms();
    if (h->raw)
        iisd_raw_call_start(h, id);
    if (iisd_trace_wanted(h, IISD_TRACE_AREA_REQUEST_NOTIFICATIONS, TRACE_LEVEL_VERBOSE))
        iisd_trace_module_start(h, h->cur_module->wname, notification, post);
    REQUEST_NOTIFICATION_STATUS st =
        ((rq_fn)((void *const *)m->lpVtbl)[slot])(m, (IHttpContext *)&h->ctx, prov);
    if (iisd_trace_wanted(h, IISD_TRACE_AREA_REQUEST_NOTIFICATIONS, TRACE_LEVEL_VERBOSE))
        iisd_trace_module_end(h, h->cur_module->wname, notification, post, st);
    if (h->raw) /* (a module may have asked for it in this call) */
        iisd_raw_call_end(h, id);
    if (h->raw_req && iisd_raw_req_held_by(h, id))
        iisd_raw_req_sync(h);
    h->cur_module = saved;
    h->cur_notification = saved_n;
    h->cur_post = saved_post;
    return st;
}

void iisd_hctx_notify(iisd_hctx_t *h, const iisd_list_t *l, DWORD notification, IHttpEventProvider *prov)
{
    /* CHttpModule slots: OnSendResponse 24, OnMapPath 25, OnReadEntity 26, OnCustomRequestNotification 27 */
    int slot = notification == RQ_SEND_RESPONSE ? 24
               : notification == RQ_MAP_PATH    ? 25
               : notification == RQ_READ_ENTITY ? 26
                                                : 27;
    uint8_t aio_before = h->aio.kind; /* (RQ_READ_ENTITY runs while an asynchronous read completes) */
    for (unsigned i = 0; i < l->n; i++) {
        REQUEST_NOTIFICATION_STATUS st = call_module(h, l->v[i], slot, notification, false, prov);
        if (st == RQ_NOTIFICATION_FINISH_REQUEST)
            break;
        if (st == RQ_NOTIFICATION_PENDING)
            iisd_log(IISD_LOG_WARN,
                     "module %s returned RQ_NOTIFICATION_PENDING from a nondeterministic "
                     "notification (0x%08x); treated as CONTINUE",
                     iisd_modules.v[l->v[i]]->name, (unsigned)notification);
        if (aio_before == IISD_AIO_NONE && h->aio.kind != IISD_AIO_NONE)
            aio_abandon(h);
    }
}

/* The SEND_RESPONSE notification before a send. Returns false when there is nothing to send. */
static bool before_send(iisd_hctx_t *h, bool final)
{
    iisd_resp_t *r = &h->rq->resp;
    h->send_final = final;
    h->send_headers = !r->headers_sent && !r->suppress_headers;
    h->send_flags = final ? 0 : HTTP_SEND_RESPONSE_FLAG_MORE_DATA;
    iisd_hctx_notify(h, &h->plan->send, RQ_SEND_RESPONSE, (IHttpEventProvider *)&h->srp);
    if (h->send_flags & HTTP_SEND_RESPONSE_FLAG_DISCONNECT)
        r->need_disconnect = true;
    return final || r->body_len != 0 || !r->headers_sent;
}

int iisd_hctx_send(iisd_hctx_t *h, bool final)
{
    if (h->parent != NULL)
        return iisd_child_send(h, final);
    if (h->warmup != NULL)
        return iisd_warmup_send(h, final);
    if (h->rq->out != NULL && iisd_conn_finish_send(h->c) < 0)
        return -ECONNRESET; /* what an abandoned asynchronous send left */
    if (!before_send(h, final))
        return 0;
    return iisd_conn_send(h->c, final);
}

int iisd_hctx_send_nowait(iisd_hctx_t *h)
{
    if (h->rq->out != NULL && iisd_conn_finish_send(h->c) < 0)
        return -ECONNRESET;
    if (!before_send(h, false))
        return 0;
    return iisd_conn_send_nowait(h->c);
}

static void create_instances(iisd_hctx_t *h)
{
    const iisd_list_t *l = &h->plan->req_modules;
    for (unsigned i = 0; i < l->n; i++) {
        iisd_module_t *m = iisd_modules.v[l->v[i]];
        CHttpModule *inst = NULL;
        h->cur_module = m;
        HRESULT hr = m->factory->lpVtbl->GetHttpModule(m->factory, &inst, &h->alloc);
        h->cur_module = NULL;
        if (FAILED(hr) || inst == NULL) {
            iisd_log(IISD_LOG_ERROR, "module %s: GetHttpModule failed with HRESULT 0x%08X", m->name,
                     (unsigned)hr);
            iisd_resp_clear(&h->rq->resp);
            h->rq->resp.status = 500;
            h->status_module = m;
            h->finish = true;
            h->stage = IISD_STAGE_LOG;
            h->post = false;
            h->idx = 0;
            continue;
        }
        h->inst[m->id] = inst;
    }
}

static void dispose_instances(iisd_hctx_t *h)
{
    for (unsigned i = 0; i < h->plan->nmodules; i++) {
        if (h->mctx[i] != NULL) {
            IHttpStoredContext *s = h->mctx[i];
            h->mctx[i] = NULL;
            s->lpVtbl->CleanupStoredContext(s);
        }
    }
    const iisd_list_t *l = &h->plan->req_modules;
    for (unsigned i = l->n; i-- > 0;) {
        CHttpModule *m = h->inst[l->v[i]];
        if (m != NULL) {
            h->inst[l->v[i]] = NULL;
            m->lpVtbl->Dispose(m);
        }
    }
}

static void finish_jump(iisd_hctx_t *h)
{
    h->finish = true;
    if (h->stage < IISD_STAGE_LOG) {
        h->stage = IISD_STAGE_LOG;
        h->post = false;
    } else if (!h->post) {
        h->post = true; /* skip the rest of this notification, not its post event */
    } else {
        h->stage++;
        h->post = false;
    }
    h->idx = 0;
}

static void no_handler(iisd_hctx_t *h)
{
    iisd_resp_t *r = &h->rq->resp;
    iisd_resp_clear(r);
    r->status = 404;
    r->substatus = 4;
    r->error_hr = HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    h->status_module = NULL;
    h->status_notification = RQ_EXECUTE_REQUEST_HANDLER;
    static const char body[] = "<!DOCTYPE html>\r\n<html><head><title>404.4 Not Found</title></head><body>"
                               "<h1>404.4 Not Found</h1><p>No handler is configured for this request.</p>"
                               "</body></html>\r\n";
    iisd_resp_set_known(r, h->arena, IISD_H_CONTENT_TYPE, "text/html", 9, true);
    iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
    ch->type = IISD_CHUNK_MEM;
    ch->data = body;
    ch->len = sizeof(body) - 1;
    iisd_resp_append(r, ch);
}

/*
 * 401.2, as IIS answers it when RQ_AUTHENTICATE_REQUEST ends without a user: no authentication
 * method that is enabled accepted the request (with anonymous authentication disabled and no
 * credentials, say). The authentication modules add their challenges to the 401 when it is sent.
 * A request whose pipeline has no module in RQ_AUTHENTICATE_REQUEST at all needs no user.
 */
static void no_user(iisd_hctx_t *h)
{
    iisd_resp_t *r = &h->rq->resp;
    iisd_resp_clear(r);
    r->status = 401;
    r->substatus = 2;
    h->status_module = NULL;
    static const char body[] = "<!DOCTYPE html>\r\n<html><head><title>401.2 Unauthorized</title></head><body>"
                               "<h1>HTTP Error 401.2 - Unauthorized</h1><p>The request was not authenticated "
                               "by any authentication method enabled for this URL.</p></body></html>\r\n";
    iisd_resp_set_known(r, h->arena, IISD_H_CONTENT_TYPE, "text/html", 9, true);
    iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
    ch->type = IISD_CHUNK_MEM;
    ch->data = body;
    ch->len = sizeof(body) - 1;
    iisd_resp_append(r, ch);
}

static void post_resume(iisd_conn_t *c);

/* A child request (or one without a client) waits on its calling thread for the completion of a
   pending notification. */
static void child_wait(iisd_hctx_t *h)
{
    while (atomic_load(&h->async_state) == AS_PENDING)
        syscall(SYS_futex, (int *)&h->async_state, FUTEX_WAIT_PRIVATE, AS_PENDING, NULL, NULL, 0);
}

static const iisd_list_t no_modules = {NULL, 0};

/* Continuations queued to the loop by threads that do not own it. */
static void send_on_loop(iisd_conn_t *c)
{
    iisd_conn_wait_send(c);
    iisd_conn_resume(c);
}

static void done_on_loop(iisd_conn_t *c)
{
    iisd_conn_request_done(c);
    iisd_conn_resume(c);
}

typedef REQUEST_NOTIFICATION_STATUS (*async_fn)(CHttpModule *, IHttpContext *, DWORD, BOOL,
                                                IHttpEventProvider *, IHttpCompletionInfo *);

/* ---- asynchronous I/O ------------------------------------------------------ */

/*
 * A module started an asynchronous read or write that could not complete at once, and its
 * notification returned RQ_NOTIFICATION_PENDING. The loop waits for the socket (no thread
 * blocks), then re-enters the module through OnAsyncCompletion or the call's callback.
 */
static void cancel_task(iisd_task_t *t);

static void aio_arm(iisd_hctx_t *h)
{
    h->aio.armed = true;
    /* The resumption first, then the request: a CancelIo that holds AS_CANCEL meanwhile finds
       cancel_req still set and posts the task itself (taking cancel_req first would lose it). */
    int expect = AS_PENDING;
    if (atomic_load(&h->cancel_req) && atomic_compare_exchange_strong(&h->async_state, &expect, AS_CANCEL)) {
        if (atomic_exchange(&h->cancel_req, false)) {
            /* CancelIo came while the module still ran: no wait, the operation ends cancelled */
            h->async_task.fn = cancel_task;
            iisd_loop_post(&h->c->hl->loop, &h->async_task);
            return;
        }
        atomic_store(&h->async_state, AS_PENDING);
    }
    if (h->aio.kind == IISD_AIO_WRITE)
        iisd_conn_wait_send(h->c);
    else
        iisd_conn_wait_read(h->c);
}

/* Armed by a thread that lost the loop meanwhile: the socket may have signalled since. */
static void aio_arm_on_loop(iisd_conn_t *c)
{
    aio_arm(c->app);
    iisd_conn_resume(c);
}

/* The module did not wait for its I/O (it returned another status): a write still goes out. */
static void aio_abandon(iisd_hctx_t *h)
{
    iisd_log(IISD_LOG_WARN,
             "module %s started an asynchronous %s and did not return RQ_NOTIFICATION_PENDING; "
             "it completes synchronously and without a completion",
             h->cur_module ? h->cur_module->name : "?", h->aio.kind == IISD_AIO_WRITE ? "write" : "read");
    if (h->aio.kind == IISD_AIO_WRITE)
        iisd_conn_finish_send(h->c);
    h->aio.kind = IISD_AIO_NONE;
    h->compl_fn = NULL;
}

static enum iisd_yield run(iisd_hctx_t *h, bool owner_call);

static enum iisd_yield aio_complete(iisd_hctx_t *h, DWORD bytes, HRESULT hr)
{
    h->aio.kind = IISD_AIO_NONE;
    h->compl_bytes = bytes;
    h->compl_hr = hr;
    h->compl_reenter = true;
    atomic_store(&h->async_state, AS_RUNNING);
    return run(h, true);
}

static enum iisd_yield on_readable(iisd_conn_t *c, bool timed_out)
{
    iisd_hctx_t *h = c->app;
    DWORD bytes;
    HRESULT hr;
    if (atomic_load(&h->async_state) == AS_CANCEL)
        return IISD_YIELD; /* CancelIo's task completes it */
    if (!iisd_hctx_read_step(h, timed_out, &bytes, &hr)) {
        iisd_conn_wait_read(c);
        return IISD_YIELD;
    }
    int expect = AS_PENDING;
    if (!atomic_compare_exchange_strong(&h->async_state, &expect, AS_RUNNING))
        return IISD_YIELD; /* CancelIo came first: its task completes it, with what was read */
    return aio_complete(h, bytes, hr);
}

/*
 * CancelIo's task, on the loop, once it owns the request's resumption (AS_CANCEL): the wait is
 * given up and the operation completes with ERROR_OPERATION_ABORTED.
 */
static void cancel_task(iisd_task_t *t)
{
    iisd_hctx_t *h = IISD_CONTAINER_OF(t, iisd_hctx_t, async_task);
    iisd_conn_t *c = h->c;
    if (!h->aio.armed) {
        /* the loop has not taken the operation over yet: aio_arm cancels it when it does */
        atomic_store(&h->cancel_req, true);
        atomic_store(&h->async_state, AS_PENDING);
        return;
    }
    h->aio.cancelled = true;
    /* an abandoned send reaches on_sent, which completes it */
    if (h->aio.kind == IISD_AIO_WRITE && iisd_conn_cancel_wait(c) == 2)
        return;
    if (h->aio.kind == IISD_AIO_READ)
        iisd_conn_cancel_wait(c);
    else
        iisd_conn_drop_send(c); /* not waited for yet: what is left of it is not sent */
    DWORD bytes = h->aio.kind == IISD_AIO_READ ? h->aio.got : 0;
    if (aio_complete(h, bytes, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED)) == IISD_CONTINUE)
        iisd_conn_resume(c);
}

/*
 * CancelIo may be called from any thread while the request is alive, and the call itself may be
 * what lets the request end: once it has stored cancel_req, taken AS_CANCEL or posted its task, the
 * loop can complete the operation, finish the request and give its arena to the next request
 * while this thread still has atomics on h to do. So every call counts itself in h->cancel_calls
 * before it touches the request's state and leaves as its last access to h; the end of the request
 * (cancel_calls_drain) waits until no call is under way, and the release of the count orders
 * everything the call did before the next request reuses the memory. Because the count goes up
 * before the call makes anything visible, a request ended by a cancel always sees it. A call that
 * counts itself after the request has already ended was made on a dead context: the module's error,
 * as in IIS. Common path: one load of a zero at the end of each request.
 */
#define CANCEL_WAITER 0x80000000u /* in cancel_calls: the end of the request sleeps on it */

static void cancel_calls_leave(iisd_hctx_t *h)
{
    if (atomic_fetch_sub(&h->cancel_calls, 1) == (CANCEL_WAITER | 1))
        /* FUTEX_WAKE reads no memory (the word may be the next request's already; a waiter there
           would only wake spuriously) */
        syscall(SYS_futex, (int *)&h->cancel_calls, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void cancel_calls_drain(iisd_hctx_t *h)
{
    uint32_t v = atomic_load(&h->cancel_calls);
    if (IISD_LIKELY(v == 0))
        return;
    v = atomic_fetch_or(&h->cancel_calls, CANCEL_WAITER) | CANCEL_WAITER;
    while (v != CANCEL_WAITER) {
        syscall(SYS_futex, (int *)&h->cancel_calls, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
        v = atomic_load(&h->cancel_calls);
    }
}

void iisd_hctx_cancel_io(iisd_hctx_t *h)
{
    atomic_fetch_add(&h->cancel_calls, 1);
    atomic_store(&h->cancel_req, true);
    int expect = AS_PENDING;
    if (!atomic_compare_exchange_strong(&h->async_state, &expect, AS_CANCEL)) {
        /* the module still runs: the request takes the cancel as the notification returns */
        cancel_calls_leave(h);
        return;
    }
    if (h->aio.kind != IISD_AIO_NONE && atomic_exchange(&h->cancel_req, false)) {
        h->async_task.fn = cancel_task;
        iisd_loop_post(&h->c->hl->loop, &h->async_task);
    } else {
        /* parked for another reason (a completion will come), or the cancel was taken already */
        atomic_store(&h->async_state, AS_PENDING);
    }
    cancel_calls_leave(h);
}

/* Re-enters a module whose notification was pending (PostCompletion). */
static REQUEST_NOTIFICATION_STATUS call_async_completion(iisd_hctx_t *h, uint16_t id, DWORD bit, bool post,
                                                         IHttpEventProvider *prov)
{
    if (h->resume_child != NULL) {
        /* a child executed asynchronously has its completion: it runs on, on this thread, and the
           parent's module hears of it once the child has ended */
        iisd_hctx_t *k = h->resume_child;
        h->resume_child = NULL;
        if (h->raw)
            iisd_raw_sync(h);
        run(k, false);
        if (h->raw)
            iisd_raw_export(h);
        if (k->phase != PH_DONE)
            return RQ_NOTIFICATION_PENDING; /* parked again */
        h->parked_child = NULL;
        h->compl_bytes = 0;
        h->compl_hr = S_OK;
    }
    CHttpModule *m = h->inst[id];
    if (m == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    h->cur_module = iisd_modules.v[id];
    h->cur_notification = bit;
    h->cur_post = post;
    if (h->raw)
        iisd_raw_call_start(h, id);
    REQUEST_NOTIFICATION_STATUS st;
    if (h->compl_fn != NULL) {
        /* the ...Ex form of the call that completed: its callback instead of OnAsyncCompletion */
        PFN_ASYNC_COMPLETION fn = h->compl_fn;
        h->compl_fn = NULL;
        st = fn((IHttpContext3 *)&h->ctx, &h->compl, h->compl_ctx);
    } else if (h->post_fn != NULL) {
        /* PostCompletionEx: the routine, then the notification continues, unless the routine
           completed it itself (IndicateCompletion or PostCompletion) */
        LPOVERLAPPED_COMPLETION_ROUTINE fn = h->post_fn;
        h->post_fn = NULL;
        fn(ERROR_SUCCESS, h->compl_bytes, (LPOVERLAPPED)h->post_ctx);
        st = atomic_load(&h->async_state) == AS_EARLY ? RQ_NOTIFICATION_PENDING : RQ_NOTIFICATION_CONTINUE;
    } else {
        /* CHttpModule slot 28: OnAsyncCompletion */
        st = ((async_fn)((void *const *)m->lpVtbl)[28])(m, (IHttpContext *)&h->ctx, bit, post, prov,
                                                        (IHttpCompletionInfo *)&h->compl );
    }
    if (h->raw) /* (a module may have asked for it in this call) */
        iisd_raw_call_end(h, id);
    if (h->raw_req && iisd_raw_req_held_by(h, id))
        iisd_raw_req_sync(h);
    h->cur_module = NULL;
    return st;
}

/*
 * Runs the request from where it stands until it ends, waits on the
 * socket, or waits for an asynchronous completion. The final send happens
 * once the pipeline reaches RQ_LOG_REQUEST (normally, or by
 * RQ_NOTIFICATION_FINISH_REQUEST), so that logging sees the bytes sent.
 */
static enum iisd_yield run(iisd_hctx_t *h, bool owner_call)
{
    iisd_conn_t *c = h->c;
    /* a child runs inside its parent's module call, a request without a client inside a global
       notification: no zone, no loop */
    bool child = iisd_hctx_inline(h);
    iisd_loop_t *loop = child ? NULL : &c->hl->loop;
    if (owner_call)
        iisd_zone_enter(loop);
    for (;;) {
        if (h->phase == PH_RUN && h->stage >= IISD_STAGE_LOG) {
            if (!h->exec_ran && !h->finish)
                no_handler(h);
            int rc = iisd_hctx_send(h, true);
            if (rc == 1) {
                /* the loop finishes the send and calls on_sent(); only its thread changes the
                   connection's state, so that no event can close it under a queued task */
                h->phase = PH_SENDING;
                if (iisd_zone_leave(loop))
                    iisd_conn_wait_send(c);
                else
                    iisd_conn_post(c, send_on_loop);
                return IISD_YIELD;
            }
            h->phase = PH_AFTER_SEND;
        }
        int s = h->stage;
        if (s >= IISD_NSTAGES) {
            h->phase = PH_DONE;
            if (h->children != NULL)
                iisd_child_release_all(h);
            dispose_instances(h);
            if (h->user != NULL) {
                /* the reference IAuthenticationProvider::SetUser (or ExecuteRequest) took */
                IHttpUser *u = h->user;
                h->user = NULL;
                u->lpVtbl->DereferenceUser(u);
            }
            if (child)
                return IISD_CONTINUE; /* it borrows its parent's (or its provider's) configuration generation
                                       */
            cancel_calls_drain(h);    /* the arena and the connection outlive every CancelIo */
            iisd_conf_unref(h->conf);
            if (iisd_zone_leave(loop)) {
                iisd_conn_request_done(c);
                return IISD_CONTINUE;
            }
            iisd_conn_post(c, done_on_loop);
            return IISD_YIELD;
        }
        if (s == 4 && !h->post && h->idx == 0 && !h->mapped)
            iisd_handlers_map(h); /* RQ_MAP_REQUEST_HANDLER: the server maps first, modules may remap */
        if (s == IISD_STAGE_EXEC && !h->post && h->idx == 0 && !h->exec_prepared &&
            iisd_handlers_exec_begin(h) < 0) {
            finish_jump(h);
            continue;
        }
        const iisd_list_t *l = h->post ? &h->plan->post[s] : &h->plan->ev[s];
        if (s == IISD_STAGE_EXEC && !h->post && h->handler_mode)
            l = &h->exec_list;
        if (s == STAGE_AUTHENTICATE && !h->post && h->skip_auth)
            l = &no_modules; /* a child executed with a user is not authenticated again */
        if (s == IISD_STAGE_EXEC && !h->post && l->n > 0)
            h->exec_ran = true;
        DWORD bit = 1u << s;
        bool finished = false;
        while (h->idx < l->n) {
            uint16_t id = l->v[h->idx];
            if ((h->post ? h->disabled_post[id] : h->disabled_rq[id]) & bit) {
                h->idx++;
                continue;
            }
            if (s == IISD_STAGE_EXEC && !h->post && h->handled)
                break;
            IHttpEventProvider *prov = provider_for(h, s, h->post);
            REQUEST_NOTIFICATION_STATUS st;
            if (h->compl_reenter) {
                h->compl_reenter = false;
                st = call_async_completion(h, id, bit, h->post, prov);
            } else {
                st = call_module(h, id, 2 * s + (h->post ? 1 : 0), bit, h->post, prov);
            }
            if (IISD_UNLIKELY(h->parked_child != NULL) && st != RQ_NOTIFICATION_PENDING) {
                /* the child's end will re-enter this module: the request cannot go on without it */
                iisd_log(IISD_LOG_WARN,
                         "module %s executed a child request that completes asynchronously and did not "
                         "return RQ_NOTIFICATION_PENDING; the request waits for the child",
                         iisd_modules.v[id]->name);
                st = RQ_NOTIFICATION_PENDING;
            }
            while (st == RQ_NOTIFICATION_PENDING) {
                if (h->aio.kind != IISD_AIO_NONE && atomic_exchange(&h->cancel_req, false)) {
                    /* CancelIo while the module ran: the operation ends cancelled, at once */
                    if (h->aio.kind == IISD_AIO_WRITE)
                        iisd_conn_drop_send(c);
                    h->compl_bytes = h->aio.kind == IISD_AIO_READ ? h->aio.got : 0;
                    h->compl_hr = HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED);
                    h->aio.kind = IISD_AIO_NONE;
                    st = call_async_completion(h, id, bit, h->post, prov);
                    continue;
                }
                int expect = AS_RUNNING;
                if (atomic_compare_exchange_strong(&h->async_state, &expect, AS_PENDING)) {
                    if (child && h->async_exec) {
                        return IISD_YIELD; /* parked: its parent resumes it (call_async_completion) */
                    } else if (child) {
                        child_wait(h); /* the completion sets AS_EARLY */
                    } else if (h->aio.kind != IISD_AIO_NONE) {
                        /* asynchronous I/O: the loop completes it (on_sent, on_readable) */
                        if (iisd_zone_leave(loop))
                            aio_arm(h); /* the socket said EAGAIN on this thread: the next edge wakes us */
                        else
                            iisd_conn_post(c, aio_arm_on_loop);
                        return IISD_YIELD;
                    } else {
                        /* parked: a completion resumes it, on whatever thread calls it */
                        iisd_zone_leave(loop);
                        return IISD_YIELD;
                    }
                }
                /* completed before the notification returned */
                if (h->aio.kind != IISD_AIO_NONE)
                    aio_abandon(h); /* and completed otherwise as well */
                atomic_store(&h->async_state, AS_RUNNING);
                if (h->compl_reenter) {
                    h->compl_reenter = false;
                    st = call_async_completion(h, id, bit, h->post, prov);
                } else {
                    st = h->early_status;
                }
            }
            if (h->aio.kind != IISD_AIO_NONE)
                aio_abandon(h);
            if (st == RQ_NOTIFICATION_FINISH_REQUEST) {
                finish_jump(h);
                finished = true;
                break;
            }
            h->idx++;
        }
        if (finished)
            continue;
        if (s == STAGE_AUTHENTICATE && !h->post && h->user == NULL && l->n > 0) {
            /* authentication modules ran and none of them set a user */
            no_user(h);
            finish_jump(h);
            continue;
        }
        /* this notification is done: on to its post event, then the next stage */
        if (!h->post) {
            h->post = true;
        } else {
            h->post = false;
            h->stage++;
        }
        h->idx = 0;
    }
}

/* Resumes a request on its loop's thread, from a queued task. */
static void resume_on_loop(iisd_hctx_t *h)
{
    if (run(h, true) == IISD_CONTINUE)
        iisd_conn_resume(h->c);
}

static void post_resume(iisd_conn_t *c)
{
    resume_on_loop(c->app);
}

static void async_task(iisd_task_t *t)
{
    resume_on_loop(IISD_CONTAINER_OF(t, iisd_hctx_t, async_task));
}

void iisd_hctx_complete(iisd_hctx_t *h, REQUEST_NOTIFICATION_STATUS status, bool reenter, DWORD bytes,
                        HRESULT hr, bool on_this_thread)
{
    int expect = AS_RUNNING;
    h->compl_bytes = bytes;
    h->compl_hr = hr;
    h->early_status = status;
    h->compl_reenter = reenter;
    if (atomic_compare_exchange_strong(&h->async_state, &expect, AS_EARLY))
        return; /* the notification has not returned PENDING yet: it will see this */
    if (h->async_exec) {
        /* a parked child: its parent is pending too, and resumes it before its OnAsyncCompletion */
        expect = AS_PENDING;
        if (!atomic_compare_exchange_strong(&h->async_state, &expect, AS_RUNNING))
            return;
        if (reenter) {
            /* the child's OnAsyncCompletion runs when its parent resumes it */
        } else if (status == RQ_NOTIFICATION_FINISH_REQUEST) {
            finish_jump(h);
        } else if (status == RQ_NOTIFICATION_CONTINUE) {
            h->idx++;
        }
        h->parent->resume_child = h;
        iisd_hctx_complete(h->parent, RQ_NOTIFICATION_CONTINUE, true, 0, S_OK, false);
        return;
    }
    if (iisd_hctx_inline(h)) {
        /* a child's thread waits in child_wait() and takes the completion as an early one */
        expect = AS_PENDING;
        if (atomic_compare_exchange_strong(&h->async_state, &expect, AS_EARLY))
            syscall(SYS_futex, (int *)&h->async_state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        return;
    }
    expect = AS_PENDING;
    while (!atomic_compare_exchange_strong(&h->async_state, &expect, AS_RUNNING)) {
        if (expect != AS_CANCEL)
            return;    /* not pending: nothing to complete */
        sched_yield(); /* CancelIo is looking at it: it gives it back at once */
        expect = AS_PENDING;
    }
    if (reenter) {
        /* OnAsyncCompletion runs on the loop: the notification is re-entered there */
    } else if (status == RQ_NOTIFICATION_FINISH_REQUEST) {
        finish_jump(h);
    } else if (status == RQ_NOTIFICATION_CONTINUE) {
        h->idx++;
    }
    if (on_this_thread && !reenter) {
        if (run(h, false) == IISD_CONTINUE)
            iisd_conn_resume(h->c);
        return;
    }
    h->async_task.fn = async_task;
    iisd_loop_post(&h->c->hl->loop, &h->async_task);
}

/* ---- the HTTP handler -------------------------------------------------- */

static IISD_COLD enum iisd_yield bad_url(iisd_conn_t *c)
{
    iisd_conn_reject(c, 400, "invalid URL path");
    return IISD_YIELD;
}

static size_t html_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        const char *rep = *s == '<'   ? "&lt;"
                          : *s == '>' ? "&gt;"
                          : *s == '&' ? "&amp;"
                          : *s == '"' ? "&quot;"
                                      : NULL;
        if (rep) {
            memcpy(out + n, rep, strlen(rep));
            n += strlen(rep);
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return n;
}

static const iisd_plan_t *request_plan(iisd_conf_t *conf, const iisd_app_t *app, const char *cpath,
                                       const iisd_cfg_error_t **err);

/* What the configuration says about one request path: cached per thread. */
typedef struct path_facts {
    uint64_t gen; /* iisd_conf_t::id; 0 = empty slot */
    uint32_t hash;
    uint16_t len;
    char path[238];
    const iisd_cfg_error_t *err; /* 500.19 */
    const iisd_plan_t *plan;
    const iisd_celem_t *handlers;
    IHttpModuleContextContainer *meta; /* IMetadataInfo::GetModuleContextContainer */
} path_facts_t;

#define FACTS_SLOTS 64
static __thread path_facts_t facts_cache[FACTS_SLOTS];

static void compute_facts(iisd_conf_t *conf, const iisd_app_t *app, const char *cpath, path_facts_t *f)
{
    f->plan = NULL;
    f->handlers = NULL;
    f->meta = iisd_pipeline_meta_container(conf, cpath);
    f->err = iisd_cfg_check(conf->cfg, cpath);
    if (f->err != NULL)
        return;
    f->plan = request_plan(conf, app, cpath, &f->err);
    if (f->plan == NULL)
        return;
    const iisd_celem_t *hs = iisd_cfg_section(conf->cfg, cpath, "system.webServer/handlers", NULL);
    f->handlers = hs && hs->file ? hs : NULL;
}

/* The facts for a path; the pointers live as long as the generation. */
static const path_facts_t *path_facts(iisd_conf_t *conf, const iisd_app_t *app, const char *cpath, size_t len,
                                      path_facts_t *scratch)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)cpath[i]) * 16777619u;
    if (len >= sizeof(scratch->path)) {
        compute_facts(conf, app, cpath, scratch);
        return scratch;
    }
    path_facts_t *f = &facts_cache[h % FACTS_SLOTS];
    if (f->gen == conf->id && f->hash == h && f->len == len && memcmp(f->path, cpath, len) == 0)
        return f;
    compute_facts(conf, app, cpath, f);
    f->gen = conf->id;
    f->hash = h;
    f->len = (uint16_t)len;
    memcpy(f->path, cpath, len);
    return f;
}

typedef struct app_plan app_plan_t;
static bool app_started(const iisd_app_t *app);
static void app_start(iisd_conf_t *conf, app_plan_t *ap);

/*
 * The application, configuration path and configuration facts of a URL of a
 * site. An application that has not started yet is started first, unless
 * not_started is given: then it is set and the result is NULL.
 */
static const path_facts_t *url_facts(iisd_conf_t *conf, const iisd_sitedef_t *site, iisd_arena_t *a,
                                     const char *url, size_t url_len, const iisd_app_t **app, char **cpath,
                                     path_facts_t *scratch, bool *not_started)
{
    *app = iisd_site_app(site, url[0] == '*' ? "/" : url, url[0] == '*' ? 1 : url_len);
    if (!app_started(*app)) {
        if (not_started != NULL) {
            *not_started = true;
            return NULL;
        }
        app_start(conf, (*app)->data);
    }
    size_t cplen = 24 + strlen(site->name) + url_len + 1;
    char *cp = iisd_arena_alloc(a, cplen);
    size_t cu = url[0] == '/' ? url_len : 0;
    while (cu > 0 && url[cu - 1] == '/')
        cu--; /* ".../Default Web Site" for "/", ".../docs" for "/docs/" */
    static const char root[] = "MACHINE/WEBROOT/APPHOST/";
    size_t nlen = strlen(site->name);
    memcpy(cp, root, sizeof(root) - 1);
    memcpy(cp + sizeof(root) - 1, site->name, nlen);
    memcpy(cp + sizeof(root) - 1 + nlen, url, cu);
    size_t len = sizeof(root) - 1 + nlen + cu;
    cp[len] = '\0';
    *cpath = cp;
    return path_facts(conf, *app, cp, len, scratch);
}

int iisd_hctx_resolve(iisd_hctx_t *h)
{
    const iisd_app_t *app;
    char *cpath;
    path_facts_t scratch;
    const path_facts_t *pf =
        url_facts(h->conf, h->sitedef, h->arena, h->url, h->url_len, &app, &cpath, &scratch, NULL);
    if (pf->err != NULL) {
        iisd_log(IISD_LOG_WARN, "%s %.*s: configuration error: %s:%u: %s",
                 h->parent ? "child request" : "warm-up request", (int)h->url_len, h->url, pf->err->file,
                 pf->err->line, pf->err->message);
        iisd_resp_t *r = &h->rq->resp;
        iisd_resp_clear(r);
        r->status = 500;
        r->substatus = 19;
        return -1;
    }
    if (pf->plan->nmodules > h->plan->nmodules) {
        /* the child's application registered modules when it started: room for their ids */
        size_t n0 = h->plan->nmodules, n1 = pf->plan->nmodules;
        CHttpModule **inst = iisd_arena_calloc(h->arena, n1 * sizeof(void *));
        IHttpStoredContext **mctx = iisd_arena_calloc(h->arena, n1 * sizeof(void *));
        uint32_t *drq = iisd_arena_calloc(h->arena, 2 * n1 * sizeof(uint32_t));
        memcpy(inst, h->inst, n0 * sizeof(void *));
        memcpy(mctx, h->mctx, n0 * sizeof(void *));
        memcpy(drq, h->disabled_rq, n0 * sizeof(uint32_t));
        memcpy(drq + n1, h->disabled_post, n0 * sizeof(uint32_t));
        h->inst = inst;
        h->mctx = mctx;
        h->disabled_rq = drq;
        h->disabled_post = drq + n1;
    }
    h->appdef = app;
    h->cpath = cpath;
    h->wcpath = NULL;
    h->plan = pf->plan;
    h->handlers_section = pf->handlers;
    h->meta_container = pf->meta;
    return 0;
}

void iisd_hctx_run_inline(iisd_hctx_t *h)
{
    create_instances(h);
    run(h, false);
}

/* 500.19: the configuration that applies to the URL is invalid. Details only for local clients. */
static IISD_COLD void config_error(iisd_conn_t *c, const iisd_cfg_error_t *e)
{
    char why[1024], file[512], msg[1024], html[2048];
    snprintf(why, sizeof(why), "configuration error: %s:%u: %s", e->file, e->line, e->message);
    bool local = (c->remote.sin6_family == AF_INET &&
                  (ntohl(((struct sockaddr_in *)&c->remote)->sin_addr.s_addr) >> 24) == 127) ||
                 (c->remote.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&c->remote.sin6_addr));
    if (local) {
        html_escape(file, sizeof(file), e->file);
        html_escape(msg, sizeof(msg), e->message);
        snprintf(
            html, sizeof(html),
            "<p>The requested page cannot be accessed because the related configuration data for the page "
            "is invalid.</p><table><tr><th>Config File</th><td>%s</td></tr><tr><th>Line</th><td>%u</td></tr>"
            "<tr><th>Config Error</th><td>%s</td></tr></table>",
            file, e->line, msg);
    } else {
        snprintf(html, sizeof(html),
                 "<p>The requested page cannot be accessed because the related configuration "
                 "data for the page is invalid.</p>");
    }
    iisd_conn_reject_detail(c, 500, 19, why, html);
}

static enum iisd_yield on_request(iisd_conn_t *c);

static void restart_request(iisd_conn_t *c)
{
    if (on_request(c) == IISD_CONTINUE)
        iisd_conn_resume(c);
}

static enum iisd_yield on_request(iisd_conn_t *c)
{
    iisd_req_t *r = c->req;
    const iisd_head_t *hd = &r->head;
    iisd_arena_t *a = &c->arena;
    if (hd->target_form == IISD_TARGET_AUTHORITY) {
        /* CONNECT: iisd is an origin server, not a tunnel */
        iisd_conn_reject(c, 501, "CONNECT is not supported");
        return IISD_YIELD;
    }
    /* the cooked URL */
    char *url;
    size_t url_len;
    if (hd->target_form == IISD_TARGET_ASTERISK) {
        url = iisd_arena_strndup(a, "*", 1);
        url_len = 1;
    } else {
        url = iisd_arena_alloc(a, hd->path_len + 2);
        int n = iisd_url_normalize(hd->path, hd->path_len, url, NULL);
        if (n < 0)
            return bad_url(c);
        url_len = (size_t)n;
    }
    iisd_conf_t *conf = iisd_pipeline_acquire();
    const iisd_sitedef_t *site = iisd_sites_route(&conf->sites, (const struct sockaddr *)iisd_conn_local(c),
                                                  hd->known[IISD_H_HOST].value, hd->known[IISD_H_HOST].len);
    if (site == NULL) {
        iisd_conf_unref(conf);
        iisd_conn_reject(c, 404, "no site is bound to this address, port and host name");
        return IISD_YIELD;
    }
    if (!iisd_conn_admit(c, site->gate, &site->limits)) {
        iisd_conf_unref(conf);
        iisd_conn_reject(c, 503, "the site's maxConnections limit is reached");
        return IISD_YIELD;
    }
    /* the configuration path of the URL, and whether the configuration there is valid */
    const iisd_app_t *app;
    char *cpath;
    path_facts_t scratch;
    bool not_started = false;
    const path_facts_t *pf = url_facts(conf, site, a, url, url_len, &app, &cpath, &scratch, &not_started);
    if (IISD_UNLIKELY(not_started)) {
        /* the application's first request: it starts (module code) on this thread, as a request runs */
        iisd_zone_enter(&c->hl->loop);
        app_start(conf, app->data);
        bool kept = iisd_zone_leave(&c->hl->loop);
        iisd_conf_unref(conf);
        if (!kept) {
            /* taken over while a global module ran: the loop takes the request from the top */
            iisd_conn_post(c, restart_request);
            return IISD_YIELD;
        }
        return on_request(c);
    }
    tls_app = app;
    tls_app_gen = conf->id;
    if (pf->err != NULL) {
        config_error(c, pf->err);
        iisd_conf_unref(conf);
        return IISD_YIELD;
    }
    const iisd_plan_t *plan = pf->plan;
    const iisd_celem_t *handlers_section = pf->handlers;
    IHttpModuleContextContainer *meta_container = pf->meta;
    iisd_hctx_t *h = iisd_hctx_alloc(a, plan->nmodules);
    h->c = c;
    h->rq = r;
    h->arena = a;
    h->plan = plan;
    h->conf = conf;
    h->sitedef = site;
    h->appdef = app;
    h->url = url;
    h->url_len = url_len;
    h->cpath = cpath;
    h->handlers_section = handlers_section;
    h->meta_container = meta_container;
    iisd_hctx_bind(h);
    h->query = hd->query ? (char *)hd->query : "";
    h->query_len = hd->query ? hd->query_len : 0;
    c->app = h;

    /* GL_PRE_BEGIN_REQUEST: before the request enters the pipeline */
    if (iisd_pipeline.global->gl[bit_of(GL_PRE_BEGIN_REQUEST)].n > 0) {
        iisd_zone_enter(&c->hl->loop);
        iisd_global_notify((DWORD)bit_of(GL_PRE_BEGIN_REQUEST), (IHttpEventProvider *)&h->prebp);
        if (!iisd_zone_leave(&c->hl->loop)) {
            /* taken over while a global module ran: continue on the loop */
            create_instances(h);
            iisd_conn_post(c, post_resume);
            return IISD_YIELD;
        }
    }
    create_instances(h);
    return run(h, true);
}

static enum iisd_yield on_sent(iisd_conn_t *c)
{
    iisd_hctx_t *h = c->app;
    if (h->aio.kind == IISD_AIO_WRITE) {
        /* an asynchronous WriteEntityChunks or Flush has gone out */
        int expect = AS_PENDING;
        if (!atomic_compare_exchange_strong(&h->async_state, &expect, AS_RUNNING) && !h->aio.cancelled)
            return IISD_YIELD; /* CancelIo came first: its task completes it */
        if (h->aio.cancelled)
            return aio_complete(h, 0, HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED));
        if (c->req->send_failed)
            return aio_complete(h, 0, HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED));
        DWORD bytes = h->aio.flush ? (DWORD)(c->req->bytes_sent - h->aio.base) : h->aio.bytes;
        return aio_complete(h, bytes, S_OK);
    }
    h->phase = PH_AFTER_SEND;
    return run(h, true);
}

const iisd_http_handler_t iisd_pipeline_handler = {
    .on_request = on_request, .on_sent = on_sent, .on_readable = on_readable};

/* ---- process-level global notifications -------------------------------- */

typedef struct {
    IGlobalStopListeningProvider p;
    bool graceful;
} stop_prov_t;

static VOID stop_SetErrorStatus(IGlobalStopListeningProvider *This, HRESULT hr)
{
    iisd_log(IISD_LOG_WARN, "a module reported HRESULT 0x%08X while the server stopped listening",
             (unsigned)hr);
}

static BOOL stop_DrainRequestsGracefully(IGlobalStopListeningProvider *This)
{
    return ((stop_prov_t *)This)->graceful;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalStopListeningProviderVtbl v;
} stop_vtbl = {
    NULL,
    NULL,
    {.SetErrorStatus = stop_SetErrorStatus, .DrainRequestsGracefully = stop_DrainRequestsGracefully}};

void iisd_global_stop_listening(bool graceful)
{
    stop_prov_t p = {.p.lpVtbl = &stop_vtbl.v, .graceful = graceful};
    iisd_global_notify((DWORD)bit_of(GL_STOP_LISTENING), (IHttpEventProvider *)&p.p);
}

static VOID tc_SetErrorStatus(IGlobalThreadCleanupProvider *This, HRESULT hr) {}

/* The application of the last request the thread ran (it is not bound to one). */
typedef struct {
    IGlobalThreadCleanupProvider p; /* first */
    IHttpApplication *app;
} tc_prov_t;

/* The application of the last client request the thread ran, while its generation is current. */
static IHttpApplication *tc_GetApplication(IGlobalThreadCleanupProvider *This)
{
    return ((tc_prov_t *)This)->app;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalThreadCleanupProviderVtbl v;
} tc_vtbl = {NULL, NULL, {.SetErrorStatus = tc_SetErrorStatus, .GetApplication = tc_GetApplication}};

static IHttpApplication *app_iface(const iisd_app_t *app);

void iisd_global_thread_cleanup(void)
{
    if (iisd_pipeline.global == NULL || iisd_pipeline.global->gl[bit_of(GL_THREAD_CLEANUP)].n == 0)
        return;
    iisd_conf_t *conf =
        __atomic_load_n(&iisd_pipeline.conf, __ATOMIC_ACQUIRE) ? iisd_pipeline_acquire() : NULL;
    tc_prov_t p = {.p.lpVtbl = &tc_vtbl.v};
    if (conf != NULL && tls_app != NULL && tls_app_gen == conf->id)
        p.app = app_iface(tls_app);
    iisd_global_notify((DWORD)bit_of(GL_THREAD_CLEANUP), (IHttpEventProvider *)&p.p);
    iisd_conf_unref(conf);
}

/* ---- configuration generations -------------------------------------------- */

/* Per application: its plan and the <modules> it was built from. */
typedef struct app_plan {
    iisd_plan_t *plan; /* NULL: the application's configuration is invalid (err) */
    const iisd_celem_t *mods;
    iisd_cfg_error_t err;
    iisd_container_t container; /* IHttpApplication::GetModuleContextContainer */
    /* the application outside any request (GL_APPLICATION_* providers) */
    IHttpApplication2 iface;
    iisd_conf_t *conf; /* no reference: the generation owns this */
    const iisd_app_t *app;
    wchar_t *wphys, *wid, *wcpath;
    pthread_mutex_t start_lock;
    bool started;          /* atomic: GL_APPLICATION_START has run */
    int warmup;            /* atomic: BeginApplicationWarmup calls not yet ended */
    iisd_module_t **extra; /* registered by GL_APPLICATION_RESOLVE_MODULES */
    unsigned nextra;
} app_plan_t;

/* IMetadataInfo::GetModuleContextContainer: one container per configuration path. */
typedef struct meta_container {
    struct meta_container *next;
    char *path;
    iisd_container_t container;
} meta_container_t;

/* Plans for paths whose <modules> differ from their application's, per generation. */
typedef struct path_plan {
    struct path_plan *next;
    const app_plan_t *owner; /* the application whose RESOLVE_MODULES registrations it has (or NULL) */
    const iisd_celem_t *mods;
    iisd_plan_t *plan;
    iisd_cfg_error_t err;
} path_plan_t;

typedef struct plan_cache {
    pthread_mutex_t lock;
    path_plan_t *list;
    iisd_container_t *site_containers; /* IHttpSite::GetModuleContextContainer, by site index */
    unsigned nsites;
    meta_container_t *meta;
    iisd_htable_t *htables; /* compiled <handlers> sections */
} plan_cache_t;

static iisd_module_t **g_tail;
static unsigned g_ntail;

static void app_stop(app_plan_t *ap);

static void free_app_plan(void *p)
{
    app_plan_t *ap = p;
    if (__atomic_load_n(&ap->started, __ATOMIC_ACQUIRE))
        app_stop(ap);
    pthread_mutex_destroy(&ap->start_lock);
    free(ap->wphys);
    free(ap->wid);
    free(ap->wcpath);
    free(ap->extra);
    iisd_plan_free(ap->plan);
    iisd_cfg_error_free(&ap->err);
    iisd_container_destroy(&ap->container);
    free(ap);
}

static void free_plan_cache(void *p)
{
    plan_cache_t *pc = p;
    while (pc->list) {
        path_plan_t *pp = pc->list;
        pc->list = pp->next;
        iisd_plan_free(pp->plan);
        iisd_cfg_error_free(&pp->err);
        free(pp);
    }
    for (unsigned i = 0; i < pc->nsites; i++)
        iisd_container_destroy(&pc->site_containers[i]);
    free(pc->site_containers);
    while (pc->meta) {
        meta_container_t *m = pc->meta;
        pc->meta = m->next;
        iisd_container_destroy(&m->container);
        free(m->path);
        free(m);
    }
    while (pc->htables) {
        iisd_htable_t *t = pc->htables;
        pc->htables = t->next;
        iisd_handlers_free(t);
    }
    pthread_mutex_destroy(&pc->lock);
    free(pc);
}

/* The plan for a resolved <modules>: its entries, then the command-line and built-in tail. */
static void set_err(iisd_cfg_error_t *e, const char *file, uint32_t line, const char *msg)
{
    e->file = iisd_xstrdup(file ? file : "");
    e->line = line;
    e->message = iisd_xstrdup(msg);
}

static iisd_plan_t *plan_for(const iisd_conf_t *conf, const iisd_celem_t *mods, const app_plan_t *ap,
                             iisd_cfg_error_t *err)
{
    unsigned nextra = ap != NULL ? ap->nextra : 0;
    iisd_module_t **v = iisd_xcalloc(iisd_modules.n + g_ntail + nextra + 1, sizeof(*v));
    unsigned n = 0;
    if (mods->file == NULL) {
        /* no <modules> anywhere: every global module, in <globalModules> order */
        for (unsigned k = 0; k < conf->ngmods; k++) {
            iisd_module_t *m = iisd_module_find(conf->gmods[k].name);
            if (m != NULL)
                v[n++] = m;
        }
    }
    for (unsigned k = 0; k < mods->nitems; k++) {
        const char *name = iisd_celem_str(mods->items[k], "name");
        if (!iisd_precondition_holds(iisd_celem_str(mods->items[k], "preCondition")))
            continue;
        iisd_module_t *m = iisd_module_find(name);
        if (m == NULL && iisd_module_unavailable(name))
            continue;
        if (m == NULL) {
            char msg[512];
            snprintf(msg, sizeof(msg), "<modules> names %s, which is not in <globalModules>", name);
            set_err(err, mods->items[k]->file, mods->items[k]->line, msg);
            free(v);
            return NULL;
        }
        bool present = false;
        for (unsigned q = 0; q < n; q++)
            present |= v[q] == m;
        if (!present)
            v[n++] = m;
    }
    /* the application's own modules (GL_APPLICATION_RESOLVE_MODULES), after its configured ones */
    for (unsigned k = 0; k < nextra; k++)
        v[n++] = ap->extra[k];
    for (unsigned k = 0; k < g_ntail; k++) {
        bool present = false;
        for (unsigned q = 0; q < n; q++)
            present |= v[q] == g_tail[k];
        if (!present)
            v[n++] = g_tail[k];
    }
    iisd_plan_t *plan = iisd_plan_build(v, n);
    free(v);
    return plan;
}

/* ---- applications: GL_APPLICATION_RESOLVE_MODULES, _START, _STOP --------- */

/*
 * An application lives as long as its configuration generation. It starts
 * (GL_APPLICATION_RESOLVE_MODULES, then GL_APPLICATION_START) when its first
 * request arrives, or as soon as the generation is installed when it has
 * preloadEnabled (then GL_APPLICATION_PRELOAD follows), and it stops
 * (GL_APPLICATION_STOP) when the generation is released: after a
 * configuration change or a RecycleApplication, once its last request is
 * over, and at shutdown.
 */

static wchar_t *wdup(const char *s)
{
    size_t n = strlen(s);
    wchar_t *w = iisd_xmalloc((n + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(s, n, w, n + 1);
    return w;
}

static app_plan_t *AP(IHttpApplication2 *This)
{
    return (app_plan_t *)((char *)This - offsetof(app_plan_t, iface));
}

static PCWSTR gapp_GetApplicationPhysicalPath(IHttpApplication2 *This)
{
    return AP(This)->wphys;
}

static PCWSTR gapp_GetApplicationId(IHttpApplication2 *This)
{
    return AP(This)->wid;
}

static PCWSTR gapp_GetAppConfigPath(IHttpApplication2 *This)
{
    return AP(This)->wcpath;
}

static IHttpModuleContextContainer *gapp_GetModuleContextContainer(IHttpApplication2 *This)
{
    return &AP(This)->container.iface;
}

void iisd_app_warmup(const iisd_app_t *app, bool begin)
{
    app_plan_t *ap = app->data;
    if (begin) {
        __atomic_add_fetch(&ap->warmup, 1, __ATOMIC_ACQ_REL);
        return;
    }
    int n = __atomic_load_n(&ap->warmup, __ATOMIC_ACQUIRE);
    while (n > 0 &&
           !__atomic_compare_exchange_n(&ap->warmup, &n, n - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
}

bool iisd_app_warming_up(const iisd_app_t *app)
{
    return __atomic_load_n(&((app_plan_t *)app->data)->warmup, __ATOMIC_ACQUIRE) > 0;
}

static VOID gapp_BeginApplicationWarmup(IHttpApplication2 *This)
{
    iisd_app_warmup(AP(This)->app, true);
}

static VOID gapp_EndApplicationWarmup(IHttpApplication2 *This)
{
    iisd_app_warmup(AP(This)->app, false);
}

static BOOL gapp_QueryIsWarmingUp(IHttpApplication2 *This)
{
    return iisd_app_warming_up(AP(This)->app);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpApplication2Vtbl v;
} gapp_vtbl = {NULL,
               NULL,
               {.GetApplicationPhysicalPath = gapp_GetApplicationPhysicalPath,
                .GetApplicationId = gapp_GetApplicationId,
                .GetAppConfigPath = gapp_GetAppConfigPath,
                .GetModuleContextContainer = gapp_GetModuleContextContainer,
                .BeginApplicationWarmup = gapp_BeginApplicationWarmup,
                .EndApplicationWarmup = gapp_EndApplicationWarmup,
                .QueryIsWarmingUp = gapp_QueryIsWarmingUp}};

static IHttpApplication *app_iface(const iisd_app_t *app)
{
    return (IHttpApplication *)&((app_plan_t *)app->data)->iface;
}

static void app_init(app_plan_t *ap, iisd_conf_t *conf, const iisd_sitedef_t *site, const iisd_app_t *app)
{
    ap->iface.lpVtbl = &gapp_vtbl.v;
    ap->conf = conf;
    ap->app = app;
    pthread_mutex_init(&ap->start_lock, NULL);
    char *phys = iisd_site_map(site, app->path, strlen(app->path));
    size_t n = phys ? strlen(phys) : 0;
    while (n > 1 && phys[n - 1] == '/')
        n--;
    char buf[4096];
    snprintf(buf, sizeof(buf), "%.*s/", (int)n, phys ? phys : "");
    free(phys);
    ap->wphys = wdup(buf);
    snprintf(buf, sizeof(buf), "/LM/W3SVC/%u/ROOT%s", (unsigned)site->id,
             strcmp(app->path, "/") == 0 ? "" : app->path);
    ap->wid = wdup(buf);
    ap->wcpath = wdup(app->config_path);
}

/* The providers: IHttpApplicationProvider and IHttpApplicationResolveModulesProvider. */
typedef struct app_prov {
    IHttpApplicationResolveModulesProvider iface; /* first; its first slots are IHttpApplicationProvider's */
    app_plan_t *ap;
    const char *what;
} app_prov_t;

static VOID appp_SetErrorStatus(IHttpApplicationResolveModulesProvider *This, HRESULT hr)
{
    app_prov_t *p = (app_prov_t *)This;
    char path[512];
    iisd_wcs_to_utf8(p->ap->wcpath, wcslen(p->ap->wcpath), path, sizeof(path));
    iisd_log(IISD_LOG_WARN, "a module reported HRESULT 0x%08X for %s of application %s", (unsigned)hr,
             p->what, path);
}

static IHttpApplication *appp_GetApplication(IHttpApplicationResolveModulesProvider *This)
{
    return (IHttpApplication *)&((app_prov_t *)This)->ap->iface;
}

/*
 * Adds a request module to this application only: it runs, after the
 * modules <modules> enables, for every request of the application (each
 * with its own CHttpModule from pModuleFactory). pszModuleType is not used
 * (there is no managed runtime); a pszModulePreCondition that does not hold
 * skips the module (S_OK, as in <modules>).
 */
/* api-status: implemented (pszModuleType is ignored: no managed runtime) */
static HRESULT appp_RegisterModule(IHttpApplicationResolveModulesProvider *This,
                                   HTTP_MODULE_ID parentModuleId, IHttpModuleFactory *pModuleFactory,
                                   PCWSTR pszModuleName, PCWSTR pszModuleType, PCWSTR pszModulePreCondition,
                                   DWORD dwRequestNotifications, DWORD dwPostRequestNotifications)
{
    app_plan_t *ap = ((app_prov_t *)This)->ap;
    if (pModuleFactory == NULL || pszModuleName == NULL || pszModuleName[0] == L'\0')
        return E_INVALIDARG;
    uintptr_t pid = (uintptr_t)parentModuleId;
    if (pid == 0 || pid > iisd_modules.n)
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    if (pszModulePreCondition != NULL && pszModulePreCondition[0] != L'\0') {
        char pc[512];
        iisd_wcs_to_utf8(pszModulePreCondition, wcslen(pszModulePreCondition), pc, sizeof(pc));
        if (!iisd_precondition_holds(pc))
            return S_OK;
    }
    HRESULT hr;
    iisd_module_t *m = iisd_module_add_dynamic(iisd_modules.v[pid - 1], pszModuleName, pModuleFactory,
                                               dwRequestNotifications, dwPostRequestNotifications, &hr);
    if (m == NULL)
        return hr;
    for (unsigned i = 0; i < ap->nextra; i++)
        if (ap->extra[i] == m)
            return S_OK;
    ap->extra = iisd_xrealloc(ap->extra, (ap->nextra + 1) * sizeof(*ap->extra));
    ap->extra[ap->nextra++] = m;
    return S_OK;
}

/* The priority of a module this application's RESOLVE_MODULES registered. */
static HRESULT appp_SetPriorityForRequestNotification(IHttpApplicationResolveModulesProvider *This,
                                                      PCWSTR pszModuleName, DWORD dwRequestNotification,
                                                      PCWSTR pszPriorityAlias)
{
    app_plan_t *ap = ((app_prov_t *)This)->ap;
    int prio = iisd_prio_parse(pszPriorityAlias);
    if (pszModuleName == NULL || prio < 0)
        return E_INVALIDARG;
    for (unsigned i = 0; i < ap->nextra; i++) {
        iisd_module_t *m = ap->extra[i];
        if (wcscasecmp(m->wname, pszModuleName) != 0)
            continue;
        for (int b = 0; b < 32; b++)
            if (dwRequestNotification & (1u << b))
                m->rq_prio[b] = m->post_prio[b] = (uint8_t)prio;
        return S_OK;
    }
    return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpApplicationResolveModulesProviderVtbl v;
} appp_vtbl = {NULL,
               NULL,
               {.SetErrorStatus = appp_SetErrorStatus,
                .GetApplication = appp_GetApplication,
                .RegisterModule = appp_RegisterModule,
                .SetPriorityForRequestNotification = appp_SetPriorityForRequestNotification}};

static void app_notify(app_plan_t *ap, DWORD mask, const char *what)
{
    if (iisd_pipeline.global->gl[bit_of(mask)].n == 0)
        return;
    app_prov_t p = {.iface.lpVtbl = &appp_vtbl.v, .ap = ap, .what = what};
    iisd_global_notify((DWORD)bit_of(mask), (IHttpEventProvider *)&p.iface);
}

static IISD_COLD void app_start(iisd_conf_t *conf, app_plan_t *ap)
{
    pthread_mutex_lock(&ap->start_lock);
    if (!__atomic_load_n(&ap->started, __ATOMIC_ACQUIRE)) {
        app_notify(ap, GL_APPLICATION_RESOLVE_MODULES, "GL_APPLICATION_RESOLVE_MODULES");
        if (ap->nextra > 0 && ap->plan != NULL) {
            /* no request of this application has used its plan yet: they all wait here */
            iisd_plan_t *plan = plan_for(conf, ap->mods, ap, &ap->err);
            iisd_plan_free(ap->plan);
            ap->plan = plan;
        }
        app_notify(ap, GL_APPLICATION_START, "GL_APPLICATION_START");
        __atomic_store_n(&ap->started, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&ap->start_lock);
}

static void app_stop(app_plan_t *ap)
{
    app_notify(ap, GL_APPLICATION_STOP, "GL_APPLICATION_STOP");
}

static inline bool app_started(const iisd_app_t *app)
{
    return __atomic_load_n(&((const app_plan_t *)app->data)->started, __ATOMIC_ACQUIRE);
}

/* ---- GL_APPLICATION_PRELOAD ------------------------------------------------ */

typedef struct preload_prov {
    IGlobalApplicationPreloadProvider2 iface; /* first */
    bool recycled;
    iisd_conf_t *conf; /* the application being preloaded, and its generation */
    const iisd_sitedef_t *site;
    const iisd_app_t *app;
    struct iisd_warmup *contexts; /* made by CreateContext and not released yet */
} preload_prov_t;

static VOID pre_SetErrorStatus(IGlobalApplicationPreloadProvider2 *This, HRESULT hr)
{
    iisd_log(IISD_LOG_WARN, "a module reported HRESULT 0x%08X while preloading an application", (unsigned)hr);
}

/*
 * A request without a client connection for the application being preloaded: a GET of the
 * application's root, which the module may change (SetUrl, SetHttpMethod, SetHeader) before it
 * runs it with ExecuteRequest. It lives until ReleaseClonedContext or until the notification returns.
 */
static HRESULT pre_CreateContext(IGlobalApplicationPreloadProvider2 *This, IHttpContext **ppHttpContext)
{
    preload_prov_t *p = (preload_prov_t *)This;
    if (ppHttpContext == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *ppHttpContext = NULL;
    const app_plan_t *ap = p->app->data;
    return iisd_warmup_create(p->conf, p->site, p->app, ap->plan, &p->contexts, ppHttpContext);
}

/* Runs a context from CreateContext through its application's whole pipeline, on the calling thread;
   the response stays in the context. */
static HRESULT pre_ExecuteRequest(IGlobalApplicationPreloadProvider2 *This, IHttpContext *pHttpContext,
                                  IHttpUser *pHttpUser)
{
    return iisd_warmup_execute(((preload_prov_t *)This)->contexts, pHttpContext, pHttpUser);
}

/* TRUE when the generation replaced an earlier one (a configuration change or RecycleApplication). */
static BOOL pre_IsProcessRecycled(IGlobalApplicationPreloadProvider2 *This)
{
    return ((preload_prov_t *)This)->recycled;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalApplicationPreloadProvider2Vtbl v;
} pre_vtbl = {NULL,
              NULL,
              {.SetErrorStatus = pre_SetErrorStatus,
               .CreateContext = pre_CreateContext,
               .ExecuteRequest = pre_ExecuteRequest,
               .IsProcessRecycled = pre_IsProcessRecycled}};

void iisd_pipeline_preload(iisd_conf_t *conf)
{
    static uint64_t first_gen;
    if (first_gen == 0)
        first_gen = conf->id;
    for (unsigned i = 0; i < conf->sites.n; i++) {
        const iisd_sitedef_t *site = &conf->sites.v[i];
        for (unsigned j = 0; j < site->napps; j++) {
            app_plan_t *ap = site->apps[j].data;
            if (!site->apps[j].preload || ap->plan == NULL)
                continue;
            app_start(conf, ap);
            if (iisd_pipeline.global->gl[bit_of(GL_APPLICATION_PRELOAD)].n == 0)
                continue;
            preload_prov_t p = {.iface.lpVtbl = &pre_vtbl.v,
                                .recycled = conf->id != first_gen,
                                .conf = conf,
                                .site = site,
                                .app = &site->apps[j]};
            iisd_global_notify((DWORD)bit_of(GL_APPLICATION_PRELOAD), (IHttpEventProvider *)&p.iface);
            iisd_warmup_release_all(&p.contexts);
        }
    }
}

int iisd_pipeline_prepare(iisd_conf_t *conf, iisd_module_t **tail, unsigned ntail, char *err, size_t errlen)
{
    g_tail = tail;
    g_ntail = ntail;
    conf->free_app_data = free_app_plan;
    plan_cache_t *pc = iisd_xcalloc(1, sizeof(*pc));
    pthread_mutex_init(&pc->lock, NULL);
    pc->nsites = conf->sites.n;
    pc->site_containers = iisd_xcalloc(pc->nsites ? pc->nsites : 1, sizeof(*pc->site_containers));
    for (unsigned i = 0; i < pc->nsites; i++)
        iisd_container_init(&pc->site_containers[i]);
    conf->pipeline_data = pc;
    conf->free_pipeline_data = free_plan_cache;
    (void)err;
    (void)errlen;
    for (unsigned i = 0; i < conf->sites.n; i++) {
        iisd_sitedef_t *site = &conf->sites.v[i];
        for (unsigned j = 0; j < site->napps; j++) {
            iisd_app_t *app = &site->apps[j];
            app_plan_t *ap = iisd_xcalloc(1, sizeof(*ap));
            iisd_container_init(&ap->container);
            app_init(ap, conf, site, app);
            app->data = ap;
            /* an application whose configuration is invalid answers 500.19; the others run */
            const iisd_cfg_error_t *e;
            ap->mods = iisd_cfg_section(conf->cfg, app->config_path, "system.webServer/modules", &e);
            if (ap->mods == NULL) {
                set_err(&ap->err, e->file, e->line, e->message);
            } else {
                ap->plan = plan_for(conf, ap->mods, NULL, &ap->err);
            }
            if (ap->plan == NULL)
                iisd_log(IISD_LOG_WARN, "%s: configuration error, its requests answer 500.19: %s:%u: %s",
                         app->config_path, ap->err.file, ap->err.line, ap->err.message);
        }
    }
    return 0;
}

static bool same_modules(const iisd_celem_t *a, const iisd_celem_t *b)
{
    if (a == b)
        return true;
    if (a->nitems != b->nitems || (a->file == NULL) != (b->file == NULL))
        return false;
    for (unsigned i = 0; i < a->nitems; i++)
        if (strcasecmp(iisd_celem_str(a->items[i], "name"), iisd_celem_str(b->items[i], "name")) != 0)
            return false;
    return true;
}

/* The plan of a request: its application's, unless <modules> differs at its path.
   NULL with *err when the configuration there cannot give one. */
static const iisd_plan_t *request_plan(iisd_conf_t *conf, const iisd_app_t *app, const char *cpath,
                                       const iisd_cfg_error_t **err)
{
    const app_plan_t *ap = app->data;
    if (ap->plan == NULL) {
        *err = &ap->err;
        return NULL;
    }
    const iisd_celem_t *mods = iisd_cfg_section(conf->cfg, cpath, "system.webServer/modules", err);
    if (mods == NULL)
        return NULL;
    if (same_modules(mods, ap->mods))
        return ap->plan;
    plan_cache_t *pc = conf->pipeline_data;
    const app_plan_t *owner = ap->nextra > 0 ? ap : NULL;
    pthread_mutex_lock(&pc->lock);
    path_plan_t *pp;
    for (pp = pc->list; pp != NULL; pp = pp->next)
        if (pp->owner == owner && (pp->mods == mods || same_modules(pp->mods, mods)))
            break;
    if (pp == NULL) {
        pp = iisd_xcalloc(1, sizeof(*pp));
        pp->owner = owner;
        pp->mods = mods;
        pp->plan = plan_for(conf, mods, owner, &pp->err);
        pp->next = pc->list;
        pc->list = pp;
    }
    pthread_mutex_unlock(&pc->lock);
    if (pp->plan == NULL)
        *err = &pp->err;
    return pp->plan;
}

iisd_htable_t *iisd_pipeline_handler_table(iisd_conf_t *conf, const iisd_celem_t *hs)
{
    plan_cache_t *pc = conf->pipeline_data;
    pthread_mutex_lock(&pc->lock);
    iisd_htable_t *t;
    for (t = pc->htables; t != NULL; t = t->next)
        if (t->section == hs)
            break;
    if (t == NULL) {
        t = iisd_handlers_compile(hs);
        t->next = pc->htables;
        pc->htables = t;
    }
    pthread_mutex_unlock(&pc->lock);
    return t;
}

IHttpModuleContextContainer *iisd_pipeline_app_container(const iisd_app_t *app)
{
    return &((app_plan_t *)app->data)->container.iface;
}

IHttpModuleContextContainer *iisd_pipeline_site_container(iisd_conf_t *conf, const iisd_sitedef_t *site)
{
    plan_cache_t *pc = conf->pipeline_data;
    return &pc->site_containers[site - conf->sites.v].iface;
}

IHttpModuleContextContainer *iisd_pipeline_meta_container(iisd_conf_t *conf, const char *path)
{
    plan_cache_t *pc = conf->pipeline_data;
    /* one container per configuration key, so made-up URLs share their folder's */
    char *key = iisd_cfg_key(conf->cfg, path);
    pthread_mutex_lock(&pc->lock);
    meta_container_t *m;
    for (m = pc->meta; m != NULL; m = m->next)
        if (strcasecmp(m->path, key) == 0)
            break;
    if (m == NULL) {
        m = iisd_xcalloc(1, sizeof(*m));
        m->path = key;
        key = NULL;
        iisd_container_init(&m->container);
        iisd_container_index(&m->container, iisd_modules.n); /* read by most modules on every request */
        m->next = pc->meta;
        pc->meta = m;
    }
    pthread_mutex_unlock(&pc->lock);
    free(key);
    return &m->container.iface;
}

iisd_hctx_t *iisd_hctx_alloc(iisd_arena_t *a, unsigned nmodules)
{
    size_t nm = nmodules ? nmodules : 1;
    iisd_hctx_t *h = iisd_arena_calloc(a, sizeof(*h) + nm * (2 * sizeof(void *) + 2 * sizeof(uint32_t)));
    char *x = (char *)(h + 1);
    h->inst = (CHttpModule **)x;
    h->mctx = (IHttpStoredContext **)(x + nm * sizeof(void *));
    h->disabled_rq = (uint32_t *)(x + 2 * nm * sizeof(void *));
    h->disabled_post = h->disabled_rq + nm;
    return h;
}

/* Threads between loading iisd_pipeline.conf and taking their reference: loop owners, module
   threads, threads that lost their loop to a takeover while they finish a request. */
static unsigned acquiring;

iisd_conf_t *iisd_pipeline_acquire(void)
{
    __atomic_add_fetch(&acquiring, 1, __ATOMIC_SEQ_CST);
    iisd_conf_t *c = __atomic_load_n(&iisd_pipeline.conf, __ATOMIC_SEQ_CST);
    iisd_conf_ref(c);
    __atomic_sub_fetch(&acquiring, 1, __ATOMIC_RELEASE);
    return c;
}

void iisd_pipeline_set_conf(iisd_conf_t *conf)
{
    iisd_conf_t *old = __atomic_exchange_n(&iisd_pipeline.conf, conf, __ATOMIC_SEQ_CST);
    if (old == NULL)
        return;
    /* A thread may have loaded the old pointer and not yet taken its reference; once no thread
       is inside iisd_pipeline_acquire(), none can still be doing so (one that enters now loads the
       new pointer). The wait is a few instructions long. */
    while (__atomic_load_n(&acquiring, __ATOMIC_SEQ_CST) != 0)
        sched_yield();
    iisd_conf_unref(old);
}
