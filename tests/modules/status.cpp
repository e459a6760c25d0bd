// status.cpp - answers a request with the status it asks for.
//
// In RQ_BEGIN_REQUEST, for URLs starting with /status/, reads the query
// string: code=<status> sub=<substatus> skip=1 (SetStatus with
// fTrySkipCustomErrors) body=<text> (written as the response body)
// auth=<value> (set as WWW-Authenticate) and answers with
// SetStatus(code, "Test Reason", sub, E_ACCESSDENIED, NULL, skip), then
// finishes the request. Other URLs are left alone (CONTINUE).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include "query_value.h"

#include <stdlib.h>
#include <string.h>

namespace
{

class CStatusModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        PCSTR pszUrl = NULL, pszQuery = NULL;
        DWORD cch = 0;
        if (FAILED(pHttpContext->GetServerVariable("URL", &pszUrl, &cch)) || pszUrl == NULL ||
            strncmp(pszUrl, "/status/", 8) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        if (FAILED(pHttpContext->GetServerVariable("QUERY_STRING", &pszQuery, &cch)) || pszQuery == NULL)
            pszQuery = "";
        char value[256];
        USHORT code = QueryValue(pszQuery, "code", value, sizeof(value)) ? (USHORT)atoi(value) : 500;
        USHORT sub = QueryValue(pszQuery, "sub", value, sizeof(value)) ? (USHORT)atoi(value) : 0;
        BOOL skip = QueryValue(pszQuery, "skip", value, sizeof(value)) && strcmp(value, "1") == 0;
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        pResponse->Clear();
        pResponse->SetStatus(code, "Test Reason", sub, E_ACCESSDENIED, NULL, skip);
        if (QueryValue(pszQuery, "auth", m_szAuth, sizeof(m_szAuth)))
            pResponse->SetHeader(HttpHeaderWwwAuthenticate, m_szAuth, (USHORT)strlen(m_szAuth), TRUE);
        if (QueryValue(pszQuery, "body", m_szBody, sizeof(m_szBody))) {
            pResponse->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
            HTTP_DATA_CHUNK chunk;
            chunk.DataChunkType = HttpDataChunkFromMemory;
            chunk.FromMemory.pBuffer = m_szBody;
            chunk.FromMemory.BufferLength = (ULONG)strlen(m_szBody);
            DWORD cbSent = 0;
            pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

  private:
    char m_szAuth[256];
    char m_szBody[256];
};

class CStatusFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CStatusModule();
        return S_OK;
    }
    void Terminate() { delete this; }
};

} // namespace

extern "C" HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CStatusFactory(), RQ_BEGIN_REQUEST, 0);
}
