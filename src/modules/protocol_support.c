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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

static IHttpServer *g_server;

static const char allowed_verbs[] = "OPTIONS, TRACE, GET, HEAD, POST";

typedef struct {
    bool keep_alive, trace;
    modcfg_list_t *custom, *redirect; /* name, value */
} ps_config_t;

static HTTP_MODULE_ID g_id;

static void ps_config_free(void *data)
{
    ps_config_t *c = data;
    if (c != NULL) {
        free(c->custom);
        free(c->redirect);
        free(c);
    }
}

static void *ps_config_load(IHttpServer *srv, IHttpContext *ctx)
{
    ps_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    IAppHostElement *s = modcfg_section(srv, ctx, L"system.webServer/httpProtocol");
    c->keep_alive = modcfg_bool(s, L"allowKeepAlive", true);
    IAppHostElement *ch = modcfg_child(s, L"customHeaders");
    c->custom = modcfg_list(ch, L"name", L"value", NULL, false);
    modcfg_release(ch);
    IAppHostElement *rh = modcfg_child(s, L"redirectHeaders");
    c->redirect = modcfg_list(rh, L"name", L"value", NULL, false);
    modcfg_release(rh);
    modcfg_release(s);

    /* TRACE is answered only when request filtering allows it by name. */
    IAppHostElement *rf = modcfg_section(srv, ctx, L"system.webServer/security/requestFiltering");
    IAppHostElement *verbs = modcfg_child(rf, L"verbs");
    modcfg_list_t *vl = modcfg_list(verbs, L"verb", NULL, L"allowed", true);
    for (unsigned i = 0; vl != NULL && i < vl->n; i++)
        if (strcasecmp(vl->item[i].s, "TRACE") == 0)
            c->trace = vl->item[i].flag;
    free(vl);
    modcfg_release(verbs);
    modcfg_release(rf);
    if (c->custom == NULL || c->redirect == NULL) {
        ps_config_free(c);
        return NULL;
    }
    return c;
}

static const ps_config_t *config(IHttpContext *ctx)
{
    return modcfg_cached(g_server, ctx, g_id, ps_config_load, ps_config_free);
}

static void add_headers(IHttpResponse *resp, const modcfg_list_t *l)
{
    for (unsigned i = 0; i < l->n; i++)
        resp->lpVtbl->SetHeaderByName(resp, l->item[i].s, l->item[i].v, (USHORT)l->item[i].vlen, TRUE);
}

static REQUEST_NOTIFICATION_STATUS on_send_response(CHttpModule *This, IHttpContext *ctx,
                                                    ISendResponseProvider *p)
{
    (void)This;
    if (p != NULL && !p->lpVtbl->GetHeadersBeingSent(p))
        return RQ_NOTIFICATION_CONTINUE;
    const ps_config_t *c = config(ctx);
    if (c == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    add_headers(resp, c->custom);
    if (c->redirect->n > 0) {
        USHORT status = 0;
        resp->lpVtbl->GetStatus(resp, &status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        if (status >= 300 && status < 400)
            add_headers(resp, c->redirect);
    }
    if (!c->keep_alive)
        resp->lpVtbl->SetNeedDisconnect(resp);
    return RQ_NOTIFICATION_CONTINUE;
}

static bool trace_enabled(IHttpContext *ctx)
{
    const ps_config_t *c = config(ctx);
    return c != NULL && c->trace;
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

static iisd_factory_t factory = IISD_FACTORY(ps_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(ProtocolSupportModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(ProtocolSupportModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                        IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    ps_vtbl.OnExecuteRequestHandler = on_execute;
    ps_vtbl.OnSendResponse = on_send_response;
    ps_vtbl.Dispose = iisd_module_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base,
                                                 RQ_EXECUTE_REQUEST_HANDLER | RQ_SEND_RESPONSE, 0);
}
