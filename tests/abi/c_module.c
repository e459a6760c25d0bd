/*
 * c_module.c - a module written in C against the C binding of httpserv.h:
 * it fills CHttpModuleVtbl and IHttpModuleFactoryVtbl itself and calls the
 * server through lpVtbl, including renamed overloads (SetHeaderByName,
 * GetHeaderById, GetServerVariableA) and IHttpServer2::GetExtendedInterfaceByGuid.
 */
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdlib.h>

typedef struct CountingModule {
    CHttpModule base; /* first member: a CountingModule * is a CHttpModule * */
    int begin_calls;
} CountingModule;

static IHttpServer *g_server;

static REQUEST_NOTIFICATION_STATUS
CountingModule_OnBeginRequest(CHttpModule *This, IHttpContext *pHttpContext, IHttpEventProvider *pProvider)
{
    CountingModule *self = (CountingModule *)This;
    IHttpRequest *req = pHttpContext->lpVtbl->GetRequest(pHttpContext);
    IHttpResponse *resp = pHttpContext->lpVtbl->GetResponse(pHttpContext);
    PVOID pv = NULL;
    IHttpServer2 *server2;
    IHttpContext3 *ctx3 = NULL;
    PCSTR value = NULL;
    DWORD cch = 0;
    USHORT cchAgent = 0;
    PCSTR agent;

    (void)pProvider;
    self->begin_calls++;

    if (FAILED(g_server->lpVtbl->GetExtendedInterface(g_server, HTTP_SERVER_INTERFACE_V2, &pv))) {
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    server2 = (IHttpServer2 *)pv;
    if (FAILED(server2->lpVtbl->GetExtendedInterfaceByGuid(server2, &IID_IHttpContext, pHttpContext,
                                                           &IID_IHttpContext3, (PVOID *)&ctx3))) {
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    ctx3->lpVtbl->EnableFullDuplex(ctx3);

    resp->lpVtbl->SetStatus(resp, 201, "Created", 0, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderByName(resp, "X-Module", "c", 1, TRUE);
    agent = req->lpVtbl->GetHeaderById(req, HttpHeaderUserAgent, &cchAgent);
    if (agent != NULL) {
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderServer, agent, cchAgent, TRUE);
    }
    if (SUCCEEDED(pHttpContext->lpVtbl->GetServerVariableA(pHttpContext, "REMOTE_ADDR", &value, &cch))) {
        resp->lpVtbl->SetHeaderByName(resp, "X-Remote-Addr", value, (USHORT)cch, TRUE);
    }
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static VOID CountingModule_Dispose(CHttpModule *This)
{
    free(This);
}

static const CHttpModuleVtbl g_moduleVtbl = {
    .OnBeginRequest = CountingModule_OnBeginRequest, .Dispose = CountingModule_Dispose,
    /* Every other slot stays NULL: the server only calls what was registered, and Dispose. */
};

static HRESULT Factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **ppModule,
                                     IModuleAllocator *pAllocator)
{
    CountingModule *m = (CountingModule *)calloc(1, sizeof(*m));
    (void)This;
    (void)pAllocator;
    if (m == NULL) {
        return E_OUTOFMEMORY;
    }
    m->base.lpVtbl = &g_moduleVtbl;
    *ppModule = &m->base;
    return S_OK;
}

static VOID Factory_Terminate(IHttpModuleFactory *This)
{
    (void)This; /* static object: nothing to free */
}

static const IHttpModuleFactoryVtbl g_factoryVtbl = {
    .GetHttpModule = Factory_GetHttpModule,
    .Terminate = Factory_Terminate,
};
static IHttpModuleFactory g_factory = {&g_factoryVtbl};

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    (void)dwServerVersion;
    g_server = pGlobalInfo;
    return pModuleInfo->lpVtbl->SetRequestNotifications(pModuleInfo, &g_factory, RQ_BEGIN_REQUEST, 0);
}
