/*
 * Strict, incremental HTTP/1.1 request-head parser (RFC 9112 §2-§7, RFC 9110 §5).
 *
 * The parser works in place on the connection's receive buffer and never
 * copies header bytes: on success every string in the head points into the
 * buffer and is NUL-terminated there (the parser overwrites the CR or the
 * first trailing whitespace byte of each element with '\0'). It is
 * incremental: iisd_parse_head() may be called again with the same buffer
 * grown by newly received bytes, and it resumes at the first line it has
 * not finished instead of starting over.
 *
 * Header names are mapped to tokens whose values are the IIS request
 * HTTP_HEADER_ID values (0..40); other names are "unknown" headers.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"

#define IISD_HDR_REQ_KNOWN 41 /* HttpHeaderRequestMaximum */
#define IISD_HDR_UNKNOWN   (-1)

/* Request header ids (equal to IIS HTTP_HEADER_ID for requests). */
enum iisd_req_hdr {
    IISD_H_CACHE_CONTROL = 0,
    IISD_H_CONNECTION = 1,
    IISD_H_DATE = 2,
    IISD_H_KEEP_ALIVE = 3,
    IISD_H_PRAGMA = 4,
    IISD_H_TRAILER = 5,
    IISD_H_TRANSFER_ENCODING = 6,
    IISD_H_UPGRADE = 7,
    IISD_H_VIA = 8,
    IISD_H_WARNING = 9,
    IISD_H_ALLOW = 10,
    IISD_H_CONTENT_LENGTH = 11,
    IISD_H_CONTENT_TYPE = 12,
    IISD_H_CONTENT_ENCODING = 13,
    IISD_H_CONTENT_LANGUAGE = 14,
    IISD_H_CONTENT_LOCATION = 15,
    IISD_H_CONTENT_MD5 = 16,
    IISD_H_CONTENT_RANGE = 17,
    IISD_H_EXPIRES = 18,
    IISD_H_LAST_MODIFIED = 19,
    IISD_H_ACCEPT = 20,
    IISD_H_ACCEPT_CHARSET = 21,
    IISD_H_ACCEPT_ENCODING = 22,
    IISD_H_ACCEPT_LANGUAGE = 23,
    IISD_H_AUTHORIZATION = 24,
    IISD_H_COOKIE = 25,
    IISD_H_EXPECT = 26,
    IISD_H_FROM = 27,
    IISD_H_HOST = 28,
    IISD_H_IF_MATCH = 29,
    IISD_H_IF_MODIFIED_SINCE = 30,
    IISD_H_IF_NONE_MATCH = 31,
    IISD_H_IF_RANGE = 32,
    IISD_H_IF_UNMODIFIED_SINCE = 33,
    IISD_H_MAX_FORWARDS = 34,
    IISD_H_PROXY_AUTHORIZATION = 35,
    IISD_H_REFERER = 36,
    IISD_H_RANGE = 37,
    IISD_H_TE = 38,
    IISD_H_TRANSLATE = 39,
    IISD_H_USER_AGENT = 40,
};

/* Response header ids (IIS HTTP_HEADER_ID for responses; 0..19 as above). */
#define IISD_HDR_RESP_KNOWN 30 /* HttpHeaderResponseMaximum */
enum iisd_resp_hdr {
    IISD_RH_ACCEPT_RANGES = 20,
    IISD_RH_AGE = 21,
    IISD_RH_ETAG = 22,
    IISD_RH_LOCATION = 23,
    IISD_RH_PROXY_AUTHENTICATE = 24,
    IISD_RH_RETRY_AFTER = 25,
    IISD_RH_SERVER = 26,
    IISD_RH_SET_COOKIE = 27,
    IISD_RH_VARY = 28,
    IISD_RH_WWW_AUTHENTICATE = 29,
};

/* Canonical names ("Content-Type") and lengths of the known headers. */
extern const char *const iisd_req_hdr_names[IISD_HDR_REQ_KNOWN];
extern const uint8_t iisd_req_hdr_name_lens[IISD_HDR_REQ_KNOWN];
extern const char *const iisd_resp_hdr_names[IISD_HDR_RESP_KNOWN];
extern const uint8_t iisd_resp_hdr_name_lens[IISD_HDR_RESP_KNOWN];

/* Case-insensitive lookup of a field name; returns the id or IISD_HDR_UNKNOWN. */
int iisd_req_hdr_lookup(const char *name, size_t len);
int iisd_resp_hdr_lookup(const char *name, size_t len);

/* HTTP_VERB values (IIS http.h). */
enum iisd_verb {
    IISD_VERB_UNPARSED = 0,
    IISD_VERB_UNKNOWN = 1,
    IISD_VERB_INVALID = 2,
    IISD_VERB_OPTIONS = 3,
    IISD_VERB_GET = 4,
    IISD_VERB_HEAD = 5,
    IISD_VERB_POST = 6,
    IISD_VERB_PUT = 7,
    IISD_VERB_DELETE = 8,
    IISD_VERB_TRACE = 9,
    IISD_VERB_CONNECT = 10,
    IISD_VERB_TRACK = 11,
    IISD_VERB_MOVE = 12,
    IISD_VERB_COPY = 13,
    IISD_VERB_PROPFIND = 14,
    IISD_VERB_PROPPATCH = 15,
    IISD_VERB_MKCOL = 16,
    IISD_VERB_LOCK = 17,
    IISD_VERB_UNLOCK = 18,
    IISD_VERB_SEARCH = 19,
};
/* Maps a method token (case-sensitive, RFC 9110 §9.1) to its HTTP_VERB. */
int iisd_verb_lookup(const char *m, size_t len);

typedef struct iisd_field {
    const char *name;  /* NUL-terminated in the buffer */
    const char *value; /* NUL-terminated; leading/trailing OWS removed */
    uint16_t name_len;
    uint16_t value_len;
} iisd_field_t;

enum iisd_target_form {
    IISD_TARGET_ORIGIN,
    IISD_TARGET_ABSOLUTE,
    IISD_TARGET_AUTHORITY,
    IISD_TARGET_ASTERISK
};

typedef struct iisd_head {
    const char *method; /* NUL-terminated */
    uint16_t method_len;
    uint8_t verb; /* enum iisd_verb */
    uint8_t target_form;
    uint8_t version_major, version_minor;
    const char *target; /* raw request-target, NUL-terminated */
    uint32_t target_len;
    const char *path; /* raw path: for origin-form the target up to '?'; for absolute-form the path part
                         ("/" when empty); "*" for asterisk-form. Not decoded. Not NUL-terminated
                         (use path_len). */
    uint32_t path_len;
    const char *query; /* after '?', not including it; NULL when there is no '?' */
    uint32_t query_len;
    const char *authority; /* absolute-form or authority-form host[:port]; NULL otherwise */
    uint32_t authority_len;

    /* Known headers by id. Repeated fields are combined with ", " into an
       arena copy (RFC 9110 §5.3), except those that must be single (Host,
       Content-Length: see iisd_parse_head errors). len 0 and value NULL = absent. */
    struct {
        const char *value;
        uint16_t len;
    } known[IISD_HDR_REQ_KNOWN];
    iisd_field_t *unknown; /* caller-provided array */
    uint16_t unknown_count;
    uint16_t unknown_cap;

    /* Framing, derived from the headers (RFC 9112 §6-§9). */
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding ends in chunked */
    bool keep_alive;        /* persistent per RFC 9112 §9.3 given version and Connection */
    bool expect_continue;   /* Expect: 100-continue */
    bool upgrade;           /* Connection: upgrade + Upgrade present */
    uint32_t head_len;      /* bytes of request line + fields + final CRLF, plus any empty
                               lines skipped before the request line: the body starts at
                               buf + head_len */
} iisd_head_t;

typedef struct iisd_parse_limits {
    uint32_t max_request_line; /* longer request line -> 414 (default 8192) */
    uint32_t max_head;         /* longer head -> 431 (default 16384) */
    uint32_t max_field;        /* longer single field line -> 431 (default 8192) */
} iisd_parse_limits_t;

/* Parser state kept between calls for one request. */
typedef struct iisd_parser {
    uint32_t pos;      /* where to resume: start of the first line not yet finished */
    uint8_t state;     /* internal */
    uint16_t skip;     /* internal: leading empty lines skipped (RFC 9112 §2.2) */
    uint32_t scan;     /* internal: bytes of the unfinished line already validated */
    uint64_t combined; /* internal: bit i set when known[i] is an arena copy */
} iisd_parser_t;

static inline void iisd_parser_init(iisd_parser_t *p)
{
    p->pos = 0;
    p->state = 0;
    p->skip = 0;
    p->scan = 0;
    p->combined = 0;
}

/*
 * Return values of iisd_parse_head():
 *   > 0  the head is complete; the value is head->head_len
 *   0    need more bytes (call again with the same buffer, longer len)
 *   < 0  the negated HTTP status to answer with, then close:
 *        -400 malformed (bad request line, bad field syntax, obs-fold, bare CR,
 *             NUL or other CTL in a field value, whitespace before colon, missing
 *             Host in HTTP/1.1, more than one Host, Content-Length that is not a
 *             non-negative decimal or differs between repeats, Content-Length
 *             together with Transfer-Encoding, Transfer-Encoding in HTTP/1.0,
 *             chunked not last, target form not allowed for the method: CONNECT
 *             takes the authority-form and nothing else does)
 *        -414 request line longer than max_request_line
 *        -431 head longer than max_head, a field longer than max_field, or
 *             more unknown fields than head->unknown_cap
 *        -501 a transfer coding other than chunked
 *        -505 HTTP major version other than 1
 * head->unknown and unknown_cap must be set by the caller before the first
 * call and left alone between calls; everything else in *head is written by
 * the parser. `a` is used only for combined repeated fields and for the Host
 * value of an absolute-form request: the target's authority replaces the Host
 * field there (RFC 9112 §3.2.2), so known[IISD_H_HOST] always names the host
 * the request is for.
 */
int iisd_parse_head(iisd_parser_t *p, char *buf, size_t len, iisd_head_t *head,
                    const iisd_parse_limits_t *lim, iisd_arena_t *a);

/*
 * Chunked transfer-coding decoder (RFC 9112 §7.1), in place.
 * iisd_chunked_decode() consumes encoded bytes from buf[0..*len) and moves the
 * decoded payload to the front of buf; on return *len is the number of payload
 * bytes now at buf[0..*len) and *consumed the number of input bytes used.
 * Input after `consumed` (an incomplete chunk-size line, say) must be kept by the
 * caller and presented again, followed by more bytes.
 * Returns 1 when the last chunk and the trailer section have been consumed
 * (the body is complete), 0 when more input is needed, or -400 on malformed
 * input (bad hex, size overflow, chunk-ext or trailer line too long > 4096,
 * missing CRLF after data, bare CR/LF, invalid trailer field, trailer
 * section over 64 KiB).
 * Trailer fields are validated and discarded.
 */
typedef struct iisd_chunked {
    uint64_t remaining;   /* payload bytes left in the current chunk */
    uint8_t state;        /* internal */
    uint16_t line_len;    /* internal */
    uint32_t trailer_len; /* internal: bytes of the trailer section so far */
} iisd_chunked_t;

static inline void iisd_chunked_init(iisd_chunked_t *c)
{
    c->remaining = 0;
    c->state = 0;
    c->line_len = 0;
    c->trailer_len = 0;
}

int iisd_chunked_decode(iisd_chunked_t *c, char *buf, size_t *len, size_t *consumed);

/*
 * URL path decoding and normalisation, for mapping to files and for the
 * "cooked" URL modules see. Percent-decodes the raw path (not the query),
 * resolves "." and ".." segments (RFC 3986 §5.2.4), collapses repeated '/',
 * and writes a NUL-terminated result to out (capacity at least len+1).
 * Returns the output length, or -400 when the path does not start with '/',
 * contains a %-escape that is not two hex digits, decodes to NUL or to
 * invalid UTF-8 (overlong forms included), or climbs above the root.
 * A backslash (raw or decoded from %5C) is turned into '/' before segments
 * are resolved, as IIS does, so it can never get around normalisation.
 * *double_escaped is set when the decoded
 * path still contains a '%' that forms a valid escape (for request
 * filtering's allowDoubleEscaping); it may be NULL.
 */
int iisd_url_normalize(const char *path, size_t len, char *out, bool *double_escaped);
