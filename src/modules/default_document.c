/*
 * DefaultDocumentModule (system.webServer/defaultDocument): for a folder URL
 * ending in '/', serves the first file of the <files> list that exists in the
 * folder (RQ_EXECUTE_REQUEST_HANDLER, GET and HEAD), with Content-Type, ETag
 * and Last-Modified as StaticFileModule does. Otherwise it leaves the request
 * to the next handler module (DirectoryListingModule).
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

typedef struct {
    CHttpModule base;
    int fd;
} dd_module_t;

static IHttpServer *g_server;

static const struct {
    const char *ext;
    const char *type;
} mime_map[] = {
    {".htm", "text/html"},
    {".html", "text/html"},
    {".txt", "text/plain"},
    {".css", "text/css"},
    {".js", "application/javascript"},
    {".json", "application/json"},
    {".xml", "text/xml"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".asp", "text/html"},
    {".aspx", "text/html"},
    {".md", "text/markdown"},
};

static const char *mime_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(mime_map) / sizeof(mime_map[0]); i++)
        if (strcasecmp(dot, mime_map[i].ext) == 0)
            return mime_map[i].type;
    return "application/octet-stream";
}

/* IIS's stock list, for a configuration that defines none at all (see find_document) */
static const char *const stock_documents[] = {"Default.htm", "Default.asp", "index.htm", "index.html",
                                              "iisstart.htm"};

/*
 * Looks for name in the folder path[0..base) and leaves the full path in path.
 * Names match case-insensitively, as on the NTFS volumes IIS serves from.
 */
static bool find_file(char *path, size_t cap, size_t base, const char *name, struct stat *st)
{
    snprintf(path + base, cap - base, "%s", name);
    if (stat(path, st) == 0 && S_ISREG(st->st_mode))
        return true;
    path[base] = '\0';
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if (strcasecmp(de->d_name, name) != 0)
            continue;
        snprintf(path + base, cap - base, "%s", de->d_name);
        found = stat(path, st) == 0 && S_ISREG(st->st_mode);
    }
    closedir(d);
    return found;
}

static bool safe_name(const char *n)
{
    return n[0] != '\0' && strchr(n, '/') == NULL && strcmp(n, ".") != 0 && strcmp(n, "..") != 0 &&
           strcasecmp(n, "web.config") != 0;
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    dd_module_t *self = (dd_module_t *)This;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *method = req->lpVtbl->GetHttpMethod(req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return RQ_NOTIFICATION_CONTINUE;
    DWORD ulen = 0;
    PCWSTR url = ctx->lpVtbl->GetScriptName(ctx, &ulen);
    if (url == NULL || ulen == 0 || url[ulen - 1] != L'/')
        return RQ_NOTIFICATION_CONTINUE;
    DWORD plen = 0;
    PCWSTR wpath = ctx->lpVtbl->GetPhysicalPath(ctx, &plen);
    char path[4096];
    if (wpath == NULL || modcfg_utf8(wpath, plen, path, sizeof(path) - 1024) == (size_t)-1)
        return RQ_NOTIFICATION_CONTINUE;
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return RQ_NOTIFICATION_CONTINUE;
    IAppHostElement *s = modcfg_section(g_server, ctx, L"system.webServer/defaultDocument");
    if (s == NULL || !modcfg_bool(s, L"enabled", true)) {
        modcfg_release(s);
        return RQ_NOTIFICATION_CONTINUE;
    }
    size_t base = strlen(path);
    if (base == 0 || path[base - 1] != '/')
        path[base++] = '/';
    path[base] = '\0';
    bool found = false;
    IAppHostElement *files = modcfg_child(s, L"files");
    unsigned n = modcfg_count(files);
    for (unsigned i = 0; i < n && !found; i++) {
        IAppHostElement *item = modcfg_item(files, i);
        char name[512];
        if (modcfg_str(item, L"value", name, sizeof(name), NULL) > 0 && safe_name(name))
            found = find_file(path, sizeof(path), base, name, &st);
        modcfg_release(item);
    }
    modcfg_release(files);
    modcfg_release(s);
    if (n == 0 && !found) {
        /* An applicationHost.config without any <defaultDocument><files> (IIS's always has
         * the stock list): use the stock list, unless the server level defines a list. */
        IAppHostElement *top =
            modcfg_section_at(g_server, L"MACHINE/WEBROOT/APPHOST", L"system.webServer/defaultDocument");
        IAppHostElement *tf = modcfg_child(top, L"files");
        unsigned tn = modcfg_count(tf);
        modcfg_release(tf);
        modcfg_release(top);
        for (size_t i = 0; tn == 0 && !found && i < sizeof(stock_documents) / sizeof(stock_documents[0]); i++)
            found = find_file(path, sizeof(path), base, stock_documents[i], &st);
    }
    if (!found)
        return RQ_NOTIFICATION_CONTINUE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RQ_NOTIFICATION_CONTINUE;
    self->fd = fd;
    const char *type = mime_type(path + base);
    char etag[64], lm[64];
    int en = snprintf(etag, sizeof(etag), "\"%llx:%llx\"",
                      (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                          (unsigned long long)st.st_mtim.tv_nsec,
                      (unsigned long long)st.st_size);
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
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
            resp->lpVtbl->Clear(resp);
            resp->lpVtbl->SetStatus(resp, 500, "Internal Server Error", 0, hr, NULL, FALSE);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
    }
    ctx->lpVtbl->SetRequestHandled(ctx);
    return RQ_NOTIFICATION_CONTINUE;
}

static VOID on_dispose(CHttpModule *This)
{
    dd_module_t *self = (dd_module_t *)This;
    if (self->fd >= 0)
        close(self->fd);
    self->fd = -1;
}

static CHttpModuleVtbl dd_vtbl;

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    dd_module_t *m = alloc->lpVtbl->AllocateMemory(alloc, sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &dd_vtbl;
    m->fd = -1;
    *pp = &m->base;
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This;
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(DefaultDocumentModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(DefaultDocumentModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                        IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    dd_vtbl.OnExecuteRequestHandler = on_execute;
    dd_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
