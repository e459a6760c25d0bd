#include "config/conf.h"
#include "config/embedded.h"
#include "core/mem.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int iisd_conf_load_schema(iisd_schema_t *s, const char *dir, char *err, size_t errlen)
{
    if (iisd_schema_load_memory(s, "(built-in schema)", iisd_embedded_schema, iisd_embedded_schema_len(), err,
                                errlen) < 0)
        return -1;
    struct stat st;
    if (dir != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return iisd_schema_load_dir(s, dir, err, errlen);
    return 0;
}

/* The folder holding the server binary's tree ("bin/.."), for %IISD_ROOT%. */
static void install_root(char *out, size_t cap)
{
    const char *env = getenv("IISD_ROOT");
    if (env != NULL && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(out, cap, ".");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(exe, '/');
    if (slash && slash != exe)
        *slash = '\0';
    snprintf(out, cap, "%s", exe);
}

static void override_first_site(iisd_conf_t *c, const iisd_conf_opts_t *o)
{
    if (c->sites.n == 0)
        return;
    iisd_sitedef_t *s = &c->sites.v[0];
    if (o->port >= 0)
        for (unsigned i = 0; i < s->nbindings; i++)
            if (strcasecmp(s->bindings[i].protocol, "http") == 0) {
                s->bindings[i].port = (uint16_t)o->port;
                break;
            }
    if (o->site_root != NULL) {
        iisd_app_t *root = &s->apps[s->napps - 1]; /* "/" sorts last */
        for (unsigned i = 0; i < root->nvdirs; i++)
            if (strcmp(root->vdirs[i].path, "/") == 0) {
                free(root->vdirs[i].phys);
                root->vdirs[i].phys = iisd_xstrdup(o->site_root);
            }
    }
}

iisd_conf_t *iisd_conf_load(const iisd_conf_opts_t *o, char *err, size_t errlen)
{
    char root[PATH_MAX], port[16], logdir[PATH_MAX + 8];
    install_root(root, sizeof(root));
    snprintf(port, sizeof(port), "%d", o->port >= 0 ? o->port : 8080);
    const char *env_logs = getenv("IISD_LOG_DIR");
    snprintf(logdir, sizeof(logdir), "%s", env_logs ? env_logs : root);
    if (env_logs == NULL)
        strncat(logdir, "/logs", sizeof(logdir) - strlen(logdir) - 1);
    const char *vars[] = {"IISD_ROOT",
                          root,
                          "IISD_SITE_ROOT",
                          o->site_root ? o->site_root : ".",
                          "IISD_PORT",
                          port,
                          "IISD_LOG_DIR",
                          logdir,
                          "SystemDrive",
                          root,
                          NULL};
    iisd_cfg_opts_t co = {.apphost_path = o->file,
                          .apphost_text = iisd_embedded_apphost,
                          .apphost_len = iisd_embedded_apphost_len(),
                          .schema = o->schema,
                          .sections_text = iisd_embedded_apphost,
                          .sections_len = iisd_embedded_apphost_len(),
                          .vars = vars};
    iisd_cfg_error_t e;
    static uint64_t next_id;
    iisd_conf_t *c = iisd_xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    c->file = o->file ? iisd_xstrdup(o->file) : NULL;
    c->cfg = iisd_cfg_load(&co, &e);
    if (c->cfg == NULL) {
        snprintf(err, errlen, "%s:%u: %s", e.file, e.line, e.message);
        iisd_cfg_error_free(&e);
        iisd_conf_unref(c);
        return NULL;
    }
    if (iisd_sites_load(&c->sites, c->cfg, err, errlen) < 0) {
        iisd_conf_unref(c);
        return NULL;
    }
    if (o->file != NULL)
        override_first_site(c, o);
    iisd_sites_install_mapper(&c->sites, c->cfg);

    const iisd_cfg_error_t *ce;
    const iisd_celem_t *gm = iisd_cfg_section(c->cfg, "", "system.webServer/globalModules", &ce);
    if (gm == NULL) {
        snprintf(err, errlen, "%s:%u: %s", ce->file, ce->line, ce->message);
        iisd_conf_unref(c);
        return NULL;
    }
    c->gmods = iisd_xcalloc(gm->nitems ? gm->nitems : 1, sizeof(*c->gmods));
    for (unsigned i = 0; i < gm->nitems; i++) {
        const iisd_cval_t *img = iisd_celem_val(gm->items[i], "image");
        c->gmods[i].name = iisd_xstrdup(iisd_celem_str(gm->items[i], "name"));
        c->gmods[i].image = img && img->file && img->str[0] ? iisd_xstrdup(img->str) : NULL;
        c->gmods[i].precondition = iisd_xstrdup(iisd_celem_str(gm->items[i], "preCondition"));
        c->ngmods++;
    }
    const iisd_celem_t *wl = iisd_cfg_section(c->cfg, "", "system.applicationHost/webLimits", &ce);
    c->header_timeout_ms = wl ? (uint32_t)iisd_celem_num(wl, "headerWaitTimeout") : 0;
    c->min_send_rate = wl ? (uint32_t)iisd_celem_num(wl, "minBytesPerSecond") : 240;
    /* the server's connectionTimeout, until a request names its site (which has its own) */
    c->idle_timeout_ms = wl ? (uint32_t)iisd_celem_num(wl, "connectionTimeout") : 120000;
    if (c->idle_timeout_ms == 0)
        c->idle_timeout_ms = 120000;
    if (c->header_timeout_ms == 0)
        c->header_timeout_ms = c->idle_timeout_ms;
    const iisd_celem_t *rf = iisd_cfg_section(c->cfg, "", "system.webServer/security/requestFiltering", &ce);
    c->max_body =
        rf ? (uint64_t)iisd_celem_num(iisd_celem_kid(rf, "requestLimits"), "maxAllowedContentLength")
           : 30000000;
    return c;
}

void iisd_conf_ref(iisd_conf_t *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void iisd_conf_unref(iisd_conf_t *c)
{
    if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (c->free_app_data)
        for (unsigned i = 0; i < c->sites.n; i++)
            for (unsigned j = 0; j < c->sites.v[i].napps; j++)
                if (c->sites.v[i].apps[j].data)
                    c->free_app_data(c->sites.v[i].apps[j].data);
    if (c->free_pipeline_data && c->pipeline_data)
        c->free_pipeline_data(c->pipeline_data);
    for (unsigned i = 0; i < c->ngmods; i++) {
        free(c->gmods[i].name);
        free(c->gmods[i].image);
        free(c->gmods[i].precondition);
    }
    free(c->gmods);
    iisd_sites_free(&c->sites);
    iisd_cfg_unref(c->cfg);
    free(c->file);
    free(c);
}
