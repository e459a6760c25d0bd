// hello.cpp - the smallest useful request module: answers every request
// with "Hello World" from RQ_BEGIN_REQUEST and ends the request there.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

class CMyHttpModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IN IHttpContext *pHttpContext, IN IHttpEventProvider *pProvider)
    {
        UNREFERENCED_PARAMETER(pProvider);

        IHttpResponse *pResponse = pHttpContext->GetResponse();
        if (pResponse == NULL)
            return RQ_NOTIFICATION_CONTINUE;

        // Start from an empty response, then describe the body.
        pResponse->Clear();
        static const char kType[] = "text/plain";
        pResponse->SetHeader(HttpHeaderContentType, kType, (USHORT)(sizeof(kType) - 1), TRUE);

        static char kText[] = "Hello World";
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = kText;
        chunk.FromMemory.BufferLength = (ULONG)(sizeof(kText) - 1);

        DWORD cbSent = 0;
        HRESULT hr = pResponse->WriteEntityChunks(&chunk, 1, FALSE, TRUE, &cbSent);
        if (FAILED(hr))
            pProvider->SetErrorStatus(hr);

        // Nothing else in the pipeline needs to see this request.
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CMyHttpModuleFactory final : public IHttpModuleFactory
{
  public:
    HRESULT
    GetHttpModule(OUT CHttpModule **ppModule, IN IModuleAllocator *pAllocator)
    {
        UNREFERENCED_PARAMETER(pAllocator);
        CMyHttpModule *pModule = new CMyHttpModule();
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
    return pModuleInfo->SetRequestNotifications(new CMyHttpModuleFactory, RQ_BEGIN_REQUEST, 0);
}
