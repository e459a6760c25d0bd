/*
 * CustomErrorModule (system.webServer/httpErrors): in RQ_SEND_RESPONSE, when the
 * headers of a response with status 400 or above are about to go out, replaces
 * its body by an error page.
 *
 *  - errorMode="Detailed" gives the detailed page: the status and sub-status,
 *    the module that set the status, the notification it was in, the handler,
 *    the error code (HRESULT), the requested URL, the physical path and the
 *    logon method and user. errorMode="Custom" gives the configured page.
 *    errorMode="DetailedLocalOnly" (the default) gives the detailed page to
 *    clients on this machine (a loopback address, or the address they
 *    connected to) and the custom page to everyone else.
 *  - existingResponse="Auto" (default) leaves the response alone when the
 *    module that set the status asked for it (SetStatus with
 *    fTrySkipCustomErrors); "Replace" always replaces; "PassThrough" leaves a
 *    response that already has a body.
 *  - The custom page is the <error> entry for the status and sub-status, else
 *    the one for the status with subStatusCode="-1", else defaultPath (with
 *    defaultResponseMode). responseMode="File" serves a file:
 *    prefixLanguageFilePath/<language>/path, the language being the first of
 *    the client's Accept-Language tags that has a folder there, else en-US;
 *    without a prefix, a relative path is taken from the application's
 *    physical root. "Redirect" answers 302 to path. "ExecuteURL" runs a child
 *    request (GET, custom errors disabled, response buffered) for the
 *    site-relative URL and serves what it answers, a file or a module's page,
 *    with its Content-Type; the status stays the original one.
 *    When no page is configured or the file cannot be read, a short built-in
 *    page is sent.
 *  - The status and the headers already set (WWW-Authenticate, Allow,
 *    Retry-After, Set-Cookie, ...) are kept, except those that described the
 *    old body (Content-Encoding, ETag, Last-Modified, ...); Content-Type
 *    becomes text/html (for ExecuteURL, the type the child request answered).
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define SECTION      L"system.webServer/httpErrors"
#define PAGE_MAX     (1u << 20) /* larger custom error files are not served */
#define DEFAULT_LANG "en-US"

enum { MODE_DETAILED_LOCAL = 0, MODE_CUSTOM = 1, MODE_DETAILED = 2 };
enum { EXISTING_AUTO = 0, EXISTING_REPLACE = 1, EXISTING_PASSTHROUGH = 2 };
enum { RESP_FILE = 0, RESP_EXECUTE_URL = 1, RESP_REDIRECT = 2 };

typedef struct {
    unsigned status;
    int sub; /* -1: any */
    int mode;
    char *prefix; /* "" when absent */
    char *path;
} ce_entry_t;

typedef struct {
    int error_mode, existing, default_mode;
    char *default_path;
    char *more_info;
    unsigned n;
    ce_entry_t *entries;
} ce_config_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

/* ---- pure helpers ------------------------------------------------------------ */

/* The entry for status.sub: an exact sub-status first, then subStatusCode -1. */
static const ce_entry_t *find_entry(const ce_entry_t *v, unsigned n, unsigned status, unsigned sub)
{
    const ce_entry_t *any = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (v[i].status != status)
            continue;
        if (v[i].sub == (int)sub)
            return &v[i];
        if (v[i].sub == -1 && any == NULL)
            any = &v[i];
    }
    return any;
}

/*
 * The next language tag of an Accept-Language value, skipping "*" and tags with q=0.
 * Copies it into tag (cap bytes) and returns the position after it, or NULL at the end.
 */
static const char *next_language(const char *p, char *tag, size_t cap)
{
    while (p != NULL && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            return NULL;
        const char *s = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - s);
        bool zero = false;
        while (*p && *p != ',') {
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                const char *q = p + 2;
                zero = q[0] == '0' && (q[1] != '.' || strspn(q + 2, "0") == strcspn(q + 2, ", \t;"));
            }
            p++;
        }
        bool valid = n > 0 && n < cap && !(n == 1 && s[0] == '*');
        for (size_t i = 0; valid && i < n; i++)
            valid = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                    (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
        if (valid && !zero) {
            memcpy(tag, s, n);
            tag[n] = '\0';
            return p;
        }
    }
    return NULL;
}

/* "en-us" -> "en-US": the primary subtag in lower case, a two-letter region in upper case. */
static void canonical_language(char *tag)
{
    char *dash = strchr(tag, '-');
    for (char *c = tag; *c && c != dash; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    if (dash != NULL && strlen(dash + 1) == 2)
        for (char *c = dash + 1; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 32);
}

/* Is the client on this machine: a loopback address, or the address it connected to? */
static bool is_local_client(const struct sockaddr *remote, const struct sockaddr *local)
{
    if (remote == NULL)
        return false;
    if (remote->sa_family == AF_INET) {
        const struct sockaddr_in *r = (const struct sockaddr_in *)remote;
        if ((ntohl(r->sin_addr.s_addr) >> 24) == 127)
            return true;
        if (local != NULL && local->sa_family == AF_INET)
            return r->sin_addr.s_addr == ((const struct sockaddr_in *)local)->sin_addr.s_addr;
        return false;
    }
    if (remote->sa_family == AF_INET6) {
        const struct sockaddr_in6 *r = (const struct sockaddr_in6 *)remote;
        if (IN6_IS_ADDR_LOOPBACK(&r->sin6_addr))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&r->sin6_addr) && r->sin6_addr.s6_addr[12] == 127)
            return true;
        if (local != NULL && local->sa_family == AF_INET6)
            return memcmp(&r->sin6_addr, &((const struct sockaddr_in6 *)local)->sin6_addr,
                          sizeof(r->sin6_addr)) == 0;
        return false;
    }
    return false;
}

/* The name IIS gives a request notification in its error pages. */
static const char *notification_name(DWORD n)
{
    switch (n) {
    case RQ_BEGIN_REQUEST:
        return "BeginRequest";
    case RQ_AUTHENTICATE_REQUEST:
        return "AuthenticateRequest";
    case RQ_AUTHORIZE_REQUEST:
        return "AuthorizeRequest";
    case RQ_RESOLVE_REQUEST_CACHE:
        return "ResolveRequestCache";
    case RQ_MAP_REQUEST_HANDLER:
        return "MapRequestHandler";
    case RQ_ACQUIRE_REQUEST_STATE:
        return "AcquireRequestState";
    case RQ_PRE_EXECUTE_REQUEST_HANDLER:
        return "PreExecuteRequestHandler";
    case RQ_EXECUTE_REQUEST_HANDLER:
        return "ExecuteRequestHandler";
    case RQ_RELEASE_REQUEST_STATE:
        return "ReleaseRequestState";
    case RQ_UPDATE_REQUEST_CACHE:
        return "UpdateRequestCache";
    case RQ_LOG_REQUEST:
        return "LogRequest";
    case RQ_END_REQUEST:
        return "EndRequest";
    case RQ_SEND_RESPONSE:
        return "SendResponse";
    case RQ_MAP_PATH:
        return "MapPath";
    case RQ_READ_ENTITY:
        return "ReadEntity";
    default:
        return "Unknown";
    }
}

/* What a status means, in one sentence, for the error pages. */
static const char *status_text(unsigned status, unsigned sub)
{
    switch (status) {
    case 400:
        return "The request could not be understood by the server.";
    case 401:
        return sub == 1   ? "Access is denied because the credentials are invalid."
               : sub == 3 ? "The authorization rules of this resource deny access to the user."
                          : "You do not have permission to view this page with the credentials you supplied.";
    case 403:
        return sub == 14    ? "The server is not configured to list the contents of this folder."
               : sub == 503 ? "The IP address of the client is not allowed to access this resource."
                            : "You do not have permission to view this resource.";
    case 404:
        switch (sub) {
        case 3:
            return "The page cannot be served because the server has no MIME type for its extension.";
        case 4:
            return "No handler is configured for this request.";
        case 5:
        case 6:
        case 7:
        case 8:
        case 11:
        case 12:
        case 14:
        case 15:
        case 18:
        case 19:
            return "The request filtering module is configured to deny this request.";
        default:
            return "The resource you are looking for does not exist, has been renamed, or is not available "
                   "right now.";
        }
    case 405:
        return "The HTTP verb used to access this page is not allowed.";
    case 406:
        return "The resource cannot be served in a form the client accepts.";
    case 412:
        return "A precondition of the request was not met.";
    case 413:
        return "The request entity is larger than the server allows.";
    case 500:
        return sub == 19 ? "The configuration of this resource is invalid."
                         : "The server met an internal error while processing the request.";
    case 501:
        return "The server does not support the function required by the request.";
    case 502:
        return "The server received an invalid response while acting as a gateway or proxy.";
    case 503:
        return "The service is not available right now.";
    default:
        return status < 500 ? "The request cannot be served." : "The server cannot complete the request.";
    }
}

/* HTML-escapes s[0..n) at the end of out (cap), keeping it NUL-terminated; returns the new length. */
static size_t append_html(char *out, size_t len, size_t cap, const char *s, size_t n)
{
    for (size_t i = 0; i < n && len + 7 < cap; i++) {
        /* a run of characters that need no escaping, at once */
        size_t run = 0;
        while (i + run < n && len + run + 7 < cap && s[i + run] != '<' && s[i + run] != '>' &&
               s[i + run] != '&' && s[i + run] != '"' && s[i + run] != '\'')
            run++;
        if (run > 0) {
            memcpy(out + len, s + i, run);
            len += run;
            i += run - 1;
            continue;
        }
        const char *rep = NULL;
        switch (s[i]) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        if (rep != NULL) {
            size_t m = strlen(rep);
            memcpy(out + len, rep, m);
            len += m;
        } else {
            out[len++] = s[i];
        }
    }
    out[len] = '\0';
    return len;
}

static size_t append_raw(char *out, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (len + n >= cap)
        n = cap - 1 - len;
    memcpy(out + len, s, n);
    len += n;
    out[len] = '\0';
    return len;
}

/* "<status>.<sub>" (code holds 12 bytes). */
static void status_code(char *code, unsigned status, unsigned sub)
{
    char digits[12], *p = code;
    unsigned v[2] = {status, sub};
    for (int k = 0; k < 2; k++) {
        char *d = digits + sizeof(digits);
        unsigned x = v[k];
        do
            *--d = (char)('0' + x % 10);
        while ((x /= 10) != 0);
        size_t m = (size_t)(digits + sizeof(digits) - d);
        memcpy(p, d, m);
        p += m;
        if (k == 0)
            *p++ = '.';
    }
    *p = '\0';
}

/* ---- configuration ------------------------------------------------------------- */

static char *dup_str(IAppHostElement *e, const wchar_t *name)
{
    static __thread char buf[4096];
    modcfg_str(e, name, buf, sizeof(buf), "");
    for (char *c = buf; *c; c++)
        if (*c == '\\')
            *c = '/'; /* Windows-style separators in paths */
    return strdup(buf);
}

static void ce_config_free(void *data)
{
    ce_config_t *c = data;
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->n; i++) {
        free(c->entries[i].prefix);
        free(c->entries[i].path);
    }
    free(c->entries);
    free(c->default_path);
    free(c->more_info);
    free(c);
}

static void *ce_config_load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *s = modcfg_section(srv, ctx, SECTION);
    if (s == NULL)
        return NULL;
    ce_config_t *c = calloc(1, sizeof(*c));
    unsigned n = modcfg_count(s);
    if (c == NULL || (c->entries = calloc(n ? n : 1, sizeof(*c->entries))) == NULL)
        goto fail;
    c->error_mode = (int)modcfg_int(s, L"errorMode", MODE_DETAILED_LOCAL);
    c->existing = (int)modcfg_int(s, L"existingResponse", EXISTING_AUTO);
    c->default_mode = (int)modcfg_int(s, L"defaultResponseMode", RESP_FILE);
    c->default_path = dup_str(s, L"defaultPath");
    c->more_info = dup_str(s, L"detailedMoreInformationLink");
    if (c->default_path == NULL || c->more_info == NULL)
        goto fail;
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(s, i);
        ce_entry_t *e = &c->entries[c->n++];
        e->status = (unsigned)modcfg_int(it, L"statusCode", 0);
        e->sub = (int)modcfg_int(it, L"subStatusCode", -1);
        e->mode = (int)modcfg_int(it, L"responseMode", RESP_FILE);
        e->prefix = dup_str(it, L"prefixLanguageFilePath");
        e->path = dup_str(it, L"path");
        modcfg_release(it);
        if (e->prefix == NULL || e->path == NULL)
            goto fail;
    }
    modcfg_release(s);
    return c;
fail:
    modcfg_release(s);
    ce_config_free(c);
    return NULL;
}

/* ---- building the page ------------------------------------------------------------ */

static char *utf8(IHttpContext *ctx, PCWSTR w)
{
    if (w == NULL)
        return "";
    size_t n = wcslen(w), cap = n * 4 + 1;
    char *out = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (out == NULL || modcfg_utf8(w, n, out, cap) == (size_t)-1)
        return "";
    return out;
}

/* Reads a regular file of at most PAGE_MAX bytes into request memory; NULL when it cannot. */
static char *read_page(IHttpContext *ctx, const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PAGE_MAX &&
        (buf = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)st.st_size + 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        buf[got] = '\0';
        *len = got;
    }
    close(fd);
    return buf;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* prefix/<language>/path for the client's languages, else prefix/en-US/path. */
static char *language_page(IHttpContext *ctx, const char *prefix, const char *path, size_t *len)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    PCSTR al = req->lpVtbl->GetHeaderById(req, HttpHeaderAcceptLanguage, NULL);
    char tag[64], dir[4096], file[8192];
    for (const char *p = al; (p = next_language(p, tag, sizeof(tag))) != NULL;) {
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1)
                canonical_language(tag);
            snprintf(dir, sizeof(dir), "%s/%s", prefix, tag);
            if (is_dir(dir)) {
                snprintf(file, sizeof(file), "%s/%s", dir, path);
                char *page = read_page(ctx, file, len);
                if (page != NULL)
                    return page;
            }
        }
    }
    snprintf(file, sizeof(file), "%s/%s/%s", prefix, DEFAULT_LANG, path);
    return read_page(ctx, file, len);
}

/* The physical folder of the request's application (no trailing '/'). */
static const char *app_root(IHttpContext *ctx)
{
    IMetadataInfo *md = ctx->lpVtbl->GetMetadata(ctx);
    char *root = utf8(ctx, md ? md->lpVtbl->GetVrPath(md) : NULL);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        root[--n] = '\0';
    return root;
}

static char *file_page(IHttpContext *ctx, const char *prefix, const char *path, size_t *len)
{
    if (prefix[0] != '\0')
        return language_page(ctx, prefix, path, len);
    if (path[0] == '/')
        return read_page(ctx, path, len);
    char file[8192];
    snprintf(file, sizeof(file), "%s/%s", app_root(ctx), path);
    return read_page(ctx, file, len);
}

/* Appends [p, p+n) to the page being collected in request memory; false when it grows too large. */
static bool page_add(IHttpContext *ctx, char **page, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > PAGE_MAX)
        return false;
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)ncap);
        if (nb == NULL)
            return false;
        if (*len > 0)
            memcpy(nb, *page, *len);
        *page = nb;
        *cap = ncap;
    }
    memcpy(*page + *len, p, n);
    *len += n;
    (*page)[*len] = '\0';
    return true;
}

/* The body of a finished child response, copied into the parent's request memory. */
static char *child_body(IHttpContext *ctx, const HTTP_RESPONSE *raw, size_t *len)
{
    char *page = NULL;
    size_t cap = 0;
    *len = 0;
    if (!page_add(ctx, &page, len, &cap, "", 0))
        return NULL;
    for (USHORT i = 0; i < raw->EntityChunkCount; i++) {
        const HTTP_DATA_CHUNK *c = &raw->pEntityChunks[i];
        if (c->DataChunkType == HttpDataChunkFromMemory) {
            if (!page_add(ctx, &page, len, &cap, c->FromMemory.pBuffer, c->FromMemory.BufferLength))
                return NULL;
        } else if (c->DataChunkType == HttpDataChunkFromFileHandle) {
            int fd = IisdHandleToFd(c->FromFileHandle.FileHandle);
            uint64_t off = c->FromFileHandle.ByteRange.StartingOffset.QuadPart;
            uint64_t left = c->FromFileHandle.ByteRange.Length.QuadPart;
            char buf[8192];
            while (left > 0) {
                ssize_t r = pread(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), (off_t)off);
                if (r < 0)
                    return NULL;
                if (r == 0)
                    break; /* "to the end of the file" */
                if (!page_add(ctx, &page, len, &cap, buf, (size_t)r))
                    return NULL;
                off += (uint64_t)r;
                left -= left == (uint64_t)-1 ? 0 : (uint64_t)r;
            }
        } else {
            return NULL;
        }
    }
    return page;
}

/*
 * ExecuteURL: what a child request for the site-relative URL answers (a file, or what a module
 * produces), run as GET with custom errors disabled and its response kept apart
 * (EXECUTE_FLAG_BUFFER_RESPONSE); NULL when it fails or answers an error itself. The caller keeps
 * its own status. *ctype gets the child's Content-Type, if any.
 */
static char *url_page(IHttpContext *ctx, const char *url, size_t *len, const char **ctype)
{
    if (url[0] != '/')
        return NULL;
    IHttpContext *child = NULL;
    if (FAILED(ctx->lpVtbl->CloneContext(
            ctx, CLONE_FLAG_BASICS | CLONE_FLAG_HEADERS | CLONE_FLAG_NO_PRECONDITION, &child)) ||
        child == NULL)
        return NULL;
    char *page = NULL;
    IHttpRequest *creq = child->lpVtbl->GetRequest(child);
    BOOL pending = FALSE;
    if (SUCCEEDED(creq->lpVtbl->SetHttpMethod(creq, "GET")) &&
        SUCCEEDED(creq->lpVtbl->SetUrlA(creq, url, (DWORD)strlen(url), TRUE)) &&
        SUCCEEDED(ctx->lpVtbl->ExecuteRequest(
            ctx, TRUE, child, EXECUTE_FLAG_DISABLE_CUSTOM_ERROR | EXECUTE_FLAG_BUFFER_RESPONSE, NULL,
            &pending))) {
        IHttpResponse *cresp = child->lpVtbl->GetResponse(child);
        const HTTP_RESPONSE *raw = cresp->lpVtbl->GetRawHttpResponseConst(cresp);
        if (raw != NULL && raw->StatusCode < 400) {
            page = child_body(ctx, raw, len);
            USHORT n = 0;
            PCSTR ct = cresp->lpVtbl->GetHeaderById(cresp, HttpHeaderContentType, &n);
            if (page != NULL && ct != NULL && n > 0) {
                char *copy = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)n + 1);
                if (copy != NULL) {
                    memcpy(copy, ct, n);
                    copy[n] = '\0';
                    *ctype = copy;
                }
            }
        }
    }
    child->lpVtbl->ReleaseClonedContext(child);
    return page;
}

static char *builtin_page(IHttpContext *ctx, unsigned status, unsigned sub, const char *reason, size_t *len)
{
    size_t cap = 2048;
    char *b = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (b == NULL)
        return NULL;
    char code[32];
    status_code(code, status, sub);
    size_t n = 0;
    n = append_raw(b, n, cap, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>");
    n = append_raw(b, n, cap, code);
    n = append_raw(b, n, cap, " - ");
    n = append_html(b, n, cap, reason, strlen(reason));
    n = append_raw(b, n, cap, "</title></head><body><h1>Server Error</h1><h2>");
    n = append_raw(b, n, cap, code);
    n = append_raw(b, n, cap, " - ");
    n = append_html(b, n, cap, reason, strlen(reason));
    n = append_raw(b, n, cap, "</h2><p>");
    n = append_raw(b, n, cap, status_text(status, sub));
    n = append_raw(b, n, cap, "</p></body></html>\r\n");
    *len = n;
    return b;
}

static size_t row(char *b, size_t n, size_t cap, const char *name, const char *value)
{
    n = append_raw(b, n, cap, "<tr><th>");
    n = append_raw(b, n, cap, name);
    n = append_raw(b, n, cap, "</th><td>");
    n = append_html(b, n, cap, value, strlen(value));
    return append_raw(b, n, cap, "</td></tr>\r\n");
}

static char *detailed_page(IHttpContext *ctx, const ce_config_t *c, unsigned status, unsigned sub,
                           const char *reason, HRESULT hr, PCWSTR module, DWORD notification, size_t *len)
{
    size_t cap = 16384;
    char *b = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (b == NULL)
        return NULL;
    char code[32], hrs[16] = "0x";
    status_code(code, status, sub);
    for (int i = 0; i < 8; i++)
        hrs[2 + i] = "0123456789abcdef"[((unsigned)hr >> (28 - 4 * i)) & 15];
    hrs[10] = '\0';

    IScriptMapInfo *sm = ctx->lpVtbl->GetScriptMap(ctx);
    const char *handler = sm ? utf8(ctx, sm->lpVtbl->GetName(sm)) : "";
    DWORD plen = 0;
    const char *phys = utf8(ctx, ctx->lpVtbl->GetPhysicalPath(ctx, &plen));
    IHttpUser *user = ctx->lpVtbl->GetUser(ctx);
    const char *uname = user ? utf8(ctx, user->lpVtbl->GetUserName(user)) : "";
    const char *utype = user ? utf8(ctx, user->lpVtbl->GetAuthenticationType(user)) : "";
    PCSTR scheme = NULL, host = NULL, port = NULL, url = NULL;
    DWORD l1, l2, l3, l4;
    PCSTR https = NULL;
    ctx->lpVtbl->GetServerVariableA(ctx, "HTTPS", &https, &l1);
    scheme = https != NULL && strcasecmp(https, "on") == 0 ? "https" : "http";
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "SERVER_NAME", &host, &l2)) || host == NULL)
        host = "localhost";
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "SERVER_PORT", &port, &l3)) || port == NULL)
        port = "80";
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "URL", &url, &l4)) || url == NULL)
        url = "/";
    char full[4096];
    size_t fl = append_raw(full, 0, sizeof(full), scheme);
    fl = append_raw(full, fl, sizeof(full), "://");
    fl = append_raw(full, fl, sizeof(full), host);
    fl = append_raw(full, fl, sizeof(full), ":");
    fl = append_raw(full, fl, sizeof(full), port);
    append_raw(full, fl, sizeof(full), url);

    size_t n = 0;
    n = append_raw(b, n, cap,
                   "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>IIS Detailed Error - ");
    n = append_raw(b, n, cap, code);
    n = append_raw(b, n, cap, " - ");
    n = append_html(b, n, cap, reason, strlen(reason));
    n = append_raw(b, n, cap,
                   "</title><style>body{font-family:sans-serif;margin:0}h1{background:#555;color:#fff;"
                   "margin:0;padding:8px 24px;font-size:1.2em}div.c{padding:0 24px}h2{font-size:1.1em;"
                   "color:#c00}th{text-align:right;padding-right:12px;vertical-align:top}"
                   "</style></head><body><h1>Server Error</h1><div class=\"c\"><h2>HTTP Error ");
    n = append_raw(b, n, cap, code);
    n = append_raw(b, n, cap, " - ");
    n = append_html(b, n, cap, reason, strlen(reason));
    n = append_raw(b, n, cap, "</h2><p>");
    n = append_raw(b, n, cap, status_text(status, sub));
    n = append_raw(b, n, cap, "</p><h3>Detailed Error Information</h3><table>\r\n");
    n = row(b, n, cap, "Module", module ? utf8(ctx, module) : "IIS Web Core");
    n = row(b, n, cap, "Notification", notification_name(notification));
    n = row(b, n, cap, "Handler", handler[0] ? handler : "Not yet determined");
    n = row(b, n, cap, "Error Code", hrs);
    n = row(b, n, cap, "Requested URL", full);
    n = row(b, n, cap, "Physical Path", phys);
    n = row(b, n, cap, "Logon Method", utype[0] ? utype : user ? "Anonymous" : "Not yet determined");
    n = row(b, n, cap, "Logon User", uname[0] ? uname : user ? "Anonymous" : "Not yet determined");
    n = append_raw(b, n, cap, "</table>");
    if (c->more_info[0] != '\0') {
        n = append_raw(b, n, cap, "<h3>More Information</h3><p><a href=\"");
        n = append_html(b, n, cap, c->more_info, strlen(c->more_info));
        n = append_raw(b, n, cap, "\">View more information about this error</a></p>");
    }
    n = append_raw(b, n, cap, "</div></body></html>\r\n");
    *len = n;
    return b;
}

/* ---- the notification ------------------------------------------------------------- */

/*
 * Replaces the body by page[0..len), keeping the status and the headers: the raw response's
 * entity chunks are emptied (IHttpResponse::GetRawHttpResponse), and the headers that described
 * the old body go.
 */
static void replace_body(IHttpResponse *resp, const char *page, size_t len, const char *ctype)
{
    /* the headers first: calls made before holding the raw response cost it no synchronisation */
    static const HTTP_HEADER_ID stale[] = {
        HttpHeaderContentEncoding, HttpHeaderContentLength, HttpHeaderContentLanguage,
        HttpHeaderContentMd5,      HttpHeaderEtag,          HttpHeaderLastModified,
        HttpHeaderAcceptRanges};
    for (unsigned i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
        resp->lpVtbl->DeleteHeaderById(resp, stale[i]);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, ctype, (USHORT)strlen(ctype), TRUE);
    HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponse(resp);
    if (raw == NULL)
        return;
    raw->EntityChunkCount = 0;
    raw->pEntityChunks = NULL;
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = (PVOID)page;
    ch.FromMemory.BufferLength = (ULONG)len;
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

static bool has_body(IHttpResponse *resp)
{
    const HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponseConst(resp);
    if (raw == NULL)
        return false;
    for (USHORT i = 0; i < raw->EntityChunkCount; i++) {
        const HTTP_DATA_CHUNK *c = &raw->pEntityChunks[i];
        if (c->DataChunkType != HttpDataChunkFromMemory || c->FromMemory.BufferLength > 0)
            return true;
    }
    return false;
}

static REQUEST_NOTIFICATION_STATUS on_send_response(CHttpModule *This, IHttpContext *ctx,
                                                    ISendResponseProvider *p)
{
    (void)This;
    if (p == NULL || !p->lpVtbl->GetHeadersBeingSent(p))
        return RQ_NOTIFICATION_CONTINUE;
    if (ctx->lpVtbl->GetExecuteFlags(ctx) & EXECUTE_FLAG_DISABLE_CUSTOM_ERROR)
        return RQ_NOTIFICATION_CONTINUE; /* a child request run without custom errors */
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0, sub = 0, rlen = 0;
    PCSTR reason = NULL;
    HRESULT hr = S_OK;
    PCWSTR module = NULL;
    DWORD notification = 0;
    BOOL try_skip = FALSE;
    resp->lpVtbl->GetStatus(resp, &status, &sub, &reason, &rlen, &hr, &module, &notification, NULL,
                            &try_skip);
    if (status < 400)
        return RQ_NOTIFICATION_CONTINUE;
    const ce_config_t *c = modcfg_cached(g_server, ctx, g_id, ce_config_load, ce_config_free);
    if (c == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    if ((c->existing == EXISTING_AUTO && try_skip) || (c->existing == EXISTING_PASSTHROUGH && has_body(resp)))
        return RQ_NOTIFICATION_CONTINUE;

    char rbuf[256];
    size_t rn = reason != NULL ? rlen : 0;
    if (rn > sizeof(rbuf) - 1)
        rn = sizeof(rbuf) - 1;
    if (rn > 0)
        memcpy(rbuf, reason, rn);
    rbuf[rn] = '\0';
    bool detailed = c->error_mode == MODE_DETAILED;
    if (c->error_mode == MODE_DETAILED_LOCAL) {
        IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
        detailed = is_local_client(req->lpVtbl->GetRemoteAddress(req), req->lpVtbl->GetLocalAddress(req));
    }
    char *page = NULL;
    size_t len = 0;
    const char *ctype = "text/html";
    if (detailed) {
        page = detailed_page(ctx, c, status, sub, rbuf, hr, module, notification, &len);
    } else {
        const ce_entry_t *e = find_entry(c->entries, c->n, status, sub);
        int mode = e ? e->mode : c->default_mode;
        const char *path = e ? e->path : c->default_path;
        if (path[0] != '\0') {
            if (mode == RESP_REDIRECT) {
                resp->lpVtbl->Redirect(resp, path, TRUE, FALSE);
                return RQ_NOTIFICATION_CONTINUE;
            }
            page = mode == RESP_EXECUTE_URL ? url_page(ctx, path, &len, &ctype)
                                            : file_page(ctx, e ? e->prefix : "", path, &len);
        }
    }
    if (page == NULL)
        page = builtin_page(ctx, status, sub, rbuf, &len);
    if (page != NULL)
        replace_body(resp, page, len, ctype);
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl ce_vtbl;

static iisd_factory_t factory = IISD_FACTORY(ce_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(CustomErrorModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(CustomErrorModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                    IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    ce_vtbl.OnSendResponse = on_send_response;
    ce_vtbl.Dispose = iisd_module_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base, RQ_SEND_RESPONSE, 0);
}
