// child.cpp - child requests (IHttpContext::CloneContext, ExecuteRequest,
// ReleaseClonedContext, GetParentContext, GetRootContext), in RQ_BEGIN_REQUEST.
//
// In a child request, every URL under /child/ except /child/loop is answered by
// the "info" page (text/plain, header X-Child: 1, status code= of the query or
// 200): one "key=value" line each for the URL, the query string, the method, the
// depth (how many parents), whether GetRootContext() is the top of the chain,
// the request headers X-Foo and If-None-Match, the server variable X_TEST, the
// execute flags, GetKernelCacheEnabled, the user's name and the request body
// bytes left.
//
// In the client's request:
//  /child/run?url=U&flags=F&clone=C&user=1&method=M&samevar=1
//      sets X_TEST to "from-parent", clones with C (default BASICS|HEADERS),
//      sets the clone's URL to U (and method M), executes it with F (and the
//      test user "child-tester" when user=1), writes "hr=0x..." after the child's output,
//      and with EXECUTE_FLAG_BUFFER_RESPONSE also "status=", "type=",
//      "x-child=" and "body=" of the child's raw response. Then releases it.
//  /child/root   "root_null=<GetRootContext()==NULL> parent_null=<...>"
//  /child/loop   executes itself (same URL) recursively: one "L<depth>" line
//                per level, then the HRESULT that stopped it.
//  /child/rules  the error cases, one line each (see the test).
//  /child/keep   clones two contexts and releases neither (the request's end does).
//  /child/async?url=U&flags=F
//                executes a clone for U asynchronously: writes "hr=0x... pending=<pfCompletionExpected>";
//                when the completion is expected, returns RQ_NOTIFICATION_PENDING and, in
//                OnAsyncCompletion, writes "completed bytes=<n> status=0x...", releases the child
//                ("release=0x...") and ends. With ignore=1 it returns RQ_NOTIFICATION_FINISH_REQUEST
//                instead of RQ_NOTIFICATION_PENDING (a module error the server survives).
//
// In a child request, /child/pend (and /child/pend2, which pends twice) writes "pend" and
// returns RQ_NOTIFICATION_PENDING after starting a thread that calls PostCompletion (with
// ind=1 in the query: IndicateCompletion(RQ_NOTIFICATION_FINISH_REQUEST)); OnAsyncCompletion
// writes "child async" and ends the child. /child/run passes no pfCompletionExpected with
// nopending=1 (the calling thread then waits for a pending child).
// Other URLs are left alone.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include "query_value.h"

#include <pthread.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace
{

void Write(IHttpContext *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void Write(IHttpContext *ctx, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = line;
    chunk.FromMemory.BufferLength = (ULONG)n;
    DWORD sent = 0;
    ctx->GetResponse()->WriteEntityChunks(&chunk, 1, FALSE, TRUE, &sent);
}

const char *Var(IHttpContext *ctx, const char *name)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->GetServerVariable(name, &v, &n)) || v == NULL)
        return "-";
    return v;
}

const char *Header(IHttpContext *ctx, const char *name)
{
    USHORT n = 0;
    PCSTR v = ctx->GetRequest()->GetHeader(name, &n);
    return v != NULL ? v : "-";
}

int Depth(IHttpContext *ctx, IHttpContext **top)
{
    int d = 0;
    *top = ctx;
    for (IHttpContext *p = ctx->GetParentContext(); p != NULL; p = p->GetParentContext()) {
        d++;
        *top = p;
    }
    return d;
}

// The user that /child/run?user=1 hands to ExecuteRequest; counts its references.
class CTestUser : public IHttpUser
{
  public:
    PCWSTR GetRemoteUserName() { return L"child-tester"; }
    PCWSTR GetUserName() { return L"child-tester"; }
    PCWSTR GetAuthenticationType() { return L"Test"; }
    PCWSTR GetPassword() { return L""; }
    HANDLE GetImpersonationToken() { return NULL; }
    HANDLE GetPrimaryToken() { return NULL; }
    VOID ReferenceUser() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_SEQ_CST); }
    VOID DereferenceUser() { __atomic_sub_fetch(&m_refs, 1, __ATOMIC_SEQ_CST); }
    BOOL SupportsIsInRole() { return FALSE; }
    HRESULT IsInRole(PCWSTR, BOOL *pf)
    {
        *pf = FALSE;
        return S_OK;
    }
    PVOID GetUserVariable(PCSTR) { return NULL; }
    int Refs() { return __atomic_load_n(&m_refs, __ATOMIC_SEQ_CST); }

  private:
    int m_refs = 0;
};

CTestUser g_user;

// The user's name in ASCII ("-" without a user).
void UserName(IHttpContext *ctx, char *out, size_t cap)
{
    IHttpUser *u = ctx->GetUser();
    PCWSTR w = u ? u->GetUserName() : NULL;
    size_t n = 0;
    if (w == NULL)
        out[n++] = '-';
    for (; w != NULL && *w && n + 1 < cap; w++)
        out[n++] = (char)*w;
    out[n] = '\0';
}

// /child/async holds back a pending child's completion until its ExecuteRequest has returned, so that
// the completion cannot come before the child's notification has returned RQ_NOTIFICATION_PENDING.
std::mutex g_gate_lock;
std::condition_variable g_gate_cv;
std::map<IHttpContext *, bool> g_gates; // child -> open

void GateClose(IHttpContext *child)
{
    std::lock_guard<std::mutex> l(g_gate_lock);
    g_gates[child] = false;
}

void GateOpen(IHttpContext *child)
{
    std::lock_guard<std::mutex> l(g_gate_lock);
    g_gates[child] = true;
    g_gate_cv.notify_all();
}

void GateWait(IHttpContext *child)
{
    std::unique_lock<std::mutex> l(g_gate_lock);
    auto it = g_gates.find(child);
    if (it == g_gates.end())
        return;
    g_gate_cv.wait(l, [&] { return g_gates[child]; });
    g_gates.erase(child);
}

void *PostLater(void *arg)
{
    GateWait(static_cast<IHttpContext *>(arg));
    static_cast<IHttpContext *>(arg)->PostCompletion(0);
    return NULL;
}

void *IndicateLater(void *arg)
{
    GateWait(static_cast<IHttpContext *>(arg));
    static_cast<IHttpContext *>(arg)->IndicateCompletion(RQ_NOTIFICATION_FINISH_REQUEST);
    return NULL;
}

// Returns RQ_NOTIFICATION_PENDING; a thread of its own completes the notification.
REQUEST_NOTIFICATION_STATUS PendLater(IHttpContext *ctx, bool indicate)
{
    pthread_t t;
    if (pthread_create(&t, NULL, indicate ? IndicateLater : PostLater, ctx) != 0)
        return RQ_NOTIFICATION_FINISH_REQUEST;
    pthread_detach(t);
    return RQ_NOTIFICATION_PENDING;
}

class CChildModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnAsyncCompletion(IHttpContext *ctx, DWORD, BOOL, IHttpEventProvider *,
                                                  IHttpCompletionInfo *info)
    {
        if (m_child != NULL) {
            // the parent: its asynchronous child has ended
            Write(ctx, "\ncompleted bytes=%lu status=0x%08x\n", (unsigned long)info->GetCompletionBytes(),
                  (unsigned)info->GetCompletionStatus());
            Write(ctx, "release=0x%08x\n", (unsigned)m_child->ReleaseClonedContext());
            m_child = NULL;
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        // a pending child
        if (++m_pends < m_want) {
            Write(ctx, "pend again\n");
            return PendLater(ctx, false);
        }
        Write(ctx, "child async\n");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        const char *url = Var(ctx, "URL");
        const char *query = Var(ctx, "QUERY_STRING");
        if (strcmp(query, "-") == 0)
            query = "";
        if (strncmp(url, "/child/", 7) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        IHttpResponse *resp = ctx->GetResponse();
        if (strcmp(url, "/child/loop") == 0)
            return Loop(ctx);
        if (ctx->GetParentContext() != NULL &&
            (strcmp(url, "/child/pend") == 0 || strcmp(url, "/child/pend2") == 0)) {
            char value[8];
            bool indicate = QueryValue(query, "ind", value, sizeof(value));
            m_want = strcmp(url, "/child/pend2") == 0 ? 2 : 1;
            resp->Clear();
            resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
            Write(ctx, "pend\n");
            if (indicate)
                Write(ctx, "child indicated\n");
            return PendLater(ctx, indicate);
        }
        if (ctx->GetParentContext() != NULL)
            return Info(ctx, url, query);
        resp->Clear();
        resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        if (strcmp(url, "/child/run") == 0)
            return Run(ctx, query);
        if (strcmp(url, "/child/async") == 0)
            return Async(ctx, query);
        if (strcmp(url, "/child/root") == 0) {
            Write(ctx, "root_null=%d parent_null=%d\n", ctx->GetRootContext() == NULL,
                  ctx->GetParentContext() == NULL);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (strcmp(url, "/child/rules") == 0)
            return Rules(ctx);
        if (strcmp(url, "/child/keep") == 0) {
            IHttpContext *a = NULL, *b = NULL;
            HRESULT h1 = ctx->CloneContext(CLONE_FLAG_BASICS, &a);
            HRESULT h2 = a ? a->CloneContext(CLONE_FLAG_BASICS, &b) : E_FAIL;
            Write(ctx, "kept=0x%08x,0x%08x\n", (unsigned)h1, (unsigned)h2);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    IHttpContext *m_child = NULL; // the child an asynchronous ExecuteRequest runs
    int m_pends = 0, m_want = 1;  // a pending child: completions so far, and how many it waits for

    REQUEST_NOTIFICATION_STATUS Async(IHttpContext *ctx, const char *query)
    {
        char url[512] = "/child/pend", value[64];
        QueryValue(query, "url", url, sizeof(url));
        for (char *p = url; *p; p++)
            *p = *p == ':' ? '?' : *p == ';' ? '&' : *p;
        DWORD flags = QueryValue(query, "flags", value, sizeof(value)) ? (DWORD)strtoul(value, NULL, 0) : 0;
        IHttpContext *child = NULL;
        HRESULT hr = ctx->CloneContext(CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS, &child);
        if (FAILED(hr) || child == NULL) {
            Write(ctx, "clone hr=0x%08x\n", (unsigned)hr);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        child->GetRequest()->SetUrl(url, (DWORD)strlen(url), TRUE);
        BOOL pending = FALSE;
        GateClose(child);
        hr = ctx->ExecuteRequest(TRUE, child, flags, NULL, &pending);
        Write(ctx, "hr=0x%08x pending=%d\n", (unsigned)hr, pending);
        GateOpen(child);
        if (SUCCEEDED(hr) && pending) {
            m_child = child;
            // ignore=1: the module's error of not returning RQ_NOTIFICATION_PENDING
            return QueryValue(query, "ignore", value, sizeof(value)) ? RQ_NOTIFICATION_FINISH_REQUEST
                                                                     : RQ_NOTIFICATION_PENDING;
        }
        Write(ctx, "release=0x%08x\n", (unsigned)child->ReleaseClonedContext());
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS Info(IHttpContext *ctx, const char *url, const char *query)
    {
        IHttpResponse *resp = ctx->GetResponse();
        char value[64];
        USHORT code = QueryValue(query, "code", value, sizeof(value)) ? (USHORT)atoi(value) : 200;
        resp->Clear();
        resp->SetStatus(code, "Child Status");
        resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        resp->SetHeader("X-Child", "1", 1, TRUE);
        IHttpContext *top = NULL;
        int depth = Depth(ctx, &top);
        char user[64];
        UserName(ctx, user, sizeof(user));
        Write(ctx,
              "url=%s\nquery=%s\nmethod=%s\ndepth=%d\nroot_is_top=%d\nx-foo=%s\nif-none-match=%s\n"
              "x_test=%s\nflags=0x%x\nkernel_cache=%d\nuser=%s\nentity_left=%lu\n",
              url, query, ctx->GetRequest()->GetHttpMethod(), depth, ctx->GetRootContext() == top,
              Header(ctx, "X-Foo"), Header(ctx, "If-None-Match"), Var(ctx, "X_TEST"),
              (unsigned)ctx->GetExecuteFlags(), resp->GetKernelCacheEnabled() ? 1 : 0, user,
              (unsigned long)ctx->GetRequest()->GetRemainingEntityBytes());
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS Run(IHttpContext *ctx, const char *query)
    {
        char url[512] = "/child/info", value[64], method[32];
        QueryValue(query, "url", url, sizeof(url));
        DWORD flags = QueryValue(query, "flags", value, sizeof(value)) ? (DWORD)strtoul(value, NULL, 0) : 0;
        DWORD clone = QueryValue(query, "clone", value, sizeof(value))
                          ? (DWORD)strtoul(value, NULL, 0)
                          : CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS;
        bool with_user = QueryValue(query, "user", value, sizeof(value));
        ctx->SetServerVariable("X_TEST", L"from-parent");
        IHttpContext *child = NULL;
        HRESULT hr = ctx->CloneContext(clone, &child);
        if (FAILED(hr) || child == NULL) {
            Write(ctx, "clone hr=0x%08x\n", (unsigned)hr);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        // ':' stands for '?' and ';' for '&' in url=
        for (char *p = url; *p; p++)
            *p = *p == ':' ? '?' : *p == ';' ? '&' : *p;
        child->GetRequest()->SetUrl(url, (DWORD)strlen(url), TRUE);
        if (QueryValue(query, "method", method, sizeof(method)))
            child->GetRequest()->SetHttpMethod(method);
        BOOL pending = TRUE;
        BOOL *expected = QueryValue(query, "nopending", value, sizeof(value)) ? NULL : &pending;
        if (expected == NULL)
            pending = FALSE;
        hr = ctx->ExecuteRequest(TRUE, child, flags, with_user ? &g_user : NULL, expected);
        Write(ctx, "\nhr=0x%08x pending=%d\n", (unsigned)hr, pending);
        if (with_user)
            Write(ctx, "user_refs=%d\n", g_user.Refs());
        if (flags & EXECUTE_FLAG_BUFFER_RESPONSE) {
            IHttpResponse *cresp = child->GetResponse();
            HTTP_RESPONSE *raw = cresp->GetRawHttpResponse();
            USHORT n = 0;
            PCSTR type = cresp->GetHeader(HttpHeaderContentType, &n);
            PCSTR xc = cresp->GetHeader("X-Child", &n);
            Write(ctx, "status=%u\ntype=%s\nx-child=%s\nsent=%d\n", raw ? raw->StatusCode : 0,
                  type ? type : "-", xc ? xc : "-", child->GetResponseHeadersSent() ? 1 : 0);
            Write(ctx, "body=");
            for (USHORT i = 0; raw != NULL && i < raw->EntityChunkCount; i++) {
                HTTP_DATA_CHUNK *c = &raw->pEntityChunks[i];
                if (c->DataChunkType == HttpDataChunkFromMemory)
                    Write(ctx, "%.*s", (int)c->FromMemory.BufferLength, (const char *)c->FromMemory.pBuffer);
                else
                    Write(ctx, "[file %llu bytes]",
                          (unsigned long long)c->FromFileHandle.ByteRange.Length.QuadPart);
            }
        }
        hr = child->ReleaseClonedContext();
        Write(ctx, "\nrelease=0x%08x\n", (unsigned)hr);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS Loop(IHttpContext *ctx)
    {
        IHttpContext *top = NULL;
        int depth = Depth(ctx, &top);
        if (depth == 0) {
            ctx->GetResponse()->Clear();
            ctx->GetResponse()->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        }
        Write(ctx, "L%d\n", depth);
        IHttpContext *child = NULL;
        HRESULT hr = ctx->CloneContext(CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS, &child);
        if (SUCCEEDED(hr)) {
            hr = ctx->ExecuteRequest(TRUE, child, EXECUTE_FLAG_SAME_URL, NULL, NULL);
            if (FAILED(hr))
                Write(ctx, "stopped at %d: hr=0x%08x\n", depth + 1, (unsigned)hr);
            child->ReleaseClonedContext();
        }
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

    REQUEST_NOTIFICATION_STATUS Rules(IHttpContext *ctx)
    {
        IHttpContext *a = NULL, *b = NULL, *c = NULL;
        Write(ctx, "release_root=0x%08x\n", (unsigned)ctx->ReleaseClonedContext());
        Write(ctx, "clone_null=0x%08x\n", (unsigned)ctx->CloneContext(CLONE_FLAG_BASICS, NULL));
        ctx->CloneContext(CLONE_FLAG_BASICS, &a);
        a->CloneContext(CLONE_FLAG_BASICS, &b);
        ctx->CloneContext(CLONE_FLAG_BASICS, &c);
        Write(ctx, "b_parent_is_a=%d a_parent_is_root=%d\n", b->GetParentContext() == a,
              a->GetParentContext() == ctx);
        Write(ctx, "b_root=%d\n", b->GetRootContext() == ctx);
        Write(ctx, "exec_self=0x%08x\n", (unsigned)ctx->ExecuteRequest(TRUE, ctx, 0, NULL, NULL));
        Write(ctx, "exec_grandchild=0x%08x\n", (unsigned)ctx->ExecuteRequest(TRUE, b, 0, NULL, NULL));
        c->GetRequest()->SetUrl("/child/info", 11, TRUE);
        Write(ctx, "exec_sync=0x%08x\n",
              (unsigned)ctx->ExecuteRequest(FALSE, c, EXECUTE_FLAG_BUFFER_RESPONSE, NULL, NULL));
        Write(ctx, "exec_once=0x%08x\n",
              (unsigned)ctx->ExecuteRequest(TRUE, c, EXECUTE_FLAG_BUFFER_RESPONSE, NULL, NULL));
        Write(ctx, "exec_twice=0x%08x\n",
              (unsigned)ctx->ExecuteRequest(TRUE, c, EXECUTE_FLAG_BUFFER_RESPONSE, NULL, NULL));
        Write(ctx, "release_a_first=0x%08x\n", (unsigned)a->ReleaseClonedContext());
        Write(ctx, "release_b=0x%08x\n", (unsigned)b->ReleaseClonedContext());
        Write(ctx, "release_a=0x%08x\n", (unsigned)a->ReleaseClonedContext());
        Write(ctx, "release_c=0x%08x\n", (unsigned)c->ReleaseClonedContext());
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CChildFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CChildModule();
        return S_OK;
    }
    void Terminate() { delete this; }
};

} // namespace

extern "C" HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CChildFactory(), RQ_BEGIN_REQUEST, 0);
}
