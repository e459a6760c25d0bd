/* IHttpResponse (1-4) over http/response.h. */
#include "core/log.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define P(This) HCTX_OF(This, resp)
#define RESP(h) (&(h)->c->req->resp)

static HTTP_RESPONSE *resp_GetRawHttpResponse(IHttpResponse4 *This)
{
    /* api-status: not implemented (returns NULL) */
    return NULL;
}

static const HTTP_RESPONSE *resp_GetRawHttpResponseConst(IHttpResponse4 *This)
{
    /* api-status: not implemented (returns NULL) */
    return NULL;
}

static IHttpCachePolicy *resp_GetCachePolicy(IHttpResponse4 *This)
{
    return iisd_cache_policy(P(This));
}

static HRESULT resp_SetStatus(IHttpResponse4 *This, USHORT code, PCSTR reason, USHORT sub, HRESULT hr,
                              IAppHostConfigException *ex, BOOL fTrySkipCustomErrors)
{
    iisd_hctx_t *h = P(This);
    iisd_resp_t *r = RESP(h);
    if (code < 100 || code > 999)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    r->status = code;
    r->substatus = sub;
    r->error_hr = hr;
    r->try_skip_custom_errors = fTrySkipCustomErrors != 0;
    if (reason != NULL) {
        size_t n = strlen(reason);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)reason[i] < 0x20 && reason[i] != '\t')
                return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
        r->reason = iisd_arena_strndup(h->arena, reason, n);
        r->reason_len = (uint16_t)(n > 0xffff ? 0xffff : n);
    } else {
        r->reason = NULL;
    }
    h->status_module = h->cur_module;
    h->status_notification = h->cur_notification;
    return S_OK;
}

static bool valid_value(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return false;
    return true;
}

static bool valid_name(const char *n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (*n == '\0')
        return false;
    for (; *n; n++) {
        unsigned char ch = (unsigned char)*n;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch != 0 && strchr(extra, ch) != NULL)))
            return false;
    }
    return true;
}

static HRESULT resp_SetHeaderByName(IHttpResponse4 *This, PCSTR name, PCSTR value, USHORT cch, BOOL fReplace)
{
    iisd_hctx_t *h = P(This);
    if (name == NULL || value == NULL || !valid_name(name))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!valid_value(value, cch))
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    iisd_resp_set_named(RESP(h), h->arena, name, strlen(name), value, cch, fReplace);
    return S_OK;
}

static HRESULT resp_SetHeaderById(IHttpResponse4 *This, HTTP_HEADER_ID id, PCSTR value, USHORT cch,
                                  BOOL fReplace)
{
    iisd_hctx_t *h = P(This);
    if ((unsigned)id >= IISD_HDR_RESP_KNOWN || value == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!valid_value(value, cch))
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    iisd_resp_set_known(RESP(h), h->arena, (int)id, value, cch, fReplace);
    return S_OK;
}

static HRESULT resp_DeleteHeaderByName(IHttpResponse4 *This, PCSTR name)
{
    if (name == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_resp_delete_named(RESP(P(This)), name, strlen(name));
    return S_OK;
}

static HRESULT resp_DeleteHeaderById(IHttpResponse4 *This, HTTP_HEADER_ID id)
{
    iisd_resp_t *r = RESP(P(This));
    if ((unsigned)id >= IISD_HDR_RESP_KNOWN)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_resp_delete_known(r, (int)id);
    return S_OK;
}

static PCSTR resp_GetHeaderByName(IHttpResponse4 *This, PCSTR name, USHORT *pcch)
{
    if (name == NULL) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    return iisd_resp_get_named(RESP(P(This)), name, strlen(name), pcch);
}

static PCSTR resp_GetHeaderById(IHttpResponse4 *This, HTTP_HEADER_ID id, USHORT *pcch)
{
    iisd_resp_t *r = RESP(P(This));
    if ((unsigned)id >= IISD_HDR_RESP_KNOWN) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    if (pcch)
        *pcch = r->known[id].value ? r->known[id].len : 0;
    return r->known[id].value;
}

static VOID resp_Clear(IHttpResponse4 *This)
{
    iisd_resp_t *r = RESP(P(This));
    if (!r->headers_sent)
        iisd_resp_clear(r);
    else
        iisd_resp_clear_body(r);
}

static VOID resp_ClearHeaders(IHttpResponse4 *This)
{
    iisd_resp_t *r = RESP(P(This));
    if (!r->headers_sent)
        iisd_resp_clear_headers(r);
}

static VOID resp_SetNeedDisconnect(IHttpResponse4 *This)
{
    RESP(P(This))->need_disconnect = true;
}

static VOID resp_ResetConnection(IHttpResponse4 *This)
{
    iisd_hctx_t *h = P(This);
    struct linger lg = {1, 0};
    setsockopt(h->c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    shutdown(h->c->io.fd, SHUT_RDWR);
    RESP(h)->need_disconnect = true;
}

/* api-status: implemented (iisd's output cache, HttpCacheModule, stands in for the kernel cache) */
static VOID resp_DisableKernelCache(IHttpResponse4 *This, ULONG reason)
{
    iisd_cache_policy_disable_kernel(P(This));
}

static BOOL resp_GetKernelCacheEnabled(IHttpResponse4 *This)
{
    return iisd_cache_policy_kernel_enabled(P(This));
}

static VOID resp_SuppressHeaders(IHttpResponse4 *This)
{
    RESP(P(This))->suppress_headers = true;
}

static BOOL resp_GetHeadersSuppressed(IHttpResponse4 *This)
{
    return RESP(P(This))->suppress_headers;
}

static HRESULT flush(iisd_hctx_t *h, BOOL fMoreData, DWORD *pcbSent)
{
    iisd_resp_t *r = RESP(h);
    uint64_t before = h->c->req->bytes_sent;
    (void)fMoreData;
    int rc = iisd_hctx_send(h, false);
    if (pcbSent)
        *pcbSent = (DWORD)(h->c->req->bytes_sent - before);
    (void)r;
    if (rc < 0)
        return HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED);
    return S_OK;
}

static HRESULT resp_Flush(IHttpResponse4 *This, BOOL fAsync, BOOL fMoreData, DWORD *pcbSent,
                          BOOL *pfCompletionExpected)
{
    /* api-status: partial: fAsync flushes complete synchronously (*pfCompletionExpected = FALSE) */
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    return flush(P(This), fMoreData, pcbSent);
}

static HRESULT resp_Redirect(IHttpResponse4 *This, PCSTR url, BOOL fResetStatusCode, BOOL fIncludeParameters)
{
    iisd_hctx_t *h = P(This);
    iisd_resp_t *r = RESP(h);
    if (url == NULL || !valid_value(url, strlen(url)))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (r->headers_sent)
        return HRESULT_FROM_WIN32(ERROR_INVALID_STATE);
    /* relative URLs become absolute */
    const char *host = h->c->req->head.known[IISD_H_HOST].value;
    char *abs;
    size_t ul = strlen(url);
    bool absolute = strstr(url, "://") != NULL;
    size_t cap = ul + h->url_len + h->query_len + (host ? strlen(host) : 0) + 64;
    abs = iisd_arena_alloc(h->arena, cap);
    if (absolute) {
        snprintf(abs, cap, "%s", url);
    } else {
        char hostbuf[80];
        if (host == NULL || *host == '\0') {
            snprintf(hostbuf, sizeof(hostbuf), "localhost:%u", ntohs(iisd_conn_local(h->c)->sin6_port));
            host = hostbuf;
        }
        if (url[0] == '/') {
            snprintf(abs, cap, "http://%s%s", host, url);
        } else {
            const char *slash = strrchr(h->url, '/');
            int dirlen = slash ? (int)(slash - h->url + 1) : 1;
            snprintf(abs, cap, "http://%s%.*s%s", host, dirlen, slash ? h->url : "/", url);
        }
    }
    if (fIncludeParameters && h->query_len > 0) {
        size_t n = strlen(abs);
        snprintf(abs + n, cap - n, "%c%.*s", strchr(abs, '?') ? '&' : '?', (int)h->query_len, h->query);
    }
    unsigned status = fResetStatusCode ? 302 : r->status;
    iisd_resp_clear(r);
    r->status = (uint16_t)status;
    iisd_resp_set_known(r, h->arena, IISD_RH_LOCATION, abs, strlen(abs), true);
    iisd_resp_set_known(r, h->arena, IISD_H_CONTENT_TYPE, "text/html; charset=UTF-8", 24, true);
    size_t blen = strlen(abs) * 2 + 160;
    char *body = iisd_arena_alloc(h->arena, blen);
    int n = snprintf(body, blen,
                     "<head><title>Document Moved</title></head>\r\n<body><h1>Object Moved</h1>"
                     "This document may be found <a HREF=\"%s\">here</a></body>",
                     abs);
    iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
    ch->type = IISD_CHUNK_MEM;
    ch->data = body;
    ch->len = (uint64_t)n;
    iisd_resp_append(r, ch);
    return S_OK;
}

static HRESULT add_chunk(iisd_hctx_t *h, const HTTP_DATA_CHUNK *d, bool copy, LONG pos)
{
    iisd_resp_t *r = RESP(h);
    if (r->nchunks >= 65535)
        return HRESULT_FROM_WIN32(ERROR_ARITHMETIC_OVERFLOW);
    iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
    switch (d->DataChunkType) {
    case HttpDataChunkFromMemory:
        ch->type = IISD_CHUNK_MEM;
        ch->len = d->FromMemory.BufferLength;
        if (ch->len > 0 && d->FromMemory.pBuffer == NULL)
            return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
        ch->data = copy && ch->len ? iisd_arena_memdup(h->arena, d->FromMemory.pBuffer, ch->len)
                                   : d->FromMemory.pBuffer;
        break;
    case HttpDataChunkFromFileHandle: {
        int fd = IisdHandleToFd(d->FromFileHandle.FileHandle);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
        uint64_t off = d->FromFileHandle.ByteRange.StartingOffset.QuadPart;
        uint64_t len = d->FromFileHandle.ByteRange.Length.QuadPart;
        if (off > (uint64_t)st.st_size)
            return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
        if (len == (uint64_t)-1 || off + len > (uint64_t)st.st_size)
            len = (uint64_t)st.st_size - off;
        ch->type = IISD_CHUNK_FILE;
        ch->fd = fd;
        ch->off = off;
        ch->len = len;
        break;
    }
    default:
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    }
    if (pos == 0)
        iisd_resp_prepend(r, ch);
    else
        iisd_resp_append(r, ch);
    return S_OK;
}

static HRESULT resp_WriteEntityChunkByReference(IHttpResponse4 *This, HTTP_DATA_CHUNK *chunk, LONG pos)
{
    if (chunk == NULL || (pos != 0 && pos != -1))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    return add_chunk(P(This), chunk, false, pos);
}

static HRESULT write_chunks(iisd_hctx_t *h, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fMoreData, DWORD *pcbSent)
{
    if (n > 0 && chunks == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_resp_t *r = RESP(h);
    uint64_t before = r->body_len;
    for (DWORD i = 0; i < n; i++) {
        HRESULT hr = add_chunk(h, &chunks[i], true, -1);
        if (FAILED(hr))
            return hr;
    }
    if (pcbSent)
        *pcbSent = (DWORD)(r->body_len - before);
    if (!r->buffering)
        return flush(h, fMoreData, NULL);
    return S_OK;
}

static HRESULT resp_WriteEntityChunks(IHttpResponse4 *This, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fAsync,
                                      BOOL fMoreData, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    /* api-status: partial: fAsync writes complete synchronously (*pfCompletionExpected = FALSE) */
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    return write_chunks(P(This), chunks, n, fMoreData, pcbSent);
}

static VOID resp_DisableBuffering(IHttpResponse4 *This)
{
    RESP(P(This))->buffering = false;
}

static VOID resp_GetStatus(IHttpResponse4 *This, USHORT *pStatus, USHORT *pSub, PCSTR *ppReason,
                           USHORT *pcchReason, HRESULT *phr, PCWSTR *ppModule, DWORD *pdwNotification,
                           IAppHostConfigException **ppEx, BOOL *pfTrySkip)
{
    iisd_hctx_t *h = P(This);
    iisd_resp_t *r = RESP(h);
    if (pStatus)
        *pStatus = r->status;
    if (pSub)
        *pSub = r->substatus;
    if (ppReason)
        *ppReason = r->reason ? r->reason : iisd_status_reason(r->status);
    if (pcchReason)
        *pcchReason = r->reason ? r->reason_len : (USHORT)strlen(iisd_status_reason(r->status));
    if (phr)
        *phr = r->error_hr;
    if (ppModule)
        *ppModule = h->status_module ? h->status_module->wname : NULL;
    if (pdwNotification)
        *pdwNotification = h->status_notification;
    if (ppEx)
        *ppEx = NULL;
    if (pfTrySkip)
        *pfTrySkip = r->try_skip_custom_errors;
}

static HRESULT resp_SetErrorDescription(IHttpResponse4 *This, PCWSTR desc, DWORD cch, BOOL fHtmlEncode)
{
    iisd_hctx_t *h = P(This);
    if (desc == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!fHtmlEncode) {
        h->err_desc = iisd_arena_alloc(h->arena, ((size_t)cch + 1) * sizeof(wchar_t));
        memcpy(h->err_desc, desc, (size_t)cch * sizeof(wchar_t));
        h->err_desc[cch] = 0;
        h->err_desc_len = cch;
        return S_OK;
    }
    wchar_t *out = iisd_arena_alloc(h->arena, ((size_t)cch * 6 + 1) * sizeof(wchar_t));
    size_t k = 0;
    for (DWORD i = 0; i < cch; i++) {
        const wchar_t *rep = desc[i] == L'<'   ? L"&lt;"
                             : desc[i] == L'>' ? L"&gt;"
                             : desc[i] == L'&' ? L"&amp;"
                             : desc[i] == L'"' ? L"&quot;"
                                               : NULL;
        if (rep) {
            while (*rep)
                out[k++] = *rep++;
        } else {
            out[k++] = desc[i];
        }
    }
    out[k] = 0;
    h->err_desc = out;
    h->err_desc_len = (DWORD)k;
    return S_OK;
}

static PCWSTR resp_GetErrorDescription(IHttpResponse4 *This, DWORD *pcch)
{
    iisd_hctx_t *h = P(This);
    if (pcch)
        *pcch = h->err_desc_len;
    return h->err_desc ? h->err_desc : L"";
}

static HRESULT resp_GetHeaderChanges(IHttpResponse4 *This, DWORD dwOld, DWORD *pdwNew, PCSTR known[],
                                     DWORD *pdwUnknown, PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[],
                                     DWORD *pdwDiffedUnknown, DWORD **ppDiffedUnknown)
{
    return E_NOTIMPL;
}

static VOID resp_CloseConnection(IHttpResponse4 *This)
{
    resp_ResetConnection(This);
}

static HRESULT resp_WriteEntityChunksEx(IHttpResponse4 *This, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fAsync,
                                        BOOL fMoreData, PFN_ASYNC_COMPLETION pfn, VOID *ctx, DWORD *pcbSent,
                                        BOOL *pfCompletionExpected)
{
    /* api-status: partial: completes synchronously; the callback is not called */
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    return write_chunks(P(This), chunks, n, fMoreData, pcbSent);
}

static HRESULT resp_FlushEx(IHttpResponse4 *This, BOOL fAsync, BOOL fMoreData, PFN_ASYNC_COMPLETION pfn,
                            VOID *ctx, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    /* api-status: partial: completes synchronously; the callback is not called */
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    return flush(P(This), fMoreData, pcbSent);
}

static HRESULT resp_PushPromise(IHttpResponse4 *This, PCSTR verb, PCWSTR path, PCWSTR query, DWORD n,
                                PCSTR *names, PCSTR *values)
{
    /* HTTP/1.1 has no server push */
    return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
}

static HRESULT resp_DeleteTrailer(IHttpResponse4 *This, PCSTR name)
{
    return E_NOTIMPL;
}

static PCSTR resp_GetTrailer(IHttpResponse4 *This, PCSTR name, USHORT *pcch)
{
    /* api-status: not implemented (returns NULL) */
    if (pcch)
        *pcch = 0;
    return NULL;
}

static VOID resp_ResetStream(IHttpResponse4 *This, ULONG err)
{
    /* api-status: partial: HTTP/1.1 has no streams; resets the connection */
    resp_ResetConnection(This);
}

static VOID resp_SetNeedGoAway(IHttpResponse4 *This)
{
    /* api-status: partial: HTTP/1.1 has no GOAWAY; closes the connection after this response */
    RESP(P(This))->need_disconnect = true;
}

static HRESULT resp_SetTrailer(IHttpResponse4 *This, PCSTR name, PCSTR value, USHORT cch, BOOL fReplace)
{
    return E_NOTIMPL;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpResponse4Vtbl v;
} resp_vtbl = {NULL,
               NULL,
               {
                   .GetRawHttpResponse = resp_GetRawHttpResponse,
                   .GetRawHttpResponseConst = resp_GetRawHttpResponseConst,
                   .GetCachePolicy = resp_GetCachePolicy,
                   .SetStatus = resp_SetStatus,
                   .SetHeaderByName = resp_SetHeaderByName,
                   .SetHeaderById = resp_SetHeaderById,
                   .DeleteHeaderByName = resp_DeleteHeaderByName,
                   .DeleteHeaderById = resp_DeleteHeaderById,
                   .GetHeaderByName = resp_GetHeaderByName,
                   .GetHeaderById = resp_GetHeaderById,
                   .Clear = resp_Clear,
                   .ClearHeaders = resp_ClearHeaders,
                   .SetNeedDisconnect = resp_SetNeedDisconnect,
                   .ResetConnection = resp_ResetConnection,
                   .DisableKernelCache = resp_DisableKernelCache,
                   .GetKernelCacheEnabled = resp_GetKernelCacheEnabled,
                   .SuppressHeaders = resp_SuppressHeaders,
                   .GetHeadersSuppressed = resp_GetHeadersSuppressed,
                   .Flush = resp_Flush,
                   .Redirect = resp_Redirect,
                   .WriteEntityChunkByReference = resp_WriteEntityChunkByReference,
                   .WriteEntityChunks = resp_WriteEntityChunks,
                   .DisableBuffering = resp_DisableBuffering,
                   .GetStatus = resp_GetStatus,
                   .SetErrorDescription = resp_SetErrorDescription,
                   .GetErrorDescription = resp_GetErrorDescription,
                   .GetHeaderChanges = resp_GetHeaderChanges,
                   .CloseConnection = resp_CloseConnection,
                   .WriteEntityChunksEx = resp_WriteEntityChunksEx,
                   .FlushEx = resp_FlushEx,
                   .PushPromise = resp_PushPromise,
                   .DeleteTrailer = resp_DeleteTrailer,
                   .GetTrailer = resp_GetTrailer,
                   .ResetStream = resp_ResetStream,
                   .SetNeedGoAway = resp_SetNeedGoAway,
                   .SetTrailer = resp_SetTrailer,
               }};

const IHttpResponse4Vtbl *const iisd_response_vtbl = &resp_vtbl.v;
