/* IHttpRequest (1-4) over the parsed request head of http/conn.h. */
#include "core/log.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include <errno.h>
#include <string.h>

#define R(This) HCTX_OF(This, req)

/* api-status: implemented (the verb and headers a module changes in it are taken in; entity chunks stay
 * empty: read the body with ReadEntityBody) */
static HTTP_REQUEST *req_GetRawHttpRequest(IHttpRequest4 *This)
{
    return iisd_raw_req_get(R(This));
}

static const HTTP_REQUEST *req_GetRawHttpRequestConst(IHttpRequest4 *This)
{
    return iisd_raw_req_get(R(This));
}

/* Around the calls that read or change the request: take in the module's raw edits, then mirror ours. */
#define RAWQ_IN(h)                                                                                           \
    do {                                                                                                     \
        if ((h)->raw_req)                                                                                    \
            iisd_raw_req_sync(h);                                                                            \
    } while (0)
#define RAWQ_OUT(h)                                                                                          \
    do {                                                                                                     \
        if ((h)->raw_req)                                                                                    \
            iisd_raw_req_export(h);                                                                          \
    } while (0)

static const iisd_field_t *find_unknown(const iisd_head_t *hd, const char *name, size_t len, int *idx)
{
    for (int i = 0; i < hd->unknown_count; i++)
        if (iisd_strcaseeq(hd->unknown[i].name, hd->unknown[i].name_len, name, len)) {
            if (idx)
                *idx = i;
            return &hd->unknown[i];
        }
    return NULL;
}

static PCSTR req_GetHeaderById(IHttpRequest4 *This, HTTP_HEADER_ID id, USHORT *pcch)
{
    RAWQ_IN(R(This));
    const iisd_head_t *hd = &R(This)->rq->head;
    if ((unsigned)id >= IISD_HDR_REQ_KNOWN) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    if (pcch)
        *pcch = hd->known[id].value ? hd->known[id].len : 0;
    return hd->known[id].value;
}

static PCSTR req_GetHeaderByName(IHttpRequest4 *This, PCSTR name, USHORT *pcch)
{
    RAWQ_IN(R(This));
    const iisd_head_t *hd = &R(This)->rq->head;
    if (name == NULL) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    size_t len = strlen(name);
    int id = iisd_req_hdr_lookup(name, len);
    if (id >= 0)
        return req_GetHeaderById(This, (HTTP_HEADER_ID)id, pcch);
    const iisd_field_t *f = find_unknown(hd, name, len, NULL);
    if (pcch)
        *pcch = f ? f->value_len : 0;
    return f ? f->value : NULL;
}

static char *join_value(iisd_arena_t *a, const char *old, size_t olen, const char *v, size_t n, size_t *out)
{
    char *p = iisd_arena_alloc(a, olen + n + 3);
    memcpy(p, old, olen);
    memcpy(p + olen, ", ", 2);
    memcpy(p + olen + 2, v, n);
    p[olen + 2 + n] = '\0';
    *out = olen + 2 + n;
    return p;
}

static bool valid_value(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
            return false;
    return true;
}

static HRESULT req_SetHeaderById_do(IHttpRequest4 *This, HTTP_HEADER_ID id, PCSTR value, USHORT cch,
                                    BOOL fReplace)
{
    iisd_hctx_t *h = R(This);
    iisd_head_t *hd = &h->rq->head;
    if ((unsigned)id >= IISD_HDR_REQ_KNOWN || value == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!valid_value(value, cch))
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    if (!fReplace && hd->known[id].value != NULL) {
        size_t n;
        hd->known[id].value = join_value(h->arena, hd->known[id].value, hd->known[id].len, value, cch, &n);
        hd->known[id].len = (uint16_t)(n > 0xffff ? 0xffff : n);
    } else {
        hd->known[id].value = iisd_arena_strndup(h->arena, value, cch);
        hd->known[id].len = cch;
    }
    return S_OK;
}

static HRESULT req_SetHeaderById(IHttpRequest4 *This, HTTP_HEADER_ID id, PCSTR value, USHORT cch,
                                 BOOL fReplace)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_SetHeaderById_do(This, id, value, cch, fReplace);
    RAWQ_OUT(hx);
    return hr;
}

static HRESULT req_SetHeaderByName_do(IHttpRequest4 *This, PCSTR name, PCSTR value, USHORT cch, BOOL fReplace)
{
    iisd_hctx_t *h = R(This);
    iisd_head_t *hd = &h->rq->head;
    if (name == NULL || value == NULL || *name == '\0')
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    size_t len = strlen(name);
    int id = iisd_req_hdr_lookup(name, len);
    if (id >= 0)
        return req_SetHeaderById_do(This, (HTTP_HEADER_ID)id, value, cch, fReplace);
    if (!valid_value(value, cch))
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    int idx;
    iisd_field_t *f = (iisd_field_t *)find_unknown(hd, name, len, &idx);
    if (f != NULL) {
        if (fReplace) {
            f->value = iisd_arena_strndup(h->arena, value, cch);
            f->value_len = cch;
        } else {
            size_t n;
            f->value = join_value(h->arena, f->value, f->value_len, value, cch, &n);
            f->value_len = (uint16_t)(n > 0xffff ? 0xffff : n);
        }
        return S_OK;
    }
    if (hd->unknown_count == hd->unknown_cap) {
        uint16_t cap = (uint16_t)(hd->unknown_cap * 2 + 8);
        iisd_field_t *nu = iisd_arena_alloc(h->arena, cap * sizeof(*nu));
        memcpy(nu, hd->unknown, hd->unknown_count * sizeof(*nu));
        hd->unknown = nu;
        hd->unknown_cap = cap;
    }
    f = &hd->unknown[hd->unknown_count++];
    f->name = iisd_arena_strndup(h->arena, name, len);
    f->name_len = (uint16_t)len;
    f->value = iisd_arena_strndup(h->arena, value, cch);
    f->value_len = cch;
    return S_OK;
}

static HRESULT req_SetHeaderByName(IHttpRequest4 *This, PCSTR name, PCSTR value, USHORT cch, BOOL fReplace)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_SetHeaderByName_do(This, name, value, cch, fReplace);
    RAWQ_OUT(hx);
    return hr;
}

static HRESULT req_DeleteHeaderById_do(IHttpRequest4 *This, HTTP_HEADER_ID id)
{
    iisd_head_t *hd = &R(This)->rq->head;
    if ((unsigned)id >= IISD_HDR_REQ_KNOWN)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    hd->known[id].value = NULL;
    hd->known[id].len = 0;
    return S_OK;
}

static HRESULT req_DeleteHeaderById(IHttpRequest4 *This, HTTP_HEADER_ID id)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_DeleteHeaderById_do(This, id);
    RAWQ_OUT(hx);
    return hr;
}

static HRESULT req_DeleteHeaderByName_do(IHttpRequest4 *This, PCSTR name)
{
    iisd_head_t *hd = &R(This)->rq->head;
    if (name == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    size_t len = strlen(name);
    int id = iisd_req_hdr_lookup(name, len);
    if (id >= 0)
        return req_DeleteHeaderById_do(This, (HTTP_HEADER_ID)id);
    int idx;
    if (find_unknown(hd, name, len, &idx) != NULL) {
        memmove(&hd->unknown[idx], &hd->unknown[idx + 1],
                (size_t)(hd->unknown_count - idx - 1) * sizeof(hd->unknown[0]));
        hd->unknown_count--;
    }
    return S_OK;
}

static HRESULT req_DeleteHeaderByName(IHttpRequest4 *This, PCSTR name)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_DeleteHeaderByName_do(This, name);
    RAWQ_OUT(hx);
    return hr;
}

static PCSTR req_GetHttpMethod(IHttpRequest4 *This)
{
    iisd_hctx_t *h = R(This);
    return h->method ? h->method : h->rq->head.method;
}

static HRESULT req_SetHttpMethod_do(IHttpRequest4 *This, PCSTR method)
{
    iisd_hctx_t *h = R(This);
    if (method == NULL || *method == '\0')
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    for (const char *p = method; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    h->method = iisd_arena_strndup(h->arena, method, strlen(method));
    h->rq->is_head = strcmp(method, "HEAD") == 0;
    return S_OK;
}

static HRESULT req_SetHttpMethod(IHttpRequest4 *This, PCSTR method)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_SetHttpMethod_do(This, method);
    RAWQ_OUT(hx);
    return hr;
}

/* SetUrl: a new path (and optionally query) for the rest of the pipeline. */
static HRESULT set_url(iisd_hctx_t *h, const char *url, size_t n, BOOL reset_query)
{
    const char *q = memchr(url, '?', n);
    size_t plen = q ? (size_t)(q - url) : n;
    if (plen == 0 || url[0] != '/')
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    char *out = iisd_arena_alloc(h->arena, plen + 2);
    int len = iisd_url_normalize(url, plen, out, NULL);
    if (len < 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    h->url = out;
    h->url_len = (size_t)len;
    h->wurl = NULL;
    h->wphys = NULL;
    if (q != NULL) {
        h->query = iisd_arena_strndup(h->arena, q + 1, n - plen - 1);
        h->query_len = n - plen - 1;
    } else if (reset_query) {
        h->query = "";
        h->query_len = 0;
    }
    h->url_changed = true;
    return S_OK;
}

static HRESULT req_SetUrlW_do(IHttpRequest4 *This, PCWSTR url, DWORD cch, BOOL reset)
{
    iisd_hctx_t *h = R(This);
    if (url == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    size_t n;
    char *u = iisd_arena_utf8_from_wcs(h->arena, url, cch, &n);
    return set_url(h, u, n, reset);
}

static HRESULT req_SetUrlW(IHttpRequest4 *This, PCWSTR url, DWORD cch, BOOL reset)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_SetUrlW_do(This, url, cch, reset);
    RAWQ_OUT(hx);
    return hr;
}

static HRESULT req_SetUrlA_do(IHttpRequest4 *This, PCSTR url, DWORD cch, BOOL reset)
{
    if (url == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    return set_url(R(This), url, cch, reset);
}

static HRESULT req_SetUrlA(IHttpRequest4 *This, PCSTR url, DWORD cch, BOOL reset)
{
    iisd_hctx_t *hx = R(This);
    RAWQ_IN(hx);
    HRESULT hr = req_SetUrlA_do(This, url, cch, reset);
    RAWQ_OUT(hx);
    return hr;
}

static BOOL req_GetUrlChanged(IHttpRequest4 *This)
{
    return R(This)->url_changed;
}

/* api-status: partial: always NULL (URLs set with SetUrl are always local) */
static PCWSTR req_GetForwardedUrl(IHttpRequest4 *This)
{
    return NULL;
}

static PSOCKADDR req_GetLocalAddress(IHttpRequest4 *This)
{
    return (PSOCKADDR)iisd_conn_local(R(This)->c);
}

static PSOCKADDR req_GetRemoteAddress(IHttpRequest4 *This)
{
    return (PSOCKADDR)&R(This)->c->remote;
}

static DWORD last_read_notify(iisd_hctx_t *h, void *buf, DWORD n, DWORD cap);

/* InsertEntityBody: module buffers read before what the client has not sent yet. */
typedef struct iisd_inserted {
    struct iisd_inserted *next;
    const char *p;
    DWORD len;
} iisd_inserted_t;

/* Copies from the inserted buffers; returns the byte count (0: none left). */
static DWORD read_inserted(iisd_hctx_t *h, char *buf, DWORD cap)
{
    DWORD n = 0;
    while (h->inserted != NULL && n < cap) {
        iisd_inserted_t *in = h->inserted;
        DWORD k = in->len < cap - n ? in->len : cap - n;
        memcpy(buf + n, in->p, k);
        n += k;
        in->p += k;
        in->len -= k;
        if (in->len == 0)
            h->inserted = in->next;
    }
    return n;
}

static HRESULT read_error(ssize_t n)
{
    if (n == 0)
        return HRESULT_FROM_WIN32(ERROR_HANDLE_EOF);
    switch (-n) {
    case ETIMEDOUT:
        return HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    case EFBIG:
        return HRESULT_FROM_WIN32(ERROR_ARITHMETIC_OVERFLOW);
    case EPROTO:
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    default:
        return HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED);
    }
}

/*
 * Reads into buf[*got..cap): inserted buffers first, then the client's body. `fill` goes on until
 * the buffer is full or the body ends. Returns 1 when done (the result in *hr: S_OK with
 * *got > 0, or the end of the body or an error with *got == 0), 0 when `wait` is false and no
 * input is there yet (and, with `fill`, the buffer is not full).
 */
static int read_some(iisd_hctx_t *h, char *buf, DWORD cap, DWORD *got, bool fill, bool wait, HRESULT *hr)
{
    *got += read_inserted(h, buf + *got, cap - *got);
    while (*got < cap && (*got == 0 || fill)) {
        ssize_t n = iisd_conn_read_body(h->c, buf + *got, cap - *got, wait);
        if (n == -EAGAIN)
            return 0;
        if (n <= 0) {
            if (*got > 0)
                break; /* the data now; the end of the body or the error with the next read */
            *hr = read_error(n);
            return 1;
        }
        *got += (DWORD)n;
    }
    *got = last_read_notify(h, buf, *got, cap);
    *hr = S_OK;
    return 1;
}

static HRESULT read_body(iisd_hctx_t *h, VOID *buf, DWORD cb, bool fill, DWORD *pcb)
{
    if (pcb)
        *pcb = 0;
    if (buf == NULL || cb == 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (h->no_entity && h->inserted == NULL)
        return HRESULT_FROM_WIN32(ERROR_HANDLE_EOF); /* a child cloned without CLONE_FLAG_ENTITY */
    DWORD got = 0;
    HRESULT hr = S_OK;
    if (h->no_entity)
        got = read_inserted(h, buf, cb);
    else
        read_some(h, buf, cb, &got, fill, true, &hr);
    if (pcb)
        *pcb = got;
    return hr;
}

/*
 * An asynchronous read: what is already there (inserted buffers, received input, the end of the
 * body, an error) completes synchronously; otherwise the loop waits for input and the module is
 * re-entered through OnAsyncCompletion (or pfn) with the byte count, or ERROR_HANDLE_EOF.
 */
static HRESULT read_body_async(iisd_hctx_t *h, VOID *buf, DWORD cb, bool fill, PFN_ASYNC_COMPLETION pfn,
                               VOID *ctx, DWORD *pcb, BOOL *pfCompletionPending)
{
    if (pfCompletionPending)
        *pfCompletionPending = FALSE;
    if (!iisd_hctx_async_ok(h) || h->no_entity || pfCompletionPending == NULL)
        return read_body(h, buf, cb, fill, pcb);
    if (pcb)
        *pcb = 0;
    if (buf == NULL || cb == 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    DWORD got = 0;
    HRESULT hr;
    if (read_some(h, buf, cb, &got, fill, false, &hr)) {
        if (pcb)
            *pcb = got;
        return hr;
    }
    h->aio = (typeof(h->aio)){.kind = IISD_AIO_READ, .fill = fill, .buf = buf, .cap = cb, .got = got};
    atomic_store(&h->cancel_req, false); /* a CancelIo before this call had nothing to cancel */
    h->compl_fn = pfn;
    h->compl_ctx = ctx;
    *pfCompletionPending = TRUE;
    return S_OK;
}

bool iisd_hctx_read_step(iisd_hctx_t *h, bool timed_out, DWORD *bytes, HRESULT *hr)
{
    if (timed_out) {
        *bytes = h->aio.got ? last_read_notify(h, h->aio.buf, h->aio.got, h->aio.cap) : 0;
        *hr = h->aio.got ? S_OK : HRESULT_FROM_WIN32(ERROR_TIMEOUT);
        return true;
    }
    if (!read_some(h, h->aio.buf, h->aio.cap, &h->aio.got, h->aio.fill, false, hr))
        return false;
    *bytes = h->aio.got;
    return true;
}

/* RQ_READ_ENTITY: modules may inspect or replace what was read. */
typedef struct {
    IReadEntityProvider p;
    iisd_hctx_t *h;
    void *buf;
    DWORD data, cap;
} rep_t;

static VOID rep_SetErrorStatus(IReadEntityProvider *This, HRESULT hr)
{
    ((rep_t *)This)->h->rq->resp.error_hr = hr;
}

static VOID rep_GetEntity(IReadEntityProvider *This, PVOID *pp, DWORD *pcbData, DWORD *pcbBuffer)
{
    rep_t *r = (rep_t *)This;
    if (pp)
        *pp = r->buf;
    if (pcbData)
        *pcbData = r->data;
    if (pcbBuffer)
        *pcbBuffer = r->cap;
}

static VOID rep_SetEntity(IReadEntityProvider *This, PVOID p, DWORD cbData, DWORD cbBuffer)
{
    rep_t *r = (rep_t *)This;
    r->buf = p;
    r->data = cbData;
    r->cap = cbBuffer;
}

static const struct {
    void *offset_to_top, *rtti;
    IReadEntityProviderVtbl v;
} rep_vtbl = {NULL,
              NULL,
              {.SetErrorStatus = rep_SetErrorStatus, .GetEntity = rep_GetEntity, .SetEntity = rep_SetEntity}};

static DWORD last_read_notify(iisd_hctx_t *h, void *buf, DWORD n, DWORD cap)
{
    if (h->plan->read_entity.n == 0)
        return n;
    rep_t r = {.p.lpVtbl = &rep_vtbl.v, .h = h, .buf = buf, .data = n, .cap = cap};
    iisd_hctx_notify(h, &h->plan->read_entity, RQ_READ_ENTITY, (IHttpEventProvider *)&r.p);
    if (r.buf != buf) {
        DWORD k = r.data < cap ? r.data : cap;
        memmove(buf, r.buf, k);
        return k;
    }
    return r.data < cap ? r.data : cap;
}

static HRESULT req_ReadEntityBody(IHttpRequest4 *This, VOID *buf, DWORD cb, BOOL fAsync, DWORD *pcb,
                                  BOOL *pfCompletionPending)
{
    if (fAsync)
        return read_body_async(R(This), buf, cb, false, NULL, NULL, pcb, pfCompletionPending);
    if (pfCompletionPending)
        *pfCompletionPending = FALSE;
    return read_body(R(This), buf, cb, false, pcb);
}

/* Not copied (the buffer must live until the request ends); Content-Length is left as it is. */
static HRESULT req_InsertEntityBody(IHttpRequest4 *This, VOID *buf, DWORD cb)
{
    iisd_hctx_t *h = R(This);
    if (buf == NULL && cb > 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (cb == 0)
        return S_OK;
    iisd_inserted_t *in = iisd_arena_alloc(h->arena, sizeof(*in));
    *in = (iisd_inserted_t){.next = h->inserted, .p = buf, .len = cb};
    h->inserted = in;
    return S_OK;
}

/* What the client has still to send: inserted buffers are not counted. */
static DWORD req_GetRemainingEntityBytes(IHttpRequest4 *This)
{
    if (R(This)->no_entity)
        return 0;
    uint64_t n = iisd_conn_body_remaining(R(This)->c);
    return n > 0xffffffffu ? 0xffffffffu : (DWORD)n;
}

static VOID req_GetHttpVersion(IHttpRequest4 *This, USHORT *major, USHORT *minor)
{
    const iisd_head_t *hd = &R(This)->rq->head;
    if (major)
        *major = hd->version_major;
    if (minor)
        *minor = hd->version_minor;
}

static HRESULT req_GetClientCertificate(IHttpRequest4 *This, HTTP_SSL_CLIENT_CERT_INFO **pp,
                                        BOOL *pfNegotiated)
{
    /* api-status: partial: no TLS yet, so there is never a client certificate */
    if (pp)
        *pp = NULL;
    if (pfNegotiated)
        *pfNegotiated = FALSE;
    return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
}

/* api-status: not implemented (E_NOTIMPL: iisd serves plain HTTP/1.1 so far; renegotiating for a client
   certificate needs a TLS connection) */
static HRESULT req_NegotiateClientCertificate(IHttpRequest4 *This, BOOL fAsync, BOOL *pfCompletionPending)
{
    if (pfCompletionPending)
        *pfCompletionPending = FALSE;
    return E_NOTIMPL;
}

static DWORD req_GetSiteId(IHttpRequest4 *This)
{
    return R(This)->sitedef->id;
}

static HRESULT req_GetHeaderChanges(IHttpRequest4 *This, DWORD dwOld, DWORD *pdwNew, PCSTR known[],
                                    DWORD *pdwUnknown, PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[],
                                    DWORD *pdwDiffedUnknown, DWORD **ppDiffedUnknown)
{
    iisd_hctx_t *h = R(This);
    (void)dwOld; /* the snapshot itself says what the caller has seen */
    if (h->raw_req)
        iisd_raw_req_sync(h);
    return iisd_req_header_changes(h, pdwNew, known, pdwUnknown, ppNames, ppValues, diffed, pdwDiffedUnknown,
                                   ppDiffedUnknown);
}

/* api-status: not implemented (E_NOTIMPL: a channel binding token (RFC 5929) is taken from a TLS
   connection, and iisd serves plain HTTP/1.1 so far) */
static HRESULT req_GetChannelBindingToken(IHttpRequest4 *This, PBYTE *pp, DWORD *pcb)
{
    if (pp)
        *pp = NULL;
    if (pcb)
        *pcb = 0;
    return E_NOTIMPL;
}

static HRESULT req_ReadEntityBodyEx(IHttpRequest4 *This, VOID *buf, DWORD cb, BOOL fAsync,
                                    PFN_ASYNC_COMPLETION pfn, VOID *ctx, DWORD *pcb,
                                    BOOL *pfCompletionPending)
{
    if (fAsync)
        return read_body_async(R(This), buf, cb, false, pfn, ctx, pcb, pfCompletionPending);
    if (pfCompletionPending)
        *pfCompletionPending = FALSE;
    return read_body(R(This), buf, cb, false, pcb);
}

static HRESULT req_ReadEntityBodyWithFlags(IHttpRequest4 *This, VOID *buf, DWORD cb, BOOL fAsync, ULONG flags,
                                           DWORD *pcb, BOOL *pfCompletionPending)
{
    /* flag 0x1 (the HTTP Server API's FILL_BUFFER): read until the buffer is full or the body ends */
    bool fill = (flags & 1) != 0;
    if (fAsync)
        return read_body_async(R(This), buf, cb, fill, NULL, NULL, pcb, pfCompletionPending);
    if (pfCompletionPending)
        *pfCompletionPending = FALSE;
    return read_body(R(This), buf, cb, fill, pcb);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpRequest4Vtbl v;
} req_vtbl = {NULL,
              NULL,
              {
                  .GetRawHttpRequest = req_GetRawHttpRequest,
                  .GetRawHttpRequestConst = req_GetRawHttpRequestConst,
                  .GetHeaderByName = req_GetHeaderByName,
                  .GetHeaderById = req_GetHeaderById,
                  .SetHeaderByName = req_SetHeaderByName,
                  .SetHeaderById = req_SetHeaderById,
                  .DeleteHeaderByName = req_DeleteHeaderByName,
                  .DeleteHeaderById = req_DeleteHeaderById,
                  .GetHttpMethod = req_GetHttpMethod,
                  .SetHttpMethod = req_SetHttpMethod,
                  .SetUrlW = req_SetUrlW,
                  .SetUrlA = req_SetUrlA,
                  .GetUrlChanged = req_GetUrlChanged,
                  .GetForwardedUrl = req_GetForwardedUrl,
                  .GetLocalAddress = req_GetLocalAddress,
                  .GetRemoteAddress = req_GetRemoteAddress,
                  .ReadEntityBody = req_ReadEntityBody,
                  .InsertEntityBody = req_InsertEntityBody,
                  .GetRemainingEntityBytes = req_GetRemainingEntityBytes,
                  .GetHttpVersion = req_GetHttpVersion,
                  .GetClientCertificate = req_GetClientCertificate,
                  .NegotiateClientCertificate = req_NegotiateClientCertificate,
                  .GetSiteId = req_GetSiteId,
                  .GetHeaderChanges = req_GetHeaderChanges,
                  .GetChannelBindingToken = req_GetChannelBindingToken,
                  .ReadEntityBodyEx = req_ReadEntityBodyEx,
                  .ReadEntityBodyWithFlags = req_ReadEntityBodyWithFlags,
              }};

const IHttpRequest4Vtbl *const iisd_request_vtbl = &req_vtbl.v;
