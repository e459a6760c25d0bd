/*
 * Requests without a client connection: IGlobalApplicationPreloadProvider::CreateContext and
 * ExecuteRequest, the application's warm-up requests.
 *
 * Such a request is a complete request context of its own, made from its own arena, like a
 * child request, but with no parent: it stands on a connection object that has no socket
 * (its addresses are the loopback address and the port of the site's first binding, it is
 * always "connected", and it has nothing to read), and what its sends produce goes to memory
 * instead of a socket. ExecuteRequest runs its whole pipeline on the calling thread (the one
 * raising GL_APPLICATION_PRELOAD), waiting there for a module that returns
 * RQ_NOTIFICATION_PENDING, as a child request does. When it returns, the response's status and
 * headers are as the last RQ_SEND_RESPONSE left them and its body is one memory chunk holding
 * every byte the request sent, for the module to read (GetRawHttpResponse) until the context is
 * released: by ReleaseClonedContext, or when the notification returns.
 */
#include "core/log.h"
#include "core/mem.h"
#include "net/loop.h"
#include "pipeline/hctx.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct iisd_warmup {
    struct iisd_warmup *next;
    struct iisd_warmup **list; /* the provider's list, while the notification runs */
    iisd_arena_t arena;        /* everything of the request, its context included */
    iisd_conn_t conn;          /* no socket */
    iisd_hctx_t *h;
    char *out; /* the memory sink: the body bytes the request sent */
    size_t out_len, out_cap;
} iisd_warmup_t;

/* The request target of a URL path: bytes other than a path's own characters percent-encoded. */
static size_t encode_path(char *out, size_t cap, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~!$&'()*+,;=:@", *p) != NULL) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return n;
}

/* The site's first http binding: the connection's local port and the request's Host. */
static const iisd_binding_t *first_binding(const iisd_sitedef_t *site)
{
    for (unsigned i = 0; i < site->nbindings; i++)
        if (strcasecmp(site->bindings[i].protocol, "http") == 0)
            return &site->bindings[i];
    return site->nbindings > 0 ? &site->bindings[0] : NULL;
}

static void set_loopback(struct sockaddr_in6 *sa, uint16_t port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(sa, 0, sizeof(*sa));
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void warmup_free(iisd_warmup_t *rec)
{
    iisd_hctx_t *h = rec->h;
    if (h->children != NULL)
        iisd_child_release_all(h);
    iisd_child_drop_unrun(h);
    if (rec->conn.close_fn != NULL)
        rec->conn.close_fn(&rec->conn); /* IHttpConnection's module contexts */
    iisd_arena_reset(&rec->arena);
    free(rec->out);
    free(rec);
}

HRESULT iisd_warmup_create(iisd_conf_t *conf, const iisd_sitedef_t *site, const iisd_app_t *app,
                           const iisd_plan_t *plan, struct iisd_warmup **list, IHttpContext **out)
{
    const iisd_binding_t *b = first_binding(site);
    uint16_t port = b ? b->port : 80;
    char target[1024], host[300];
    encode_path(target, sizeof(target), app->path);
    if (b != NULL && b->host[0] != '\0')
        snprintf(host, sizeof(host), "%s", b->host);
    else
        snprintf(host, sizeof(host), "localhost");
    if (port != 80) {
        size_t n = strlen(host);
        snprintf(host + n, sizeof(host) - n, ":%u", (unsigned)port);
    }

    iisd_warmup_t *rec = iisd_xcalloc(1, sizeof(*rec));
    iisd_arena_init(&rec->arena);
    iisd_arena_t *a = &rec->arena;
    rec->conn.io.fd = -1;
    set_loopback(&rec->conn.local, port);
    set_loopback(&rec->conn.remote, 0);

    /* the request head, as a client would have sent it */
    iisd_req_t *rq = iisd_arena_calloc(a, sizeof(*rq));
    size_t cap = strlen(target) + strlen(host) + 64;
    char *text = iisd_arena_alloc(a, cap);
    int tlen = snprintf(text, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, host);
    static const iisd_parse_limits_t lim = {.max_request_line = 8192, .max_head = 16384, .max_field = 8192};
    rq->head.unknown = rq->unknown_store;
    rq->head.unknown_cap = IISD_MAX_UNKNOWN_HEADERS;
    iisd_parser_init(&rq->parser);
    char *url = iisd_arena_alloc(a, strlen(app->path) + 2);
    int ulen = -1;
    if (iisd_parse_head(&rq->parser, text, (size_t)tlen, &rq->head, &lim, a) > 0)
        ulen = iisd_url_normalize(rq->head.path, rq->head.path_len, url, NULL);
    if (ulen < 0) {
        iisd_log(IISD_LOG_WARN, "cannot make a warm-up request for application %s", app->path);
        iisd_arena_reset(a);
        free(rec);
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    }
    iisd_resp_init(&rq->resp);
    rq->start_ms = iisd_now_ms();
    rq->body_done = true;

    iisd_hctx_t *h = iisd_hctx_alloc(a, plan->nmodules);
    h->c = &rec->conn;
    h->rq = rq;
    h->arena = a;
    h->plan = plan;
    h->conf = conf;
    h->sitedef = site;
    h->appdef = app;
    h->url = url;
    h->url_len = (size_t)ulen;
    h->query = "";
    h->no_entity = true;
    h->warmup = rec;
    iisd_hctx_bind(h);
    iisd_hctx_resolve(h); /* the configuration path and the rest, for the module to read before it runs */

    rec->h = h;
    rec->list = list;
    rec->next = *list;
    *list = rec;
    *out = (IHttpContext *)&h->ctx;
    return S_OK;
}

static void sink_put(iisd_warmup_t *rec, const void *p, size_t n)
{
    if (rec->out_len + n > rec->out_cap) {
        size_t cap = rec->out_cap ? rec->out_cap : 4096;
        while (cap < rec->out_len + n)
            cap *= 2;
        rec->out = iisd_xrealloc(rec->out, cap);
        rec->out_cap = cap;
    }
    memcpy(rec->out + rec->out_len, p, n);
    rec->out_len += n;
}

/* What a file chunk holds, read into the sink. */
static void sink_file(iisd_hctx_t *h, const iisd_chunk_t *ch)
{
    char buf[16384];
    uint64_t off = ch->off, left = ch->len;
    while (left > 0) {
        ssize_t n = pread(ch->fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), (off_t)off);
        if (n <= 0) {
            iisd_log(IISD_LOG_WARN, "warm-up request %.*s: a file of its response could not be read",
                     (int)h->url_len, h->url);
            return;
        }
        sink_put(h->warmup, buf, (size_t)n);
        off += (uint64_t)n;
        left -= (uint64_t)n;
    }
}

int iisd_warmup_send(iisd_hctx_t *h, bool final)
{
    iisd_resp_t *r = &h->rq->resp;
    h->send_final = final;
    h->send_headers = !r->headers_sent && !r->suppress_headers;
    h->send_flags = final ? 0 : HTTP_SEND_RESPONSE_FLAG_MORE_DATA;
    iisd_hctx_notify(h, &h->plan->send, RQ_SEND_RESPONSE, (IHttpEventProvider *)&h->srp);
    uint64_t before = h->warmup->out_len;
    if (!h->rq->is_head)
        for (const iisd_chunk_t *ch = r->first; ch != NULL; ch = ch->next) {
            if (ch->len == 0)
                continue;
            if (ch->type == IISD_CHUNK_MEM)
                sink_put(h->warmup, ch->data, ch->len);
            else
                sink_file(h, ch);
        }
    h->rq->bytes_sent += h->warmup->out_len - before;
    r->headers_sent = true;
    r->body_sent += r->body_len;
    iisd_resp_clear_body(r);
    return 0;
}

HRESULT iisd_warmup_execute(struct iisd_warmup *list, IHttpContext *ctx, IHttpUser *user)
{
    if (ctx == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    iisd_warmup_t *rec = list;
    while (rec != NULL && (IHttpContext *)&rec->h->ctx != ctx)
        rec = rec->next;
    if (rec == NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED); /* not made by this provider */
    iisd_hctx_t *h = rec->h;
    if (h->executed)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED); /* each context runs once */
    h->executed = true;
    h->rq->start_ms = iisd_now_ms();
    if (user != NULL) {
        user->lpVtbl->ReferenceUser(user);
        h->user = user;
        h->skip_auth = true;
    }
    if (iisd_hctx_resolve(h) == 0) {
        iisd_hctx_run_inline(h);
    } else {
        iisd_hctx_send(h, true);
        h->phase = PH_DONE;
    }
    /* what went to memory is the response's body again, for the module to read */
    if (rec->out_len > 0) {
        iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
        ch->type = IISD_CHUNK_MEM;
        ch->data = rec->out;
        ch->len = rec->out_len;
        iisd_resp_append(&h->rq->resp, ch);
    }
    if (h->raw)
        iisd_raw_export(h);
    return S_OK;
}

static void unlink_rec(iisd_warmup_t *rec)
{
    for (iisd_warmup_t **pp = rec->list; *pp != NULL; pp = &(*pp)->next)
        if (*pp == rec) {
            *pp = rec->next;
            return;
        }
}

HRESULT iisd_warmup_release(iisd_hctx_t *h)
{
    if (h->children != NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* its own clones go first */
    if (h->executed && h->phase != PH_DONE)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* still running */
    iisd_warmup_t *rec = h->warmup;
    unlink_rec(rec);
    warmup_free(rec);
    return S_OK;
}

void iisd_warmup_release_all(struct iisd_warmup **list)
{
    while (*list != NULL) {
        iisd_warmup_t *rec = *list;
        *list = rec->next;
        warmup_free(rec);
    }
}
