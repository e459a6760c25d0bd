/*
 * The integrated request pipeline (IIS §4): the dispatch plan built once
 * per configuration, and the per-request state machine that owns every
 * transition. Modules only return a REQUEST_NOTIFICATION_STATUS.
 */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <httpserv.h>
#include "http/conn.h"
#include "config/conf.h"
#include "pipeline/module.h"

#define IISD_NSTAGES    12 /* RQ_BEGIN_REQUEST .. RQ_END_REQUEST */
#define IISD_STAGE_EXEC 7  /* RQ_EXECUTE_REQUEST_HANDLER */
#define IISD_STAGE_LOG  10 /* RQ_LOG_REQUEST */
#define IISD_STAGE_END  11 /* RQ_END_REQUEST */
#define IISD_GL_BITS    18

/* Dispatch lists hold module ids (iisd_modules.v index), already ordered. */
typedef struct iisd_list {
    uint16_t *v;
    uint16_t n;
} iisd_list_t;

typedef struct iisd_plan {
    iisd_list_t ev[IISD_NSTAGES], post[IISD_NSTAGES];
    iisd_list_t send; /* reversed order */
    iisd_list_t map_path, read_entity, custom;
    iisd_list_t req_modules; /* modules that get a CHttpModule per request */
    iisd_list_t gl[IISD_GL_BITS];
    uint16_t nmodules; /* size of per-request arrays (all loaded modules) */
} iisd_plan_t;

/* Builds the plan from the enabled modules, in <modules> order. */
iisd_plan_t *iisd_plan_build(iisd_module_t **enabled, unsigned n);
void iisd_plan_free(iisd_plan_t *p);
/* Writes the order, one line per notification, for tests and --dump-pipeline. */
void iisd_plan_dump(const iisd_plan_t *p, char *out, size_t cap);

/* What the pipeline runs on: the current configuration generation and the
   order of global notifications (over every loaded module). */
typedef struct iisd_pipeline_cfg {
    iisd_conf_t *conf; /* holds one reference; swapped by iisd_pipeline_set_conf() */
    iisd_plan_t *global;
} iisd_pipeline_cfg_t;

/*
 * Builds the request plan of every application of a generation from its
 * <modules> (resolved at the application's configuration path). Modules the
 * configuration does not name but that are built in are enabled last, as the
 * catch-all handler. -1 with a message naming the file and line on error.
 */
int iisd_pipeline_prepare(iisd_conf_t *conf, iisd_module_t **builtin_tail, unsigned ntail, char *err,
                          size_t errlen);
/* Module context containers that live as long as the generation: per site, per application,
   and per configuration path (IMetadataInfo). Stored contexts are cleaned up when the
   generation goes away (after a configuration change or at shutdown). */
IHttpModuleContextContainer *iisd_pipeline_site_container(iisd_conf_t *conf, const iisd_sitedef_t *site);
IHttpModuleContextContainer *iisd_pipeline_app_container(const iisd_app_t *app);
IHttpModuleContextContainer *iisd_pipeline_meta_container(iisd_conf_t *conf, const char *path);
/* IHttpApplication2 warm-up state of an application (shared by every object that stands for it). */
void iisd_app_warmup(const iisd_app_t *app, bool begin);
bool iisd_app_warming_up(const iisd_app_t *app);
/* Starts the applications of a generation that have preloadEnabled, and raises GL_APPLICATION_PRELOAD. */
void iisd_pipeline_preload(iisd_conf_t *conf);

/* The current generation, with a reference for the caller. */
iisd_conf_t *iisd_pipeline_acquire(void);
/* Installs a prepared generation; the old one is released once no thread can still be picking it up. */
void iisd_pipeline_set_conf(iisd_conf_t *conf);

extern iisd_pipeline_cfg_t iisd_pipeline;
extern const iisd_http_handler_t iisd_pipeline_handler;

/* Global notifications (run on the calling thread). */
GLOBAL_NOTIFICATION_STATUS iisd_global_notify(DWORD gl_bit_index, IHttpEventProvider *provider);
void iisd_global_stop_listening(bool graceful);
void iisd_global_thread_cleanup(void);
