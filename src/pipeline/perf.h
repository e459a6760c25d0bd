/* IHttpPerfCounterInfo for the server and each site (perf.c). */
#pragma once
#include <stddef.h>
#include <httpserv.h>

#define IISD_PERF_COUNTERS 64

IHttpPerfCounterInfo *iisd_perf_server(void);
IHttpPerfCounterInfo *iisd_perf_site(DWORD site);
/* The value of counter index (0 outside the range). */
long long iisd_perf_value(IHttpPerfCounterInfo *info, unsigned index);
/* Every nonzero counter as "<n>=<value>,..." into buf (NUL-terminated); returns the length. */
size_t iisd_perf_format(IHttpPerfCounterInfo *info, char *buf, size_t cap);
