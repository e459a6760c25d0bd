/*
 * The server end of the Event Log API of include/iisd_winbase.h:
 * ReportEvent in a module finds iisd_host_report_event by name (dlsym) and
 * calls it with an address inside the module's image; the event becomes one
 * line of the server's log naming the module it came from.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <windows.h>
#include "core/log.h"
#include "pipeline/module.h"

/* The name of the loaded module whose image holds addr, or NULL. */
static const char *module_of_address(const void *addr)
{
    Dl_info at;
    if (addr == NULL || dladdr(addr, &at) == 0 || at.dli_fbase == NULL)
        return NULL;
    /* loaded modules, and the one whose RegisterModule is running (not yet in the list) */
    for (unsigned i = 0; i <= iisd_modules.n; i++) {
        iisd_module_t *m = i < iisd_modules.n ? iisd_modules.v[i] : iisd_module_registering;
        Dl_info mine;
        if (m == NULL)
            continue;
        void *sym;
        if (m->dl == NULL || (sym = dlsym(m->dl, "RegisterModule")) == NULL)
            continue;
        if (dladdr(sym, &mine) != 0 && mine.dli_fbase == at.dli_fbase)
            return m->name;
    }
    return NULL;
}

static enum iisd_log_level event_level(unsigned type)
{
    switch (type) {
    case EVENTLOG_ERROR_TYPE:
    case EVENTLOG_AUDIT_FAILURE:
        return IISD_LOG_ERROR;
    case EVENTLOG_WARNING_TYPE:
        return IISD_LOG_WARN;
    default:
        return IISD_LOG_INFO;
    }
}

/* Exported from the executable (see the Makefile): the modules look it up by name. */
__attribute__((visibility("default"))) void iisd_host_report_event(const void *module_address,
                                                                   const char *source, unsigned type,
                                                                   unsigned category, unsigned event_id,
                                                                   const char *text);

void iisd_host_report_event(const void *module_address, const char *source, unsigned type, unsigned category,
                            unsigned event_id, const char *text)
{
    (void)category;
    const char *name = module_of_address(module_address);
    iisd_log(event_level(type), "module %s: event %u (%s): %s", name != NULL ? name : "(unknown)", event_id,
             source != NULL ? source : "", text != NULL ? text : "");
}
