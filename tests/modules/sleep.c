/*
 * sleep.c - a C module (C binding) that answers every request from
 * RQ_BEGIN_REQUEST and ends it with RQ_NOTIFICATION_FINISH_REQUEST:
 *
 *   /sleep   blocks the calling thread for 2 seconds, then answers "slept";
 *   /vars    (or any URL whose last segment is "vars", e.g. /app/vars)
 *            answers with server variables read through the C binding:
 *              X-Method       REQUEST_METHOD          (GetServerVariableA)
 *              X-Query        QUERY_STRING
 *              X-Remote-Addr  REMOTE_ADDR
 *              X-Remote-Port  REMOTE_PORT
 *              X-Server-Port  SERVER_PORT
 *              X-Custom       HTTP_X_CUSTOM
 *              X-User-Agent   HTTP_USER_AGENT
 *              X-Url-W        URL                     (GetServerVariableW)
 *              X-Instance-Id        INSTANCE_ID
 *              X-Instance-Name      INSTANCE_NAME
 *              X-Appl-Md-Path       APPL_MD_PATH
 *              X-Appl-Physical-Path APPL_PHYSICAL_PATH
 *              X-Unknown-Hr   the HRESULT for NO_SUCH_VAR, "0x%08x"
 *            (a failed lookup shows as "hr=0x%08x"); the body is ALL_RAW;
 *   other    answers "fast".
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "c_module_base.h"

/* ---- the module ---------------------------------------------------------- */

static void write_text(IHttpContext *ctx, const char *text, DWORD length)
{
    IHttpResponse *response = ctx->lpVtbl->GetResponse(ctx);
    static const char content_type[] = "text/plain";
    HTTP_DATA_CHUNK chunk;
    DWORD sent = 0;
    void *copy = NULL;

    response->lpVtbl->SetHeaderById(response, HttpHeaderContentType, content_type,
                                    (USHORT)(sizeof(content_type) - 1), TRUE);
    if (length == 0)
        return;
    /* Request memory stays valid until the request is over. */
    copy = ctx->lpVtbl->AllocateRequestMemory(ctx, length);
    if (copy == NULL)
        return;
    memcpy(copy, text, length);
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = copy;
    chunk.FromMemory.BufferLength = length;
    response->lpVtbl->WriteEntityChunks(response, &chunk, 1, FALSE, FALSE, &sent, NULL);
}

static void set_header(IHttpContext *ctx, const char *name, const char *value)
{
    IHttpResponse *response = ctx->lpVtbl->GetResponse(ctx);
    response->lpVtbl->SetHeaderByName(response, name, value, (USHORT)strlen(value), TRUE);
}

/* Copies server variable `var` (8-bit form) into `out`, or "hr=0x..." on failure. */
static HRESULT variable_a(IHttpContext *ctx, const char *var, char *out, size_t out_size)
{
    PCSTR value = NULL;
    DWORD length = 0;
    HRESULT hr = ctx->lpVtbl->GetServerVariableA(ctx, var, &value, &length);

    if (FAILED(hr))
        snprintf(out, out_size, "hr=0x%08x", (unsigned)hr);
    else
        snprintf(out, out_size, "%s", value != NULL ? value : "");
    return hr;
}

/* Same through the wide (PCWSTR) overload, narrowed to ASCII. */
static void variable_w(IHttpContext *ctx, const char *var, char *out, size_t out_size)
{
    PCWSTR value = NULL;
    DWORD length = 0;
    HRESULT hr = ctx->lpVtbl->GetServerVariableW(ctx, var, &value, &length);
    size_t i;

    if (FAILED(hr)) {
        snprintf(out, out_size, "hr=0x%08x", (unsigned)hr);
        return;
    }
    for (i = 0; value != NULL && i < length && value[i] != L'\0' && i + 1 < out_size; i++)
        out[i] = (value[i] > 0 && value[i] < 0x7f) ? (char)value[i] : '?';
    out[i] = '\0';
}

static void sleep_two_seconds(void)
{
    struct timespec left = {2, 0};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static void answer_vars(IHttpContext *ctx)
{
    static const struct {
        const char *header;
        const char *variable;
    } vars[] = {
        {"X-Method", "REQUEST_METHOD"},
        {"X-Query", "QUERY_STRING"},
        {"X-Remote-Addr", "REMOTE_ADDR"},
        {"X-Remote-Port", "REMOTE_PORT"},
        {"X-Server-Port", "SERVER_PORT"},
        {"X-Custom", "HTTP_X_CUSTOM"},
        {"X-User-Agent", "HTTP_USER_AGENT"},
        {"X-Instance-Id", "INSTANCE_ID"},
        {"X-Instance-Name", "INSTANCE_NAME"},
        {"X-Appl-Md-Path", "APPL_MD_PATH"},
        {"X-Appl-Physical-Path", "APPL_PHYSICAL_PATH"},
    };
    char value[1024];
    PCSTR raw = NULL;
    DWORD raw_length = 0;
    PCSTR unused = NULL;
    DWORD unused_length = 0;
    HRESULT hr;
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        variable_a(ctx, vars[i].variable, value, sizeof(value));
        set_header(ctx, vars[i].header, value);
    }
    variable_w(ctx, "URL", value, sizeof(value));
    set_header(ctx, "X-Url-W", value);

    hr = ctx->lpVtbl->GetServerVariableA(ctx, "NO_SUCH_VAR", &unused, &unused_length);
    snprintf(value, sizeof(value), "0x%08x", (unsigned)hr);
    set_header(ctx, "X-Unknown-Hr", value);

    hr = ctx->lpVtbl->GetServerVariableA(ctx, "ALL_RAW", &raw, &raw_length);
    if (SUCCEEDED(hr) && raw != NULL)
        write_text(ctx, raw, (DWORD)strlen(raw));
    else
        write_text(ctx, "no ALL_RAW", 10);
}

/* "/vars", or a URL whose last segment is "vars" ("/app/vars"). */
static int is_vars_url(const char *url)
{
    size_t n = strlen(url);
    return n >= 5 && strcmp(url + n - 5, "/vars") == 0;
}

static REQUEST_NOTIFICATION_STATUS sleep_begin_request(CHttpModule *This, IHttpContext *pHttpContext,
                                                       IHttpEventProvider *pProvider)
{
    IHttpResponse *response = pHttpContext->lpVtbl->GetResponse(pHttpContext);
    char url[2048];

    (void)This, (void)pProvider;
    response->lpVtbl->Clear(response);
    variable_a(pHttpContext, "URL", url, sizeof(url));
    if (strcmp(url, "/sleep") == 0) {
        sleep_two_seconds();
        write_text(pHttpContext, "slept", 5);
    } else if (is_vars_url(url)) {
        answer_vars(pHttpContext);
    } else {
        write_text(pHttpContext, "fast", 4);
    }
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static const CHttpModuleVtbl sleep_module_vtbl = CMB_VTBL_WITH_BEGIN(sleep_begin_request);

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    (void)dwServerVersion, (void)pGlobalInfo;
    return cmb_register(pModuleInfo, &sleep_module_vtbl, RQ_BEGIN_REQUEST);
}
