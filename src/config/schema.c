#include "config/schema.h"
#include "core/str.h"
#include "core/mem.h"
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    int failed;
} sctx_t;

static void fail(sctx_t *x, xmlNode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(sctx_t *x, xmlNode *n, const char *fmt, ...)
{
    if (x->failed++)
        return;
    int k = snprintf(x->err, x->errlen, "%s:%ld: ", x->file, n ? xmlGetLineNo(n) : 0L);
    if (k < 0 || (size_t)k >= x->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err + k, x->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

static char *prop(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (v == NULL)
        return NULL;
    char *s = iisd_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static bool prop_bool(sctx_t *x, xmlNode *n, const char *name, bool def)
{
    char *v = prop(n, name);
    bool r = def;
    if (v != NULL) {
        if (strcasecmp(v, "true") == 0)
            r = true;
        else if (strcasecmp(v, "false") == 0)
            r = false;
        else
            fail(x, n, "attribute %s: \"%s\" is not true or false", name, v);
        free(v);
    }
    return r;
}

static bool is(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const struct {
    const char *name;
    uint8_t type;
} type_names[] = {
    {"string", IISD_AT_STRING}, {"bool", IISD_AT_BOOL},         {"uint", IISD_AT_UINT},
    {"int", IISD_AT_INT},       {"int64", IISD_AT_INT64},       {"enum", IISD_AT_ENUM},
    {"flags", IISD_AT_FLAGS},   {"timeSpan", IISD_AT_TIMESPAN},
};

static void free_elem(iisd_selem_t *e);

static void free_attr(iisd_sattr_t *a)
{
    free(a->name);
    free(a->defval);
    for (unsigned i = 0; i < a->nconsts; i++)
        free(a->consts[i].name);
    free(a->consts);
    free(a->validation_type);
    free(a->validation_param);
}

static void free_elem(iisd_selem_t *e)
{
    if (e == NULL)
        return;
    free(e->name);
    for (unsigned i = 0; i < e->nattrs; i++)
        free_attr(&e->attrs[i]);
    free(e->attrs);
    for (unsigned i = 0; i < e->nkids; i++)
        free_elem(e->kids[i]);
    free(e->kids);
    if (e->coll) {
        free(e->coll->add);
        free(e->coll->remove);
        free(e->coll->clear);
        free(e->coll->default_elem);
        free_elem(e->coll->item);
        free(e->coll);
    }
    free(e);
}

static void parse_attr(sctx_t *x, iisd_selem_t *e, xmlNode *n)
{
    iisd_sattr_t a;
    memset(&a, 0, sizeof(a));
    a.name = prop(n, "name");
    if (a.name == NULL) {
        fail(x, n, "<attribute> needs a name");
        return;
    }
    char *type = prop(n, "type");
    a.type = 0xff;
    for (size_t i = 0; type && i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcasecmp(type, type_names[i].name) == 0)
            a.type = type_names[i].type;
    if (a.type == 0xff) {
        fail(x, n,
             "attribute %s: type \"%s\" is not one of string, bool, uint, int, int64, enum, flags, timeSpan",
             a.name, type ? type : "");
        free(type);
        free_attr(&a);
        return;
    }
    free(type);
    a.required = prop_bool(x, n, "required", false);
    a.unique_key = prop_bool(x, n, "isUniqueKey", false) || prop_bool(x, n, "isCombinedKey", false);
    a.expanded = prop_bool(x, n, "expanded", false);
    a.case_sensitive = prop_bool(x, n, "caseSensitive", false);
    a.defval = prop(n, "defaultValue");
    a.validation_type = prop(n, "validationType");
    a.validation_param = prop(n, "validationParameter");
    for (xmlNode *c = n->children; c; c = c->next) {
        if (!is(c, "enum") && !is(c, "flag"))
            continue;
        char *name = prop(c, "name"), *value = prop(c, "value"), *end = NULL;
        long long v = value ? strtoll(value, &end, 0) : 0;
        if (name == NULL || value == NULL || *end != '\0') {
            fail(x, c, "attribute %s: <%s> needs a name and a numeric value", a.name, (const char *)c->name);
        } else {
            a.consts = iisd_xrealloc(a.consts, (a.nconsts + 1) * sizeof(*a.consts));
            a.consts[a.nconsts].name = name;
            a.consts[a.nconsts].value = v;
            a.nconsts++;
            name = NULL;
        }
        free(name);
        free(value);
    }
    if (iisd_schema_attr_index(e, a.name) >= 0) {
        fail(x, n, "attribute %s is declared twice", a.name);
        free_attr(&a);
        return;
    }
    e->attrs = iisd_xrealloc(e->attrs, (e->nattrs + 1) * sizeof(*e->attrs));
    e->attrs[e->nattrs++] = a;
}

static iisd_selem_t *parse_elem(sctx_t *x, xmlNode *n, const char *name);

static void parse_children(sctx_t *x, iisd_selem_t *e, xmlNode *n)
{
    for (xmlNode *c = n->children; c && !x->failed; c = c->next) {
        if (is(c, "attribute")) {
            parse_attr(x, e, c);
        } else if (is(c, "element")) {
            char *name = prop(c, "name");
            if (name == NULL) {
                fail(x, c, "<element> needs a name");
                return;
            }
            if (iisd_schema_kid(e, name) != NULL) {
                fail(x, c, "element %s is declared twice", name);
                free(name);
                return;
            }
            iisd_selem_t *k = parse_elem(x, c, name);
            free(name);
            e->kids = iisd_xrealloc(e->kids, (e->nkids + 1) * sizeof(*e->kids));
            e->kids[e->nkids++] = k;
        } else if (is(c, "collection")) {
            if (e->coll != NULL) {
                fail(x, c, "element %s has two collections", e->name);
                return;
            }
            iisd_scoll_t *coll = iisd_xcalloc(1, sizeof(*coll));
            coll->add = prop(c, "addElement");
            coll->remove = prop(c, "removeElement");
            coll->clear = prop(c, "clearElement");
            coll->default_elem = prop(c, "defaultElement");
            coll->merge_append = prop_bool(x, c, "mergeAppend", true);
            coll->allow_duplicates = prop_bool(x, c, "allowDuplicates", false);
            coll->item = parse_elem(x, c, coll->add ? coll->add : "add");
            e->coll = coll;
            if (coll->add == NULL)
                fail(x, c, "<collection> needs an addElement");
        }
    }
}

static iisd_selem_t *parse_elem(sctx_t *x, xmlNode *n, const char *name)
{
    iisd_selem_t *e = iisd_xcalloc(1, sizeof(*e));
    e->name = iisd_xstrdup(name);
    e->allow_unrecognized = prop_bool(x, n, "allowUnrecognizedAttributes", false);
    parse_children(x, e, n);
    return e;
}

/* Moves what ext adds into base; ext keeps what base already had (to be freed). */
static void extend(iisd_selem_t *base, iisd_selem_t *ext)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < ext->nattrs; i++) {
        if (iisd_schema_attr_index(base, ext->attrs[i].name) >= 0) {
            ext->attrs[keep++] = ext->attrs[i];
            continue;
        }
        base->attrs = iisd_xrealloc(base->attrs, (base->nattrs + 1) * sizeof(*base->attrs));
        base->attrs[base->nattrs++] = ext->attrs[i];
    }
    ext->nattrs = keep;
    keep = 0;
    for (unsigned i = 0; i < ext->nkids; i++) {
        iisd_selem_t *bk = (iisd_selem_t *)iisd_schema_kid(base, ext->kids[i]->name);
        if (bk != NULL) {
            extend(bk, ext->kids[i]);
            ext->kids[keep++] = ext->kids[i];
            continue;
        }
        base->kids = iisd_xrealloc(base->kids, (base->nkids + 1) * sizeof(*base->kids));
        base->kids[base->nkids++] = ext->kids[i];
    }
    ext->nkids = keep;
    if (base->coll != NULL && ext->coll != NULL)
        extend(base->coll->item, ext->coll->item);
    else if (base->coll == NULL && ext->coll != NULL) {
        base->coll = ext->coll;
        ext->coll = NULL;
    }
}

static int load_doc(iisd_schema_t *s, xmlDoc *doc, const char *file, char *err, size_t errlen)
{
    sctx_t x = {.file = file, .err = err, .errlen = errlen};
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "configSchema") != 0) {
        fail(&x, root, "the root element of a schema file must be <configSchema>");
        return -1;
    }
    for (xmlNode *n = root->children; n && !x.failed; n = n->next) {
        if (!is(n, "sectionSchema"))
            continue;
        char *path = prop(n, "name");
        if (path == NULL) {
            fail(&x, n, "<sectionSchema> needs a name");
            break;
        }
        iisd_ssection_t *existing = (iisd_ssection_t *)iisd_schema_section(s, path);
        if (existing != NULL) {
            /* a second definition extends the section (IIS schema extensibility):
               attributes and elements it adds are appended, ones already defined are kept */
            iisd_selem_t *ext = parse_elem(&x, n, existing->root->name);
            extend(existing->root, ext);
            free_elem(ext);
            free(path);
            continue;
        }
        const char *slash = strrchr(path, '/');
        iisd_ssection_t *sec = iisd_xcalloc(1, sizeof(*sec));
        sec->path = path;
        sec->file = iisd_xstrdup(file);
        sec->root = parse_elem(&x, n, slash ? slash + 1 : path);
        s->v = iisd_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = sec;
    }
    return x.failed ? -1 : 0;
}

static int xml_error(const char *file, char *err, size_t errlen)
{
    const xmlError *e = xmlGetLastError();
    snprintf(err, errlen, "%s:%d: %s", file, e ? e->line : 0,
             e && e->message ? e->message : "cannot read the file");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    return -1;
}

int iisd_schema_load_file(iisd_schema_t *s, const char *path, char *err, size_t errlen)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        return xml_error(path, err, errlen);
    int rc = load_doc(s, doc, path, err, errlen);
    xmlFreeDoc(doc);
    return rc;
}

int iisd_schema_load_memory(iisd_schema_t *s, const char *name, const char *xml, size_t len, char *err,
                            size_t errlen)
{
    xmlDoc *doc =
        xmlReadMemory(xml, (int)len, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        return xml_error(name, err, errlen);
    int rc = load_doc(s, doc, name, err, errlen);
    xmlFreeDoc(doc);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int iisd_schema_load_dir(iisd_schema_t *s, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcasecmp(de->d_name + l - 4, ".xml") == 0) {
            names = iisd_xrealloc(names, (n + 1) * sizeof(*names));
            names[n++] = iisd_xstrdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0)
            rc = iisd_schema_load_file(s, path, err, errlen);
        free(names[i]);
    }
    free(names);
    return rc;
}

void iisd_schema_free(iisd_schema_t *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        free(s->v[i]->path);
        free(s->v[i]->file);
        free_elem(s->v[i]->root);
        free(s->v[i]);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

const iisd_ssection_t *iisd_schema_section(const iisd_schema_t *s, const char *path)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i]->path, path) == 0)
            return s->v[i];
    return NULL;
}

int iisd_schema_attr_index(const iisd_selem_t *e, const char *name)
{
    for (unsigned i = 0; i < e->nattrs; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return (int)i;
    return -1;
}

const iisd_selem_t *iisd_schema_kid(const iisd_selem_t *e, const char *name)
{
    for (unsigned i = 0; i < e->nkids; i++)
        if (strcmp(e->kids[i]->name, name) == 0)
            return e->kids[i];
    return NULL;
}

bool iisd_scoll_is_add(const iisd_scoll_t *c, const char *name)
{
    const char *p = c->add;
    size_t n = strlen(name);
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static int parse_int(const char *t, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (*t == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_timespan(const char *t, int64_t *ms)
{
    /* [-][d.]hh:mm:ss[.fffffff], or a plain number of seconds */
    int64_t sec;
    if (parse_int(t, 0, INT64_MAX / 1000, &sec) == 0) {
        *ms = sec * 1000;
        return 0;
    }
    unsigned long d = 0, h, m, s;
    char frac[16] = "";
    int n = 0;
    if (sscanf(t, "%lu.%lu:%lu:%lu%n", &d, &h, &m, &s, &n) == 4 && t[n] == '\0') {
    } else if (d = 0, sscanf(t, "%lu:%lu:%lu%n", &h, &m, &s, &n) == 3 && (t[n] == '\0' || t[n] == '.')) {
        if (t[n] == '.') {
            size_t k = strspn(t + n + 1, "0123456789");
            if (k == 0 || k > 7 || t[n + 1 + k] != '\0')
                return -1;
            snprintf(frac, sizeof(frac), "%.3s", t + n + 1);
        }
    } else {
        return -1;
    }
    if (h > 23 || m > 59 || s > 59)
        return -1;
    int64_t f = 0;
    if (frac[0]) {
        f = strtol(frac, NULL, 10);
        for (size_t k = strlen(frac); k < 3; k++)
            f *= 10;
    }
    *ms = ((((int64_t)d * 24 + (int64_t)h) * 60 + (int64_t)m) * 60 + (int64_t)s) * 1000 + f;
    return 0;
}

static const iisd_sconst_t *find_const(const iisd_sattr_t *a, const char *name, size_t n)
{
    for (unsigned i = 0; i < a->nconsts; i++)
        if (strlen(a->consts[i].name) == n && strncasecmp(a->consts[i].name, name, n) == 0)
            return &a->consts[i];
    return NULL;
}

static void list_consts(const iisd_sattr_t *a, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < a->nconsts && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", a->consts[i].name);
}

int iisd_sattr_parse(const iisd_sattr_t *a, const char *t, int64_t *num, char *err, size_t errlen)
{
    char names[512];
    *num = 0;
    switch (a->type) {
    case IISD_AT_STRING:
        if (a->validation_type && strcasecmp(a->validation_type, "nonEmptyString") == 0 && *t == '\0') {
            snprintf(err, errlen, "must not be empty");
            return -1;
        }
        return 0;
    case IISD_AT_BOOL:
        if (strcasecmp(t, "true") == 0)
            *num = 1;
        else if (strcasecmp(t, "false") != 0) {
            snprintf(err, errlen, "\"%s\" is not true or false", t);
            return -1;
        }
        return 0;
    case IISD_AT_UINT:
    case IISD_AT_INT:
    case IISD_AT_INT64: {
        int64_t lo = a->type == IISD_AT_UINT ? 0 : a->type == IISD_AT_INT ? INT32_MIN : INT64_MIN;
        int64_t hi = a->type == IISD_AT_UINT ? UINT32_MAX : a->type == IISD_AT_INT ? INT32_MAX : INT64_MAX;
        if (parse_int(t, lo, hi, num) < 0) {
            snprintf(err, errlen, "\"%s\" is not a whole number from %lld to %lld", t, (long long)lo,
                     (long long)hi);
            return -1;
        }
        if (a->validation_type && strcasecmp(a->validation_type, "integerRange") == 0 &&
            a->validation_param) {
            long long vlo, vhi;
            char excl[16] = "";
            int k = sscanf(a->validation_param, "%lld,%lld,%15s", &vlo, &vhi, excl);
            bool exclude = k == 3 && strcasecmp(excl, "true") == 0;
            if (k >= 2 && ((*num >= vlo && *num <= vhi) == exclude)) {
                snprintf(err, errlen, "%s is %s the range %lld to %lld", t, exclude ? "inside" : "outside",
                         vlo, vhi);
                return -1;
            }
        }
        return 0;
    }
    case IISD_AT_ENUM: {
        const iisd_sconst_t *c = find_const(a, t, strlen(t));
        if (c != NULL) {
            *num = c->value;
            return 0;
        }
        int64_t v;
        if (parse_int(t, INT64_MIN, INT64_MAX, &v) == 0)
            for (unsigned i = 0; i < a->nconsts; i++)
                if (a->consts[i].value == v) {
                    *num = v;
                    return 0;
                }
        list_consts(a, names, sizeof(names));
        snprintf(err, errlen, "\"%s\" is not one of %s", t, names);
        return -1;
    }
    case IISD_AT_FLAGS: {
        int64_t v;
        if (parse_int(t, 0, INT64_MAX, &v) == 0) {
            *num = v;
            return 0;
        }
        size_t len;
        for (const char *cur = t, *p; iisd_list_next(&cur, &p, &len);) {
            const iisd_sconst_t *c = find_const(a, p, len);
            if (c == NULL) {
                list_consts(a, names, sizeof(names));
                snprintf(err, errlen, "\"%.*s\" is not one of %s", (int)len, p, names);
                return -1;
            }
            *num |= c->value;
        }
        return 0;
    }
    case IISD_AT_TIMESPAN:
        if (parse_timespan(t, num) < 0) {
            snprintf(err, errlen, "\"%s\" is not a time span ([d.]hh:mm:ss)", t);
            return -1;
        }
        return 0;
    }
    return 0;
}
