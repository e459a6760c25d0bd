/*
 * DefaultDocumentModule (system.webServer/defaultDocument): for a folder URL
 * ending in '/', serves the first file of the <files> list that exists in the
 * folder (RQ_EXECUTE_REQUEST_HANDLER, GET and HEAD) exactly as StaticFileModule
 * serves a file (static_serve.h: MIME map and 404.3, clientCache, conditional
 * requests, ranges). Otherwise it leaves the request to the next handler
 * module (DirectoryListingModule).
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"
#include "modules/static_serve.h"

#ifndef FILE_ATTRIBUTE_DIRECTORY
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010
#endif

typedef struct {
    CHttpModule base;
    IHttpFileInfo *fi; /* the document being sent: released in Dispose, after the send */
} dd_module_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

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
    size_t pl = strlen(path);
    wchar_t *wdoc = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)((pl + 1) * sizeof(wchar_t)));
    size_t wl = wdoc ? sf_wide(path, pl, wdoc, pl + 1) : (size_t)-1;
    if (wl == (size_t)-1)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpFileInfo *fi = NULL;
    HRESULT hr = g_server->lpVtbl->GetFileInfo(g_server, wdoc, NULL, NULL, NULL, NULL, TRUE, &fi, NULL);
    if (FAILED(hr) || fi == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    self->fi = fi;
    if (fi->lpVtbl->GetAttributes(fi) & FILE_ATTRIBUTE_DIRECTORY)
        return RQ_NOTIFICATION_CONTINUE;
    const sf_config_t *cfg = sf_config(g_server, ctx, g_id);
    if (cfg == NULL) {
        sf_error(ctx, 500, 0, "Internal Server Error");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    /* exactly as StaticFileModule would serve the document */
    return sf_serve(ctx, cfg, fi, wdoc, wl);
}

static VOID on_dispose(CHttpModule *This)
{
    dd_module_t *self = (dd_module_t *)This;
    if (self->fi != NULL)
        self->fi->lpVtbl->DereferenceCacheData(self->fi);
    self->fi = NULL;
}

static CHttpModuleVtbl dd_vtbl;

static iisd_factory_t factory = IISD_FACTORY(dd_vtbl, sizeof(dd_module_t));

HRESULT WINAPI IISD_MODULE_ENTRY(DefaultDocumentModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(DefaultDocumentModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                        IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    dd_vtbl.OnExecuteRequestHandler = on_execute;
    dd_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
