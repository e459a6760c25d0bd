// providers.cpp - conformance checks for the request-level providers:
// IHttpEventProvider, IAuthenticationProvider, IMapHandlerProvider, IMapPathProvider,
// ISendResponseProvider, IReadEntityProvider; and the module-supplied IHttpUser and
// IScriptMapInfo they accept.
//
// Requests (sent by run.py): /providers/event, /providers/auth, /providers/maphandler,
// /providers/mappath/x.txt (mapped to <root>/real.txt), /providers/send,
// POST /providers/read (body "abcdef", replaced by "XYZ").
#include "conformance.h"

#include <string>

namespace
{

bool eq(PCSTR a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

// A user an authentication module hands to the server.
class CConfUser : public IHttpUser
{
  public:
    PCWSTR GetRemoteUserName() { return L"conf-user"; }
    PCWSTR GetUserName() { return L"conf-user"; }
    PCWSTR GetAuthenticationType() { return L"Conformance"; }
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

CConfUser g_user;

// A handler mapping a module hands to the server: this module handles the request.
class CConfScriptMap : public IScriptMapInfo
{
  public:
    PCWSTR GetPath() const { return L"/providers/maphandler"; }
    PCSTR GetAllowedVerbs() const { return "GET"; }
    PCWSTR GetModules(DWORD *pcch) const
    {
        if (pcch)
            *pcch = 13;
        return L"ConfProviders";
    }
    PCWSTR GetScriptProcessor(DWORD *pcch) const
    {
        if (pcch)
            *pcch = 0;
        return L"";
    }
    PCWSTR GetManagedType(DWORD *pcch) const
    {
        if (pcch)
            *pcch = 0;
        return L"";
    }
    BOOL GetAllowPathInfoForScriptMappings() const { return FALSE; }
    DWORD GetRequiredAccess() const { return 0; }
    DWORD GetResourceType() const { return 3; }
    BOOL GetIsStarScriptMap() const { return FALSE; }
    DWORD GetResponseBufferLimit() const { return 4194304; }
    PCWSTR GetName() const { return L"ConformanceHandler"; }
};

CConfScriptMap g_map;

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

char g_replacement[] = "XYZ";

class CProvidersModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *ctx, IHttpEventProvider *p)
    {
        if (conf_is(ctx, "/providers/event")) {
            p->SetErrorStatus(HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED));
            USHORT status = 0, sub = 0, cch = 0;
            PCSTR reason = NULL;
            HRESULT hr = S_OK;
            ctx->GetResponse()->GetStatus(&status, &sub, &reason, &cch, &hr);
            // the error is the request's, reported with its status
            CHECK("IHttpEventProvider::SetErrorStatus", hr == HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED));
            return conf_reply(ctx, "event");
        }
        if (conf_is(ctx, "/providers/send"))
            return conf_reply(ctx, "sent");
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnAuthenticateRequest(IHttpContext *ctx, IAuthenticationProvider *p)
    {
        if (conf_is(ctx, "/providers/auth")) {
            int before = g_user.Refs();
            p->SetUser(&g_user);
            // the server keeps a reference for the request
            CHECK("IAuthenticationProvider::SetUser", g_user.Refs() == before + 1);
            CHECK("IAuthenticationProvider::SetUser", ctx->GetUser() == &g_user);
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnAuthorizeRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (conf_is(ctx, "/providers/anonymous")) {
            // anonymous authentication gives every request a user: no name, no password
            IHttpUser *u = ctx->GetUser();
            CHECK("IHttpUser::GetUserName", u != NULL && conf_wide_is(u->GetUserName(), ""));
            if (u == NULL)
                return conf_reply(ctx, "no user");
            CHECK("IHttpUser::GetRemoteUserName", conf_wide_is(u->GetRemoteUserName(), ""));
            CHECK("IHttpUser::GetPassword", conf_wide_is(u->GetPassword(), ""));
            CHECK("IHttpUser::GetAuthenticationType", u->GetAuthenticationType() != NULL);
            u->ReferenceUser();
            u->DereferenceUser();
            CHECK("IHttpUser::ReferenceUser", ctx->GetUser() == u); // still the request's
            CHECK("IHttpUser::DereferenceUser", conf_wide_is(u->GetUserName(), ""));
            BOOL in = TRUE;
            HRESULT hr = u->IsInRole(L"Administrators", &in);
            // the anonymous user is in no role (or cannot say)
            CHECK("IHttpUser::IsInRole", SUCCEEDED(hr) ? in == FALSE : u->SupportsIsInRole() == FALSE);
            return conf_reply(ctx, "anonymous");
        }
        if (!conf_is(ctx, "/providers/auth"))
            return RQ_NOTIFICATION_CONTINUE;
        IHttpUser *u = ctx->GetUser();
        CHECK("IHttpContext::GetUser", u == &g_user);
        PCSTR v = NULL;
        DWORD n = 0;
        CHECK("IAuthenticationProvider::SetUser",
              ctx->GetServerVariable("REMOTE_USER", &v, &n) == S_OK && eq(v, "conf-user"));
        CHECK("IAuthenticationProvider::SetUser",
              ctx->GetServerVariable("AUTH_TYPE", &v, &n) == S_OK && eq(v, "Conformance"));
        std::string body = "user ";
        for (PCWSTR w = u ? u->GetUserName() : L"-"; *w; w++)
            body += (char)*w;
        return conf_reply(ctx, body.c_str());
    }

    REQUEST_NOTIFICATION_STATUS OnMapRequestHandler(IHttpContext *ctx, IMapHandlerProvider *p)
    {
        if (!conf_is(ctx, "/providers/maphandler"))
            return RQ_NOTIFICATION_CONTINUE;
        // documented as not supported
        CHECK("IMapHandlerProvider::SetScriptName", FAILED(p->SetScriptName(L"/elsewhere", 10)));
        p->SetScriptMap(&g_map);
        CHECK("IMapHandlerProvider::SetScriptMap", ctx->GetScriptMap() == &g_map);
        IHttpFileInfo *fi = NULL;
        std::wstring path = site_root() + L"/file.txt";
        IHttpServer *server = g_server;
        if (server != NULL && server->GetFileInfo(path.c_str(), NULL, NULL, NULL, NULL, TRUE, &fi) == S_OK) {
            p->SetFileInfo(fi); // documented as not supported: the request goes on
            CHECK("IMapHandlerProvider::SetFileInfo", ctx->GetScriptMap() == &g_map);
            fi->DereferenceCacheData();
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnExecuteRequestHandler(IHttpContext *ctx, IHttpEventProvider *)
    {
        // runs only as the handler chosen by CConfScriptMap
        if (conf_is(ctx, "/providers/maphandler")) {
            CHECK("IMapHandlerProvider::SetScriptMap", ctx->GetScriptMap() == &g_map);
            return conf_reply(ctx, "mapped");
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnMapPath(IHttpContext *, IMapPathProvider *p)
    {
        PCWSTR url = p->GetUrl();
        if (!conf_wide_is(url, "/providers/mappath/x.txt"))
            return RQ_NOTIFICATION_CONTINUE;
        CHECK("IMapPathProvider::GetUrl", true);
        PCWSTR phys = p->GetPhysicalPath();
        std::wstring root = site_root();
        CHECK("IMapPathProvider::GetPhysicalPath", phys != NULL &&
                                                       wcsncmp(phys, root.c_str(), root.size()) == 0 &&
                                                       conf_wide_ends_with(phys, "/providers/mappath/x.txt"));
        std::wstring real = root + L"/real.txt";
        CHECK("IMapPathProvider::SetPhysicalPath",
              p->SetPhysicalPath(real.c_str(), (DWORD)real.size()) == S_OK);
        CHECK("IMapPathProvider::SetPhysicalPath", conf_wide_eq(p->GetPhysicalPath(), real.c_str()));
        CHECK("IMapPathProvider::GetPhysicalPath", conf_wide_eq(p->GetPhysicalPath(), real.c_str()));
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnSendResponse(IHttpContext *ctx, ISendResponseProvider *p)
    {
        if (!conf_is(ctx, "/providers/send"))
            return RQ_NOTIFICATION_CONTINUE;
        CHECK("ISendResponseProvider::GetHeadersBeingSent", p->GetHeadersBeingSent() == TRUE);
        // one buffered response: this send is the last one
        CHECK("ISendResponseProvider::GetReadyToLogData", p->GetReadyToLogData() == TRUE);
        DWORD flags = p->GetFlags();
        CHECK("ISendResponseProvider::GetFlags", (flags & HTTP_SEND_RESPONSE_FLAG_DISCONNECT) == 0);
        p->SetFlags(flags | HTTP_SEND_RESPONSE_FLAG_DISCONNECT);
        CHECK("ISendResponseProvider::SetFlags",
              p->GetFlags() == (flags | HTTP_SEND_RESPONSE_FLAG_DISCONNECT));
        CHECK("ISendResponseProvider::GetFlags",
              p->GetFlags() == (flags | HTTP_SEND_RESPONSE_FLAG_DISCONNECT));
        log_data(p);
        return RQ_NOTIFICATION_CONTINUE;
    }

    // The module registers RQ_SEND_RESPONSE at PRIORITY_ALIAS_HIGH, which GetLogData requires.
    static void log_data(ISendResponseProvider *p)
    {
        HTTP_LOG_FIELDS_DATA *d = (HTTP_LOG_FIELDS_DATA *)p->GetLogData();
        CHECK("ISendResponseProvider::GetLogData", d != NULL && d->Base.Type == HttpLogDataTypeFields);
        if (d == NULL)
            return;
        CHECK("ISendResponseProvider::GetLogData", d->UriStem != NULL &&
                                                       d->UriStemLength == 15 * sizeof(WCHAR) &&
                                                       wcsncmp(d->UriStem, L"/providers/send", 15) == 0);
        CHECK("ISendResponseProvider::GetLogData", d->Method != NULL && d->MethodLength == 3 &&
                                                       memcmp(d->Method, "GET", 3) == 0 &&
                                                       d->MethodNum == HttpVerbGET);
        CHECK("ISendResponseProvider::GetLogData",
              d->ClientIp != NULL && d->ClientIpLength == 9 && memcmp(d->ClientIp, "127.0.0.1", 9) == 0);
        CHECK("ISendResponseProvider::GetLogData",
              d->ProtocolStatus == 200 && d->SubStatus == 0 && d->Win32Status == 0 && d->ServerPort != 0);
        CHECK("ISendResponseProvider::GetLogData", p->GetLogData() == &d->Base);
        // the documentation's example: change the server port in the record and set it back
        HTTP_LOG_FIELDS_DATA copy = *d;
        copy.ServerPort = 8123;
        CHECK("ISendResponseProvider::SetLogData", p->SetLogData(&copy.Base) == S_OK);
        HTTP_LOG_FIELDS_DATA *now = (HTTP_LOG_FIELDS_DATA *)p->GetLogData();
        CHECK("ISendResponseProvider::SetLogData", now != NULL && now->ServerPort == 8123 &&
                                                       now->MethodLength == 3 &&
                                                       memcmp(now->Method, "GET", 3) == 0);
    }

    REQUEST_NOTIFICATION_STATUS OnReadEntity(IHttpContext *ctx, IReadEntityProvider *p)
    {
        if (!conf_is(ctx, "/providers/read"))
            return RQ_NOTIFICATION_CONTINUE;
        PVOID buf = NULL;
        DWORD data = 0, cap = 0;
        p->GetEntity(&buf, &data, &cap);
        CHECK("IReadEntityProvider::GetEntity",
              buf != NULL && data == 6 && cap >= 6 && memcmp(buf, "abcdef", 6) == 0);
        p->SetEntity(g_replacement, 3, 3);
        p->GetEntity(&buf, &data, &cap);
        CHECK("IReadEntityProvider::SetEntity", buf == g_replacement && data == 3 && cap == 3);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnPreExecuteRequestHandler(IHttpContext *ctx, IHttpEventProvider *)
    {
        if (!conf_is(ctx, "/providers/read"))
            return RQ_NOTIFICATION_CONTINUE;
        char buf[64];
        DWORD got = 0;
        std::string body = "read ";
        while (SUCCEEDED(ctx->GetRequest()->ReadEntityBody(buf, sizeof(buf), FALSE, &got, NULL)) && got > 0)
            body.append(buf, got);
        return conf_reply(ctx, body.c_str());
    }

    static IHttpServer *g_server;
};

IHttpServer *CProvidersModule::g_server;

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    CProvidersModule::g_server = server;
    HRESULT hr =
        info->SetRequestNotifications(new ConfFactory<CProvidersModule>(),
                                      RQ_BEGIN_REQUEST | RQ_AUTHENTICATE_REQUEST | RQ_AUTHORIZE_REQUEST |
                                          RQ_MAP_REQUEST_HANDLER | RQ_EXECUTE_REQUEST_HANDLER | RQ_MAP_PATH |
                                          RQ_SEND_RESPONSE | RQ_READ_ENTITY | RQ_PRE_EXECUTE_REQUEST_HANDLER,
                                      0);
    if (SUCCEEDED(hr)) // GetLogData answers FIRST and HIGH modules only
        hr = info->SetPriorityForRequestNotification(RQ_SEND_RESPONSE, PRIORITY_ALIAS_HIGH);
    return hr;
}
