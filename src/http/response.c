#include "http/response.h"
#include "core/str.h"
#include <string.h>

void iisd_resp_init(iisd_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    r->buffering = true;
}

void iisd_resp_clear_headers(iisd_resp_t *r)
{
    memset(r->known, 0, sizeof(r->known));
    r->unknown_count = 0;
}

void iisd_resp_clear_body(iisd_resp_t *r)
{
    r->first = r->last = NULL;
    r->nchunks = 0;
    r->body_len = 0;
}

void iisd_resp_clear(iisd_resp_t *r)
{
    iisd_resp_clear_headers(r);
    iisd_resp_clear_body(r);
    r->status = 200;
    r->substatus = 0;
    r->reason = NULL;
    r->reason_len = 0;
    r->error_hr = 0;
    r->trailers.n = 0;
}

static char *join(iisd_arena_t *a, const char *old, size_t olen, const char *v, size_t n, size_t *outlen)
{
    char *p = iisd_arena_alloc(a, olen + 2 + n + 1);
    memcpy(p, old, olen);
    p[olen] = ',';
    p[olen + 1] = ' ';
    memcpy(p + olen + 2, v, n);
    p[olen + 2 + n] = '\0';
    *outlen = olen + 2 + n;
    return p;
}

void iisd_resp_set_known(iisd_resp_t *r, iisd_arena_t *a, int id, const char *v, size_t n, bool replace)
{
    if (n > 0xffff)
        n = 0xffff;
    if (!replace && r->known[id].value != NULL) {
        size_t len;
        r->known[id].value = join(a, r->known[id].value, r->known[id].len, v, n, &len);
        r->known[id].len = (uint16_t)(len > 0xffff ? 0xffff : len);
        return;
    }
    r->known[id].value = iisd_arena_strndup(a, v, n);
    r->known[id].len = (uint16_t)n;
}

/* Sets (replace) or appends to (join with ", ") the field `name` of a header array. */
static void fields_set(iisd_hfield_t **fv, uint16_t *fn, uint16_t *fcap, uint16_t first_cap, iisd_arena_t *a,
                       const char *name, size_t nlen, const char *v, size_t n, bool replace)
{
    if (n > 0xffff)
        n = 0xffff;
    for (int i = 0; i < *fn; i++) {
        iisd_hfield_t *f = &(*fv)[i];
        if (!iisd_strcaseeq(f->name, f->name_len, name, nlen))
            continue;
        if (replace) {
            f->value = iisd_arena_strndup(a, v, n);
            f->value_len = (uint16_t)n;
        } else {
            size_t len;
            f->value = join(a, f->value, f->value_len, v, n, &len);
            f->value_len = (uint16_t)(len > 0xffff ? 0xffff : len);
        }
        return;
    }
    if (*fn == *fcap) {
        uint16_t cap = *fcap ? (uint16_t)(*fcap * 2) : first_cap;
        iisd_hfield_t *nv = iisd_arena_alloc(a, cap * sizeof(*nv));
        if (*fn)
            memcpy(nv, *fv, *fn * sizeof(*nv));
        *fv = nv;
        *fcap = cap;
    }
    iisd_hfield_t *f = &(*fv)[(*fn)++];
    f->name = iisd_arena_strndup(a, name, nlen);
    f->name_len = (uint16_t)nlen;
    f->value = iisd_arena_strndup(a, v, n);
    f->value_len = (uint16_t)n;
}

static int find_unknown(const iisd_resp_t *r, const char *name, size_t nlen)
{
    for (int i = 0; i < r->unknown_count; i++)
        if (iisd_strcaseeq(r->unknown[i].name, r->unknown[i].name_len, name, nlen))
            return i;
    return -1;
}

int iisd_resp_set_named(iisd_resp_t *r, iisd_arena_t *a, const char *name, size_t nlen, const char *v,
                        size_t n, bool replace)
{
    int id = iisd_resp_hdr_lookup(name, nlen);
    if (id >= 0) {
        iisd_resp_set_known(r, a, id, v, n, replace);
        return 0;
    }
    fields_set(&r->unknown, &r->unknown_count, &r->unknown_cap, 8, a, name, nlen, v, n, replace);
    return 0;
}

void iisd_resp_delete_known(iisd_resp_t *r, int id)
{
    r->known[id].value = NULL;
    r->known[id].len = 0;
    if (id == IISD_RH_SERVER)
        r->no_server_header = true;
}

void iisd_resp_delete_named(iisd_resp_t *r, const char *name, size_t nlen)
{
    int id = iisd_resp_hdr_lookup(name, nlen);
    if (id >= 0) {
        iisd_resp_delete_known(r, id);
        return;
    }
    int i = find_unknown(r, name, nlen);
    if (i >= 0) {
        memmove(&r->unknown[i], &r->unknown[i + 1],
                (size_t)(r->unknown_count - i - 1) * sizeof(r->unknown[0]));
        r->unknown_count--;
    }
}

const char *iisd_resp_get_named(const iisd_resp_t *r, const char *name, size_t nlen, uint16_t *len)
{
    int id = iisd_resp_hdr_lookup(name, nlen);
    if (id >= 0) {
        if (len)
            *len = r->known[id].len;
        return r->known[id].value;
    }
    int i = find_unknown(r, name, nlen);
    if (i < 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->unknown[i].value_len;
    return r->unknown[i].value;
}

static int hlist_find(const iisd_hlist_t *l, const char *name, size_t nlen)
{
    for (int i = 0; i < l->n; i++)
        if (iisd_strcaseeq(l->v[i].name, l->v[i].name_len, name, nlen))
            return i;
    return -1;
}

void iisd_hlist_set(iisd_hlist_t *l, iisd_arena_t *a, const char *name, size_t nlen, const char *v, size_t n,
                    bool replace)
{
    fields_set(&l->v, &l->n, &l->cap, 4, a, name, nlen, v, n, replace);
}

bool iisd_hlist_delete(iisd_hlist_t *l, const char *name, size_t nlen)
{
    int i = hlist_find(l, name, nlen);
    if (i < 0)
        return false;
    memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof(l->v[0]));
    l->n--;
    return true;
}

const char *iisd_hlist_get(const iisd_hlist_t *l, const char *name, size_t nlen, uint16_t *len)
{
    int i = hlist_find(l, name, nlen);
    if (len)
        *len = i >= 0 ? l->v[i].value_len : 0;
    return i >= 0 ? l->v[i].value : NULL;
}

bool iisd_te_accepts_trailers(const char *te, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (te[i] == ' ' || te[i] == '\t' || te[i] == ','))
            i++;
        size_t s = i;
        while (i < len && te[i] != ',' && te[i] != ';' && te[i] != ' ' && te[i] != '\t')
            i++;
        if (iisd_strcaseeq(te + s, i - s, "trailers", 8))
            return true;
        while (i < len && te[i] != ',')
            i++; /* parameters of this coding */
    }
    return false;
}

void iisd_resp_append(iisd_resp_t *r, iisd_chunk_t *c)
{
    c->next = NULL;
    if (r->last)
        r->last->next = c;
    else
        r->first = c;
    r->last = c;
    r->nchunks++;
    r->body_len += c->len;
}

void iisd_resp_prepend(iisd_resp_t *r, iisd_chunk_t *c)
{
    c->next = r->first;
    r->first = c;
    if (r->last == NULL)
        r->last = c;
    r->nchunks++;
    r->body_len += c->len;
}

const char *iisd_status_reason(unsigned s)
{
    switch (s) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 205:
        return "Reset Content";
    case 206:
        return "Partial Content";
    case 207:
        return "Multi-Status";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
