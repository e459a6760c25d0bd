/*
 * Pure HTTP helpers for the static file handlers (no server objects): HTTP-date
 * formatting and parsing (RFC 9110 §5.6.7), entity-tag comparison and the
 * conditional request evaluation of RFC 9110 §13.2.2, byte-range parsing
 * (§14.1.2) and the extension -> media type map of <staticContent>.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HU_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Formats t as an IMF-fixdate into out (at least HU_DATE_LEN + 1 bytes). */
void hu_http_date(int64_t t, char *out);
/* Parses an HTTP-date in any of the three formats; -1 when s[0..n) is not one. */
int64_t hu_parse_http_date(const char *s, size_t n);

/*
 * True when the entity-tag list s[0..n) (If-Match / If-None-Match) contains "*" or
 * a tag equal to etag; weak selects the weak comparison (W/ prefixes ignored), strong
 * comparison never matches a weak tag. A malformed list matches nothing.
 */
bool hu_etag_list_match(const char *s, size_t n, const char *etag, size_t elen, bool weak);

/* The request's validators and the representation's, for hu_evaluate(). */
typedef struct hu_cond {
    const char *if_match, *if_none_match, *if_modified_since, *if_unmodified_since;
    size_t if_match_len, if_none_match_len, if_modified_since_len, if_unmodified_since_len;
    bool get_or_head;
    const char *etag; /* the current strong tag, with quotes */
    size_t etag_len;
    int64_t mtime; /* seconds (the Last-Modified value) */
} hu_cond_t;

/* RFC 9110 §13.2.2 steps 1-4: 0 to carry on, 304 or 412. */
int hu_evaluate(const hu_cond_t *c);

/* If-Range (§13.1.5): true when the Range header may be honoured. */
bool hu_if_range(const char *s, size_t n, const char *etag, size_t elen, int64_t mtime);

typedef struct hu_range {
    uint64_t first, last; /* inclusive */
} hu_range_t;

#define HU_MAX_RANGES 64 /* more ranges than this in one header: the header is ignored */

enum { HU_RANGE_IGNORE = 0, HU_RANGE_OK = 1, HU_RANGE_UNSATISFIABLE = 2 };

/*
 * Parses a Range header value against a representation of size bytes. Returns
 * HU_RANGE_IGNORE for a syntax error, another unit or too many ranges (the header is
 * then ignored: 200), HU_RANGE_UNSATISFIABLE when no range overlaps the
 * representation (416), else HU_RANGE_OK with the satisfiable ranges in out
 * (*count of them, clamped to the size). Overlapping or adjacent ranges are merged
 * (then sorted by position); ranges that do not overlap keep the requested order.
 */
int hu_parse_range(const char *s, size_t n, uint64_t size, hu_range_t *out, unsigned *count);

/*
 * The media-type map: a hash table built once per configuration. Extensions
 * compare case-insensitively; "." maps files without an extension and ".*"
 * (or "*") everything that is not otherwise mapped.
 */
typedef struct hu_mime hu_mime_t;

hu_mime_t *hu_mime_new(unsigned capacity_hint);
/* Adds (or replaces) ext -> type; false when out of memory. */
bool hu_mime_add(hu_mime_t *m, const char *ext, const char *type);
/* The media type for the file name (or path) name, or NULL (404.3). */
const char *hu_mime_lookup(const hu_mime_t *m, const char *name, size_t n);
unsigned hu_mime_count(const hu_mime_t *m);
/* The ".*" mapping, or NULL. */
const char *hu_mime_any(const hu_mime_t *m);
void hu_mime_free(hu_mime_t *m);
