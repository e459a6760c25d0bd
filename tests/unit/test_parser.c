/*
 * Unit tests for src/http/parser.c and src/http/tokens.c: request-head parser
 * (table-driven, every case fed whole, split in two at every position and
 * byte by byte), chunked decoder, URL normalisation, header and method lookup.
 *
 * Build:
 *   gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Isrc tests/unit/test_parser.c src/http/parser.c \
 *       src/http/tokens.c src/core/arena.c src/core/mem.c -lcmocka -o build/test_parser
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"
#include "core/arena.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
/* Bytes that have not "arrived" yet are poisoned: the parser must not read them. */
#define POISON(p, n)   __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define NOT_YET 0xEE /* filler for bytes that have not arrived */

/* ======================================================================== */
/* request head: table                                                       */
/* ======================================================================== */

struct kv {
    int id;
    const char *v;
};
struct nv {
    const char *n, *v;
};

struct hcase {
    const char *name;
    const char *head;  /* the head; expected head_len = its length. For errors: the input */
    size_t head_n;     /* length when head contains NUL bytes, else 0 */
    const char *extra; /* bytes after the head (body, pipelined request) */
    int status;        /* 0 = success, else the expected negative status */
    const char *method;
    int verb, form, minor;
    const char *target, *path, *query, *authority; /* query/authority NULL = expect NULL */
    const char *cl;                                /* NULL = content_length -1 */
    bool chunked, ka, expect, upgrade;
    struct kv known[8]; /* terminated by v == NULL; every other known id must be absent */
    struct nv unknown[6];
    int ucap; /* unknown_cap: 0 -> 16, -1 -> 0 */
    iisd_parse_limits_t lim;
};

#define H11 "Host: a\r\n"
#define BAD(nm, req, st)                                                                                     \
    {                                                                                                        \
        .name = nm, .head = req, .status = st                                                                \
    }
#define BADN(nm, req, st)                                                                                    \
    {                                                                                                        \
        .name = nm, .head = req, .head_n = sizeof(req) - 1, .status = st                                     \
    }
#define HOST_A                                                                                               \
    {                                                                                                        \
        IISD_H_HOST, "a"                                                                                     \
    }

static const struct hcase head_cases[] = {
    /* ---- valid ---------------------------------------------------------------- */
    {.name = "simple-get",
     .head = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ORIGIN,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {{IISD_H_HOST, "example.com"}}},
    {.name = "query-mixed-case-names-unknown-empty",
     .head = "GET /a/b.txt?x=1&y=2 HTTP/1.1\r\nhOsT: example.com:8080\r\nX-Foo: bar\r\nuser-AGENT: "
             "curl/8.0\r\nX-Empty:\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/a/b.txt?x=1&y=2",
     .path = "/a/b.txt",
     .query = "x=1&y=2",
     .ka = true,
     .known = {{IISD_H_HOST, "example.com:8080"}, {IISD_H_USER_AGENT, "curl/8.0"}},
     .unknown = {{"X-Foo", "bar"}, {"X-Empty", ""}}},
    {.name = "ows-trimmed-inner-kept",
     .head = "GET /x HTTP/1.1\r\nHost:a\r\nAccept:   text/html \t \r\nX-Sp: \ta  b\tc\t\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/x",
     .path = "/x",
     .ka = true,
     .known = {HOST_A, {IISD_H_ACCEPT, "text/html"}},
     .unknown = {{"X-Sp", "a  b\tc"}}},
    {.name = "post-content-length-with-body",
     .head = "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
     .extra = "hello",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/form",
     .path = "/form",
     .cl = "5",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONTENT_LENGTH, "5"}, {IISD_H_CONTENT_TYPE, "text/plain"}}},
    {.name = "chunked-request",
     .head = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
     .extra = "5\r\nhello\r\n0\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/up",
     .path = "/up",
     .chunked = true,
     .ka = true,
     .known = {HOST_A, {IISD_H_TRANSFER_ENCODING, "chunked"}}},
    {.name = "chunked-case-ows-empty-elements",
     .head = "PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n",
     .method = "PUT",
     .verb = IISD_VERB_PUT,
     .minor = 1,
     .target = "/f",
     .path = "/f",
     .chunked = true,
     .ka = true,
     .known = {HOST_A, {IISD_H_TRANSFER_ENCODING, ", CHUNKED ,"}}},
    {.name = "te-empty-then-chunked",
     .head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/",
     .path = "/",
     .chunked = true,
     .ka = true,
     .known = {HOST_A, {IISD_H_TRANSFER_ENCODING, "chunked"}}},
    {.name = "http10-no-host",
     .head = "GET /x HTTP/1.0\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 0,
     .target = "/x",
     .path = "/x"},
    {.name = "http10-keep-alive",
     .head = "GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 0,
     .target = "/x",
     .path = "/x",
     .ka = true,
     .known = {{IISD_H_CONNECTION, "Keep-Alive"}}},
    {.name = "http10-keep-alive-and-close",
     .head = "GET /x HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 0,
     .target = "/x",
     .path = "/x",
     .known = {{IISD_H_CONNECTION, "keep-alive, close"}}},
    {.name = "http11-connection-close-in-list",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo ,CLOSE\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .known = {HOST_A, {IISD_H_CONNECTION, "foo ,CLOSE"}}},
    {.name = "http11-closed-not-close",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, xclose\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONNECTION, "closed, xclose"}}},
    {.name = "upgrade",
     .head = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/ws",
     .path = "/ws",
     .ka = true,
     .upgrade = true,
     .known = {HOST_A, {IISD_H_CONNECTION, "keep-alive, Upgrade"}, {IISD_H_UPGRADE, "websocket"}}},
    {.name = "upgrade-header-without-connection-token",
     .head = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/ws",
     .path = "/ws",
     .ka = true,
     .known = {HOST_A, {IISD_H_UPGRADE, "websocket"}}},
    {.name = "upgrade-ignored-in-http10",
     .head = "GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 0,
     .target = "/ws",
     .path = "/ws",
     .known = {{IISD_H_CONNECTION, "upgrade"}, {IISD_H_UPGRADE, "websocket"}}},
    {.name = "expect-100-continue",
     .head = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n",
     .method = "PUT",
     .verb = IISD_VERB_PUT,
     .minor = 1,
     .target = "/f",
     .path = "/f",
     .cl = "10",
     .ka = true,
     .expect = true,
     .known = {HOST_A, {IISD_H_EXPECT, "100-Continue"}, {IISD_H_CONTENT_LENGTH, "10"}}},
    {.name = "expect-ignored-in-http10",
     .head = "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
     .method = "PUT",
     .verb = IISD_VERB_PUT,
     .minor = 0,
     .target = "/f",
     .path = "/f",
     .cl = "1",
     .known = {{IISD_H_EXPECT, "100-continue"}, {IISD_H_CONTENT_LENGTH, "1"}}},
    {.name = "expect-other-value",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_EXPECT, "something-else"}}},
    {.name = "repeated-fields-combined",
     .head = "GET / HTTP/1.1\r\nAccept: a\r\nHost: a\r\naccept: b \r\nACCEPT:c\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_ACCEPT, "a, b, c"}}},
    {.name = "repeated-empty-values-skipped",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nPragma:\r\nPragma: x\r\nPragma:\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_PRAGMA, "x"}}},
    {.name = "cookie-combined-with-semicolon",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_COOKIE, "a=1; b=2"}}},
    {.name = "unknown-repeats-kept-apart",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A},
     .unknown = {{"X-A", "1"}, {"X-A", "2"}}},
    {.name = "content-length-repeated-identical",
     .head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/",
     .path = "/",
     .cl = "42",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONTENT_LENGTH, "42"}}},
    {.name = "content-length-identical-list",
     .head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42 ,42,\t42\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/",
     .path = "/",
     .cl = "42",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONTENT_LENGTH, "42"}}},
    {.name = "content-length-zero",
     .head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/",
     .path = "/",
     .cl = "0",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONTENT_LENGTH, "0"}}},
    {.name = "content-length-int64-max",
     .head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n",
     .method = "POST",
     .verb = IISD_VERB_POST,
     .minor = 1,
     .target = "/",
     .path = "/",
     .cl = "9223372036854775807",
     .ka = true,
     .known = {HOST_A, {IISD_H_CONTENT_LENGTH, "9223372036854775807"}}},
    {.name = "absolute-form",
     .head = "GET http://example.com:8080/p/q?x=y HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 1,
     .target = "http://example.com:8080/p/q?x=y",
     .path = "/p/q",
     .query = "x=y",
     .authority = "example.com:8080",
     .ka = true,
     .known = {{IISD_H_HOST, "example.com:8080"}}},
    {.name = "absolute-form-https-uppercase-no-path",
     .head = "DELETE HTTPS://Example.COM HTTP/1.1\r\nHost: Example.COM\r\n\r\n",
     .method = "DELETE",
     .verb = IISD_VERB_DELETE,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 1,
     .target = "HTTPS://Example.COM",
     .path = "/",
     .authority = "Example.COM",
     .ka = true,
     .known = {{IISD_H_HOST, "Example.COM"}}},
    {.name = "absolute-form-query-no-path",
     .head = "GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 1,
     .target = "http://h?q",
     .path = "/",
     .query = "q",
     .authority = "h",
     .ka = true,
     .known = {{IISD_H_HOST, "h"}}},
    {.name = "absolute-form-ipv6-empty-host-header",
     .head = "GET http://[::1]:80/i HTTP/1.1\r\nHost:\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 1,
     .target = "http://[::1]:80/i",
     .path = "/i",
     .authority = "[::1]:80",
     .ka = true,
     .known = {{IISD_H_HOST, "[::1]:80"}}},
    /* RFC 9112 §3.2.2: the target's authority wins over Host */
    {.name = "absolute-form-host-mismatch",
     .head = "GET http://b.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 1,
     .target = "http://b.example/x",
     .path = "/x",
     .authority = "b.example",
     .ka = true,
     .known = {{IISD_H_HOST, "b.example"}}},
    {.name = "absolute-form-http10-no-host",
     .head = "GET http://b.example:81/x HTTP/1.0\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .form = IISD_TARGET_ABSOLUTE,
     .minor = 0,
     .target = "http://b.example:81/x",
     .path = "/x",
     .authority = "b.example:81",
     .known = {{IISD_H_HOST, "b.example:81"}}},
    {.name = "connect-authority-form",
     .head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
     .method = "CONNECT",
     .verb = IISD_VERB_CONNECT,
     .form = IISD_TARGET_AUTHORITY,
     .minor = 1,
     .target = "example.com:443",
     .path = "",
     .authority = "example.com:443",
     .ka = true,
     .known = {{IISD_H_HOST, "example.com:443"}}},
    {.name = "connect-ipv6",
     .head = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n",
     .method = "CONNECT",
     .verb = IISD_VERB_CONNECT,
     .form = IISD_TARGET_AUTHORITY,
     .minor = 1,
     .target = "[2001:db8::1]:8443",
     .path = "",
     .authority = "[2001:db8::1]:8443",
     .ka = true,
     .known = {{IISD_H_HOST, "[2001:db8::1]:8443"}}},
    {.name = "options-asterisk",
     .head = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "OPTIONS",
     .verb = IISD_VERB_OPTIONS,
     .form = IISD_TARGET_ASTERISK,
     .minor = 1,
     .target = "*",
     .path = "*",
     .ka = true,
     .known = {HOST_A}},
    {.name = "leading-empty-lines-skipped",
     .head = "\r\n\r\nHEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "HEAD",
     .verb = IISD_VERB_HEAD,
     .minor = 1,
     .target = "/h",
     .path = "/h",
     .ka = true,
     .known = {HOST_A}},
    {.name = "eight-leading-empty-lines",
     .head = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A}},
    {.name = "unknown-method-token-chars",
     .head = "M-SEARCH!~ /x HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "M-SEARCH!~",
     .verb = IISD_VERB_UNKNOWN,
     .minor = 1,
     .target = "/x",
     .path = "/x",
     .ka = true,
     .known = {HOST_A}},
    {.name = "method-is-case-sensitive",
     .head = "get / HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "get",
     .verb = IISD_VERB_UNKNOWN,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A}},
    {.name = "webdav-propfind",
     .head = "PROPFIND /dav/ HTTP/1.1\r\nHost: a\r\nDepth: 1\r\nTranslate: f\r\n\r\n",
     .method = "PROPFIND",
     .verb = IISD_VERB_PROPFIND,
     .minor = 1,
     .target = "/dav/",
     .path = "/dav/",
     .ka = true,
     .known = {HOST_A, {IISD_H_TRANSLATE, "f"}},
     .unknown = {{"Depth", "1"}}},
    {.name = "http-1.2-served-as-1.1",
     .head = "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A}},
    {.name = "host-ipv6-and-port",
     .head = "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {{IISD_H_HOST, "[2001:db8::1]:8080"}}},
    {.name = "host-reg-name-sub-delims-pct",
     .head = "GET / HTTP/1.1\r\nHost: a.b-c_d~e!$&'()*+,;=%41:\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {{IISD_H_HOST, "a.b-c_d~e!$&'()*+,;=%41:"}}},
    {.name = "obs-text-and-htab-in-value",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xc3\xa9\tau\xff lait\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A},
     .unknown = {{"X-Latin", "caf\xc3\xa9\tau\xff lait"}}},
    {.name = "empty-query",
     .head = "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/p?",
     .path = "/p",
     .query = "",
     .ka = true,
     .known = {HOST_A}},
    {.name = "odd-but-legal-target-bytes",
     .head = "GET /a%20b/c;p=1/@:!$'()*+,=~?q=/?&\"<>|{}^` HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/a%20b/c;p=1/@:!$'()*+,=~?q=/?&\"<>|{}^`",
     .path = "/a%20b/c;p=1/@:!$'()*+,=~",
     .query = "q=/?&\"<>|{}^`",
     .ka = true,
     .known = {HOST_A}},
    {.name = "pipelined-next-request",
     .head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
     .extra = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A}},
    {.name = "value-with-colons-and-empty-known",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nReferer: http://x/y:z\r\nAccept:\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A, {IISD_H_REFERER, "http://x/y:z"}, {IISD_H_ACCEPT, ""}}},
    {.name = "unknown-exactly-at-cap",
     .head = "GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/",
     .path = "/",
     .ka = true,
     .known = {HOST_A},
     .unknown = {{"X-1", "1"}, {"X-2", "2"}},
     .ucap = 2},
    {.name = "limits-exactly-reached",
     /* request line 17 bytes, field line 16 bytes, head 17+2+16+2+7+2+2 = 48 */
     .head = "GET /abc HTTP/1.1\r\nX-Aaaaaaaaaa: bb\r\nHost: a\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/abc",
     .path = "/abc",
     .ka = true,
     .known = {HOST_A},
     .unknown = {{"X-Aaaaaaaaaa", "bb"}},
     .lim = {.max_request_line = 17, .max_field = 16, .max_head = 48}},
    {.name = "many-known-headers",
     .head = "GET /i HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nAccept-Encoding: gzip, br\r\nAccept-Language: "
             "en\r\nIf-None-Match: \"e\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nRange: "
             "bytes=0-1\r\nTE: trailers\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/i",
     .path = "/i",
     .ka = true,
     .known = {{IISD_H_HOST, "h"},
               {IISD_H_USER_AGENT, "ua"},
               {IISD_H_ACCEPT_ENCODING, "gzip, br"},
               {IISD_H_ACCEPT_LANGUAGE, "en"},
               {IISD_H_IF_NONE_MATCH, "\"e\""},
               {IISD_H_IF_MODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:37 GMT"},
               {IISD_H_RANGE, "bytes=0-1"},
               {IISD_H_TE, "trailers"}}},

    {.name = "long-value-with-tabs-and-obs-text",
     .head = "GET /0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: a\r\nX-Long: "
             "0123456789abcdef\t0123456789abcdef"
             "\xe2\x82\xac"
             "0123456789abcdef 0123456789abcdef\t\r\n\r\n",
     .method = "GET",
     .verb = IISD_VERB_GET,
     .minor = 1,
     .target = "/0123456789abcdef0123456789abcdef",
     .path = "/0123456789abcdef0123456789abcdef",
     .ka = true,
     .known = {HOST_A},
     .unknown = {{"X-Long", "0123456789abcdef\t0123456789abcdef\xe2\x82\xac"
                            "0123456789abcdef 0123456789abcdef"}}},
    /* ---- invalid: line endings and control bytes -------------------------------- */
    BAD("bare-lf-request-line", "GET / HTTP/1.1\nHost: a\r\n\r\n", -400),
    BAD("bare-lf-field", "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", -400),
    BAD("bare-lf-final", "GET / HTTP/1.1\r\nHost: a\r\n\n", -400),
    BAD("bare-lf-leading", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", -400),
    BAD("bare-cr-leading", "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", -400),
    BAD("bare-cr-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", -400),
    BAD("cr-cr-lf", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\r\n\r\n", -400),
    BADN("nul-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", -400),
    BADN("nul-in-target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", -400),
    BAD("del-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7f\r\n\r\n", -400),
    BAD("ctl-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01\r\n\r\n", -400),
    BAD("ctl-in-method", "G\x01T / HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("high-byte-in-target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("high-byte-in-name", "GET / HTTP/1.1\r\n" H11 "X-\xc3\xa9: v\r\n\r\n", -400),
    BAD("too-many-leading-empty-lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" H11 "\r\n",
        -400),
    BAD("del-in-long-value",
        "GET / HTTP/1.1\r\n" H11 "X-A: 0123456789abcdef0123456789\x7f"
        "0123456789abcdef\r\n\r\n",
        -400),
    BAD("ctl-in-long-value",
        "GET / HTTP/1.1\r\n" H11 "X-A: 0123456789abcdef0123456789\x1f"
        "0123456789abcdef\r\n\r\n",
        -400),
    BADN("nul-in-long-value",
         "GET / HTTP/1.1\r\n" H11 "X-A: 0123456789abcdef0123456789\0"
         "0123456789abcdef\r\n\r\n",
         -400),
    BAD("cr-in-long-value", "GET / HTTP/1.1\r\n" H11 "X-A: 0123456789abcdef0123\r456789abcdef\r\n\r\n", -400),
    BAD("lf-in-long-value", "GET / HTTP/1.1\r\n" H11 "X-A: 0123456789abcdef0123\n456789abcdef\r\n\r\n", -400),
    BAD("high-byte-in-long-target",
        "GET /0123456789abcdef0123456789\xc3\xa9"
        "0123456789abcdef HTTP/1.1\r\n" H11 "\r\n",
        -400),
    BAD("tab-in-long-target", "GET /0123456789abcdef0123\t456789abcdef HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("del-in-long-target",
        "GET /0123456789abcdef0123\x7f"
        "456789abcdef HTTP/1.1\r\n" H11 "\r\n",
        -400),
    /* ---- invalid: field syntax ---------------------------------------------------- */
    BAD("obs-fold", "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n c\r\n\r\n", -400),
    BAD("obs-fold-tab", "GET / HTTP/1.1\r\n" H11 "X-A: b\r\n\tc\r\n\r\n", -400),
    BAD("whitespace-before-first-field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", -400),
    BAD("space-before-colon", "GET / HTTP/1.1\r\n" H11 "X-A : b\r\n\r\n", -400),
    BAD("tab-before-colon", "GET / HTTP/1.1\r\n" H11 "X-A\t: b\r\n\r\n", -400),
    BAD("field-without-colon", "GET / HTTP/1.1\r\n" H11 "NoColonHere\r\n\r\n", -400),
    BAD("empty-field-name", "GET / HTTP/1.1\r\n" H11 ": v\r\n\r\n", -400),
    BAD("bad-name-char", "GET / HTTP/1.1\r\n" H11 "X(A): v\r\n\r\n", -400),
    /* ---- invalid: request line ---------------------------------------------------- */
    BAD("garbage", "GARBAGE\r\n\r\n", -400),
    BAD("double-space-after-method", "GET  / HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("double-space-before-version", "GET /  HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("trailing-space-after-version", "GET / HTTP/1.1 \r\n" H11 "\r\n", -400),
    BAD("tab-separator", "GET\t/ HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("leading-space", " GET / HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("no-version", "GET /\r\n" H11 "\r\n", -400),
    BAD("missing-target", "GET HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("space-in-target", "GET /a b HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("bad-method-char", "GE(T / HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("lowercase-http-name", "GET / http/1.1\r\n" H11 "\r\n", -400),
    BAD("version-without-minor", "GET / HTTP/1\r\n" H11 "\r\n", -400),
    BAD("version-two-digit-minor", "GET / HTTP/1.10\r\n" H11 "\r\n", -400),
    BAD("version-leading-zero-major", "GET / HTTP/01.1\r\n" H11 "\r\n", -400),
    BAD("version-junk", "GET / HTTP/1.1x\r\n" H11 "\r\n", -400),
    BAD("version-letters", "GET / HTTP/a.b\r\n" H11 "\r\n", -400),
    BAD("http-2.0", "GET / HTTP/2.0\r\n" H11 "\r\n", -505),
    BAD("http-3", "GET / HTTP/3\r\n" H11 "\r\n", -505),
    BAD("http-0.9", "GET / HTTP/0.9\r\n" H11 "\r\n", -505),
    BAD("h2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505),
    /* ---- invalid: request-target form ---------------------------------------------- */
    BAD("fragment", "GET /a#b HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("asterisk-with-get", "GET * HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("asterisk-with-connect", "CONNECT * HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("asterisk-prefix", "OPTIONS *x HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("authority-form-with-get", "GET example.com:80 HTTP/1.1\r\n" H11 "\r\n", -400),
    /* CONNECT takes the authority-form only (RFC 9112 §3.2.3) */
    BAD("connect-origin-form", "CONNECT /a HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("connect-absolute-form", "CONNECT http://a:80/ HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("connect-without-port", "CONNECT example.com HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("connect-empty-port", "CONNECT example.com: HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("connect-port-too-big", "CONNECT example.com:65536 HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("relative-target", "GET a/b HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("other-scheme", "GET ftp://h/x HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("absolute-userinfo", "GET http://u@h/x HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("absolute-empty-host", "GET http:///x HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("absolute-scheme-only", "GET http:// HTTP/1.1\r\n" H11 "\r\n", -400),
    BAD("absolute-bad-port", "GET http://h:8x/ HTTP/1.1\r\n" H11 "\r\n", -400),
    /* ---- invalid: Host ---------------------------------------------------------- */
    BAD("http11-without-host", "GET / HTTP/1.1\r\n\r\n", -400),
    BAD("two-host-fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400),
    BAD("two-identical-host-fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", -400),
    BAD("host-with-space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", -400),
    BAD("host-with-slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -400),
    BAD("host-with-userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", -400),
    BAD("host-bad-port", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", -400),
    BAD("host-only-port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", -400),
    BAD("host-unclosed-bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", -400),
    BAD("host-bad-ipv6", "GET / HTTP/1.1\r\nHost: [g::1]\r\n\r\n", -400),
    BAD("host-bad-pct", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", -400),
    /* ---- invalid: Content-Length ------------------------------------------------ */
    BAD("cl-non-numeric", "POST / HTTP/1.1\r\n" H11 "Content-Length: abc\r\n\r\n", -400),
    BAD("cl-negative", "POST / HTTP/1.1\r\n" H11 "Content-Length: -1\r\n\r\n", -400),
    BAD("cl-plus", "POST / HTTP/1.1\r\n" H11 "Content-Length: +1\r\n\r\n", -400),
    BAD("cl-empty", "POST / HTTP/1.1\r\n" H11 "Content-Length: \r\n\r\n", -400),
    BAD("cl-inner-space", "POST / HTTP/1.1\r\n" H11 "Content-Length: 1 2\r\n\r\n", -400),
    BAD("cl-hex", "POST / HTTP/1.1\r\n" H11 "Content-Length: 0x10\r\n\r\n", -400),
    BAD("cl-overflow", "POST / HTTP/1.1\r\n" H11 "Content-Length: 9223372036854775808\r\n\r\n", -400),
    BAD("cl-list-differs", "POST / HTTP/1.1\r\n" H11 "Content-Length: 42, 43\r\n\r\n", -400),
    BAD("cl-list-prefix", "POST / HTTP/1.1\r\n" H11 "Content-Length: 4, 42\r\n\r\n", -400),
    BAD("cl-list-trailing-comma", "POST / HTTP/1.1\r\n" H11 "Content-Length: 42,\r\n\r\n", -400),
    BAD("cl-repeat-differs", "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
        -400),
    BAD("cl-repeat-leading-zero", "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\nContent-Length: 05\r\n\r\n",
        -400),
    /* ---- invalid: Transfer-Encoding ----------------------------------------------- */
    BAD("cl-and-te", "POST / HTTP/1.1\r\n" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        -400),
    BAD("te-and-cl", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        -400),
    BAD("te-in-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400),
    BAD("te-gzip-only", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gzip\r\n\r\n", -400),
    BAD("te-chunked-not-last", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", -400),
    BAD("te-gzip-chunked", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", -501),
    BAD("te-identity-chunked", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: identity,chunked\r\n\r\n", -501),
    BAD("te-params-then-chunked",
        "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: x;a=\"b c\" ; d=e, chunked\r\n\r\n", -501),
    BAD("te-chunked-twice", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", -400),
    BAD("te-chunked-twice-in-two-fields",
        "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", -400),
    BAD("te-empty", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: \r\n\r\n", -400),
    BAD("te-chunked-with-param", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunked;a=b\r\n\r\n", -400),
    BAD("te-bad-syntax", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gz ip, chunked\r\n\r\n", -400),
    BAD("te-bad-param", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: gzip;a, chunked\r\n\r\n", -400),
    BAD("te-chunkedx", "POST / HTTP/1.1\r\n" H11 "Transfer-Encoding: chunkedx\r\n\r\n", -400),
    /* ---- limits (small limits keep the inputs short) -------------------------------- */
    {.name = "request-line-over-limit",
     .head = "GET /abcd HTTP/1.1\r\n" H11 "\r\n",
     .status = -414,
     .lim = {.max_request_line = 17}},
    {.name = "request-line-over-head-limit",
     .head = "GET /abcd HTTP/1.1\r\n" H11 "\r\n",
     .status = -431,
     .lim = {.max_request_line = 100, .max_head = 20}},
    {.name = "request-line-over-limit-despite-bad-byte-later",
     .head = "GET /abcdefghijklmnop\x01 HTTP/1.1\r\n" H11 "\r\n",
     .status = -414,
     .lim = {.max_request_line = 10}},
    {.name = "bad-byte-before-request-line-limit",
     .head = "GET /a\x01"
             "bcdefghijklmnop HTTP/1.1\r\n" H11 "\r\n",
     .status = -400,
     .lim = {.max_request_line = 10}},
    {.name = "field-over-limit",
     .head = "GET / HTTP/1.1\r\n" H11 "X-Aaaaaaaaaa: bbb\r\n\r\n",
     .status = -431,
     .lim = {.max_field = 16}},
    {.name = "head-over-limit",
     .head = "GET /abc HTTP/1.1\r\nX-Aaaaaaaaaa: bb\r\nHost: a\r\n\r\n",
     .status = -431,
     .lim = {.max_head = 46}},
    {.name = "unknown-over-cap",
     .head = "GET / HTTP/1.1\r\n" H11 "X-1: 1\r\nX-2: 2\r\nX-3: 3\r\n\r\n",
     .status = -431,
     .ucap = 2},
    {.name = "unknown-cap-zero",
     .head = "GET / HTTP/1.1\r\n" H11 "X-1: 1\r\n\r\n",
     .status = -431,
     .ucap = -1},
};

/* ---- checking ------------------------------------------------------------- */

static void assert_span(const char *got, size_t got_len, const char *want, bool nul_terminated)
{
    assert_non_null(got);
    assert_int_equal(got_len, strlen(want));
    assert_memory_equal(got, want, got_len);
    if (nul_terminated)
        assert_int_equal(got[got_len], '\0');
}

static bool in_buf(const char *p, const char *buf, size_t n)
{
    return (uintptr_t)p >= (uintptr_t)buf && (uintptr_t)p < (uintptr_t)buf + n;
}

static size_t head_size(const struct hcase *c)
{
    return c->head_n ? c->head_n : strlen(c->head);
}

static void check_head(const struct hcase *c, const char *buf, size_t n, const iisd_head_t *h, int ret)
{
    if (c->status != 0) {
        assert_int_equal(ret, c->status);
        return;
    }
    size_t hn = head_size(c);
    assert_int_equal(ret, (int)hn);
    assert_int_equal(h->head_len, hn);
    assert_span(h->method, h->method_len, c->method, true);
    assert_true(in_buf(h->method, buf, n));
    assert_int_equal(h->verb, c->verb);
    assert_int_equal(h->target_form, c->form);
    assert_int_equal(h->version_major, 1);
    assert_int_equal(h->version_minor, c->minor);
    assert_span(h->target, h->target_len, c->target, true);
    assert_true(in_buf(h->target, buf, n));
    assert_span(h->path, h->path_len, c->path, false);
    if (c->query == NULL) {
        assert_null(h->query);
        assert_int_equal(h->query_len, 0);
    } else {
        assert_span(h->query, h->query_len, c->query, false);
    }
    if (c->authority == NULL) {
        assert_null(h->authority);
        assert_int_equal(h->authority_len, 0);
    } else {
        assert_span(h->authority, h->authority_len, c->authority, false);
    }
    assert_int_equal(h->content_length, c->cl ? strtoll(c->cl, NULL, 10) : -1);
    assert_int_equal(h->chunked, c->chunked);
    assert_int_equal(h->keep_alive, c->ka);
    assert_int_equal(h->expect_continue, c->expect);
    assert_int_equal(h->upgrade, c->upgrade);

    const char *want[IISD_HDR_REQ_KNOWN] = {0};
    for (size_t i = 0; i < 8 && c->known[i].v != NULL; i++)
        want[c->known[i].id] = c->known[i].v;
    for (int id = 0; id < IISD_HDR_REQ_KNOWN; id++) {
        if (want[id] == NULL) {
            assert_null(h->known[id].value);
            assert_int_equal(h->known[id].len, 0);
        } else {
            assert_span(h->known[id].value, h->known[id].len, want[id], true);
        }
    }
    size_t nu = 0;
    while (nu < 6 && c->unknown[nu].n != NULL)
        nu++;
    assert_int_equal(h->unknown_count, nu);
    for (size_t i = 0; i < nu; i++) {
        assert_span(h->unknown[i].name, h->unknown[i].name_len, c->unknown[i].n, true);
        assert_span(h->unknown[i].value, h->unknown[i].value_len, c->unknown[i].v, true);
        assert_true(in_buf(h->unknown[i].name, buf, n));
        assert_true(in_buf(h->unknown[i].value, buf, n));
    }
}

/* ---- running ---------------------------------------------------------------- */

#define UCAP_MAX 32

struct run {
    iisd_parser_t p;
    iisd_head_t h;
    iisd_field_t uf[UCAP_MAX];
    iisd_arena_t a;
};

static void run_begin(struct run *r, const struct hcase *c)
{
    iisd_parser_init(&r->p);
    memset(&r->h, 0x5A, sizeof(r->h)); /* the parser must initialise everything */
    r->h.unknown = r->uf;
    r->h.unknown_cap = c->ucap == 0 ? UCAP_MAX : c->ucap < 0 ? 0 : (uint16_t)c->ucap;
    iisd_arena_init(&r->a);
}

static void exercise(const struct hcase *c)
{
    size_t hn = head_size(c);
    size_t en = c->extra ? strlen(c->extra) : 0;
    size_t n = hn + en;
    char *src = malloc(n + 1);
    char *buf = malloc(n + 1);
    memcpy(src, c->head, hn);
    if (en)
        memcpy(src + hn, c->extra, en);
    struct run r;

    /* 1. whole */
    memcpy(buf, src, n);
    run_begin(&r, c);
    int ret = iisd_parse_head(&r.p, buf, n, &r.h, &c->lim, &r.a);
    check_head(c, buf, n, &r.h, ret);
    if (ret > 0) /* the bytes after the head are untouched */
        assert_memory_equal(buf + ret, src + ret, n - (size_t)ret);
    /* a further call repeats the result */
    assert_int_equal(iisd_parse_head(&r.p, buf, n, &r.h, &c->lim, &r.a), ret);
    iisd_arena_reset(&r.a);

    /* 2. split in two at every position (at ~500 positions for big inputs) */
    size_t step = n > 1024 ? n / 499 : 1;
    for (size_t k = 1; k < n; k += step) {
        memcpy(buf, src, n);
        run_begin(&r, c);
        int r1 = iisd_parse_head(&r.p, buf, k, &r.h, &c->lim, &r.a);
        int r2 = r1 != 0 ? r1 : iisd_parse_head(&r.p, buf, n, &r.h, &c->lim, &r.a);
        check_head(c, buf, n, &r.h, r2);
        iisd_arena_reset(&r.a);
    }

    /* 3. byte by byte; bytes not yet arrived are poisoned and must stay untouched */
    memset(buf, NOT_YET, n);
    run_begin(&r, c);
    POISON(buf, n);
    size_t i;
    ret = 0;
    for (i = 1; i <= n && ret == 0; i++) {
        UNPOISON(buf, n);
        buf[i - 1] = src[i - 1];
        POISON(buf + i, n - i);
        ret = iisd_parse_head(&r.p, buf, i, &r.h, &c->lim, &r.a);
        UNPOISON(buf, n);
        size_t win = n - i < 256 ? n - i : 256;
        for (size_t j = 0; j < win; j++)
            assert_int_equal((unsigned char)buf[i + j], NOT_YET);
        if (ret == 0) {
            /* the unfinished line has not been modified */
            assert_true(r.p.pos <= i);
            assert_memory_equal(buf + r.p.pos, src + r.p.pos, i - r.p.pos);
        }
        POISON(buf + i, n - i);
    }
    UNPOISON(buf, n);
    if (c->status == 0)
        assert_int_equal(i - 1, hn); /* complete exactly when its last byte arrives */
    check_head(c, buf, n, &r.h, ret);
    iisd_arena_reset(&r.a);

    free(src);
    free(buf);
}

static void test_head_case(void **state)
{
    exercise((const struct hcase *)*state);
}

/* ---- generated inputs ----------------------------------------------------- */

static char *repeat(const char *prefix, char ch, size_t count, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + count + sl + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, ch, count);
    memcpy(s + pl + count, suffix, sl + 1);
    return s;
}

static void test_default_limits(void **state)
{
    (void)state;
    /* request line of exactly 8192 bytes: accepted */
    char *ok = repeat("GET /", 'a', 8192 - 14, " HTTP/1.1\r\nHost: a\r\n\r\n");
    struct hcase c = {.name = "rl-8192", .head = ok, .status = -1};
    struct run r;
    run_begin(&r, &c);
    size_t okn = strlen(ok);
    int ret = iisd_parse_head(&r.p, ok, okn, &r.h, NULL, &r.a);
    assert_int_equal(ret, (int)okn);
    assert_int_equal(r.h.target_len, 8192 - 13);
    free(ok);

    /* 8193: 414, in one piece and byte by byte (the blackbox case too) */
    char *bad = repeat("GET /", 'a', 8192 - 13, " HTTP/1.1\r\nHost: a\r\n\r\n");
    c = (struct hcase){.name = "rl-8193", .head = bad, .status = -414};
    exercise(&c);
    free(bad);
    bad = repeat("GET /", 'a', 8300, " HTTP/1.1\r\nHost: a\r\n\r\n");
    c.head = bad;
    exercise(&c);
    free(bad);

    /* field line of 8192 accepted, 8193 is 431 */
    ok = repeat("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 'b', 8192 - 7, "\r\n\r\n");
    run_begin(&r, &c);
    okn = strlen(ok);
    ret = iisd_parse_head(&r.p, ok, okn, &r.h, NULL, &r.a);
    assert_int_equal(ret, (int)okn);
    assert_int_equal(r.h.unknown_count, 1);
    assert_int_equal(r.h.unknown[0].value_len, 8192 - 7);
    free(ok);
    bad = repeat("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 'b', 8192 - 6, "\r\n\r\n");
    c = (struct hcase){.name = "field-8193", .head = bad, .status = -431};
    exercise(&c);
    free(bad);

    /* whole head: 20 fields of ~900 bytes exceed 16384 */
    size_t cap = 64 + 20 * 920;
    char *big = malloc(cap);
    size_t n = (size_t)snprintf(big, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int f = 0; f < 20; f++) {
        n += (size_t)snprintf(big + n, cap - n, "X-Fill-%02d: ", f);
        memset(big + n, 'f', 900);
        n += 900;
        memcpy(big + n, "\r\n", 2);
        n += 2;
    }
    memcpy(big + n, "\r\n", 3);
    c = (struct hcase){.name = "head-16k", .head = big, .status = -431};
    exercise(&c);
    /* the same head is fine with a larger max_head */
    c = (struct hcase){.name = "head-16k-allowed",
                       .head = big,
                       .method = "GET",
                       .verb = IISD_VERB_GET,
                       .minor = 1,
                       .target = "/",
                       .path = "/",
                       .ka = true,
                       .known = {HOST_A},
                       .lim = {.max_head = 32768},
                       .ucap = UCAP_MAX};
    struct run r2;
    run_begin(&r2, &c);
    size_t bign = strlen(big);
    ret = iisd_parse_head(&r2.p, big, bign, &r2.h, &c.lim, &r2.a);
    assert_int_equal(ret, (int)bign);
    assert_int_equal(r2.h.unknown_count, 20);
    free(big);
}

static void test_early_limit_detection(void **state)
{
    (void)state;
    /* -414 as soon as max_request_line + 1 bytes of the line have arrived */
    iisd_parse_limits_t lim = {.max_request_line = 32};
    char buf[64];
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "GET /", 5);
    struct hcase c = {.name = "early"};
    struct run r;
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, buf, 32, &r.h, &lim, &r.a), 0);
    assert_int_equal(iisd_parse_head(&r.p, buf, 33, &r.h, &lim, &r.a), -414);
    /* the CR of a line of exactly 32 bytes is not counted */
    memcpy(buf + 32, "\r", 1);
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, buf, 33, &r.h, &lim, &r.a), 0);

    /* -431 for a field as soon as max_field + 1 bytes have arrived */
    lim = (iisd_parse_limits_t){.max_field = 20};
    char f[80] = "GET / HTTP/1.1\r\nX-Long: ";
    size_t l0 = 16;
    memset(f + strlen(f), 'v', sizeof(f) - strlen(f));
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, f, l0 + 20, &r.h, &lim, &r.a), 0);
    assert_int_equal(iisd_parse_head(&r.p, f, l0 + 21, &r.h, &lim, &r.a), -431);

    /* obs-fold and a bad byte are reported on arrival, not when the line ends */
    char fold[] = "GET / HTTP/1.1\r\nA: b\r\n c";
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, fold, 22, &r.h, NULL, &r.a), 0);
    assert_int_equal(iisd_parse_head(&r.p, fold, 23, &r.h, NULL, &r.a), -400);
    char ctl[] = "GET / HTTP/1.1\r\nA: b\x01xxxx";
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, ctl, 20, &r.h, NULL, &r.a), 0);
    assert_int_equal(iisd_parse_head(&r.p, ctl, 21, &r.h, NULL, &r.a), -400);

    /* the validated part of an unfinished line is not scanned again */
    char part[] = "GET /abcdef HTTP/1.1\r\nHost: a\r\n\r\n";
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, part, 8, &r.h, NULL, &r.a), 0);
    assert_int_equal(r.p.pos, 0);
    assert_int_equal(r.p.scan, 8);
    assert_int_equal(iisd_parse_head(&r.p, part, 21, &r.h, NULL, &r.a), 0); /* up to the CR */
    assert_int_equal(r.p.scan, 20);
    assert_int_equal(iisd_parse_head(&r.p, part, 25, &r.h, NULL, &r.a), 0);
    assert_int_equal(r.p.pos, 22);
    assert_int_equal(r.p.scan, 3);
    assert_int_equal(iisd_parse_head(&r.p, part, sizeof(part) - 1, &r.h, NULL, &r.a), 33);

    /* an endless stream of valid header lines stops at max_head */
    lim = (iisd_parse_limits_t){.max_head = 100};
    char h[200];
    size_t n = (size_t)snprintf(h, sizeof(h), "GET / HTTP/1.1\r\n");
    while (n + 6 < sizeof(h)) {
        memcpy(h + n, "A: b\r\n", 6);
        n += 6;
    }
    run_begin(&r, &c);
    int ret = 0;
    size_t i;
    for (i = 1; i <= n && ret == 0; i++)
        ret = iisd_parse_head(&r.p, h, i, &r.h, &lim, &r.a);
    assert_int_equal(ret, -431);
    assert_true(i - 1 <= 100);
    iisd_arena_reset(&r.a);
}

static void test_many_repeats_combined(void **state)
{
    (void)state;
    /* 2000 repeated Accept lines: combined in the arena, in order */
    const size_t reps = 2000;
    size_t cap = 64 + reps * 16;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (size_t i = 0; i < reps; i++)
        n += (size_t)snprintf(buf + n, cap - n, "Accept: %c\r\n", (char)('a' + i % 26));
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    iisd_parse_limits_t lim = {.max_head = 1 << 20};
    struct hcase c = {.name = "repeats"};
    struct run r;
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, buf, n, &r.h, &lim, &r.a), (int)n);
    const char *v = r.h.known[IISD_H_ACCEPT].value;
    assert_int_equal(r.h.known[IISD_H_ACCEPT].len, reps * 3 - 2);
    for (size_t i = 0; i < reps; i++) {
        assert_int_equal(v[i * 3], 'a' + i % 26);
        if (i + 1 < reps)
            assert_memory_equal(v + i * 3 + 1, ", ", 2);
    }
    assert_int_equal(v[reps * 3 - 2], '\0');
    iisd_arena_reset(&r.a);
    free(buf);
}

static void test_parse_resumes_after_done(void **state)
{
    (void)state;
    /* after completion the parser keeps returning head_len; a new request needs init */
    char buf[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n";
    size_t n = strlen(buf);
    struct hcase c = {.name = "two"};
    struct run r;
    run_begin(&r, &c);
    int first = iisd_parse_head(&r.p, buf, n, &r.h, NULL, &r.a);
    assert_int_equal(first, 28);
    assert_int_equal(iisd_parse_head(&r.p, buf, n, &r.h, NULL, &r.a), 28);
    run_begin(&r, &c);
    assert_int_equal(iisd_parse_head(&r.p, buf + first, n - (size_t)first, &r.h, NULL, &r.a), 28);
    assert_span(r.h.target, r.h.target_len, "/b", true);
    assert_span(r.h.known[IISD_H_HOST].value, r.h.known[IISD_H_HOST].len, "b", true);
}

/* ======================================================================== */
/* chunked decoder                                                          */
/* ======================================================================== */

struct ccase {
    const char *name;
    const char *in;
    int ret;             /* 1, 0 or -400 */
    const char *payload; /* for ret >= 0 */
    int consumed;        /* for ret == 1: input bytes used; -1 = all */
};

static const struct ccase chunk_cases[] = {
    {"single", "5\r\nhello\r\n0\r\n\r\n", 1, "hello", -1},
    {"several", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", 1, "abcdef", -1},
    {"hex-case", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", 1, "0123456789abcdefghijk", -1},
    {"extensions", "5;name=value\r\nhello\r\n6 ; x=\"q\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", 1,
     "hello world", -1},
    {"ext-no-value-and-last-ext", "3;foo;bar = baz\r\nabc\r\n0;last\r\n\r\n", 1, "abc", -1},
    {"ext-quoted-escape", "3;a=\"x\\\"y;\tz\"\r\nabc\r\n0\r\n\r\n", 1, "abc", -1},
    {"leading-zeros", "0003\r\nabc\r\n0000\r\n\r\n", 1, "abc", -1},
    {"sixteen-digits", "0000000000000001\r\nx\r\n0\r\n\r\n", 1, "x", -1},
    {"trailers", "2\r\nhi\r\n0\r\nA: b\r\nC:\r\nD: \xff\t \r\n\r\n", 1, "hi", -1},
    {"empty-body", "0\r\n\r\n", 1, "", -1},
    {"pipelined-after", "2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 1, "ok", 12},
    {"data-with-crlf-inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 1, "\r\n\r\n", -1},
    {"incomplete-data", "5\r\nhel", 0, "hel", -1},
    {"incomplete-size-line", "5\r\nhello\r\n1", 0, "hello", -1},
    {"incomplete-trailer", "0\r\nA: b\r\n", 0, "", -1},
    {"huge-size-waits", "FFFFFFFFFFFFFFFF\r\nabc", 0, "abc", -1},
    {"no-size", "\r\n", -400, NULL, 0},
    {"bad-hex", "g\r\n", -400, NULL, 0},
    {"negative", "-1\r\n", -400, NULL, 0},
    {"0x-prefix", "0x5\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"overflow", "10000000000000000\r\n", -400, NULL, 0},
    {"bare-lf-size", "5\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"bare-cr-size", "5\rhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"missing-crlf-after-data", "5\r\nhelloX\r\n0\r\n\r\n", -400, NULL, 0},
    {"bare-lf-after-data", "5\r\nhello\n0\r\n\r\n", -400, NULL, 0},
    {"space-without-ext", "5 \r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"empty-ext-name", "5;\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"empty-ext-value", "5;a=\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"ext-unterminated-quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"ext-space-in-name", "5;a b\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"ext-ctl-in-quote", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", -400, NULL, 0},
    {"trailer-obs-fold", "0\r\nA: b\r\n c\r\n\r\n", -400, NULL, 0},
    {"trailer-no-colon", "0\r\nAb\r\n\r\n", -400, NULL, 0},
    {"trailer-space-before-colon", "0\r\nA : b\r\n\r\n", -400, NULL, 0},
    {"trailer-ctl", "0\r\nA: \x7f\r\n\r\n", -400, NULL, 0},
    {"trailer-bare-cr", "0\r\nA: b\rc\r\n\r\n", -400, NULL, 0},
    {"final-bare-lf", "0\r\n\n", -400, NULL, 0},
    {"final-cr-junk", "0\r\n\rX", -400, NULL, 0},
};

/* Feeds in[0..n) in pieces ending at cuts[0..ncuts) (and n), keeping unconsumed input. */
static int feed_chunked(const char *in, size_t n, const size_t *cuts, size_t ncuts, char *payload,
                        size_t *plen, size_t *used)
{
    char *wb = malloc(n + 1);
    iisd_chunked_t c;
    iisd_chunked_init(&c);
    size_t pend = 0, fed = 0, out = 0, total = 0;
    int ret = 0;
    for (size_t k = 0; k <= ncuts && ret == 0; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        memcpy(wb + pend, in + fed, end - fed);
        size_t avail = pend + end - fed;
        fed = end;
        size_t len = avail, consumed = 0;
        ret = iisd_chunked_decode(&c, wb, &len, &consumed);
        assert_true(consumed <= avail);
        assert_true(len <= consumed);
        memcpy(payload + out, wb, len);
        out += len;
        total += consumed;
        memmove(wb, wb + consumed, avail - consumed);
        pend = avail - consumed;
    }
    if (ret == 1) {
        /* the decoder stays done */
        size_t len = pend, consumed = 0;
        assert_int_equal(iisd_chunked_decode(&c, wb, &len, &consumed), 1);
        assert_int_equal(len, 0);
        assert_int_equal(consumed, 0);
    }
    *plen = out;
    *used = total;
    free(wb);
    return ret;
}

static void check_chunked(const struct ccase *cc, int ret, const char *payload, size_t plen, size_t used)
{
    size_t n = strlen(cc->in);
    assert_int_equal(ret, cc->ret);
    if (ret < 0)
        return;
    assert_int_equal(plen, strlen(cc->payload));
    assert_memory_equal(payload, cc->payload, plen);
    if (ret == 1)
        assert_int_equal(used, cc->consumed < 0 ? n : (size_t)cc->consumed);
    else
        assert_true(used <= n);
}

static void test_chunked_case(void **state)
{
    const struct ccase *cc = *state;
    size_t n = strlen(cc->in);
    char *payload = malloc(n + 1);
    size_t plen, used;
    size_t *cuts = malloc((n + 1) * sizeof(size_t));

    int ret = feed_chunked(cc->in, n, NULL, 0, payload, &plen, &used);
    check_chunked(cc, ret, payload, plen, used);
    for (size_t k = 1; k < n; k++) {
        cuts[0] = k;
        ret = feed_chunked(cc->in, n, cuts, 1, payload, &plen, &used);
        check_chunked(cc, ret, payload, plen, used);
    }
    for (size_t k = 0; k + 1 < n; k++)
        cuts[k] = k + 1;
    ret = feed_chunked(cc->in, n, cuts, n ? n - 1 : 0, payload, &plen, &used);
    check_chunked(cc, ret, payload, plen, used);
    free(cuts);
    free(payload);
}

static void test_chunked_line_limits(void **state)
{
    (void)state;
    char payload[16];
    size_t plen, used;
    /* chunk-size line of exactly 4096 bytes is fine, 4097 is not */
    char *ok = repeat("1;e=", 'x', 4096 - 4, "\r\nZ\r\n0\r\n\r\n");
    assert_int_equal(feed_chunked(ok, strlen(ok), NULL, 0, payload, &plen, &used), 1);
    assert_int_equal(plen, 1);
    assert_int_equal(payload[0], 'Z');
    free(ok);
    char *bad = repeat("1;e=", 'x', 4096 - 3, "\r\nZ\r\n0\r\n\r\n");
    assert_int_equal(feed_chunked(bad, strlen(bad), NULL, 0, payload, &plen, &used), -400);
    free(bad);
    /* the same for a trailer line */
    ok = repeat("0\r\nT: ", 't', 4096 - 3, "\r\n\r\n");
    assert_int_equal(feed_chunked(ok, strlen(ok), NULL, 0, payload, &plen, &used), 1);
    assert_int_equal(used, strlen(ok));
    free(ok);
    bad = repeat("0\r\nT: ", 't', 4096 - 2, "\r\n\r\n");
    assert_int_equal(feed_chunked(bad, strlen(bad), NULL, 0, payload, &plen, &used), -400);
    free(bad);
    /* leading zeros count towards the line limit */
    bad = repeat("", '0', 4097, "1\r\nZ\r\n0\r\n\r\n");
    assert_int_equal(feed_chunked(bad, strlen(bad), NULL, 0, payload, &plen, &used), -400);
    free(bad);
    /* a trailer section of many short lines is capped too */
    size_t n = 3 + 20000 * 6 + 2;
    char *many = malloc(n + 1);
    memcpy(many, "0\r\n", 3);
    for (size_t i = 0; i < 20000; i++)
        memcpy(many + 3 + i * 6, "A: b\r\n", 6);
    memcpy(many + n - 2, "\r\n", 3);
    assert_int_equal(feed_chunked(many, n, NULL, 0, payload, &plen, &used), -400);
    free(many);
}

static void test_chunked_large_payload(void **state)
{
    (void)state;
    /* 3 chunks of 1000 bytes of all byte values, decoded in place, fed in 7-byte pieces */
    char in[3200], want[3000], got[3200];
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        n += (size_t)snprintf(in + n, sizeof(in) - n, "3E8\r\n");
        for (int j = 0; j < 1000; j++)
            want[k * 1000 + j] = in[n++] = (char)(k * 1000 + j);
        memcpy(in + n, "\r\n", 2);
        n += 2;
    }
    memcpy(in + n, "0\r\n\r\n", 5);
    n += 5;
    size_t cuts[600], nc = 0;
    for (size_t p = 7; p < n; p += 7)
        cuts[nc++] = p;
    size_t plen, used;
    assert_int_equal(feed_chunked(in, n, cuts, nc, got, &plen, &used), 1);
    assert_int_equal(plen, 3000);
    assert_memory_equal(got, want, 3000);
    assert_int_equal(used, n);
}

/* ======================================================================== */
/* URL normalisation                                                         */
/* ======================================================================== */

struct ucase {
    const char *in;
    int ret; /* -400 or the length of out */
    const char *out;
    bool dbl;
};

static const struct ucase url_cases[] = {
    {"/", 1, "/", false},
    {"/a/./b/../c", 4, "/a/c", false},
    {"/%2e%2e/", -400, NULL, false},
    {"/%2E%2E", -400, NULL, false},
    {"/a/%2e%2e/b", 2, "/b", false},
    {"/a/.", 3, "/a/", false},
    {"/a/..", 1, "/", false},
    {"/a/b/", 5, "/a/b/", false},
    {"//a///b", 4, "/a/b", false},
    {"/a%5cb", 4, "/a/b", false},
    {"/a\\b", 4, "/a/b", false},
    {"/a%5C..%5Cb", 2, "/b", false},
    {"/%5c%2e%2e%5c", -400, NULL, false},
    {"/..", -400, NULL, false},
    {"/../a", -400, NULL, false},
    {"/a/../..", -400, NULL, false},
    {"/a/b/../../..", -400, NULL, false},
    {"/./", 1, "/", false},
    {"/a/./", 3, "/a/", false},
    {"/a/...", 6, "/a/...", false},
    {"/.a/b./..c", 10, "/.a/b./..c", false},
    {"/a%2fb", 4, "/a/b", false},
    {"/%2F%2F", 1, "/", false},
    {"/a//../b", 2, "/b", false},
    {"a/b", -400, NULL, false},
    {"", -400, NULL, false},
    {"%2fa", -400, NULL, false},
    {"/%zz", -400, NULL, false},
    {"/%4", -400, NULL, false},
    {"/%", -400, NULL, false},
    {"/%00", -400, NULL, false},
    {"/caf%C3%A9", 6, "/caf\xc3\xa9", false},
    {"/%F0%9F%98%80", 5, "/\xf0\x9f\x98\x80", false},
    {"/%F4%8F%BF%BF", 5, "/\xf4\x8f\xbf\xbf", false},
    {"/%EF%BF%BF", 4, "/\xef\xbf\xbf", false},
    {"/%C0%AF", -400, NULL, false},
    {"/%C1%81", -400, NULL, false},
    {"/%E0%80%AF", -400, NULL, false},
    {"/%F0%80%80%AF", -400, NULL, false},
    {"/%ED%A0%80", -400, NULL, false},
    {"/%F4%90%80%80", -400, NULL, false},
    {"/%F5%80%80%80", -400, NULL, false},
    {"/%C3", -400, NULL, false},
    {"/%C3x", -400, NULL, false},
    {"/%80", -400, NULL, false},
    {"/%FF", -400, NULL, false},
    {"/\xc3\xa9", 3, "/\xc3\xa9", false},
    {"/\xc3", -400, NULL, false},
    {"/a%2541", 5, "/a%41", true},
    {"/a%25zz", 5, "/a%zz", false},
    {"/a%25%34%31", 5, "/a%41", true},
    {"/a%25", 3, "/a%", false},
    {"/a+b%20c", 6, "/a+b c", false},
};

static void test_url_normalize(void **state)
{
    (void)state;
    char out[64];
    for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const struct ucase *u = &url_cases[i];
        bool dbl = !u->dbl;
        memset(out, 'X', sizeof(out));
        int r = iisd_url_normalize(u->in, strlen(u->in), out, &dbl);
        if (r != u->ret)
            fail_msg("%s: got %d, want %d", u->in, r, u->ret);
        if (r >= 0) {
            assert_span(out, (size_t)r, u->out, true);
            if (dbl != u->dbl)
                fail_msg("%s: double_escaped %d", u->in, dbl);
        }
        /* NULL double_escaped is allowed */
        assert_int_equal(iisd_url_normalize(u->in, strlen(u->in), out, NULL), u->ret);
    }
    /* only len bytes are read: the path need not be NUL-terminated */
    assert_int_equal(iisd_url_normalize("/a/b?x", 4, out, NULL), 4);
    assert_string_equal(out, "/a/b");
    assert_int_equal(iisd_url_normalize("/a/..%", 5, out, NULL), 1);
    assert_string_equal(out, "/");
}

/* ======================================================================== */
/* header names and methods                                                  */
/* ======================================================================== */

static void mixed_case(char *dst, const char *src, int mode)
{
    size_t i;
    for (i = 0; src[i]; i++) {
        char ch = src[i];
        bool up = mode == 0 ? true : mode == 1 ? false : (i % 2 == 0);
        if (up && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        else if (!up && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        dst[i] = ch;
    }
    dst[i] = '\0';
}

static void check_names(const char *const *names, const uint8_t *lens, int count,
                        int (*lookup)(const char *, size_t))
{
    char tmp[64];
    for (int id = 0; id < count; id++) {
        const char *nm = names[id];
        size_t l = strlen(nm);
        assert_int_equal(lens[id], l);
        assert_int_equal(lookup(nm, l), id);
        for (int mode = 0; mode < 3; mode++) {
            mixed_case(tmp, nm, mode);
            assert_int_equal(lookup(tmp, l), id);
        }
        /* near misses: truncated, extended, last byte changed, a CTL for '-' */
        assert_int_equal(lookup(nm, l - 1), IISD_HDR_UNKNOWN);
        memcpy(tmp, nm, l);
        tmp[l] = 's';
        assert_int_equal(lookup(tmp, l + 1), IISD_HDR_UNKNOWN);
        tmp[l - 1] = (char)(tmp[l - 1] == 'x' ? 'y' : 'x');
        assert_int_equal(lookup(tmp, l), IISD_HDR_UNKNOWN);
        memcpy(tmp, nm, l);
        char *dash = memchr(tmp, '-', l);
        if (dash != NULL) {
            *dash = '\r'; /* '\r' | 0x20 == '-': must not match */
            assert_int_equal(lookup(tmp, l), IISD_HDR_UNKNOWN);
            *dash = '_';
            assert_int_equal(lookup(tmp, l), IISD_HDR_UNKNOWN);
        }
        memcpy(tmp, nm, l);
        tmp[0] = (char)(tmp[0] ^ 0x40); /* e.g. 'H' -> '\b': not a letter */
        assert_int_equal(lookup(tmp, l), IISD_HDR_UNKNOWN);
    }
}

static void test_header_lookup(void **state)
{
    (void)state;
    check_names(iisd_req_hdr_names, iisd_req_hdr_name_lens, IISD_HDR_REQ_KNOWN, iisd_req_hdr_lookup);
    check_names(iisd_resp_hdr_names, iisd_resp_hdr_name_lens, IISD_HDR_RESP_KNOWN, iisd_resp_hdr_lookup);
    /* the canonical spelling of a few, and the shared 0..19 */
    assert_string_equal(iisd_req_hdr_names[IISD_H_CONTENT_MD5], "Content-MD5");
    assert_string_equal(iisd_req_hdr_names[IISD_H_TE], "TE");
    assert_string_equal(iisd_req_hdr_names[IISD_H_USER_AGENT], "User-Agent");
    assert_string_equal(iisd_resp_hdr_names[IISD_RH_WWW_AUTHENTICATE], "WWW-Authenticate");
    assert_string_equal(iisd_resp_hdr_names[IISD_RH_ETAG], "ETag");
    for (int id = 0; id < 20; id++)
        assert_string_equal(iisd_req_hdr_names[id], iisd_resp_hdr_names[id]);
    /* request-only names are unknown as responses and vice versa */
    assert_int_equal(iisd_resp_hdr_lookup("Host", 4), IISD_HDR_UNKNOWN);
    assert_int_equal(iisd_resp_hdr_lookup("user-agent", 10), IISD_HDR_UNKNOWN);
    assert_int_equal(iisd_req_hdr_lookup("Set-Cookie", 10), IISD_HDR_UNKNOWN);
    assert_int_equal(iisd_req_hdr_lookup("ETag", 4), IISD_HDR_UNKNOWN);
    assert_int_equal(iisd_resp_hdr_lookup("set-cookie", 10), IISD_RH_SET_COOKIE);
    assert_int_equal(iisd_resp_hdr_lookup("date", 4), IISD_H_DATE);
    assert_int_equal(iisd_req_hdr_lookup("cOOKIE", 6), IISD_H_COOKIE);
    static const char *const misses[] = {
        "",         "T",         "Hast",       "Hostt", "X-Host", "Cookie2", "Accept-",      "Content-Lenght",
        "Referrer", "If-Match-", "Translate2", "Via ",  " Via",   "Dat\xe5", "Contentlength"};
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        assert_int_equal(iisd_req_hdr_lookup(misses[i], strlen(misses[i])), IISD_HDR_UNKNOWN);
        assert_int_equal(iisd_resp_hdr_lookup(misses[i], strlen(misses[i])), IISD_HDR_UNKNOWN);
    }
    /* only len bytes count */
    assert_int_equal(iisd_req_hdr_lookup("Hostname", 4), IISD_H_HOST);
}

static void test_verb_lookup(void **state)
{
    (void)state;
    static const struct {
        const char *m;
        int v;
    } verbs[] = {
        {"OPTIONS", IISD_VERB_OPTIONS},
        {"GET", IISD_VERB_GET},
        {"HEAD", IISD_VERB_HEAD},
        {"POST", IISD_VERB_POST},
        {"PUT", IISD_VERB_PUT},
        {"DELETE", IISD_VERB_DELETE},
        {"TRACE", IISD_VERB_TRACE},
        {"CONNECT", IISD_VERB_CONNECT},
        {"TRACK", IISD_VERB_TRACK},
        {"MOVE", IISD_VERB_MOVE},
        {"COPY", IISD_VERB_COPY},
        {"PROPFIND", IISD_VERB_PROPFIND},
        {"PROPPATCH", IISD_VERB_PROPPATCH},
        {"MKCOL", IISD_VERB_MKCOL},
        {"LOCK", IISD_VERB_LOCK},
        {"UNLOCK", IISD_VERB_UNLOCK},
        {"SEARCH", IISD_VERB_SEARCH},
        {"get", IISD_VERB_UNKNOWN},
        {"Get", IISD_VERB_UNKNOWN},
        {"GETS", IISD_VERB_UNKNOWN},
        {"GE", IISD_VERB_UNKNOWN},
        {"", IISD_VERB_UNKNOWN},
        {"PATCH", IISD_VERB_UNKNOWN},
        {"PURGE", IISD_VERB_UNKNOWN},
        {"POSTS", IISD_VERB_UNKNOWN},
        {"HEAP", IISD_VERB_UNKNOWN},
        {"PROPFINE", IISD_VERB_UNKNOWN},
        {"OPTIONs", IISD_VERB_UNKNOWN},
        {"UNLOCKS", IISD_VERB_UNKNOWN},
        {"MKCOLS", IISD_VERB_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (iisd_verb_lookup(verbs[i].m, strlen(verbs[i].m)) != verbs[i].v)
            fail_msg("verb %s", verbs[i].m);
    assert_int_equal(iisd_verb_lookup("GETX", 3), IISD_VERB_GET);
}

/* ======================================================================== */

int main(void)
{
    const size_t nh = sizeof(head_cases) / sizeof(head_cases[0]);
    const size_t nc = sizeof(chunk_cases) / sizeof(chunk_cases[0]);
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_default_limits),        cmocka_unit_test(test_early_limit_detection),
        cmocka_unit_test(test_many_repeats_combined), cmocka_unit_test(test_parse_resumes_after_done),
        cmocka_unit_test(test_chunked_line_limits),   cmocka_unit_test(test_chunked_large_payload),
        cmocka_unit_test(test_url_normalize),         cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_verb_lookup),
    };
    const size_t nf = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest *tests = calloc(nh + nc + nf, sizeof(*tests));
    size_t t = 0;
    for (size_t i = 0; i < nh; i++)
        tests[t++] =
            (struct CMUnitTest){head_cases[i].name, test_head_case, NULL, NULL, (void *)&head_cases[i]};
    for (size_t i = 0; i < nc; i++)
        tests[t++] =
            (struct CMUnitTest){chunk_cases[i].name, test_chunked_case, NULL, NULL, (void *)&chunk_cases[i]};
    for (size_t i = 0; i < nf; i++)
        tests[t++] = fixed[i];
    int failed = _cmocka_run_group_tests("parser", tests, t, NULL, NULL);
    free(tests);
    return failed == 0 ? 0 : 1;
}
