/*
 * One generation of the server's configuration: the resolved configuration
 * files, the sites, the global modules and the server-wide limits. Requests
 * hold a reference to the generation they started with, so a reload never
 * changes the configuration under a request in flight.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "config/sites.h"

typedef struct iisd_gmodule {
    char *name;
    char *image; /* NULL: the built-in module of that name */
    char *precondition;
} iisd_gmodule_t;

typedef struct iisd_conf {
    int refs;
    uint64_t id; /* unique per generation, never reused */
    iisd_cfg_t *cfg;
    iisd_sites_t sites;
    iisd_gmodule_t *gmods;
    unsigned ngmods;
    uint32_t header_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t min_send_rate; /* webLimits minBytesPerSecond */
    uint64_t max_body;
    char *file; /* NULL: the embedded default */
    /* frees iisd_app_t::data of every application (set by the pipeline) */
    void (*free_app_data)(void *data);
    /* the pipeline's own per-generation state */
    void *pipeline_data;
    void (*free_pipeline_data)(void *data);
} iisd_conf_t;

typedef struct iisd_conf_opts {
    const char *file;      /* applicationHost.config; NULL: the embedded default */
    const char *site_root; /* --path: the first site's root folder */
    int port;              /* --port: the first site's first binding; -1: as configured */
    const iisd_schema_t *schema;
} iisd_conf_opts_t;

iisd_conf_t *iisd_conf_load(const iisd_conf_opts_t *o, char *err, size_t errlen);
void iisd_conf_ref(iisd_conf_t *c);
void iisd_conf_unref(iisd_conf_t *c);
/* Loads the built-in schema, then every schema file of dir (if not NULL and present). */
int iisd_conf_load_schema(iisd_schema_t *s, const char *dir, char *err, size_t errlen);
