/*
 * IHttpPerfCounterInfo: performance counters a module raises and lowers, one set for the server
 * (IHttpServer::GetPerfCounterInfo) and one per site (IHttpSite::GetPerfCounterInfo).
 *
 * IIS numbers its counters itself and does not document the indices, so iisd keeps counters
 * 0 to IISD_PERF_COUNTERS-1 for modules to give meanings to; other indices are ignored. Values
 * are signed 64-bit and updated atomically (any thread). They are read through server variables:
 * IISD_PERF_COUNTER_<n> (the request's site) and IISD_SERVER_PERF_COUNTER_<n>, each the decimal
 * value, and IISD_PERF_COUNTERS / IISD_SERVER_PERF_COUNTERS, every nonzero counter as
 * "<n>=<value>" separated by commas. Counters live as long as the process.
 */
#include "core/mem.h"
#include "pipeline/engine.h"
#include "pipeline/perf.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef struct perf {
    IHttpPerfCounterInfo iface; /* first */
    struct perf *next;
    DWORD site; /* 0: the server */
    _Atomic long long v[IISD_PERF_COUNTERS];
} perf_t;

static void perf_IncrementCounter(IHttpPerfCounterInfo *This, DWORD index, DWORD value)
{
    if (index < IISD_PERF_COUNTERS)
        atomic_fetch_add_explicit(&((perf_t *)This)->v[index], (long long)value, memory_order_relaxed);
}

static void perf_DecrementCounter(IHttpPerfCounterInfo *This, DWORD index, DWORD value)
{
    if (index < IISD_PERF_COUNTERS)
        atomic_fetch_sub_explicit(&((perf_t *)This)->v[index], (long long)value, memory_order_relaxed);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpPerfCounterInfoVtbl v;
} perf_vtbl = {
    NULL, NULL, {.IncrementCounter = perf_IncrementCounter, .DecrementCounter = perf_DecrementCounter}};

static perf_t server_perf = {.iface = {.lpVtbl = &perf_vtbl.v}};
static _Atomic(perf_t *) sites; /* prepended under lock, read without */
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;

IHttpPerfCounterInfo *iisd_perf_server(void)
{
    return &server_perf.iface;
}

static perf_t *find(DWORD site)
{
    for (perf_t *p = atomic_load_explicit(&sites, memory_order_acquire); p != NULL; p = p->next)
        if (p->site == site)
            return p;
    return NULL;
}

IHttpPerfCounterInfo *iisd_perf_site(DWORD site)
{
    perf_t *p = find(site);
    if (p != NULL)
        return &p->iface;
    pthread_mutex_lock(&sites_lock);
    p = find(site);
    if (p == NULL) {
        p = iisd_xcalloc(1, sizeof(*p));
        p->iface.lpVtbl = &perf_vtbl.v;
        p->site = site;
        p->next = atomic_load_explicit(&sites, memory_order_relaxed);
        atomic_store_explicit(&sites, p, memory_order_release);
    }
    pthread_mutex_unlock(&sites_lock);
    return &p->iface;
}

long long iisd_perf_value(IHttpPerfCounterInfo *info, unsigned index)
{
    if (index >= IISD_PERF_COUNTERS)
        return 0;
    return atomic_load_explicit(&((perf_t *)info)->v[index], memory_order_relaxed);
}

size_t iisd_perf_format(IHttpPerfCounterInfo *info, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < IISD_PERF_COUNTERS; i++) {
        long long v = iisd_perf_value(info, i);
        if (v == 0)
            continue;
        int w = snprintf(buf + n, cap - n, "%s%u=%lld", n ? "," : "", i, v);
        if (w < 0 || (size_t)w >= cap - n) {
            buf[n] = '\0';
            break;
        }
        n += (size_t)w;
    }
    return n;
}
