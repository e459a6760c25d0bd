/*
 * StaticFileModule: serves files under the site root in
 * RQ_EXECUTE_REQUEST_HANDLER (GET and HEAD; other methods 405) as configured
 * by system.webServer/staticContent (MIME map, clientCache): ETag,
 * Last-Modified, conditional requests (304, 412), byte ranges (206, 416) and
 * Accept-Ranges (see static_serve.h). Files come from the server's open-file
 * cache (IHttpServer::GetFileInfo) and go out as file chunks, so the server
 * sends them with sendfile. Redirects a folder URL without a trailing slash
 * (301) and leaves a folder URL with one to the next handler modules
 * (DefaultDocumentModule, DirectoryListingModule); answers 404, 404.3 (no MIME
 * type) and 401.3 (no access).
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <string.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"
#include "modules/static_serve.h"

#ifndef FILE_ATTRIBUTE_DIRECTORY
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010
#endif

typedef struct {
    CHttpModule base;
    IHttpFileInfo *fi; /* the file being sent: released in Dispose, after the send */
} static_module_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static REQUEST_NOTIFICATION_STATUS serve(static_module_t *self, IHttpContext *ctx)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *method = req->lpVtbl->GetHttpMethod(req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        sf_error(ctx, 405, 0, "Method Not Allowed");
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderAllow, "GET, HEAD", 9, TRUE);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    DWORD plen = 0;
    PCWSTR wpath = ctx->lpVtbl->GetPhysicalPath(ctx, &plen);
    if (wpath == NULL || plen == 0) {
        sf_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    /* the request's file (the handler's access check looked it up already); the server's lookup
       only to tell why there is none */
    IHttpFileInfo *fi = ctx->lpVtbl->GetFileInfo(ctx);
    HRESULT hr = S_OK;
    if (fi != NULL)
        fi->lpVtbl->ReferenceCacheData(fi);
    else
        hr = g_server->lpVtbl->GetFileInfo(g_server, wpath, NULL, NULL, NULL, NULL, TRUE, &fi, NULL);
    if (FAILED(hr) || fi == NULL) {
        if (hr == E_ACCESSDENIED)
            sf_error(ctx, 401, 3, "Unauthorized");
        else
            sf_error(ctx, 404, 0, "Not Found");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    self->fi = fi;
    if (fi->lpVtbl->GetAttributes(fi) & FILE_ATTRIBUTE_DIRECTORY) {
        DWORD ulen = 0;
        PCWSTR url = ctx->lpVtbl->GetScriptName(ctx, &ulen);
        if (ulen == 0 || url[ulen - 1] != L'/') {
            char u[4096];
            if (modcfg_utf8(url, ulen, u, sizeof(u) - 2) == (size_t)-1) {
                sf_error(ctx, 404, 0, "Not Found");
                return RQ_NOTIFICATION_FINISH_REQUEST;
            }
            strcat(u, "/");
            resp->lpVtbl->SetStatus(resp, 301, "Moved Permanently", 0, S_OK, NULL, FALSE);
            resp->lpVtbl->Redirect(resp, u, FALSE, TRUE);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        /* a folder URL: DefaultDocumentModule and DirectoryListingModule take it */
        return RQ_NOTIFICATION_CONTINUE;
    }
    const sf_config_t *cfg = sf_config(g_server, ctx, g_id);
    if (cfg == NULL) {
        sf_error(ctx, 500, 0, "Internal Server Error");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    return sf_serve(ctx, cfg, fi, wpath, plen);
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    return serve((static_module_t *)This, ctx);
}

static VOID on_dispose(CHttpModule *This)
{
    static_module_t *self = (static_module_t *)This;
    if (self->fi != NULL)
        self->fi->lpVtbl->DereferenceCacheData(self->fi);
    self->fi = NULL; /* the memory is the request's: nothing to free */
}

static CHttpModuleVtbl static_vtbl;

static iisd_factory_t factory = IISD_FACTORY(static_vtbl, sizeof(static_module_t));

HRESULT WINAPI IISD_MODULE_ENTRY(StaticFileModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(StaticFileModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                   IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    static_vtbl.OnExecuteRequestHandler = on_execute;
    static_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
