#include "http/conn.h"
#include "core/log.h"
#include "core/mem.h"
#include "net/worker.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum conn_state {
    ST_IDLE = 0, /* between requests, nothing buffered */
    ST_HEAD,     /* receiving a request head */
    ST_ACTIVE,   /* the handler owns the request */
    ST_SENDING,  /* a send waits for the socket (the final one, or an asynchronous flush) */
    ST_READWAIT, /* an asynchronous body read waits for input */
    ST_NEXT,     /* request over; start the next one */
    ST_DISCARD,  /* reading and dropping an unread request body */
    ST_LINGER,   /* write side shut; draining input before close */
    ST_CLOSED,
};

typedef struct iisd_listener {
    iisd_io_t io;
    iisd_hloop_t *hl;
    iisd_task_t again; /* accept_cb lost the loop to a blocked module: the new owner accepts on */
    bool again_queued; /* (atomic) `again` waits in the inbox */
    struct iisd_listener *next;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool addr_exact; /* bound to one address and port: the accepted sockets' local address */
} iisd_listener_t;

typedef struct iisd_seg {
    uint8_t type;
    int fd;
    const char *p;
    uint64_t off, len;
} iisd_seg_t;

struct iisd_out {
    iisd_seg_t *segs;
    uint32_t n, i;
    uint64_t done; /* bytes of segs[i] already written */
    bool fin;      /* the connection's last response: the write side shuts right after it */
};

static uint32_t rbuf_size;
static __thread char *rbuf_cache[16];
static __thread unsigned rbuf_ncache;

static char *rbuf_get(void)
{
    if (rbuf_ncache > 0)
        return rbuf_cache[--rbuf_ncache];
    return iisd_xmalloc(rbuf_size);
}

static void rbuf_put(char *b)
{
    if (rbuf_ncache < IISD_ARRAY_SIZE(rbuf_cache))
        rbuf_cache[rbuf_ncache++] = b;
    else
        free(b);
}

void iisd_http_cfg_defaults(iisd_http_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->parse.max_request_line = 8192;
    cfg->parse.max_head = 16384;
    cfg->parse.max_field = 8192;
    cfg->max_body = 30000000;
    cfg->header_timeout_ms = 30000;
    cfg->idle_timeout_ms = 120000;
    cfg->server_header = "iisd/0.1";
}

/* ---- date cache ------------------------------------------------------- */

static __thread char date_buf[80];
static __thread time_t date_sec;

const char *iisd_http_date(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != date_sec) {
        static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char mons[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(date_buf, sizeof(date_buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        date_sec = ts.tv_sec;
    }
    return date_buf;
}

/* ---- connection lifetime ---------------------------------------------- */

static void conn_drive(iisd_conn_t *c);
static void conn_io(iisd_io_t *io, uint32_t events);

#define SPARE_CONNS 256

/* Runs on the loop's thread: a closed connection becomes a spare for the next accept. */
static void conn_free_task(iisd_task_t *t)
{
    iisd_conn_t *c = IISD_CONTAINER_OF(t, iisd_conn_t, free_task);
    iisd_hloop_t *hl = c->hl;
    if (hl->nspare >= SPARE_CONNS) {
        free(c);
        return;
    }
    c->next = hl->spare;
    hl->spare = c;
    hl->nspare++;
}

static iisd_conn_t *conn_alloc(iisd_hloop_t *hl)
{
    iisd_conn_t *c = hl->spare;
    if (c == NULL)
        return iisd_xcalloc(1, sizeof(*c));
    hl->spare = c->next;
    hl->nspare--;
    memset(c, 0, sizeof(*c));
    return c;
}

static void conn_close(iisd_conn_t *c)
{
    iisd_hloop_t *hl = c->hl;
    if (c->state == ST_CLOSED)
        return;
    c->state = ST_CLOSED;
    iisd_timeout_clear(&c->tnode);
    close(c->io.fd); /* also removes it from the epoll set */
    iisd_arena_reset(&c->arena);
    if (c->close_fn != NULL)
        c->close_fn(c);
    c->req = NULL;
    if (c->rbuf) {
        rbuf_put(c->rbuf);
        c->rbuf = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        hl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    __atomic_fetch_sub(&hl->nconns, 1, __ATOMIC_RELAXED); /* (the main thread counts them at shutdown) */
    if (c->gate != NULL) {
        iisd_site_gate_leave(c->gate);
        c->gate = NULL;
    }
    /* freed after the current event batch, which may still name it */
    c->free_task.fn = conn_free_task;
    iisd_loop_defer(&hl->loop, &c->free_task);
}

/* Puts the connection into the loop's epoll set (edge-triggered: an event comes at once for what
   is already pending). Closes it when that fails. */
static void conn_arm(iisd_conn_t *c)
{
    int rc = iisd_loop_add(&c->hl->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    if (rc < 0 && rc != -EEXIST) {
        conn_close(c);
        return;
    }
    c->armed = true;
}

static void fmt_addr(const struct sockaddr_in6 *sa, char *out, size_t cap);

/*
 * minBytesPerSecond: a response that waits for the client has gone out at
 * less than the minimum rate on average since it first waited. Logs why.
 */
static bool too_slow(iisd_conn_t *c, uint64_t now)
{
    uint32_t rate = c->hl->cfg->min_send_rate;
    if (rate == 0 || c->slow_since_ms == 0 || now <= c->slow_since_ms)
        return false;
    uint64_t ms = now - c->slow_since_ms, sent = c->req->bytes_sent - c->slow_mark;
    if (ms < 1000 || sent * 1000 >= (uint64_t)rate * ms)
        return false;
    char addr[64];
    fmt_addr(&c->remote, addr, sizeof(addr));
    iisd_log(IISD_LOG_INFO,
             "%s: closing the connection: the client read %llu bytes of the response in %llu ms, "
             "below minBytesPerSecond (%u)",
             addr, (unsigned long long)sent, (unsigned long long)ms, rate);
    return true;
}

static iisd_tlist_t *idle_list(iisd_conn_t *c);

/* A final send waits for the client: check its rate every second, or give it the idle timeout. */
static void send_wait_timer(iisd_conn_t *c)
{
    iisd_hloop_t *hl = c->hl;
    if (c->slow_since_ms == 0) {
        c->slow_since_ms = iisd_now_ms();
        c->slow_mark = c->req->bytes_sent;
    }
    iisd_timeout_set(hl->cfg->min_send_rate ? &hl->rate_tl : idle_list(c), &c->tnode, hl->loop.now_ms);
}

static void conn_timeout(iisd_tnode_t *n)
{
    iisd_conn_t *c = IISD_CONTAINER_OF(n, iisd_conn_t, tnode);
    if (c->state == ST_SENDING) {
        if (c->throttled) {
            c->throttled = false; /* budget again: go on sending */
        } else if (c->hl->cfg->min_send_rate && !too_slow(c, iisd_now_ms())) {
            send_wait_timer(c);
            return;
        } else {
            c->send_abort = true; /* too slow a reader, or idle too long */
        }
        conn_drive(c);
        return;
    }
    if (c->state == ST_HEAD && c->rlen > 0) {
        char addr[INET6_ADDRSTRLEN];
        if (c->remote.sin6_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&c->remote)->sin_addr, addr, sizeof(addr));
        else
            inet_ntop(AF_INET6, &c->remote.sin6_addr, addr, sizeof(addr));
        iisd_log(IISD_LOG_INFO, "%s: 408 request head not received within %u ms", addr,
                 c->hl->cfg->header_timeout_ms);
        iisd_conn_reject(c, 408, "request head timeout");
        return;
    }
    if (c->state == ST_READWAIT) {
        /* the request learns of it through its read, and ends normally */
        c->state = ST_ACTIVE;
        if (c->hl->handler->on_readable(c, true) == IISD_CONTINUE)
            conn_drive(c);
        return;
    }
    conn_close(c);
}

/* Shuts the write side and drains input for a moment, so that unread
   request bytes do not turn our last response into a reset. */
static void conn_linger(iisd_conn_t *c)
{
    if (!c->wr_shut)
        shutdown(c->io.fd, SHUT_WR);
    c->wr_shut = true;
    c->state = ST_LINGER;
    iisd_timeout_set(&c->hl->linger_tl, &c->tnode, c->hl->loop.now_ms);
    conn_drive(c);
}

static void fmt_addr(const struct sockaddr_in6 *sa, char *out, size_t cap)
{
    if (sa->sin6_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
    } else {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &sa->sin6_addr, a, sizeof(a));
        snprintf(out, cap, "[%s]:%u", a, ntohs(sa->sin6_port));
    }
}

static ssize_t write_all_nb(int fd, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return done ? (ssize_t)done : -errno;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

const struct sockaddr_in6 *iisd_conn_local(iisd_conn_t *c)
{
    if (c->local.sin6_family == 0) {
        socklen_t llen = sizeof(c->local);
        getsockname(c->io.fd, (struct sockaddr *)&c->local, &llen);
    }
    return &c->local;
}

/* Writes a complete error response (status page, Connection: close) straight to the socket, and logs it. */
static void write_error_page(iisd_conn_t *c, unsigned status, unsigned substatus, const char *why,
                             const char *html)
{
    const char *reason = iisd_status_reason(status);
    char code[16];
    if (substatus)
        snprintf(code, sizeof(code), "%u.%u", status, substatus);
    else
        snprintf(code, sizeof(code), "%u", status);
    size_t hlen = html ? strlen(html) : 0;
    size_t cap = 512 + hlen + strlen(reason) * 2;
    char *body = iisd_xmalloc(cap);
    int blen = snprintf(body, cap,
                        "<!DOCTYPE html>\r\n<html><head><title>%s %s</title></head>"
                        "<body><h1>HTTP Error %s - %s</h1>%s</body></html>\r\n",
                        code, reason, code, reason, html ? html : "");
    const char *server = c->hl->cfg->server_header;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %u %s\r\nContent-Type: text/html\r\n%s%s%sDate: %s\r\nConnection: close\r\n"
                     "Content-Length: %d\r\n\r\n",
                     status, reason, server ? "Server: " : "", server ? server : "", server ? "\r\n" : "",
                     iisd_http_date(), blen);
    if (status != 408 || c->state == ST_HEAD) {
        char addr[64];
        fmt_addr(&c->remote, addr, sizeof(addr));
        iisd_log(IISD_LOG_INFO, "%s: %s %s (%s)", addr, code, reason, why);
    }
    write_all_nb(c->io.fd, head, (size_t)n);
    write_all_nb(c->io.fd, body, (size_t)blen);
    free(body);
}

void iisd_conn_reject_detail(iisd_conn_t *c, unsigned status, unsigned substatus, const char *why,
                             const char *html)
{
    /* a request whose body framing failed has had its answer already */
    if (c->req == NULL || !c->req->answered)
        write_error_page(c, status, substatus, why, html);
    iisd_arena_reset(&c->arena);
    c->req = NULL;
    conn_linger(c);
}

void iisd_conn_reject(iisd_conn_t *c, unsigned status, const char *why)
{
    iisd_conn_reject_detail(c, status, 0, why, NULL);
}

/* ---- accepting -------------------------------------------------------- */

static void accept_cb(iisd_io_t *io, uint32_t events);

static void accept_again(iisd_task_t *t)
{
    iisd_listener_t *l = IISD_CONTAINER_OF(t, iisd_listener_t, again);
    __atomic_store_n(&l->again_queued, false, __ATOMIC_RELEASE);
    accept_cb(&l->io, EPOLLIN);
}

static void accept_cb(iisd_io_t *io, uint32_t events)
{
    iisd_listener_t *l = (iisd_listener_t *)io;
    iisd_hloop_t *hl = l->hl;
    (void)events;
    if (io->fd < 0)
        return; /* closed by a drain earlier in this batch */
    for (;;) {
        struct sockaddr_in6 remote;
        socklen_t rlen = sizeof(remote);
        int fd = accept4(io->fd, (struct sockaddr *)&remote, &rlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                iisd_log(IISD_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        if (hl->draining) {
            close(fd);
            continue;
        }
        iisd_conn_t *c = conn_alloc(hl); /* TCP_NODELAY comes from the listener */
        c->io.fd = fd;
        c->io.cb = conn_io;
        c->hl = hl;
        c->tnode.cb = conn_timeout;
        memcpy(&c->remote, &remote, rlen < sizeof(remote) ? rlen : sizeof(remote));
        iisd_arena_init(&c->arena);
        c->next = hl->conns;
        if (hl->conns)
            hl->conns->prev = c;
        hl->conns = c;
        __atomic_fetch_add(&hl->nconns, 1, __ATOMIC_RELAXED);
        if (l->addr_exact)
            memcpy(&c->local, &l->addr, l->addr_len < sizeof(c->local) ? l->addr_len : sizeof(c->local));
        /* not in the epoll set yet: the request has usually arrived with the handshake, and a
           connection answered and closed at once never needs to be (conn_drive adds it) */
        c->state = ST_HEAD;
        c->maybe_more = true;
        iisd_timeout_set(&hl->header_tl, &c->tnode, hl->loop.now_ms);
        conn_drive(c);
        if (!iisd_loop_owned(&hl->loop)) {
            /* a module blocked this thread and another one took the loop over: the connections
               still waiting to be accepted are its own (edge-triggered: no new event says so) */
            if (!__atomic_exchange_n(&l->again_queued, true, __ATOMIC_ACQ_REL)) {
                l->again.fn = accept_again;
                iisd_loop_post(&hl->loop, &l->again);
            }
            return;
        }
    }
}

int iisd_hloop_init(iisd_hloop_t *hl, unsigned id, const iisd_http_cfg_t *cfg, const iisd_http_handler_t *h)
{
    int rc = iisd_loop_init(&hl->loop, id);
    if (rc < 0)
        return rc;
    hl->cfg = cfg;
    hl->handler = h;
    hl->conns = NULL;
    hl->nconns = 0;
    hl->listeners = NULL;
    hl->draining = false;
    iisd_loop_add_tlist(&hl->loop, &hl->header_tl, cfg->header_timeout_ms);
    iisd_loop_add_tlist(&hl->loop, &hl->idle_tl, cfg->idle_timeout_ms);
    iisd_loop_add_tlist(&hl->loop, &hl->linger_tl, 2000);
    iisd_loop_add_tlist(&hl->loop, &hl->throttle_tl, 25);
    iisd_loop_add_tlist(&hl->loop, &hl->rate_tl, 1000);
    for (unsigned i = 0; i < IISD_SITE_IDLE_LISTS; i++)
        hl->site_idle_tl[i].timeout_ms = 0;
    uint32_t want = cfg->parse.max_head + 4096;
    if (want > rbuf_size)
        rbuf_size = want;
    return 0;
}

int iisd_hloop_listen(iisd_hloop_t *hl, const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* accepted sockets inherit it: no system call per connection */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, addr, len) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    iisd_listener_t *l = iisd_xcalloc(1, sizeof(*l));
    l->io.fd = fd;
    l->io.cb = accept_cb;
    l->hl = hl;
    memcpy(&l->addr, addr, len < sizeof(l->addr) ? len : sizeof(l->addr));
    l->addr_len = len;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
        l->addr_exact = s4->sin_addr.s_addr != htonl(INADDR_ANY) && s4->sin_port != 0;
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
        l->addr_exact = !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) && s6->sin6_port != 0;
    }
    l->next = hl->listeners;
    hl->listeners = l;
    return iisd_loop_add(&hl->loop, &l->io, EPOLLIN);
}

void iisd_http_thread_cleanup(void)
{
    while (rbuf_ncache > 0)
        free(rbuf_cache[--rbuf_ncache]);
}

void iisd_hloop_destroy(iisd_hloop_t *hl)
{
    /* first: the tasks still queued may live in the listeners and connections freed below;
       connections closed earlier wait there to be freed */
    iisd_loop_drain_tasks(&hl->loop, conn_free_task);
    while (hl->listeners) {
        iisd_listener_t *l = hl->listeners;
        hl->listeners = l->next;
        if (l->io.fd >= 0)
            close(l->io.fd);
        free(l);
    }
    while (hl->conns != NULL) {
        iisd_conn_t *c = hl->conns;
        hl->conns = c->next;
        close(c->io.fd);
        iisd_arena_reset(&c->arena);
        if (c->close_fn != NULL)
            c->close_fn(c);
        free(c->rbuf);
        free(c);
    }
    hl->nconns = 0;
    while (hl->spare != NULL) {
        iisd_conn_t *c = hl->spare;
        hl->spare = c->next;
        free(c);
    }
    hl->nspare = 0;
    iisd_loop_destroy(&hl->loop);
}

void iisd_hloop_unlisten(iisd_hloop_t *hl, const struct sockaddr *addr, socklen_t len)
{
    for (iisd_listener_t *l = hl->listeners; l != NULL; l = l->next)
        if (l->io.fd >= 0 && l->addr_len == len && memcmp(&l->addr, addr, len) == 0) {
            /* the struct stays until iisd_hloop_destroy(): this batch may still name it */
            iisd_loop_del(&hl->loop, &l->io);
            close(l->io.fd);
            l->io.fd = -1;
        }
}

void iisd_hloop_drain(iisd_hloop_t *hl)
{
    __atomic_store_n(&hl->draining, true, __ATOMIC_RELAXED); /* (build_head reads it on any thread) */
    for (iisd_listener_t *l = hl->listeners; l != NULL; l = l->next) {
        if (l->io.fd < 0)
            continue;
        /* the struct stays until iisd_hloop_destroy(): this batch may still name it */
        iisd_loop_del(&hl->loop, &l->io);
        close(l->io.fd);
        l->io.fd = -1;
    }
    for (iisd_conn_t *c = hl->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state == ST_IDLE || (c->state == ST_HEAD && c->rlen == 0))
            conn_close(c);
    }
}

/* ---- reading ---------------------------------------------------------- */

/* Reads into rbuf[rlen..]. Returns bytes read, 0 on EOF, -EAGAIN, or -errno. */
static ssize_t conn_read(iisd_conn_t *c)
{
    if (c->rbuf == NULL)
        c->rbuf = rbuf_get();
    size_t room = rbuf_size - c->rlen;
    if (room == 0)
        return -ENOBUFS;
    for (;;) {
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, room, 0);
        if (n > 0) {
            c->rlen += (uint32_t)n;
            c->maybe_more = (size_t)n == room;
            return n;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            c->maybe_more = false;
        return -errno;
    }
}

static void start_request(iisd_conn_t *c)
{
    if (c->req != NULL)
        return;
    iisd_req_t *r = iisd_arena_alloc(&c->arena, sizeof(*r));
    memset(&r->head, 0, sizeof(r->head));
    r->head.unknown = r->unknown_store;
    r->head.unknown_cap = IISD_MAX_UNKNOWN_HEADERS;
    iisd_resp_init(&r->resp);
    r->body_received = 0;
    r->dec_len = 0;
    r->sent_continue = false;
    r->send_failed = false;
    r->bytes_sent = 0;
    r->answered = false;
    r->body_err = 0;
    r->out = NULL;
    c->req = r;
    c->slow_since_ms = 0;
    c->throttled = false;
    c->send_abort = false;
    iisd_parser_init(&r->parser);
}

/* Returns true when a complete head was parsed and the request started. */
static bool head_ready(iisd_conn_t *c, bool *stop)
{
    iisd_req_t *r = c->req;
    int rc = iisd_parse_head(&r->parser, c->rbuf, c->rlen, &r->head, &c->hl->cfg->parse, &c->arena);
    if (rc == 0)
        return false;
    if (rc < 0) {
        const char *reason = rc == -414   ? "request line too long"
                             : rc == -431 ? "request header fields too large"
                             : rc == -501 ? "unsupported transfer coding"
                             : rc == -505 ? "unsupported HTTP version"
                                          : "malformed request";
        iisd_conn_reject(c, (unsigned)-rc, reason);
        *stop = true;
        return false;
    }
    iisd_head_t *h = &r->head;
    c->rpos = h->head_len;
    r->is_head = h->verb == IISD_VERB_HEAD;
    r->chunked.remaining = 0;
    iisd_chunked_init(&r->chunked);
    r->enc_off = c->rpos;
    if (h->chunked) {
        r->body_left = -1;
        r->body_done = false;
    } else {
        r->body_left = h->content_length > 0 ? h->content_length : 0;
        r->body_done = r->body_left == 0;
    }
    if (!h->keep_alive)
        c->close_after = true;
    /* An HTTP/1.0 request's expectation is ignored (RFC 9110 §10.1.1). */
    if (h->known[IISD_H_EXPECT].value != NULL && !h->expect_continue && h->version_minor >= 1) {
        iisd_conn_reject(c, 417, "unsupported expectation");
        *stop = true;
        return false;
    }
    if (h->content_length > 0 && (uint64_t)h->content_length > c->hl->cfg->max_body) {
        iisd_conn_reject(c, 413, "request body larger than maxAllowedContentLength");
        *stop = true;
        return false;
    }
    return true;
}

static void discard_more(iisd_conn_t *c);

/* The idle timeout list for the connection: its site's connectionTimeout when that differs. */
static uint32_t idle_ms(const iisd_conn_t *c)
{
    return c->gate != NULL && c->limits.idle_timeout_ms ? c->limits.idle_timeout_ms
                                                        : c->hl->cfg->idle_timeout_ms;
}

static iisd_tlist_t *idle_list(iisd_conn_t *c)
{
    iisd_hloop_t *hl = c->hl;
    uint32_t ms = c->gate != NULL ? c->limits.idle_timeout_ms : 0;
    if (ms == 0 || ms == hl->idle_tl.timeout_ms)
        return &hl->idle_tl;
    for (unsigned i = 0; i < IISD_SITE_IDLE_LISTS; i++) {
        iisd_tlist_t *l = &hl->site_idle_tl[i];
        if (l->timeout_ms == ms)
            return l;
        if (l->timeout_ms == 0) {
            iisd_loop_add_tlist(&hl->loop, l, ms);
            return l;
        }
    }
    return &hl->idle_tl; /* more distinct timeouts than lists: the server's */
}

bool iisd_conn_admit(iisd_conn_t *c, iisd_site_gate_t *g, const iisd_site_limits_t *lim)
{
    if (c->gate != g) {
        if (!iisd_site_gate_enter(g, lim->max_connections))
            return false;
        if (c->gate != NULL)
            iisd_site_gate_leave(c->gate);
        c->gate = g;
    }
    c->limits = *lim;
    return true;
}

/* Called when a request is over and the connection may carry another. */
static void next_request(iisd_conn_t *c)
{
    iisd_req_t *r = c->req;
    if (r != NULL && r->answered) {
        iisd_arena_reset(&c->arena);
        c->req = NULL;
        conn_linger(c);
        return;
    }
    if (r != NULL && !r->body_done) {
        c->state = ST_DISCARD;
        discard_more(c);
        return;
    }
    uint32_t left = c->rlen - c->rpos;
    iisd_arena_reset(&c->arena);
    c->req = NULL;
    if (c->close_after || c->hl->draining) {
        /* Linger only when the client may still be sending: closing a socket with
           unread input would reset the connection and could destroy our response. */
        if (left > 0 || c->maybe_more)
            conn_linger(c);
        else
            conn_close(c);
        return;
    }
    if (left > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, left);
        c->rlen = left;
        c->rpos = 0;
        c->state = ST_HEAD;
        iisd_timeout_set(&c->hl->header_tl, &c->tnode, c->hl->loop.now_ms);
    } else {
        c->rlen = c->rpos = 0;
        if (c->rbuf && !c->maybe_more) {
            rbuf_put(c->rbuf);
            c->rbuf = NULL;
        }
        c->state = c->maybe_more ? ST_HEAD : ST_IDLE;
        iisd_timeout_set(c->maybe_more ? &c->hl->header_tl : idle_list(c), &c->tnode, c->hl->loop.now_ms);
    }
}

/* Drops unread body bytes of the finished request, then goes on. */
static void discard_more(iisd_conn_t *c)
{
    char scratch[4096];
    uint64_t dropped = 0;
    for (;;) {
        ssize_t n = iisd_conn_read_body(c, scratch, sizeof(scratch), false);
        if (n == 0) {
            c->state = ST_NEXT;
            return;
        }
        if (n == -EAGAIN) {
            iisd_timeout_set(idle_list(c), &c->tnode, c->hl->loop.now_ms);
            return;
        }
        if (n < 0 || (dropped += (uint64_t)n) > (1u << 20)) {
            conn_close(c);
            return;
        }
    }
}

static void conn_io(iisd_io_t *io, uint32_t events)
{
    iisd_conn_t *c = (iisd_conn_t *)io;
    uint8_t st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if (st == ST_CLOSED)
        return;
    if (st == ST_ACTIVE) {
        /* the request owns the connection; look again when it is over */
        __atomic_or_fetch(&c->evflags, 1, __ATOMIC_RELAXED);
        return;
    }
    if (events & EPOLLIN)
        c->maybe_more = true;
    if ((events & (EPOLLERR | EPOLLHUP)) && st != ST_SENDING && st != ST_READWAIT) {
        conn_close(c);
        return;
    }
    conn_drive(c);
}

/* ---- writing ---------------------------------------------------------- */

static char *append_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* Trailers go out in the last chunk of a chunked response, to a client that asked for them (TE). */
static bool trailers_wanted(const iisd_req_t *r)
{
    const iisd_head_t *hd = &r->head;
    return r->resp.trailers.n > 0 && hd->known[IISD_H_TE].value != NULL &&
           iisd_te_accepts_trailers(hd->known[IISD_H_TE].value, hd->known[IISD_H_TE].len);
}

/* "0\r\n", the trailer fields, "\r\n": the end of a chunked body. */
static iisd_seg_t last_chunk(iisd_conn_t *c)
{
    iisd_req_t *r = c->req;
    if (!trailers_wanted(r))
        return (iisd_seg_t){.type = IISD_CHUNK_MEM, .p = "0\r\n\r\n", .len = 5};
    const iisd_hlist_t *t = &r->resp.trailers;
    size_t cap = 8;
    for (unsigned i = 0; i < t->n; i++)
        cap += t->v[i].name_len + t->v[i].value_len + 4;
    char *b = iisd_arena_alloc(&c->arena, cap), *p = b;
    p = append_str(p, "0\r\n", 3);
    for (unsigned i = 0; i < t->n; i++) {
        p = append_str(p, t->v[i].name, t->v[i].name_len);
        p = append_str(p, ": ", 2);
        p = append_str(p, t->v[i].value, t->v[i].value_len);
        p = append_str(p, "\r\n", 2);
    }
    p = append_str(p, "\r\n", 2);
    return (iisd_seg_t){.type = IISD_CHUNK_MEM, .p = b, .len = (uint64_t)(p - b)};
}

/* Serialises the status line and headers into the arena. */
static void build_head(iisd_conn_t *c, bool final, iisd_seg_t *seg)
{
    iisd_req_t *r = c->req;
    iisd_resp_t *resp = &r->resp;
    unsigned st = resp->status;
    bool no_body = (st >= 100 && st < 200) || st == 204 || st == 304;
    bool http10 = r->head.version_minor == 0;

    if (resp->need_disconnect)
        c->close_after = true;
    /* framing */
    uint16_t cl_len = resp->known[IISD_H_CONTENT_LENGTH].len;
    resp->known[IISD_H_TRANSFER_ENCODING].value = NULL;
    resp->known[IISD_H_TRANSFER_ENCODING].len = 0;
    /* a response with trailers for a client that takes them is chunked even when complete */
    bool trailers = !no_body && !http10 && !r->is_head && cl_len == 0 && trailers_wanted(r);
    if (trailers && resp->known[IISD_H_TRAILER].value == NULL) {
        size_t tl = 0;
        for (unsigned i = 0; i < resp->trailers.n; i++)
            tl += resp->trailers.v[i].name_len + 2;
        char *v = iisd_arena_alloc(&c->arena, tl + 1), *p = v;
        for (unsigned i = 0; i < resp->trailers.n; i++) {
            if (p != v)
                p = append_str(p, ", ", 2);
            p = append_str(p, resp->trailers.v[i].name, resp->trailers.v[i].name_len);
        }
        resp->known[IISD_H_TRAILER].value = v;
        resp->known[IISD_H_TRAILER].len = (uint16_t)(p - v);
    }
    if (no_body) {
        resp->known[IISD_H_CONTENT_LENGTH].value = NULL;
        cl_len = 0;
    } else if (final && !trailers) {
        /* the decimal by hand: snprintf was the largest single cost of a small response's head */
        char digits[24], *d = digits + sizeof(digits);
        unsigned long long bl = (unsigned long long)resp->body_len;
        do
            *--d = (char)('0' + bl % 10);
        while ((bl /= 10) != 0);
        int n = (int)(digits + sizeof(digits) - d);
        char *v = iisd_arena_alloc(&c->arena, (size_t)n + 1);
        memcpy(v, d, (size_t)n);
        v[n] = '\0';
        if (resp->known[IISD_H_CONTENT_LENGTH].value == NULL || !r->is_head) {
            resp->known[IISD_H_CONTENT_LENGTH].value = v;
            resp->known[IISD_H_CONTENT_LENGTH].len = (uint16_t)n;
        }
        resp->length_fixed = true;
    } else if (cl_len > 0) {
        resp->length_fixed = true;
    } else if (!http10) {
        resp->chunked_out = true;
        resp->known[IISD_H_TRANSFER_ENCODING].value = "chunked";
        resp->known[IISD_H_TRANSFER_ENCODING].len = 7;
    } else {
        resp->close_delimited = true;
        c->close_after = true;
    }
    if (__atomic_load_n(&c->hl->draining, __ATOMIC_RELAXED))
        c->close_after = true;
    /* Once a request body is left unread past what can be skipped cheaply,
       the connection cannot be reused. */
    if (!r->body_done &&
        (r->body_left < 0 || r->body_left > (1 << 20) || (r->head.expect_continue && !r->sent_continue)))
        c->close_after = true;

    const char *reason = resp->reason ? resp->reason : iisd_status_reason(st);
    size_t reason_len = resp->reason ? resp->reason_len : strlen(reason);
    const char *server = c->hl->cfg->server_header;
    size_t cap = 64 + reason_len + 64 + (server ? strlen(server) + 16 : 0);
    for (int i = 0; i < IISD_HDR_RESP_KNOWN; i++)
        if (resp->known[i].value)
            cap += iisd_resp_hdr_name_lens[i] + resp->known[i].len + 4;
    for (int i = 0; i < resp->unknown_count; i++)
        cap += resp->unknown[i].name_len + resp->unknown[i].value_len + 4;
    cap += 32; /* Connection */

    char *buf = iisd_arena_alloc(&c->arena, cap), *p = buf;
    p = append_str(p, "HTTP/1.1 ", 9);
    *p++ = (char)('0' + st / 100 % 10);
    *p++ = (char)('0' + st / 10 % 10);
    *p++ = (char)('0' + st % 10);
    *p++ = ' ';
    p = append_str(p, reason, reason_len);
    p = append_str(p, "\r\n", 2);
    for (int i = 0; i < IISD_HDR_RESP_KNOWN; i++) {
        if (resp->known[i].value == NULL || i == IISD_H_CONNECTION || i == IISD_H_DATE || i == IISD_RH_SERVER)
            continue;
        p = append_str(p, iisd_resp_hdr_names[i], iisd_resp_hdr_name_lens[i]);
        *p++ = ':';
        *p++ = ' ';
        p = append_str(p, resp->known[i].value, resp->known[i].len);
        p = append_str(p, "\r\n", 2);
    }
    for (int i = 0; i < resp->unknown_count; i++) {
        p = append_str(p, resp->unknown[i].name, resp->unknown[i].name_len);
        *p++ = ':';
        *p++ = ' ';
        p = append_str(p, resp->unknown[i].value, resp->unknown[i].value_len);
        p = append_str(p, "\r\n", 2);
    }
    if (resp->known[IISD_RH_SERVER].value) {
        p = append_str(p, "Server: ", 8);
        p = append_str(p, resp->known[IISD_RH_SERVER].value, resp->known[IISD_RH_SERVER].len);
        p = append_str(p, "\r\n", 2);
    } else if (server && !resp->no_server_header) {
        p = append_str(p, "Server: ", 8);
        p = append_str(p, server, strlen(server));
        p = append_str(p, "\r\n", 2);
    }
    p = append_str(p, "Date: ", 6);
    p = append_str(p, iisd_http_date(), 29);
    p = append_str(p, "\r\n", 2);
    if (c->close_after)
        p = append_str(p, "Connection: close\r\n", 19);
    else if (http10)
        p = append_str(p, "Connection: keep-alive\r\n", 24);
    p = append_str(p, "\r\n", 2);
    seg->type = IISD_CHUNK_MEM;
    seg->p = buf;
    seg->len = (uint64_t)(p - buf);
    seg->off = 0;
}

/* maxBandwidth: how many of `want` bytes may go out now (0: wait c->throttle_wait ms). */
static size_t throttle(iisd_conn_t *c, size_t want)
{
    if (c->gate == NULL || c->limits.max_bandwidth == IISD_UNLIMITED)
        return want;
    uint32_t wait = 0;
    size_t got = iisd_site_gate_take(c->gate, c->limits.max_bandwidth, want, iisd_now_ms(), &wait);
    c->throttle_wait = wait;
    return got;
}

/* Writes out->segs from out->i on. 0 = all written, 1 = would block, 2 = over maxBandwidth
   for now (retry in c->throttle_wait ms), -errno. */
static int out_write(iisd_conn_t *c, struct iisd_out *out)
{
    while (out->i < out->n) {
        iisd_seg_t *s = &out->segs[out->i];
        if (s->len == out->done) {
            out->i++;
            out->done = 0;
            continue;
        }
        if (s->type == IISD_CHUNK_FILE) {
            if (out->fin && !c->corked) {
                /* hold the tail back: it leaves with the FIN of the shutdown below */
                int one = 1;
                setsockopt(c->io.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
                c->corked = true;
            }
            off_t off = (off_t)(s->off + out->done);
            size_t want = s->len - out->done;
            if (want > (1u << 30))
                want = 1u << 30;
            if ((want = throttle(c, want)) == 0)
                return 2;
            ssize_t n = sendfile(c->io.fd, s->fd, &off, want);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return errno == EAGAIN ? 1 : -errno;
            }
            if (n == 0)
                return -EIO; /* file shrank */
            out->done += (uint64_t)n;
            c->req->bytes_sent += (uint64_t)n;
            continue;
        }
        struct iovec iov[64];
        int cnt = 0;
        for (uint32_t j = out->i; j < out->n && cnt < 64 && out->segs[j].type == IISD_CHUNK_MEM; j++) {
            uint64_t skip = j == out->i ? out->done : 0;
            iov[cnt].iov_base = (char *)out->segs[j].p + skip;
            iov[cnt].iov_len = out->segs[j].len - skip;
            cnt++;
        }
        bool more = out->i + (uint32_t)cnt < out->n || out->fin;
        if (c->gate != NULL && c->limits.max_bandwidth != IISD_UNLIMITED) {
            size_t total = 0;
            for (int j = 0; j < cnt; j++)
                total += iov[j].iov_len;
            size_t allow = throttle(c, total);
            if (allow == 0)
                return 2;
            if (allow < total) {
                int j = 0;
                for (size_t sum = 0; j < cnt; j++) {
                    if (sum + iov[j].iov_len >= allow) {
                        iov[j].iov_len = allow - sum;
                        break;
                    }
                    sum += iov[j].iov_len;
                }
                cnt = j + 1;
                more = true;
            }
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 1 : -errno;
        }
        c->req->bytes_sent += (uint64_t)n;
        uint64_t left = (uint64_t)n;
        while (left > 0) {
            iisd_seg_t *t = &out->segs[out->i];
            uint64_t avail = t->len - out->done;
            if (left >= avail) {
                left -= avail;
                out->i++;
                out->done = 0;
            } else {
                out->done += left;
                left = 0;
            }
        }
    }
    if (out->fin && !c->wr_shut) {
        /* the last response is out: the held tail and the FIN leave as one segment, and the
           lingering close (RFC 9112 §9.6) has begun */
        shutdown(c->io.fd, SHUT_WR);
        c->wr_shut = true;
    }
    return 0;
}

static int wait_writable(iisd_conn_t *c)
{
    struct pollfd pfd = {.fd = c->io.fd, .events = POLLOUT};
    const iisd_http_cfg_t *cfg = c->hl->cfg;
    uint64_t start = iisd_now_ms();
    if (c->slow_since_ms == 0) {
        c->slow_since_ms = start;
        c->slow_mark = c->req->bytes_sent;
    }
    int rc;
    for (;;) {
        /* with minBytesPerSecond, look at the rate every second */
        uint64_t now = iisd_now_ms(), spent = now - start;
        if (spent >= idle_ms(c))
            return -ETIMEDOUT;
        uint64_t slice = idle_ms(c) - spent;
        if (cfg->min_send_rate && slice > 1000)
            slice = 1000;
        rc = poll(&pfd, 1, (int)slice);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc != 0)
            break;
        if (too_slow(c, iisd_now_ms()))
            return -ETIMEDOUT;
    }
    if (rc < 0)
        return -errno;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
        return -ECONNRESET;
    return 0;
}

static int conn_send(iisd_conn_t *c, bool final, bool wait)
{
    iisd_req_t *r = c->req;
    iisd_resp_t *resp = &r->resp;
    if (r->answered) {
        /* the connection answered for the request (a bad body): drop what the handler sends */
        resp->headers_sent = true;
        iisd_resp_clear_body(resp);
        return 0;
    }
    uint32_t nseg = 0, cap = 2 + resp->nchunks * 3 + 1;
    iisd_seg_t *segs = iisd_arena_alloc(&c->arena, cap * sizeof(*segs));
    bool send_head = !resp->headers_sent && !resp->suppress_headers;
    if (!resp->headers_sent) {
        iisd_seg_t hseg;
        build_head(c, final, &hseg);
        if (send_head)
            segs[nseg++] = hseg;
        resp->headers_sent = true;
    }
    bool body_allowed = !r->is_head && !(resp->status >= 100 && resp->status < 200) && resp->status != 204 &&
                        resp->status != 304;
    for (iisd_chunk_t *ch = resp->first; ch != NULL && body_allowed; ch = ch->next) {
        if (ch->len == 0)
            continue;
        if (resp->chunked_out) {
            char *f = iisd_arena_alloc(&c->arena, 20);
            int n = snprintf(f, 20, "%llx\r\n", (unsigned long long)ch->len);
            segs[nseg++] = (iisd_seg_t){.type = IISD_CHUNK_MEM, .p = f, .len = (uint64_t)n};
        }
        segs[nseg++] =
            (iisd_seg_t){.type = ch->type, .fd = ch->fd, .p = ch->data, .off = ch->off, .len = ch->len};
        if (resp->chunked_out)
            segs[nseg++] = (iisd_seg_t){.type = IISD_CHUNK_MEM, .p = "\r\n", .len = 2};
        resp->body_sent += ch->len;
    }
    if (final && resp->chunked_out && body_allowed)
        segs[nseg++] = last_chunk(c);
    iisd_resp_clear_body(resp);

    struct iisd_out *out = iisd_arena_alloc(&c->arena, sizeof(*out));
    /* the last response of a connection whose request is all read: nothing more goes out or comes in
       for it, so the write side shuts as soon as it is written */
    *out = (struct iisd_out){.segs = segs, .n = nseg, .fin = final && c->close_after && r->body_done};
    r->out = out;
    for (;;) {
        int rc = out_write(c, out);
        if (rc == 0) {
            r->out = NULL;
            c->slow_since_ms = 0; /* the rate is measured while a send waits, not between sends */
            return 0;
        }
        if (rc < 0) {
            r->send_failed = true;
            c->close_after = true;
            r->out = NULL;
            return rc;
        }
        if (rc == 2)
            c->slow_since_ms = 0; /* waiting for bandwidth is not the client's doing */
        if (!wait) {
            c->throttled = rc == 2;
            return 1; /* the loop finishes it: see ST_SENDING */
        }
        if (rc == 2) {
            poll(NULL, 0, (int)c->throttle_wait); /* this thread waits anyway: sleep out the budget */
            continue;
        }
        rc = wait_writable(c);
        if (rc < 0) {
            r->send_failed = true;
            c->close_after = true;
            r->out = NULL;
            return rc;
        }
    }
}

int iisd_conn_send(iisd_conn_t *c, bool final)
{
    return conn_send(c, final, !final);
}

int iisd_conn_send_nowait(iisd_conn_t *c)
{
    return conn_send(c, false, false);
}

int iisd_conn_finish_send(iisd_conn_t *c)
{
    iisd_req_t *r = c->req;
    while (r->out != NULL) {
        int rc = out_write(c, r->out);
        if (rc == 1)
            rc = wait_writable(c);
        else
            r->out = NULL;
        if (rc < 0) {
            r->send_failed = true;
            c->close_after = true;
            r->out = NULL;
            return rc;
        }
    }
    return 0;
}

/* ---- request bodies --------------------------------------------------- */

static int wait_readable(iisd_conn_t *c)
{
    struct pollfd pfd = {.fd = c->io.fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&pfd, 1, (int)idle_ms(c));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return -ETIMEDOUT;
    return rc < 0 ? -errno : 0;
}

/* Makes room in rbuf for more body input: body bytes start after the head,
   which must stay where it is (header values point into it). */
static void compact_body(iisd_conn_t *c, uint32_t keep_from)
{
    uint32_t base = c->req->head.head_len;
    if (keep_from > base) {
        memmove(c->rbuf + base, c->rbuf + keep_from, c->rlen - keep_from);
        c->rlen -= keep_from - base;
        c->rpos = base;
    }
}

static ssize_t fill(iisd_conn_t *c, bool wait)
{
    for (;;) {
        ssize_t n = conn_read(c);
        if (n > 0)
            return n;
        if (n == 0)
            return -ECONNRESET;
        if (n != -EAGAIN || !wait)
            return n;
        int rc = wait_readable(c);
        if (rc < 0)
            return rc;
    }
}

/*
 * The request body cannot be read on: framing that is not chunked (-EPROTO)
 * or more than maxAllowedContentLength (-EFBIG). As long as no response has
 * started, the connection answers 400 or 413 itself, before the handler
 * could send anything else; the connection is closed after the request.
 */
static ssize_t body_failed(iisd_conn_t *c, ssize_t err)
{
    iisd_req_t *r = c->req;
    c->close_after = true;
    r->body_err = (uint8_t)-err; /* and so on every later read */
    if ((err == -EPROTO || err == -EFBIG) && !r->resp.headers_sent && !r->answered && r->out == NULL) {
        if (err == -EPROTO)
            write_error_page(c, 400, 0, "malformed chunked request body", NULL);
        else
            write_error_page(c, 413, 0, "request body larger than maxAllowedContentLength", NULL);
        r->answered = true;
        r->resp.headers_sent = true;
    }
    return err;
}

static ssize_t read_body(iisd_conn_t *c, void *buf, size_t cap, bool wait);

ssize_t iisd_conn_read_body(iisd_conn_t *c, void *buf, size_t cap, bool wait)
{
    if (c->req->body_err)
        return -(ssize_t)c->req->body_err;
    ssize_t n = read_body(c, buf, cap, wait);
    if (n == -EPROTO || n == -EFBIG)
        return body_failed(c, n);
    return n;
}

static ssize_t read_body(iisd_conn_t *c, void *buf, size_t cap, bool wait)
{
    iisd_req_t *r = c->req;
    if (r->body_done && r->dec_len == 0)
        return 0;
    if (r->head.expect_continue && !r->sent_continue && c->rlen == c->rpos) {
        r->sent_continue = true;
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (write_all_nb(c->io.fd, cont, sizeof(cont) - 1) < 0)
            return -ECONNRESET;
    }
    if (!r->head.chunked) {
        for (;;) {
            uint32_t avail = c->rlen - c->rpos;
            if (avail > 0) {
                size_t n = avail;
                if ((int64_t)n > r->body_left)
                    n = (size_t)r->body_left;
                if (n > cap)
                    n = cap;
                memcpy(buf, c->rbuf + c->rpos, n);
                c->rpos += (uint32_t)n;
                r->body_left -= (int64_t)n;
                r->body_received += n;
                if (r->body_left == 0)
                    r->body_done = true;
                return (ssize_t)n;
            }
            compact_body(c, c->rpos);
            ssize_t rc = fill(c, wait);
            if (rc < 0)
                return rc;
        }
    }
    for (;;) {
        if (r->dec_len > 0) {
            size_t n = r->dec_len < cap ? r->dec_len : cap;
            memcpy(buf, c->rbuf + c->rpos, n);
            c->rpos += (uint32_t)n;
            r->dec_len -= (uint32_t)n;
            r->body_received += n;
            if (r->dec_len == 0)
                c->rpos = r->enc_off;
            if (r->body_received > c->hl->cfg->max_body)
                return -EFBIG;
            return (ssize_t)n;
        }
        if (r->body_done)
            return 0;
        /* decode what is buffered */
        size_t len = c->rlen - c->rpos, consumed = 0;
        if (len > 0) {
            int rc = iisd_chunked_decode(&r->chunked, c->rbuf + c->rpos, &len, &consumed);
            if (rc < 0)
                return -EPROTO;
            /* a chunk announcing more than the limit fails now, not once it has been read */
            if (r->body_received + len + r->chunked.remaining > c->hl->cfg->max_body)
                return -EFBIG;
            r->enc_off = c->rpos + (uint32_t)consumed;
            r->dec_len = (uint32_t)len;
            if (rc == 1)
                r->body_done = true;
            if (len > 0 || rc == 1) {
                if (len == 0)
                    c->rpos = r->enc_off;
                continue;
            }
            c->rpos = r->enc_off;
        }
        compact_body(c, c->rpos);
        r->enc_off = c->rpos;
        ssize_t rc = fill(c, wait);
        if (rc == -ENOBUFS)
            return -EPROTO; /* a chunk-size line longer than the buffer */
        if (rc < 0)
            return rc;
    }
}

uint64_t iisd_conn_body_remaining(const iisd_conn_t *c)
{
    const iisd_req_t *r = c->req;
    if (r->body_done)
        return r->dec_len;
    if (r->head.chunked)
        return (uint64_t)r->dec_len + 1; /* unknown: at least something */
    return (uint64_t)r->body_left;
}

/* ---- driving ---------------------------------------------------------- */

void iisd_conn_request_done(iisd_conn_t *c)
{
    c->app = NULL;
    c->state = ST_NEXT;
}

void iisd_conn_resume(iisd_conn_t *c)
{
    conn_drive(c);
}

static void post_task(iisd_task_t *t)
{
    iisd_conn_t *c = IISD_CONTAINER_OF(t, iisd_conn_t, task);
    if (c->state == ST_CLOSED) /* closed meanwhile (a send timeout): its memory is freed after this */
        return;
    if (!c->armed)
        c->maybe_more = true; /* no event could tell while the request was away from the loop */
    iisd_hloop_t *hl = c->hl; /* read before: c is not ours to read once the loop is lost */
    c->post_fn(c);
    if (iisd_loop_owned(&hl->loop) && !c->armed && c->state != ST_CLOSED)
        conn_arm(c);
}

void iisd_conn_post(iisd_conn_t *c, void (*fn)(iisd_conn_t *c))
{
    c->post_fn = fn;
    c->task.fn = post_task;
    iisd_loop_post(&c->hl->loop, &c->task);
}

/* Runs the connection as far as it goes. */
static void drive(iisd_conn_t *c)
{
    iisd_hloop_t *hl = c->hl;
    for (;;) {
        switch (c->state) {
        case ST_IDLE:
        case ST_HEAD: {
            if (c->req == NULL && c->rlen > 0)
                start_request(c);
            if (c->req != NULL) {
                bool stop = false;
                if (head_ready(c, &stop)) {
                    iisd_timeout_clear(&c->tnode);
                    c->state = ST_ACTIVE;
                    c->evflags = 0;
                    c->nreq++;
                    c->req->start_ms = hl->loop.now_ms;
                    if (hl->handler->on_request(c) == IISD_YIELD)
                        return; /* c may belong to another thread now */
                    continue;
                }
                if (stop)
                    return;
            }
            if (!c->maybe_more && c->rlen == 0)
                return;
            ssize_t n = conn_read(c);
            if (n > 0) {
                if (c->state == ST_IDLE) {
                    c->state = ST_HEAD;
                    iisd_timeout_set(&hl->header_tl, &c->tnode, hl->loop.now_ms);
                }
                start_request(c);
                continue;
            }
            if (n == 0) { /* peer closed */
                conn_close(c);
                return;
            }
            if (n == -ENOBUFS) {
                iisd_conn_reject(c, 431, "request head larger than the receive buffer");
                return;
            }
            if (n != -EAGAIN) {
                conn_close(c);
                return;
            }
            if (c->rlen == 0 && c->rbuf) {
                rbuf_put(c->rbuf);
                c->rbuf = NULL;
                iisd_arena_reset(&c->arena);
                c->req = NULL;
            }
            if (c->rlen == 0 && c->state == ST_HEAD && c->nreq > 0) {
                /* nothing came after all (the event was not input): idle between requests */
                c->state = ST_IDLE;
                iisd_timeout_set(idle_list(c), &c->tnode, hl->loop.now_ms);
            }
            return;
        }
        case ST_ACTIVE:
            return;
        case ST_READWAIT:
            iisd_timeout_clear(&c->tnode);
            c->state = ST_ACTIVE;
            if (hl->handler->on_readable(c, false) == IISD_YIELD)
                return;
            continue;
        case ST_SENDING: {
            c->throttled = false;
            int rc = c->send_abort ? -ETIMEDOUT : out_write(c, c->req->out);
            if (rc == 1) {
                send_wait_timer(c);
                return;
            }
            if (rc == 2) {
                c->throttled = true;
                c->slow_since_ms = 0; /* waiting for bandwidth is not the client's doing */
                iisd_timeout_set(&hl->throttle_tl, &c->tnode, hl->loop.now_ms);
                return;
            }
            c->send_abort = false;
            c->slow_since_ms = 0;
            iisd_timeout_clear(&c->tnode);
            if (rc < 0) {
                c->req->send_failed = true;
                c->close_after = true;
            }
            c->req->out = NULL;
            c->state = ST_ACTIVE;
            if (hl->handler->on_sent(c) == IISD_YIELD)
                return;
            continue;
        }
        case ST_NEXT:
            if (__atomic_exchange_n(&c->evflags, 0, __ATOMIC_RELAXED))
                c->maybe_more = true;
            next_request(c);
            continue;
        case ST_DISCARD:
            discard_more(c);
            if (c->state == ST_DISCARD)
                return;
            continue;
        case ST_LINGER: {
            char scratch[4096];
            for (;;) {
                ssize_t n = recv(c->io.fd, scratch, sizeof(scratch), 0);
                if (n > 0)
                    continue;
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && errno == EAGAIN)
                    return;
                conn_close(c);
                return;
            }
        }
        case ST_CLOSED:
        default:
            return;
        }
    }
}

/* Drives the connection; a connection left waiting goes into the epoll set (its first wait). */
static void conn_drive(iisd_conn_t *c)
{
    iisd_hloop_t *hl = c->hl;
    drive(c);
    if (!iisd_loop_owned(&hl->loop))
        return; /* taken over while a module ran: c may be closed, freed or reused by the new owner */
    if (!c->armed && c->state != ST_CLOSED)
        conn_arm(c);
}

void iisd_conn_wait_send(iisd_conn_t *c)
{
    c->state = ST_SENDING;
    if (!c->armed)
        conn_arm(c);
    if (c->throttled) /* over maxBandwidth: no socket event will come, a timer resumes the send */
        iisd_timeout_set(&c->hl->throttle_tl, &c->tnode, c->hl->loop.now_ms);
    else /* the socket may never become writable again (a client that does not read): time it out */
        send_wait_timer(c);
}

void iisd_conn_wait_read(iisd_conn_t *c)
{
    c->state = ST_READWAIT;
    if (!c->armed)
        conn_arm(c);
    iisd_timeout_set(&c->hl->idle_tl, &c->tnode, c->hl->loop.now_ms);
}

int iisd_conn_cancel_wait(iisd_conn_t *c)
{
    if (c->state == ST_READWAIT) {
        iisd_timeout_clear(&c->tnode);
        c->state = ST_ACTIVE;
        return 1;
    }
    if (c->state == ST_SENDING) {
        c->send_abort = true;
        conn_drive(c);
        return 2;
    }
    return 0;
}

void iisd_conn_drop_send(iisd_conn_t *c)
{
    if (c->req->out == NULL)
        return;
    c->req->out = NULL;
    c->req->send_failed = true;
    c->close_after = true;
}
