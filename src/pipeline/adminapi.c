/*
 * The AppHost administration API (include/ahadmin.h) over the configuration
 * system (src/config/config.h): what IHttpServer::GetAdminManager() returns.
 *
 * Objects. The admin manager is one static object whose vtable has the
 * IAppHostWritableAdminManager layout, so it serves both interfaces; its
 * AddRef and Release do nothing. GetAdminSection resolves the section with
 * iisd_cfg_section() on the current generation and wraps the result in a
 * "root" that holds a reference on that generation. Every IAppHostElement,
 * IAppHostProperty and collection handed out from that section refers to the
 * same root (one reference each), so the resolved elements, which live as
 * long as the generation, stay valid until the module releases the last
 * object, even across a configuration reload. All of them are read-only
 * views of the immutable configuration except for put_Value, whose changes
 * are kept in the root (and seen by every object of that section) until
 * IAppHostWritableAdminManager::CommitChanges writes them into the file of
 * the commit path with libxml2; the server's file watcher then loads the
 * edited file like any other change.
 *
 * Reference counts are atomic; the objects may be used from any thread.
 *
 * The "api-status:" comments give the state of a method for
 * tools/api_status.py (docs/api-status.md lists the AppHost interfaces too).
 */
#include "pipeline/adminapi.h"
#include <ahadmin.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/engine.h"

#define APPHOST_PATH "MACHINE/WEBROOT/APPHOST"

/* ---- strings ------------------------------------------------------------- */

/* A BSTR copy of UTF-8 text; NULL when out of memory. */
static BSTR bstr_from_utf8(const char *s)
{
    size_t n = strlen(s);
    size_t wn = iisd_utf8_to_wcs(s, n, NULL, 0);
    if (wn > UINT32_MAX / sizeof(OLECHAR))
        return NULL;
    BSTR b = SysAllocStringLen(NULL, (UINT)wn);
    if (b != NULL && wn > 0)
        iisd_utf8_to_wcs(s, n, b, wn + 1);
    return b;
}

/* malloc'd UTF-8 text of a BSTR (its length prefix counts; NULL is ""). */
static char *utf8_from_bstr(BSTR b)
{
    size_t n = SysStringLen(b);
    size_t len = iisd_wcs_to_utf8(b, n, NULL, 0);
    char *s = iisd_xmalloc(len + 1);
    iisd_wcs_to_utf8(b, n, s, len + 1);
    return s;
}

static HRESULT out_bstr(const char *s, BSTR *out)
{
    *out = bstr_from_utf8(s);
    return *out != NULL ? S_OK : E_OUTOFMEMORY;
}

/*
 * The part of a configuration path below MACHINE/WEBROOT/APPHOST ("" for
 * APPHOST itself, "Default Web Site/app" below it), compared case-insensitively
 * segment by segment; NULL when the path is not APPHOST or below (iisd has no
 * machine.config or root web.config).
 */
static const char *below_apphost(const char *path)
{
    size_t n = strlen(APPHOST_PATH);
    if (strncasecmp(path, APPHOST_PATH, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return NULL;
    return path + n;
}

/* A configuration path below APPHOST without leading or trailing '/' ("", "Site/app"); malloc'd. */
static char *norm_path(const char *p)
{
    while (*p == '/')
        p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '/')
        n--;
    return iisd_xstrndup(p, n);
}

/* ---- the generation GetAdminSection reads -------------------------------- */

static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static iisd_conf_t *fallback_conf;

void iisd_adminapi_set_fallback_conf(iisd_conf_t *conf)
{
    if (conf != NULL)
        iisd_conf_ref(conf);
    pthread_mutex_lock(&fallback_lock);
    iisd_conf_t *old = fallback_conf;
    fallback_conf = conf;
    pthread_mutex_unlock(&fallback_lock);
    iisd_conf_unref(old);
}

/* The current generation with a reference for the caller, or NULL before start-up/after shutdown. */
static iisd_conf_t *acquire_conf(void)
{
    if (__atomic_load_n(&iisd_pipeline.conf, __ATOMIC_ACQUIRE) != NULL)
        return iisd_pipeline_acquire();
    pthread_mutex_lock(&fallback_lock);
    iisd_conf_t *c = fallback_conf;
    if (c != NULL)
        iisd_conf_ref(c);
    pthread_mutex_unlock(&fallback_lock);
    return c;
}

/* ---- logging a configuration error once ----------------------------------- */

#define NLOGGED 64

static struct {
    pthread_mutex_t lock;
    struct {
        const void *conf;
        char *text;
    } v[NLOGGED];
    unsigned next;
} logged = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * Logs "file:line: message" of an invalid configuration the first time a
 * module runs into it in a generation (modules typically read their section
 * on every request; one line per error is enough). path is the part below
 * APPHOST ("" or "/Site/app").
 */
static void log_config_error_once(const iisd_conf_t *conf, const char *section, const char *path,
                                  const iisd_cfg_error_t *e)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s:%u: %s", e->file ? e->file : "(configuration)", e->line,
             e->message ? e->message : "invalid configuration");
    pthread_mutex_lock(&logged.lock);
    for (unsigned i = 0; i < NLOGGED; i++) {
        if (logged.v[i].text != NULL && logged.v[i].conf == conf && strcmp(logged.v[i].text, text) == 0) {
            pthread_mutex_unlock(&logged.lock);
            return;
        }
    }
    unsigned k = logged.next++ % NLOGGED;
    free(logged.v[k].text);
    logged.v[k].conf = conf;
    logged.v[k].text = iisd_xstrdup(text);
    pthread_mutex_unlock(&logged.lock);
    iisd_log(IISD_LOG_WARN, "GetAdminSection(%s, " APPHOST_PATH "%s): the configuration is invalid: %s",
             section, path, text);
}

/* ---- roots: one GetAdminSection result ------------------------------------ */

/* A put_Value change: the new text and number of attribute `attr` of `elem`. */
typedef struct change {
    struct change *next;
    const iisd_celem_t *elem;
    unsigned attr;
    char *str;
    int64_t num;
    bool committed; /* written to a file by CommitChanges (still shown by this root) */
} change_t;

typedef struct root {
    int refs;
    iisd_conf_t *conf; /* one reference: the resolved elements live as long as it */
    const iisd_celem_t *section;
    char *section_name; /* as requested: the section element's name */
    char *path;         /* configuration path below APPHOST: "" or "Site/app" */
    pthread_mutex_t lock;
    change_t *changes; /* under lock */
    /* on the pending list: has changes CommitChanges has not written (under pending_lock) */
    bool pending;
    struct root *next_pending;
} root_t;

/* Roots with uncommitted changes. They are not referenced by the list: a root leaves it when it is freed. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static root_t *pending_roots;

static void root_ref(root_t *r)
{
    __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
}

/* A reference on a root that may be on its way out (found on the pending list): false if it is. */
static bool root_try_ref(root_t *r)
{
    int n = __atomic_load_n(&r->refs, __ATOMIC_RELAXED);
    while (n > 0)
        if (__atomic_compare_exchange_n(&r->refs, &n, n + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return true;
    return false;
}

/* Called with pending_lock held. */
static void unlist_pending_locked(root_t *r)
{
    for (root_t **pr = &pending_roots; *pr != NULL; pr = &(*pr)->next_pending)
        if (*pr == r) {
            *pr = r->next_pending;
            break;
        }
    r->pending = false;
    r->next_pending = NULL;
}

static void root_unref(root_t *r)
{
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    pthread_mutex_lock(&pending_lock); /* uncommitted changes are dropped with the root */
    if (r->pending)
        unlist_pending_locked(r);
    pthread_mutex_unlock(&pending_lock);
    for (change_t *c = r->changes, *next; c != NULL; c = next) {
        next = c->next;
        free(c->str);
        free(c);
    }
    pthread_mutex_destroy(&r->lock);
    free(r->section_name);
    free(r->path);
    iisd_conf_unref(r->conf);
    free(r);
}

/* Called with r->lock held. */
static change_t *find_change(root_t *r, const iisd_celem_t *elem, unsigned attr)
{
    for (change_t *c = r->changes; c != NULL; c = c->next)
        if (c->elem == elem && c->attr == attr)
            return c;
    return NULL;
}

/* ---- the objects ------------------------------------------------------------ */

/*
 * Every element, property and collection object: the interface (a vtable
 * pointer) first, then the reference count, the root, and what it shows.
 */
typedef struct ah_obj {
    const void *lpVtbl;
    int refs;
    root_t *root;
    const iisd_celem_t *ce;
    unsigned idx; /* properties: the attribute's index in ce->schema->attrs */
} ah_obj_t;

static void *obj_new(const void *vtbl, root_t *root, const iisd_celem_t *ce, unsigned idx)
{
    ah_obj_t *o = iisd_xcalloc(1, sizeof(*o));
    o->lpVtbl = vtbl;
    o->refs = 1;
    o->root = root;
    o->ce = ce;
    o->idx = idx;
    root_ref(root);
    return o;
}

static ULONG obj_addref(void *p)
{
    ah_obj_t *o = p;
    return (ULONG)__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

static ULONG obj_release(void *p)
{
    ah_obj_t *o = p;
    int n = __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL);
    if (n == 0) {
        root_unref(o->root);
        free(o);
    }
    return (ULONG)n;
}

static HRESULT obj_query(void *p, const GUID *own, REFIID riid, void **ppv)
{
    if (ppv == NULL)
        return E_POINTER;
    if (riid != NULL && (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, own))) {
        obj_addref(p);
        *ppv = p;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ah_obj_t *obj(const void *iface)
{
    return (ah_obj_t *)iface;
}

/* Out VARIANTs of methods that fail are left empty. */
static void empty_variant(VARIANT *v)
{
    if (v != NULL)
        VariantInit(v);
}

/*
 * An integer collection index: VT_I1/I2/I4/I8/INT and VT_UI1/UI2/UI4/UI8/UINT.
 * S_OK with *out set; HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) for a negative
 * number; E_INVALIDARG for any other VARIANT type.
 */
static HRESULT integer_index(const VARIANT *v, uint64_t *out)
{
    int64_t s;
    switch (v->vt) {
    case VT_I1:
        s = v->cVal;
        break;
    case VT_I2:
        s = v->iVal;
        break;
    case VT_I4:
        s = v->lVal;
        break;
    case VT_I8:
        s = v->llVal;
        break;
    case VT_INT:
        s = v->intVal;
        break;
    case VT_UI1:
        *out = v->bVal;
        return S_OK;
    case VT_UI2:
        *out = v->uiVal;
        return S_OK;
    case VT_UI4:
        *out = v->ulVal;
        return S_OK;
    case VT_UI8:
        *out = v->ullVal;
        return S_OK;
    case VT_UINT:
        *out = v->uintVal;
        return S_OK;
    default:
        return E_INVALIDARG;
    }
    if (s < 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    *out = (uint64_t)s;
    return S_OK;
}

/*
 * Position of an item picked by an integer index or (names != NULL) a
 * VT_BSTR name among n named entries. HRESULT_FROM_WIN32(ERROR_INVALID_INDEX)
 * when there is no such entry.
 */
static HRESULT pick(const VARIANT *v, unsigned n, const char *(*name_of)(const iisd_celem_t *, unsigned),
                    const iisd_celem_t *ce, unsigned *pos)
{
    if (v->vt == VT_BSTR && name_of != NULL) {
        char *name = utf8_from_bstr(v->bstrVal);
        for (unsigned i = 0; i < n; i++) {
            if (strcmp(name_of(ce, i), name) == 0) {
                free(name);
                *pos = i;
                return S_OK;
            }
        }
        free(name);
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    }
    uint64_t i;
    HRESULT hr = integer_index(v, &i);
    if (FAILED(hr))
        return hr;
    if (i >= n)
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    *pos = (unsigned)i;
    return S_OK;
}

static const char *attr_name_at(const iisd_celem_t *ce, unsigned i)
{
    return ce->schema->attrs[i].name;
}

static const char *kid_name_at(const iisd_celem_t *ce, unsigned i)
{
    return ce->schema->kids[i]->name;
}

static IAppHostElement *new_element(root_t *root, const iisd_celem_t *ce);
static IAppHostProperty *new_property(root_t *root, const iisd_celem_t *ce, unsigned idx);

/* ---- IAppHostProperty --------------------------------------------------------- */

static const iisd_sattr_t *prop_attr(const ah_obj_t *p)
{
    return &p->ce->schema->attrs[p->idx];
}

static const char *const_name(const iisd_sattr_t *a, int64_t value)
{
    for (unsigned i = 0; i < a->nconsts; i++)
        if (a->consts[i].value == value)
            return a->consts[i].name;
    return NULL;
}

/* "[d.]hh:mm:ss[.fff]", the form applicationHost.config uses (the fraction only without days). */
static void format_timespan(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms / 1000, f = ms % 1000;
    int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    s %= 60;
    if (d > 0)
        snprintf(buf, cap, "%" PRId64 ".%02" PRId64 ":%02" PRId64 ":%02" PRId64, d, h, m, s);
    else if (f != 0)
        snprintf(buf, cap, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, h, m, s, f);
    else
        snprintf(buf, cap, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, h, m, s);
}

/* The text of a value that has none (an attribute without default), from its number. */
static void format_number(const iisd_sattr_t *a, int64_t num, char *buf, size_t cap)
{
    const char *name;
    switch (a->type) {
    case IISD_AT_BOOL:
        snprintf(buf, cap, "%s", num ? "true" : "false");
        break;
    case IISD_AT_TIMESPAN:
        format_timespan(num, buf, cap);
        break;
    case IISD_AT_ENUM:
    case IISD_AT_FLAGS:
        if ((name = const_name(a, num)) != NULL) {
            snprintf(buf, cap, "%s", name);
            break;
        }
        /* fall through */
    default:
        snprintf(buf, cap, "%" PRId64, num);
        break;
    }
}

/* The property's current value: its put_Value change, else the resolved one. Called with the root locked. */
static void prop_current(const ah_obj_t *p, const char **str, int64_t *num)
{
    const change_t *c = find_change(p->root, p->ce, p->idx);
    *str = c != NULL ? c->str : p->ce->vals[p->idx].str;
    *num = c != NULL ? c->num : p->ce->vals[p->idx].num;
}

static HRESULT prop_QueryInterface(IAppHostProperty *This, REFIID riid, void **ppvObject)
{
    return obj_query(This, &IID_IAppHostProperty, riid, ppvObject);
}

static ULONG prop_AddRef(IAppHostProperty *This)
{
    return obj_addref(This);
}

static ULONG prop_Release(IAppHostProperty *This)
{
    return obj_release(This);
}

/* The attribute's name as the schema spells it. */
static HRESULT prop_get_Name(IAppHostProperty *This, BSTR *pbstrName)
{
    if (pbstrName == NULL)
        return E_POINTER;
    return out_bstr(prop_attr(obj(This))->name, pbstrName);
}

/*
 * The typed value. IIS's configuration types become these VARIANT types:
 *
 *   string   VT_BSTR  the text, %VARIABLES% expanded where the schema says expanded="true"
 *   bool     VT_BOOL  VARIANT_TRUE or VARIANT_FALSE
 *   uint     VT_UI4
 *   int      VT_I4
 *   int64    VT_I8
 *   enum     VT_I4    the numeric value of the constant (get_StringValue gives its name)
 *   flags    VT_I4    the OR of the flags' values (the same 32 bits as a DWORD)
 *   timeSpan VT_I8    100-nanosecond ticks, as in a .NET TimeSpan (iisd keeps
 *                     milliseconds: the value is ms * 10000)
 *
 * A value that is neither set nor defaulted in the schema is the empty
 * string, false or 0. The caller owns the VARIANT (VariantClear).
 */
static HRESULT prop_get_Value(IAppHostProperty *This, VARIANT *pVariant)
{
    ah_obj_t *p = obj(This);
    if (pVariant == NULL)
        return E_POINTER;
    const iisd_sattr_t *a = prop_attr(p);
    const char *str;
    int64_t num;
    HRESULT hr = S_OK;
    VariantInit(pVariant);
    pthread_mutex_lock(&p->root->lock);
    prop_current(p, &str, &num);
    switch (a->type) {
    case IISD_AT_STRING:
        pVariant->bstrVal = bstr_from_utf8(str);
        if (pVariant->bstrVal == NULL)
            hr = E_OUTOFMEMORY;
        else
            pVariant->vt = VT_BSTR;
        break;
    case IISD_AT_BOOL:
        pVariant->vt = VT_BOOL;
        pVariant->boolVal = num ? VARIANT_TRUE : VARIANT_FALSE;
        break;
    case IISD_AT_UINT:
        pVariant->vt = VT_UI4;
        pVariant->ulVal = (ULONG)num;
        break;
    case IISD_AT_INT:
    case IISD_AT_ENUM:
        pVariant->vt = VT_I4;
        pVariant->lVal = (LONG)num;
        break;
    case IISD_AT_FLAGS:
        pVariant->vt = VT_I4;
        pVariant->lVal = (LONG)(uint32_t)num;
        break;
    case IISD_AT_INT64:
        pVariant->vt = VT_I8;
        pVariant->llVal = num;
        break;
    case IISD_AT_TIMESPAN:
        pVariant->vt = VT_I8;
        pVariant->llVal = num * 10000;
        break;
    default:
        hr = E_UNEXPECTED;
        break;
    }
    pthread_mutex_unlock(&p->root->lock);
    return hr;
}

/* The text put_Value validates: a VT_BSTR as given, anything else converted for the attribute's type. */
static HRESULT value_text(const iisd_sattr_t *a, const VARIANT *value, char **out)
{
    VARIANT v;
    VariantInit(&v);
    char buf[64];
    HRESULT hr;
    if (value->vt == VT_BSTR) {
        *out = utf8_from_bstr(value->bstrVal);
        return S_OK;
    }
    switch (a->type) {
    case IISD_AT_STRING:
        hr = VariantChangeType(&v, value, VARIANT_ALPHABOOL, VT_BSTR);
        if (FAILED(hr))
            return hr;
        *out = utf8_from_bstr(v.bstrVal);
        VariantClear(&v);
        return S_OK;
    case IISD_AT_BOOL:
        hr = VariantChangeType(&v, value, 0, VT_BOOL);
        if (FAILED(hr))
            return hr;
        *out = iisd_xstrdup(v.boolVal != VARIANT_FALSE ? "true" : "false");
        return S_OK;
    case IISD_AT_TIMESPAN:
        hr = VariantChangeType(&v, value, 0, VT_I8);
        if (FAILED(hr))
            return hr;
        if (v.llVal < 0 || (v.llVal >= 864000000000LL && v.llVal / 10000 % 1000 != 0))
            return E_INVALIDARG; /* no negative spans; no fraction of a second beyond a day */
        format_timespan(v.llVal / 10000, buf, sizeof(buf));
        *out = iisd_xstrdup(buf);
        return S_OK;
    default:
        hr = VariantChangeType(&v, value, 0, VT_I8);
        if (FAILED(hr))
            return hr;
        snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)v.llVal);
        *out = iisd_xstrdup(buf);
        return S_OK;
    }
}

/*
 * Changes the value in this section object (every element and property
 * obtained from the same GetAdminSection sees it); the server's
 * configuration is untouched until IAppHostWritableAdminManager::
 * CommitChanges writes the change into a file, and a change never committed
 * is dropped with the last object of the section. The value is validated
 * against the schema (type, enum and flag names, integerRange,
 * nonEmptyString): E_INVALIDARG when it does not fit, DISP_E_TYPEMISMATCH
 * when the VARIANT cannot be converted. A VT_BSTR is taken as the text of
 * the value ("Custom", "00:01:30", "true"); numbers as the numbers get_Value
 * returns (a timeSpan in 100-ns ticks).
 */
/* api-status: implemented (kept in the section object until CommitChanges) */
static HRESULT prop_put_Value(IAppHostProperty *This, VARIANT value)
{
    ah_obj_t *p = obj(This);
    const iisd_sattr_t *a = prop_attr(p);
    char *text = NULL;
    HRESULT hr = value_text(a, &value, &text);
    if (FAILED(hr))
        return hr;
    int64_t num;
    char err[512];
    if (iisd_sattr_parse(a, text, &num, err, sizeof(err)) < 0) {
        free(text);
        return E_INVALIDARG;
    }
    root_t *r = p->root;
    pthread_mutex_lock(&r->lock);
    change_t *c = find_change(r, p->ce, p->idx);
    if (c == NULL) {
        c = iisd_xcalloc(1, sizeof(*c));
        c->elem = p->ce;
        c->attr = p->idx;
        c->next = r->changes;
        r->changes = c;
    }
    free(c->str);
    c->str = text;
    c->num = num;
    c->committed = false;
    pthread_mutex_lock(&pending_lock);
    if (!r->pending) {
        r->pending = true;
        r->next_pending = pending_roots;
        pending_roots = r;
    }
    pthread_mutex_unlock(&pending_lock);
    pthread_mutex_unlock(&r->lock);
    return S_OK;
}

/* api-status: partial: only undoes a put_Value of this section object; does not remove an attribute from a
 * file */
static HRESULT prop_Clear(IAppHostProperty *This)
{
    ah_obj_t *p = obj(This);
    root_t *r = p->root;
    pthread_mutex_lock(&r->lock);
    for (change_t **pc = &r->changes; *pc != NULL; pc = &(*pc)->next) {
        change_t *c = *pc;
        if (c->elem == p->ce && c->attr == p->idx) {
            *pc = c->next;
            free(c->str);
            free(c);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return S_OK;
}

/*
 * The value as text: as written in the configuration file (or the schema
 * default, or a put_Value), after %VARIABLE% expansion for expanded
 * attributes. Enumerations give the constant's name as the schema spells
 * it; an attribute with no text at all gives false, 0, 00:00:00 or "".
 */
static HRESULT prop_get_StringValue(IAppHostProperty *This, BSTR *pbstrValue)
{
    ah_obj_t *p = obj(This);
    if (pbstrValue == NULL)
        return E_POINTER;
    const iisd_sattr_t *a = prop_attr(p);
    const char *str;
    int64_t num;
    char buf[64];
    pthread_mutex_lock(&p->root->lock);
    prop_current(p, &str, &num);
    if (a->type == IISD_AT_ENUM && const_name(a, num) != NULL) {
        str = const_name(a, num);
    } else if (*str == '\0' && a->type != IISD_AT_STRING) {
        format_number(a, num, buf, sizeof(buf));
        str = buf;
    }
    HRESULT hr = out_bstr(str, pbstrValue);
    pthread_mutex_unlock(&p->root->lock);
    return hr;
}

/* Always NULL: a value iisd could not read makes the whole section fail to resolve instead. */
static HRESULT prop_get_Exception(IAppHostProperty *This, IAppHostPropertyException **ppException)
{
    if (ppException == NULL)
        return E_POINTER;
    *ppException = NULL;
    return S_OK;
}

static HRESULT prop_GetMetadata(IAppHostProperty *This, BSTR bstrMetadataType, VARIANT *pValue)
{
    empty_variant(pValue);
    return E_NOTIMPL;
}

static HRESULT prop_SetMetadata(IAppHostProperty *This, BSTR bstrMetadataType, VARIANT value)
{
    return E_NOTIMPL;
}

static HRESULT prop_get_Schema(IAppHostProperty *This, IAppHostPropertySchema **ppSchema)
{
    if (ppSchema != NULL)
        *ppSchema = NULL;
    return E_NOTIMPL;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostPropertyVtbl v;
} prop_vtbl = {NULL,
               NULL,
               {
                   .QueryInterface = prop_QueryInterface,
                   .AddRef = prop_AddRef,
                   .Release = prop_Release,
                   .get_Name = prop_get_Name,
                   .get_Value = prop_get_Value,
                   .put_Value = prop_put_Value,
                   .Clear = prop_Clear,
                   .get_StringValue = prop_get_StringValue,
                   .get_Exception = prop_get_Exception,
                   .GetMetadata = prop_GetMetadata,
                   .SetMetadata = prop_SetMetadata,
                   .get_Schema = prop_get_Schema,
               }};

static IAppHostProperty *new_property(root_t *root, const iisd_celem_t *ce, unsigned idx)
{
    return obj_new(&prop_vtbl.v, root, ce, idx);
}

/* ---- IAppHostPropertyCollection ----------------------------------------------- */

static HRESULT props_QueryInterface(IAppHostPropertyCollection *This, REFIID riid, void **ppvObject)
{
    return obj_query(This, &IID_IAppHostPropertyCollection, riid, ppvObject);
}

static ULONG props_AddRef(IAppHostPropertyCollection *This)
{
    return obj_addref(This);
}

static ULONG props_Release(IAppHostPropertyCollection *This)
{
    return obj_release(This);
}

/* The number of attributes the schema defines for the element (set or not). */
static HRESULT props_get_Count(IAppHostPropertyCollection *This, DWORD *pcCount)
{
    if (pcCount == NULL)
        return E_POINTER;
    *pcCount = obj(This)->ce->schema->nattrs;
    return S_OK;
}

/* By integer index (schema order) or VT_BSTR name; HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) if none. */
static HRESULT props_get_Item(IAppHostPropertyCollection *This, VARIANT cIndex, IAppHostProperty **ppProperty)
{
    ah_obj_t *o = obj(This);
    if (ppProperty == NULL)
        return E_POINTER;
    *ppProperty = NULL;
    unsigned i;
    HRESULT hr = pick(&cIndex, o->ce->schema->nattrs, attr_name_at, o->ce, &i);
    if (FAILED(hr))
        return hr;
    *ppProperty = new_property(o->root, o->ce, i);
    return S_OK;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostPropertyCollectionVtbl v;
} props_vtbl = {NULL,
                NULL,
                {
                    .QueryInterface = props_QueryInterface,
                    .AddRef = props_AddRef,
                    .Release = props_Release,
                    .get_Count = props_get_Count,
                    .get_Item = props_get_Item,
                }};

/* ---- IAppHostChildElementCollection ---------------------------------------------- */

static HRESULT kids_QueryInterface(IAppHostChildElementCollection *This, REFIID riid, void **ppvObject)
{
    return obj_query(This, &IID_IAppHostChildElementCollection, riid, ppvObject);
}

static ULONG kids_AddRef(IAppHostChildElementCollection *This)
{
    return obj_addref(This);
}

static ULONG kids_Release(IAppHostChildElementCollection *This)
{
    return obj_release(This);
}

/* The number of child elements the schema defines (present in the files or not). */
static HRESULT kids_get_Count(IAppHostChildElementCollection *This, DWORD *pcCount)
{
    if (pcCount == NULL)
        return E_POINTER;
    *pcCount = obj(This)->ce->schema->nkids;
    return S_OK;
}

/* By integer index (schema order) or VT_BSTR name; HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) if none. */
static HRESULT kids_get_Item(IAppHostChildElementCollection *This, VARIANT cIndex,
                             IAppHostElement **ppElement)
{
    ah_obj_t *o = obj(This);
    if (ppElement == NULL)
        return E_POINTER;
    *ppElement = NULL;
    unsigned i;
    HRESULT hr = pick(&cIndex, o->ce->schema->nkids, kid_name_at, o->ce, &i);
    if (FAILED(hr))
        return hr;
    *ppElement = new_element(o->root, o->ce->kids[i]);
    return S_OK;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostChildElementCollectionVtbl v;
} kids_vtbl = {NULL,
               NULL,
               {
                   .QueryInterface = kids_QueryInterface,
                   .AddRef = kids_AddRef,
                   .Release = kids_Release,
                   .get_Count = kids_get_Count,
                   .get_Item = kids_get_Item,
               }};

/* ---- IAppHostElementCollection ------------------------------------------------------ */

static HRESULT coll_QueryInterface(IAppHostElementCollection *This, REFIID riid, void **ppvObject)
{
    return obj_query(This, &IID_IAppHostElementCollection, riid, ppvObject);
}

static ULONG coll_AddRef(IAppHostElementCollection *This)
{
    return obj_addref(This);
}

static ULONG coll_Release(IAppHostElementCollection *This)
{
    return obj_release(This);
}

/* The number of items in effect at the path (after <remove>/<clear> and merging down the path). */
static HRESULT coll_get_Count(IAppHostElementCollection *This, DWORD *pcElementCount)
{
    if (pcElementCount == NULL)
        return E_POINTER;
    *pcElementCount = obj(This)->ce->nitems;
    return S_OK;
}

/*
 * Item number cIndex (VT_I1/I2/I4/I8/INT or VT_UI1/UI2/UI4/UI8/UINT, from 0,
 * in effective order); HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) when out of
 * range, E_INVALIDARG for a VARIANT that is not an integer.
 */
static HRESULT coll_get_Item(IAppHostElementCollection *This, VARIANT cIndex, IAppHostElement **ppElement)
{
    ah_obj_t *o = obj(This);
    if (ppElement == NULL)
        return E_POINTER;
    *ppElement = NULL;
    unsigned i;
    HRESULT hr = pick(&cIndex, o->ce->nitems, NULL, o->ce, &i);
    if (FAILED(hr))
        return hr;
    *ppElement = new_element(o->root, o->ce->items[i]);
    return S_OK;
}

static HRESULT coll_AddElement(IAppHostElementCollection *This, IAppHostElement *pElement, INT cPosition)
{
    return E_NOTIMPL;
}

static HRESULT coll_DeleteElement(IAppHostElementCollection *This, VARIANT cIndex)
{
    return E_NOTIMPL;
}

static HRESULT coll_Clear(IAppHostElementCollection *This)
{
    return E_NOTIMPL;
}

static HRESULT coll_CreateNewElement(IAppHostElementCollection *This, BSTR bstrElementName,
                                     IAppHostElement **ppElement)
{
    if (ppElement != NULL)
        *ppElement = NULL;
    return E_NOTIMPL;
}

static HRESULT coll_get_Schema(IAppHostElementCollection *This, IAppHostCollectionSchema **ppSchema)
{
    if (ppSchema != NULL)
        *ppSchema = NULL;
    return E_NOTIMPL;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostElementCollectionVtbl v;
} coll_vtbl = {NULL,
               NULL,
               {
                   .QueryInterface = coll_QueryInterface,
                   .AddRef = coll_AddRef,
                   .Release = coll_Release,
                   .get_Count = coll_get_Count,
                   .get_Item = coll_get_Item,
                   .AddElement = coll_AddElement,
                   .DeleteElement = coll_DeleteElement,
                   .Clear = coll_Clear,
                   .CreateNewElement = coll_CreateNewElement,
                   .get_Schema = coll_get_Schema,
               }};

/* ---- IAppHostElement ------------------------------------------------------------------ */

static HRESULT elem_QueryInterface(IAppHostElement *This, REFIID riid, void **ppvObject)
{
    return obj_query(This, &IID_IAppHostElement, riid, ppvObject);
}

static ULONG elem_AddRef(IAppHostElement *This)
{
    return obj_addref(This);
}

static ULONG elem_Release(IAppHostElement *This)
{
    return obj_release(This);
}

/*
 * The element's tag name ("files", "add"); for the section itself the
 * section name as passed to GetAdminSection ("system.webServer/defaultDocument").
 */
static HRESULT elem_get_Name(IAppHostElement *This, BSTR *pbstrName)
{
    ah_obj_t *o = obj(This);
    if (pbstrName == NULL)
        return E_POINTER;
    return out_bstr(o->ce == o->root->section ? o->root->section_name : o->ce->name, pbstrName);
}

/*
 * The element's collection items. HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)
 * (and NULL) when the schema gives the element no <collection>.
 */
static HRESULT elem_get_Collection(IAppHostElement *This, IAppHostElementCollection **ppCollection)
{
    ah_obj_t *o = obj(This);
    if (ppCollection == NULL)
        return E_POINTER;
    *ppCollection = NULL;
    if (o->ce->schema->coll == NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    *ppCollection = obj_new(&coll_vtbl.v, o->root, o->ce, 0);
    return S_OK;
}

static HRESULT elem_get_Properties(IAppHostElement *This, IAppHostPropertyCollection **ppProperties)
{
    ah_obj_t *o = obj(This);
    if (ppProperties == NULL)
        return E_POINTER;
    *ppProperties = obj_new(&props_vtbl.v, o->root, o->ce, 0);
    return S_OK;
}

static HRESULT elem_get_ChildElements(IAppHostElement *This, IAppHostChildElementCollection **ppElements)
{
    ah_obj_t *o = obj(This);
    if (ppElements == NULL)
        return E_POINTER;
    *ppElements = obj_new(&kids_vtbl.v, o->root, o->ce, 0);
    return S_OK;
}

static HRESULT elem_GetMetadata(IAppHostElement *This, BSTR bstrMetadataType, VARIANT *pValue)
{
    empty_variant(pValue);
    return E_NOTIMPL;
}

static HRESULT elem_SetMetadata(IAppHostElement *This, BSTR bstrMetadataType, VARIANT value)
{
    return E_NOTIMPL;
}

static HRESULT elem_get_Schema(IAppHostElement *This, IAppHostElementSchema **ppSchema)
{
    if (ppSchema != NULL)
        *ppSchema = NULL;
    return E_NOTIMPL;
}

/*
 * The child element of that name (as the schema spells it), or the
 * collection's defaultElement ("siteDefaults") when the schema does not also
 * declare it as a child; HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) otherwise.
 */
static HRESULT elem_GetElementByName(IAppHostElement *This, BSTR bstrSubName, IAppHostElement **ppElement)
{
    ah_obj_t *o = obj(This);
    if (ppElement == NULL)
        return E_POINTER;
    *ppElement = NULL;
    char *name = utf8_from_bstr(bstrSubName);
    const iisd_celem_t *kid = iisd_celem_kid(o->ce, name);
    const iisd_scoll_t *coll = o->ce->schema->coll;
    if (kid == NULL && o->ce->defaults != NULL && coll != NULL && coll->default_elem != NULL &&
        strcmp(coll->default_elem, name) == 0)
        kid = o->ce->defaults;
    free(name);
    if (kid == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    *ppElement = new_element(o->root, kid);
    return S_OK;
}

/* The attribute of that name (as the schema spells it); HRESULT_FROM_WIN32(ERROR_INVALID_INDEX) otherwise. */
static HRESULT elem_GetPropertyByName(IAppHostElement *This, BSTR bstrSubName, IAppHostProperty **ppProperty)
{
    ah_obj_t *o = obj(This);
    if (ppProperty == NULL)
        return E_POINTER;
    *ppProperty = NULL;
    char *name = utf8_from_bstr(bstrSubName);
    int i = iisd_schema_attr_index(o->ce->schema, name);
    free(name);
    if (i < 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    *ppProperty = new_property(o->root, o->ce, (unsigned)i);
    return S_OK;
}

static HRESULT elem_Clear(IAppHostElement *This)
{
    return E_NOTIMPL;
}

static HRESULT elem_get_Methods(IAppHostElement *This, IAppHostMethodCollection **ppMethods)
{
    if (ppMethods != NULL)
        *ppMethods = NULL;
    return E_NOTIMPL;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostElementVtbl v;
} elem_vtbl = {NULL,
               NULL,
               {
                   .QueryInterface = elem_QueryInterface,
                   .AddRef = elem_AddRef,
                   .Release = elem_Release,
                   .get_Name = elem_get_Name,
                   .get_Collection = elem_get_Collection,
                   .get_Properties = elem_get_Properties,
                   .get_ChildElements = elem_get_ChildElements,
                   .GetMetadata = elem_GetMetadata,
                   .SetMetadata = elem_SetMetadata,
                   .get_Schema = elem_get_Schema,
                   .GetElementByName = elem_GetElementByName,
                   .GetPropertyByName = elem_GetPropertyByName,
                   .Clear = elem_Clear,
                   .get_Methods = elem_get_Methods,
               }};

static IAppHostElement *new_element(root_t *root, const iisd_celem_t *ce)
{
    return obj_new(&elem_vtbl.v, root, ce, 0);
}

/* ---- IAppHostAdminManager / IAppHostWritableAdminManager ---------------------------------- */

static pthread_mutex_t commit_lock = PTHREAD_MUTEX_INITIALIZER;
static char *commit_path; /* NULL: MACHINE/WEBROOT/APPHOST */

/* The manager answers for both interfaces (the writable vtable extends the read-only one). */
static HRESULT mgr_QueryInterface(IAppHostWritableAdminManager *This, REFIID riid, void **ppvObject)
{
    if (ppvObject == NULL)
        return E_POINTER;
    if (riid != NULL && (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IAppHostAdminManager) ||
                         IsEqualIID(riid, &IID_IAppHostWritableAdminManager))) {
        *ppvObject = This;
        return S_OK;
    }
    *ppvObject = NULL;
    return E_NOINTERFACE;
}

/* No-op: the manager is a process-lifetime static object. */
/* api-status: implemented (no-op: the manager lives as long as the process) */
static ULONG mgr_AddRef(IAppHostWritableAdminManager *This)
{
    return 1;
}

/* No-op, see mgr_AddRef. */
/* api-status: implemented (no-op: the manager lives as long as the process) */
static ULONG mgr_Release(IAppHostWritableAdminManager *This)
{
    return 1;
}

/* Did iisd_cfg_section fail because the section name is unknown (rather than the files being invalid)? */
static bool unknown_section(const iisd_cfg_error_t *e)
{
    return e->line == 0 && e->message != NULL &&
           (strstr(e->message, "is not registered in <configSections>") != NULL ||
            strstr(e->message, "has no schema") != NULL);
}

/*
 * The section bstrSectionName ("system.webServer/defaultDocument") as merged
 * for the configuration path bstrPath ("MACHINE/WEBROOT/APPHOST/Default Web
 * Site/app", matched case-insensitively, or MACHINE/WEBROOT/APPHOST itself),
 * read from the current configuration generation. *ppAdminSection carries
 * one reference and keeps that generation alive until it and every object
 * obtained from it are released. Errors:
 *   HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER)  empty section name, NULL path
 *   HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)     a path that is not APPHOST or
 *                                                below (MACHINE, MACHINE/WEBROOT:
 *                                                iisd has no such files)
 *   HRESULT_FROM_WIN32(ERROR_INVALID_DATA)       the section is not registered
 *                                                in <configSections> or has no schema
 *   E_FAIL                                       the configuration that applies at
 *                                                the path is invalid (what a request
 *                                                there answers with 500.19); the file,
 *                                                line and message are logged once
 *   HRESULT_FROM_WIN32(ERROR_NOT_READY)          no configuration is loaded yet
 */
static HRESULT mgr_GetAdminSection(IAppHostWritableAdminManager *This, BSTR bstrSectionName, BSTR bstrPath,
                                   IAppHostElement **ppAdminSection)
{
    if (ppAdminSection == NULL)
        return E_POINTER;
    *ppAdminSection = NULL;
    if (SysStringLen(bstrSectionName) == 0 || bstrPath == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    char *section = utf8_from_bstr(bstrSectionName);
    char *path = utf8_from_bstr(bstrPath);
    const char *below = below_apphost(path);
    HRESULT hr = S_OK;
    iisd_conf_t *conf = NULL;
    if (below == NULL) {
        hr = HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
        goto out;
    }
    conf = acquire_conf();
    if (conf == NULL) {
        hr = HRESULT_FROM_WIN32(ERROR_NOT_READY);
        goto out;
    }
    const iisd_cfg_error_t *err = NULL;
    const iisd_celem_t *ce = iisd_cfg_section(conf->cfg, below, section, &err);
    if (ce == NULL) {
        if (err != NULL && unknown_section(err)) {
            hr = HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
        } else {
            static const iisd_cfg_error_t none = {.message = (char *)"invalid configuration"};
            log_config_error_once(conf, section, below, err != NULL ? err : &none);
            hr = E_FAIL;
        }
        goto out;
    }
    root_t *r = iisd_xcalloc(1, sizeof(*r));
    r->refs = 1;
    r->conf = conf;
    conf = NULL; /* the root owns the reference now */
    r->section = ce;
    r->section_name = section;
    section = NULL;
    r->path = norm_path(below);
    pthread_mutex_init(&r->lock, NULL);
    *ppAdminSection = new_element(r, ce);
    root_unref(r); /* the element holds the root now */
out:
    iisd_conf_unref(conf);
    free(section);
    free(path);
    return hr;
}

static HRESULT mgr_GetMetadata(IAppHostWritableAdminManager *This, BSTR bstrMetadataType, VARIANT *pValue)
{
    empty_variant(pValue);
    return E_NOTIMPL;
}

static HRESULT mgr_SetMetadata(IAppHostWritableAdminManager *This, BSTR bstrMetadataType, VARIANT value)
{
    return E_NOTIMPL;
}

static HRESULT mgr_get_ConfigManager(IAppHostWritableAdminManager *This,
                                     IAppHostConfigManager **ppConfigManager)
{
    if (ppConfigManager != NULL)
        *ppConfigManager = NULL;
    return E_NOTIMPL;
}

/* ---- CommitChanges: writing changes into the configuration files ---------------------------- */

#define MAXDEPTH 32

/* The elements from below `from` down to `target` (kids, collection items, the defaultElement). */
static int chain_to(const iisd_celem_t *from, const iisd_celem_t *target, const iisd_celem_t **chain,
                    int depth)
{
    if (from == target)
        return depth;
    if (depth >= MAXDEPTH)
        return -1;
    for (unsigned i = 0; i < from->schema->nkids; i++) {
        chain[depth] = from->kids[i];
        int n = chain_to(from->kids[i], target, chain, depth + 1);
        if (n >= 0)
            return n;
    }
    for (unsigned i = 0; i < from->nitems; i++) {
        chain[depth] = from->items[i];
        int n = chain_to(from->items[i], target, chain, depth + 1);
        if (n >= 0)
            return n;
    }
    if (from->defaults != NULL) {
        chain[depth] = from->defaults;
        int n = chain_to(from->defaults, target, chain, depth + 1);
        if (n >= 0)
            return n;
    }
    return -1;
}

static bool is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static bool is_blank(const xmlNode *n)
{
    return n != NULL && n->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)n);
}

/*
 * Appends a new element to parent. When the parent's children are laid out
 * one per line (blank text before the first and after the last), the new
 * element goes on a line of its own with the indentation of the first.
 */
static xmlNode *xml_append(xmlNode *parent, const char *name)
{
    xmlNode *n = xmlNewNode(NULL, (const xmlChar *)name);
    xmlNode *first = parent->children, *last = parent->last;
    if (first != NULL && first != last && is_blank(first) && is_blank(last)) {
        xmlAddPrevSibling(last, n);
        xmlAddPrevSibling(n, xmlNewText(first->content)); /* not next to `last`: libxml would merge them */
    } else {
        xmlAddChild(parent, n);
    }
    return n;
}

static xmlNode *xml_child(xmlNode *parent, const char *name, bool create)
{
    for (xmlNode *n = parent->children; n != NULL; n = n->next)
        if (is_element(n, name))
            return n;
    return create ? xml_append(parent, name) : NULL;
}

/* The <location path="rel"> of a file's <configuration> (paths compared as the configuration system does). */
static xmlNode *xml_location(xmlNode *config, const char *rel)
{
    for (xmlNode *n = config->children; n != NULL; n = n->next) {
        if (!is_element(n, "location"))
            continue;
        xmlChar *p = xmlGetProp(n, (const xmlChar *)"path");
        char *np = norm_path(p != NULL ? (const char *)p : "");
        bool same = strcmp(np, ".") == 0 ? *rel == '\0' : strcasecmp(np, rel) == 0;
        free(np);
        xmlFree(p);
        if (same)
            return n;
    }
    xmlNode *loc = xml_append(config, "location");
    xmlSetProp(loc, (const xmlChar *)"path", (const xmlChar *)rel);
    return loc;
}

/* Is XML element n the collection item `item` of `parent` (an add element with the same unique key)? */
static bool xml_is_item(const xmlNode *n, const iisd_celem_t *parent, const iisd_celem_t *item)
{
    const iisd_scoll_t *coll = parent->schema->coll;
    if (n->type != XML_ELEMENT_NODE || coll == NULL || !iisd_scoll_is_add(coll, (const char *)n->name))
        return false;
    bool keyed = false;
    for (unsigned i = 0; i < item->schema->nattrs; i++) {
        const iisd_sattr_t *a = &item->schema->attrs[i];
        if (!a->unique_key)
            continue;
        keyed = true;
        xmlChar *v = xmlGetProp((xmlNode *)n, (const xmlChar *)a->name);
        const char *text = v != NULL ? (const char *)v : a->defval != NULL ? a->defval : "";
        bool same = a->case_sensitive ? strcmp(text, item->vals[i].str) == 0
                                      : strcasecmp(text, item->vals[i].str) == 0;
        xmlFree(v);
        if (!same)
            return false;
    }
    return keyed;
}

/*
 * Writes one change into the section element `sec` of the document: walks
 * (creating child elements as needed) from the section down to the changed
 * element and sets the attribute. A collection item must be defined in this
 * very place (matched by its unique key): changing an inherited item here
 * would need a <remove>/<add> pair, which iisd does not write.
 */
static HRESULT apply_change(xmlNode *sec, const iisd_celem_t *section, const change_t *c)
{
    const iisd_celem_t *chain[MAXDEPTH];
    int n = chain_to(section, c->elem, chain, 0);
    if (n < 0)
        return E_UNEXPECTED;
    xmlNode *x = sec;
    const iisd_celem_t *parent = section;
    for (int i = 0; i < n; i++) {
        const iisd_celem_t *e = chain[i];
        xmlNode *next = NULL;
        if (e == parent->defaults) {
            next = xml_child(x, parent->schema->coll->default_elem, true);
        } else {
            bool item = false;
            for (unsigned k = 0; k < parent->nitems && !item; k++)
                item = parent->items[k] == e;
            if (!item) {
                next = xml_child(x, e->name, true);
            } else {
                for (xmlNode *m = x->children; m != NULL && next == NULL; m = m->next)
                    if (xml_is_item(m, parent, e))
                        next = m;
                if (next == NULL)
                    return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
            }
        }
        x = next;
        parent = e;
    }
    xmlSetProp(x, (const xmlChar *)c->elem->schema->attrs[c->attr].name, (const xmlChar *)c->str);
    return S_OK;
}

/* The file the configuration of a path below APPHOST lives in ("" = applicationHost.config); malloc'd. */
static HRESULT commit_file(const iisd_conf_t *conf, const char *cpath, char **out)
{
    *out = NULL;
    if (*cpath == '\0') {
        if (conf->file == NULL)
            return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND); /* the embedded default: no file to write */
        *out = iisd_xstrdup(conf->file);
        return S_OK;
    }
    const char *slash = strchr(cpath, '/');
    char *site_name = iisd_xstrndup(cpath, slash != NULL ? (size_t)(slash - cpath) : strlen(cpath));
    const iisd_sitedef_t *site = iisd_sites_find(&conf->sites, site_name);
    free(site_name);
    const char *url = slash != NULL ? slash : "/";
    char *folder = site != NULL ? iisd_site_map(site, url, strlen(url)) : NULL;
    struct stat st;
    if (folder == NULL || stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(folder);
        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    }
    size_t n = strlen(folder) + sizeof("/web.config");
    *out = iisd_xmalloc(n);
    snprintf(*out, n, "%s/web.config", folder);
    free(folder);
    return S_OK;
}

/* Replaces the file by the document (a new file renamed over it, so that readers never see half of it). */
static HRESULT save_doc(xmlDoc *doc, const char *path)
{
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    size_t n = strlen(path) + sizeof(".iisd-XXXXXX");
    char *tmp = iisd_xmalloc(n);
    snprintf(tmp, n, "%s.iisd-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return E_ACCESSDENIED;
    }
    fchmod(fd, mode);
    close(fd);
    HRESULT hr = S_OK;
    if (xmlSaveFileEnc(tmp, doc, "UTF-8") < 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        hr = HRESULT_FROM_WIN32(ERROR_WRITE_FAULT);
    }
    free(tmp);
    return hr;
}

/*
 * Writes every uncommitted put_Value change of every live section object
 * (the manager is the process's one) into the file of the commit path:
 * applicationHost.config for MACHINE/WEBROOT/APPHOST, else the web.config of
 * the path's folder (created when missing). A section read at a path below
 * the commit path is written in a <location path="..."> of that file. The
 * server's file watcher then loads the new configuration as for any edit;
 * the section objects keep showing the values they were given.
 *
 * All or nothing: S_OK when every change was written (or there was none),
 * else no file is touched and the changes stay pending:
 *   HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER)  a section was read at a path
 *                                                above the commit path
 *   HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)      a changed collection item is
 *                                                not defined in that file at that
 *                                                path (it is inherited)
 *   HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)     APPHOST while running on the
 *                                                embedded default configuration
 *   HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)     no folder for the commit path
 *   HRESULT_FROM_WIN32(ERROR_INVALID_DATA)       the file is not well-formed XML
 *   HRESULT_FROM_WIN32(ERROR_NOT_READY)          no configuration is loaded
 *   E_ACCESSDENIED, HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)  the file cannot be written
 * The values are validated against the schema by put_Value; delegation and
 * locking are checked when the server loads the edited file (a change the
 * configuration system rejects is logged and the previous configuration
 * stays in force, as for a hand edit).
 */
/* api-status: partial: writes attributes of sections, child elements and items defined in the target file;
 * adding, removing or re-keying collection items is not supported */
static HRESULT mgr_CommitChanges(IAppHostWritableAdminManager *This)
{
    static pthread_mutex_t commit_io = PTHREAD_MUTEX_INITIALIZER; /* one commit at a time */
    pthread_mutex_lock(&commit_lock);
    char *cpath = norm_path(below_apphost(commit_path != NULL ? commit_path : APPHOST_PATH));
    pthread_mutex_unlock(&commit_lock);

    pthread_mutex_lock(&commit_io);
    root_t **roots = NULL;
    unsigned nroots = 0;
    pthread_mutex_lock(&pending_lock);
    for (root_t *r = pending_roots; r != NULL; r = r->next_pending) {
        if (!root_try_ref(r))
            continue; /* being freed: its changes go with it */
        roots = iisd_xrealloc(roots, (nroots + 1) * sizeof(*roots));
        roots[nroots++] = r;
    }
    pthread_mutex_unlock(&pending_lock);

    HRESULT hr = S_OK;
    char *file = NULL;
    xmlDoc *doc = NULL;
    iisd_conf_t *conf = NULL;
    if (nroots == 0)
        goto out;
    conf = acquire_conf();
    if (conf == NULL) {
        hr = HRESULT_FROM_WIN32(ERROR_NOT_READY);
        goto out;
    }
    hr = commit_file(conf, cpath, &file);
    if (FAILED(hr))
        goto out;
    struct stat st;
    if (stat(file, &st) == 0) {
        doc = xmlReadFile(file, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (doc == NULL || xmlDocGetRootElement(doc) == NULL ||
            !is_element(xmlDocGetRootElement(doc), "configuration")) {
            hr = HRESULT_FROM_WIN32(ERROR_INVALID_DATA);
            goto out;
        }
    } else if (*cpath != '\0') {
        doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlDocSetRootElement(doc, xmlNewNode(NULL, (const xmlChar *)"configuration"));
    } else {
        hr = HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
        goto out;
    }
    xmlNode *config = xmlDocGetRootElement(doc);

    /* every root stays locked until its changes are marked written (or not) */
    for (unsigned i = 0; i < nroots; i++)
        pthread_mutex_lock(&roots[i]->lock);
    size_t clen = strlen(cpath);
    for (unsigned i = 0; i < nroots && SUCCEEDED(hr); i++) {
        root_t *r = roots[i];
        const char *rel;
        if (clen == 0)
            rel = r->path;
        else if (strncasecmp(r->path, cpath, clen) == 0 && (r->path[clen] == '\0' || r->path[clen] == '/'))
            rel = r->path[clen] == '/' ? r->path + clen + 1 : "";
        else {
            hr = HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
            break;
        }
        xmlNode *sec = *rel != '\0' ? xml_location(config, rel) : config;
        char *name = iisd_xstrdup(r->section_name), *save = NULL;
        for (char *seg = strtok_r(name, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save))
            sec = xml_child(sec, seg, true);
        free(name);
        for (change_t *c = r->changes; c != NULL && SUCCEEDED(hr); c = c->next)
            if (!c->committed)
                hr = apply_change(sec, r->section, c);
    }
    if (SUCCEEDED(hr))
        hr = save_doc(doc, file);
    if (SUCCEEDED(hr)) {
        for (unsigned i = 0; i < nroots; i++)
            for (change_t *c = roots[i]->changes; c != NULL; c = c->next)
                c->committed = true;
        pthread_mutex_lock(&pending_lock);
        for (unsigned i = 0; i < nroots; i++)
            if (roots[i]->pending)
                unlist_pending_locked(roots[i]);
        pthread_mutex_unlock(&pending_lock);
        iisd_log(IISD_LOG_INFO, "a module committed configuration changes to %s", file);
    }
    for (unsigned i = 0; i < nroots; i++)
        pthread_mutex_unlock(&roots[i]->lock);
out:
    if (doc != NULL)
        xmlFreeDoc(doc);
    for (unsigned i = 0; i < nroots; i++)
        root_unref(roots[i]);
    free(roots);
    pthread_mutex_unlock(&commit_io);
    iisd_conf_unref(conf);
    free(file);
    free(cpath);
    return hr;
}

/* The commit path last set with put_CommitPath; MACHINE/WEBROOT/APPHOST until then. Process-wide. */
static HRESULT mgr_get_CommitPath(IAppHostWritableAdminManager *This, BSTR *pbstrCommitPath)
{
    if (pbstrCommitPath == NULL)
        return E_POINTER;
    pthread_mutex_lock(&commit_lock);
    HRESULT hr = out_bstr(commit_path != NULL ? commit_path : APPHOST_PATH, pbstrCommitPath);
    pthread_mutex_unlock(&commit_lock);
    return hr;
}

/*
 * Sets the configuration path whose file CommitChanges writes (one for the
 * process: the manager is shared by all modules).
 * HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER) unless it is
 * MACHINE/WEBROOT/APPHOST or below.
 */
/* api-status: implemented (one commit path for the process) */
static HRESULT mgr_put_CommitPath(IAppHostWritableAdminManager *This, BSTR bstrCommitPath)
{
    char *path = utf8_from_bstr(bstrCommitPath);
    if (below_apphost(path) == NULL) {
        free(path);
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    }
    pthread_mutex_lock(&commit_lock);
    char *old = commit_path;
    commit_path = path;
    pthread_mutex_unlock(&commit_lock);
    free(old);
    return S_OK;
}

static const struct {
    void *offset_to_top, *rtti;
    IAppHostWritableAdminManagerVtbl v;
} mgr_vtbl = {NULL,
              NULL,
              {
                  .QueryInterface = mgr_QueryInterface,
                  .AddRef = mgr_AddRef,
                  .Release = mgr_Release,
                  .GetAdminSection = mgr_GetAdminSection,
                  .GetMetadata = mgr_GetMetadata,
                  .SetMetadata = mgr_SetMetadata,
                  .get_ConfigManager = mgr_get_ConfigManager,
                  .CommitChanges = mgr_CommitChanges,
                  .get_CommitPath = mgr_get_CommitPath,
                  .put_CommitPath = mgr_put_CommitPath,
              }};

static IAppHostWritableAdminManager manager = {.lpVtbl = &mgr_vtbl.v};

IAppHostAdminManager *iisd_admin_manager(void)
{
    return (IAppHostAdminManager *)&manager;
}
