/*
 * The server thread behind the process-wide global notifications: file
 * change monitors (IHttpServer::RegisterFileChangeMonitor, GL_FILE_CHANGE),
 * the periodic GL_CACHE_CLEANUP and GL_HEALTH_CHECK, and GL_RSCA_QUERY.
 *
 * One thread, started after the worker loops and stopped before the
 * modules terminate, waits on one inotify descriptor and an eventfd; every
 * notification it raises runs on it, never on a loop thread.
 */
#pragma once
#include <stdbool.h>
#include <httpserv.h>

/* How often GL_CACHE_CLEANUP and GL_HEALTH_CHECK are raised. */
#define IISD_CACHE_CLEANUP_MS 2000
#define IISD_HEALTH_CHECK_MS  5000

/* Starts the thread. -errno when it cannot. */
int iisd_globals_start(void);
/* Stops the thread (its notifications are over when this returns). */
void iisd_globals_stop(void);

/* IHttpServer::RegisterFileChangeMonitor. */
HRESULT iisd_filemon_register(PCWSTR path, IHttpFileMonitor **out);

/* Raises GL_FILE_CHANGE on the calling thread (monitor may be NULL). */
void iisd_notify_file_change(PCWSTR file, IHttpFileMonitor *monitor);

/*
 * Asks the server thread to raise GL_RSCA_QUERY for `function` (UTF-8,
 * copied) with `params`; what the modules answer is written to the log.
 */
void iisd_globals_rsca_query(const char *function, const char *params);
