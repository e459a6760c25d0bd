/*
 * ProtocolSupportModule (system.webServer/httpProtocol):
 *  - RQ_SEND_RESPONSE, just before the headers go out: adds every
 *    <customHeaders> entry (replacing a value already set), and for 3xx
 *    responses every <redirectHeaders> entry too; allowKeepAlive="false"
 *    makes the response close the connection (Connection: close).
 *  - RQ_EXECUTE_REQUEST_HANDLER, as the handler for the OPTIONS and TRACE
 *    verbs (TRACEVerbHandler and OPTIONSVerbHandler in the default handlers):
 *    OPTIONS answers 200 with Allow and Public headers and an empty body.
 *    TRACE is off by default, as in IIS (where the TRACE verb is disabled
 *    unless explicitly allowed): the answer is 501 Not Implemented. It is
 *    enabled only when request filtering lists the verb explicitly,
 *    <verbs><add verb="TRACE" allowed="true" /></verbs>; the response then
 *    echoes the request head as message/http.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

static IHttpServer *g_server;

static const char allowed_verbs[] = "OPTIONS, TRACE, GET, HEAD, POST";

static void add_headers(IHttpResponse *resp, IAppHostElement *coll)
{
    unsigned n = modcfg_count(coll);
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        char name[256], value[4096];
        if (modcfg_str(it, L"name", name, sizeof(name), "") > 0) {
            modcfg_str(it, L"value", value, sizeof(value), "");
            resp->lpVtbl->SetHeaderByName(resp, name, value, (USHORT)strlen(value), TRUE);
        }
        modcfg_release(it);
    }
}

static REQUEST_NOTIFICATION_STATUS on_send_response(CHttpModule *This, IHttpContext *ctx,
                                                    ISendResponseProvider *p)
{
    (void)This;
    if (p != NULL && !p->lpVtbl->GetHeadersBeingSent(p))
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    IAppHostElement *s = modcfg_section(g_server, ctx, L"system.webServer/httpProtocol");
    if (s == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    IAppHostElement *ch = modcfg_child(s, L"customHeaders");
    add_headers(resp, ch);
    modcfg_release(ch);
    USHORT status = 0;
    resp->lpVtbl->GetStatus(resp, &status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (status >= 300 && status < 400) {
        IAppHostElement *rh = modcfg_child(s, L"redirectHeaders");
        add_headers(resp, rh);
        modcfg_release(rh);
    }
    if (!modcfg_bool(s, L"allowKeepAlive", true))
        resp->lpVtbl->SetNeedDisconnect(resp);
    modcfg_release(s);
    return RQ_NOTIFICATION_CONTINUE;
}

/* TRACE is answered only when request filtering allows it by name. */
static bool trace_enabled(IHttpContext *ctx)
{
    IAppHostElement *s = modcfg_section(g_server, ctx, L"system.webServer/security/requestFiltering");
    IAppHostElement *verbs = modcfg_child(s, L"verbs");
    bool on = false;
    unsigned n = modcfg_count(verbs);
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(verbs, i);
        char verb[64];
        if (modcfg_str(it, L"verb", verb, sizeof(verb), "") > 0 && strcasecmp(verb, "TRACE") == 0)
            on = modcfg_bool(it, L"allowed", true);
        modcfg_release(it);
    }
    modcfg_release(verbs);
    modcfg_release(s);
    return on;
}

static void append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + n >= cap)
        n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static void write_body(IHttpContext *ctx, IHttpResponse *resp, char *body, size_t n)
{
    if (n == 0)
        return;
    HTTP_DATA_CHUNK c;
    memset(&c, 0, sizeof(c));
    c.DataChunkType = HttpDataChunkFromMemory;
    c.FromMemory.pBuffer = body;
    c.FromMemory.BufferLength = (ULONG)n;
    DWORD sent;
    (void)ctx;
    resp->lpVtbl->WriteEntityChunks(resp, &c, 1, FALSE, FALSE, &sent, NULL);
}

static REQUEST_NOTIFICATION_STATUS answer_trace(IHttpContext *ctx)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    if (!trace_enabled(ctx)) {
        static char msg[] = "<!DOCTYPE html>\r\n<html><head><title>501 Not Implemented</title></head>"
                            "<body><h1>501 Not Implemented</h1></body></html>\r\n";
        resp->lpVtbl->SetStatus(resp, 501, "Not Implemented", 0, S_OK, NULL, FALSE);
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
        write_body(ctx, resp, msg, sizeof(msg) - 1);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    /* the request head as received, from the UNENCODED_URL, SERVER_PROTOCOL and ALL_RAW variables */
    PCSTR url = NULL, proto = NULL, headers = NULL;
    DWORD url_len = 0, proto_len = 0, headers_len = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "UNENCODED_URL", &url, &url_len)) || url == NULL)
        url = "/", url_len = 1;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "SERVER_PROTOCOL", &proto, &proto_len)) || proto == NULL)
        proto = "HTTP/1.1", proto_len = 8;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "ALL_RAW", &headers, &headers_len)) || headers == NULL)
        headers = "", headers_len = 0;
    const size_t cap = (size_t)url_len + proto_len + headers_len + 128;
    char *buf = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (buf == NULL)
        return RQ_NOTIFICATION_FINISH_REQUEST;
    size_t len = 0;
    buf[0] = '\0';
    const char *m = req->lpVtbl->GetHttpMethod(req);
    append(buf, cap, &len, m, strlen(m));
    append(buf, cap, &len, " ", 1);
    append(buf, cap, &len, url, url_len);
    append(buf, cap, &len, " ", 1);
    append(buf, cap, &len, proto, proto_len);
    append(buf, cap, &len, "\r\n", 2);
    append(buf, cap, &len, headers, headers_len);
    append(buf, cap, &len, "\r\n", 2);
    resp->lpVtbl->SetStatus(resp, 200, "OK", 0, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "message/http", 12, TRUE);
    write_body(ctx, resp, buf, len);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    (void)p;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *method = req->lpVtbl->GetHttpMethod(req);
    if (strcmp(method, "TRACE") == 0)
        return answer_trace(ctx);
    if (strcmp(method, "OPTIONS") != 0)
        return RQ_NOTIFICATION_CONTINUE;
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, 200, "OK", 0, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderAllow, allowed_verbs, (USHORT)strlen(allowed_verbs), TRUE);
    resp->lpVtbl->SetHeaderByName(resp, "Public", allowed_verbs, (USHORT)strlen(allowed_verbs), TRUE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentLength, "0", 1, TRUE);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static CHttpModuleVtbl ps_vtbl;
static CHttpModule ps_module = {&ps_vtbl};

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    (void)alloc;
    *pp = &ps_module; /* stateless: one shared object */
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This;
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

static VOID on_dispose(CHttpModule *This)
{
    (void)This;
}

HRESULT WINAPI IISD_MODULE_ENTRY(ProtocolSupportModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(ProtocolSupportModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                        IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    ps_vtbl.OnExecuteRequestHandler = on_execute;
    ps_vtbl.OnSendResponse = on_send_response;
    ps_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory,
                                                 RQ_EXECUTE_REQUEST_HANDLER | RQ_SEND_RESPONSE, 0);
}
