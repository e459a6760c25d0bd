/*
 * AnonymousAuthenticationModule:
 * system.webServer/security/authentication/anonymousAuthentication.
 *
 * RQ_AUTHENTICATE_REQUEST (priority LOW, after the modules that check credentials): where
 * the section is enabled and no other module has set a user, it sets the anonymous user
 * through IAuthenticationProvider::SetUser: an IHttpUser whose user name, remote user name,
 * authentication type and password are empty strings, with no tokens and no roles.
 * userName, password and logonMethod name the Windows account IIS runs anonymous requests
 * as; iisd has no account switching, so they are read by nobody.
 */
#include <windows.h>
#include <httpserv.h>
#include <stdlib.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define SECTION L"system.webServer/security/authentication/anonymousAuthentication"

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

/* ---- the anonymous user: one static object, its reference count has no effect ---------- */

static PCWSTR anon_empty(IHttpUser *This)
{
    (void)This;
    return L"";
}

static HANDLE anon_token(IHttpUser *This)
{
    (void)This;
    return NULL;
}

static VOID anon_ref(IHttpUser *This)
{
    (void)This; /* static: lives as long as the module */
}

static BOOL anon_supports_roles(IHttpUser *This)
{
    (void)This;
    return FALSE;
}

static HRESULT anon_is_in_role(IHttpUser *This, PCWSTR role, BOOL *pf)
{
    (void)This, (void)role;
    if (pf == NULL)
        return E_INVALIDARG;
    *pf = FALSE;
    return S_OK;
}

static PVOID anon_variable(IHttpUser *This, PCSTR name)
{
    (void)This, (void)name;
    return NULL;
}

static const IHttpUserVtbl anon_vtbl = {
    .GetRemoteUserName = anon_empty,
    .GetUserName = anon_empty,
    .GetAuthenticationType = anon_empty,
    .GetPassword = anon_empty,
    .GetImpersonationToken = anon_token,
    .GetPrimaryToken = anon_token,
    .ReferenceUser = anon_ref,
    .DereferenceUser = anon_ref,
    .SupportsIsInRole = anon_supports_roles,
    .IsInRole = anon_is_in_role,
    .GetUserVariable = anon_variable,
};
static IHttpUser anon_user = {&anon_vtbl};

/* ---- the module ------------------------------------------------------------------------ */

static void *load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *sec = modcfg_section(srv, ctx, SECTION);
    bool *enabled = malloc(sizeof(*enabled));
    if (enabled != NULL)
        *enabled = modcfg_bool(sec, L"enabled", true);
    modcfg_release(sec);
    return enabled;
}

static void free_cfg(void *p)
{
    free(p);
}

static REQUEST_NOTIFICATION_STATUS on_authenticate(CHttpModule *This, IHttpContext *ctx,
                                                   IAuthenticationProvider *prov)
{
    (void)This;
    if (ctx->lpVtbl->GetUser(ctx) != NULL)
        return RQ_NOTIFICATION_CONTINUE;
    const bool *enabled = modcfg_cached(g_server, ctx, g_id, load, free_cfg);
    if (enabled != NULL && *enabled)
        prov->lpVtbl->SetUser(prov, &anon_user);
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl anon_module_vtbl;

static iisd_factory_t factory = IISD_FACTORY(anon_module_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(AnonymousAuthenticationModule)(DWORD, IHttpModuleRegistrationInfo *,
                                                                IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(AnonymousAuthenticationModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                                IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    anon_module_vtbl.OnAuthenticateRequest = on_authenticate;
    anon_module_vtbl.Dispose = iisd_module_dispose;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_AUTHENTICATE_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetPriorityForRequestNotification(info, RQ_AUTHENTICATE_REQUEST, PRIORITY_ALIAS_LOW);
}
