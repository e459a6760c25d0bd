/*
 * async_c.c - asynchronous request-body reads through the C binding.
 *
 * RQ_BEGIN_REQUEST, for /c-aread: reads the body with ReadEntityBody(fAsync = TRUE), 8 bytes at
 * a time, until ERROR_HANDLE_EOF. A read that goes pending appends "AsyncC read-pending" to
 * $IISD_TEST_TRACE and the notification returns RQ_NOTIFICATION_PENDING; OnAsyncCompletion takes
 * the completion (bytes and status from IHttpCompletionInfo) and reads on. The answer is
 * "c pending=<n> completions=<k> body=<body>". Other URLs are left alone.
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

typedef struct {
    CHttpModule base;
    char buf[8];
    char body[4096];
    size_t len;
    int pending;
    int completions;
} async_c_t;

static void trace_line(const char *what)
{
    const char *path = getenv("IISD_TEST_TRACE");
    char line[128];
    int n, fd;
    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return;
    n = snprintf(line, sizeof(line), "AsyncC %s\n", what);
    if (write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}

static void take(async_c_t *m, DWORD n)
{
    if (n > sizeof(m->body) - m->len)
        n = (DWORD)(sizeof(m->body) - m->len);
    memcpy(m->body + m->len, m->buf, n);
    m->len += n;
}

static REQUEST_NOTIFICATION_STATUS answer(async_c_t *m, IHttpContext *ctx)
{
    IHttpResponse *response = ctx->lpVtbl->GetResponse(ctx);
    char *text = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)m->len + 64);
    HTTP_DATA_CHUNK chunk;
    DWORD sent = 0;
    int n;
    if (text == NULL)
        return RQ_NOTIFICATION_FINISH_REQUEST;
    n = snprintf(text, 64, "c pending=%d completions=%d body=", m->pending, m->completions);
    memcpy(text + n, m->body, m->len);
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = text;
    chunk.FromMemory.BufferLength = (ULONG)(n + (int)m->len);
    response->lpVtbl->WriteEntityChunks(response, &chunk, 1, FALSE, FALSE, &sent, NULL);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

/* Reads until the body ends (the answer) or a read goes pending. */
static REQUEST_NOTIFICATION_STATUS read_on(async_c_t *m, IHttpContext *ctx)
{
    IHttpRequest *request = ctx->lpVtbl->GetRequest(ctx);
    for (;;) {
        DWORD n = 0;
        BOOL pending = FALSE;
        HRESULT hr = request->lpVtbl->ReadEntityBody(request, m->buf, sizeof(m->buf), TRUE, &n, &pending);
        if (FAILED(hr))
            return answer(m, ctx);
        if (pending) {
            m->pending++;
            trace_line("read-pending");
            return RQ_NOTIFICATION_PENDING;
        }
        take(m, n);
    }
}

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    DWORD len = 0;
    PCWSTR url = ctx->lpVtbl->GetScriptName(ctx, &len);
    (void)p;
    if (len != 8 || wcsncmp(url, L"/c-aread", 8) != 0)
        return RQ_NOTIFICATION_CONTINUE;
    return read_on((async_c_t *)This, ctx);
}

static REQUEST_NOTIFICATION_STATUS on_async(CHttpModule *This, IHttpContext *ctx, DWORD notification,
                                            BOOL post, IHttpEventProvider *p, IHttpCompletionInfo *info)
{
    async_c_t *m = (async_c_t *)This;
    (void)notification, (void)post, (void)p;
    m->completions++;
    if (FAILED(info->lpVtbl->GetCompletionStatus(info)))
        return answer(m, ctx);
    take(m, info->lpVtbl->GetCompletionBytes(info));
    return read_on(m, ctx);
}

static CHttpModuleVtbl async_c_vtbl = CMB_VTBL_WITH_BEGIN(on_begin);

static HRESULT get_module(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    async_c_t *m = calloc(1, sizeof(*m));
    (void)This, (void)alloc;
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &async_c_vtbl;
    *pp = &m->base;
    return S_OK;
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = get_module, .Terminate = cmb_terminate};

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    IHttpModuleFactory *f = malloc(sizeof(*f));
    (void)dwServerVersion, (void)pGlobalInfo;
    if (f == NULL)
        return E_OUTOFMEMORY;
    async_c_vtbl.OnAsyncCompletion = on_async;
    f->lpVtbl = &factory_vtbl;
    return pModuleInfo->lpVtbl->SetRequestNotifications(pModuleInfo, f, RQ_BEGIN_REQUEST, 0);
}
