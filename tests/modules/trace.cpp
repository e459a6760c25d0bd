// trace.cpp - records the life of a module in a trace file.
//
// Lines "<name> <event>" are appended to the file named by the environment
// variable IISD_TEST_TRACE (one write(2) per line, O_APPEND), for:
//   create                      IHttpModuleFactory::GetHttpModule
//   BEGIN_REQUEST ... END_REQUEST and POST_<stage>
//                               every deterministic (post-)notification
//   SEND_RESPONSE               RQ_SEND_RESPONSE
//   dispose                     CHttpModule::Dispose
//   terminate                   IHttpModuleFactory::Terminate
//   global-prebegin             CGlobalModule GL_PRE_BEGIN_REQUEST
//   global-stoplistening        CGlobalModule GL_STOP_LISTENING
//   global-terminate            CGlobalModule::Terminate
//
// A request whose URL or query string contains "finish-at-<EVENT>" (for
// example /x?finish-at-AUTHORIZE_REQUEST or finish-at-POST_BEGIN_REQUEST) is
// answered "200 finished" and ended with RQ_NOTIFICATION_FINISH_REQUEST in
// that event. "sleep-at-<EVENT>" makes the module sleep one second in that
// event (after tracing it), so a test can tell when the response went out.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

namespace
{

const size_t kNameMax = 128;

void Trace(const char *pszName, const char *pszEvent)
{
    const char *pszPath = getenv("IISD_TEST_TRACE");
    if (pszPath == NULL || *pszPath == '\0')
        return;
    char line[kNameMax + 64];
    int cch = snprintf(line, sizeof(line), "%s %s\n", pszName, pszEvent);
    if (cch <= 0 || (size_t)cch >= sizeof(line))
        return;
    int fd = open(pszPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t written = write(fd, line, (size_t)cch);
    (void)written;
    close(fd);
}

// True if `pszText` holds "<pszMarker><pszEvent>" (e.g. "finish-at-" +
// "BEGIN_REQUEST") with nothing but a non-name character (or the end) after it.
bool HasMarker(const char *pszText, const char *pszMarker, const char *pszEvent)
{
    size_t cchMarker = strlen(pszMarker);
    size_t cchEvent = strlen(pszEvent);
    for (const char *p = pszText; p != NULL && (p = strstr(p, pszMarker)) != NULL; p++) {
        const char *pszToken = p + cchMarker;
        if (strncmp(pszToken, pszEvent, cchEvent) == 0) {
            char next = pszToken[cchEvent];
            if (!(next == '_' || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9')))
                return true;
        }
    }
    return false;
}

// Looks for the marker in the URL and in the query string.
bool RequestHasMarker(IHttpContext *pContext, const char *pszMarker, const char *pszEvent)
{
    static const char *const kVariables[] = {"QUERY_STRING", "URL"};
    for (const char *pszVariable : kVariables) {
        PCSTR pszValue = NULL;
        DWORD cchValue = 0;
        if (SUCCEEDED(pContext->GetServerVariable(pszVariable, &pszValue, &cchValue)) && pszValue != NULL &&
            HasMarker(pszValue, pszMarker, pszEvent))
            return true;
    }
    return false;
}

void SleepOneSecond()
{
    struct timespec left = {1, 0};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

class CTraceModule : public CHttpModule
{
  public:
    explicit CTraceModule(const char *pszName) : m_pszName(pszName) {}

#define TRACE_EVENT(Method, Provider, Event)                                                                 \
    REQUEST_NOTIFICATION_STATUS                                                                              \
    Method(IHttpContext *pHttpContext, Provider *)                                                           \
    {                                                                                                        \
        return Step(pHttpContext, Event);                                                                    \
    }

    TRACE_EVENT(OnBeginRequest, IHttpEventProvider, "BEGIN_REQUEST")
    TRACE_EVENT(OnPostBeginRequest, IHttpEventProvider, "POST_BEGIN_REQUEST")
    TRACE_EVENT(OnAuthenticateRequest, IAuthenticationProvider, "AUTHENTICATE_REQUEST")
    TRACE_EVENT(OnPostAuthenticateRequest, IHttpEventProvider, "POST_AUTHENTICATE_REQUEST")
    TRACE_EVENT(OnAuthorizeRequest, IHttpEventProvider, "AUTHORIZE_REQUEST")
    TRACE_EVENT(OnPostAuthorizeRequest, IHttpEventProvider, "POST_AUTHORIZE_REQUEST")
    TRACE_EVENT(OnResolveRequestCache, IHttpEventProvider, "RESOLVE_REQUEST_CACHE")
    TRACE_EVENT(OnPostResolveRequestCache, IHttpEventProvider, "POST_RESOLVE_REQUEST_CACHE")
    TRACE_EVENT(OnMapRequestHandler, IMapHandlerProvider, "MAP_REQUEST_HANDLER")
    TRACE_EVENT(OnPostMapRequestHandler, IHttpEventProvider, "POST_MAP_REQUEST_HANDLER")
    TRACE_EVENT(OnAcquireRequestState, IHttpEventProvider, "ACQUIRE_REQUEST_STATE")
    TRACE_EVENT(OnPostAcquireRequestState, IHttpEventProvider, "POST_ACQUIRE_REQUEST_STATE")
    TRACE_EVENT(OnPreExecuteRequestHandler, IHttpEventProvider, "PRE_EXECUTE_REQUEST_HANDLER")
    TRACE_EVENT(OnPostPreExecuteRequestHandler, IHttpEventProvider, "POST_PRE_EXECUTE_REQUEST_HANDLER")
    TRACE_EVENT(OnExecuteRequestHandler, IHttpEventProvider, "EXECUTE_REQUEST_HANDLER")
    TRACE_EVENT(OnPostExecuteRequestHandler, IHttpEventProvider, "POST_EXECUTE_REQUEST_HANDLER")
    TRACE_EVENT(OnReleaseRequestState, IHttpEventProvider, "RELEASE_REQUEST_STATE")
    TRACE_EVENT(OnPostReleaseRequestState, IHttpEventProvider, "POST_RELEASE_REQUEST_STATE")
    TRACE_EVENT(OnUpdateRequestCache, IHttpEventProvider, "UPDATE_REQUEST_CACHE")
    TRACE_EVENT(OnPostUpdateRequestCache, IHttpEventProvider, "POST_UPDATE_REQUEST_CACHE")
    TRACE_EVENT(OnLogRequest, IHttpEventProvider, "LOG_REQUEST")
    TRACE_EVENT(OnPostLogRequest, IHttpEventProvider, "POST_LOG_REQUEST")
    TRACE_EVENT(OnEndRequest, IHttpEventProvider, "END_REQUEST")
    TRACE_EVENT(OnPostEndRequest, IHttpEventProvider, "POST_END_REQUEST")
#undef TRACE_EVENT

    REQUEST_NOTIFICATION_STATUS
    OnSendResponse(IHttpContext *pHttpContext, ISendResponseProvider *)
    {
        Trace(m_pszName, "SEND_RESPONSE");
        if (RequestHasMarker(pHttpContext, "sleep-at-", "SEND_RESPONSE"))
            SleepOneSecond();
        return RQ_NOTIFICATION_CONTINUE;
    }

    VOID Dispose()
    {
        Trace(m_pszName, "dispose");
        delete this;
    }

  private:
    REQUEST_NOTIFICATION_STATUS
    Step(IHttpContext *pContext, const char *pszEvent)
    {
        Trace(m_pszName, pszEvent);
        if (RequestHasMarker(pContext, "sleep-at-", pszEvent))
            SleepOneSecond();
        if (!RequestHasMarker(pContext, "finish-at-", pszEvent))
            return RQ_NOTIFICATION_CONTINUE;

        if (!pContext->GetResponseHeadersSent()) {
            IHttpResponse *pResponse = pContext->GetResponse();
            pResponse->Clear();
            pResponse->SetStatus(200, "OK");
            static const char kType[] = "text/plain";
            pResponse->SetHeader(HttpHeaderContentType, kType, (USHORT)(sizeof(kType) - 1), TRUE);
            static char kBody[] = "finished";
            HTTP_DATA_CHUNK chunk;
            chunk.DataChunkType = HttpDataChunkFromMemory;
            chunk.FromMemory.pBuffer = kBody;
            chunk.FromMemory.BufferLength = (ULONG)(sizeof(kBody) - 1);
            DWORD cbSent = 0;
            pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    const char *m_pszName;
};

class CTraceFactory final : public IHttpModuleFactory
{
  public:
    explicit CTraceFactory(const char *pszName) { snprintf(m_szName, sizeof(m_szName), "%s", pszName); }

    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        Trace(m_szName, "create");
        *ppModule = new CTraceModule(m_szName);
        return S_OK;
    }

    VOID Terminate()
    {
        Trace(m_szName, "terminate");
        delete this;
    }

  private:
    char m_szName[kNameMax];
};

class CTraceGlobal final : public CGlobalModule
{
  public:
    explicit CTraceGlobal(const char *pszName) { snprintf(m_szName, sizeof(m_szName), "%s", pszName); }

    GLOBAL_NOTIFICATION_STATUS
    OnGlobalPreBeginRequest(IPreBeginRequestProvider *)
    {
        Trace(m_szName, "global-prebegin");
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS
    OnGlobalStopListening(IGlobalStopListeningProvider *)
    {
        Trace(m_szName, "global-stoplistening");
        return GL_NOTIFICATION_CONTINUE;
    }

    VOID Terminate()
    {
        Trace(m_szName, "global-terminate");
        delete this;
    }

  private:
    char m_szName[kNameMax];
};

void NarrowName(PCWSTR pwszName, char *pszOut, size_t cchOut)
{
    size_t i = 0;
    for (; pwszName != NULL && pwszName[i] != L'\0' && i + 1 < cchOut; i++)
        pszOut[i] = (pwszName[i] > 0 && pwszName[i] < 0x7f) ? (char)pwszName[i] : '?';
    pszOut[i] = '\0';
}

const DWORD kAllStages = RQ_BEGIN_REQUEST | RQ_AUTHENTICATE_REQUEST | RQ_AUTHORIZE_REQUEST |
                         RQ_RESOLVE_REQUEST_CACHE | RQ_MAP_REQUEST_HANDLER | RQ_ACQUIRE_REQUEST_STATE |
                         RQ_PRE_EXECUTE_REQUEST_HANDLER | RQ_EXECUTE_REQUEST_HANDLER |
                         RQ_RELEASE_REQUEST_STATE | RQ_UPDATE_REQUEST_CACHE | RQ_LOG_REQUEST | RQ_END_REQUEST;

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    char szName[kNameMax];
    NarrowName(pModuleInfo->GetName(), szName, sizeof(szName));

    HRESULT hr = pModuleInfo->SetRequestNotifications(new CTraceFactory(szName),
                                                      kAllStages | RQ_SEND_RESPONSE, kAllStages);
    if (FAILED(hr))
        return hr;
    return pModuleInfo->SetGlobalNotifications(new CTraceGlobal(szName),
                                               GL_PRE_BEGIN_REQUEST | GL_STOP_LISTENING);
}
