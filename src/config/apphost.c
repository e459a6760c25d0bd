#include "config/apphost.h"
#include "core/mem.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void iisd_config_defaults(iisd_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->site_name = iisd_xstrdup("Default Web Site");
    c->site_id = 1;
    c->header_timeout_ms = 30000;
    c->idle_timeout_ms = 120000;
    c->max_body = 30000000;
    c->max_url = 4096;
    c->max_query = 2048;
}

void iisd_config_free(iisd_config_t *c)
{
    free(c->site_name);
    free(c->root);
    free(c->bind_addr);
    for (unsigned i = 0; i < c->nglobal; i++) {
        free(c->global_modules[i].name);
        free(c->global_modules[i].image);
    }
    free(c->global_modules);
    for (unsigned i = 0; i < c->nmodules; i++)
        free(c->modules[i]);
    free(c->modules);
    memset(c, 0, sizeof(*c));
}

int64_t iisd_parse_timespan(const char *s)
{
    unsigned d = 0, h, m, sec;
    char tail;
    if (sscanf(s, "%u.%u:%u:%u%c", &d, &h, &m, &sec, &tail) == 4 ||
        (d = 0, sscanf(s, "%u:%u:%u%c", &h, &m, &sec, &tail) == 3)) {
        if (h > 23 || m > 59 || sec > 59)
            return -1;
        return ((((int64_t)d * 24 + h) * 60 + m) * 60 + sec) * 1000;
    }
    return -1;
}

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    int failed;
} ctx_t;

static void fail(ctx_t *x, xmlNode *n, const char *fmt, ...)
{
    if (x->failed)
        return;
    x->failed = 1;
    int k = snprintf(x->err, x->errlen, "%s:%ld: ", x->file, n ? xmlGetLineNo(n) : 0L);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err + k, x->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

static char *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (v == NULL)
        return NULL;
    char *s = iisd_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static void timespan_attr(ctx_t *x, xmlNode *n, const char *name, uint32_t *out)
{
    char *v = attr(n, name);
    if (v == NULL)
        return;
    int64_t ms = iisd_parse_timespan(v);
    if (ms < 0)
        fail(x, n, "attribute %s of <%s>: \"%s\" is not a time span (hh:mm:ss)", name, (const char *)n->name,
             v);
    else
        *out = (uint32_t)ms;
    free(v);
}

static void uint_attr(ctx_t *x, xmlNode *n, const char *name, uint64_t max, uint64_t *out)
{
    char *v = attr(n, name), *end;
    if (v == NULL)
        return;
    unsigned long long u = strtoull(v, &end, 10);
    if (*v == '\0' || *end != '\0' || *v == '-' || u > max)
        fail(x, n, "attribute %s of <%s>: \"%s\" is not a whole number from 0 to %llu", name,
             (const char *)n->name, v, (unsigned long long)max);
    else
        *out = u;
    free(v);
}

static void read_site(ctx_t *x, iisd_config_t *c, xmlNode *site)
{
    char *name = attr(site, "name");
    if (name) {
        free(c->site_name);
        c->site_name = name;
    }
    uint64_t id = c->site_id;
    uint_attr(x, site, "id", 0xffffffffu, &id);
    c->site_id = (uint32_t)id;
    xmlNode *app = NULL;
    for (xmlNode *a = site->children; a; a = a->next) {
        if (a->type != XML_ELEMENT_NODE || strcmp((const char *)a->name, "application") != 0)
            continue;
        char *p = attr(a, "path");
        if (p && strcmp(p, "/") == 0)
            app = a;
        free(p);
    }
    for (xmlNode *v = app ? app->children : NULL; v; v = v->next) {
        if (v->type != XML_ELEMENT_NODE || strcmp((const char *)v->name, "virtualDirectory") != 0)
            continue;
        char *p = attr(v, "path");
        if (p && strcmp(p, "/") == 0) {
            free(c->root);
            c->root = attr(v, "physicalPath");
            if (c->root == NULL)
                fail(x, v, "attribute physicalPath of <virtualDirectory path=\"/\"> is required");
        }
        free(p);
    }
    xmlNode *b = child(child(site, "bindings"), "binding");
    if (b) {
        char *info = attr(b, "bindingInformation");
        if (info == NULL) {
            fail(x, b, "attribute bindingInformation of <binding> is required");
            return;
        }
        char *c1 = strrchr(info, ':');
        char *c0 = c1 ? memrchr(info, ':', (size_t)(c1 - info)) : NULL;
        char *end;
        unsigned long port = c0 ? strtoul(c0 + 1, &end, 10) : 0;
        if (c0 == NULL || end != c1 || port == 0 || port > 65535) {
            fail(x, b, "attribute bindingInformation of <binding>: \"%s\" is not IP:port:host", info);
        } else {
            c->port = (uint16_t)port;
            free(c->bind_addr);
            c->bind_addr = iisd_xstrndup(info, (size_t)(c0 - info));
        }
        free(info);
    }
}

int iisd_config_load(iisd_config_t *c, const char *file, char *err, size_t errlen)
{
    ctx_t x = {.file = file, .err = err, .errlen = errlen};
    xmlDoc *doc = xmlReadFile(file, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        snprintf(err, errlen, "%s:%d: %s", file, e ? e->line : 0,
                 e && e->message ? e->message : "cannot read the file");
        size_t n = strlen(err);
        if (n > 0 && err[n - 1] == '\n')
            err[n - 1] = '\0';
        return -1;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "configuration") != 0) {
        fail(&x, root, "the root element must be <configuration>");
        xmlFreeDoc(doc);
        return -1;
    }
    xmlNode *ah = child(root, "system.applicationHost");
    xmlNode *sites = child(ah, "sites");
    xmlNode *lim = child(child(sites, "siteDefaults"), "limits");
    if (lim)
        timespan_attr(&x, lim, "connectionTimeout", &c->idle_timeout_ms);
    xmlNode *site = child(sites, "site");
    if (site) {
        read_site(&x, c, site);
        lim = child(site, "limits");
        if (lim)
            timespan_attr(&x, lim, "connectionTimeout", &c->idle_timeout_ms);
    }
    xmlNode *wl = child(ah, "webLimits");
    if (wl)
        timespan_attr(&x, wl, "headerWaitTimeout", &c->header_timeout_ms);

    xmlNode *ws = child(root, "system.webServer");
    for (xmlNode *a = child(child(ws, "globalModules"), "add"); a; a = a->next) {
        if (a->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)a->name, "add") != 0)
            continue;
        char *name = attr(a, "name");
        if (name == NULL) {
            fail(&x, a, "attribute name of <globalModules><add> is required");
            break;
        }
        c->global_modules = iisd_xrealloc(c->global_modules, (c->nglobal + 1) * sizeof(*c->global_modules));
        c->global_modules[c->nglobal].name = name;
        c->global_modules[c->nglobal].image = attr(a, "image");
        c->nglobal++;
    }
    xmlNode *mods = child(ws, "modules");
    if (mods) {
        c->modules_set = true;
        for (xmlNode *a = mods->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE)
                continue;
            if (strcmp((const char *)a->name, "clear") == 0) {
                for (unsigned i = 0; i < c->nmodules; i++)
                    free(c->modules[i]);
                c->nmodules = 0;
                continue;
            }
            char *name = attr(a, "name");
            if (name == NULL) {
                fail(&x, a, "attribute name of <modules><%s> is required", (const char *)a->name);
                break;
            }
            if (strcmp((const char *)a->name, "remove") == 0) {
                for (unsigned i = 0; i < c->nmodules; i++)
                    if (strcasecmp(c->modules[i], name) == 0) {
                        free(c->modules[i]);
                        memmove(&c->modules[i], &c->modules[i + 1], (c->nmodules - i - 1) * sizeof(char *));
                        c->nmodules--;
                        break;
                    }
                free(name);
                continue;
            }
            c->modules = iisd_xrealloc(c->modules, (c->nmodules + 1) * sizeof(char *));
            c->modules[c->nmodules++] = name;
        }
    }
    xmlNode *rl = child(child(child(ws, "security"), "requestFiltering"), "requestLimits");
    if (rl) {
        uint64_t v = c->max_url;
        uint_attr(&x, rl, "maxAllowedContentLength", 0xffffffffu, &c->max_body);
        uint_attr(&x, rl, "maxUrl", 0xffffffffu, &v);
        c->max_url = (uint32_t)v;
        v = c->max_query;
        uint_attr(&x, rl, "maxQueryString", 0xffffffffu, &v);
        c->max_query = (uint32_t)v;
    }
    xmlFreeDoc(doc);
    return x.failed ? -1 : 0;
}
