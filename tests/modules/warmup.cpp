// warmup.cpp - requests without a client: IGlobalApplicationPreloadProvider::CreateContext and
// ExecuteRequest, in GL_APPLICATION_PRELOAD.
//
// When an application with preloadEnabled starts, the global part makes warm-up requests:
//  1. a context whose URL, method and Host it records as created ("first_*"), then sets to
//     GET /<app>/page?from=preload with the header X-Warmup: yes, and executes; it records the
//     status, the X-Page header and the body it then reads from the context's raw response
//     ("page_*"), and releases the context with ReleaseClonedContext ("page_release").
//  2. a context for /<app>/hello.txt (a static file), executed and left for the notification's
//     end to free ("file_*"); executing it again gives "again".
//  3. a context for /<app>/pending, whose module completes from another thread ("pending_*").
//  Also: CreateContext(NULL) ("create_null") and ExecuteRequest(NULL) ("exec_null").
//
// The request part, for every request of an application:
//  /<app>/page     201, X-Page: 1, body "page url=<url> query=<q> warmup=<X-Warmup> remote=<REMOTE_ADDR>"
//  /<app>/pending  returns RQ_NOTIFICATION_PENDING after starting a thread that calls
//                  PostCompletion; OnAsyncCompletion answers "async done"
//  /_warmup        the records, one "key=value" line each, plus "begin=<n>" and "log=<n>": the
//                  requests with X-Warmup: yes that RQ_BEGIN_REQUEST and RQ_LOG_REQUEST saw.
//                  With ?recycle=1, first IHttpServer::RecycleApplication for /warm.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <map>
#include <mutex>
#include <string>

namespace
{

IHttpServer *g_server;
std::mutex g_lock;
std::map<std::string, std::string> g_rec;
int g_begin, g_log;

void Record(const std::string &key, const std::string &value)
{
    std::lock_guard<std::mutex> l(g_lock);
    g_rec[key] = value;
}

std::string Hex(HRESULT hr)
{
    char b[16];
    snprintf(b, sizeof(b), "0x%08X", (unsigned)hr);
    return b;
}

std::string Narrow(PCWSTR w)
{
    std::string s;
    for (; w != NULL && *w; w++)
        s += (char)*w;
    return s;
}

// The body of a response that has run: its memory chunks, in order.
std::string Body(IHttpContext *ctx)
{
    std::string s;
    HTTP_RESPONSE *raw = ctx->GetResponse()->GetRawHttpResponse();
    for (USHORT i = 0; raw != NULL && i < raw->EntityChunkCount; i++) {
        const HTTP_DATA_CHUNK &c = raw->pEntityChunks[i];
        if (c.DataChunkType == HttpDataChunkFromMemory)
            s.append((const char *)c.FromMemory.pBuffer, c.FromMemory.BufferLength);
    }
    return s;
}

std::string Status(IHttpContext *ctx)
{
    USHORT status = 0;
    ctx->GetResponse()->GetStatus(&status);
    return std::to_string(status);
}

class CWarmupGlobal : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationPreload(IGlobalApplicationPreloadProvider *p)
    {
        Record("create_null", Hex(p->CreateContext(NULL)));
        Record("exec_null", Hex(p->ExecuteRequest(NULL, NULL)));

        IHttpContext *ctx = NULL;
        HRESULT hr = p->CreateContext(&ctx);
        Record("create", Hex(hr));
        if (FAILED(hr) || ctx == NULL)
            return GL_NOTIFICATION_CONTINUE;
        IHttpRequest *req = ctx->GetRequest();
        std::string app = Narrow(ctx->GetScriptName());
        Record("first_url", app);
        Record("first_method", req->GetHttpMethod());
        Record("first_host", req->GetHeader(HttpHeaderHost) ? req->GetHeader(HttpHeaderHost) : "(none)");
        while (!app.empty() && app.back() == '/')
            app.pop_back();

        std::string url = app + "/page?from=preload";
        req->SetUrl(url.c_str(), (DWORD)url.size(), FALSE);
        req->SetHeader("X-Warmup", "yes", 3, TRUE);
        hr = p->ExecuteRequest(ctx, NULL);
        Record("page_hr", Hex(hr));
        Record("page_status", Status(ctx));
        PCSTR xp = ctx->GetResponse()->GetHeader("X-Page");
        Record("page_xpage", xp ? xp : "(none)");
        Record("page_body", Body(ctx));
        Record("page_release", Hex(ctx->ReleaseClonedContext()));

        IHttpContext *file = NULL;
        if (SUCCEEDED(p->CreateContext(&file)) && file != NULL) {
            url = app + "/hello.txt";
            file->GetRequest()->SetUrl(url.c_str(), (DWORD)url.size(), FALSE);
            file->GetRequest()->SetHeader("X-Warmup", "yes", 3, TRUE);
            Record("file_hr", Hex(p->ExecuteRequest(file, NULL)));
            Record("file_status", Status(file));
            Record("file_body", Body(file));
            Record("again", Hex(p->ExecuteRequest(file, NULL)));
        }

        IHttpContext *pend = NULL;
        if (SUCCEEDED(p->CreateContext(&pend)) && pend != NULL) {
            url = app + "/pending";
            pend->GetRequest()->SetUrl(url.c_str(), (DWORD)url.size(), FALSE);
            pend->GetRequest()->SetHeader("X-Warmup", "yes", 3, TRUE);
            Record("pending_hr", Hex(p->ExecuteRequest(pend, NULL)));
            Record("pending_status", Status(pend));
            Record("pending_body", Body(pend));
            pend->ReleaseClonedContext();
        }
        return GL_NOTIFICATION_CONTINUE;
    }

    VOID Terminate() {}
};

CWarmupGlobal g_global;

void *Complete(void *arg)
{
    static_cast<IHttpContext *>(arg)->PostCompletion(0);
    return NULL;
}

void Write(IHttpContext *ctx, const std::string &text)
{
    void *mem = ctx->AllocateRequestMemory((DWORD)text.size() + 1);
    memcpy(mem, text.c_str(), text.size() + 1);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = mem;
    chunk.FromMemory.BufferLength = (ULONG)text.size();
    DWORD sent = 0;
    ctx->GetResponse()->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
}

bool EndsWith(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

bool IsWarmup(IHttpContext *ctx)
{
    PCSTR v = ctx->GetRequest()->GetHeader("X-Warmup");
    return v != NULL && strcmp(v, "yes") == 0;
}

class CWarmupModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (IsWarmup(ctx)) {
            std::lock_guard<std::mutex> l(g_lock);
            g_begin++;
        }
        PCSTR url = NULL;
        DWORD n = 0;
        ctx->GetServerVariable("URL", &url, &n);
        if (url == NULL)
            return RQ_NOTIFICATION_CONTINUE;
        IHttpResponse *r = ctx->GetResponse();
        if (EndsWith(url, "/page")) {
            PCSTR q = NULL, remote = NULL;
            ctx->GetServerVariable("QUERY_STRING", &q, &n);
            ctx->GetServerVariable("REMOTE_ADDR", &remote, &n);
            PCSTR w = ctx->GetRequest()->GetHeader("X-Warmup");
            r->SetStatus(201, "Created");
            r->SetHeader("X-Page", "1", 1, TRUE);
            Write(ctx, std::string("page url=") + url + " query=" + (q ? q : "") + " warmup=" + (w ? w : "") +
                           " remote=" + (remote ? remote : ""));
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (EndsWith(url, "/pending")) {
            pthread_t t;
            if (pthread_create(&t, NULL, Complete, ctx) != 0)
                return RQ_NOTIFICATION_CONTINUE;
            pthread_detach(t);
            return RQ_NOTIFICATION_PENDING;
        }
        if (strcmp(url, "/_warmup") == 0) {
            PCSTR q = NULL;
            ctx->GetServerVariable("QUERY_STRING", &q, &n);
            if (q != NULL && strcmp(q, "recycle=1") == 0)
                g_server->RecycleApplication(L"MACHINE/WEBROOT/APPHOST/Default Web Site/warm");
            std::string out;
            {
                std::lock_guard<std::mutex> l(g_lock);
                for (auto &kv : g_rec)
                    out += kv.first + "=" + kv.second + "\n";
                out += "begin=" + std::to_string(g_begin) + "\nlog=" + std::to_string(g_log) + "\n";
            }
            r->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
            Write(ctx, out);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnAsyncCompletion(IHttpContext *ctx, DWORD, BOOL, IHttpEventProvider *,
                                                  IHttpCompletionInfo *)
    {
        Write(ctx, "async done");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS OnLogRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (IsWarmup(ctx)) {
            std::lock_guard<std::mutex> l(g_lock);
            g_log++;
        }
        return RQ_NOTIFICATION_CONTINUE;
    }
};

class CWarmupFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CWarmupModule;
        return S_OK;
    }
    VOID Terminate() {}
};

CWarmupFactory g_factory;

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_server = server;
    HRESULT hr = info->SetRequestNotifications(&g_factory, RQ_BEGIN_REQUEST | RQ_LOG_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    return info->SetGlobalNotifications(&g_global, GL_APPLICATION_PRELOAD);
}
