/*
 * The server thread of the global notifications (see globals.h): file
 * change monitors on inotify, the periodic GL_CACHE_CLEANUP and
 * GL_HEALTH_CHECK, and GL_RSCA_QUERY.
 *
 * A monitor watches one folder (or one file). Several monitors may watch
 * the same folder: inotify gives them one watch descriptor, which is
 * removed when the last of them is released. For every change the thread
 * raises GL_FILE_CHANGE once per monitor of that watch, with the full path
 * of the entry that changed and the monitor.
 */
#include "pipeline/globals.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/cacheops.h"
#include "pipeline/container.h"
#include "pipeline/engine.h"

#define GL_BIT(mask) ((DWORD)__builtin_ctz(mask))

/* ---- file monitors -------------------------------------------------------- */

typedef struct filemon {
    IHttpFileMonitor iface; /* first */
    struct filemon *next;   /* under G.lock */
    _Atomic int refs;       /* the module's, plus one per delivery in progress */
    int wd;
    char *path;
    iisd_container_t mcc;
} filemon_t;

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    int ifd, efd;
    filemon_t *mons;
    pthread_t thread;
    bool running;
    /* a pending GL_RSCA_QUERY */
    char *rsca_fn, *rsca_params;
} G = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .ifd = -1, .efd = -1};

static void init_once(void)
{
    G.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (G.ifd < 0)
        iisd_log(IISD_LOG_WARN, "file change monitors are unavailable: inotify: %s", strerror(errno));
    G.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static IHttpModuleContextContainer *fm_GetModuleContextContainer(IHttpFileMonitor *This)
{
    return &((filemon_t *)This)->mcc.iface;
}

static void filemon_free(filemon_t *m)
{
    iisd_container_destroy(&m->mcc);
    free(m->path);
    free(m);
}

static void filemon_deref(filemon_t *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        filemon_free(m);
}

/* Stops the monitor (no GL_FILE_CHANGE for it is raised after this returns, except one
   already being delivered) and releases the module's reference. */
static VOID fm_DereferenceFileMonitor(IHttpFileMonitor *This)
{
    filemon_t *m = (filemon_t *)This;
    pthread_mutex_lock(&G.lock);
    bool shared = false;
    for (filemon_t **pp = &G.mons; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    for (filemon_t *o = G.mons; o != NULL; o = o->next)
        shared |= o->wd == m->wd;
    if (!shared && m->wd >= 0)
        inotify_rm_watch(G.ifd, m->wd);
    pthread_mutex_unlock(&G.lock);
    filemon_deref(m);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpFileMonitorVtbl v;
} fm_vtbl = {NULL,
             NULL,
             {.GetModuleContextContainer = fm_GetModuleContextContainer,
              .DereferenceFileMonitor = fm_DereferenceFileMonitor}};

HRESULT iisd_filemon_register(PCWSTR path, IHttpFileMonitor **out)
{
    if (out == NULL)
        return E_INVALIDARG;
    *out = NULL;
    if (path == NULL || path[0] == L'\0')
        return E_INVALIDARG;
    pthread_once(&G.once, init_once);
    if (G.ifd < 0)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    char p[4096];
    size_t n = iisd_wcs_to_utf8(path, wcslen(path), p, sizeof(p));
    if (n >= sizeof(p))
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    pthread_mutex_lock(&G.lock);
    int wd = inotify_add_watch(G.ifd, p,
                               IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
    if (wd < 0) {
        int e = errno;
        pthread_mutex_unlock(&G.lock);
        return e == ENOENT || e == ENOTDIR ? HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
               : e == EACCES               ? E_ACCESSDENIED
                                           : HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY);
    }
    filemon_t *m = iisd_xcalloc(1, sizeof(*m));
    m->iface.lpVtbl = &fm_vtbl.v;
    m->refs = 1;
    m->wd = wd;
    m->path = iisd_xstrdup(p);
    iisd_container_init(&m->mcc);
    m->next = G.mons;
    G.mons = m;
    pthread_mutex_unlock(&G.lock);
    *out = &m->iface;
    return S_OK;
}

/* GL_FILE_CHANGE for every monitor of watch wd; name is the entry in the folder ("" for the watched path). */
static void deliver(int wd, const char *name)
{
    filemon_t *v[64];
    unsigned k = 0;
    pthread_mutex_lock(&G.lock);
    for (filemon_t *m = G.mons; m != NULL && k < IISD_ARRAY_SIZE(v); m = m->next) {
        if (m->wd == wd) {
            atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
            v[k++] = m;
        }
    }
    pthread_mutex_unlock(&G.lock);
    for (unsigned i = 0; i < k; i++) {
        char full[4096 + 256];
        snprintf(full, sizeof(full), "%s%s%s", v[i]->path, name[0] && strcmp(v[i]->path, "/") != 0 ? "/" : "",
                 name);
        size_t n = strlen(full);
        wchar_t *w = iisd_xmalloc((n + 1) * sizeof(wchar_t));
        iisd_utf8_to_wcs(full, n, w, n + 1);
        iisd_notify_file_change(w, &v[i]->iface);
        free(w);
        filemon_deref(v[i]);
    }
}

static void read_changes(void)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(G.ifd, buf, sizeof(buf));
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW))
                continue;
            deliver(ev->wd, ev->len ? ev->name : "");
        }
    }
}

/* ---- GL_RSCA_QUERY ---------------------------------------------------------- */

typedef struct rsca_provider {
    IGlobalRSCAQueryProvider iface; /* first */
    wchar_t *fn, *params;
    BYTE *buf;
    DWORD cap, len;
    HRESULT hr, error;
} rsca_provider_t;

static VOID rq_SetErrorStatus(IGlobalRSCAQueryProvider *This, HRESULT hr)
{
    ((rsca_provider_t *)This)->error = hr;
}

static PCWSTR rq_GetFunctionName(IGlobalRSCAQueryProvider *This)
{
    return ((rsca_provider_t *)This)->fn;
}

static PCWSTR rq_GetFunctionParameters(IGlobalRSCAQueryProvider *This)
{
    return ((rsca_provider_t *)This)->params;
}

/* A new output buffer of cbBuffer bytes, owned by the server (freed after the query). */
static HRESULT rq_GetOutputBuffer(IGlobalRSCAQueryProvider *This, DWORD cbBuffer, BYTE **ppbBuffer)
{
    rsca_provider_t *q = (rsca_provider_t *)This;
    if (ppbBuffer == NULL)
        return E_INVALIDARG;
    free(q->buf);
    q->buf = iisd_xcalloc(1, cbBuffer ? cbBuffer : 1);
    q->cap = cbBuffer;
    q->len = 0;
    *ppbBuffer = q->buf;
    return S_OK;
}

/* Grows (or shrinks) the buffer, keeping its first cbBytesToCopy bytes. */
static HRESULT rq_ResizeOutputBuffer(IGlobalRSCAQueryProvider *This, DWORD cbNewBuffer, DWORD cbBytesToCopy,
                                     BYTE **ppbBuffer)
{
    rsca_provider_t *q = (rsca_provider_t *)This;
    if (ppbBuffer == NULL || cbBytesToCopy > cbNewBuffer || cbBytesToCopy > q->cap)
        return E_INVALIDARG;
    BYTE *b = iisd_xcalloc(1, cbNewBuffer ? cbNewBuffer : 1);
    if (q->buf != NULL && cbBytesToCopy)
        memcpy(b, q->buf, cbBytesToCopy);
    free(q->buf);
    q->buf = b;
    q->cap = cbNewBuffer;
    *ppbBuffer = b;
    return S_OK;
}

static VOID rq_SetResult(IGlobalRSCAQueryProvider *This, DWORD cbData, HRESULT hr)
{
    rsca_provider_t *q = (rsca_provider_t *)This;
    q->len = cbData <= q->cap ? cbData : q->cap;
    q->hr = hr;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalRSCAQueryProviderVtbl v;
} rq_vtbl = {NULL,
             NULL,
             {.SetErrorStatus = rq_SetErrorStatus,
              .GetFunctionName = rq_GetFunctionName,
              .GetFunctionParameters = rq_GetFunctionParameters,
              .GetOutputBuffer = rq_GetOutputBuffer,
              .ResizeOutputBuffer = rq_ResizeOutputBuffer,
              .SetResult = rq_SetResult}};

static wchar_t *wdup(const char *s)
{
    size_t n = strlen(s);
    wchar_t *w = iisd_xmalloc((n + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(s, n, w, n + 1);
    return w;
}

static void run_rsca(const char *fn, const char *params)
{
    rsca_provider_t q = {.iface.lpVtbl = &rq_vtbl.v, .fn = wdup(fn), .params = wdup(params), .hr = S_OK};
    GLOBAL_NOTIFICATION_STATUS st = iisd_global_notify(GL_BIT(GL_RSCA_QUERY), (IHttpEventProvider *)&q.iface);
    if (q.len > 0 || FAILED(q.hr))
        iisd_log(IISD_LOG_INFO, "RSCA query %s(%s)%s: HRESULT 0x%08x, %u bytes: %.*s", fn, params,
                 st == GL_NOTIFICATION_HANDLED ? " handled" : "", (unsigned)q.hr, (unsigned)q.len, (int)q.len,
                 q.buf ? (const char *)q.buf : "");
    else
        iisd_log(IISD_LOG_INFO, "RSCA query %s(%s): no module answered", fn, params);
    free(q.buf);
    free(q.fn);
    free(q.params);
}

void iisd_globals_rsca_query(const char *function, const char *params)
{
    pthread_mutex_lock(&G.lock);
    free(G.rsca_fn);
    free(G.rsca_params);
    G.rsca_fn = iisd_xstrdup(function);
    G.rsca_params = iisd_xstrdup(params ? params : "");
    pthread_mutex_unlock(&G.lock);
    uint64_t one = 1;
    if (G.efd >= 0 && write(G.efd, &one, sizeof(one)) < 0)
        iisd_log(IISD_LOG_WARN, "cannot wake the server thread: %s", strerror(errno));
}

/* ---- the thread -------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *globals_main(void *arg)
{
    (void)arg;
    uint64_t now = mono_ms();
    uint64_t next_cleanup = now + IISD_CACHE_CLEANUP_MS, next_health = now + IISD_HEALTH_CHECK_MS;
    while (__atomic_load_n(&G.running, __ATOMIC_ACQUIRE)) {
        now = mono_ms();
        if (now >= next_cleanup) {
            iisd_cache_cleanup();
            iisd_global_notify(GL_BIT(GL_CACHE_CLEANUP), NULL);
            next_cleanup = now + IISD_CACHE_CLEANUP_MS;
        }
        if (now >= next_health) {
            iisd_global_notify(GL_BIT(GL_HEALTH_CHECK), NULL);
            next_health = now + IISD_HEALTH_CHECK_MS;
        }
        uint64_t next = next_cleanup < next_health ? next_cleanup : next_health;
        struct pollfd p[2] = {{.fd = G.efd, .events = POLLIN}, {.fd = G.ifd, .events = POLLIN}};
        int rc = poll(p, G.ifd >= 0 ? 2 : 1, next > now ? (int)(next - now) : 0);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && (p[0].revents & POLLIN)) {
            uint64_t v;
            if (read(G.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;
            pthread_mutex_lock(&G.lock);
            char *fn = G.rsca_fn, *params = G.rsca_params;
            G.rsca_fn = G.rsca_params = NULL;
            pthread_mutex_unlock(&G.lock);
            if (fn != NULL && __atomic_load_n(&G.running, __ATOMIC_ACQUIRE))
                run_rsca(fn, params);
            free(fn);
            free(params);
        }
        if (rc > 0 && G.ifd >= 0 && (p[1].revents & POLLIN))
            read_changes();
    }
    iisd_arena_thread_cleanup();
    return NULL;
}

int iisd_globals_start(void)
{
    pthread_once(&G.once, init_once);
    if (G.efd < 0)
        return -EMFILE;
    G.running = true;
    int rc = pthread_create(&G.thread, NULL, globals_main, NULL);
    if (rc != 0) {
        G.running = false;
        return -rc;
    }
    return 0;
}

void iisd_globals_stop(void)
{
    if (!G.running)
        return;
    __atomic_store_n(&G.running, false, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(G.efd, &one, sizeof(one)) < 0)
        iisd_log(IISD_LOG_WARN, "cannot wake the server thread: %s", strerror(errno));
    pthread_join(G.thread, NULL);
    free(G.rsca_fn);
    free(G.rsca_params);
    G.rsca_fn = G.rsca_params = NULL;
}
