/*
 * IHttpServer::DoCacheOperation and GL_CACHE_OPERATION (see cacheops.h).
 */
#include "pipeline/cacheops.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "core/log.h"
#include "core/mem.h"
#include "pipeline/engine.h"
#include "pipeline/filecache.h"

#define GL_BIT(mask) ((DWORD)__builtin_ctz(mask))

/* ---- ICacheProvider ---------------------------------------------------------- */

typedef struct cache_provider {
    ICacheProvider iface; /* first */
    CACHE_OPERATION op;
    IHttpCacheKey *key;
    IHttpCacheSpecificData *record;
    IHttpTraceContext *trace;
    HRESULT error;
} cache_provider_t;

static VOID cp_SetErrorStatus(ICacheProvider *This, HRESULT hr)
{
    ((cache_provider_t *)This)->error = hr;
}

static CACHE_OPERATION cp_GetCacheOperation(ICacheProvider *This)
{
    return ((cache_provider_t *)This)->op;
}

static IHttpCacheKey *cp_GetCacheKey(ICacheProvider *This)
{
    return ((cache_provider_t *)This)->key;
}

/* ADD: the record to store; RETRIEVE: what a module set with SetCacheRecord (else NULL). */
static IHttpCacheSpecificData *cp_GetCacheRecord(ICacheProvider *This)
{
    return ((cache_provider_t *)This)->record;
}

/* The record DoCacheOperation hands back (a module that sets it for RETRIEVE passes a reference). */
static VOID cp_SetCacheRecord(ICacheProvider *This, IHttpCacheSpecificData *pCacheRecord)
{
    ((cache_provider_t *)This)->record = pCacheRecord;
}

static IHttpTraceContext *cp_GetTraceContext(ICacheProvider *This)
{
    return ((cache_provider_t *)This)->trace;
}

static const struct {
    void *offset_to_top, *rtti;
    ICacheProviderVtbl v;
} cp_vtbl = {NULL,
             NULL,
             {.SetErrorStatus = cp_SetErrorStatus,
              .GetCacheOperation = cp_GetCacheOperation,
              .GetCacheKey = cp_GetCacheKey,
              .GetCacheRecord = cp_GetCacheRecord,
              .SetCacheRecord = cp_SetCacheRecord,
              .GetTraceContext = cp_GetTraceContext}};

/* ---- the store of module caches ------------------------------------------------ */

typedef struct rec {
    struct rec *next;
    wchar_t *cache; /* the cache name */
    DWORD hash;
    IHttpCacheSpecificData *data; /* holds one reference */
} rec_t;

static struct {
    pthread_mutex_t lock;
    rec_t *list;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static IHttpCacheKey *key_of(IHttpCacheSpecificData *d)
{
    return d->lpVtbl->GetCacheKey(d);
}

/* Unlinks and returns the records that match; lock held. */
static rec_t *take_matching(CACHE_OPERATION op, IHttpCacheKey *key, PCWSTR name, DWORD hash)
{
    rec_t *out = NULL;
    for (rec_t **pp = &S.list; *pp != NULL;) {
        rec_t *r = *pp;
        bool hit = wcscmp(r->cache, name) == 0 &&
                   (op == CACHE_OPERATION_FLUSH_PREFIX
                        ? key->lpVtbl->GetIsPrefix(key, key_of(r->data))
                        : r->hash == hash && key->lpVtbl->GetIsEqual(key, key_of(r->data)));
        if (hit) {
            *pp = r->next;
            r->next = out;
            out = r;
        } else {
            pp = &r->next;
        }
    }
    return out;
}

static void drop(rec_t *r)
{
    while (r != NULL) {
        rec_t *nx = r->next;
        r->data->lpVtbl->SetFlushed(r->data);
        r->data->lpVtbl->DereferenceCacheData(r->data);
        free(r->cache);
        free(r);
        r = nx;
    }
}

static HRESULT store_op(CACHE_OPERATION op, IHttpCacheKey *key, PCWSTR name, IHttpCacheSpecificData **data)
{
    DWORD hash = key->lpVtbl->GetHash(key);
    switch (op) {
    case CACHE_OPERATION_ADD: {
        IHttpCacheSpecificData *d = *data;
        if (d == NULL)
            return E_INVALIDARG;
        rec_t *r = iisd_xcalloc(1, sizeof(*r));
        r->cache = iisd_xmalloc((wcslen(name) + 1) * sizeof(wchar_t));
        wcscpy(r->cache, name);
        r->hash = hash;
        r->data = d;
        d->lpVtbl->ReferenceCacheData(d);
        d->lpVtbl->ResetTTL(d);
        pthread_mutex_lock(&S.lock);
        rec_t *old = take_matching(CACHE_OPERATION_DELETE, key, name, hash); /* ADD replaces */
        r->next = S.list;
        S.list = r;
        pthread_mutex_unlock(&S.lock);
        drop(old);
        return S_OK;
    }
    case CACHE_OPERATION_RETRIEVE: {
        IHttpCacheSpecificData *found = NULL;
        pthread_mutex_lock(&S.lock);
        for (rec_t *r = S.list; r != NULL; r = r->next) {
            if (r->hash == hash && wcscmp(r->cache, name) == 0 &&
                key->lpVtbl->GetIsEqual(key, key_of(r->data))) {
                found = r->data;
                found->lpVtbl->ReferenceCacheData(found);
                found->lpVtbl->ResetTTL(found);
                break;
            }
        }
        pthread_mutex_unlock(&S.lock);
        *data = found;
        return found ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    case CACHE_OPERATION_DELETE:
    case CACHE_OPERATION_FLUSH_PREFIX: {
        pthread_mutex_lock(&S.lock);
        rec_t *gone = take_matching(op, key, name, hash);
        pthread_mutex_unlock(&S.lock);
        bool any = gone != NULL;
        drop(gone);
        return any || op == CACHE_OPERATION_FLUSH_PREFIX ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    case CACHE_OPERATION_ENUM: {
        /* a snapshot with references, so that Enum may call DoCacheOperation itself */
        IHttpCacheSpecificData **v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&S.lock);
        for (rec_t *r = S.list; r != NULL; r = r->next)
            n += wcscmp(r->cache, name) == 0;
        v = iisd_xcalloc(n ? n : 1, sizeof(*v));
        n = 0;
        for (rec_t *r = S.list; r != NULL; r = r->next) {
            if (wcscmp(r->cache, name) == 0) {
                r->data->lpVtbl->ReferenceCacheData(r->data);
                v[n++] = r->data;
            }
        }
        pthread_mutex_unlock(&S.lock);
        for (size_t i = 0; i < n; i++) {
            key->lpVtbl->Enum(key, v[i]);
            v[i]->lpVtbl->DereferenceCacheData(v[i]);
        }
        free(v);
        return S_OK;
    }
    }
    return E_INVALIDARG;
}

void iisd_cache_cleanup(void)
{
    rec_t *expired = NULL;
    pthread_mutex_lock(&S.lock);
    for (rec_t **pp = &S.list; *pp != NULL;) {
        rec_t *r = *pp;
        BOOL gone = FALSE;
        r->data->lpVtbl->DecrementTTL(r->data, &gone);
        if (gone || r->data->lpVtbl->GetFlushed(r->data)) {
            *pp = r->next;
            r->next = expired;
            expired = r;
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&S.lock);
    drop(expired);
}

void iisd_cache_clear(void)
{
    pthread_mutex_lock(&S.lock);
    rec_t *all = S.list;
    S.list = NULL;
    pthread_mutex_unlock(&S.lock);
    drop(all);
}

/* ---- the file cache ------------------------------------------------------------ */

typedef struct file_op {
    CACHE_OPERATION op;
    IHttpCacheKey *key;
    IHttpCacheSpecificData *found;
    unsigned hits;
} file_op_t;

static void file_each(IHttpCacheSpecificData *d, void *arg)
{
    file_op_t *f = arg;
    IHttpCacheKey *k = f->key;
    switch (f->op) {
    case CACHE_OPERATION_ENUM:
        k->lpVtbl->Enum(k, d);
        break;
    case CACHE_OPERATION_RETRIEVE:
        if (f->found == NULL && k->lpVtbl->GetIsEqual(k, key_of(d))) {
            d->lpVtbl->ReferenceCacheData(d);
            f->found = d;
        }
        break;
    case CACHE_OPERATION_DELETE:
    case CACHE_OPERATION_FLUSH_PREFIX:
        if (f->op == CACHE_OPERATION_DELETE ? k->lpVtbl->GetIsEqual(k, key_of(d))
                                            : k->lpVtbl->GetIsPrefix(k, key_of(d))) {
            d->lpVtbl->SetFlushed(d); /* each table drops it at its next lookup */
            f->hits++;
        }
        break;
    default:
        break;
    }
}

static HRESULT file_op(CACHE_OPERATION op, IHttpCacheKey *key, IHttpCacheSpecificData **data)
{
    if (op == CACHE_OPERATION_ADD)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    file_op_t f = {.op = op, .key = key};
    iisd_filecache_each(file_each, &f);
    if (op == CACHE_OPERATION_RETRIEVE) {
        *data = f.found;
        return f.found ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    if (op == CACHE_OPERATION_DELETE && f.hits == 0)
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    return S_OK;
}

/* ---- DoCacheOperation ------------------------------------------------------------ */

HRESULT iisd_cache_operation(CACHE_OPERATION op, IHttpCacheKey *key, IHttpCacheSpecificData **data,
                             IHttpTraceContext *trace)
{
    if (key == NULL || data == NULL || (unsigned)op > CACHE_OPERATION_ENUM)
        return E_INVALIDARG;
    PCWSTR name = key->lpVtbl->GetCacheName(key);
    if (name == NULL)
        return E_INVALIDARG;
    IHttpCacheSpecificData *in = op == CACHE_OPERATION_ADD ? *data : NULL;
    if (op != CACHE_OPERATION_ADD)
        *data = NULL;
    cache_provider_t p = {.iface.lpVtbl = &cp_vtbl.v, .op = op, .key = key, .record = in, .trace = trace};
    if (iisd_global_notify(GL_BIT(GL_CACHE_OPERATION), (IHttpEventProvider *)&p.iface) ==
        GL_NOTIFICATION_HANDLED) {
        /* a module owns this cache and did the work */
        if (op == CACHE_OPERATION_RETRIEVE) {
            *data = p.record;
            if (p.record == NULL && SUCCEEDED(p.error))
                return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
        }
        return p.error;
    }
    if (wcscmp(name, FILE_CACHE_NAME) == 0)
        return file_op(op, key, data);
    if (wcscmp(name, URI_CACHE_NAME) == 0 || wcscmp(name, TOKEN_CACHE_NAME) == 0)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    return store_op(op, key, name, data);
}
