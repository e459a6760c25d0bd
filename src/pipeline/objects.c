/*
 * Per-request server objects made on first use: IHttpUrlInfo (GetUrlInfo), the requested file's
 * IHttpFileInfo (GetFileInfo), INamedContextContainer (GetNamedContextContainer), the connection's
 * IHttpConnectionModuleContextContainer, and the change lists of GetServerVarChanges and
 * IHttpRequest2/IHttpResponse4::GetHeaderChanges. A request that asks for none of them pays nothing.
 */
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/container.h"
#include "pipeline/filecache.h"
#include "pipeline/hctx.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#define VTBL(type, name)                                                                                     \
    static const struct {                                                                                    \
        void *offset_to_top, *rtti;                                                                          \
        type v;                                                                                              \
    } name

/* ---- header change records ---------------------------------------------------------------- */

/* What GetHeaderChanges saw last: pointers identify values (a changed header is a new copy). */
typedef struct {
    DWORD change;
    unsigned nknown, nunk;
    const char **known;
    const char **unk_names, **unk_values;
} hrec_t;

typedef struct named_ctx {
    struct named_ctx *next;
    wchar_t *name;
    IHttpStoredContext *ctx;
} named_ctx_t;

struct iisd_reqobjs {
    INamedContextContainer named;
    named_ctx_t *named_list;
    IHttpUrlInfo *url_info;
    IHttpFileInfo *file_info;
    const wchar_t *file_path; /* the physical path file_info was looked up for */
    bool file_tried;
    hrec_t req_hdrs, resp_hdrs;
};

static void objs_cleanup(void *data);

static struct iisd_reqobjs *objs(iisd_hctx_t *h)
{
    if (h->objs == NULL) {
        h->objs = iisd_arena_calloc(h->arena, sizeof(*h->objs));
        iisd_arena_add_cleanup(h->arena, objs_cleanup, h->objs);
    }
    return h->objs;
}

/* ---- INamedContextContainer: per request, cleaned up when the request ends -------------------- */

#define NAMED(This) ((struct iisd_reqobjs *)(This))

static IHttpStoredContext *named_GetNamedContext(INamedContextContainer *This, LPCWSTR name)
{
    if (name == NULL)
        return NULL;
    for (named_ctx_t *n = NAMED(This)->named_list; n != NULL; n = n->next)
        if (wcscmp(n->name, name) == 0)
            return n->ctx;
    return NULL;
}

/* as SetModuleContext: one context per name; ERROR_ALREADY_ASSIGNED when the name is taken */
static HRESULT named_SetNamedContext(INamedContextContainer *This, IHttpStoredContext *ctx, LPCWSTR name)
{
    struct iisd_reqobjs *o = NAMED(This);
    if (ctx == NULL || name == NULL || *name == 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (named_GetNamedContext(This, name) != NULL)
        return HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED);
    named_ctx_t *n = malloc(sizeof(*n) + (wcslen(name) + 1) * sizeof(wchar_t));
    if (n == NULL)
        return E_OUTOFMEMORY;
    n->name = (wchar_t *)(n + 1);
    wcscpy(n->name, name);
    n->ctx = ctx;
    n->next = o->named_list;
    o->named_list = n;
    return S_OK;
}

VTBL(INamedContextContainerVtbl, named_vtbl) = {
    NULL, NULL, {.GetNamedContext = named_GetNamedContext, .SetNamedContext = named_SetNamedContext}};

INamedContextContainer *iisd_named_contexts(iisd_hctx_t *h)
{
    struct iisd_reqobjs *o = objs(h);
    o->named.lpVtbl = &named_vtbl.v;
    return &o->named;
}

/* ---- IHttpUrlInfo: one per site and URL, shared by the requests for it ---------------------- */

/*
 * IsFrequentlyHit follows IIS's serverRuntime defaults: a URL is frequently hit once it has been
 * requested frequentHitThreshold (2) times within frequentHitTimePeriod (10 s). A request counts
 * when it asks for the URL's IHttpUrlInfo, so requests that never do cost nothing.
 */
#define URLINFO_HIT_THRESHOLD 2
#define URLINFO_HIT_PERIOD_MS 10000
#define URLINFO_BUCKETS       256
#define URLINFO_MAX           4096
#define URLINFO_IDLE_MS       60000

typedef struct urlinfo {
    IHttpUrlInfo iface; /* first */
    struct urlinfo *next;
    unsigned refs; /* requests holding it (under ui_lock) */
    bool cached;   /* in the table (else private to one request) */
    DWORD site;
    uint64_t hash;
    uint64_t window_start, last_use;
    unsigned hits; /* in the current window */
    bool frequent;
    iisd_container_t container;
    char url[];
} urlinfo_t;

static pthread_mutex_t ui_lock = PTHREAD_MUTEX_INITIALIZER;
static urlinfo_t *ui_table[URLINFO_BUCKETS];
static unsigned ui_count;

static IHttpModuleContextContainer *ui_GetModuleContextContainer(IHttpUrlInfo *This)
{
    return iisd_container_iface(&((urlinfo_t *)This)->container);
}

static BOOL ui_IsFrequentlyHit(IHttpUrlInfo *This)
{
    urlinfo_t *u = (urlinfo_t *)This;
    pthread_mutex_lock(&ui_lock);
    bool f = u->frequent;
    pthread_mutex_unlock(&ui_lock);
    return f;
}

VTBL(IHttpUrlInfoVtbl, ui_vtbl) = {
    NULL,
    NULL,
    {.GetModuleContextContainer = ui_GetModuleContextContainer, .IsFrequentlyHit = ui_IsFrequentlyHit}};

static void ui_free(urlinfo_t *u)
{
    iisd_container_destroy(&u->container);
    free(u);
}

static uint64_t ui_hash(DWORD site, const char *url, size_t n)
{
    uint64_t x = 1469598103934665603ull ^ site;
    for (size_t i = 0; i < n; i++)
        x = (x ^ (unsigned char)url[i]) * 1099511628211ull;
    return x;
}

/* Drops unused entries idle for a minute (under ui_lock); returns them as a list to free. */
static urlinfo_t *ui_evict(uint64_t now)
{
    urlinfo_t *gone = NULL;
    for (unsigned b = 0; b < URLINFO_BUCKETS; b++)
        for (urlinfo_t **pp = &ui_table[b]; *pp != NULL;) {
            urlinfo_t *u = *pp;
            if (u->refs == 0 && now - u->last_use > URLINFO_IDLE_MS) {
                *pp = u->next;
                u->next = gone;
                gone = u;
                ui_count--;
            } else {
                pp = &u->next;
            }
        }
    return gone;
}

static void ui_release(urlinfo_t *u)
{
    pthread_mutex_lock(&ui_lock);
    bool drop = --u->refs == 0 && !u->cached;
    pthread_mutex_unlock(&ui_lock);
    if (drop)
        ui_free(u);
}

static urlinfo_t *ui_acquire(DWORD site, const char *url, size_t n)
{
    uint64_t now = iisd_now_ms(), hash = ui_hash(site, url, n);
    urlinfo_t *gone = NULL, *u;
    pthread_mutex_lock(&ui_lock);
    for (u = ui_table[hash % URLINFO_BUCKETS]; u != NULL; u = u->next)
        if (u->hash == hash && u->site == site && strlen(u->url) == n && memcmp(u->url, url, n) == 0)
            break;
    if (u == NULL) {
        if (ui_count >= URLINFO_MAX)
            gone = ui_evict(now);
        u = iisd_xcalloc(1, sizeof(*u) + n + 1);
        u->iface.lpVtbl = &ui_vtbl.v;
        iisd_container_init(&u->container);
        u->site = site;
        u->hash = hash;
        memcpy(u->url, url, n);
        u->window_start = now;
        if (ui_count < URLINFO_MAX) {
            u->cached = true;
            u->next = ui_table[hash % URLINFO_BUCKETS];
            ui_table[hash % URLINFO_BUCKETS] = u;
            ui_count++;
        }
    }
    u->refs++;
    u->last_use = now;
    if (now - u->window_start > URLINFO_HIT_PERIOD_MS) {
        u->window_start = now;
        u->hits = 0;
    }
    if (++u->hits >= URLINFO_HIT_THRESHOLD)
        u->frequent = true;
    pthread_mutex_unlock(&ui_lock);
    while (gone != NULL) {
        urlinfo_t *next = gone->next;
        ui_free(gone);
        gone = next;
    }
    return u;
}

IHttpUrlInfo *iisd_url_info(iisd_hctx_t *h)
{
    struct iisd_reqobjs *o = objs(h);
    if (o->url_info == NULL)
        o->url_info = &ui_acquire(h->sitedef->id, h->url, h->url_len)->iface;
    return o->url_info;
}

/* ---- the requested file ----------------------------------------------------------------- */

/*
 * The open-file cache's entry for the request's physical path; NULL when it is no file or folder.
 * Looked up once per physical path (the handler's access check, then the handler, ask for it): a
 * URL changed since maps to a new path (a new string), which is looked up again.
 */
IHttpFileInfo *iisd_ctx_file_info(iisd_hctx_t *h)
{
    struct iisd_reqobjs *o = objs(h);
    size_t n;
    const wchar_t *p = iisd_hctx_physical_path(h, &n);
    if (!o->file_tried || o->file_path != p) {
        if (o->file_info != NULL)
            o->file_info->lpVtbl->DereferenceCacheData(o->file_info);
        o->file_info = NULL;
        o->file_tried = true;
        o->file_path = p;
        IHttpFileInfo *fi = NULL;
        if (p != NULL && n > 0 && SUCCEEDED(iisd_filecache_get(p, TRUE, &fi)))
            o->file_info = fi;
    }
    return o->file_info;
}

static void objs_cleanup(void *data)
{
    struct iisd_reqobjs *o = data;
    while (o->named_list != NULL) { /* the last one set first */
        named_ctx_t *n = o->named_list;
        o->named_list = n->next;
        n->ctx->lpVtbl->CleanupStoredContext(n->ctx);
        free(n);
    }
    if (o->url_info != NULL)
        ui_release((urlinfo_t *)o->url_info);
    if (o->file_info != NULL)
        o->file_info->lpVtbl->DereferenceCacheData(o->file_info);
}

/* ---- change lists ------------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* A view of a header set: known values by id, unknown ones by name. */
typedef struct {
    unsigned nknown;
    const char **known;
    unsigned nunk;
    const char **unk_names, **unk_values;
} hview_t;

/* Has the view changed since the record? Then the record takes it and the change number grows. */
static void hrec_update(iisd_hctx_t *h, hrec_t *rec, const hview_t *v)
{
    bool same = rec->known != NULL && rec->nunk == v->nunk &&
                memcmp(rec->known, v->known, v->nknown * sizeof(char *)) == 0 &&
                memcmp(rec->unk_names, v->unk_names, v->nunk * sizeof(char *)) == 0 &&
                memcmp(rec->unk_values, v->unk_values, v->nunk * sizeof(char *)) == 0;
    if (same)
        return;
    rec->change++;
    rec->nknown = v->nknown;
    rec->nunk = v->nunk;
    rec->known = iisd_arena_memdup(h->arena, v->known, v->nknown * sizeof(char *));
    rec->unk_names = iisd_arena_memdup(h->arena, v->unk_names, (v->nunk + 1) * sizeof(char *));
    rec->unk_values = iisd_arena_memdup(h->arena, v->unk_values, (v->nunk + 1) * sizeof(char *));
}

/*
 * GetHeaderChanges: the caller's snapshot (known[] by id, and the unknown arrays it got from the
 * previous call) is compared with the headers now. known[] is updated in place and the ids that
 * differed are listed in diffed[], then (DWORD)-1; the unknown snapshot is replaced by new arrays
 * (request memory) and the indices, in the new arrays, of the unknown headers that are new or
 * changed are listed, then (DWORD)-1. The change number grows each time the headers are seen to
 * have changed; an unchanged number means an empty difference.
 */
static HRESULT header_changes(iisd_hctx_t *h, hrec_t *rec, const hview_t *v, DWORD *pdwNew, PCSTR known[],
                              DWORD *pdwUnknown, PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[],
                              DWORD *pdwDiffedUnknown, DWORD **ppDiffedUnknown)
{
    if (pdwNew == NULL || known == NULL || pdwUnknown == NULL || ppNames == NULL || ppValues == NULL ||
        diffed == NULL || pdwDiffedUnknown == NULL || ppDiffedUnknown == NULL)
        return E_INVALIDARG;
    hrec_update(h, rec, v);
    *pdwNew = rec->change;
    unsigned k = 0;
    for (unsigned i = 0; i < v->nknown; i++)
        if (!str_eq(known[i], v->known[i])) {
            known[i] = v->known[i];
            diffed[k++] = i;
        }
    diffed[k] = (DWORD)-1;
    DWORD old_n = *pdwUnknown;
    PCSTR *old_names = *ppNames, *old_values = *ppValues;
    PCSTR *names = iisd_arena_alloc(h->arena, (v->nunk + 1) * sizeof(PCSTR));
    PCSTR *values = iisd_arena_alloc(h->arena, (v->nunk + 1) * sizeof(PCSTR));
    DWORD *idx = iisd_arena_alloc(h->arena, (v->nunk + 1) * sizeof(DWORD));
    unsigned d = 0;
    for (unsigned j = 0; j < v->nunk; j++) {
        names[j] = v->unk_names[j];
        values[j] = v->unk_values[j];
        bool found = false;
        for (DWORD o = 0; o < old_n && old_names != NULL && old_values != NULL; o++)
            if (old_names[o] != NULL && strcasecmp(old_names[o], names[j]) == 0) {
                found = str_eq(old_values[o], values[j]);
                break;
            }
        if (!found)
            idx[d++] = j;
    }
    names[v->nunk] = values[v->nunk] = NULL;
    idx[d] = (DWORD)-1;
    *pdwUnknown = v->nunk;
    *ppNames = names;
    *ppValues = values;
    *pdwDiffedUnknown = d;
    *ppDiffedUnknown = idx;
    return S_OK;
}

HRESULT iisd_req_header_changes(iisd_hctx_t *h, DWORD *pdwNew, PCSTR known[], DWORD *pdwUnknown,
                                PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[], DWORD *pdwDiffedUnknown,
                                DWORD **ppDiffedUnknown)
{
    const iisd_head_t *hd = &h->rq->head;
    const char *kv[IISD_HDR_REQ_KNOWN];
    unsigned nu = hd->unknown_count;
    const char **un = iisd_arena_alloc(h->arena, (nu + 1) * sizeof(char *));
    const char **uv = iisd_arena_alloc(h->arena, (nu + 1) * sizeof(char *));
    for (unsigned i = 0; i < IISD_HDR_REQ_KNOWN; i++)
        kv[i] = hd->known[i].value;
    for (unsigned j = 0; j < nu; j++) {
        un[j] = hd->unknown[j].name;
        uv[j] = hd->unknown[j].value;
    }
    hview_t v = {IISD_HDR_REQ_KNOWN, kv, nu, un, uv};
    return header_changes(h, &objs(h)->req_hdrs, &v, pdwNew, known, pdwUnknown, ppNames, ppValues, diffed,
                          pdwDiffedUnknown, ppDiffedUnknown);
}

HRESULT iisd_resp_header_changes(iisd_hctx_t *h, DWORD *pdwNew, PCSTR known[], DWORD *pdwUnknown,
                                 PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[], DWORD *pdwDiffedUnknown,
                                 DWORD **ppDiffedUnknown)
{
    const iisd_resp_t *r = &h->rq->resp;
    const char *kv[IISD_HDR_RESP_KNOWN];
    unsigned nu = r->unknown_count;
    const char **un = iisd_arena_alloc(h->arena, (nu + 1) * sizeof(char *));
    const char **uv = iisd_arena_alloc(h->arena, (nu + 1) * sizeof(char *));
    for (unsigned i = 0; i < IISD_HDR_RESP_KNOWN; i++)
        kv[i] = r->known[i].value;
    for (unsigned j = 0; j < nu; j++) {
        un[j] = r->unknown[j].name;
        uv[j] = r->unknown[j].value;
    }
    hview_t v = {IISD_HDR_RESP_KNOWN, kv, nu, un, uv};
    return header_changes(h, &objs(h)->resp_hdrs, &v, pdwNew, known, pdwUnknown, ppNames, ppValues, diffed,
                          pdwDiffedUnknown, ppDiffedUnknown);
}

/*
 * GetServerVarChanges: the variables set with SetServerVariable (or inherited), against the
 * caller's snapshot. The snapshot arrays are replaced by new ones (request memory) listing every
 * such variable and its value now; the indices (in the new arrays) of those that are new or whose
 * value differs are listed, then (DWORD)-1. The change number counts SetServerVariable calls, so
 * an unchanged number means an empty difference.
 */
HRESULT iisd_svar_changes(iisd_hctx_t *h, DWORD *pdwNew, DWORD *pdwSnap, PCSTR **ppNames, PCWSTR **ppValues,
                          DWORD *pdwDiffed, DWORD **ppIdx)
{
    if (pdwNew == NULL || pdwSnap == NULL || ppNames == NULL || ppValues == NULL || pdwDiffed == NULL ||
        ppIdx == NULL)
        return E_INVALIDARG;
    *pdwNew = h->svar_change;
    unsigned n = 0;
    for (iisd_svar_t *sv = h->svars; sv != NULL; sv = sv->next)
        n++;
    DWORD old_n = *pdwSnap;
    PCSTR *old_names = *ppNames;
    PCWSTR *old_values = *ppValues;
    PCSTR *names = iisd_arena_alloc(h->arena, (n + 1) * sizeof(PCSTR));
    PCWSTR *values = iisd_arena_alloc(h->arena, (n + 1) * sizeof(PCWSTR));
    DWORD *idx = iisd_arena_alloc(h->arena, (n + 1) * sizeof(DWORD));
    unsigned i = n, d = 0;
    for (iisd_svar_t *sv = h->svars; sv != NULL; sv = sv->next) { /* newest first: fill from the end */
        i--;
        names[i] = sv->name;
        values[i] = sv->wvalue;
    }
    for (unsigned j = 0; j < n; j++) {
        bool same = false;
        for (DWORD o = 0; o < old_n && old_names != NULL && old_values != NULL; o++)
            if (old_names[o] != NULL && strcasecmp(old_names[o], names[j]) == 0) {
                same = old_values[o] != NULL && wcscmp(old_values[o], values[j]) == 0;
                break;
            }
        if (!same)
            idx[d++] = j;
    }
    names[n] = NULL;
    values[n] = NULL;
    idx[d] = (DWORD)-1;
    *pdwSnap = n;
    *ppNames = names;
    *ppValues = values;
    *pdwDiffed = d;
    *ppIdx = idx;
    return S_OK;
}

/* ---- IHttpConnectionModuleContextContainer: lives as long as the connection ------------------- */

typedef struct {
    HTTP_MODULE_ID id;
    IHttpStoredContext *ctx;
    bool conn; /* set with SetConnectionModuleContext: an IHttpConnectionStoredContext */
} cctx_entry_t;

typedef struct {
    IHttpConnectionModuleContextContainer iface; /* first */
    cctx_entry_t *v;
    unsigned n, cap;
} conn_container_t;

static cctx_entry_t *cc_find(conn_container_t *c, HTTP_MODULE_ID id)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->v[i].id == id)
            return &c->v[i];
    return NULL;
}

static HRESULT cc_set(conn_container_t *c, IHttpStoredContext *ctx, HTTP_MODULE_ID id, bool conn)
{
    if (ctx == NULL || id == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (cc_find(c, id) != NULL)
        return HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->v = iisd_xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = (cctx_entry_t){id, ctx, conn};
    return S_OK;
}

static IHttpStoredContext *cc_GetModuleContext(IHttpConnectionModuleContextContainer *This, HTTP_MODULE_ID id)
{
    cctx_entry_t *e = cc_find((conn_container_t *)This, id);
    return e ? e->ctx : NULL;
}

static HRESULT cc_SetModuleContext(IHttpConnectionModuleContextContainer *This, IHttpStoredContext *ctx,
                                   HTTP_MODULE_ID id)
{
    return cc_set((conn_container_t *)This, ctx, id, false);
}

static IHttpConnectionStoredContext *
cc_GetConnectionModuleContext(IHttpConnectionModuleContextContainer *This, HTTP_MODULE_ID id)
{
    cctx_entry_t *e = cc_find((conn_container_t *)This, id);
    return e && e->conn ? (IHttpConnectionStoredContext *)e->ctx : NULL;
}

static HRESULT cc_SetConnectionModuleContext(IHttpConnectionModuleContextContainer *This,
                                             IHttpConnectionStoredContext *ctx, HTTP_MODULE_ID id)
{
    return cc_set((conn_container_t *)This, (IHttpStoredContext *)ctx, id, true);
}

VTBL(IHttpConnectionModuleContextContainerVtbl,
     cc_vtbl) = {NULL,
                 NULL,
                 {.GetModuleContext = cc_GetModuleContext,
                  .SetModuleContext = cc_SetModuleContext,
                  .GetConnectionModuleContext = cc_GetConnectionModuleContext,
                  .SetConnectionModuleContext = cc_SetConnectionModuleContext}};

/*
 * The connection closes: connection contexts hear NotifyDisconnect, then every context is
 * cleaned up, the last one set first.
 */
static void cc_close(iisd_conn_t *conn)
{
    conn_container_t *c = conn->close_data;
    conn->close_fn = NULL;
    conn->close_data = NULL;
    for (unsigned i = 0; i < c->n; i++)
        if (c->v[i].conn) {
            IHttpConnectionStoredContext *s = (IHttpConnectionStoredContext *)c->v[i].ctx;
            s->lpVtbl->NotifyDisconnect(s);
        }
    for (unsigned i = c->n; i-- > 0;)
        c->v[i].ctx->lpVtbl->CleanupStoredContext(c->v[i].ctx);
    free(c->v);
    free(c);
}

IHttpConnectionModuleContextContainer *iisd_conn_contexts(iisd_hctx_t *h)
{
    iisd_conn_t *conn = h->c;
    if (conn->close_fn != cc_close) {
        conn_container_t *c = iisd_xcalloc(1, sizeof(*c));
        c->iface.lpVtbl = &cc_vtbl.v;
        conn->close_data = c;
        conn->close_fn = cc_close;
    }
    return &((conn_container_t *)conn->close_data)->iface;
}
