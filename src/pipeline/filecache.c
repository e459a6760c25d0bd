#include "pipeline/filecache.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/str.h"
#include "pipeline/container.h"

#ifndef FILE_ATTRIBUTE_READONLY
#define FILE_ATTRIBUTE_READONLY  0x00000001
#define FILE_ATTRIBUTE_DIRECTORY 0x00000010
#define FILE_ATTRIBUTE_NORMAL    0x00000080
#endif

#define FC_MAX_ENTRIES 1024

/* ---- folder watches ----------------------------------------------------- */

typedef struct fc_dir {
    struct fc_dir *next; /* by path, under dirs_lock */
    char *path;
    _Atomic int wd; /* -1: not watched (then entries revalidate on every use) */
    _Atomic uint64_t seq;
} fc_dir_t;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static fc_dir_t **dirs_by_path;
static unsigned dirs_nb = 1024;
static fc_dir_t **dirs_by_wd; /* indexed by watch descriptor */
static unsigned dirs_wd_cap;
static int inotify_fd = -1;
static _Atomic uint64_t epoch; /* bumped on a queue overflow: everything revalidates */
static unsigned max_entries = FC_MAX_ENTRIES;

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void bump(fc_dir_t *d)
{
    if (d != NULL)
        atomic_fetch_add_explicit(&d->seq, 1, memory_order_release);
}

static void *watch_thread(void *arg)
{
    (void)arg;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(inotify_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pthread_mutex_lock(&dirs_lock);
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                atomic_fetch_add(&epoch, 1);
            if (ev->wd >= 0 && (unsigned)ev->wd < dirs_wd_cap) {
                fc_dir_t *d = dirs_by_wd[ev->wd];
                bump(d);
                if (d != NULL && (ev->mask & IN_IGNORED)) {
                    d->wd = -1; /* the folder went away: watch it again if it comes back */
                    dirs_by_wd[ev->wd] = NULL;
                }
            }
            p += sizeof(*ev) + ev->len;
        }
        pthread_mutex_unlock(&dirs_lock);
    }
    return NULL;
}

static void init_once_fn(void)
{
    struct rlimit rl;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* leave at least three quarters of the descriptors to connections */
        rlim_t per = rl.rlim_cur / 4 / (rlim_t)cpus;
        max_entries = per < 16 ? 16 : per > FC_MAX_ENTRIES ? FC_MAX_ENTRIES : (unsigned)per;
    }
    dirs_by_path = calloc(dirs_nb, sizeof(*dirs_by_path));
    inotify_fd = inotify_init1(IN_CLOEXEC);
    if (inotify_fd < 0) {
        iisd_log(IISD_LOG_WARN, "file cache: inotify unavailable (%s): files are checked on every use",
                 strerror(errno));
        return;
    }
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 * 1024);
    if (pthread_create(&t, &a, watch_thread, NULL) != 0) {
        close(inotify_fd);
        inotify_fd = -1;
    }
    pthread_attr_destroy(&a);
}

/* The watch record of the folder of path (created and watched on first use); never freed. */
static fc_dir_t *dir_of(const char *path, size_t n)
{
    size_t dl = n;
    while (dl > 0 && path[dl - 1] != '/')
        dl--;
    if (dl > 1)
        dl--; /* without the trailing slash, except for "/" */
    if (dirs_by_path == NULL || dl == 0)
        return NULL;
    uint32_t h = hash_str(path, dl) % dirs_nb;
    pthread_mutex_lock(&dirs_lock);
    fc_dir_t *d;
    for (d = dirs_by_path[h]; d != NULL; d = d->next)
        if (strlen(d->path) == dl && memcmp(d->path, path, dl) == 0)
            break;
    if (d == NULL) {
        d = calloc(1, sizeof(*d));
        if (d != NULL && (d->path = strndup(path, dl)) != NULL) {
            d->wd = -1;
            d->next = dirs_by_path[h];
            dirs_by_path[h] = d;
        } else {
            free(d);
            d = NULL;
        }
    }
    if (d != NULL && d->wd < 0 && inotify_fd >= 0) {
        int wd = inotify_add_watch(inotify_fd, d->path,
                                   IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
                                       IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF);
        if (wd >= 0) {
            if ((unsigned)wd >= dirs_wd_cap) {
                unsigned cap = dirs_wd_cap ? dirs_wd_cap : 256;
                while (cap <= (unsigned)wd)
                    cap *= 2;
                fc_dir_t **v = realloc(dirs_by_wd, cap * sizeof(*v));
                if (v != NULL) {
                    memset(v + dirs_wd_cap, 0, (cap - dirs_wd_cap) * sizeof(*v));
                    dirs_by_wd = v;
                    dirs_wd_cap = cap;
                }
            }
            if ((unsigned)wd < dirs_wd_cap) {
                dirs_by_wd[wd] = d;
                d->wd = wd;
            } else {
                inotify_rm_watch(inotify_fd, wd);
            }
        }
    }
    pthread_mutex_unlock(&dirs_lock);
    return d;
}

/* ---- entries ----------------------------------------------------------- */

typedef struct fc_entry {
    IHttpFileInfo iface; /* first */
    IHttpCacheKey key;   /* GetCacheKey: cache "FILE", the path */
    _Atomic int refs;
    _Atomic bool flushed;
    struct fc_entry *hnext, *prev, *next; /* owner thread's table and LRU list */
    struct fc_entry *rprev, *rnext;       /* every entry of every table, under reg_lock */
    uint32_t hash;
    bool in_table;
    char *path;
    size_t path_len;
    wchar_t *wpath;
    int fd;
    DWORD attrs;
    uint64_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtim, ctim;
    FILETIME ft;
    char etag[40];
    USHORT etag_len;
    char lm[32];
    fc_dir_t *dir;
    uint64_t dir_seq, epoch, checked_ms;
    iisd_container_t mcc;
} fc_entry_t;

typedef struct fc_table {
    fc_entry_t **buckets;
    unsigned nb, count;
    fc_entry_t lru; /* sentinel: next is the most recent */
} fc_table_t;

/* Every entry held by a table, for IHttpServer::DoCacheOperation (cacheops.h). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static fc_entry_t reg_head = {.rprev = &reg_head, .rnext = &reg_head};

static void reg_add(fc_entry_t *e)
{
    pthread_mutex_lock(&reg_lock);
    e->rnext = reg_head.rnext;
    e->rprev = &reg_head;
    reg_head.rnext->rprev = e;
    reg_head.rnext = e;
    pthread_mutex_unlock(&reg_lock);
}

static void reg_del(fc_entry_t *e)
{
    pthread_mutex_lock(&reg_lock);
    e->rprev->rnext = e->rnext;
    e->rnext->rprev = e->rprev;
    pthread_mutex_unlock(&reg_lock);
}

static pthread_key_t table_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread fc_table_t *tls_table;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void entry_free(fc_entry_t *e)
{
    iisd_container_destroy(&e->mcc);
    if (e->fd >= 0)
        close(e->fd);
    free(e->path);
    free(e->wpath);
    free(e);
}

static void entry_deref(fc_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        entry_free(e);
}

static fc_entry_t *E(IHttpFileInfo *This)
{
    return (fc_entry_t *)This;
}

static IHttpCacheKey *fi_GetCacheKey(IHttpFileInfo *This)
{
    return &E(This)->key;
}
static VOID fi_ReferenceCacheData(IHttpFileInfo *This)
{
    atomic_fetch_add_explicit(&E(This)->refs, 1, memory_order_relaxed);
}
static VOID fi_DereferenceCacheData(IHttpFileInfo *This)
{
    entry_deref(E(This));
}
static VOID fi_ResetTTL(IHttpFileInfo *This) {}
static VOID fi_DecrementTTL(IHttpFileInfo *This, BOOL *pfTTLExpired)
{
    if (pfTTLExpired != NULL)
        *pfTTLExpired = FALSE;
}
/* A flushed entry is dropped from the cache at its next lookup. */
static VOID fi_SetFlushed(IHttpFileInfo *This)
{
    atomic_store(&E(This)->flushed, true);
}
static BOOL fi_GetFlushed(IHttpFileInfo *This)
{
    return atomic_load(&E(This)->flushed);
}
static DWORD fi_GetAttributes(IHttpFileInfo *This)
{
    return E(This)->attrs;
}
static VOID fi_GetSize(IHttpFileInfo *This, ULARGE_INTEGER *pliSize)
{
    if (pliSize != NULL)
        pliSize->QuadPart = E(This)->size;
}
/* api-status: implemented (contents are never cached in memory: NULL, use GetFileHandle) */
static const BYTE *fi_GetFileBuffer(IHttpFileInfo *This)
{
    return NULL;
}
static HANDLE fi_GetFileHandle(IHttpFileInfo *This)
{
    return IisdFdToHandle(E(This)->fd);
}
static PCWSTR fi_GetFilePath(IHttpFileInfo *This)
{
    return E(This)->wpath;
}
static PCSTR fi_GetETag(IHttpFileInfo *This, USHORT *pcchETag)
{
    if (pcchETag != NULL)
        *pcchETag = E(This)->etag_len;
    return E(This)->etag;
}
static VOID fi_GetLastModifiedTime(IHttpFileInfo *This, FILETIME *pFileTime)
{
    if (pFileTime != NULL)
        *pFileTime = E(This)->ft;
}
static PCSTR fi_GetLastModifiedString(IHttpFileInfo *This)
{
    return E(This)->lm;
}
/* api-status: implemented (no kernel response cache on Linux: FALSE) */
static BOOL fi_GetHttpCacheAllowed(IHttpFileInfo *This, DWORD *pSecondsToLive)
{
    if (pSecondsToLive != NULL)
        *pSecondsToLive = 0;
    return FALSE;
}
/* api-status: implemented (the file was opened with the server's rights: S_OK) */
static HRESULT fi_AccessCheck(IHttpFileInfo *This, HANDLE hUserToken, PSID pUserSid)
{
    return S_OK;
}
/* api-status: implemented (no virtual-directory credentials on Linux: NULL) */
static HANDLE fi_GetVrToken(IHttpFileInfo *This)
{
    return NULL;
}
/* api-status: partial: returns NULL (the file is not tied to a virtual directory) */
static PCWSTR fi_GetVrPath(IHttpFileInfo *This)
{
    return NULL;
}
static IHttpModuleContextContainer *fi_GetModuleContextContainer(IHttpFileInfo *This)
{
    return iisd_container_iface(&E(This)->mcc);
}

static bool same_file(const fc_entry_t *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == (uint64_t)st->st_size &&
           e->mtim.tv_sec == st->st_mtim.tv_sec && e->mtim.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctim.tv_sec == st->st_ctim.tv_sec && e->ctim.tv_nsec == st->st_ctim.tv_nsec &&
           ((e->attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) == (S_ISDIR(st->st_mode) != 0);
}

static BOOL fi_CheckIfFileHasChanged(IHttpFileInfo *This, HANDLE hUserToken)
{
    struct stat st;
    return stat(E(This)->path, &st) != 0 || !same_file(E(This), &st);
}

/* ---- the entry's key (cache "FILE") ---------------------------------------- */

static fc_entry_t *K(IHttpCacheKey *k)
{
    return (fc_entry_t *)((char *)k - offsetof(fc_entry_t, key));
}

static DWORD fk_GetHash(IHttpCacheKey *This)
{
    return K(This)->hash;
}

static PCWSTR fk_GetCacheName(IHttpCacheKey *This)
{
    return FILE_CACHE_NAME;
}

static const IHttpCacheKeyVtbl fk_vtbl;

/* Equal: another file key with the same path. */
static bool fk_GetIsEqual(IHttpCacheKey *This, IHttpCacheKey *other)
{
    if (other == NULL || other->lpVtbl != &fk_vtbl)
        return false;
    const fc_entry_t *a = K(This), *b = K(other);
    return a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0;
}

/* Prefix: this key's path is other's path or one of its folders. */
static bool fk_GetIsPrefix(IHttpCacheKey *This, IHttpCacheKey *other)
{
    if (other == NULL || other->lpVtbl != &fk_vtbl)
        return false;
    const fc_entry_t *a = K(This), *b = K(other);
    size_t n = a->path_len;
    while (n > 1 && a->path[n - 1] == '/')
        n--;
    return b->path_len >= n && memcmp(a->path, b->path, n) == 0 &&
           (b->path_len == n || b->path[n] == '/' || (n == 1 && a->path[0] == '/'));
}

static VOID fk_Enum(IHttpCacheKey *This, IHttpCacheSpecificData *pCacheData) {}

static const IHttpCacheKeyVtbl fk_vtbl = {
    .GetHash = fk_GetHash,
    .GetCacheName = fk_GetCacheName,
    .GetIsEqual = fk_GetIsEqual,
    .GetIsPrefix = fk_GetIsPrefix,
    .Enum = fk_Enum,
};

static const IHttpFileInfoVtbl fi_vtbl = {
    .GetCacheKey = fi_GetCacheKey,
    .ReferenceCacheData = fi_ReferenceCacheData,
    .DereferenceCacheData = fi_DereferenceCacheData,
    .ResetTTL = fi_ResetTTL,
    .DecrementTTL = fi_DecrementTTL,
    .SetFlushed = fi_SetFlushed,
    .GetFlushed = fi_GetFlushed,
    .GetAttributes = fi_GetAttributes,
    .GetSize = fi_GetSize,
    .GetFileBuffer = fi_GetFileBuffer,
    .GetFileHandle = fi_GetFileHandle,
    .GetFilePath = fi_GetFilePath,
    .GetETag = fi_GetETag,
    .GetLastModifiedTime = fi_GetLastModifiedTime,
    .GetLastModifiedString = fi_GetLastModifiedString,
    .GetHttpCacheAllowed = fi_GetHttpCacheAllowed,
    .AccessCheck = fi_AccessCheck,
    .GetVrToken = fi_GetVrToken,
    .GetVrPath = fi_GetVrPath,
    .GetModuleContextContainer = fi_GetModuleContextContainer,
    .CheckIfFileHasChanged = fi_CheckIfFileHasChanged,
};

static HRESULT errno_hr(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
        return E_ACCESSDENIED;
    case ENOTDIR:
        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    default:
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    }
}

/* Opens path and fills a new entry (one reference, the caller's). */
static HRESULT entry_open(const char *path, size_t n, const wchar_t *wpath, fc_entry_t **out)
{
    struct stat st;
    int fd = -1;
    if (stat(path, &st) < 0)
        return errno_hr(errno);
    if (S_ISREG(st.st_mode)) {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            return errno_hr(errno);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
        }
    } else if (!S_ISDIR(st.st_mode)) {
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND); /* devices, pipes, sockets */
    }
    fc_entry_t *e = calloc(1, sizeof(*e));
    size_t wl = wcslen(wpath);
    if (e == NULL || (e->path = strndup(path, n)) == NULL ||
        (e->wpath = malloc((wl + 1) * sizeof(wchar_t))) == NULL) {
        if (e != NULL)
            free(e->path);
        free(e);
        if (fd >= 0)
            close(fd);
        return E_OUTOFMEMORY;
    }
    wmemcpy(e->wpath, wpath, wl + 1);
    e->iface.lpVtbl = &fi_vtbl;
    e->key.lpVtbl = &fk_vtbl;
    e->hash = hash_str(path, n);
    atomic_init(&e->refs, 1);
    atomic_init(&e->flushed, false);
    e->path_len = n;
    e->fd = fd;
    e->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    e->attrs = S_ISDIR(st.st_mode) ? FILE_ATTRIBUTE_DIRECTORY : 0;
    if ((st.st_mode & 0222) == 0)
        e->attrs |= FILE_ATTRIBUTE_READONLY;
    if (e->attrs == 0)
        e->attrs = FILE_ATTRIBUTE_NORMAL;
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->mtim = st.st_mtim;
    e->ctim = st.st_ctim;
    /* FILETIME: 100-ns intervals since 1601-01-01 */
    uint64_t ft =
        ((uint64_t)st.st_mtim.tv_sec + 11644473600ull) * 10000000ull + (uint64_t)st.st_mtim.tv_nsec / 100;
    e->ft.dwLowDateTime = (DWORD)ft;
    e->ft.dwHighDateTime = (DWORD)(ft >> 32);
    /* the ETag IIS sends: the hex FILETIME and a change number */
    e->etag_len = (USHORT)snprintf(e->etag, sizeof(e->etag), "\"%llx:0\"", (unsigned long long)ft);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char mo[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(e->lm, sizeof(e->lm), "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    iisd_container_init(&e->mcc);
    *out = e;
    return S_OK;
}

static void table_destroy(void *p)
{
    fc_table_t *t = p;
    if (t == NULL)
        return;
    for (fc_entry_t *e = t->lru.next; e != &t->lru;) {
        fc_entry_t *nx = e->next;
        reg_del(e);
        entry_deref(e);
        e = nx;
    }
    free(t->buckets);
    free(t);
}

static void key_once_fn(void)
{
    pthread_key_create(&table_key, table_destroy);
}

static fc_table_t *table(void)
{
    if (tls_table != NULL)
        return tls_table;
    pthread_once(&key_once, key_once_fn);
    fc_table_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->nb = 1;
    while (t->nb < max_entries)
        t->nb *= 2;
    t->buckets = calloc(t->nb, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    t->lru.next = t->lru.prev = &t->lru;
    pthread_setspecific(table_key, t);
    tls_table = t;
    return t;
}

static void lru_unlink(fc_entry_t *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_front(fc_table_t *t, fc_entry_t *e)
{
    e->next = t->lru.next;
    e->prev = &t->lru;
    t->lru.next->prev = e;
    t->lru.next = e;
}

static void table_remove(fc_table_t *t, fc_entry_t *e)
{
    fc_entry_t **pp = &t->buckets[e->hash & (t->nb - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    t->count--;
    e->in_table = false;
    reg_del(e);
    entry_deref(e); /* the table's reference */
}

/* True when e may be used without looking at the file system. */
static bool fresh(const fc_entry_t *e, uint64_t now)
{
    return e->dir != NULL && atomic_load_explicit(&e->dir->wd, memory_order_relaxed) >= 0 &&
           atomic_load_explicit(&e->dir->seq, memory_order_acquire) == e->dir_seq &&
           atomic_load_explicit(&epoch, memory_order_relaxed) == e->epoch &&
           now - e->checked_ms < IISD_FILECACHE_MAX_AGE_MS &&
           !atomic_load_explicit(&e->flushed, memory_order_relaxed);
}

HRESULT iisd_filecache_get(PCWSTR wpath, BOOL cache, IHttpFileInfo **out)
{
    if (out == NULL || wpath == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *out = NULL;
    pthread_once(&init_once, init_once_fn);
    char path[PATH_MAX];
    size_t wl = wcslen(wpath);
    size_t n = iisd_wcs_to_utf8(wpath, wl, path, sizeof(path));
    if (n >= sizeof(path))
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    fc_entry_t *e = NULL;
    fc_table_t *t = cache ? table() : NULL;
    if (t == NULL) {
        HRESULT hr = entry_open(path, n, wpath, &e);
        if (SUCCEEDED(hr))
            *out = &e->iface;
        return hr;
    }
    uint32_t h = hash_str(path, n);
    for (e = t->buckets[h & (t->nb - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && e->path_len == n && memcmp(e->path, path, n) == 0)
            break;
    uint64_t now = now_ms();
    if (e != NULL && !fresh(e, now)) {
        /* read the counters before looking, so that a change after the stat is not lost */
        uint64_t seq = e->dir ? atomic_load_explicit(&e->dir->seq, memory_order_acquire) : 0;
        uint64_t ep = atomic_load(&epoch);
        struct stat st;
        if (!atomic_load(&e->flushed) && stat(path, &st) == 0 && same_file(e, &st)) {
            if (e->dir != NULL && atomic_load(&e->dir->wd) < 0)
                dir_of(path, n); /* try to watch the folder again */
            e->dir_seq = seq;
            e->epoch = ep;
            e->checked_ms = now;
        } else {
            table_remove(t, e);
            e = NULL;
        }
    }
    if (e != NULL) {
        if (t->lru.next != e) {
            lru_unlink(e);
            lru_front(t, e);
        }
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        *out = &e->iface;
        return S_OK;
    }
    fc_dir_t *d = dir_of(path, n);
    uint64_t seq = d ? atomic_load_explicit(&d->seq, memory_order_acquire) : 0;
    uint64_t ep = atomic_load(&epoch);
    HRESULT hr = entry_open(path, n, wpath, &e);
    if (FAILED(hr))
        return hr;
    e->dir = d;
    e->dir_seq = seq;
    e->epoch = ep;
    e->checked_ms = now;
    e->hash = h;
    if (t->count >= max_entries)
        table_remove(t, t->lru.prev);
    e->hnext = t->buckets[h & (t->nb - 1)];
    t->buckets[h & (t->nb - 1)] = e;
    lru_front(t, e);
    t->count++;
    e->in_table = true;
    reg_add(e);
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the caller's; the table keeps one */
    *out = &e->iface;
    return S_OK;
}

void iisd_filecache_each(void (*fn)(IHttpCacheSpecificData *data, void *arg), void *arg)
{
    fc_entry_t **v = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&reg_lock);
    for (fc_entry_t *e = reg_head.rnext; e != &reg_head; e = e->rnext) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            fc_entry_t **nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL)
                break;
            v = nv;
        }
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the table holds one: never 0 here */
        v[n++] = e;
    }
    pthread_mutex_unlock(&reg_lock);
    for (size_t i = 0; i < n; i++) {
        fn((IHttpCacheSpecificData *)&v[i]->iface, arg);
        entry_deref(v[i]);
    }
    free(v);
}
