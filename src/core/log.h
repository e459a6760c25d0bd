/*
 * The server's one logging function. Every line goes to the error log
 * (stderr unless iisd_log_open() named a file) as a single write:
 *   2026-11-24T13:30:00Z [error] message
 */
#pragma once
#include <stdarg.h>

enum iisd_log_level { IISD_LOG_ERROR = 0, IISD_LOG_WARN, IISD_LOG_INFO, IISD_LOG_DEBUG };

extern enum iisd_log_level iisd_log_threshold;

void iisd_logv(enum iisd_log_level level, const char *fmt, va_list ap);
void iisd_log_impl(enum iisd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Redirects the log to a file (appending). Returns 0 or -errno. */
int iisd_log_open(const char *path);

#define iisd_log(level, ...)                                                                                 \
    do {                                                                                                     \
        if ((level) <= iisd_log_threshold)                                                                   \
            iisd_log_impl((level), __VA_ARGS__);                                                             \
    } while (0)
