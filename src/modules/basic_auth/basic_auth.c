/*
 * BasicAuthenticationModule: system.webServer/security/authentication/basicAuthentication.
 *
 * RQ_AUTHENTICATE_REQUEST: with enabled="true", an "Authorization: Basic" header is decoded
 * (RFC 7617) and its user and password are checked against the htpasswdFile when the
 * configuration names one (an iisd attribute), or else against PAM with the service named
 * by pamService (an iisd attribute; default "iisd"). A verified user is handed to
 * IAuthenticationProvider::SetUser as this module's IHttpUser (authentication type "Basic";
 * roles are the htpasswd line's third field, or the Unix groups of a PAM user). Bad or
 * malformed credentials are answered 401.1. No header, or another scheme, leaves the
 * request to the other authentication modules.
 * RQ_SEND_RESPONSE: every 401 response gets "WWW-Authenticate: Basic realm=..." (the realm
 * attribute, or the server name) where the module is enabled.
 * Successful verifications are remembered for 30 seconds (a digest of them, in memory), so
 * that bcrypt and PAM do not run on every request of a client. Passwords are never logged.
 */
#include <windows.h>
#include <httpserv.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "modules/basic_auth/credentials.h"
#include "modules/builtin.h"
#include "modules/modcfg.h"

#define SECTION      L"system.webServer/security/authentication/basicAuthentication"
#define CACHE_TTL_MS 30000
#define CRED_MAX     1024 /* decoded user-id:password */

typedef struct {
    bool enabled;
    char realm[256];
    char file[1024];
    char pam[128];
} basic_cfg_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

static void *load(IHttpServer *srv, IHttpContext *ctx)
{
    IAppHostElement *sec = modcfg_section(srv, ctx, SECTION);
    basic_cfg_t *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->enabled = modcfg_bool(sec, L"enabled", false);
        modcfg_str(sec, L"realm", c->realm, sizeof(c->realm), "");
        modcfg_str(sec, L"htpasswdFile", c->file, sizeof(c->file), "");
        modcfg_str(sec, L"pamService", c->pam, sizeof(c->pam), "iisd");
        if (c->pam[0] == '\0')
            snprintf(c->pam, sizeof(c->pam), "iisd");
    }
    modcfg_release(sec);
    return c;
}

static void free_cfg(void *p)
{
    free(p);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- htpasswd files, re-read when they change ------------------------------------------ */

typedef struct htfile {
    struct htfile *next;
    char *path;
    struct stat st;
    bool loaded;
    htp_file_t f;
} htfile_t;

static htfile_t *g_files;
static pthread_mutex_t g_files_lock = PTHREAD_MUTEX_INITIALIZER;

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static char *rq_strdup(IHttpContext *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/*
 * Looks user up in the file at path (read again when it changed). On success *hash and *roles
 * are copies in request memory, and *version identifies the file's state. False when the file
 * cannot be read or has no such user.
 */
static bool htfile_lookup(IHttpContext *ctx, const char *path, const char *user, char **hash, char **roles,
                          char *version, size_t vcap)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    bool found = false;
    pthread_mutex_lock(&g_files_lock);
    htfile_t *h = g_files;
    while (h != NULL && strcmp(h->path, path) != 0)
        h = h->next;
    if (h == NULL && (h = calloc(1, sizeof(*h))) != NULL) {
        h->path = strdup(path);
        if (h->path == NULL) {
            free(h);
            h = NULL;
        } else {
            h->next = g_files;
            g_files = h;
        }
    }
    if (h != NULL && (!h->loaded || !same_file(&h->st, &st))) {
        if (h->loaded)
            htp_free(&h->f);
        h->loaded = false;
        FILE *fp = fopen(path, "re");
        if (fp != NULL) {
            char *text = NULL;
            size_t cap = 0, len = 0;
            bool ok = true;
            for (;;) {
                if (len + 4096 + 1 > cap) {
                    char *t = realloc(text, cap = cap * 2 + 8192);
                    if (t == NULL) {
                        ok = false;
                        break;
                    }
                    text = t;
                }
                size_t got = fread(text + len, 1, cap - len - 1, fp);
                len += got;
                if (got == 0)
                    break;
            }
            struct stat st2;
            if (ok && fstat(fileno(fp), &st2) == 0 && htp_parse(text ? text : "", len, &h->f) == 0) {
                h->st = st2;
                h->loaded = true;
            }
            if (text != NULL)
                explicit_bzero(text, len);
            free(text);
            fclose(fp);
        }
    }
    if (h != NULL && h->loaded) {
        const htp_entry_t *e = htp_find(&h->f, user);
        if (e != NULL) {
            *hash = rq_strdup(ctx, e->hash);
            *roles = rq_strdup(ctx, e->roles);
            snprintf(version, vcap, "htpasswd:%s:%llu:%lld.%ld", path, (unsigned long long)h->st.st_ino,
                     (long long)h->st.st_mtim.tv_sec, h->st.st_mtim.tv_nsec);
            found = *hash != NULL && *roles != NULL;
        }
    }
    pthread_mutex_unlock(&g_files_lock);
    return found;
}

/* ---- the module -------------------------------------------------------------------------- */

/* The server's user factory (an iisd extension), found at registration. */
static IIisdUserFactory *g_users;

static void write_body(IHttpContext *ctx, const char *html)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentType, "text/html", 9, TRUE);
    HTTP_DATA_CHUNK ch;
    memset(&ch, 0, sizeof(ch));
    ch.DataChunkType = HttpDataChunkFromMemory;
    ch.FromMemory.pBuffer = (PVOID)html;
    ch.FromMemory.BufferLength = (ULONG)strlen(html);
    DWORD sent;
    resp->lpVtbl->WriteEntityChunks(resp, &ch, 1, FALSE, FALSE, &sent, NULL);
}

static REQUEST_NOTIFICATION_STATUS logon_failed(IHttpContext *ctx)
{
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    resp->lpVtbl->Clear(resp);
    resp->lpVtbl->SetStatus(resp, 401, "Unauthorized", 1, S_OK, NULL, FALSE);
    write_body(ctx, "<!DOCTYPE html>\r\n<html><head><title>401.1 Unauthorized</title></head><body><h1>HTTP "
                    "Error 401.1 - Unauthorized</h1><p>The user name or the password is not valid.</p>"
                    "</body></html>\r\n");
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

static bool verify(IHttpContext *ctx, const basic_cfg_t *cfg, const char *user, const char *pass,
                   char **roles)
{
    char source[1200];
    char *hash = NULL;
    *roles = NULL;
    if (cfg->file[0] != '\0') {
        if (!htfile_lookup(ctx, cfg->file, user, &hash, roles, source, sizeof(source)))
            return false;
    } else {
        snprintf(source, sizeof(source), "pam:%s", cfg->pam);
    }
    uint64_t now = now_ms();
    if (basic_cache_hit(source, user, pass, now))
        return true;
    bool ok = hash != NULL ? htp_verify(hash, pass) : basic_pam_check(cfg->pam, user, pass);
    if (ok)
        basic_cache_put(source, user, pass, now, CACHE_TTL_MS);
    return ok;
}

static REQUEST_NOTIFICATION_STATUS on_authenticate(CHttpModule *This, IHttpContext *ctx,
                                                   IAuthenticationProvider *prov)
{
    (void)This;
    const basic_cfg_t *cfg = modcfg_cached(g_server, ctx, g_id, load, free_cfg);
    if (cfg == NULL || !cfg->enabled || ctx->lpVtbl->GetUser(ctx) != NULL)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    USHORT len = 0;
    PCSTR hdr = req->lpVtbl->GetHeaderById(req, HttpHeaderAuthorization, &len);
    if (hdr == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    char *buf = ctx->lpVtbl->AllocateRequestMemory(ctx, CRED_MAX);
    if (buf == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    const char *user = NULL, *pass = NULL;
    int rc = basic_decode(hdr, len, buf, CRED_MAX, &user, &pass);
    if (rc == 0)
        return RQ_NOTIFICATION_CONTINUE; /* another scheme: for another module */
    char *roles = NULL;
    if (rc < 0 || !verify(ctx, cfg, user, pass, &roles)) {
        explicit_bzero(buf, CRED_MAX);
        return logon_failed(ctx);
    }
    size_t ul = strlen(user) + 1, pl = strlen(pass) + 1;
    wchar_t *wname = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(ul * sizeof(wchar_t)));
    wchar_t *wpass = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(pl * sizeof(wchar_t)));
    wchar_t *wroles = NULL;
    IHttpUser *u = NULL;
    bool ok = wname != NULL && wpass != NULL && basic_utf8_to_wide(user, wname, ul) != (size_t)-1 &&
              basic_utf8_to_wide(pass, wpass, pl) != (size_t)-1;
    explicit_bzero(buf, CRED_MAX);
    bool file = cfg->file[0] != '\0';
    if (ok && file && roles != NULL) {
        size_t rl = strlen(roles) + 1;
        wroles = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(rl * sizeof(wchar_t)));
        ok = wroles != NULL && basic_utf8_to_wide(roles, wroles, rl) != (size_t)-1;
    }
    /* htpasswd users have the roles of their line (none without a third field); PAM users are
       Unix accounts and have their groups */
    if (ok && file && wroles == NULL)
        wroles = L"";
    if (ok)
        ok = SUCCEEDED(g_users->lpVtbl->CreateUser(g_users, L"Basic", wname, wname, wpass, wroles,
                                                   file ? 0 : IISD_USER_UNIX_GROUPS, &u));
    if (wpass != NULL)
        explicit_bzero(wpass, pl * sizeof(wchar_t));
    if (!ok)
        return logon_failed(ctx);
    prov->lpVtbl->SetUser(prov, u); /* the request holds its own reference now */
    u->lpVtbl->DereferenceUser(u);
    return RQ_NOTIFICATION_CONTINUE;
}

/* Appends the challenge to 401 responses where Basic authentication is enabled. */
static REQUEST_NOTIFICATION_STATUS on_send(CHttpModule *This, IHttpContext *ctx, ISendResponseProvider *p)
{
    (void)This;
    if (!p->lpVtbl->GetHeadersBeingSent(p))
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0, sub = 0, rl = 0;
    HRESULT hr;
    DWORD notif;
    BOOL skip;
    resp->lpVtbl->GetStatus(resp, &status, &sub, NULL, &rl, &hr, NULL, &notif, NULL, &skip);
    if (status != 401)
        return RQ_NOTIFICATION_CONTINUE;
    const basic_cfg_t *cfg = modcfg_cached(g_server, ctx, g_id, load, free_cfg);
    if (cfg == NULL || !cfg->enabled)
        return RQ_NOTIFICATION_CONTINUE;
    const char *realm = cfg->realm;
    DWORD sl = 0;
    if (realm[0] == '\0' &&
        (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, "SERVER_NAME", &realm, &sl)) || realm == NULL))
        realm = "";
    size_t cap = 2 * strlen(realm) + 32;
    char *v = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)cap);
    if (v == NULL)
        return RQ_NOTIFICATION_CONTINUE;
    size_t k = (size_t)snprintf(v, cap, "Basic realm=\"");
    for (const char *s = realm; *s; s++) {
        if (*s == '"' || *s == '\\')
            v[k++] = '\\';
        v[k++] = *s;
    }
    v[k++] = '"';
    v[k] = '\0';
    resp->lpVtbl->SetHeaderByName(resp, "WWW-Authenticate", v, (USHORT)k, FALSE);
    return RQ_NOTIFICATION_CONTINUE;
}

static CHttpModuleVtbl basic_vtbl;

static iisd_factory_t factory = IISD_FACTORY(basic_vtbl, 0);

HRESULT WINAPI IISD_MODULE_ENTRY(BasicAuthenticationModule)(DWORD, IHttpModuleRegistrationInfo *,
                                                            IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(BasicAuthenticationModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                            IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    basic_vtbl.OnAuthenticateRequest = on_authenticate;
    basic_vtbl.OnSendResponse = on_send;
    basic_vtbl.Dispose = iisd_module_dispose;
    g_users = iisd_users(srv);
    if (g_users == NULL)
        return E_NOINTERFACE;
    return info->lpVtbl->SetRequestNotifications(info, &factory.base,
                                                 RQ_AUTHENTICATE_REQUEST | RQ_SEND_RESPONSE, 0);
}
