/* Server variables (IHttpContext::GetServerVariable), computed on demand into the request arena. */
#include "core/str.h"
#include "pipeline/hctx.h"
#include "pipeline/perf.h"
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const char *sv_dup(iisd_hctx_t *h, const char *s, size_t n, size_t *len)
{
    *len = n;
    return iisd_arena_strndup(h->arena, s, n);
}

/* A decimal number into the request arena. */
static const char *sv_num(iisd_hctx_t *h, unsigned long long v, size_t *len)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return sv_dup(h, p, (size_t)(buf + sizeof(buf) - p), len);
}

static const char *fmt_ip(iisd_hctx_t *h, const struct sockaddr_in6 *sa, size_t *len)
{
    char buf[INET6_ADDRSTRLEN];
    if (sa->sin6_family == AF_INET) {
        /* dotted quad by hand: inet_ntop goes through sprintf */
        const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            unsigned v = b[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = '.';
        }
        return sv_dup(h, buf, (size_t)(p - buf - 1), len);
    }
    inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof(buf));
    return sv_dup(h, buf, strlen(buf), len);
}

static const char *fmt_port(iisd_hctx_t *h, const struct sockaddr_in6 *sa, size_t *len)
{
    return sv_num(h, ntohs(sa->sin6_port), len); /* same offset for AF_INET */
}

/* "HTTP_USER_AGENT" -> the User-Agent header: '_' matches '-', case-insensitive. */
static bool http_name_eq(const char *var, const char *field, size_t flen)
{
    size_t i = 0;
    for (; i < flen && var[i]; i++) {
        char a = iisd_toupper(var[i]), b = iisd_toupper(field[i]);
        if (b == '-')
            b = '_';
        if (a != b)
            return false;
    }
    return i == flen && var[i] == '\0';
}

static const char *all_headers(iisd_hctx_t *h, bool raw, size_t *len)
{
    const iisd_head_t *hd = &h->rq->head;
    size_t cap = 1;
    for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++)
        if (hd->known[i].value)
            cap += iisd_req_hdr_name_lens[i] + hd->known[i].len + 8;
    for (int i = 0; i < hd->unknown_count; i++)
        cap += hd->unknown[i].name_len + hd->unknown[i].value_len + 8;
    char *out = iisd_arena_alloc(h->arena, cap), *p = out;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? IISD_HDR_REQ_KNOWN : hd->unknown_count;
        for (int i = 0; i < n; i++) {
            const char *name = pass == 0 ? iisd_req_hdr_names[i] : hd->unknown[i].name;
            size_t nl = pass == 0 ? iisd_req_hdr_name_lens[i] : hd->unknown[i].name_len;
            const char *v = pass == 0 ? hd->known[i].value : hd->unknown[i].value;
            size_t vl = pass == 0 ? hd->known[i].len : hd->unknown[i].value_len;
            if (v == NULL)
                continue;
            if (raw) {
                memcpy(p, name, nl);
                p += nl;
                *p++ = ':';
                *p++ = ' ';
            } else {
                memcpy(p, "HTTP_", 5);
                p += 5;
                for (size_t k = 0; k < nl; k++)
                    *p++ = name[k] == '-' ? '_' : iisd_toupper(name[k]);
                *p++ = ':';
            }
            memcpy(p, v, vl);
            p += vl;
            if (raw)
                *p++ = '\r';
            *p++ = '\n';
        }
    }
    *p = '\0';
    *len = (size_t)(p - out);
    return out;
}

/* HEADER_<name>: the header named exactly so (case-insensitive; underscores stay underscores). */
static const char *header_exact(iisd_hctx_t *h, const char *name, size_t *len)
{
    const iisd_head_t *hd = &h->rq->head;
    size_t n = strlen(name);
    for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++)
        if (hd->known[i].value && iisd_strcaseeq(name, n, iisd_req_hdr_names[i], iisd_req_hdr_name_lens[i])) {
            *len = hd->known[i].len;
            return hd->known[i].value;
        }
    for (int i = 0; i < hd->unknown_count; i++)
        if (iisd_strcaseeq(name, n, hd->unknown[i].name, hd->unknown[i].name_len)) {
            *len = hd->unknown[i].value_len;
            return hd->unknown[i].value;
        }
    return NULL;
}

static const char *header_var(iisd_hctx_t *h, const char *name, size_t *len)
{
    const iisd_head_t *hd = &h->rq->head;
    for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++)
        if (hd->known[i].value && http_name_eq(name, iisd_req_hdr_names[i], iisd_req_hdr_name_lens[i])) {
            *len = hd->known[i].len;
            return hd->known[i].value;
        }
    for (int i = 0; i < hd->unknown_count; i++)
        if (http_name_eq(name, hd->unknown[i].name, hd->unknown[i].name_len)) {
            *len = hd->unknown[i].value_len;
            return hd->unknown[i].value;
        }
    return NULL;
}

/*
 * The authentication variables, from the IHttpUser set in RQ_AUTHENTICATE_REQUEST (empty when
 * there is none, or for the anonymous user): AUTH_TYPE the user's authentication type,
 * LOGON_USER the account (IHttpUser::GetUserName), REMOTE_USER, AUTH_USER and
 * UNMAPPED_REMOTE_USER the name the client sent (GetRemoteUserName), AUTH_PASSWORD its password.
 * Returns NULL when name is none of them.
 */
static const char *auth_var(iisd_hctx_t *h, const char *name, size_t *len)
{
    IHttpUser *u = h->user;
    const wchar_t *w;
    if (strcasecmp(name, "AUTH_TYPE") == 0)
        w = u ? u->lpVtbl->GetAuthenticationType(u) : NULL;
    else if (strcasecmp(name, "LOGON_USER") == 0)
        w = u ? u->lpVtbl->GetUserName(u) : NULL;
    else if (strcasecmp(name, "REMOTE_USER") == 0 || strcasecmp(name, "AUTH_USER") == 0 ||
             strcasecmp(name, "UNMAPPED_REMOTE_USER") == 0)
        w = u ? u->lpVtbl->GetRemoteUserName(u) : NULL;
    else if (strcasecmp(name, "AUTH_PASSWORD") == 0)
        w = u ? u->lpVtbl->GetPassword(u) : NULL;
    else
        return NULL;
    if (w == NULL)
        return sv_dup(h, "", 0, len);
    return iisd_arena_utf8_from_wcs(h->arena, w, wcslen(w), len);
}

/* The variables the server computes, by name (found through sv_table below). */
enum sv_id {
    SV_ALL_HTTP,
    SV_ALL_RAW,
    SV_APPL_MD_PATH,
    SV_APPL_PHYSICAL_PATH,
    SV_APP_POOL_ID,
    SV_AUTH_PASSWORD,
    SV_AUTH_TYPE,
    SV_AUTH_USER,
    SV_CACHE_URL,
    SV_CONTENT_LENGTH,
    SV_CONTENT_TYPE,
    SV_DOCUMENT_ROOT,
    SV_GATEWAY_INTERFACE,
    SV_HTTPS,
    SV_IISD_BYTES_RECEIVED,
    SV_IISD_BYTES_SENT,
    SV_IISD_LOG_DATA_SET,
    SV_INSTANCE_ID,
    SV_INSTANCE_META_PATH,
    SV_INSTANCE_NAME,
    SV_LOCAL_ADDR,
    SV_LOGON_USER,
    SV_PATH_INFO,
    SV_PATH_TRANSLATED,
    SV_QUERY_STRING,
    SV_REMOTE_ADDR,
    SV_REMOTE_HOST,
    SV_REMOTE_PORT,
    SV_REMOTE_USER,
    SV_REQUEST_FILENAME,
    SV_REQUEST_FLAGS,
    SV_REQUEST_METHOD,
    SV_REQUEST_URI,
    SV_SCRIPT_FILENAME,
    SV_SCRIPT_NAME,
    SV_SCRIPT_TRANSLATED,
    SV_SERVER_ADDR,
    SV_SERVER_NAME,
    SV_SERVER_PORT,
    SV_SERVER_PORT_SECURE,
    SV_SERVER_PROTOCOL,
    SV_SERVER_SOFTWARE,
    SV_UNENCODED_URL,
    SV_UNMAPPED_REMOTE_USER,
    SV_URL,
    SV_APP_POOL_CONFIG,
    SV_CERT_COOKIE,
    SV_CERT_FLAGS,
    SV_CERT_ISSUER,
    SV_CERT_KEYSIZE,
    SV_CERT_SECRETKEYSIZE,
    SV_CERT_SERIALNUMBER,
    SV_CERT_SERVER_ISSUER,
    SV_CERT_SERVER_SUBJECT,
    SV_CERT_SUBJECT,
    SV_HTTPS_KEYSIZE,
    SV_HTTPS_SECRETKEYSIZE,
    SV_HTTPS_SERVER_ISSUER,
    SV_HTTPS_SERVER_SUBJECT,
    SV_SSI_EXEC_DISABLED,
    SV_URL_PATH_INFO,
};

static const struct sv_name {
    const char *name;
    enum sv_id id;
} sv_names[] = {
#define N(x)                                                                                                 \
    {                                                                                                        \
#x, SV_##x                                                                                           \
    }
    N(ALL_HTTP),
    N(ALL_RAW),
    N(APPL_MD_PATH),
    N(APPL_PHYSICAL_PATH),
    N(APP_POOL_ID),
    N(AUTH_PASSWORD),
    N(AUTH_TYPE),
    N(AUTH_USER),
    N(CACHE_URL),
    N(CONTENT_LENGTH),
    N(CONTENT_TYPE),
    N(DOCUMENT_ROOT),
    N(GATEWAY_INTERFACE),
    N(HTTPS),
    N(IISD_BYTES_RECEIVED),
    N(IISD_BYTES_SENT),
    N(IISD_LOG_DATA_SET),
    N(INSTANCE_ID),
    N(INSTANCE_META_PATH),
    N(INSTANCE_NAME),
    N(LOCAL_ADDR),
    N(LOGON_USER),
    N(PATH_INFO),
    N(PATH_TRANSLATED),
    N(QUERY_STRING),
    N(REMOTE_ADDR),
    N(REMOTE_HOST),
    N(REMOTE_PORT),
    N(REMOTE_USER),
    N(REQUEST_FILENAME),
    N(REQUEST_FLAGS),
    N(REQUEST_METHOD),
    N(REQUEST_URI),
    N(SCRIPT_FILENAME),
    N(SCRIPT_NAME),
    N(SCRIPT_TRANSLATED),
    N(SERVER_ADDR),
    N(SERVER_NAME),
    N(SERVER_PORT),
    N(SERVER_PORT_SECURE),
    N(SERVER_PROTOCOL),
    N(SERVER_SOFTWARE),
    N(UNENCODED_URL),
    N(UNMAPPED_REMOTE_USER),
    N(URL),
    N(APP_POOL_CONFIG),
    N(CERT_COOKIE),
    N(CERT_FLAGS),
    N(CERT_ISSUER),
    N(CERT_KEYSIZE),
    N(CERT_SECRETKEYSIZE),
    N(CERT_SERIALNUMBER),
    N(CERT_SERVER_ISSUER),
    N(CERT_SERVER_SUBJECT),
    N(CERT_SUBJECT),
    N(HTTPS_KEYSIZE),
    N(HTTPS_SECRETKEYSIZE),
    N(HTTPS_SERVER_ISSUER),
    N(HTTPS_SERVER_SUBJECT),
    N(SSI_EXEC_DISABLED),
    N(URL_PATH_INFO),
#undef N
};

static inline unsigned char sv_up(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* The names hashed (FNV-1a over the upper-cased name) into an open-addressing table, built
   once: a lookup hashes the name and compares it once. */
#define SV_SLOTS 512
static struct {
    const struct sv_name *e;
    uint32_t hash;
    uint32_t len;
} sv_table[SV_SLOTS];
static pthread_once_t sv_built = PTHREAD_ONCE_INIT;

static uint32_t sv_hash(const char *name, size_t *len)
{
    uint32_t h = 2166136261u;
    size_t n = 0;
    for (; name[n]; n++)
        h = (h ^ sv_up((unsigned char)name[n])) * 16777619u;
    *len = n;
    return h;
}

static void sv_build(void)
{
    _Static_assert(sizeof(sv_names) / sizeof(sv_names[0]) * 2 <= SV_SLOTS, "server-variable table too small");
    for (size_t i = 0; i < sizeof(sv_names) / sizeof(sv_names[0]); i++) {
        size_t n;
        uint32_t h = sv_hash(sv_names[i].name, &n);
        unsigned k = h & (SV_SLOTS - 1);
        while (sv_table[k].e != NULL)
            k = (k + 1) & (SV_SLOTS - 1);
        sv_table[k].e = &sv_names[i];
        sv_table[k].hash = h;
        sv_table[k].len = (uint32_t)n;
    }
}

static const struct sv_name *sv_find(const char *name)
{
    pthread_once(&sv_built, sv_build);
    size_t n;
    uint32_t h = sv_hash(name, &n);
    for (unsigned k = h & (SV_SLOTS - 1); sv_table[k].e != NULL; k = (k + 1) & (SV_SLOTS - 1))
        if (sv_table[k].hash == h && sv_table[k].len == n && strcasecmp(sv_table[k].e->name, name) == 0)
            return sv_table[k].e;
    return NULL;
}

/* IISD_[SERVER_]PERF_COUNTERS (all nonzero) and IISD_[SERVER_]PERF_COUNTER_<n> (one): perf.c. */
static const char *perf_var(iisd_hctx_t *h, const char *name, size_t *len)
{
    const char *rest = name + 5;
    IHttpPerfCounterInfo *info;
    if (strncasecmp(rest, "SERVER_", 7) == 0) {
        info = iisd_perf_server();
        rest += 7;
    } else {
        info = iisd_perf_site(h->sitedef->id);
    }
    if (strcasecmp(rest, "PERF_COUNTERS") == 0) {
        char buf[IISD_PERF_COUNTERS * 28];
        size_t n = iisd_perf_format(info, buf, sizeof(buf));
        return sv_dup(h, buf, n, len);
    }
    if (strncasecmp(rest, "PERF_COUNTER_", 13) != 0 || rest[13] < '0' || rest[13] > '9')
        return NULL;
    char *end;
    unsigned long i = strtoul(rest + 13, &end, 10);
    if (*end != '\0' || i >= IISD_PERF_COUNTERS)
        return NULL;
    long long v = iisd_perf_value(info, (unsigned)i);
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return sv_dup(h, buf, (size_t)n, len);
}

/* HTTP_URL, HTTP_METHOD and HTTP_VERSION are request facts; other HTTP_<NAME> are headers. */
static bool is_header_var(const char *name)
{
    return strncasecmp(name, "HTTP_", 5) == 0 && strcasecmp(name, "HTTP_URL") != 0 &&
           strcasecmp(name, "HTTP_METHOD") != 0 && strcasecmp(name, "HTTP_VERSION") != 0 && name[5] != '\0';
}

/*
 * SetServerVariable("HTTP_<NAME>", v) sets the request header <NAME>, each '_' becoming '-' (the
 * convention by which HTTP_<NAME> reads a header); the header is replaced, or deleted when v is
 * empty. A known header keeps its standard spelling; another gets each word capitalised
 * ("HTTP_X_ORIGINAL_HOST" -> "X-Original-Host"). Other names are the request's own variables.
 */
HRESULT iisd_svar_set_hook(iisd_hctx_t *h, const char *name, const char *value)
{
    if (!is_header_var(name))
        return S_OK;
    const char *n = name + 5;
    size_t nl = strlen(n);
    char *hn = iisd_arena_alloc(h->arena, nl + 1);
    for (int i = 0; i < IISD_HDR_REQ_KNOWN; i++)
        if (http_name_eq(n, iisd_req_hdr_names[i], iisd_req_hdr_name_lens[i])) {
            memcpy(hn, iisd_req_hdr_names[i], nl);
            goto named;
        }
    for (size_t i = 0; i < nl; i++) {
        bool start = i == 0 || hn[i - 1] == '-';
        hn[i] = n[i] == '_' ? '-' : start ? iisd_toupper(n[i]) : iisd_tolower(n[i]);
    }
named:
    hn[nl] = '\0';
    IHttpRequest *req = (IHttpRequest *)&h->req;
    size_t vl = strlen(value);
    if (vl == 0)
        return req->lpVtbl->DeleteHeaderByName(req, hn);
    if (vl > 0xffff)
        return HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
    return req->lpVtbl->SetHeaderByName(req, hn, value, (USHORT)vl, TRUE);
}

/*
 * Every variable of the IIS list (web-dev-reference/server-variables), HTTP_<NAME> and
 * HEADER_<NAME> headers, iisd's own IISD_BYTES_*, and the variables modules set. Without TLS,
 * HTTPS is "off", and the CERT_* and HTTPS_* certificate variables are empty.
 */
const char *iisd_hctx_server_variable(iisd_hctx_t *h, const char *name, size_t *len)
{
    const iisd_req_t *r = h->rq;
    const iisd_head_t *hd = &r->head;
    if (h->svars != NULL && !is_header_var(name)) /* a set HTTP_<NAME> is the header itself */
        for (iisd_svar_t *sv = h->svars; sv != NULL; sv = sv->next)
            if (strcasecmp(sv->name, name) == 0) {
                *len = strlen(sv->value);
                return sv->value;
            }
    unsigned char c0 = sv_up((unsigned char)name[0]); /* the prefixes below start with I or H */
    if (c0 == 'I' && strncasecmp(name, "IISD_", 5) == 0 &&
        (strncasecmp(name + 5, "PERF_COUNTER", 12) == 0 ||
         strncasecmp(name + 5, "SERVER_PERF_COUNTER", 19) == 0))
        return perf_var(h, name, len);
    if (c0 == 'H' && strncasecmp(name, "HEADER_", 7) == 0 && name[7] != '\0')
        return header_exact(h, name + 7, len);
    if (c0 == 'H' && strncasecmp(name, "HTTP_", 5) == 0) {
        if (strcasecmp(name, "HTTP_URL") == 0)
            return sv_dup(h, hd->target, hd->target_len, len);
        if (strcasecmp(name, "HTTP_METHOD") == 0)
            name = "REQUEST_METHOD";
        else if (strcasecmp(name, "HTTP_VERSION") == 0)
            name = "SERVER_PROTOCOL";
        else
            return header_var(h, name + 5, len);
    }
    const struct sv_name *e = sv_find(name);
    if (e == NULL)
        return NULL;
    switch (e->id) {
    case SV_URL:
    case SV_URL_PATH_INFO:
    case SV_SCRIPT_NAME:
    case SV_PATH_INFO:
    case SV_REQUEST_URI:
        *len = h->url_len;
        return h->url;
    case SV_QUERY_STRING:
        return sv_dup(h, h->query, h->query_len, len);
    case SV_REQUEST_METHOD: {
        const char *m = h->method ? h->method : hd->method;
        *len = strlen(m);
        return m;
    }
    case SV_UNENCODED_URL:
    case SV_CACHE_URL:
        return sv_dup(h, hd->target, hd->target_len, len);
    case SV_REMOTE_ADDR:
    case SV_REMOTE_HOST:
        return fmt_ip(h, &h->c->remote, len);
    case SV_REMOTE_PORT:
        return fmt_port(h, &h->c->remote, len);
    case SV_LOCAL_ADDR:
    case SV_SERVER_ADDR:
        return fmt_ip(h, iisd_conn_local(h->c), len);
    case SV_SERVER_PORT:
        return fmt_port(h, iisd_conn_local(h->c), len);
    case SV_SERVER_PORT_SECURE:
        return sv_dup(h, "0", 1, len);
    case SV_HTTPS:
        return sv_dup(h, "off", 3, len);
    case SV_SERVER_PROTOCOL: {
        char v[9] = "HTTP/1.1";
        v[5] = (char)('0' + hd->version_major % 10);
        v[7] = (char)('0' + hd->version_minor % 10);
        return sv_dup(h, v, 8, len);
    }
    case SV_SERVER_SOFTWARE:
        return sv_dup(h, "iisd/0.1", 8, len);
    case SV_GATEWAY_INTERFACE:
        return sv_dup(h, "CGI/1.1", 7, len);
    case SV_SERVER_NAME: {
        const char *host = hd->known[IISD_H_HOST].value;
        if (host && *host) {
            const char *colon = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
            size_t n = colon ? (size_t)(colon - host + (host[0] == '[')) : strlen(host);
            return sv_dup(h, host, n, len);
        }
        return fmt_ip(h, iisd_conn_local(h->c), len);
    }
    case SV_CONTENT_LENGTH:
        return sv_num(h, (unsigned long long)(hd->content_length > 0 ? hd->content_length : 0), len);
    case SV_CONTENT_TYPE: {
        const char *v = hd->known[IISD_H_CONTENT_TYPE].value;
        return sv_dup(h, v ? v : "", v ? hd->known[IISD_H_CONTENT_TYPE].len : 0, len);
    }
    case SV_ALL_RAW:
        return all_headers(h, true, len);
    case SV_ALL_HTTP:
        return all_headers(h, false, len);
    case SV_INSTANCE_ID:
        return sv_num(h, h->sitedef->id, len);
    case SV_INSTANCE_NAME:
        return sv_dup(h, h->sitedef->name, strlen(h->sitedef->name), len);
    case SV_INSTANCE_META_PATH: {
        char v[32];
        int n = snprintf(v, sizeof(v), "/LM/W3SVC/%u", (unsigned)h->sitedef->id);
        return sv_dup(h, v, (size_t)n, len);
    }
    case SV_APPL_PHYSICAL_PATH:
    case SV_DOCUMENT_ROOT: {
        const char *path = e->id == SV_DOCUMENT_ROOT ? "/" : h->appdef->path;
        char *phys = iisd_site_map(h->sitedef, path, strlen(path));
        size_t n = phys ? strlen(phys) : 0;
        while (n > 1 && phys[n - 1] == '/')
            n--;
        char *v = iisd_arena_alloc(h->arena, n + 2);
        memcpy(v, phys ? phys : "", n);
        free(phys);
        if (e->id == SV_APPL_PHYSICAL_PATH)
            v[n++] = '/';
        v[n] = '\0';
        *len = n;
        return v;
    }
    case SV_APPL_MD_PATH: {
        char v[512];
        int n = snprintf(v, sizeof(v), "/LM/W3SVC/%u/ROOT%s", (unsigned)h->sitedef->id,
                         strcmp(h->appdef->path, "/") == 0 ? "" : h->appdef->path);
        return sv_dup(h, v, (size_t)n, len);
    }
    case SV_PATH_TRANSLATED:
    case SV_REQUEST_FILENAME:
    case SV_SCRIPT_FILENAME:
    case SV_SCRIPT_TRANSLATED: {
        size_t wl;
        const wchar_t *w = iisd_hctx_physical_path(h, &wl);
        return iisd_arena_utf8_from_wcs(h->arena, w, wl, len);
    }
    case SV_AUTH_TYPE:
    case SV_AUTH_USER:
    case SV_AUTH_PASSWORD:
    case SV_LOGON_USER:
    case SV_REMOTE_USER:
    case SV_UNMAPPED_REMOTE_USER:
        return auth_var(h, name, len);
    case SV_APP_POOL_ID:
        return sv_dup(h, "DefaultAppPool", 14, len);
    case SV_REQUEST_FLAGS:
    case SV_SSI_EXEC_DISABLED:
        return sv_dup(h, "0", 1, len);
    /* no TLS yet: no client or server certificate, no keys */
    case SV_APP_POOL_CONFIG:
    case SV_CERT_COOKIE:
    case SV_CERT_FLAGS:
    case SV_CERT_ISSUER:
    case SV_CERT_KEYSIZE:
    case SV_CERT_SECRETKEYSIZE:
    case SV_CERT_SERIALNUMBER:
    case SV_CERT_SERVER_ISSUER:
    case SV_CERT_SERVER_SUBJECT:
    case SV_CERT_SUBJECT:
    case SV_HTTPS_KEYSIZE:
    case SV_HTTPS_SECRETKEYSIZE:
    case SV_HTTPS_SERVER_ISSUER:
    case SV_HTTPS_SERVER_SUBJECT:
        return sv_dup(h, "", 0, len);
    /* iisd's own: the byte counts a W3C log records as sc-bytes and cs-bytes (HTTP.sys keeps these
       to itself on IIS). Bytes sent count the status line, headers and body written so far; bytes
       received the request head and the body bytes read. */
    case SV_IISD_BYTES_SENT:
        return sv_num(h, (unsigned long long)r->bytes_sent, len);
    case SV_IISD_BYTES_RECEIVED:
        return sv_num(h, (unsigned long long)hd->head_len + (unsigned long long)r->body_received, len);
    /* iisd's own: "1" once a module has replaced the log record with ISendResponseProvider::SetLogData */
    case SV_IISD_LOG_DATA_SET:
        *len = 1;
        return h->log_data_set ? "1" : "0";
    }
    return NULL;
}
