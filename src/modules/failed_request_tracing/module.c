/*
 * FailedRequestsTracingModule: one XML file per failed request, listing every
 * trace event of the request (module notifications with their timings,
 * status changes, events modules raise) as IIS's failed-request tracing does.
 *
 * Configuration:
 *  - system.applicationHost/sites, <site><traceFailedRequestsLogging> (values
 *    the site does not set come from <siteDefaults>): enabled (nothing
 *    happens unless true), directory (files go to <directory>/W3SVC<site id>/,
 *    backslashes become '/'), maxLogFiles (the oldest files beyond it are
 *    deleted; 0: no limit), maxLogFileSizeKB (events beyond it are left out
 *    and the file says truncated="true").
 *  - system.webServer/tracing/traceFailedRequests at the request's path: the
 *    first <add path> that matches the request (see frt_path_matches) is its
 *    rule; its <traceAreas> say which providers, areas and verbosity to
 *    collect, its <failureDefinitions> when the request counts as failed
 *    (statusCodes, timeTaken, verbosity).
 *  - system.webServer/tracing/traceProviderDefinitions: provider names to
 *    GUIDs and area names to bits ("WWW Server" is known even without it).
 *
 * How: in GL_PRE_BEGIN_REQUEST (before any module runs) the module looks the
 * rule up; for a matching request it subscribes, for that request only,
 * through IHttpTraceContext::SetTraceConfiguration, and collects what
 * GL_TRACE_EVENT then delivers, in request memory. In RQ_END_REQUEST (at
 * priority LAST, after the response has been sent and logged) it checks the
 * failure definitions and writes the file. Requests no rule matches are not
 * traced at all: the server raises no event for them.
 *
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"
#include "modules/failed_request_tracing/frt.h"

#define MAX_CODES 64
#define MAX_PROV  8

static IHttpServer *g_server;
static IHttpServer2 *g_server2;
static HTTP_MODULE_ID g_id;
static wchar_t g_name[128];

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    char line[PATH_MAX + 512];
    int n = snprintf(line, sizeof(line), "[warn] FailedRequestsTracingModule: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    OutputDebugStringA(line);
}

/* ---- configuration --------------------------------------------------- */

typedef struct prov {
    GUID guid;
    DWORD areas;
    DWORD verbosity;
    char name[64];
} prov_t;

typedef struct rule {
    char path[256];
    frt_code_t codes[MAX_CODES];
    unsigned ncodes;
    uint64_t time_ms;
    unsigned verbosity;
    prov_t prov[MAX_PROV];
    unsigned nprov;
} rule_t;

typedef struct fcfg {
    bool on;
    char dir[PATH_MAX];
    unsigned max_files;
    uint64_t max_bytes;
    unsigned nrules;
    rule_t rules[];
} fcfg_t;

/* The areas of the WWW Server provider, for configurations that do not define it. */
static const struct {
    const char *name;
    DWORD value;
} www_areas[] = {{"Authentication", 2}, {"Security", 4},     {"Filter", 8},     {"StaticFile", 16},
                 {"CGI", 32},           {"Compression", 64}, {"Cache", 128},    {"RequestNotifications", 256},
                 {"Module", 512},       {"Rewrite", 1024},   {"FastCGI", 4096}, {"WebSocket", 16384}};

/* Area names ("Module,RequestNotifications", "*" or numbers) to a mask; defs: the provider's <areas>. */
static DWORD parse_areas(const char *s, IAppHostElement *defs, bool www)
{
    DWORD mask = 0;
    char tok[128];
    while (*s) {
        size_t n = strcspn(s, ",");
        const char *t = s;
        s += n;
        if (*s == ',')
            s++;
        while (n > 0 && (*t == ' ' || *t == '\t'))
            t++, n--;
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= sizeof(tok))
            continue;
        memcpy(tok, t, n);
        tok[n] = '\0';
        if (strcmp(tok, "*") == 0)
            return IISD_HTTP_TRACE_ALL_AREAS;
        char *end;
        unsigned long v = strtoul(tok, &end, 0);
        if (*end == '\0') {
            mask |= (DWORD)v;
            continue;
        }
        bool found = false;
        unsigned na = modcfg_count(defs);
        for (unsigned i = 0; i < na && !found; i++) {
            IAppHostElement *a = modcfg_item(defs, i);
            char name[128];
            modcfg_str(a, L"name", name, sizeof(name), "");
            if (strcasecmp(name, tok) == 0) {
                mask |= (DWORD)modcfg_int(a, L"value", 0);
                found = true;
            }
            modcfg_release(a);
        }
        for (size_t i = 0; www && !found && i < sizeof(www_areas) / sizeof(www_areas[0]); i++)
            if (strcasecmp(www_areas[i].name, tok) == 0) {
                mask |= www_areas[i].value;
                found = true;
            }
        if (!found)
            report("trace area \"%s\" is not defined for its provider; it is ignored", tok);
    }
    return mask;
}

/* One <traceAreas><add>: its provider resolved through traceProviderDefinitions. */
static bool load_provider(IAppHostElement *item, IAppHostElement *defs, prov_t *p)
{
    char areas[1024];
    modcfg_str(item, L"provider", p->name, sizeof(p->name), "");
    modcfg_str(item, L"areas", areas, sizeof(areas), "");
    p->verbosity = (DWORD)modcfg_int(item, L"verbosity", TRACE_LEVEL_VERBOSE);
    IAppHostElement *def = NULL;
    unsigned n = modcfg_count(defs);
    for (unsigned i = 0; i < n && def == NULL; i++) {
        IAppHostElement *d = modcfg_item(defs, i);
        char name[64];
        modcfg_str(d, L"name", name, sizeof(name), "");
        if (strcasecmp(name, p->name) == 0)
            def = d;
        else
            modcfg_release(d);
    }
    bool ok = true, www = strcasecmp(p->name, "WWW Server") == 0;
    IAppHostElement *area_defs = NULL;
    if (def != NULL) {
        char guid[64];
        modcfg_str(def, L"guid", guid, sizeof(guid), "");
        ok = frt_parse_guid(guid, &p->guid);
        if (!ok)
            report("traceProviderDefinitions: provider \"%s\" has an invalid guid \"%s\"", p->name, guid);
        area_defs = modcfg_child(def, L"areas");
        www = www || (ok && memcmp(&p->guid, &GUID_IIS_WWW_SERVER_TRACE_PROVIDER, sizeof(GUID)) == 0);
    } else if (www) {
        p->guid = GUID_IIS_WWW_SERVER_TRACE_PROVIDER;
    } else {
        report("trace provider \"%s\" is not in traceProviderDefinitions; it is ignored", p->name);
        ok = false;
    }
    if (ok)
        p->areas = parse_areas(areas, area_defs, www);
    modcfg_release(area_defs);
    modcfg_release(def);
    return ok;
}

static void *load_cfg(IHttpServer *srv, IHttpContext *ctx)
{
    (void)srv;
    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    DWORD id = site ? site->lpVtbl->GetSiteId(site) : 0;
    IAppHostElement *se = modcfg_site(g_server, id);
    IAppHostElement *tl = modcfg_child(se, L"traceFailedRequestsLogging");
    bool on = tl != NULL && modcfg_bool(tl, L"enabled", false);
    IAppHostElement *sec =
        on ? modcfg_section(g_server, ctx, L"system.webServer/tracing/traceFailedRequests") : NULL;
    unsigned n = modcfg_count(sec);
    fcfg_t *c = calloc(1, sizeof(*c) + n * sizeof(rule_t));
    if (c == NULL) {
        modcfg_release(sec);
        modcfg_release(tl);
        modcfg_release(se);
        return NULL;
    }
    c->on = on && n > 0;
    if (c->on) {
        modcfg_str(tl, L"directory", c->dir, sizeof(c->dir) - 16, "FailedReqLogFiles");
        for (char *p = c->dir; *p; p++)
            if (*p == '\\')
                *p = '/';
        size_t dl = strlen(c->dir);
        while (dl > 1 && c->dir[dl - 1] == '/')
            c->dir[--dl] = '\0';
        snprintf(c->dir + dl, sizeof(c->dir) - dl, "/W3SVC%u", (unsigned)id);
        c->max_files = (unsigned)modcfg_int(tl, L"maxLogFiles", 50);
        c->max_bytes = (uint64_t)modcfg_int(tl, L"maxLogFileSizeKB", 1024) * 1024;
        IAppHostElement *defs =
            modcfg_section(g_server, ctx, L"system.webServer/tracing/traceProviderDefinitions");
        for (unsigned i = 0; i < n; i++) {
            IAppHostElement *it = modcfg_item(sec, i);
            rule_t *r = &c->rules[c->nrules];
            memset(r, 0, sizeof(*r));
            modcfg_str(it, L"path", r->path, sizeof(r->path), "*");
            IAppHostElement *fd = modcfg_child(it, L"failureDefinitions");
            char codes[1024];
            modcfg_str(fd, L"statusCodes", codes, sizeof(codes), "");
            int nc = frt_parse_codes(codes, r->codes, MAX_CODES);
            if (nc < 0) {
                report("traceFailedRequests path=\"%s\": statusCodes=\"%s\" is not a list of status codes; "
                       "the status code is not a failure condition of this rule",
                       r->path, codes);
                nc = 0;
            }
            r->ncodes = (unsigned)nc;
            int64_t tt = modcfg_int(fd, L"timeTaken", 0);
            r->time_ms = tt > 0 ? (uint64_t)tt : 0;
            r->verbosity = (unsigned)modcfg_int(fd, L"verbosity", 0);
            modcfg_release(fd);
            IAppHostElement *ta = modcfg_child(it, L"traceAreas");
            unsigned np = modcfg_count(ta);
            for (unsigned k = 0; k < np && r->nprov < MAX_PROV; k++) {
                IAppHostElement *pi = modcfg_item(ta, k);
                if (load_provider(pi, defs, &r->prov[r->nprov]))
                    r->nprov++;
                modcfg_release(pi);
            }
            modcfg_release(ta);
            modcfg_release(it);
            c->nrules++;
        }
        modcfg_release(defs);
    }
    modcfg_release(sec);
    modcfg_release(tl);
    modcfg_release(se);
    return c;
}

/* ---- collecting events ------------------------------------------------ */

typedef struct ev {
    struct ev *next;
    struct timespec mono, wall;
    char *name;
    const char *provider; /* the rule's name for it, or NULL (then guid) */
    char guid[39];
    DWORD id, level, area;
    char *data; /* the <data> elements, escaped */
    int kind;   /* 0 other, 1 module start, 2 module end */
    char *module;
    DWORD notification, status;
    bool post;
    bool has_duration;
    double duration_ms;
} ev_t;

typedef struct rstate {
    IHttpStoredContext sc; /* first */
    IHttpContext *ctx;
    const fcfg_t *cfg;
    const rule_t *rule;
    struct timespec mono, wall;
    ev_t *head, *tail;
    unsigned nev;
    size_t bytes;
    bool truncated;
    unsigned worst; /* most severe level seen (1-5), 0 none */
    ev_t *open[64]; /* module starts not yet ended */
    unsigned nopen;
} rstate_t;

static VOID rs_cleanup(IHttpStoredContext *This)
{
    (void)This; /* request memory */
}

static const IHttpStoredContextVtbl rs_vtbl = {.CleanupStoredContext = rs_cleanup};

static rstate_t *state_of(IHttpContext *ctx)
{
    IHttpModuleContextContainer *mc = ctx->lpVtbl->GetModuleContextContainer(ctx);
    return mc ? (rstate_t *)mc->lpVtbl->GetModuleContext(mc, g_id) : NULL;
}

static char *req_strdup(IHttpContext *ctx, const char *s, size_t n)
{
    char *p = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void wide_to_utf8(const wchar_t *w, size_t maxn, frt_buf_t *b, bool escape)
{
    char tmp[512];
    size_t n = 0;
    while (n < maxn && w[n] != 0)
        n++;
    size_t off = 0;
    while (off < n) {
        size_t k = n - off > 100 ? 100 : n - off;
        size_t len = modcfg_utf8(w + off, k, tmp, sizeof(tmp));
        if (len == (size_t)-1)
            break;
        if (escape)
            frt_buf_xml(b, tmp, len);
        else
            frt_buf_add(b, tmp, len);
        off += k;
    }
}

static const char *notification_name(DWORD n)
{
    static const char *const stages[] = {"BEGIN_REQUEST",
                                         "AUTHENTICATE_REQUEST",
                                         "AUTHORIZE_REQUEST",
                                         "RESOLVE_REQUEST_CACHE",
                                         "MAP_REQUEST_HANDLER",
                                         "ACQUIRE_REQUEST_STATE",
                                         "PRE_EXECUTE_REQUEST_HANDLER",
                                         "EXECUTE_REQUEST_HANDLER",
                                         "RELEASE_REQUEST_STATE",
                                         "UPDATE_REQUEST_CACHE",
                                         "LOG_REQUEST",
                                         "END_REQUEST"};
    if (n == 0)
        return NULL;
    unsigned bit = (unsigned)__builtin_ctz(n);
    if ((n & (n - 1)) != 0)
        return NULL;
    if (bit < 12)
        return stages[bit];
    return n == RQ_SEND_RESPONSE         ? "SEND_RESPONSE"
           : n == RQ_READ_ENTITY         ? "READ_ENTITY"
           : n == RQ_MAP_PATH            ? "MAP_PATH"
           : n == RQ_CUSTOM_NOTIFICATION ? "CUSTOM_NOTIFICATION"
                                         : NULL;
}

static const char *status_name(DWORD s)
{
    return s == RQ_NOTIFICATION_CONTINUE         ? "CONTINUE"
           : s == RQ_NOTIFICATION_PENDING        ? "PENDING"
           : s == RQ_NOTIFICATION_FINISH_REQUEST ? "FINISH_REQUEST"
                                                 : "UNKNOWN";
}

static uint64_t read_uint(const HTTP_TRACE_EVENT_ITEM *it)
{
    uint64_t v = 0;
    size_t n = it->cbData < sizeof(v) ? it->cbData : sizeof(v);
    if (it->pbData != NULL)
        memcpy(&v, it->pbData, n); /* little-endian */
    return v;
}

/* One item as a <data> element; fills the module fields of e from the items it knows. */
static void render_item(const HTTP_TRACE_EVENT_ITEM *it, frt_buf_t *b, ev_t *e, IHttpContext *ctx)
{
    frt_buf_t v = {0};
    frt_buf_add(b, "    <data name=\"", 16);
    if (it->pszName != NULL)
        wide_to_utf8(it->pszName, 256, b, true);
    frt_buf_add(b, "\"", 1);
    char name[64] = "";
    if (it->pszName != NULL &&
        modcfg_utf8(it->pszName, wcsnlen(it->pszName, 63), name, sizeof(name)) == (size_t)-1)
        name[0] = '\0';
    const char *text = NULL;
    switch (it->dwDataType) {
    case HTTP_TRACE_TYPE_LPCWSTR:
        if (it->pbData != NULL)
            wide_to_utf8((const wchar_t *)it->pbData, it->cbData / sizeof(wchar_t), &v, false);
        break;
    case HTTP_TRACE_TYPE_LPCSTR:
        if (it->pbData != NULL)
            frt_buf_add(&v, (const char *)it->pbData, strnlen((const char *)it->pbData, it->cbData));
        break;
    case HTTP_TRACE_TYPE_BOOL:
        frt_buf_printf(&v, "%s", read_uint(it) ? "true" : "false");
        break;
    case HTTP_TRACE_TYPE_CHAR:
    case HTTP_TRACE_TYPE_SHORT:
    case HTTP_TRACE_TYPE_LONG:
    case HTTP_TRACE_TYPE_LONGLONG: {
        uint64_t u = read_uint(it);
        unsigned bits = it->cbData >= 8 ? 64 : it->cbData * 8;
        int64_t sv = bits >= 64 || bits == 0 ? (int64_t)u : (int64_t)(u << (64 - bits)) >> (64 - bits);
        frt_buf_printf(&v, "%lld", (long long)sv);
        break;
    }
    case HTTP_TRACE_TYPE_LPCGUID:
        if (it->pbData != NULL && it->cbData >= sizeof(GUID)) {
            char g[39];
            frt_format_guid((const GUID *)it->pbData, g);
            frt_buf_add(&v, g, strlen(g));
        }
        break;
    default:
        frt_buf_printf(&v, "%llu", (unsigned long long)read_uint(it));
    }
    if (strcmp(name, "Notification") == 0) {
        e->notification = (DWORD)read_uint(it);
        text = notification_name(e->notification);
    } else if (strcmp(name, "NotificationStatus") == 0) {
        e->status = (DWORD)read_uint(it);
        text = status_name(e->status);
    } else if (strcmp(name, "fIsPostNotification") == 0 || strcmp(name, "fIsPostNotificationEvent") == 0) {
        e->post = read_uint(it) != 0;
    } else if (strcmp(name, "ModuleName") == 0 && v.p != NULL) {
        e->module = req_strdup(ctx, v.p, v.len);
    }
    if (text != NULL)
        frt_buf_printf(b, " text=\"%s\"", text);
    frt_buf_add(b, ">", 1);
    if (v.p != NULL)
        frt_buf_xml(b, v.p, v.len);
    frt_buf_add(b, "</data>\n", 8);
    frt_buf_free(&v);
}

static bool is_own(const ev_t *e)
{
    char own[256];
    return e->module != NULL && modcfg_utf8(g_name, wcslen(g_name), own, sizeof(own)) != (size_t)-1 &&
           strcmp(e->module, own) == 0;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void record(rstate_t *st, IHttpContext *ctx, const HTTP_TRACE_EVENT *tev)
{
    if (st->truncated)
        return;
    if (st->bytes > st->cfg->max_bytes) {
        st->truncated = true;
        return;
    }
    ev_t *e = ctx->lpVtbl->AllocateRequestMemory(ctx, sizeof(*e));
    if (e == NULL)
        return;
    memset(e, 0, sizeof(*e));
    clock_gettime(CLOCK_MONOTONIC, &e->mono);
    clock_gettime(CLOCK_REALTIME, &e->wall);
    frt_buf_t b = {0};
    if (tev->pszEventName != NULL)
        wide_to_utf8(tev->pszEventName, 256, &b, false);
    else
        frt_buf_printf(&b, "EVENT_%u", (unsigned)tev->dwEvent);
    e->name = b.p ? req_strdup(ctx, b.p, b.len) : "";
    b.len = 0;
    for (DWORD i = 0; i < tev->cEventItems && tev->pEventItems != NULL; i++)
        render_item(&tev->pEventItems[i], &b, e, ctx);
    e->data = b.p ? req_strdup(ctx, b.p, b.len) : "";
    st->bytes += b.len + 256;
    frt_buf_free(&b);
    if (is_own(e))
        return; /* this module's own notifications: not part of the request's story */
    e->id = tev->dwEvent;
    e->level = tev->dwVerbosity;
    e->area = tev->dwArea;
    if (tev->pProviderGuid != NULL) {
        for (unsigned i = 0; i < st->rule->nprov && e->provider == NULL; i++)
            if (memcmp(&st->rule->prov[i].guid, tev->pProviderGuid, sizeof(GUID)) == 0)
                e->provider = st->rule->prov[i].name;
        frt_format_guid(tev->pProviderGuid, e->guid);
    }
    if (strcmp(e->name, "NOTIFY_MODULE_START") == 0 && e->module != NULL) {
        e->kind = 1;
        if (st->nopen < sizeof(st->open) / sizeof(st->open[0]))
            st->open[st->nopen++] = e;
    } else if (strcmp(e->name, "NOTIFY_MODULE_END") == 0 && e->module != NULL) {
        e->kind = 2;
        for (unsigned i = st->nopen; i-- > 0;) {
            ev_t *s = st->open[i];
            if (strcmp(s->module, e->module) == 0 && s->notification == e->notification &&
                s->post == e->post) {
                e->has_duration = s->has_duration = true;
                e->duration_ms = s->duration_ms = ms_between(&s->mono, &e->mono);
                s->status = e->status;
                st->open[i] = st->open[--st->nopen];
                break;
            }
        }
    }
    if (e->level >= 1 && e->level <= 5 && (st->worst == 0 || e->level < st->worst))
        st->worst = e->level;
    if (st->tail)
        st->tail->next = e;
    else
        st->head = e;
    st->tail = e;
    st->nev++;
}

/* ---- writing the file -------------------------------------------------- */

static pthread_mutex_t g_dir_mu = PTHREAD_MUTEX_INITIALIZER;

static int mkdirs(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* The number of an "frNNNNNN.xml" name, or 0. */
static unsigned fr_number(const char *name)
{
    if (strncasecmp(name, "fr", 2) != 0)
        return 0;
    char *end;
    unsigned long v = strtoul(name + 2, &end, 10);
    if (end == name + 2 || strcasecmp(end, ".xml") != 0 || v == 0 || v > 0xffffffffu)
        return 0;
    return (unsigned)v;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* The numbers of the trace files in dir, sorted (malloc'd), and their count. */
static unsigned *list_files(const char *dir, unsigned *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    unsigned *v = NULL, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned n = fr_number(e->d_name);
        if (n == 0)
            continue;
        if (*count == cap) {
            unsigned *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));
            if (nv == NULL)
                break;
            v = nv;
            cap = cap ? cap * 2 : 64;
        }
        v[(*count)++] = n;
    }
    closedir(d);
    if (v != NULL)
        qsort(v, *count, sizeof(*v), cmp_uint);
    return v;
}

/* Writes the text as the next frNNNNNN.xml of dir, then deletes the oldest beyond max_files. */
static void write_file(const fcfg_t *c, const frt_buf_t *b, char *written, size_t cap)
{
    pthread_mutex_lock(&g_dir_mu);
    int rc = mkdirs(c->dir);
    if (rc < 0) {
        report("cannot create the folder %s: %s", c->dir, strerror(-rc));
        pthread_mutex_unlock(&g_dir_mu);
        return;
    }
    unsigned count;
    unsigned *v = list_files(c->dir, &count);
    unsigned next = count > 0 ? v[count - 1] + 1 : 1;
    /* written under a hidden temporary name and renamed: a reader never sees half a file */
    int fd = -1;
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    struct stat st;
    for (int tries = 0; tries < 100 && fd < 0; tries++, next++) {
        snprintf(path, sizeof(path), "%s/fr%06u.xml", c->dir, next);
        snprintf(tmp, sizeof(tmp), "%s/.fr%06u.xml.tmp", c->dir, next);
        if (stat(path, &st) == 0)
            continue;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        report("cannot create a trace file in %s: %s", c->dir, strerror(errno));
    } else {
        size_t off = 0;
        bool ok = true;
        while (off < b->len) {
            ssize_t w = write(fd, b->p + off, b->len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                report("cannot write %s: %s", tmp, strerror(errno));
                ok = false;
                break;
            }
            off += (size_t)w;
        }
        close(fd);
        if (!ok || rename(tmp, path) < 0) {
            if (ok)
                report("cannot rename %s to %s: %s", tmp, path, strerror(errno));
            unlink(tmp);
            free(v);
            pthread_mutex_unlock(&g_dir_mu);
            return;
        }
        snprintf(written, cap, "%s", path);
        count++;
        if (c->max_files > 0 && count > c->max_files) {
            free(v);
            v = list_files(c->dir, &count);
            for (unsigned i = 0; v != NULL && count > c->max_files && i < count; i++) {
                char old[PATH_MAX + 32];
                snprintf(old, sizeof(old), "%s/fr%06u.xml", c->dir, v[i]);
                if (unlink(old) == 0 || errno == ENOENT)
                    count--;
            }
        }
    }
    free(v);
    pthread_mutex_unlock(&g_dir_mu);
}

static void iso_time(const struct timespec *ts, char out[64])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts->tv_nsec / 1000000));
}

static const char *level_name(DWORD l)
{
    static const char *const names[] = {"General",     "CriticalError", "Error", "Warning",
                                        "Information", "Verbose",       "Start", "End"};
    return l < 8 ? names[l] : "Unknown";
}

static void attr(frt_buf_t *b, const char *name, const char *v, size_t n)
{
    frt_buf_printf(b, " %s=\"", name);
    frt_buf_xml(b, v, n);
    frt_buf_add(b, "\"", 1);
}

static void svar_attr(frt_buf_t *b, IHttpContext *ctx, const char *name, const char *var)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, var, &v, &n)) || v == NULL)
        v = "", n = 0;
    attr(b, name, v, n);
}

static void build(rstate_t *st, IHttpContext *ctx, enum frt_reason why, USHORT status, USHORT sub,
                  unsigned long w32, uint64_t taken, frt_buf_t *b)
{
    char t[64], guid[39];
    IHttpTraceContext *tc = ctx->lpVtbl->GetTraceContext(ctx);
    LPCGUID act = tc ? tc->lpVtbl->GetTraceActivityId(tc) : NULL;
    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    frt_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<failedRequest");
    svar_attr(b, ctx, "url", "URL");
    svar_attr(b, ctx, "query", "QUERY_STRING");
    svar_attr(b, ctx, "verb", "REQUEST_METHOD");
    svar_attr(b, ctx, "host", "HTTP_HOST");
    svar_attr(b, ctx, "clientIp", "REMOTE_ADDR");
    frt_buf_printf(b, " siteId=\"%u\" processId=\"%d\"", site ? (unsigned)site->lpVtbl->GetSiteId(site) : 0,
                   (int)getpid());
    if (act != NULL) {
        frt_format_guid(act, guid);
        frt_buf_printf(b, " activityId=\"%s\"", guid);
    }
    attr(b, "rule", st->rule->path, strlen(st->rule->path));
    iso_time(&st->wall, t);
    frt_buf_printf(b,
                   " failureReason=\"%s\" statusCode=\"%u\" subStatusCode=\"%u\" win32Status=\"%lu\" "
                   "timeTaken=\"%llu\" startTime=\"%s\" eventCount=\"%u\" truncated=\"%s\">\n",
                   frt_reason_name(why), status, sub, w32, (unsigned long long)taken, t, st->nev,
                   st->truncated ? "true" : "false");
    unsigned seq = 0;
    for (ev_t *e = st->head; e != NULL; e = e->next) {
        iso_time(&e->wall, t);
        frt_buf_printf(b, "  <event seq=\"%u\" time=\"%s\" offsetMs=\"%.3f\"", ++seq, t,
                       ms_between(&st->mono, &e->mono));
        if (e->provider != NULL)
            attr(b, "provider", e->provider, strlen(e->provider));
        frt_buf_printf(b, " providerGuid=\"%s\"", e->guid);
        attr(b, "name", e->name, strlen(e->name));
        frt_buf_printf(b, " id=\"%u\" level=\"%u\" levelName=\"%s\" area=\"%u\"", (unsigned)e->id,
                       (unsigned)e->level, level_name(e->level), (unsigned)e->area);
        if (e->kind == 2 && e->has_duration)
            frt_buf_printf(b, " durationMs=\"%.3f\"", e->duration_ms);
        frt_buf_printf(b, ">\n%s  </event>\n", e->data);
    }
    /* the same story by module: one line per module call, in the order they started */
    frt_buf_add(b, "  <notifications>\n", 18);
    for (ev_t *e = st->head; e != NULL; e = e->next) {
        if (e->kind != 1)
            continue;
        const char *nn = notification_name(e->notification);
        frt_buf_add(b, "    <module", 11);
        attr(b, "name", e->module, strlen(e->module));
        if (nn != NULL)
            frt_buf_printf(b, " notification=\"%s\"", nn);
        else
            frt_buf_printf(b, " notification=\"%u\"", (unsigned)e->notification);
        frt_buf_printf(b, " post=\"%s\" startMs=\"%.3f\"", e->post ? "true" : "false",
                       ms_between(&st->mono, &e->mono));
        if (e->has_duration)
            frt_buf_printf(b, " durationMs=\"%.3f\" status=\"%s\"", e->duration_ms, status_name(e->status));
        frt_buf_add(b, "/>\n", 3);
    }
    frt_buf_add(b, "  </notifications>\n</failedRequest>\n", 36);
}

/* ---- notifications ------------------------------------------------------ */

static GLOBAL_NOTIFICATION_STATUS on_pre_begin(CGlobalModule *This, IPreBeginRequestProvider *p)
{
    (void)This;
    IHttpContext *ctx = p->lpVtbl->GetHttpContext(p);
    if (ctx == NULL)
        return GL_NOTIFICATION_CONTINUE;
    const fcfg_t *c = modcfg_cached(g_server, ctx, g_id, load_cfg, free);
    if (c == NULL || !c->on)
        return GL_NOTIFICATION_CONTINUE;
    PCSTR url = NULL;
    DWORD n = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &n)) || url == NULL)
        return GL_NOTIFICATION_CONTINUE;
    const rule_t *r = NULL;
    for (unsigned i = 0; i < c->nrules && r == NULL; i++)
        if (frt_path_matches(c->rules[i].path, url))
            r = &c->rules[i];
    if (r == NULL)
        return GL_NOTIFICATION_CONTINUE;
    rstate_t *st = ctx->lpVtbl->AllocateRequestMemory(ctx, sizeof(*st));
    IHttpModuleContextContainer *mc = ctx->lpVtbl->GetModuleContextContainer(ctx);
    IHttpTraceContext *tc = ctx->lpVtbl->GetTraceContext(ctx);
    if (st == NULL || mc == NULL || tc == NULL)
        return GL_NOTIFICATION_CONTINUE;
    memset(st, 0, sizeof(*st));
    st->sc.lpVtbl = &rs_vtbl;
    st->ctx = ctx;
    st->cfg = c;
    st->rule = r;
    clock_gettime(CLOCK_MONOTONIC, &st->mono);
    clock_gettime(CLOCK_REALTIME, &st->wall);
    if (FAILED(mc->lpVtbl->SetModuleContext(mc, &st->sc, g_id)))
        return GL_NOTIFICATION_CONTINUE;
    HTTP_TRACE_CONFIGURATION tcfg[MAX_PROV];
    for (unsigned i = 0; i < r->nprov; i++)
        tcfg[i] = (HTTP_TRACE_CONFIGURATION){.pProviderGuid = &r->prov[i].guid,
                                             .dwAreas = r->prov[i].areas,
                                             .dwVerbosity = r->prov[i].verbosity,
                                             .fProviderEnabled = TRUE};
    if (r->nprov > 0)
        tc->lpVtbl->SetTraceConfiguration(tc, g_id, tcfg, r->nprov);
    return GL_NOTIFICATION_CONTINUE;
}

static GLOBAL_NOTIFICATION_STATUS on_trace_event(CGlobalModule *This, IGlobalTraceEventProvider *p)
{
    (void)This;
    if (!p->lpVtbl->CheckSubscription(p, g_id))
        return GL_NOTIFICATION_CONTINUE;
    IHttpContext *ctx = NULL;
    HTTP_TRACE_EVENT *ev = NULL;
    if (FAILED(p->lpVtbl->GetCurrentHttpRequestContext(p, &ctx)) || ctx == NULL ||
        FAILED(p->lpVtbl->GetTraceEvent(p, &ev)) || ev == NULL)
        return GL_NOTIFICATION_CONTINUE;
    rstate_t *st = state_of(ctx);
    if (st != NULL)
        record(st, ctx, ev);
    return GL_NOTIFICATION_CONTINUE;
}

static VOID global_terminate(CGlobalModule *This)
{
    (void)This;
}

static REQUEST_NOTIFICATION_STATUS on_end(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    (void)p;
    rstate_t *st = state_of(ctx);
    if (st == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0, sub = 0, rlen = 0;
    HRESULT hr = S_OK;
    DWORD notif = 0;
    BOOL skip = FALSE;
    resp->lpVtbl->GetStatus(resp, &status, &sub, NULL, &rlen, &hr, NULL, &notif, NULL, &skip);
    unsigned long w32 = HRESULT_FACILITY(hr) == FACILITY_WIN32 ? (unsigned long)HRESULT_CODE(hr)
                        : FAILED(hr)                           ? (unsigned long)(uint32_t)hr
                                                               : 0;
    uint64_t taken;
    IHttpContext4 *c4 = NULL;
    if (g_server2 != NULL &&
        SUCCEEDED(g_server2->lpVtbl->GetExtendedInterfaceByGuid(g_server2, &IID_IHttpContext, ctx,
                                                                &IID_IHttpContext4, (PVOID *)&c4)) &&
        c4 != NULL) {
        taken = c4->lpVtbl->GetRequestElapsedTime(c4);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        taken = (uint64_t)ms_between(&st->mono, &now);
    }
    frt_failure_def_t d = {.codes = st->rule->codes,
                           .ncodes = st->rule->ncodes,
                           .time_ms = st->rule->time_ms,
                           .verbosity = st->rule->verbosity};
    enum frt_reason why = frt_failure(&d, status, sub, taken, st->worst);
    if (why == FRT_NONE)
        return RQ_NOTIFICATION_CONTINUE;
    frt_buf_t b = {0};
    build(st, ctx, why, status, sub, w32, taken, &b);
    char written[PATH_MAX + 32];
    if (!b.failed)
        write_file(st->cfg, &b, written, sizeof(written));
    frt_buf_free(&b);
    return RQ_NOTIFICATION_CONTINUE;
}

/* ---- registration ---------------------------------------------------- */

static CHttpModuleVtbl frt_vtbl;
static iisd_factory_t factory = IISD_FACTORY(frt_vtbl, 0);
static CGlobalModuleVtbl frt_global_vtbl;
static CGlobalModule frt_global = {&frt_global_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(FailedRequestsTracingModule)(DWORD, IHttpModuleRegistrationInfo *,
                                                              IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(FailedRequestsTracingModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                              IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    PCWSTR name = info->lpVtbl->GetName(info);
    wcsncpy(g_name, name ? name : L"FailedRequestsTracingModule", sizeof(g_name) / sizeof(g_name[0]) - 1);
    PVOID s2 = NULL;
    if (SUCCEEDED(srv->lpVtbl->GetExtendedInterface(srv, HTTP_SERVER_INTERFACE_V2, &s2)))
        g_server2 = s2;
    frt_vtbl.OnEndRequest = on_end;
    frt_vtbl.Dispose = iisd_module_dispose;
    frt_global_vtbl.OnGlobalPreBeginRequest = on_pre_begin;
    frt_global_vtbl.OnGlobalTraceEvent = on_trace_event;
    frt_global_vtbl.Terminate = global_terminate;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_END_REQUEST, 0);
    if (SUCCEEDED(hr))
        hr = info->lpVtbl->SetPriorityForRequestNotification(info, RQ_END_REQUEST, PRIORITY_ALIAS_LAST);
    if (SUCCEEDED(hr))
        hr = info->lpVtbl->SetGlobalNotifications(info, &frt_global, GL_PRE_BEGIN_REQUEST | GL_TRACE_EVENT);
    return hr;
}
