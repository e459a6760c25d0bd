/*
 * HttpCacheModule (system.webServer/caching): the output cache.
 *
 *  - RQ_UPDATE_REQUEST_CACHE: a 200 response to a GET is stored when
 *      - a module set the user cache policy (IHttpResponse::GetCachePolicy()->
 *        GetUserCachePolicy(): TimeToLive for SecondsToLive, UserInvalidates
 *        until the request's file changes), or
 *      - enableKernelCache is on and a module set the kernel cache policy the
 *        same way (iisd has no kernel cache; this cache stands in for it), or
 *      - a <profiles> entry for the URL's extension says CacheUntilChange (until
 *        the file changes) or CacheForTimePeriod (for duration), with location
 *        Any, Server or ServerAndClient;
 *    and the response is not larger than maxResponseSize, carries no Set-Cookie,
 *    answers a request without Authorization, and has not been flushed yet.
 *    Responses varied by headers (varyByHeaders, AppendVaryByHeader), by query
 *    string parameters (varyByQueryString, AppendVaryByQueryString; "*" for the
 *    whole query string) and by SetVaryByValue are stored per variant. A request
 *    with a query string is cached only when something varies by query string.
 *  - RQ_RESOLVE_REQUEST_CACHE: a GET or HEAD without Authorization, Range or
 *    conditional headers that finds a fresh entry gets the stored status,
 *    headers and body, and the request finishes there (RQ_SEND_RESPONSE,
 *    RQ_LOG_REQUEST and RQ_END_REQUEST still run). An entry tied to a file is
 *    checked against the file's size, modification time and inode on every hit.
 *  - GL_CONFIGURATION_CHANGE empties the cache. maxCacheSize is in MB (0: 64 MB);
 *    the least recently used entries go first.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define SECTION        L"system.webServer/caching"
#define DEFAULT_MAX_MB 64
#define KEY_MAX        8192
#define TABLE_BITS     12

enum { POL_DONT = 0, POL_UNTIL_CHANGE = 1, POL_TIME = 2, POL_DISABLE = 3 };
enum { LOC_ANY = 0, LOC_CLIENT = 1, LOC_DOWNSTREAM = 2, LOC_SERVER = 3, LOC_NONE = 4, LOC_SERVER_CLIENT = 5 };

typedef struct {
    char *ext; /* with its dot */
    int policy, location;
    int64_t duration_ms;
    char *vary_headers, *vary_query;
} hc_profile_t;

typedef struct {
    bool enabled, kernel;
    uint64_t max_bytes, max_response;
    unsigned nprofiles;
    hc_profile_t *profiles;
} hc_config_t;

typedef struct hc_header {
    int id; /* known response header id, or -1 */
    const char *name, *value;
    USHORT name_len, value_len;
} hc_header_t;

typedef struct hc_entry {
    struct hc_entry *hnext, *prev, *next; /* hash chain; LRU list */
    uint64_t hash;
    atomic_int refs; /* the table's and each serving request's */
    bool in_table;
    char *key;
    size_t key_len, mem;
    USHORT status;
    const char *reason;
    unsigned nheaders;
    hc_header_t *headers;
    char *body;
    size_t body_len;
    int64_t expires_ms; /* 0: no time limit */
    char *file;         /* the file it depends on, or NULL */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} hc_entry_t;

/* What varies, per URL (site and path): the latest stored response's. */
typedef struct hc_vary {
    struct hc_vary *hnext;
    uint64_t hash;
    char *base;
    char *headers, *query, *value; /* "" when none */
} hc_vary_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static hc_entry_t *g_table[1u << TABLE_BITS];
static hc_vary_t *g_vary[1u << TABLE_BITS];
static hc_entry_t g_lru = {.prev = &g_lru, .next = &g_lru}; /* most recent first */
static size_t g_mem;
static atomic_uint g_count; /* entries: 0 lets requests skip the lookup */

/* ---- pure helpers ---------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Appends s[0..n) to the key in out (len, cap); false when it does not fit. */
static bool key_add(char *out, size_t *len, size_t cap, const char *s, size_t n)
{
    if (*len + n + 1 > cap)
        return false;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

/* The value of parameter name[0..n) in query string q, or NULL; *vlen its length. */
static const char *query_param(const char *q, const char *name, size_t n, size_t *vlen)
{
    for (const char *p = q; p != NULL && *p;) {
        size_t seg = strcspn(p, "&");
        size_t klen = strcspn(p, "=&");
        if (klen == n && strncasecmp(p, name, n) == 0) {
            const char *v = p[klen] == '=' ? p + klen + 1 : p + klen;
            *vlen = seg - (size_t)(v - p);
            return v;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
    return NULL;
}

typedef const char *(*header_fn)(void *arg, const char *name, USHORT *len);

/*
 * Appends to the key the parts a variant is told apart by: each header of the comma-separated
 * list headers (via get), each parameter of query (or the whole query string for "*"), and value.
 */
static bool key_variant(char *out, size_t *len, size_t cap, const char *headers, const char *query,
                        const char *value, const char *qs, header_fn get, void *arg)
{
    char name[256];
    for (const char *p = headers; p && *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m > 0 && m < sizeof(name)) {
            memcpy(name, p, m);
            name[m] = '\0';
            USHORT vl = 0;
            const char *v = get(arg, name, &vl);
            if (!key_add(out, len, cap, "\x01H", 2) || !key_add(out, len, cap, name, m) ||
                !key_add(out, len, cap, v ? "=" : "!", 1) || (v && !key_add(out, len, cap, v, vl)))
                return false;
        }
        p += n;
    }
    if (query && strcmp(query, "*") == 0) {
        if (!key_add(out, len, cap, "\x01Q*", 3) || !key_add(out, len, cap, qs, strlen(qs)))
            return false;
    } else {
        for (const char *p = query; p && *p;) {
            p += strspn(p, ", ");
            size_t n = strcspn(p, ",");
            size_t m = n;
            while (m > 0 && p[m - 1] == ' ')
                m--;
            if (m > 0) {
                size_t vl = 0;
                const char *v = query_param(qs, p, m, &vl);
                if (!key_add(out, len, cap, "\x01Q", 2) || !key_add(out, len, cap, p, m) ||
                    !key_add(out, len, cap, v ? "=" : "!", 1) || (v && !key_add(out, len, cap, v, vl)))
                    return false;
            }
            p += n;
        }
    }
    if (value && *value &&
        (!key_add(out, len, cap, "\x01V", 2) || !key_add(out, len, cap, value, strlen(value))))
        return false;
    return true;
}

/* Joins two comma-separated lists (either may be NULL or "") into buf. */
static const char *join_lists(char *buf, size_t cap, const char *a, const char *b)
{
    snprintf(buf, cap, "%s%s%s", a ? a : "", a && *a && b && *b ? "," : "", b ? b : "");
    return buf;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- configuration --------------------------------------------------------------- */

static void hc_config_free(void *data)
{
    hc_config_t *c = data;
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->nprofiles; i++) {
        free(c->profiles[i].ext);
        free(c->profiles[i].vary_headers);
        free(c->profiles[i].vary_query);
    }
    free(c->profiles);
    free(c);
}

static char *str_attr(IAppHostElement *e, const wchar_t *name)
{
    char buf[1024];
    modcfg_str(e, name, buf, sizeof(buf), "");
    return strdup(buf);
}

static void *hc_config_load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *s = modcfg_section(srv, ctx, SECTION);
    if (s == NULL)
        return NULL;
    hc_config_t *c = calloc(1, sizeof(*c));
    IAppHostElement *profiles = modcfg_child(s, L"profiles");
    unsigned n = modcfg_count(profiles);
    if (c == NULL || (c->profiles = calloc(n ? n : 1, sizeof(*c->profiles))) == NULL)
        goto fail;
    c->enabled = modcfg_bool(s, L"enabled", true);
    c->kernel = modcfg_bool(s, L"enableKernelCache", true);
    int64_t mb = modcfg_int(s, L"maxCacheSize", 0);
    c->max_bytes = (uint64_t)(mb > 0 ? mb : DEFAULT_MAX_MB) << 20;
    c->max_response = (uint64_t)modcfg_int(s, L"maxResponseSize", 262144);
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(profiles, i);
        hc_profile_t *p = &c->profiles[c->nprofiles++];
        p->ext = str_attr(it, L"extension");
        p->policy = (int)modcfg_int(it, L"policy", POL_DONT);
        p->location = (int)modcfg_int(it, L"location", LOC_SERVER);
        p->duration_ms = modcfg_int(it, L"duration", 30000);
        p->vary_headers = str_attr(it, L"varyByHeaders");
        p->vary_query = str_attr(it, L"varyByQueryString");
        modcfg_release(it);
        if (p->ext == NULL || p->vary_headers == NULL || p->vary_query == NULL)
            goto fail;
    }
    modcfg_release(profiles);
    modcfg_release(s);
    return c;
fail:
    modcfg_release(profiles);
    modcfg_release(s);
    hc_config_free(c);
    return NULL;
}

static const hc_profile_t *profile_for(const hc_config_t *c, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    for (unsigned i = 0; dot != NULL && i < c->nprofiles; i++) {
        const char *e = c->profiles[i].ext;
        if (strcasecmp(e, e[0] == '.' ? dot : dot + 1) == 0)
            return &c->profiles[i];
    }
    return NULL;
}

/* ---- the store --------------------------------------------------------------------- */

static void entry_release(hc_entry_t *e)
{
    if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
        free(e->file);
        free(e);
    }
}

/* Unlinks e from the table and the LRU list (lock held); drops the table's reference. */
static void entry_remove_locked(hc_entry_t *e)
{
    if (!e->in_table)
        return;
    hc_entry_t **pp = &g_table[e->hash & ((1u << TABLE_BITS) - 1)];
    while (*pp != NULL && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp == e)
        *pp = e->hnext;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->in_table = false;
    g_mem -= e->mem;
    atomic_fetch_sub(&g_count, 1);
    entry_release(e);
}

static hc_entry_t *find_locked(const char *key, size_t len, uint64_t h)
{
    for (hc_entry_t *e = g_table[h & ((1u << TABLE_BITS) - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static hc_vary_t *vary_find_locked(const char *base, uint64_t h)
{
    for (hc_vary_t *v = g_vary[h & ((1u << TABLE_BITS) - 1)]; v != NULL; v = v->hnext)
        if (v->hash == h && strcmp(v->base, base) == 0)
            return v;
    return NULL;
}

static void vary_set_locked(const char *base, uint64_t h, const char *headers, const char *query,
                            const char *value)
{
    hc_vary_t *v = vary_find_locked(base, h);
    if (v != NULL && strcmp(v->headers, headers) == 0 && strcmp(v->query, query) == 0 &&
        strcmp(v->value, value) == 0)
        return;
    size_t bl = strlen(base) + 1, hl = strlen(headers) + 1, ql = strlen(query) + 1, vl = strlen(value) + 1;
    hc_vary_t *n = malloc(sizeof(*n) + bl + hl + ql + vl);
    if (n == NULL)
        return;
    char *p = (char *)(n + 1);
    n->base = memcpy(p, base, bl);
    n->headers = memcpy(p + bl, headers, hl);
    n->query = memcpy(p + bl + hl, query, ql);
    n->value = memcpy(p + bl + hl + ql, value, vl);
    n->hash = h;
    hc_vary_t **pp = &g_vary[h & ((1u << TABLE_BITS) - 1)];
    if (v != NULL) {
        while (*pp != v)
            pp = &(*pp)->hnext;
        *pp = v->hnext;
        free(v);
        pp = &g_vary[h & ((1u << TABLE_BITS) - 1)];
    }
    n->hnext = *pp;
    *pp = n;
}

static void flush_all(void)
{
    pthread_mutex_lock(&g_lock);
    while (g_lru.next != &g_lru)
        entry_remove_locked(g_lru.next);
    for (unsigned i = 0; i < (1u << TABLE_BITS); i++) {
        while (g_vary[i] != NULL) {
            hc_vary_t *v = g_vary[i];
            g_vary[i] = v->hnext;
            free(v);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

static void insert(hc_entry_t *e, uint64_t max_bytes)
{
    pthread_mutex_lock(&g_lock);
    hc_entry_t *old = find_locked(e->key, e->key_len, e->hash);
    if (old != NULL)
        entry_remove_locked(old);
    hc_entry_t **pp = &g_table[e->hash & ((1u << TABLE_BITS) - 1)];
    e->hnext = *pp;
    *pp = e;
    e->next = g_lru.next;
    e->prev = &g_lru;
    g_lru.next->prev = e;
    g_lru.next = e;
    e->in_table = true;
    g_mem += e->mem;
    atomic_fetch_add(&g_count, 1);
    while (g_mem > max_bytes && g_lru.prev != &g_lru && g_lru.prev != e)
        entry_remove_locked(g_lru.prev);
    pthread_mutex_unlock(&g_lock);
}

static bool file_unchanged(const hc_entry_t *e)
{
    struct stat st;
    return stat(e->file, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == e->dev && st.st_ino == e->ino &&
           st.st_size == e->size && st.st_mtim.tv_sec == e->mtime.tv_sec &&
           st.st_mtim.tv_nsec == e->mtime.tv_nsec;
}

/* ---- per request ------------------------------------------------------------------- */

typedef struct {
    CHttpModule base;
    hc_entry_t *hit; /* served from the cache: released in Dispose */
} hc_module_t;

static const char *req_header(void *arg, const char *name, USHORT *len)
{
    IHttpRequest *req = arg;
    return req->lpVtbl->GetHeaderByName(req, name, len);
}

/* The base key of a request (site and path, ASCII letters lower-cased) into out; its length or 0. */
static size_t base_key(IHttpContext *ctx, char *out, size_t cap, const char **qs)
{
    PCSTR url = NULL, q = NULL;
    DWORD ul = 0, ql = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &ul)) || url == NULL)
        return 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "QUERY_STRING", &q, &ql)) || q == NULL)
        q = "";
    *qs = q;
    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    int n = snprintf(out, cap, "%u\x01", (unsigned)(site ? site->lpVtbl->GetSiteId(site) : 0));
    if (n < 0 || (size_t)n + ul + 1 > cap)
        return 0;
    for (DWORD i = 0; i < ul; i++)
        out[n + i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] + 32 : url[i]);
    out[n + ul] = '\0';
    return (size_t)n + ul;
}

static bool bypass(IHttpRequest *req)
{
    static const HTTP_HEADER_ID skip[] = {
        HttpHeaderAuthorization, HttpHeaderRange,           HttpHeaderIfMatch,          HttpHeaderIfNoneMatch,
        HttpHeaderIfRange,       HttpHeaderIfModifiedSince, HttpHeaderIfUnmodifiedSince};
    for (unsigned i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (req->lpVtbl->GetHeaderById(req, skip[i], NULL) != NULL)
            return true;
    return false;
}

static REQUEST_NOTIFICATION_STATUS on_resolve(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    hc_module_t *self = (hc_module_t *)This;
    if (atomic_load_explicit(&g_count, memory_order_relaxed) == 0)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    PCSTR method = req->lpVtbl->GetHttpMethod(req);
    if ((strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) || bypass(req))
        return RQ_NOTIFICATION_CONTINUE;
    const hc_config_t *c = modcfg_cached(g_server, ctx, g_id, hc_config_load, hc_config_free);
    if (c == NULL || !c->enabled)
        return RQ_NOTIFICATION_CONTINUE;
    static __thread char key[KEY_MAX];
    const char *qs = "";
    size_t blen = base_key(ctx, key, sizeof(key), &qs);
    if (blen == 0)
        return RQ_NOTIFICATION_CONTINUE;
    uint64_t bh = hash_bytes(key, blen);
    hc_entry_t *e = NULL;
    pthread_mutex_lock(&g_lock);
    hc_vary_t *v = vary_find_locked(key, bh);
    size_t len = blen;
    if (v != NULL && (qs[0] == '\0' || v->query[0] != '\0') &&
        key_variant(key, &len, sizeof(key), v->headers, v->query, v->value, qs, req_header, req)) {
        e = find_locked(key, len, hash_bytes(key, len));
        if (e != NULL && e->expires_ms != 0 && now_ms() >= e->expires_ms) {
            entry_remove_locked(e);
            e = NULL;
        }
        if (e != NULL) {
            atomic_fetch_add(&e->refs, 1);
            e->prev->next = e->next; /* most recently used */
            e->next->prev = e->prev;
            e->next = g_lru.next;
            e->prev = &g_lru;
            g_lru.next->prev = e;
            g_lru.next = e;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (e == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    if (e->file != NULL && !file_unchanged(e)) {
        pthread_mutex_lock(&g_lock);
        entry_remove_locked(e);
        pthread_mutex_unlock(&g_lock);
        entry_release(e);
        return RQ_NOTIFICATION_CONTINUE;
    }
    self->hit = e;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, e->status, e->reason, 0, S_OK, NULL, FALSE);
    for (unsigned i = 0; i < e->nheaders; i++) {
        const hc_header_t *h = &e->headers[i];
        if (h->id >= 0)
            resp->lpVtbl->SetHeaderById(resp, (HTTP_HEADER_ID)h->id, h->value, h->value_len, TRUE);
        else
            resp->lpVtbl->SetHeaderByName(resp, h->name, h->value, h->value_len, FALSE);
    }
    if (e->body_len > 0) {
        HTTP_DATA_CHUNK ch;
        memset(&ch, 0, sizeof(ch));
        ch.DataChunkType = HttpDataChunkFromMemory;
        ch.FromMemory.pBuffer = e->body;
        ch.FromMemory.BufferLength = (ULONG)e->body_len;
        resp->lpVtbl->WriteEntityChunkByReference(resp, &ch, -1);
    }
    IHttpCachePolicy *pol = resp->lpVtbl->GetCachePolicy(resp);
    if (pol != NULL)
        pol->lpVtbl->SetIsCached(pol);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

/* Response headers that are the connection's or are made again for every response. */
static bool stored_header(int id)
{
    return id != HttpHeaderConnection && id != HttpHeaderDate && id != HttpHeaderKeepAlive &&
           id != HttpHeaderTransferEncoding && id != HttpHeaderContentLength && id != HttpHeaderServer &&
           id != HttpHeaderTrailer && id != HttpHeaderUpgrade;
}

/* Copies the response into a new entry (key, status, headers, body); NULL when it cannot be stored. */
static hc_entry_t *capture(const HTTP_RESPONSE *raw, const char *key, size_t klen, uint64_t max_response)
{
    if (raw->Headers.KnownHeaders[HttpHeaderSetCookie].pRawValue != NULL)
        return NULL;
    uint64_t body = 0;
    for (USHORT i = 0; i < raw->EntityChunkCount; i++) {
        const HTTP_DATA_CHUNK *d = &raw->pEntityChunks[i];
        if (d->DataChunkType == HttpDataChunkFromMemory)
            body += d->FromMemory.BufferLength;
        else if (d->DataChunkType == HttpDataChunkFromFileHandle)
            body += d->FromFileHandle.ByteRange.Length.QuadPart;
        else
            return NULL;
        if (body > max_response)
            return NULL;
    }
    unsigned nh = 0;
    size_t text = klen + 1 + raw->ReasonLength + 1;
    for (int i = 0; i < HttpHeaderResponseMaximum; i++)
        if (raw->Headers.KnownHeaders[i].pRawValue != NULL && stored_header(i)) {
            nh++;
            text += raw->Headers.KnownHeaders[i].RawValueLength + 1u;
        }
    for (USHORT i = 0; i < raw->Headers.UnknownHeaderCount; i++) {
        const HTTP_UNKNOWN_HEADER *u = &raw->Headers.pUnknownHeaders[i];
        nh++;
        text += u->NameLength + 1u + u->RawValueLength + 1u;
    }
    size_t mem = sizeof(hc_entry_t) + nh * sizeof(hc_header_t) + text + body + 1;
    hc_entry_t *e = calloc(1, mem);
    if (e == NULL)
        return NULL;
    e->mem = mem;
    e->headers = (hc_header_t *)(e + 1);
    char *p = (char *)(e->headers + nh);
    e->key = memcpy(p, key, klen);
    p[klen] = '\0';
    e->key_len = klen;
    p += klen + 1;
    e->reason = memcpy(p, raw->pReason ? raw->pReason : "", raw->pReason ? raw->ReasonLength : 0);
    p[raw->pReason ? raw->ReasonLength : 0] = '\0';
    p += raw->ReasonLength + 1;
    e->status = raw->StatusCode;
    for (int i = 0; i < HttpHeaderResponseMaximum; i++) {
        const HTTP_KNOWN_HEADER *k = &raw->Headers.KnownHeaders[i];
        if (k->pRawValue == NULL || !stored_header(i))
            continue;
        hc_header_t *h = &e->headers[e->nheaders++];
        h->id = i;
        h->value = memcpy(p, k->pRawValue, k->RawValueLength);
        p[k->RawValueLength] = '\0';
        h->value_len = k->RawValueLength;
        p += k->RawValueLength + 1;
    }
    for (USHORT i = 0; i < raw->Headers.UnknownHeaderCount; i++) {
        const HTTP_UNKNOWN_HEADER *u = &raw->Headers.pUnknownHeaders[i];
        hc_header_t *h = &e->headers[e->nheaders++];
        h->id = -1;
        h->name = memcpy(p, u->pName, u->NameLength);
        p[u->NameLength] = '\0';
        h->name_len = u->NameLength;
        p += u->NameLength + 1;
        h->value = memcpy(p, u->pRawValue ? u->pRawValue : "", u->RawValueLength);
        p[u->RawValueLength] = '\0';
        h->value_len = u->RawValueLength;
        p += u->RawValueLength + 1;
    }
    e->body = p;
    for (USHORT i = 0; i < raw->EntityChunkCount; i++) {
        const HTTP_DATA_CHUNK *d = &raw->pEntityChunks[i];
        if (d->DataChunkType == HttpDataChunkFromMemory) {
            if (d->FromMemory.BufferLength)
                memcpy(e->body + e->body_len, d->FromMemory.pBuffer, d->FromMemory.BufferLength);
            e->body_len += d->FromMemory.BufferLength;
            continue;
        }
        int fd = IisdHandleToFd(d->FromFileHandle.FileHandle);
        uint64_t off = d->FromFileHandle.ByteRange.StartingOffset.QuadPart;
        uint64_t want = d->FromFileHandle.ByteRange.Length.QuadPart;
        while (want > 0) {
            ssize_t r = pread(fd, e->body + e->body_len, want, (off_t)off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                free(e);
                return NULL;
            }
            e->body_len += (size_t)r;
            off += (uint64_t)r;
            want -= (uint64_t)r;
        }
    }
    atomic_init(&e->refs, 1);
    e->hash = hash_bytes(e->key, klen);
    return e;
}

static REQUEST_NOTIFICATION_STATUS on_update(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)p;
    hc_module_t *self = (hc_module_t *)This;
    if (self->hit != NULL || ctx->lpVtbl->GetResponseHeadersSent(ctx))
        return RQ_NOTIFICATION_CONTINUE;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    if (strcmp(req->lpVtbl->GetHttpMethod(req), "GET") != 0 ||
        req->lpVtbl->GetHeaderById(req, HttpHeaderAuthorization, NULL) != NULL)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0;
    resp->lpVtbl->GetStatus(resp, &status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (status != 200)
        return RQ_NOTIFICATION_CONTINUE;
    const hc_config_t *c = modcfg_cached(g_server, ctx, g_id, hc_config_load, hc_config_free);
    if (c == NULL || !c->enabled)
        return RQ_NOTIFICATION_CONTINUE;

    IHttpCachePolicy *pol = resp->lpVtbl->GetCachePolicy(resp);
    HTTP_CACHE_POLICY *up = pol ? pol->lpVtbl->GetUserCachePolicy(pol) : NULL;
    HTTP_CACHE_POLICY *kp = pol ? pol->lpVtbl->GetKernelCachePolicy(pol) : NULL;
    bool user = pol && pol->lpVtbl->IsUserCacheEnabled(pol) && up->Policy != HttpCachePolicyNocache;
    bool kernel =
        c->kernel && resp->lpVtbl->GetKernelCacheEnabled(resp) && kp && kp->Policy != HttpCachePolicyNocache;
    if (!user && !kernel && c->nprofiles == 0)
        return RQ_NOTIFICATION_CONTINUE; /* no policy asks for caching: the common case, decided cheaply */

    static __thread char key[KEY_MAX], vh[1024], vq[1024];
    const char *qs = "";
    size_t blen = base_key(ctx, key, sizeof(key), &qs);
    if (blen == 0)
        return RQ_NOTIFICATION_CONTINUE;
    int64_t ttl_ms = 0;
    bool until_change = false;
    const hc_profile_t *prof = profile_for(c, key + strcspn(key, "\x01"));
    if (user) {
        until_change = up->Policy == HttpCachePolicyUserInvalidates;
        ttl_ms = up->Policy == HttpCachePolicyTimeToLive ? (int64_t)up->SecondsToLive * 1000 : 0;
    } else if (kernel) {
        until_change = kp->Policy == HttpCachePolicyUserInvalidates;
        ttl_ms = kp->Policy == HttpCachePolicyTimeToLive ? (int64_t)kp->SecondsToLive * 1000 : 0;
    } else if (prof != NULL && (prof->location == LOC_ANY || prof->location == LOC_SERVER ||
                                prof->location == LOC_SERVER_CLIENT)) {
        until_change = prof->policy == POL_UNTIL_CHANGE;
        ttl_ms = prof->policy == POL_TIME ? prof->duration_ms : 0;
    }
    if (!until_change && ttl_ms <= 0)
        return RQ_NOTIFICATION_CONTINUE;

    const char *headers = join_lists(vh, sizeof(vh), pol ? pol->lpVtbl->GetVaryByHeaders(pol) : NULL,
                                     prof ? prof->vary_headers : NULL);
    const char *query = join_lists(vq, sizeof(vq), pol ? pol->lpVtbl->GetVaryByQueryStrings(pol) : NULL,
                                   prof ? prof->vary_query : NULL);
    if (strstr(query, "*") != NULL)
        query = "*";
    const char *value = pol ? pol->lpVtbl->GetVaryByValue(pol) : NULL;
    if (qs[0] != '\0' && query[0] == '\0')
        return RQ_NOTIFICATION_CONTINUE; /* nothing tells query strings apart */

    struct stat st;
    char *file = NULL;
    if (until_change) {
        DWORD plen = 0;
        PCWSTR wp = ctx->lpVtbl->GetPhysicalPath(ctx, &plen);
        static __thread char path[4096];
        if (wp == NULL || modcfg_utf8(wp, plen, path, sizeof(path)) == (size_t)-1 || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            return RQ_NOTIFICATION_CONTINUE; /* nothing to watch for changes */
        /* The entry is checked against this stat on every hit, so it must describe the file the
           response was made from: a file changed while the request ran (between the truncation
           and the write of an in-place save, say) would otherwise leave a stale body that every
           later hit takes for current. */
        IHttpFileInfo *fi = ctx->lpVtbl->GetFileInfo(ctx);
        if (fi != NULL) {
            ULARGE_INTEGER sz;
            FILETIME ft;
            fi->lpVtbl->GetSize(fi, &sz);
            fi->lpVtbl->GetLastModifiedTime(fi, &ft);
            uint64_t t = (uint64_t)st.st_mtim.tv_sec * 10000000ull + (uint64_t)st.st_mtim.tv_nsec / 100 +
                         IISD_FT_UNIX_EPOCH;
            if (sz.QuadPart != (uint64_t)st.st_size || ft.dwLowDateTime != (DWORD)t ||
                ft.dwHighDateTime != (DWORD)(t >> 32))
                return RQ_NOTIFICATION_CONTINUE; /* changed under the request: the next one stores it */
        }
        file = path;
    }
    size_t len = blen;
    uint64_t bh = hash_bytes(key, blen);
    char *base = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)blen + 1);
    if (base == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    memcpy(base, key, blen + 1);
    if (!key_variant(key, &len, sizeof(key), headers, query, value, qs, req_header, req))
        return RQ_NOTIFICATION_CONTINUE;
    const HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponseConst(resp);
    if (raw == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    hc_entry_t *e = capture(raw, key, len, c->max_response);
    if (e == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    if (ttl_ms > 0)
        e->expires_ms = now_ms() + ttl_ms;
    if (file != NULL) {
        e->file = strdup(file);
        if (e->file == NULL) {
            free(e);
            return RQ_NOTIFICATION_CONTINUE;
        }
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        e->size = st.st_size;
        e->mtime = st.st_mtim;
    }
    pthread_mutex_lock(&g_lock);
    vary_set_locked(base, bh, headers, query, value ? value : "");
    pthread_mutex_unlock(&g_lock);
    insert(e, c->max_bytes);
    return RQ_NOTIFICATION_CONTINUE;
}

static VOID on_dispose(CHttpModule *This)
{
    hc_module_t *self = (hc_module_t *)This;
    entry_release(self->hit);
    self->hit = NULL;
}

static CHttpModuleVtbl hc_vtbl;

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    hc_module_t *m = alloc->lpVtbl->AllocateMemory(alloc, sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &hc_vtbl;
    m->hit = NULL;
    *pp = &m->base;
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This;
    flush_all();
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

/* The global side: a configuration change empties the cache. */
static GLOBAL_NOTIFICATION_STATUS on_config_change(CGlobalModule *This, IGlobalConfigurationChangeProvider *p)
{
    (void)This;
    (void)p;
    flush_all();
    return GL_NOTIFICATION_CONTINUE;
}

static VOID global_terminate(CGlobalModule *This)
{
    (void)This;
}

static CGlobalModuleVtbl hc_global_vtbl;
static CGlobalModule hc_global = {&hc_global_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(HttpCacheModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(HttpCacheModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                  IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    hc_vtbl.OnResolveRequestCache = on_resolve;
    hc_vtbl.OnUpdateRequestCache = on_update;
    hc_vtbl.Dispose = on_dispose;
    hc_global_vtbl.OnGlobalConfigurationChange = on_config_change;
    hc_global_vtbl.Terminate = global_terminate;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory,
                                                       RQ_RESOLVE_REQUEST_CACHE | RQ_UPDATE_REQUEST_CACHE, 0);
    if (FAILED(hr))
        return hr;
    return info->lpVtbl->SetGlobalNotifications(info, &hc_global, GL_CONFIGURATION_CHANGE);
}
