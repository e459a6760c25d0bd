/*
 * The open-file cache behind IHttpServer::GetFileInfo: IHttpFileInfo objects
 * holding an open fd and the stat data of a file (size, times, ETag,
 * Last-Modified string), or the attributes of a directory.
 *
 * Each thread has its own table (bounded, least recently used out), so a hit
 * takes no lock and makes no system call. Entries are reference counted
 * atomically: a request keeps its entry, and with it the fd, until it calls
 * DereferenceCacheData, on whatever thread that happens.
 *
 * Freshness: the folder of every cached file is watched with inotify; any
 * change in it makes the entries of that folder revalidate (one stat) on
 * their next use, and an entry that changed is reopened. Independently of
 * notifications, an entry older than IISD_FILECACHE_MAX_AGE_MS is revalidated,
 * which bounds staleness where notifications cannot see a change (a write
 * through a hard link in another folder, a changed symbolic link). Without
 * inotify every use revalidates.
 */
#pragma once
#include <httpserv.h>

#define IISD_FILECACHE_MAX_AGE_MS 2000

/* IHttpServer::GetFileInfo. fCache FALSE returns a private, uncached object. */
HRESULT iisd_filecache_get(PCWSTR path, BOOL cache, IHttpFileInfo **out);

/*
 * Calls fn for every entry the cache holds (on any thread's table), holding
 * a reference for the length of the call. Entries are IHttpFileInfo objects
 * whose GetCacheKey is a key of the "FILE" cache: equal for the same path,
 * a prefix for a folder of the path.
 */
void iisd_filecache_each(void (*fn)(IHttpCacheSpecificData *data, void *arg), void *arg);
