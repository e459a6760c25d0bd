/*
 * Shared plumbing for the C test modules that are not about the C binding's
 * shape itself (hello_c.c spells every slot out on purpose): handlers for the
 * notifications a module ignores, a vtable initialiser, and a factory that
 * hands out one heap-allocated CHttpModule per request.
 */
#pragma once
#include <stdlib.h>

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_event(CHttpModule *This, IHttpContext *c,
                                                           IHttpEventProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_auth(CHttpModule *This, IHttpContext *c,
                                                          IAuthenticationProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_map_handler(CHttpModule *This, IHttpContext *c,
                                                                 IMapHandlerProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_send(CHttpModule *This, IHttpContext *c,
                                                          ISendResponseProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_map_path(CHttpModule *This, IHttpContext *c,
                                                              IMapPathProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_read(CHttpModule *This, IHttpContext *c,
                                                          IReadEntityProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_custom(CHttpModule *This, IHttpContext *c,
                                                            ICustomNotificationProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline REQUEST_NOTIFICATION_STATUS cmb_ignore_async(CHttpModule *This, IHttpContext *c, DWORD n,
                                                           BOOL post, IHttpEventProvider *p,
                                                           IHttpCompletionInfo *i)
{
    (void)This, (void)c, (void)n, (void)post, (void)p, (void)i;
    return RQ_NOTIFICATION_CONTINUE;
}

static inline VOID cmb_free_module(CHttpModule *This)
{
    free(This);
}

/* A CHttpModuleVtbl whose OnBeginRequest is `begin` and every other notification is ignored. */
#define CMB_VTBL_WITH_BEGIN(begin)                                                                           \
    {                                                                                                        \
        .OnBeginRequest = (begin), .OnPostBeginRequest = cmb_ignore_event,                                   \
        .OnAuthenticateRequest = cmb_ignore_auth, .OnPostAuthenticateRequest = cmb_ignore_event,             \
        .OnAuthorizeRequest = cmb_ignore_event, .OnPostAuthorizeRequest = cmb_ignore_event,                  \
        .OnResolveRequestCache = cmb_ignore_event, .OnPostResolveRequestCache = cmb_ignore_event,            \
        .OnMapRequestHandler = cmb_ignore_map_handler, .OnPostMapRequestHandler = cmb_ignore_event,          \
        .OnAcquireRequestState = cmb_ignore_event, .OnPostAcquireRequestState = cmb_ignore_event,            \
        .OnPreExecuteRequestHandler = cmb_ignore_event, .OnPostPreExecuteRequestHandler = cmb_ignore_event,  \
        .OnExecuteRequestHandler = cmb_ignore_event, .OnPostExecuteRequestHandler = cmb_ignore_event,        \
        .OnReleaseRequestState = cmb_ignore_event, .OnPostReleaseRequestState = cmb_ignore_event,            \
        .OnUpdateRequestCache = cmb_ignore_event, .OnPostUpdateRequestCache = cmb_ignore_event,              \
        .OnLogRequest = cmb_ignore_event, .OnPostLogRequest = cmb_ignore_event,                              \
        .OnEndRequest = cmb_ignore_event, .OnPostEndRequest = cmb_ignore_event,                              \
        .OnSendResponse = cmb_ignore_send, .OnMapPath = cmb_ignore_map_path,                                 \
        .OnReadEntity = cmb_ignore_read, .OnCustomRequestNotification = cmb_ignore_custom,                   \
        .OnAsyncCompletion = cmb_ignore_async, .Dispose = cmb_free_module, .Destructor = NULL,               \
        .DeletingDestructor = NULL,                                                                          \
    }

typedef struct {
    IHttpModuleFactory base;
    const CHttpModuleVtbl *module_vtbl;
} cmb_factory_t;

static inline HRESULT cmb_get_module(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)alloc;
    CHttpModule *m = malloc(sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->lpVtbl = ((cmb_factory_t *)This)->module_vtbl;
    *pp = m;
    return S_OK;
}

static inline VOID cmb_terminate(IHttpModuleFactory *This)
{
    free(This);
}

static const IHttpModuleFactoryVtbl cmb_factory_vtbl = {.GetHttpModule = cmb_get_module,
                                                        .Terminate = cmb_terminate};

/* Registers a factory that creates modules with `vtbl` for the request notifications `rq`. */
static inline HRESULT cmb_register(IHttpModuleRegistrationInfo *info, const CHttpModuleVtbl *vtbl, DWORD rq)
{
    cmb_factory_t *f = malloc(sizeof(*f));
    if (f == NULL)
        return E_OUTOFMEMORY;
    f->base.lpVtbl = &cmb_factory_vtbl;
    f->module_vtbl = vtbl;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &f->base, rq, 0);
    if (FAILED(hr))
        free(f);
    return hr;
}
