/*
 * Configuration and per-request checks shared by StaticCompressionModule and
 * DynamicCompressionModule. The sections are read through the AppHost admin API
 * (modcfg.h) once per configuration path and configuration generation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "modules/compression/compression.h"
#include "modules/modcfg.h"

/* ---- static cache folder --------------------------------------------------------- */

/* mkdir -p; new folders are private (0700). */
static bool make_dirs(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return false;
        buf[i] = saved;
    }
    return true;
}

static bool private_dir(const char *dir)
{
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

/*
 * The folder the static cache uses. An empty value, one that is not an absolute path
 * (such as the Windows-style schema default) or one that still holds an unexpanded
 * %VARIABLE% means /tmp/iisd-<uid>/compressed. The folder must be a real folder owned
 * by the server's user and writable by no one else, since compressed copies are served
 * from it (for the /tmp one, its parent too).
 */
static void prepare_directory(const char *configured, char *out, size_t cap)
{
    char fallback[128], parent[64];
    const char *dir = configured;
    bool fb = dir[0] != '/' || strchr(dir, '%') != NULL || strchr(dir, '\\') != NULL;
    if (fb) {
        snprintf(parent, sizeof(parent), "/tmp/iisd-%u", (unsigned)geteuid());
        snprintf(fallback, sizeof(fallback), "%s/compressed", parent);
        dir = fallback;
    }
    out[0] = '\0';
    if (!make_dirs(dir) || !private_dir(dir) || (fb && !private_dir(parent))) {
        static atomic_bool warned; /* once: the configuration is read for every new path */
        if (atomic_exchange(&warned, true))
            return;
        char msg[1200];
        snprintf(msg, sizeof(msg),
                 "StaticCompressionModule: the compression folder %s is not usable (it must be a folder "
                 "owned by this user and writable by no one else); static compression is off\n",
                 dir);
        OutputDebugStringA(msg);
        return;
    }
    snprintf(out, cap, "%s", dir);
}

/* ---- configuration --------------------------------------------------------------- */

static void free_config(void *p)
{
    cmp_config_t *c = p;
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->nstatic; i++)
        free((void *)c->static_types[i].pattern);
    for (unsigned i = 0; i < c->ndynamic; i++)
        free((void *)c->dynamic_types[i].pattern);
    free(c->static_types);
    free(c->dynamic_types);
    free(c);
}

static unsigned read_types(IAppHostElement *section, const wchar_t *name, cmp_mime_rule_t **out)
{
    IAppHostElement *coll = modcfg_child(section, name);
    unsigned n = modcfg_count(coll), k = 0;
    *out = n ? calloc(n, sizeof(**out)) : NULL;
    for (unsigned i = 0; i < n && *out != NULL; i++) {
        IAppHostElement *it = modcfg_item(coll, i);
        char type[256];
        if (modcfg_str(it, L"mimeType", type, sizeof(type), "") > 0) {
            (*out)[k].pattern = strdup(type);
            (*out)[k].enabled = modcfg_bool(it, L"enabled", true);
            if ((*out)[k].pattern != NULL)
                k++;
        }
        modcfg_release(it);
    }
    modcfg_release(coll);
    cmp_mime_rules_prepare(*out, k);
    return k;
}

static unsigned pct(IAppHostElement *s, const wchar_t *name, unsigned def)
{
    int64_t v = modcfg_int(s, name, def);
    return v < 0 ? 0 : v > 100 ? 100 : (unsigned)v;
}

static void *load_config(IHttpServer *srv, IHttpContext *ctx)
{
    cmp_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    IAppHostElement *u = modcfg_section(srv, ctx, L"system.webServer/urlCompression");
    c->do_static = modcfg_bool(u, L"doStaticCompression", true);
    c->do_dynamic = modcfg_bool(u, L"doDynamicCompression", true);
    c->dynamic_before_cache = modcfg_bool(u, L"dynamicCompressionBeforeCache", false);
    modcfg_release(u);

    IAppHostElement *s = modcfg_section(srv, ctx, L"system.webServer/httpCompression");
    char dir[1024];
    modcfg_str(s, L"directory", dir, sizeof(dir), "");
    c->min_file_size = (uint64_t)modcfg_int(s, L"minFileSizeForComp", 2700);
    c->no_http10 = modcfg_bool(s, L"noCompressionForHttp10", true);
    c->no_proxies = modcfg_bool(s, L"noCompressionForProxies", true);
    c->no_range = modcfg_bool(s, L"noCompressionForRange", true);
    c->send_cache_headers = modcfg_bool(s, L"sendCacheHeaders", false);
    c->ignore_hit_frequency = modcfg_bool(s, L"staticCompressionIgnoreHitFrequency", false);
    modcfg_str(s, L"cacheControlHeader", c->cache_control, sizeof(c->cache_control), "max-age=86400");
    modcfg_str(s, L"expiresHeader", c->expires, sizeof(c->expires), "Wed, 01 Jan 1997 12:00:00 GMT");
    c->static_cpu.disable_at = pct(s, L"staticCompressionDisableCpuUsage", 100);
    c->static_cpu.enable_below = pct(s, L"staticCompressionEnableCpuUsage", 50);
    c->dynamic_cpu.disable_at = pct(s, L"dynamicCompressionDisableCpuUsage", 90);
    c->dynamic_cpu.enable_below = pct(s, L"dynamicCompressionEnableCpuUsage", 50);

    IAppHostElement *schemes = s; /* <scheme> is the section's default collection */
    unsigned n = modcfg_count(schemes);
    for (unsigned i = 0; i < n && c->nschemes < CMP_MAX_SCHEMES; i++) {
        IAppHostElement *it = modcfg_item(schemes, i);
        char name[64];
        int len = modcfg_str(it, L"name", name, sizeof(name), "");
        int codec = len > 0 ? cmp_codec_by_name(name, (size_t)len) : -1;
        if (codec < 0) {
            if (len > 0) {
                char msg[160];
                snprintf(
                    msg, sizeof(msg),
                    "httpCompression: scheme \"%s\" is not one iisd has (gzip, deflate, br, zstd); ignored\n",
                    name);
                OutputDebugStringA(msg);
            }
        } else {
            cmp_scheme_t *sc = &c->schemes[c->nschemes++];
            sc->codec = (cmp_codec_t)codec;
            sc->do_static = modcfg_bool(it, L"doStaticCompression", true);
            sc->do_dynamic = modcfg_bool(it, L"doDynamicCompression", true);
            int64_t sl = modcfg_int(it, L"staticCompressionLevel", 7);
            int64_t dl = modcfg_int(it, L"dynamicCompressionLevel", 0);
            sc->static_level = sl < 0 ? 0 : sl > 10 ? 10 : (unsigned)sl;
            sc->dynamic_level = dl < 0 ? 0 : dl > 10 ? 10 : (unsigned)dl;
        }
        modcfg_release(it);
    }
    c->nstatic = read_types(s, L"staticTypes", &c->static_types);
    c->ndynamic = read_types(s, L"dynamicTypes", &c->dynamic_types);
    modcfg_release(s);
    if (c->do_static)
        prepare_directory(dir, c->directory, sizeof(c->directory));
    return c;
}

const cmp_config_t *cmp_config(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id)
{
    return modcfg_cached(srv, ctx, id, load_config, free_config);
}

/* ---- CPU usage ------------------------------------------------------------------- */

static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t cpu_sampled_ms;
static _Atomic unsigned cpu_percent;
static uint64_t cpu_prev_busy, cpu_prev_total;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sample_cpu(void)
{
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    unsigned long long v[8] = {0};
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7]) < 4)
        return;
    uint64_t idle = v[3] + v[4], total = 0;
    for (int i = 0; i < 8; i++)
        total += v[i];
    uint64_t busy = total - idle;
    if (cpu_prev_total != 0 && total > cpu_prev_total) {
        uint64_t db = busy - cpu_prev_busy, dt = total - cpu_prev_total;
        atomic_store(&cpu_percent, (unsigned)(db * 100 / dt));
    }
    cpu_prev_busy = busy;
    cpu_prev_total = total;
}

unsigned cmp_cpu_usage(void)
{
    uint64_t now = now_ms();
    if (now - atomic_load(&cpu_sampled_ms) >= 1000 && pthread_mutex_trylock(&cpu_lock) == 0) {
        if (now - atomic_load(&cpu_sampled_ms) >= 1000) {
            sample_cpu();
            atomic_store(&cpu_sampled_ms, now);
        }
        pthread_mutex_unlock(&cpu_lock);
    }
    return atomic_load(&cpu_percent);
}

bool cmp_cpu_allows(cmp_cpu_gate_t *g)
{
    if (g->disable_at >= 100)
        return true; /* 100 %: never switched off */
    unsigned u = cmp_cpu_usage();
    bool off = atomic_load(&g->off);
    if (!off && u >= g->disable_at)
        atomic_store(&g->off, off = true);
    else if (off && u < g->enable_below && u < g->disable_at)
        atomic_store(&g->off, off = false);
    return !off;
}

/* ---- per request ------------------------------------------------------------------ */

bool cmp_request_excluded(const cmp_config_t *cfg, IHttpRequest *req)
{
    USHORT major = 1, minor = 1, n = 0;
    req->lpVtbl->GetHttpVersion(req, &major, &minor);
    if (cfg->no_http10 && major == 1 && minor == 0)
        return true;
    if (cfg->no_proxies && req->lpVtbl->GetHeaderById(req, HttpHeaderVia, &n) != NULL && n > 0)
        return true;
    if (cfg->no_range && req->lpVtbl->GetHeaderById(req, HttpHeaderRange, &n) != NULL && n > 0)
        return true;
    return false;
}

void cmp_add_vary(IHttpResponse *resp)
{
    USHORT n = 0;
    PCSTR v = resp->lpVtbl->GetHeaderById(resp, HttpHeaderVary, &n);
    if (v != NULL && (cmp_list_has(v, n, "Accept-Encoding") || cmp_list_has(v, n, "*")))
        return;
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderVary, "Accept-Encoding", 15, FALSE);
}

void cmp_mark_compressed(IHttpContext *ctx, IHttpResponse *resp, const cmp_config_t *cfg, cmp_codec_t c)
{
    const char *tok = cmp_codec_token(c);
    resp->lpVtbl->SetHeaderById(resp, HttpHeaderContentEncoding, tok, (USHORT)strlen(tok), TRUE);
    resp->lpVtbl->DeleteHeaderById(resp, HttpHeaderAcceptRanges);
    resp->lpVtbl->DeleteHeaderById(resp, HttpHeaderContentLength);
    /* the compressed body is another representation: it gets its own entity tag,
       the original one with "-<coding>" added inside the quotes */
    USHORT n = 0;
    PCSTR etag = resp->lpVtbl->GetHeaderById(resp, HttpHeaderEtag, &n);
    if (etag != NULL && n >= 2 && etag[n - 1] == '"') {
        size_t tl = strlen(tok);
        char *v = ctx->lpVtbl->AllocateRequestMemory(ctx, (DWORD)(n + tl + 2));
        if (v != NULL) {
            memcpy(v, etag, n - 1);
            v[n - 1] = '-';
            memcpy(v + n, tok, tl);
            v[n + tl] = '"';
            v[n + tl + 1] = '\0';
            resp->lpVtbl->SetHeaderById(resp, HttpHeaderEtag, v, (USHORT)(n + tl + 1), TRUE);
        }
    }
    if (cfg->send_cache_headers) {
        if (cfg->cache_control[0])
            resp->lpVtbl->SetHeaderById(resp, HttpHeaderCacheControl, cfg->cache_control,
                                        (USHORT)strlen(cfg->cache_control), TRUE);
        if (cfg->expires[0])
            resp->lpVtbl->SetHeaderById(resp, HttpHeaderExpires, cfg->expires, (USHORT)strlen(cfg->expires),
                                        TRUE);
    }
}

int cmp_pick_scheme(const cmp_config_t *cfg, IHttpRequest *req, bool is_static)
{
    cmp_codec_t codecs[CMP_MAX_SCHEMES];
    int map[CMP_MAX_SCHEMES];
    unsigned k = 0;
    for (unsigned i = 0; i < cfg->nschemes; i++) {
        const cmp_scheme_t *s = &cfg->schemes[i];
        /* staticCompressionLevel 0 turns static compression off for the scheme */
        if (is_static ? (s->do_static && s->static_level > 0) : s->do_dynamic) {
            codecs[k] = s->codec;
            map[k++] = (int)i;
        }
    }
    USHORT n = 0;
    PCSTR ae = req->lpVtbl->GetHeaderById(req, HttpHeaderAcceptEncoding, &n);
    int idx = cmp_negotiate(ae, n, codecs, k);
    return idx < 0 ? -1 : map[idx];
}
