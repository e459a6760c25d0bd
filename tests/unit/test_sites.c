/* Sites: schema defaults (siteDefaults), Host routing, applications, virtual directories, web.config folders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "config/sites.h"

#ifndef SCHEMA_FILE
#define SCHEMA_FILE "config/schema/iisd_schema.xml"
#endif

static const char apphost[] =
    "<configuration>\n"
    " <configSections><sectionGroup name='system.applicationHost'>\n"
    "  <section name='sites' allowDefinition='AppHostOnly' overrideModeDefault='Deny'/>\n"
    " </sectionGroup></configSections>\n"
    " <system.applicationHost><sites>\n"
    "  <siteDefaults><limits connectionTimeout='00:00:42'/></siteDefaults>\n"
    "  <site name='Alpha' id='1'>\n"
    "   <application path='/'>\n"
    "    <virtualDirectory path='/' physicalPath='/srv/alpha'/>\n"
    "    <virtualDirectory path='/img' physicalPath='/srv/images' allowSubDirConfig='false'/>\n"
    "   </application>\n"
    "   <application path='/shop'><virtualDirectory path='/' physicalPath='/srv/shop/'/></application>\n"
    "   <bindings><binding protocol='http' bindingInformation='*:8080:'/></bindings>\n"
    "  </site>\n"
    "  <site name='Beta' id='2'>\n"
    "   <application path='/'><virtualDirectory path='/' physicalPath='/srv/beta'/></application>\n"
    "   <bindings><binding protocol='http' bindingInformation='*:8080:beta.example'/>\n"
    "    <binding protocol='http' bindingInformation='127.0.0.2:8080:'/></bindings>\n"
    "   <limits connectionTimeout='00:00:07'/>\n"
    "  </site>\n"
    " </sites></system.applicationHost>\n"
    "</configuration>\n";

static iisd_schema_t schema;
static iisd_cfg_t *cfg;
static iisd_sites_t sites;

static int setup(void **state)
{
    (void)state;
    char err[1024];
    if (iisd_schema_load_file(&schema, SCHEMA_FILE, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    iisd_cfg_opts_t o = {.apphost_text = apphost, .apphost_len = sizeof(apphost) - 1, .schema = &schema};
    iisd_cfg_error_t e;
    cfg = iisd_cfg_load(&o, &e);
    if (cfg == NULL)
        fail_msg("%s:%u: %s", e.file, e.line, e.message);
    if (iisd_sites_load(&sites, cfg, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    iisd_sites_install_mapper(&sites, cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iisd_cfg_unref(cfg);
    iisd_sites_free(&sites);
    iisd_schema_free(&schema);
    return 0;
}

static struct sockaddr_in addr(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static const char *route(const char *ip, uint16_t port, const char *host)
{
    struct sockaddr_in a = addr(ip, port);
    const iisd_sitedef_t *s = iisd_sites_route(&sites, (struct sockaddr *)&a, host, host ? strlen(host) : 0);
    return s ? s->name : "(none)";
}

static void test_sites_and_defaults(void **state)
{
    (void)state;
    assert_int_equal(sites.n, 2);
    assert_string_equal(sites.v[0].name, "Alpha");
    assert_int_equal(sites.v[0].connection_timeout_ms, 42000); /* from siteDefaults */
    assert_int_equal(sites.v[1].connection_timeout_ms, 7000);  /* its own */
    assert_int_equal(sites.v[1].nbindings, 2);
    assert_string_equal(sites.v[1].bindings[0].host, "beta.example");
}

static void test_host_routing(void **state)
{
    (void)state;
    assert_string_equal(route("127.0.0.1", 8080, "beta.example"), "Beta");
    assert_string_equal(route("127.0.0.1", 8080, "BETA.example:8080"), "Beta");
    assert_string_equal(route("127.0.0.1", 8080, "other.example"), "Alpha");
    assert_string_equal(route("127.0.0.1", 8080, NULL), "Alpha");
    /* a specific address beats "*" */
    assert_string_equal(route("127.0.0.2", 8080, "other.example"), "Beta");
    assert_string_equal(route("127.0.0.1", 9090, "beta.example"), "(none)");
}

static void test_applications_and_mapping(void **state)
{
    (void)state;
    const iisd_sitedef_t *a = iisd_sites_find(&sites, "alpha");
    assert_non_null(a);
    assert_string_equal(iisd_site_app(a, "/shop/cart", 10)->path, "/shop");
    assert_string_equal(iisd_site_app(a, "/shopping", 9)->path, "/");
    assert_string_equal(iisd_site_app(a, "/shop/cart", 10)->config_path,
                        "MACHINE/WEBROOT/APPHOST/Alpha/shop");
    char *p = iisd_site_map(a, "/shop/cart/x.htm", 16);
    assert_string_equal(p, "/srv/shop/cart/x.htm");
    free(p);
    p = iisd_site_map(a, "/img/logo.png", 13);
    assert_string_equal(p, "/srv/images/logo.png");
    free(p);
    p = iisd_site_map(a, "/index.html", 11);
    assert_string_equal(p, "/srv/alpha/index.html");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sites_and_defaults),
        cmocka_unit_test(test_host_routing),
        cmocka_unit_test(test_applications_and_mapping),
    };
    return cmocka_run_group_tests_name("sites", tests, setup, teardown);
}
