/*
 * HttpRedirectionModule (system.webServer/httpRedirect): in RQ_BEGIN_REQUEST,
 * before any handler runs, a request whose configuration has
 * <httpRedirect enabled="true" destination="..."> is answered with a redirect
 * (httpResponseStatus: 301, 302 (default), 307 or 308) and finished.
 *
 * Rules (how iisd reads the IIS behaviour):
 *  - The "redirect folder" is the shortest URL folder of the request (the site
 *    root, then /a, then /a/b, ...) whose configuration already has the
 *    redirect enabled with the same destination and status: that is where the
 *    redirect was set (lower levels inherit it). The "suffix" is the request
 *    path after that folder ("/x/y.htm" for /a/x/y.htm set on /a).
 *  - childOnly="true": the folder itself (an empty suffix or "/") is not
 *    redirected, only content below it.
 *  - Wildcard entries (<add wildcard="*.htm" destination="/new.htm" />) are
 *    tried first, in order; '*' matches any run of characters and a pattern
 *    is matched against the suffix (without its leading '/') and against the
 *    full request path. A match redirects to its destination as is.
 *  - Otherwise exactDestination="true" redirects to destination as is, and
 *    exactDestination="false" (default) to destination + suffix, followed by
 *    the query string.
 *  - Destinations may use variables, which are replaced and make the
 *    destination exact: $S the suffix, $V the request path, $Q the query
 *    string with its '?', $P the query string without it.
 *  - A relative destination that would redirect the request to its own path
 *    is not applied (it would loop).
 * Relative destinations become absolute through IHttpResponse::Redirect.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define URL_CAP 4096

static IHttpServer *g_server;

/* Case-insensitive glob with '*' only. */
static bool wild_match(const char *p, const char *s)
{
    const char *star = NULL, *back = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            back = s;
        } else if (*p && (*p == *s || (*p >= 'A' && *p <= 'Z' && *p + 32 == *s) ||
                          (*p >= 'a' && *p <= 'z' && *p - 32 == *s))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++back;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

typedef struct {
    const char *suffix, *path, *query; /* query without '?' */
} vars_t;

/* Replaces $S $V $Q $P; returns whether any variable was present. */
static bool expand(const char *dest, const vars_t *v, char *out, size_t cap)
{
    size_t k = 0;
    bool any = false;
    out[0] = '\0';
    for (const char *d = dest; *d && k + 1 < cap; d++) {
        const char *rep = NULL;
        char q[URL_CAP + 2];
        if (d[0] == '$' && d[1]) {
            switch (d[1]) {
            case 'S':
            case 's':
                rep = v->suffix;
                break;
            case 'V':
            case 'v':
                rep = v->path;
                break;
            case 'Q':
            case 'q':
                snprintf(q, sizeof(q), "%s%s", v->query[0] ? "?" : "", v->query);
                rep = q;
                break;
            case 'P':
            case 'p':
                rep = v->query;
                break;
            }
        }
        if (rep != NULL) {
            any = true;
            d++;
            size_t n = strlen(rep);
            if (k + n >= cap)
                n = cap - 1 - k;
            memcpy(out + k, rep, n);
            k += n;
        } else {
            out[k++] = *d;
        }
        out[k] = '\0';
    }
    return any;
}

/* Is the redirect (dest, status) already enabled at configuration path prefix + url[0..n)? */
static bool set_at(const wchar_t *prefix, size_t plen, const wchar_t *url, size_t n, const char *dest,
                   int64_t status)
{
    wchar_t path[URL_CAP * 2];
    if (plen + n + 1 >= sizeof(path) / sizeof(path[0]))
        return false;
    wmemcpy(path, prefix, plen);
    wmemcpy(path + plen, url, n);
    path[plen + n] = L'\0';
    IAppHostElement *s = modcfg_section_at(g_server, path, L"system.webServer/httpRedirect");
    bool same = false;
    if (s != NULL && modcfg_bool(s, L"enabled", false)) {
        char d[URL_CAP];
        modcfg_str(s, L"destination", d, sizeof(d), "");
        same = strcmp(d, dest) == 0 && modcfg_int(s, L"httpResponseStatus", 302) == status;
    }
    modcfg_release(s);
    return same;
}

static const char *reason_for(USHORT status)
{
    switch (status) {
    case 301:
        return "Moved Permanently";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    default:
        return "Found";
    }
}

static HTTP_MODULE_ID g_id;
static bool g_on = true, g_off = false;

/* Whether redirection is enabled at the request's path: the one value every request needs. */
static void *enabled_load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *s = modcfg_section(srv, ctx, L"system.webServer/httpRedirect");
    bool on = modcfg_bool(s, L"enabled", false);
    modcfg_release(s);
    return on ? &g_on : &g_off;
}

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    (void)p;
    const bool *on = modcfg_cached(g_server, ctx, g_id, enabled_load, NULL);
    if (on == NULL || !*on)
        return RQ_NOTIFICATION_CONTINUE;
    IAppHostElement *s = modcfg_section(g_server, ctx, L"system.webServer/httpRedirect");
    if (s == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    if (!modcfg_bool(s, L"enabled", false)) {
        modcfg_release(s);
        return RQ_NOTIFICATION_CONTINUE;
    }
    static __thread char dest[URL_CAP], url[URL_CAP], query[URL_CAP], target[URL_CAP * 2], wdest[URL_CAP];
    modcfg_str(s, L"destination", dest, sizeof(dest), "");
    bool exact = modcfg_bool(s, L"exactDestination", false);
    bool child_only = modcfg_bool(s, L"childOnly", false);
    int64_t status = modcfg_int(s, L"httpResponseStatus", 302);
    if (status != 301 && status != 302 && status != 307 && status != 308)
        status = 302;

    DWORD ulen = 0;
    PCWSTR wurl = ctx->lpVtbl->GetScriptName(ctx, &ulen);
    query[0] = '\0';
    PCSTR qs = NULL;
    DWORD qlen = 0;
    if (SUCCEEDED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &qs, &qlen)) && qs != NULL) {
        if (qlen > 0 && qs[0] == '?')
            qs++, qlen--;
        if (qlen < sizeof(query)) {
            memcpy(query, qs, qlen);
            query[qlen] = '\0';
        }
    }
    if (wurl == NULL || modcfg_utf8(wurl, ulen, url, sizeof(url)) == (size_t)-1) {
        modcfg_release(s);
        return RQ_NOTIFICATION_CONTINUE;
    }

    /* The site's configuration path: the metadata path without the URL. */
    size_t base = 0; /* length (in wide chars of wurl) of the redirect folder */
    IMetadataInfo *md = ctx->lpVtbl->GetMetadata(ctx);
    PCWSTR mp = md ? md->lpVtbl->GetMetaPath(md) : NULL;
    if (mp != NULL) {
        size_t mlen = wcslen(mp);
        size_t cmp = ulen;
        while (cmp > 0 && wurl[cmp - 1] == L'/')
            cmp--;
        /* the metadata path may omit a trailing slash; compare without it */
        size_t mcmp = mlen;
        while (mcmp > 0 && mp[mcmp - 1] == L'/')
            mcmp--;
        if (mcmp >= cmp && wcsncasecmp(mp + mcmp - cmp, wurl, cmp) == 0) {
            size_t plen = mcmp - cmp;
            bool found = false;
            if (set_at(mp, plen, wurl, 0, dest, status)) {
                base = 0, found = true;
            }
            for (size_t i = 1; !found && i < ulen; i++) {
                if (wurl[i] != L'/')
                    continue;
                if (set_at(mp, plen, wurl, i, dest, status))
                    base = i, found = true;
            }
            if (!found)
                base = cmp; /* set at the request's own level (a location for a file or folder) */
        }
    }
    /* base counts wide characters; the UTF-8 suffix starts after the same prefix */
    char prefix8[URL_CAP];
    size_t b8 = modcfg_utf8(wurl, base, prefix8, sizeof(prefix8));
    const char *suffix = url + (b8 == (size_t)-1 ? 0 : b8);

    if (child_only && (suffix[0] == '\0' || strcmp(suffix, "/") == 0)) {
        modcfg_release(s);
        return RQ_NOTIFICATION_CONTINUE;
    }

    vars_t v = {suffix, url, query};
    bool include_query = false;
    bool done = false;
    unsigned n = modcfg_count(s);
    for (unsigned i = 0; i < n && !done; i++) {
        IAppHostElement *it = modcfg_item(s, i);
        char wild[URL_CAP];
        if (modcfg_str(it, L"wildcard", wild, sizeof(wild), "") > 0) {
            const char *rel = suffix[0] == '/' ? suffix + 1 : suffix;
            if (wild_match(wild, rel) || wild_match(wild, url)) {
                modcfg_str(it, L"destination", wdest, sizeof(wdest), "");
                expand(wdest, &v, target, sizeof(target));
                done = true;
            }
        }
        modcfg_release(it);
    }
    modcfg_release(s);
    if (!done) {
        if (dest[0] == '\0')
            return RQ_NOTIFICATION_CONTINUE;
        if (expand(dest, &v, target, sizeof(target))) {
            /* variables: exact */
        } else if (exact) {
            snprintf(target, sizeof(target), "%s", dest);
        } else {
            size_t dl = strlen(dest);
            const char *suf = suffix;
            if (dl > 0 && dest[dl - 1] == '/' && suf[0] == '/')
                suf++;
            snprintf(target, sizeof(target), "%s%s", dest, suf);
            include_query = true;
        }
    }
    /* a relative redirect to the request's own path would loop */
    if (strstr(target, "://") == NULL) {
        size_t tl = strcspn(target, "?");
        if (target[0] == '/' && tl == strlen(url) && strncmp(target, url, tl) == 0)
            return RQ_NOTIFICATION_CONTINUE;
    }

    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->SetStatus(resp, (USHORT)status, reason_for((USHORT)status), 0, S_OK, NULL, FALSE);
    HRESULT hr = resp->lpVtbl->Redirect(resp, target, FALSE, include_query ? TRUE : FALSE);
    if (FAILED(hr)) {
        resp->lpVtbl->SetStatus(resp, 500, "Internal Server Error", 0, hr, NULL, FALSE);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    /* Redirect resets the status it keeps to what SetStatus set; set the reason again */
    resp->lpVtbl->SetStatus(resp, (USHORT)status, reason_for((USHORT)status), 0, S_OK, NULL, FALSE);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static CHttpModuleVtbl redir_vtbl;

static iisd_factory_t factory = IISD_FACTORY(redir_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(HttpRedirectionModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(HttpRedirectionModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                        IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    redir_vtbl.OnBeginRequest = on_begin;
    redir_vtbl.Dispose = iisd_module_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_BEGIN_REQUEST, 0);
}
