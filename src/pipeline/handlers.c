/*
 * <handlers>: in RQ_MAP_REQUEST_HANDLER the first entry whose path and verb
 * match the request is chosen (in the effective, merged order); in
 * RQ_EXECUTE_REQUEST_HANDLER only the modules it lists run, in its order.
 * A module may choose another mapping with IMapHandlerProvider::SetScriptMap.
 * Where a configuration sets no <handlers> at all, every module registered
 * for RQ_EXECUTE_REQUEST_HANDLER runs instead, in order, until one handles
 * the request.
 */
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/filecache.h"
#include "pipeline/hctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* '*' matches any run of characters; everything else matches itself, ignoring case. */
static bool glob(const char *pat, const char *s, size_t n)
{
    const char *star = NULL;
    size_t star_i = 0, i = 0;
    while (i < n) {
        if (*pat == '*') {
            star = pat++;
            star_i = i;
        } else if (*pat != '\0' && iisd_tolower(*pat) == iisd_tolower(s[i])) {
            pat++;
            i++;
        } else if (star != NULL) {
            pat = star + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool path_matches(const char *pattern, const char *url, size_t len)
{
    if (strchr(pattern, '/') != NULL) /* a pattern with a '/' is matched against the whole path */
        return glob(pattern[0] == '/' ? pattern : pattern, url + (pattern[0] == '/' ? 0 : 1),
                    len - (pattern[0] == '/' ? 0 : 1));
    const char *slash = memrchr(url, '/', len);
    const char *name = slash ? slash + 1 : url;
    return glob(pattern, name, len - (size_t)(name - url));
}

static bool verb_matches(const char *verbs, const char *method)
{
    size_t m = strlen(method), len;
    for (const char *cur = verbs, *p; iisd_list_next(&cur, &p, &len);)
        if ((len == 1 && *p == '*') || (len == m && strncmp(p, method, m) == 0))
            return true;
    return false;
}

const iisd_celem_t *iisd_handlers_find(const iisd_celem_t *hs, const char *url, size_t len,
                                       const char *method, bool no_wildcard)
{
    for (unsigned i = 0; hs != NULL && i < hs->nitems; i++) {
        const iisd_celem_t *e = hs->items[i];
        if (!iisd_precondition_holds(iisd_celem_str(e, "preCondition")))
            continue;
        const char *path = iisd_celem_str(e, "path");
        if (no_wildcard && strcmp(path, "*") == 0)
            continue;
        if (path_matches(path, url, len) && verb_matches(iisd_celem_str(e, "verb"), method))
            return e;
    }
    return NULL;
}

/* ---- the compiled section ------------------------------------------------------------ */

iisd_htable_t *iisd_handlers_compile(const iisd_celem_t *hs)
{
    iisd_htable_t *t = iisd_xcalloc(1, sizeof(*t) + hs->nitems * sizeof(iisd_hentry_t));
    t->section = hs;
    t->policy = (uint32_t)iisd_celem_num(hs, "accessPolicy");
    t->n = hs->nitems;
    for (unsigned i = 0; i < hs->nitems; i++) {
        const iisd_celem_t *e = hs->items[i];
        iisd_hentry_t *x = &t->v[i];
        x->e = e;
        x->path = iisd_celem_str(e, "path");
        x->verb = iisd_celem_str(e, "verb");
        x->name = iisd_celem_str(e, "name");
        x->active = iisd_precondition_holds(iisd_celem_str(e, "preCondition"));
        x->require = (uint16_t)iisd_celem_num(e, "requireAccess");
        x->resource = (uint16_t)iisd_celem_num(e, "resourceType");
        const char *list = iisd_celem_str(e, "modules");
        size_t cap = 1;
        for (const char *p = list; *p; p++)
            cap += *p == ',';
        x->mods = iisd_xcalloc(cap, sizeof(*x->mods));
        x->names = iisd_xcalloc(cap, sizeof(*x->names));
        size_t len;
        for (const char *cur = list, *p; iisd_list_next(&cur, &p, &len);) {
            char *name = iisd_xstrndup(p, len);
            iisd_module_t *m = iisd_module_find(name);
            x->mods[x->nmods] = m != NULL                       ? (int32_t)m->id
                                : iisd_module_unavailable(name) ? IISD_HMOD_SKIP
                                                                : IISD_HMOD_BAD;
            x->names[x->nmods++] = name;
        }
    }
    return t;
}

void iisd_handlers_free(iisd_htable_t *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        for (unsigned k = 0; k < t->v[i].nmods; k++)
            free((char *)t->v[i].names[k]);
        free(t->v[i].names);
        free(t->v[i].mods);
    }
    free(t);
}

/* The compiled section: a per-thread cache in front of the generation's list. */
static const iisd_htable_t *table_of(iisd_hctx_t *h)
{
    enum { SLOTS = 16 };
    static __thread struct {
        uint64_t gen;
        const iisd_celem_t *hs;
        const iisd_htable_t *t;
    } cache[SLOTS];
    const iisd_celem_t *hs = h->handlers_section;
    unsigned k = (unsigned)(((uintptr_t)hs >> 4) % SLOTS);
    if (cache[k].gen != h->conf->id || cache[k].hs != hs) {
        cache[k].t = iisd_pipeline_handler_table(h->conf, hs);
        cache[k].gen = h->conf->id;
        cache[k].hs = hs;
    }
    return cache[k].t;
}

void iisd_handlers_map(iisd_hctx_t *h)
{
    h->mapped = true;
    if (h->handlers_section == NULL)
        return; /* no <handlers>: every execute-handler module runs */
    h->handler_mode = true;
    const iisd_htable_t *t = table_of(h);
    const char *method = h->method ? h->method : h->rq->head.method;
    for (unsigned i = 0; i < t->n; i++) {
        const iisd_hentry_t *x = &t->v[i];
        if (!x->active || x->e == h->skip_handler)
            continue; /* skip_handler: EXECUTE_FLAG_IGNORE_CURRENT_INTERCEPTOR, the parent's handler */
        if (path_matches(x->path, h->url, h->url_len) && verb_matches(x->verb, method)) {
            h->handler = x->e;
            return;
        }
    }
}

/* An error of the server itself ("IIS Web Core" in error pages), found while mapping the handler. */
/* "<status>.<sub>" in out (24 bytes); returns its length. */
static size_t status_code(char *out, unsigned status, unsigned sub)
{
    char d[24], *e = d + sizeof(d), *q = e;
    do
        *--q = (char)('0' + sub % 10);
    while ((sub /= 10) != 0);
    *--q = '.';
    do
        *--q = (char)('0' + status % 10);
    while ((status /= 10) != 0);
    memcpy(out, q, (size_t)(e - q));
    return (size_t)(e - q);
}

static void set_error(iisd_hctx_t *h, unsigned status, unsigned sub, HRESULT hr, const char *reason,
                      const char *msg)
{
    iisd_resp_t *r = &h->rq->resp;
    iisd_resp_clear(r);
    r->status = (uint16_t)status;
    r->substatus = (uint16_t)sub;
    r->error_hr = hr;
    h->status_module = NULL;
    h->status_notification = RQ_MAP_REQUEST_HANDLER;
    iisd_resp_set_known(r, h->arena, IISD_H_CONTENT_TYPE, "text/html", 9, true);
    /* put together by hand: snprintf was most of a 404's cost here */
    char code[24];
    size_t cl = status_code(code, status, sub);
    size_t rl = strlen(reason), ml = strlen(msg);
    static const char p1[] = "<!DOCTYPE html>\r\n<html><head><title>",
                      p2[] = "</title></head><body><h1>HTTP Error ", p3[] = " - ", p4[] = "</h1><p>",
                      p5[] = "</p></body></html>\r\n";
    size_t cap = sizeof(p1) + sizeof(p2) + sizeof(p3) + sizeof(p4) + sizeof(p5) + 2 * (cl + rl) + ml + 2;
    char *body = iisd_arena_alloc(h->arena, cap), *p = body;
#define PUT(s, l) (memcpy(p, (s), (l)), p += (l))
    PUT(p1, sizeof(p1) - 1);
    PUT(code, cl);
    PUT(" ", 1);
    PUT(reason, rl);
    PUT(p2, sizeof(p2) - 1);
    PUT(code, cl);
    PUT(p3, sizeof(p3) - 1);
    PUT(reason, rl);
    PUT(p4, sizeof(p4) - 1);
    PUT(msg, ml);
    PUT(p5, sizeof(p5) - 1);
#undef PUT
    *p = '\0';
    size_t n = (size_t)(p - body);
    iisd_chunk_t *ch = iisd_arena_calloc(h->arena, sizeof(*ch));
    ch->type = IISD_CHUNK_MEM;
    ch->data = body;
    ch->len = (uint64_t)n;
    iisd_resp_append(r, ch);
}

/* Is the module enabled for this request (in its plan)? */
static bool enabled(const iisd_hctx_t *h, uint16_t id)
{
    for (unsigned i = 0; i < h->plan->req_modules.n; i++)
        if (h->plan->req_modules.v[i] == id)
            return true;
    return false;
}

/* resourceType and requireAccess against the file and accessPolicy; -1 after setting an error. */
static int check_access(iisd_hctx_t *h, unsigned require, unsigned resource, uint32_t policy)
{
    /* resourceType: File 0, Directory 1, Either 2, Unspecified 3 */
    if (resource != 3) {
        /* through the open-file cache (a repeated path costs no system call), as the request's file:
           IHttpContext::GetFileInfo answers the handler with the same entry, looked up once */
        IHttpFileInfo *fi = iisd_ctx_file_info(h);
        bool ok = false;
        if (fi != NULL) {
            bool dir = (fi->lpVtbl->GetAttributes(fi) & 0x10 /* FILE_ATTRIBUTE_DIRECTORY */) != 0;
            ok = resource == 2 || (resource == 1) == dir;
        }
        if (!ok) {
            set_error(h, 404, 0, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "Not Found",
                      "The resource you are looking for does not exist.");
            return -1;
        }
    }
    /* requireAccess (None 0, Read 1, Write 2, Script 3, Execute 4) against accessPolicy */
    bool allowed = require == 0 || (require == 1 && (policy & 1)) || (require == 2 && (policy & 2)) ||
                   (require == 3 && (policy & (512 | 4))) || (require == 4 && (policy & 4));
    if (!allowed) {
        unsigned sub = require == 1 ? 2 : require == 2 ? 3 : 1;
        set_error(h, 403, sub, HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), "Forbidden",
                  require == 1   ? "Read access is forbidden for this handler (accessPolicy)."
                  : require == 2 ? "Write access is forbidden for this handler (accessPolicy)."
                                 : "Execute access is forbidden for this handler (accessPolicy).");
        return -1;
    }
    return 0;
}

/* 500.21: the handler names a module that does not exist or is not enabled here. */
static IISD_COLD int bad_module(iisd_hctx_t *h, const char *handler, const char *module)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "Handler \"%s\" has a bad module \"%s\" in its module list.", handler, module);
    iisd_log(IISD_LOG_ERROR, "%s: 500.21 %s", h->cpath, msg);
    set_error(h, 500, 21, HRESULT_FROM_WIN32(ERROR_INVALID_DATA), "Internal Server Error", msg);
    return -1;
}

/* A mapping a module chose with IMapHandlerProvider::SetScriptMap: its modules by name. */
static int exec_begin_script_map(iisd_hctx_t *h, IScriptMapInfo *sm)
{
    DWORD len = 0;
    PCWSTR w = sm->lpVtbl->GetModules(sm, &len);
    char *modules = iisd_arena_utf8_from_wcs(h->arena, w ? w : L"", w ? wcslen(w) : 0, NULL);
    char name[256] = "";
    PCWSTR wn = sm->lpVtbl->GetName(sm);
    if (wn)
        iisd_wcs_to_utf8(wn, wcslen(wn), name, sizeof(name));
    const iisd_celem_t *hs = h->handlers_section;
    if (check_access(h, sm->lpVtbl->GetRequiredAccess(sm), sm->lpVtbl->GetResourceType(sm),
                     hs ? (uint32_t)iisd_celem_num(hs, "accessPolicy") : 1) != 0)
        return -1;
    uint16_t *ids = iisd_arena_alloc(h->arena, (iisd_modules.n + 1) * sizeof(uint16_t));
    uint16_t n = 0;
    size_t ilen;
    for (const char *cur = modules, *p; iisd_list_next(&cur, &p, &ilen);) {
        char *one = iisd_arena_strndup(h->arena, p, ilen);
        iisd_module_t *m = iisd_module_find(one);
        if (m != NULL && enabled(h, (uint16_t)m->id))
            ids[n++] = (uint16_t)m->id;
        else if (!(m == NULL && iisd_module_unavailable(one)))
            return bad_module(h, name, one);
    }
    h->exec_list.v = ids;
    h->exec_list.n = n;
    return 0;
}

int iisd_handlers_exec_begin(iisd_hctx_t *h)
{
    h->exec_prepared = true;
    if (!h->handler_mode)
        return 0;
    if (h->module_smap != NULL)
        return exec_begin_script_map(h, h->module_smap);
    if (h->handler == NULL)
        return 0; /* no mapping: 404.4 when the pipeline reaches the send */
    const iisd_htable_t *t = table_of(h);
    const iisd_hentry_t *x = NULL;
    for (unsigned i = 0; i < t->n && x == NULL; i++)
        if (t->v[i].e == h->handler)
            x = &t->v[i];
    if (x == NULL)
        return 0;
    if (check_access(h, x->require, x->resource, t->policy) != 0)
        return -1;
    /* the handler's modules, in its order */
    uint16_t *ids = iisd_arena_alloc(h->arena, (x->nmods + 1) * sizeof(uint16_t));
    uint16_t n = 0;
    for (unsigned k = 0; k < x->nmods; k++) {
        int32_t id = x->mods[k];
        if (id == IISD_HMOD_SKIP)
            continue;
        if (id < 0 || !enabled(h, (uint16_t)id))
            return bad_module(h, x->name, x->names[k]);
        ids[n++] = (uint16_t)id;
    }
    h->exec_list.v = ids;
    h->exec_list.n = n;
    return 0;
}

/* ---- IScriptMapInfo over the mapped entry ------------------------------------------- */

#define SM(This) HCTX_OF(This, smap)

static PCWSTR wide_attr(IScriptMapInfo *This, const char *attr, DWORD *pcch)
{
    iisd_hctx_t *h = SM(This);
    const char *v = iisd_celem_str(h->handler, attr);
    size_t n;
    wchar_t *w = iisd_arena_wcs_from_utf8(h->arena, v, strlen(v), &n);
    if (pcch)
        *pcch = (DWORD)n;
    return w;
}

static PCWSTR sm_GetPath(IScriptMapInfo *This)
{
    return wide_attr(This, "path", NULL);
}

static PCSTR sm_GetAllowedVerbs(IScriptMapInfo *This)
{
    return iisd_celem_str(SM(This)->handler, "verb");
}

static PCWSTR sm_GetModules(IScriptMapInfo *This, DWORD *pcch)
{
    return wide_attr(This, "modules", pcch);
}

static PCWSTR sm_GetScriptProcessor(IScriptMapInfo *This, DWORD *pcch)
{
    return wide_attr(This, "scriptProcessor", pcch);
}

static PCWSTR sm_GetManagedType(IScriptMapInfo *This, DWORD *pcch)
{
    return wide_attr(This, "type", pcch);
}

static BOOL sm_GetAllowPathInfoForScriptMappings(IScriptMapInfo *This)
{
    return iisd_celem_bool(SM(This)->handler, "allowPathInfo");
}

static DWORD sm_GetRequiredAccess(IScriptMapInfo *This)
{
    return (DWORD)iisd_celem_num(SM(This)->handler, "requireAccess");
}

static DWORD sm_GetResourceType(IScriptMapInfo *This)
{
    return (DWORD)iisd_celem_num(SM(This)->handler, "resourceType");
}

static BOOL sm_GetIsStarScriptMap(IScriptMapInfo *This)
{
    return strcmp(iisd_celem_str(SM(This)->handler, "path"), "*") == 0;
}

static DWORD sm_GetResponseBufferLimit(IScriptMapInfo *This)
{
    return (DWORD)iisd_celem_num(SM(This)->handler, "responseBufferLimit");
}

static PCWSTR sm_GetName(IScriptMapInfo *This)
{
    return wide_attr(This, "name", NULL);
}

static const struct {
    void *offset_to_top, *rtti;
    IScriptMapInfoVtbl v;
} sm_vtbl = {NULL,
             NULL,
             {.GetPath = sm_GetPath,
              .GetAllowedVerbs = sm_GetAllowedVerbs,
              .GetModules = sm_GetModules,
              .GetScriptProcessor = sm_GetScriptProcessor,
              .GetManagedType = sm_GetManagedType,
              .GetAllowPathInfoForScriptMappings = sm_GetAllowPathInfoForScriptMappings,
              .GetRequiredAccess = sm_GetRequiredAccess,
              .GetResourceType = sm_GetResourceType,
              .GetIsStarScriptMap = sm_GetIsStarScriptMap,
              .GetResponseBufferLimit = sm_GetResponseBufferLimit,
              .GetName = sm_GetName}};

IScriptMapInfo *iisd_handlers_script_map(iisd_hctx_t *h)
{
    if (h->module_smap != NULL)
        return h->module_smap;
    if (h->handler == NULL)
        return NULL;
    h->smap.lpVtbl = &sm_vtbl.v;
    return &h->smap;
}
