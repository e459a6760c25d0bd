// Asynchronous completion and custom notifications.
//
// RQ_BEGIN_REQUEST, by URL:
//   /indicate       returns PENDING; another thread writes "indicated" and calls
//                   IndicateCompletion(FINISH_REQUEST) 50 ms later.
//   /indicate-continue   the same with IndicateCompletion(CONTINUE): the request then
//                   goes on through the pipeline (a static file is served).
//   /post           returns PENDING; another thread calls PostCompletion(42) 50 ms
//                   later; OnAsyncCompletion writes "posted <bytes> <notification>".
//   /early          another thread calls PostCompletion(7) at once, and this thread
//                   sleeps 100 ms before returning PENDING: the completion arrives
//                   before the notification returns.
//   /custom         raises a request-level custom notification (RQ_CUSTOM_NOTIFICATION,
//                   received by this module) and a global one (GL_CUSTOM_NOTIFICATION,
//                   received by its CGlobalModule); the body reports both.
// The global module appends "thread-cleanup" to $IISD_TEST_TRACE on GL_THREAD_CLEANUP.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <thread>
#include <unistd.h>

static IHttpServer *g_server;
static std::atomic<int> g_global_custom{0};

static void trace(const char *what)
{
    const char *path = getenv("IISD_TEST_TRACE");
    if (path == NULL)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return;
    std::string line = std::string("Async ") + what + "\n";
    ssize_t w = write(fd, line.data(), line.size());
    (void)w;
    close(fd);
}

static void write_body(IHttpContext *ctx, const std::string &text)
{
    IHttpResponse *resp = ctx->GetResponse();
    char *copy = (char *)ctx->AllocateRequestMemory((DWORD)text.size() + 1);
    memcpy(copy, text.c_str(), text.size() + 1);
    resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = copy;
    chunk.FromMemory.BufferLength = (ULONG)text.size();
    DWORD sent = 0;
    resp->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
}

class CRequestKind : public ICustomNotificationProvider
{
  public:
    VOID SetErrorStatus(HRESULT hr) { UNREFERENCED_PARAMETER(hr); }
    PCWSTR QueryNotificationType() { return L"iisd-test-request-kind"; }
};

class CGlobalKind : public ICustomNotificationProvider
{
  public:
    VOID SetErrorStatus(HRESULT hr) { UNREFERENCED_PARAMETER(hr); }
    PCWSTR QueryNotificationType() { return L"iisd-test-global-kind"; }
};

class CAsyncModule : public CHttpModule
{
    int m_custom = 0;

  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        DWORD n = 0;
        PCWSTR url = ctx->GetScriptName(&n);
        std::wstring u(url, n);
        if (u == L"/indicate" || u == L"/indicate-continue") {
            bool finish = u == L"/indicate";
            std::thread([ctx, finish]() {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                if (finish)
                    write_body(ctx, "indicated");
                ctx->IndicateCompletion(finish ? RQ_NOTIFICATION_FINISH_REQUEST : RQ_NOTIFICATION_CONTINUE);
            }).detach();
            return RQ_NOTIFICATION_PENDING;
        }
        if (u == L"/post") {
            std::thread([ctx]() {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                ctx->PostCompletion(42);
            }).detach();
            return RQ_NOTIFICATION_PENDING;
        }
        if (u == L"/early") {
            std::thread([ctx]() { ctx->PostCompletion(7); }).detach();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return RQ_NOTIFICATION_PENDING;
        }
        if (u == L"/custom") {
            CRequestKind rk;
            BOOL expected = TRUE;
            HRESULT hr = ctx->NotifyCustomNotification(&rk, &expected);
            CGlobalKind gk;
            int before = g_global_custom.load();
            GLOBAL_NOTIFICATION_STATUS gs = g_server->NotifyCustomNotification(&gk);
            char buf[160];
            snprintf(buf, sizeof(buf), "request-custom=%d hr=0x%08x expected=%d global-custom=%d status=%d",
                     m_custom, (unsigned)hr, (int)expected, g_global_custom.load() - before, (int)gs);
            write_body(ctx, buf);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnCustomRequestNotification(IHttpContext *, ICustomNotificationProvider *p)
    {
        if (wcscmp(p->QueryNotificationType(), L"iisd-test-request-kind") == 0)
            m_custom++;
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnAsyncCompletion(IHttpContext *ctx, DWORD dwNotification, BOOL fPost,
                                                  IHttpEventProvider *, IHttpCompletionInfo *info)
    {
        char buf[96];
        snprintf(buf, sizeof(buf), "posted %u 0x%x %d hr=0x%08x", (unsigned)info->GetCompletionBytes(),
                 (unsigned)dwNotification, (int)fPost, (unsigned)info->GetCompletionStatus());
        write_body(ctx, buf);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CAsyncFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CAsyncModule;
        return S_OK;
    }
    void Terminate() { delete this; }
};

class CAsyncGlobal final : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS OnGlobalCustomNotification(ICustomNotificationProvider *p)
    {
        if (wcscmp(p->QueryNotificationType(), L"iisd-test-global-kind") == 0)
            g_global_custom++;
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalThreadCleanup(IGlobalThreadCleanupProvider *)
    {
        trace("thread-cleanup");
        return GL_NOTIFICATION_CONTINUE;
    }
    VOID Terminate() { delete this; }
};

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_server = server;
    HRESULT hr =
        info->SetRequestNotifications(new CAsyncFactory, RQ_BEGIN_REQUEST | RQ_CUSTOM_NOTIFICATION, 0);
    if (FAILED(hr))
        return hr;
    return info->SetGlobalNotifications(new CAsyncGlobal, GL_CUSTOM_NOTIFICATION | GL_THREAD_CLEANUP);
}
