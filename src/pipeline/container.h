/*
 * IHttpModuleContextContainer for the long-lived server objects (site,
 * application, URL info, file monitor, ...) and the dispensed variant that
 * IHttpServer::DispenseContainer returns.
 *
 * A container maps an HTTP_MODULE_ID to the IHttpStoredContext that module
 * stored there. Any pointer value is a valid key (iisd's ids are small
 * integers cast to pointers, but modules only see them as opaque). Every
 * operation takes the container's mutex, so one container may be shared by
 * requests running on several threads (GetModuleContext takes no lock). The per-request container of
 * IHttpContext is not this one: it is an array indexed by module id inside
 * the request (hctx.h).
 */
#pragma once
#include <pthread.h>
#include <httpserv.h>

typedef struct iisd_ctx_entry {
    HTTP_MODULE_ID id;
    IHttpStoredContext *ctx;
} iisd_ctx_entry_t;

#define IISD_CONTAINER_INLINE 4

typedef struct iisd_container {
    union { /* first: the interface pointer is the container pointer */
        IHttpModuleContextContainer iface;
        IDispensedHttpModuleContextContainer dispensed;
    };
    pthread_mutex_t lock;
    iisd_ctx_entry_t *v; /* in order of setting; inl or the heap */
    unsigned n, cap;
    iisd_ctx_entry_t inl[IISD_CONTAINER_INLINE];
    IHttpStoredContext **direct; /* NULL, or the contexts of ids 1..ndirect by id (iisd_container_index) */
    unsigned ndirect;
} iisd_container_t;

/* An empty container whose interface is IHttpModuleContextContainer. */
void iisd_container_init(iisd_container_t *c);
/*
 * Calls CleanupStoredContext on every stored context, the last one set
 * first, then leaves the container empty (and still usable). The lock is
 * not held while the modules' cleanup code runs.
 */
void iisd_container_cleanup(iisd_container_t *c);
/* iisd_container_cleanup(), then releases the mutex; the memory of c is the caller's. */
void iisd_container_destroy(iisd_container_t *c);
/*
 * Also indexes the contexts of module ids 1..n by id, so that GetModuleContext finds them without
 * a search: for containers every request reads (IMetadataInfo's). Call once, right after init.
 */
void iisd_container_index(iisd_container_t *c, unsigned n);

static inline IHttpModuleContextContainer *iisd_container_iface(iisd_container_t *c)
{
    return &c->iface;
}

/*
 * A new heap container whose interface is IDispensedHttpModuleContextContainer:
 * its ReleaseContainer cleans it up and frees it. What
 * IHttpServer::DispenseContainer returns.
 */
IDispensedHttpModuleContextContainer *iisd_container_dispense(void);
