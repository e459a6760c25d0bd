/*
 * DirectoryListingModule (system.webServer/directoryBrowse): for a folder URL
 * ending in '/' that no earlier handler module served (RQ_EXECUTE_REQUEST_HANDLER),
 * answers an HTML listing of the folder in IIS's style when browsing is
 * enabled (columns chosen by showFlags), and 403.14 otherwise.
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

enum { SHOW_DATE = 2, SHOW_TIME = 4, SHOW_SIZE = 8, SHOW_EXTENSION = 16, SHOW_LONGDATE = 32 };

static IHttpServer *g_server;

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    if (b->buf == NULL)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2 + n + 1;
        char *nb = realloc(b->buf, cap);
        if (nb == NULL) {
            free(b->buf);
            b->buf = NULL;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_html(sbuf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '&':
            sb_str(b, "&amp;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        case '\'':
            sb_str(b, "&#39;");
            break;
        default:
            sb_put(b, s, 1);
        }
    }
}

/* percent-encodes everything but unreserved characters and '/' */
static void sb_url(sbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~' || c == '/') {
            char ch = (char)c;
            sb_put(b, &ch, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_put(b, e, 3);
        }
    }
}

static void send_body(IHttpContext *ctx, const char *data, size_t n)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    char *body = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(n ? n : 1));
    if (body == NULL)
        return;
    memcpy(body, data, n);
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = body;
    ch.FromMemory.BufferLength = (ULONG)n;
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

static REQUEST_NOTIFICATION_STATUS deny(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, 403, "Forbidden", 14, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    static const char body[] = "<!DOCTYPE html>\r\n<html><head><title>403.14 Forbidden</title></head><body>"
                               "<h1>403.14 Forbidden - Directory listing denied</h1>"
                               "<p>A default document is not configured for the requested URL, and "
                               "directory browsing is not enabled on the server.</p></body></html>\r\n";
    send_body(ctx, body, sizeof(body) - 1);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

typedef struct {
    char *name;
    bool dir;
    struct stat st;
} entry_t;

static int entry_cmp(const void *a, const void *b)
{
    return strcasecmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static void put_columns(sbuf_t *b, const entry_t *e, int64_t flags)
{
    struct tm tm;
    localtime_r(&e->st.st_mtime, &tm);
    char tmp[128];
    static const char *const days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    if (flags & SHOW_LONGDATE) {
        snprintf(tmp, sizeof(tmp), "%s, %s %d, %d", days[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
                 tm.tm_year + 1900);
        sb_str(b, tmp);
        sb_str(b, " ");
    } else if (flags & SHOW_DATE) {
        snprintf(tmp, sizeof(tmp), "%2d/%2d/%d", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900);
        sb_str(b, tmp);
        sb_str(b, " ");
    }
    if (flags & (SHOW_TIME | SHOW_LONGDATE)) {
        int h = tm.tm_hour % 12;
        snprintf(tmp, sizeof(tmp), "%2d:%02d %s", h ? h : 12, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
        sb_str(b, tmp);
        sb_str(b, " ");
    }
    if (flags & SHOW_SIZE) {
        if (e->dir)
            snprintf(tmp, sizeof(tmp), "%*s&lt;dir&gt;", 7, "");
        else
            snprintf(tmp, sizeof(tmp), "%12lld", (long long)e->st.st_size);
        sb_str(b, tmp);
        sb_str(b, " ");
    } else if (e->dir) {
        sb_str(b, "&lt;dir&gt; ");
    }
}

static REQUEST_NOTIFICATION_STATUS on_execute(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    (void)p;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    const char *method = req->lpVtbl->GetHttpMethod(req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return RQ_NOTIFICATION_CONTINUE;
    DWORD ulen = 0;
    PCWSTR wurl = ctx->lpVtbl->GetScriptName(ctx, &ulen);
    if (wurl == NULL || ulen == 0 || wurl[ulen - 1] != L'/')
        return RQ_NOTIFICATION_CONTINUE;
    DWORD plen = 0;
    PCWSTR wpath = ctx->lpVtbl->GetPhysicalPath(ctx, &plen);
    char path[4096], url[4096];
    if (wpath == NULL || modcfg_utf8(wpath, plen, path, sizeof(path)) == (size_t)-1 ||
        modcfg_utf8(wurl, ulen, url, sizeof(url)) == (size_t)-1)
        return RQ_NOTIFICATION_CONTINUE;
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return RQ_NOTIFICATION_CONTINUE;
    IAppHostElement *s = modcfg_section(g_server, ctx, L"system.webServer/directoryBrowse");
    bool enabled = modcfg_bool(s, L"enabled", false);
    int64_t flags = modcfg_int(s, L"showFlags", SHOW_DATE | SHOW_TIME | SHOW_SIZE | SHOW_EXTENSION);
    modcfg_release(s);
    if (!enabled)
        return deny(ctx);

    DIR *d = opendir(path);
    if (d == NULL)
        return deny(ctx);
    size_t n = 0, cap = 16;
    entry_t *ents = malloc(cap * sizeof(*ents));
    struct dirent *de;
    while (ents != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcasecmp(de->d_name, "web.config") == 0)
            continue;
        entry_t e;
        if (fstatat(dirfd(d), de->d_name, &e.st, 0) < 0)
            continue;
        if (!S_ISDIR(e.st.st_mode) && !S_ISREG(e.st.st_mode))
            continue;
        e.dir = S_ISDIR(e.st.st_mode);
        e.name = strdup(de->d_name);
        if (e.name == NULL)
            continue;
        if (n == cap) {
            entry_t *ne = realloc(ents, cap * 2 * sizeof(*ents));
            if (ne == NULL) {
                free(e.name);
                break;
            }
            ents = ne;
            cap *= 2;
        }
        ents[n++] = e;
    }
    closedir(d);
    if (ents == NULL)
        return deny(ctx);
    qsort(ents, n, sizeof(*ents), entry_cmp);

    char host[512] = "";
    USHORT hl = 0;
    PCSTR h = req->lpVtbl->GetHeaderById(req, HttpHeaderHost, &hl);
    if (h != NULL && hl > 0 && hl < sizeof(host)) {
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    sbuf_t b = {malloc(4096), 0, 4096};
    sb_str(&b, "<html><head><title>");
    sb_html(&b, host);
    sb_str(&b, " - ");
    sb_html(&b, url);
    sb_str(&b, "</title></head><body><H1>");
    sb_html(&b, host);
    sb_str(&b, " - ");
    sb_html(&b, url);
    sb_str(&b, "</H1><hr>\r\n\r\n<pre>");
    if (strcmp(url, "/") != 0) {
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s", url);
        size_t l = strlen(parent);
        parent[--l] = '\0'; /* the trailing '/' */
        char *slash = strrchr(parent, '/');
        if (slash != NULL)
            slash[1] = '\0';
        sb_str(&b, "<A HREF=\"");
        sb_url(&b, parent);
        sb_str(&b, "\">[To Parent Directory]</A><br><br>");
    }
    for (size_t i = 0; i < n; i++) {
        put_columns(&b, &ents[i], flags);
        sb_str(&b, "<A HREF=\"");
        sb_url(&b, url);
        sb_url(&b, ents[i].name);
        if (ents[i].dir)
            sb_str(&b, "/");
        sb_str(&b, "\">");
        char *dot = ents[i].dir ? NULL : strrchr(ents[i].name, '.');
        if (!(flags & SHOW_EXTENSION) && dot != NULL && dot != ents[i].name)
            *dot = '\0';
        sb_html(&b, ents[i].name);
        sb_str(&b, "</A><br>");
        free(ents[i].name);
    }
    free(ents);
    sb_str(&b, "</pre><hr></body></html>\r\n");
    if (b.buf == NULL) {
        resp->lpVtbl->SetStatus(resp, 500, "Internal Server Error", 0, E_OUTOFMEMORY, NULL, FALSE);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }
    resp->lpVtbl->SetStatus(resp, 200, "OK", 0, S_OK, NULL, FALSE);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    send_body(ctx, b.buf, b.len);
    free(b.buf);
    ctx->lpVtbl->SetRequestHandled(ctx);
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl dl_vtbl;

static iisd_factory_t factory = IISD_FACTORY(dl_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(DirectoryListingModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(DirectoryListingModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                         IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    dl_vtbl.OnExecuteRequestHandler = on_execute;
    dl_vtbl.Dispose = iisd_module_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_EXECUTE_REQUEST_HANDLER, 0);
}
