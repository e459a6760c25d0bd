#include "config/sites.h"
#include "core/mem.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim_slashes(const char *p, bool keep_root)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    if (!keep_root && n == 1 && p[0] == '/')
        n = 0;
    return iisd_xstrndup(p, n);
}

static int parse_binding(iisd_binding_t *b, const iisd_celem_t *e, char *err, size_t errlen)
{
    const char *info = iisd_celem_str(e, "bindingInformation");
    const iisd_cval_t *v = iisd_celem_val(e, "bindingInformation");
    /* IP:port:host, where IP may be an IPv6 literal in brackets */
    const char *c1 = info[0] == '[' ? strchr(info, ']') : info;
    c1 = c1 ? strchr(c1, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char *end;
    unsigned long port = c1 ? strtoul(c1 + 1, &end, 10) : 0;
    if (c1 == NULL || c2 == NULL || end != c2 || port == 0 || port > 65535) {
        snprintf(err, errlen,
                 "%s:%u: attribute 'bindingInformation' of <binding>: \"%s\" is not IP:port:host",
                 v && v->file ? v->file : "", v ? v->line : 0, info);
        return -1;
    }
    b->protocol = iisd_xstrdup(iisd_celem_str(e, "protocol"));
    b->ip = c1 == info ? iisd_xstrdup("*") : iisd_xstrndup(info, (size_t)(c1 - info));
    if (strcmp(b->ip, "") == 0) {
        free(b->ip);
        b->ip = iisd_xstrdup("*");
    }
    b->port = (uint16_t)port;
    b->host = iisd_xstrdup(c2 + 1);
    b->http = strcasecmp(b->protocol, "http") == 0;
    b->family = 0;
    if (strcmp(b->ip, "*") != 0) {
        char buf[INET6_ADDRSTRLEN + 2];
        const char *ip = b->ip;
        size_t n = strlen(ip);
        if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']' && n - 2 < sizeof(buf)) {
            memcpy(buf, ip + 1, n - 2);
            buf[n - 2] = '\0';
            ip = buf;
        }
        if (inet_pton(AF_INET, b->ip, b->addr) == 1)
            b->family = AF_INET;
        else if (inet_pton(AF_INET6, ip, b->addr) == 1)
            b->family = AF_INET6;
    }
    return 0;
}

static int app_cmp(const void *a, const void *b)
{
    size_t x = strlen(((const iisd_app_t *)a)->path), y = strlen(((const iisd_app_t *)b)->path);
    return x < y ? 1 : x > y ? -1 : 0;
}

int iisd_sites_load(iisd_sites_t *s, iisd_cfg_t *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    const iisd_cfg_error_t *e;
    const iisd_celem_t *sites = iisd_cfg_section(cfg, "", "system.applicationHost/sites", &e);
    if (sites == NULL) {
        snprintf(err, errlen, "%s:%u: %s", e->file, e->line, e->message);
        return -1;
    }
    s->v = iisd_xcalloc(sites->nitems ? sites->nitems : 1, sizeof(*s->v));
    for (unsigned i = 0; i < sites->nitems; i++) {
        const iisd_celem_t *si = sites->items[i];
        iisd_sitedef_t *d = &s->v[s->n++];
        d->id = (uint32_t)iisd_celem_num(si, "id");
        d->name = iisd_xstrdup(iisd_celem_str(si, "name"));
        const iisd_celem_t *lim = iisd_celem_kid(si, "limits");
        d->connection_timeout_ms = (uint32_t)iisd_celem_num(lim, "connectionTimeout");
        d->limits.idle_timeout_ms = d->connection_timeout_ms;
        d->limits.max_connections = lim ? (uint32_t)iisd_celem_num(lim, "maxConnections") : IISD_UNLIMITED;
        d->limits.max_bandwidth = lim ? (uint32_t)iisd_celem_num(lim, "maxBandwidth") : IISD_UNLIMITED;
        /* IIS takes no bandwidth limit under 1024 bytes per second */
        if (d->limits.max_bandwidth < 1024)
            d->limits.max_bandwidth = 1024;
        d->gate = iisd_site_gate(d->id);
        const iisd_celem_t *bs = iisd_celem_kid(si, "bindings");
        d->bindings = iisd_xcalloc(bs && bs->nitems ? bs->nitems : 1, sizeof(*d->bindings));
        for (unsigned j = 0; bs && j < bs->nitems; j++) {
            if (parse_binding(&d->bindings[d->nbindings], bs->items[j], err, errlen) < 0)
                return -1;
            d->nbindings++;
        }
        d->apps = iisd_xcalloc(si->nitems ? si->nitems : 1, sizeof(*d->apps));
        for (unsigned j = 0; j < si->nitems; j++) {
            const iisd_celem_t *ai = si->items[j];
            iisd_app_t *a = &d->apps[d->napps++];
            a->path = trim_slashes(iisd_celem_str(ai, "path"), true);
            a->pool = iisd_xstrdup(iisd_celem_str(ai, "applicationPool"));
            a->preload = iisd_celem_bool(ai, "preloadEnabled");
            a->vdirs = iisd_xcalloc(ai->nitems ? ai->nitems : 1, sizeof(*a->vdirs));
            for (unsigned k = 0; k < ai->nitems; k++) {
                const iisd_celem_t *vi = ai->items[k];
                iisd_vdir_t *vd = &a->vdirs[a->nvdirs++];
                vd->path = trim_slashes(iisd_celem_str(vi, "path"), true);
                vd->phys = trim_slashes(iisd_celem_str(vi, "physicalPath"), true);
                vd->allow_subdir_config = iisd_celem_bool(vi, "allowSubDirConfig");
            }
            size_t n = strlen(d->name) + strlen(a->path) + 32;
            a->config_path = iisd_xmalloc(n);
            snprintf(a->config_path, n, "MACHINE/WEBROOT/APPHOST/%s%s", d->name,
                     strcmp(a->path, "/") == 0 ? "" : a->path);
        }
        qsort(d->apps, d->napps, sizeof(*d->apps), app_cmp);
        if (d->napps == 0 || strcmp(d->apps[d->napps - 1].path, "/") != 0) {
            const iisd_cval_t *v = iisd_celem_val(si, "name");
            snprintf(err, errlen, "%s:%u: site '%s' has no root application (<application path=\"/\">)",
                     v && v->file ? v->file : "", v ? v->line : 0, d->name);
            return -1;
        }
    }
    return 0;
}

void iisd_sites_free(iisd_sites_t *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        iisd_sitedef_t *d = &s->v[i];
        for (unsigned j = 0; j < d->nbindings; j++) {
            free(d->bindings[j].protocol);
            free(d->bindings[j].ip);
            free(d->bindings[j].host);
        }
        free(d->bindings);
        for (unsigned j = 0; j < d->napps; j++) {
            iisd_app_t *a = &d->apps[j];
            for (unsigned k = 0; k < a->nvdirs; k++) {
                free(a->vdirs[k].path);
                free(a->vdirs[k].phys);
            }
            free(a->vdirs);
            free(a->path);
            free(a->pool);
            free(a->config_path);
        }
        free(d->apps);
        free(d->name);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

const iisd_sitedef_t *iisd_sites_find(const iisd_sites_t *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* Compared as addresses, parsed when the binding was read: formatting or parsing per request
   would cost more than the rest of the routing. */
static bool ip_matches(const iisd_binding_t *b, const struct sockaddr *local)
{
    if (strcmp(b->ip, "*") == 0)
        return true;
    if (local->sa_family == AF_INET)
        return b->family == AF_INET &&
               memcmp(b->addr, &((const struct sockaddr_in *)local)->sin_addr, 4) == 0;
    return b->family == AF_INET6 &&
           memcmp(b->addr, &((const struct sockaddr_in6 *)local)->sin6_addr, 16) == 0;
}

const iisd_sitedef_t *iisd_sites_route(const iisd_sites_t *s, const struct sockaddr *local, const char *host,
                                       size_t host_len)
{
    uint16_t port = ntohs(local->sa_family == AF_INET ? ((const struct sockaddr_in *)local)->sin_port
                                                      : ((const struct sockaddr_in6 *)local)->sin6_port);
    /* the host without its port */
    size_t hl = 0;
    if (host != NULL) {
        if (host_len > 0 && host[0] == '[') {
            const char *rb = memchr(host, ']', host_len);
            hl = rb ? (size_t)(rb - host + 1) : host_len;
        } else {
            const char *colon = memchr(host, ':', host_len);
            hl = colon ? (size_t)(colon - host) : host_len;
        }
    }
    /* best match: specific host beats any host, then a specific address beats "*" */
    const iisd_sitedef_t *best = NULL;
    int best_score = -1;
    for (unsigned i = 0; i < s->n; i++) {
        for (unsigned j = 0; j < s->v[i].nbindings; j++) {
            const iisd_binding_t *b = &s->v[i].bindings[j];
            if (b->port != port || !b->http || !ip_matches(b, local))
                continue;
            int score = 0;
            if (b->host[0] != '\0') {
                if (strlen(b->host) != hl || strncasecmp(b->host, host, hl) != 0)
                    continue;
                score += 2;
            }
            if (strcmp(b->ip, "*") != 0)
                score += 1;
            if (score > best_score) {
                best = &s->v[i];
                best_score = score;
            }
        }
    }
    return best;
}

/* Does `prefix` ("/", "/shop") cover the URL path (segment-wise, case-insensitive)? */
static bool covers(const char *prefix, const char *url, size_t len)
{
    size_t n = strlen(prefix);
    if (n == 1 && prefix[0] == '/')
        return true;
    return len >= n && strncasecmp(prefix, url, n) == 0 && (len == n || url[n] == '/');
}

const iisd_app_t *iisd_site_app(const iisd_sitedef_t *site, const char *url, size_t len)
{
    for (unsigned i = 0; i < site->napps; i++) /* longest first */
        if (covers(site->apps[i].path, url, len))
            return &site->apps[i];
    return NULL;
}

static const iisd_vdir_t *find_vdir(const iisd_app_t *a, const char *rel, size_t len)
{
    const iisd_vdir_t *best = NULL;
    size_t best_len = 0;
    for (unsigned i = 0; i < a->nvdirs; i++) {
        size_t n = strlen(a->vdirs[i].path);
        if (covers(a->vdirs[i].path, rel, len) && (best == NULL || n > best_len)) {
            best = &a->vdirs[i];
            best_len = n;
        }
    }
    return best;
}

size_t iisd_site_map_into(const iisd_sitedef_t *site, const char *url, size_t len, char *buf, size_t cap)
{
    const iisd_app_t *a = iisd_site_app(site, url, len);
    if (a == NULL)
        return 0;
    size_t alen = strcmp(a->path, "/") == 0 ? 0 : strlen(a->path);
    const char *rel = url + alen;
    size_t rlen = len - alen;
    if (rlen == 0) {
        rel = "/";
        rlen = 1;
    }
    const iisd_vdir_t *v = find_vdir(a, rel, rlen);
    if (v == NULL)
        return 0;
    size_t vlen = strcmp(v->path, "/") == 0 ? 0 : strlen(v->path);
    const char *rest = rel + vlen;
    size_t restlen = rlen - vlen;
    size_t plen = strlen(v->phys);
    if (plen + restlen + 1 <= cap) {
        memcpy(buf, v->phys, plen);
        memcpy(buf + plen, rest, restlen);
        buf[plen + restlen] = '\0';
    }
    return plen + restlen + 1;
}

char *iisd_site_map(const iisd_sitedef_t *site, const char *url, size_t len)
{
    size_t n = iisd_site_map_into(site, url, len, NULL, 0);
    if (n == 0)
        return NULL;
    char *out = iisd_xmalloc(n);
    iisd_site_map_into(site, url, len, out, n);
    return out;
}

/* ---- the web.config mapper ---------------------------------------------------- */

/* "Site/app/dir" -> the site and the URL path "/app/dir" */
static const iisd_sitedef_t *split(const iisd_sites_t *s, const char *path, const char **url)
{
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strlen(path);
    for (unsigned i = 0; i < s->n; i++)
        if (strlen(s->v[i].name) == n && strncasecmp(s->v[i].name, path, n) == 0) {
            *url = slash ? slash : "/";
            return &s->v[i];
        }
    return NULL;
}

static char *map_folder(void *ctx, const char *path)
{
    const iisd_sites_t *s = ctx;
    const char *url;
    const iisd_sitedef_t *site = split(s, path, &url);
    if (site == NULL)
        return NULL;
    size_t len = strlen(url);
    const iisd_app_t *a = iisd_site_app(site, url, len);
    if (a == NULL)
        return NULL;
    /* allowSubDirConfig="false" stops web.config lookups below the virtual directory's root */
    size_t alen = strcmp(a->path, "/") == 0 ? 0 : strlen(a->path);
    const char *rel = len > alen ? url + alen : "/";
    const iisd_vdir_t *v = find_vdir(a, rel, strlen(rel));
    if (v == NULL)
        return NULL;
    size_t vlen = strcmp(v->path, "/") == 0 ? 0 : strlen(v->path);
    if (!v->allow_subdir_config && strlen(rel) > (vlen ? vlen : 1))
        return NULL;
    char *out = iisd_site_map(site, url, len);
    size_t n = out ? strlen(out) : 0;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0'; /* a folder, not "folder/" */
    return out;
}

static bool is_application(void *ctx, const char *path)
{
    const iisd_sites_t *s = ctx;
    const char *url;
    const iisd_sitedef_t *site = split(s, path, &url);
    if (site == NULL)
        return false;
    for (unsigned i = 0; i < site->napps; i++)
        if (strcasecmp(site->apps[i].path, url) == 0)
            return true;
    return false;
}

void iisd_sites_install_mapper(iisd_sites_t *s, iisd_cfg_t *cfg)
{
    iisd_cfg_mapper_t m = {.folder = map_folder, .is_application = is_application, .ctx = s};
    iisd_cfg_set_mapper(cfg, &m);
}
