/* The configuration system: merge order, collections, delegation, locking, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config/config.h"

static const char schema_xml[] =
    "<configSchema>\n"
    " <sectionSchema name='system.webServer/defaultDocument'>\n"
    "  <attribute name='enabled' type='bool' defaultValue='true'/>\n"
    "  <element name='files'>\n"
    "   <collection addElement='add' clearElement='clear' removeElement='remove' mergeAppend='false'>\n"
    "    <attribute name='value' type='string' isUniqueKey='true'/>\n"
    "   </collection>\n"
    "  </element>\n"
    " </sectionSchema>\n"
    " <sectionSchema name='system.webServer/directoryBrowse'>\n"
    "  <attribute name='enabled' type='bool' defaultValue='false'/>\n"
    "  <attribute name='showFlags' type='flags' defaultValue='Date, Time, Size, Extension'>\n"
    "   <flag name='None' value='0'/><flag name='Date' value='2'/><flag name='Time' value='4'/>\n"
    "   <flag name='Size' value='8'/><flag name='Extension' value='16'/><flag name='LongDate' value='32'/>\n"
    "  </attribute>\n"
    " </sectionSchema>\n"
    " <sectionSchema name='system.webServer/modules'>\n"
    "  <collection addElement='add' clearElement='clear' removeElement='remove'>\n"
    "   <attribute name='name' type='string' required='true' isUniqueKey='true'/>\n"
    "   <attribute name='preCondition' type='string'/>\n"
    "  </collection>\n"
    " </sectionSchema>\n"
    " <sectionSchema name='system.webServer/httpErrors'>\n"
    "  <attribute name='errorMode' type='enum' defaultValue='DetailedLocalOnly'>\n"
    "   <enum name='DetailedLocalOnly' value='0'/><enum name='Custom' value='1'/><enum name='Detailed' "
    "value='2'/>\n"
    "  </attribute>\n"
    "  <attribute name='defaultPath' type='string' expanded='true'/>\n"
    " </sectionSchema>\n"
    " <sectionSchema name='system.applicationHost/webLimits'>\n"
    "  <attribute name='headerWaitTimeout' type='timeSpan' defaultValue='00:00:00'/>\n"
    " </sectionSchema>\n"
    "</configSchema>\n";

static const char apphost_xml[] =
    "<configuration>\n"                                                                                /* 1 */
    " <configSections>\n"                                                                              /* 2 */
    "  <sectionGroup name='system.applicationHost'>\n"                                                 /* 3 */
    "   <section name='webLimits' allowDefinition='AppHostOnly' overrideModeDefault='Deny'/>\n"        /* 4 */
    "  </sectionGroup>\n"                                                                              /* 5 */
    "  <sectionGroup name='system.webServer'>\n"                                                       /* 6 */
    "   <section name='defaultDocument' overrideModeDefault='Allow'/>\n"                               /* 7 */
    "   <section name='directoryBrowse' overrideModeDefault='Deny'/>\n"                                /* 8 */
    "   <section name='modules' allowDefinition='MachineToApplication' overrideModeDefault='Deny'/>\n" /* 9 */
    "   <section name='httpErrors' overrideModeDefault='Allow'/>\n"                                 /* 10 */
    "  </sectionGroup>\n"                                                                           /* 11 */
    " </configSections>\n"                                                                          /* 12 */
    " <system.applicationHost><webLimits headerWaitTimeout='00:00:30'/></system.applicationHost>\n" /* 13 */
    " <system.webServer>\n"                                                                         /* 14 */
    "  <defaultDocument><files><add value='index.htm'/><add value='default.htm'/></files></defaultDocument>\n"
    "  <httpErrors lockAttributes='defaultPath' defaultPath='%IISD_TEST_ROOT%/err'/>\n" /* 16 */
    " </system.webServer>\n"                                                            /* 17 */
    " <location path='' overrideMode='Allow'>\n"                                        /* 18 */
    "  <system.webServer><modules><add name='Core' lockItem='true'/><add "
    "name='Extra'/></modules></system.webServer>\n"
    " </location>\n"                   /* 20 */
    " <location path='Site/browse'>\n" /* 21 */
    "  <system.webServer><directoryBrowse enabled='true' showFlags='Date, Size'/></system.webServer>\n"
    " </location>\n" /* 23 */
    "</configuration>\n";

static iisd_schema_t schema;
static char root[256];

static char *folder(void *ctx, const char *path)
{
    (void)ctx;
    /* "Site" -> root, "Site/x/y" -> root/x/y */
    if (strncmp(path, "Site", 4) != 0 || (path[4] != '\0' && path[4] != '/'))
        return NULL;
    char *out = malloc(512);
    snprintf(out, 512, "%s%s", root, path + 4);
    return out;
}

static bool is_application(void *ctx, const char *path)
{
    (void)ctx;
    return strcmp(path, "Site") == 0 || strcmp(path, "Site/app") == 0 || strcmp(path, "Site/app2") == 0;
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

static iisd_cfg_t *load(void)
{
    static const char *const vars[] = {"IISD_TEST_ROOT", "/srv/iisd", NULL};
    iisd_cfg_opts_t o = {
        .apphost_text = apphost_xml, .apphost_len = sizeof(apphost_xml) - 1, .schema = &schema, .vars = vars};
    iisd_cfg_error_t err;
    iisd_cfg_t *cfg = iisd_cfg_load(&o, &err);
    if (cfg == NULL)
        fail_msg("load failed: %s:%u: %s", err.file, err.line, err.message);
    iisd_cfg_mapper_t m = {.folder = folder, .is_application = is_application};
    iisd_cfg_set_mapper(cfg, &m);
    return cfg;
}

static int setup(void **state)
{
    (void)state;
    char err[512];
    if (iisd_schema_load_memory(&schema, "test_schema.xml", schema_xml, sizeof(schema_xml) - 1, err,
                                sizeof(err)) < 0)
        fail_msg("%s", err);
    snprintf(root, sizeof(root), "/tmp/iisd-test-config-%d", (int)getpid());
    mkdir(root, 0755);
    write_file("app/web.config",
               "<configuration><system.webServer>\n"
               " <defaultDocument enabled='false'><files><add value='app.htm'/></files></defaultDocument>\n"
               " <modules><remove name='Extra'/><add name='AppModule'/></modules>\n"
               "</system.webServer></configuration>\n");
    write_file("app/sub/web.config",
               "<configuration><system.webServer>\n"
               " <defaultDocument><files><clear/><add value='only.htm'/></files></defaultDocument>\n"
               "</system.webServer></configuration>\n");
    write_file("notapp/web.config", "<configuration><system.webServer>\n"
                                    " <modules><add name='Nope'/></modules>\n"
                                    "</system.webServer></configuration>\n");
    write_file("locked/web.config", "<configuration>\n<system.webServer>\n"
                                    " <directoryBrowse enabled='true'/>\n"
                                    "</system.webServer></configuration>\n");
    write_file("browse/web.config", "<configuration><system.webServer>\n"
                                    " <directoryBrowse enabled='false'/>\n"
                                    "</system.webServer></configuration>\n");
    write_file("broken/web.config",
               "<configuration><system.webServer>\n<defaultDocument>\n</configuration>\n");
    write_file("badvalue/web.config", "<configuration><system.webServer>\n"
                                      " <httpErrors errorMode='Sometimes'/>\n"
                                      "</system.webServer></configuration>\n");
    write_file("lockattr/web.config", "<configuration><system.webServer>\n"
                                      " <httpErrors defaultPath='/elsewhere'/>\n"
                                      "</system.webServer></configuration>\n");
    write_file("app2/web.config", "<configuration><system.webServer>\n"
                                  " <modules><remove name='Core'/></modules>\n"
                                  "</system.webServer></configuration>\n");
    write_file("dup/web.config",
               "<configuration><system.webServer>\n"
               " <defaultDocument><files><add value='index.htm'/></files></defaultDocument>\n"
               "</system.webServer></configuration>\n");
    write_file("apphostonly/web.config", "<configuration><system.applicationHost>\n"
                                         " <webLimits headerWaitTimeout='00:01:00'/>\n"
                                         "</system.applicationHost></configuration>\n");
    write_file("unknown/web.config", "<configuration><system.webServer>\n"
                                     " <noSuchSection/>\n"
                                     "</system.webServer></configuration>\n");
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

static const char *item(const iisd_celem_t *coll, unsigned i, const char *attr)
{
    assert_true(i < coll->nitems);
    return iisd_celem_str(coll->items[i], attr);
}

static void test_defaults_and_apphost_values(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    const iisd_celem_t *db =
        iisd_cfg_section(cfg, "MACHINE/WEBROOT/APPHOST/Site", "system.webServer/directoryBrowse", &err);
    assert_non_null(db);
    assert_false(iisd_celem_bool(db, "enabled"));
    assert_int_equal(iisd_celem_num(db, "showFlags"), 2 | 4 | 8 | 16);
    assert_null(iisd_celem_val(db, "enabled")->file); /* schema default */
    const iisd_celem_t *wl = iisd_cfg_section(cfg, "", "system.applicationHost/webLimits", &err);
    assert_int_equal(iisd_celem_num(wl, "headerWaitTimeout"), 30000);
    const iisd_celem_t *he = iisd_cfg_section(cfg, "Site", "system.webServer/httpErrors", &err);
    assert_string_equal(iisd_celem_str(he, "defaultPath"), "/srv/iisd/err");
    iisd_cfg_unref(cfg);
}

static void test_location_tag_applies_below_its_path(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    const iisd_celem_t *db =
        iisd_cfg_section(cfg, "Site/browse/deeper", "system.webServer/directoryBrowse", &err);
    /* browse/web.config may not set a section that is Deny by default */
    assert_null(db);
    assert_non_null(strstr(err->message, "locked at a parent level"));
    assert_non_null(strstr(err->file, "browse/web.config"));
    assert_int_equal(err->line, 2);
    db = iisd_cfg_section(cfg, "Site/browsex", "system.webServer/directoryBrowse", &err);
    if (db == NULL)
        fail_msg("%s:%u: %s", err->file, err->line, err->message);
    assert_false(iisd_celem_bool(db, "enabled")); /* "Site/browse" does not cover "Site/browsex" */
    iisd_cfg_unref(cfg);
}

static void test_collections_merge_down_the_path(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    const iisd_celem_t *dd =
        iisd_cfg_section(cfg, "Site/app/page.htm", "system.webServer/defaultDocument", &err);
    assert_non_null(dd);
    assert_false(iisd_celem_bool(dd, "enabled"));
    const iisd_celem_t *files = iisd_celem_kid(dd, "files");
    /* mergeAppend='false': the lower level's entries come first */
    assert_int_equal(files->nitems, 3);
    assert_string_equal(item(files, 0, "value"), "app.htm");
    assert_string_equal(item(files, 1, "value"), "index.htm");
    assert_string_equal(item(files, 2, "value"), "default.htm");
    dd = iisd_cfg_section(cfg, "Site/app/sub", "system.webServer/defaultDocument", &err);
    files = iisd_celem_kid(dd, "files");
    assert_int_equal(files->nitems, 1);
    assert_string_equal(item(files, 0, "value"), "only.htm");
    assert_false(iisd_celem_bool(dd, "enabled")); /* inherited from app */
    const iisd_celem_t *mods = iisd_cfg_section(cfg, "Site/app", "system.webServer/modules", &err);
    assert_non_null(mods);
    assert_int_equal(mods->nitems, 2);
    assert_string_equal(item(mods, 0, "name"), "Core");
    assert_string_equal(item(mods, 1, "name"), "AppModule");
    iisd_cfg_unref(cfg);
}

static void test_delegation_errors(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    /* MachineToApplication outside an application root */
    assert_null(iisd_cfg_section(cfg, "Site/notapp", "system.webServer/modules", &err));
    assert_non_null(strstr(err->message, "MachineToApplication"));
    /* AppHostOnly in a web.config */
    assert_null(iisd_cfg_section(cfg, "Site/apphostonly", "system.applicationHost/webLimits", &err));
    assert_non_null(strstr(err->message, "AppHostOnly"));
    assert_int_equal(err->line, 2);
    /* lockItem forbids removing an entry below */
    assert_null(iisd_cfg_section(cfg, "Site/app2", "system.webServer/modules", &err));
    assert_non_null(strstr(err->message, "lockItem"));
    /* lockAttributes */
    assert_null(iisd_cfg_section(cfg, "Site/lockattr", "system.webServer/httpErrors", &err));
    assert_non_null(strstr(err->message, "'defaultPath'"));
    assert_non_null(strstr(err->message, "locked"));
    /* a section locked by overrideModeDefault='Deny' */
    assert_null(iisd_cfg_section(cfg, "Site/locked", "system.webServer/directoryBrowse", &err));
    assert_int_equal(err->line, 3);
    iisd_cfg_unref(cfg);
}

static void test_value_and_file_errors_name_file_line_attribute(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    assert_null(iisd_cfg_section(cfg, "Site/badvalue", "system.webServer/httpErrors", &err));
    assert_non_null(strstr(err->file, "badvalue/web.config"));
    assert_int_equal(err->line, 2);
    assert_non_null(strstr(err->message, "'errorMode'"));
    assert_non_null(strstr(err->message, "DetailedLocalOnly, Custom, Detailed"));
    /* a malformed web.config breaks every section at and below its folder */
    assert_null(iisd_cfg_section(cfg, "Site/broken/x", "system.webServer/directoryBrowse", &err));
    assert_non_null(strstr(err->file, "broken/web.config"));
    assert_non_null(iisd_cfg_section(cfg, "Site/brokenx", "system.webServer/directoryBrowse", &err));
    /* duplicate key across levels */
    assert_null(iisd_cfg_section(cfg, "Site/dup", "system.webServer/defaultDocument", &err));
    assert_non_null(strstr(err->message, "duplicate"));
    assert_non_null(strstr(err->message, "value='index.htm'"));
    /* unknown section */
    assert_null(iisd_cfg_section(cfg, "Site/unknown", "system.webServer/defaultDocument", &err));
    assert_non_null(strstr(err->message, "system.webServer/noSuchSection"));
    iisd_cfg_unref(cfg);
}

static void test_apphost_errors_fail_the_load(void **state)
{
    (void)state;
    static const char bad[] = "<configuration>\n<configSections><sectionGroup name='system.webServer'>"
                              "<section name='directoryBrowse'/></sectionGroup></configSections>\n"
                              "<system.webServer>\n<directoryBrowse showFlags='Date, Colour'/>\n"
                              "</system.webServer></configuration>";
    iisd_cfg_opts_t o = {.apphost_text = bad, .apphost_len = sizeof(bad) - 1, .schema = &schema};
    iisd_cfg_error_t err;
    assert_null(iisd_cfg_load(&o, &err));
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.message, "'showFlags'"));
    assert_non_null(strstr(err.message, "Colour"));
    iisd_cfg_error_free(&err);
    static const char malformed[] = "<configuration>\n<system.webServer>\n</configuration>";
    o.apphost_text = malformed;
    o.apphost_len = sizeof(malformed) - 1;
    assert_null(iisd_cfg_load(&o, &err));
    assert_true(err.line >= 2);
    iisd_cfg_error_free(&err);
}

static void test_results_are_cached_and_files_tracked(void **state)
{
    (void)state;
    iisd_cfg_t *cfg = load();
    const iisd_cfg_error_t *err;
    const iisd_celem_t *a = iisd_cfg_section(cfg, "Site/app", "system.webServer/defaultDocument", &err);
    const iisd_celem_t *b = iisd_cfg_section(cfg, "site/APP/", "system.webServer/defaultDocument", &err);
    assert_ptr_equal(a, b);
    /* paths below the last level with configuration share its entry: made-up paths add nothing */
    const iisd_celem_t *c =
        iisd_cfg_section(cfg, "Site/app/page.htm", "system.webServer/defaultDocument", &err);
    const iisd_celem_t *d =
        iisd_cfg_section(cfg, "Site/app/no/such/folder/x.htm", "system.webServer/defaultDocument", &err);
    assert_ptr_equal(a, c);
    assert_ptr_equal(a, d);
    /* a <location> target is a level of its own */
    const iisd_celem_t *e1 =
        iisd_cfg_section(cfg, "Site/browsex/a", "system.webServer/directoryBrowse", &err);
    const iisd_celem_t *e2 =
        iisd_cfg_section(cfg, "Site/browsex/b", "system.webServer/directoryBrowse", &err);
    assert_ptr_equal(e1, e2);
    bool seen = false;
    char **files = iisd_cfg_files(cfg);
    for (char **f = files; *f; f++)
        seen |= strstr(*f, "app/web.config") != NULL;
    iisd_cfg_list_free(files);
    assert_true(seen);
    iisd_cfg_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_apphost_values),
        cmocka_unit_test(test_location_tag_applies_below_its_path),
        cmocka_unit_test(test_collections_merge_down_the_path),
        cmocka_unit_test(test_delegation_errors),
        cmocka_unit_test(test_value_and_file_errors_name_file_line_attribute),
        cmocka_unit_test(test_apphost_errors_fail_the_load),
        cmocka_unit_test(test_results_are_cached_and_files_tracked),
    };
    return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
