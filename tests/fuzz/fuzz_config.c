/*
 * libFuzzer target for the configuration system: the input is an
 * applicationHost.config. It is parsed against the built-in schema (and the
 * built-in <configSections> when it has none), and every section of the
 * schema is resolved at a few configuration paths, which exercises
 * <location> handling, merging, collections, delegation and locking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "config/embedded.h"

static iisd_schema_t schema;

static const char *const paths[] = {"", "Default Web Site", "Default Web Site/app",
                                    "Default Web Site/app/dir/file.htm", "Other"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (schema.n == 0) {
        char err[512];
        if (iisd_schema_load_memory(&schema, "(built-in schema)", iisd_embedded_schema,
                                    iisd_embedded_schema_len(), err, sizeof(err)) < 0)
            abort();
    }
    static const char *const vars[] = {"IISD_SITE_ROOT", "/srv/www", "IISD_PORT", "8080", NULL};
    iisd_cfg_opts_t o = {.apphost_text = (const char *)data,
                         .apphost_len = size,
                         .schema = &schema,
                         .sections_text = iisd_embedded_apphost,
                         .sections_len = iisd_embedded_apphost_len(),
                         .vars = vars};
    iisd_cfg_error_t err;
    iisd_cfg_t *cfg = iisd_cfg_load(&o, &err);
    if (cfg == NULL) {
        if (err.message == NULL)
            abort(); /* a failure must always say why */
        iisd_cfg_error_free(&err);
        return 0;
    }
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
        for (unsigned i = 0; i < schema.n; i++) {
            const iisd_cfg_error_t *e;
            const iisd_celem_t *el = iisd_cfg_section(cfg, paths[p], schema.v[i]->path, &e);
            if (el == NULL && (e == NULL || e->message == NULL))
                abort();
        }
        iisd_cfg_check(cfg, paths[p]);
    }
    iisd_cfg_unref(cfg);
    return 0;
}
