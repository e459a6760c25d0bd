// tracer.cpp - exercises IHttpTraceContext and reports GL_TRACE_EVENT.
//
// The global module (GL_TRACE_EVENT) appends one line per event it receives
// to the file named by IISD_TEST_TRACE:
//   event <name> provider=<guid> area=<n> level=<n> sub=<CheckSubscription 0|1>
//         url=<URL of GetCurrentHttpRequestContext, or -> items=<name>=<value>;...
// At registration it subscribes, through IHttpServer::GetTraceContext, to the
// test provider {5b2c9d1e-7a40-4c8e-9f31-0d6e2a7b8c15} in areas 2 and 4 up to
// level 4 (Information).
//
// The request module (RQ_BEGIN_REQUEST) handles URLs under /tracer/ and
// first raises QuickTrace(L"tracer", <URL>) at level 4 on every one of them:
//   /tracer/raise?area=A&level=L  raises TEST_EVENT of the test provider (items
//                                 Value=42, Text="a<b&c"); answers "raised"
//   /tracer/quick                 subscribes the request to WWW Server, area
//                                 Module, verbose; QuickTrace(L"first",
//                                 L"second", E_FAIL, 3); answers
//                                 "before=<0|1> after=<0|1> areas=<n> verbosity=<n>"
//                                 (GetTraceConfiguration of WWW Server around it)
//   /tracer/notify                subscribes the request to WWW Server, area
//                                 RequestNotifications, verbose; CONTINUE
//   /tracer/activity              answers "activity=<guid> same=<0|1>"
//   /tracer/errors                answers the HRESULTs of SetTraceConfiguration
//                                 disabling a provider never enabled, and with a
//                                 NULL provider: "notfound=0x... invalid=0x..."
//   /tracer/sleep?ms=N            sleeps N ms, answers "slept"
//   /tracer/status?code=C&sub=S   SetStatus(C, "Traced", S, E_ACCESSDENIED) and
//                                 FINISH_REQUEST with body "status"
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include "query_value.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

namespace
{

const GUID kTestProvider = {0x5b2c9d1e, 0x7a40, 0x4c8e, {0x9f, 0x31, 0x0d, 0x6e, 0x2a, 0x7b, 0x8c, 0x15}};
HTTP_MODULE_ID g_id;

void AppendLine(const char *line, size_t len)
{
    const char *path = getenv("IISD_TEST_TRACE");
    if (path == NULL || *path == '\0')
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, len);
    (void)w;
    close(fd);
}

void FormatGuid(const GUID *g, char *out, size_t cap)
{
    if (g == NULL) {
        snprintf(out, cap, "-");
        return;
    }
    snprintf(out, cap, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned)g->Data1, g->Data2,
             g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5],
             g->Data4[6], g->Data4[7]);
}

// Narrows a wide string (ASCII is all the tests use).
void Narrow(PCWSTR w, char *out, size_t cap)
{
    size_t i = 0;
    for (; w != NULL && w[i] != 0 && i + 1 < cap; i++)
        out[i] = (char)(w[i] < 0x80 ? w[i] : '?');
    out[i] = '\0';
}

class CTracerGlobal : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS OnGlobalTraceEvent(IGlobalTraceEventProvider *pProvider)
    {
        HTTP_TRACE_EVENT *pEvent = NULL;
        if (FAILED(pProvider->GetTraceEvent(&pEvent)) || pEvent == NULL)
            return GL_NOTIFICATION_CONTINUE;
        char line[2048], name[128], guid[64];
        Narrow(pEvent->pszEventName, name, sizeof(name));
        FormatGuid(pEvent->pProviderGuid, guid, sizeof(guid));
        IHttpContext *pContext = NULL;
        PCSTR pszUrl = "-";
        DWORD cch = 0;
        if (FAILED(pProvider->GetCurrentHttpRequestContext(&pContext)) || pContext == NULL ||
            FAILED(pContext->GetServerVariable("URL", &pszUrl, &cch)) || pszUrl == NULL)
            pszUrl = "-";
        int n =
            snprintf(line, sizeof(line), "event %s provider=%s area=%u level=%u sub=%d url=%s items=", name,
                     guid, (unsigned)pEvent->dwArea, (unsigned)pEvent->dwVerbosity,
                     pProvider->CheckSubscription(g_id) ? 1 : 0, pszUrl);
        for (DWORD i = 0; i < pEvent->cEventItems && n > 0 && (size_t)n < sizeof(line) - 300; i++) {
            const HTTP_TRACE_EVENT_ITEM &it = pEvent->pEventItems[i];
            char item[128], value[200];
            Narrow(it.pszName, item, sizeof(item));
            value[0] = '\0';
            if (it.dwDataType == HTTP_TRACE_TYPE_LPCWSTR)
                Narrow((PCWSTR)it.pbData, value, sizeof(value));
            else if (it.dwDataType == HTTP_TRACE_TYPE_LPCSTR)
                snprintf(value, sizeof(value), "%s", (const char *)it.pbData);
            else if (it.cbData == 2)
                snprintf(value, sizeof(value), "%u", (unsigned)*(const USHORT *)it.pbData);
            else if (it.cbData == 4)
                snprintf(value, sizeof(value), "%u", (unsigned)*(const ULONG *)it.pbData);
            n += snprintf(line + n, sizeof(line) - (size_t)n, "%s=%s;", item, value);
        }
        if (n > 0 && (size_t)n < sizeof(line) - 1) {
            line[n++] = '\n';
            AppendLine(line, (size_t)n);
        }
        return GL_NOTIFICATION_CONTINUE;
    }
    void Terminate() { delete this; }
};

class CTracerModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *pContext, IHttpEventProvider *)
    {
        PCSTR pszUrl = NULL, pszQuery = NULL;
        DWORD cch = 0;
        if (FAILED(pContext->GetServerVariable("URL", &pszUrl, &cch)) || pszUrl == NULL ||
            strncmp(pszUrl, "/tracer/", 8) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        if (FAILED(pContext->GetServerVariable("QUERY_STRING", &pszQuery, &cch)) || pszQuery == NULL)
            pszQuery = "";
        IHttpTraceContext *pTrace = pContext->GetTraceContext();
        if (pTrace == NULL)
            return Answer(pContext, "no trace context");
        WCHAR wszUrl[256];
        size_t i = 0;
        for (; pszUrl[i] != '\0' && i + 1 < 256; i++)
            wszUrl[i] = (WCHAR)(unsigned char)pszUrl[i];
        wszUrl[i] = 0;
        pTrace->QuickTrace(L"tracer", wszUrl);
        const char *pszWhat = pszUrl + 8;
        char value[64], body[256];
        if (strcmp(pszWhat, "raise") == 0) {
            DWORD area = QueryValue(pszQuery, "area", value, sizeof(value)) ? (DWORD)atoi(value) : 2;
            DWORD level = QueryValue(pszQuery, "level", value, sizeof(value)) ? (DWORD)atoi(value) : 4;
            ULONG ulValue = 42;
            static const WCHAR wszText[] = L"a<b&c";
            HTTP_TRACE_EVENT_ITEM items[2] = {
                {L"Value", HTTP_TRACE_TYPE_ULONG, (PBYTE)&ulValue, sizeof(ulValue), NULL},
                {L"Text", HTTP_TRACE_TYPE_LPCWSTR, (PBYTE)wszText, sizeof(wszText), NULL}};
            HTTP_TRACE_EVENT ev;
            memset(&ev, 0, sizeof(ev));
            ev.pProviderGuid = &kTestProvider;
            ev.dwArea = area;
            ev.dwEvent = 7;
            ev.pszEventName = L"TEST_EVENT";
            ev.dwEventVersion = 1;
            ev.dwVerbosity = level;
            ev.pActivityGuid = pTrace->GetTraceActivityId();
            ev.cEventItems = 2;
            ev.pEventItems = items;
            HRESULT hr = pTrace->RaiseTraceEvent(&ev);
            snprintf(body, sizeof(body), "raised hr=0x%08x", (unsigned)hr);
            return Answer(pContext, body);
        }
        if (strcmp(pszWhat, "quick") == 0) {
            HTTP_TRACE_CONFIGURATION before = {&GUID_IIS_WWW_SERVER_TRACE_PROVIDER, 0, 0, FALSE};
            pTrace->GetTraceConfiguration(&before);
            HTTP_TRACE_CONFIGURATION cfg = {&GUID_IIS_WWW_SERVER_TRACE_PROVIDER, 512, 5, TRUE};
            pTrace->SetTraceConfiguration(g_id, &cfg);
            HTTP_TRACE_CONFIGURATION after = {&GUID_IIS_WWW_SERVER_TRACE_PROVIDER, 0, 0, FALSE};
            pTrace->GetTraceConfiguration(&after);
            pTrace->QuickTrace(L"first", L"second", E_FAIL, 3);
            snprintf(body, sizeof(body), "before=%d after=%d areas=%u verbosity=%u",
                     before.fProviderEnabled ? 1 : 0, after.fProviderEnabled ? 1 : 0, (unsigned)after.dwAreas,
                     (unsigned)after.dwVerbosity);
            return Answer(pContext, body);
        }
        if (strcmp(pszWhat, "notify") == 0) {
            HTTP_TRACE_CONFIGURATION cfg = {&GUID_IIS_WWW_SERVER_TRACE_PROVIDER, 256, 5, TRUE};
            pTrace->SetTraceConfiguration(g_id, &cfg);
            return RQ_NOTIFICATION_CONTINUE;
        }
        if (strcmp(pszWhat, "activity") == 0) {
            LPCGUID a = pTrace->GetTraceActivityId(), b = pTrace->GetTraceActivityId();
            char g[64];
            FormatGuid(a, g, sizeof(g));
            snprintf(body, sizeof(body), "activity=%s same=%d", g,
                     a != NULL && b != NULL && memcmp(a, b, sizeof(GUID)) == 0 ? 1 : 0);
            return Answer(pContext, body);
        }
        if (strcmp(pszWhat, "errors") == 0) {
            HTTP_TRACE_CONFIGURATION off = {&GUID_IIS_ASPNET_TRACE_PROVIDER, 0, 0, FALSE};
            HRESULT hrNotFound = pTrace->SetTraceConfiguration(g_id, &off);
            HTTP_TRACE_CONFIGURATION bad = {NULL, 0, 0, TRUE};
            HRESULT hrInvalid = pTrace->SetTraceConfiguration(g_id, &bad);
            snprintf(body, sizeof(body), "notfound=0x%08x invalid=0x%08x", (unsigned)hrNotFound,
                     (unsigned)hrInvalid);
            return Answer(pContext, body);
        }
        if (strcmp(pszWhat, "sleep") == 0) {
            long ms = QueryValue(pszQuery, "ms", value, sizeof(value)) ? atol(value) : 100;
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            return Answer(pContext, "slept");
        }
        if (strcmp(pszWhat, "status") == 0) {
            USHORT code = QueryValue(pszQuery, "code", value, sizeof(value)) ? (USHORT)atoi(value) : 500;
            USHORT sub = QueryValue(pszQuery, "sub", value, sizeof(value)) ? (USHORT)atoi(value) : 0;
            pContext->GetResponse()->SetStatus(code, "Traced", sub, E_ACCESSDENIED);
            return Write(pContext, "status");
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    static REQUEST_NOTIFICATION_STATUS Write(IHttpContext *pContext, const char *text)
    {
        size_t n = strlen(text);
        char *copy = (char *)pContext->AllocateRequestMemory((DWORD)n + 1);
        if (copy != NULL) {
            memcpy(copy, text, n + 1);
            IHttpResponse *pResponse = pContext->GetResponse();
            pResponse->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
            HTTP_DATA_CHUNK chunk;
            chunk.DataChunkType = HttpDataChunkFromMemory;
            chunk.FromMemory.pBuffer = copy;
            chunk.FromMemory.BufferLength = (ULONG)n;
            DWORD cbSent = 0;
            pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    static REQUEST_NOTIFICATION_STATUS Answer(IHttpContext *pContext, const char *text)
    {
        pContext->GetResponse()->SetStatus(200, "OK");
        return Write(pContext, text);
    }
};

class CTracerFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CTracerModule();
        return S_OK;
    }
    void Terminate() { delete this; }
};

} // namespace

extern "C" HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo,
                                            IHttpServer *pServer)
{
    g_id = pModuleInfo->GetId();
    HTTP_TRACE_CONFIGURATION cfg = {&kTestProvider, 2 | 4, 4, TRUE};
    IHttpTraceContext *pTrace = pServer->GetTraceContext();
    if (pTrace == NULL || FAILED(pTrace->SetTraceConfiguration(g_id, &cfg)))
        return E_FAIL;
    HRESULT hr = pModuleInfo->SetRequestNotifications(new CTracerFactory(), RQ_BEGIN_REQUEST, 0);
    if (SUCCEEDED(hr))
        hr = pModuleInfo->SetGlobalNotifications(new CTracerGlobal(), GL_TRACE_EVENT);
    return hr;
}
