/*
 * Per-site connection limits (<site><limits>): how many connections a site
 * may hold (maxConnections), how fast its responses may go out
 * (maxBandwidth), and how long its connections may stay idle
 * (connectionTimeout).
 *
 * A gate holds what must outlive a configuration generation: the number of
 * connections counted against the site and its bandwidth budget. Gates are
 * looked up by site id, created on first use and kept until
 * iisd_site_gates_free() at exit, so a reload never frees one under a
 * connection. The limits themselves come with each generation (the
 * connection keeps a copy of the limits it was admitted with).
 */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IISD_UNLIMITED UINT32_MAX

typedef struct iisd_site_limits {
    uint32_t max_connections; /* IISD_UNLIMITED: no limit */
    uint32_t max_bandwidth;   /* bytes per second; IISD_UNLIMITED: no limit */
    uint32_t idle_timeout_ms; /* connectionTimeout; 0: the server's */
} iisd_site_limits_t;

typedef struct iisd_site_gate {
    uint32_t site_id;
    uint32_t conns; /* connections counted against the site (atomic) */
    /* bandwidth budget (token bucket), under lock; used only by throttled sites */
    pthread_mutex_t lock;
    uint64_t refill_ms;
    int64_t tokens;
    struct iisd_site_gate *next;
} iisd_site_gate_t;

/* The gate of a site id (created on first use; thread-safe). */
iisd_site_gate_t *iisd_site_gate(uint32_t site_id);
/* Frees every gate (at exit, when no connection is left). */
void iisd_site_gates_free(void);

/* Counts one more connection unless max_connections are counted already. */
bool iisd_site_gate_enter(iisd_site_gate_t *g, uint32_t max_connections);
void iisd_site_gate_leave(iisd_site_gate_t *g);

/*
 * Bandwidth: how many of `want` bytes may be sent now at `rate` bytes per
 * second (at least 1). 0 means none: *wait_ms tells when to ask again.
 * The budget allows bursts of a tenth of a second.
 */
size_t iisd_site_gate_take(iisd_site_gate_t *g, uint32_t rate, size_t want, uint64_t now_ms,
                           uint32_t *wait_ms);
