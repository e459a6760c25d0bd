/*
 * Live configuration: watches applicationHost.config and every folder whose
 * web.config the configuration looked for (inotify), and on a change builds
 * a new generation, installs it for new requests and raises
 * GL_CONFIGURATION_CHANGE. A generation that fails to load is rejected with
 * a log line naming the file and line; the previous one stays in force.
 */
#pragma once
#include "config/conf.h"
#include "pipeline/module.h"

/* Starts the watcher. opts and the tail modules must outlive it. */
int iisd_reload_start(const iisd_conf_opts_t *opts, iisd_module_t **tail, unsigned ntail);
/* Called on the watcher thread after a new generation is installed. */
void iisd_reload_set_hook(void (*fn)(iisd_conf_t *conf));
/* Asks for a reload now (SIGHUP). */
void iisd_reload_request(void);
/* Asks for a new generation without a configuration change (IHttpServer::RecycleApplication). */
void iisd_reload_recycle(void);
void iisd_reload_stop(void);
