/*
 * UrlAuthorizationModule: system.webServer/security/authorization, in RQ_AUTHORIZE_REQUEST.
 *
 * The effective rules at the request's configuration path are evaluated the IIS way
 * (rules.h: Deny rules first, then Allow rules, parents first; nothing applies: denied)
 * for the user authentication set (IHttpContext::GetUser; an empty user name, or no user
 * at all, is the anonymous user "?") and the request's method. Roles are asked of the user
 * object (IHttpUser::IsInRole). A refusal is answered 401.3.
 * iisd difference: a path whose effective collection holds no rule at all is not restricted
 * (IIS refuses every request there), so that configurations that never mention
 * <authorization> keep serving requests. Write <add accessType="Deny" users="*"/> to refuse
 * everyone. bypassLoginPages concerns ASP.NET forms authentication and is not used.
 */
#include <windows.h>
#include <httpserv.h>
#include <stdlib.h>
#include <string.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"
#include "modules/url_authorization/rules.h"

#define SECTION  L"system.webServer/security/authorization"
#define ITEM_MAX 2048

typedef struct {
    size_t n;
    authz_rule_t v[];
} authz_cfg_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static void free_cfg(void *p)
{
    authz_cfg_t *c = p;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->v[i].users);
        free((char *)c->v[i].roles);
        free((char *)c->v[i].verbs);
    }
    free(c);
}

static char *attr(IAppHostElement *e, const wchar_t *name)
{
    char buf[ITEM_MAX];
    modcfg_str(e, name, buf, sizeof(buf), "");
    return strdup(buf);
}

static void *load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *sec = modcfg_section(srv, ctx, SECTION);
    unsigned n = modcfg_count(sec);
    authz_cfg_t *c = calloc(1, sizeof(*c) + n * sizeof(authz_rule_t));
    if (c == NULL) {
        modcfg_release(sec);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(sec, i);
        authz_rule_t *r = &c->v[c->n++];
        r->allow = modcfg_int(it, L"accessType", 1) == 0;
        r->users = attr(it, L"users");
        r->roles = attr(it, L"roles");
        r->verbs = attr(it, L"verbs");
        modcfg_release(it);
        if (r->users == NULL || r->roles == NULL || r->verbs == NULL) {
            modcfg_release(sec);
            free_cfg(c);
            return NULL;
        }
    }
    modcfg_release(sec);
    return c;
}

/* UTF-8 to wide characters (invalid bytes stand for themselves); false when it does not fit. */
static bool to_wide(const char *s, wchar_t *out, size_t cap)
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, v = c;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more > 0) {
            v = c & (0x3fu >> more);
            for (int i = 1; i <= more; i++) {
                if ((p[i] & 0xc0) != 0x80) {
                    more = 0;
                    v = c;
                    break;
                }
                v = (v << 6) | (p[i] & 0x3f);
            }
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = (wchar_t)v;
        p += 1 + more;
    }
    out[k] = L'\0';
    return true;
}

static bool user_in_role(void *arg, const char *role)
{
    IHttpUser *u = arg;
    wchar_t w[256];
    BOOL in = FALSE;
    if (u == NULL || !u->lpVtbl->SupportsIsInRole(u) || !to_wide(role, w, 256))
        return false;
    return SUCCEEDED(u->lpVtbl->IsInRole(u, w, &in)) && in;
}

static REQUEST_NOTIFICATION_STATUS deny(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, 401, "Unauthorized", 3, S_OK, NULL, FALSE);
    static const char body[] = "<!DOCTYPE html>\r\n<html><head><title>401.3 Unauthorized</title></head><body>"
                               "<h1>HTTP Error 401.3 - Unauthorized</h1><p>The authorization rules of this "
                               "URL do not give access to this user.</p></body></html>\r\n";
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = (PVOID)body;
    ch.FromMemory.BufferLength = sizeof(body) - 1;
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static REQUEST_NOTIFICATION_STATUS on_authorize(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    const authz_cfg_t *cfg = modcfg_cached(g_server, ctx, g_id, load, free_cfg);
    if (cfg == NULL)
        return deny(ctx); /* the rules could not be read: fail closed */
    if (cfg->n == 0)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpUser *u = ctx->lpVtbl->GetUser(ctx);
    const wchar_t *wname = u ? u->lpVtbl->GetUserName(u) : NULL;
    size_t wl = wname ? wcslen(wname) : 0;
    char *name = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(wl * 4 + 1));
    if (name == NULL || modcfg_utf8(wname ? wname : L"", wl, name, wl * 4 + 1) == (size_t)-1)
        return deny(ctx);
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    authz_user_t au = {.name = name, .anonymous = name[0] == '\0', .in_role = user_in_role, .arg = u};
    if (!authz_evaluate(cfg->v, cfg->n, &au, req->lpVtbl->GetHttpMethod(req)))
        return deny(ctx);
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl authz_vtbl;

static iisd_factory_t factory = IISD_FACTORY(authz_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(UrlAuthorizationModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(UrlAuthorizationModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                         IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    authz_vtbl.OnAuthorizeRequest = on_authorize;
    authz_vtbl.Dispose = iisd_module_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_AUTHORIZE_REQUEST, 0);
}
