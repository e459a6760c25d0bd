// server.cpp - conformance checks for IHttpServer(2), IHttpModuleRegistrationInfo(2),
// IHttpFileInfo, IDispensedHttpModuleContextContainer, IHttpTraceContext and the
// global-notification providers.
//
// RegisterModule checks the registration interface; the global module checks the
// providers it receives; the requests /server/basic, /server/fileinfo,
// /server/fragments, /server/notify and /server/trace check the rest.
#include "conformance.h"

#include <ahadmin.h>
#include <comdef.h>

#include <stdio.h>
#include <string>
#include <sys/stat.h>
#include <time.h>

#ifndef FILE_ATTRIBUTE_DIRECTORY
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010 /* the Win32 value */
#endif

namespace
{

HTTP_MODULE_ID g_id;
IHttpServer *g_server;

// {6F1C3E21-5B7A-4C3E-9D1E-2A7C0F00C0F1}: this suite's own trace provider
const GUID kConfProvider = {0x6f1c3e21, 0x5b7a, 0x4c3e, {0x9d, 0x1e, 0x2a, 0x7c, 0x0f, 0x00, 0xc0, 0xf1}};

int g_custom_seen;    // GL_CUSTOM_NOTIFICATION calls
int g_trace_seen;     // GL_TRACE_EVENT calls with kConfProvider
int g_www_trace_seen; // GL_TRACE_EVENT calls with the web server provider (QuickTrace)
int g_cleaned;        // stored contexts cleaned up
int g_preloads;       // GL_APPLICATION_PRELOAD calls (the site's root application has preloadEnabled)
int g_resolves;       // GL_APPLICATION_RESOLVE_MODULES calls
int g_warmups;        // /server/warmup requests (the warm-up request of every preload)
int g_config_seen;    // GL_CONFIGURATION_CHANGE calls for kConfigPath
int g_file_seen;      // GL_FILE_CHANGE calls for kChangedFile

IHttpFileMonitor *g_monitor; // the monitor /server/monitor waits on
int g_monitor_seen;          // GL_FILE_CHANGE calls that came with g_monitor

const wchar_t kConfigPath[] = L"MACHINE/WEBROOT/APPHOST/Default Web Site/conformance";
const wchar_t kChangedFile[] = L"/conformance/changed.file";

class CountedContext : public IHttpStoredContext
{
  public:
    VOID CleanupStoredContext()
    {
        g_cleaned++;
        delete this;
    }
};

bool eq(PCSTR a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

// A module registered for the application through IHttpApplicationResolveModulesProvider.
class CAppModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_is(ctx, "/server/appmodule"))
            return RQ_NOTIFICATION_CONTINUE;
        return conf_reply(ctx, "app module");
    }
};

class CAppFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CAppModule();
        return S_OK;
    }
    VOID Terminate() {}
};

CAppFactory g_app_factory;

// ---- a module's cache entries (IHttpServer::DoCacheOperation) ------------------------

int g_data_deleted; // CConfData objects whose last reference went

class CConfKey : public IHttpCacheKey
{
  public:
    CConfKey(PCWSTR cache, PCWSTR name) : m_cache(cache), m_name(name) {}
    DWORD GetHash() const
    {
        DWORD h = 5381;
        for (wchar_t c : m_name)
            h = h * 33 + (DWORD)c;
        return h;
    }
    PCWSTR GetCacheName() const { return m_cache.c_str(); }
    bool GetIsEqual(IHttpCacheKey *other) const
    {
        return other != NULL && static_cast<CConfKey *>(other)->m_name == m_name;
    }
    bool GetIsPrefix(IHttpCacheKey *other) const
    {
        return other != NULL && static_cast<CConfKey *>(other)->m_name.compare(0, m_name.size(), m_name) == 0;
    }
    VOID Enum(IHttpCacheSpecificData *) { m_enumerated++; }

    std::wstring m_cache, m_name;
    int m_enumerated = 0;
};

class CConfData : public IHttpCacheSpecificData
{
  public:
    explicit CConfData(CConfKey *key) : m_key(key) {}
    IHttpCacheKey *GetCacheKey() const { return m_key; }
    VOID ReferenceCacheData() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_ACQ_REL); }
    VOID DereferenceCacheData()
    {
        if (__atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0) {
            g_data_deleted++;
            delete this;
        }
    }
    VOID ResetTTL() {}
    VOID DecrementTTL(BOOL *expired) { *expired = FALSE; }
    VOID SetFlushed() { m_flushed = TRUE; }
    BOOL GetFlushed() const { return m_flushed; }

    CConfKey *m_key;
    int m_refs = 1;
    BOOL m_flushed = FALSE;
};

// what the GL_CACHE_OPERATION handler is to expect from the operation in flight
struct {
    CACHE_OPERATION op;
    IHttpCacheKey *key;
    IHttpCacheSpecificData *record;
    IHttpTraceContext *trace;
    int seen;
} g_cache_op;

CConfKey g_owned_key(L"CONFOWNED", L"owned");
CConfData *g_owned_data; // what the module's own cache answers

std::wstring widen(const std::string &s)
{
    return std::wstring(s.begin(), s.end());
}

std::string site_root()
{
    const char *r = getenv("IISD_CONFORMANCE_ROOT");
    std::string out = r ? r : "";
    while (!out.empty() && out.back() == '/')
        out.pop_back();
    return out;
}

class CCustomProvider : public ICustomNotificationProvider
{
  public:
    PCWSTR QueryNotificationType() { return L"conformance-global"; }
    VOID SetErrorStatus(HRESULT) {}
};

class CServerGlobal : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS OnGlobalStopListening(IGlobalStopListeningProvider *p)
    {
        // iisd stops on SIGTERM after finishing the requests in flight
        CHECK("IGlobalStopListeningProvider::DrainRequestsGracefully", p->DrainRequestsGracefully() == TRUE);
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalConfigurationChange(IGlobalConfigurationChangeProvider *p)
    {
        PCWSTR path = p->GetChangePath();
        if (path != NULL && wcsstr(path, L"/conformance") != NULL) {
            CHECK("IGlobalConfigurationChangeProvider::GetChangePath", conf_wide_eq(path, kConfigPath));
            g_config_seen++;
        }
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalFileChange(IGlobalFileChangeProvider *p)
    {
        PCWSTR name = p->GetFileName();
        IHttpFileMonitor *watching = __atomic_load_n(&g_monitor, __ATOMIC_ACQUIRE);
        IHttpFileMonitor *m = p->GetFileMonitor();
        if (watching != NULL && m == watching && name != NULL && wcsstr(name, L"touched.txt") != NULL) {
            IHttpModuleContextContainer *mcc = m->GetModuleContextContainer();
            IHttpStoredContext *s = mcc != NULL ? mcc->GetModuleContext(g_id) : NULL;
            CHECK("IHttpFileMonitor::GetModuleContextContainer",
                  s != NULL && ((ConfStoredContext *)s)->m_tag == 5);
            __atomic_add_fetch(&g_monitor_seen, 1, __ATOMIC_ACQ_REL);
        }
        if (name != NULL && wcsstr(name, L"changed.file") != NULL) {
            CHECK("IGlobalFileChangeProvider::GetFileName", conf_wide_eq(name, kChangedFile));
            g_file_seen++;
        }
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalPreBeginRequest(IPreBeginRequestProvider *p)
    {
        IHttpContext *ctx = p->GetHttpContext();
        if (ctx != NULL && conf_is(ctx, "/server/basic")) {
            CHECK("IPreBeginRequestProvider::GetHttpContext", eq(ctx->GetRequest()->GetHttpMethod(), "GET"));
            CHECK("IPreBeginRequestProvider::GetHttpContext", ctx->GetResponseHeadersSent() == FALSE);
        }
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalTraceEvent(IGlobalTraceEventProvider *p)
    {
        HTTP_TRACE_EVENT *ev = NULL;
        if (p->GetTraceEvent(&ev) != S_OK || ev == NULL || ev->pProviderGuid == NULL)
            return GL_NOTIFICATION_CONTINUE;
        if (IsEqualGUID(*ev->pProviderGuid, GUID_IIS_WWW_SERVER_TRACE_PROVIDER)) {
            IHttpContext *ctx = NULL;
            if (p->GetCurrentHttpRequestContext(&ctx) == S_OK && ctx != NULL && conf_is(ctx, "/server/trace"))
                g_www_trace_seen++;
            return GL_NOTIFICATION_CONTINUE;
        }
        if (!IsEqualGUID(*ev->pProviderGuid, kConfProvider))
            return GL_NOTIFICATION_CONTINUE;
        g_trace_seen++;
        CHECK("IGlobalTraceEventProvider::GetTraceEvent", ev->dwEvent == 42 && ev->dwArea == 1);
        CHECK("IGlobalTraceEventProvider::CheckSubscription", p->CheckSubscription(g_id) == TRUE);
        IHttpContext *ctx = NULL;
        HRESULT hr = p->GetCurrentHttpRequestContext(&ctx);
        CHECK("IGlobalTraceEventProvider::GetCurrentHttpRequestContext",
              hr == S_OK && ctx != NULL && conf_is(ctx, "/server/trace"));
        return GL_NOTIFICATION_CONTINUE;
    }

    // run.py sends SIGUSR1, which raises GL_RSCA_QUERY "GetStatus"; the answer goes to the log
    GLOBAL_NOTIFICATION_STATUS OnGlobalRSCAQuery(IGlobalRSCAQueryProvider *p)
    {
        CHECK("IGlobalRSCAQueryProvider::GetFunctionName", conf_wide_is(p->GetFunctionName(), "GetStatus"));
        PCWSTR params = p->GetFunctionParameters();
        CHECK("IGlobalRSCAQueryProvider::GetFunctionParameters", params != NULL && *params == 0);
        BYTE *buf = NULL;
        CHECK("IGlobalRSCAQueryProvider::GetOutputBuffer",
              p->GetOutputBuffer(4, &buf) == S_OK && buf != NULL);
        if (buf == NULL)
            return GL_NOTIFICATION_CONTINUE;
        memcpy(buf, "conf", 4);
        HRESULT hr = p->ResizeOutputBuffer(32, 4, &buf);
        CHECK("IGlobalRSCAQueryProvider::ResizeOutputBuffer",
              hr == S_OK && buf != NULL && memcmp(buf, "conf", 4) == 0);
        if (FAILED(hr) || buf == NULL)
            return GL_NOTIFICATION_CONTINUE;
        memcpy(buf + 4, "ormance-status", 14);
        p->SetResult(18, S_OK); // run.py checks the log
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalCacheOperation(ICacheProvider *p)
    {
        IHttpCacheKey *key = p->GetCacheKey();
        PCWSTR cache = key != NULL ? key->GetCacheName() : NULL;
        if (conf_wide_is(cache, "CONFOWNED") && p->GetCacheOperation() == CACHE_OPERATION_RETRIEVE) {
            // this module owns the cache: it answers and says so
            CHECK("ICacheProvider::GetCacheRecord", p->GetCacheRecord() == NULL);
            g_owned_data->ReferenceCacheData(); // the caller receives a reference
            p->SetCacheRecord(g_owned_data);
            CHECK("ICacheProvider::SetCacheRecord", p->GetCacheRecord() == g_owned_data);
            return GL_NOTIFICATION_HANDLED;
        }
        if (!conf_wide_is(cache, "CONFCACHE"))
            return GL_NOTIFICATION_CONTINUE;
        g_cache_op.seen++;
        CHECK("ICacheProvider::GetCacheOperation", p->GetCacheOperation() == g_cache_op.op);
        CHECK("ICacheProvider::GetCacheKey", key == g_cache_op.key);
        CHECK("ICacheProvider::GetTraceContext", p->GetTraceContext() == g_cache_op.trace);
        if (g_cache_op.op == CACHE_OPERATION_ADD)
            CHECK("ICacheProvider::GetCacheRecord", p->GetCacheRecord() == g_cache_op.record);
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationResolveModules(IHttpApplicationResolveModulesProvider *p)
    {
        IHttpApplication *app = p->GetApplication();
        CHECK("IHttpApplicationProvider::GetApplication",
              app != NULL && conf_wide_is(app->GetApplicationId(), "/LM/W3SVC/1/ROOT"));
        __atomic_add_fetch(&g_resolves, 1, __ATOMIC_ACQ_REL);
        HRESULT hr =
            p->RegisterModule(g_id, &g_app_factory, L"ConfAppModule", NULL, NULL, RQ_BEGIN_REQUEST, 0);
        CHECK("IHttpApplicationResolveModulesProvider::RegisterModule", hr == S_OK);
        hr = p->SetPriorityForRequestNotification(L"ConfAppModule", RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
        CHECK("IHttpApplicationResolveModulesProvider::SetPriorityForRequestNotification", hr == S_OK);
        return GL_NOTIFICATION_CONTINUE;
    }

    // once when the server starts, again when RecycleApplication has loaded a new generation
    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationPreload(IGlobalApplicationPreloadProvider *p)
    {
        IGlobalApplicationPreloadProvider2 *p2 = NULL;
        HttpGetExtendedInterface(g_server, p, &p2);
        int n = __atomic_add_fetch(&g_preloads, 1, __ATOMIC_ACQ_REL);
        CHECK("IGlobalApplicationPreloadProvider2::IsProcessRecycled",
              p2 != NULL && p2->IsProcessRecycled() == (n > 1 ? TRUE : FALSE));
        // a warm-up request: a context of its own, run through the application's pipeline
        IHttpContext *wctx = NULL;
        HRESULT hr = p->CreateContext(&wctx);
        CHECK("IGlobalApplicationPreloadProvider::CreateContext",
              hr == S_OK && wctx != NULL && wctx->GetRequest() != NULL && wctx->GetResponse() != NULL);
        if (wctx != NULL) {
            int seen = __atomic_load_n(&g_warmups, __ATOMIC_ACQUIRE);
            HRESULT set = wctx->GetRequest()->SetUrl("/server/warmup", 14, TRUE);
            hr = p->ExecuteRequest(wctx, NULL);
            USHORT status = 0;
            wctx->GetResponse()->GetStatus(&status);
            CHECK("IGlobalApplicationPreloadProvider::ExecuteRequest",
                  set == S_OK && hr == S_OK && status == 200 &&
                      __atomic_load_n(&g_warmups, __ATOMIC_ACQUIRE) == seen + 1);
            wctx->ReleaseClonedContext();
        }
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalThreadCleanup(IGlobalThreadCleanupProvider *p)
    {
        // a thread that served requests of the site's root application leaves the pool
        IHttpApplication *app = p->GetApplication();
        if (app != NULL)
            CHECK("IGlobalThreadCleanupProvider::GetApplication",
                  conf_wide_is(app->GetApplicationId(), "/LM/W3SVC/1/ROOT"));
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalApplicationStart(IHttpApplicationStartProvider *p)
    {
        IHttpApplication *app = p->GetApplication();
        CHECK("IHttpApplicationProvider::GetApplication",
              app != NULL && conf_wide_is(app->GetApplicationId(), "/LM/W3SVC/1/ROOT"));
        return GL_NOTIFICATION_CONTINUE;
    }

    GLOBAL_NOTIFICATION_STATUS OnGlobalCustomNotification(ICustomNotificationProvider *p)
    {
        if (conf_wide_is(p->QueryNotificationType(), "conformance-global"))
            g_custom_seen++;
        return GL_NOTIFICATION_CONTINUE;
    }

    VOID Terminate() { delete this; }
};

bool wide_is(BSTR b, const wchar_t *w)
{
    return b != NULL && wcscmp(b, w) == 0;
}

// The administration API (IHttpServer::GetAdminManager): the site list and a section of the site, read
// through every collection kind, and a value changed in memory (never committed).
void admin_api()
{
    IAppHostAdminManager *mgr = g_server->GetAdminManager();
    if (mgr == NULL)
        return;
    IAppHostElement *sites = NULL;
    HRESULT hr = mgr->GetAdminSection(_bstr_t(L"system.applicationHost/sites"),
                                      _bstr_t(L"MACHINE/WEBROOT/APPHOST"), &sites);
    CHECK("IAppHostAdminManager::GetAdminSection", hr == S_OK && sites != NULL);
    IAppHostElement *none = NULL;
    CHECK("IAppHostAdminManager::GetAdminSection",
          FAILED(mgr->GetAdminSection(_bstr_t(L"system.webServer/noSuchSection"),
                                      _bstr_t(L"MACHINE/WEBROOT/APPHOST"), &none)) &&
              none == NULL);
    if (sites == NULL)
        return;
    BSTR name = NULL;
    CHECK("IAppHostElement::get_Name", sites->get_Name(&name) == S_OK && name != NULL && *name != 0);
    SysFreeString(name);

    // the <site> items: the conformance site is the first one
    IAppHostElementCollection *items = NULL;
    CHECK("IAppHostElement::get_Collection", sites->get_Collection(&items) == S_OK && items != NULL);
    DWORD count = 0;
    CHECK("IAppHostElementCollection::get_Count",
          items != NULL && items->get_Count(&count) == S_OK && count >= 1);
    IAppHostElement *site = NULL;
    _variant_t index((long)0);
    CHECK("IAppHostElementCollection::get_Item",
          items != NULL && items->get_Item(index, &site) == S_OK && site != NULL);
    IAppHostElement *past = NULL;
    _variant_t beyond((long)count);
    CHECK("IAppHostElementCollection::get_Item",
          items != NULL && FAILED(items->get_Item(beyond, &past)) && past == NULL);
    if (site != NULL) {
        IAppHostProperty *prop = NULL;
        hr = site->GetPropertyByName(_bstr_t(L"name"), &prop);
        CHECK("IAppHostElement::GetPropertyByName", hr == S_OK && prop != NULL);
        if (prop != NULL) {
            BSTR pname = NULL, text = NULL;
            CHECK("IAppHostProperty::get_Name", prop->get_Name(&pname) == S_OK && wide_is(pname, L"name"));
            _variant_t value;
            CHECK("IAppHostProperty::get_Value", prop->get_Value(&value) == S_OK && value.vt == VT_BSTR &&
                                                     wide_is(value.bstrVal, L"Default Web Site"));
            CHECK("IAppHostProperty::get_StringValue",
                  prop->get_StringValue(&text) == S_OK && wide_is(text, L"Default Web Site"));
            IAppHostPropertyException *exc = (IAppHostPropertyException *)1;
            CHECK("IAppHostProperty::get_Exception", prop->get_Exception(&exc) == S_OK && exc == NULL);
            SysFreeString(pname);
            SysFreeString(text);
            prop->Release();
        }
        IAppHostProperty *missing = NULL;
        CHECK("IAppHostElement::GetPropertyByName",
              FAILED(site->GetPropertyByName(_bstr_t(L"noSuchAttribute"), &missing)) && missing == NULL);

        IAppHostPropertyCollection *props = NULL;
        CHECK("IAppHostElement::get_Properties", site->get_Properties(&props) == S_OK && props != NULL);
        if (props != NULL) {
            DWORD n = 0;
            CHECK("IAppHostPropertyCollection::get_Count", props->get_Count(&n) == S_OK && n >= 2);
            IAppHostProperty *p0 = NULL;
            _variant_t by_name(L"id");
            CHECK("IAppHostPropertyCollection::get_Item",
                  props->get_Item(by_name, &p0) == S_OK && p0 != NULL);
            if (p0 != NULL) {
                _variant_t id;
                CHECK("IAppHostPropertyCollection::get_Item", p0->get_Value(&id) == S_OK && id.vt == VT_UI4);
                p0->Release();
            }
            props->Release();
        }

        IAppHostChildElementCollection *kids = NULL;
        CHECK("IAppHostElement::get_ChildElements", site->get_ChildElements(&kids) == S_OK && kids != NULL);
        if (kids != NULL) {
            DWORD n = 0;
            CHECK("IAppHostChildElementCollection::get_Count", kids->get_Count(&n) == S_OK && n >= 1);
            IAppHostElement *kid = NULL;
            _variant_t by_name(L"bindings");
            CHECK("IAppHostChildElementCollection::get_Item",
                  kids->get_Item(by_name, &kid) == S_OK && kid != NULL);
            if (kid != NULL)
                kid->Release();
            kids->Release();
        }
        IAppHostElement *bindings = NULL;
        CHECK("IAppHostElement::GetElementByName",
              site->GetElementByName(_bstr_t(L"bindings"), &bindings) == S_OK && bindings != NULL);
        if (bindings != NULL) {
            BSTR bname = NULL;
            CHECK("IAppHostElement::get_Name",
                  bindings->get_Name(&bname) == S_OK && wide_is(bname, L"bindings"));
            SysFreeString(bname);
            bindings->Release();
        }
        site->Release();
    }
    if (items != NULL)
        items->Release();
    sites->Release();

    // a value changed in this section object only: nothing is committed
    IAppHostElement *dd = NULL;
    if (mgr->GetAdminSection(_bstr_t(L"system.webServer/defaultDocument"),
                             _bstr_t(L"MACHINE/WEBROOT/APPHOST/Default Web Site"), &dd) == S_OK &&
        dd != NULL) {
        IAppHostProperty *enabled = NULL;
        if (dd->GetPropertyByName(_bstr_t(L"enabled"), &enabled) == S_OK && enabled != NULL) {
            _variant_t before, after;
            enabled->get_Value(&before);
            bool was = before.vt == VT_BOOL && before.boolVal != VARIANT_FALSE;
            _variant_t flipped(!was);
            HRESULT put = enabled->put_Value(flipped);
            enabled->get_Value(&after);
            CHECK("IAppHostProperty::put_Value",
                  put == S_OK && after.vt == VT_BOOL && (after.boolVal != VARIANT_FALSE) == !was);
            enabled->Release();
        }
        dd->Release();
    }

    IAppHostWritableAdminManager *wmgr = NULL;
    mgr->QueryInterface(__uuidof(IAppHostWritableAdminManager), (void **)&wmgr);
    if (wmgr != NULL) {
        BSTR path = NULL;
        CHECK("IAppHostWritableAdminManager::get_CommitPath",
              wmgr->get_CommitPath(&path) == S_OK && wide_is(path, L"MACHINE/WEBROOT/APPHOST"));
        SysFreeString(path);
        CHECK("IAppHostWritableAdminManager::put_CommitPath",
              wmgr->put_CommitPath(_bstr_t(L"MACHINE/WEBROOT/APPHOST")) == S_OK);
        wmgr->Release();
    }
}

void basic(IHttpContext *ctx)
{
    admin_api();
    // launched from a shell or a service manager, iisd is a command-line process
    CHECK("IHttpServer::IsCommandLineLaunch", g_server->IsCommandLineLaunch() == TRUE);
    PCWSTR pool = g_server->GetAppPoolName();
    CHECK("IHttpServer::GetAppPoolName", pool != NULL && *pool != 0);
    g_server->IncrementThreadCount();
    g_server->DecrementThreadCount();
    CHECK("IHttpServer::IncrementThreadCount", ctx->GetConnection()->IsConnected()); // and still serving
    CHECK("IHttpServer::DecrementThreadCount", ctx->GetConnection()->IsConnected());
    CHECK("IHttpServer::GetAdminManager", g_server->GetAdminManager() != NULL);
    CHECK("IHttpServer::GetTraceContext", g_server->GetTraceContext() != NULL);
    CHECK("IHttpServer::FlushKernelCache", g_server->FlushKernelCache(L"/server/basic") == S_OK);

    BOOL unknown = TRUE;
    CHECK("IHttpServer::SatisfiesPrecondition",
          g_server->SatisfiesPrecondition(L"integratedMode", &unknown) == TRUE && unknown == FALSE);
    CHECK("IHttpServer::SatisfiesPrecondition",
          g_server->SatisfiesPrecondition(L"classicMode", &unknown) == FALSE && unknown == FALSE);
    CHECK("IHttpServer::SatisfiesPrecondition",
          g_server->SatisfiesPrecondition(L"bitness64", &unknown) == TRUE);
    CHECK("IHttpServer::SatisfiesPrecondition",
          g_server->SatisfiesPrecondition(L"bitness32", &unknown) == FALSE);
    unknown = FALSE;
    g_server->SatisfiesPrecondition(L"conformanceNoSuchToken", &unknown);
    CHECK("IHttpServer::SatisfiesPrecondition", unknown == TRUE);

    IHttpServer2 *server2 = NULL;
    HRESULT hr = g_server->GetExtendedInterface(HTTP_SERVER_INTERFACE_V2, (PVOID *)&server2);
    CHECK("IHttpServer::GetExtendedInterface", hr == S_OK && server2 != NULL);
    PVOID none = (PVOID)1;
    CHECK("IHttpServer::GetExtendedInterface",
          FAILED(g_server->GetExtendedInterface((HTTP_SERVER_INTERFACE_VERSION)77, &none)));
    if (server2 != NULL) {
        IHttpContext4 *ctx4 = NULL;
        hr = server2->GetExtendedInterface(__uuidof(IHttpContext), ctx, __uuidof(IHttpContext4),
                                           (PVOID *)&ctx4);
        CHECK("IHttpServer2::GetExtendedInterfaceByGuid", hr == S_OK && (void *)ctx4 == (void *)ctx);
        PVOID out = (PVOID)1;
        hr = server2->GetExtendedInterface(__uuidof(IHttpContext), ctx, kConfProvider, &out);
        CHECK("IHttpServer2::GetExtendedInterfaceByGuid", FAILED(hr));
    }

    IDispensedHttpModuleContextContainer *box = g_server->DispenseContainer();
    CHECK("IHttpServer::DispenseContainer", box != NULL);
    if (box != NULL) {
        CountedContext *stored = new CountedContext();
        CHECK("IHttpServer::DispenseContainer",
              box->SetModuleContext(stored, g_id) == S_OK && box->GetModuleContext(g_id) == stored);
        int before = g_cleaned;
        box->ReleaseContainer();
        // the container cleans up what it stores
        CHECK("IDispensedHttpModuleContextContainer::ReleaseContainer", g_cleaned == before + 1);
    }

    CCustomProvider provider;
    int before = g_custom_seen;
    GLOBAL_NOTIFICATION_STATUS st = g_server->NotifyCustomNotification(&provider);
    CHECK("IHttpServer::NotifyCustomNotification",
          st == GL_NOTIFICATION_CONTINUE && g_custom_seen == before + 1);
}

void fragments()
{
    static char data[] = "fragment-data"; // 13 bytes
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = data;
    chunk.FromMemory.BufferLength = 13;
    CHECK("IHttpServer::AddFragmentToCache", g_server->AddFragmentToCache(&chunk, L"conf-fragment") == S_OK);
    CHECK("IHttpServer::AddFragmentToCache", FAILED(g_server->AddFragmentToCache(NULL, L"conf-other")));
    BYTE buf[64];
    DWORD copied = 0;
    HRESULT hr = g_server->ReadFragmentFromCache(L"conf-fragment", buf, 4, &copied);
    CHECK("IHttpServer::ReadFragmentFromCache",
          hr == HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER) && copied == 13);
    copied = 0;
    hr = g_server->ReadFragmentFromCache(L"conf-fragment", buf, sizeof(buf), &copied);
    CHECK("IHttpServer::ReadFragmentFromCache", hr == S_OK && copied == 13 && memcmp(buf, data, 13) == 0);
    CHECK("IHttpServer::RemoveFragmentFromCache",
          g_server->RemoveFragmentFromCache(L"conf-fragment") == S_OK);
    hr = g_server->ReadFragmentFromCache(L"conf-fragment", buf, sizeof(buf), &copied);
    CHECK("IHttpServer::RemoveFragmentFromCache", hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
    CHECK("IHttpServer::ReadFragmentFromCache", hr == HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
}

bool write_file(const std::string &path, const char *text)
{
    std::string tmp = path + ".tmp";
    FILE *f = fopen(tmp.c_str(), "w");
    if (f == NULL)
        return false;
    fputs(text, f);
    fclose(f);
    return rename(tmp.c_str(), path.c_str()) == 0;
}

void file_info()
{
    std::string path = site_root() + "/file.txt"; // "file text\n"
    std::wstring wpath = widen(path);
    IHttpFileInfo *fi = NULL;
    HRESULT hr = g_server->GetFileInfo(wpath.c_str(), NULL, NULL, NULL, NULL, TRUE, &fi);
    CHECK("IHttpServer::GetFileInfo", hr == S_OK && fi != NULL);
    if (fi == NULL)
        return;
    ULARGE_INTEGER size;
    size.QuadPart = 0;
    fi->GetSize(&size);
    CHECK("IHttpFileInfo::GetSize", size.QuadPart == 10);
    DWORD attrs = fi->GetAttributes();
    CHECK("IHttpFileInfo::GetAttributes", attrs != 0xffffffff && (attrs & FILE_ATTRIBUTE_DIRECTORY) == 0);
    CHECK("IHttpFileInfo::GetFilePath", conf_wide_eq(fi->GetFilePath(), wpath.c_str()));
    USHORT cch = 0;
    PCSTR etag = fi->GetETag(&cch);
    CHECK("IHttpFileInfo::GetETag",
          etag != NULL && cch > 2 && cch == strlen(etag) && etag[0] == '"' && etag[cch - 1] == '"');
    FILETIME ft = {0, 0};
    fi->GetLastModifiedTime(&ft);
    CHECK("IHttpFileInfo::GetLastModifiedTime", ft.dwHighDateTime != 0 || ft.dwLowDateTime != 0);
    PCSTR lm = fi->GetLastModifiedString();
    CHECK("IHttpFileInfo::GetLastModifiedString",
          lm != NULL && strlen(lm) == 29 && strcmp(lm + 26, "GMT") == 0);
    DWORD ttl = 0;
    fi->GetHttpCacheAllowed(&ttl);
    CHECK("IHttpFileInfo::GetHttpCacheAllowed", true); // any answer is documented; run for the C binding
    const BYTE *buffer = fi->GetFileBuffer();
    HANDLE handle = fi->GetFileHandle();
    // the content is reachable through one of them
    CHECK("IHttpFileInfo::GetFileBuffer", buffer == NULL || memcmp(buffer, "file text\n", 10) == 0);
    CHECK("IHttpFileInfo::GetFileHandle",
          buffer != NULL || (handle != NULL && handle != INVALID_HANDLE_VALUE));
    CHECK("IHttpFileInfo::AccessCheck", fi->AccessCheck(NULL, NULL) == S_OK);
    CHECK("IHttpFileInfo::GetVrToken", fi->GetVrToken() == NULL);
    CHECK("IHttpFileInfo::GetVrPath", fi->GetVrPath() == NULL); // GetFileInfo was given no virtual path
    CHECK("IHttpFileInfo::GetModuleContextContainer", fi->GetModuleContextContainer() != NULL);
    CHECK("IHttpFileInfo::CheckIfFileHasChanged", fi->CheckIfFileHasChanged(NULL) == FALSE);
    fi->DereferenceCacheData();

    // a file that changes after the lookup
    std::string changing = site_root() + "/changing.txt";
    write_file(changing, "one");
    std::wstring wchanging = widen(changing);
    fi = NULL;
    hr = g_server->GetFileInfo(wchanging.c_str(), NULL, NULL, NULL, NULL, FALSE, &fi);
    CHECK("IHttpServer::GetFileInfo", hr == S_OK && fi != NULL);
    if (fi != NULL) {
        write_file(changing, "three"); // another size, another inode
        CHECK("IHttpFileInfo::CheckIfFileHasChanged", fi->CheckIfFileHasChanged(NULL) == TRUE);
        fi->DereferenceCacheData();
    }

    std::wstring missing = widen(site_root() + "/no-such-file.txt");
    fi = (IHttpFileInfo *)1;
    hr = g_server->GetFileInfo(missing.c_str(), NULL, NULL, NULL, NULL, TRUE, &fi);
    CHECK("IHttpServer::GetFileInfo", hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    CHECK("IHttpServer::GetFileInfo", FAILED(g_server->GetFileInfo(NULL, NULL, NULL, NULL, NULL, TRUE, &fi)));
}

void notify()
{
    // the global modules registered for the notification run (the provider is checked there)
    int before = g_config_seen;
    g_server->NotifyConfigurationChange(kConfigPath);
    CHECK("IHttpServer::NotifyConfigurationChange", g_config_seen == before + 1);
    before = g_file_seen;
    g_server->NotifyFileChange(kChangedFile);
    CHECK("IHttpServer::NotifyFileChange", g_file_seen == before + 1);
}

// IHttpServer2::GetMetadata, GetAppPoolConfigFile; IHttpApplication2 warm-up
void server2(IHttpContext *ctx)
{
    IHttpServer2 *s2 = NULL;
    HttpGetExtendedInterface(g_server, g_server, &s2);
    CHECK("IHttpServer2::GetMetadata", s2 != NULL);
    if (s2 == NULL)
        return;
    IReferencedMetadataInfo *mi = NULL;
    HRESULT hr = s2->GetMetadata(L"Default Web Site", L"/server/server2", &mi);
    CHECK("IHttpServer2::GetMetadata", hr == S_OK && mi != NULL);
    if (mi != NULL) {
        CHECK("IHttpServer2::GetMetadata",
              mi->GetMetaPath() != NULL &&
                  wcsncmp(mi->GetMetaPath(), L"MACHINE/WEBROOT/APPHOST/Default Web Site", 40) == 0);
        mi->ReferenceMetadata();
        mi->DereferenceMetadata();
        CHECK("IReferencedMetadataInfo::ReferenceMetadata", mi->GetMetaPath() != NULL); // still ours
        CHECK("IReferencedMetadataInfo::DereferenceMetadata", true); // releases GetMetadata's
        mi->DereferenceMetadata();
    }
    mi = (IReferencedMetadataInfo *)1;
    hr = s2->GetMetadata(L"No Such Site", L"/", &mi);
    CHECK("IHttpServer2::GetMetadata", FAILED(hr));

    DWORD cch = 99;
    PCWSTR pool = s2->GetAppPoolConfigFile(&cch);
    // the applicationHost.config the server runs
    CHECK("IHttpServer2::GetAppPoolConfigFile",
          conf_wide_ends_with(pool, "/applicationHost.config") && cch == wcslen(pool));

    IHttpApplication2 *app2 = NULL;
    HttpGetExtendedInterface(g_server, ctx->GetApplication(), &app2);
    CHECK("IHttpApplication2::BeginApplicationWarmup", app2 != NULL);
    if (app2 == NULL)
        return;
    CHECK("IHttpApplication2::BeginApplicationWarmup", app2->QueryIsWarmingUp() == FALSE);
    app2->BeginApplicationWarmup();
    CHECK("IHttpApplication2::BeginApplicationWarmup", app2->QueryIsWarmingUp() == TRUE);
    app2->EndApplicationWarmup();
    CHECK("IHttpApplication2::EndApplicationWarmup", app2->QueryIsWarmingUp() == FALSE);
}

// RegisterFileChangeMonitor on <root>/watched: a change there reaches GL_FILE_CHANGE with the monitor
void monitor()
{
    std::string dir = site_root() + "/watched";
    mkdir(dir.c_str(), 0755);
    IHttpFileMonitor *m = NULL;
    HRESULT hr = g_server->RegisterFileChangeMonitor(widen(dir).c_str(), NULL, &m);
    CHECK("IHttpServer::RegisterFileChangeMonitor", hr == S_OK && m != NULL);
    if (m == NULL)
        return;
    IHttpModuleContextContainer *mcc = m->GetModuleContextContainer();
    CHECK("IHttpFileMonitor::GetModuleContextContainer", mcc != NULL);
    if (mcc != NULL)
        mcc->SetModuleContext(new ConfStoredContext(5), g_id);
    int before = __atomic_load_n(&g_monitor_seen, __ATOMIC_ACQUIRE);
    __atomic_store_n(&g_monitor, m, __ATOMIC_RELEASE);
    write_file(dir + "/touched.txt", "touched");
    // the notification comes from the server's own thread: poll for it (5 s at most)
    for (int i = 0; i < 500 && __atomic_load_n(&g_monitor_seen, __ATOMIC_ACQUIRE) == before; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    bool seen = __atomic_load_n(&g_monitor_seen, __ATOMIC_ACQUIRE) > before;
    CHECK("IHttpServer::RegisterFileChangeMonitor", seen);
    CHECK("IGlobalFileChangeProvider::GetFileMonitor", seen);
    __atomic_store_n(&g_monitor, (IHttpFileMonitor *)NULL, __ATOMIC_RELEASE);
    m->DereferenceFileMonitor();
    CHECK("IHttpFileMonitor::DereferenceFileMonitor", true); // releases the monitor (and its container)
}

HRESULT cache_op(CACHE_OPERATION op, CConfKey *key, IHttpCacheSpecificData **data, IHttpTraceContext *tc)
{
    g_cache_op.op = op;
    g_cache_op.key = key;
    g_cache_op.record = op == CACHE_OPERATION_ADD ? *data : NULL;
    g_cache_op.trace = tc;
    int before = g_cache_op.seen;
    HRESULT hr = g_server->DoCacheOperation(op, key, data, tc);
    // every operation is raised as GL_CACHE_OPERATION first
    CHECK("IHttpServer::DoCacheOperation", g_cache_op.seen == before + 1);
    return hr;
}

// DoCacheOperation on a module cache the server keeps, and on one a module answers itself
void cache(IHttpContext *ctx)
{
    IHttpTraceContext *tc = ctx->GetTraceContext();
    CConfKey key(L"CONFCACHE", L"conf/a");
    CConfKey prefix(L"CONFCACHE", L"conf/");
    CConfData *data = new CConfData(&key);
    int deleted = g_data_deleted;

    IHttpCacheSpecificData *d = data;
    CHECK("IHttpServer::DoCacheOperation", cache_op(CACHE_OPERATION_ADD, &key, &d, tc) == S_OK);
    d = NULL;
    CHECK("IHttpServer::DoCacheOperation",
          cache_op(CACHE_OPERATION_RETRIEVE, &key, &d, tc) == S_OK && d == data);
    if (d != NULL)
        d->DereferenceCacheData();
    CHECK("IHttpServer::DoCacheOperation",
          cache_op(CACHE_OPERATION_ENUM, &key, &d, tc) == S_OK && key.m_enumerated == 1);
    CHECK("IHttpServer::DoCacheOperation",
          cache_op(CACHE_OPERATION_DELETE, &key, &d, tc) == S_OK && data->GetFlushed() == TRUE);
    d = (IHttpCacheSpecificData *)1;
    CHECK("IHttpServer::DoCacheOperation",
          cache_op(CACHE_OPERATION_RETRIEVE, &key, &d, tc) == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) &&
              d == NULL);
    d = data;
    cache_op(CACHE_OPERATION_ADD, &key, &d, NULL);
    CHECK("IHttpServer::DoCacheOperation", cache_op(CACHE_OPERATION_FLUSH_PREFIX, &prefix, &d, tc) == S_OK);
    key.m_enumerated = 0;
    cache_op(CACHE_OPERATION_ENUM, &key, &d, tc);
    CHECK("IHttpServer::DoCacheOperation", key.m_enumerated == 0);
    data->DereferenceCacheData();
    // the server gave back every reference it took
    CHECK("IHttpServer::DoCacheOperation", g_data_deleted == deleted + 1);

    g_owned_data = new CConfData(&g_owned_key);
    d = NULL;
    HRESULT hr = g_server->DoCacheOperation(CACHE_OPERATION_RETRIEVE, &g_owned_key, &d, tc);
    CHECK("ICacheProvider::SetCacheRecord", hr == S_OK && d == g_owned_data);
    if (d != NULL)
        d->DereferenceCacheData();
    g_owned_data->DereferenceCacheData();
    g_owned_data = NULL;
}

void trace(IHttpContext *ctx)
{
    IHttpTraceContext *tc = ctx->GetTraceContext();
    CHECK("IHttpContext::GetTraceContext", tc != NULL);
    if (tc == NULL)
        return;
    HTTP_TRACE_CONFIGURATION cfg = {&kConfProvider, 0, 0, FALSE};
    CHECK("IHttpTraceContext::GetTraceConfiguration",
          tc->GetTraceConfiguration(&cfg) == S_OK && cfg.fProviderEnabled == FALSE);
    HTTP_TRACE_CONFIGURATION sub = {&kConfProvider, 1, TRACE_LEVEL_INFORMATION, TRUE};
    CHECK("IHttpTraceContext::SetTraceConfiguration", tc->SetTraceConfiguration(g_id, &sub, 1) == S_OK);
    cfg = {&kConfProvider, 0, 0, FALSE};
    CHECK("IHttpTraceContext::GetTraceConfiguration", tc->GetTraceConfiguration(&cfg) == S_OK &&
                                                          cfg.fProviderEnabled == TRUE && (cfg.dwAreas & 1) &&
                                                          cfg.dwVerbosity == TRACE_LEVEL_INFORMATION);
    CHECK("IHttpTraceContext::SetTraceConfiguration",
          tc->SetTraceConfiguration(g_id, NULL, 1) == HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));

    LPCGUID activity = tc->GetTraceActivityId();
    CHECK("IHttpTraceContext::GetTraceActivityId", activity != NULL && activity == tc->GetTraceActivityId());

    HTTP_TRACE_EVENT ev;
    memset(&ev, 0, sizeof(ev));
    ev.pProviderGuid = &kConfProvider;
    ev.dwArea = 1;
    ev.dwEvent = 42;
    ev.pszEventName = L"CONFORMANCE_EVENT";
    ev.dwVerbosity = TRACE_LEVEL_INFORMATION;
    ev.pActivityGuid = activity;
    int before = g_trace_seen;
    CHECK("IHttpTraceContext::RaiseTraceEvent",
          tc->RaiseTraceEvent(&ev) == S_OK && g_trace_seen == before + 1);
    ev.dwVerbosity = TRACE_LEVEL_VERBOSE; // above the subscription's level: not delivered
    CHECK("IHttpTraceContext::RaiseTraceEvent",
          tc->RaiseTraceEvent(&ev) == S_OK && g_trace_seen == before + 1);

    HTTP_TRACE_CONFIGURATION www = {&GUID_IIS_WWW_SERVER_TRACE_PROVIDER, 0, 0, TRUE};
    tc->SetTraceConfiguration(g_id, &www, 1);
    int www_before = g_www_trace_seen;
    CHECK("IHttpTraceContext::QuickTrace",
          tc->QuickTrace(L"conformance", L"quick", S_OK, TRACE_LEVEL_INFORMATION) == S_OK);
    CHECK("IHttpTraceContext::QuickTrace", g_www_trace_seen > www_before);

    sub.fProviderEnabled = FALSE;
    CHECK("IHttpTraceContext::SetTraceConfiguration", tc->SetTraceConfiguration(g_id, &sub, 1) == S_OK);
    cfg = {&kConfProvider, 0, 0, FALSE};
    tc->GetTraceConfiguration(&cfg);
    CHECK("IHttpTraceContext::SetTraceConfiguration", cfg.fProviderEnabled == FALSE);
}

class CServerModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_under(ctx, "/server/"))
            return RQ_NOTIFICATION_CONTINUE;
        if (conf_is(ctx, "/server/basic"))
            basic(ctx);
        else if (conf_is(ctx, "/server/fileinfo"))
            file_info();
        else if (conf_is(ctx, "/server/fragments"))
            fragments();
        else if (conf_is(ctx, "/server/notify"))
            notify();
        else if (conf_is(ctx, "/server/trace"))
            trace(ctx);
        else if (conf_is(ctx, "/server/server2"))
            server2(ctx);
        else if (conf_is(ctx, "/server/monitor"))
            monitor();
        else if (conf_is(ctx, "/server/cache"))
            cache(ctx);
        else if (conf_is(ctx, "/server/recycle")) {
            g_server->RecycleApplication(L"MACHINE/WEBROOT/APPHOST/Default Web Site");
            CHECK("IHttpServer::RecycleApplication", true); // run.py waits for the new generation
        } else if (conf_is(ctx, "/server/warmup")) {
            __atomic_add_fetch(&g_warmups, 1, __ATOMIC_ACQ_REL);
            return conf_reply(ctx, "warm");
        } else if (conf_is(ctx, "/server/generation")) {
            char text[64];
            snprintf(text, sizeof(text), "preloads=%d resolves=%d",
                     __atomic_load_n(&g_preloads, __ATOMIC_ACQUIRE),
                     __atomic_load_n(&g_resolves, __ATOMIC_ACQUIRE));
            return conf_reply(ctx, text);
        } else
            return RQ_NOTIFICATION_CONTINUE;
        return conf_reply(ctx, "server");
    }
};

void registration(IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    CHECK("IHttpModuleRegistrationInfo::GetName", conf_wide_is(info->GetName(), "ConfServer"));
    CHECK("IHttpModuleRegistrationInfo::GetId", info->GetId() != NULL && info->GetId() == info->GetId());

    HRESULT hr = info->SetRequestNotifications(new ConfFactory<CServerModule>(), RQ_BEGIN_REQUEST, 0);
    CHECK("IHttpModuleRegistrationInfo::SetRequestNotifications", hr == S_OK);
    IHttpModuleFactory *again = new ConfFactory<CServerModule>();
    hr = info->SetRequestNotifications(again, RQ_END_REQUEST, 0);
    CHECK("IHttpModuleRegistrationInfo::SetRequestNotifications",
          hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));
    if (FAILED(hr))
        again->Terminate();

    DWORD globals = GL_STOP_LISTENING | GL_CONFIGURATION_CHANGE | GL_FILE_CHANGE | GL_PRE_BEGIN_REQUEST |
                    GL_TRACE_EVENT | GL_CUSTOM_NOTIFICATION | GL_APPLICATION_RESOLVE_MODULES |
                    GL_APPLICATION_START | GL_CACHE_OPERATION | GL_RSCA_QUERY | GL_APPLICATION_PRELOAD |
                    GL_THREAD_CLEANUP;
    hr = info->SetGlobalNotifications(new CServerGlobal(), globals);
    CHECK("IHttpModuleRegistrationInfo::SetGlobalNotifications", hr == S_OK);
    CGlobalModule *second = new CServerGlobal();
    hr = info->SetGlobalNotifications(second, GL_STOP_LISTENING);
    CHECK("IHttpModuleRegistrationInfo::SetGlobalNotifications",
          hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS));
    if (FAILED(hr))
        second->Terminate();

    CHECK("IHttpModuleRegistrationInfo::SetPriorityForRequestNotification",
          info->SetPriorityForRequestNotification(RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH) == S_OK);
    CHECK("IHttpModuleRegistrationInfo::SetPriorityForGlobalNotification",
          info->SetPriorityForGlobalNotification(GL_PRE_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH) == S_OK);
    IHttpModuleRegistrationInfo2 *info2 = NULL;
    hr = HttpGetExtendedInterface(server, info, &info2);
    CHECK("IHttpModuleRegistrationInfo2::SetPriorityForPostRequestNotification", hr == S_OK && info2 != NULL);
    if (info2 != NULL)
        CHECK("IHttpModuleRegistrationInfo2::SetPriorityForPostRequestNotification",
              info2->SetPriorityForPostRequestNotification(RQ_BEGIN_REQUEST, PRIORITY_ALIAS_LOW) == S_OK);
}

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_id = info->GetId();
    g_server = server;
    registration(info, server);
    return S_OK;
}
