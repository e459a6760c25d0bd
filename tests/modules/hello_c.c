/*
 * hello_c.c - the Hello World module written against the C binding: every
 * request is answered "Hello World" (text/plain) from RQ_BEGIN_REQUEST, which
 * then ends it with RQ_NOTIFICATION_FINISH_REQUEST.
 *
 * A C module builds the vtables the C++ compiler would build: one for
 * CHttpModule (every slot filled; the two destructor slots stay NULL, the
 * server only calls Dispose) and one for IHttpModuleFactory.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdlib.h>

/* ---- default handlers for the notifications this module ignores ------- */

static REQUEST_NOTIFICATION_STATUS ignore_event(CHttpModule *This, IHttpContext *pHttpContext,
                                                IHttpEventProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_authenticate(CHttpModule *This, IHttpContext *pHttpContext,
                                                       IAuthenticationProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_map_handler(CHttpModule *This, IHttpContext *pHttpContext,
                                                      IMapHandlerProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_send_response(CHttpModule *This, IHttpContext *pHttpContext,
                                                        ISendResponseProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_map_path(CHttpModule *This, IHttpContext *pHttpContext,
                                                   IMapPathProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_read_entity(CHttpModule *This, IHttpContext *pHttpContext,
                                                      IReadEntityProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_custom(CHttpModule *This, IHttpContext *pHttpContext,
                                                 ICustomNotificationProvider *pProvider)
{
    (void)This, (void)pHttpContext, (void)pProvider;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS ignore_async_completion(CHttpModule *This, IHttpContext *pHttpContext,
                                                           DWORD dwNotification, BOOL fPostNotification,
                                                           IHttpEventProvider *pProvider,
                                                           IHttpCompletionInfo *pCompletionInfo)
{
    (void)This, (void)pHttpContext, (void)dwNotification, (void)fPostNotification, (void)pProvider,
        (void)pCompletionInfo;
    return RQ_NOTIFICATION_CONTINUE;
}

/* ---- the module ---------------------------------------------------------- */

static REQUEST_NOTIFICATION_STATUS hello_begin_request(CHttpModule *This, IHttpContext *pHttpContext,
                                                       IHttpEventProvider *pProvider)
{
    static const char content_type[] = "text/plain";
    static char text[] = "Hello World";
    IHttpResponse *response = pHttpContext->lpVtbl->GetResponse(pHttpContext);
    HTTP_DATA_CHUNK chunk;
    DWORD sent = 0;
    HRESULT hr;

    (void)This;
    if (response == NULL)
        return RQ_NOTIFICATION_CONTINUE;

    response->lpVtbl->Clear(response);
    response->lpVtbl->SetHeaderById(response, HttpHeaderContentType, content_type,
                                    (USHORT)(sizeof(content_type) - 1), TRUE);

    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = text;
    chunk.FromMemory.BufferLength = (ULONG)(sizeof(text) - 1);
    hr = response->lpVtbl->WriteEntityChunks(response, &chunk, 1, FALSE, TRUE, &sent, NULL);
    if (FAILED(hr))
        pProvider->lpVtbl->SetErrorStatus(pProvider, hr);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static VOID hello_dispose(CHttpModule *This)
{
    free(This);
}

static const CHttpModuleVtbl hello_module_vtbl = {
    .OnBeginRequest = hello_begin_request,
    .OnPostBeginRequest = ignore_event,
    .OnAuthenticateRequest = ignore_authenticate,
    .OnPostAuthenticateRequest = ignore_event,
    .OnAuthorizeRequest = ignore_event,
    .OnPostAuthorizeRequest = ignore_event,
    .OnResolveRequestCache = ignore_event,
    .OnPostResolveRequestCache = ignore_event,
    .OnMapRequestHandler = ignore_map_handler,
    .OnPostMapRequestHandler = ignore_event,
    .OnAcquireRequestState = ignore_event,
    .OnPostAcquireRequestState = ignore_event,
    .OnPreExecuteRequestHandler = ignore_event,
    .OnPostPreExecuteRequestHandler = ignore_event,
    .OnExecuteRequestHandler = ignore_event,
    .OnPostExecuteRequestHandler = ignore_event,
    .OnReleaseRequestState = ignore_event,
    .OnPostReleaseRequestState = ignore_event,
    .OnUpdateRequestCache = ignore_event,
    .OnPostUpdateRequestCache = ignore_event,
    .OnLogRequest = ignore_event,
    .OnPostLogRequest = ignore_event,
    .OnEndRequest = ignore_event,
    .OnPostEndRequest = ignore_event,
    .OnSendResponse = ignore_send_response,
    .OnMapPath = ignore_map_path,
    .OnReadEntity = ignore_read_entity,
    .OnCustomRequestNotification = ignore_custom,
    .OnAsyncCompletion = ignore_async_completion,
    .Dispose = hello_dispose,
    .Destructor = NULL,
    .DeletingDestructor = NULL,
};

/* ---- the factory --------------------------------------------------------- */

static HRESULT hello_get_module(IHttpModuleFactory *This, CHttpModule **ppModule,
                                IModuleAllocator *pAllocator)
{
    CHttpModule *module = malloc(sizeof(*module));

    (void)This, (void)pAllocator;
    if (module == NULL)
        return E_OUTOFMEMORY;
    module->lpVtbl = &hello_module_vtbl;
    *ppModule = module;
    return S_OK;
}

static VOID hello_terminate(IHttpModuleFactory *This)
{
    free(This);
}

static const IHttpModuleFactoryVtbl hello_factory_vtbl = {
    .GetHttpModule = hello_get_module,
    .Terminate = hello_terminate,
};

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    IHttpModuleFactory *factory = malloc(sizeof(*factory));
    HRESULT hr;

    (void)dwServerVersion, (void)pGlobalInfo;
    if (factory == NULL)
        return E_OUTOFMEMORY;
    factory->lpVtbl = &hello_factory_vtbl;
    hr = pModuleInfo->lpVtbl->SetRequestNotifications(pModuleInfo, factory, RQ_BEGIN_REQUEST, 0);
    if (FAILED(hr))
        free(factory);
    return hr;
}
