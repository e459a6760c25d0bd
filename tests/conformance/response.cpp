// response.cpp - conformance checks for IHttpResponse (and IHttpResponse2..4).
//
// Each request exercises a few methods in RQ_BEGIN_REQUEST and ends the
// request; run.py checks what the client receives (see RESPONSE in run.py).
#include "conformance.h"

namespace
{

IHttpServer *g_server;

bool eq(PCSTR a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

HRESULT write_ref(IHttpResponse *resp, const char *text, LONG where)
{
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = (PVOID)text; // a literal: lives as long as the module
    chunk.FromMemory.BufferLength = (ULONG)strlen(text);
    return resp->WriteEntityChunkByReference(&chunk, where);
}

// GET /response/headers: status 299 "Conf Status", X-A: 1 and 2, Content-Type text/x-conf,
// no X-Del, body "<hello world>"
void headers(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->GetResponse();
    const IHttpResponse *cresp = resp;

    CHECK("IHttpResponse::SetStatus", resp->SetStatus(299, "Conf Status") == S_OK);
    USHORT status = 0, sub = 99, cch = 0;
    PCSTR reason = NULL;
    resp->GetStatus(&status, &sub, &reason, &cch);
    CHECK("IHttpResponse::GetStatus", status == 299 && sub == 0 && eq(reason, "Conf Status") && cch == 11);
    CHECK("IHttpResponse::SetStatus", resp->SetStatus(299, "Conf Status", 7) == S_OK);
    resp->GetStatus(&status, &sub);
    CHECK("IHttpResponse::GetStatus", status == 299 && sub == 7);

    HTTP_RESPONSE *raw = resp->GetRawHttpResponse();
    CHECK("IHttpResponse::GetRawHttpResponse", raw != NULL && raw->StatusCode == 299);
    const HTTP_RESPONSE *craw = cresp->GetRawHttpResponse();
    CHECK("IHttpResponse::GetRawHttpResponseConst", craw != NULL && craw == raw);

    CHECK("IHttpResponse::SetHeaderByName", resp->SetHeader("X-A", "1", 1, TRUE) == S_OK);
    CHECK("IHttpResponse::SetHeaderByName", resp->SetHeader("X-A", "2", 1, FALSE) == S_OK);
    USHORT len = 0;
    PCSTR v = resp->GetHeader("X-A", &len);
    CHECK("IHttpResponse::GetHeaderByName",
          v != NULL && strstr(v, "1") != NULL && strstr(v, "2") != NULL && len == strlen(v));
    len = 99;
    CHECK("IHttpResponse::GetHeaderByName", resp->GetHeader("X-Nothing", &len) == NULL && len == 0);
    CHECK("IHttpResponse::SetHeaderByName", FAILED(resp->SetHeader((PCSTR)NULL, "x", 1, TRUE)));
    CHECK("IHttpResponse::SetHeaderByName", resp->SetHeader("X-B", "old", 3, TRUE) == S_OK);
    CHECK("IHttpResponse::SetHeaderByName", resp->SetHeader("X-B", "new", 3, TRUE) == S_OK);
    CHECK("IHttpResponse::GetHeaderByName", eq(resp->GetHeader("x-b"), "new"));

    CHECK("IHttpResponse::SetHeaderById",
          resp->SetHeader(HttpHeaderContentType, "text/x-conf", 11, TRUE) == S_OK);
    len = 0;
    CHECK("IHttpResponse::GetHeaderById",
          eq(resp->GetHeader(HttpHeaderContentType, &len), "text/x-conf") && len == 11);
    CHECK("IHttpResponse::GetHeaderById", eq(resp->GetHeader("Content-Type"), "text/x-conf"));
    len = 99;
    CHECK("IHttpResponse::GetHeaderById", resp->GetHeader(HttpHeaderExpires, &len) == NULL && len == 0);

    resp->SetHeader("X-Del", "x", 1, TRUE);
    CHECK("IHttpResponse::DeleteHeaderByName", resp->DeleteHeader("X-Del") == S_OK);
    CHECK("IHttpResponse::DeleteHeaderByName", resp->GetHeader("X-Del") == NULL);
    resp->SetHeader(HttpHeaderExpires, "0", 1, TRUE);
    CHECK("IHttpResponse::DeleteHeaderById", resp->DeleteHeader(HttpHeaderExpires) == S_OK);
    CHECK("IHttpResponse::DeleteHeaderById", resp->GetHeader(HttpHeaderExpires) == NULL);

    CHECK("IHttpResponse::GetCachePolicy", resp->GetCachePolicy() != NULL);
    CHECK("IHttpResponse::GetCachePolicy", resp->GetCachePolicy() == resp->GetCachePolicy());

    resp->DisableKernelCache();
    CHECK("IHttpResponse::DisableKernelCache", resp->GetKernelCacheEnabled() == FALSE);
    CHECK("IHttpResponse::GetKernelCacheEnabled", resp->GetKernelCacheEnabled() == FALSE);

    CHECK("IHttpResponse::GetHeadersSuppressed", resp->GetHeadersSuppressed() == FALSE);

    // trailers: kept with the response (sent to clients that accept them)
    IHttpResponse4 *resp4 = NULL;
    HttpGetExtendedInterface(g_server, resp, &resp4);
    if (resp4 != NULL) {
        CHECK("IHttpResponse4::SetTrailer", resp4->SetTrailer("X-Trailer", "t1", 2, TRUE) == S_OK);
        USHORT tl = 0;
        CHECK("IHttpResponse4::GetTrailer", eq(resp4->GetTrailer("X-Trailer", &tl), "t1") && tl == 2);
        tl = 99;
        CHECK("IHttpResponse4::GetTrailer", resp4->GetTrailer("X-No-Trailer", &tl) == NULL && tl == 0);
        CHECK("IHttpResponse4::DeleteTrailer", resp4->DeleteTrailer("X-Trailer") == S_OK);
        CHECK("IHttpResponse4::DeleteTrailer", resp4->GetTrailer("X-Trailer") == NULL);
    }
    CHECK("IHttpResponse4::SetTrailer", resp4 != NULL);

    // an HTTP/1.1 connection has no server push
    IHttpResponse3 *resp3 = NULL;
    HRESULT hr = HttpGetExtendedInterface(g_server, resp, &resp3);
    CHECK("IHttpResponse3::PushPromise", hr == S_OK && resp3 != NULL);
    if (resp3 != NULL)
        CHECK("IHttpResponse3::PushPromise",
              resp3->PushPromise("GET", L"/response/pushed", NULL, 0, NULL, NULL) ==
                  HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));

    const wchar_t *desc = L"<b>desc</b>";
    CHECK("IHttpResponse::SetErrorDescription", resp->SetErrorDescription(desc, 11, FALSE) == S_OK);
    DWORD dlen = 0;
    PCWSTR got = resp->GetErrorDescription(&dlen);
    CHECK("IHttpResponse::GetErrorDescription", conf_wide_eq(got, desc) && dlen == 11);
    CHECK("IHttpResponse::SetErrorDescription", resp->SetErrorDescription(desc, 11, TRUE) == S_OK);
    got = resp->GetErrorDescription(&dlen);
    CHECK("IHttpResponse::SetErrorDescription",
          conf_wide_is(got, "&lt;b&gt;desc&lt;/b&gt;") && dlen == wcslen(got));

    // body: "hello world" written as " world" by reference, then "hello" inserted before it,
    // then the brackets with WriteEntityChunks
    CHECK("IHttpResponse::WriteEntityChunkByReference", write_ref(resp, " world", -1) == S_OK);
    CHECK("IHttpResponse::WriteEntityChunkByReference", write_ref(resp, "hello", 0) == S_OK);
    HTTP_DATA_CHUNK chunks[1];
    chunks[0].DataChunkType = HttpDataChunkFromMemory;
    chunks[0].FromMemory.pBuffer = (PVOID) ">";
    chunks[0].FromMemory.BufferLength = 1;
    DWORD sent = 0;
    BOOL expected = TRUE;
    CHECK("IHttpResponse::WriteEntityChunks",
          resp->WriteEntityChunks(chunks, 1, FALSE, TRUE, &sent, &expected) == S_OK);
    CHECK("IHttpResponse::WriteEntityChunks", expected == FALSE);
    CHECK("IHttpResponse::WriteEntityChunkByReference", write_ref(resp, "<", 0) == S_OK);
}

// GET /response/clear: status 201, body "clean", no X-Gone / X-Gone2
void clear(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->GetResponse();
    resp->SetStatus(500, "Bad");
    resp->SetHeader("X-Gone", "yes", 3, TRUE);
    conf_write(ctx, "junk");
    // documented: empties headers, body and status (back to their defaults)
    resp->Clear();
    USHORT status = 0;
    resp->GetStatus(&status);
    CHECK("IHttpResponse::Clear", status == 200);
    CHECK("IHttpResponse::Clear", resp->GetHeader("X-Gone") == NULL);
    resp->SetStatus(201, "Created");
    resp->SetHeader("X-Gone2", "yes", 3, TRUE);
    resp->ClearHeaders();
    CHECK("IHttpResponse::ClearHeaders", resp->GetHeader("X-Gone2") == NULL);
    resp->GetStatus(&status);
    CHECK("IHttpResponse::ClearHeaders", status == 201);
    conf_write(ctx, "clean");
}

// GET /response/redirect?x=1: 302 to /response/elsewhere?x=1
void redirect(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->GetResponse();
    CHECK("IHttpResponse::Redirect", resp->Redirect("/response/elsewhere", TRUE, TRUE) == S_OK);
    USHORT status = 0;
    resp->GetStatus(&status);
    CHECK("IHttpResponse::Redirect", status == 302);
    PCSTR loc = resp->GetHeader(HttpHeaderLocation);
    CHECK("IHttpResponse::Redirect", loc != NULL && strstr(loc, "/response/elsewhere?x=1") != NULL);
    CHECK("IHttpResponse::Redirect", FAILED(resp->Redirect(NULL, TRUE, FALSE)));
}

// GET /response/flush: the headers go out with Flush; then more body
void flush(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->GetResponse();
    resp->SetStatus(200, "OK");
    resp->SetHeader("X-Flushed", "1", 1, TRUE);
    resp->DisableBuffering();
    conf_write(ctx, "one,");
    CHECK("IHttpResponse::DisableBuffering", ctx->GetResponseHeadersSent() == TRUE);
    conf_write(ctx, "two,");
    DWORD sent = 0;
    BOOL expected = TRUE;
    CHECK("IHttpResponse::Flush", resp->Flush(FALSE, TRUE, &sent, &expected) == S_OK && expected == FALSE);
    CHECK("IHttpContext::GetResponseHeadersSent", ctx->GetResponseHeadersSent() == TRUE);
    // headers can no longer change the response
    CHECK("IHttpResponse::Redirect",
          resp->Redirect("/x", TRUE, FALSE) == HRESULT_FROM_WIN32(ERROR_INVALID_STATE));
    conf_write(ctx, "three");
}

// GET /response/buffered: nothing is sent before the notification ends
void buffered(IHttpContext *ctx)
{
    conf_write(ctx, "buffered");
    CHECK("IHttpContext::GetResponseHeadersSent", ctx->GetResponseHeadersSent() == FALSE);
    DWORD sent = 0;
    CHECK("IHttpResponse::Flush", ctx->GetResponse()->Flush(FALSE, TRUE, &sent) == S_OK);
    CHECK("IHttpContext::GetResponseHeadersSent", ctx->GetResponseHeadersSent() == TRUE);
}

// GET /response/ex: "ex-one,ex-two" written and flushed with the IHttpResponse2 overloads,
// synchronously (fAsync FALSE: no callback)
void ex(IHttpContext *ctx)
{
    IHttpResponse2 *resp2 = NULL;
    HttpGetExtendedInterface(g_server, ctx->GetResponse(), &resp2);
    CHECK("IHttpResponse2::WriteEntityChunksEx", resp2 != NULL);
    CHECK("IHttpResponse2::FlushEx", resp2 != NULL);
    if (resp2 == NULL)
        return;
    resp2->SetStatus(200, "OK");
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = (PVOID) "ex-one,";
    chunk.FromMemory.BufferLength = 7;
    DWORD sent = 0;
    BOOL expected = TRUE;
    HRESULT hr = resp2->WriteEntityChunks(&chunk, 1, FALSE, TRUE, NULL, NULL, &sent, &expected);
    CHECK("IHttpResponse2::WriteEntityChunksEx", hr == S_OK && expected == FALSE);
    expected = TRUE;
    hr = resp2->Flush(FALSE, TRUE, NULL, NULL, &sent, &expected);
    CHECK("IHttpResponse2::FlushEx",
          hr == S_OK && expected == FALSE && ctx->GetResponseHeadersSent() == TRUE);
    chunk.FromMemory.pBuffer = (PVOID) "ex-two";
    chunk.FromMemory.BufferLength = 6;
    hr = resp2->WriteEntityChunks(&chunk, 1, FALSE, FALSE, NULL, NULL, &sent, NULL);
    CHECK("IHttpResponse2::WriteEntityChunksEx", hr == S_OK);
}

IHttpResponse4 *response4(IHttpContext *ctx)
{
    IHttpResponse4 *resp4 = NULL;
    HttpGetExtendedInterface(g_server, ctx->GetResponse(), &resp4);
    return resp4;
}

class CResponseModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_under(ctx, "/response/"))
            return RQ_NOTIFICATION_CONTINUE;
        IHttpResponse *resp = ctx->GetResponse();
        if (conf_is(ctx, "/response/headers"))
            headers(ctx);
        else if (conf_is(ctx, "/response/clear"))
            clear(ctx);
        else if (conf_is(ctx, "/response/redirect"))
            redirect(ctx);
        else if (conf_is(ctx, "/response/flush"))
            flush(ctx);
        else if (conf_is(ctx, "/response/buffered"))
            buffered(ctx);
        else if (conf_is(ctx, "/response/ex"))
            ex(ctx);
        else if (conf_is(ctx, "/response/goaway")) {
            IHttpResponse4 *resp4 = response4(ctx);
            CHECK("IHttpResponse4::SetNeedGoAway", resp4 != NULL); // run.py checks the connection closes
            if (resp4 != NULL)
                resp4->SetNeedGoAway();
            return conf_reply(ctx, "going away");
        } else if (conf_is(ctx, "/response/resetstream")) {
            IHttpResponse4 *resp4 = response4(ctx);
            CHECK("IHttpResponse4::ResetStream", resp4 != NULL); // run.py checks nothing is received
            conf_write(ctx, "never sent");
            if (resp4 != NULL)
                resp4->ResetStream(0);
        } else if (conf_is(ctx, "/response/disconnect")) {
            resp->SetNeedDisconnect();
            return conf_reply(ctx, "bye");
        } else if (conf_is(ctx, "/response/reset")) {
            conf_write(ctx, "never sent");
            resp->ResetConnection();
        } else if (conf_is(ctx, "/response/close")) {
            conf_write(ctx, "never sent");
            resp->CloseConnection();
        } else if (conf_is(ctx, "/response/suppress")) {
            resp->SuppressHeaders();
            CHECK("IHttpResponse::SuppressHeaders", resp->GetHeadersSuppressed() == TRUE);
            CHECK("IHttpResponse::GetHeadersSuppressed", resp->GetHeadersSuppressed() == TRUE);
            resp->SetNeedDisconnect(); // the client reads the body to the end of the connection
            conf_write(ctx, "raw body");
        } else
            return RQ_NOTIFICATION_CONTINUE;
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_server = server;
    return info->SetRequestNotifications(new ConfFactory<CResponseModule>(), RQ_BEGIN_REQUEST, 0);
}
