/*
 * globals_c.c - a C module (C binding) with a global module for
 * GL_APPLICATION_START (IHttpApplicationProvider) and GL_FILE_CHANGE
 * (IGlobalFileChangeProvider, raised here by IHttpServer::NotifyFileChange),
 * both read through lpVtbl.
 *
 *   /_globals_c?notify=NAME  calls NotifyFileChange(NAME), then answers;
 *   /_globals_c              answers, one per line, "start <configuration path>
 *                            <application id>" for every GL_APPLICATION_START and
 *                            "file <name> monitor=<0|1>" for every GL_FILE_CHANGE
 *                            (monitor=1 when GetFileMonitor() was not NULL).
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "c_module_base.h"

static IHttpServer *g_server;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_log[8192];

static void append_line(const char *a, PCWSTR b, const char *c)
{
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s ", a);
    for (; b != NULL && *b && n + 2 < sizeof(line); b++)
        line[n++] = (char)(*b < 128 ? *b : '?');
    snprintf(line + n, sizeof(line) - n, "%s\n", c);
    pthread_mutex_lock(&g_lock);
    strncat(g_log, line, sizeof(g_log) - strlen(g_log) - 1);
    pthread_mutex_unlock(&g_lock);
}

static GLOBAL_NOTIFICATION_STATUS on_app_start(CGlobalModule *This, IHttpApplicationStartProvider *p)
{
    (void)This;
    IHttpApplication *app = p->lpVtbl->GetApplication(p);
    char id[512] = " ";
    PCWSTR wid = app->lpVtbl->GetApplicationId(app);
    size_t n = 1;
    for (; wid != NULL && *wid && n + 1 < sizeof(id); wid++)
        id[n++] = (char)*wid;
    id[n] = '\0';
    append_line("start", app->lpVtbl->GetAppConfigPath(app), id);
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS on_file_change(CGlobalModule *This, IGlobalFileChangeProvider *p)
{
    (void)This;
    append_line("file", p->lpVtbl->GetFileName(p),
                p->lpVtbl->GetFileMonitor(p) != NULL ? " monitor=1" : " monitor=0");
    return GL_NOTIFICATION_CONTINUE;
}

static VOID global_terminate(CGlobalModule *This)
{
    (void)This;
}

static const CGlobalModuleVtbl global_vtbl = {
    .OnGlobalApplicationStart = on_app_start,
    .OnGlobalFileChange = on_file_change,
    .Terminate = global_terminate,
};

static CGlobalModule g_global = {.lpVtbl = &global_vtbl};

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    PCSTR url = NULL, q = NULL;
    DWORD cch = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &cch)) || strcmp(url, "/_globals_c") != 0)
        return RQ_NOTIFICATION_CONTINUE;
    if (SUCCEEDED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &q, &cch)) && q != NULL &&
        strncmp(q, "notify=", 7) == 0) {
        wchar_t name[512];
        size_t n = 0;
        for (const char *s = q + 7; *s && *s != '&' && n + 1 < 512; s++)
            name[n++] = (wchar_t)(unsigned char)*s;
        name[n] = L'\0';
        g_server->lpVtbl->NotifyFileChange(g_server, name);
    }
    IHttpResponse *r = ctx->lpVtbl->GetResponse(ctx);
    r->lpVtbl->SetStatus(r, 200, "OK", 0, S_OK, NULL, FALSE);
    pthread_mutex_lock(&g_lock);
    DWORD len = (DWORD)strlen(g_log);
    void *mem = ctx->lpVtbl->AllocateRequestMemory(ctx, len + 1);
    memcpy(mem, g_log, len + 1);
    pthread_mutex_unlock(&g_lock);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = mem;
    chunk.FromMemory.BufferLength = len;
    DWORD sent = 0;
    r->lpVtbl->WriteEntityChunks(r, &chunk, 1, FALSE, FALSE, &sent, NULL);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static const CHttpModuleVtbl module_vtbl = CMB_VTBL_WITH_BEGIN(on_begin);

HRESULT WINAPI RegisterModule(DWORD version, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    (void)version;
    g_server = server;
    HRESULT hr = cmb_register(info, &module_vtbl, RQ_BEGIN_REQUEST);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetGlobalNotifications(info, &g_global, GL_APPLICATION_START | GL_FILE_CHANGE);
}
