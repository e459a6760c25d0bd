// counter.cpp - a handler whose responses tell how often it ran, with the output-cache
// policy its query string asks for.
//
// RQ_PRE_EXECUTE_REQUEST_HANDLER (every request): sets X-Pre to a counter of
// the requests that reached this stage.
// RQ_EXECUTE_REQUEST_HANDLER (mapped as the handler of *.cnt): answers 200 with
// body "count=N" (N counts executions) and these query parameters applied
// through IHttpResponse::GetCachePolicy():
//   ttl=S     user cache policy TimeToLive for S seconds
//   kttl=S    kernel cache policy TimeToLive for S seconds
//   until=1   user cache policy UserInvalidates
//   vh=NAME   AppendVaryByHeader(NAME)
//   vq=NAME   AppendVaryByQueryString(NAME)
//   vv=VALUE  SetVaryByValue(VALUE)
//   off=1     DisableUserCache()
//   cookie=1  a Set-Cookie header
//   status=N  the status instead of 200
// X-Cached carries IsCached() as the handler saw it (always 0 here).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include "query_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace
{

volatile long g_executions;
volatile long g_pre;

class CCounterModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnPreExecuteRequestHandler(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        char value[32];
        snprintf(value, sizeof(value), "%ld", __sync_add_and_fetch(&g_pre, 1));
        pHttpContext->GetResponse()->SetHeader("X-Pre", value, (USHORT)strlen(value), TRUE);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS
    OnExecuteRequestHandler(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        PCSTR q = NULL;
        DWORD cch = 0;
        if (FAILED(pHttpContext->GetServerVariable("QUERY_STRING", &q, &cch)) || q == NULL)
            q = "";
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        IHttpCachePolicy *pPolicy = pResponse->GetCachePolicy();
        char value[128];
        if (QueryValue(q, "ttl", value, sizeof(value))) {
            pPolicy->GetUserCachePolicy()->Policy = HttpCachePolicyTimeToLive;
            pPolicy->GetUserCachePolicy()->SecondsToLive = (ULONG)atoi(value);
        }
        if (QueryValue(q, "kttl", value, sizeof(value))) {
            pPolicy->GetKernelCachePolicy()->Policy = HttpCachePolicyTimeToLive;
            pPolicy->GetKernelCachePolicy()->SecondsToLive = (ULONG)atoi(value);
        }
        if (QueryValue(q, "until", value, sizeof(value)))
            pPolicy->GetUserCachePolicy()->Policy = HttpCachePolicyUserInvalidates;
        if (QueryValue(q, "vh", value, sizeof(value)))
            pPolicy->AppendVaryByHeader(value);
        if (QueryValue(q, "vq", value, sizeof(value)))
            pPolicy->AppendVaryByQueryString(value);
        if (QueryValue(q, "vv", value, sizeof(value)))
            pPolicy->SetVaryByValue(value);
        if (QueryValue(q, "off", value, sizeof(value)))
            pPolicy->DisableUserCache();
        if (QueryValue(q, "cookie", value, sizeof(value)))
            pResponse->SetHeader(HttpHeaderSetCookie, "a=b", 3, TRUE);
        USHORT status = QueryValue(q, "status", value, sizeof(value)) ? (USHORT)atoi(value) : 200;
        pResponse->SetStatus(status, "Counted");
        pResponse->SetHeader("X-Cached", pPolicy->IsCached() ? "1" : "0", 1, TRUE);
        pResponse->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        int n = snprintf(m_body, sizeof(m_body), "count=%ld", __sync_add_and_fetch(&g_executions, 1));
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = m_body;
        chunk.FromMemory.BufferLength = (ULONG)n;
        DWORD cbSent = 0;
        pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
        return RQ_NOTIFICATION_CONTINUE; // so that RQ_UPDATE_REQUEST_CACHE runs
    }

  private:
    char m_body[64];
};

class CCounterFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CCounterModule();
        return S_OK;
    }
    void Terminate() { delete this; }
};

} // namespace

extern "C" HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(
        new CCounterFactory(), RQ_PRE_EXECUTE_REQUEST_HANDLER | RQ_EXECUTE_REQUEST_HANDLER, 0);
}
