#include "http/sitegate.h"
#include "core/mem.h"
#include <stdlib.h>

static pthread_mutex_t gates_lock = PTHREAD_MUTEX_INITIALIZER;
static iisd_site_gate_t *gates;

iisd_site_gate_t *iisd_site_gate(uint32_t site_id)
{
    pthread_mutex_lock(&gates_lock);
    iisd_site_gate_t *g = gates;
    while (g != NULL && g->site_id != site_id)
        g = g->next;
    if (g == NULL) {
        g = iisd_xcalloc(1, sizeof(*g));
        g->site_id = site_id;
        pthread_mutex_init(&g->lock, NULL);
        g->next = gates;
        gates = g;
    }
    pthread_mutex_unlock(&gates_lock);
    return g;
}

void iisd_site_gates_free(void)
{
    pthread_mutex_lock(&gates_lock);
    while (gates != NULL) {
        iisd_site_gate_t *g = gates;
        gates = g->next;
        pthread_mutex_destroy(&g->lock);
        free(g);
    }
    pthread_mutex_unlock(&gates_lock);
}

bool iisd_site_gate_enter(iisd_site_gate_t *g, uint32_t max_connections)
{
    uint32_t n = __atomic_load_n(&g->conns, __ATOMIC_RELAXED);
    do {
        if (max_connections != IISD_UNLIMITED && n >= max_connections)
            return false;
    } while (!__atomic_compare_exchange_n(&g->conns, &n, n + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

void iisd_site_gate_leave(iisd_site_gate_t *g)
{
    __atomic_sub_fetch(&g->conns, 1, __ATOMIC_RELAXED);
}

size_t iisd_site_gate_take(iisd_site_gate_t *g, uint32_t rate, size_t want, uint64_t now_ms,
                           uint32_t *wait_ms)
{
    if (rate == 0)
        rate = 1;
    int64_t burst = rate / 10 > 0 ? rate / 10 : 1;
    size_t got = 0;
    pthread_mutex_lock(&g->lock);
    if (g->refill_ms == 0 || now_ms < g->refill_ms) {
        g->refill_ms = now_ms;
        g->tokens = burst;
    } else if (now_ms > g->refill_ms) {
        int64_t add = (int64_t)((now_ms - g->refill_ms) * rate / 1000);
        if (add > 0) {
            g->tokens = g->tokens + add > burst ? burst : g->tokens + add;
            /* advance by the time the added tokens stand for, keeping the remainder */
            g->refill_ms = g->tokens == burst ? now_ms : g->refill_ms + (uint64_t)add * 1000 / rate;
        }
    }
    if (g->tokens > 0) {
        got = want < (size_t)g->tokens ? want : (size_t)g->tokens;
        g->tokens -= (int64_t)got;
    }
    if (got == 0 && wait_ms != NULL) {
        /* until the budget holds a tenth of a second's worth, or at least one byte */
        uint64_t need = (uint64_t)burst;
        uint64_t ms = need * 1000 / rate;
        *wait_ms = ms < 1 ? 1 : ms > 1000 ? 1000 : (uint32_t)ms;
    }
    pthread_mutex_unlock(&g->lock);
    return got;
}
