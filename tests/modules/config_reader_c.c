/*
 * config_reader_c.c - the C twin of config_reader.cpp: reads one attribute of
 * system.webServer/testSection (tests/modules/schema/config_reader_schema.xml)
 * through the C binding (lpVtbl) of the AppHost administration interfaces.
 *
 * For a URL with a path segment "cconfig" (e.g. /cconfig/sub/x.txt) it reads
 * `greeting` at the request's configuration path and answers 200 text/plain
 *
 *     greeting=<value>;vt=<VARIANT type>
 *
 * or "error=<what> hr=0x<HRESULT>"; with FINISH_REQUEST. Other URLs continue.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <ahadmin.h>

#include <stdio.h>
#include <string.h>

#include "c_module_base.h"

static IHttpServer *g_server;

static void answer(IHttpContext *ctx, const char *text)
{
    IHttpResponse *response = ctx->lpVtbl->GetResponse(ctx);
    static const char content_type[] = "text/plain";
    size_t length = strlen(text);
    HTTP_DATA_CHUNK chunk;
    DWORD sent = 0;
    void *copy;

    response->lpVtbl->Clear(response);
    response->lpVtbl->SetStatus(response, 200, "OK", 0, S_OK, NULL, FALSE);
    response->lpVtbl->SetHeaderById(response, HttpHeaderContentType, content_type,
                                    (USHORT)(sizeof(content_type) - 1), TRUE);
    copy = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)length);
    if (copy == NULL || length == 0)
        return;
    memcpy(copy, text, length);
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = copy;
    chunk.FromMemory.BufferLength = (ULONG)length;
    response->lpVtbl->WriteEntityChunks(response, &chunk, 1, FALSE, FALSE, &sent, NULL);
}

static void fail(IHttpContext *ctx, const char *what, HRESULT hr)
{
    char text[256];
    snprintf(text, sizeof(text), "error=%s hr=0x%08x", what, (unsigned)hr);
    answer(ctx, text);
}

/* ASCII narrowing of a wide string; anything else becomes '?'. */
static void narrow(const wchar_t *w, char *out, size_t out_size)
{
    size_t i;
    for (i = 0; w != NULL && w[i] != L'\0' && i + 1 < out_size; i++)
        out[i] = (w[i] > 0 && w[i] < 0x7f) ? (char)w[i] : '?';
    out[i] = '\0';
}

static int has_segment(const char *url, const char *segment)
{
    size_t n = strlen(segment);
    const char *p = url;
    while ((p = strchr(p, '/')) != NULL) {
        p++;
        if (strncmp(p, segment, n) == 0 && (p[n] == '/' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

static void read_greeting(IHttpContext *ctx)
{
    IAppHostAdminManager *mgr = g_server->lpVtbl->GetAdminManager(g_server);
    IMetadataInfo *meta = ctx->lpVtbl->GetMetadata(ctx);
    IAppHostElement *section = NULL;
    IAppHostProperty *property = NULL;
    BSTR section_name, path, attribute;
    VARIANT value;
    HRESULT hr;
    char text[1024], greeting[900];

    if (mgr == NULL) {
        fail(ctx, "GetAdminManager returned NULL", E_NOTIMPL);
        return;
    }
    if (meta == NULL || meta->lpVtbl->GetMetaPath(meta) == NULL) {
        fail(ctx, "GetMetaPath returned NULL", E_POINTER);
        return;
    }
    section_name = SysAllocString(L"system.webServer/testSection");
    path = SysAllocString(meta->lpVtbl->GetMetaPath(meta));
    hr = mgr->lpVtbl->GetAdminSection(mgr, section_name, path, &section);
    SysFreeString(section_name);
    SysFreeString(path);
    if (FAILED(hr) || section == NULL) {
        fail(ctx, "GetAdminSection", FAILED(hr) ? hr : E_POINTER);
        return;
    }

    attribute = SysAllocString(L"greeting");
    hr = section->lpVtbl->GetPropertyByName(section, attribute, &property);
    SysFreeString(attribute);
    section->lpVtbl->Release(section);
    if (FAILED(hr) || property == NULL) {
        fail(ctx, "GetPropertyByName", FAILED(hr) ? hr : E_POINTER);
        return;
    }

    VariantInit(&value);
    hr = property->lpVtbl->get_Value(property, &value);
    property->lpVtbl->Release(property);
    if (FAILED(hr)) {
        fail(ctx, "get_Value", hr);
        return;
    }
    if (value.vt == VT_BSTR)
        narrow(value.bstrVal, greeting, sizeof(greeting));
    else
        snprintf(greeting, sizeof(greeting), "<not a string>");
    snprintf(text, sizeof(text), "greeting=%s;vt=%u", greeting, (unsigned)value.vt);
    VariantClear(&value);
    answer(ctx, text);
}

static REQUEST_NOTIFICATION_STATUS begin_request(CHttpModule *This, IHttpContext *ctx,
                                                 IHttpEventProvider *provider)
{
    PCSTR url = NULL;
    DWORD length = 0;

    (void)This, (void)provider;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &length)) || url == NULL ||
        !has_segment(url, "cconfig"))
        return RQ_NOTIFICATION_CONTINUE;
    read_greeting(ctx);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static const CHttpModuleVtbl config_reader_c_vtbl = CMB_VTBL_WITH_BEGIN(begin_request);

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    (void)dwServerVersion;
    g_server = pGlobalInfo;
    return cmb_register(pModuleInfo, &config_reader_c_vtbl, RQ_BEGIN_REQUEST);
}
