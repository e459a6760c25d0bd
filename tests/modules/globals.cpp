// globals.cpp - a global module that listens to every process-wide notification and
// a request module that reports what it saw. Requests to /_globals?op=... are
// answered from RQ_BEGIN_REQUEST (text/plain, one fact per line):
//
//   op=watch&dir=D     RegisterFileChangeMonitor(D); stores a context in the
//                      monitor's container. Answers "ok" or "hr=0x...".
//   op=changes         every GL_FILE_CHANGE seen: "<file> <m>" where m is 1 when
//                      GetFileMonitor() was the monitor and its container held the
//                      stored context, 0 otherwise.
//   op=unwatch         DereferenceFileMonitor.
//   op=counts          cleanup=N health=N custom=N thread=N thread_app=P rsca=N
//                      preload=N recycled=B warming=B
//   op=apps            the GL_APPLICATION_* events: "start P", "stop P", "resolve P".
//   op=cache&do=add&key=K&val=V | do=get&key=K | do=del&key=K | do=enum |
//            do=flush&key=P   DoCacheOperation on the module cache "TESTCACHE"
//                      (key = K, prefix match for flush). Answers "hr=0x..." and, for
//                      get, "val=V"; for enum, "key=K" lines. ops=... lists the
//                      GL_CACHE_OPERATION operations seen for "TESTCACHE".
//   op=filecache&path=P  GetFileInfo(P), then RETRIEVE with its key (same=1 when the
//                      record found is a cached IHttpFileInfo of P), then DELETE
//                      (flushed=1 when the record is flushed after).
//   op=sleep&ms=N      blocks for N ms (forces a thread hand-off).
//   op=recycle         RecycleApplication(this application).
//   op=warmup&do=begin|end  IHttpApplication2 warm-up of this application.
//   op=poolfile        GetAppPoolConfigFile.
//   op=metadata&site=S&url=U  IHttpServer2::GetMetadata(S, U): "hr=", "path=", "vr=", and
//                      "same=1" when its module context container is the one this request's
//                      IHttpContext::GetMetadata() has (meaningful for U=/_globals).
//
// GL_APPLICATION_RESOLVE_MODULES: for an application whose configuration path ends
// in "/app2", registers the request module "AppHeader", which adds
// "X-App-Module: 1" to every response of that application.
// GL_APPLICATION_START of an application whose configuration path ends in "/slow" blocks
// for 300 ms (its first request's thread is then handed over).
// GL_RSCA_QUERY: answers "globals rsca <function>" (and counts).
// With the environment variable GLOBALS_EVENTS set, the GL_APPLICATION_* events are also
// appended to that file, one line each (so that the ones raised at shutdown can be seen).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include "query_value.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <unistd.h>
#include <vector>
#include <wchar.h>

namespace
{

IHttpServer *g_server;
HTTP_MODULE_ID g_id;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
IHttpFileMonitor *g_monitor;
std::vector<std::string> g_changes, g_apps, g_cache_ops;
long g_cleanup, g_health, g_custom, g_thread, g_rsca, g_preload;
bool g_recycled;
std::string g_thread_app;

std::string narrow(PCWSTR w)
{
    std::string s;
    for (; w != NULL && *w; w++)
        s += (char)(*w < 128 ? *w : '?');
    return s;
}

std::wstring widen(const char *s)
{
    std::wstring w;
    for (; *s; s++)
        w += (wchar_t)(unsigned char)*s;
    return w;
}

class CMonitorContext : public IHttpStoredContext
{
  public:
    VOID CleanupStoredContext() { delete this; }
};

// ---- the module cache "TESTCACHE" -------------------------------------------

class CKey : public IHttpCacheKey
{
  public:
    explicit CKey(const char *k) : m_key(widen(k)) {}
    DWORD GetHash() const
    {
        DWORD h = 5381;
        for (wchar_t c : m_key)
            h = h * 33 + (DWORD)c;
        return h;
    }
    PCWSTR GetCacheName() const { return L"TESTCACHE"; }
    bool GetIsEqual(IHttpCacheKey *other) const
    {
        return wcscmp(other->GetCacheName(), L"TESTCACHE") == 0 && static_cast<CKey *>(other)->m_key == m_key;
    }
    bool GetIsPrefix(IHttpCacheKey *other) const
    {
        return wcscmp(other->GetCacheName(), L"TESTCACHE") == 0 &&
               static_cast<CKey *>(other)->m_key.compare(0, m_key.size(), m_key) == 0;
    }
    VOID Enum(IHttpCacheSpecificData *data);
    std::wstring m_key;
    std::string *m_enum = NULL; // collects keys during ENUM
};

class CRecord : public IHttpCacheSpecificData
{
  public:
    CRecord(const char *k, const char *v) : m_key(k), m_val(v) {}
    IHttpCacheKey *GetCacheKey() const { return const_cast<CKey *>(&m_key); }
    VOID ReferenceCacheData() { __sync_add_and_fetch(&m_refs, 1); }
    VOID DereferenceCacheData()
    {
        if (__sync_sub_and_fetch(&m_refs, 1) == 0)
            delete this;
    }
    VOID ResetTTL() { m_ttl = 1000; }
    VOID DecrementTTL(BOOL *expired) { *expired = --m_ttl <= 0; }
    VOID SetFlushed() { m_flushed = TRUE; }
    BOOL GetFlushed() const { return m_flushed; }
    CKey m_key;
    std::string m_val;
    long m_refs = 1;
    long m_ttl = 1000;
    BOOL m_flushed = FALSE;
};

VOID CKey::Enum(IHttpCacheSpecificData *data)
{
    if (m_enum != NULL)
        *m_enum += "key=" + narrow(static_cast<CKey *>(data->GetCacheKey())->m_key.c_str()) + "\n";
}

const char *op_name(CACHE_OPERATION op)
{
    switch (op) {
    case CACHE_OPERATION_RETRIEVE:
        return "retrieve";
    case CACHE_OPERATION_ADD:
        return "add";
    case CACHE_OPERATION_DELETE:
        return "delete";
    case CACHE_OPERATION_FLUSH_PREFIX:
        return "flush";
    case CACHE_OPERATION_ENUM:
        return "enum";
    }
    return "?";
}

// ---- the application module registered by RESOLVE_MODULES ------------------------

class CAppHeader : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        ctx->GetResponse()->SetHeader("X-App-Module", "1", 1, TRUE);
        return RQ_NOTIFICATION_CONTINUE;
    }
};

class CAppHeaderFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CAppHeader;
        return S_OK;
    }
    VOID Terminate() {}
};

CAppHeaderFactory g_app_factory;

// ---- the global module ------------------------------------------------------------

class CGlobals : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS OnGlobalFileChange(IGlobalFileChangeProvider *p)
    {
        pthread_mutex_lock(&g_lock);
        IHttpFileMonitor *m = p->GetFileMonitor();
        bool ours =
            m != NULL && m == g_monitor && m->GetModuleContextContainer()->GetModuleContext(g_id) != NULL;
        g_changes.push_back(narrow(p->GetFileName()) + (ours ? " 1" : " 0"));
        pthread_mutex_unlock(&g_lock);
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalCacheCleanup()
    {
        __sync_add_and_fetch(&g_cleanup, 1);
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalHealthCheck()
    {
        __sync_add_and_fetch(&g_health, 1);
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalCacheOperation(ICacheProvider *p)
    {
        IHttpCacheKey *k = p->GetCacheKey();
        if (k != NULL && wcscmp(k->GetCacheName(), L"TESTCACHE") == 0) {
            pthread_mutex_lock(&g_lock);
            std::string e = op_name(p->GetCacheOperation());
            if (p->GetCacheOperation() == CACHE_OPERATION_ADD && p->GetCacheRecord() == NULL)
                e += "(no record)";
            g_cache_ops.push_back(e);
            pthread_mutex_unlock(&g_lock);
        }
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationStart(IHttpApplicationStartProvider *p)
    {
        std::string path = narrow(p->GetApplication()->GetAppConfigPath());
        if (path.size() >= 5 && path.compare(path.size() - 5, 5, "/slow") == 0)
            usleep(300 * 1000);
        record("start", p->GetApplication());
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationStop(IHttpApplicationStopProvider *p)
    {
        record("stop", p->GetApplication());
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationResolveModules(IHttpApplicationResolveModulesProvider *p)
    {
        record("resolve", p->GetApplication());
        std::string path = narrow(p->GetApplication()->GetAppConfigPath());
        if (path.size() >= 5 && path.compare(path.size() - 5, 5, "/app2") == 0) {
            HRESULT hr =
                p->RegisterModule(g_id, &g_app_factory, L"AppHeader", NULL, NULL, RQ_BEGIN_REQUEST, 0);
            if (FAILED(hr))
                record("register-failed", p->GetApplication());
            p->SetPriorityForRequestNotification(L"AppHeader", RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
        }
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationPreload(IGlobalApplicationPreloadProvider *p)
    {
        IGlobalApplicationPreloadProvider2 *p2 = NULL;
        if (SUCCEEDED(HttpGetExtendedInterface(g_server, p, &p2)) && p2 != NULL)
            g_recycled = p2->IsProcessRecycled();
        __sync_add_and_fetch(&g_preload, 1);
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalRSCAQuery(IGlobalRSCAQueryProvider *p)
    {
        __sync_add_and_fetch(&g_rsca, 1);
        std::string text = "globals rsca " + narrow(p->GetFunctionName());
        BYTE *buf = NULL;
        if (FAILED(p->GetOutputBuffer(4, &buf)))
            return GL_NOTIFICATION_CONTINUE;
        memcpy(buf, text.data(), 4);
        if (FAILED(p->ResizeOutputBuffer((DWORD)text.size(), 4, &buf)))
            return GL_NOTIFICATION_CONTINUE;
        memcpy(buf + 4, text.data() + 4, text.size() - 4);
        p->SetResult((DWORD)text.size(), S_OK);
        return GL_NOTIFICATION_HANDLED;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalThreadCleanup(IGlobalThreadCleanupProvider *p)
    {
        pthread_mutex_lock(&g_lock);
        g_thread++;
        if (p->GetApplication() != NULL)
            g_thread_app = narrow(p->GetApplication()->GetAppConfigPath());
        pthread_mutex_unlock(&g_lock);
        return GL_NOTIFICATION_CONTINUE;
    }
    GLOBAL_NOTIFICATION_STATUS OnGlobalCustomNotification(ICustomNotificationProvider *)
    {
        __sync_add_and_fetch(&g_custom, 1);
        return GL_NOTIFICATION_CONTINUE;
    }
    VOID Terminate()
    {
        if (g_monitor != NULL)
            g_monitor->DereferenceFileMonitor();
        g_monitor = NULL;
    }

  private:
    void record(const char *what, IHttpApplication *app)
    {
        std::string line = std::string(what) + " " + (app ? narrow(app->GetAppConfigPath()) : "(null)");
        pthread_mutex_lock(&g_lock);
        g_apps.push_back(line);
        const char *file = getenv("GLOBALS_EVENTS");
        FILE *f = file != NULL ? fopen(file, "a") : NULL;
        if (f != NULL) {
            fprintf(f, "%s\n", line.c_str());
            fclose(f);
        }
        pthread_mutex_unlock(&g_lock);
    }
};

CGlobals g_global;

class CCustom : public ICustomNotificationProvider
{
  public:
    PCWSTR QueryNotificationType() { return L"globals-test"; }
    VOID SetErrorStatus(HRESULT) {}
};

// ---- the reporting request module -----------------------------------------------

class CReport : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        PCSTR url = NULL;
        DWORD cch = 0;
        if (FAILED(ctx->GetServerVariable("URL", &url, &cch)) || strcmp(url, "/_globals") != 0)
            return RQ_NOTIFICATION_CONTINUE;
        PCSTR q = NULL;
        if (FAILED(ctx->GetServerVariable("QUERY_STRING", &q, &cch)) || q == NULL)
            q = "";
        char op[64] = "", arg[512] = "";
        QueryValue(q, "op", op, sizeof(op));
        std::string out;
        char line[1024];
        if (strcmp(op, "watch") == 0) {
            QueryValue(q, "dir", arg, sizeof(arg));
            IHttpFileMonitor *m = NULL;
            HRESULT hr = g_server->RegisterFileChangeMonitor(widen(arg).c_str(), NULL, &m);
            if (SUCCEEDED(hr)) {
                m->GetModuleContextContainer()->SetModuleContext(new CMonitorContext, g_id);
                pthread_mutex_lock(&g_lock);
                g_monitor = m;
                pthread_mutex_unlock(&g_lock);
                out = "ok\n";
            } else {
                snprintf(line, sizeof(line), "hr=0x%08x\n", (unsigned)hr);
                out = line;
            }
        } else if (strcmp(op, "unwatch") == 0) {
            pthread_mutex_lock(&g_lock);
            IHttpFileMonitor *m = g_monitor;
            g_monitor = NULL;
            pthread_mutex_unlock(&g_lock);
            if (m != NULL)
                m->DereferenceFileMonitor();
            out = "ok\n";
        } else if (strcmp(op, "changes") == 0) {
            pthread_mutex_lock(&g_lock);
            for (auto &c : g_changes)
                out += c + "\n";
            pthread_mutex_unlock(&g_lock);
        } else if (strcmp(op, "counts") == 0) {
            IHttpApplication2 *app2 = NULL;
            HttpGetExtendedInterface(g_server, ctx->GetApplication(), &app2);
            pthread_mutex_lock(&g_lock);
            snprintf(line, sizeof(line),
                     "cleanup=%ld\nhealth=%ld\ncustom=%ld\nthread=%ld\nthread_app=%s\nrsca=%ld\npreload=%ld\n"
                     "recycled=%d\nwarming=%d\n",
                     g_cleanup, g_health, g_custom, g_thread, g_thread_app.c_str(), g_rsca, g_preload,
                     (int)g_recycled, app2 ? (int)app2->QueryIsWarmingUp() : -1);
            pthread_mutex_unlock(&g_lock);
            out = line;
        } else if (strcmp(op, "apps") == 0) {
            pthread_mutex_lock(&g_lock);
            for (auto &a : g_apps)
                out += a + "\n";
            pthread_mutex_unlock(&g_lock);
        } else if (strcmp(op, "cache") == 0) {
            char what[16] = "", key[128] = "", val[128] = "";
            QueryValue(q, "do", what, sizeof(what));
            QueryValue(q, "key", key, sizeof(key));
            QueryValue(q, "val", val, sizeof(val));
            CKey k(key);
            HRESULT hr = E_INVALIDARG;
            IHttpCacheSpecificData *d = NULL;
            if (strcmp(what, "add") == 0) {
                CRecord *r = new CRecord(key, val);
                d = r;
                hr = g_server->DoCacheOperation(CACHE_OPERATION_ADD, &k, &d, NULL);
                r->DereferenceCacheData(); // the cache holds its own reference
            } else if (strcmp(what, "get") == 0) {
                hr = g_server->DoCacheOperation(CACHE_OPERATION_RETRIEVE, &k, &d, NULL);
                if (SUCCEEDED(hr) && d != NULL) {
                    out += "val=" + static_cast<CRecord *>(d)->m_val + "\n";
                    d->DereferenceCacheData();
                }
            } else if (strcmp(what, "del") == 0) {
                hr = g_server->DoCacheOperation(CACHE_OPERATION_DELETE, &k, &d, NULL);
            } else if (strcmp(what, "flush") == 0) {
                hr = g_server->DoCacheOperation(CACHE_OPERATION_FLUSH_PREFIX, &k, &d, NULL);
            } else if (strcmp(what, "enum") == 0) {
                std::string keys;
                k.m_enum = &keys;
                hr = g_server->DoCacheOperation(CACHE_OPERATION_ENUM, &k, &d, NULL);
                out += keys;
            }
            snprintf(line, sizeof(line), "hr=0x%08x\n", (unsigned)hr);
            out = line + out;
            pthread_mutex_lock(&g_lock);
            out += "ops=";
            for (auto &o : g_cache_ops)
                out += o + ",";
            out += "\n";
            pthread_mutex_unlock(&g_lock);
        } else if (strcmp(op, "filecache") == 0) {
            QueryValue(q, "path", arg, sizeof(arg));
            std::wstring path = widen(arg);
            IHttpFileInfo *fi = NULL;
            HRESULT hr = g_server->GetFileInfo(path.c_str(), NULL, NULL, NULL, NULL, TRUE, &fi, NULL);
            if (FAILED(hr)) {
                snprintf(line, sizeof(line), "getfileinfo=0x%08x\n", (unsigned)hr);
                out = line;
            } else {
                IHttpCacheKey *k = fi->GetCacheKey();
                IHttpCacheSpecificData *d = NULL;
                HRESULT hr1 = g_server->DoCacheOperation(CACHE_OPERATION_RETRIEVE, k, &d, NULL);
                bool same =
                    d != NULL && wcscmp(static_cast<IHttpFileInfo *>(d)->GetFilePath(), path.c_str()) == 0;
                if (d != NULL)
                    d->DereferenceCacheData();
                IHttpCacheSpecificData *none = NULL;
                HRESULT hr2 = g_server->DoCacheOperation(CACHE_OPERATION_DELETE, k, &none, NULL);
                snprintf(line, sizeof(line), "name=%s\nretrieve=0x%08x\nsame=%d\ndelete=0x%08x\nflushed=%d\n",
                         narrow(k->GetCacheName()).c_str(), (unsigned)hr1, (int)same, (unsigned)hr2,
                         (int)fi->GetFlushed());
                out = line;
                fi->DereferenceCacheData();
            }
        } else if (strcmp(op, "sleep") == 0) {
            QueryValue(q, "ms", arg, sizeof(arg));
            usleep((useconds_t)atoi(arg) * 1000);
            out = "slept\n";
        } else if (strcmp(op, "recycle") == 0) {
            g_server->RecycleApplication(ctx->GetApplication()->GetAppConfigPath());
            out = "ok\n";
        } else if (strcmp(op, "custom") == 0) {
            CCustom c;
            g_server->NotifyCustomNotification(&c);
            out = "ok\n";
        } else if (strcmp(op, "warmup") == 0) {
            IHttpApplication2 *app2 = NULL;
            QueryValue(q, "do", arg, sizeof(arg));
            if (SUCCEEDED(HttpGetExtendedInterface(g_server, ctx->GetApplication(), &app2)) && app2 != NULL) {
                if (strcmp(arg, "begin") == 0)
                    app2->BeginApplicationWarmup();
                else
                    app2->EndApplicationWarmup();
                out = app2->QueryIsWarmingUp() ? "warming=1\n" : "warming=0\n";
            }
        } else if (strcmp(op, "metadata") == 0) {
            char site[128] = "", u[512] = "";
            QueryValue(q, "site", site, sizeof(site));
            QueryValue(q, "url", u, sizeof(u));
            for (char *c = site; *c; c++)
                if (*c == '+')
                    *c = ' ';
            IHttpServer2 *s2 = NULL;
            IReferencedMetadataInfo *mi = NULL;
            HRESULT hr = E_NOINTERFACE;
            if (SUCCEEDED(HttpGetExtendedInterface(g_server, g_server, &s2)) && s2 != NULL)
                hr = s2->GetMetadata(widen(site).c_str(), widen(u).c_str(), &mi);
            snprintf(line, sizeof(line), "hr=0x%08x\n", (unsigned)hr);
            out = line;
            if (SUCCEEDED(hr) && mi != NULL) {
                out += "path=" + narrow(mi->GetMetaPath()) + "\n";
                out += "vr=" + narrow(mi->GetVrPath()) + "\n";
                bool same =
                    mi->GetModuleContextContainer() == ctx->GetMetadata()->GetModuleContextContainer();
                out += same ? "same=1\n" : "same=0\n";
                mi->ReferenceMetadata();
                mi->DereferenceMetadata();
                mi->DereferenceMetadata();
            }
        } else if (strcmp(op, "poolfile") == 0) {
            IHttpServer2 *s2 = NULL;
            DWORD n = 0;
            if (SUCCEEDED(HttpGetExtendedInterface(g_server, g_server, &s2)) && s2 != NULL) {
                PCWSTR f = s2->GetAppPoolConfigFile(&n);
                snprintf(line, sizeof(line), "file=%s\nlen=%u\n", f ? narrow(f).c_str() : "(null)",
                         (unsigned)n);
                out = line;
            }
        } else {
            out = "unknown op\n";
        }
        IHttpResponse *r = ctx->GetResponse();
        r->SetStatus(200, "OK");
        r->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        void *mem = ctx->AllocateRequestMemory((DWORD)out.size() + 1);
        memcpy(mem, out.c_str(), out.size() + 1);
        chunk.FromMemory.pBuffer = mem;
        chunk.FromMemory.BufferLength = (ULONG)out.size();
        DWORD sent = 0;
        r->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
};

class CReportFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CReport;
        return S_OK;
    }
    VOID Terminate() {}
};

CReportFactory g_factory;

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_server = server;
    g_id = info->GetId();
    HRESULT hr = info->SetRequestNotifications(&g_factory, RQ_BEGIN_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    return info->SetGlobalNotifications(
        &g_global, GL_FILE_CHANGE | GL_CACHE_CLEANUP | GL_CACHE_OPERATION | GL_HEALTH_CHECK |
                       GL_APPLICATION_START | GL_APPLICATION_STOP | GL_APPLICATION_RESOLVE_MODULES |
                       GL_RSCA_QUERY | GL_THREAD_CLEANUP | GL_APPLICATION_PRELOAD | GL_CUSTOM_NOTIFICATION);
}
