/*
 * The AppHost administration API (src/pipeline/adminapi.c), driven through
 * the C binding of include/ahadmin.h the way a C module does, over a
 * configuration built in memory (schema, applicationHost.config text and
 * web.config files in a temporary folder). The generation is installed with
 * iisd_adminapi_set_fallback_conf(), so no server runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include <ahadmin.h>
#include "config/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "pipeline/adminapi.h"
#include "pipeline/server.h"

static const char schema_xml[] =
    "<configSchema>\n"
    " <sectionSchema name='system.webServer/testSection'>\n"
    "  <attribute name='greeting' type='string' defaultValue='hello'/>\n"
    "  <attribute name='count' type='uint' defaultValue='1'/>\n"
    "  <attribute name='enabled' type='bool' defaultValue='true'/>\n"
    "  <attribute name='level' type='enum' defaultValue='medium'>\n"
    "   <enum name='low' value='0'/><enum name='medium' value='1'/><enum name='high' value='2'/>\n"
    "  </attribute>\n"
    "  <attribute name='offset' type='int' defaultValue='-5'/>\n"
    "  <attribute name='big' type='int64' defaultValue='5000000000'/>\n"
    "  <attribute name='showFlags' type='flags' defaultValue='Date, Time'>\n"
    "   <flag name='None' value='0'/><flag name='Date' value='2'/><flag name='Time' value='4'/>\n"
    "   <flag name='Size' value='8'/>\n"
    "  </attribute>\n"
    "  <attribute name='timeout' type='timeSpan' defaultValue='00:02:00'/>\n"
    "  <attribute name='home' type='string' expanded='true' defaultValue='%IISD_TEST_ROOT%/home'/>\n"
    "  <attribute name='noDefault' type='uint'/>\n"
    "  <attribute name='small' type='uint' defaultValue='5' validationType='integerRange' "
    "validationParameter='1,10'/>\n"
    "  <element name='limits'>\n"
    "   <attribute name='maxItems' type='uint' defaultValue='10'/>\n"
    "  </element>\n"
    "  <element name='extra'>\n"
    "   <attribute name='note' type='string'/>\n"
    "  </element>\n"
    "  <collection addElement='add' removeElement='remove' clearElement='clear'>\n"
    "   <attribute name='name' type='string' required='true' isUniqueKey='true'/>\n"
    "   <attribute name='value' type='string' defaultValue=''/>\n"
    "  </collection>\n"
    " </sectionSchema>\n"
    " <sectionSchema name='system.webServer/plain'>\n"
    "  <attribute name='on' type='bool'/>\n"
    " </sectionSchema>\n"
    "</configSchema>\n";

static const char apphost_xml[] =
    "<configuration>\n"
    " <configSections>\n"
    "  <sectionGroup name='system.webServer'>\n"
    "   <section name='testSection' overrideModeDefault='Allow'/>\n"
    "   <section name='plain' overrideModeDefault='Allow'/>\n"
    "   <section name='orphan' overrideModeDefault='Allow'/>\n" /* registered, but no schema */
    "  </sectionGroup>\n"
    " </configSections>\n"
    " <system.webServer>\n"
    "  <testSection greeting='h\xc3\xa9llo w\xc3\xb6rld' count='42' enabled='false' level='High'\n"
    "               timeout='1.00:00:30' showFlags='Date, Size' big='-9000000000'>\n"
    "   <limits maxItems='7'/>\n"
    "   <add name='a' value='1'/>\n"
    "   <add name='b' value='2'/>\n"
    "  </testSection>\n"
    " </system.webServer>\n"
    " <location path='Site/app'>\n"
    "  <system.webServer><testSection offset='12'><add name='c' "
    "value='3'/></testSection></system.webServer>\n"
    " </location>\n"
    "</configuration>\n";

static iisd_schema_t schema;
static char root[256];
static char log_path[300];
static char apphost_path[300];
static iisd_conf_t *conf; /* the installed generation (the fallback holds the reference) */

static char *folder(void *ctx, const char *path)
{
    (void)ctx;
    if (strncmp(path, "Site", 4) != 0 || (path[4] != '\0' && path[4] != '/'))
        return NULL;
    char *out = malloc(512);
    snprintf(out, 512, "%s%s", root, path + 4);
    return out;
}

static bool is_application(void *ctx, const char *path)
{
    (void)ctx;
    return strcmp(path, "Site") == 0 || strcmp(path, "Site/app") == 0;
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The configuration of apphost_xml, or (path != NULL) of that file. */
static iisd_cfg_t *load(const char *path)
{
    static const char *const vars[] = {"IISD_TEST_ROOT", "/srv/iisd", NULL};
    iisd_cfg_opts_t o = {.apphost_path = path,
                         .apphost_text = apphost_xml,
                         .apphost_len = sizeof(apphost_xml) - 1,
                         .schema = &schema,
                         .vars = vars};
    iisd_cfg_error_t err;
    iisd_cfg_t *cfg = iisd_cfg_load(&o, &err);
    if (cfg == NULL)
        fail_msg("load failed: %s:%u: %s", err.file, err.line, err.message);
    iisd_cfg_mapper_t m = {.folder = folder, .is_application = is_application};
    iisd_cfg_set_mapper(cfg, &m);
    return cfg;
}

/* Site "Site": one application "/", one virtual directory "/" in the test folder (for CommitChanges). */
static void add_site(iisd_sites_t *s)
{
    s->v = iisd_xcalloc(1, sizeof(*s->v));
    s->n = 1;
    iisd_sitedef_t *d = &s->v[0];
    d->id = 1;
    d->name = iisd_xstrdup("Site");
    d->apps = iisd_xcalloc(1, sizeof(*d->apps));
    d->napps = 1;
    iisd_app_t *a = &d->apps[0];
    a->path = iisd_xstrdup("/");
    a->pool = iisd_xstrdup("DefaultAppPool");
    a->config_path = iisd_xstrdup("MACHINE/WEBROOT/APPHOST/Site");
    a->vdirs = iisd_xcalloc(1, sizeof(*a->vdirs));
    a->nvdirs = 1;
    a->vdirs[0].path = iisd_xstrdup("/");
    a->vdirs[0].phys = iisd_xstrdup(root);
    a->vdirs[0].allow_subdir_config = true;
}

/* A generation around a freshly loaded configuration, installed for GetAdminSection. */
static iisd_conf_t *install(void)
{
    iisd_conf_t *c = iisd_xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->cfg = load(NULL);
    c->file = iisd_xstrdup(apphost_path); /* where CommitChanges writes APPHOST changes */
    add_site(&c->sites);
    iisd_adminapi_set_fallback_conf(c);
    iisd_conf_unref(c); /* the fallback holds it now */
    return c;
}

static int setup(void **state)
{
    (void)state;
    char err[512];
    if (iisd_schema_load_memory(&schema, "test_schema.xml", schema_xml, sizeof(schema_xml) - 1, err,
                                sizeof(err)) < 0)
        fail_msg("%s", err);
    snprintf(root, sizeof(root), "/tmp/iisd-test-adminapi-%d", (int)getpid());
    mkdir(root, 0755);
    write_file("app/web.config", "<configuration><system.webServer>\n"
                                 " <testSection greeting='from app'/>\n"
                                 "</system.webServer></configuration>\n");
    write_file("broken/web.config", "<configuration><system.webServer>\n<testSection>\n</configuration>\n");
    write_file("badvalue/web.config", "<configuration><system.webServer>\n"
                                      " <testSection level='extreme'/>\n"
                                      "</system.webServer></configuration>\n");
    snprintf(log_path, sizeof(log_path), "%s/error.log", root);
    snprintf(apphost_path, sizeof(apphost_path), "%s/applicationHost.config", root);
    assert_int_equal(iisd_log_open(log_path), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
    iisd_schema_free(&schema);
    return 0;
}

static int before(void **state)
{
    (void)state;
    conf = install();
    return 0;
}

static int after(void **state)
{
    (void)state;
    /* every object of the test was released: only the fallback holds the generation */
    assert_int_equal(conf->refs, 1);
    iisd_adminapi_set_fallback_conf(NULL);
    conf = NULL;
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

static IAppHostAdminManager *manager(void)
{
    return iisd_admin_manager();
}

static HRESULT get_section(const wchar_t *section, const wchar_t *path, IAppHostElement **out)
{
    BSTR s = SysAllocString(section);
    BSTR p = SysAllocString(path);
    IAppHostAdminManager *m = manager();
    *out = (IAppHostElement *)(uintptr_t)1; /* must be overwritten */
    HRESULT hr = m->lpVtbl->GetAdminSection(m, s, p, out);
    SysFreeString(s);
    SysFreeString(p);
    return hr;
}

static IAppHostElement *section_at(const wchar_t *path)
{
    IAppHostElement *e;
    HRESULT hr = get_section(L"system.webServer/testSection", path, &e);
    if (FAILED(hr))
        fail_msg("GetAdminSection: 0x%08x", (unsigned)hr);
    assert_non_null(e);
    return e;
}

/* Checks and frees a BSTR. */
static void check_bstr(BSTR b, const wchar_t *want)
{
    assert_non_null(b);
    if (wcscmp(b, want) != 0)
        fail_msg("got \"%ls\", want \"%ls\"", b, want);
    assert_int_equal(SysStringLen(b), wcslen(want));
    SysFreeString(b);
}

static IAppHostProperty *property(IAppHostElement *e, const wchar_t *name)
{
    BSTR n = SysAllocString(name);
    IAppHostProperty *p = NULL;
    HRESULT hr = e->lpVtbl->GetPropertyByName(e, n, &p);
    SysFreeString(n);
    if (FAILED(hr))
        fail_msg("GetPropertyByName(%ls): 0x%08x", name, (unsigned)hr);
    assert_non_null(p);
    return p;
}

static VARIANT value_of(IAppHostElement *e, const wchar_t *name)
{
    IAppHostProperty *p = property(e, name);
    VARIANT v;
    VariantInit(&v);
    assert_int_equal(p->lpVtbl->get_Value(p, &v), S_OK);
    p->lpVtbl->Release(p);
    return v;
}

static void check_string_value(IAppHostElement *e, const wchar_t *name, const wchar_t *want)
{
    IAppHostProperty *p = property(e, name);
    BSTR b = NULL;
    assert_int_equal(p->lpVtbl->get_StringValue(p, &b), S_OK);
    check_bstr(b, want);
    p->lpVtbl->Release(p);
}

static VARIANT i4(LONG n)
{
    VARIANT v;
    VariantInit(&v);
    v.vt = VT_I4;
    v.lVal = n;
    return v;
}

static IAppHostElement *child(IAppHostElement *e, const wchar_t *name)
{
    BSTR n = SysAllocString(name);
    IAppHostElement *k = NULL;
    HRESULT hr = e->lpVtbl->GetElementByName(e, n, &k);
    SysFreeString(n);
    if (FAILED(hr))
        fail_msg("GetElementByName(%ls): 0x%08x", name, (unsigned)hr);
    return k;
}

/* ---- the manager ---------------------------------------------------------------------------- */

static void test_manager_is_static_and_answers_both_interfaces(void **state)
{
    (void)state;
    IAppHostAdminManager *m = manager();
    IHttpServer *srv = iisd_http_server();
    assert_ptr_equal(srv->lpVtbl->GetAdminManager(srv), m);
    void *p = NULL;
    assert_int_equal(m->lpVtbl->QueryInterface(m, &IID_IUnknown, &p), S_OK);
    assert_ptr_equal(p, m);
    assert_int_equal(m->lpVtbl->QueryInterface(m, &IID_IAppHostAdminManager, &p), S_OK);
    assert_ptr_equal(p, m);
    IAppHostWritableAdminManager *w = NULL;
    assert_int_equal(m->lpVtbl->QueryInterface(m, &IID_IAppHostWritableAdminManager, (void **)&w), S_OK);
    assert_ptr_equal(w, m);
    assert_int_equal(w->lpVtbl->QueryInterface(w, &IID_IAppHostAdminManager, &p), S_OK);
    assert_ptr_equal(p, m);
    p = (void *)1;
    assert_int_equal(m->lpVtbl->QueryInterface(m, &IID_IAppHostElement, &p), E_NOINTERFACE);
    assert_null(p);
    /* AddRef/Release do nothing: releasing more than was taken is harmless */
    for (int i = 0; i < 5; i++)
        m->lpVtbl->Release(m);
    m->lpVtbl->AddRef(m);

    /* the commit path: APPHOST by default; put_CommitPath keeps APPHOST paths only */
    BSTR b = NULL;
    assert_int_equal(w->lpVtbl->get_CommitPath(w, &b), S_OK);
    check_bstr(b, L"MACHINE/WEBROOT/APPHOST");
    b = SysAllocString(L"MACHINE/WEBROOT/APPHOST/Site/app");
    assert_int_equal(w->lpVtbl->put_CommitPath(w, b), S_OK);
    SysFreeString(b);
    b = SysAllocString(L"MACHINE/WEBROOT");
    assert_int_equal(w->lpVtbl->put_CommitPath(w, b), HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    SysFreeString(b);
    assert_int_equal(w->lpVtbl->get_CommitPath(w, &b), S_OK);
    check_bstr(b, L"MACHINE/WEBROOT/APPHOST/Site/app");
    assert_int_equal(w->lpVtbl->CommitChanges(w), S_OK); /* nothing to write */
    b = SysAllocString(L"MACHINE/WEBROOT/APPHOST");
    assert_int_equal(w->lpVtbl->put_CommitPath(w, b), S_OK);
    SysFreeString(b);

    VARIANT v = i4(5);
    assert_int_equal(m->lpVtbl->GetMetadata(m, NULL, &v), E_NOTIMPL);
    assert_int_equal(v.vt, VT_EMPTY);
    IAppHostConfigManager *cm = (IAppHostConfigManager *)(uintptr_t)1;
    assert_int_equal(m->lpVtbl->get_ConfigManager(m, &cm), E_NOTIMPL);
    assert_null(cm);
}

/* ---- values ------------------------------------------------------------------------------------ */

static void test_values_of_every_type(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    BSTR name = NULL;
    assert_int_equal(s->lpVtbl->get_Name(s, &name), S_OK);
    check_bstr(name, L"system.webServer/testSection");

    VARIANT v = value_of(s, L"greeting");
    assert_int_equal(v.vt, VT_BSTR);
    check_bstr(v.bstrVal, L"h\u00e9llo w\u00f6rld"); /* frees the BSTR */
    v = value_of(s, L"count");
    assert_int_equal(v.vt, VT_UI4);
    assert_int_equal(v.ulVal, 42);
    v = value_of(s, L"enabled");
    assert_int_equal(v.vt, VT_BOOL);
    assert_int_equal(v.boolVal, VARIANT_FALSE);
    v = value_of(s, L"level");
    assert_int_equal(v.vt, VT_I4);
    assert_int_equal(v.lVal, 2);
    v = value_of(s, L"offset");
    assert_int_equal(v.vt, VT_I4);
    assert_int_equal(v.lVal, -5);
    v = value_of(s, L"big");
    assert_int_equal(v.vt, VT_I8);
    assert_true(v.llVal == -9000000000LL);
    v = value_of(s, L"showFlags");
    assert_int_equal(v.vt, VT_I4);
    assert_int_equal(v.lVal, 2 | 8);
    v = value_of(s, L"timeout"); /* 1 day 30 s, in 100-ns ticks */
    assert_int_equal(v.vt, VT_I8);
    assert_true(v.llVal == (86400LL + 30) * 1000 * 10000);
    v = value_of(s, L"home");
    assert_int_equal(v.vt, VT_BSTR);
    check_bstr(v.bstrVal, L"/srv/iisd/home");
    v = value_of(s, L"noDefault");
    assert_int_equal(v.vt, VT_UI4);
    assert_int_equal(v.ulVal, 0);

    /* the text as written; enum names as the schema spells them */
    check_string_value(s, L"greeting", L"h\u00e9llo w\u00f6rld");
    check_string_value(s, L"count", L"42");
    check_string_value(s, L"enabled", L"false");
    check_string_value(s, L"level", L"high");
    check_string_value(s, L"offset", L"-5");
    check_string_value(s, L"showFlags", L"Date, Size");
    check_string_value(s, L"timeout", L"1.00:00:30");
    check_string_value(s, L"noDefault", L"0");

    /* a bool VARIANT of VariantChangeType works on it as on any VARIANT */
    v = value_of(s, L"enabled");
    VARIANT t;
    VariantInit(&t);
    assert_int_equal(VariantChangeType(&t, &v, VARIANT_ALPHABOOL, VT_BSTR), S_OK);
    check_bstr(t.bstrVal, L"False");

    IAppHostProperty *p = property(s, L"count");
    name = NULL;
    assert_int_equal(p->lpVtbl->get_Name(p, &name), S_OK);
    check_bstr(name, L"count");
    IAppHostPropertyException *ex = (IAppHostPropertyException *)(uintptr_t)1;
    assert_int_equal(p->lpVtbl->get_Exception(p, &ex), S_OK);
    assert_null(ex);
    IAppHostPropertySchema *ps = (IAppHostPropertySchema *)(uintptr_t)1;
    assert_int_equal(p->lpVtbl->get_Schema(p, &ps), E_NOTIMPL);
    assert_null(ps);
    p->lpVtbl->Release(p);

    /* unknown attribute */
    BSTR n = SysAllocString(L"nope");
    p = (IAppHostProperty *)(uintptr_t)1;
    assert_int_equal(s->lpVtbl->GetPropertyByName(s, n, &p), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    assert_null(p);
    SysFreeString(n);
    n = SysAllocString(L"Count"); /* attribute names are case-sensitive, as in the files */
    assert_int_equal(s->lpVtbl->GetPropertyByName(s, n, &p), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    SysFreeString(n);

    s->lpVtbl->Release(s);
}

static void test_paths_merge_and_match_case_insensitively(void **state)
{
    (void)state;
    static const wchar_t *const paths[] = {L"MACHINE/WEBROOT/APPHOST/Site/app",
                                           L"machine/webroot/apphost/site/APP/",
                                           L"MACHINE/WEBROOT/APPHOST/Site/app/deeper/page.htm"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        IAppHostElement *s = section_at(paths[i]);
        VARIANT v = value_of(s, L"greeting");
        check_bstr(v.bstrVal, L"from app");
        v = value_of(s, L"offset");
        assert_int_equal(v.lVal, 12);
        v = value_of(s, L"count");
        assert_int_equal(v.ulVal, 42);
        IAppHostElementCollection *c = NULL;
        assert_int_equal(s->lpVtbl->get_Collection(s, &c), S_OK);
        DWORD n = 0;
        assert_int_equal(c->lpVtbl->get_Count(c, &n), S_OK);
        assert_int_equal(n, 3);
        c->lpVtbl->Release(c);
        s->lpVtbl->Release(s);
    }
    /* the site level does not see the application's settings */
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST/Site");
    VARIANT v = value_of(s, L"offset");
    assert_int_equal(v.lVal, -5);
    s->lpVtbl->Release(s);

    IAppHostElement *e;
    assert_int_equal(get_section(L"system.webServer/testSection", L"MACHINE/WEBROOT", &e),
                     HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    assert_null(e);
    assert_int_equal(get_section(L"system.webServer/testSection", L"MACHINE/WEBROOT/APPHOSTX", &e),
                     HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    assert_int_equal(get_section(L"system.webServer/testSection", NULL, &e),
                     HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    assert_int_equal(get_section(L"", L"MACHINE/WEBROOT/APPHOST", &e),
                     HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    assert_null(e);
}

/* ---- collections and child elements --------------------------------------------------------------- */

static void check_item(IAppHostElementCollection *c, VARIANT index, const wchar_t *want_name)
{
    IAppHostElement *item = NULL;
    HRESULT hr = c->lpVtbl->get_Item(c, index, &item);
    if (hr != S_OK)
        fail_msg("get_Item(vt %u): 0x%08x", (unsigned)index.vt, (unsigned)hr);
    BSTR tag = NULL;
    assert_int_equal(item->lpVtbl->get_Name(item, &tag), S_OK);
    check_bstr(tag, L"add");
    VARIANT v = value_of(item, L"name");
    check_bstr(v.bstrVal, want_name);
    item->lpVtbl->Release(item);
}

static void test_collection_items_by_every_integer_type(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/app");
    IAppHostElementCollection *c = NULL;
    assert_int_equal(s->lpVtbl->get_Collection(s, &c), S_OK);
    s->lpVtbl->Release(s); /* the collection keeps what it needs */
    DWORD n = 0;
    assert_int_equal(c->lpVtbl->get_Count(c, &n), S_OK);
    assert_int_equal(n, 3);

    VARIANT v;
    VariantInit(&v);
    v.vt = VT_I2;
    v.iVal = 0;
    check_item(c, v, L"a");
    v.vt = VT_I4;
    v.lVal = 1;
    check_item(c, v, L"b");
    v.vt = VT_UI4;
    v.ulVal = 2;
    check_item(c, v, L"c");
    v.vt = VT_INT;
    v.intVal = 0;
    check_item(c, v, L"a");
    v.vt = VT_UINT;
    v.uintVal = 1;
    check_item(c, v, L"b");
    v.vt = VT_I8;
    v.llVal = 2;
    check_item(c, v, L"c");
    v.vt = VT_UI8;
    v.ullVal = 0;
    check_item(c, v, L"a");
    v.vt = VT_UI1;
    v.bVal = 1;
    check_item(c, v, L"b");

    IAppHostElement *item = (IAppHostElement *)(uintptr_t)1;
    assert_int_equal(c->lpVtbl->get_Item(c, i4(3), &item), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    assert_null(item);
    assert_int_equal(c->lpVtbl->get_Item(c, i4(-1), &item), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    v.vt = VT_UI8;
    v.ullVal = 0x100000000ULL;
    assert_int_equal(c->lpVtbl->get_Item(c, v, &item), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    v.vt = VT_BSTR;
    v.bstrVal = SysAllocString(L"a");
    assert_int_equal(c->lpVtbl->get_Item(c, v, &item), E_INVALIDARG);
    VariantClear(&v);
    assert_null(item);

    /* the write methods are not implemented */
    assert_int_equal(c->lpVtbl->Clear(c), E_NOTIMPL);
    assert_int_equal(c->lpVtbl->DeleteElement(c, i4(0)), E_NOTIMPL);
    assert_int_equal(c->lpVtbl->CreateNewElement(c, NULL, &item), E_NOTIMPL);
    assert_null(item);
    c->lpVtbl->Release(c);

    /* a section whose schema has no collection */
    IAppHostElement *plain;
    assert_int_equal(get_section(L"system.webServer/plain", L"MACHINE/WEBROOT/APPHOST", &plain), S_OK);
    c = (IAppHostElementCollection *)(uintptr_t)1;
    assert_int_equal(plain->lpVtbl->get_Collection(plain, &c), HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));
    assert_null(c);
    VARIANT on = value_of(plain, L"on"); /* bool without a default */
    assert_int_equal(on.vt, VT_BOOL);
    assert_int_equal(on.boolVal, VARIANT_FALSE);
    check_string_value(plain, L"on", L"false");
    plain->lpVtbl->Release(plain);
}

static void test_child_elements(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    IAppHostElement *limits = child(s, L"limits");
    BSTR name = NULL;
    assert_int_equal(limits->lpVtbl->get_Name(limits, &name), S_OK);
    check_bstr(name, L"limits");
    VARIANT v = value_of(limits, L"maxItems");
    assert_int_equal(v.vt, VT_UI4);
    assert_int_equal(v.ulVal, 7);
    IAppHostElementCollection *c = (IAppHostElementCollection *)(uintptr_t)1;
    assert_int_equal(limits->lpVtbl->get_Collection(limits, &c), HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));
    assert_null(c);
    limits->lpVtbl->Release(limits);

    /* a child element no file sets: schema defaults */
    IAppHostElement *extra = child(s, L"extra");
    v = value_of(extra, L"note");
    check_bstr(v.bstrVal, L"");
    extra->lpVtbl->Release(extra);

    BSTR n = SysAllocString(L"missing");
    IAppHostElement *e = (IAppHostElement *)(uintptr_t)1;
    assert_int_equal(s->lpVtbl->GetElementByName(s, n, &e), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    assert_null(e);
    SysFreeString(n);

    IAppHostChildElementCollection *kids = NULL;
    assert_int_equal(s->lpVtbl->get_ChildElements(s, &kids), S_OK);
    DWORD count = 0;
    assert_int_equal(kids->lpVtbl->get_Count(kids, &count), S_OK);
    assert_int_equal(count, 2);
    assert_int_equal(kids->lpVtbl->get_Item(kids, i4(1), &e), S_OK);
    assert_int_equal(e->lpVtbl->get_Name(e, &name), S_OK);
    check_bstr(name, L"extra");
    e->lpVtbl->Release(e);
    VARIANT byname;
    VariantInit(&byname);
    byname.vt = VT_BSTR;
    byname.bstrVal = SysAllocString(L"limits");
    assert_int_equal(kids->lpVtbl->get_Item(kids, byname, &e), S_OK);
    v = value_of(e, L"maxItems");
    assert_int_equal(v.ulVal, 7);
    e->lpVtbl->Release(e);
    VariantClear(&byname);
    byname.vt = VT_BSTR;
    byname.bstrVal = SysAllocString(L"nothing");
    assert_int_equal(kids->lpVtbl->get_Item(kids, byname, &e), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    assert_null(e);
    VariantClear(&byname);
    assert_int_equal(kids->lpVtbl->get_Item(kids, i4(2), &e), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    kids->lpVtbl->Release(kids);
    s->lpVtbl->Release(s);
}

static void test_property_collection_by_index_and_name(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    IAppHostPropertyCollection *props = NULL;
    assert_int_equal(s->lpVtbl->get_Properties(s, &props), S_OK);
    s->lpVtbl->Release(s);
    DWORD n = 0;
    assert_int_equal(props->lpVtbl->get_Count(props, &n), S_OK);
    assert_int_equal(n, 11); /* every attribute of the schema */
    IAppHostProperty *p = NULL;
    assert_int_equal(props->lpVtbl->get_Item(props, i4(1), &p), S_OK);
    BSTR name = NULL;
    assert_int_equal(p->lpVtbl->get_Name(p, &name), S_OK);
    check_bstr(name, L"count");
    p->lpVtbl->Release(p);
    VARIANT idx;
    VariantInit(&idx);
    idx.vt = VT_BSTR;
    idx.bstrVal = SysAllocString(L"level");
    assert_int_equal(props->lpVtbl->get_Item(props, idx, &p), S_OK);
    VARIANT v;
    VariantInit(&v);
    assert_int_equal(p->lpVtbl->get_Value(p, &v), S_OK);
    assert_int_equal(v.vt, VT_I4);
    assert_int_equal(v.lVal, 2);
    p->lpVtbl->Release(p);
    VariantClear(&idx);
    idx.vt = VT_BSTR;
    idx.bstrVal = SysAllocString(L"unknown");
    assert_int_equal(props->lpVtbl->get_Item(props, idx, &p), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    assert_null(p);
    VariantClear(&idx);
    assert_int_equal(props->lpVtbl->get_Item(props, i4(11), &p), HRESULT_FROM_WIN32(ERROR_INVALID_INDEX));
    idx.vt = VT_R8;
    idx.dblVal = 1.0;
    assert_int_equal(props->lpVtbl->get_Item(props, idx, &p), E_INVALIDARG);
    props->lpVtbl->Release(props);
}

/* ---- errors ------------------------------------------------------------------------------------------ */

static unsigned log_lines_with(const char *needle)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return 0;
    char line[2048];
    unsigned n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void test_errors(void **state)
{
    (void)state;
    IAppHostElement *e;
    assert_int_equal(get_section(L"system.webServer/noSuchSection", L"MACHINE/WEBROOT/APPHOST", &e),
                     HRESULT_FROM_WIN32(ERROR_INVALID_DATA));
    assert_null(e);
    assert_int_equal(get_section(L"system.webServer/orphan", L"MACHINE/WEBROOT/APPHOST/Site", &e),
                     HRESULT_FROM_WIN32(ERROR_INVALID_DATA));
    /* a malformed web.config: invalid configuration at and below its folder, logged once */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            get_section(L"system.webServer/testSection", L"MACHINE/WEBROOT/APPHOST/Site/broken", &e), E_FAIL);
        assert_null(e);
    }
    assert_int_equal(get_section(L"system.webServer/plain", L"MACHINE/WEBROOT/APPHOST/Site/broken/x", &e),
                     E_FAIL);
    assert_int_equal(log_lines_with("broken/web.config"), 1);
    /* a bad value: the log names file, line and the allowed values */
    assert_int_equal(
        get_section(L"system.webServer/testSection", L"MACHINE/WEBROOT/APPHOST/Site/badvalue", &e), E_FAIL);
    assert_int_equal(log_lines_with("badvalue/web.config:2:"), 1);
    assert_int_equal(log_lines_with("low, medium, high"), 1);
    /* a sibling folder is fine */
    e = section_at(L"MACHINE/WEBROOT/APPHOST/Site/brokenx");
    e->lpVtbl->Release(e);
    /* NULL out-pointers */
    BSTR s = SysAllocString(L"system.webServer/testSection");
    BSTR p = SysAllocString(L"MACHINE/WEBROOT/APPHOST");
    IAppHostAdminManager *m = manager();
    assert_int_equal(m->lpVtbl->GetAdminSection(m, s, p, NULL), E_POINTER);
    SysFreeString(s);
    SysFreeString(p);
}

static void test_no_configuration_yet(void **state)
{
    (void)state;
    iisd_conf_ref(conf);
    iisd_adminapi_set_fallback_conf(NULL);
    IAppHostElement *e;
    assert_int_equal(get_section(L"system.webServer/testSection", L"MACHINE/WEBROOT/APPHOST", &e),
                     HRESULT_FROM_WIN32(ERROR_NOT_READY));
    assert_null(e);
    iisd_adminapi_set_fallback_conf(conf);
    iisd_conf_unref(conf);
}

/* ---- put_Value ------------------------------------------------------------------------------------------
 */

static void test_put_value_changes_this_section_object_only(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    IAppHostProperty *level = property(s, L"level");
    VARIANT v;
    VariantInit(&v);
    v.vt = VT_BSTR;
    v.bstrVal = SysAllocString(L"low");
    assert_int_equal(level->lpVtbl->put_Value(level, v), S_OK);
    VariantClear(&v);
    v = value_of(s, L"level"); /* another property object of the same section sees it */
    assert_int_equal(v.lVal, 0);
    check_string_value(s, L"level", L"low");
    assert_int_equal(level->lpVtbl->put_Value(level, i4(2)), S_OK);
    check_string_value(s, L"level", L"high");
    assert_int_equal(level->lpVtbl->put_Value(level, i4(7)), E_INVALIDARG);
    v.vt = VT_BSTR;
    v.bstrVal = SysAllocString(L"extreme");
    assert_int_equal(level->lpVtbl->put_Value(level, v), E_INVALIDARG);
    VariantClear(&v);

    IAppHostProperty *p = property(s, L"enabled");
    v.vt = VT_BOOL;
    v.boolVal = VARIANT_TRUE;
    assert_int_equal(p->lpVtbl->put_Value(p, v), S_OK);
    p->lpVtbl->Release(p);
    v = value_of(s, L"enabled");
    assert_int_equal(v.boolVal, VARIANT_TRUE);

    p = property(s, L"timeout");
    v.vt = VT_I8;
    v.llVal = 90LL * 1000 * 10000; /* 90 s */
    assert_int_equal(p->lpVtbl->put_Value(p, v), S_OK);
    p->lpVtbl->Release(p);
    check_string_value(s, L"timeout", L"00:01:30");
    v = value_of(s, L"timeout");
    assert_true(v.llVal == 90LL * 1000 * 10000);

    p = property(s, L"small"); /* integerRange 1..10 */
    assert_int_equal(p->lpVtbl->put_Value(p, i4(11)), E_INVALIDARG);
    assert_int_equal(p->lpVtbl->put_Value(p, i4(9)), S_OK);
    p->lpVtbl->Release(p);

    p = property(s, L"greeting");
    assert_int_equal(p->lpVtbl->put_Value(p, i4(17)), S_OK); /* converted to text */
    p->lpVtbl->Release(p);
    v = value_of(s, L"greeting");
    check_bstr(v.bstrVal, L"17");

    /* a new GetAdminSection reads the configuration, not the changes */
    IAppHostElement *fresh = section_at(L"MACHINE/WEBROOT/APPHOST");
    v = value_of(fresh, L"level");
    assert_int_equal(v.lVal, 2);
    v = value_of(fresh, L"greeting");
    check_bstr(v.bstrVal, L"h\u00e9llo w\u00f6rld");
    fresh->lpVtbl->Release(fresh);

    /* Clear undoes the change */
    assert_int_equal(level->lpVtbl->put_Value(level, i4(0)), S_OK);
    assert_int_equal(level->lpVtbl->Clear(level), S_OK);
    check_string_value(s, L"level", L"high");
    level->lpVtbl->Release(level);
    s->lpVtbl->Release(s);
}

/* ---- lifetime
 * ---------------------------------------------------------------------------------------------- */

static void test_query_interface_of_every_object(void **state)
{
    (void)state;
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    IUnknown *u = NULL;
    assert_int_equal(s->lpVtbl->QueryInterface(s, &IID_IUnknown, (void **)&u), S_OK);
    assert_ptr_equal(u, s);
    u->lpVtbl->Release(u);
    IAppHostElement *same = NULL;
    assert_int_equal(s->lpVtbl->QueryInterface(s, &IID_IAppHostElement, (void **)&same), S_OK);
    assert_ptr_equal(same, s);
    same->lpVtbl->Release(same);
    void *none = (void *)1;
    assert_int_equal(s->lpVtbl->QueryInterface(s, &IID_IAppHostProperty, &none), E_NOINTERFACE);
    assert_null(none);

    IAppHostProperty *p = property(s, L"count");
    assert_int_equal(p->lpVtbl->QueryInterface(p, &IID_IAppHostProperty, (void **)&u), S_OK);
    u->lpVtbl->Release(u);
    assert_int_equal(p->lpVtbl->QueryInterface(p, &IID_IAppHostElement, &none), E_NOINTERFACE);
    p->lpVtbl->Release(p);

    IAppHostElementCollection *c = NULL;
    assert_int_equal(s->lpVtbl->get_Collection(s, &c), S_OK);
    assert_int_equal(c->lpVtbl->QueryInterface(c, &IID_IAppHostElementCollection, (void **)&u), S_OK);
    u->lpVtbl->Release(u);
    assert_int_equal(c->lpVtbl->QueryInterface(c, &IID_IAppHostChildElementCollection, &none), E_NOINTERFACE);
    c->lpVtbl->Release(c);

    IAppHostPropertyCollection *pc = NULL;
    assert_int_equal(s->lpVtbl->get_Properties(s, &pc), S_OK);
    assert_int_equal(pc->lpVtbl->QueryInterface(pc, &IID_IAppHostPropertyCollection, (void **)&u), S_OK);
    u->lpVtbl->Release(u);
    assert_int_equal(pc->lpVtbl->QueryInterface(pc, &IID_IAppHostElementCollection, &none), E_NOINTERFACE);
    pc->lpVtbl->Release(pc);

    IAppHostChildElementCollection *kc = NULL;
    assert_int_equal(s->lpVtbl->get_ChildElements(s, &kc), S_OK);
    assert_int_equal(kc->lpVtbl->QueryInterface(kc, &IID_IUnknown, (void **)&u), S_OK);
    u->lpVtbl->Release(u);
    assert_int_equal(kc->lpVtbl->QueryInterface(kc, &IID_IAppHostPropertyCollection, &none), E_NOINTERFACE);
    kc->lpVtbl->Release(kc);

    /* the rest of IAppHostElement */
    VARIANT v = i4(1);
    assert_int_equal(s->lpVtbl->GetMetadata(s, NULL, &v), E_NOTIMPL);
    assert_int_equal(v.vt, VT_EMPTY);
    assert_int_equal(s->lpVtbl->Clear(s), E_NOTIMPL);
    IAppHostElementSchema *es = (IAppHostElementSchema *)(uintptr_t)1;
    assert_int_equal(s->lpVtbl->get_Schema(s, &es), E_NOTIMPL);
    assert_null(es);
    IAppHostMethodCollection *mc = (IAppHostMethodCollection *)(uintptr_t)1;
    assert_int_equal(s->lpVtbl->get_Methods(s, &mc), E_NOTIMPL);
    assert_null(mc);
    s->lpVtbl->Release(s);
}

static void test_objects_hold_the_generation_until_released(void **state)
{
    (void)state;
    assert_int_equal(conf->refs, 1);
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/app");
    assert_int_equal(conf->refs, 2); /* one for the whole section tree */
    IAppHostElementCollection *c = NULL;
    assert_int_equal(s->lpVtbl->get_Collection(s, &c), S_OK);
    IAppHostElement *item = NULL;
    assert_int_equal(c->lpVtbl->get_Item(c, i4(2), &item), S_OK);
    IAppHostProperty *p = property(item, L"value");
    assert_int_equal(s->lpVtbl->AddRef(s), 2);
    assert_int_equal(s->lpVtbl->Release(s), 1);
    assert_int_equal(conf->refs, 2);
    c->lpVtbl->Release(c);
    item->lpVtbl->Release(item);
    s->lpVtbl->Release(s);
    assert_int_equal(conf->refs, 2); /* the property still holds it */

    /* a new generation replaces this one: the property still reads the old one */
    iisd_conf_t *old = conf;
    conf = install();
    assert_int_equal(old->refs, 1);
    VARIANT v;
    VariantInit(&v);
    assert_int_equal(p->lpVtbl->get_Value(p, &v), S_OK);
    check_bstr(v.bstrVal, L"3");
    assert_int_equal(p->lpVtbl->Release(p), 0); /* frees the old generation (ASan checks) */
}

/* ---- CommitChanges ------------------------------------------------------------------------------------ */

static IAppHostWritableAdminManager *writable(void)
{
    IAppHostAdminManager *m = manager();
    IAppHostWritableAdminManager *w = NULL;
    assert_int_equal(m->lpVtbl->QueryInterface(m, &IID_IAppHostWritableAdminManager, (void **)&w), S_OK);
    return w;
}

static void set_commit_path(const wchar_t *path)
{
    IAppHostWritableAdminManager *w = writable();
    BSTR b = SysAllocString(path);
    assert_int_equal(w->lpVtbl->put_CommitPath(w, b), S_OK);
    SysFreeString(b);
    w->lpVtbl->Release(w);
}

static HRESULT commit(void)
{
    IAppHostWritableAdminManager *w = writable();
    HRESULT hr = w->lpVtbl->CommitChanges(w);
    w->lpVtbl->Release(w);
    return hr;
}

static void put(IAppHostElement *e, const wchar_t *name, VARIANT v)
{
    IAppHostProperty *p = property(e, name);
    HRESULT hr = p->lpVtbl->put_Value(p, v);
    if (hr != S_OK)
        fail_msg("put_Value(%ls): 0x%08x", name, (unsigned)hr);
    p->lpVtbl->Release(p);
}

static void put_text(IAppHostElement *e, const wchar_t *name, const wchar_t *text)
{
    VARIANT v;
    VariantInit(&v);
    v.vt = VT_BSTR;
    v.bstrVal = SysAllocString(text);
    put(e, name, v);
    VariantClear(&v);
}

static IAppHostElement *item_at(IAppHostElement *s, LONG i)
{
    IAppHostElementCollection *c = NULL;
    assert_int_equal(s->lpVtbl->get_Collection(s, &c), S_OK);
    IAppHostElement *item = NULL;
    assert_int_equal(c->lpVtbl->get_Item(c, i4(i), &item), S_OK);
    c->lpVtbl->Release(c);
    return item;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = iisd_xcalloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const iisd_celem_t *resolved(iisd_cfg_t *cfg, const char *path)
{
    const iisd_cfg_error_t *err;
    const iisd_celem_t *e = iisd_cfg_section(cfg, path, "system.webServer/testSection", &err);
    if (e == NULL)
        fail_msg("%s: %s:%u: %s", path, err->file, err->line, err->message);
    return e;
}

static const char *item_value(const iisd_celem_t *s, const char *name)
{
    for (unsigned i = 0; i < s->nitems; i++)
        if (strcmp(iisd_celem_str(s->items[i], "name"), name) == 0)
            return iisd_celem_str(s->items[i], "value");
    return NULL;
}

static void test_commit_changes_writes_applicationhost_config(void **state)
{
    (void)state;
    write_file("applicationHost.config", apphost_xml);
    set_commit_path(L"MACHINE/WEBROOT/APPHOST");
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST");
    put(s, L"count", i4(99));
    put_text(s, L"level", L"low");
    IAppHostElement *k = child(s, L"limits");
    put(k, L"maxItems", i4(3));
    k->lpVtbl->Release(k);
    k = child(s, L"extra"); /* not in the file yet */
    put_text(k, L"note", L"n\u00f6te");
    k->lpVtbl->Release(k);
    IAppHostElement *item = item_at(s, 1); /* b */
    put_text(item, L"value", L"22");
    item->lpVtbl->Release(item);
    /* read at Site/app: written in the file's <location path="Site/app"> */
    IAppHostElement *app = section_at(L"MACHINE/WEBROOT/APPHOST/Site/app");
    put(app, L"offset", i4(15));
    item = item_at(app, 2); /* c, defined in that <location> */
    put_text(item, L"value", L"33");
    item->lpVtbl->Release(item);
    assert_int_equal(commit(), S_OK);

    iisd_cfg_t *cfg = load(apphost_path);
    const iisd_celem_t *e = resolved(cfg, "");
    assert_int_equal(iisd_celem_num(e, "count"), 99);
    assert_int_equal(iisd_celem_num(e, "level"), 0);
    assert_int_equal(iisd_celem_num(iisd_celem_kid(e, "limits"), "maxItems"), 3);
    assert_string_equal(iisd_celem_str(iisd_celem_kid(e, "extra"), "note"), "n\xc3\xb6te");
    assert_string_equal(item_value(e, "b"), "22");
    assert_string_equal(iisd_celem_str(e, "greeting"), "h\xc3\xa9llo w\xc3\xb6rld"); /* untouched */
    e = resolved(cfg, "Site/app");
    assert_int_equal(iisd_celem_num(e, "offset"), 15);
    assert_string_equal(item_value(e, "c"), "33");
    assert_string_equal(iisd_celem_str(e, "greeting"), "from app");
    iisd_cfg_unref(cfg);
    /* the objects still show what they were given */
    VARIANT v = value_of(s, L"count");
    assert_int_equal(v.ulVal, 99);

    /* nothing pending: nothing written */
    char *before_text = read_text(apphost_path);
    assert_int_equal(commit(), S_OK);
    /* an item inherited from a level above cannot be changed here: all or nothing */
    put(app, L"offset", i4(16));
    item = item_at(app, 0); /* a, defined outside the <location> */
    put_text(item, L"value", L"11");
    item->lpVtbl->Release(item);
    assert_int_equal(commit(), HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));
    char *after_text = read_text(apphost_path);
    assert_string_equal(before_text, after_text);
    free(after_text);
    app->lpVtbl->Release(app); /* its uncommitted changes go with it */
    assert_int_equal(commit(), S_OK);
    after_text = read_text(apphost_path);
    assert_string_equal(before_text, after_text);
    free(after_text);
    free(before_text);

    /* a section read above the commit path */
    set_commit_path(L"MACHINE/WEBROOT/APPHOST/Site/app");
    put(s, L"count", i4(1));
    assert_int_equal(commit(), HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    s->lpVtbl->Release(s);
    set_commit_path(L"MACHINE/WEBROOT/APPHOST");
}

static void test_commit_changes_writes_web_config(void **state)
{
    (void)state;
    /* below the commit path: a <location> in the commit path's web.config */
    set_commit_path(L"MACHINE/WEBROOT/APPHOST/Site/app");
    IAppHostElement *s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/app/sub");
    put_text(s, L"greeting", L"deep");
    s->lpVtbl->Release(s); /* released before the commit: the change is gone */
    assert_int_equal(commit(), S_OK);
    s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/app/sub");
    put_text(s, L"greeting", L"deep");
    assert_int_equal(commit(), S_OK);
    s->lpVtbl->Release(s);
    /* a folder without a web.config gets one */
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/fresh", root);
    mkdir(dir, 0755);
    set_commit_path(L"MACHINE/WEBROOT/APPHOST/Site/fresh");
    s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/fresh");
    put(s, L"count", i4(5));
    assert_int_equal(commit(), S_OK);
    s->lpVtbl->Release(s);

    iisd_cfg_t *cfg = load(NULL);
    assert_string_equal(iisd_celem_str(resolved(cfg, "Site/app/sub"), "greeting"), "deep");
    assert_string_equal(iisd_celem_str(resolved(cfg, "Site/app"), "greeting"), "from app");
    assert_int_equal(iisd_celem_num(resolved(cfg, "Site/fresh"), "count"), 5);
    assert_int_equal(iisd_celem_num(resolved(cfg, "Site/app"), "count"), 42);
    iisd_cfg_unref(cfg);

    /* no folder for the path; no file for APPHOST (the embedded default) */
    set_commit_path(L"MACHINE/WEBROOT/APPHOST/Site/nowhere");
    s = section_at(L"MACHINE/WEBROOT/APPHOST/Site/nowhere");
    put(s, L"count", i4(6));
    assert_int_equal(commit(), HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND));
    set_commit_path(L"MACHINE/WEBROOT/APPHOST");
    char *file = conf->file;
    conf->file = NULL;
    assert_int_equal(commit(), HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    conf->file = file;
    s->lpVtbl->Release(s);
}

/* ---- threads ------------------------------------------------------------------------------------------- */

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 300; i++) {
        IAppHostElement *s =
            section_at(i % 2 ? L"MACHINE/WEBROOT/APPHOST/Site/app" : L"MACHINE/WEBROOT/APPHOST");
        IAppHostElement *item = item_at(s, 1);
        s->lpVtbl->Release(s);
        VARIANT v = value_of(item, L"value");
        check_bstr(v.bstrVal, L"2");
        item->lpVtbl->Release(item);
    }
    return NULL;
}

static void test_threads_read_while_generations_change(void **state)
{
    (void)state;
    pthread_t t[4];
    iisd_conf_t *old[20];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
    for (int i = 0; i < 20; i++) {
        /* Readers keep the replaced generations alive while they use them. The test keeps one
           reference more, so that no reader frees a generation: the arena's per-thread chunk
           cache of a thread that exits would be leaked (LeakSanitizer says so). */
        old[i] = conf;
        iisd_conf_ref(old[i]);
        conf = install();
        usleep(1000);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(old[i]->refs, 1);
        iisd_conf_unref(old[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manager_is_static_and_answers_both_interfaces, before, after),
        cmocka_unit_test_setup_teardown(test_values_of_every_type, before, after),
        cmocka_unit_test_setup_teardown(test_paths_merge_and_match_case_insensitively, before, after),
        cmocka_unit_test_setup_teardown(test_collection_items_by_every_integer_type, before, after),
        cmocka_unit_test_setup_teardown(test_child_elements, before, after),
        cmocka_unit_test_setup_teardown(test_property_collection_by_index_and_name, before, after),
        cmocka_unit_test_setup_teardown(test_errors, before, after),
        cmocka_unit_test_setup_teardown(test_no_configuration_yet, before, after),
        cmocka_unit_test_setup_teardown(test_put_value_changes_this_section_object_only, before, after),
        cmocka_unit_test_setup_teardown(test_query_interface_of_every_object, before, after),
        cmocka_unit_test_setup_teardown(test_objects_hold_the_generation_until_released, before, after),
        cmocka_unit_test_setup_teardown(test_threads_read_while_generations_change, before, after),
        cmocka_unit_test_setup_teardown(test_commit_changes_writes_applicationhost_config, before, after),
        cmocka_unit_test_setup_teardown(test_commit_changes_writes_web_config, before, after),
    };
    return cmocka_run_group_tests_name("adminapi", tests, setup, teardown);
}
