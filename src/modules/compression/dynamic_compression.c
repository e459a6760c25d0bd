/*
 * DynamicCompressionModule (system.webServer/httpCompression, urlCompression
 * doDynamicCompression), in RQ_SEND_RESPONSE.
 *
 * Every response that is not a static one (see StaticCompressionModule: a 200 whose
 * body is one whole file) and whose Content-Type is one of <dynamicTypes> is compressed
 * as it goes out, when the client accepts one of the schemes with doDynamicCompression.
 * The decision is made when the headers are sent (the first flush, or the final send);
 * then each send's entity chunks are compressed and replaced by the output, flushed to
 * the client at each Flush (so streamed responses stay streamed; a response whose
 * length is unknown goes out chunked) and the stream is ended at the final send.
 *
 * Memory is bounded by one send: the output buffers come from the request allocator
 * and are reused from one flush to the next (the server has written a flush out before
 * the next one starts), and compressor states come from a per-thread pool.
 *
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "modules/builtin.h"
#include "modules/compression/compression.h"

#define BLOCK 16384

typedef struct block {
    struct block *next;
    size_t used;
    char data[BLOCK];
} block_t;

typedef struct {
    CHttpModule base;
    IHttpContext *ctx;
    bool decided, active, failed;
    cmp_stream_t *s;
    block_t *blocks, *cur; /* output of the current send */
    HTTP_DATA_CHUNK *chunks;
    unsigned chunks_cap;
} dyn_module_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static int to_blocks(void *ctx, const void *data, size_t n)
{
    dyn_module_t *m = ctx;
    const char *p = data;
    while (n > 0) {
        if (m->cur == NULL || m->cur->used == BLOCK) {
            block_t *next = m->cur ? m->cur->next : m->blocks;
            if (next == NULL) {
                next = m->ctx->lpVtbl->AllocateRequestMemory(m->ctx, sizeof(block_t));
                if (next == NULL)
                    return -1;
                next->next = NULL;
                if (m->cur)
                    m->cur->next = next;
                else
                    m->blocks = next;
            }
            next->used = 0;
            m->cur = next;
        }
        size_t k = BLOCK - m->cur->used;
        if (k > n)
            k = n;
        memcpy(m->cur->data + m->cur->used, p, k);
        m->cur->used += k;
        p += k;
        n -= k;
    }
    return 0;
}

static bool whole_file(const HTTP_RESPONSE *raw)
{
    if (raw->EntityChunkCount != 1 || raw->pEntityChunks == NULL ||
        raw->pEntityChunks[0].DataChunkType != HttpDataChunkFromFileHandle)
        return false;
    /* one file chunk from the start: a file served as it is (ranges are 206, left alone earlier);
       its length is not checked against the file, which would cost a system call per response */
    return raw->pEntityChunks[0].FromFileHandle.ByteRange.StartingOffset.QuadPart == 0;
}

static uint64_t body_bytes(const HTTP_RESPONSE *raw)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < raw->EntityChunkCount && raw->pEntityChunks; i++) {
        const HTTP_DATA_CHUNK *c = &raw->pEntityChunks[i];
        if (c->DataChunkType == HttpDataChunkFromMemory)
            total += c->FromMemory.BufferLength;
        else if (c->DataChunkType == HttpDataChunkFromFileHandle)
            total += 1; /* some bytes: the exact count does not matter here */
    }
    return total;
}

static bool decide(dyn_module_t *m, IHttpContext *ctx, IHttpResponse *resp, bool final, int *scheme,
                   const cmp_config_t **pcfg)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    USHORT status = 0, n = 0;
    resp->lpVtbl->GetStatus(resp, &status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (status < 200 || status == 204 || status == 206 || status == 304 ||
        resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentEncoding, &n) != NULL ||
        resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentRange, &n) != NULL)
        return false;
    /* configuration and type before the raw response: holding it costs every later call a sync */
    const cmp_config_t *cfg = cmp_config(g_server, ctx, g_id);
    if (cfg == NULL || !cfg->do_dynamic)
        return false;
    PCSTR ct = resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentType, &n);
    if (!cmp_mime_allowed(cfg->dynamic_types, cfg->ndynamic, ct, ct ? n : 0))
        return false;
    HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponse(resp);
    if (raw == NULL)
        return false;
    if (final && (whole_file(raw) || body_bytes(raw) == 0))
        return false; /* static responses are StaticCompressionModule's; nothing to compress */
    cmp_add_vary(resp);
    if (strcmp(req->lpVtbl->GetHttpMethod(req), "HEAD") == 0 || cmp_request_excluded(cfg, req))
        return false;
    int si = cmp_pick_scheme(cfg, req, false);
    if (si < 0 || !cmp_cpu_allows((cmp_cpu_gate_t *)&cfg->dynamic_cpu))
        return false;
    (void)m;
    *scheme = si;
    *pcfg = cfg;
    return true;
}

/* Compresses the entity chunks of this send into m's blocks. */
static int compress_send(dyn_module_t *m, const HTTP_RESPONSE *raw, bool final)
{
    m->cur = NULL;
    for (unsigned i = 0; i < raw->EntityChunkCount && raw->pEntityChunks; i++) {
        const HTTP_DATA_CHUNK *c = &raw->pEntityChunks[i];
        if (c->DataChunkType == HttpDataChunkFromMemory) {
            if (c->FromMemory.BufferLength > 0 &&
                cmp_stream_write(m->s, c->FromMemory.pBuffer, c->FromMemory.BufferLength, CMP_RUN, to_blocks,
                                 m) < 0)
                return -1;
        } else if (c->DataChunkType == HttpDataChunkFromFileHandle) {
            int fd = IisdHandleToFd(c->FromFileHandle.FileHandle);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) < 0)
                return -1;
            uint64_t off = c->FromFileHandle.ByteRange.StartingOffset.QuadPart;
            uint64_t len = c->FromFileHandle.ByteRange.Length.QuadPart;
            if (off > (uint64_t)st.st_size)
                return -1;
            if (len == HTTP_BYTE_RANGE_TO_EOF || len > (uint64_t)st.st_size - off)
                len = (uint64_t)st.st_size - off;
            char buf[8192];
            while (len > 0) {
                ssize_t r = pread(fd, buf, len < sizeof(buf) ? (size_t)len : sizeof(buf), (off_t)off);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return -1;
                if (cmp_stream_write(m->s, buf, (size_t)r, CMP_RUN, to_blocks, m) < 0)
                    return -1;
                off += (uint64_t)r;
                len -= (uint64_t)r;
            }
        } else {
            return -1; /* a chunk type this server does not send */
        }
    }
    return cmp_stream_write(m->s, NULL, 0, final ? CMP_FINISH : CMP_FLUSH, to_blocks, m);
}

static REQUEST_NOTIFICATION_STATUS on_send_response(CHttpModule *This, IHttpContext *ctx,
                                                    ISendResponseProvider *p)
{
    dyn_module_t *m = (dyn_module_t *)This;
    bool final = !(p->lpVtbl->GetFlags(p) & HTTP_SEND_RESPONSE_FLAG_MORE_DATA);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    if (!m->decided) {
        if (!p->lpVtbl->GetHeadersBeingSent(p))
            return RQ_NOTIFICATION_CONTINUE; /* headers suppressed or already gone: leave the body */
        m->decided = true;
        const cmp_config_t *cfg = NULL;
        int si = -1;
        if (!decide(m, ctx, resp, final, &si, &cfg))
            return RQ_NOTIFICATION_CONTINUE;
        m->s = cmp_stream_get(cfg->schemes[si].codec, cfg->schemes[si].dynamic_level);
        if (m->s == NULL)
            return RQ_NOTIFICATION_CONTINUE;
        m->ctx = ctx;
        m->active = true;
        cmp_mark_compressed(ctx, resp, cfg, cfg->schemes[si].codec);
    }
    if (!m->active)
        return RQ_NOTIFICATION_CONTINUE;
    HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponse(resp);
    if (raw == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    if (compress_send(m, raw, final) < 0) {
        /* the coding is announced: a response that cannot be compressed cannot be sent */
        m->active = false;
        cmp_stream_put(m->s);
        m->s = NULL;
        raw->EntityChunkCount = 0;
        raw->pEntityChunks = NULL;
        resp->lpVtbl->SetNeedDisconnect(resp);
        p->lpVtbl->SetErrorStatus(p, E_FAIL);
        return RQ_NOTIFICATION_CONTINUE;
    }
    unsigned nblocks = 0;
    for (block_t *b = m->blocks; b != NULL; b = b->next) {
        if (b->used > 0)
            nblocks++;
        if (b == m->cur)
            break;
    }
    if (nblocks > m->chunks_cap) {
        m->chunks_cap = nblocks * 2;
        m->chunks = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(m->chunks_cap * sizeof(HTTP_DATA_CHUNK)));
        if (m->chunks == NULL) {
            m->chunks_cap = 0;
            return RQ_NOTIFICATION_CONTINUE;
        }
    }
    unsigned k = 0;
    for (block_t *b = m->blocks; b != NULL && k < nblocks; b = b->next) {
        if (b->used == 0)
            continue;
        memset(&m->chunks[k], 0, sizeof(m->chunks[k]));
        m->chunks[k].DataChunkType = HttpDataChunkFromMemory;
        m->chunks[k].FromMemory.pBuffer = b->data;
        m->chunks[k].FromMemory.BufferLength = (ULONG)b->used;
        k++;
        if (b == m->cur)
            break;
    }
    raw->pEntityChunks = k ? m->chunks : NULL;
    raw->EntityChunkCount = (USHORT)k;
    if (final) {
        cmp_stream_put(m->s);
        m->s = NULL;
        m->active = false;
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static VOID on_dispose(CHttpModule *This)
{
    dyn_module_t *m = (dyn_module_t *)This;
    if (m->s != NULL)
        cmp_stream_put(m->s); /* a response that ended without its final send */
    m->s = NULL;
}

static CHttpModuleVtbl dyn_vtbl;

static iisd_factory_t factory = IISD_FACTORY(dyn_vtbl, sizeof(dyn_module_t));

HRESULT WINAPI IISD_MODULE_ENTRY(DynamicCompressionModule)(DWORD, IHttpModuleRegistrationInfo *,
                                                           IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(DynamicCompressionModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                           IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    dyn_vtbl.OnSendResponse = on_send_response;
    dyn_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_SEND_RESPONSE, 0);
}
