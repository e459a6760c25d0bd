#include "config/config.h"
#include "core/str.h"
#include "core/arena.h"
#include "core/mem.h"
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define APPHOST_PREFIX "MACHINE/WEBROOT/APPHOST"

/* ---- our own copy of a config file's XML ------------------------------- */

typedef struct xattr {
    char *name, *value;
} xattr_t;

typedef struct xnode {
    char *name;
    xattr_t *attrs;
    unsigned nattrs;
    struct xnode **kids;
    unsigned nkids;
    uint32_t line;
} xnode_t;

enum { OM_INHERIT = 0, OM_ALLOW, OM_DENY };
enum {
    AD_EVERYWHERE = 0,
    AD_MACHINE_TO_APPLICATION,
    AD_MACHINE_TO_ROOT_WEB,
    AD_MACHINE_ONLY,
    AD_APPHOST_ONLY
};

typedef struct secdef {
    char *path;
    uint8_t override_default; /* OM_ALLOW / OM_DENY */
    uint8_t allow_definition;
    bool allow_location;
} secdef_t;

/* One appearance of a section in a file, aimed at a configuration path. */
typedef struct contrib {
    const char *file;
    const char *target; /* path below APPHOST, "" = APPHOST itself */
    unsigned target_depth;
    unsigned file_depth; /* 0 = applicationHost.config */
    unsigned seq;
    const char *section;
    const xnode_t *node;
    uint8_t override_mode; /* of the enclosing <location> */
} contrib_t;

typedef struct cfile {
    struct cfile *hnext; /* web.config files by level */
    char *folder;        /* web.config: the folder it was looked for in */
    bool present;
    struct timespec mtime;
    off_t size;
    ino_t ino;
    char *path;
    char *level; /* path below APPHOST of the folder; "" for applicationHost.config */
    unsigned depth;
    xnode_t *root;
    contrib_t *contribs;
    unsigned ncontribs;
    iisd_cfg_error_t error; /* message != NULL: the file is broken */
} cfile_t;

typedef struct centry {
    struct centry *next;
    char *path;
    char *section;
    const iisd_celem_t *elem;
    iisd_cfg_error_t error;
} centry_t;

#define NBUCKETS 1024

struct iisd_cfg {
    int refs;
    const iisd_schema_t *schema;
    char **vars;
    cfile_t *apphost;
    secdef_t *secs;
    unsigned nsecs;
    cfile_t **webconfigs; /* by folder, loaded on demand */
    unsigned nweb;
    cfile_t *wbuckets[NBUCKETS];
    iisd_cfg_mapper_t mapper;
    const char *fallback_sections;
    size_t fallback_len;
    pthread_mutex_t lock;
    iisd_arena_t arena; /* resolved elements; under lock */
    centry_t *buckets[NBUCKETS];
    char **files;
    unsigned nfiles;
    char **folders;
    unsigned nfolders;
};

static void set_error(iisd_cfg_error_t *e, const char *file, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(iisd_cfg_error_t *e, const char *file, uint32_t line, const char *fmt, ...)
{
    if (e->message != NULL)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    e->file = iisd_xstrdup(file ? file : "");
    e->line = line;
    e->message = iisd_xstrdup(buf);
}

void iisd_cfg_error_free(iisd_cfg_error_t *e)
{
    free(e->file);
    free(e->message);
    memset(e, 0, sizeof(*e));
}

static xnode_t *copy_node(xmlNode *n)
{
    xnode_t *x = iisd_xcalloc(1, sizeof(*x));
    x->name = iisd_xstrdup((const char *)n->name);
    x->line = (uint32_t)xmlGetLineNo(n);
    for (xmlAttr *a = n->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        x->attrs = iisd_xrealloc(x->attrs, (x->nattrs + 1) * sizeof(*x->attrs));
        x->attrs[x->nattrs].name = iisd_xstrdup((const char *)a->name);
        x->attrs[x->nattrs].value = iisd_xstrdup(v ? (const char *)v : "");
        x->nattrs++;
        xmlFree(v);
    }
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        x->kids = iisd_xrealloc(x->kids, (x->nkids + 1) * sizeof(*x->kids));
        x->kids[x->nkids++] = copy_node(c);
    }
    return x;
}

static void free_node(xnode_t *x)
{
    if (x == NULL)
        return;
    free(x->name);
    for (unsigned i = 0; i < x->nattrs; i++) {
        free(x->attrs[i].name);
        free(x->attrs[i].value);
    }
    free(x->attrs);
    for (unsigned i = 0; i < x->nkids; i++)
        free_node(x->kids[i]);
    free(x->kids);
    free(x);
}

static const char *xattr(const xnode_t *x, const char *name)
{
    for (unsigned i = 0; i < x->nattrs; i++)
        if (strcmp(x->attrs[i].name, name) == 0)
            return x->attrs[i].value;
    return NULL;
}

static unsigned path_depth(const char *p)
{
    if (*p == '\0')
        return 0;
    unsigned d = 1;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

/* Is `prefix` the path `path` or one of its ancestors (segment-wise, case-insensitive)? */
static bool path_covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return true;
    return strncasecmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static char *join_path(const char *a, const char *b)
{
    if (*a == '\0')
        return iisd_xstrdup(b);
    if (*b == '\0')
        return iisd_xstrdup(a);
    size_t la = strlen(a), lb = strlen(b);
    char *p = iisd_xmalloc(la + lb + 2);
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* Normalises a <location path> or request path: no leading/trailing '/', '.' = "". */
static char *norm_path(const char *p)
{
    while (*p == '/')
        p++;
    if (strcmp(p, ".") == 0)
        p = "";
    char *s = iisd_xstrdup(p);
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

/* ---- section registration (<configSections>) --------------------------- */

static const secdef_t *find_secdef(const iisd_cfg_t *cfg, const char *path)
{
    for (unsigned i = 0; i < cfg->nsecs; i++)
        if (strcasecmp(cfg->secs[i].path, path) == 0)
            return &cfg->secs[i];
    return NULL;
}

static bool is_group(const iisd_cfg_t *cfg, const char *path)
{
    size_t n = strlen(path);
    for (unsigned i = 0; i < cfg->nsecs; i++)
        if (strncasecmp(cfg->secs[i].path, path, n) == 0 && cfg->secs[i].path[n] == '/')
            return true;
    return false;
}

static int read_sections(iisd_cfg_t *cfg, const xnode_t *n, const char *prefix, cfile_t *f)
{
    for (unsigned i = 0; i < n->nkids; i++) {
        const xnode_t *k = n->kids[i];
        const char *name = xattr(k, "name");
        if (name == NULL) {
            set_error(&f->error, f->path, k->line, "<%s> in <configSections> needs a name attribute",
                      k->name);
            return -1;
        }
        char *path = join_path(prefix, name);
        if (strcmp(k->name, "sectionGroup") == 0) {
            int rc = read_sections(cfg, k, path, f);
            free(path);
            if (rc < 0)
                return rc;
            continue;
        }
        if (strcmp(k->name, "section") != 0) {
            set_error(&f->error, f->path, k->line, "unrecognized element <%s> in <configSections>", k->name);
            free(path);
            return -1;
        }
        secdef_t d = {.path = path,
                      .override_default = OM_ALLOW,
                      .allow_definition = AD_EVERYWHERE,
                      .allow_location = true};
        const char *om = xattr(k, "overrideModeDefault");
        if (om && strcasecmp(om, "Deny") == 0)
            d.override_default = OM_DENY;
        else if (om && strcasecmp(om, "Allow") != 0) {
            set_error(&f->error, f->path, k->line,
                      "attribute overrideModeDefault of section %s: \"%s\" is not Allow or Deny", path, om);
            free(path);
            return -1;
        }
        static const char *const defs[] = {"Everywhere", "MachineToApplication", "MachineToRootWeb",
                                           "MachineOnly", "AppHostOnly"};
        const char *ad = xattr(k, "allowDefinition");
        if (ad) {
            unsigned j = 0;
            while (j < 5 && strcasecmp(ad, defs[j]) != 0)
                j++;
            if (j == 5) {
                set_error(&f->error, f->path, k->line,
                          "attribute allowDefinition of section %s: \"%s\" is not one of Everywhere, "
                          "MachineToApplication, MachineToRootWeb, MachineOnly, AppHostOnly",
                          path, ad);
                free(path);
                return -1;
            }
            d.allow_definition = (uint8_t)j;
        }
        const char *al = xattr(k, "allowLocation");
        if (al && strcasecmp(al, "false") == 0)
            d.allow_location = false;
        if (find_secdef(cfg, path) != NULL) {
            set_error(&f->error, f->path, k->line, "section %s is registered twice", path);
            free(path);
            return -1;
        }
        cfg->secs = iisd_xrealloc(cfg->secs, (cfg->nsecs + 1) * sizeof(*cfg->secs));
        cfg->secs[cfg->nsecs++] = d;
    }
    return 0;
}

/* ---- finding the sections of a file ------------------------------------ */

static void add_contrib(cfile_t *f, const char *target, const char *section, const xnode_t *node, uint8_t om)
{
    f->contribs = iisd_xrealloc(f->contribs, (f->ncontribs + 1) * sizeof(*f->contribs));
    contrib_t *c = &f->contribs[f->ncontribs];
    c->file = f->path;
    c->target = target;
    c->target_depth = path_depth(target);
    c->file_depth = f->depth;
    c->seq = f->ncontribs;
    c->section = iisd_xstrdup(section);
    c->node = node;
    c->override_mode = om;
    f->ncontribs++;
}

static int walk_sections(iisd_cfg_t *cfg, cfile_t *f, const xnode_t *n, const char *prefix,
                         const char *target, uint8_t om)
{
    for (unsigned i = 0; i < n->nkids; i++) {
        const xnode_t *k = n->kids[i];
        if (*prefix == '\0' && strcmp(k->name, "configSections") == 0)
            continue;
        if (*prefix == '\0' && strcmp(k->name, "location") == 0) {
            const char *p = xattr(k, "path");
            char *lp = norm_path(p ? p : "");
            char *t = join_path(target, lp);
            free(lp);
            uint8_t lom = OM_INHERIT;
            const char *o = xattr(k, "overrideMode"), *ao = xattr(k, "allowOverride");
            if (o && ao) {
                set_error(&f->error, f->path, k->line,
                          "a <location> cannot have both overrideMode and allowOverride");
                free(t);
                return -1;
            }
            if (o) {
                if (strcasecmp(o, "Allow") == 0)
                    lom = OM_ALLOW;
                else if (strcasecmp(o, "Deny") == 0)
                    lom = OM_DENY;
                else if (strcasecmp(o, "Inherit") != 0) {
                    set_error(&f->error, f->path, k->line,
                              "attribute overrideMode of <location>: \"%s\" is not Allow, Deny or Inherit",
                              o);
                    free(t);
                    return -1;
                }
            } else if (ao) {
                lom = strcasecmp(ao, "false") == 0 ? OM_DENY : OM_ALLOW;
            }
            int rc = walk_sections(cfg, f, k, "", t, lom);
            bool used = false;
            for (unsigned j = 0; j < f->ncontribs; j++)
                used |= f->contribs[j].target == t;
            if (!used)
                free(t);
            if (rc < 0)
                return rc;
            continue;
        }
        char *path = join_path(prefix, k->name);
        if (find_secdef(cfg, path) != NULL) {
            add_contrib(f, target, path, k, om);
        } else if (is_group(cfg, path)) {
            int rc = walk_sections(cfg, f, k, path, target, om);
            if (rc < 0) {
                free(path);
                return rc;
            }
        } else {
            set_error(&f->error, f->path, k->line, "unrecognized configuration section %s", path);
            free(path);
            return -1;
        }
        free(path);
    }
    return 0;
}

static void free_file(cfile_t *f);

static cfile_t *parse_file(iisd_cfg_t *cfg, const char *path, const char *text, size_t len, const char *level,
                           bool apphost)
{
    cfile_t *f = iisd_xcalloc(1, sizeof(*f));
    f->path = iisd_xstrdup(path);
    f->level = iisd_xstrdup(level);
    f->depth = apphost ? 0 : path_depth(level) + 1;
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = text ? xmlReadMemory(text, (int)len, path, NULL, opts) : xmlReadFile(path, NULL, opts);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "cannot read the file");
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        set_error(&f->error, path, e ? (uint32_t)e->line : 0, "%s", msg);
        return f;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "configuration") != 0) {
        set_error(&f->error, path, root ? (uint32_t)xmlGetLineNo(root) : 0,
                  "the root element must be <configuration>");
        xmlFreeDoc(doc);
        return f;
    }
    f->root = copy_node(root);
    xmlFreeDoc(doc);
    if (apphost) {
        for (unsigned i = 0; i < f->root->nkids; i++)
            if (strcmp(f->root->kids[i]->name, "configSections") == 0 &&
                read_sections(cfg, f->root->kids[i], "", f) < 0)
                return f;
        if (cfg->nsecs == 0 && cfg->fallback_sections != NULL) {
            const char *fbtext = cfg->fallback_sections;
            cfg->fallback_sections = NULL; /* read them once */
            cfile_t *fb = parse_file(cfg, "(built-in configSections)", fbtext, cfg->fallback_len, "", true);
            bool ok = fb->error.message == NULL;
            if (!ok)
                set_error(&f->error, fb->error.file, fb->error.line, "%s", fb->error.message);
            free_file(fb);
            if (!ok)
                return f;
        }
    } else {
        for (unsigned i = 0; i < f->root->nkids; i++)
            if (strcmp(f->root->kids[i]->name, "configSections") == 0) {
                set_error(&f->error, path, f->root->kids[i]->line,
                          "<configSections> may only appear in applicationHost.config");
                return f;
            }
    }
    walk_sections(cfg, f, f->root, "", f->level, OM_INHERIT);
    return f;
}

static void free_file(cfile_t *f)
{
    if (f == NULL)
        return;
    for (unsigned i = 0; i < f->ncontribs; i++) {
        free((char *)f->contribs[i].section);
        bool last = true; /* targets are shared by the contributions of one <location> */
        for (unsigned j = i + 1; j < f->ncontribs; j++)
            last &= f->contribs[j].target != f->contribs[i].target;
        if (last && f->contribs[i].target != f->level)
            free((char *)f->contribs[i].target);
    }
    free(f->contribs);
    free_node(f->root);
    iisd_cfg_error_free(&f->error);
    free(f->path);
    free(f->level);
    free(f->folder);
    free(f);
}

/* ---- values ------------------------------------------------------------- */

static char *expand(iisd_cfg_t *cfg, const char *s)
{
    iisd_arena_t *a = &cfg->arena;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = iisd_arena_alloc(a, cap);
    for (const char *p = s; *p;) {
        const char *e = *p == '%' ? strchr(p + 1, '%') : NULL;
        const char *val = NULL;
        if (e && e > p + 1) {
            size_t k = (size_t)(e - p - 1);
            for (char **v = cfg->vars; v && v[0]; v += 2)
                if (strlen(v[0]) == k && strncasecmp(v[0], p + 1, k) == 0) {
                    val = v[1];
                    break;
                }
            if (val == NULL) {
                char name[256];
                if (k < sizeof(name)) {
                    memcpy(name, p + 1, k);
                    name[k] = '\0';
                    val = getenv(name);
                }
            }
        }
        const char *piece = val ? val : p;
        size_t plen = val ? strlen(val) : 1;
        if (n + plen + 1 > cap) {
            size_t ncap = (n + plen + 1) * 2;
            char *bigger = iisd_arena_alloc(a, ncap);
            memcpy(bigger, out, n);
            out = bigger;
            cap = ncap;
        }
        memcpy(out + n, piece, plen);
        n += plen;
        p = val ? e + 1 : p + 1;
    }
    out[n] = '\0';
    return out;
}

static iisd_celem_t *new_elem(iisd_cfg_t *cfg, const iisd_selem_t *s)
{
    iisd_celem_t *e = iisd_arena_calloc(&cfg->arena, sizeof(*e));
    e->schema = s;
    e->name = s->name;
    e->vals = iisd_arena_calloc(&cfg->arena, (s->nattrs ? s->nattrs : 1) * sizeof(*e->vals));
    for (unsigned i = 0; i < s->nattrs; i++) {
        const iisd_sattr_t *a = &s->attrs[i];
        char err[256];
        e->vals[i].str = a->defval ? (a->expanded ? expand(cfg, a->defval) : a->defval) : "";
        if (a->defval == NULL || iisd_sattr_parse(a, e->vals[i].str, &e->vals[i].num, err, sizeof(err)) < 0)
            e->vals[i].num = 0;
    }
    e->kids = iisd_arena_calloc(&cfg->arena, (s->nkids ? s->nkids : 1) * sizeof(*e->kids));
    for (unsigned i = 0; i < s->nkids; i++)
        e->kids[i] = new_elem(cfg, s->kids[i]);
    return e;
}

/* ---- merging one contribution ------------------------------------------- */

typedef struct merge_ctx {
    iisd_cfg_t *cfg;
    const contrib_t *c;
    iisd_cfg_error_t *err;
    unsigned id; /* contribution number, for prepend positions */
} merge_ctx_t;

static bool in_list(const char *list, const char *name)
{
    if (list == NULL)
        return false;
    size_t n = strlen(name), len;
    for (const char *cur = list, *p; iisd_list_next(&cur, &p, &len);)
        if ((len == 1 && *p == '*') || (len == n && strncmp(p, name, n) == 0))
            return true;
    return false;
}

static bool locked(const char *lock, const char *except, const char *name)
{
    if (in_list(lock, name))
        return true;
    return except != NULL && !in_list(except, name);
}

static bool is_lock_attr(const char *n)
{
    return strcmp(n, "lockAttributes") == 0 || strcmp(n, "lockElements") == 0 || strcmp(n, "lockItem") == 0 ||
           strcmp(n, "lockAllAttributesExcept") == 0 || strcmp(n, "lockAllElementsExcept") == 0;
}

static int merge(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *x);
static void apply_defaults_tree(iisd_celem_t *e);

static bool restricted(const merge_ctx_t *m, unsigned lock_depth)
{
    return lock_depth < m->c->file_depth;
}

static int key_equal(const iisd_celem_t *a, const iisd_celem_t *b, bool *has_key)
{
    const iisd_selem_t *s = a->schema;
    *has_key = false;
    for (unsigned i = 0; i < s->nattrs; i++) {
        if (!s->attrs[i].unique_key)
            continue;
        *has_key = true;
        int d = s->attrs[i].case_sensitive ? strcmp(a->vals[i].str, b->vals[i].str)
                                           : strcasecmp(a->vals[i].str, b->vals[i].str);
        if (d != 0)
            return 0;
    }
    return 1;
}

static const char *key_text(const iisd_celem_t *e, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < e->schema->nattrs && k < cap; i++)
        if (e->schema->attrs[i].unique_key)
            k += (size_t)snprintf(buf + k, cap - k, "%s%s='%s'", k ? ", " : "", e->schema->attrs[i].name,
                                  e->vals[i].str);
    return buf;
}

static int set_attr(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *x, const xattr_t *xa)
{
    const iisd_selem_t *s = dst->schema;
    int idx = iisd_schema_attr_index(s, xa->name);
    if (idx < 0) {
        if (s->allow_unrecognized || strncmp(xa->name, "xmlns", 5) == 0)
            return 0;
        set_error(m->err, m->c->file, x->line, "unrecognized attribute '%s' on <%s>", xa->name, x->name);
        return -1;
    }
    if (restricted(m, dst->lock_depth) && locked(dst->lock_attrs, dst->lock_attrs_except, xa->name)) {
        set_error(
            m->err, m->c->file, x->line,
            "attribute '%s' of <%s> is locked at a parent level (lockAttributes or lockAllAttributesExcept)",
            xa->name, x->name);
        return -1;
    }
    const iisd_sattr_t *a = &s->attrs[idx];
    const char *v = a->expanded ? expand(m->cfg, xa->value)
                                : iisd_arena_strndup(&m->cfg->arena, xa->value, strlen(xa->value));
    int64_t num;
    char err[512];
    if (iisd_sattr_parse(a, v, &num, err, sizeof(err)) < 0) {
        set_error(m->err, m->c->file, x->line, "attribute '%s' of <%s>: %s", xa->name, x->name, err);
        return -1;
    }
    dst->vals[idx].str = v;
    dst->vals[idx].num = num;
    dst->vals[idx].file = m->c->file;
    dst->vals[idx].line = x->line;
    return 0;
}

static char *dup_arena(iisd_cfg_t *cfg, const char *s)
{
    return iisd_arena_strndup(&cfg->arena, s, strlen(s));
}

static int set_locks(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *x)
{
    bool any = false;
    for (unsigned i = 0; i < x->nattrs; i++) {
        const xattr_t *xa = &x->attrs[i];
        if (!is_lock_attr(xa->name))
            continue;
        any = true;
        if (strcmp(xa->name, "lockAttributes") == 0)
            dst->lock_attrs = dup_arena(m->cfg, xa->value);
        else if (strcmp(xa->name, "lockElements") == 0)
            dst->lock_elems = dup_arena(m->cfg, xa->value);
        else if (strcmp(xa->name, "lockAllAttributesExcept") == 0)
            dst->lock_attrs_except = dup_arena(m->cfg, xa->value);
        else if (strcmp(xa->name, "lockAllElementsExcept") == 0)
            dst->lock_elems_except = dup_arena(m->cfg, xa->value);
        else if (strcmp(xa->name, "lockItem") == 0) {
            if (strcasecmp(xa->value, "true") != 0 && strcasecmp(xa->value, "false") != 0) {
                set_error(m->err, m->c->file, x->line,
                          "attribute 'lockItem' of <%s>: \"%s\" is not true or false", x->name, xa->value);
                return -1;
            }
            dst->lock_item = strcasecmp(xa->value, "true") == 0;
        }
    }
    if (any)
        dst->lock_depth = m->c->file_depth;
    return 0;
}

static int coll_add(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *k)
{
    const iisd_scoll_t *coll = dst->schema->coll;
    iisd_celem_t *item = new_elem(m->cfg, coll->item);
    item->name = dup_arena(m->cfg, k->name);
    item->file = m->c->file;
    item->line = k->line;
    item->lock_depth = m->c->file_depth;
    if (merge(m, item, k) < 0)
        return -1;
    for (unsigned i = 0; i < coll->item->nattrs; i++)
        if (coll->item->attrs[i].required && item->vals[i].file == NULL) {
            set_error(m->err, m->c->file, k->line, "<%s> is missing the required attribute '%s'", k->name,
                      coll->item->attrs[i].name);
            return -1;
        }
    if (!coll->allow_duplicates) {
        for (unsigned i = 0; i < dst->nitems; i++) {
            bool has_key;
            if (key_equal(dst->items[i], item, &has_key) && has_key) {
                char key[256];
                set_error(
                    m->err, m->c->file, k->line,
                    "cannot add a duplicate collection entry of type '%s' with %s (first defined in %s:%u)",
                    k->name, key_text(item, key, sizeof(key)), dst->items[i]->file ? dst->items[i]->file : "",
                    dst->items[i]->line);
                return -1;
            }
        }
    }
    iisd_celem_t **v = iisd_arena_alloc(&m->cfg->arena, (dst->nitems + 1) * sizeof(*v));
    unsigned at = dst->nitems;
    if (!coll->merge_append) {
        if (dst->prepend_id != m->id) {
            dst->prepend_id = m->id;
            dst->prepend_pos = 0;
        }
        at = dst->prepend_pos++;
    }
    if (at > 0)
        memcpy(v, dst->items, at * sizeof(*v));
    v[at] = item;
    if (dst->nitems > at)
        memcpy(v + at + 1, dst->items + at, (dst->nitems - at) * sizeof(*v));
    dst->items = v;
    dst->nitems++;
    return 0;
}

static int coll_remove(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *k)
{
    const iisd_scoll_t *coll = dst->schema->coll;
    iisd_celem_t *probe = new_elem(m->cfg, coll->item);
    for (unsigned i = 0; i < k->nattrs; i++) {
        int idx = iisd_schema_attr_index(coll->item, k->attrs[i].name);
        if (idx < 0 || !coll->item->attrs[idx].unique_key) {
            set_error(m->err, m->c->file, k->line,
                      "attribute '%s' cannot be used on <%s>: only key attributes can", k->attrs[i].name,
                      k->name);
            return -1;
        }
        if (set_attr(m, probe, k, &k->attrs[i]) < 0)
            return -1;
    }
    for (unsigned i = 0; i < dst->nitems; i++) {
        bool has_key;
        if (key_equal(dst->items[i], probe, &has_key) && has_key) {
            if (dst->items[i]->lock_item && restricted(m, dst->items[i]->lock_depth)) {
                char key[256];
                set_error(m->err, m->c->file, k->line,
                          "cannot remove the collection entry with %s: it is locked (lockItem)",
                          key_text(probe, key, sizeof(key)));
                return -1;
            }
            memmove(&dst->items[i], &dst->items[i + 1], (dst->nitems - i - 1) * sizeof(*dst->items));
            dst->nitems--;
            return 0;
        }
    }
    return 0; /* removing what is not there is not an error */
}

static int coll_clear(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *k)
{
    for (unsigned i = 0; i < dst->nitems; i++)
        if (dst->items[i]->lock_item && restricted(m, dst->items[i]->lock_depth)) {
            char key[256];
            set_error(m->err, m->c->file, k->line,
                      "cannot <%s/> the collection: the entry with %s is locked (lockItem)", k->name,
                      key_text(dst->items[i], key, sizeof(key)));
            return -1;
        }
    dst->nitems = 0;
    return 0;
}

static int merge(merge_ctx_t *m, iisd_celem_t *dst, const xnode_t *x)
{
    const iisd_selem_t *s = dst->schema;
    for (unsigned i = 0; i < x->nattrs; i++)
        if (!is_lock_attr(x->attrs[i].name) && set_attr(m, dst, x, &x->attrs[i]) < 0)
            return -1;
    for (unsigned i = 0; i < x->nkids; i++) {
        const xnode_t *k = x->kids[i];
        if (restricted(m, dst->lock_depth) && locked(dst->lock_elems, dst->lock_elems_except, k->name)) {
            set_error(
                m->err, m->c->file, k->line,
                "element <%s> of <%s> is locked at a parent level (lockElements or lockAllElementsExcept)",
                k->name, x->name);
            return -1;
        }
        for (unsigned j = 0; j < s->nkids; j++)
            if (strcmp(s->kids[j]->name, k->name) == 0) {
                if (merge(m, dst->kids[j], k) < 0)
                    return -1;
                goto next;
            }
        if (s->coll != NULL) {
            int rc;
            if (s->coll->default_elem && strcmp(k->name, s->coll->default_elem) == 0) {
                if (dst->defaults == NULL)
                    dst->defaults = new_elem(m->cfg, s->coll->item);
                rc = merge(m, dst->defaults, k);
            } else if (iisd_scoll_is_add(s->coll, k->name))
                rc = coll_add(m, dst, k);
            else if (s->coll->remove && strcmp(k->name, s->coll->remove) == 0)
                rc = coll_remove(m, dst, k);
            else if (s->coll->clear && strcmp(k->name, s->coll->clear) == 0)
                rc = coll_clear(m, dst, k);
            else
                goto unknown;
            if (rc < 0)
                return -1;
            goto next;
        }
    unknown:
        set_error(m->err, m->c->file, k->line, "unrecognized element <%s> in <%s>", k->name, x->name);
        return -1;
    next:;
    }
    /* locks declared here apply to lower levels only: record them after this level's own content */
    return set_locks(m, dst, x);
}

/* ---- web.config files ----------------------------------------------------- */

static void add_unique(char ***list, unsigned *n, const char *s)
{
    for (unsigned i = 0; i < *n; i++)
        if (strcmp((*list)[i], s) == 0)
            return;
    *list = iisd_xrealloc(*list, (*n + 2) * sizeof(**list));
    (*list)[(*n)++] = iisd_xstrdup(s);
    (*list)[*n] = NULL;
}

static unsigned level_hash(const char *level)
{
    unsigned h = 2166136261u;
    for (const char *p = level; *p; p++)
        h = (h ^ (unsigned char)(*p | 0x20)) * 16777619u;
    return h % NBUCKETS;
}

/*
 * The web.config of a level, or NULL when there is none. *exists tells whether the level
 * is an existing folder: nothing below a missing folder can have a web.config. Only
 * existing folders are remembered, so requests for made-up paths cannot grow the cache.
 * Called with cfg->lock held.
 */
static cfile_t *webconfig(iisd_cfg_t *cfg, const char *level, bool *exists)
{
    unsigned b = level_hash(level);
    for (cfile_t *w = cfg->wbuckets[b]; w != NULL; w = w->hnext)
        if (strcasecmp(w->level, level) == 0) {
            if (exists)
                *exists = true;
            return w->root || w->error.message ? w : NULL;
        }
    cfile_t *f = NULL;
    char *folder = cfg->mapper.folder ? cfg->mapper.folder(cfg->mapper.ctx, level) : NULL;
    struct stat st;
    bool present = false;
    if (folder == NULL || stat(folder, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(folder);
        if (exists)
            *exists = false;
        return NULL;
    }
    if (exists)
        *exists = true;
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/web.config", folder);
        add_unique(&cfg->folders, &cfg->nfolders, folder);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            present = true;
            f = parse_file(cfg, path, NULL, 0, level, false);
            add_unique(&cfg->files, &cfg->nfiles, path);
        }
    }
    if (f == NULL) { /* remember that there is none */
        f = iisd_xcalloc(1, sizeof(*f));
        f->path = iisd_xstrdup("");
        f->level = iisd_xstrdup(level);
    }
    f->folder = folder;
    f->present = present;
    if (present) {
        f->mtime = st.st_mtim;
        f->size = st.st_size;
        f->ino = st.st_ino;
    }
    cfg->webconfigs = iisd_xrealloc(cfg->webconfigs, (cfg->nweb + 1) * sizeof(*cfg->webconfigs));
    cfg->webconfigs[cfg->nweb++] = f;
    f->hnext = cfg->wbuckets[b];
    cfg->wbuckets[b] = f;
    return f->root || f->error.message ? f : NULL;
}

/*
 * The part of a path that decides its configuration: the path cut after the deepest level
 * that has a web.config or is the target of a <location> covering it. Every path with the
 * same key has the same configuration, so the caches hold one entry per key. Malloc'd.
 */
static char *effective_key(iisd_cfg_t *cfg, const char *path)
{
    unsigned depth = 0;
    for (unsigned i = 0; i < cfg->apphost->ncontribs; i++) {
        const contrib_t *c = &cfg->apphost->contribs[i];
        if (c->target_depth > depth && path_covers(c->target, path))
            depth = c->target_depth;
    }
    char *level = iisd_xstrdup(path);
    size_t len = strlen(level);
    unsigned d = 0;
    for (size_t i = 0; i <= len && len > 0; i++) {
        if (level[i] != '/' && level[i] != '\0')
            continue;
        d++;
        char saved = level[i];
        level[i] = '\0';
        bool exists;
        cfile_t *f = webconfig(cfg, level, &exists);
        level[i] = saved;
        if (!exists)
            break;
        if (f == NULL)
            continue;
        if (d > depth)
            depth = d;
        for (unsigned k = 0; k < f->ncontribs; k++)
            if (f->contribs[k].target_depth > depth && path_covers(f->contribs[k].target, path))
                depth = f->contribs[k].target_depth;
    }
    /* cut the path after `depth` segments */
    size_t cut = 0;
    for (unsigned k = 0; k < depth && cut < len; k++) {
        while (cut < len && level[cut] != '/')
            cut++;
        if (k + 1 < depth && cut < len)
            cut++;
    }
    level[cut] = '\0';
    return level;
}

/* ---- resolution ------------------------------------------------------------ */

static int contrib_cmp(const void *a, const void *b)
{
    const contrib_t *x = *(const contrib_t *const *)a, *y = *(const contrib_t *const *)b;
    if (x->target_depth != y->target_depth)
        return x->target_depth < y->target_depth ? -1 : 1;
    if (x->file_depth != y->file_depth)
        return x->file_depth < y->file_depth ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void collect(contrib_t ***v, unsigned *n, cfile_t *f, const char *path, const char *section)
{
    for (unsigned i = 0; i < f->ncontribs; i++) {
        contrib_t *c = &f->contribs[i];
        if (strcasecmp(c->section, section) == 0 && path_covers(c->target, path)) {
            *v = iisd_xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = c;
        }
    }
}

static const char *const ad_names[] = {"Everywhere", "MachineToApplication", "MachineToRootWeb",
                                       "MachineOnly", "AppHostOnly"};

/* May contribution c set this section where it stands? */
static int check_delegation(iisd_cfg_t *cfg, const secdef_t *d, contrib_t **all, unsigned n,
                            const contrib_t *c, iisd_cfg_error_t *err)
{
    if (c->file_depth == 0) {
        if (*c->target != '\0' && (!d->allow_location || d->allow_definition == AD_APPHOST_ONLY ||
                                   d->allow_definition == AD_MACHINE_ONLY)) {
            set_error(err, c->file, c->node->line,
                      "section %s cannot be set in a <location> with a path (allowDefinition='%s'%s)",
                      d->path, ad_names[d->allow_definition],
                      d->allow_location ? "" : ", allowLocation='false'");
            return -1;
        }
        return 0;
    }
    if (d->allow_definition == AD_APPHOST_ONLY || d->allow_definition == AD_MACHINE_ONLY ||
        d->allow_definition == AD_MACHINE_TO_ROOT_WEB) {
        set_error(err, c->file, c->node->line,
                  "section %s cannot be used in a web.config file (allowDefinition='%s')", d->path,
                  ad_names[d->allow_definition]);
        return -1;
    }
    /* the level of the file that holds c */
    const char *flevel = NULL;
    for (unsigned i = 0; i < cfg->nweb && flevel == NULL; i++)
        if (cfg->webconfigs[i]->path == c->file || strcmp(cfg->webconfigs[i]->path, c->file) == 0)
            flevel = cfg->webconfigs[i]->level;
    if (flevel == NULL)
        flevel = "";
    if (d->allow_definition == AD_MACHINE_TO_APPLICATION &&
        !(cfg->mapper.is_application && cfg->mapper.is_application(cfg->mapper.ctx, flevel))) {
        set_error(err, c->file, c->node->line,
                  "section %s can only be set in a web.config at the root of an application "
                  "(allowDefinition='MachineToApplication')",
                  d->path);
        return -1;
    }
    uint8_t mode = d->override_default;
    for (unsigned i = 0; i < n; i++) {
        const contrib_t *o = all[i];
        if (o->file_depth < c->file_depth && o->override_mode != OM_INHERIT && path_covers(o->target, flevel))
            mode = o->override_mode;
    }
    if (mode == OM_DENY) {
        set_error(
            err, c->file, c->node->line,
            "this configuration section cannot be used at this path: section %s is locked at a parent level "
            "(overrideModeDefault=\"Deny\", or a <location> with overrideMode=\"Deny\" or "
            "allowOverride=\"false\")",
            d->path);
        return -1;
    }
    return 0;
}

static const iisd_celem_t *resolve(iisd_cfg_t *cfg, const char *path, const char *section,
                                   iisd_cfg_error_t *err)
{
    const secdef_t *d = find_secdef(cfg, section);
    if (d == NULL) {
        set_error(err, cfg->apphost->path, 0, "section %s is not registered in <configSections>", section);
        return NULL;
    }
    const iisd_ssection_t *ss = iisd_schema_section(cfg->schema, section);
    if (ss == NULL) {
        const char *file = cfg->apphost->path;
        uint32_t line = 0;
        for (unsigned i = 0; i < cfg->apphost->ncontribs && line == 0; i++)
            if (strcasecmp(cfg->apphost->contribs[i].section, section) == 0)
                line = cfg->apphost->contribs[i].node->line;
        set_error(err, file, line, "section %s has no schema: put its schema file in the schema folder",
                  section);
        return NULL;
    }
    contrib_t **v = NULL;
    unsigned n = 0;
    collect(&v, &n, cfg->apphost, path, section);
    /* web.config files of every level from the site down to the path */
    char *level = iisd_xstrdup(path);
    size_t len = strlen(level);
    for (size_t i = 0; i <= len && len > 0; i++) {
        if (level[i] != '/' && level[i] != '\0')
            continue;
        char saved = level[i];
        level[i] = '\0';
        bool exists;
        cfile_t *f = webconfig(cfg, level, &exists);
        level[i] = saved;
        if (!exists)
            break;
        if (f == NULL)
            continue;
        if (f->error.message) {
            set_error(err, f->error.file, f->error.line, "%s", f->error.message);
            free(level);
            free(v);
            return NULL;
        }
        collect(&v, &n, f, path, section);
    }
    free(level);
    if (n > 1)
        qsort(v, n, sizeof(*v), contrib_cmp);
    iisd_celem_t *root = new_elem(cfg, ss->root);
    for (unsigned i = 0; i < n; i++) {
        merge_ctx_t m = {.cfg = cfg, .c = v[i], .err = err, .id = i + 1};
        if (check_delegation(cfg, d, v, n, v[i], err) < 0 || merge(&m, root, v[i]->node) < 0) {
            free(v);
            return NULL;
        }
    }
    if (n > 0) { /* where the section was last set: tells "set to empty" from "never set" */
        root->file = v[n - 1]->file;
        root->line = v[n - 1]->node->line;
    }
    free(v);
    apply_defaults_tree(root);
    return root;
}

/* Values an item does not set come from its collection's defaultElement ("siteDefaults"). */
static void apply_defaults(iisd_celem_t *item, const iisd_celem_t *def)
{
    for (unsigned i = 0; i < item->schema->nattrs; i++) {
        if (item->vals[i].file != NULL)
            continue;
        const iisd_cval_t *d = iisd_celem_val(def, item->schema->attrs[i].name);
        if (d != NULL && d->file != NULL)
            item->vals[i] = *d;
    }
    for (unsigned i = 0; i < item->schema->nkids; i++) {
        const iisd_celem_t *dk = iisd_celem_kid(def, item->schema->kids[i]->name);
        if (dk != NULL)
            apply_defaults(item->kids[i], dk);
    }
}

static void apply_defaults_tree(iisd_celem_t *e)
{
    const iisd_scoll_t *coll = e->schema->coll;
    if (coll != NULL && coll->default_elem != NULL) {
        const iisd_celem_t *def = e->defaults ? e->defaults : iisd_celem_kid(e, coll->default_elem);
        for (unsigned i = 0; def != NULL && i < e->nitems; i++)
            apply_defaults(e->items[i], def);
    }
    for (unsigned i = 0; i < e->schema->nkids; i++)
        apply_defaults_tree(e->kids[i]);
    for (unsigned i = 0; i < e->nitems; i++)
        apply_defaults_tree(e->items[i]);
}

static unsigned hash(const char *path, const char *section)
{
    unsigned h = 2166136261u;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)(*p | 0x20)) * 16777619u;
    for (const char *p = section; *p; p++)
        h = (h ^ (unsigned char)(*p | 0x20)) * 16777619u;
    return h % NBUCKETS;
}

/* Called with cfg->lock held; path is normalised. */
static const iisd_celem_t *lookup_locked(iisd_cfg_t *cfg, const char *path, const char *section,
                                         const iisd_cfg_error_t **err)
{
    unsigned b = hash(path, section);
    centry_t *e;
    for (e = cfg->buckets[b]; e != NULL; e = e->next)
        if (strcasecmp(e->path, path) == 0 && strcasecmp(e->section, section) == 0)
            break;
    if (e == NULL) {
        e = iisd_xcalloc(1, sizeof(*e));
        e->path = iisd_xstrdup(path);
        e->section = iisd_xstrdup(section);
        e->elem = resolve(cfg, e->path, section, &e->error);
        e->next = cfg->buckets[b];
        cfg->buckets[b] = e;
    }
    if (err)
        *err = e->elem ? NULL : &e->error;
    return e->elem;
}

const iisd_celem_t *iisd_cfg_section(iisd_cfg_t *cfg, const char *config_path, const char *section,
                                     const iisd_cfg_error_t **err)
{
    if (strncasecmp(config_path, APPHOST_PREFIX, strlen(APPHOST_PREFIX)) == 0)
        config_path += strlen(APPHOST_PREFIX);
    char *full = norm_path(config_path);
    pthread_mutex_lock(&cfg->lock);
    char *path = effective_key(cfg, full);
    const iisd_celem_t *r = lookup_locked(cfg, path, section, err);
    pthread_mutex_unlock(&cfg->lock);
    free(path);
    free(full);
    return r;
}

char *iisd_cfg_key(iisd_cfg_t *cfg, const char *config_path)
{
    if (strncasecmp(config_path, APPHOST_PREFIX, strlen(APPHOST_PREFIX)) == 0)
        config_path += strlen(APPHOST_PREFIX);
    char *full = norm_path(config_path);
    pthread_mutex_lock(&cfg->lock);
    char *key = effective_key(cfg, full);
    pthread_mutex_unlock(&cfg->lock);
    free(full);
    return key;
}

const iisd_cfg_error_t *iisd_cfg_check(iisd_cfg_t *cfg, const char *config_path)
{
    if (strncasecmp(config_path, APPHOST_PREFIX, strlen(APPHOST_PREFIX)) == 0)
        config_path += strlen(APPHOST_PREFIX);
    char *full = norm_path(config_path);
    const iisd_cfg_error_t *err = NULL;
    pthread_mutex_lock(&cfg->lock);
    char *path = effective_key(cfg, full);
    free(full);
    /* the result for the pseudo-section "" is the verdict on the whole path */
    unsigned b = hash(path, "");
    centry_t *e;
    for (e = cfg->buckets[b]; e != NULL; e = e->next)
        if (*e->section == '\0' && strcasecmp(e->path, path) == 0)
            break;
    if (e == NULL) {
        e = iisd_xcalloc(1, sizeof(*e));
        e->path = iisd_xstrdup(path);
        e->section = iisd_xstrdup("");
        e->elem = NULL;
        size_t len = strlen(path);
        for (size_t i = 0; i <= len && len > 0 && e->error.message == NULL; i++) {
            if (path[i] != '/' && path[i] != '\0')
                continue;
            char saved = path[i];
            path[i] = '\0';
            bool exists;
            cfile_t *f = webconfig(cfg, path, &exists);
            path[i] = saved;
            if (!exists)
                break;
            if (f == NULL)
                continue;
            if (f->error.message) {
                set_error(&e->error, f->error.file, f->error.line, "%s", f->error.message);
                break;
            }
            for (unsigned k = 0; k < f->ncontribs && e->error.message == NULL; k++) {
                const iisd_cfg_error_t *se;
                if (path_covers(f->contribs[k].target, path) &&
                    lookup_locked(cfg, path, f->contribs[k].section, &se) == NULL)
                    set_error(&e->error, se->file, se->line, "%s", se->message);
            }
        }
        e->next = cfg->buckets[b];
        cfg->buckets[b] = e;
    }
    err = e->error.message ? &e->error : NULL;
    pthread_mutex_unlock(&cfg->lock);
    free(path);
    return err;
}

char *iisd_cfg_path_of_folder(iisd_cfg_t *cfg, const char *folder)
{
    char *out = NULL;
    pthread_mutex_lock(&cfg->lock);
    for (unsigned i = 0; i < cfg->nweb && out == NULL; i++) {
        const char *level = cfg->webconfigs[i]->level;
        char *f = cfg->mapper.folder ? cfg->mapper.folder(cfg->mapper.ctx, level) : NULL;
        if (f != NULL && strcmp(f, folder) == 0) {
            size_t n = strlen(APPHOST_PREFIX) + strlen(level) + 2;
            out = iisd_xmalloc(n);
            snprintf(out, n, "%s%s%s", APPHOST_PREFIX, *level ? "/" : "", level);
        }
        free(f);
    }
    pthread_mutex_unlock(&cfg->lock);
    return out;
}

bool iisd_cfg_folder_stale(iisd_cfg_t *cfg, const char *folder)
{
    bool stale = false;
    pthread_mutex_lock(&cfg->lock);
    for (unsigned i = 0; i < cfg->nweb; i++) {
        const cfile_t *f = cfg->webconfigs[i];
        if (f->folder == NULL || strcmp(f->folder, folder) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/web.config", folder);
        struct stat st;
        bool now = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (now != f->present ||
            (now && (st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec ||
                     st.st_size != f->size || st.st_ino != f->ino)))
            stale = true;
    }
    pthread_mutex_unlock(&cfg->lock);
    return stale;
}

/* ---- life cycle -------------------------------------------------------------- */

iisd_cfg_t *iisd_cfg_load(const iisd_cfg_opts_t *o, iisd_cfg_error_t *err)
{
    memset(err, 0, sizeof(*err));
    iisd_cfg_t *cfg = iisd_xcalloc(1, sizeof(*cfg));
    cfg->refs = 1;
    cfg->schema = o->schema;
    cfg->fallback_sections = o->sections_text;
    cfg->fallback_len = o->sections_len;
    pthread_mutex_init(&cfg->lock, NULL);
    iisd_arena_init(&cfg->arena);
    unsigned nv = 0;
    while (o->vars && o->vars[nv])
        nv++;
    cfg->vars = iisd_xcalloc(nv + 2, sizeof(char *));
    for (unsigned i = 0; i < nv; i++)
        cfg->vars[i] = iisd_xstrdup(o->vars[i]);
    const char *name = o->apphost_path ? o->apphost_path : "(embedded applicationHost.config)";
    cfg->apphost = parse_file(cfg, name, o->apphost_path ? NULL : o->apphost_text, o->apphost_len, "", true);
    if (o->apphost_path)
        add_unique(&cfg->files, &cfg->nfiles, o->apphost_path);
    if (cfg->apphost->error.message) {
        set_error(err, cfg->apphost->error.file, cfg->apphost->error.line, "%s", cfg->apphost->error.message);
        iisd_cfg_unref(cfg);
        return NULL;
    }
    /* every section set in applicationHost.config must be valid: resolve each at its own path */
    for (unsigned i = 0; i < cfg->apphost->ncontribs; i++) {
        const iisd_cfg_error_t *e;
        const contrib_t *c = &cfg->apphost->contribs[i];
        if (iisd_cfg_section(cfg, c->target, c->section, &e) == NULL) {
            set_error(err, e->file, e->line, "%s", e->message);
            iisd_cfg_unref(cfg);
            return NULL;
        }
    }
    return cfg;
}

void iisd_cfg_set_mapper(iisd_cfg_t *cfg, const iisd_cfg_mapper_t *m)
{
    pthread_mutex_lock(&cfg->lock);
    cfg->mapper = *m;
    /* what was computed without the mapper did not see web.config files */
    for (unsigned i = 0; i < cfg->nweb; i++)
        free_file(cfg->webconfigs[i]);
    cfg->nweb = 0;
    memset(cfg->wbuckets, 0, sizeof(cfg->wbuckets));
    for (unsigned b = 0; b < NBUCKETS; b++) {
        centry_t *e = cfg->buckets[b];
        while (e != NULL) {
            centry_t *next = e->next;
            free(e->path);
            free(e->section);
            iisd_cfg_error_free(&e->error);
            free(e);
            e = next;
        }
        cfg->buckets[b] = NULL;
    }
    pthread_mutex_unlock(&cfg->lock);
}

void iisd_cfg_ref(iisd_cfg_t *cfg)
{
    __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
}

void iisd_cfg_unref(iisd_cfg_t *cfg)
{
    if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (unsigned b = 0; b < NBUCKETS; b++) {
        centry_t *e = cfg->buckets[b];
        while (e != NULL) {
            centry_t *next = e->next;
            free(e->path);
            free(e->section);
            iisd_cfg_error_free(&e->error);
            free(e);
            e = next;
        }
    }
    free_file(cfg->apphost);
    for (unsigned i = 0; i < cfg->nweb; i++)
        free_file(cfg->webconfigs[i]);
    free(cfg->webconfigs);
    for (unsigned i = 0; i < cfg->nsecs; i++)
        free(cfg->secs[i].path);
    free(cfg->secs);
    for (char **v = cfg->vars; *v; v++)
        free(*v);
    free(cfg->vars);
    for (unsigned i = 0; i < cfg->nfiles; i++)
        free(cfg->files[i]);
    free(cfg->files);
    for (unsigned i = 0; i < cfg->nfolders; i++)
        free(cfg->folders[i]);
    free(cfg->folders);
    iisd_arena_reset(&cfg->arena);
    pthread_mutex_destroy(&cfg->lock);
    free(cfg);
}

/* Copies a list under the lock: other threads add to it while requests arrive. */
static char **copy_list(iisd_cfg_t *cfg, char **const *list, const unsigned *n)
{
    pthread_mutex_lock(&cfg->lock);
    char **out = iisd_xcalloc(*n + 1, sizeof(char *));
    for (unsigned i = 0; i < *n; i++)
        out[i] = iisd_xstrdup((*list)[i]);
    pthread_mutex_unlock(&cfg->lock);
    return out;
}

char **iisd_cfg_files(iisd_cfg_t *cfg)
{
    return copy_list(cfg, &cfg->files, &cfg->nfiles);
}

unsigned iisd_cfg_folder_count(iisd_cfg_t *cfg)
{
    pthread_mutex_lock(&cfg->lock);
    unsigned n = cfg->nfolders;
    pthread_mutex_unlock(&cfg->lock);
    return n;
}

char **iisd_cfg_folders(iisd_cfg_t *cfg)
{
    return copy_list(cfg, &cfg->folders, &cfg->nfolders);
}

void iisd_cfg_list_free(char **list)
{
    for (char **p = list; p && *p; p++)
        free(*p);
    free(list);
}

/* ---- accessors --------------------------------------------------------------- */

const iisd_cval_t *iisd_celem_val(const iisd_celem_t *e, const char *attr)
{
    int i = e ? iisd_schema_attr_index(e->schema, attr) : -1;
    return i < 0 ? NULL : &e->vals[i];
}

const char *iisd_celem_str(const iisd_celem_t *e, const char *attr)
{
    const iisd_cval_t *v = iisd_celem_val(e, attr);
    return v ? v->str : "";
}

int64_t iisd_celem_num(const iisd_celem_t *e, const char *attr)
{
    const iisd_cval_t *v = iisd_celem_val(e, attr);
    return v ? v->num : 0;
}

bool iisd_celem_bool(const iisd_celem_t *e, const char *attr)
{
    return iisd_celem_num(e, attr) != 0;
}

const iisd_celem_t *iisd_celem_kid(const iisd_celem_t *e, const char *name)
{
    if (e == NULL)
        return NULL;
    for (unsigned i = 0; i < e->schema->nkids; i++)
        if (strcmp(e->schema->kids[i]->name, name) == 0)
            return e->kids[i];
    return NULL;
}
