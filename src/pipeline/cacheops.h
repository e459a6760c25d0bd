/*
 * IHttpServer::DoCacheOperation, GL_CACHE_OPERATION and the server's store
 * for module caches.
 *
 * Every operation first raises GL_CACHE_OPERATION with an ICacheProvider
 * (the operation, the caller's key, the record). A global module that owns
 * the cache may carry it out and return GL_NOTIFICATION_HANDLED; the record
 * it sets with SetCacheRecord is what the caller gets. Otherwise the server
 * carries it out on the cache the key names (IHttpCacheKey::GetCacheName):
 *
 *  - "FILE": the open-file cache of IHttpServer::GetFileInfo. RETRIEVE, DELETE,
 *    FLUSH_PREFIX and ENUM; ADD is ERROR_NOT_SUPPORTED (the server fills it).
 *  - "URI", "TOKEN": ERROR_NOT_SUPPORTED (iisd's URI facts are per-thread
 *    derived data, not records, and Linux has no logon tokens to cache).
 *  - any other name: a process-wide store of module records, keyed by name,
 *    GetHash and GetIsEqual, with their time to live counted down by
 *    DecrementTTL at every GL_CACHE_CLEANUP.
 *
 * Matching always asks the caller's key: pCacheKey->GetIsEqual(entry key)
 * for RETRIEVE and DELETE, pCacheKey->GetIsPrefix(entry key) for
 * FLUSH_PREFIX, and pCacheKey->Enum(record) for every record of that cache
 * for ENUM.
 */
#pragma once
#include <httpserv.h>

HRESULT iisd_cache_operation(CACHE_OPERATION op, IHttpCacheKey *key, IHttpCacheSpecificData **data,
                             IHttpTraceContext *trace);
/* The TTL pass over the module store, before each GL_CACHE_CLEANUP. */
void iisd_cache_cleanup(void);
/* Drops every stored record (at shutdown, before the modules terminate). */
void iisd_cache_clear(void);
