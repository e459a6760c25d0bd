/* Server variables (IHttpContext::GetServerVariable), computed on demand into the request arena. */
#include "core/str.h"
#include "pipeline/hctx.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const char *sv_dup(iisd_hctx_t *h, const char *s, size_t n, size_t *len)
{
    *len = n;
    return iisd_arena_strndup(h->arena, s, n);
}

static const char *fmt_ip(iisd_hctx_t *h, const struct sockaddr_in6 *sa, size_t *len)
{
    char buf[INET6_ADDRSTRLEN];
    if (sa->sin6_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf));
    else
        inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof(buf));
    return sv_dup(h, buf, strlen(buf), len);
}

static const char *fmt_port(iisd_hctx_t *h, const struct sockaddr_in6 *sa, size_t *len)
{
    char buf[8];
    int n = snprintf(buf, sizeof(buf), "%u", ntohs(sa->sin6_port)); /* same offset for AF_INET */
    return sv_dup(h, buf, (size_t)n, len);
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
    const iisd_head_t *hd = &h->c->req->head;
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

static const char *header_var(iisd_hctx_t *h, const char *name, size_t *len)
{
    const iisd_head_t *hd = &h->c->req->head;
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

/* api-status: partial: request, connection, site and authentication variables; TLS ones come later */
const char *iisd_hctx_server_variable(iisd_hctx_t *h, const char *name, size_t *len)
{
    const iisd_req_t *r = h->c->req;
    const iisd_head_t *hd = &r->head;
    for (iisd_svar_t *sv = h->svars; sv != NULL; sv = sv->next)
        if (strcasecmp(sv->name, name) == 0) {
            *len = strlen(sv->value);
            return sv->value;
        }
    if (strncasecmp(name, "HTTP_", 5) == 0) {
        if (strcasecmp(name, "HTTP_URL") == 0)
            return sv_dup(h, hd->target, hd->target_len, len);
        if (strcasecmp(name, "HTTP_METHOD") == 0)
            name = "REQUEST_METHOD";
        else if (strcasecmp(name, "HTTP_VERSION") == 0)
            name = "SERVER_PROTOCOL";
        else
            return header_var(h, name + 5, len);
    }
    if (strcasecmp(name, "URL") == 0 || strcasecmp(name, "SCRIPT_NAME") == 0 ||
        strcasecmp(name, "PATH_INFO") == 0 || strcasecmp(name, "REQUEST_URI") == 0) {
        *len = h->url_len;
        return h->url;
    }
    if (strcasecmp(name, "QUERY_STRING") == 0)
        return sv_dup(h, h->query, h->query_len, len);
    if (strcasecmp(name, "REQUEST_METHOD") == 0) {
        const char *m = h->method ? h->method : hd->method;
        *len = strlen(m);
        return m;
    }
    if (strcasecmp(name, "UNENCODED_URL") == 0 || strcasecmp(name, "CACHE_URL") == 0)
        return sv_dup(h, hd->target, hd->target_len, len);
    if (strcasecmp(name, "REMOTE_ADDR") == 0 || strcasecmp(name, "REMOTE_HOST") == 0)
        return fmt_ip(h, &h->c->remote, len);
    if (strcasecmp(name, "REMOTE_PORT") == 0)
        return fmt_port(h, &h->c->remote, len);
    if (strcasecmp(name, "LOCAL_ADDR") == 0 || strcasecmp(name, "SERVER_ADDR") == 0)
        return fmt_ip(h, iisd_conn_local(h->c), len);
    if (strcasecmp(name, "SERVER_PORT") == 0)
        return fmt_port(h, iisd_conn_local(h->c), len);
    if (strcasecmp(name, "SERVER_PORT_SECURE") == 0)
        return sv_dup(h, "0", 1, len);
    if (strcasecmp(name, "HTTPS") == 0)
        return sv_dup(h, "off", 3, len);
    if (strcasecmp(name, "SERVER_PROTOCOL") == 0) {
        char v[16];
        int n = snprintf(v, sizeof(v), "HTTP/%u.%u", hd->version_major, hd->version_minor);
        return sv_dup(h, v, (size_t)n, len);
    }
    if (strcasecmp(name, "SERVER_SOFTWARE") == 0)
        return sv_dup(h, "iisd/0.1", 8, len);
    if (strcasecmp(name, "GATEWAY_INTERFACE") == 0)
        return sv_dup(h, "CGI/1.1", 7, len);
    if (strcasecmp(name, "SERVER_NAME") == 0) {
        const char *host = hd->known[IISD_H_HOST].value;
        if (host && *host) {
            const char *colon = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
            size_t n = colon ? (size_t)(colon - host + (host[0] == '[')) : strlen(host);
            return sv_dup(h, host, n, len);
        }
        return fmt_ip(h, iisd_conn_local(h->c), len);
    }
    if (strcasecmp(name, "CONTENT_LENGTH") == 0) {
        char v[24];
        int n = snprintf(v, sizeof(v), "%lld", (long long)(hd->content_length > 0 ? hd->content_length : 0));
        return sv_dup(h, v, (size_t)n, len);
    }
    if (strcasecmp(name, "CONTENT_TYPE") == 0) {
        const char *v = hd->known[IISD_H_CONTENT_TYPE].value;
        return sv_dup(h, v ? v : "", v ? hd->known[IISD_H_CONTENT_TYPE].len : 0, len);
    }
    if (strcasecmp(name, "ALL_RAW") == 0)
        return all_headers(h, true, len);
    if (strcasecmp(name, "ALL_HTTP") == 0)
        return all_headers(h, false, len);
    if (strcasecmp(name, "INSTANCE_ID") == 0) {
        char v[12];
        int n = snprintf(v, sizeof(v), "%u", (unsigned)h->sitedef->id);
        return sv_dup(h, v, (size_t)n, len);
    }
    if (strcasecmp(name, "INSTANCE_NAME") == 0)
        return sv_dup(h, h->sitedef->name, strlen(h->sitedef->name), len);
    if (strcasecmp(name, "INSTANCE_META_PATH") == 0) {
        char v[32];
        int n = snprintf(v, sizeof(v), "/LM/W3SVC/%u", (unsigned)h->sitedef->id);
        return sv_dup(h, v, (size_t)n, len);
    }
    if (strcasecmp(name, "APPL_PHYSICAL_PATH") == 0 || strcasecmp(name, "DOCUMENT_ROOT") == 0) {
        const char *path = strcasecmp(name, "DOCUMENT_ROOT") == 0 ? "/" : h->appdef->path;
        char *phys = iisd_site_map(h->sitedef, path, strlen(path));
        size_t n = phys ? strlen(phys) : 0;
        while (n > 1 && phys[n - 1] == '/')
            n--;
        char *v = iisd_arena_alloc(h->arena, n + 2);
        memcpy(v, phys ? phys : "", n);
        free(phys);
        if (strcasecmp(name, "APPL_PHYSICAL_PATH") == 0)
            v[n++] = '/';
        v[n] = '\0';
        *len = n;
        return v;
    }
    if (strcasecmp(name, "APPL_MD_PATH") == 0) {
        char v[512];
        int n = snprintf(v, sizeof(v), "/LM/W3SVC/%u/ROOT%s", (unsigned)h->sitedef->id,
                         strcmp(h->appdef->path, "/") == 0 ? "" : h->appdef->path);
        return sv_dup(h, v, (size_t)n, len);
    }
    if (strcasecmp(name, "PATH_TRANSLATED") == 0 || strcasecmp(name, "REQUEST_FILENAME") == 0 ||
        strcasecmp(name, "SCRIPT_FILENAME") == 0 || strcasecmp(name, "SCRIPT_TRANSLATED") == 0) {
        size_t wl;
        const wchar_t *w = iisd_hctx_physical_path(h, &wl);
        return iisd_arena_utf8_from_wcs(h->arena, w, wl, len);
    }
    if (strncasecmp(name, "AUTH_", 5) == 0 || strcasecmp(name, "LOGON_USER") == 0 ||
        strcasecmp(name, "REMOTE_USER") == 0 || strcasecmp(name, "UNMAPPED_REMOTE_USER") == 0) {
        const char *v = auth_var(h, name, len);
        if (v != NULL)
            return v;
    }
    if (strcasecmp(name, "APP_POOL_ID") == 0)
        return sv_dup(h, "DefaultAppPool", 14, len);
    if (strcasecmp(name, "REQUEST_FLAGS") == 0)
        return sv_dup(h, "0", 1, len);
    /* iisd's own: the byte counts a W3C log records as sc-bytes and cs-bytes (HTTP.sys keeps these
       to itself on IIS). Bytes sent count the status line, headers and body written so far; bytes
       received the request head and the body bytes read. */
    if (strcasecmp(name, "IISD_BYTES_SENT") == 0 || strcasecmp(name, "IISD_BYTES_RECEIVED") == 0) {
        char v[24];
        unsigned long long b = strcasecmp(name, "IISD_BYTES_SENT") == 0
                                   ? (unsigned long long)r->bytes_sent
                                   : (unsigned long long)hd->head_len + (unsigned long long)r->body_received;
        int n = snprintf(v, sizeof(v), "%llu", b);
        return sv_dup(h, v, (size_t)n, len);
    }
    return NULL;
}
