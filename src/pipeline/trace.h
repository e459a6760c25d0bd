/*
 * Tracing: IHttpTraceContext per request (made on first use) and one for the
 * server, subscriptions set through SetTraceConfiguration, and the
 * GL_TRACE_EVENT dispatch with its IGlobalTraceEventProvider. The engine
 * raises its own events (module start and end, SetStatus) only while some
 * subscription wants them and a global module listens for GL_TRACE_EVENT;
 * otherwise a module call costs one pointer test and one load.
 * Internal to src/pipeline.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <httpserv.h>
#include "core/mem.h"
#include "pipeline/hctx.h"

/* WWW Server provider areas the engine raises events in. */
#define IISD_TRACE_AREA_REQUEST_NOTIFICATIONS 256u
#define IISD_TRACE_AREA_MODULE                512u

/* Event numbers (HTTP_TRACE_EVENT.dwEvent) of the engine's WWW Server events. */
enum iisd_trace_event_id {
    IISD_TRACE_NOTIFY_MODULE_START = 1,
    IISD_TRACE_NOTIFY_MODULE_END = 2,
    IISD_TRACE_SET_RESPONSE_SUCCESS_STATUS = 3,
    IISD_TRACE_SET_RESPONSE_ERROR_STATUS = 4,
    IISD_TRACE_MODULE_QUICK_TRACE = 5,
};

/* Non-zero while some server-level subscription (IHttpServer::GetTraceContext) exists, and while
   one of them is for the WWW Server provider (or every provider): the engine's own events. */
extern unsigned iisd_trace_server_subs;
extern unsigned iisd_trace_server_www;

/* The request's IHttpTraceContext, made on first use (request memory). */
IHttpTraceContext *iisd_trace_context(struct iisd_hctx *h);
/* The server's IHttpTraceContext (events that belong to no request). */
IHttpTraceContext *iisd_trace_server_context(void);

/* The part of iisd_trace_wanted() that runs once someone traces. */
bool iisd_trace_wanted_slow(struct iisd_hctx *h, DWORD area, DWORD level);

/* Does anyone want the engine's events of this area and level for this request? */
static inline bool iisd_trace_wanted(struct iisd_hctx *h, DWORD area, DWORD level)
{
    if (IISD_LIKELY(h->trace == NULL && __atomic_load_n(&iisd_trace_server_www, __ATOMIC_RELAXED) == 0))
        return false;
    return iisd_trace_wanted_slow(h, area, level);
}

/* The engine's events. Call only when iisd_trace_wanted() said yes. */
void iisd_trace_module_start(struct iisd_hctx *h, const wchar_t *module, DWORD notification, bool post);
void iisd_trace_module_end(struct iisd_hctx *h, const wchar_t *module, DWORD notification, bool post,
                           REQUEST_NOTIFICATION_STATUS status);
void iisd_trace_set_status(struct iisd_hctx *h, USHORT status, USHORT sub, PCSTR reason, HRESULT hr);
