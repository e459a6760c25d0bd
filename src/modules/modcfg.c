#include "modules/modcfg.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

/* One code point as UTF-8 into b; returns its length. */
static size_t utf8_put(unsigned c, unsigned char b[4])
{
    if (c < 0x80) {
        b[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        b[0] = (unsigned char)(0xc0 | (c >> 6));
        b[1] = (unsigned char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (c >> 12));
        b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (c & 0x3f));
        return 3;
    }
    b[0] = (unsigned char)(0xf0 | (c >> 18));
    b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
    b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
    b[3] = (unsigned char)(0x80 | (c & 0x3f));
    return 4;
}

IAppHostElement *modcfg_section_at(IHttpServer *srv, const wchar_t *path, const wchar_t *section)
{
    IAppHostAdminManager *mgr = srv->lpVtbl->GetAdminManager(srv);
    if (mgr == NULL || path == NULL)
        return NULL;
    BSTR bs = SysAllocString(section), bp = SysAllocString(path);
    IAppHostElement *e = NULL;
    HRESULT hr = mgr->lpVtbl->GetAdminSection(mgr, bs, bp, &e);
    SysFreeString(bs);
    SysFreeString(bp);
    return SUCCEEDED(hr) ? e : NULL;
}

IAppHostElement *modcfg_section(IHttpServer *srv, IHttpContext *ctx, const wchar_t *section)
{
    IMetadataInfo *md = ctx->lpVtbl->GetMetadata(ctx);
    return modcfg_section_at(srv, md ? md->lpVtbl->GetMetaPath(md) : NULL, section);
}

IAppHostElement *modcfg_site(IHttpServer *srv, DWORD id)
{
    IAppHostElement *sites =
        modcfg_section_at(srv, L"MACHINE/WEBROOT/APPHOST", L"system.applicationHost/sites");
    IAppHostElement *found = NULL;
    unsigned n = modcfg_count(sites);
    for (unsigned i = 0; i < n && found == NULL; i++) {
        IAppHostElement *it = modcfg_item(sites, i);
        if (it != NULL && (DWORD)modcfg_int(it, L"id", 0) == id)
            found = it;
        else
            modcfg_release(it);
    }
    modcfg_release(sites);
    return found;
}

void modcfg_release(IAppHostElement *e)
{
    if (e != NULL)
        e->lpVtbl->Release(e);
}

/* The VARIANT value of a property; false when absent. */
static bool value(IAppHostElement *e, const wchar_t *name, VARIANT *v)
{
    VariantInit(v);
    if (e == NULL)
        return false;
    BSTR bn = SysAllocString(name);
    IAppHostProperty *p = NULL;
    HRESULT hr = e->lpVtbl->GetPropertyByName(e, bn, &p);
    SysFreeString(bn);
    if (FAILED(hr) || p == NULL)
        return false;
    hr = p->lpVtbl->get_Value(p, v);
    p->lpVtbl->Release(p);
    return SUCCEEDED(hr);
}

bool modcfg_bool(IAppHostElement *e, const wchar_t *name, bool def)
{
    VARIANT v;
    if (!value(e, name, &v))
        return def;
    bool r = v.vt == VT_BOOL ? v.boolVal != VARIANT_FALSE : def;
    VariantClear(&v);
    return r;
}

int64_t modcfg_int(IAppHostElement *e, const wchar_t *name, int64_t def)
{
    VARIANT v;
    if (!value(e, name, &v))
        return def;
    int64_t r = def;
    switch (v.vt) {
    case VT_I4:
        r = v.lVal;
        break;
    case VT_UI4:
        r = v.ulVal;
        break;
    case VT_I8:
        r = v.llVal / 10000;
        break; /* timeSpan: 100-ns ticks -> ms */
    case VT_UI8:
        r = (int64_t)v.ullVal;
        break;
    case VT_BOOL:
        r = v.boolVal != VARIANT_FALSE;
        break;
    default:
        break;
    }
    VariantClear(&v);
    return r;
}

int modcfg_str(IAppHostElement *e, const wchar_t *name, char *out, size_t cap, const char *def)
{
    VARIANT v;
    int n = -1;
    if (value(e, name, &v) && v.vt == VT_BSTR && v.bstrVal != NULL) {
        size_t k = 0;
        for (const wchar_t *w = v.bstrVal; *w; w++) {
            unsigned char b[4];
            size_t m = utf8_put((unsigned)*w, b);
            if (k + m >= cap)
                break; /* cut at a whole character */
            memcpy(out + k, b, m);
            k += m;
        }
        out[k] = '\0';
        n = (int)k;
    }
    VariantClear(&v);
    if (n < 0 && cap > 0) {
        size_t d = def ? strlen(def) : 0;
        if (d >= cap)
            d = cap - 1;
        memcpy(out, def ? def : "", d);
        out[d] = '\0';
    }
    return n;
}

IAppHostElement *modcfg_child(IAppHostElement *e, const wchar_t *name)
{
    if (e == NULL)
        return NULL;
    BSTR bn = SysAllocString(name);
    IAppHostElement *c = NULL;
    HRESULT hr = e->lpVtbl->GetElementByName(e, bn, &c);
    SysFreeString(bn);
    return SUCCEEDED(hr) ? c : NULL;
}

unsigned modcfg_count(IAppHostElement *e)
{
    if (e == NULL)
        return 0;
    IAppHostElementCollection *c = NULL;
    if (FAILED(e->lpVtbl->get_Collection(e, &c)) || c == NULL)
        return 0;
    DWORD n = 0;
    c->lpVtbl->get_Count(c, &n);
    c->lpVtbl->Release(c);
    return n;
}

IAppHostElement *modcfg_item(IAppHostElement *e, unsigned i)
{
    if (e == NULL)
        return NULL;
    IAppHostElementCollection *c = NULL;
    if (FAILED(e->lpVtbl->get_Collection(e, &c)) || c == NULL)
        return NULL;
    VARIANT idx;
    VariantInit(&idx);
    idx.vt = VT_UI4;
    idx.ulVal = i;
    IAppHostElement *item = NULL;
    HRESULT hr = c->lpVtbl->get_Item(c, idx, &item);
    c->lpVtbl->Release(c);
    return SUCCEEDED(hr) ? item : NULL;
}

/* FNV-1a over the ASCII-lower-cased string. */
static uint32_t hash_ci(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 16777619u;
    }
    return h;
}

const struct modcfg_list_item *modcfg_list_find(const modcfg_list_t *l, const char *s, bool case_sensitive)
{
    if (l == NULL || l->n == 0)
        return NULL;
    /* the probe chain may hold several spellings of s: the earliest item wins */
    uint32_t best = 0;
    for (uint32_t i = hash_ci(s) & (l->nslots - 1); l->slots[i] != 0; i = (i + 1) & (l->nslots - 1)) {
        uint32_t k = l->slots[i];
        const char *v = l->item[k - 1].s;
        if ((best == 0 || k < best) && (case_sensitive ? strcmp(v, s) == 0 : strcasecmp(v, s) == 0))
            best = k;
    }
    return best ? &l->item[best - 1] : NULL;
}

/* Appends s (with its NUL) to the growing buffer; returns its offset, or (size_t)-1. */
static size_t blob_add(char **text, size_t *used, size_t *cap, const char *s, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 256) + len + 1;
        char *nt = realloc(*text, ncap);
        if (nt == NULL)
            return (size_t)-1;
        *text = nt;
        *cap = ncap;
    }
    size_t off = *used;
    memcpy(*text + off, s, len + 1);
    *used += len + 1;
    return off;
}

modcfg_list_t *modcfg_list(IAppHostElement *coll, const wchar_t *attr, const wchar_t *attr2,
                           const wchar_t *flag, bool flag_def)
{
    unsigned n = modcfg_count(coll);
    char *text = NULL;
    size_t used = 0, cap = 0;
    struct modcfg_list_item *tmp = n ? malloc(n * sizeof(*tmp)) : NULL;
    unsigned k = 0;
    if (n && tmp == NULL)
        return NULL;
    static __thread char v[4096];
    for (unsigned i = 0; i < n; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        int len = modcfg_str(it, attr, v, sizeof(v), "");
        if (len > 0) {
            /* offsets into text for now; turned into pointers below */
            size_t off = blob_add(&text, &used, &cap, v, (size_t)len), off2 = (size_t)-2;
            if (off != (size_t)-1 && attr2 != NULL) {
                int l2 = modcfg_str(it, attr2, v, sizeof(v), "");
                off2 = blob_add(&text, &used, &cap, v, l2 > 0 ? (size_t)l2 : 0);
            }
            if (off == (size_t)-1 || off2 == (size_t)-1) {
                modcfg_release(it);
                goto fail;
            }
            tmp[k].s = (const char *)(uintptr_t)off;
            tmp[k].v = (const char *)(uintptr_t)off2;
            tmp[k].flag = flag ? modcfg_bool(it, flag, flag_def) : flag_def;
            k++;
        }
        modcfg_release(it);
    }
    unsigned nslots = 8;
    while (nslots < 2 * k)
        nslots *= 2;
    modcfg_list_t *l = malloc(sizeof(*l) + k * sizeof(l->item[0]) + nslots * sizeof(uint32_t) + used);
    if (l == NULL)
        goto fail;
    l->nslots = nslots;
    l->slots = (uint32_t *)&l->item[k];
    memset(l->slots, 0, nslots * sizeof(uint32_t));
    char *dst = (char *)(l->slots + nslots);
    if (used)
        memcpy(dst, text, used);
    l->n = k;
    for (unsigned i = 0; i < k; i++) {
        size_t off = (size_t)(uintptr_t)tmp[i].s, off2 = (size_t)(uintptr_t)tmp[i].v;
        l->item[i].s = dst + off;
        l->item[i].len = strlen(dst + off);
        l->item[i].v = off2 == (size_t)-2 ? "" : dst + off2;
        l->item[i].vlen = strlen(l->item[i].v);
        l->item[i].flag = tmp[i].flag;
        /* first item wins: later duplicates are not indexed */
        if (modcfg_list_find(l, l->item[i].s, true) == NULL) {
            uint32_t s = hash_ci(l->item[i].s) & (nslots - 1);
            while (l->slots[s] != 0)
                s = (s + 1) & (nslots - 1);
            l->slots[s] = i + 1;
        }
    }
    free(text);
    free(tmp);
    return l;
fail:
    free(text);
    free(tmp);
    return NULL;
}

typedef struct cached {
    IHttpStoredContext base; /* first */
    void *data;
    void (*free_fn)(void *data);
} cached_t;

static VOID cached_cleanup(IHttpStoredContext *This)
{
    cached_t *c = (cached_t *)This;
    if (c->free_fn != NULL && c->data != NULL)
        c->free_fn(c->data);
    free(c);
}

static const IHttpStoredContextVtbl cached_vtbl = {.CleanupStoredContext = cached_cleanup};

void *modcfg_cached(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id,
                    void *(*load)(IHttpServer *srv, IHttpContext *ctx), void (*free_fn)(void *data))
{
    IMetadataInfo *md = ctx->lpVtbl->GetMetadata(ctx);
    IHttpModuleContextContainer *cont = md ? md->lpVtbl->GetModuleContextContainer(md) : NULL;
    if (cont == NULL)
        return load(srv, ctx); /* no container: the caller owns nothing cached */
    IHttpStoredContext *sc = cont->lpVtbl->GetModuleContext(cont, id);
    if (sc != NULL)
        return ((cached_t *)sc)->data;
    cached_t *c = malloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base.lpVtbl = &cached_vtbl;
    c->data = load(srv, ctx);
    c->free_fn = free_fn;
    if (FAILED(cont->lpVtbl->SetModuleContext(cont, &c->base, id))) {
        /* another request stored it first: use theirs */
        cached_cleanup(&c->base);
        sc = cont->lpVtbl->GetModuleContext(cont, id);
        return sc ? ((cached_t *)sc)->data : NULL;
    }
    return c->data;
}

size_t modcfg_utf8(const wchar_t *w, size_t n, char *out, size_t cap)
{
    size_t k = 0, i = 0;
    for (; i < n && (unsigned)w[i] < 0x80 && k + 1 < cap; i++) /* ASCII: a byte each */
        out[k++] = (char)w[i];
    for (; i < n; i++) {
        unsigned char b[4];
        size_t m = utf8_put((unsigned)w[i], b);
        if (k + m >= cap)
            return (size_t)-1;
        memcpy(out + k, b, m);
        k += m;
    }
    out[k] = '\0';
    return k;
}
