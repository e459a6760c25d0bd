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

/* The site the request is for (a fuller model comes with the config system). */
typedef struct iisd_site {
    DWORD id;
    char *name;
    wchar_t *wname;
    char *root; /* physical path of "/", no trailing slash */
    wchar_t *wroot;
    size_t root_len;
    uint16_t port;
} iisd_site_t;

/* What the pipeline needs that main.c sets up. */
typedef struct iisd_pipeline_cfg {
    iisd_plan_t *plan;
    iisd_site_t *site;
} iisd_pipeline_cfg_t;

extern iisd_pipeline_cfg_t iisd_pipeline;
extern const iisd_http_handler_t iisd_pipeline_handler;

/* Global notifications (run on the calling thread). */
GLOBAL_NOTIFICATION_STATUS iisd_global_notify(DWORD gl_bit_index, IHttpEventProvider *provider);
void iisd_global_stop_listening(bool graceful);
void iisd_global_thread_cleanup(void);
