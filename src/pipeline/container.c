/*
 * Module context containers (IHttpModuleContextContainer and
 * IDispensedHttpModuleContextContainer). The entries are kept in an array in
 * the order they were set: the cleanup order is the reverse of that, and a
 * container rarely holds more than a handful of contexts, so a linear search
 * beats hashing. The first IISD_CONTAINER_INLINE entries live inside the
 * container, so most containers never allocate.
 *
 * Reads take no lock: entries are only ever appended, an entry is written
 * before the count that covers it is published (release), and an array
 * outgrown by SetModuleContext stays allocated until the container is
 * cleaned up, so a reader that loaded the old array still reads valid
 * memory. Writers serialise on the mutex.
 */
#include "pipeline/container.h"
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"

static iisd_container_t *container_of_iface(IHttpModuleContextContainer *This)
{
    return (iisd_container_t *)This;
}

/* Index of id in c->v, or -1. Called with the lock held. */
static int find_locked(const iisd_container_t *c, HTTP_MODULE_ID id)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->v[i].id == id)
            return (int)i;
    return -1;
}

static IHttpStoredContext *mcc_GetModuleContext(IHttpModuleContextContainer *This, HTTP_MODULE_ID moduleId)
{
    iisd_container_t *c = container_of_iface(This);
    uintptr_t k = (uintptr_t)moduleId;
    if (k - 1 < c->ndirect)
        return __atomic_load_n(&c->direct[k - 1], __ATOMIC_ACQUIRE);
    unsigned n = __atomic_load_n(&c->n, __ATOMIC_ACQUIRE);
    const iisd_ctx_entry_t *v = __atomic_load_n(&c->v, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (v[i].id == moduleId)
            return v[i].ctx;
    return NULL;
}

static HRESULT mcc_SetModuleContext(IHttpModuleContextContainer *This, IHttpStoredContext *ppStoredContext,
                                    HTTP_MODULE_ID moduleId)
{
    iisd_container_t *c = container_of_iface(This);
    if (ppStoredContext == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    pthread_mutex_lock(&c->lock);
    if (find_locked(c, moduleId) >= 0) {
        pthread_mutex_unlock(&c->lock);
        return HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED);
    }
    if (c->n == c->cap) {
        /* the new array holds a link to the old one, freed at cleanup: readers may still use it */
        unsigned cap = c->cap * 2;
        iisd_ctx_entry_t *v = iisd_xmalloc((cap + 1) * sizeof(*v));
        memcpy(v + 1, c->v, c->n * sizeof(*v));
        v[0].id = NULL;
        v[0].ctx = c->v == c->inl ? NULL : (IHttpStoredContext *)(c->v - 1);
        __atomic_store_n(&c->v, v + 1, __ATOMIC_RELEASE);
        c->cap = cap;
    }
    c->v[c->n].id = moduleId;
    c->v[c->n].ctx = ppStoredContext;
    __atomic_store_n(&c->n, c->n + 1, __ATOMIC_RELEASE);
    uintptr_t k = (uintptr_t)moduleId;
    if (k - 1 < c->ndirect)
        __atomic_store_n(&c->direct[k - 1], ppStoredContext, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->lock);
    return S_OK;
}

/* The dispensed vtable's slots 0-1 take the derived `This` type; same object. */
static IHttpStoredContext *dispensed_GetModuleContext(IDispensedHttpModuleContextContainer *This,
                                                      HTTP_MODULE_ID moduleId)
{
    return mcc_GetModuleContext((IHttpModuleContextContainer *)This, moduleId);
}

static HRESULT dispensed_SetModuleContext(IDispensedHttpModuleContextContainer *This,
                                          IHttpStoredContext *ppStoredContext, HTTP_MODULE_ID moduleId)
{
    return mcc_SetModuleContext((IHttpModuleContextContainer *)This, ppStoredContext, moduleId);
}

static void dispensed_ReleaseContainer(IDispensedHttpModuleContextContainer *This)
{
    iisd_container_t *c = (iisd_container_t *)This;
    iisd_container_destroy(c);
    free(c);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpModuleContextContainerVtbl v;
} mcc_vtbl = {NULL,
              NULL,
              {
                  .GetModuleContext = mcc_GetModuleContext,
                  .SetModuleContext = mcc_SetModuleContext,
              }};

static const struct {
    void *offset_to_top, *rtti;
    IDispensedHttpModuleContextContainerVtbl v;
} dispensed_vtbl = {NULL,
                    NULL,
                    {
                        .GetModuleContext = dispensed_GetModuleContext,
                        .SetModuleContext = dispensed_SetModuleContext,
                        .ReleaseContainer = dispensed_ReleaseContainer,
                    }};

void iisd_container_init(iisd_container_t *c)
{
    c->iface.lpVtbl = &mcc_vtbl.v;
    pthread_mutex_init(&c->lock, NULL);
    c->v = c->inl;
    c->n = 0;
    c->cap = IISD_CONTAINER_INLINE;
    c->direct = NULL;
    c->ndirect = 0;
}

void iisd_container_cleanup(iisd_container_t *c)
{
    /*
     * Detach the entries under the lock and run the modules' cleanup code
     * without it: CleanupStoredContext may touch this container again. A
     * context set during cleanup is cleaned up by the next round.
     */
    for (;;) {
        iisd_ctx_entry_t local[IISD_CONTAINER_INLINE];
        pthread_mutex_lock(&c->lock);
        unsigned n = c->n;
        iisd_ctx_entry_t *v = c->v;
        if (n == 0) {
            pthread_mutex_unlock(&c->lock);
            return;
        }
        if (v == c->inl) {
            memcpy(local, v, n * sizeof(*v));
            v = local;
        }
        c->v = c->inl;
        c->n = 0;
        c->cap = IISD_CONTAINER_INLINE;
        for (unsigned i = 0; i < c->ndirect; i++)
            __atomic_store_n(&c->direct[i], NULL, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&c->lock);

        for (unsigned i = n; i-- > 0;)
            v[i].ctx->lpVtbl->CleanupStoredContext(v[i].ctx);
        if (v != local) {
            /* this array and the ones it outgrew, linked through their slot -1 */
            for (iisd_ctx_entry_t *a = v - 1; a != NULL;) {
                iisd_ctx_entry_t *older = (iisd_ctx_entry_t *)a[0].ctx;
                free(a);
                a = older;
            }
        }
    }
}

void iisd_container_destroy(iisd_container_t *c)
{
    iisd_container_cleanup(c);
    pthread_mutex_destroy(&c->lock);
    free(c->direct);
    c->direct = NULL;
    c->ndirect = 0;
}

void iisd_container_index(iisd_container_t *c, unsigned n)
{
    c->direct = n ? iisd_xcalloc(n, sizeof(*c->direct)) : NULL;
    c->ndirect = n;
}

IDispensedHttpModuleContextContainer *iisd_container_dispense(void)
{
    iisd_container_t *c = iisd_xmalloc(sizeof(*c));
    iisd_container_init(c);
    c->dispensed.lpVtbl = &dispensed_vtbl.v;
    return &c->dispensed;
}
