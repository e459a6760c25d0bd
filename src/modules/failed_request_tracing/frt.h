/*
 * FailedRequestsTracingModule: the parts that need no server (parsing the
 * failure definitions, matching paths, building the XML text), kept apart so
 * that the unit tests can reach them.
 */
#pragma once
#include <windows.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One entry of failureDefinitions/@statusCodes: a status or a range, with a sub-status or any (-1). */
typedef struct frt_code {
    uint16_t lo, hi;
    int32_t sub;
} frt_code_t;

/*
 * Parses "401.3, 500-999, 404": comma-separated entries, each a status (100-999), a status with
 * its sub-status ("401.3"), or a range of statuses ("500-599", any sub-status). Returns the number
 * of entries written to out (at most cap), or -1 when the text is not such a list or has more.
 */
int frt_parse_codes(const char *s, frt_code_t *out, unsigned cap);
bool frt_codes_match(const frt_code_t *v, unsigned n, unsigned status, unsigned sub);

/* '*' matches any run of characters, '?' one character; ASCII case-insensitive. */
bool frt_wildcard(const char *pattern, const char *s);
/* A rule's path against the request URL: the whole URL when the pattern holds a '/', otherwise its
   last segment ("*.aspx", "default.htm", "*"). */
bool frt_path_matches(const char *pattern, const char *url);

/* Parses a GUID, "{3a2a4e84-4c21-4981-ae10-3fda0d9b0f83}" (braces optional). */
bool frt_parse_guid(const char *s, GUID *g);
/* Writes "{xxxxxxxx-...}" (39 bytes with the NUL). */
void frt_format_guid(const GUID *g, char out[39]);

/* Why a request counts as failed; FRT_NONE when it does not. */
enum frt_reason { FRT_NONE = 0, FRT_STATUS_CODE, FRT_TIME_TAKEN, FRT_VERBOSITY };
typedef struct frt_failure_def {
    const frt_code_t *codes;
    unsigned ncodes;
    uint64_t time_ms;   /* 0: not a condition */
    unsigned verbosity; /* 0 (Ignore), or 1-3: an event at this level or a more severe one */
} frt_failure_def_t;
/* worst_level: the most severe level (1-5) of the events seen, 0 if none. */
enum frt_reason frt_failure(const frt_failure_def_t *d, unsigned status, unsigned sub, uint64_t time_ms,
                            unsigned worst_level);
const char *frt_reason_name(enum frt_reason r);

/* A growing text buffer (heap); `failed` once an allocation failed (the text is then cut short). */
typedef struct frt_buf {
    char *p;
    size_t len, cap;
    bool failed;
} frt_buf_t;
void frt_buf_add(frt_buf_t *b, const char *s, size_t n);
void frt_buf_printf(frt_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) escaped for XML text and attribute values (tab, CR and LF as character
   references, so that attribute values keep them); other control characters, which XML 1.0
   cannot carry, become '?'. */
void frt_buf_xml(frt_buf_t *b, const char *s, size_t n);
void frt_buf_free(frt_buf_t *b);
