/*
 * RequestFilteringModule: rejects unwanted requests in RQ_BEGIN_REQUEST as
 * configured by system.webServer/security/requestFiltering (read at the
 * request's configuration path, so web.config files can change it):
 * alwaysAllowedUrls / alwaysAllowedQueryStrings bypass every check;
 * requestLimits (413.1 Content-Length, 404.14 URL, 404.15 query string,
 * 431 header size), 404.11 double escaping, 404.12 high-bit characters,
 * 404.8 hidden segments, 404.7 file extensions, 404.6 verbs, 404.5 URL
 * sequences, 404.18 query-string sequences and 404.19 filtering rules.
 * With removeServerHeader it deletes the Server header in RQ_SEND_RESPONSE.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define SECTION     L"system.webServer/security/requestFiltering"
#define CFG_STR_MAX 1024

typedef struct {
    CHttpModule base;
    bool remove_server;
} rf_module_t;

static IHttpServer *g_server;

/* ---- matching helpers (pure) ------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) once into out (cap >= n + 1); returns the length. */
static size_t pct_decode(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            out[k++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return k;
}

/*
 * True when the once-decoded path s[0..n) would change on a second decoding:
 * it holds a %xx escape, or a '+' (which a form decoder reads as a space).
 */
static bool has_escape(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            return true;
        if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0)
            return true;
    }
    return false;
}

static bool has_high_bit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/* Case-insensitive substring search of needle in hay[0..n). */
static bool icontains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || m > n)
        return false;
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* True when a '/'-separated segment of path equals seg (case-insensitive). */
static bool has_segment(const char *path, const char *seg)
{
    size_t m = strlen(seg);
    const char *p = path;
    while (*p) {
        while (*p == '/' || *p == '\\')
            p++;
        const char *e = p;
        while (*e && *e != '/' && *e != '\\')
            e++;
        if ((size_t)(e - p) == m && m > 0 && strncasecmp(p, seg, m) == 0)
            return true;
        p = e;
    }
    return false;
}

/* The extension (with its dot) of the last segment of path, or "." when it has none. */
static const char *last_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *last = slash ? slash + 1 : path;
    const char *dot = strrchr(last, '.');
    return dot && dot[1] != '\0' ? dot : ".";
}

/* ---- the response -------------------------------------------------------- */

static REQUEST_NOTIFICATION_STATUS reject(IHttpContext *ctx, USHORT status, USHORT sub, const char *reason,
                                          const char *why)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, status, reason, sub, S_OK, NULL, FALSE);
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, 512);
    if (body != NULL) {
        int n = snprintf(body, 512,
                         "<!DOCTYPE html>\r\n<html><head><title>%u.%u %s</title></head><body><h1>HTTP Error "
                         "%u.%u - %s</h1><p>The request filtering module denied the request: %s.</p></body>"
                         "</html>\r\n",
                         status, sub, reason, status, sub, reason, why);
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

/* ---- configuration helpers ------------------------------------------------ */

/* True when an item of collection `name` has attribute attr equal (case-insensitive) to s. */
static bool list_equals(IAppHostElement *sec, const wchar_t *name, const wchar_t *attr, const char *s)
{
    IAppHostElement *coll = modcfg_child(sec, name);
    bool found = false;
    unsigned n = modcfg_count(coll);
    char v[CFG_STR_MAX];
    for (unsigned i = 0; i < n && !found; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        if (modcfg_str(it, attr, v, sizeof(v), "") > 0 && strcasecmp(v, s) == 0)
            found = true;
        modcfg_release(it);
    }
    modcfg_release(coll);
    return found;
}

/* True when an item's attr of collection coll occurs in one of the texts (case-insensitive). */
static bool list_contained(IAppHostElement *coll, const wchar_t *attr, const char *a, size_t an,
                           const char *b, size_t bn)
{
    bool found = false;
    unsigned n = modcfg_count(coll);
    char v[CFG_STR_MAX];
    for (unsigned i = 0; i < n && !found; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        if (modcfg_str(it, attr, v, sizeof(v), "") > 0 &&
            ((a && icontains(a, an, v)) || (b && icontains(b, bn, v))))
            found = true;
        modcfg_release(it);
    }
    return found;
}

/* allowed/denied by a (allowUnlisted, add key= allowed=) list: 1 allowed, 0 denied. */
static int list_allows(IAppHostElement *sec, const wchar_t *name, const wchar_t *attr, const char *key,
                       bool case_sensitive)
{
    IAppHostElement *coll = modcfg_child(sec, name);
    if (coll == NULL)
        return 1;
    int result = modcfg_bool(coll, L"allowUnlisted", true) ? 1 : 0;
    unsigned n = modcfg_count(coll);
    char v[CFG_STR_MAX];
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        if (modcfg_str(it, attr, v, sizeof(v), "") > 0 &&
            (case_sensitive ? strcmp(v, key) == 0 : strcasecmp(v, key) == 0)) {
            result = modcfg_bool(it, L"allowed", true) ? 1 : 0;
            modcfg_release(it);
            break;
        }
        modcfg_release(it);
    }
    modcfg_release(coll);
    return result;
}

/* 431 when a header of requestLimits/headerLimits is longer than its sizeLimit. */
static bool headers_too_long(IAppHostElement *limits, IHttpRequest *req)
{
    IAppHostElement *hl = modcfg_child(limits, L"headerLimits");
    bool bad = false;
    unsigned n = modcfg_count(hl);
    char name[CFG_STR_MAX];
    for (unsigned i = 0; i < n && !bad; i++) {
        IAppHostElement *it = modcfg_item(hl, i);
        if (modcfg_str(it, L"header", name, sizeof(name), "") > 0) {
            size_t nl = strlen(name);
            if (nl > 0 && name[nl - 1] == ':')
                name[nl - 1] = '\0';
            USHORT len = 0;
            PCSTR val = req->lpVtbl->GetHeaderByName(req, name, &len);
            int64_t lim = modcfg_int(it, L"sizeLimit", 0);
            if (val != NULL && (int64_t)len > lim)
                bad = true;
        }
        modcfg_release(it);
    }
    modcfg_release(hl);
    return bad;
}

/* 404.19: a filteringRule whose denyStrings occur in a scanned part. */
static bool rules_deny(IAppHostElement *sec, IHttpRequest *req, const char *path, size_t pn,
                       const char *rawpath, size_t rpn, const char *query, size_t qn, const char *dquery,
                       size_t dqn)
{
    IAppHostElement *rules = modcfg_child(sec, L"filteringRules");
    unsigned n = modcfg_count(rules);
    bool deny = false;
    const char *ext = last_extension(path);
    for (unsigned i = 0; i < n && !deny; i++) {
        IAppHostElement *r = modcfg_item(rules, i);
        IAppHostElement *applies = modcfg_child(r, L"appliesTo");
        bool applies_here = modcfg_count(applies) == 0;
        char v[CFG_STR_MAX];
        for (unsigned j = 0; !applies_here && j < modcfg_count(applies); j++) {
            IAppHostElement *it = modcfg_item(applies, j);
            if (modcfg_str(it, L"fileExtension", v, sizeof(v), "") > 0 && strcasecmp(v, ext) == 0)
                applies_here = true;
            modcfg_release(it);
        }
        modcfg_release(applies);
        if (applies_here) {
            IAppHostElement *deny_strings = modcfg_child(r, L"denyStrings");
            if (modcfg_bool(r, L"scanUrl", false) &&
                list_contained(deny_strings, L"string", path, pn, rawpath, rpn))
                deny = true;
            if (!deny && modcfg_bool(r, L"scanQueryString", false) &&
                list_contained(deny_strings, L"string", query, qn, dquery, dqn))
                deny = true;
            IAppHostElement *sh = modcfg_child(r, L"scanHeaders");
            for (unsigned j = 0; !deny && j < modcfg_count(sh); j++) {
                IAppHostElement *it = modcfg_item(sh, j);
                if (modcfg_str(it, L"requestHeader", v, sizeof(v), "") > 0) {
                    USHORT len = 0;
                    PCSTR val = req->lpVtbl->GetHeaderByName(req, v, &len);
                    if (val != NULL && list_contained(deny_strings, L"string", val, len, NULL, 0))
                        deny = true;
                }
                modcfg_release(it);
            }
            modcfg_release(sh);
            modcfg_release(deny_strings);
        }
        modcfg_release(r);
    }
    modcfg_release(rules);
    return deny;
}

/* ---- the checks ------------------------------------------------------------ */

static REQUEST_NOTIFICATION_STATUS filter(rf_module_t *self, IHttpContext *ctx)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    PCSTR raw = NULL;
    DWORD rawlen = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "UNENCODED_URL", &raw, &rawlen)) || raw == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    /* absolute-form target: skip scheme and authority */
    const char *rp = raw, *rend = raw + rawlen;
    if (rawlen > 0 && raw[0] != '/') {
        const char *sep = memchr(raw, ':', rawlen);
        if (sep && sep + 2 < rend && sep[1] == '/' && sep[2] == '/') {
            const char *slash = memchr(sep + 3, '/', (size_t)(rend - sep - 3));
            rp = slash ? slash : rend;
        }
    }
    const char *qmark = memchr(rp, '?', (size_t)(rend - rp));
    size_t rpn = (size_t)((qmark ? qmark : rend) - rp);
    const char *query = qmark ? qmark + 1 : "";
    size_t qn = qmark ? (size_t)(rend - qmark - 1) : 0;

    char *path = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(rpn + 1));
    char *rawpath = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(rpn + 1));
    char *dquery = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(qn + 1));
    if (path == NULL || rawpath == NULL || dquery == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    memcpy(rawpath, rp, rpn);
    rawpath[rpn] = '\0';
    size_t pn = pct_decode(rp, rpn, path);
    size_t dqn = pct_decode(query, qn, dquery);

    IAppHostElement *sec = modcfg_section(g_server, ctx, SECTION);
    if (sec == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    REQUEST_NOTIFICATION_STATUS rs = RQ_NOTIFICATION_CONTINUE;
    self->remove_server = modcfg_bool(sec, L"removeServerHeader", false);

    /* always allowed: no further check */
    if (list_equals(sec, L"alwaysAllowedUrls", L"url", path) ||
        list_equals(sec, L"alwaysAllowedUrls", L"url", rawpath) ||
        (qn > 0 && (list_equals(sec, L"alwaysAllowedQueryStrings", L"queryString", query) ||
                    list_equals(sec, L"alwaysAllowedQueryStrings", L"queryString", dquery))))
        goto done;

    IAppHostElement *limits = modcfg_child(sec, L"requestLimits");
    int64_t max_content = modcfg_int(limits, L"maxAllowedContentLength", 30000000);
    int64_t max_url = modcfg_int(limits, L"maxUrl", 4096);
    int64_t max_query = modcfg_int(limits, L"maxQueryString", 2048);
    USHORT cll = 0;
    PCSTR cl = req->lpVtbl->GetHeaderById(req, HttpHeaderContentLength, &cll);
    bool too_large = false;
    if (cl != NULL && cll > 0) {
        char buf[32];
        size_t m = cll < sizeof(buf) - 1 ? cll : sizeof(buf) - 1;
        memcpy(buf, cl, m);
        buf[m] = '\0';
        char *end;
        unsigned long long v = strtoull(buf, &end, 10);
        too_large = end != buf && (cll >= sizeof(buf) - 1 || v > (unsigned long long)max_content);
    }
    bool headers_bad = headers_too_long(limits, req);
    modcfg_release(limits);
    if (too_large) {
        rs = reject(ctx, 413, 1, "Request Entity Too Large", "the content length is too large");
        goto done;
    }
    if ((int64_t)pn > max_url) {
        rs = reject(ctx, 404, 14, "Not Found", "the URL is too long");
        goto done;
    }
    if ((int64_t)qn > max_query) {
        rs = reject(ctx, 404, 15, "Not Found", "the query string is too long");
        goto done;
    }
    if (headers_bad) {
        rs = reject(ctx, 431, 0, "Request Header Fields Too Large", "a request header is too long");
        goto done;
    }
    if (!modcfg_bool(sec, L"allowDoubleEscaping", false) && has_escape(path, pn)) {
        rs = reject(ctx, 404, 11, "Not Found", "the URL is double escaped");
        goto done;
    }
    if (!modcfg_bool(sec, L"allowHighBitCharacters", true) &&
        (has_high_bit(path, pn) || has_high_bit(rp, rpn))) {
        rs = reject(ctx, 404, 12, "Not Found", "the URL contains high-bit characters");
        goto done;
    }
    {
        IAppHostElement *hs = modcfg_child(sec, L"hiddenSegments");
        unsigned n = modcfg_count(hs);
        bool hidden = false;
        char v[CFG_STR_MAX];
        for (unsigned i = 0; i < n && !hidden; i++) {
            IAppHostElement *it = modcfg_item(hs, i);
            if (modcfg_str(it, L"segment", v, sizeof(v), "") > 0 && has_segment(path, v))
                hidden = true;
            modcfg_release(it);
        }
        modcfg_release(hs);
        if (hidden) {
            rs = reject(ctx, 404, 8, "Not Found", "the URL contains a hidden segment");
            goto done;
        }
    }
    if (!list_allows(sec, L"fileExtensions", L"fileExtension", last_extension(path), false)) {
        rs = reject(ctx, 404, 7, "Not Found", "the file extension is denied");
        goto done;
    }
    if (!list_allows(sec, L"verbs", L"verb", req->lpVtbl->GetHttpMethod(req), true)) {
        rs = reject(ctx, 404, 6, "Not Found", "the verb is denied");
        goto done;
    }
    {
        IAppHostElement *us = modcfg_child(sec, L"denyUrlSequences");
        bool deny = list_contained(us, L"sequence", path, pn, rawpath, rpn);
        modcfg_release(us);
        if (deny) {
            rs = reject(ctx, 404, 5, "Not Found", "the URL contains a denied sequence");
            goto done;
        }
    }
    if (qn > 0) {
        IAppHostElement *qs = modcfg_child(sec, L"denyQueryStringSequences");
        bool unescape = modcfg_bool(sec, L"unescapeQueryString", true);
        bool deny = list_contained(qs, L"sequence", query, qn, unescape ? dquery : NULL, dqn);
        modcfg_release(qs);
        if (deny) {
            rs = reject(ctx, 404, 18, "Not Found", "the query string contains a denied sequence");
            goto done;
        }
    }
    if (rules_deny(sec, req, path, pn, rawpath, rpn, query, qn, dquery, dqn)) {
        rs = reject(ctx, 404, 19, "Not Found", "a filtering rule denied the request");
        goto done;
    }
done:
    modcfg_release(sec);
    return rs;
}

static REQUEST_NOTIFICATION_STATUS on_begin(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    return filter((rf_module_t *)This, ctx);
}

static REQUEST_NOTIFICATION_STATUS on_send(CHttpModule *This, IHttpContext *ctx, ISendResponseProvider *p)
{
    (void)p;
    if (((rf_module_t *)This)->remove_server) {
        IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
        resp->lpVtbl->DeleteHeaderByName(resp, "Server");
    }
    return RQ_NOTIFICATION_CONTINUE;
}

static VOID on_dispose(CHttpModule *This)
{
    (void)This; /* the memory is the request's: nothing to free */
}

static CHttpModuleVtbl rf_vtbl;

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    rf_module_t *m = alloc->lpVtbl->AllocateMemory(alloc, sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &rf_vtbl;
    m->remove_server = false;
    *pp = &m->base;
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This; /* static object */
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(RequestFilteringModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(RequestFilteringModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                         IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    rf_vtbl.OnBeginRequest = on_begin;
    rf_vtbl.OnSendResponse = on_send;
    rf_vtbl.Dispose = on_dispose;
    HRESULT hr =
        info->lpVtbl->SetRequestNotifications(info, &factory, RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetPriorityForRequestNotification(info, RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
}
