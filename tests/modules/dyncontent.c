/*
 * dyncontent.c - dynamic responses for the compression tests, answered in
 * RQ_BEGIN_REQUEST for URLs whose last segment starts with "dyn" (others: CONTINUE).
 * The query string says what to send:
 *
 *   n=BYTES      body length (default 10000): lines "line NNNNNN: ...\n", cut to BYTES
 *   parts=K      write the body in K pieces with Flush(more data) between them
 *   type=T       Content-Type (default text/plain; "none" sends none)
 *   ce=E         a Content-Encoding header the module sets itself
 *   status=S     the status code (default 200)
 *   cl=1         set Content-Length to the body length before the first flush
 *   etag=1       set ETag "dyn1"
 *   raw=1        build the response through IHttpResponse::GetRawHttpResponse instead:
 *                status 201, Content-Language "x-raw" in KnownHeaders, an unknown
 *                header X-Raw: yes, and the body as one memory chunk in EntityChunks
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_module_base.h"

static const char *param(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = q; p && *p;) {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t k = strcspn(v, "&");
            if (k >= cap)
                k = cap - 1;
            memcpy(out, v, k);
            out[k] = '\0';
            return out;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return NULL;
}

static REQUEST_NOTIFICATION_STATUS dyn_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *prov)
{
    (void)This;
    PCSTR url = NULL, query = NULL;
    DWORD ul = 0, ql = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &ul)) || url == NULL ||
        strrchr(url, '/') == NULL || strncmp(strrchr(url, '/'), "/dyn", 4) != 0)
        return RQ_NOTIFICATION_CONTINUE;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &query, &ql)))
        query = "";
    char v[128];
    size_t n = param(query, "n", v, sizeof(v)) ? strtoul(v, NULL, 10) : 10000;
    unsigned parts = param(query, "parts", v, sizeof(v)) ? (unsigned)strtoul(v, NULL, 10) : 1;
    if (parts == 0)
        parts = 1;
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)n + 64);
    if (body == NULL)
        return RQ_NOTIFICATION_FINISH_REQUEST;
    for (size_t k = 0, line = 0; k < n; line++) {
        char l[64];
        int m = snprintf(l, sizeof(l), "line %06zu: the quick brown fox jumps over the lazy dog\n", line);
        size_t take = (size_t)m < n - k ? (size_t)m : n - k;
        memcpy(body + k, l, take);
        k += take;
    }
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    if (param(query, "raw", v, sizeof(v))) {
        static char lang[] = "x-raw";
        static HTTP_UNKNOWN_HEADER xraw = {5, 3, "X-Raw", "yes"};
        HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponse(resp);
        HTTP_DATA_CHUNK *c = ctx->lpVtbl->AllocateRequestMemory(ctx, sizeof(*c));
        if (raw == NULL || c == NULL)
            return RQ_NOTIFICATION_FINISH_REQUEST;
        memset(c, 0, sizeof(*c));
        c->DataChunkType = HttpDataChunkFromMemory;
        c->FromMemory.pBuffer = body;
        c->FromMemory.BufferLength = (ULONG)n;
        raw->StatusCode = 201;
        raw->pReason = "Created";
        raw->ReasonLength = 7;
        raw->Headers.KnownHeaders[HttpHeaderContentType].pRawValue = "text/plain";
        raw->Headers.KnownHeaders[HttpHeaderContentType].RawValueLength = 10;
        raw->Headers.KnownHeaders[HttpHeaderContentLanguage].pRawValue = lang;
        raw->Headers.KnownHeaders[HttpHeaderContentLanguage].RawValueLength = 5;
        raw->Headers.pUnknownHeaders = &xraw;
        raw->Headers.UnknownHeaderCount = 1;
        raw->pEntityChunks = c;
        raw->EntityChunkCount = 1;
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    if (param(query, "status", v, sizeof(v)))
        resp->lpVtbl->SetStatus(resp, (USHORT)strtoul(v, NULL, 10), "Status", 0, S_OK, NULL, FALSE);
    const char *type = param(query, "type", v, sizeof(v)) ? v : "text/plain";
    if (strcmp(type, "none") != 0)
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, type, (USHORT)strlen(type), TRUE);
    char ce[64];
    if (param(query, "ce", ce, sizeof(ce)))
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentEncoding, ce, (USHORT)strlen(ce), TRUE);
    if (param(query, "etag", v, sizeof(v)))
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderEtag, "\"dyn1\"", 6, TRUE);
    if (param(query, "cl", v, sizeof(v))) {
        char len[32];
        snprintf(len, sizeof(len), "%zu", n);
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentLength, len, (USHORT)strlen(len), TRUE);
    }
    size_t per = n / parts, off = 0;
    for (unsigned i = 0; i < parts; i++) {
        size_t len = i + 1 == parts ? n - off : per;
        HTTP_DATA_CHUNK c;
        memset(&c, 0, sizeof(c));
        c.DataChunkType = HttpDataChunkFromMemory;
        c.FromMemory.pBuffer = body + off;
        c.FromMemory.BufferLength = (ULONG)len;
        DWORD sent = 0;
        HRESULT hr =
            len ? resp->lpVtbl->WriteEntityChunks(resp, &c, 1, FALSE, i + 1 < parts, &sent, NULL) : S_OK;
        if (SUCCEEDED(hr) && i + 1 < parts)
            hr = resp->lpVtbl->Flush(resp, FALSE, TRUE, &sent, NULL);
        if (FAILED(hr)) {
            prov->lpVtbl->SetErrorStatus(prov, hr);
            break;
        }
        off += len;
    }
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static const CHttpModuleVtbl dyn_vtbl = CMB_VTBL_WITH_BEGIN(dyn_begin);

HRESULT WINAPI RegisterModule(DWORD ver, IHttpModuleRegistrationInfo *info, IHttpServer *srv)
{
    (void)ver, (void)srv;
    return cmb_register(info, &dyn_vtbl, RQ_BEGIN_REQUEST);
}
