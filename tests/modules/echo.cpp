// echo.cpp - request body echo.
//
// In RQ_EXECUTE_REQUEST_HANDLER, for URLs starting with /echo: reads the
// whole request body with synchronous ReadEntityBody calls (4096 bytes at a
// time, until HRESULT_FROM_WIN32(ERROR_HANDLE_EOF) or a 0-byte read) and
// sends it back as the response body (Content-Type application/octet-stream).
// Header X-Remaining-Before carries GetRemainingEntityBytes() as it was
// before the first read. Ends the request with RQ_NOTIFICATION_FINISH_REQUEST.
// Other URLs are left alone (CONTINUE).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>

#include <string>

namespace
{

class CEchoModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnExecuteRequestHandler(IHttpContext *pHttpContext, IHttpEventProvider *pProvider)
    {
        PCSTR pszUrl = NULL;
        DWORD cchUrl = 0;
        if (FAILED(pHttpContext->GetServerVariable("URL", &pszUrl, &cchUrl)) || pszUrl == NULL ||
            strncmp(pszUrl, "/echo", 5) != 0)
            return RQ_NOTIFICATION_CONTINUE;

        IHttpRequest *pRequest = pHttpContext->GetRequest();
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        char szRemaining[16];
        snprintf(szRemaining, sizeof(szRemaining), "%u", (unsigned)pRequest->GetRemainingEntityBytes());

        std::string body;
        char buffer[4096];
        for (;;) {
            DWORD cbRead = 0;
            HRESULT hr = pRequest->ReadEntityBody(buffer, sizeof(buffer), FALSE, &cbRead, NULL);
            if (hr == HRESULT_FROM_WIN32(ERROR_HANDLE_EOF))
                break;
            if (FAILED(hr)) {
                pProvider->SetErrorStatus(hr);
                pResponse->Clear();
                pResponse->SetStatus(500, "Body Read Failed");
                return RQ_NOTIFICATION_FINISH_REQUEST;
            }
            if (cbRead == 0)
                break;
            body.append(buffer, cbRead);
        }

        pResponse->Clear();
        static const char kType[] = "application/octet-stream";
        pResponse->SetHeader(HttpHeaderContentType, kType, (USHORT)(sizeof(kType) - 1), TRUE);
        pResponse->SetHeader("X-Remaining-Before", szRemaining, (USHORT)strlen(szRemaining), TRUE);

        if (!body.empty()) {
            // Request memory lives until the request is over, whatever the
            // server's buffering policy.
            void *pCopy = pHttpContext->AllocateRequestMemory((DWORD)body.size());
            if (pCopy == NULL) {
                pResponse->SetStatus(500, "Out Of Memory");
                return RQ_NOTIFICATION_FINISH_REQUEST;
            }
            memcpy(pCopy, body.data(), body.size());
            HTTP_DATA_CHUNK chunk;
            chunk.DataChunkType = HttpDataChunkFromMemory;
            chunk.FromMemory.pBuffer = pCopy;
            chunk.FromMemory.BufferLength = (ULONG)body.size();
            DWORD cbSent = 0;
            HRESULT hr = pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
            if (FAILED(hr))
                pProvider->SetErrorStatus(hr);
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CEchoFactory final : public IHttpModuleFactory
{
  public:
    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CEchoModule;
        return S_OK;
    }

    VOID Terminate() { delete this; }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CEchoFactory, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
