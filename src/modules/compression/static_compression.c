/*
 * StaticCompressionModule (system.webServer/httpCompression, urlCompression
 * doStaticCompression), in RQ_SEND_RESPONSE.
 *
 * A static response is a 200 whose whole body is one file, from its first byte to its
 * last (what StaticFileModule and DefaultDocumentModule send). When its Content-Type is
 * one of <staticTypes>, the file is at least minFileSizeForComp bytes, and the client
 * accepts one of the schemes with doStaticCompression, the body is replaced by the
 * compressed copy of the file from the cache folder (`directory`), sent with sendfile.
 *
 * Cache files are named after a hash of the file's path and the coding, and start with
 * a header holding the path, size, modification time, inode and level they were made
 * from; a copy whose header does not match the file any more is made again, so changed
 * files are never served stale. Each thread keeps the copies it opened (by the file's
 * device, inode, size, modification time, level, coding and cache folder) with their
 * descriptors open, so a repeated file costs one fstat, not a path lookup and an open. Copies are written to
 * a temporary file and renamed into place, so a reader sees a whole copy or none. Unless
 * staticCompressionIgnoreHitFrequency is true, a file is compressed on its second
 * request within 10 seconds (served uncompressed until then), as IIS does.
 *
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "modules/builtin.h"
#include "modules/compression/compression.h"

struct zc_entry;

typedef struct {
    CHttpModule base;
    int cache_fd;           /* a copy opened for this response alone */
    struct zc_entry *entry; /* or the thread's open copy this response is sent from */
} static_module_t;

static IHttpServer *g_server;
static HTTP_MODULE_ID g_id;

#define CACHE_MAGIC "IISDZC1\n"

typedef struct {
    char magic[8];
    uint64_t size;
    int64_t mtime_s, mtime_ns;
    uint64_t ino, dev;
    uint32_t level, path_len;
} cache_hdr_t;

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void fill_hdr(cache_hdr_t *h, const struct stat *st, unsigned level, size_t path_len)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, CACHE_MAGIC, 8);
    h->size = (uint64_t)st->st_size;
    h->mtime_s = st->st_mtim.tv_sec;
    h->mtime_ns = st->st_mtim.tv_nsec;
    h->ino = st->st_ino;
    h->dev = st->st_dev;
    h->level = level;
    h->path_len = (uint32_t)path_len;
}

/* An up-to-date cached copy: its fd, with the compressed bytes at *off, *len long; or -1. */
static int cache_open(const char *cpath, const cache_hdr_t *want, const char *src, uint64_t *off,
                      uint64_t *len)
{
    int fd = open(cpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    cache_hdr_t h;
    char path[PATH_MAX];
    struct stat st;
    if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(&h, want, sizeof(h)) != 0 ||
        h.path_len >= sizeof(path) || pread(fd, path, h.path_len, sizeof(h)) != (ssize_t)h.path_len ||
        memcmp(path, src, h.path_len) != 0 || fstat(fd, &st) < 0 ||
        (uint64_t)st.st_size <= sizeof(h) + h.path_len) {
        close(fd);
        return -1;
    }
    *off = sizeof(h) + h.path_len;
    *len = (uint64_t)st.st_size - *off;
    return fd;
}

typedef struct {
    int fd;
    bool failed;
} sink_t;

static int to_file(void *ctx, const void *data, size_t n)
{
    sink_t *s = ctx;
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->failed = true;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Compresses src into a new cache file at cpath; returns its fd (as cache_open) or -1. */
static int cache_build(const char *cpath, const cache_hdr_t *hdr, const char *src, int src_fd,
                       const struct stat *src_st, cmp_codec_t codec, unsigned level, uint64_t *off,
                       uint64_t *len)
{
    char tmp[PATH_MAX + 16];
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", cpath) >= (int)sizeof(tmp))
        return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    sink_t sink = {fd, false};
    cmp_stream_t *s = cmp_stream_get(codec, level);
    bool ok = s != NULL && to_file(&sink, hdr, sizeof(*hdr)) == 0 && to_file(&sink, src, hdr->path_len) == 0;
    static __thread char buf[65536];
    uint64_t pos = 0;
    while (ok && pos < (uint64_t)src_st->st_size) {
        ssize_t n = pread(src_fd, buf, sizeof(buf), (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        pos += (uint64_t)n;
        ok = cmp_stream_write(s, buf, (size_t)n, CMP_RUN, to_file, &sink) == 0;
    }
    ok = ok && cmp_stream_write(s, NULL, 0, CMP_FINISH, to_file, &sink) == 0 && !sink.failed;
    cmp_stream_put(s);
    /* the file must not have changed while it was read */
    struct stat after;
    ok = ok && fstat(src_fd, &after) == 0 && after.st_size == src_st->st_size &&
         after.st_mtim.tv_sec == src_st->st_mtim.tv_sec && after.st_mtim.tv_nsec == src_st->st_mtim.tv_nsec;
    struct stat cst;
    ok = ok && fstat(fd, &cst) == 0 && rename(tmp, cpath) == 0;
    if (!ok) {
        unlink(tmp);
        close(fd);
        return -1;
    }
    *off = sizeof(*hdr) + hdr->path_len;
    *len = (uint64_t)cst.st_size - *off;
    return fd;
}

/* ---- open copies, per thread ----------------------------------------------------- */

/* What a copy was made from: the same key means the same bytes (a changed file has another
   size or modification time; another file, another inode). */
typedef struct {
    uint64_t size, ino, dev, dir;
    int64_t mtime_s, mtime_ns;
    uint32_t level, codec;
} zc_key_t;

typedef struct zc_entry {
    _Atomic unsigned refs; /* the thread's table's, and one per response being sent from it */
    zc_key_t key;
    int fd;
    uint64_t off, len;
} zc_entry_t;

#define ZC_SLOTS 64
static __thread zc_entry_t *t_zc[ZC_SLOTS];
static pthread_key_t zc_key;
static pthread_once_t zc_once = PTHREAD_ONCE_INIT;
static bool zc_key_ok;

static void zc_put(zc_entry_t *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        close(e->fd);
        free(e);
    }
}

static void zc_thread_exit(void *p)
{
    (void)p;
    for (int i = 0; i < ZC_SLOTS; i++)
        if (t_zc[i] != NULL) {
            zc_put(t_zc[i]);
            t_zc[i] = NULL;
        }
}

static void zc_init(void)
{
    zc_key_ok = pthread_key_create(&zc_key, zc_thread_exit) == 0;
}

static void zc_key_fill(zc_key_t *k, const struct stat *st, unsigned level, cmp_codec_t codec,
                        const char *dir)
{
    memset(k, 0, sizeof(*k));
    k->size = (uint64_t)st->st_size;
    k->ino = st->st_ino;
    k->dev = st->st_dev;
    k->mtime_s = st->st_mtim.tv_sec;
    k->mtime_ns = st->st_mtim.tv_nsec;
    k->level = level;
    k->codec = (uint32_t)codec;
    k->dir = fnv1a(dir, strlen(dir), 0xcbf29ce484222325ull);
}

static unsigned zc_slot(const zc_key_t *k)
{
    return (unsigned)(fnv1a(k, sizeof(*k), 0xcbf29ce484222325ull) % ZC_SLOTS);
}

/* The thread's open copy for k, with a reference for the caller; or NULL. */
static zc_entry_t *zc_get(const zc_key_t *k)
{
    zc_entry_t *e = t_zc[zc_slot(k)];
    if (e == NULL || memcmp(&e->key, k, sizeof(*k)) != 0)
        return NULL;
    atomic_fetch_add(&e->refs, 1);
    return e;
}

/* Keeps fd (a copy's, *off and *len as cache_open gives them) as the thread's open copy for k; returns
   it with a reference for the caller, or NULL (fd is then still the caller's). */
static zc_entry_t *zc_add(const zc_key_t *k, int fd, uint64_t off, uint64_t len)
{
    pthread_once(&zc_once, zc_init);
    if (!zc_key_ok)
        return NULL;
    zc_entry_t *e = malloc(sizeof(*e));
    if (e == NULL)
        return NULL;
    atomic_init(&e->refs, 2);
    e->key = *k;
    e->fd = fd;
    e->off = off;
    e->len = len;
    unsigned i = zc_slot(k);
    if (t_zc[i] != NULL)
        zc_put(t_zc[i]); /* the copy of another file, or of an older version of this one */
    t_zc[i] = e;
    pthread_setspecific(zc_key, t_zc); /* (any non-NULL value: the destructor runs at thread exit) */
    return e;
}

/* Hit frequency: a file is compressed when it was asked for within the last 10 s. */
#define HITS 1024
static struct {
    _Atomic uint64_t key;
    _Atomic int64_t when;
} hits[HITS];

static bool frequent(uint64_t key)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned i = (unsigned)(key % HITS);
    if (atomic_load(&hits[i].key) == key && ts.tv_sec - atomic_load(&hits[i].when) <= 10)
        return true;
    atomic_store(&hits[i].key, key);
    atomic_store(&hits[i].when, (int64_t)ts.tv_sec);
    return false;
}

/* The body becomes the copy's bytes: from e (whose reference the response keeps until Dispose), or from
   fd alone (the response's own, closed at Dispose) when e is NULL. */
static void send_copy(static_module_t *self, IHttpContext *ctx, IHttpResponse *resp, HTTP_RESPONSE *raw,
                      const cmp_config_t *cfg, cmp_codec_t codec, zc_entry_t *e, int fd, uint64_t off,
                      uint64_t len)
{
    if (self->cache_fd >= 0)
        close(self->cache_fd);
    self->cache_fd = -1;
    if (self->entry != NULL)
        zc_put(self->entry);
    self->entry = e;
    if (e == NULL)
        self->cache_fd = fd;
    HTTP_DATA_CHUNK *c = ctx->lpVtbl->AllocateRequestMemory(ctx, sizeof(*c));
    if (c == NULL)
        return;
    memset(c, 0, sizeof(*c));
    c->DataChunkType = HttpDataChunkFromFileHandle;
    c->FromFileHandle.ByteRange.StartingOffset.QuadPart = off;
    c->FromFileHandle.ByteRange.Length.QuadPart = len;
    c->FromFileHandle.FileHandle = IisdFdToHandle(fd);
    raw->pEntityChunks = c;
    raw->EntityChunkCount = 1;
    cmp_mark_compressed(ctx, resp, cfg, codec);
}

static REQUEST_NOTIFICATION_STATUS on_send_response(CHttpModule *This, IHttpContext *ctx,
                                                    ISendResponseProvider *p)
{
    static_module_t *self = (static_module_t *)This;
    if (!p->lpVtbl->GetHeadersBeingSent(p) || (p->lpVtbl->GetFlags(p) & HTTP_SEND_RESPONSE_FLAG_MORE_DATA))
        return RQ_NOTIFICATION_CONTINUE; /* only a whole response, sent at once */
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0, n = 0;
    resp->lpVtbl->GetStatus(resp, &status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (status != 200 || resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentEncoding, &n) != NULL ||
        resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentRange, &n) != NULL)
        return RQ_NOTIFICATION_CONTINUE;
    /* configuration and type first: the raw response costs every later module call a sync */
    const cmp_config_t *cfg = cmp_config(g_server, ctx, g_id);
    if (cfg == NULL || !cfg->do_static)
        return RQ_NOTIFICATION_CONTINUE;
    PCSTR ct = resp->lpVtbl->GetHeaderById(resp, HttpHeaderContentType, &n);
    if (!cmp_mime_allowed(cfg->static_types, cfg->nstatic, ct, ct ? n : 0))
        return RQ_NOTIFICATION_CONTINUE;
    HTTP_RESPONSE *raw = resp->lpVtbl->GetRawHttpResponse(resp);
    if (raw == NULL || raw->EntityChunkCount != 1 || raw->pEntityChunks == NULL ||
        raw->pEntityChunks[0].DataChunkType != HttpDataChunkFromFileHandle)
        return RQ_NOTIFICATION_CONTINUE;
    const HTTP_DATA_CHUNK *fc = &raw->pEntityChunks[0];
    int src_fd = IisdHandleToFd(fc->FromFileHandle.FileHandle);
    struct stat st;
    uint64_t flen = fc->FromFileHandle.ByteRange.Length.QuadPart;
    if (flen != HTTP_BYTE_RANGE_TO_EOF && flen < cfg->min_file_size)
        return RQ_NOTIFICATION_CONTINUE; /* too small: known without a system call */
    if (src_fd < 0 || fstat(src_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        fc->FromFileHandle.ByteRange.StartingOffset.QuadPart != 0 ||
        (flen != HTTP_BYTE_RANGE_TO_EOF && flen != (uint64_t)st.st_size))
        return RQ_NOTIFICATION_CONTINUE;

    if ((uint64_t)st.st_size < cfg->min_file_size || st.st_size == 0)
        return RQ_NOTIFICATION_CONTINUE;
    cmp_add_vary(resp); /* the answer depends on Accept-Encoding from here on */
    if (strcmp(req->lpVtbl->GetHttpMethod(req), "GET") != 0 || cmp_request_excluded(cfg, req) ||
        cfg->directory[0] == '\0')
        return RQ_NOTIFICATION_CONTINUE;
    int si = cmp_pick_scheme(cfg, req, true);
    if (si < 0 || !cmp_cpu_allows((cmp_cpu_gate_t *)&cfg->static_cpu))
        return RQ_NOTIFICATION_CONTINUE;
    const cmp_scheme_t *sc = &cfg->schemes[si];

    zc_key_t key;
    zc_key_fill(&key, &st, sc->static_level, sc->codec, cfg->directory);
    zc_entry_t *e = zc_get(&key);
    if (e != NULL) {
        send_copy(self, ctx, resp, raw, cfg, sc->codec, e, e->fd, e->off, e->len);
        return RQ_NOTIFICATION_CONTINUE;
    }
    char src[PATH_MAX], link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", src_fd);
    ssize_t sl = readlink(link, src, sizeof(src) - 1);
    if (sl <= 0)
        return RQ_NOTIFICATION_CONTINUE;
    src[sl] = '\0';
    char cpath[PATH_MAX];
    uint64_t ph = fnv1a(src, (size_t)sl, 0xcbf29ce484222325ull);
    if (snprintf(cpath, sizeof(cpath), "%s/%016llx.%s", cfg->directory, (unsigned long long)ph,
                 cmp_codec_token(sc->codec)) >= (int)sizeof(cpath))
        return RQ_NOTIFICATION_CONTINUE;
    cache_hdr_t hdr;
    fill_hdr(&hdr, &st, sc->static_level, (size_t)sl);
    uint64_t off = 0, len = 0;
    int fd = cache_open(cpath, &hdr, src, &off, &len);
    if (fd < 0) {
        if (!cfg->ignore_hit_frequency && !frequent(fnv1a(&hdr, sizeof(hdr), ph ^ (uint64_t)sc->codec)))
            return RQ_NOTIFICATION_CONTINUE;
        fd = cache_build(cpath, &hdr, src, src_fd, &st, sc->codec, sc->static_level, &off, &len);
        if (fd < 0)
            return RQ_NOTIFICATION_CONTINUE;
    }
    e = zc_add(&key, fd, off, len);
    send_copy(self, ctx, resp, raw, cfg, sc->codec, e, fd, off, len);
    return RQ_NOTIFICATION_CONTINUE;
}

static VOID on_dispose(CHttpModule *This)
{
    static_module_t *self = (static_module_t *)This;
    if (self->cache_fd >= 0)
        close(self->cache_fd);
    self->cache_fd = -1; /* the memory is the request's */
    if (self->entry != NULL)
        zc_put(self->entry);
    self->entry = NULL;
}

static CHttpModuleVtbl static_vtbl;

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    static_module_t *m = alloc->lpVtbl->AllocateMemory(alloc, sizeof(*m));
    if (m == NULL)
        return E_OUTOFMEMORY;
    m->base.lpVtbl = &static_vtbl;
    m->cache_fd = -1;
    m->entry = NULL;
    *pp = &m->base;
    return S_OK;
}

static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This; /* static object */
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(StaticCompressionModule)(DWORD, IHttpModuleRegistrationInfo *,
                                                          IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(StaticCompressionModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                          IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    static_vtbl.OnSendResponse = on_send_response;
    static_vtbl.Dispose = on_dispose;
    return info->lpVtbl->SetRequestNotifications(info, &factory, RQ_SEND_RESPONSE, 0);
}
