/*
 * IHttpTraceContext and GL_TRACE_EVENT (see trace.h and docs/tracing.md).
 *
 * A subscription is what one module asked for with SetTraceConfiguration:
 * a provider (GUID_IIS_ALL_TRACE_PROVIDERS: every provider), a mask of
 * areas (0: every area) and a verbosity (0: every level). An event matches
 * a subscription when its provider, area and level do (levels above
 * TRACE_LEVEL_VERBOSE count as verbose, level 0 always passes). An event is
 * dispatched to the global modules registered for GL_TRACE_EVENT only when
 * it matches at least one subscription, of the request or of the server;
 * each of those modules then asks CheckSubscription whether it was one of
 * the subscribers.
 */
#include "pipeline/trace.h"
#include "core/arena.h"
#include "net/loop.h"
#include "pipeline/engine.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define GL_TRACE_BIT 13 /* GL_TRACE_EVENT */

typedef struct sub {
    HTTP_MODULE_ID module;
    GUID provider;
    DWORD areas, verbosity;
} sub_t;

typedef struct iisd_trace {
    IHttpTraceContext iface; /* first */
    iisd_hctx_t *h;          /* NULL: the server's context */
    GUID activity;
    sub_t *subs;
    unsigned n, cap;
    unsigned depth; /* request contexts: > 0 while GL_TRACE_EVENT runs for this request */
} iisd_trace_t;

unsigned iisd_trace_server_subs;
unsigned iisd_trace_server_www;
static pthread_mutex_t g_srv_mu = PTHREAD_MUTEX_INITIALIZER;
static iisd_trace_t g_srv;
static bool g_srv_activity_made;
static __thread unsigned t_srv_depth; /* the server context's dispatch, per thread */

/* ---- matching ----------------------------------------------------------- */

static bool guid_eq(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}

static bool guid_is_all(const GUID *g)
{
    return guid_eq(g, &GUID_IIS_ALL_TRACE_PROVIDERS);
}

static bool sub_matches(const sub_t *s, const GUID *provider, DWORD area, DWORD level)
{
    if (!guid_is_all(&s->provider) && (provider == NULL || !guid_eq(&s->provider, provider)))
        return false;
    if (area != 0 && s->areas != 0 && (s->areas & area) == 0)
        return false;
    DWORD lv = level > TRACE_LEVEL_VERBOSE ? TRACE_LEVEL_VERBOSE : level;
    return lv == 0 || s->verbosity == 0 || lv <= s->verbosity;
}

/* Does a subscription of `module` (NULL: anyone's) in t match? */
static bool list_matches(const iisd_trace_t *t, HTTP_MODULE_ID module, const GUID *provider, DWORD area,
                         DWORD level)
{
    for (unsigned i = 0; i < t->n; i++)
        if ((module == NULL || t->subs[i].module == module) &&
            sub_matches(&t->subs[i], provider, area, level))
            return true;
    return false;
}

static bool server_matches(HTTP_MODULE_ID module, const GUID *provider, DWORD area, DWORD level)
{
    if (__atomic_load_n(&iisd_trace_server_subs, __ATOMIC_RELAXED) == 0)
        return false;
    pthread_mutex_lock(&g_srv_mu);
    bool r = list_matches(&g_srv, module, provider, area, level);
    pthread_mutex_unlock(&g_srv_mu);
    return r;
}

static bool any_matches(const iisd_trace_t *t, HTTP_MODULE_ID module, const GUID *provider, DWORD area,
                        DWORD level)
{
    if (t != &g_srv && list_matches(t, module, provider, area, level))
        return true;
    return server_matches(module, provider, area, level);
}

static bool listeners(void)
{
    const iisd_plan_t *g = iisd_pipeline.global;
    return g != NULL && g->gl[GL_TRACE_BIT].n > 0;
}

/* ---- GL_TRACE_EVENT --------------------------------------------------------- */

typedef struct {
    IGlobalTraceEventProvider iface;
    HTTP_TRACE_EVENT *ev;
    iisd_trace_t *t;
} tev_t;

static VOID tev_SetErrorStatus(IGlobalTraceEventProvider *This, HRESULT hrError) {}

static HRESULT tev_GetTraceEvent(IGlobalTraceEventProvider *This, HTTP_TRACE_EVENT **ppTraceEvent)
{
    if (ppTraceEvent == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *ppTraceEvent = ((tev_t *)This)->ev;
    return S_OK;
}

static BOOL tev_CheckSubscription(IGlobalTraceEventProvider *This, HTTP_MODULE_ID ModuleId)
{
    tev_t *p = (tev_t *)This;
    return any_matches(p->t, ModuleId, p->ev->pProviderGuid, p->ev->dwArea, p->ev->dwVerbosity);
}

static HRESULT tev_GetCurrentHttpRequestContext(IGlobalTraceEventProvider *This, IHttpContext **ppHttpContext)
{
    tev_t *p = (tev_t *)This;
    if (ppHttpContext == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *ppHttpContext = p->t->h ? (IHttpContext *)&p->t->h->ctx : NULL;
    return p->t->h ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalTraceEventProviderVtbl v;
} tev_vtbl = {NULL,
              NULL,
              {.SetErrorStatus = tev_SetErrorStatus,
               .GetTraceEvent = tev_GetTraceEvent,
               .CheckSubscription = tev_CheckSubscription,
               .GetCurrentHttpRequestContext = tev_GetCurrentHttpRequestContext}};

/* Events raised while GL_TRACE_EVENT runs for the same context are dropped (no recursion). */
static void dispatch(iisd_trace_t *t, HTTP_TRACE_EVENT *ev)
{
    unsigned *depth = t == &g_srv ? &t_srv_depth : &t->depth;
    if (*depth > 0 || !listeners() || !any_matches(t, NULL, ev->pProviderGuid, ev->dwArea, ev->dwVerbosity))
        return;
    tev_t p = {.iface.lpVtbl = &tev_vtbl.v, .ev = ev, .t = t};
    (*depth)++;
    iisd_global_notify(GL_TRACE_BIT, (IHttpEventProvider *)&p.iface);
    (*depth)--;
}

/* ---- IHttpTraceContext ----------------------------------------------------- */

#define T(This) ((iisd_trace_t *)(This))

static HRESULT tc_GetTraceConfiguration(IHttpTraceContext *This, HTTP_TRACE_CONFIGURATION *cfg)
{
    iisd_trace_t *t = T(This);
    if (cfg == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    cfg->dwAreas = 0;
    cfg->dwVerbosity = 0;
    cfg->fProviderEnabled = FALSE;
    if (cfg->pProviderGuid == NULL)
        return S_OK;
    bool all = guid_is_all(cfg->pProviderGuid);
    bool locked = t == &g_srv || __atomic_load_n(&iisd_trace_server_subs, __ATOMIC_RELAXED) != 0;
    if (locked)
        pthread_mutex_lock(&g_srv_mu);
    for (int pass = 0; pass < 2; pass++) {
        const iisd_trace_t *l = pass == 0 ? t : &g_srv;
        if ((pass == 0 && t == &g_srv) || (pass == 1 && !locked))
            continue;
        for (unsigned i = 0; i < l->n; i++) {
            const sub_t *s = &l->subs[i];
            if (!all && !guid_is_all(&s->provider) && !guid_eq(&s->provider, cfg->pProviderGuid))
                continue;
            cfg->fProviderEnabled = TRUE;
            cfg->dwAreas |= s->areas == 0 ? IISD_HTTP_TRACE_ALL_AREAS : s->areas;
            DWORD v = s->verbosity == 0 ? TRACE_LEVEL_VERBOSE : s->verbosity;
            if (v > cfg->dwVerbosity)
                cfg->dwVerbosity = v;
        }
    }
    if (locked)
        pthread_mutex_unlock(&g_srv_mu);
    return S_OK;
}

/* Room for one more subscription: request memory for a request, the heap for the server. */
static bool grow(iisd_trace_t *t)
{
    if (t->n < t->cap)
        return true;
    unsigned cap = t->cap ? t->cap * 2 : 4;
    sub_t *v = t->h ? iisd_arena_alloc(t->h->arena, cap * sizeof(*v)) : realloc(t->subs, cap * sizeof(*v));
    if (v == NULL)
        return false;
    if (t->h && t->n)
        memcpy(v, t->subs, t->n * sizeof(*v));
    t->subs = v;
    t->cap = cap;
    return true;
}

static HRESULT tc_SetTraceConfiguration(IHttpTraceContext *This, HTTP_MODULE_ID moduleId,
                                        HTTP_TRACE_CONFIGURATION *cfgs, DWORD n)
{
    iisd_trace_t *t = T(This);
    if (cfgs == NULL || moduleId == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    for (DWORD i = 0; i < n; i++)
        if (cfgs[i].pProviderGuid == NULL)
            return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (t == &g_srv)
        pthread_mutex_lock(&g_srv_mu);
    HRESULT hr = S_OK;
    for (DWORD i = 0; i < n; i++) {
        const HTTP_TRACE_CONFIGURATION *c = &cfgs[i];
        unsigned k = 0;
        while (k < t->n &&
               !(t->subs[k].module == moduleId && guid_eq(&t->subs[k].provider, c->pProviderGuid)))
            k++;
        if (!c->fProviderEnabled) {
            if (k == t->n) {
                hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
                continue;
            }
            t->subs[k] = t->subs[--t->n];
            continue;
        }
        if (k == t->n) {
            if (!grow(t)) {
                hr = E_OUTOFMEMORY;
                break;
            }
            t->n++;
        }
        t->subs[k] = (sub_t){.module = moduleId,
                             .provider = *c->pProviderGuid,
                             .areas = c->dwAreas,
                             .verbosity = c->dwVerbosity};
    }
    if (t == &g_srv) {
        unsigned www = 0;
        for (unsigned i = 0; i < t->n; i++)
            www |= guid_is_all(&t->subs[i].provider) ||
                   guid_eq(&t->subs[i].provider, &GUID_IIS_WWW_SERVER_TRACE_PROVIDER);
        __atomic_store_n(&iisd_trace_server_www, www, __ATOMIC_RELAXED);
        __atomic_store_n(&iisd_trace_server_subs, t->n, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&g_srv_mu);
    }
    return hr;
}

static HRESULT tc_RaiseTraceEvent(IHttpTraceContext *This, HTTP_TRACE_EVENT *ev)
{
    if (ev == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    dispatch(T(This), ev);
    return S_OK;
}

static void new_activity(GUID *g)
{
    static __thread uint64_t s[2];
    if (s[0] == 0 && s[1] == 0) {
        if (getrandom(s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            s[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&ts;
            s[1] = (uint64_t)ts.tv_sec ^ 0xD1B54A32D192ED03ull;
        }
        s[0] |= 1;
    }
    uint8_t b[16];
    for (int half = 0; half < 2; half++) { /* xorshift128+ */
        uint64_t x = s[0], y = s[1];
        s[0] = y;
        x ^= x << 23;
        s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
        uint64_t r = s[1] + y;
        memcpy(b + 8 * half, &r, 8);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    memcpy(g, b, sizeof(*g));
}

static LPCGUID tc_GetTraceActivityId(IHttpTraceContext *This)
{
    iisd_trace_t *t = T(This);
    if (t == &g_srv) {
        pthread_mutex_lock(&g_srv_mu);
        if (!g_srv_activity_made)
            new_activity(&g_srv.activity);
        g_srv_activity_made = true;
        pthread_mutex_unlock(&g_srv_mu);
    }
    return &t->activity;
}

static DWORD elapsed_ms(const iisd_trace_t *t)
{
    return t->h ? (DWORD)(iisd_now_ms() - t->h->rq->start_ms) : 0;
}

#define ITEM(name, type, ptr, size)                                                                          \
    {                                                                                                        \
        (name), (type), (PBYTE)(ptr), (DWORD)(size), NULL                                                    \
    }

static void raise_www(iisd_trace_t *t, DWORD id, LPCWSTR name, DWORD area, DWORD level,
                      HTTP_TRACE_EVENT_ITEM *items, DWORD n)
{
    HTTP_TRACE_EVENT ev = {.pProviderGuid = &GUID_IIS_WWW_SERVER_TRACE_PROVIDER,
                           .dwArea = area,
                           .dwEvent = id,
                           .pszEventName = name,
                           .dwEventVersion = 1,
                           .dwVerbosity = level,
                           .pActivityGuid = &t->activity,
                           .dwTimeStamp = elapsed_ms(t),
                           .dwFlags = HTTP_TRACE_EVENT_FLAG_STATIC_DESCRIPTIVE_FIELDS,
                           .cEventItems = n,
                           .pEventItems = items};
    dispatch(t, &ev);
}

static const wchar_t *current_module(const iisd_trace_t *t)
{
    return t->h && t->h->cur_module ? t->h->cur_module->wname : L"";
}

static HRESULT tc_QuickTrace(IHttpTraceContext *This, PCWSTR pszData1, PCWSTR pszData2, HRESULT hrLastError,
                             UCHAR Level)
{
    iisd_trace_t *t = T(This);
    const wchar_t *mod = current_module(t);
    const wchar_t *d1 = pszData1 ? pszData1 : L"", *d2 = pszData2 ? pszData2 : L"";
    ULONG err = (ULONG)hrLastError;
    HTTP_TRACE_EVENT_ITEM items[] = {
        ITEM(L"ModuleName", HTTP_TRACE_TYPE_LPCWSTR, mod, (wcslen(mod) + 1) * sizeof(wchar_t)),
        ITEM(L"Data1", HTTP_TRACE_TYPE_LPCWSTR, d1, (wcslen(d1) + 1) * sizeof(wchar_t)),
        ITEM(L"Data2", HTTP_TRACE_TYPE_LPCWSTR, d2, (wcslen(d2) + 1) * sizeof(wchar_t)),
        ITEM(L"ErrorCode", HTTP_TRACE_TYPE_ULONG, &err, sizeof(err)),
    };
    raise_www(t, IISD_TRACE_MODULE_QUICK_TRACE, L"MODULE_QUICK_TRACE", IISD_TRACE_AREA_MODULE, Level, items,
              4);
    return S_OK;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpTraceContextVtbl v;
} tc_vtbl = {NULL,
             NULL,
             {.GetTraceConfiguration = tc_GetTraceConfiguration,
              .SetTraceConfiguration = tc_SetTraceConfiguration,
              .RaiseTraceEvent = tc_RaiseTraceEvent,
              .GetTraceActivityId = tc_GetTraceActivityId,
              .QuickTrace = tc_QuickTrace}};

IHttpTraceContext *iisd_trace_context(iisd_hctx_t *h)
{
    if (h->trace == NULL) {
        iisd_trace_t *t = iisd_arena_alloc(h->arena, sizeof(*t));
        memset(t, 0, sizeof(*t));
        t->iface.lpVtbl = &tc_vtbl.v;
        t->h = h;
        new_activity(&t->activity);
        h->trace = t;
    }
    return &h->trace->iface;
}

IHttpTraceContext *iisd_trace_server_context(void)
{
    g_srv.iface.lpVtbl = &tc_vtbl.v;
    return &g_srv.iface;
}

/* ---- the engine's events ----------------------------------------------------- */

bool iisd_trace_wanted_slow(iisd_hctx_t *h, DWORD area, DWORD level)
{
    iisd_trace_t *t = h->trace;
    if ((t != NULL && t->depth > 0) || !listeners())
        return false;
    if (t != NULL && list_matches(t, NULL, &GUID_IIS_WWW_SERVER_TRACE_PROVIDER, area, level))
        return true;
    if (__atomic_load_n(&iisd_trace_server_www, __ATOMIC_RELAXED) == 0 ||
        !server_matches(NULL, &GUID_IIS_WWW_SERVER_TRACE_PROVIDER, area, level))
        return false;
    iisd_trace_context(h);
    return true;
}

void iisd_trace_module_start(iisd_hctx_t *h, const wchar_t *module, DWORD notification, bool post)
{
    iisd_trace_t *t = h->trace;
    ULONG n = notification;
    BOOL p = post;
    HTTP_TRACE_EVENT_ITEM items[] = {
        ITEM(L"ModuleName", HTTP_TRACE_TYPE_LPCWSTR, module, (wcslen(module) + 1) * sizeof(wchar_t)),
        ITEM(L"Notification", HTTP_TRACE_TYPE_ULONG, &n, sizeof(n)),
        ITEM(L"fIsPostNotification", HTTP_TRACE_TYPE_BOOL, &p, sizeof(p)),
    };
    raise_www(t, IISD_TRACE_NOTIFY_MODULE_START, L"NOTIFY_MODULE_START",
              IISD_TRACE_AREA_REQUEST_NOTIFICATIONS, TRACE_LEVEL_VERBOSE, items, 3);
}

void iisd_trace_module_end(iisd_hctx_t *h, const wchar_t *module, DWORD notification, bool post,
                           REQUEST_NOTIFICATION_STATUS status)
{
    iisd_trace_t *t = h->trace;
    ULONG n = notification, st = (ULONG)status;
    BOOL p = post;
    HTTP_TRACE_EVENT_ITEM items[] = {
        ITEM(L"ModuleName", HTTP_TRACE_TYPE_LPCWSTR, module, (wcslen(module) + 1) * sizeof(wchar_t)),
        ITEM(L"Notification", HTTP_TRACE_TYPE_ULONG, &n, sizeof(n)),
        ITEM(L"fIsPostNotificationEvent", HTTP_TRACE_TYPE_BOOL, &p, sizeof(p)),
        ITEM(L"NotificationStatus", HTTP_TRACE_TYPE_ULONG, &st, sizeof(st)),
    };
    raise_www(t, IISD_TRACE_NOTIFY_MODULE_END, L"NOTIFY_MODULE_END", IISD_TRACE_AREA_REQUEST_NOTIFICATIONS,
              TRACE_LEVEL_VERBOSE, items, 4);
}

void iisd_trace_set_status(iisd_hctx_t *h, USHORT status, USHORT sub, PCSTR reason, HRESULT hr)
{
    bool error = status >= 400;
    DWORD level = error ? TRACE_LEVEL_WARNING : TRACE_LEVEL_VERBOSE;
    if (!iisd_trace_wanted(h, IISD_TRACE_AREA_MODULE, level))
        return;
    iisd_trace_t *t = h->trace;
    const wchar_t *mod = current_module(t);
    ULONG n = h->cur_notification, code = status, err = (ULONG)hr;
    USHORT s = sub;
    const char *why = reason ? reason : "";
    HTTP_TRACE_EVENT_ITEM items[] = {
        ITEM(L"ModuleName", HTTP_TRACE_TYPE_LPCWSTR, mod, (wcslen(mod) + 1) * sizeof(wchar_t)),
        ITEM(L"Notification", HTTP_TRACE_TYPE_ULONG, &n, sizeof(n)),
        ITEM(L"HttpStatus", HTTP_TRACE_TYPE_ULONG, &code, sizeof(code)),
        ITEM(L"HttpReason", HTTP_TRACE_TYPE_LPCSTR, why, strlen(why) + 1),
        ITEM(L"HttpSubStatus", HTTP_TRACE_TYPE_USHORT, &s, sizeof(s)),
        ITEM(L"ErrorCode", HTTP_TRACE_TYPE_ULONG, &err, sizeof(err)),
    };
    if (error)
        raise_www(t, IISD_TRACE_SET_RESPONSE_ERROR_STATUS, L"MODULE_SET_RESPONSE_ERROR_STATUS",
                  IISD_TRACE_AREA_MODULE, level, items, 6);
    else
        raise_www(t, IISD_TRACE_SET_RESPONSE_SUCCESS_STATUS, L"MODULE_SET_RESPONSE_SUCCESS_STATUS",
                  IISD_TRACE_AREA_MODULE, level, items, 6);
}
