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
//   /postex         another thread calls IHttpContext3::PostCompletion(17, routine, module) (the
//                   PostCompletionEx slot); the routine writes "routine err=<e> bytes=<n> ctx=<ok>"
//                   and calls IndicateCompletion(FINISH_REQUEST).
//   /hello.txt?postex-continue   the same, but the routine only traces "routine <n>" and returns:
//                   the request goes on (the static file is served).
//
// Asynchronous entity-body I/O (RQ_BEGIN_REQUEST); each read that goes pending traces
// "read-pending", and the body answers "pending=<n> eof=<sync|async> hr=<hr> sizes=<s> body=<b>":
//   /aread          reads with IHttpRequest::ReadEntityBody(fAsync) 16 bytes at a time until
//                   ERROR_HANDLE_EOF; completions arrive in OnAsyncCompletion.
//   /aread-ex       the same with IHttpRequest3::ReadEntityBody (callback; context checked).
//   /aread-fill     one IHttpRequest4::ReadEntityBody(fAsync, flags 1 = fill the buffer) of 10
//                   bytes, then reads as /aread.
//   /insert-read    reads the whole body synchronously, inserts "hello " + body with
//                   InsertEntityBody, then reads as /aread; X-Remaining: GetRemainingEntityBytes()
//                   after the insert.
//   /echo-insert    reads up to 5 bytes synchronously and inserts "[" + them + "]"; the request
//                   goes on (the echo module answers with what it reads).
// Asynchronous writes of 8 MiB (buffering off), traced "write-pending" / "write-sync", then
// "write-complete <bytes> hr=<hr>" from the completion:
//   /awrite         IHttpResponse::WriteEntityChunks(fAsync, fMoreData), OnAsyncCompletion
//   /awrite-ex      IHttpResponse2::WriteEntityChunks with a callback
//   /aflush-ex      the body is buffered, then IHttpResponse2::Flush(fAsync) with a callback
// With ?cancel, a read or write that goes pending is cancelled by another thread with
// IHttpContext::CancelIo (traced "cancel hr=<hr>"); with ?cancel-now, by the module itself before it
// returns RQ_NOTIFICATION_PENDING; with ?cancel-race, by another thread that is let go just as the
// module returns RQ_NOTIFICATION_PENDING (the call races with the request's end, which it causes).
// The global module appends "thread-cleanup" to $IISD_TEST_TRACE on GL_THREAD_CLEANUP.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <memory>
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

static const DWORD kBig = 8u << 20;

class CAsyncModule : public CHttpModule
{
    int m_custom = 0;

    enum Mode { NONE, READ, READ_EX, READ_FILL, WRITE, WRITE_EX, FLUSH_EX };
    Mode m_mode = NONE;
    IHttpContext *m_ctx = nullptr;
    char m_buf[16];
    int m_cancel = 0; // 1: ?cancel (another thread), 2: ?cancel-now (this one), 3: ?cancel-race
    std::string m_body, m_sizes;
    int m_pending = 0;

    REQUEST_NOTIFICATION_STATUS read_end(IHttpContext *ctx, HRESULT hr, bool async)
    {
        char head[128];
        snprintf(head, sizeof(head), "pending=%d eof=%s hr=0x%08x sizes=%s body=", m_pending,
                 async ? "async" : "sync", (unsigned)hr, m_sizes.c_str());
        write_body(ctx, head + m_body);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    void got(const char *p, DWORD n)
    {
        m_body.append(p, n);
        m_sizes += std::to_string(n) + ",";
    }

    // Reads until the body ends or a read goes pending.
    REQUEST_NOTIFICATION_STATUS read_loop(IHttpContext *ctx)
    {
        for (;;) {
            DWORD n = 0;
            BOOL pending = FALSE;
            HRESULT hr;
            if (m_mode == READ_EX) {
                IHttpRequest3 *r3 = NULL;
                hr = HttpGetExtendedInterface(g_server, ctx->GetRequest(), &r3);
                if (SUCCEEDED(hr))
                    hr = r3->ReadEntityBody(m_buf, sizeof(m_buf), TRUE, read_done, this, &n, &pending);
            } else if (m_mode == READ_FILL) {
                IHttpRequest4 *r4 = NULL;
                hr = HttpGetExtendedInterface(g_server, ctx->GetRequest(), &r4);
                if (SUCCEEDED(hr))
                    hr = r4->ReadEntityBody(m_buf, 10, TRUE, 1, &n, &pending);
                m_mode = READ;
            } else {
                hr = ctx->GetRequest()->ReadEntityBody(m_buf, sizeof(m_buf), TRUE, &n, &pending);
            }
            if (FAILED(hr))
                return read_end(ctx, hr, false);
            if (pending) {
                m_pending++;
                trace("read-pending");
                return cancel_pending(ctx);
            }
            got(m_buf, n);
        }
    }

    REQUEST_NOTIFICATION_STATUS read_completed(IHttpContext *ctx, DWORD bytes, HRESULT hr)
    {
        if (FAILED(hr))
            return read_end(ctx, hr, true);
        got(m_buf, bytes);
        return read_loop(ctx);
    }

    static REQUEST_NOTIFICATION_STATUS WINAPI read_done(IHttpContext3 *ctx, IHttpCompletionInfo2 *info,
                                                        VOID *self)
    {
        CAsyncModule *m = (CAsyncModule *)self;
        if (m->m_ctx != ctx)
            return RQ_NOTIFICATION_FINISH_REQUEST; // the wrong context: the test sees no body
        return m->read_completed(ctx, info->GetCompletionBytes(), info->GetCompletionStatus());
    }

    REQUEST_NOTIFICATION_STATUS write_completed(DWORD bytes, HRESULT hr)
    {
        char line[96];
        snprintf(line, sizeof(line), "write-complete %u hr=0x%08x", (unsigned)bytes, (unsigned)hr);
        trace(line);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    static REQUEST_NOTIFICATION_STATUS WINAPI write_done(IHttpContext3 *ctx, IHttpCompletionInfo2 *info,
                                                         VOID *self)
    {
        CAsyncModule *m = (CAsyncModule *)self;
        if (m->m_ctx != ctx)
            return RQ_NOTIFICATION_FINISH_REQUEST;
        return m->write_completed(info->GetCompletionBytes(), info->GetCompletionStatus());
    }

    REQUEST_NOTIFICATION_STATUS start_write(IHttpContext *ctx)
    {
        IHttpResponse *resp = ctx->GetResponse();
        char *big = (char *)ctx->AllocateRequestMemory(kBig);
        memset(big, 'w', kBig);
        resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = big;
        chunk.FromMemory.BufferLength = kBig;
        DWORD sent = 0;
        BOOL expected = FALSE;
        HRESULT hr;
        IHttpResponse2 *r2 = NULL;
        if (m_mode != WRITE && FAILED(hr = HttpGetExtendedInterface(g_server, resp, &r2)))
            return write_completed(0, hr);
        if (m_mode == FLUSH_EX) {
            resp->WriteEntityChunks(&chunk, 1, FALSE, TRUE, &sent); // buffered: copied
            hr = r2->Flush(TRUE, TRUE, write_done, this, &sent, &expected);
        } else {
            resp->DisableBuffering();
            if (m_mode == WRITE_EX)
                hr = r2->WriteEntityChunks(&chunk, 1, TRUE, TRUE, write_done, this, &sent, &expected);
            else
                hr = resp->WriteEntityChunks(&chunk, 1, TRUE, TRUE, &sent, &expected);
        }
        if (FAILED(hr) || !expected) {
            trace("write-sync");
            return write_completed(sent, hr);
        }
        trace("write-pending");
        return cancel_pending(ctx);
    }

    // An operation went pending: ?cancel and ?cancel-now cancel it.
    REQUEST_NOTIFICATION_STATUS cancel_pending(IHttpContext *ctx)
    {
        if (m_cancel == 2) {
            cancel(ctx);
        } else if (m_cancel == 1) {
            std::thread([ctx]() { cancel(ctx); }).detach();
        } else if (m_cancel == 3) {
            // The request is alive until the cancel takes effect: the operation cannot complete
            // otherwise. The thread waits for the go, so that its call overlaps the return.
            auto go = std::make_shared<std::atomic<bool>>(false);
            std::thread([ctx, go]() {
                while (!go->load())
                    std::this_thread::yield();
                cancel(ctx);
            }).detach();
            go->store(true);
        }
        m_cancel = 0;
        return RQ_NOTIFICATION_PENDING;
    }

    static void cancel(IHttpContext *ctx)
    {
        char line[48];
        snprintf(line, sizeof(line), "cancel hr=0x%08x", (unsigned)ctx->CancelIo());
        trace(line);
    }

    static VOID WINAPI post_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov)
    {
        CAsyncModule *m = (CAsyncModule *)ov;
        char buf[96];
        if (m->m_mode == NONE) {
            snprintf(buf, sizeof(buf), "routine err=%u bytes=%u ctx=ok", (unsigned)err, (unsigned)bytes);
            write_body(m->m_ctx, buf);
            m->m_ctx->IndicateCompletion(RQ_NOTIFICATION_FINISH_REQUEST);
        } else {
            snprintf(buf, sizeof(buf), "routine %u", (unsigned)bytes);
            trace(buf);
        }
    }

  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        DWORD n = 0;
        PCWSTR url = ctx->GetScriptName(&n);
        std::wstring u(url, n);
        m_ctx = ctx;
        PCSTR query = NULL;
        DWORD qlen = 0;
        ctx->GetServerVariable("QUERY_STRING", &query, &qlen);
        bool postex_continue = query != NULL && strcmp(query, "postex-continue") == 0;
        m_cancel = query == NULL                       ? 0
                   : strcmp(query, "cancel") == 0      ? 1
                   : strcmp(query, "cancel-now") == 0  ? 2
                   : strcmp(query, "cancel-race") == 0 ? 3
                                                       : 0;
        if (u == L"/postex" || postex_continue) {
            m_mode = postex_continue ? READ : NONE; // (READ: the routine only traces)
            IHttpContext3 *c3 = NULL;
            if (FAILED(HttpGetExtendedInterface(g_server, ctx, &c3)))
                return RQ_NOTIFICATION_FINISH_REQUEST;
            std::thread([c3, this]() {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                c3->PostCompletion(17, post_routine, this);
            }).detach();
            return RQ_NOTIFICATION_PENDING;
        }
        if (u == L"/aread" || u == L"/aread-ex" || u == L"/aread-fill") {
            m_mode = u == L"/aread" ? READ : u == L"/aread-ex" ? READ_EX : READ_FILL;
            return read_loop(ctx);
        }
        if (u == L"/insert-read" || u == L"/echo-insert") {
            bool all = u == L"/insert-read";
            std::string seen;
            char buf[64];
            for (;;) {
                DWORD got_n = 0;
                HRESULT hr = ctx->GetRequest()->ReadEntityBody(buf, all ? sizeof(buf) : 5, FALSE, &got_n);
                if (FAILED(hr) || got_n == 0)
                    break;
                seen.append(buf, got_n);
                if (!all)
                    break;
            }
            std::string ins = all ? "hello " + seen : "[" + seen + "]";
            char *mem = (char *)ctx->AllocateRequestMemory((DWORD)ins.size());
            memcpy(mem, ins.data(), ins.size());
            HRESULT hr = ctx->GetRequest()->InsertEntityBody(mem, (DWORD)ins.size());
            if (FAILED(hr))
                return read_end(ctx, hr, false);
            if (!all)
                return RQ_NOTIFICATION_CONTINUE;
            char rem[16];
            snprintf(rem, sizeof(rem), "%u", (unsigned)ctx->GetRequest()->GetRemainingEntityBytes());
            ctx->GetResponse()->SetHeader("X-Remaining", rem, (USHORT)strlen(rem), TRUE);
            m_mode = READ;
            return read_loop(ctx);
        }
        if (u == L"/awrite" || u == L"/awrite-ex" || u == L"/aflush-ex") {
            m_mode = u == L"/awrite" ? WRITE : u == L"/awrite-ex" ? WRITE_EX : FLUSH_EX;
            return start_write(ctx);
        }
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
        if (m_mode == READ)
            return read_completed(ctx, info->GetCompletionBytes(), info->GetCompletionStatus());
        if (m_mode == WRITE)
            return write_completed(info->GetCompletionBytes(), info->GetCompletionStatus());
        if (m_mode != NONE)
            return RQ_NOTIFICATION_FINISH_REQUEST; // the ...Ex forms complete through their callbacks
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
