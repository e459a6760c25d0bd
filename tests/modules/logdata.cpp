// logdata.cpp - reads and replaces the log record of a request in RQ_SEND_RESPONSE.
//
// Registered for RQ_SEND_RESPONSE at PRIORITY_ALIAS_HIGH (GetLogData answers FIRST and HIGH
// modules only). At the final send (GetReadyToLogData) it reads the record with GetLogData and
// reports it in response headers:
//   X-Log-Stem    UriStem (as UTF-8)        X-Log-Ip      ClientIp
//   X-Log-Method  Method                    X-Log-Query   UriQuery
//   X-Log-Port    ServerPort                X-Log-Status  ProtocolStatus
//   X-Log-Agent   UserAgent                 X-Log-Verb    MethodNum
// With "rewrite" in the query string it then replaces the record with SetLogData: a copy, on
// its stack, with UriStem "/rewritten/stem" and ClientIp "203.0.113.9" (so the server must copy
// what it is given). With "setvars" in the query string it sets the server variables
// REMOTE_ADDR to "198.51.100.7" and SERVER_PROTOCOL to "HTTP/9.9" instead.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>

namespace
{

void header(IHttpResponse *r, const char *name, const char *value, size_t n)
{
    r->SetHeader(name, value, (USHORT)n, TRUE);
}

void header(IHttpResponse *r, const char *name, const char *value)
{
    header(r, name, value != NULL ? value : "", value != NULL ? strlen(value) : 0);
}

class CLogDataModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnSendResponse(IHttpContext *ctx, ISendResponseProvider *p)
    {
        IHttpResponse *r = ctx->GetResponse();
        if (!p->GetReadyToLogData())
            return RQ_NOTIFICATION_CONTINUE;
        HTTP_LOG_FIELDS_DATA *d = (HTTP_LOG_FIELDS_DATA *)p->GetLogData();
        if (d == NULL || d->Base.Type != HttpLogDataTypeFields) {
            if (p->GetHeadersBeingSent())
                header(r, "X-Log-Stem", "none");
            return RQ_NOTIFICATION_CONTINUE;
        }
        if (p->GetHeadersBeingSent()) {
            char buf[512];
            size_t n = 0;
            for (size_t i = 0; i < d->UriStemLength / sizeof(WCHAR) && n + 1 < sizeof(buf); i++)
                buf[n++] = (char)d->UriStem[i];
            header(r, "X-Log-Stem", buf, n);
            header(r, "X-Log-Ip", d->ClientIp, d->ClientIpLength);
            header(r, "X-Log-Method", d->Method, d->MethodLength);
            header(r, "X-Log-Query", d->UriQuery, d->UriQueryLength);
            header(r, "X-Log-Agent", d->UserAgent, d->UserAgentLength);
            snprintf(buf, sizeof(buf), "%u", (unsigned)d->ServerPort);
            header(r, "X-Log-Port", buf);
            snprintf(buf, sizeof(buf), "%u.%u", (unsigned)d->ProtocolStatus, (unsigned)d->SubStatus);
            header(r, "X-Log-Status", buf);
            snprintf(buf, sizeof(buf), "%d", (int)d->MethodNum);
            header(r, "X-Log-Verb", buf);
        }
        PCSTR query = NULL;
        DWORD qn = 0;
        if (FAILED(ctx->GetServerVariable("QUERY_STRING", &query, &qn)) || query == NULL)
            return RQ_NOTIFICATION_CONTINUE;
        if (strstr(query, "setvars") != NULL) {
            ctx->SetServerVariable("REMOTE_ADDR", L"198.51.100.7");
            ctx->SetServerVariable("SERVER_PROTOCOL", L"HTTP/9.9");
            return RQ_NOTIFICATION_CONTINUE;
        }
        if (strstr(query, "rewrite") == NULL)
            return RQ_NOTIFICATION_CONTINUE;
        HTTP_LOG_FIELDS_DATA copy = *d;
        WCHAR stem[] = L"/rewritten/stem";
        char ip[] = "203.0.113.9";
        copy.UriStem = stem;
        copy.UriStemLength = (USHORT)(wcslen(stem) * sizeof(WCHAR));
        copy.ClientIp = ip;
        copy.ClientIpLength = (USHORT)strlen(ip);
        HRESULT hr = p->SetLogData(&copy.Base);
        memset(stem, 0, sizeof(stem)); // the server kept its own copy
        memset(ip, 0, sizeof(ip));
        if (FAILED(hr))
            header(r, "X-Log-Set", "failed");
        return RQ_NOTIFICATION_CONTINUE;
    }
};

class CLogDataFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CLogDataModule();
        return S_OK;
    }
    VOID Terminate() { delete this; }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *)
{
    HRESULT hr = info->SetRequestNotifications(new CLogDataFactory(), RQ_SEND_RESPONSE, 0);
    if (SUCCEEDED(hr))
        hr = info->SetPriorityForRequestNotification(RQ_SEND_RESPONSE, PRIORITY_ALIAS_HIGH);
    return hr;
}
