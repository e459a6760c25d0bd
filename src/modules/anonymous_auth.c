/*
 * AnonymousAuthenticationModule:
 * system.webServer/security/authentication/anonymousAuthentication.
 *
 * RQ_AUTHENTICATE_REQUEST (priority LOW, after the modules that check credentials): where
 * the section is enabled and no other module has set a user, it sets the anonymous user
 * through IAuthenticationProvider::SetUser: the server's IHttpUser whose user name, remote user
 * name, authentication type and password are empty strings, with no tokens and no roles.
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

/* The anonymous user: made once by the server, permanent (its reference count does nothing). */
static IHttpUser *anon_user;

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
        prov->lpVtbl->SetUser(prov, anon_user);
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
    IIisdUserFactory *users = iisd_users(srv);
    if (users == NULL)
        return E_NOINTERFACE;
    if (anon_user == NULL) {
        HRESULT hr =
            users->lpVtbl->CreateUser(users, L"", L"", L"", L"", NULL, IISD_USER_PERMANENT, &anon_user);
        if (FAILED(hr))
            return hr;
    }
    anon_module_vtbl.OnAuthenticateRequest = on_authenticate;
    anon_module_vtbl.Dispose = iisd_module_dispose;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_AUTHENTICATE_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetPriorityForRequestNotification(info, RQ_AUTHENTICATE_REQUEST, PRIORITY_ALIAS_LOW);
}
