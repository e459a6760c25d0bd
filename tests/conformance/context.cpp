// context.cpp - conformance checks for IHttpContext (and IHttpContext2..4), IHttpSite,
// IHttpApplication(2), IHttpConnection, IMetadataInfo, IScriptMapInfo,
// IHttpModuleContextContainer, IHttpCompletionInfo(2), IModuleAllocator, IHttpUrlInfo, and the
// change lists (GetServerVarChanges, IHttpRequest/IHttpResponse::GetHeaderChanges),
// IHttpRequest::InsertEntityBody, IHttpPerfCounterInfo, IIisdUserFactory and IHttpUser.
//
// Requests (sent by run.py): /context/basic, /context/vars, /context/child (which runs
// /context/child-target), /context/async-post, /context/async-indicate, /context/custom,
// /context/disable, /context/cache, /context/file.txt (served by the static file handler),
// /context/handled, /context/changes, /context/extra, /context/hit (twice), /context/insert (a POST),
// /context/async-post-ex.
#include "conformance.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace
{

HTTP_MODULE_ID g_id;
IHttpServer *g_server;

// /context/child-async: the pending child's completion waits until its ExecuteRequest has returned
std::mutex g_gate_lock;
std::condition_variable g_gate_cv;
bool g_gate_open;

void gate_set(bool open)
{
    std::lock_guard<std::mutex> l(g_gate_lock);
    g_gate_open = open;
    g_gate_cv.notify_all();
}

bool eq(PCSTR a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

// The site's root folder (run.py passes it), as a wide string.
std::wstring site_root()
{
    std::wstring out;
    const char *r = getenv("IISD_CONFORMANCE_ROOT");
    for (; r != NULL && *r; r++)
        out += (wchar_t)(unsigned char)*r;
    while (!out.empty() && out.back() == L'/')
        out.pop_back();
    return out;
}

bool starts_with(PCWSTR s, const std::wstring &prefix)
{
    return s != NULL && wcsncmp(s, prefix.c_str(), prefix.size()) == 0;
}

void containers(IHttpContext *ctx)
{
    IHttpModuleContextContainer *mcc = ctx->GetModuleContextContainer();
    CHECK("IHttpContext::GetModuleContextContainer", mcc != NULL);
    if (mcc == NULL)
        return;
    CHECK("IHttpModuleContextContainer::GetModuleContext", mcc->GetModuleContext(g_id) == NULL);
    ConfStoredContext *stored = new ConfStoredContext(1);
    CHECK("IHttpModuleContextContainer::SetModuleContext", mcc->SetModuleContext(stored, g_id) == S_OK);
    CHECK("IHttpModuleContextContainer::GetModuleContext", mcc->GetModuleContext(g_id) == stored);
    ConfStoredContext *other = new ConfStoredContext(2);
    CHECK("IHttpModuleContextContainer::SetModuleContext",
          mcc->SetModuleContext(other, g_id) == HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
    delete other;
    CHECK("IHttpModuleContextContainer::SetModuleContext",
          mcc->SetModuleContext(NULL, g_id) == HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    CHECK("IHttpModuleContextContainer::GetModuleContext", mcc->GetModuleContext(g_id) == stored);
}

class CConnStored : public IHttpConnectionStoredContext
{
  public:
    VOID CleanupStoredContext() { delete this; }
    VOID NotifyDisconnect() {}
};

// the per-URL, per-connection and named containers
void more_containers(IHttpContext *ctx)
{
    IHttpUrlInfo *url = ctx->GetUrlInfo();
    CHECK("IHttpContext::GetUrlInfo", url != NULL);
    if (url != NULL) {
        IHttpModuleContextContainer *mcc = url->GetModuleContextContainer();
        CHECK("IHttpUrlInfo::GetModuleContextContainer",
              mcc != NULL && mcc == url->GetModuleContextContainer());
    }
    IHttpConnectionModuleContextContainer *cc = ctx->GetConnection()->GetModuleContextContainer();
    CHECK("IHttpConnection::GetModuleContextContainer", cc != NULL);
    if (cc != NULL) {
        // a fresh connection per request (run.py): nothing stored yet
        CHECK("IHttpConnectionModuleContextContainer::GetConnectionModuleContext",
              cc->GetConnectionModuleContext(g_id) == NULL);
        CConnStored *stored = new CConnStored();
        CHECK("IHttpConnectionModuleContextContainer::SetConnectionModuleContext",
              cc->SetConnectionModuleContext(stored, g_id) == S_OK);
        CHECK("IHttpConnectionModuleContextContainer::GetConnectionModuleContext",
              cc->GetConnectionModuleContext(g_id) == stored);
        CConnStored *other = new CConnStored();
        CHECK("IHttpConnectionModuleContextContainer::SetConnectionModuleContext",
              cc->SetConnectionModuleContext(other, g_id) == HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
        delete other;
    }
    IHttpContext3 *ctx3 = NULL;
    HttpGetExtendedInterface(g_server, ctx, &ctx3);
    INamedContextContainer *named = ctx3 != NULL ? ctx3->GetNamedContextContainer() : NULL;
    CHECK("IHttpContext3::GetNamedContextContainer", named != NULL);
    if (named != NULL) {
        CHECK("INamedContextContainer::GetNamedContext", named->GetNamedContext(L"conformance") == NULL);
        ConfStoredContext *stored = new ConfStoredContext(7);
        CHECK("INamedContextContainer::SetNamedContext",
              named->SetNamedContext(stored, L"conformance") == S_OK);
        CHECK("INamedContextContainer::GetNamedContext", named->GetNamedContext(L"conformance") == stored);
    }
}

void site_and_application(IHttpContext *ctx)
{
    IHttpSite *site = ctx->GetSite();
    CHECK("IHttpContext::GetSite", site != NULL && site == ctx->GetSite());
    if (site != NULL) {
        CHECK("IHttpSite::GetSiteId", site->GetSiteId() == 1);
        CHECK("IHttpSite::GetSiteName", conf_wide_is(site->GetSiteName(), "Default Web Site"));
        IHttpModuleContextContainer *mcc = site->GetModuleContextContainer();
        CHECK("IHttpSite::GetModuleContextContainer",
              mcc != NULL && mcc == site->GetModuleContextContainer());
        if (mcc != NULL) {
            // the site's container outlives the request: set once, seen by the next requests
            if (mcc->GetModuleContext(g_id) == NULL)
                mcc->SetModuleContext(new ConfStoredContext(3), g_id);
            IHttpStoredContext *s = mcc->GetModuleContext(g_id);
            CHECK("IHttpSite::GetModuleContextContainer", s != NULL && ((ConfStoredContext *)s)->m_tag == 3);
        }
    }
    IHttpApplication *app = ctx->GetApplication();
    CHECK("IHttpContext::GetApplication", app != NULL && app == ctx->GetApplication());
    if (app != NULL) {
        CHECK("IHttpApplication::GetApplicationPhysicalPath",
              starts_with(app->GetApplicationPhysicalPath(), site_root()));
        CHECK("IHttpApplication::GetApplicationId",
              conf_wide_is(app->GetApplicationId(), "/LM/W3SVC/1/ROOT"));
        CHECK("IHttpApplication::GetAppConfigPath",
              conf_wide_is(app->GetAppConfigPath(), "MACHINE/WEBROOT/APPHOST/Default Web Site"));
        CHECK("IHttpApplication::GetModuleContextContainer", app->GetModuleContextContainer() != NULL);
        IHttpApplication2 *app2 = NULL;
        HRESULT hr = HttpGetExtendedInterface(g_server, app, &app2);
        CHECK("IHttpApplication2::QueryIsWarmingUp",
              hr == S_OK && app2 != NULL && app2->QueryIsWarmingUp() == FALSE);
    }
    IHttpConnection *conn = ctx->GetConnection();
    CHECK("IHttpContext::GetConnection", conn != NULL && conn == ctx->GetConnection());
    if (conn != NULL) {
        CHECK("IHttpConnection::IsConnected", conn->IsConnected() == TRUE);
        char *mem = (char *)conn->AllocateMemory(64);
        CHECK("IHttpConnection::AllocateMemory", mem != NULL);
        if (mem != NULL)
            memset(mem, 0x5a, 64);
    }
}

void metadata_and_paths(IHttpContext *ctx)
{
    std::wstring root = site_root();
    IMetadataInfo *meta = ctx->GetMetadata();
    CHECK("IHttpContext::GetMetadata", meta != NULL);
    if (meta != NULL) {
        PCWSTR mp = meta->GetMetaPath();
        CHECK("IMetadataInfo::GetMetaPath", starts_with(mp, L"MACHINE/WEBROOT/APPHOST/Default Web Site"));
        PCWSTR vr = meta->GetVrPath();
        CHECK("IMetadataInfo::GetVrPath", starts_with(vr, root));
        CHECK("IMetadataInfo::GetModuleContextContainer", meta->GetModuleContextContainer() != NULL);
        // no account is configured for the virtual directory (userName="")
        CHECK("IMetadataInfo::GetVrToken", meta->GetVrToken() == NULL);
    }

    DWORD cch = 0;
    PCWSTR phys = ctx->GetPhysicalPath(&cch);
    CHECK("IHttpContext::GetPhysicalPath",
          starts_with(phys, root) && conf_wide_ends_with(phys, "/context/basic") && cch == wcslen(phys));
    cch = 0;
    PCWSTR name = ctx->GetScriptName(&cch);
    CHECK("IHttpContext::GetScriptName", conf_wide_is(name, "/context/basic") && cch == 14);
    cch = 0;
    PCWSTR translated = ctx->GetScriptTranslated(&cch);
    CHECK("IHttpContext::GetScriptTranslated", conf_wide_eq(translated, phys) && cch == wcslen(phys));

    WCHAR buf[512];
    DWORD cb = sizeof(buf);
    HRESULT hr = ctx->MapPath(L"/file.txt", buf, &cb);
    CHECK("IHttpContext::MapPath",
          hr == S_OK && starts_with(buf, root) && conf_wide_ends_with(buf, "/file.txt"));
    DWORD need = (DWORD)((wcslen(buf) + 1) * sizeof(WCHAR));
    DWORD small = 4;
    hr = ctx->MapPath(L"/file.txt", buf, &small);
    CHECK("IHttpContext::MapPath", hr == HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER) && small == need);
    DWORD none = 0;
    hr = ctx->MapPath(L"/file.txt", NULL, &none);
    CHECK("IHttpContext::MapPath", hr == HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER) && none == need);
    cb = sizeof(buf);
    CHECK("IHttpContext::MapPath", FAILED(ctx->MapPath(NULL, buf, &cb)));
}

void basic(IHttpContext *ctx)
{
    CHECK("IHttpContext::GetRequest", ctx->GetRequest() != NULL && ctx->GetRequest() == ctx->GetRequest());
    CHECK("IHttpContext::GetResponse",
          ctx->GetResponse() != NULL && ctx->GetResponse() == ctx->GetResponse());
    CHECK("IHttpContext::GetResponseHeadersSent", ctx->GetResponseHeadersSent() == FALSE);
    // nothing has authenticated the request yet
    CHECK("IHttpContext::GetUser", ctx->GetUser() == NULL);
    containers(ctx);
    more_containers(ctx);
    site_and_application(ctx);
    metadata_and_paths(ctx);

    char *a = (char *)ctx->AllocateRequestMemory(100);
    char *b = (char *)ctx->AllocateRequestMemory(100);
    CHECK("IHttpContext::AllocateRequestMemory", a != NULL && b != NULL && a != b);
    if (a != NULL && b != NULL) {
        memset(a, 'a', 100);
        memset(b, 'b', 100);
        CHECK("IHttpContext::AllocateRequestMemory", a[99] == 'a' && b[0] == 'b');
    }

    CHECK("IHttpContext::GetParentContext", ctx->GetParentContext() == NULL);
    CHECK("IHttpContext::GetRootContext", ctx->GetRootContext() == NULL); // documented: NULL for the root
    CHECK("IHttpContext::GetExecuteFlags", ctx->GetExecuteFlags() == 0);
    // the client's request is not a clone
    CHECK("IHttpContext::ReleaseClonedContext", FAILED(ctx->ReleaseClonedContext()));

    DWORD notification = 0, start = 0, module_start = 0;
    PCWSTR module = NULL;
    HRESULT hr = ctx->GetCurrentExecutionStats(&notification, &start, &module, &module_start);
    CHECK("IHttpContext::GetCurrentExecutionStats",
          hr == S_OK && notification == RQ_BEGIN_REQUEST && conf_wide_is(module, "ConfContext"));

    CHECK("IHttpContext::GetTraceContext", ctx->GetTraceContext() != NULL);
    // no asynchronous operation is pending
    CHECK("IHttpContext::CancelIo", ctx->CancelIo() == S_OK); // nothing pending: nothing to cancel
    // one notification of this module is still to come (RQ_END_REQUEST)
    CHECK("IHttpContext::GetIsLastNotification",
          ctx->GetIsLastNotification(RQ_NOTIFICATION_CONTINUE) == FALSE);

    IHttpContext2 *ctx2 = NULL;
    CHECK("IHttpContext2::GetOriginalUser", HttpGetExtendedInterface(g_server, ctx, &ctx2) == S_OK &&
                                                ctx2 != NULL && ctx2->GetOriginalUser() == NULL);
    IHttpContext4 *ctx4 = NULL;
    hr = HttpGetExtendedInterface(g_server, ctx, &ctx4);
    CHECK("IHttpContext4::GetRequestStartTime", hr == S_OK && ctx4 != NULL);
    if (ctx4 != NULL) {
        ULONGLONG now = GetTickCount64();
        ULONGLONG started = ctx4->GetRequestStartTime();
        ULONGLONG elapsed = ctx4->GetRequestElapsedTime();
        CHECK("IHttpContext4::GetRequestStartTime", started > 0 && started <= now);
        CHECK("IHttpContext4::GetRequestElapsedTime", elapsed <= GetTickCount64() - started + 1);
    }
}

void vars(IHttpContext *ctx)
{
    PCSTR a = NULL;
    DWORD n = 0;
    CHECK("IHttpContext::GetServerVariableA",
          ctx->GetServerVariable("REQUEST_METHOD", &a, &n) == S_OK && eq(a, "GET") && n == 3);
    CHECK("IHttpContext::GetServerVariableA",
          ctx->GetServerVariable("QUERY_STRING", &a, &n) == S_OK && eq(a, "from=driver") && n == 11);
    CHECK("IHttpContext::GetServerVariableA",
          ctx->GetServerVariable("HTTP_X_NOT_SENT", &a, &n) == HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    PCWSTR w = NULL;
    CHECK("IHttpContext::GetServerVariableW",
          ctx->GetServerVariable("REQUEST_METHOD", &w, &n) == S_OK && conf_wide_is(w, "GET") && n == 3);
    CHECK("IHttpContext::GetServerVariableW",
          ctx->GetServerVariable("URL", &w, &n) == S_OK && conf_wide_is(w, "/context/vars"));
    CHECK("IHttpContext::GetServerVariableW",
          ctx->GetServerVariable("CONF_NOT_SET", &w, &n) == HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    CHECK("IHttpContext::SetServerVariable", ctx->SetServerVariable("CONF_VAR", L"hello") == S_OK);
    CHECK("IHttpContext::SetServerVariable",
          ctx->GetServerVariable("CONF_VAR", &a, &n) == S_OK && eq(a, "hello") && n == 5);
    CHECK("IHttpContext::SetServerVariable", ctx->SetServerVariable("CONF_VAR", L"again") == S_OK);
    CHECK("IHttpContext::SetServerVariable",
          ctx->GetServerVariable("CONF_VAR", &w, &n) == S_OK && conf_wide_is(w, "again"));
    CHECK("IHttpContext::SetServerVariable", FAILED(ctx->SetServerVariable(NULL, L"x")));
    CHECK("IHttpContext::GetServerVariableA",
          FAILED(ctx->GetServerVariable("REQUEST_METHOD", (PCSTR *)NULL, &n)));
}

REQUEST_NOTIFICATION_STATUS child(IHttpContext *ctx)
{
    IHttpContext *kid = NULL;
    HRESULT hr = ctx->CloneContext(CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS, &kid);
    CHECK("IHttpContext::CloneContext", hr == S_OK && kid != NULL && kid != ctx);
    if (kid == NULL)
        return conf_reply(ctx, "no child");
    CHECK("IHttpContext::CloneContext", eq(kid->GetRequest()->GetHttpMethod(), "GET"));
    CHECK("IHttpContext::GetParentContext", kid->GetParentContext() == ctx);
    CHECK("IHttpContext::GetRootContext", kid->GetRootContext() == ctx);
    ctx->SetServerVariable("CONF_PARENT_VAR", L"from-parent");
    const char *url = "/context/child-target";
    kid->GetRequest()->SetUrl(url, (DWORD)strlen(url), TRUE);
    BOOL expected = TRUE;
    ctx->GetResponse()->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
    hr = ctx->ExecuteRequest(TRUE, kid, EXECUTE_FLAG_NO_HEADERS, NULL, &expected);
    CHECK("IHttpContext::ExecuteRequest", hr == S_OK && expected == FALSE);
    CHECK("IHttpContext::ReleaseClonedContext", kid->ReleaseClonedContext() == S_OK);
    conf_write(ctx, "|parent");
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

REQUEST_NOTIFICATION_STATUS child_target(IHttpContext *ctx)
{
    IHttpContext *parent = ctx->GetParentContext();
    CHECK("IHttpContext::GetParentContext", parent != NULL && parent->GetParentContext() == NULL);
    CHECK("IHttpContext::GetRootContext", ctx->GetRootContext() == parent);
    CHECK("IHttpContext::GetExecuteFlags", ctx->GetExecuteFlags() == EXECUTE_FLAG_NO_HEADERS);
    IHttpContext3 *ctx3 = NULL;
    HttpGetExtendedInterface(g_server, ctx, &ctx3);
    if (ctx3 != NULL) {
        PCSTR v = NULL;
        DWORD n = 0;
        CHECK("IHttpContext3::InheritServerVariable",
              ctx3->InheritServerVariable("CONF_PARENT_VAR", TRUE) == S_OK);
        CHECK("IHttpContext3::InheritServerVariable",
              ctx->GetServerVariable("CONF_PARENT_VAR", &v, &n) == S_OK && eq(v, "from-parent"));
        CHECK("IHttpContext3::InheritServerVariable",
              ctx3->InheritServerVariable("CONF_NOT_SET", TRUE) == HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    }
    conf_write(ctx, "child");
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

// GetServerVarChanges: the snapshot lists the variables set with SetServerVariable; a second call
// with that snapshot reports no difference until a variable changes.
void svar_changes(IHttpContext *ctx)
{
    ctx->SetServerVariable("CONF_CHG_A", L"1");
    ctx->SetServerVariable("CONF_CHG_B", L"2");
    DWORD change = 0, snap = 0, diffed = 0, *idx = NULL;
    PCSTR *names = NULL;
    PCWSTR *values = NULL;
    HRESULT hr = ctx->GetServerVarChanges(0, &change, &snap, &names, &values, &diffed, &idx);
    CHECK("IHttpContext::GetServerVarChanges", hr == S_OK && snap == 2 && diffed == 2 && idx != NULL);
    if (hr != S_OK || snap != 2 || names == NULL || values == NULL)
        return;
    int a = eq(names[0], "CONF_CHG_A") ? 0 : 1;
    CHECK("IHttpContext::GetServerVarChanges", eq(names[a], "CONF_CHG_A") && eq(names[1 - a], "CONF_CHG_B") &&
                                                   conf_wide_is(values[a], "1") &&
                                                   conf_wide_is(values[1 - a], "2"));
    DWORD first = change;
    hr = ctx->GetServerVarChanges(first, &change, &snap, &names, &values, &diffed, &idx);
    CHECK("IHttpContext::GetServerVarChanges",
          hr == S_OK && change == first && snap == 2 && diffed == 0 && idx != NULL && idx[0] == (DWORD)-1);
    ctx->SetServerVariable("CONF_CHG_B", L"two");
    hr = ctx->GetServerVarChanges(change, &change, &snap, &names, &values, &diffed, &idx);
    CHECK("IHttpContext::GetServerVarChanges",
          hr == S_OK && change != first && snap == 2 && diffed == 1 && idx != NULL &&
              eq(names[idx[0]], "CONF_CHG_B") && conf_wide_is(values[idx[0]], "two") && idx[1] == (DWORD)-1);
    CHECK("IHttpContext::GetServerVarChanges",
          FAILED(ctx->GetServerVarChanges(0, NULL, &snap, &names, &values, &diffed, &idx)));
}

// GetHeaderChanges (request and response): known[] is brought up to date and the ids that differed
// are listed, then (DWORD)-1; unknown headers come back as new arrays with the changed indices.
void header_changes(IHttpContext *ctx)
{
    IHttpRequest *rq = ctx->GetRequest();
    PCSTR known[HttpHeaderRequestMaximum] = {};
    DWORD diffed[HttpHeaderRequestMaximum + 1];
    DWORD change = 0, nunk = 0, ndiff = 0, *didx = NULL;
    PCSTR *unames = NULL, *uvalues = NULL;
    HRESULT hr = rq->GetHeaderChanges(0, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    CHECK("IHttpRequest::GetHeaderChanges", hr == S_OK && known[HttpHeaderHost] != NULL &&
                                                eq(known[HttpHeaderUserAgent], "conformance-driver"));
    DWORD first = change;
    hr = rq->GetHeaderChanges(first, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    CHECK("IHttpRequest::GetHeaderChanges",
          hr == S_OK && change == first && diffed[0] == (DWORD)-1 && ndiff == 0);
    rq->SetHeader(HttpHeaderUserAgent, "changed", 7, TRUE);
    rq->SetHeader("X-Conf-Added", "yes", 3, TRUE);
    hr = rq->GetHeaderChanges(change, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    CHECK("IHttpRequest::GetHeaderChanges", hr == S_OK && change != first &&
                                                diffed[0] == HttpHeaderUserAgent && diffed[1] == (DWORD)-1 &&
                                                eq(known[HttpHeaderUserAgent], "changed"));
    CHECK("IHttpRequest::GetHeaderChanges",
          ndiff == 1 && didx != NULL && eq(unames[didx[0]], "X-Conf-Added") && eq(uvalues[didx[0]], "yes"));

    IHttpResponse *rs = ctx->GetResponse();
    PCSTR rknown[HttpHeaderResponseMaximum] = {};
    DWORD rdiffed[HttpHeaderResponseMaximum + 1];
    change = nunk = 0;
    unames = uvalues = NULL;
    hr = rs->GetHeaderChanges(0, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    CHECK("IHttpResponse::GetHeaderChanges", hr == S_OK);
    first = change;
    rs->SetHeader(HttpHeaderEtag, "\"c1\"", 4, TRUE);
    rs->SetHeader("X-Conf-Resp", "r", 1, TRUE);
    hr = rs->GetHeaderChanges(change, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    CHECK("IHttpResponse::GetHeaderChanges", hr == S_OK && change != first && rdiffed[0] == HttpHeaderEtag &&
                                                 rdiffed[1] == (DWORD)-1 &&
                                                 eq(rknown[HttpHeaderEtag], "\"c1\""));
    CHECK("IHttpResponse::GetHeaderChanges",
          ndiff == 1 && didx != NULL && eq(unames[didx[0]], "X-Conf-Resp"));
    first = change;
    rs->DeleteHeader("X-Conf-Resp");
    hr = rs->GetHeaderChanges(change, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    CHECK("IHttpResponse::GetHeaderChanges", hr == S_OK && change != first && nunk == 0 && ndiff == 0);
}

// A server variable's value as a number (the perf counters are read through IISD_PERF_COUNTER_<n>).
long long var_number(IHttpContext *ctx, const char *name)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (ctx->GetServerVariable(name, &v, &n) != S_OK || v == NULL)
        return -1;
    return atoll(v);
}

void perf_counters(IHttpContext *ctx)
{
    IHttpPerfCounterInfo *site = ctx->GetSite()->GetPerfCounterInfo();
    IHttpPerfCounterInfo *srv = g_server->GetPerfCounterInfo();
    CHECK("IHttpSite::GetPerfCounterInfo", site != NULL && site == ctx->GetSite()->GetPerfCounterInfo());
    CHECK("IHttpServer::GetPerfCounterInfo", srv != NULL && srv != site);
    if (site == NULL || srv == NULL)
        return;
    long long s0 = var_number(ctx, "IISD_PERF_COUNTER_3");
    long long g0 = var_number(ctx, "IISD_SERVER_PERF_COUNTER_3");
    site->IncrementCounter(3, 5);
    srv->IncrementCounter(3); // by one
    CHECK("IHttpPerfCounterInfo::IncrementCounter",
          var_number(ctx, "IISD_PERF_COUNTER_3") == s0 + 5 &&
              var_number(ctx, "IISD_SERVER_PERF_COUNTER_3") == g0 + 1);
    site->DecrementCounter(3, 2);
    srv->DecrementCounter(3); // by one
    CHECK("IHttpPerfCounterInfo::DecrementCounter", var_number(ctx, "IISD_PERF_COUNTER_3") == s0 + 3 &&
                                                        var_number(ctx, "IISD_SERVER_PERF_COUNTER_3") == g0);
}

void users(IHttpContext *ctx)
{
    IIisdUserFactory *uf = NULL;
    HRESULT hr = HttpGetExtendedInterface(g_server, g_server, &uf);
    CHECK("IIisdUserFactory::CreateUser", hr == S_OK && uf != NULL);
    if (uf == NULL)
        return;
    IHttpUser *u = NULL;
    hr = uf->CreateUser(L"Conf", L"remote", L"local", L"pw", L"readers, writers", 0, &u);
    CHECK("IIisdUserFactory::CreateUser", hr == S_OK && u != NULL);
    if (u == NULL)
        return;
    CHECK("IIisdUserFactory::CreateUser", conf_wide_is(u->GetAuthenticationType(), "Conf") &&
                                              conf_wide_is(u->GetRemoteUserName(), "remote") &&
                                              conf_wide_is(u->GetUserName(), "local") &&
                                              conf_wide_is(u->GetPassword(), "pw"));
    // the user answers IsInRole, so it says it supports it
    CHECK("IHttpUser::SupportsIsInRole", u->SupportsIsInRole() == TRUE);
    BOOL in = FALSE, out = TRUE;
    CHECK("IHttpUser::SupportsIsInRole",
          u->IsInRole(L"writers", &in) == S_OK && in == TRUE && u->IsInRole(L"admins", &out) == S_OK && !out);
    u->DereferenceUser();
    CHECK("IIisdUserFactory::CreateUser",
          FAILED(uf->CreateUser(L"Conf", L"remote", L"local", L"pw", NULL, 0, NULL)));
    (void)ctx;
}

// The deprecated IHttpContext::GetExtendedInterface: HTTP_CONTEXT_INTERFACE_VERSION defines no version.
void deprecated_extended(IHttpContext *ctx)
{
    PVOID p = (PVOID)1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    HRESULT hr = ctx->GetExtendedInterface((HTTP_CONTEXT_INTERFACE_VERSION)0, &p);
#pragma GCC diagnostic pop
    CHECK("IHttpContext::GetExtendedInterface", hr == E_NOINTERFACE && p == NULL);
}

// InsertEntityBody: the inserted bytes are read before the part of the body not yet read.
REQUEST_NOTIFICATION_STATUS insert_body(IHttpContext *ctx)
{
    IHttpRequest *rq = ctx->GetRequest();
    const char *front = "inserted+";
    char *mem = (char *)ctx->AllocateRequestMemory(9);
    memcpy(mem, front, 9);
    CHECK("IHttpRequest::InsertEntityBody", rq->InsertEntityBody(mem, 9) == S_OK);
    std::string seen;
    char buf[64];
    for (;;) {
        DWORD got = 0;
        HRESULT hr = rq->ReadEntityBody(buf, sizeof(buf), FALSE, &got);
        if (FAILED(hr) || got == 0)
            break;
        seen.append(buf, got);
    }
    CHECK("IHttpRequest::InsertEntityBody", seen == "inserted+client body");
    return conf_reply(ctx, seen.c_str());
}

class CContextModule;
VOID WINAPI post_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov);

class CCustomProvider : public ICustomNotificationProvider
{
  public:
    PCWSTR QueryNotificationType() { return L"conformance"; }
    VOID SetErrorStatus(HRESULT) {}
};

class CContextModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_under(ctx, "/context/"))
            return RQ_NOTIFICATION_CONTINUE;
        if (conf_is(ctx, "/context/basic")) {
            basic(ctx);
            return conf_reply(ctx, "basic");
        }
        if (conf_is(ctx, "/context/vars")) {
            vars(ctx);
            return conf_reply(ctx, "vars");
        }
        if (conf_is(ctx, "/context/child"))
            return child(ctx);
        if (conf_is(ctx, "/context/child-target"))
            return child_target(ctx);
        if (conf_is(ctx, "/context/child-async")) {
            IHttpContext *kid = NULL;
            ctx->CloneContext(CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS, &kid);
            if (kid == NULL)
                return conf_reply(ctx, "no child");
            kid->GetRequest()->SetUrl("/context/child-pend", 19, TRUE);
            BOOL expected = FALSE;
            gate_set(false);
            HRESULT hr = ctx->ExecuteRequest(TRUE, kid, 0, NULL, &expected);
            gate_set(true);
            // the child pends: the completion is expected, and comes through OnAsyncCompletion
            CHECK("IHttpContext::ExecuteRequest", hr == S_OK && expected == TRUE);
            if (!expected) {
                kid->ReleaseClonedContext();
                return conf_reply(ctx, "not pending");
            }
            m_child = kid;
            return RQ_NOTIFICATION_PENDING;
        }
        if (conf_is(ctx, "/context/child-pend")) {
            m_pend = true;
            std::thread([ctx]() {
                std::unique_lock<std::mutex> l(g_gate_lock);
                g_gate_cv.wait(l, [] { return g_gate_open; });
                l.unlock();
                ctx->PostCompletion(0);
            }).detach();
            return RQ_NOTIFICATION_PENDING;
        }
        if (conf_is(ctx, "/context/changes")) {
            svar_changes(ctx);
            header_changes(ctx);
            return conf_reply(ctx, "changes");
        }
        if (conf_is(ctx, "/context/extra")) {
            perf_counters(ctx);
            users(ctx);
            deprecated_extended(ctx);
            return conf_reply(ctx, "extra");
        }
        if (conf_is(ctx, "/context/hit")) {
            // run.py asks twice in a row: a URL is frequently hit from its second request within 10 s
            IHttpUrlInfo *ui = ctx->GetUrlInfo();
            BOOL frequent = ui != NULL && ui->IsFrequentlyHit();
            return conf_reply(ctx, frequent ? "frequent" : "not frequent");
        }
        if (conf_is(ctx, "/context/insert"))
            return insert_body(ctx);
        if (conf_is(ctx, "/context/async-post-ex")) {
            IHttpContext3 *ctx3 = NULL;
            HttpGetExtendedInterface(g_server, ctx, &ctx3);
            m_ctx = ctx;
            CHECK("IHttpContext3::PostCompletionEx",
                  ctx3 != NULL && ctx3->PostCompletion(11, post_routine, (LPOVERLAPPED)this) == S_OK);
            return RQ_NOTIFICATION_PENDING;
        }
        if (conf_is(ctx, "/context/async-post")) {
            m_async = true;
            CHECK("IHttpContext::PostCompletion", ctx->PostCompletion(7) == S_OK);
            return RQ_NOTIFICATION_PENDING;
        }
        if (conf_is(ctx, "/context/async-indicate")) {
            conf_reply(ctx, "indicated");
            std::thread([ctx]() { ctx->IndicateCompletion(RQ_NOTIFICATION_FINISH_REQUEST); }).detach();
            CHECK("IHttpContext::IndicateCompletion", true); // run.py checks the response
            return RQ_NOTIFICATION_PENDING;
        }
        if (conf_is(ctx, "/context/custom")) {
            CCustomProvider provider;
            BOOL expected = TRUE;
            m_custom = 0;
            CHECK("IHttpContext::NotifyCustomNotification",
                  ctx->NotifyCustomNotification(&provider, &expected) == S_OK && expected == FALSE);
            CHECK("IHttpContext::NotifyCustomNotification", m_custom == 1);
            return conf_reply(ctx, "custom");
        }
        if (conf_is(ctx, "/context/disable")) {
            m_disabled = true;
            ctx->DisableNotifications(RQ_PRE_EXECUTE_REQUEST_HANDLER, 0);
            return RQ_NOTIFICATION_CONTINUE; // the static file handler answers 404
        }
        if (conf_is(ctx, "/context/cache"))
            return cache_policy(ctx);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnPreExecuteRequestHandler(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (m_disabled)
            CHECK("IHttpContext::DisableNotifications", false);
        if (conf_is(ctx, "/context/file.txt")) {
            IScriptMapInfo *map = ctx->GetScriptMap();
            CHECK("IHttpContext::GetScriptMap", map != NULL);
            if (map != NULL)
                script_map(map);
            IHttpFileInfo *fi = ctx->GetFileInfo();
            CHECK("IHttpContext::GetFileInfo", fi != NULL);
            if (fi != NULL) {
                ULARGE_INTEGER size;
                size.QuadPart = 0;
                fi->GetSize(&size);
                CHECK("IHttpContext::GetFileInfo",
                      conf_wide_ends_with(fi->GetFilePath(), "/context/file.txt") && size.QuadPart == 10);
            }
        }
        if (conf_is(ctx, "/context/handled")) {
            ctx->SetRequestHandled();
            // documented: the handlers are done; the static file handler does not run (it would send the
            // file)
            CHECK("IHttpContext::SetRequestHandled", true);
            conf_write(ctx, "handled");
            return RQ_NOTIFICATION_CONTINUE;
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnEndRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (m_disabled)
            CHECK("IHttpContext::DisableNotifications", true);
        if (conf_is(ctx, "/context/basic")) {
            IHttpStoredContext *s = ctx->GetModuleContextContainer()->GetModuleContext(g_id);
            CHECK("IHttpModuleContextContainer::GetModuleContext",
                  s != NULL && ((ConfStoredContext *)s)->m_tag == 1);
            CHECK("IHttpContext::GetIsLastNotification",
                  ctx->GetIsLastNotification(RQ_NOTIFICATION_CONTINUE) == TRUE);
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnCustomRequestNotification(IHttpContext *ctx, ICustomNotificationProvider *p)
    {
        if (conf_is(ctx, "/context/custom")) {
            m_custom++;
            CHECK("IHttpContext::NotifyCustomNotification",
                  conf_wide_is(p->QueryNotificationType(), "conformance"));
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnAsyncCompletion(IHttpContext *ctx, DWORD notification, BOOL post,
                                                  IHttpEventProvider *, IHttpCompletionInfo *info)
    {
        if (m_pend) {
            m_pend = false;
            return conf_reply(ctx, "child-async");
        }
        if (m_child != NULL) {
            // the child has ended, its output is in this response already
            CHECK("IHttpContext::ExecuteRequest", notification == RQ_BEGIN_REQUEST && post == FALSE &&
                                                      info != NULL && info->GetCompletionStatus() == S_OK);
            m_child->ReleaseClonedContext();
            m_child = NULL;
            conf_write(ctx, "|parent");
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (!m_async)
            return RQ_NOTIFICATION_CONTINUE;
        CHECK("IHttpContext::PostCompletion", notification == RQ_BEGIN_REQUEST && post == FALSE);
        CHECK("IHttpCompletionInfo::GetCompletionBytes", info != NULL && info->GetCompletionBytes() == 7);
        CHECK("IHttpCompletionInfo::GetCompletionStatus",
              info != NULL && info->GetCompletionStatus() == S_OK);
        IHttpCompletionInfo2 *info2 = NULL;
        if (info != NULL)
            HttpGetExtendedInterface(g_server, info, &info2);
        // documented: "the number of bytes completed"
        CHECK("IHttpCompletionInfo2::GetCompletedOperation",
              info2 != NULL && info2->GetCompletedOperation() == 7);
        return conf_reply(ctx, "posted");
    }

  private:
    static void script_map(IScriptMapInfo *map)
    {
        CHECK("IScriptMapInfo::GetName", conf_wide_is(map->GetName(), "StaticFile"));
        CHECK("IScriptMapInfo::GetPath", conf_wide_is(map->GetPath(), "*"));
        CHECK("IScriptMapInfo::GetAllowedVerbs", eq(map->GetAllowedVerbs(), "*"));
        DWORD cch = 0;
        PCWSTR mods = map->GetModules(&cch);
        CHECK("IScriptMapInfo::GetModules",
              conf_wide_is(mods, "StaticFileModule,DefaultDocumentModule,DirectoryListingModule") &&
                  cch == wcslen(mods));
        cch = 99;
        PCWSTR sp = map->GetScriptProcessor(&cch);
        CHECK("IScriptMapInfo::GetScriptProcessor", cch == 0 && (sp == NULL || *sp == 0));
        cch = 99;
        PCWSTR mt = map->GetManagedType(&cch);
        CHECK("IScriptMapInfo::GetManagedType", cch == 0 && (mt == NULL || *mt == 0));
        CHECK("IScriptMapInfo::GetAllowPathInfoForScriptMappings",
              map->GetAllowPathInfoForScriptMappings() == FALSE);
        CHECK("IScriptMapInfo::GetRequiredAccess", map->GetRequiredAccess() == 1); // requireAccess="Read"
        CHECK("IScriptMapInfo::GetResourceType", map->GetResourceType() == 2);     // resourceType="Either"
        CHECK("IScriptMapInfo::GetIsStarScriptMap", map->GetIsStarScriptMap() == TRUE); // path="*"
        CHECK("IScriptMapInfo::GetResponseBufferLimit",
              map->GetResponseBufferLimit() == 4194304); // the default
    }

    static REQUEST_NOTIFICATION_STATUS cache_policy(IHttpContext *ctx)
    {
        IHttpCachePolicy *cp = ctx->GetResponse()->GetCachePolicy();
        CHECK("IHttpResponse::GetCachePolicy", cp != NULL);
        if (cp == NULL)
            return conf_reply(ctx, "no policy");
        HTTP_CACHE_POLICY *kp = cp->GetKernelCachePolicy();
        CHECK("IHttpCachePolicy::GetKernelCachePolicy", kp != NULL && kp == cp->GetKernelCachePolicy());
        HTTP_CACHE_POLICY *up = cp->GetUserCachePolicy();
        CHECK("IHttpCachePolicy::GetUserCachePolicy", up != NULL && up != kp);
        CHECK("IHttpCachePolicy::GetKernelCacheInvalidatorSet", cp->GetKernelCacheInvalidatorSet() == FALSE);
        cp->SetKernelCacheInvalidatorSet();
        CHECK("IHttpCachePolicy::SetKernelCacheInvalidatorSet", cp->GetKernelCacheInvalidatorSet() == TRUE);
        CHECK("IHttpCachePolicy::GetKernelCacheInvalidatorSet", cp->GetKernelCacheInvalidatorSet() == TRUE);

        CHECK("IHttpCachePolicy::GetVaryByHeaders",
              cp->GetVaryByHeaders() == NULL || *cp->GetVaryByHeaders() == 0);
        CHECK("IHttpCachePolicy::AppendVaryByHeader", cp->AppendVaryByHeader("Accept") == S_OK);
        CHECK("IHttpCachePolicy::AppendVaryByHeader", cp->AppendVaryByHeader("X-Conf") == S_OK);
        PCSTR v = cp->GetVaryByHeaders();
        CHECK("IHttpCachePolicy::GetVaryByHeaders", v != NULL && strstr(v, "Accept") && strstr(v, "X-Conf"));
        CHECK("IHttpCachePolicy::AppendVaryByQueryString", cp->AppendVaryByQueryString("a") == S_OK);
        CHECK("IHttpCachePolicy::AppendVaryByQueryString", cp->AppendVaryByQueryString("b") == S_OK);
        v = cp->GetVaryByQueryStrings();
        CHECK("IHttpCachePolicy::GetVaryByQueryStrings", v != NULL && strstr(v, "a") && strstr(v, "b"));
        CHECK("IHttpCachePolicy::SetVaryByValue", cp->SetVaryByValue("conf-value") == S_OK);
        CHECK("IHttpCachePolicy::GetVaryByValue", eq(cp->GetVaryByValue(), "conf-value"));

        CHECK("IHttpCachePolicy::IsCached", cp->IsCached() == FALSE);
        cp->SetIsCached();
        CHECK("IHttpCachePolicy::SetIsCached", cp->IsCached() == TRUE);
        CHECK("IHttpCachePolicy::IsCached", cp->IsCached() == TRUE);
        cp->DisableUserCache();
        CHECK("IHttpCachePolicy::DisableUserCache", cp->IsUserCacheEnabled() == FALSE);
        CHECK("IHttpCachePolicy::IsUserCacheEnabled", cp->IsUserCacheEnabled() == FALSE);

        IHttpCachePolicy2 *cp2 = NULL;
        HRESULT hr = HttpGetExtendedInterface(g_server, cp, &cp2);
        CHECK("IHttpCachePolicy2::IsForceUpdateSet",
              hr == S_OK && cp2 != NULL && cp2->IsForceUpdateSet() == FALSE);
        if (cp2 != NULL) {
            cp2->SetForceUpdate();
            CHECK("IHttpCachePolicy2::SetForceUpdate", cp2->IsForceUpdateSet() == TRUE);
            CHECK("IHttpCachePolicy2::IsForceUpdateSet", cp2->IsForceUpdateSet() == TRUE);
        }
        return conf_reply(ctx, "cache");
    }

  public:
    IHttpContext *m_ctx = NULL;

  private:
    bool m_async = false;
    bool m_pend = false;          // /context/child-pend: a child that pends
    IHttpContext *m_child = NULL; // /context/child-async: the child it waits for
    bool m_disabled = false;
    int m_custom = 0;
};

// PostCompletionEx's routine: called instead of OnAsyncCompletion with the bytes and the context given.
VOID WINAPI post_routine(DWORD err, DWORD bytes, LPOVERLAPPED ov)
{
    CContextModule *m = (CContextModule *)ov;
    CHECK("IHttpContext3::PostCompletionEx",
          err == ERROR_SUCCESS && bytes == 11 && m != NULL && m->m_ctx != NULL);
    if (m == NULL || m->m_ctx == NULL)
        return;
    conf_reply(m->m_ctx, "routine");
    m->m_ctx->IndicateCompletion(RQ_NOTIFICATION_FINISH_REQUEST);
}

class CContextFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *alloc)
    {
        void *mem = alloc != NULL ? alloc->AllocateMemory(16) : NULL;
        CHECK("IModuleAllocator::AllocateMemory", mem != NULL);
        if (mem != NULL)
            memset(mem, 0, 16);
        *ppModule = new CContextModule();
        return S_OK;
    }
    VOID Terminate() { delete this; }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    g_id = info->GetId();
    g_server = server;
    return info->SetRequestNotifications(
        new CContextFactory(),
        RQ_BEGIN_REQUEST | RQ_PRE_EXECUTE_REQUEST_HANDLER | RQ_END_REQUEST | RQ_CUSTOM_NOTIFICATION, 0);
}
