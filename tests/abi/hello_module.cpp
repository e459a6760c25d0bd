/*
 * hello_module.cpp - the smallest useful IIS-style module, written the way a
 * Windows module source is written (no iisd-specific code, RegisterModule
 * without extern "C"). run.sh builds it with `g++ -shared -fPIC -I include`,
 * checks its dynamic symbols with nm, and drives it from the C harness.
 *
 * Every request gets "200 OK", Content-Type text/plain and a fixed body.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <new>

static const char s_helloBody[] = "Hello from a native module";

class CHelloModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IN IHttpContext *pHttpContext,
                                               IN IHttpEventProvider *pProvider)
    {
        UNREFERENCED_PARAMETER(pProvider);

        IHttpResponse *pHttpResponse = pHttpContext->GetResponse();
        if (pHttpResponse == NULL) {
            return RQ_NOTIFICATION_CONTINUE;
        }
        pHttpResponse->Clear();
        pHttpResponse->SetStatus(200, "OK");
        pHttpResponse->SetHeader(HttpHeaderContentType, "text/plain", (USHORT)strlen("text/plain"), TRUE);

        HTTP_DATA_CHUNK dataChunk;
        dataChunk.DataChunkType = HttpDataChunkFromMemory;
        dataChunk.FromMemory.pBuffer = (PVOID)s_helloBody;
        dataChunk.FromMemory.BufferLength = (ULONG)strlen(s_helloBody);

        DWORD cbSent = 0;
        HRESULT hr = pHttpResponse->WriteEntityChunks(&dataChunk, 1, FALSE, TRUE, &cbSent);
        if (FAILED(hr)) {
            pHttpResponse->SetStatus(500, "Server Error", 0, hr);
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

/* Marked final so that `delete this` does not need a virtual destructor. */
class CHelloModuleFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(OUT CHttpModule **ppModule, IN IModuleAllocator *pAllocator)
    {
        UNREFERENCED_PARAMETER(pAllocator);

        CHelloModule *pModule = new (std::nothrow) CHelloModule;
        if (pModule == NULL) {
            return HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY);
        }
        *ppModule = pModule;
        return S_OK;
    }

    void Terminate() { delete this; }
};

HRESULT __stdcall RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                                 IHttpServer *pGlobalInfo)
{
    UNREFERENCED_PARAMETER(dwServerVersion);
    UNREFERENCED_PARAMETER(pGlobalInfo);

    CHelloModuleFactory *pFactory = new (std::nothrow) CHelloModuleFactory;
    if (pFactory == NULL) {
        return HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY);
    }
    return pModuleInfo->SetRequestNotifications(pFactory, RQ_BEGIN_REQUEST, 0);
}
