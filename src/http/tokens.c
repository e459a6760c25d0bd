/*
 * Header-name token tables and lookups, HTTP method lookup, and the byte
 * classification tables shared by the HTTP/1.1 parser.
 */
#include "http/parser.h"
#include "http/chars.h"
#include <string.h>

/* ---- byte classes ------------------------------------------------------ */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_HEX(c)   (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_VCHAR(c) ((c) >= 0x21 && (c) <= 0x7e)
#define IS_TCHAR(c)                                                                                          \
    (IS_DIGIT(c) || IS_ALPHA(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' ||     \
     (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' ||      \
     (c) == '`' || (c) == '|' || (c) == '~')
#define IS_SUBDELIM(c)                                                                                       \
    ((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' || (c) == '*' ||      \
     (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define IS_UNRESERVED(c) (IS_DIGIT(c) || IS_ALPHA(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~')

#define CLS(c)                                                                                               \
    ((IS_TCHAR(c) ? IISD_C_TCHAR : 0) |                                                                      \
     ((IS_VCHAR(c) || (c) >= 0x80 || (c) == ' ' || (c) == '\t') ? IISD_C_FIELD : 0) |                        \
     ((IS_VCHAR(c) || (c) == ' ') ? IISD_C_RLINE : 0) |                                                      \
     ((IS_UNRESERVED(c) || IS_SUBDELIM(c)) ? IISD_C_HOST : 0) | (IS_HEX(c) ? IISD_C_HEX : 0) |               \
     (IS_DIGIT(c) ? IISD_C_DIGIT : 0) |                                                                      \
     (((IS_VCHAR(c) && (c) != '"' && (c) != '\\') || (c) >= 0x80 || (c) == ' ' || (c) == '\t')               \
          ? IISD_C_QDTEXT                                                                                    \
          : 0))
#define LC(c) ((uint8_t)(((c) >= 'A' && (c) <= 'Z') ? (c) + 32 : (c)))

#define R4(f, b)  f(b), f(b + 1), f(b + 2), f(b + 3)
#define R16(f, b) R4(f, b), R4(f, b + 4), R4(f, b + 8), R4(f, b + 12)
#define R64(f, b) R16(f, b), R16(f, b + 16), R16(f, b + 32), R16(f, b + 48)

const uint8_t iisd_http_cls[256] = {R64(CLS, 0), R64(CLS, 64), R64(CLS, 128), R64(CLS, 192)};
const uint8_t iisd_http_lc[256] = {R64(LC, 0), R64(LC, 64), R64(LC, 128), R64(LC, 192)};

#define lc iisd_http_lc

/* Case-insensitive compare of n bytes of s with the lower-case literal l. */
static inline int ieq(const unsigned char *s, const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc[s[i]] != (unsigned char)l[i])
            return 0;
    return 1;
}

/* ---- header names ------------------------------------------------------ */

const char *const iisd_req_hdr_names[IISD_HDR_REQ_KNOWN] = {
    "Cache-Control",
    "Connection",
    "Date",
    "Keep-Alive",
    "Pragma",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Via",
    "Warning",
    "Allow",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Content-MD5",
    "Content-Range",
    "Expires",
    "Last-Modified",
    "Accept",
    "Accept-Charset",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Cookie",
    "Expect",
    "From",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Max-Forwards",
    "Proxy-Authorization",
    "Referer",
    "Range",
    "TE",
    "Translate",
    "User-Agent",
};

const uint8_t iisd_req_hdr_name_lens[IISD_HDR_REQ_KNOWN] = {
    13, /* Cache-Control */
    10, /* Connection */
    4,  /* Date */
    10, /* Keep-Alive */
    6,  /* Pragma */
    7,  /* Trailer */
    17, /* Transfer-Encoding */
    7,  /* Upgrade */
    3,  /* Via */
    7,  /* Warning */
    5,  /* Allow */
    14, /* Content-Length */
    12, /* Content-Type */
    16, /* Content-Encoding */
    16, /* Content-Language */
    16, /* Content-Location */
    11, /* Content-MD5 */
    13, /* Content-Range */
    7,  /* Expires */
    13, /* Last-Modified */
    6,  /* Accept */
    14, /* Accept-Charset */
    15, /* Accept-Encoding */
    15, /* Accept-Language */
    13, /* Authorization */
    6,  /* Cookie */
    6,  /* Expect */
    4,  /* From */
    4,  /* Host */
    8,  /* If-Match */
    17, /* If-Modified-Since */
    13, /* If-None-Match */
    8,  /* If-Range */
    19, /* If-Unmodified-Since */
    12, /* Max-Forwards */
    19, /* Proxy-Authorization */
    7,  /* Referer */
    5,  /* Range */
    2,  /* TE */
    9,  /* Translate */
    10, /* User-Agent */
};

const char *const iisd_resp_hdr_names[IISD_HDR_RESP_KNOWN] = {
    "Cache-Control",
    "Connection",
    "Date",
    "Keep-Alive",
    "Pragma",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Via",
    "Warning",
    "Allow",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Content-MD5",
    "Content-Range",
    "Expires",
    "Last-Modified",
    "Accept-Ranges",
    "Age",
    "ETag",
    "Location",
    "Proxy-Authenticate",
    "Retry-After",
    "Server",
    "Set-Cookie",
    "Vary",
    "WWW-Authenticate",
};

const uint8_t iisd_resp_hdr_name_lens[IISD_HDR_RESP_KNOWN] = {
    13, /* Cache-Control */
    10, /* Connection */
    4,  /* Date */
    10, /* Keep-Alive */
    6,  /* Pragma */
    7,  /* Trailer */
    17, /* Transfer-Encoding */
    7,  /* Upgrade */
    3,  /* Via */
    7,  /* Warning */
    5,  /* Allow */
    14, /* Content-Length */
    12, /* Content-Type */
    16, /* Content-Encoding */
    16, /* Content-Language */
    16, /* Content-Location */
    11, /* Content-MD5 */
    13, /* Content-Range */
    7,  /* Expires */
    13, /* Last-Modified */
    13, /* Accept-Ranges */
    3,  /* Age */
    4,  /* ETag */
    8,  /* Location */
    18, /* Proxy-Authenticate */
    11, /* Retry-After */
    6,  /* Server */
    10, /* Set-Cookie */
    4,  /* Vary */
    16, /* WWW-Authenticate */
};

int iisd_req_hdr_lookup(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    switch (len) {
    case 2:
        switch (lc[s[0]]) {
        case 't':
            return ieq(s + 1, "e", 1) ? IISD_H_TE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 3:
        switch (lc[s[0]]) {
        case 'v':
            return ieq(s + 1, "ia", 2) ? IISD_H_VIA : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 4:
        switch (lc[s[0]]) {
        case 'd':
            return ieq(s + 1, "ate", 3) ? IISD_H_DATE : IISD_HDR_UNKNOWN;
        case 'f':
            return ieq(s + 1, "rom", 3) ? IISD_H_FROM : IISD_HDR_UNKNOWN;
        case 'h':
            return ieq(s + 1, "ost", 3) ? IISD_H_HOST : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 5:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "llow", 4) ? IISD_H_ALLOW : IISD_HDR_UNKNOWN;
        case 'r':
            return ieq(s + 1, "ange", 4) ? IISD_H_RANGE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 6:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "ccept", 5) ? IISD_H_ACCEPT : IISD_HDR_UNKNOWN;
        case 'c':
            return ieq(s + 1, "ookie", 5) ? IISD_H_COOKIE : IISD_HDR_UNKNOWN;
        case 'e':
            return ieq(s + 1, "xpect", 5) ? IISD_H_EXPECT : IISD_HDR_UNKNOWN;
        case 'p':
            return ieq(s + 1, "ragma", 5) ? IISD_H_PRAGMA : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 7:
        switch (lc[s[0]]) {
        case 'e':
            return ieq(s + 1, "xpires", 6) ? IISD_H_EXPIRES : IISD_HDR_UNKNOWN;
        case 'r':
            return ieq(s + 1, "eferer", 6) ? IISD_H_REFERER : IISD_HDR_UNKNOWN;
        case 't':
            return ieq(s + 1, "railer", 6) ? IISD_H_TRAILER : IISD_HDR_UNKNOWN;
        case 'u':
            return ieq(s + 1, "pgrade", 6) ? IISD_H_UPGRADE : IISD_HDR_UNKNOWN;
        case 'w':
            return ieq(s + 1, "arning", 6) ? IISD_H_WARNING : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 8:
        switch (lc[s[0]]) {
        case 'i':
            switch (lc[s[3]]) {
            case 'm':
                return ieq(s + 1, "f-match", 7) ? IISD_H_IF_MATCH : IISD_HDR_UNKNOWN;
            case 'r':
                return ieq(s + 1, "f-range", 7) ? IISD_H_IF_RANGE : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 9:
        switch (lc[s[0]]) {
        case 't':
            return ieq(s + 1, "ranslate", 8) ? IISD_H_TRANSLATE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 10:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "onnection", 9) ? IISD_H_CONNECTION : IISD_HDR_UNKNOWN;
        case 'k':
            return ieq(s + 1, "eep-alive", 9) ? IISD_H_KEEP_ALIVE : IISD_HDR_UNKNOWN;
        case 'u':
            return ieq(s + 1, "ser-agent", 9) ? IISD_H_USER_AGENT : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 11:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "ontent-md5", 10) ? IISD_H_CONTENT_MD5 : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 12:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "ontent-type", 11) ? IISD_H_CONTENT_TYPE : IISD_HDR_UNKNOWN;
        case 'm':
            return ieq(s + 1, "ax-forwards", 11) ? IISD_H_MAX_FORWARDS : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 13:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "uthorization", 12) ? IISD_H_AUTHORIZATION : IISD_HDR_UNKNOWN;
        case 'c':
            switch (lc[s[1]]) {
            case 'a':
                return ieq(s + 1, "ache-control", 12) ? IISD_H_CACHE_CONTROL : IISD_HDR_UNKNOWN;
            case 'o':
                return ieq(s + 1, "ontent-range", 12) ? IISD_H_CONTENT_RANGE : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        case 'i':
            return ieq(s + 1, "f-none-match", 12) ? IISD_H_IF_NONE_MATCH : IISD_HDR_UNKNOWN;
        case 'l':
            return ieq(s + 1, "ast-modified", 12) ? IISD_H_LAST_MODIFIED : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 14:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "ccept-charset", 13) ? IISD_H_ACCEPT_CHARSET : IISD_HDR_UNKNOWN;
        case 'c':
            return ieq(s + 1, "ontent-length", 13) ? IISD_H_CONTENT_LENGTH : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 15:
        switch (lc[s[0]]) {
        case 'a':
            switch (lc[s[7]]) {
            case 'e':
                return ieq(s + 1, "ccept-encoding", 14) ? IISD_H_ACCEPT_ENCODING : IISD_HDR_UNKNOWN;
            case 'l':
                return ieq(s + 1, "ccept-language", 14) ? IISD_H_ACCEPT_LANGUAGE : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 16:
        switch (lc[s[0]]) {
        case 'c':
            switch (lc[s[9]]) {
            case 'n':
                return ieq(s + 1, "ontent-encoding", 15) ? IISD_H_CONTENT_ENCODING : IISD_HDR_UNKNOWN;
            case 'a':
                return ieq(s + 1, "ontent-language", 15) ? IISD_H_CONTENT_LANGUAGE : IISD_HDR_UNKNOWN;
            case 'o':
                return ieq(s + 1, "ontent-location", 15) ? IISD_H_CONTENT_LOCATION : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 17:
        switch (lc[s[0]]) {
        case 'i':
            return ieq(s + 1, "f-modified-since", 16) ? IISD_H_IF_MODIFIED_SINCE : IISD_HDR_UNKNOWN;
        case 't':
            return ieq(s + 1, "ransfer-encoding", 16) ? IISD_H_TRANSFER_ENCODING : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 19:
        switch (lc[s[0]]) {
        case 'i':
            return ieq(s + 1, "f-unmodified-since", 18) ? IISD_H_IF_UNMODIFIED_SINCE : IISD_HDR_UNKNOWN;
        case 'p':
            return ieq(s + 1, "roxy-authorization", 18) ? IISD_H_PROXY_AUTHORIZATION : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    }
    return IISD_HDR_UNKNOWN;
}

int iisd_resp_hdr_lookup(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    switch (len) {
    case 3:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "ge", 2) ? IISD_RH_AGE : IISD_HDR_UNKNOWN;
        case 'v':
            return ieq(s + 1, "ia", 2) ? IISD_H_VIA : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 4:
        switch (lc[s[0]]) {
        case 'd':
            return ieq(s + 1, "ate", 3) ? IISD_H_DATE : IISD_HDR_UNKNOWN;
        case 'e':
            return ieq(s + 1, "tag", 3) ? IISD_RH_ETAG : IISD_HDR_UNKNOWN;
        case 'v':
            return ieq(s + 1, "ary", 3) ? IISD_RH_VARY : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 5:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "llow", 4) ? IISD_H_ALLOW : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 6:
        switch (lc[s[0]]) {
        case 'p':
            return ieq(s + 1, "ragma", 5) ? IISD_H_PRAGMA : IISD_HDR_UNKNOWN;
        case 's':
            return ieq(s + 1, "erver", 5) ? IISD_RH_SERVER : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 7:
        switch (lc[s[0]]) {
        case 'e':
            return ieq(s + 1, "xpires", 6) ? IISD_H_EXPIRES : IISD_HDR_UNKNOWN;
        case 't':
            return ieq(s + 1, "railer", 6) ? IISD_H_TRAILER : IISD_HDR_UNKNOWN;
        case 'u':
            return ieq(s + 1, "pgrade", 6) ? IISD_H_UPGRADE : IISD_HDR_UNKNOWN;
        case 'w':
            return ieq(s + 1, "arning", 6) ? IISD_H_WARNING : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 8:
        switch (lc[s[0]]) {
        case 'l':
            return ieq(s + 1, "ocation", 7) ? IISD_RH_LOCATION : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 10:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "onnection", 9) ? IISD_H_CONNECTION : IISD_HDR_UNKNOWN;
        case 'k':
            return ieq(s + 1, "eep-alive", 9) ? IISD_H_KEEP_ALIVE : IISD_HDR_UNKNOWN;
        case 's':
            return ieq(s + 1, "et-cookie", 9) ? IISD_RH_SET_COOKIE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 11:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "ontent-md5", 10) ? IISD_H_CONTENT_MD5 : IISD_HDR_UNKNOWN;
        case 'r':
            return ieq(s + 1, "etry-after", 10) ? IISD_RH_RETRY_AFTER : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 12:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "ontent-type", 11) ? IISD_H_CONTENT_TYPE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 13:
        switch (lc[s[0]]) {
        case 'a':
            return ieq(s + 1, "ccept-ranges", 12) ? IISD_RH_ACCEPT_RANGES : IISD_HDR_UNKNOWN;
        case 'c':
            switch (lc[s[1]]) {
            case 'a':
                return ieq(s + 1, "ache-control", 12) ? IISD_H_CACHE_CONTROL : IISD_HDR_UNKNOWN;
            case 'o':
                return ieq(s + 1, "ontent-range", 12) ? IISD_H_CONTENT_RANGE : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        case 'l':
            return ieq(s + 1, "ast-modified", 12) ? IISD_H_LAST_MODIFIED : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 14:
        switch (lc[s[0]]) {
        case 'c':
            return ieq(s + 1, "ontent-length", 13) ? IISD_H_CONTENT_LENGTH : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 16:
        switch (lc[s[0]]) {
        case 'c':
            switch (lc[s[9]]) {
            case 'n':
                return ieq(s + 1, "ontent-encoding", 15) ? IISD_H_CONTENT_ENCODING : IISD_HDR_UNKNOWN;
            case 'a':
                return ieq(s + 1, "ontent-language", 15) ? IISD_H_CONTENT_LANGUAGE : IISD_HDR_UNKNOWN;
            case 'o':
                return ieq(s + 1, "ontent-location", 15) ? IISD_H_CONTENT_LOCATION : IISD_HDR_UNKNOWN;
            }
            return IISD_HDR_UNKNOWN;
        case 'w':
            return ieq(s + 1, "ww-authenticate", 15) ? IISD_RH_WWW_AUTHENTICATE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 17:
        switch (lc[s[0]]) {
        case 't':
            return ieq(s + 1, "ransfer-encoding", 16) ? IISD_H_TRANSFER_ENCODING : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    case 18:
        switch (lc[s[0]]) {
        case 'p':
            return ieq(s + 1, "roxy-authenticate", 17) ? IISD_RH_PROXY_AUTHENTICATE : IISD_HDR_UNKNOWN;
        }
        return IISD_HDR_UNKNOWN;
    }
    return IISD_HDR_UNKNOWN;
}

/* ---- methods ----------------------------------------------------------- */

int iisd_verb_lookup(const char *m, size_t len)
{
    switch (len) {
    case 3:
        if (memcmp(m, "GET", 3) == 0)
            return IISD_VERB_GET;
        if (memcmp(m, "PUT", 3) == 0)
            return IISD_VERB_PUT;
        break;
    case 4:
        switch (m[0]) {
        case 'H':
            return memcmp(m, "HEAD", 4) == 0 ? IISD_VERB_HEAD : IISD_VERB_UNKNOWN;
        case 'P':
            return memcmp(m, "POST", 4) == 0 ? IISD_VERB_POST : IISD_VERB_UNKNOWN;
        case 'M':
            return memcmp(m, "MOVE", 4) == 0 ? IISD_VERB_MOVE : IISD_VERB_UNKNOWN;
        case 'C':
            return memcmp(m, "COPY", 4) == 0 ? IISD_VERB_COPY : IISD_VERB_UNKNOWN;
        case 'L':
            return memcmp(m, "LOCK", 4) == 0 ? IISD_VERB_LOCK : IISD_VERB_UNKNOWN;
        }
        break;
    case 5:
        if (memcmp(m, "TRACE", 5) == 0)
            return IISD_VERB_TRACE;
        if (memcmp(m, "TRACK", 5) == 0)
            return IISD_VERB_TRACK;
        if (memcmp(m, "MKCOL", 5) == 0)
            return IISD_VERB_MKCOL;
        break;
    case 6:
        switch (m[0]) {
        case 'D':
            return memcmp(m, "DELETE", 6) == 0 ? IISD_VERB_DELETE : IISD_VERB_UNKNOWN;
        case 'U':
            return memcmp(m, "UNLOCK", 6) == 0 ? IISD_VERB_UNLOCK : IISD_VERB_UNKNOWN;
        case 'S':
            return memcmp(m, "SEARCH", 6) == 0 ? IISD_VERB_SEARCH : IISD_VERB_UNKNOWN;
        }
        break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0)
            return IISD_VERB_OPTIONS;
        if (memcmp(m, "CONNECT", 7) == 0)
            return IISD_VERB_CONNECT;
        break;
    case 8:
        if (memcmp(m, "PROPFIND", 8) == 0)
            return IISD_VERB_PROPFIND;
        break;
    case 9:
        if (memcmp(m, "PROPPATCH", 9) == 0)
            return IISD_VERB_PROPPATCH;
        break;
    }
    return IISD_VERB_UNKNOWN;
}
