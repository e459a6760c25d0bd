/*
 * whoami.c - answers in RQ_EXECUTE_REQUEST_HANDLER with what authentication left behind,
 * one "key=value" line each (text/plain, UTF-8):
 *   LOGON_USER, AUTH_TYPE, REMOTE_USER, AUTH_USER, UNMAPPED_REMOTE_USER, AUTH_PASSWORD
 *                  the server variables;
 *   user           "none" when IHttpContext::GetUser() is NULL, else "set";
 *   name, remote, type, password
 *                  IHttpUser::GetUserName, GetRemoteUserName, GetAuthenticationType,
 *                  GetPassword;
 *   role           with a query string "role=NAME": "NAME:1" or "NAME:0" from IsInRole.
 * Then it finishes the request.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>
#include <wchar.h>

static size_t utf8(const wchar_t *w, char *out, size_t cap)
{
    size_t k = 0;
    for (; w && *w && k + 5 < cap; w++) {
        unsigned c = (unsigned)*w;
        if (c < 0x80) {
            out[k++] = (char)c;
        } else if (c < 0x800) {
            out[k++] = (char)(0xc0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[k++] = (char)(0xe0 | (c >> 12));
            out[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[k++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[k++] = (char)(0xf0 | (c >> 18));
            out[k++] = (char)(0x80 | ((c >> 12) & 0x3f));
            out[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[k] = '\0';
    return k;
}

static size_t add_var(IHttpContext *ctx, char *out, size_t k, size_t cap, const char *name)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, name, &v, &n)) || v == NULL)
        v = "(unknown)";
    return k + (size_t)snprintf(out + k, cap - k, "%s=%s\n", name, v);
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    size_t cap = 8192, k = 0;
    char *out = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (out == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    static const char *const vars[] = {"LOGON_USER",           "AUTH_TYPE",    "REMOTE_USER", "AUTH_USER",
                                       "UNMAPPED_REMOTE_USER", "AUTH_PASSWORD"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        k = add_var(ctx, out, k, cap, vars[i]);
    IHttpUser *u = ctx->lpVtbl->GetUser(ctx);
    char buf[1024];
    if (u == NULL) {
        k += (size_t)snprintf(out + k, cap - k, "user=none\n");
    } else {
        k += (size_t)snprintf(out + k, cap - k, "user=set\n");
        utf8(u->lpVtbl->GetUserName(u), buf, sizeof(buf));
        k += (size_t)snprintf(out + k, cap - k, "name=%s\n", buf);
        utf8(u->lpVtbl->GetRemoteUserName(u), buf, sizeof(buf));
        k += (size_t)snprintf(out + k, cap - k, "remote=%s\n", buf);
        utf8(u->lpVtbl->GetAuthenticationType(u), buf, sizeof(buf));
        k += (size_t)snprintf(out + k, cap - k, "type=%s\n", buf);
        utf8(u->lpVtbl->GetPassword(u), buf, sizeof(buf));
        k += (size_t)snprintf(out + k, cap - k, "password=%s\n", buf);
        PCSTR q = NULL;
        DWORD qn = 0;
        if (SUCCEEDED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &q, &qn)) && q != NULL &&
            strncmp(q, "role=", 5) == 0) {
            wchar_t role[256];
            size_t i = 0;
            for (const char *s = q + 5; *s && i + 1 < 256; s++)
                role[i++] = (wchar_t)(unsigned char)*s;
            role[i] = L'\0';
            BOOL in = FALSE;
            HRESULT hr = u->lpVtbl->IsInRole(u, role, &in);
            k += (size_t)snprintf(out + k, cap - k, "role=%s:%d\n", q + 5, SUCCEEDED(hr) && in ? 1 : 0);
        }
    }
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->SetStatus(resp, 200, "OK", 0, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/plain; charset=utf-8", 25, TRUE);
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = out;
    ch.FromMemory.BufferLength = (ULONG)k;
    DWORD sent = 0;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static VOID on_dispose(CHttpModule *This)
{
    (void)This;
}

static CHttpModuleVtbl module_vtbl;
static CHttpModule module_obj = {&module_vtbl};

static HRESULT factory_get(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This, (void)alloc;
    *pp = &module_obj; /* stateless: one object serves every request */
    return S_OK;
}

static VOID factory_terminate(IHttpModuleFactory *This)
{
    (void)This;
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_get,
                                                    .Terminate = factory_terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

__attribute__((visibility("default"))) HRESULT WINAPI RegisterModule(DWORD ver,
                                                                     IHttpModuleRegistrationInfo *info,
                                                                     IHttpServer *srv);
HRESULT WINAPI RegisterModule(DWORD ver, IHttpModuleRegistrationInfo *info, IHttpServer *srv)
{
    (void)ver, (void)srv;
    module_vtbl.OnExecuteRequestHandler = on_execute;
    module_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
