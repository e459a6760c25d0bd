/*
 * IpRestrictionModule: system.webServer/security/ipSecurity, in RQ_BEGIN_REQUEST.
 *
 * The entries of the effective collection are tried in order; the first one
 * whose ipAddress/subnetMask contains the client address decides (allowed
 * true or false); an address that no entry lists is allowed when
 * allowUnlisted is true. IPv4 and IPv6 entries; subnetMask is a dotted mask,
 * an IPv6 mask or a prefix length, and ipAddress may also carry "/prefix".
 * With enableProxyMode every address of X-Forwarded-For is checked as well,
 * and any denied one denies the request. A denied request is answered as
 * denyAction says: Forbidden 403.503, Unauthorized 401.503, NotFound 404.503,
 * or AbortRequest (the connection is reset without a response).
 * domainName entries need reverse DNS, which iisd does not do: they never
 * match. An entry whose address or mask cannot be read denies every client
 * when it is a deny entry, and is ignored when it is an allow entry.
 * The parsed section is cached per configuration path (modcfg_cached).
 */
#include <windows.h>
#include <httpserv.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "modules/builtin.h"
#include "modules/ip_restriction/ipmatch.h"
#include "modules/modcfg.h"

#define SECTION L"system.webServer/security/ipSecurity"

typedef struct {
    ipr_addr_t net, mask;
    bool allowed;
} ipr_entry_t;

typedef struct {
    bool allow_unlisted;
    bool proxy_mode;
    int deny_action; /* 0 abort, 401, 403, 404 */
    unsigned n;
    ipr_entry_t v[];
} ipr_cfg_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static void *load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *sec = modcfg_section(srv, ctx, SECTION);
    unsigned n = modcfg_count(sec);
    ipr_cfg_t *cfg = calloc(1, sizeof(*cfg) + n * sizeof(ipr_entry_t));
    if (cfg == NULL) {
        modcfg_release(sec);
        return NULL;
    }
    cfg->allow_unlisted = modcfg_bool(sec, L"allowUnlisted", true);
    cfg->proxy_mode = modcfg_bool(sec, L"enableProxyMode", false);
    cfg->deny_action = (int)modcfg_int(sec, L"denyAction", 403);
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(sec, i);
        char addr[128], mask[128], domain[256];
        modcfg_str(it, L"ipAddress", addr, sizeof(addr), "");
        modcfg_str(it, L"subnetMask", mask, sizeof(mask), "");
        modcfg_str(it, L"domainName", domain, sizeof(domain), "");
        bool allowed = modcfg_bool(it, L"allowed", false);
        modcfg_release(it);
        if (addr[0] == '\0')
            continue; /* a domainName entry: needs reverse DNS, which iisd does not do */
        ipr_entry_t *e = &cfg->v[cfg->n];
        bool v4;
        char *slash = strchr(addr, '/');
        size_t alen = slash ? (size_t)(slash - addr) : strlen(addr);
        if (!ipr_parse_addr(addr, alen, &e->net, &v4) ||
            !ipr_parse_mask(slash ? slash : (strcmp(mask, "255.255.255.255") == 0 ? "" : mask), v4,
                            &e->mask)) {
            /* an entry that cannot be read: an allow entry is dropped, a deny entry denies
               every address (fail closed) */
            if (allowed)
                continue;
            memset(&e->net, 0, sizeof(e->net));
            memset(&e->mask, 0, sizeof(e->mask));
        }
        e->allowed = allowed;
        cfg->n++;
    }
    modcfg_release(sec);
    return cfg;
}

/* 1 allowed, 0 denied by the entries (or allowUnlisted). */
static bool allowed(const ipr_cfg_t *cfg, const ipr_addr_t *a)
{
    for (unsigned i = 0; i < cfg->n; i++)
        if (ipr_match(a, &cfg->v[i].net, &cfg->v[i].mask))
            return cfg->v[i].allowed;
    return cfg->allow_unlisted;
}

static bool sockaddr_to_addr(const struct sockaddr *sa, ipr_addr_t *out)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        memset(out->b, 0, 10);
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static REQUEST_NOTIFICATION_STATUS deny(IHttpContext *ctx, int action)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    if (action == 0) {
        resp->lpVtbl->ResetConnection(resp);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    USHORT status = action == 401 ? 401 : action == 404 ? 404 : 403;
    const char *reason = status == 401 ? "Unauthorized" : status == 404 ? "Not Found" : "Forbidden";
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, status, reason, 503, S_OK, NULL, FALSE);
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, 512);
    if (body != NULL) {
        int n = snprintf(body, 512,
                         "<!DOCTYPE html>\r\n<html><head><title>%u.503 %s</title></head><body><h1>HTTP Error "
                         "%u.503 - %s</h1><p>The IP address of the client has been rejected.</p></body>"
                         "</html>\r\n",
                         status, reason, status, reason);
        resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
        HTTP_DATA_CHUNK ch;
        memset(&ch, 0, sizeof(ch));
        ch.DataChunkType = HttpDataChunkFromMemory;
        ch.FromMemory.pBuffer = body;
        ch.FromMemory.BufferLength = (ULONG)n;
        DWORD sent;
        resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
    }
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static void free_cfg(void *p)
{
    free(p);
}

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This, (void)p;
    const ipr_cfg_t *cfg = modcfg_cached(g_server, ctx, g_id, load, free_cfg);
    if (cfg == NULL || (cfg->n == 0 && cfg->allow_unlisted))
        return RQ_NOTIFICATION_CONTINUE;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    ipr_addr_t a;
    if (!sockaddr_to_addr(req->lpVtbl->GetRemoteAddress(req), &a) || !allowed(cfg, &a))
        return deny(ctx, cfg->deny_action);
    if (cfg->proxy_mode) {
        USHORT len = 0;
        PCSTR xff = req->lpVtbl->GetHeaderByName(req, "X-Forwarded-For", &len);
        size_t pos = 0;
        while (xff != NULL && ipr_next_forwarded(xff, len, &pos, &a) == 1)
            if (!allowed(cfg, &a))
                return deny(ctx, cfg->deny_action);
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl ipr_vtbl;

static iisd_factory_t factory = IISD_FACTORY(ipr_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(IpRestrictionModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(IpRestrictionModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                      IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    ipr_vtbl.OnBeginRequest = on_begin;
    ipr_vtbl.Dispose = iisd_module_dispose;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_BEGIN_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    /* before request filtering and everything else that looks at the request */
    return info->lpVtbl->SetPriorityForRequestNotification(info, RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
}
