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
/* Is a segment of path (between '/' or '\\') one of l's items (case-insensitive)? One pass. */
static bool has_segment(const char *path, const modcfg_list_t *l)
{
    if (l->n == 0)
        return false;
    const char *p = path;
    while (*p) {
        while (*p == '/' || *p == '\\')
            p++;
        const char *e = p;
        while (*e && *e != '/' && *e != '\\')
            e++;
        size_t m = (size_t)(e - p);
        for (unsigned i = 0; i < l->n && m > 0; i++)
            if (l->item[i].len == m && strncasecmp(p, l->item[i].s, m) == 0)
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

/* ---- configuration, parsed once per configuration path ------------------- */

typedef struct {
    bool scan_url, scan_query;
    modcfg_list_t *applies_to, *deny_strings, *scan_headers;
} rf_rule_t;

typedef struct {
    bool remove_server, allow_double_escaping, allow_high_bit, unescape_query;
    bool ext_unlisted, verbs_unlisted;
    int64_t max_content, max_url, max_query;
    modcfg_list_t *always_urls, *always_queries, *hidden, *exts, *verbs, *url_seqs, *query_seqs;
    modcfg_list_t *header_names; /* flag unused; limits in header_limits[] */
    int64_t *header_limits;
    unsigned nrules;
    rf_rule_t *rules;
} rf_config_t;

static HTTP_MODULE_ID g_id;

static void rf_config_free(void *data)
{
    rf_config_t *c = data;
    if (c == NULL)
        return;
    free(c->always_urls);
    free(c->always_queries);
    free(c->hidden);
    free(c->exts);
    free(c->verbs);
    free(c->url_seqs);
    free(c->query_seqs);
    free(c->header_names);
    free(c->header_limits);
    for (unsigned i = 0; i < c->nrules; i++) {
        free(c->rules[i].applies_to);
        free(c->rules[i].deny_strings);
        free(c->rules[i].scan_headers);
    }
    free(c->rules);
    free(c);
}

/* The list of attribute attr of the items of child collection `name` of e. */
static modcfg_list_t *child_list(IAppHostElement *e, const wchar_t *name, const wchar_t *attr,
                                 const wchar_t *flag, bool flag_def, bool *unlisted)
{
    IAppHostElement *coll = modcfg_child(e, name);
    if (unlisted != NULL)
        *unlisted = modcfg_bool(coll, L"allowUnlisted", true);
    modcfg_list_t *l = modcfg_list(coll, attr, NULL, flag, flag_def);
    modcfg_release(coll);
    return l;
}

static void *rf_config_load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *sec = modcfg_section(srv, ctx, SECTION);
    if (sec == NULL)
        return NULL;
    rf_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail;
    c->remove_server = modcfg_bool(sec, L"removeServerHeader", false);
    c->allow_double_escaping = modcfg_bool(sec, L"allowDoubleEscaping", false);
    c->allow_high_bit = modcfg_bool(sec, L"allowHighBitCharacters", true);
    c->unescape_query = modcfg_bool(sec, L"unescapeQueryString", true);
    IAppHostElement *limits = modcfg_child(sec, L"requestLimits");
    c->max_content = modcfg_int(limits, L"maxAllowedContentLength", 30000000);
    c->max_url = modcfg_int(limits, L"maxUrl", 4096);
    c->max_query = modcfg_int(limits, L"maxQueryString", 2048);
    IAppHostElement *hl = modcfg_child(limits, L"headerLimits");
    c->header_names = modcfg_list(hl, L"header", NULL, NULL, false);
    unsigned nh = c->header_names ? c->header_names->n : 0;
    c->header_limits = calloc(nh ? nh : 1, sizeof(int64_t));
    /* modcfg_list skips empty names: match limits to names by walking the items again */
    for (unsigned i = 0, k = 0; c->header_limits && i < modcfg_count(hl) && k < nh; i++) {
        IAppHostElement *it = modcfg_item(hl, i);
        char name[CFG_STR_MAX];
        if (modcfg_str(it, L"header", name, sizeof(name), "") > 0)
            c->header_limits[k++] = modcfg_int(it, L"sizeLimit", 0);
        modcfg_release(it);
    }
    modcfg_release(hl);
    modcfg_release(limits);
    /* header names are compared without a trailing ':' */
    for (unsigned i = 0; i < nh; i++) {
        struct modcfg_list_item *it = &c->header_names->item[i];
        if (it->len > 0 && it->s[it->len - 1] == ':')
            ((char *)it->s)[--it->len] = '\0';
    }
    c->always_urls = child_list(sec, L"alwaysAllowedUrls", L"url", NULL, false, NULL);
    c->always_queries = child_list(sec, L"alwaysAllowedQueryStrings", L"queryString", NULL, false, NULL);
    c->hidden = child_list(sec, L"hiddenSegments", L"segment", NULL, false, NULL);
    c->exts = child_list(sec, L"fileExtensions", L"fileExtension", L"allowed", true, &c->ext_unlisted);
    c->verbs = child_list(sec, L"verbs", L"verb", L"allowed", true, &c->verbs_unlisted);
    c->url_seqs = child_list(sec, L"denyUrlSequences", L"sequence", NULL, false, NULL);
    c->query_seqs = child_list(sec, L"denyQueryStringSequences", L"sequence", NULL, false, NULL);
    if (!c->header_names || !c->header_limits || !c->always_urls || !c->always_queries || !c->hidden ||
        !c->exts || !c->verbs || !c->url_seqs || !c->query_seqs)
        goto fail;
    IAppHostElement *rules = modcfg_child(sec, L"filteringRules");
    unsigned nr = modcfg_count(rules);
    c->rules = calloc(nr ? nr : 1, sizeof(*c->rules));
    if (c->rules == NULL) {
        modcfg_release(rules);
        goto fail;
    }
    for (unsigned i = 0; i < nr; i++) {
        IAppHostElement *r = modcfg_item(rules, i);
        rf_rule_t *rule = &c->rules[c->nrules++];
        rule->scan_url = modcfg_bool(r, L"scanUrl", false);
        rule->scan_query = modcfg_bool(r, L"scanQueryString", false);
        rule->applies_to = child_list(r, L"appliesTo", L"fileExtension", NULL, false, NULL);
        rule->deny_strings = child_list(r, L"denyStrings", L"string", NULL, false, NULL);
        rule->scan_headers = child_list(r, L"scanHeaders", L"requestHeader", NULL, false, NULL);
        modcfg_release(r);
        if (!rule->applies_to || !rule->deny_strings || !rule->scan_headers) {
            modcfg_release(rules);
            goto fail;
        }
    }
    modcfg_release(rules);
    modcfg_release(sec);
    return c;
fail:
    modcfg_release(sec);
    rf_config_free(c);
    g_server->lpVtbl->ReportUnhealthy(
        g_server, L"RequestFilteringModule: out of memory reading its configuration", E_OUTOFMEMORY);
    return NULL;
}

/* ---- matching against the parsed lists ------------------------------------- */

static bool list_equals(const modcfg_list_t *l, const char *s)
{
    return modcfg_list_find(l, s, false) != NULL;
}

/* True when an item of l occurs in one of the texts (case-insensitive). */
static bool list_contained(const modcfg_list_t *l, const char *a, size_t an, const char *b, size_t bn)
{
    for (unsigned i = 0; i < l->n; i++) {
        const char *v = l->item[i].s;
        if ((a && icontains(a, an, v)) || (b && icontains(b, bn, v)))
            return true;
    }
    return false;
}

/* allowed/denied by an (allowUnlisted, add key= allowed=) list. */
static bool list_allows(const modcfg_list_t *l, bool unlisted, const char *key, bool case_sensitive)
{
    const struct modcfg_list_item *it = modcfg_list_find(l, key, case_sensitive);
    return it ? it->flag : unlisted;
}

/* 431 when a header of requestLimits/headerLimits is longer than its sizeLimit. */
static bool headers_too_long(const rf_config_t *c, IHttpRequest *req)
{
    for (unsigned i = 0; i < c->header_names->n; i++) {
        USHORT len = 0;
        PCSTR val = req->lpVtbl->GetHeaderByName(req, c->header_names->item[i].s, &len);
        if (val != NULL && (int64_t)len > c->header_limits[i])
            return true;
    }
    return false;
}

/* 404.19: a filteringRule whose denyStrings occur in a scanned part. */
static bool rules_deny(const rf_config_t *c, IHttpRequest *req, const char *path, size_t pn,
                       const char *rawpath, size_t rpn, const char *query, size_t qn, const char *dquery,
                       size_t dqn)
{
    const char *ext = last_extension(path);
    for (unsigned i = 0; i < c->nrules; i++) {
        const rf_rule_t *r = &c->rules[i];
        if (r->applies_to->n > 0 && !list_equals(r->applies_to, ext))
            continue;
        if (r->scan_url && list_contained(r->deny_strings, path, pn, rawpath, rpn))
            return true;
        if (r->scan_query && list_contained(r->deny_strings, query, qn, dquery, dqn))
            return true;
        for (unsigned j = 0; j < r->scan_headers->n; j++) {
            USHORT len = 0;
            PCSTR val = req->lpVtbl->GetHeaderByName(req, r->scan_headers->item[j].s, &len);
            if (val != NULL && list_contained(r->deny_strings, val, len, NULL, 0))
                return true;
        }
    }
    return false;
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

    const rf_config_t *c = modcfg_cached(g_server, ctx, g_id, rf_config_load, rf_config_free);
    if (c == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    self->remove_server = c->remove_server;

    /* always allowed: no further check */
    if (list_equals(c->always_urls, path) || list_equals(c->always_urls, rawpath) ||
        (qn > 0 && (list_equals(c->always_queries, query) || list_equals(c->always_queries, dquery))))
        return RQ_NOTIFICATION_CONTINUE;

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
        too_large = end != buf && (cll >= sizeof(buf) - 1 || v > (unsigned long long)c->max_content);
    }
    if (too_large)
        return reject(ctx, 413, 1, "Request Entity Too Large", "the content length is too large");
    if ((int64_t)pn > c->max_url)
        return reject(ctx, 404, 14, "Not Found", "the URL is too long");
    if ((int64_t)qn > c->max_query)
        return reject(ctx, 404, 15, "Not Found", "the query string is too long");
    if (headers_too_long(c, req))
        return reject(ctx, 431, 0, "Request Header Fields Too Large", "a request header is too long");
    if (!c->allow_double_escaping && has_escape(path, pn))
        return reject(ctx, 404, 11, "Not Found", "the URL is double escaped");
    if (!c->allow_high_bit && (has_high_bit(path, pn) || has_high_bit(rp, rpn)))
        return reject(ctx, 404, 12, "Not Found", "the URL contains high-bit characters");
    if (has_segment(path, c->hidden))
        return reject(ctx, 404, 8, "Not Found", "the URL contains a hidden segment");
    if (!list_allows(c->exts, c->ext_unlisted, last_extension(path), false))
        return reject(ctx, 404, 7, "Not Found", "the file extension is denied");
    if (!list_allows(c->verbs, c->verbs_unlisted, req->lpVtbl->GetHttpMethod(req), true))
        return reject(ctx, 404, 6, "Not Found", "the verb is denied");
    if (list_contained(c->url_seqs, path, pn, rawpath, rpn))
        return reject(ctx, 404, 5, "Not Found", "the URL contains a denied sequence");
    if (qn > 0 && list_contained(c->query_seqs, query, qn, c->unescape_query ? dquery : NULL, dqn))
        return reject(ctx, 404, 18, "Not Found", "the query string contains a denied sequence");
    if (rules_deny(c, req, path, pn, rawpath, rpn, query, qn, dquery, dqn))
        return reject(ctx, 404, 19, "Not Found", "a filtering rule denied the request");
    return RQ_NOTIFICATION_CONTINUE;
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

static CHttpModuleVtbl rf_vtbl;

static iisd_factory_t factory = IISD_FACTORY(rf_vtbl, sizeof(rf_module_t));

HRESULT WINAPI IISD_MODULE_ENTRY(RequestFilteringModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(RequestFilteringModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                         IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    rf_vtbl.OnBeginRequest = on_begin;
    rf_vtbl.OnSendResponse = on_send;
    rf_vtbl.Dispose = iisd_module_dispose;
    HRESULT hr =
        info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetPriorityForRequestNotification(info, RQ_BEGIN_REQUEST, PRIORITY_ALIAS_HIGH);
}
