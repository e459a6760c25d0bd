/* IHttpResponse (1-4) over http/response.h. */
#include "core/log.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include "pipeline/trace.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define P(This) HCTX_OF(This, resp)
#define RESP(h) (&(h)->rq->resp)

/*
 * The raw HTTP_RESPONSE (GetRawHttpResponse). It is made the first time a module
 * asks for it, lives in the request arena, and from then on mirrors the response:
 * the server writes the response into it (export) before it runs module code and
 * after every IHttpResponse call, and takes back what a module changed in it (sync)
 * when the module returns and whenever it calls IHttpResponse. A copy of what was
 * last exported (the shadow) tells what changed. Memory chunks a module puts there
 * are used by reference, as in IIS: they must live until the response is sent.
 */
typedef struct iisd_raw {
    HTTP_RESPONSE r;      /* what modules see */
    HTTP_RESPONSE shadow; /* r as last exported */
    HTTP_UNKNOWN_HEADER *uh, *uh_shadow;
    HTTP_DATA_CHUNK *ch, *ch_shadow;
    uint32_t uh_cap, ch_cap;
    bool exported; /* the shadow holds a first export */
    bool stale;    /* the response changed through a call of a module that does not hold it */
    bool all;      /* more holders than fit in holders[]: every module call syncs */
    uint8_t nholders;
    uint16_t holders[8]; /* ids of the modules that asked for it */
} iisd_raw_t;

bool iisd_raw_held_by(const iisd_hctx_t *h, unsigned id)
{
    const iisd_raw_t *x = h->raw;
    if (x->all)
        return true;
    for (unsigned i = 0; i < x->nholders; i++)
        if (x->holders[i] == id)
            return true;
    return false;
}

static void raw_add_holder(iisd_hctx_t *h)
{
    iisd_raw_t *x = h->raw;
    if (h->cur_module == NULL) {
        x->all = true; /* asked from outside a notification (another thread): trust no one */
        return;
    }
    unsigned id = (unsigned)h->cur_module->id;
    if (iisd_raw_held_by(h, id))
        return;
    if (x->nholders < sizeof(x->holders) / sizeof(x->holders[0]))
        x->holders[x->nholders++] = (uint16_t)id;
    else
        x->all = true;
    h->raw_holders_running++; /* a holder from now on: iisd_raw_call_end counts it out */
}

void iisd_raw_call_start(iisd_hctx_t *h, unsigned id)
{
    if (h->raw == NULL || !iisd_raw_held_by(h, id))
        return;
    iisd_raw_export(h);
    h->raw_holders_running++;
}

void iisd_raw_call_end(iisd_hctx_t *h, unsigned id)
{
    if (h->raw == NULL || !iisd_raw_held_by(h, id))
        return;
    iisd_raw_sync(h);
    if (h->raw_holders_running > 0)
        h->raw_holders_running--;
}

/* Has a module changed the raw response since the last export? (exact comparison) */
static bool raw_touched(const iisd_raw_t *x)
{
    const HTTP_RESPONSE *o = &x->r, *s = &x->shadow;
    if (memcmp(o, s, sizeof(*o)) != 0)
        return true;
    USHORT nu = o->Headers.UnknownHeaderCount, nc = o->EntityChunkCount;
    return (nu && memcmp(x->uh, x->uh_shadow, nu * sizeof(*x->uh)) != 0) ||
           (nc && memcmp(x->ch, x->ch_shadow, nc * sizeof(*x->ch)) != 0);
}

/* Does the response still read as the shadow shows it? (reads only: cheaper than an export) */
static bool raw_current(const iisd_hctx_t *h, const iisd_raw_t *x)
{
    const iisd_resp_t *r = RESP(h);
    const HTTP_RESPONSE *s = &x->shadow;
    if (s->StatusCode != r->status ||
        (r->reason ? r->reason != s->pReason : s->pReason != iisd_status_reason(r->status)) ||
        (r->reason && r->reason_len != s->ReasonLength) ||
        s->Headers.UnknownHeaderCount != r->unknown_count || s->EntityChunkCount != r->nchunks)
        return false;
    for (int i = 0; i < HttpHeaderResponseMaximum && i < IISD_HDR_RESP_KNOWN; i++) {
        const HTTP_KNOWN_HEADER *k = &s->Headers.KnownHeaders[i];
        if (k->pRawValue != r->known[i].value || (r->known[i].value && k->RawValueLength != r->known[i].len))
            return false;
    }
    for (unsigned i = 0; i < r->unknown_count; i++) {
        const HTTP_UNKNOWN_HEADER *u = &x->uh_shadow[i];
        if (u->pName != r->unknown[i].name || u->NameLength != r->unknown[i].name_len ||
            u->pRawValue != r->unknown[i].value || u->RawValueLength != r->unknown[i].value_len)
            return false;
    }
    unsigned n = 0;
    for (const iisd_chunk_t *c = r->first; c != NULL; c = c->next, n++) {
        const HTTP_DATA_CHUNK *d = &x->ch_shadow[n];
        if (c->type == IISD_CHUNK_FILE
                ? d->DataChunkType != HttpDataChunkFromFileHandle ||
                      d->FromFileHandle.ByteRange.StartingOffset.QuadPart != c->off ||
                      d->FromFileHandle.ByteRange.Length.QuadPart != c->len ||
                      IisdHandleToFd(d->FromFileHandle.FileHandle) != c->fd
                : d->DataChunkType != HttpDataChunkFromMemory || d->FromMemory.pBuffer != c->data ||
                      d->FromMemory.BufferLength != c->len)
            return false;
    }
    return true;
}

static void raw_export_now(iisd_hctx_t *h);

void iisd_raw_export(iisd_hctx_t *h)
{
    iisd_raw_t *x = h->raw;
    if (x == NULL)
        return;
    /* the common case: nothing changed on either side since the last export */
    if (x->exported && !x->stale && !raw_touched(x) && raw_current(h, x))
        return;
    raw_export_now(h);
}

static void raw_export_now(iisd_hctx_t *h)
{
    iisd_raw_t *x = h->raw;
    iisd_resp_t *r = RESP(h);
    HTTP_RESPONSE *o = &x->r;
    memset(o, 0, sizeof(*o));
    o->Version.MajorVersion = 1;
    o->Version.MinorVersion = h->rq->head.version_minor == 0 ? 0 : 1;
    o->StatusCode = r->status;
    o->pReason = r->reason ? r->reason : iisd_status_reason(r->status);
    o->ReasonLength = r->reason ? r->reason_len : (USHORT)strlen(o->pReason);
    for (int i = 0; i < HttpHeaderResponseMaximum && i < IISD_HDR_RESP_KNOWN; i++) {
        o->Headers.KnownHeaders[i].pRawValue = r->known[i].value;
        o->Headers.KnownHeaders[i].RawValueLength = r->known[i].value ? r->known[i].len : 0;
    }
    if (r->unknown_count > x->uh_cap) {
        x->uh_cap = r->unknown_count * 2u;
        x->uh = iisd_arena_alloc(h->arena, x->uh_cap * sizeof(*x->uh));
        x->uh_shadow = iisd_arena_alloc(h->arena, x->uh_cap * sizeof(*x->uh));
    }
    for (unsigned i = 0; i < r->unknown_count; i++) {
        memset(&x->uh[i], 0, sizeof(x->uh[i]));
        x->uh[i].pName = r->unknown[i].name;
        x->uh[i].NameLength = r->unknown[i].name_len;
        x->uh[i].pRawValue = r->unknown[i].value;
        x->uh[i].RawValueLength = r->unknown[i].value_len;
    }
    o->Headers.UnknownHeaderCount = r->unknown_count;
    o->Headers.pUnknownHeaders = r->unknown_count ? x->uh : NULL;
    if (r->nchunks > x->ch_cap) {
        x->ch_cap = r->nchunks * 2u;
        if (x->ch_cap > 65535)
            x->ch_cap = 65535;
        x->ch = iisd_arena_alloc(h->arena, x->ch_cap * sizeof(*x->ch));
        x->ch_shadow = iisd_arena_alloc(h->arena, x->ch_cap * sizeof(*x->ch));
    }
    unsigned n = 0;
    for (iisd_chunk_t *c = r->first; c != NULL && n < x->ch_cap; c = c->next, n++) {
        HTTP_DATA_CHUNK *d = &x->ch[n];
        memset(d, 0, sizeof(*d));
        if (c->type == IISD_CHUNK_FILE) {
            d->DataChunkType = HttpDataChunkFromFileHandle;
            d->FromFileHandle.ByteRange.StartingOffset.QuadPart = c->off;
            d->FromFileHandle.ByteRange.Length.QuadPart = c->len;
            d->FromFileHandle.FileHandle = IisdFdToHandle(c->fd);
        } else {
            d->DataChunkType = HttpDataChunkFromMemory;
            d->FromMemory.pBuffer = (void *)c->data;
            d->FromMemory.BufferLength = (ULONG)c->len;
        }
    }
    o->EntityChunkCount = (USHORT)n;
    o->pEntityChunks = n ? x->ch : NULL;
    memcpy(&x->shadow, o, sizeof(*o)); /* padding included: raw_touched compares bytes */
    x->exported = true;
    x->stale = false;
    if (r->unknown_count)
        memcpy(x->uh_shadow, x->uh, r->unknown_count * sizeof(*x->uh));
    if (n)
        memcpy(x->ch_shadow, x->ch, n * sizeof(*x->ch));
}

static bool raw_chunk(iisd_hctx_t *h, const HTTP_DATA_CHUNK *d, iisd_chunk_t *ch)
{
    memset(ch, 0, sizeof(*ch));
    if (d->DataChunkType == HttpDataChunkFromMemory) {
        if (d->FromMemory.BufferLength > 0 && d->FromMemory.pBuffer == NULL)
            return false;
        ch->type = IISD_CHUNK_MEM;
        ch->data = d->FromMemory.pBuffer;
        ch->len = d->FromMemory.BufferLength;
        return true;
    }
    if (d->DataChunkType != HttpDataChunkFromFileHandle)
        return false;
    int fd = IisdHandleToFd(d->FromFileHandle.FileHandle);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return false;
    uint64_t off = d->FromFileHandle.ByteRange.StartingOffset.QuadPart;
    uint64_t len = d->FromFileHandle.ByteRange.Length.QuadPart;
    if (off > (uint64_t)st.st_size)
        return false;
    if (len == (uint64_t)-1 || len > (uint64_t)st.st_size - off)
        len = (uint64_t)st.st_size - off;
    ch->type = IISD_CHUNK_FILE;
    ch->fd = fd;
    ch->off = off;
    ch->len = len;
    return true;
}

static void raw_absorb(iisd_hctx_t *h)
{
    iisd_raw_t *x = h->raw;
    if (!raw_touched(x))
        return;
    iisd_resp_t *r = RESP(h);
    HTTP_RESPONSE *o = &x->r, *s = &x->shadow;
    if (o->StatusCode != s->StatusCode && o->StatusCode >= 100 && o->StatusCode <= 999)
        r->status = o->StatusCode;
    if (o->pReason != s->pReason || o->ReasonLength != s->ReasonLength) {
        r->reason = o->pReason ? iisd_arena_strndup(h->arena, o->pReason, o->ReasonLength) : NULL;
        r->reason_len = o->pReason ? o->ReasonLength : 0;
    }
    for (int i = 0; i < HttpHeaderResponseMaximum && i < IISD_HDR_RESP_KNOWN; i++) {
        const HTTP_KNOWN_HEADER *k = &o->Headers.KnownHeaders[i], *ks = &s->Headers.KnownHeaders[i];
        if (k->pRawValue == ks->pRawValue && k->RawValueLength == ks->RawValueLength)
            continue;
        if (k->pRawValue == NULL || k->RawValueLength == 0)
            iisd_resp_delete_known(r, i);
        else
            iisd_resp_set_known(r, h->arena, i, k->pRawValue, k->RawValueLength, true);
    }
    USHORT nu = o->Headers.UnknownHeaderCount;
    if (nu != s->Headers.UnknownHeaderCount || o->Headers.pUnknownHeaders != s->Headers.pUnknownHeaders ||
        (nu && memcmp(o->Headers.pUnknownHeaders, x->uh_shadow, nu * sizeof(HTTP_UNKNOWN_HEADER)) != 0)) {
        const HTTP_UNKNOWN_HEADER *u = o->Headers.pUnknownHeaders;
        /* copy first: the array may be ours, and set_named rewrites what it points to */
        HTTP_UNKNOWN_HEADER *tmp = nu && u ? iisd_arena_memdup(h->arena, u, nu * sizeof(*u)) : NULL;
        r->unknown_count = 0;
        for (unsigned i = 0; tmp != NULL && i < nu; i++)
            if (tmp[i].pName != NULL && tmp[i].NameLength > 0 && (tmp[i].pRawValue || !tmp[i].RawValueLength))
                iisd_resp_set_named(r, h->arena, tmp[i].pName, tmp[i].NameLength,
                                    tmp[i].pRawValue ? tmp[i].pRawValue : "", tmp[i].RawValueLength, false);
    }
    USHORT nc = o->EntityChunkCount;
    if (nc != s->EntityChunkCount || o->pEntityChunks != s->pEntityChunks ||
        (nc && memcmp(o->pEntityChunks, x->ch_shadow, nc * sizeof(HTTP_DATA_CHUNK)) != 0)) {
        iisd_resp_clear_body(r);
        iisd_chunk_t *v = nc && o->pEntityChunks ? iisd_arena_alloc(h->arena, nc * sizeof(*v)) : NULL;
        for (unsigned i = 0; v != NULL && i < nc; i++) {
            if (!raw_chunk(h, &o->pEntityChunks[i], &v[i])) {
                iisd_log(IISD_LOG_WARN, "module changed the raw response with an unusable entity chunk %u",
                         i);
                continue;
            }
            iisd_resp_append(r, &v[i]);
        }
    }
}

/* Takes in what a module wrote into the structure, if anything, and writes the result back. */
void iisd_raw_sync(iisd_hctx_t *h)
{
    if (h->raw == NULL || !raw_touched(h->raw))
        return;
    raw_absorb(h);
    raw_export_now(h);
}

/*
 * After an IHttpResponse call changed the response: a module that holds the structure sees the
 * change at once; for the others it is only marked, and written before a holder's next call.
 */
static void raw_changed(iisd_hctx_t *h)
{
    if (h->cur_module == NULL || iisd_raw_held_by(h, h->cur_module->id))
        raw_export_now(h);
    else
        h->raw->stale = true;
}

/*
 * Only a module that holds the structure writes into it, and what it wrote is taken in when its
 * call returns: while no holder's call is under way (counting those that called others, or
 * whose call made them holders) the structure is as last exported and a call needs no sync.
 */
static inline bool raw_may_be_touched(const iisd_hctx_t *h)
{
    return h->cur_module == NULL || h->raw_holders_running > 0 || h->raw->all;
}

/*
 * Before a call that changes known header id alone: true when the structure mirrors the response
 * for a holder that made the call, so that raw_changed_known can write that one slot afterwards
 * instead of exporting the whole structure.
 */
static bool raw_patchable(const iisd_hctx_t *h)
{
    const iisd_raw_t *x = h->raw;
    /* (RAW_IN has just taken in what a holder wrote: the structure equals the shadow) */
    return x != NULL && h->cur_module != NULL && iisd_raw_held_by(h, h->cur_module->id) && x->exported &&
           !x->stale && raw_current(h, x);
}

static void raw_changed_known(iisd_hctx_t *h, int id, bool patchable)
{
    if (!patchable) {
        raw_changed(h);
        return;
    }
    iisd_raw_t *x = h->raw;
    const iisd_resp_t *r = RESP(h);
    HTTP_KNOWN_HEADER *k = &x->r.Headers.KnownHeaders[id];
    k->pRawValue = r->known[id].value;
    k->RawValueLength = r->known[id].value ? r->known[id].len : 0;
    memcpy(&x->shadow.Headers.KnownHeaders[id], k, sizeof(*k));
}

#define RAW_IN(h)                                                                                            \
    do {                                                                                                     \
        if ((h)->raw && raw_may_be_touched(h))                                                               \
            iisd_raw_sync(h);                                                                                \
    } while (0)
#define RAW_OUT(h)                                                                                           \
    do {                                                                                                     \
        if ((h)->raw)                                                                                        \
            raw_changed(h);                                                                                  \
    } while (0)

static HTTP_RESPONSE *resp_GetRawHttpResponse(IHttpResponse4 *This)
{
    iisd_hctx_t *h = P(This);
    if (h->raw == NULL) {
        h->raw = iisd_arena_calloc(h->arena, sizeof(*h->raw));
        if (h->raw == NULL)
            return NULL;
        raw_export_now(h); /* the first export: current for this caller */
        raw_add_holder(h);
        return &h->raw->r;
    }
    iisd_raw_sync(h);
    raw_add_holder(h);
    iisd_raw_export(h); /* current for this caller (written only if something changed) */
    return &h->raw->r;
}

static const HTTP_RESPONSE *resp_GetRawHttpResponseConst(IHttpResponse4 *This)
{
    return resp_GetRawHttpResponse(This);
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
    RAW_IN(h);
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
    RAW_OUT(h);
    if (IISD_UNLIKELY(h->trace != NULL || __atomic_load_n(&iisd_trace_server_www, __ATOMIC_RELAXED) != 0))
        iisd_trace_set_status(h, code, sub, reason, hr);
    return S_OK;
}

static bool valid_value(const char *v, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    /* eight bytes at a time while none is a control character or DEL (a tab goes the slow way) */
    for (; i + 8 <= n; i += 8) {
        uint64_t x, d;
        memcpy(&x, v + i, 8);
        d = x ^ (0x7f * ones);
        if ((((x - 0x20 * ones) & ~x) | ((d - ones) & ~d)) & highs)
            break;
    }
    for (; i < n; i++)
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
    RAW_IN(h);
    iisd_resp_set_named(RESP(h), h->arena, name, strlen(name), value, cch, fReplace);
    RAW_OUT(h);
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
    RAW_IN(h);
    bool patchable = raw_patchable(h);
    iisd_resp_set_known(RESP(h), h->arena, (int)id, value, cch, fReplace);
    if (h->raw)
        raw_changed_known(h, (int)id, patchable);
    return S_OK;
}

static HRESULT resp_DeleteHeaderByName(IHttpResponse4 *This, PCSTR name)
{
    iisd_hctx_t *h = P(This);
    if (name == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    RAW_IN(h);
    iisd_resp_delete_named(RESP(h), name, strlen(name));
    RAW_OUT(h);
    return S_OK;
}

static HRESULT resp_DeleteHeaderById(IHttpResponse4 *This, HTTP_HEADER_ID id)
{
    iisd_hctx_t *h = P(This);
    iisd_resp_t *r = RESP(h);
    if ((unsigned)id >= IISD_HDR_RESP_KNOWN)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    RAW_IN(h);
    bool present = r->known[id].value != NULL;
    bool patchable = present && raw_patchable(h);
    iisd_resp_delete_known(r, (int)id);
    if (present && h->raw) /* (an absent header leaves the raw response as it was) */
        raw_changed_known(h, (int)id, patchable);
    return S_OK;
}

static PCSTR resp_GetHeaderByName(IHttpResponse4 *This, PCSTR name, USHORT *pcch)
{
    if (name == NULL) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    RAW_IN(P(This));
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
    RAW_IN(P(This));
    if (pcch)
        *pcch = r->known[id].value ? r->known[id].len : 0;
    return r->known[id].value;
}

static VOID resp_Clear(IHttpResponse4 *This)
{
    iisd_resp_t *r = RESP(P(This));
    RAW_IN(P(This));
    if (!r->headers_sent)
        iisd_resp_clear(r);
    else
        iisd_resp_clear_body(r);
    RAW_OUT(P(This));
}

static VOID resp_ClearHeaders(IHttpResponse4 *This)
{
    iisd_resp_t *r = RESP(P(This));
    RAW_IN(P(This));
    if (!r->headers_sent)
        iisd_resp_clear_headers(r);
    RAW_OUT(P(This));
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
    uint64_t before = h->rq->bytes_sent;
    (void)fMoreData;
    RAW_IN(h);
    int rc = iisd_hctx_send(h, false);
    RAW_OUT(h);
    if (pcbSent)
        *pcbSent = (DWORD)(h->rq->bytes_sent - before);
    (void)r;
    if (rc < 0)
        return HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED);
    return S_OK;
}

/*
 * An asynchronous flush: when the socket takes everything at once it completes synchronously
 * (*pfCompletionExpected = FALSE); otherwise the loop sends the rest and the module is re-entered
 * through OnAsyncCompletion (or pfn) with the byte count: `bytes` for a write, the bytes that went
 * out for a Flush (bytes < 0).
 */
static HRESULT flush_async(iisd_hctx_t *h, BOOL fMoreData, int64_t bytes, PFN_ASYNC_COMPLETION pfn, VOID *ctx,
                           DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    *pfCompletionExpected = FALSE;
    if (!iisd_hctx_async_ok(h)) {
        HRESULT hr = flush(h, fMoreData, pcbSent);
        if (bytes >= 0 && pcbSent)
            *pcbSent = (DWORD)bytes;
        return hr;
    }
    uint64_t before = h->rq->bytes_sent;
    RAW_IN(h);
    int rc = iisd_hctx_send_nowait(h);
    RAW_OUT(h);
    if (rc < 0)
        return HRESULT_FROM_WIN32(ERROR_CONNECTION_ABORTED);
    if (rc == 0) {
        if (pcbSent)
            *pcbSent = bytes >= 0 ? (DWORD)bytes : (DWORD)(h->rq->bytes_sent - before);
        return S_OK;
    }
    h->aio =
        (typeof(h->aio)){.kind = IISD_AIO_WRITE, .flush = bytes < 0, .bytes = (DWORD)bytes, .base = before};
    atomic_store(&h->cancel_req, false); /* a CancelIo before this call had nothing to cancel */
    h->compl_fn = pfn;
    h->compl_ctx = ctx;
    if (pcbSent)
        *pcbSent = 0;
    *pfCompletionExpected = TRUE;
    return S_OK;
}

static HRESULT resp_Flush(IHttpResponse4 *This, BOOL fAsync, BOOL fMoreData, DWORD *pcbSent,
                          BOOL *pfCompletionExpected)
{
    if (fAsync && pfCompletionExpected != NULL)
        return flush_async(P(This), fMoreData, -1, NULL, NULL, pcbSent, pfCompletionExpected);
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
    RAW_IN(h);
    /* relative URLs become absolute */
    const char *host = h->rq->head.known[IISD_H_HOST].value;
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
    RAW_OUT(h);
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
        uint64_t off = d->FromFileHandle.ByteRange.StartingOffset.QuadPart;
        uint64_t len = d->FromFileHandle.ByteRange.Length.QuadPart;
        if (fd < 0)
            return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
        if (len == HTTP_BYTE_RANGE_TO_EOF) {
            /* only "to the end" needs the size; an explicit range is taken as given (a file
               shorter than it ends the response with an error when it is sent) */
            struct stat st;
            if (fstat(fd, &st) < 0)
                return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
            if (off > (uint64_t)st.st_size)
                return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
            len = (uint64_t)st.st_size - off;
        }
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
    iisd_hctx_t *h = P(This);
    if (chunk == NULL || (pos != 0 && pos != -1))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    RAW_IN(h);
    HRESULT hr = add_chunk(h, chunk, false, pos);
    RAW_OUT(h);
    return hr;
}

static HRESULT write_chunks(iisd_hctx_t *h, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fAsync, BOOL fMoreData,
                            PFN_ASYNC_COMPLETION pfn, VOID *ctx, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    if (pfCompletionExpected)
        *pfCompletionExpected = FALSE;
    if (n > 0 && chunks == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_resp_t *r = RESP(h);
    RAW_IN(h);
    uint64_t before = r->body_len;
    for (DWORD i = 0; i < n; i++) {
        HRESULT hr = add_chunk(h, &chunks[i], true, -1);
        if (FAILED(hr)) {
            RAW_OUT(h);
            return hr;
        }
    }
    RAW_OUT(h);
    DWORD added = (DWORD)(r->body_len - before);
    if (pcbSent)
        *pcbSent = added;
    if (r->buffering)
        return S_OK; /* copied into the response: complete */
    if (fAsync && pfCompletionExpected != NULL)
        return flush_async(h, fMoreData, added, pfn, ctx, pcbSent, pfCompletionExpected);
    return flush(h, fMoreData, NULL);
}

static HRESULT resp_WriteEntityChunks(IHttpResponse4 *This, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fAsync,
                                      BOOL fMoreData, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    return write_chunks(P(This), chunks, n, fAsync, fMoreData, NULL, NULL, pcbSent, pfCompletionExpected);
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
    RAW_IN(h);
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
    iisd_hctx_t *h = P(This);
    (void)dwOld; /* the snapshot itself says what the caller has seen */
    RAW_IN(h);
    return iisd_resp_header_changes(h, pdwNew, known, pdwUnknown, ppNames, ppValues, diffed, pdwDiffedUnknown,
                                    ppDiffedUnknown);
}

static VOID resp_CloseConnection(IHttpResponse4 *This)
{
    resp_ResetConnection(This);
}

static HRESULT resp_WriteEntityChunksEx(IHttpResponse4 *This, HTTP_DATA_CHUNK *chunks, DWORD n, BOOL fAsync,
                                        BOOL fMoreData, PFN_ASYNC_COMPLETION pfn, VOID *ctx, DWORD *pcbSent,
                                        BOOL *pfCompletionExpected)
{
    return write_chunks(P(This), chunks, n, fAsync, fMoreData, pfn, ctx, pcbSent, pfCompletionExpected);
}

static HRESULT resp_FlushEx(IHttpResponse4 *This, BOOL fAsync, BOOL fMoreData, PFN_ASYNC_COMPLETION pfn,
                            VOID *ctx, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    if (fAsync && pfCompletionExpected != NULL)
        return flush_async(P(This), fMoreData, -1, pfn, ctx, pcbSent, pfCompletionExpected);
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

/*
 * Trailers (RFC 9110 section 6.5): fields sent after the body. On HTTP/1.1 they go out in the last
 * chunk, and only to a client whose TE header lists "trailers" (RFC 9112 section 7.1.2); a complete
 * response with trailers is then sent chunked, with a Trailer header naming them. Otherwise (no TE:
 * trailers, HTTP/1.0, a HEAD request, a Content-Length set by a module) they are not sent.
 */
static HRESULT resp_DeleteTrailer(IHttpResponse4 *This, PCSTR name)
{
    if (name == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!iisd_hlist_delete(&RESP(P(This))->trailers, name, strlen(name)))
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    return S_OK;
}

static PCSTR resp_GetTrailer(IHttpResponse4 *This, PCSTR name, USHORT *pcch)
{
    if (name == NULL) {
        if (pcch)
            *pcch = 0;
        return NULL;
    }
    return iisd_hlist_get(&RESP(P(This))->trailers, name, strlen(name), pcch);
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
    iisd_hctx_t *h = P(This);
    if (name == NULL || value == NULL || !valid_name(name))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (!valid_value(value, cch))
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    if (h->rq->resp.headers_sent && h->phase >= PH_AFTER_SEND)
        return HRESULT_FROM_WIN32(ERROR_INVALID_STATE); /* the last chunk is gone */
    iisd_hlist_set(&RESP(h)->trailers, h->arena, name, strlen(name), value, cch, fReplace);
    return S_OK;
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
