/*
 * ext_module.cpp - a C++ module that exercises the harder corners of the
 * ABI against the C harness: renamed overloads (GetServerVariable,
 * GetHeader, SetHeader by name and by id), default arguments,
 * HttpGetExtendedInterface/__uuidof (IHttpContext -> IHttpContext3),
 * CGlobalModule slots on both sides of Terminate (slot 13), per-module
 * stored context and the CHttpModule default bodies.
 *
 * Built with -fvisibility=hidden: RegisterModule must still be exported.
 */
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <new>

static IHttpServer *g_pHttpServer = NULL;
static HTTP_MODULE_ID g_moduleId = NULL;

/* Per-request value stored in the context container under our module id. */
class CRequestNote final : public IHttpStoredContext
{
  public:
    DWORD m_value;
    explicit CRequestNote(DWORD value) : m_value(value) {}
    VOID CleanupStoredContext() override { delete this; }
};

class CExtModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *pHttpContext,
                                               IHttpEventProvider *pProvider) override
    {
        IHttpContext3 *pHttpContext3 = NULL;
        HRESULT hr = HttpGetExtendedInterface(g_pHttpServer, pHttpContext, &pHttpContext3);
        if (FAILED(hr) || pHttpContext3 == NULL) {
            pProvider->SetErrorStatus(FAILED(hr) ? hr : E_NOINTERFACE);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        pHttpContext3->EnableFullDuplex(); /* slot 41 of IHttpContext3 */

        IHttpRequest *pRequest = pHttpContext->GetRequest();
        IHttpResponse *pResponse = pHttpContext->GetResponse();

        PCSTR pszAddr = NULL;
        DWORD cchAddr = 0;
        hr = pHttpContext->GetServerVariable("REMOTE_ADDR", &pszAddr, &cchAddr); /* PCSTR form, slot 16 */
        if (SUCCEEDED(hr)) {
            pResponse->SetHeader("X-Remote-Addr", pszAddr, (USHORT)cchAddr, TRUE); /* by name, slot 4 */
        }
        PCWSTR pwszUrl = NULL;
        DWORD cchUrl = 0;
        hr = pHttpContext->GetServerVariable("URL", &pwszUrl, &cchUrl); /* PCWSTR form, slot 15 */
        if (SUCCEEDED(hr) && cchUrl == wcslen(L"/wide") && wcscmp(pwszUrl, L"/wide") == 0) {
            pResponse->SetHeader("X-Url-Is-Wide", "yes", 3, TRUE);
        }

        USHORT cchHost = 0;
        PCSTR pszHost = pRequest->GetHeader("Host", &cchHost);     /* by name, slot 2 */
        PCSTR pszAgent = pRequest->GetHeader(HttpHeaderUserAgent); /* by id with default argument, slot 3 */
        if (pszHost != NULL && pszAgent != NULL) {
            /* by id, slot 5 */
            pResponse->SetHeader(HttpHeaderServer, pszAgent, (USHORT)strlen(pszAgent), FALSE);
        }
        pResponse->SetStatus(202, "Accepted"); /* 4 default arguments */

        IHttpModuleContextContainer *pContainer = pHttpContext->GetModuleContextContainer();
        CRequestNote *pNote = new (std::nothrow) CRequestNote(cchHost);
        if (pNote != NULL && FAILED(pContainer->SetModuleContext(pNote, g_moduleId))) {
            pNote->CleanupStoredContext();
        }
        return RQ_NOTIFICATION_CONTINUE;
    }
    /* OnEndRequest is deliberately not overridden: the default body runs. */

    /* The object lives in request memory (see the factory): destroy, do not delete. */
    VOID Dispose() override { this->~CExtModule(); }
};

class CExtModuleFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *pAllocator) override
    {
        /* Placement into request memory: the server frees it, Dispose only destroys. */
        void *pv = pAllocator->AllocateMemory(sizeof(CExtModule));
        if (pv == NULL) {
            return E_OUTOFMEMORY;
        }
        *ppModule = new (pv) CExtModule;
        return S_OK;
    }
    VOID Terminate() override { delete this; }
};

class CExtGlobalModule final : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS
    OnGlobalConfigurationChange(IGlobalConfigurationChangeProvider *pProvider) override
    {
        PCWSTR pszPath = pProvider->GetChangePath();
        return (pszPath != NULL && wcscmp(pszPath, L"MACHINE/WEBROOT/APPHOST") == 0)
                   ? GL_NOTIFICATION_HANDLED
                   : GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS
    OnGlobalApplicationPreload(IGlobalApplicationPreloadProvider *pProvider) override
    {
        pProvider->SetErrorStatus(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));
        return GL_NOTIFICATION_HANDLED;
    }
    VOID Terminate() override { delete this; }
};

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    UNREFERENCED_PARAMETER(dwServerVersion);
    g_pHttpServer = pGlobalInfo;
    g_moduleId = pModuleInfo->GetId();

    CExtModuleFactory *pFactory = new (std::nothrow) CExtModuleFactory;
    if (pFactory == NULL) {
        return E_OUTOFMEMORY;
    }
    HRESULT hr = pModuleInfo->SetRequestNotifications(pFactory, RQ_BEGIN_REQUEST | RQ_END_REQUEST, 0);
    if (FAILED(hr)) {
        return hr;
    }
    hr = pModuleInfo->SetPriorityForRequestNotification(RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
    if (FAILED(hr)) {
        return hr;
    }
    CExtGlobalModule *pGlobal = new (std::nothrow) CExtGlobalModule;
    if (pGlobal == NULL) {
        return E_OUTOFMEMORY;
    }
    return pModuleInfo->SetGlobalNotifications(pGlobal, GL_CONFIGURATION_CHANGE | GL_APPLICATION_PRELOAD |
                                                            GL_HEALTH_CHECK);
}
