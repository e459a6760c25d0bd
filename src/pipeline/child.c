/*
 * Child requests: IHttpContext::CloneContext, ExecuteRequest and ReleaseClonedContext.
 *
 * A clone is a complete request context of its own, made from its own arena (taken
 * from the per-thread chunk cache and given back when the clone is released), with a
 * copy of its parent's request head and server variables and an empty response. It
 * shares its parent's connection, site and configuration generation.
 *
 * ExecuteRequest resolves the clone's URL again (application, configuration path,
 * modules, handlers) and runs its whole pipeline on the calling thread. Unless it runs
 * with EXECUTE_FLAG_BUFFER_RESPONSE, every send of the child (each Flush, and the end
 * of its pipeline) moves what its response holds into its parent's response: its status
 * and headers once (not with EXECUTE_FLAG_NO_HEADERS, nor after the parent's headers went
 * out), then its body, copied into the parent's arena (file chunks get a duplicate
 * descriptor that the parent's arena closes). The parent keeps the final send.
 */
#include "core/log.h"
#include "net/loop.h"
#include "pipeline/hctx.h"
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wchar.h>

/* The nesting limit of the documentation: a child of depth 11 is refused. */
#define CHILD_MAX_DEPTH 10

typedef struct iisd_child {
    struct iisd_child *next; /* older sibling */
    iisd_arena_t arena;      /* everything of the child, its context included */
    iisd_hctx_t *h;
    bool released;
} iisd_child_t;

static void child_free(iisd_child_t *rec)
{
    if (rec->released)
        return;
    rec->released = true;
    iisd_child_drop_unrun(rec->h);
    iisd_arena_reset(&rec->arena);
}

void iisd_child_drop_unrun(iisd_hctx_t *h)
{
    if (h->user != NULL) {
        /* executed with a user but never run (its configuration was invalid) */
        IHttpUser *u = h->user;
        h->user = NULL;
        u->lpVtbl->DereferenceUser(u);
    }
    /* contexts stored on a request that never ran (its pipeline end cleans up the others) */
    for (unsigned i = 0; i < h->plan->nmodules; i++)
        if (h->mctx[i] != NULL) {
            IHttpStoredContext *s = h->mctx[i];
            h->mctx[i] = NULL;
            s->lpVtbl->CleanupStoredContext(s);
        }
}

/* The parent's arena goes away: a child nobody released goes with it. */
static void child_cleanup(void *data)
{
    child_free(data);
}

static void unlink_child(iisd_hctx_t *parent, iisd_child_t *rec)
{
    for (iisd_child_t **pp = &parent->children; *pp != NULL; pp = &(*pp)->next)
        if (*pp == rec) {
            *pp = rec->next;
            return;
        }
}

void iisd_child_release_all(iisd_hctx_t *h)
{
    while (h->children != NULL) {
        iisd_child_t *rec = h->children;
        if (rec->h->children != NULL)
            iisd_child_release_all(rec->h);
        h->children = rec->next;
        child_free(rec);
    }
}

static bool is_precondition(int id)
{
    return id == HttpHeaderRange || id == HttpHeaderIfMatch || id == HttpHeaderIfModifiedSince ||
           id == HttpHeaderIfNoneMatch || id == HttpHeaderIfRange || id == HttpHeaderIfUnmodifiedSince;
}

static bool is_dav(const char *name, size_t n)
{
    static const char *const dav[] = {"Depth",      "Destination", "Overwrite", "If",
                                      "Lock-Token", "Timeout",     "Translate"};
    for (unsigned i = 0; i < sizeof(dav) / sizeof(dav[0]); i++)
        if (strlen(dav[i]) == n && strncasecmp(dav[i], name, n) == 0)
            return true;
    return false;
}

/* The request head of the clone: the parent's, without the headers the flags leave out. */
static void copy_head(iisd_arena_t *a, iisd_head_t *hd, const iisd_head_t *from, DWORD flags)
{
    *hd = *from;
    if (!(flags & CLONE_FLAG_HEADERS)) {
        memset(hd->known, 0, sizeof(hd->known));
        hd->known[HttpHeaderHost] = from->known[HttpHeaderHost];
        hd->unknown = NULL;
        hd->unknown_count = hd->unknown_cap = 0;
        return;
    }
    if (flags & CLONE_FLAG_NO_PRECONDITION)
        for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++)
            if (is_precondition(i)) {
                hd->known[i].value = NULL;
                hd->known[i].len = 0;
            }
    /* its own array: SetHeader on the clone changes entries in place */
    hd->unknown = iisd_arena_alloc(a, (from->unknown_count + 1u) * sizeof(iisd_field_t));
    hd->unknown_count = 0;
    hd->unknown_cap = (uint16_t)(from->unknown_count + 1u);
    for (unsigned i = 0; i < from->unknown_count; i++) {
        const iisd_field_t *f = &from->unknown[i];
        if ((flags & CLONE_FLAG_NO_DAV) && is_dav(f->name, f->name_len))
            continue;
        hd->unknown[hd->unknown_count++] = *f;
    }
}

HRESULT iisd_child_clone(iisd_hctx_t *p, DWORD flags, IHttpContext **out)
{
    if (out == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *out = NULL;
    if (p->phase == PH_DONE)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_child_t *rec = iisd_arena_calloc(p->arena, sizeof(*rec));
    iisd_arena_init(&rec->arena);
    iisd_arena_t *a = &rec->arena;
    iisd_hctx_t *h = iisd_hctx_alloc(a, p->plan->nmodules);

    iisd_req_t *rq = iisd_arena_calloc(a, sizeof(*rq));
    copy_head(a, &rq->head, &p->rq->head, flags);
    iisd_resp_init(&rq->resp);
    rq->start_ms = iisd_now_ms();
    rq->is_head = p->rq->is_head;
    rq->body_done = true;

    h->c = p->c;
    h->rq = rq;
    h->arena = a;
    h->plan = p->plan;
    h->conf = p->conf;
    h->sitedef = p->sitedef;
    h->appdef = p->appdef;
    h->cpath = p->cpath;
    h->handlers_section = p->handlers_section;
    h->meta_container = p->meta_container;
    /* the URL, query string and method always come along: SetUrl and SetHttpMethod change them */
    h->url = iisd_arena_strndup(a, p->url, p->url_len);
    h->url_len = p->url_len;
    h->query = iisd_arena_strndup(a, p->query, p->query_len);
    h->query_len = p->query_len;
    if (p->method != NULL)
        h->method = iisd_arena_strndup(a, p->method, strlen(p->method));
    /* the server variables set so far, in the same order */
    iisd_svar_t **tail = &h->svars;
    for (const iisd_svar_t *sv = p->svars; sv != NULL; sv = sv->next) {
        iisd_svar_t *n = iisd_arena_calloc(a, sizeof(*n));
        n->name = iisd_arena_strndup(a, sv->name, strlen(sv->name));
        n->value = sv->value ? iisd_arena_strndup(a, sv->value, strlen(sv->value)) : NULL;
        n->wvalue =
            sv->wvalue ? iisd_arena_memdup(a, sv->wvalue, (wcslen(sv->wvalue) + 1) * sizeof(wchar_t)) : NULL;
        *tail = n;
        tail = &n->next;
    }
    h->parent = p;
    h->depth = (uint8_t)(p->depth < 255 ? p->depth + 1 : 255);
    h->no_entity = !(flags & CLONE_FLAG_ENTITY);
    iisd_hctx_bind(h);

    rec->h = h;
    h->self = rec;
    rec->next = p->children;
    p->children = rec;
    iisd_arena_add_cleanup(p->arena, child_cleanup, rec);
    *out = (IHttpContext *)&h->ctx;
    return S_OK;
}

HRESULT iisd_child_release(iisd_hctx_t *h)
{
    if (h->warmup != NULL)
        return iisd_warmup_release(h); /* a context from IGlobalApplicationPreloadProvider::CreateContext */
    iisd_hctx_t *p = h->parent;
    if (p == NULL || h->self == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* not a clone */
    if (h->children != NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* its own clones go first */
    if (h->executed && h->phase != PH_DONE)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* still running */
    iisd_child_t *rec = h->self;
    unlink_child(p, rec);
    child_free(rec);
    return S_OK;
}

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

/* Moves the child's output into its parent's response (see the top of the file). */
static void merge(iisd_hctx_t *h)
{
    iisd_hctx_t *p = h->parent;
    iisd_resp_t *cr = &h->rq->resp, *pr = &p->rq->resp;
    iisd_arena_t *a = p->arena;
    if (!h->merged_heads) {
        h->merged_heads = true;
        if (!(h->exec_flags & EXECUTE_FLAG_NO_HEADERS) && !cr->suppress_headers && !pr->headers_sent) {
            pr->status = cr->status;
            pr->substatus = cr->substatus;
            pr->reason = cr->reason ? iisd_arena_strndup(a, cr->reason, cr->reason_len) : NULL;
            pr->reason_len = cr->reason_len;
            pr->error_hr = cr->error_hr;
            pr->try_skip_custom_errors = cr->try_skip_custom_errors;
            p->status_module = h->status_module;
            p->status_notification = h->status_notification;
            for (int i = 0; i < IISD_HDR_RESP_KNOWN; i++) {
                /* the parent's framing is the server's to choose */
                if (cr->known[i].value == NULL || i == HttpHeaderContentLength ||
                    i == HttpHeaderTransferEncoding)
                    continue;
                iisd_resp_set_known(pr, a, i, cr->known[i].value, cr->known[i].len, true);
            }
            for (unsigned i = 0; i < cr->unknown_count; i++) {
                const iisd_hfield_t *f = &cr->unknown[i];
                iisd_resp_set_named(pr, a, f->name, f->name_len, f->value, f->value_len, true);
            }
        }
        cr->headers_sent = true; /* they went out through the parent, or never will */
    }
    for (const iisd_chunk_t *ch = cr->first; ch != NULL; ch = ch->next) {
        if (ch->len == 0)
            continue;
        iisd_chunk_t *n = iisd_arena_calloc(a, sizeof(*n));
        *n = *ch;
        n->next = NULL;
        if (ch->type == IISD_CHUNK_MEM) {
            n->data = iisd_arena_memdup(a, ch->data, ch->len);
        } else {
            n->fd = dup(ch->fd);
            if (n->fd < 0) {
                iisd_log(IISD_LOG_WARN, "child request %.*s: cannot keep a file of its response: dup failed",
                         (int)h->url_len, h->url);
                continue;
            }
            iisd_arena_add_cleanup(a, close_fd, (void *)(intptr_t)n->fd);
        }
        iisd_resp_append(pr, n);
    }
    cr->body_sent += cr->body_len;
    iisd_resp_clear_body(cr);
}

int iisd_child_send(iisd_hctx_t *h, bool final)
{
    iisd_resp_t *r = &h->rq->resp;
    bool buffered = (h->exec_flags & EXECUTE_FLAG_BUFFER_RESPONSE) != 0;
    if (buffered && !final)
        return 0; /* a buffered child keeps everything until its end */
    h->send_final = final;
    h->send_headers = !r->headers_sent && !r->suppress_headers && !(h->exec_flags & EXECUTE_FLAG_NO_HEADERS);
    h->send_flags = final ? 0 : HTTP_SEND_RESPONSE_FLAG_MORE_DATA;
    iisd_hctx_notify(h, &h->plan->send, RQ_SEND_RESPONSE, (IHttpEventProvider *)&h->srp);
    if (buffered)
        return 0;
    merge(h);
    if (!final)
        return iisd_hctx_send(h->parent, false) < 0 ? -1 : 0;
    return 0;
}

HRESULT iisd_child_execute(iisd_hctx_t *p, IHttpContext *cctx, DWORD flags, IHttpUser *user,
                           BOOL *pfCompletionExpected)
{
    iisd_child_t *rec = p->children;
    while (rec != NULL && (IHttpContext *)&rec->h->ctx != cctx)
        rec = rec->next;
    if (rec == NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED); /* not cloned from this context */
    iisd_hctx_t *h = rec->h;
    if (h->executed)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED); /* each clone runs once */
    if (h->depth > CHILD_MAX_DEPTH) {
        iisd_log(IISD_LOG_WARN, "child request %.*s refused: more than %d nested child requests",
                 (int)h->url_len, h->url, CHILD_MAX_DEPTH);
        return HRESULT_FROM_WIN32(ERROR_STACK_OVERFLOW);
    }
    h->executed = true;
    h->exec_flags = flags;
    if (flags & EXECUTE_FLAG_SAME_URL) {
        h->url = iisd_arena_strndup(h->arena, p->url, p->url_len);
        h->url_len = p->url_len;
        h->query = iisd_arena_strndup(h->arena, p->query, p->query_len);
        h->query_len = p->query_len;
        h->wurl = NULL;
        h->wphys = NULL;
        h->url_changed = false;
    }
    if (flags & EXECUTE_FLAG_IGNORE_CURRENT_INTERCEPTOR)
        h->skip_handler = p->handler ? p->handler : p->skip_handler;
    if (!(flags & EXECUTE_FLAG_HTTP_CACHE_ELIGIBLE))
        iisd_cache_policy_disable_kernel(h);
    if (user != NULL) {
        user->lpVtbl->ReferenceUser(user);
        h->user = user;
        h->skip_auth = true;
    }
    /* the calling module may have changed its raw response: take that in before merging */
    if (p->raw)
        iisd_raw_sync(p);
    /* the caller can wait without a thread when it is told to and is a client's request */
    h->async_exec = pfCompletionExpected != NULL && iisd_hctx_async_ok(p);
    if (iisd_hctx_resolve(h) == 0) {
        iisd_hctx_run_inline(h);
        /* parked: nothing resumes it before its parent's module has returned RQ_NOTIFICATION_PENDING */
        if (h->phase != PH_DONE && pfCompletionExpected != NULL) {
            *pfCompletionExpected = TRUE;
            p->parked_child = h;
        }
    } else {
        iisd_hctx_send(h, true);
        h->phase = PH_DONE;
    }
    if (p->raw)
        iisd_raw_export(p);
    return S_OK;
}
