// request.cpp - conformance checks for IHttpRequest (and IHttpRequest2..4).
//
// Requests (sent by run.py):
//   GET  /request/basic?q=1   User-Agent: conf-agent, X-Conf: abc, Accept: text/a
//   GET  /request/seturl-a?keep=1   -> SetUrl(PCSTR) to /request/target-a
//   GET  /request/seturl-w?drop=1   -> SetUrl(PCWSTR) to /request/target-w, query reset
//   POST /request/body        body "0123456789"
// The targets answer "target <path>?<query>" so run.py sees where the request went.
#include "conformance.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace
{

IHttpServer *g_server;

bool eq(PCSTR a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

void basic(IHttpContext *ctx)
{
    IHttpRequest *req = ctx->GetRequest();
    const IHttpRequest *creq = req;

    HTTP_REQUEST *raw = req->GetRawHttpRequest();
    CHECK("IHttpRequest::GetRawHttpRequest", raw != NULL);
    if (raw != NULL) {
        CHECK("IHttpRequest::GetRawHttpRequest", raw->Verb == HttpVerbGET);
        CHECK("IHttpRequest::GetRawHttpRequest",
              raw->CookedUrl.pAbsPath != NULL &&
                  wcsncmp(raw->CookedUrl.pAbsPath, L"/request/basic", 14) == 0);
        CHECK("IHttpRequest::GetRawHttpRequest",
              eq(raw->Headers.KnownHeaders[HttpHeaderUserAgent].pRawValue, "conf-agent"));
    }
    const HTTP_REQUEST *craw = creq->GetRawHttpRequest();
    CHECK("IHttpRequest::GetRawHttpRequestConst", craw != NULL && craw == raw);

    USHORT len = 99;
    PCSTR v = req->GetHeader("X-Conf", &len);
    CHECK("IHttpRequest::GetHeaderByName", eq(v, "abc") && len == 3);
    len = 99;
    v = req->GetHeader("x-CONF", &len);
    CHECK("IHttpRequest::GetHeaderByName", eq(v, "abc") && len == 3); // names are case-insensitive
    len = 99;
    v = req->GetHeader("X-Missing", &len);
    CHECK("IHttpRequest::GetHeaderByName", v == NULL && len == 0);
    len = 99;
    v = req->GetHeader("User-Agent", &len); // a known header by name
    CHECK("IHttpRequest::GetHeaderByName", eq(v, "conf-agent") && len == 10);

    len = 99;
    v = req->GetHeader(HttpHeaderUserAgent, &len);
    CHECK("IHttpRequest::GetHeaderById", eq(v, "conf-agent") && len == 10);
    len = 99;
    v = req->GetHeader(HttpHeaderReferer, &len);
    CHECK("IHttpRequest::GetHeaderById", v == NULL && len == 0);

    CHECK("IHttpRequest::SetHeaderByName", req->SetHeader("X-New", "v1", 2, TRUE) == S_OK);
    CHECK("IHttpRequest::SetHeaderByName", eq(req->GetHeader("X-New"), "v1"));
    CHECK("IHttpRequest::SetHeaderByName", req->SetHeader("X-New", "v2", 2, FALSE) == S_OK);
    v = req->GetHeader("X-New", &len);
    CHECK("IHttpRequest::SetHeaderByName", v != NULL && strstr(v, "v1") == v && strstr(v, "v2") != NULL);
    CHECK("IHttpRequest::SetHeaderByName", req->SetHeader("X-New", "v3", 2, TRUE) == S_OK);
    CHECK("IHttpRequest::SetHeaderByName", eq(req->GetHeader("X-New"), "v3"));

    CHECK("IHttpRequest::SetHeaderByName", FAILED(req->SetHeader((PCSTR)NULL, "v", 1, TRUE)));
    CHECK("IHttpRequest::SetHeaderById", req->SetHeader(HttpHeaderAccept, "text/b", 6, TRUE) == S_OK);
    CHECK("IHttpRequest::SetHeaderById", eq(req->GetHeader(HttpHeaderAccept), "text/b"));
    CHECK("IHttpRequest::SetHeaderById", eq(req->GetHeader("Accept"), "text/b"));
    CHECK("IHttpRequest::SetHeaderById", req->SetHeader(HttpHeaderAccept, "text/c", 6, FALSE) == S_OK);
    v = req->GetHeader(HttpHeaderAccept);
    CHECK("IHttpRequest::SetHeaderById",
          v != NULL && strstr(v, "text/b") == v && strstr(v, "text/c") != NULL);

    CHECK("IHttpRequest::DeleteHeaderByName", req->DeleteHeader("X-New") == S_OK);
    len = 99;
    CHECK("IHttpRequest::DeleteHeaderByName", req->GetHeader("X-New", &len) == NULL && len == 0);
    CHECK("IHttpRequest::DeleteHeaderById", req->DeleteHeader(HttpHeaderAccept) == S_OK);
    len = 99;
    CHECK("IHttpRequest::DeleteHeaderById", req->GetHeader(HttpHeaderAccept, &len) == NULL && len == 0);

    CHECK("IHttpRequest::GetHttpMethod", eq(req->GetHttpMethod(), "GET"));
    CHECK("IHttpRequest::SetHttpMethod", req->SetHttpMethod("PUT") == S_OK);
    CHECK("IHttpRequest::SetHttpMethod", eq(req->GetHttpMethod(), "PUT"));
    CHECK("IHttpRequest::SetHttpMethod", req->SetHttpMethod("GET") == S_OK);
    CHECK("IHttpRequest::SetHttpMethod", FAILED(req->SetHttpMethod(NULL)));
    CHECK("IHttpRequest::SetHttpMethod", eq(req->GetHttpMethod(), "GET"));

    CHECK("IHttpRequest::GetUrlChanged", req->GetUrlChanged() == FALSE);

    PSOCKADDR local = req->GetLocalAddress();
    CHECK("IHttpRequest::GetLocalAddress", local != NULL && local->sa_family == AF_INET);
    if (local != NULL && local->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)local;
        CHECK("IHttpRequest::GetLocalAddress", ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK);
        std::string want = "127.0.0.1:" + std::to_string(ntohs(in->sin_port));
        PCSTR host = req->GetHeader(HttpHeaderHost); // run.py sends Host: 127.0.0.1:<port>
        CHECK("IHttpRequest::GetLocalAddress", eq(host, want.c_str()));
    }
    PSOCKADDR remote = req->GetRemoteAddress();
    CHECK("IHttpRequest::GetRemoteAddress", remote != NULL && remote->sa_family == AF_INET);
    if (remote != NULL && remote->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)remote;
        CHECK("IHttpRequest::GetRemoteAddress",
              ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK && in->sin_port != 0);
    }

    USHORT major = 0, minor = 0;
    req->GetHttpVersion(&major, &minor);
    CHECK("IHttpRequest::GetHttpVersion", major == 1 && minor == 1);

    CHECK("IHttpRequest::GetSiteId", req->GetSiteId() == 1);
    CHECK("IHttpRequest::GetSiteId", req->GetSiteId() == ctx->GetSite()->GetSiteId());

    CHECK("IHttpRequest::GetRemainingEntityBytes", req->GetRemainingEntityBytes() == 0);
    CHECK("IHttpRequest::GetForwardedUrl", req->GetForwardedUrl() == NULL);

    HTTP_SSL_CLIENT_CERT_INFO *cert = (HTTP_SSL_CLIENT_CERT_INFO *)1;
    BOOL negotiated = TRUE;
    HRESULT hr = req->GetClientCertificate(&cert, &negotiated);
    // plain HTTP: no certificate (the documented "not found" result)
    CHECK("IHttpRequest::GetClientCertificate",
          hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && cert == NULL && negotiated == FALSE);
}

void body(IHttpContext *ctx)
{
    IHttpRequest *req = ctx->GetRequest();
    CHECK("IHttpRequest::GetRemainingEntityBytes", req->GetRemainingEntityBytes() == 10);
    char buf[4];
    DWORD got = 0;
    BOOL pending = TRUE;
    HRESULT hr = req->ReadEntityBody(buf, sizeof(buf), FALSE, &got, &pending);
    CHECK("IHttpRequest::ReadEntityBody", hr == S_OK && got == 4 && memcmp(buf, "0123", 4) == 0 && !pending);
    CHECK("IHttpRequest::GetRemainingEntityBytes", req->GetRemainingEntityBytes() == 6);
    std::string rest;
    char big[64];
    for (int i = 0; i < 10; i++) {
        got = 0;
        hr = req->ReadEntityBody(big, sizeof(big), FALSE, &got, NULL);
        if (FAILED(hr))
            break;
        rest.append(big, got);
    }
    CHECK("IHttpRequest::ReadEntityBody", rest == "456789");
    CHECK("IHttpRequest::ReadEntityBody", hr == HRESULT_FROM_WIN32(ERROR_HANDLE_EOF));
    CHECK("IHttpRequest::GetRemainingEntityBytes", req->GetRemainingEntityBytes() == 0);
}

// POST /request/body-ex: body "0123456789" read with the IHttpRequest3 and IHttpRequest4
// overloads, synchronously (fAsync FALSE: no callback, the bytes are there on return)
void body_ex(IHttpContext *ctx)
{
    IHttpRequest3 *req3 = NULL;
    IHttpRequest4 *req4 = NULL;
    HttpGetExtendedInterface(g_server, ctx->GetRequest(), &req3);
    HttpGetExtendedInterface(g_server, ctx->GetRequest(), &req4);
    CHECK("IHttpRequest3::ReadEntityBodyEx", req3 != NULL);
    CHECK("IHttpRequest4::ReadEntityBodyWithFlags", req4 != NULL);
    if (req3 == NULL || req4 == NULL)
        return;
    char buf[16];
    DWORD got = 0;
    BOOL pending = TRUE;
    HRESULT hr = req3->ReadEntityBody(buf, 4, FALSE, NULL, NULL, &got, &pending);
    CHECK("IHttpRequest3::ReadEntityBodyEx",
          hr == S_OK && got == 4 && memcmp(buf, "0123", 4) == 0 && !pending);
    got = 0;
    pending = TRUE;
    hr = req4->ReadEntityBody(buf, sizeof(buf), FALSE, 0, &got, &pending);
    CHECK("IHttpRequest4::ReadEntityBodyWithFlags",
          hr == S_OK && got == 6 && memcmp(buf, "456789", 6) == 0 && !pending);
    hr = req4->ReadEntityBody(buf, sizeof(buf), FALSE, 0, &got, NULL);
    CHECK("IHttpRequest4::ReadEntityBodyWithFlags", hr == HRESULT_FROM_WIN32(ERROR_HANDLE_EOF));
}

void set_url(IHttpContext *ctx, bool wide)
{
    IHttpRequest *req = ctx->GetRequest();
    HRESULT hr;
    if (wide) {
        const wchar_t *url = L"/request/target-w";
        hr = req->SetUrl(url, (DWORD)wcslen(url), TRUE);
        CHECK("IHttpRequest::SetUrlW", hr == S_OK);
    } else {
        const char *url = "/request/target-a";
        hr = req->SetUrl(url, (DWORD)strlen(url), FALSE);
        CHECK("IHttpRequest::SetUrlA", hr == S_OK);
    }
    CHECK("IHttpRequest::GetUrlChanged", req->GetUrlChanged() == TRUE);
    HTTP_REQUEST *raw = req->GetRawHttpRequest();
    PCWSTR want = wide ? L"/request/target-w" : L"/request/target-a";
    CHECK(wide ? "IHttpRequest::SetUrlW" : "IHttpRequest::SetUrlA",
          raw != NULL && raw->CookedUrl.pAbsPath != NULL &&
              wcsncmp(raw->CookedUrl.pAbsPath, want, wcslen(want)) == 0);
    // a bad argument
    CHECK(wide ? "IHttpRequest::SetUrlW" : "IHttpRequest::SetUrlA",
          FAILED(wide ? req->SetUrl((PCWSTR)NULL, 0, FALSE) : req->SetUrl((PCSTR)NULL, 0, FALSE)));
}

class CRequestModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_under(ctx, "/request/"))
            return RQ_NOTIFICATION_CONTINUE;
        if (conf_is(ctx, "/request/basic")) {
            basic(ctx);
            return conf_reply(ctx, "basic done\n");
        }
        if (conf_is(ctx, "/request/body")) {
            body(ctx);
            return conf_reply(ctx, "body done\n");
        }
        if (conf_is(ctx, "/request/body-ex")) {
            body_ex(ctx);
            return conf_reply(ctx, "body-ex done\n");
        }
        if (conf_is(ctx, "/request/seturl-a"))
            set_url(ctx, false);
        else if (conf_is(ctx, "/request/seturl-w"))
            set_url(ctx, true);
        return RQ_NOTIFICATION_CONTINUE;
    }

    // the rewritten requests reach the later stages under their new URL
    REQUEST_NOTIFICATION_STATUS OnPreExecuteRequestHandler(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_under(ctx, "/request/target-"))
            return RQ_NOTIFICATION_CONTINUE;
        HTTP_REQUEST *raw = ctx->GetRequest()->GetRawHttpRequest();
        std::string text = "target " + conf_path(ctx) + "?";
        if (raw != NULL && raw->CookedUrl.pQueryString != NULL)
            for (PCWSTR q = raw->CookedUrl.pQueryString; *q; q++)
                if (*q != L'?')
                    text += (char)*q;
        text += "\n";
        return conf_reply(ctx, text.c_str());
    }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_server = server;
    return info->SetRequestNotifications(new ConfFactory<CRequestModule>(),
                                         RQ_BEGIN_REQUEST | RQ_PRE_EXECUTE_REQUEST_HANDLER, 0);
}
