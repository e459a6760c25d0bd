/*
 * HTTP/1.1 connections: accept, read and parse request heads, read bodies,
 * write responses (writev for memory, sendfile for files), keep-alive,
 * pipelining, timeouts and lingering close.
 *
 * The layer above (the pipeline) supplies an iisd_http_handler_t. A
 * connection is driven on its loop's owner thread; the handler may run module
 * code that blocks (see net/worker.h), and hands the connection back with
 * iisd_conn_post() when it finishes on another thread.
 */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "http/parser.h"
#include "http/response.h"
#include "http/sitegate.h"
#include "net/loop.h"

#define IISD_MAX_UNKNOWN_HEADERS 96
#define IISD_SITE_IDLE_LISTS     4

typedef struct iisd_conn iisd_conn_t;

enum iisd_yield { IISD_CONTINUE = 0, IISD_YIELD = 1 };

typedef struct iisd_http_handler {
    /* A request head is complete (c->req is set). The handler either
       finishes the request now (calls iisd_conn_request_done(), returns
       IISD_CONTINUE) or returns IISD_YIELD and finishes it later. */
    enum iisd_yield (*on_request)(iisd_conn_t *c);
    /* The final send of a response that iisd_conn_send() left pending has
       completed (or failed: c->req->send_failed). Same contract. */
    enum iisd_yield (*on_sent)(iisd_conn_t *c);
    /* After iisd_conn_wait_read(): request body input may have arrived (or, with timed_out, none came
       within the idle timeout). Same contract. */
    enum iisd_yield (*on_readable)(iisd_conn_t *c, bool timed_out);
} iisd_http_handler_t;

typedef struct iisd_http_cfg {
    iisd_parse_limits_t parse;
    uint64_t max_body;          /* maxAllowedContentLength */
    uint32_t header_timeout_ms; /* headerWaitTimeout */
    uint32_t idle_timeout_ms;   /* connectionTimeout */
    uint32_t min_send_rate;     /* minBytesPerSecond; 0: none */
    const char *server_header;  /* value of Server, or NULL for none */
} iisd_http_cfg_t;

/* Per-loop HTTP state. */
typedef struct iisd_hloop {
    iisd_loop_t loop;
    iisd_tlist_t header_tl, idle_tl, linger_tl;
    iisd_tlist_t throttle_tl;                        /* a send paused by maxBandwidth */
    iisd_tlist_t rate_tl;                            /* a blocked send's minBytesPerSecond check */
    iisd_tlist_t site_idle_tl[IISD_SITE_IDLE_LISTS]; /* sites' own connectionTimeout; 0 = unused */
    const iisd_http_cfg_t *cfg;
    const iisd_http_handler_t *handler;
    iisd_conn_t *conns; /* every open connection */
    unsigned nconns;
    iisd_conn_t *spare; /* closed connections kept for the next accepts */
    unsigned nspare;
    struct iisd_listener *listeners;
    bool draining;
} iisd_hloop_t;

typedef struct iisd_req {
    iisd_parser_t parser; /* the head, while it arrives */
    iisd_head_t head;
    iisd_field_t unknown_store[IISD_MAX_UNKNOWN_HEADERS];
    iisd_resp_t resp;
    uint64_t start_ms;
    uint64_t body_received; /* payload bytes handed out */
    int64_t body_left;      /* Content-Length bytes not yet read; -1 for chunked */
    iisd_chunked_t chunked;
    uint32_t dec_len; /* decoded chunked payload waiting at rbuf[rpos] */
    uint32_t enc_off; /* where undecoded chunked input resumes */
    bool body_done;
    bool sent_continue;
    bool is_head;
    bool send_failed;
    bool answered;       /* the connection sent an error response for this request itself (bad body) */
    uint8_t body_err;    /* EPROTO or EFBIG once the body failed; 0 otherwise */
    uint64_t bytes_sent; /* wire bytes, headers included */
    struct iisd_out *out;
} iisd_req_t;

struct iisd_conn {
    iisd_io_t io;
    iisd_hloop_t *hl;
    iisd_tnode_t tnode;
    iisd_task_t task;      /* iisd_conn_post() */
    iisd_task_t free_task; /* deferred free after close */
    void (*post_fn)(iisd_conn_t *c);
    iisd_conn_t *prev, *next;
    uint8_t state;
    uint8_t evflags; /* events seen while the request was running */
    bool maybe_more; /* the socket may hold unread bytes */
    bool close_after;
    bool throttled;  /* a send waits for maxBandwidth budget */
    bool send_abort; /* the pending send is given up (too slow a reader) */
    bool armed;      /* in the loop's epoll set: added the first time the connection waits */
    bool corked;     /* TCP_CORK set for the last response (see out_write) */
    bool wr_shut;    /* the write side is shut */
    char *rbuf;
    uint32_t rlen, rpos;
    iisd_arena_t arena; /* per-request memory */
    iisd_req_t *req;
    void *app;                         /* the handler's per-request object */
    struct sockaddr_in6 local, remote; /* IPv4 as AF_INET in the same storage; local: see iisd_conn_local() */
    uint64_t nreq;
    /* site limits: the site the connection is counted against, and its limits */
    iisd_site_gate_t *gate;
    iisd_site_limits_t limits;
    uint32_t throttle_wait; /* ms until the budget refills (blocking sends) */
    uint64_t slow_since_ms; /* when the current response first waited for the client; 0: never */
    uint64_t slow_mark;     /* bytes_sent then */
    /* set by the handler: called once when the connection closes (IHttpConnection's module contexts) */
    void (*close_fn)(iisd_conn_t *c);
    void *close_data;
};

/* Fills *cfg with defaults. */
void iisd_http_cfg_defaults(iisd_http_cfg_t *cfg);
int iisd_hloop_init(iisd_hloop_t *hl, unsigned id, const iisd_http_cfg_t *cfg, const iisd_http_handler_t *h);
/* Opens a listening socket (SO_REUSEPORT) on this loop. */
int iisd_hloop_listen(iisd_hloop_t *hl, const struct sockaddr *addr, socklen_t len);
/* After the workers have stopped: closes every connection and frees the loop. */
void iisd_hloop_destroy(iisd_hloop_t *hl);
/* Frees the calling thread's receive-buffer cache (at thread exit). */
void iisd_http_thread_cleanup(void);
/* Stops listening on one address (one that iisd_hloop_listen opened); on the loop's thread. */
void iisd_hloop_unlisten(iisd_hloop_t *hl, const struct sockaddr *addr, socklen_t len);
/* Stops accepting and closes idle connections; on the loop's thread. */
void iisd_hloop_drain(iisd_hloop_t *hl);

/*
 * Reads request body payload (Content-Length or chunked), waiting up to the
 * idle timeout for bytes. Sends "100 Continue" first when the client asked
 * for it. Returns the byte count (> 0), 0 at the end of the body, or
 * -ETIMEDOUT, -ECONNRESET, -EPROTO (bad chunked framing), -EFBIG (larger
 * than maxAllowedContentLength). When `wait` is false, returns -EAGAIN
 * instead of waiting. On -EPROTO and -EFBIG, when no response has started,
 * the connection answers 400 or 413 itself (as HTTP.sys does) and drops
 * whatever the handler sends for the request afterwards; either way the
 * connection closes after the request.
 */
ssize_t iisd_conn_read_body(iisd_conn_t *c, void *buf, size_t cap, bool wait);
uint64_t iisd_conn_body_remaining(const iisd_conn_t *c);

/*
 * Sends what the response holds: the status line and headers if not sent
 * yet (unless suppressed), then the body chunks, which are removed from the
 * response. `final` means no more body will follow. A non-final send waits
 * until everything is written (up to the idle timeout). A final send returns
 * 1 when it must wait for the socket: the handler then returns IISD_YIELD
 * and gets on_sent() later. Returns 0 when done, -errno on failure.
 */
int iisd_conn_send(iisd_conn_t *c, bool final);
/* A non-final send that does not wait: returns 1 when the socket is full, and the
   handler then hands the rest to the loop with iisd_conn_wait_send() (on_sent() follows). */
int iisd_conn_send_nowait(iisd_conn_t *c);
/* Writes, waiting as long as needed, what a send left pending (c->req->out). 0 or -errno. */
int iisd_conn_finish_send(iisd_conn_t *c);
/* Formats the IMF-fixdate for now into a per-thread cache (29 chars + NUL). */
const char *iisd_http_date(void);

/* A send returned 1: the loop finishes it, then calls on_sent(). On the owner thread. */
void iisd_conn_wait_send(iisd_conn_t *c);
/* The loop waits until body input can be read, then calls on_readable(). On the owner thread. */
void iisd_conn_wait_read(iisd_conn_t *c);
/*
 * The handler gives up what iisd_conn_wait_read / iisd_conn_wait_send made the connection wait for
 * (owner thread). A read wait ends at once (returns 1); a send is abandoned (returns 2): the rest of
 * it is dropped, the connection closes after the request, and on_sent runs with send_failed. 0 when
 * nothing waited.
 */
int iisd_conn_cancel_wait(iisd_conn_t *c);
/* Drops the unsent rest of a send no wait was armed for; the connection closes after the request. */
void iisd_conn_drop_send(iisd_conn_t *c);
/* The request is over: the handler has released c->app. On the owner thread. */
void iisd_conn_request_done(iisd_conn_t *c);
/* Continues driving the connection (after request_done outside on_request). */
void iisd_conn_resume(iisd_conn_t *c);
/* From any thread: run fn(c) on the connection's loop. */
void iisd_conn_post(iisd_conn_t *c, void (*fn)(iisd_conn_t *c));
/* The local address of the connection (looked up on first use). */
const struct sockaddr_in6 *iisd_conn_local(iisd_conn_t *c);
/*
 * Counts the connection against a site (its first request, or one for
 * another site than the last): false when the site holds maxConnections
 * already (answer 503). The connection then sends at most maxBandwidth and
 * stays idle at most the site's connectionTimeout.
 */
bool iisd_conn_admit(iisd_conn_t *c, iisd_site_gate_t *g, const iisd_site_limits_t *lim);
/* Answers a request-level error directly (used before the pipeline runs). */
void iisd_conn_reject(iisd_conn_t *c, unsigned status, const char *why);
/* The same with a status.substatus and an HTML fragment for the page body (escaped by the caller). */
void iisd_conn_reject_detail(iisd_conn_t *c, unsigned status, unsigned substatus, const char *why,
                             const char *html);
