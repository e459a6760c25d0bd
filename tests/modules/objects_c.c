/*
 * objects_c.c - the newer per-request objects through the C (lpVtbl) binding. On RQ_BEGIN_REQUEST
 * for a query string "op=c" it answers, one "key=value" line each (text/plain):
 *   named     "a" set in the INamedContextContainer (IHttpContext3, by HttpGetExtendedInterface's
 *             C path) and read back: "ok"; its CleanupStoredContext traces "c-named cleanup".
 *   urlinfo   "1" when GetUrlInfo returns an IHttpUrlInfo with a module context container.
 *   conn      the requests seen on this connection, from IHttpConnectionModuleContextContainer's
 *             GetConnectionModuleContext/SetConnectionModuleContext; close traces "c-conn cleanup".
 *   perf      "ok" after IncrementCounter(the site, 7, 4) and DecrementCounter(the site, 7, 1).
 *   user      the anonymous user's authentication type in brackets, from GetUser ("[]"); none
 *             before RQ_AUTHENTICATE_REQUEST, so "none" here.
 * and sets the trailer X-C-Trailer: c-value through IHttpResponse4::SetTrailer.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "c_module_base.h"

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static void trace(const char *line)
{
    const char *path = getenv("IISD_TEST_TRACE");
    if (path == NULL || *path == '\0')
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, strlen(line));
    w = write(fd, "\n", 1);
    (void)w;
    close(fd);
}

static void *extended(void *in, REFGUID from, REFGUID to)
{
    void *p2 = NULL, *out = NULL;
    if (FAILED(g_server->lpVtbl->GetExtendedInterface(g_server, HTTP_SERVER_INTERFACE_V2, &p2)))
        return NULL;
    IHttpServer2 *s2 = p2;
    if (FAILED(s2->lpVtbl->GetExtendedInterfaceByGuid(s2, from, in, to, &out)))
        return NULL;
    return out;
}

/* ---- stored contexts ------------------------------------------------------------------ */

static VOID named_cleanup(IHttpStoredContext *This)
{
    trace("c-named cleanup");
    free(This);
}

static const IHttpStoredContextVtbl named_vtbl = {.CleanupStoredContext = named_cleanup};

typedef struct {
    IHttpConnectionStoredContext base;
    unsigned n;
} conn_ctx_t;

static VOID conn_cleanup(IHttpConnectionStoredContext *This)
{
    trace("c-conn cleanup");
    free(This);
}

static VOID conn_disconnect(IHttpConnectionStoredContext *This)
{
    (void)This;
}

static const IHttpConnectionStoredContextVtbl conn_vtbl = {.CleanupStoredContext = conn_cleanup,
                                                           .NotifyDisconnect = conn_disconnect};

/* ---- the request ------------------------------------------------------------------------ */

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    PCSTR q = NULL;
    DWORD ql = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &q, &ql)) || q == NULL ||
        strcmp(q, "op=c") != 0)
        return RQ_NOTIFICATION_CONTINUE;
    char body[512];
    size_t k = 0;

    IHttpContext3 *c3 = extended(ctx, &IID_IHttpContext, &IID_IHttpContext3);
    INamedContextContainer *nc = c3 ? c3->lpVtbl->GetNamedContextContainer(c3) : NULL;
    const char *named = "fail";
    if (nc != NULL) {
        IHttpStoredContext *s = malloc(sizeof(*s));
        s->lpVtbl = &named_vtbl;
        if (SUCCEEDED(nc->lpVtbl->SetNamedContext(nc, s, L"a")) && nc->lpVtbl->GetNamedContext(nc, L"a") == s)
            named = "ok";
    }
    k += (size_t)snprintf(body + k, sizeof(body) - k, "named=%s\n", named);

    IHttpUrlInfo *ui = ctx->lpVtbl->GetUrlInfo(ctx);
    k += (size_t)snprintf(body + k, sizeof(body) - k, "urlinfo=%d\n",
                          ui != NULL && ui->lpVtbl->GetModuleContextContainer(ui) != NULL);

    IHttpConnection *conn = ctx->lpVtbl->GetConnection(ctx);
    IHttpConnectionModuleContextContainer *cc = conn->lpVtbl->GetModuleContextContainer(conn);
    conn_ctx_t *cx = (conn_ctx_t *)cc->lpVtbl->GetConnectionModuleContext(cc, g_id);
    if (cx == NULL) {
        cx = calloc(1, sizeof(*cx));
        cx->base.lpVtbl = &conn_vtbl;
        cc->lpVtbl->SetConnectionModuleContext(cc, &cx->base, g_id);
    }
    k += (size_t)snprintf(body + k, sizeof(body) - k, "conn=%u\n", ++cx->n);

    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    IHttpPerfCounterInfo *perf = site->lpVtbl->GetPerfCounterInfo(site);
    if (perf != NULL) {
        perf->lpVtbl->IncrementCounter(perf, 7, 4);
        perf->lpVtbl->DecrementCounter(perf, 7, 1);
    }
    k += (size_t)snprintf(body + k, sizeof(body) - k, "perf=%s\n", perf ? "ok" : "none");
    k +=
        (size_t)snprintf(body + k, sizeof(body) - k, "user=%s\n", ctx->lpVtbl->GetUser(ctx) ? "set" : "none");

    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    IHttpResponse4 *r4 = extended(resp, &IID_IHttpResponse, &IID_IHttpResponse4);
    if (r4 != NULL)
        r4->lpVtbl->SetTrailer(r4, "X-C-Trailer", "c-value", 7, TRUE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/plain", 10, TRUE);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)k);
    memcpy(chunk.FromMemory.pBuffer, body, k);
    chunk.FromMemory.BufferLength = (ULONG)k;
    DWORD sent = 0;
    resp->lpVtbl->WriteEntityChunks(resp, &chunk, 1, FALSE, FALSE, &sent, NULL);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static const CHttpModuleVtbl module_vtbl = CMB_VTBL_WITH_BEGIN(on_begin);

__attribute__((visibility("default"))) HRESULT WINAPI RegisterModule(DWORD ver,
                                                                     IHttpModuleRegistrationInfo *info,
                                                                     IHttpServer *srv);
__attribute__((visibility("default"))) HRESULT WINAPI RegisterModule(DWORD ver,
                                                                     IHttpModuleRegistrationInfo *info,
                                                                     IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    return cmb_register(info, &module_vtbl, RQ_BEGIN_REQUEST);
}
