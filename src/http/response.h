/*
 * The response being built for a request: status, headers (known ones by
 * IIS response HTTP_HEADER_ID, others by name) and the body as a list of
 * memory and file chunks. Values live in the request arena.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/arena.h"
#include "http/parser.h"

enum iisd_chunk_type { IISD_CHUNK_MEM = 0, IISD_CHUNK_FILE = 1 };

typedef struct iisd_chunk {
    struct iisd_chunk *next;
    uint8_t type;
    int fd;           /* IISD_CHUNK_FILE */
    const void *data; /* IISD_CHUNK_MEM */
    uint64_t off;     /* file offset */
    uint64_t len;
} iisd_chunk_t;

typedef struct iisd_hfield {
    char *name;
    char *value;
    uint16_t name_len;
    uint16_t value_len;
} iisd_hfield_t;

/* Fields by name, in order of setting (the response's trailers). */
typedef struct iisd_hlist {
    iisd_hfield_t *v;
    uint16_t n, cap;
} iisd_hlist_t;

typedef struct iisd_resp {
    uint16_t status;
    uint16_t substatus;
    const char *reason; /* NULL: the standard phrase */
    uint16_t reason_len;
    int32_t error_hr; /* hrErrorToReport */
    bool try_skip_custom_errors;
    struct {
        char *value;
        uint16_t len;
    } known[IISD_HDR_RESP_KNOWN];
    iisd_hfield_t *unknown;
    uint16_t unknown_count, unknown_cap;
    iisd_chunk_t *first, *last;
    uint32_t nchunks;
    uint64_t body_len;     /* bytes in the chunk list */
    bool no_server_header; /* Server was deleted: do not add the default one */
    bool headers_sent;
    bool suppress_headers;
    bool buffering; /* default true */
    bool need_disconnect;
    bool chunked_out; /* framing chosen at first flush */
    bool close_delimited;
    bool length_fixed; /* Content-Length sent at first flush */
    uint64_t declared_length;
    uint64_t body_sent;    /* body bytes written so far (payload only) */
    iisd_hlist_t trailers; /* sent in the last chunk when the client accepts them (TE: trailers) */
} iisd_resp_t;

void iisd_resp_init(iisd_resp_t *r);
/* Resets status, headers and body (IHttpResponse::Clear). */
void iisd_resp_clear(iisd_resp_t *r);
void iisd_resp_clear_headers(iisd_resp_t *r);
void iisd_resp_clear_body(iisd_resp_t *r);

/* Sets (replace) or appends with ", " (append) a header value; copies into the arena. */
void iisd_resp_set_known(iisd_resp_t *r, iisd_arena_t *a, int id, const char *v, size_t n, bool replace);
int iisd_resp_set_named(iisd_resp_t *r, iisd_arena_t *a, const char *name, size_t nlen, const char *v,
                        size_t n, bool replace);
void iisd_resp_delete_named(iisd_resp_t *r, const char *name, size_t nlen);
/* Deletes a known header. Deleting Server also stops the server from adding its own. */
void iisd_resp_delete_known(iisd_resp_t *r, int id);
/* Returns the value (NUL-terminated) or NULL. */
const char *iisd_resp_get_named(const iisd_resp_t *r, const char *name, size_t nlen, uint16_t *len);

/* Trailer fields: set (replace, or append with ", "), delete, get; names case-insensitive. */
void iisd_hlist_set(iisd_hlist_t *l, iisd_arena_t *a, const char *name, size_t nlen, const char *v, size_t n,
                    bool replace);
bool iisd_hlist_delete(iisd_hlist_t *l, const char *name, size_t nlen);
const char *iisd_hlist_get(const iisd_hlist_t *l, const char *name, size_t nlen, uint16_t *len);
/* Does a TE request header value list the "trailers" token (RFC 9110 section 10.1.4)? */
bool iisd_te_accepts_trailers(const char *te, size_t len);

void iisd_resp_append(iisd_resp_t *r, iisd_chunk_t *c);
void iisd_resp_prepend(iisd_resp_t *r, iisd_chunk_t *c);

/* The standard reason phrase for a status, or "Unknown". */
const char *iisd_status_reason(unsigned status);
