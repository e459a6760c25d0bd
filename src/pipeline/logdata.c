/*
 * ISendResponseProvider::GetLogData and SetLogData: the log record of a request.
 *
 * Nothing is built unless a module asks: GetLogData fills an HTTP_LOG_FIELDS_DATA from the
 * request the first time it is called (request memory), and returns the same record afterwards.
 * SetLogData copies the module's record and its strings into request memory, so the module may
 * free or reuse its own; from then on GetLogData returns that copy and the server variable
 * IISD_LOG_DATA_SET is "1" and the request's named context IISD_LOG_DATA (an IISD_LOG_DATA_CONTEXT)
 * points to it: HttpLoggingModule writes the line from it in RQ_LOG_REQUEST.
 *
 * The record holds what the request says now: the user, the URL (UriStem), the client and
 * server addresses, the method, query, Host, User-Agent, Cookie and Referer headers, the server
 * port, the status, substatus and Win32 status. ServerName is the computer's name and ServiceName
 * the site as W3SVC<id>, the values of the s-computername and s-sitename columns. Byte counts
 * and the time taken are not in the structure: the server measures them when the response has
 * been sent.
 */
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A copy of n bytes with a NUL after them (NULL for NULL); *out_len gets n, at most USHRT_MAX. */
static PCHAR copy_a(iisd_hctx_t *h, const char *s, size_t n, USHORT *out_len)
{
    if (n > 0xffff)
        n = 0xffff;
    *out_len = s != NULL ? (USHORT)n : 0;
    return s != NULL ? iisd_arena_strndup(h->arena, s, n) : NULL;
}

/* The same for a wide string of n characters; the length is in bytes. */
static PWCHAR copy_w(iisd_hctx_t *h, const wchar_t *s, size_t n, USHORT *out_len)
{
    size_t max = 0xffff / sizeof(wchar_t);
    if (n > max)
        n = max;
    *out_len = 0;
    if (s == NULL)
        return NULL;
    wchar_t *d = iisd_arena_alloc(h->arena, (n + 1) * sizeof(wchar_t));
    if (d == NULL)
        return NULL;
    memcpy(d, s, n * sizeof(wchar_t));
    d[n] = 0;
    *out_len = (USHORT)(n * sizeof(wchar_t));
    return d;
}

static PCHAR var(iisd_hctx_t *h, const char *name, USHORT *out_len)
{
    size_t n = 0;
    const char *v = iisd_hctx_server_variable(h, name, &n);
    return copy_a(h, v, n, out_len);
}

static HTTP_LOG_FIELDS_DATA *build(iisd_hctx_t *h)
{
    HTTP_LOG_FIELDS_DATA *d = iisd_arena_calloc(h->arena, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->Base.Type = HttpLogDataTypeFields;
    PCWSTR user = h->user != NULL ? h->user->lpVtbl->GetUserName(h->user) : NULL;
    if (user != NULL && *user != 0)
        d->UserName = copy_w(h, user, wcslen(user), &d->UserNameLength);
    size_t wn = 0;
    wchar_t *stem = iisd_arena_wcs_from_utf8(h->arena, h->url, h->url_len, &wn);
    d->UriStem = copy_w(h, stem, wn, &d->UriStemLength);
    d->ClientIp = var(h, "REMOTE_ADDR", &d->ClientIpLength);
    char host[256];
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    d->ServerName = copy_a(h, host, strlen(host), &d->ServerNameLength);
    char svc[32];
    int sn = snprintf(svc, sizeof(svc), "W3SVC%u", (unsigned)h->sitedef->id);
    d->ServiceName = copy_a(h, svc, (size_t)sn, &d->ServiceNameLength);
    d->ServerIp = var(h, "LOCAL_ADDR", &d->ServerIpLength);
    d->Method = var(h, "REQUEST_METHOD", &d->MethodLength);
    if (h->query_len > 0)
        d->UriQuery = copy_a(h, h->query, h->query_len, &d->UriQueryLength);
    d->Host = var(h, "HTTP_HOST", &d->HostLength);
    d->UserAgent = var(h, "HTTP_USER_AGENT", &d->UserAgentLength);
    d->Cookie = var(h, "HTTP_COOKIE", &d->CookieLength);
    d->Referrer = var(h, "HTTP_REFERER", &d->ReferrerLength);
    size_t pn = 0;
    const char *port = iisd_hctx_server_variable(h, "SERVER_PORT", &pn);
    d->ServerPort = port != NULL ? (USHORT)strtoul(port, NULL, 10) : 0;
    const iisd_resp_t *r = &h->rq->resp;
    d->ProtocolStatus = r->status;
    d->SubStatus = r->substatus;
    HRESULT hr = r->error_hr;
    /* a Win32 error code for HRESULT_FROM_WIN32 values, the HRESULT itself for other failures */
    d->Win32Status = HRESULT_FACILITY(hr) == FACILITY_WIN32 ? (ULONG)HRESULT_CODE(hr)
                     : FAILED(hr)                           ? (ULONG)hr
                                                            : 0;
    d->MethodNum = d->Method != NULL ? iisd_http_verb(d->Method) : HttpVerbUnknown;
    return d;
}

/* The named context lives in request memory: nothing to clean up. */
static VOID log_ctx_cleanup(IHttpStoredContext *This)
{
    (void)This;
}

static const IHttpStoredContextVtbl log_ctx_vtbl = {.CleanupStoredContext = log_ctx_cleanup};

HTTP_LOG_FIELDS_DATA *iisd_log_data_get(iisd_hctx_t *h)
{
    if (h->log_data == NULL)
        h->log_data = build(h);
    return h->log_data;
}

HRESULT iisd_log_data_set(iisd_hctx_t *h, const HTTP_LOG_DATA *data)
{
    if (data == NULL || data->Type != HttpLogDataTypeFields)
        return E_INVALIDARG;
    const HTTP_LOG_FIELDS_DATA *s = (const HTTP_LOG_FIELDS_DATA *)data;
    HTTP_LOG_FIELDS_DATA *d = iisd_arena_alloc(h->arena, sizeof(*d));
    if (d == NULL)
        return E_OUTOFMEMORY;
    *d = *s;
    d->UserName = copy_w(h, s->UserName, s->UserNameLength / sizeof(WCHAR), &d->UserNameLength);
    d->UriStem = copy_w(h, s->UriStem, s->UriStemLength / sizeof(WCHAR), &d->UriStemLength);
#define COPY(f) d->f = copy_a(h, s->f, s->f##Length, &d->f##Length)
    COPY(ClientIp);
    COPY(ServerName);
    COPY(ServiceName);
    COPY(ServerIp);
    COPY(Method);
    COPY(UriQuery);
    COPY(Host);
    COPY(UserAgent);
    COPY(Cookie);
    COPY(Referrer);
#undef COPY
    h->log_data = d;
    h->log_data_set = true;
    if (h->log_data_ctx == NULL) {
        IISD_LOG_DATA_CONTEXT *c = iisd_arena_calloc(h->arena, sizeof(*c));
        if (c == NULL)
            return E_OUTOFMEMORY;
        c->Base.lpVtbl = &log_ctx_vtbl;
        c->pLogData = &d->Base;
        INamedContextContainer *nc = iisd_named_contexts(h);
        /* (the name is the server's: a module that took it itself is not told apart) */
        if (SUCCEEDED(nc->lpVtbl->SetNamedContext(nc, &c->Base, IISD_LOG_DATA_CONTEXT_NAME)))
            h->log_data_ctx = c;
    }
    if (h->log_data_ctx != NULL)
        h->log_data_ctx->pLogData = &d->Base;
    return S_OK;
}
