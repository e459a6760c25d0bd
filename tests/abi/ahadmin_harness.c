/*
 * ahadmin_harness.c - configuration objects implemented in C through the C
 * binding of ahadmin.h (IAppHostAdminManager, IAppHostElement,
 * IAppHostElementCollection, IAppHostProperty, IAppHostPropertyCollection),
 * driven by the C++ module tests/abi/ahadmin_module.cpp built with
 * -DIISD_AHADMIN_TEST_EXPORT: RegisterModule reads the configuration through
 * IHttpServer::GetAdminManager, IisdTestReadConfig reports what the module
 * read. Checks that BSTRs and VARIANTs (passed by value) cross the C/C++
 * boundary intact, that the module passes real BSTRs, and that it Releases
 * every object it was given (none is left alive at the end).
 *
 * Usage: ahadmin_harness MODULE.so
 */
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <ahadmin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int g_failures;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) {
        g_failures++;
    }
}

/* ------------------------------------------------------------------------ */
/* The configuration, as data                                               */
/* ------------------------------------------------------------------------ */

typedef struct PropDef {
    const wchar_t *name;
    VARTYPE vt;
    long long number;
    const wchar_t *text;
} PropDef;

typedef struct ElemDef {
    const wchar_t *name;
    const PropDef *props;
    int nprops;
    const struct ElemDef *const *children;
    int nchildren;
    const struct ElemDef *const *items;
    int nitems;
} ElemDef;

static const PropDef k_limits_props[] = {{L"timeout", VT_BSTR, 0, L"30"}};
static const ElemDef k_limits = {L"limits", k_limits_props, 1, NULL, 0, NULL, 0};
static const PropDef k_item1_props[] = {{L"name", VT_BSTR, 0, L"X-A"}, {L"value", VT_BSTR, 0, L"1"}};
static const PropDef k_item2_props[] = {{L"name", VT_BSTR, 0, L"X-B"}, {L"value", VT_BSTR, 0, L"tw\u00f6"}};
static const ElemDef k_item1 = {L"add", k_item1_props, 2, NULL, 0, NULL, 0};
static const ElemDef k_item2 = {L"add", k_item2_props, 2, NULL, 0, NULL, 0};
static const ElemDef *const k_items[] = {&k_item1, &k_item2};
static const ElemDef *const k_children[] = {&k_limits};
static const PropDef k_section_props[] = {
    {L"enabled", VT_BOOL, -1, NULL},
    {L"maxItems", VT_UI4, 42, NULL},
    {L"greeting", VT_BSTR, 0, L"h\u00e9llo w\u00f6rld \u2713"},
    {L"mode", VT_I4, 2, NULL},
};
static const ElemDef k_section = {L"iisdTest", k_section_props, 4, k_children, 1, k_items, 2};

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                              */
/* ------------------------------------------------------------------------ */

static int g_live;      /* objects created and not yet freed */
static int g_bad_bstr;  /* BSTR arguments without a valid length prefix */
static int g_bad_index; /* collection indexes that were not integers */
static wchar_t g_last_path[256];

/* A BSTR made by SysAllocString has a byte-length prefix that matches wcslen. */
static int is_real_bstr(BSTR b)
{
    return b != NULL && SysStringByteLen(b) == wcslen(b) * sizeof(wchar_t);
}

static void note_bstr(BSTR b)
{
    if (!is_real_bstr(b)) {
        g_bad_bstr++;
    }
}

static void make_value(const PropDef *def, VARIANT *v)
{
    VariantInit(v);
    v->vt = def->vt;
    switch (def->vt) {
    case VT_BSTR:
        v->bstrVal = SysAllocString(def->text);
        break;
    case VT_BOOL:
        v->boolVal = def->number ? VARIANT_TRUE : VARIANT_FALSE;
        break;
    case VT_UI4:
        v->ulVal = (ULONG)def->number;
        break;
    default:
        v->lVal = (LONG)def->number;
        break;
    }
}

/* Reads a collection index: an integer VARIANT (any integer type). */
static HRESULT index_of(VARIANT cIndex, int count, int *out)
{
    VARIANT n;
    VariantInit(&n);
    if (cIndex.vt == VT_BSTR || FAILED(VariantChangeType(&n, &cIndex, 0, VT_UI4))) {
        g_bad_index++;
        return E_INVALIDARG;
    }
    if (n.ulVal >= (ULONG)count) {
        return E_INVALIDARG;
    }
    *out = (int)n.ulVal;
    return S_OK;
}

/* ------------------------------------------------------------------------ */
/* IAppHostProperty                                                         */
/* ------------------------------------------------------------------------ */

typedef struct Prop {
    IAppHostProperty iface;
    LONG refs;
    const PropDef *def;
    VARIANT value;
} Prop;

static ULONG Prop_AddRef(IAppHostProperty *This)
{
    return (ULONG)++((Prop *)This)->refs;
}

static ULONG Prop_Release(IAppHostProperty *This)
{
    Prop *p = (Prop *)This;
    LONG n = --p->refs;
    if (n == 0) {
        VariantClear(&p->value);
        free(p);
        g_live--;
    }
    return (ULONG)n;
}

static HRESULT Prop_QueryInterface(IAppHostProperty *This, REFIID riid, void **ppv)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IAppHostProperty)) {
        *ppv = This;
        Prop_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static HRESULT Prop_get_Name(IAppHostProperty *This, BSTR *pbstrName)
{
    *pbstrName = SysAllocString(((Prop *)This)->def->name);
    return *pbstrName ? S_OK : E_OUTOFMEMORY;
}

static HRESULT Prop_get_Value(IAppHostProperty *This, VARIANT *pVariant)
{
    VariantInit(pVariant);
    return VariantCopy(pVariant, &((Prop *)This)->value);
}

static HRESULT Prop_get_StringValue(IAppHostProperty *This, BSTR *pbstrValue)
{
    VARIANT s;
    HRESULT hr;
    VariantInit(&s);
    hr = VariantChangeType(&s, &((Prop *)This)->value, VARIANT_ALPHABOOL, VT_BSTR);
    *pbstrValue = SUCCEEDED(hr) ? s.bstrVal : NULL;
    return hr;
}

static const IAppHostPropertyVtbl g_prop_vtbl = {
    .QueryInterface = Prop_QueryInterface,
    .AddRef = Prop_AddRef,
    .Release = Prop_Release,
    .get_Name = Prop_get_Name,
    .get_Value = Prop_get_Value,
    .get_StringValue = Prop_get_StringValue,
};

static HRESULT new_prop(const PropDef *def, IAppHostProperty **pp)
{
    Prop *p = (Prop *)calloc(1, sizeof *p);
    if (p == NULL) {
        return E_OUTOFMEMORY;
    }
    p->iface.lpVtbl = &g_prop_vtbl;
    p->refs = 1;
    p->def = def;
    make_value(def, &p->value);
    g_live++;
    *pp = &p->iface;
    return S_OK;
}

/* ------------------------------------------------------------------------ */
/* IAppHostPropertyCollection, IAppHostElementCollection, IAppHostElement    */
/* ------------------------------------------------------------------------ */

typedef struct PropColl {
    IAppHostPropertyCollection iface;
    LONG refs;
    const ElemDef *def;
} PropColl;

typedef struct ElemColl {
    IAppHostElementCollection iface;
    LONG refs;
    const ElemDef *def;
} ElemColl;

typedef struct Elem {
    IAppHostElement iface;
    LONG refs;
    const ElemDef *def;
} Elem;

static HRESULT new_elem(const ElemDef *def, IAppHostElement **pp);

static ULONG PropColl_AddRef(IAppHostPropertyCollection *This)
{
    return (ULONG)++((PropColl *)This)->refs;
}

static ULONG PropColl_Release(IAppHostPropertyCollection *This)
{
    PropColl *c = (PropColl *)This;
    LONG n = --c->refs;
    if (n == 0) {
        free(c);
        g_live--;
    }
    return (ULONG)n;
}

static HRESULT PropColl_get_Count(IAppHostPropertyCollection *This, DWORD *pcCount)
{
    *pcCount = (DWORD)((PropColl *)This)->def->nprops;
    return S_OK;
}

static HRESULT PropColl_get_Item(IAppHostPropertyCollection *This, VARIANT cIndex,
                                 IAppHostProperty **ppProperty)
{
    const ElemDef *def = ((PropColl *)This)->def;
    int i;
    HRESULT hr = index_of(cIndex, def->nprops, &i);
    return FAILED(hr) ? hr : new_prop(&def->props[i], ppProperty);
}

static const IAppHostPropertyCollectionVtbl g_propcoll_vtbl = {
    .AddRef = PropColl_AddRef,
    .Release = PropColl_Release,
    .get_Count = PropColl_get_Count,
    .get_Item = PropColl_get_Item,
};

static ULONG ElemColl_AddRef(IAppHostElementCollection *This)
{
    return (ULONG)++((ElemColl *)This)->refs;
}

static ULONG ElemColl_Release(IAppHostElementCollection *This)
{
    ElemColl *c = (ElemColl *)This;
    LONG n = --c->refs;
    if (n == 0) {
        free(c);
        g_live--;
    }
    return (ULONG)n;
}

static HRESULT ElemColl_get_Count(IAppHostElementCollection *This, DWORD *pcElementCount)
{
    *pcElementCount = (DWORD)((ElemColl *)This)->def->nitems;
    return S_OK;
}

static HRESULT ElemColl_get_Item(IAppHostElementCollection *This, VARIANT cIndex, IAppHostElement **ppElement)
{
    const ElemDef *def = ((ElemColl *)This)->def;
    int i;
    HRESULT hr = index_of(cIndex, def->nitems, &i);
    return FAILED(hr) ? hr : new_elem(def->items[i], ppElement);
}

static const IAppHostElementCollectionVtbl g_elemcoll_vtbl = {
    .AddRef = ElemColl_AddRef,
    .Release = ElemColl_Release,
    .get_Count = ElemColl_get_Count,
    .get_Item = ElemColl_get_Item,
};

static ULONG Elem_AddRef(IAppHostElement *This)
{
    return (ULONG)++((Elem *)This)->refs;
}

static ULONG Elem_Release(IAppHostElement *This)
{
    Elem *e = (Elem *)This;
    LONG n = --e->refs;
    if (n == 0) {
        free(e);
        g_live--;
    }
    return (ULONG)n;
}

static HRESULT Elem_QueryInterface(IAppHostElement *This, REFIID riid, void **ppv)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IAppHostElement)) {
        *ppv = This;
        Elem_AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static HRESULT Elem_get_Name(IAppHostElement *This, BSTR *pbstrName)
{
    *pbstrName = SysAllocString(((Elem *)This)->def->name);
    return *pbstrName ? S_OK : E_OUTOFMEMORY;
}

static HRESULT Elem_get_Collection(IAppHostElement *This, IAppHostElementCollection **ppCollection)
{
    ElemColl *c;
    if (((Elem *)This)->def->nitems == 0) {
        *ppCollection = NULL;
        return E_NOTIMPL;
    }
    c = (ElemColl *)calloc(1, sizeof *c);
    if (c == NULL) {
        return E_OUTOFMEMORY;
    }
    c->iface.lpVtbl = &g_elemcoll_vtbl;
    c->refs = 1;
    c->def = ((Elem *)This)->def;
    g_live++;
    *ppCollection = &c->iface;
    return S_OK;
}

static HRESULT Elem_get_Properties(IAppHostElement *This, IAppHostPropertyCollection **ppProperties)
{
    PropColl *c = (PropColl *)calloc(1, sizeof *c);
    if (c == NULL) {
        return E_OUTOFMEMORY;
    }
    c->iface.lpVtbl = &g_propcoll_vtbl;
    c->refs = 1;
    c->def = ((Elem *)This)->def;
    g_live++;
    *ppProperties = &c->iface;
    return S_OK;
}

static HRESULT Elem_GetElementByName(IAppHostElement *This, BSTR bstrSubName, IAppHostElement **ppElement)
{
    const ElemDef *def = ((Elem *)This)->def;
    int i;
    note_bstr(bstrSubName);
    *ppElement = NULL;
    for (i = 0; i < def->nchildren; i++) {
        if (bstrSubName != NULL && wcscmp(def->children[i]->name, bstrSubName) == 0) {
            return new_elem(def->children[i], ppElement);
        }
    }
    return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
}

static HRESULT Elem_GetPropertyByName(IAppHostElement *This, BSTR bstrSubName, IAppHostProperty **ppProperty)
{
    const ElemDef *def = ((Elem *)This)->def;
    int i;
    note_bstr(bstrSubName);
    *ppProperty = NULL;
    for (i = 0; i < def->nprops; i++) {
        if (bstrSubName != NULL && wcscmp(def->props[i].name, bstrSubName) == 0) {
            return new_prop(&def->props[i], ppProperty);
        }
    }
    return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
}

static const IAppHostElementVtbl g_elem_vtbl = {
    .QueryInterface = Elem_QueryInterface,
    .AddRef = Elem_AddRef,
    .Release = Elem_Release,
    .get_Name = Elem_get_Name,
    .get_Collection = Elem_get_Collection,
    .get_Properties = Elem_get_Properties,
    .GetElementByName = Elem_GetElementByName,
    .GetPropertyByName = Elem_GetPropertyByName,
};

static HRESULT new_elem(const ElemDef *def, IAppHostElement **pp)
{
    Elem *e = (Elem *)calloc(1, sizeof *e);
    if (e == NULL) {
        return E_OUTOFMEMORY;
    }
    e->iface.lpVtbl = &g_elem_vtbl;
    e->refs = 1;
    e->def = def;
    g_live++;
    *pp = &e->iface;
    return S_OK;
}

/* ------------------------------------------------------------------------ */
/* IAppHostAdminManager (a static object owned by the "server")            */
/* ------------------------------------------------------------------------ */

static LONG g_mgr_refs = 1;
static int g_sections_opened;

static HRESULT Mgr_QueryInterface(IAppHostAdminManager *This, REFIID riid, void **ppv)
{
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IAppHostAdminManager)) {
        *ppv = This;
        g_mgr_refs++;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG Mgr_AddRef(IAppHostAdminManager *This)
{
    (void)This;
    return (ULONG)++g_mgr_refs;
}

static ULONG Mgr_Release(IAppHostAdminManager *This)
{
    (void)This;
    return (ULONG)--g_mgr_refs;
}

static HRESULT Mgr_GetAdminSection(IAppHostAdminManager *This, BSTR bstrSectionName, BSTR bstrPath,
                                   IAppHostElement **ppAdminSection)
{
    (void)This;
    note_bstr(bstrSectionName);
    note_bstr(bstrPath);
    *ppAdminSection = NULL;
    if (bstrPath != NULL) {
        wcsncpy(g_last_path, bstrPath, sizeof g_last_path / sizeof g_last_path[0] - 1);
    }
    if (bstrSectionName == NULL || wcscmp(bstrSectionName, L"system.webServer/iisdTest") != 0) {
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    }
    g_sections_opened++;
    return new_elem(&k_section, ppAdminSection);
}

static const IAppHostAdminManagerVtbl g_mgr_vtbl = {
    .QueryInterface = Mgr_QueryInterface,
    .AddRef = Mgr_AddRef,
    .Release = Mgr_Release,
    .GetAdminSection = Mgr_GetAdminSection,
};
static IAppHostAdminManager g_mgr = {&g_mgr_vtbl};

/* ------------------------------------------------------------------------ */
/* IHttpServer and IHttpModuleRegistrationInfo (only what RegisterModule uses) */
/* ------------------------------------------------------------------------ */

static IAppHostAdminManager *Server_GetAdminManager(IHttpServer *This)
{
    (void)This;
    return &g_mgr;
}

static const IHttpServerVtbl g_server_vtbl = {.GetAdminManager = Server_GetAdminManager};
static IHttpServer g_server = {&g_server_vtbl};

static IHttpModuleFactory *g_factory;
static DWORD g_request_mask;

static HRESULT Reg_SetRequestNotifications(IHttpModuleRegistrationInfo *This,
                                           IHttpModuleFactory *pModuleFactory, DWORD dwRequestNotifications,
                                           DWORD dwPostRequestNotifications)
{
    (void)This;
    (void)dwPostRequestNotifications;
    g_factory = pModuleFactory;
    g_request_mask = dwRequestNotifications;
    return S_OK;
}

static const IHttpModuleRegistrationInfoVtbl g_reg_vtbl = {.SetRequestNotifications =
                                                               Reg_SetRequestNotifications};
static IHttpModuleRegistrationInfo g_reg = {&g_reg_vtbl};

/* ------------------------------------------------------------------------ */

typedef int (*ReadConfigFn)(IAppHostAdminManager *, const wchar_t *, char *, size_t);

int main(int argc, char **argv)
{
    void *lib;
    PFN_REGISTERMODULE reg_fn = NULL;
    ReadConfigFn read_fn = NULL;
    char report[512];
    HRESULT hr;
    const char *want = "enabled=1 maxItems=42 mode=2 timeout=30 props=4 greeting=h\xc3\xa9llo w\xc3\xb6rld "
                       "\xe2\x9c\x93 headers=X-A:1,X-B:tw\xc3\xb6";

    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE.so\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    check(lib != NULL, "dlopen the module");
    if (lib == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    *(void **)&reg_fn = dlsym(lib, MODULE_REGISTERMODULE);
    *(void **)&read_fn = dlsym(lib, "IisdTestReadConfig");
    check(reg_fn != NULL && read_fn != NULL, "RegisterModule and IisdTestReadConfig are exported");
    if (reg_fn == NULL || read_fn == NULL) {
        return 1;
    }

    /* RegisterModule reads the server-wide configuration through IHttpServer::GetAdminManager. */
    hr = reg_fn(12, &g_reg, &g_server);
    check(hr == S_OK, "RegisterModule succeeds");
    check(g_sections_opened == 1 && wcscmp(g_last_path, L"MACHINE/WEBROOT/APPHOST") == 0,
          "RegisterModule opened system.webServer/iisdTest at MACHINE/WEBROOT/APPHOST");
    check(g_factory != NULL && g_request_mask == RQ_BEGIN_REQUEST,
          "enabled=true (a VT_BOOL read from C) made it register for RQ_BEGIN_REQUEST");
    check(g_live == 0, "RegisterModule released every configuration object");

    /* The same reader for a site path, summarised by the module. */
    read_fn(&g_mgr, L"MACHINE/WEBROOT/APPHOST/Default Web Site/app", report, sizeof report);
    printf("# module read: %s\n", report);
    check(strcmp(report, want) == 0,
          "the module read bool, uint, int, text->int64, UTF-8 text, the property count and the collection");
    check(wcscmp(g_last_path, L"MACHINE/WEBROOT/APPHOST/Default Web Site/app") == 0,
          "the configuration path arrives as a BSTR");
    check(g_bad_bstr == 0, "every BSTR argument had a valid length prefix");
    check(g_bad_index == 0, "collection indexes arrived as integer VARIANTs (by value)");
    check(g_live == 0, "no configuration object is left alive (every one was Released)");
    check(g_mgr_refs == 1, "the admin manager's references are balanced");

    if (g_factory != NULL) {
        g_factory->lpVtbl->Terminate(g_factory);
    }
    dlclose(lib);
    printf("%d failure(s)\n", g_failures);
    return g_failures != 0;
}
