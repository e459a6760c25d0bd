// flush.cpp - a response whose length is unknown when it is first flushed.
//
// In RQ_EXECUTE_REQUEST_HANDLER, for URL /flush: writes "part1", calls
// Flush(FALSE, TRUE, ...) (more data to come), writes "part2" and ends the
// request with RQ_NOTIFICATION_FINISH_REQUEST. An HTTP/1.1 client must see a
// chunked response whose body is "part1part2". Other URLs: CONTINUE.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <string.h>

namespace
{

HRESULT
WriteText(IHttpResponse *pResponse, char *pszText, BOOL fMoreData)
{
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = pszText;
    chunk.FromMemory.BufferLength = (ULONG)strlen(pszText);
    DWORD cbSent = 0;
    return pResponse->WriteEntityChunks(&chunk, 1, FALSE, fMoreData, &cbSent);
}

class CFlushModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnExecuteRequestHandler(IHttpContext *pHttpContext, IHttpEventProvider *pProvider)
    {
        PCSTR pszUrl = NULL;
        DWORD cchUrl = 0;
        if (FAILED(pHttpContext->GetServerVariable("URL", &pszUrl, &cchUrl)) || pszUrl == NULL ||
            strcmp(pszUrl, "/flush") != 0)
            return RQ_NOTIFICATION_CONTINUE;

        static char kPart1[] = "part1";
        static char kPart2[] = "part2";
        static const char kType[] = "text/plain";

        IHttpResponse *pResponse = pHttpContext->GetResponse();
        pResponse->Clear();
        pResponse->SetHeader(HttpHeaderContentType, kType, (USHORT)(sizeof(kType) - 1), TRUE);

        HRESULT hr = WriteText(pResponse, kPart1, TRUE);
        DWORD cbSent = 0;
        if (SUCCEEDED(hr))
            hr = pResponse->Flush(FALSE, TRUE, &cbSent);
        if (SUCCEEDED(hr))
            hr = WriteText(pResponse, kPart2, FALSE);
        if (FAILED(hr))
            pProvider->SetErrorStatus(hr);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CFlushFactory final : public IHttpModuleFactory
{
  public:
    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CFlushModule;
        return S_OK;
    }

    VOID Terminate() { delete this; }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CFlushFactory, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
