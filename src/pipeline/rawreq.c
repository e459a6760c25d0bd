/*
 * IHttpRequest::GetRawHttpRequest: an HTTP_REQUEST (http.h layout) that mirrors
 * the request. Made in the request arena the first time a module asks for it;
 * from then on the server writes the request into it (export) after every
 * IHttpRequest call that changes the request, and takes back what a module
 * changed in it (absorb: the verb, known and unknown headers) before every
 * IHttpRequest call and after each notification of a module that asked for it.
 * A copy of what was last exported (the shadow) tells what changed. Strings a
 * module puts there are copied into the request arena when they are taken in.
 */
#include "core/arena.h"
#include "core/str.h"
#include "pipeline/hctx.h"
#include <string.h>
#include <wchar.h>

typedef struct iisd_raw_req {
    HTTP_REQUEST r;      /* what modules see */
    HTTP_REQUEST shadow; /* r as last exported */
    HTTP_UNKNOWN_HEADER *uh, *uh_shadow;
    uint32_t uh_cap;
    bool all;
    uint8_t nholders;
    uint16_t holders[8];
} iisd_raw_req_t;

static const struct {
    const char *name;
    HTTP_VERB verb;
} verbs[] = {
    {"OPTIONS", HttpVerbOPTIONS},     {"GET", HttpVerbGET},         {"HEAD", HttpVerbHEAD},
    {"POST", HttpVerbPOST},           {"PUT", HttpVerbPUT},         {"DELETE", HttpVerbDELETE},
    {"TRACE", HttpVerbTRACE},         {"CONNECT", HttpVerbCONNECT}, {"TRACK", HttpVerbTRACK},
    {"MOVE", HttpVerbMOVE},           {"COPY", HttpVerbCOPY},       {"PROPFIND", HttpVerbPROPFIND},
    {"PROPPATCH", HttpVerbPROPPATCH}, {"MKCOL", HttpVerbMKCOL},     {"LOCK", HttpVerbLOCK},
    {"UNLOCK", HttpVerbUNLOCK},       {"SEARCH", HttpVerbSEARCH},
};

HTTP_VERB iisd_http_verb(const char *m)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verbs[i].name, m) == 0)
            return verbs[i].verb;
    return HttpVerbUnknown;
}

static const char *verb_name(HTTP_VERB v)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return NULL;
}

/* CookedUrl: "http://host/path?query" in wide characters, with pointers into it. */
static void cook_url(iisd_hctx_t *h, HTTP_COOKED_URL *cu)
{
    const iisd_head_t *hd = &h->rq->head;
    const char *host = hd->known[IISD_H_HOST].value;
    size_t hl = host ? hd->known[IISD_H_HOST].len : 0;
    char local[64] = "localhost";
    if (hl == 0) {
        host = local;
        hl = strlen(local);
    }
    size_t n = 7 + hl + h->url_len + (h->query_len ? 1 + h->query_len : 0);
    char *u8 = iisd_arena_alloc(h->arena, n + 1);
    memcpy(u8, "http://", 7);
    memcpy(u8 + 7, host, hl);
    memcpy(u8 + 7 + hl, h->url, h->url_len);
    size_t k = 7 + hl + h->url_len;
    if (h->query_len) {
        u8[k++] = '?';
        memcpy(u8 + k, h->query, h->query_len);
        k += h->query_len;
    }
    u8[k] = '\0';
    size_t wl = 0;
    wchar_t *w = iisd_arena_wcs_from_utf8(h->arena, u8, k, &wl);
    /* the host, path and query parts, found in the wide string by their UTF-8 lengths */
    size_t whost = iisd_utf8_to_wcs(host, hl, NULL, 0);
    size_t wpath = iisd_utf8_to_wcs(h->url, h->url_len, NULL, 0);
    cu->pFullUrl = w;
    cu->FullUrlLength = (USHORT)(wl * sizeof(wchar_t));
    cu->pHost = w + 7;
    cu->HostLength = (USHORT)(whost * sizeof(wchar_t));
    cu->pAbsPath = w + 7 + whost;
    cu->AbsPathLength = (USHORT)(wpath * sizeof(wchar_t));
    if (h->query_len) {
        cu->pQueryString = w + 7 + whost + wpath;
        cu->QueryStringLength = (USHORT)((wl - 7 - whost - wpath) * sizeof(wchar_t));
    }
}

void iisd_raw_req_export(iisd_hctx_t *h)
{
    iisd_raw_req_t *x = h->raw_req;
    if (x == NULL)
        return;
    const iisd_req_t *rq = h->rq;
    const iisd_head_t *hd = &rq->head;
    HTTP_REQUEST *o = &x->r;
    memset(o, 0, sizeof(*o));
    o->ConnectionId = (HTTP_CONNECTION_ID)(uintptr_t)h->c;
    o->RequestId = (HTTP_REQUEST_ID)(uintptr_t)rq;
    o->RawConnectionId = o->ConnectionId;
    o->Version.MajorVersion = hd->version_major;
    o->Version.MinorVersion = hd->version_minor;
    const char *method = h->method ? h->method : hd->method;
    o->Verb = iisd_http_verb(method);
    if (o->Verb == HttpVerbUnknown) {
        o->pUnknownVerb = method;
        o->UnknownVerbLength = (USHORT)strlen(method);
    }
    o->pRawUrl = hd->target;
    o->RawUrlLength = (USHORT)(hd->target_len > 0xffff ? 0xffff : hd->target_len);
    cook_url(h, &o->CookedUrl);
    if (h->c != NULL) {
        o->Address.pRemoteAddress = (PSOCKADDR)&h->c->remote;
        o->Address.pLocalAddress = (PSOCKADDR)iisd_conn_local(h->c);
    }
    for (int i = 0; i < HttpHeaderRequestMaximum && i < IISD_HDR_REQ_KNOWN; i++) {
        o->Headers.KnownHeaders[i].pRawValue = hd->known[i].value;
        o->Headers.KnownHeaders[i].RawValueLength = hd->known[i].value ? hd->known[i].len : 0;
    }
    if (hd->unknown_count > x->uh_cap) {
        x->uh_cap = hd->unknown_count * 2u;
        x->uh = iisd_arena_alloc(h->arena, x->uh_cap * sizeof(*x->uh));
        x->uh_shadow = iisd_arena_alloc(h->arena, x->uh_cap * sizeof(*x->uh));
    }
    for (unsigned i = 0; i < hd->unknown_count; i++) {
        memset(&x->uh[i], 0, sizeof(x->uh[i]));
        x->uh[i].pName = hd->unknown[i].name;
        x->uh[i].NameLength = hd->unknown[i].name_len;
        x->uh[i].pRawValue = hd->unknown[i].value;
        x->uh[i].RawValueLength = hd->unknown[i].value_len;
    }
    o->Headers.UnknownHeaderCount = hd->unknown_count;
    o->Headers.pUnknownHeaders = hd->unknown_count ? x->uh : NULL;
    o->BytesReceived = hd->head_len + rq->body_received;
    memcpy(&x->shadow, o, sizeof(*o));
    if (hd->unknown_count)
        memcpy(x->uh_shadow, x->uh, hd->unknown_count * sizeof(*x->uh));
}

static bool touched(const iisd_raw_req_t *x)
{
    USHORT nu = x->r.Headers.UnknownHeaderCount;
    return memcmp(&x->r, &x->shadow, sizeof(x->r)) != 0 ||
           (nu && x->r.Headers.pUnknownHeaders == x->uh &&
            memcmp(x->uh, x->uh_shadow, nu * sizeof(*x->uh)) != 0);
}

/* Takes in what a module changed in the structure: the verb and the headers. */
static void absorb(iisd_hctx_t *h)
{
    iisd_raw_req_t *x = h->raw_req;
    if (!touched(x))
        return;
    iisd_head_t *hd = &h->rq->head;
    HTTP_REQUEST *o = &x->r, *s = &x->shadow;
    if (o->Verb != s->Verb || o->pUnknownVerb != s->pUnknownVerb ||
        o->UnknownVerbLength != s->UnknownVerbLength) {
        const char *name = o->Verb == HttpVerbUnknown ? NULL : verb_name(o->Verb);
        if (name != NULL)
            h->method = iisd_arena_strndup(h->arena, name, strlen(name));
        else if (o->pUnknownVerb != NULL && o->UnknownVerbLength > 0)
            h->method = iisd_arena_strndup(h->arena, o->pUnknownVerb, o->UnknownVerbLength);
        if (h->method != NULL)
            h->rq->is_head = strcmp(h->method, "HEAD") == 0;
    }
    for (int i = 0; i < HttpHeaderRequestMaximum && i < IISD_HDR_REQ_KNOWN; i++) {
        const HTTP_KNOWN_HEADER *k = &o->Headers.KnownHeaders[i], *ks = &s->Headers.KnownHeaders[i];
        if (k->pRawValue == ks->pRawValue && k->RawValueLength == ks->RawValueLength)
            continue;
        if (k->pRawValue == NULL) {
            hd->known[i].value = NULL;
            hd->known[i].len = 0;
        } else {
            hd->known[i].value = iisd_arena_strndup(h->arena, k->pRawValue, k->RawValueLength);
            hd->known[i].len = k->RawValueLength;
        }
    }
    USHORT nu = o->Headers.UnknownHeaderCount;
    if (nu != s->Headers.UnknownHeaderCount || o->Headers.pUnknownHeaders != s->Headers.pUnknownHeaders ||
        (nu && memcmp(o->Headers.pUnknownHeaders, x->uh_shadow, nu * sizeof(HTTP_UNKNOWN_HEADER)) != 0)) {
        const HTTP_UNKNOWN_HEADER *u = o->Headers.pUnknownHeaders;
        iisd_field_t *v = nu ? iisd_arena_alloc(h->arena, nu * sizeof(*v)) : NULL;
        uint16_t k = 0;
        for (unsigned i = 0; u != NULL && v != NULL && i < nu; i++) {
            if (u[i].pName == NULL || u[i].NameLength == 0)
                continue;
            v[k].name = iisd_arena_strndup(h->arena, u[i].pName, u[i].NameLength);
            v[k].name_len = u[i].NameLength;
            v[k].value =
                iisd_arena_strndup(h->arena, u[i].pRawValue ? u[i].pRawValue : "", u[i].RawValueLength);
            v[k].value_len = u[i].RawValueLength;
            k++;
        }
        hd->unknown = v;
        hd->unknown_count = k;
        hd->unknown_cap = k;
    }
}

void iisd_raw_req_sync(iisd_hctx_t *h)
{
    if (h->raw_req == NULL)
        return;
    absorb(h);
    iisd_raw_req_export(h);
}

bool iisd_raw_req_held_by(const iisd_hctx_t *h, unsigned id)
{
    const iisd_raw_req_t *x = h->raw_req;
    if (x->all)
        return true;
    for (unsigned i = 0; i < x->nholders; i++)
        if (x->holders[i] == id)
            return true;
    return false;
}

HTTP_REQUEST *iisd_raw_req_get(iisd_hctx_t *h)
{
    if (h->raw_req == NULL) {
        h->raw_req = iisd_arena_calloc(h->arena, sizeof(*h->raw_req));
        if (h->raw_req == NULL)
            return NULL;
        iisd_raw_req_export(h);
    } else {
        iisd_raw_req_sync(h);
    }
    iisd_raw_req_t *x = h->raw_req;
    if (h->cur_module == NULL) {
        x->all = true;
    } else if (!iisd_raw_req_held_by(h, h->cur_module->id)) {
        if (x->nholders < sizeof(x->holders) / sizeof(x->holders[0]))
            x->holders[x->nholders++] = (uint16_t)h->cur_module->id;
        else
            x->all = true;
    }
    return &x->r;
}
