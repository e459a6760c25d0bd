/*
 * The AppHost administration API (include/ahadmin.h) on top of the
 * configuration system: the IAppHostAdminManager that
 * IHttpServer::GetAdminManager() hands to modules, and the elements,
 * properties and collections it gives out.
 *
 * One process-wide manager object serves IAppHostAdminManager and
 * IAppHostWritableAdminManager. It is static: its AddRef and Release do
 * nothing, and GetAdminManager() hands it out without a reference.
 * Everything else is reference-counted as COM prescribes; an element tree
 * from GetAdminSection keeps the configuration generation it was read from
 * alive until its last object is released.
 */
#pragma once
#include <httpserv.h>
#include "config/conf.h"

/* The server's admin manager (never NULL; carries no reference). */
IAppHostAdminManager *iisd_admin_manager(void);

/*
 * The generation GetAdminSection reads while the pipeline has none installed
 * (iisd_pipeline.conf is NULL): during start-up, RegisterModule runs before
 * the first generation is installed, and IIS modules commonly read their
 * configuration there. main.c sets it to the generation being started before
 * it loads the modules and clears it (NULL) once the generation is
 * installed; unit tests set it to a hand-built generation. Takes a reference
 * on conf (if not NULL) and drops the one on the previous value.
 */
void iisd_adminapi_set_fallback_conf(iisd_conf_t *conf);
