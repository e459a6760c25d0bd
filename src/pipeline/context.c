/*
 * IHttpContext (1-4), the module context container, IModuleAllocator and
 * the request-notification providers of one request. IHttpRequest and
 * IHttpResponse are in request.c and response.c.
 */
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include "pipeline/perf.h"
#include "pipeline/trace.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#define VTBL(type, name)                                                                                     \
    static const struct {                                                                                    \
        void *offset_to_top, *rtti;                                                                          \
        type v;                                                                                              \
    } name

#define H(This) ((iisd_hctx_t *)(This))

/* ---- IHttpContext ---------------------------------------------------- */

static IHttpSite *ctx_GetSite(IHttpContext4 *This)
{
    return &H(This)->site;
}

static IHttpApplication *ctx_GetApplication(IHttpContext4 *This)
{
    return (IHttpApplication *)&H(This)->app;
}

static IHttpConnection *ctx_GetConnection(IHttpContext4 *This)
{
    return &H(This)->connobj;
}

static IHttpRequest *ctx_GetRequest(IHttpContext4 *This)
{
    return (IHttpRequest *)&H(This)->req;
}

static IHttpResponse *ctx_GetResponse(IHttpContext4 *This)
{
    return (IHttpResponse *)&H(This)->resp;
}

static BOOL ctx_GetResponseHeadersSent(IHttpContext4 *This)
{
    return H(This)->rq->resp.headers_sent;
}

/* NULL until an authentication module sets a user in RQ_AUTHENTICATE_REQUEST */
static IHttpUser *ctx_GetUser(IHttpContext4 *This)
{
    return H(This)->user;
}

static IHttpModuleContextContainer *ctx_GetModuleContextContainer(IHttpContext4 *This)
{
    return &H(This)->mcc;
}

static VOID ctx_IndicateCompletion(IHttpContext4 *This, REQUEST_NOTIFICATION_STATUS status)
{
    iisd_hctx_complete(H(This), status, false, 0, S_OK, true);
}

static HRESULT ctx_PostCompletion(IHttpContext4 *This, DWORD cbBytes)
{
    iisd_hctx_complete(H(This), RQ_NOTIFICATION_CONTINUE, true, cbBytes, S_OK, false);
    return S_OK;
}

static VOID ctx_DisableNotifications(IHttpContext4 *This, DWORD rq, DWORD post)
{
    iisd_hctx_t *h = H(This);
    if (h->cur_module == NULL)
        return;
    h->disabled_rq[h->cur_module->id] |= rq & 0xfffu;
    h->disabled_post[h->cur_module->id] |= post & 0xfffu;
}

static BOOL ctx_GetNextNotification(IHttpContext4 *This, REQUEST_NOTIFICATION_STATUS status,
                                    DWORD *pdwNotification, BOOL *pfIsPostNotification,
                                    CHttpModule **ppModuleInfo, IHttpEventProvider **ppRequestOutput)
{
    /* api-status: partial: always FALSE (notifications are not merged; the pipeline delivers each one) */
    (void)status;
    if (pdwNotification)
        *pdwNotification = 0;
    if (pfIsPostNotification)
        *pfIsPostNotification = FALSE;
    if (ppModuleInfo)
        *ppModuleInfo = NULL;
    if (ppRequestOutput)
        *ppRequestOutput = NULL;
    return FALSE;
}

/* Is another module of the current notification (or a later notification)
   still to run for the current module host? */
static BOOL ctx_GetIsLastNotification(IHttpContext4 *This, REQUEST_NOTIFICATION_STATUS status)
{
    iisd_hctx_t *h = H(This);
    if (h->cur_module == NULL)
        return TRUE;
    unsigned id = h->cur_module->id;
    int stage = h->stage;
    bool post = h->post;
    if (status == RQ_NOTIFICATION_FINISH_REQUEST && stage < IISD_STAGE_LOG) {
        stage = IISD_STAGE_LOG;
        post = false;
    } else if (!post) {
        post = true;
    } else {
        stage++;
    }
    for (; stage < IISD_NSTAGES; stage++, post = false) {
        for (int p = post ? 1 : 0; p <= 1; p++) {
            const iisd_list_t *l = p ? &h->plan->post[stage] : &h->plan->ev[stage];
            uint32_t dis = p ? h->disabled_post[id] : h->disabled_rq[id];
            if (dis & (1u << stage))
                continue;
            for (unsigned i = 0; i < l->n; i++)
                if (l->v[i] == id)
                    return FALSE;
        }
    }
    return TRUE;
}

/*
 * Runs a child request on the calling thread. When one of its modules returns RQ_NOTIFICATION_PENDING,
 * and the caller can wait asynchronously (it passed pfCompletionExpected, and it is a client's request
 * in one of its deterministic notifications), ExecuteRequest returns at once with *pfCompletionExpected
 * TRUE; the caller returns RQ_NOTIFICATION_PENDING and gets OnAsyncCompletion once the child has ended.
 * Otherwise the calling thread waits for the child's completion.
 */
static HRESULT ctx_ExecuteRequest(IHttpContext4 *This, BOOL fAsync, IHttpContext *pHttpContext,
                                  DWORD dwExecuteFlags, IHttpUser *pHttpUser, BOOL *pfCompletionExpected)
{
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    if (!fAsync || pHttpContext == NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    return iisd_child_execute(H(This), pHttpContext, dwExecuteFlags, pHttpUser, pfCompletionExpected);
}

static DWORD ctx_GetExecuteFlags(IHttpContext4 *This)
{
    return H(This)->exec_flags;
}

/* Looks a server variable up for both GetServerVariable overloads. */
static HRESULT server_variable(iisd_hctx_t *h, PCSTR name, const char **value, size_t *len, DWORD *pcch)
{
    if (name == NULL)
        return E_INVALIDARG;
    *value = iisd_hctx_server_variable(h, name, len);
    if (*value == NULL) {
        if (pcch)
            *pcch = 0;
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    }
    return S_OK;
}

static HRESULT ctx_GetServerVariableW(IHttpContext4 *This, PCSTR name, PCWSTR *ppszValue, DWORD *pcch)
{
    iisd_hctx_t *h = H(This);
    const char *v;
    size_t len, wl;
    if (ppszValue == NULL)
        return E_INVALIDARG;
    *ppszValue = NULL;
    HRESULT hr = server_variable(h, name, &v, &len, pcch);
    if (FAILED(hr))
        return hr;
    *ppszValue = iisd_arena_wcs_from_utf8(h->arena, v, len, &wl);
    if (pcch)
        *pcch = (DWORD)wl;
    return S_OK;
}

static HRESULT ctx_GetServerVariableA(IHttpContext4 *This, PCSTR name, PCSTR *ppszValue, DWORD *pcch)
{
    const char *v;
    size_t len;
    if (ppszValue == NULL)
        return E_INVALIDARG;
    *ppszValue = NULL;
    HRESULT hr = server_variable(H(This), name, &v, &len, pcch);
    if (FAILED(hr))
        return hr;
    *ppszValue = v;
    if (pcch)
        *pcch = (DWORD)len;
    return S_OK;
}

static HRESULT ctx_SetServerVariable(IHttpContext4 *This, PCSTR name, PCWSTR value)
{
    iisd_hctx_t *h = H(This);
    if (name == NULL || *name == '\0')
        return E_INVALIDARG;
    iisd_svar_t *sv;
    for (sv = h->svars; sv != NULL; sv = sv->next)
        if (strcasecmp(sv->name, name) == 0)
            break;
    if (sv == NULL) {
        sv = iisd_arena_alloc(h->arena, sizeof(*sv));
        sv->name = iisd_arena_strndup(h->arena, name, strlen(name));
        sv->next = h->svars;
        h->svars = sv;
    }
    if (value == NULL)
        value = L"";
    size_t wl = wcslen(value);
    sv->wvalue = iisd_arena_memdup(h->arena, value, (wl + 1) * sizeof(wchar_t));
    sv->value = iisd_arena_utf8_from_wcs(h->arena, value, wl, NULL);
    h->svar_change++;
    return iisd_svar_set_hook(h, sv->name, sv->value);
}

static VOID *ctx_AllocateRequestMemory(IHttpContext4 *This, DWORD cb)
{
    return iisd_arena_alloc(H(This)->arena, cb);
}

/* One per site and URL, shared by the requests for it and kept while in use (objects.c). */
static IHttpUrlInfo *ctx_GetUrlInfo(IHttpContext4 *This)
{
    return iisd_url_info(H(This));
}

static IMetadataInfo *ctx_GetMetadata(IHttpContext4 *This)
{
    return &H(This)->meta;
}

static PCWSTR ctx_GetPhysicalPath(IHttpContext4 *This, DWORD *pcch)
{
    size_t len;
    const wchar_t *p = iisd_hctx_physical_path(H(This), &len);
    if (pcch)
        *pcch = (DWORD)len;
    return p;
}

static PCWSTR ctx_GetScriptName(IHttpContext4 *This, DWORD *pcch)
{
    iisd_hctx_t *h = H(This);
    if (h->wurl == NULL)
        h->wurl = iisd_arena_wcs_from_utf8(h->arena, h->url, h->url_len, NULL);
    if (pcch)
        *pcch = (DWORD)wcslen(h->wurl);
    return h->wurl;
}

static PCWSTR ctx_GetScriptTranslated(IHttpContext4 *This, DWORD *pcch)
{
    return ctx_GetPhysicalPath(This, pcch);
}

static IScriptMapInfo *ctx_GetScriptMap(IHttpContext4 *This)
{
    return iisd_handlers_script_map(H(This));
}

static VOID ctx_SetRequestHandled(IHttpContext4 *This)
{
    H(This)->handled = true;
}

/* The open-file cache's entry for the request's physical path (NULL when there is no such file). */
static IHttpFileInfo *ctx_GetFileInfo(IHttpContext4 *This)
{
    return iisd_ctx_file_info(H(This));
}

/*
 * The physical path of a URL (u8, and url, its wide form, which RQ_MAP_PATH modules see) through
 * the site's virtual directories, after RQ_MAP_PATH.
 */
static wchar_t *map_url8(iisd_hctx_t *h, const char *u8, size_t ul8, const wchar_t *url, size_t *outlen)
{
    const char *from = ul8 > 0 && u8[0] == '/' ? u8 : "/";
    size_t fromlen = ul8 > 0 && u8[0] == '/' ? ul8 : 1;
    char stackbuf[1024], *phys = stackbuf;
    size_t need = iisd_site_map_into(h->sitedef, from, fromlen, stackbuf, sizeof(stackbuf));
    if (need > sizeof(stackbuf)) {
        phys = iisd_arena_alloc(h->arena, need);
        iisd_site_map_into(h->sitedef, from, fromlen, phys, need);
    }
    size_t n = 0;
    wchar_t *p;
    if (need != 0) {
        p = iisd_arena_wcs_from_utf8(h->arena, phys, need - 1, &n);
    } else {
        p = iisd_arena_calloc(h->arena, sizeof(wchar_t));
    }
    if (h->plan->map_path.n > 0) {
        struct {
            IMapPathProvider p;
            const wchar_t *url;
            wchar_t *phys;
            size_t len;
            iisd_hctx_t *h;
        } mp;
        extern IMapPathProvider *iisd_map_path_provider(void *self);
        mp.url = url;
        mp.phys = p;
        mp.len = n;
        mp.h = h;
        iisd_map_path_provider(&mp);
        iisd_hctx_notify(h, &h->plan->map_path, RQ_MAP_PATH, (IHttpEventProvider *)&mp.p);
        p = mp.phys;
        n = mp.len;
    }
    if (outlen)
        *outlen = n;
    return p;
}

static wchar_t *map_url(iisd_hctx_t *h, const wchar_t *url, size_t *outlen)
{
    size_t ul8;
    char *u8 = iisd_arena_utf8_from_wcs(h->arena, url, wcslen(url), &ul8);
    return map_url8(h, u8, ul8, url, outlen);
}

const wchar_t *iisd_hctx_physical_path(iisd_hctx_t *h, size_t *len)
{
    if (h->wphys == NULL) {
        /* the wide URL only for RQ_MAP_PATH modules: mapping goes by the UTF-8 one */
        wchar_t *url =
            h->plan->map_path.n > 0 ? iisd_arena_wcs_from_utf8(h->arena, h->url, h->url_len, NULL) : NULL;
        h->wphys = map_url8(h, h->url, h->url_len, url, &h->wphys_len);
    }
    if (len)
        *len = h->wphys_len;
    return h->wphys;
}

static HRESULT ctx_MapPath(IHttpContext4 *This, PCWSTR url, PWSTR out, DWORD *pcb)
{
    iisd_hctx_t *h = H(This);
    if (url == NULL || pcb == NULL)
        return E_INVALIDARG;
    size_t n;
    wchar_t *p = map_url(h, url, &n);
    DWORD need = (DWORD)((n + 1) * sizeof(wchar_t));
    if (out == NULL || *pcb < need) {
        *pcb = need;
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    }
    memcpy(out, p, need);
    *pcb = need;
    return S_OK;
}

static HRESULT ctx_NotifyCustomNotification(IHttpContext4 *This, ICustomNotificationProvider *p,
                                            BOOL *pfCompletionExpected)
{
    iisd_hctx_t *h = H(This);
    if (p == NULL)
        return E_INVALIDARG;
    iisd_hctx_notify(h, &h->plan->custom, RQ_CUSTOM_NOTIFICATION, (IHttpEventProvider *)p);
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    return S_OK;
}

/* The context a child was cloned from; NULL for the client's request. */
static IHttpContext *ctx_GetParentContext(IHttpContext4 *This)
{
    iisd_hctx_t *p = H(This)->parent;
    return p ? (IHttpContext *)&p->ctx : NULL;
}

/* The client's request a child descends from; NULL for that request itself, as documented. */
static IHttpContext *ctx_GetRootContext(IHttpContext4 *This)
{
    iisd_hctx_t *h = H(This);
    if (h->parent == NULL)
        return NULL;
    while (h->parent != NULL)
        h = h->parent;
    return (IHttpContext *)&h->ctx;
}

static HRESULT ctx_CloneContext(IHttpContext4 *This, DWORD dwCloneFlags, IHttpContext **pp)
{
    return iisd_child_clone(H(This), dwCloneFlags, pp);
}

static HRESULT ctx_ReleaseClonedContext(IHttpContext4 *This)
{
    return iisd_child_release(H(This));
}

static HRESULT ctx_GetCurrentExecutionStats(IHttpContext4 *This, DWORD *pdwNotification, DWORD *pdwStart,
                                            PCWSTR *ppszModule, DWORD *pdwModuleStart, DWORD *pdwAsync,
                                            DWORD *pdwAsyncStart)
{
    iisd_hctx_t *h = H(This);
    if (pdwNotification)
        *pdwNotification = h->cur_notification;
    if (pdwStart)
        *pdwStart = (DWORD)h->cur_start_ms;
    if (ppszModule)
        *ppszModule = h->cur_module ? h->cur_module->wname : NULL;
    if (pdwModuleStart)
        *pdwModuleStart = (DWORD)h->cur_start_ms;
    if (pdwAsync)
        *pdwAsync = 0;
    if (pdwAsyncStart)
        *pdwAsyncStart = 0;
    return S_OK;
}

static IHttpTraceContext *ctx_GetTraceContext(IHttpContext4 *This)
{
    return iisd_trace_context(H(This));
}

static HRESULT ctx_GetServerVarChanges(IHttpContext4 *This, DWORD dwOld, DWORD *pdwNew, DWORD *pdwSnap,
                                       PCSTR **ppNames, PCWSTR **ppValues, DWORD *pdwDiffed, DWORD **ppIdx)
{
    (void)dwOld; /* the snapshot itself says what the caller has seen */
    return iisd_svar_changes(H(This), pdwNew, pdwSnap, ppNames, ppValues, pdwDiffed, ppIdx);
}

/*
 * Cancels the request's pending asynchronous ReadEntityBody, WriteEntityChunks or Flush: it completes
 * with ERROR_OPERATION_ABORTED (and the bytes read so far) through OnAsyncCompletion or the call's
 * callback. A cancelled write leaves the response incomplete: the connection closes after the request.
 * Nothing pending: S_OK, nothing happens. A request without a client connection: ERROR_INVALID_HANDLE.
 */
static HRESULT ctx_CancelIo(IHttpContext4 *This)
{
    iisd_hctx_t *h = H(This);
    if (h->warmup != NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    if (h->parent == NULL) /* a child's reads and writes always complete synchronously */
        iisd_hctx_cancel_io(h);
    return S_OK;
}

/*
 * The <handlers> entry that would serve a request for url with verb: the configuration at that
 * URL is resolved as for a child request. ERROR_NOT_FOUND when no entry matches (or the
 * configuration there has no <handlers>), ERROR_INVALID_DATA when that configuration is invalid.
 */
/* api-status: partial: the request's own site only (another site: ERROR_NOT_SUPPORTED) */
static HRESULT ctx_MapHandler(IHttpContext4 *This, DWORD dwSiteId, PCWSTR site, PCWSTR url, PCSTR verb,
                              IScriptMapInfo **pp, BOOL fIgnoreWildcardMappings)
{
    iisd_hctx_t *h = H(This);
    if (pp == NULL || url == NULL || verb == NULL || url[0] != L'/')
        return E_INVALIDARG;
    *pp = NULL;
    if (dwSiteId != h->sitedef->id) {
        size_t nl;
        char *name = site ? iisd_arena_utf8_from_wcs(h->arena, site, wcslen(site), &nl) : NULL;
        if (name == NULL || strcasecmp(name, h->sitedef->name) != 0)
            return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    }
    iisd_hctx_t *m = iisd_arena_calloc(h->arena, sizeof(*m));
    m->arena = h->arena;
    m->conf = h->conf;
    m->sitedef = h->sitedef;
    m->rq = iisd_arena_calloc(h->arena, sizeof(*m->rq));
    m->plan = h->plan; /* resolving reads these (and copies them when the URL's plan is larger) */
    m->inst = h->inst;
    m->mctx = h->mctx;
    m->disabled_rq = h->disabled_rq;
    m->disabled_post = h->disabled_post;
    m->url = iisd_arena_utf8_from_wcs(h->arena, url, wcslen(url), &m->url_len);
    if (iisd_hctx_resolve(m) != 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    m->handler = iisd_handlers_find(m->handlers_section, m->url, m->url_len, verb, fIgnoreWildcardMappings);
    if (m->handler == NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    *pp = iisd_handlers_script_map(m);
    return S_OK;
}

/* The deprecated form: HTTP_CONTEXT_INTERFACE_VERSION has no values, so no version is known. */
/* api-status: implemented (no version exists: E_NOINTERFACE; HttpGetExtendedInterface is the way) */
static HRESULT ctx_GetExtendedInterface(IHttpContext4 *This, HTTP_CONTEXT_INTERFACE_VERSION v, PVOID *pp)
{
    if (pp)
        *pp = NULL;
    return E_NOINTERFACE;
}

/* the user authentication set (there is no impersonation to change it afterwards) */
static IHttpUser *ctx_GetOriginalUser(IHttpContext4 *This)
{
    return H(This)->user;
}

/* Contexts by name for this request; each is cleaned up when the request ends (objects.c). */
static INamedContextContainer *ctx_GetNamedContextContainer(IHttpContext4 *This)
{
    return iisd_named_contexts(H(This));
}

static VOID ctx_EnableFullDuplex(IHttpContext4 *This)
{
    /* api-status: partial: a no-op; reads and writes are already independent */
}

/*
 * A child request takes the variable's value from its parent (the client's request takes it from
 * itself, which fixes the value it has now); from then on it is one of this request's set variables.
 * Absent there: S_OK, or ERROR_INVALID_INDEX when fFailIfNotExist.
 */
static HRESULT ctx_InheritServerVariable(IHttpContext4 *This, PCSTR szName, BOOL fFailIfNotExist)
{
    iisd_hctx_t *h = H(This);
    if (szName == NULL || *szName == '\0')
        return E_INVALIDARG;
    iisd_hctx_t *from = h->parent ? h->parent : h;
    size_t len;
    const char *v = iisd_hctx_server_variable(from, szName, &len);
    if (v == NULL)
        return fFailIfNotExist ? HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) : S_OK;
    return ctx_SetServerVariable(This, szName, iisd_arena_wcs_from_utf8(h->arena, v, len, NULL));
}

/*
 * As PostCompletion, with fn(ERROR_SUCCESS, cbBytes, ctx) called on the loop in place of
 * OnAsyncCompletion. The routine returns no status: the notification then continues, unless the
 * routine itself called IndicateCompletion (its status counts) or PostCompletion.
 */
static HRESULT ctx_PostCompletionEx(IHttpContext4 *This, DWORD cbBytes, LPOVERLAPPED_COMPLETION_ROUTINE fn,
                                    VOID *ctx)
{
    iisd_hctx_t *h = H(This);
    h->post_fn = fn;
    h->post_ctx = ctx;
    iisd_hctx_complete(h, RQ_NOTIFICATION_CONTINUE, true, cbBytes, S_OK, false);
    return S_OK;
}

static ULONGLONG ctx_GetRequestStartTime(IHttpContext4 *This)
{
    return H(This)->rq->start_ms;
}

static ULONGLONG ctx_GetRequestElapsedTime(IHttpContext4 *This)
{
    iisd_hctx_t *h = H(This);
    return iisd_now_ms() - h->rq->start_ms;
}

VTBL(IHttpContext4Vtbl, ctx_vtbl) = {NULL,
                                     NULL,
                                     {
                                         .GetSite = ctx_GetSite,
                                         .GetApplication = ctx_GetApplication,
                                         .GetConnection = ctx_GetConnection,
                                         .GetRequest = ctx_GetRequest,
                                         .GetResponse = ctx_GetResponse,
                                         .GetResponseHeadersSent = ctx_GetResponseHeadersSent,
                                         .GetUser = ctx_GetUser,
                                         .GetModuleContextContainer = ctx_GetModuleContextContainer,
                                         .IndicateCompletion = ctx_IndicateCompletion,
                                         .PostCompletion = ctx_PostCompletion,
                                         .DisableNotifications = ctx_DisableNotifications,
                                         .GetNextNotification = ctx_GetNextNotification,
                                         .GetIsLastNotification = ctx_GetIsLastNotification,
                                         .ExecuteRequest = ctx_ExecuteRequest,
                                         .GetExecuteFlags = ctx_GetExecuteFlags,
                                         .GetServerVariableW = ctx_GetServerVariableW,
                                         .GetServerVariableA = ctx_GetServerVariableA,
                                         .SetServerVariable = ctx_SetServerVariable,
                                         .AllocateRequestMemory = ctx_AllocateRequestMemory,
                                         .GetUrlInfo = ctx_GetUrlInfo,
                                         .GetMetadata = ctx_GetMetadata,
                                         .GetPhysicalPath = ctx_GetPhysicalPath,
                                         .GetScriptName = ctx_GetScriptName,
                                         .GetScriptTranslated = ctx_GetScriptTranslated,
                                         .GetScriptMap = ctx_GetScriptMap,
                                         .SetRequestHandled = ctx_SetRequestHandled,
                                         .GetFileInfo = ctx_GetFileInfo,
                                         .MapPath = ctx_MapPath,
                                         .NotifyCustomNotification = ctx_NotifyCustomNotification,
                                         .GetParentContext = ctx_GetParentContext,
                                         .GetRootContext = ctx_GetRootContext,
                                         .CloneContext = ctx_CloneContext,
                                         .ReleaseClonedContext = ctx_ReleaseClonedContext,
                                         .GetCurrentExecutionStats = ctx_GetCurrentExecutionStats,
                                         .GetTraceContext = ctx_GetTraceContext,
                                         .GetServerVarChanges = ctx_GetServerVarChanges,
                                         .CancelIo = ctx_CancelIo,
                                         .MapHandler = ctx_MapHandler,
                                         .GetExtendedInterface = ctx_GetExtendedInterface,
                                         .GetOriginalUser = ctx_GetOriginalUser,
                                         .GetNamedContextContainer = ctx_GetNamedContextContainer,
                                         .EnableFullDuplex = ctx_EnableFullDuplex,
                                         .InheritServerVariable = ctx_InheritServerVariable,
                                         .PostCompletionEx = ctx_PostCompletionEx,
                                         .GetRequestStartTime = ctx_GetRequestStartTime,
                                         .GetRequestElapsedTime = ctx_GetRequestElapsedTime,
                                     }};

/* ---- module context container (per request) ---------------------------- */

static IHttpStoredContext *mcc_GetModuleContext(IHttpModuleContextContainer *This, HTTP_MODULE_ID id)
{
    iisd_hctx_t *h = HCTX_OF(This, mcc);
    uintptr_t i = (uintptr_t)id;
    if (i == 0 || i > h->plan->nmodules)
        return NULL;
    return h->mctx[i - 1];
}

static HRESULT mcc_SetModuleContext(IHttpModuleContextContainer *This, IHttpStoredContext *ctx,
                                    HTTP_MODULE_ID id)
{
    iisd_hctx_t *h = HCTX_OF(This, mcc);
    uintptr_t i = (uintptr_t)id;
    if (ctx == NULL || i == 0 || i > h->plan->nmodules)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (h->mctx[i - 1] != NULL)
        return HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED);
    h->mctx[i - 1] = ctx;
    return S_OK;
}

VTBL(IHttpModuleContextContainerVtbl, mcc_vtbl) = {
    NULL, NULL, {.GetModuleContext = mcc_GetModuleContext, .SetModuleContext = mcc_SetModuleContext}};

/* ---- IModuleAllocator --------------------------------------------------- */

static VOID *alloc_AllocateMemory(IModuleAllocator *This, DWORD cb)
{
    return iisd_arena_alloc(HCTX_OF(This, alloc)->arena, cb);
}

VTBL(IModuleAllocatorVtbl, alloc_vtbl) = {NULL, NULL, {.AllocateMemory = alloc_AllocateMemory}};

/* ---- providers ---------------------------------------------------------- */

static void set_error(iisd_hctx_t *h, HRESULT hr)
{
    h->rq->resp.error_hr = hr;
}

static VOID evp_SetErrorStatus(IHttpEventProvider *This, HRESULT hr)
{
    set_error(HCTX_OF(This, evp), hr);
}

VTBL(IHttpEventProviderVtbl, evp_vtbl) = {NULL, NULL, {.SetErrorStatus = evp_SetErrorStatus}};

static VOID authp_SetErrorStatus(IAuthenticationProvider *This, HRESULT hr)
{
    set_error(HCTX_OF(This, authp), hr);
}

static VOID authp_SetUser(IAuthenticationProvider *This, IHttpUser *user)
{
    iisd_hctx_t *h = HCTX_OF(This, authp);
    if (user == NULL)
        return;
    if (h->user != NULL)
        h->user->lpVtbl->DereferenceUser(h->user);
    user->lpVtbl->ReferenceUser(user);
    h->user = user;
}

VTBL(IAuthenticationProviderVtbl,
     authp_vtbl) = {NULL, NULL, {.SetErrorStatus = authp_SetErrorStatus, .SetUser = authp_SetUser}};

static VOID maphp_SetErrorStatus(IMapHandlerProvider *This, HRESULT hr)
{
    set_error(HCTX_OF(This, maphp), hr);
}

static HRESULT maphp_SetScriptName(IMapHandlerProvider *This, PCWSTR name, DWORD cch)
{
    /* documented as not supported */
    return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
}

static VOID maphp_SetScriptMap(IMapHandlerProvider *This, IScriptMapInfo *p)
{
    iisd_hctx_t *h = HCTX_OF(This, maphp);
    h->module_smap = p;
    if (p != NULL)
        h->handler_mode = true;
}

static VOID maphp_SetFileInfo(IMapHandlerProvider *This, IHttpFileInfo *p)
{
    /* documented as not supported: ignored */
}

VTBL(IMapHandlerProviderVtbl, maphp_vtbl) = {NULL,
                                             NULL,
                                             {.SetErrorStatus = maphp_SetErrorStatus,
                                              .SetScriptName = maphp_SetScriptName,
                                              .SetScriptMap = maphp_SetScriptMap,
                                              .SetFileInfo = maphp_SetFileInfo}};

static VOID srp_SetErrorStatus(ISendResponseProvider *This, HRESULT hr)
{
    set_error(HCTX_OF(This, srp), hr);
}

static BOOL srp_GetHeadersBeingSent(ISendResponseProvider *This)
{
    return HCTX_OF(This, srp)->send_headers;
}

static DWORD srp_GetFlags(ISendResponseProvider *This)
{
    return HCTX_OF(This, srp)->send_flags;
}

static VOID srp_SetFlags(ISendResponseProvider *This, DWORD flags)
{
    HCTX_OF(This, srp)->send_flags = flags;
}

/*
 * The request's log record (logdata.c), for the final send only (GetReadyToLogData), and, as
 * documented, only for a module whose RQ_SEND_RESPONSE priority is PRIORITY_ALIAS_FIRST or
 * PRIORITY_ALIAS_HIGH; NULL otherwise.
 */
/* api-status: implemented (the record is filled from the request on the first call) */
static HTTP_LOG_DATA *srp_GetLogData(ISendResponseProvider *This)
{
    iisd_hctx_t *h = HCTX_OF(This, srp);
    if (!h->send_final || h->cur_module == NULL ||
        h->cur_module->rq_prio[__builtin_ctz(RQ_SEND_RESPONSE)] > IISD_PRIO_HIGH)
        return NULL;
    HTTP_LOG_FIELDS_DATA *d = iisd_log_data_get(h);
    return d != NULL ? &d->Base : NULL;
}

/* Replaces the log record with a copy of *p (an HTTP_LOG_FIELDS_DATA): what HttpLoggingModule writes. */
/* api-status: implemented (HttpLoggingModule writes the line from the record set) */
static HRESULT srp_SetLogData(ISendResponseProvider *This, HTTP_LOG_DATA *p)
{
    return iisd_log_data_set(HCTX_OF(This, srp), p);
}

static BOOL srp_GetReadyToLogData(ISendResponseProvider *This)
{
    return HCTX_OF(This, srp)->send_final;
}

VTBL(ISendResponseProviderVtbl, srp_vtbl) = {NULL,
                                             NULL,
                                             {.SetErrorStatus = srp_SetErrorStatus,
                                              .GetHeadersBeingSent = srp_GetHeadersBeingSent,
                                              .GetFlags = srp_GetFlags,
                                              .SetFlags = srp_SetFlags,
                                              .GetLogData = srp_GetLogData,
                                              .SetLogData = srp_SetLogData,
                                              .GetReadyToLogData = srp_GetReadyToLogData}};

static VOID prebp_SetErrorStatus(IPreBeginRequestProvider *This, HRESULT hr)
{
    set_error(HCTX_OF(This, prebp), hr);
}

static IHttpContext *prebp_GetHttpContext(IPreBeginRequestProvider *This)
{
    return (IHttpContext *)&HCTX_OF(This, prebp)->ctx;
}

VTBL(IPreBeginRequestProviderVtbl, prebp_vtbl) = {
    NULL, NULL, {.SetErrorStatus = prebp_SetErrorStatus, .GetHttpContext = prebp_GetHttpContext}};

/* IMapPathProvider: built on the stack by map_url() */
typedef struct {
    IMapPathProvider p;
    const wchar_t *url;
    wchar_t *phys;
    size_t len;
    iisd_hctx_t *h;
} mapp_t;

static VOID mapp_SetErrorStatus(IMapPathProvider *This, HRESULT hr)
{
    set_error(((mapp_t *)This)->h, hr);
}

static PCWSTR mapp_GetUrl(IMapPathProvider *This)
{
    return ((mapp_t *)This)->url;
}

static PCWSTR mapp_GetPhysicalPath(IMapPathProvider *This)
{
    return ((mapp_t *)This)->phys;
}

static HRESULT mapp_SetPhysicalPath(IMapPathProvider *This, PCWSTR p, DWORD cch)
{
    mapp_t *m = (mapp_t *)This;
    if (p == NULL)
        return E_INVALIDARG;
    m->phys = iisd_arena_alloc(m->h->arena, ((size_t)cch + 1) * sizeof(wchar_t));
    memcpy(m->phys, p, (size_t)cch * sizeof(wchar_t));
    m->phys[cch] = 0;
    m->len = cch;
    return S_OK;
}

VTBL(IMapPathProviderVtbl, mapp_vtbl) = {NULL,
                                         NULL,
                                         {.SetErrorStatus = mapp_SetErrorStatus,
                                          .GetUrl = mapp_GetUrl,
                                          .GetPhysicalPath = mapp_GetPhysicalPath,
                                          .SetPhysicalPath = mapp_SetPhysicalPath}};

IMapPathProvider *iisd_map_path_provider(void *self);
IMapPathProvider *iisd_map_path_provider(void *self)
{
    mapp_t *m = self;
    m->p.lpVtbl = &mapp_vtbl.v;
    return &m->p;
}

static DWORD compl_GetCompletionBytes(IHttpCompletionInfo2 *This)
{
    return HCTX_OF(This, compl )->compl_bytes;
}

static HRESULT compl_GetCompletionStatus(IHttpCompletionInfo2 *This)
{
    return HCTX_OF(This, compl )->compl_hr;
}

/* Documented as "the number of bytes completed" by the asynchronous operation. */
static DWORD compl_GetCompletedOperation(IHttpCompletionInfo2 *This)
{
    return HCTX_OF(This, compl )->compl_bytes;
}

VTBL(IHttpCompletionInfo2Vtbl, compl_vtbl) = {NULL,
                                              NULL,
                                              {.GetCompletionBytes = compl_GetCompletionBytes,
                                               .GetCompletionStatus = compl_GetCompletionStatus,
                                               .GetCompletedOperation = compl_GetCompletedOperation}};

/* ---- site, application, connection -------------------------------------- */

static DWORD site_GetSiteId(IHttpSite *This)
{
    return HCTX_OF(This, site)->sitedef->id;
}

static const wchar_t *wide(iisd_hctx_t *h, const char *s)
{
    return iisd_arena_wcs_from_utf8(h->arena, s, strlen(s), NULL);
}

static PCWSTR site_GetSiteName(IHttpSite *This)
{
    iisd_hctx_t *h = HCTX_OF(This, site);
    return wide(h, h->sitedef->name);
}

static IHttpModuleContextContainer *site_GetModuleContextContainer(IHttpSite *This)
{
    iisd_hctx_t *h = HCTX_OF(This, site);
    return iisd_pipeline_site_container(h->conf, h->sitedef);
}

static IHttpPerfCounterInfo *site_GetPerfCounterInfo(IHttpSite *This)
{
    return iisd_perf_site(HCTX_OF(This, site)->sitedef->id);
}

VTBL(IHttpSiteVtbl, site_vtbl) = {NULL,
                                  NULL,
                                  {.GetSiteId = site_GetSiteId,
                                   .GetSiteName = site_GetSiteName,
                                   .GetModuleContextContainer = site_GetModuleContextContainer,
                                   .GetPerfCounterInfo = site_GetPerfCounterInfo}};

static PCWSTR app_GetApplicationPhysicalPath(IHttpApplication2 *This)
{
    iisd_hctx_t *h = HCTX_OF(This, app);
    char *phys = iisd_site_map(h->sitedef, h->appdef->path, strlen(h->appdef->path));
    size_t n = phys ? strlen(phys) : 0;
    while (n > 1 && phys[n - 1] == '/')
        n--;
    char *withslash = iisd_arena_alloc(h->arena, n + 2);
    memcpy(withslash, phys ? phys : "", n);
    withslash[n] = '/';
    withslash[n + 1] = '\0';
    free(phys);
    return wide(h, withslash);
}

static PCWSTR app_GetApplicationId(IHttpApplication2 *This)
{
    iisd_hctx_t *h = HCTX_OF(This, app);
    char id[512];
    snprintf(id, sizeof(id), "/LM/W3SVC/%u/ROOT%s", (unsigned)h->sitedef->id,
             strcmp(h->appdef->path, "/") == 0 ? "" : h->appdef->path);
    return wide(h, id);
}

static PCWSTR app_GetAppConfigPath(IHttpApplication2 *This)
{
    iisd_hctx_t *h = HCTX_OF(This, app);
    return wide(h, h->appdef->config_path);
}

static IHttpModuleContextContainer *app_GetModuleContextContainer(IHttpApplication2 *This)
{
    return iisd_pipeline_app_container(HCTX_OF(This, app)->appdef);
}

/* Warm-up nests: the application is warming up until every Begin has had its End. */
static VOID app_BeginApplicationWarmup(IHttpApplication2 *This)
{
    iisd_app_warmup(HCTX_OF(This, app)->appdef, true);
}

static VOID app_EndApplicationWarmup(IHttpApplication2 *This)
{
    iisd_app_warmup(HCTX_OF(This, app)->appdef, false);
}

static BOOL app_QueryIsWarmingUp(IHttpApplication2 *This)
{
    return iisd_app_warming_up(HCTX_OF(This, app)->appdef);
}

VTBL(IHttpApplication2Vtbl, app_vtbl) = {NULL,
                                         NULL,
                                         {.GetApplicationPhysicalPath = app_GetApplicationPhysicalPath,
                                          .GetApplicationId = app_GetApplicationId,
                                          .GetAppConfigPath = app_GetAppConfigPath,
                                          .GetModuleContextContainer = app_GetModuleContextContainer,
                                          .BeginApplicationWarmup = app_BeginApplicationWarmup,
                                          .EndApplicationWarmup = app_EndApplicationWarmup,
                                          .QueryIsWarmingUp = app_QueryIsWarmingUp}};

static BOOL conn_IsConnected(IHttpConnection *This)
{
    iisd_hctx_t *h = HCTX_OF(This, connobj);
    struct pollfd p = {.fd = h->c->io.fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return FALSE;
    return TRUE;
}

static VOID *conn_AllocateMemory(IHttpConnection *This, DWORD cb)
{
    return iisd_arena_alloc(HCTX_OF(This, connobj)->arena, cb);
}

/* Lives as long as the connection: its contexts are cleaned up when the connection closes. */
static IHttpConnectionModuleContextContainer *conn_GetModuleContextContainer(IHttpConnection *This)
{
    return iisd_conn_contexts(HCTX_OF(This, connobj));
}

VTBL(IHttpConnectionVtbl, conn_vtbl) = {NULL,
                                        NULL,
                                        {.IsConnected = conn_IsConnected,
                                         .AllocateMemory = conn_AllocateMemory,
                                         .GetModuleContextContainer = conn_GetModuleContextContainer}};

/* ---- IMetadataInfo: the configuration path of the request --------------- */

static PCWSTR meta_GetMetaPath(IMetadataInfo *This)
{
    iisd_hctx_t *h = HCTX_OF(This, meta);
    if (h->wcpath == NULL)
        h->wcpath = iisd_arena_wcs_from_utf8(h->arena, h->cpath, strlen(h->cpath), NULL);
    return h->wcpath;
}

static PCWSTR meta_GetVrPath(IMetadataInfo *This)
{
    /* the physical folder of the application's root virtual directory */
    iisd_hctx_t *h = HCTX_OF(This, meta);
    char *phys = iisd_site_map(h->sitedef, h->appdef->path, strlen(h->appdef->path));
    const wchar_t *w = wide(h, phys ? phys : "");
    free(phys);
    return w;
}

static IHttpTokenEntry *meta_GetVrToken(IMetadataInfo *This)
{
    /* api-status: partial: NULL; virtual directories have no Windows logon token on Linux */
    return NULL;
}

static IHttpModuleContextContainer *meta_GetModuleContextContainer(IMetadataInfo *This)
{
    return HCTX_OF(This, meta)->meta_container;
}

VTBL(IMetadataInfoVtbl, meta_vtbl) = {NULL,
                                      NULL,
                                      {.GetMetaPath = meta_GetMetaPath,
                                       .GetVrPath = meta_GetVrPath,
                                       .GetVrToken = meta_GetVrToken,
                                       .GetModuleContextContainer = meta_GetModuleContextContainer}};

extern const IHttpRequest4Vtbl *const iisd_request_vtbl;
extern const IHttpResponse4Vtbl *const iisd_response_vtbl;

void iisd_hctx_bind(iisd_hctx_t *h)
{
    h->ctx.lpVtbl = &ctx_vtbl.v;
    h->req.lpVtbl = iisd_request_vtbl;
    h->resp.lpVtbl = iisd_response_vtbl;
    h->mcc.lpVtbl = &mcc_vtbl.v;
    h->alloc.lpVtbl = &alloc_vtbl.v;
    h->evp.lpVtbl = &evp_vtbl.v;
    h->authp.lpVtbl = &authp_vtbl.v;
    h->maphp.lpVtbl = &maphp_vtbl.v;
    h->srp.lpVtbl = &srp_vtbl.v;
    h->prebp.lpVtbl = &prebp_vtbl.v;
    h->compl .lpVtbl = &compl_vtbl.v;
    h->site.lpVtbl = &site_vtbl.v;
    h->app.lpVtbl = &app_vtbl.v;
    h->connobj.lpVtbl = &conn_vtbl.v;
    h->meta.lpVtbl = &meta_vtbl.v;
}
