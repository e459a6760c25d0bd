/*
 * Built-in modules are ordinary IIS native modules. Linked into iisd, each
 * one's entry point is <Name>_RegisterModule and sits in the table in
 * builtin.c; built alone as a .so (-DIISD_MODULE_SO) it is RegisterModule.
 */
#pragma once
#include <windows.h>
#include <httpserv.h>
#include <stdbool.h>
#include <string.h>

#ifdef IISD_MODULE_SO
/* the image's one exported symbol (it is built with -fvisibility=hidden) */
#define IISD_MODULE_ENTRY(name) __attribute__((visibility("default"))) RegisterModule
#else
#define IISD_MODULE_ENTRY(name) name##_RegisterModule
#endif

/*
 * The request-module factory most built-in modules need. With size 0 the module keeps no
 * per-request state and every request shares one CHttpModule (its Dispose must do nothing);
 * otherwise each request gets `size` zeroed bytes from the request's allocator, a CHttpModule
 * first, then the module's own fields. Terminate has nothing to free.
 *
 *     static CHttpModuleVtbl my_vtbl;
 *     static iisd_factory_t factory = IISD_FACTORY(my_vtbl, 0);
 *     ... SetRequestNotifications(info, &factory.base, RQ_..., 0);
 */
typedef struct iisd_factory {
    IHttpModuleFactory base; /* first */
    CHttpModule shared;
    size_t size;
} iisd_factory_t;

static inline HRESULT iisd_factory_get(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    iisd_factory_t *f = (iisd_factory_t *)This;
    if (f->size == 0) {
        *pp = &f->shared;
        return S_OK;
    }
    CHttpModule *m = alloc->lpVtbl->AllocateMemory(alloc, (DWORD)f->size);
    if (m == NULL)
        return E_OUTOFMEMORY;
    memset(m, 0, f->size);
    m->lpVtbl = f->shared.lpVtbl;
    *pp = m;
    return S_OK;
}

static inline VOID iisd_factory_terminate(IHttpModuleFactory *This)
{
    (void)This;
}

static const IHttpModuleFactoryVtbl iisd_factory_vtbl = {.GetHttpModule = iisd_factory_get,
                                                         .Terminate = iisd_factory_terminate};

#define IISD_FACTORY(vtbl, bytes)                                                                            \
    {                                                                                                        \
        {&iisd_factory_vtbl}, {&(vtbl)}, (bytes)                                                             \
    }

/* A Dispose for modules whose per-request memory is the request's: nothing to free. */
static inline VOID iisd_module_dispose(CHttpModule *This)
{
    (void)This;
}

/* The server's IHttpUser factory (the iisd extension IIisdUserFactory), or NULL. */
static inline IIisdUserFactory *iisd_users(IHttpServer *srv)
{
    void *p2 = NULL, *f = NULL;
    if (FAILED(srv->lpVtbl->GetExtendedInterface(srv, HTTP_SERVER_INTERFACE_V2, &p2)) || p2 == NULL)
        return NULL;
    IHttpServer2 *s2 = (IHttpServer2 *)p2;
    if (FAILED(s2->lpVtbl->GetExtendedInterfaceByGuid(s2, &IID_IHttpServer, srv, &IID_IIisdUserFactory, &f)))
        return NULL;
    return (IIisdUserFactory *)f;
}
