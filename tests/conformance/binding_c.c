/*
 * binding_c.c - the C binding (p->lpVtbl->Method(p, ...)) of every server interface.
 *
 * Each check calls at least one method of one interface through its C vtable and
 * asserts the documented result; the C++ modules of this suite check the methods
 * one by one. Requests (sent by run.py): GET /c/binding?x=1 with X-Conf: c,
 * POST /c/read (body "abc"), GET /c/trace, GET /c/async; the global module sees the rest.
 */
#include "conformance.h"

#include <wchar.h>

static HTTP_MODULE_ID g_id;
static IHttpServer *g_server;
static IHttpServer2 *g_server2;

/* {0A3F1B6E-77C1-4F0B-8E55-1C0FFEE0C0DE}: the C module's trace provider */
static const GUID kCProvider = {0x0a3f1b6e, 0x77c1, 0x4f0b, {0x8e, 0x55, 0x1c, 0x0f, 0xfe, 0xe0, 0xc0, 0xde}};

static int is_path(IHttpContext *ctx, const wchar_t *path)
{
    PCWSTR name = ctx->lpVtbl->GetScriptName(ctx, NULL);
    return name != NULL && wcscmp(name, path) == 0;
}

static void *extended(const GUID *have, void *p, const GUID *want)
{
    void *out = NULL;
    if (g_server2 == NULL ||
        FAILED(g_server2->lpVtbl->GetExtendedInterfaceByGuid(g_server2, have, p, want, &out)))
        return NULL;
    return out;
}

/* ---- a stored context -------------------------------------------------- */

static VOID stored_cleanup(IHttpStoredContext *This)
{
    free(This);
}

static const IHttpStoredContextVtbl stored_vtbl = {.CleanupStoredContext = stored_cleanup};

static IHttpStoredContext *new_stored(void)
{
    IHttpStoredContext *s = malloc(sizeof(*s));
    if (s != NULL)
        s->lpVtbl = &stored_vtbl;
    return s;
}

/* ---- a user an authentication module supplies --------------------------- */

static int c_user_refs;

static PCWSTR user_name(IHttpUser *This)
{
    (void)This;
    return L"c-user";
}

static HANDLE user_no_token(IHttpUser *This)
{
    (void)This;
    return NULL;
}

static VOID user_ref(IHttpUser *This)
{
    (void)This;
    __atomic_add_fetch(&c_user_refs, 1, __ATOMIC_SEQ_CST);
}

static VOID user_deref(IHttpUser *This)
{
    (void)This;
    __atomic_sub_fetch(&c_user_refs, 1, __ATOMIC_SEQ_CST);
}

static BOOL user_no_roles(IHttpUser *This)
{
    (void)This;
    return FALSE;
}

static HRESULT user_is_in_role(IHttpUser *This, PCWSTR role, BOOL *pf)
{
    (void)This, (void)role;
    *pf = FALSE;
    return S_OK;
}

static PVOID user_variable(IHttpUser *This, PCSTR name)
{
    (void)This, (void)name;
    return NULL;
}

static const IHttpUserVtbl c_user_vtbl = {.GetRemoteUserName = user_name,
                                          .GetUserName = user_name,
                                          .GetAuthenticationType = user_name,
                                          .GetPassword = user_name,
                                          .GetImpersonationToken = user_no_token,
                                          .GetPrimaryToken = user_no_token,
                                          .ReferenceUser = user_ref,
                                          .DereferenceUser = user_deref,
                                          .SupportsIsInRole = user_no_roles,
                                          .IsInRole = user_is_in_role,
                                          .GetUserVariable = user_variable};
static IHttpUser c_user = {&c_user_vtbl};

/* ---- the request module ------------------------------------------------ */

static void write_text(IHttpContext *ctx, const char *text)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    DWORD n = (DWORD)strlen(text);
    char *copy = ctx->lpVtbl->AllocateRequestMemory(ctx, n);
    if (copy == NULL)
        return;
    memcpy(copy, text, n);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = copy;
    chunk.FromMemory.BufferLength = n;
    DWORD sent = 0;
    resp->lpVtbl->WriteEntityChunks(resp, &chunk, 1, FALSE, TRUE, &sent, NULL);
}

static void binding_request(IHttpContext *ctx)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    USHORT len = 0;
    PCSTR v = req->lpVtbl->GetHeaderByName(req, "X-Conf", &len);
    CHECK("IHttpRequest::GetHeaderByName", v != NULL && strcmp(v, "c") == 0 && len == 1);
    CHECK("IHttpRequest::GetHttpMethod", strcmp(req->lpVtbl->GetHttpMethod(req), "GET") == 0);
    CHECK("IHttpRequest::GetSiteId", req->lpVtbl->GetSiteId(req) == 1);

    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    CHECK("IHttpResponse::SetStatus", resp->lpVtbl->SetStatus(resp, 200, "OK", 0, S_OK, NULL, FALSE) == S_OK);
    CHECK("IHttpResponse::SetHeaderByName",
          resp->lpVtbl->SetHeaderByName(resp, "X-C-Binding", "yes", 3, TRUE) == S_OK);
    CHECK("IHttpResponse::GetHeaderByName",
          strcmp(resp->lpVtbl->GetHeaderByName(resp, "X-C-Binding", NULL), "yes") == 0);

    IHttpCachePolicy *cp = resp->lpVtbl->GetCachePolicy(resp);
    CHECK("IHttpCachePolicy::AppendVaryByHeader",
          cp != NULL && cp->lpVtbl->AppendVaryByHeader(cp, "X-Conf") == S_OK);
    IHttpCachePolicy2 *cp2 = extended(&IID_IHttpCachePolicy, cp, &IID_IHttpCachePolicy2);
    CHECK("IHttpCachePolicy2::IsForceUpdateSet", cp2 != NULL && cp2->lpVtbl->IsForceUpdateSet(cp2) == FALSE);

    PCSTR method = NULL;
    DWORD n = 0;
    CHECK("IHttpContext::GetServerVariableA",
          ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &method, &n) == S_OK &&
              strcmp(method, "x=1") == 0);
    IHttpContext4 *ctx4 = extended(&IID_IHttpContext, ctx, &IID_IHttpContext4);
    CHECK("IHttpContext4::GetRequestElapsedTime",
          ctx4 != NULL && ctx4->lpVtbl->GetRequestElapsedTime(ctx4) < 60000);
    IHttpContext2 *ctx2 = extended(&IID_IHttpContext, ctx, &IID_IHttpContext2);
    CHECK("IHttpContext2::GetOriginalUser", ctx2 != NULL && ctx2->lpVtbl->GetOriginalUser(ctx2) == NULL);

    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    CHECK("IHttpSite::GetSiteId", site->lpVtbl->GetSiteId(site) == 1);
    IHttpApplication *app = ctx->lpVtbl->GetApplication(ctx);
    CHECK("IHttpApplication::GetApplicationId",
          conf_wide_is(app->lpVtbl->GetApplicationId(app), "/LM/W3SVC/1/ROOT"));
    IHttpApplication2 *app2 = extended(&IID_IHttpApplication, app, &IID_IHttpApplication2);
    CHECK("IHttpApplication2::QueryIsWarmingUp",
          app2 != NULL && app2->lpVtbl->QueryIsWarmingUp(app2) == FALSE);
    IHttpConnection *conn = ctx->lpVtbl->GetConnection(ctx);
    CHECK("IHttpConnection::IsConnected", conn->lpVtbl->IsConnected(conn) == TRUE);
    IMetadataInfo *meta = ctx->lpVtbl->GetMetadata(ctx);
    CHECK("IMetadataInfo::GetMetaPath", meta != NULL && meta->lpVtbl->GetMetaPath(meta) != NULL);

    IHttpModuleContextContainer *mcc = ctx->lpVtbl->GetModuleContextContainer(ctx);
    IHttpStoredContext *stored = new_stored();
    CHECK("IHttpModuleContextContainer::SetModuleContext",
          mcc->lpVtbl->SetModuleContext(mcc, stored, g_id) == S_OK);
    CHECK("IHttpModuleContextContainer::GetModuleContext",
          mcc->lpVtbl->GetModuleContext(mcc, g_id) == stored);

    IHttpTraceContext *tc = ctx->lpVtbl->GetTraceContext(ctx);
    CHECK("IHttpTraceContext::GetTraceActivityId", tc != NULL && tc->lpVtbl->GetTraceActivityId(tc) != NULL);

    /* IHttpServer, IDispensedHttpModuleContextContainer, IHttpFileInfo */
    CHECK("IHttpServer::IsCommandLineLaunch", g_server->lpVtbl->IsCommandLineLaunch(g_server) == TRUE);
    IDispensedHttpModuleContextContainer *box = g_server->lpVtbl->DispenseContainer(g_server);
    CHECK("IDispensedHttpModuleContextContainer::ReleaseContainer", box != NULL);
    if (box != NULL)
        box->lpVtbl->ReleaseContainer(box);
    WCHAR path[512];
    DWORD cb = sizeof(path);
    CHECK("IHttpContext::MapPath", ctx->lpVtbl->MapPath(ctx, L"/c/mapped", path, &cb) == S_OK &&
                                       conf_wide_ends_with(path, "/c/mapped"));
    cb = sizeof(path);
    CHECK("IHttpContext::MapPath", ctx->lpVtbl->MapPath(ctx, L"/file.txt", path, &cb) == S_OK);
    IHttpFileInfo *fi = NULL;
    HRESULT hr = g_server->lpVtbl->GetFileInfo(g_server, path, NULL, NULL, NULL, NULL, TRUE, &fi, NULL);
    CHECK("IHttpServer::GetFileInfo", hr == S_OK && fi != NULL);
    if (fi != NULL) {
        ULARGE_INTEGER size;
        size.QuadPart = 0;
        fi->lpVtbl->GetSize(fi, &size);
        CHECK("IHttpFileInfo::GetSize", size.QuadPart == 10);
        fi->lpVtbl->DereferenceCacheData(fi);
    }
    write_text(ctx, "c binding");
}

static REQUEST_NOTIFICATION_STATUS c_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    if (is_path(ctx, L"/c/binding")) {
        p->lpVtbl->SetErrorStatus(p, S_OK);
        CHECK("IHttpEventProvider::SetErrorStatus", 1);
        binding_request(ctx);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    if (is_path(ctx, L"/c/async")) {
        CHECK("IHttpContext::PostCompletion", ctx->lpVtbl->PostCompletion(ctx, 5) == S_OK);
        return RQ_NOTIFICATION_PENDING;
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_authenticate(CHttpModule *This, IHttpContext *ctx,
                                                  IAuthenticationProvider *p)
{
    (void)This;
    if (is_path(ctx, L"/c/read")) {
        p->lpVtbl->SetUser(p, &c_user);
        CHECK("IAuthenticationProvider::SetUser", ctx->lpVtbl->GetUser(ctx) == &c_user && c_user_refs > 0);
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_map_handler(CHttpModule *This, IHttpContext *ctx, IMapHandlerProvider *p)
{
    (void)This;
    if (is_path(ctx, L"/c/read"))
        CHECK("IMapHandlerProvider::SetScriptName", FAILED(p->lpVtbl->SetScriptName(p, L"/x", 2)));
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_map_path(CHttpModule *This, IHttpContext *ctx, IMapPathProvider *p)
{
    (void)This, (void)ctx;
    PCWSTR url = p->lpVtbl->GetUrl(p);
    if (url != NULL && wcscmp(url, L"/c/mapped") == 0)
        CHECK("IMapPathProvider::GetPhysicalPath",
              conf_wide_ends_with(p->lpVtbl->GetPhysicalPath(p), "/c/mapped"));
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_read_entity(CHttpModule *This, IHttpContext *ctx, IReadEntityProvider *p)
{
    (void)This;
    if (is_path(ctx, L"/c/read")) {
        PVOID buf = NULL;
        DWORD data = 0, cap = 0;
        p->lpVtbl->GetEntity(p, &buf, &data, &cap);
        CHECK("IReadEntityProvider::GetEntity", buf != NULL && data == 3 && memcmp(buf, "abc", 3) == 0);
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_pre_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    if (is_path(ctx, L"/c/read")) {
        IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
        char buf[16];
        DWORD got = 0;
        CHECK("IHttpRequest::ReadEntityBody",
              req->lpVtbl->ReadEntityBody(req, buf, sizeof(buf), FALSE, &got, NULL) == S_OK && got == 3);
        IScriptMapInfo *map = ctx->lpVtbl->GetScriptMap(ctx);
        CHECK("IScriptMapInfo::GetName",
              map != NULL && conf_wide_is(map->lpVtbl->GetName(map), "StaticFile"));
        write_text(ctx, "c read");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    if (is_path(ctx, L"/c/trace")) {
        IHttpTraceContext *tc = ctx->lpVtbl->GetTraceContext(ctx);
        HTTP_TRACE_CONFIGURATION sub = {&kCProvider, 0, 0, TRUE};
        CHECK("IHttpTraceContext::SetTraceConfiguration",
              tc->lpVtbl->SetTraceConfiguration(tc, g_id, &sub, 1) == S_OK);
        HTTP_TRACE_EVENT ev;
        memset(&ev, 0, sizeof(ev));
        ev.pProviderGuid = &kCProvider;
        ev.dwEvent = 7;
        ev.dwVerbosity = TRACE_LEVEL_INFORMATION;
        CHECK("IHttpTraceContext::RaiseTraceEvent", tc->lpVtbl->RaiseTraceEvent(tc, &ev) == S_OK);
        write_text(ctx, "c trace");
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_send(CHttpModule *This, IHttpContext *ctx, ISendResponseProvider *p)
{
    (void)This;
    if (is_path(ctx, L"/c/binding")) {
        CHECK("ISendResponseProvider::GetHeadersBeingSent", p->lpVtbl->GetHeadersBeingSent(p) == TRUE);
        /* documented: a module below PRIORITY_ALIAS_HIGH (this one is MEDIUM) always gets NULL */
        if (p->lpVtbl->GetReadyToLogData(p))
            CHECK("ISendResponseProvider::GetLogData", p->lpVtbl->GetLogData(p) == NULL);
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_ignore(CHttpModule *This, IHttpContext *c, IHttpEventProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_ignore_custom(CHttpModule *This, IHttpContext *c,
                                                   ICustomNotificationProvider *p)
{
    (void)This, (void)c, (void)p;
    return RQ_NOTIFICATION_CONTINUE;
}

static REQUEST_NOTIFICATION_STATUS c_async(CHttpModule *This, IHttpContext *ctx, DWORD n, BOOL post,
                                           IHttpEventProvider *p, IHttpCompletionInfo *info)
{
    (void)This, (void)n, (void)post, (void)p;
    if (!is_path(ctx, L"/c/async"))
        return RQ_NOTIFICATION_CONTINUE;
    CHECK("IHttpCompletionInfo::GetCompletionBytes", info->lpVtbl->GetCompletionBytes(info) == 5);
    CHECK("IHttpCompletionInfo::GetCompletionStatus", info->lpVtbl->GetCompletionStatus(info) == S_OK);
    IHttpCompletionInfo2 *info2 = extended(&IID_IHttpCompletionInfo, info, &IID_IHttpCompletionInfo2);
    CHECK("IHttpCompletionInfo2::GetCompletedOperation",
          info2 != NULL && info2->lpVtbl->GetCompletedOperation(info2) == 5);
    /* an HTTP/1.1 connection has no server push */
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    IHttpResponse3 *resp3 = extended(&IID_IHttpResponse, resp, &IID_IHttpResponse3);
    CHECK("IHttpResponse3::PushPromise",
          resp3 != NULL && resp3->lpVtbl->PushPromise(resp3, "GET", L"/c/pushed", NULL, 0, NULL, NULL) ==
                               HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));
    write_text(ctx, "c async");
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static VOID c_dispose(CHttpModule *This)
{
    free(This);
}

static const CHttpModuleVtbl c_module_vtbl = {
    .OnBeginRequest = c_begin,
    .OnPostBeginRequest = c_ignore,
    .OnAuthenticateRequest = c_authenticate,
    .OnPostAuthenticateRequest = c_ignore,
    .OnAuthorizeRequest = c_ignore,
    .OnPostAuthorizeRequest = c_ignore,
    .OnResolveRequestCache = c_ignore,
    .OnPostResolveRequestCache = c_ignore,
    .OnMapRequestHandler = c_map_handler,
    .OnPostMapRequestHandler = c_ignore,
    .OnAcquireRequestState = c_ignore,
    .OnPostAcquireRequestState = c_ignore,
    .OnPreExecuteRequestHandler = c_pre_execute,
    .OnPostPreExecuteRequestHandler = c_ignore,
    .OnExecuteRequestHandler = c_ignore,
    .OnPostExecuteRequestHandler = c_ignore,
    .OnReleaseRequestState = c_ignore,
    .OnPostReleaseRequestState = c_ignore,
    .OnUpdateRequestCache = c_ignore,
    .OnPostUpdateRequestCache = c_ignore,
    .OnLogRequest = c_ignore,
    .OnPostLogRequest = c_ignore,
    .OnEndRequest = c_ignore,
    .OnPostEndRequest = c_ignore,
    .OnSendResponse = c_send,
    .OnMapPath = c_map_path,
    .OnReadEntity = c_read_entity,
    .OnCustomRequestNotification = c_ignore_custom,
    .OnAsyncCompletion = c_async,
    .Dispose = c_dispose,
};

static HRESULT c_get_module(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    /* the allocator's memory lives as long as the request; the module object itself is malloc'ed */
    void *scratch = alloc->lpVtbl->AllocateMemory(alloc, 8);
    CHECK("IModuleAllocator::AllocateMemory", scratch != NULL);
    CHttpModule *m = malloc(sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->lpVtbl = &c_module_vtbl;
    *pp = m;
    return S_OK;
}

static VOID c_terminate_factory(IHttpModuleFactory *This)
{
    (void)This;
}

static const IHttpModuleFactoryVtbl c_factory_vtbl = {.GetHttpModule = c_get_module,
                                                      .Terminate = c_terminate_factory};
static IHttpModuleFactory c_factory = {&c_factory_vtbl};

/* ---- the global module ------------------------------------------------- */

static int g_stop_checked;

static GLOBAL_NOTIFICATION_STATUS c_stop_listening(CGlobalModule *This, IGlobalStopListeningProvider *p)
{
    (void)This;
    if (!g_stop_checked++)
        CHECK("IGlobalStopListeningProvider::DrainRequestsGracefully",
              p->lpVtbl->DrainRequestsGracefully(p) == TRUE);
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS c_config_change(CGlobalModule *This, IGlobalConfigurationChangeProvider *p)
{
    (void)This;
    PCWSTR path = p->lpVtbl->GetChangePath(p);
    if (path != NULL && wcsstr(path, L"c-binding") != NULL)
        CHECK("IGlobalConfigurationChangeProvider::GetChangePath", conf_wide_ends_with(path, "c-binding"));
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS c_file_change(CGlobalModule *This, IGlobalFileChangeProvider *p)
{
    (void)This;
    PCWSTR name = p->lpVtbl->GetFileName(p);
    if (name != NULL && wcsstr(name, L"c-binding") != NULL)
        CHECK("IGlobalFileChangeProvider::GetFileName", conf_wide_ends_with(name, "c-binding"));
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS c_pre_begin(CGlobalModule *This, IPreBeginRequestProvider *p)
{
    (void)This;
    IHttpContext *ctx = p->lpVtbl->GetHttpContext(p);
    if (ctx != NULL && is_path(ctx, L"/c/binding")) {
        CHECK("IPreBeginRequestProvider::GetHttpContext", 1);
        /* the C module raises the two global change notifications it listens to */
        g_server->lpVtbl->NotifyConfigurationChange(g_server, L"MACHINE/WEBROOT/APPHOST/c-binding");
        g_server->lpVtbl->NotifyFileChange(g_server, L"/conformance/c-binding");
    }
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS c_trace_event(CGlobalModule *This, IGlobalTraceEventProvider *p)
{
    (void)This;
    HTTP_TRACE_EVENT *ev = NULL;
    if (p->lpVtbl->GetTraceEvent(p, &ev) != S_OK || ev == NULL || ev->pProviderGuid == NULL ||
        !IsEqualGUID(ev->pProviderGuid, &kCProvider))
        return GL_NOTIFICATION_CONTINUE;
    CHECK("IGlobalTraceEventProvider::GetTraceEvent", ev->dwEvent == 7);
    CHECK("IGlobalTraceEventProvider::CheckSubscription", p->lpVtbl->CheckSubscription(p, g_id) == TRUE);
    IHttpContext *ctx = NULL;
    CHECK("IGlobalTraceEventProvider::GetCurrentHttpRequestContext",
          p->lpVtbl->GetCurrentHttpRequestContext(p, &ctx) == S_OK && ctx != NULL &&
              is_path(ctx, L"/c/trace"));
    return GL_NOTIFICATION_CONTINUE;
}

static VOID c_terminate_global(CGlobalModule *This)
{
    (void)This;
}

static const CGlobalModuleVtbl c_global_vtbl = {
    .OnGlobalStopListening = c_stop_listening,
    .OnGlobalConfigurationChange = c_config_change,
    .OnGlobalFileChange = c_file_change,
    .OnGlobalPreBeginRequest = c_pre_begin,
    .OnGlobalTraceEvent = c_trace_event,
    .Terminate = c_terminate_global,
};
static CGlobalModule c_global = {&c_global_vtbl};

HRESULT __stdcall RegisterModule(DWORD version, IHttpModuleRegistrationInfo *info, IHttpServer *server)
{
    (void)version;
    g_server = server;
    g_id = info->lpVtbl->GetId(info);
    CHECK("IHttpModuleRegistrationInfo::GetName", conf_wide_is(info->lpVtbl->GetName(info), "ConfBindingC"));
    CHECK("IHttpServer::GetExtendedInterface",
          server->lpVtbl->GetExtendedInterface(server, HTTP_SERVER_INTERFACE_V2, (PVOID *)&g_server2) ==
              S_OK);
    void *same = NULL;
    CHECK("IHttpServer2::GetExtendedInterfaceByGuid",
          g_server2 != NULL &&
              g_server2->lpVtbl->GetExtendedInterfaceByGuid(g_server2, &IID_IHttpServer, server,
                                                            &IID_IHttpServer2, &same) == S_OK &&
              same == (void *)g_server2);
    IHttpModuleRegistrationInfo2 *info2 =
        extended(&IID_IHttpModuleRegistrationInfo, info, &IID_IHttpModuleRegistrationInfo2);
    CHECK("IHttpModuleRegistrationInfo2::SetPriorityForPostRequestNotification",
          info2 != NULL && info2->lpVtbl->SetPriorityForPostRequestNotification(info2, RQ_END_REQUEST,
                                                                                PRIORITY_ALIAS_LOW) == S_OK);
    DWORD rq = RQ_BEGIN_REQUEST | RQ_AUTHENTICATE_REQUEST | RQ_MAP_REQUEST_HANDLER |
               RQ_PRE_EXECUTE_REQUEST_HANDLER | RQ_SEND_RESPONSE | RQ_MAP_PATH | RQ_READ_ENTITY;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &c_factory, rq, 0);
    CHECK("IHttpModuleRegistrationInfo::SetRequestNotifications", hr == S_OK);
    DWORD gl =
        GL_STOP_LISTENING | GL_CONFIGURATION_CHANGE | GL_FILE_CHANGE | GL_PRE_BEGIN_REQUEST | GL_TRACE_EVENT;
    CHECK("IHttpModuleRegistrationInfo::SetGlobalNotifications",
          info->lpVtbl->SetGlobalNotifications(info, &c_global, gl) == S_OK);
    return hr;
}
