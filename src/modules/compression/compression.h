/*
 * What StaticCompressionModule and DynamicCompressionModule share: content-coding
 * negotiation (Accept-Encoding), MIME type matching for <staticTypes>/<dynamicTypes>,
 * the compressors (gzip and deflate through zlib, br through libbrotlienc, zstd through
 * libzstd) and the parsed <httpCompression>/<urlCompression> configuration.
 * Everything here is internal to the two modules; the parsing functions stand alone
 * (no server objects) so that they can be tested on their own.
 */
#pragma once
#include <windows.h>
#include <httpserv.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- codings ------------------------------------------------------------- */

typedef enum { CMP_GZIP = 0, CMP_DEFLATE, CMP_BR, CMP_ZSTD, CMP_NCODECS } cmp_codec_t;

/* The codec of a <scheme name> (gzip, deflate, br, zstd; any case), or -1. */
int cmp_codec_by_name(const char *name, size_t n);
/* The Content-Encoding token of a codec. */
const char *cmp_codec_token(cmp_codec_t c);

/*
 * Accept-Encoding negotiation (RFC 9110, 12.5.3). `codecs` lists the schemes the
 * server may use, in order of preference (ties in q-value go to the earlier one).
 * Returns the index in `codecs` of the coding to use, or -1 for none (identity):
 * when the header is absent (NULL) or empty, when no listed coding is acceptable
 * (q=0, or not named and no "*"), or when the client prefers identity (a higher
 * q-value for "identity", or for "*" when identity is not named, than for the best
 * coding). "x-gzip" counts as "gzip".
 * Elements that are not well-formed (bad token, bad q-value) are ignored.
 */
int cmp_negotiate(const char *accept, size_t len, const cmp_codec_t *codecs, unsigned n);

/* The q-value of element `coding` in an Accept-Encoding value, in thousandths; -1 if absent. */
int cmp_accept_q(const char *accept, size_t len, const char *coding);

/* ---- MIME types -------------------------------------------------------------- */

typedef struct {
    const char *pattern; /* a media type, '*' as a wildcard, parameters optional */
    bool enabled;
    bool prepared;   /* pattern is in normal form, plen and has_params are set */
    bool has_params; /* the pattern names parameters */
    uint8_t kind;    /* prepared: CMP_MIME_GLOB, CMP_MIME_EXACT (no '*'), CMP_MIME_PREFIX (one, last) */
    uint16_t plen;
} cmp_mime_rule_t;

enum { CMP_MIME_GLOB, CMP_MIME_EXACT, CMP_MIME_PREFIX };

/* Puts each rule's pattern into the normal form cmp_mime_allowed compares, once (the
   patterns must be heap strings: they are replaced). */
void cmp_mime_rules_prepare(cmp_mime_rule_t *rules, unsigned n);

/*
 * Whether a Content-Type value is listed as compressible: the first rule whose pattern
 * matches decides (its `enabled`); no match means no. A pattern without parameters is
 * matched against the media type alone (parameters of the value are ignored); a pattern
 * with parameters is matched against the whole value, spaces around ';' ignored.
 * '*' matches any run of characters; matching ignores case.
 */
bool cmp_mime_allowed(const cmp_mime_rule_t *rules, unsigned n, const char *content_type, size_t len);

/* Glob match, '*' = any run of characters, ASCII case-insensitive. */
bool cmp_glob(const char *pat, size_t plen, const char *s, size_t slen);

/* Whether a comma-separated header value lists `token` (case-insensitive). */
bool cmp_list_has(const char *value, size_t len, const char *token);

/* ---- compressor streams ------------------------------------------------------ */

typedef struct cmp_stream cmp_stream_t;
enum { CMP_RUN = 0, CMP_FLUSH, CMP_FINISH };
/* Receives compressed output; returns 0, or -1 to stop. */
typedef int (*cmp_emit_fn)(void *ctx, const void *data, size_t n);

/*
 * A stream compressing with `codec` at IIS level `iis_level` (0-10; mapped to the
 * codec's own range). Streams come from a small per-thread pool and go back with
 * cmp_stream_put(); NULL when out of memory.
 */
cmp_stream_t *cmp_stream_get(cmp_codec_t codec, unsigned iis_level);
void cmp_stream_put(cmp_stream_t *s);
/* Compresses n bytes; CMP_FLUSH also pushes out everything so far, CMP_FINISH ends the
   stream. Output goes to emit in pieces of at most 16 KiB. Returns 0 or -1. */
int cmp_stream_write(cmp_stream_t *s, const void *in, size_t n, int op, cmp_emit_fn emit, void *ctx);

/* ---- configuration ------------------------------------------------------------- */

#define CMP_MAX_SCHEMES 8

typedef struct {
    cmp_codec_t codec;
    bool do_static, do_dynamic;
    unsigned static_level, dynamic_level;
} cmp_scheme_t;

/* CPU-usage switch with hysteresis (…DisableCpuUsage / …EnableCpuUsage). */
typedef struct {
    unsigned disable_at, enable_below;
    atomic_bool off;
} cmp_cpu_gate_t;

typedef struct cmp_config {
    bool do_static, do_dynamic, dynamic_before_cache;
    char directory[1024]; /* the static cache folder, ready to use; "" when unusable */
    uint64_t min_file_size;
    bool no_http10, no_proxies, no_range, send_cache_headers, ignore_hit_frequency;
    char cache_control[256], expires[128];
    cmp_cpu_gate_t static_cpu, dynamic_cpu;
    cmp_scheme_t schemes[CMP_MAX_SCHEMES];
    unsigned nschemes;
    cmp_mime_rule_t *static_types, *dynamic_types;
    unsigned nstatic, ndynamic;
} cmp_config_t;

/* The configuration at the request's path, parsed once per path and configuration
   generation (modcfg_cached under the calling module's id). NULL if it cannot be read. */
const cmp_config_t *cmp_config(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id);

/* Machine CPU usage in percent over the last second or so (/proc/stat). */
unsigned cmp_cpu_usage(void);
/* Whether compression may run now under a gate. */
bool cmp_cpu_allows(cmp_cpu_gate_t *g);

/* ---- per-request helpers --------------------------------------------------------- */

/* Request-side exclusions: HTTP/1.0, proxies (Via), Range, as configured. */
bool cmp_request_excluded(const cmp_config_t *cfg, IHttpRequest *req);
/* Adds Accept-Encoding to Vary unless it (or "*") is there already. */
void cmp_add_vary(IHttpResponse *resp);
/* Content-Encoding, ETag rewrite (the coding appended inside the quotes), no
   Accept-Ranges, and the sendCacheHeaders headers: what a compressed response gets. */
void cmp_mark_compressed(IHttpContext *ctx, IHttpResponse *resp, const cmp_config_t *cfg, cmp_codec_t c);
/* Picks the scheme for this request among those with do_static (static) or do_dynamic,
   or returns -1. */
int cmp_pick_scheme(const cmp_config_t *cfg, IHttpRequest *req, bool is_static);
