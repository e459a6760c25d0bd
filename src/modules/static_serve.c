#include "modules/static_serve.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include "modules/modcfg.h"

#define SECTION L"system.webServer/staticContent"

/*
 * For a server configuration that maps no extension at all (applicationHost.config
 * without <staticContent> entries; the default configuration has the full list):
 * the common types, so that such a site still serves its pages and assets.
 */
static const char *const fallback_types[][2] = {
    {".htm", "text/html"},
    {".html", "text/html"},
    {".txt", "text/plain"},
    {".css", "text/css"},
    {".js", "text/javascript"},
    {".mjs", "text/javascript"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".xml", "application/xml"},
    {".csv", "text/csv"},
    {".md", "text/markdown"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".avif", "image/avif"},
    {".bmp", "image/bmp"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".otf", "font/otf"},
    {".pdf", "application/pdf"},
    {".zip", "application/zip"},
    {".gz", "application/gzip"},
    {".tar", "application/x-tar"},
    {".wasm", "application/wasm"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
    {".ogg", "audio/ogg"},
    {".wav", "audio/wav"},
    {".bin", "application/octet-stream"},
    {".dat", "application/octet-stream"},
    {".webmanifest", "application/manifest+json"},
};

/* ---- configuration --------------------------------------------------------- */

static void config_free(void *p)
{
    sf_config_t *c = p;
    if (c == NULL)
        return;
    hu_mime_free(c->mime);
    free(c->cache_control);
    free(c);
}

/* Appends s to the Cache-Control value being built, CR/LF-separated directives as a list. */
static void cc_append(char *cc, size_t cap, const char *s)
{
    size_t k = strlen(cc);
    for (const char *p = s; *p && k + 3 < cap;) {
        while (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (k > 0) {
            cc[k++] = ',';
            cc[k++] = ' ';
        }
        while (*p && *p != '\r' && *p != '\n' && *p != ',' && k + 1 < cap)
            cc[k++] = *p++;
        while (k > 0 && (cc[k - 1] == ' ' || cc[k - 1] == '\t'))
            k--;
    }
    cc[k] = '\0';
}

static void *config_load(IHttpServer *srv, IHttpContext *ctx)
{
    sf_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    IAppHostElement *s = modcfg_section(srv, ctx, SECTION);
    IAppHostElement *top = modcfg_section_at(srv, L"MACHINE/WEBROOT/APPHOST", SECTION);
    unsigned tn = modcfg_count(top);
    modcfg_release(top);
    unsigned n = modcfg_count(s);
    size_t nf = sizeof(fallback_types) / sizeof(fallback_types[0]);
    c->mime = hu_mime_new(n + (tn == 0 ? (unsigned)nf : 0));
    if (c->mime == NULL) {
        modcfg_release(s);
        free(c);
        return NULL;
    }
    for (size_t i = 0; tn == 0 && i < nf; i++)
        hu_mime_add(c->mime, fallback_types[i][0], fallback_types[i][1]);
    char ext[256], type[512];
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(s, i);
        if (modcfg_str(it, L"fileExtension", ext, sizeof(ext), NULL) > 0 &&
            modcfg_str(it, L"mimeType", type, sizeof(type), NULL) > 0)
            hu_mime_add(c->mime, ext, type);
        modcfg_release(it);
    }
    IAppHostElement *cc = modcfg_child(s, L"clientCache");
    int64_t mode = modcfg_int(cc, L"cacheControlMode", SF_NO_CONTROL);
    int64_t max_age_ms = modcfg_int(cc, L"cacheControlMaxAge", 86400000);
    char custom[1024], expires[128], value[1200];
    modcfg_str(cc, L"cacheControlCustom", custom, sizeof(custom), "");
    modcfg_str(cc, L"httpExpires", expires, sizeof(expires), "");
    c->set_etag = modcfg_bool(cc, L"setEtag", true);
    modcfg_release(cc);
    modcfg_release(s);
    value[0] = '\0';
    if (mode == SF_DISABLE_CACHE) {
        strcpy(value, "no-cache");
    } else if (mode == SF_USE_MAX_AGE) {
        snprintf(value, sizeof(value), "max-age=%lld", (long long)(max_age_ms < 0 ? 0 : max_age_ms / 1000));
    } else if (mode == SF_USE_EXPIRES) {
        int64_t t = hu_parse_http_date(expires, strlen(expires));
        if (t >= 0)
            hu_http_date(t, c->expires); /* an unparsable date sends no Expires */
    }
    cc_append(value, sizeof(value), custom);
    if (value[0] != '\0') {
        c->cache_control = strdup(value);
        c->cache_control_len = c->cache_control ? (USHORT)strlen(value) : 0;
    }
    return c;
}

const sf_config_t *sf_config(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id)
{
    return modcfg_cached(srv, ctx, id, config_load, config_free);
}

/* ---- responses ------------------------------------------------------------- */

static void write_mem(IHttpResponse *resp, const void *p, size_t n)
{
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = (PVOID)p;
    ch.FromMemory.BufferLength = (ULONG)n;
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

void sf_error(IHttpContext *ctx, USHORT status, USHORT sub, const char *reason)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, status, reason, sub, S_OK, NULL, FALSE);
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, 256);
    if (body == NULL)
        return;
    int n =
        snprintf(body, 256,
                 "<!DOCTYPE html>\r\n<html><head><title>%u.%u %s</title></head><body><h1>HTTP Error %u.%u - "
                 "%s</h1></body></html>\r\n",
                 status, sub, reason, status, sub, reason);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    write_mem(resp, body, (size_t)n);
}

size_t sf_wide(const char *s, size_t n, wchar_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        unsigned c, extra;
        if (b < 0x80)
            c = b, extra = 0;
        else if ((b & 0xe0) == 0xc0)
            c = b & 0x1f, extra = 1;
        else if ((b & 0xf0) == 0xe0)
            c = b & 0x0f, extra = 2;
        else
            c = b & 0x07, extra = 3;
        i++;
        for (unsigned j = 0; j < extra && i < n; j++, i++)
            c = (c << 6) | ((unsigned char)s[i] & 0x3f);
        if (k + 1 >= cap)
            return (size_t)-1;
        out[k++] = (wchar_t)c;
    }
    if (cap == 0)
        return (size_t)-1;
    out[k] = L'\0';
    return k;
}

static const char *mime_for(const sf_config_t *cfg, PCWSTR name, size_t len)
{
    size_t i = len, dot = len;
    while (i > 0 && name[i - 1] != L'/') {
        i--;
        if (name[i] == L'.' && dot == len)
            dot = i;
    }
    if (dot == len)
        return hu_mime_lookup(cfg->mime, "", 0);
    char ext[300];
    size_t el = modcfg_utf8(name + dot, len - dot, ext, sizeof(ext));
    if (el == (size_t)-1)
        return hu_mime_any(cfg->mime);
    return hu_mime_lookup(cfg->mime, ext, el);
}

static void set_hdr(IHttpResponse *resp, HTTP_HEADER_ID id, const char *v, size_t n)
{
    resp->lpVtbl->SetHeaderById(resp, id, v, (USHORT)n, TRUE);
}

static void cache_headers(IHttpResponse *resp, const sf_config_t *cfg)
{
    if (cfg->cache_control != NULL)
        set_hdr(resp, HttpHeaderCacheControl, cfg->cache_control, cfg->cache_control_len);
    if (cfg->expires[0] != '\0')
        set_hdr(resp, HttpHeaderExpires, cfg->expires, HU_DATE_LEN);
}

static const char *header(IHttpRequest *req, HTTP_HEADER_ID id, size_t *n)
{
    USHORT l = 0;
    const char *v = req->lpVtbl->GetHeaderById(req, id, &l);
    *n = l;
    return v;
}

/* 16 hex digits, different for every multipart response */
static void boundary(char *out)
{
    static __thread uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)gettid() << 40) ^
                (uint64_t)(uintptr_t)&state;
        if (state == 0)
            state = 0x9e3779b97f4a7c15ull;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    snprintf(out, 17, "%016llx", (unsigned long long)state);
}

static HRESULT send_file(IHttpResponse *resp, HANDLE h, uint64_t off, uint64_t len)
{
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromFileHandle;
    ch.FromFileHandle.ByteRange.StartingOffset.QuadPart = off;
    ch.FromFileHandle.ByteRange.Length.QuadPart = len;
    ch.FromFileHandle.FileHandle = h;
    DWORD sent;
    return resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

/* 206 with a multipart/byteranges body: part headers from memory, part bodies from the file. */
static HRESULT send_multipart(IHttpContext *ctx, IHttpResponse *resp, HANDLE h, const char *type,
                              const hu_range_t *r, unsigned n, uint64_t size)
{
    char b[17];
    boundary(b);
    char ct[64];
    int cl = snprintf(ct, sizeof(ct), "multipart/byteranges; boundary=%s", b);
    set_hdr(resp, HttpHeaderContentType, ct, (size_t)cl);
    HTTP_DATA_CHUNK *ch = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)((2 * n + 1) * sizeof(*ch)));
    size_t tl = strlen(type), cap = tl + 128;
    char *mem = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(cap * n + 32));
    if (ch == NULL || mem == NULL)
        return E_OUTOFMEMORY;
    memset(ch, 0, (2 * n + 1) * sizeof(*ch));
    DWORD k = 0;
    for (unsigned i = 0; i < n; i++) {
        char *p = mem + cap * i;
        int m = snprintf(p, cap, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                         i == 0 ? "" : "\r\n", b, type, (unsigned long long)r[i].first,
                         (unsigned long long)r[i].last, (unsigned long long)size);
        ch[k].DataChunkType = HttpDataChunkFromMemory;
        ch[k].FromMemory.pBuffer = p;
        ch[k].FromMemory.BufferLength = (ULONG)m;
        k++;
        ch[k].DataChunkType = HttpDataChunkFromFileHandle;
        ch[k].FromFileHandle.ByteRange.StartingOffset.QuadPart = r[i].first;
        ch[k].FromFileHandle.ByteRange.Length.QuadPart = r[i].last - r[i].first + 1;
        ch[k].FromFileHandle.FileHandle = h;
        k++;
    }
    char *end = mem + cap * n;
    int m = snprintf(end, 32, "\r\n--%s--\r\n", b);
    ch[k].DataChunkType = HttpDataChunkFromMemory;
    ch[k].FromMemory.pBuffer = end;
    ch[k].FromMemory.BufferLength = (ULONG)m;
    k++;
    DWORD sent;
    return resp->lpVtbl->WriteEntityChunks(resp, ch, k, FALSE, FALSE, &sent, NULL);
}

REQUEST_NOTIFICATION_STATUS sf_serve(IHttpContext *ctx, const sf_config_t *cfg, IHttpFileInfo *fi,
                                     PCWSTR name, size_t len)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *type = mime_for(cfg, name, len);
    if (type == NULL) {
        sf_error(ctx, 404, 3, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    bool head = req->lpVtbl->GetHttpMethod(req)[0] == 'H';
    ULARGE_INTEGER usz;
    fi->lpVtbl->GetSize(fi, &usz);
    uint64_t size = usz.QuadPart;
    USHORT elen = 0;
    const char *etag = fi->lpVtbl->GetETag(fi, &elen);
    FILETIME ft;
    fi->lpVtbl->GetLastModifiedTime(fi, &ft);
    int64_t mtime =
        (int64_t)((((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime) / 10000000ull) - 11644473600ll;
    const char *lm = fi->lpVtbl->GetLastModifiedString(fi);

    hu_cond_t c = {.get_or_head = true, .etag = etag, .etag_len = elen, .mtime = mtime};
    c.if_match = header(req, HttpHeaderIfMatch, &c.if_match_len);
    c.if_none_match = header(req, HttpHeaderIfNoneMatch, &c.if_none_match_len);
    c.if_modified_since = header(req, HttpHeaderIfModifiedSince, &c.if_modified_since_len);
    c.if_unmodified_since = header(req, HttpHeaderIfUnmodifiedSince, &c.if_unmodified_since_len);
    int verdict =
        c.if_match || c.if_none_match || c.if_modified_since || c.if_unmodified_since ? hu_evaluate(&c) : 0;
    if (verdict == 412) {
        sf_error(ctx, 412, 0, "Precondition Failed");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    if (verdict == 304) {
        resp->lpVtbl->SetStatus(resp, 304, "Not Modified", 0, S_OK, NULL, FALSE);
        if (cfg->set_etag)
            set_hdr(resp, HttpHeaderEtag, etag, elen);
        else
            set_hdr(resp, HttpHeaderLastModified, lm, strlen(lm));
        cache_headers(resp, cfg);
        ctx->lpVtbl->SetRequestHandled(ctx);
        return RQ_NOTIFICATION_CONTINUE;
    }

    if (cfg->set_etag)
        set_hdr(resp, HttpHeaderEtag, etag, elen);
    set_hdr(resp, HttpHeaderLastModified, lm, strlen(lm));
    set_hdr(resp, HttpHeaderAcceptRanges, "bytes", 5);
    cache_headers(resp, cfg);
    HANDLE h = fi->lpVtbl->GetFileHandle(fi);

    size_t rl, irl;
    const char *range = head ? NULL : header(req, HttpHeaderRange, &rl);
    const char *if_range = range ? header(req, HttpHeaderIfRange, &irl) : NULL;
    if (range != NULL && (if_range == NULL || hu_if_range(if_range, irl, etag, elen, mtime))) {
        hu_range_t *r = ctx->lpVtbl->AllocateRequestMemory(ctx, HU_MAX_RANGES * sizeof(*r));
        unsigned n = 0;
        int pr = r ? hu_parse_range(range, rl, size, r, &n) : HU_RANGE_IGNORE;
        if (pr == HU_RANGE_UNSATISFIABLE) {
            sf_error(ctx, 416, 0, "Requested Range Not Satisfiable");
            char cr[48];
            int m = snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
            set_hdr(resp, HttpHeaderContentRange, cr, (size_t)m);
            set_hdr(resp, HttpHeaderAcceptRanges, "bytes", 5);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (pr == HU_RANGE_OK) {
            HRESULT hr;
            resp->lpVtbl->SetStatus(resp, 206, "Partial Content", 0, S_OK, NULL, FALSE);
            if (n == 1) {
                char cr[80];
                int m = snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)r[0].first,
                                 (unsigned long long)r[0].last, (unsigned long long)size);
                set_hdr(resp, HttpHeaderContentRange, cr, (size_t)m);
                set_hdr(resp, HttpHeaderContentType, type, strlen(type));
                hr = send_file(resp, h, r[0].first, r[0].last - r[0].first + 1);
            } else {
                hr = send_multipart(ctx, resp, h, type, r, n, size);
            }
            if (FAILED(hr)) {
                sf_error(ctx, 500, 0, "Internal Server Error");
                return RQ_NOTIFICATION_FINISH_REQUEST;
            }
            ctx->lpVtbl->SetRequestHandled(ctx);
            return RQ_NOTIFICATION_CONTINUE;
        }
    }
    set_hdr(resp, HttpHeaderContentType, type, strlen(type));
    if (size > 0 && FAILED(send_file(resp, h, 0, size))) {
        sf_error(ctx, 500, 0, "Internal Server Error");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    ctx->lpVtbl->SetRequestHandled(ctx);
    return RQ_NOTIFICATION_CONTINUE;
}
