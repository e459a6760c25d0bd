// An IIS native module in the shape of the IIS "Hello World" walkthrough:
// it answers GET /hello with a plain-text greeting at RQ_BEGIN_REQUEST and
// lets every other request through. The same source builds for IIS.
//
// Its per-request instance lives in the request's own memory (IModuleAllocator),
// so a request costs no heap allocation; Dispose() therefore only destroys it.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <string.h>
#include <new>

class CHelloModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IN IHttpContext *pHttpContext,
                                               IN IHttpEventProvider *pProvider)
    {
        UNREFERENCED_PARAMETER(pProvider);
        PCWSTR url = pHttpContext->GetScriptName();
        if (url == NULL || wcscmp(url, L"/hello") != 0)
            return RQ_NOTIFICATION_CONTINUE;

        IHttpResponse *pResponse = pHttpContext->GetResponse();
        static char greeting[] = "Hello, World!";
        pResponse->Clear();
        pResponse->SetHeader(HttpHeaderContentType, "text/plain", (USHORT)strlen("text/plain"), TRUE);

        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = greeting;
        chunk.FromMemory.BufferLength = (USHORT)strlen(greeting);
        DWORD sent;
        HRESULT hr = pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
        if (FAILED(hr))
            pResponse->SetStatus(500, "Server Error", 0, hr);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    // The memory belongs to the request and goes with it.
    VOID Dispose() { this->~CHelloModule(); }
};

class CHelloModuleFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(OUT CHttpModule **ppModule, IN IModuleAllocator *pAllocator)
    {
        void *mem = pAllocator->AllocateMemory(sizeof(CHelloModule));
        if (mem == NULL)
            return HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY);
        *ppModule = new (mem) CHelloModule;
        return S_OK;
    }

    void Terminate() { delete this; }
};

HRESULT __stdcall RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                                 IHttpServer *pGlobalInfo)
{
    UNREFERENCED_PARAMETER(dwServerVersion);
    UNREFERENCED_PARAMETER(pGlobalInfo);
    return pModuleInfo->SetRequestNotifications(new CHelloModuleFactory, RQ_BEGIN_REQUEST, 0);
}
