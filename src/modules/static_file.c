/*
 * StaticFileModule: serves files under the site root in
 * RQ_EXECUTE_REQUEST_HANDLER (GET and HEAD), with Content-Type from the MIME
 * map, ETag, Last-Modified and Accept-Ranges; redirects a folder URL without
 * a trailing slash (301) and leaves a folder URL with one to the next handler
 * modules (DefaultDocumentModule, DirectoryListingModule); answers 404 and
 * 404.3 (no MIME type).
 * Files go out as file chunks, so the server uses sendfile.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modcfg.h"

typedef struct {
    CHttpModule base;
    int fd;
} static_module_t;

static const struct {
    const char *ext;
    const char *type;
} mime_map[] = {
    {".htm", "text/html"},
    {".html", "text/html"},
    {".txt", "text/plain"},
    {".css", "text/css"},
    {".js", "application/javascript"},
    {".mjs", "application/javascript"},
    {".json", "application/json"},
    {".xml", "text/xml"},
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
    {".ttf", "application/octet-stream"},
    {".otf", "font/otf"},
    {".pdf", "application/pdf"},
    {".zip", "application/x-zip-compressed"},
    {".gz", "application/x-gzip"},
    {".tar", "application/x-tar"},
    {".wasm", "application/wasm"},
    {".mp3", "audio/mpeg"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
    {".ogg", "audio/ogg"},
    {".wav", "audio/wav"},
    {".csv", "text/csv"},
    {".md", "text/markdown"},
    {".bin", "application/octet-stream"},
    {".dat", "application/octet-stream"},
    {".map", "application/json"},
    {".manifest", "text/cache-manifest"},
    {".webmanifest", "application/manifest+json"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof(mime_map) / sizeof(mime_map[0]); i++)
        if (strcasecmp(dot, mime_map[i].ext) == 0)
            return mime_map[i].type;
    return NULL;
}

/* UTF-32 -> UTF-8 (the module carries its own: it links nothing of the server) */
static void set_text_error(IHttpContext *ctx, USHORT status, USHORT sub, const char *reason)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, status, reason, sub, S_OK, NULL, FALSE);
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, 256);
    int n = snprintf(body, 256,
                     "<!DOCTYPE html>\r\n<html><head><title>%u.%u %s</title></head><body><h1>%u.%u %s</h1>"
                     "</body></html>\r\n",
                     status, sub, reason, status, sub, reason);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = body;
    ch.FromMemory.BufferLength = (ULONG)n;
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

static void http_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static REQUEST_NOTIFICATION_STATUS serve(static_module_t *self, IHttpContext *ctx)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *method = req->lpVtbl->GetHttpMethod(req);
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        set_text_error(ctx, 405, 0, "Method Not Allowed");
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderAllow, "GET, HEAD", 9, TRUE);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    DWORD plen = 0;
    PCWSTR wpath = ctx->lpVtbl->GetPhysicalPath(ctx, &plen);
    char path[4096];
    if (wpath == NULL || modcfg_utf8(wpath, plen, path, sizeof(path) - 64) == (size_t)-1) {
        set_text_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        set_text_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    if (S_ISDIR(st.st_mode)) {
        DWORD ulen = 0;
        PCWSTR url = ctx->lpVtbl->GetScriptName(ctx, &ulen);
        if (ulen == 0 || url[ulen - 1] != L'/') {
            char u[4096];
            if (modcfg_utf8(url, ulen, u, sizeof(u) - 2) == (size_t)-1) {
                set_text_error(ctx, 404, 0, "Not Found");
                return RQ_NOTIFICATION_FINISH_REQUEST;
            }
            strcat(u, "/");
            resp->lpVtbl->SetStatus(resp, 301, "Moved Permanently", 0, S_OK, NULL, FALSE);
            resp->lpVtbl->Redirect(resp, u, FALSE, TRUE);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        /* a folder URL: DefaultDocumentModule and DirectoryListingModule take it */
        return RQ_NOTIFICATION_CONTINUE;
    } else if (!S_ISREG(st.st_mode)) {
        set_text_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    const char *type = mime_type(path);
    if (type == NULL) {
        set_text_error(ctx, 404, 3, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES)
            set_text_error(ctx, 401, 3, "Unauthorized");
        else
            set_text_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    self->fd = fd;
    char etag[64], lm[64];
    int en = snprintf(etag, sizeof(etag), "\"%llx:%llx\"",
                      (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                          (unsigned long long)st.st_mtim.tv_nsec,
                      (unsigned long long)st.st_size);
    http_date(st.st_mtime, lm, sizeof(lm));
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, type, (USHORT)strlen(type), TRUE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderEtag, etag, (USHORT)en, TRUE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderLastModified, lm, (USHORT)strlen(lm), TRUE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderAcceptRanges, "bytes", 5, TRUE);
    if (st.st_size > 0) {
        HTTP_DATA_CHUNK ch;
        memset(&ch, 0, sizeof(ch));
        ch.DataChunkType = HttpDataChunkFromFileHandle;
        ch.FromFileHandle.ByteRange.StartingOffset.QuadPart = 0;
        ch.FromFileHandle.ByteRange.Length.QuadPart = (ULONGLONG)st.st_size;
        ch.FromFileHandle.FileHandle = IisdFdToHandle(fd);
        DWORD sent;
        HRESULT hr = resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
        if (FAILED(hr)) {
            set_text_error(ctx, 500, 0, "Internal Server Error");
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
    }
    ctx->lpVtbl->SetRequestHandled(ctx);
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    return serve((static_module_t *)This, ctx);
}

static VOID on_dispose(CHttpModule *This)
{
    static_module_t *self = (static_module_t *)This;
    if (self->fd >= 0)
        close(self->fd);
    self->fd = -1; /* the memory is the request's: nothing to free */
}

static CHttpModuleVtbl static_vtbl;

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    static_module_t *m = alloc->lpVtbl->AllocateMemory(alloc, sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &static_vtbl;
    m->fd = -1;
    *pp = &m->base;
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This; /* static object */
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(StaticFileModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(StaticFileModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                   IHttpServer *srv)
{
    (void)ver;
    (void)srv;
    static_vtbl.OnExecuteRequestHandler = on_execute;
    static_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
