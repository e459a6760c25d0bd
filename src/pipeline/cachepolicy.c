/*
 * IHttpCachePolicy (1-2): the output-cache settings of one response
 * (IHttpResponse::GetCachePolicy). Made the first time a module asks, in the
 * request arena. The server stores what modules set; HttpCacheModule reads it
 * in RQ_UPDATE_REQUEST_CACHE to decide whether and how to cache the response.
 *  - GetUserCachePolicy: the output-cache policy. Nocache (the default) leaves
 *    the decision to the <caching> profiles; TimeToLive caches the response
 *    for SecondsToLive; UserInvalidates caches it until its file changes.
 *  - GetKernelCachePolicy: the same for the kernel cache. iisd has one
 *    user-mode output cache, which honours this policy too when
 *    <caching enableKernelCache="true"> and the response did not call
 *    IHttpResponse::DisableKernelCache.
 *  - Vary lists are comma-separated; appending a name already there does nothing.
 */
#include "core/arena.h"
#include "pipeline/hctx.h"
#include <stdbool.h>
#include <string.h>
#include <strings.h>

typedef struct iisd_cache_policy {
    IHttpCachePolicy2 iface; /* first */
    iisd_arena_t *arena;
    HTTP_CACHE_POLICY kernel, user;
    bool kernel_invalidator, kernel_disabled, user_disabled, cached, force_update;
    char *vary_headers, *vary_query, *vary_value;
} iisd_cache_policy_t;

#define CP(This) ((iisd_cache_policy_t *)(This))

static HTTP_CACHE_POLICY *cp_GetKernelCachePolicy(IHttpCachePolicy2 *This)
{
    return &CP(This)->kernel;
}

static VOID cp_SetKernelCacheInvalidatorSet(IHttpCachePolicy2 *This)
{
    CP(This)->kernel_invalidator = true;
}

static HTTP_CACHE_POLICY *cp_GetUserCachePolicy(IHttpCachePolicy2 *This)
{
    return &CP(This)->user;
}

/* Is name (n bytes) an item of the comma-separated list? (case-insensitive) */
static bool in_list(const char *list, const char *name, size_t n)
{
    for (const char *p = list; p != NULL && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t m = strcspn(p, ",");
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m == n && strncasecmp(p, name, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static HRESULT append(iisd_cache_policy_t *c, char **list, PCSTR item)
{
    if (item == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    while (*item == ' ')
        item++;
    size_t n = strlen(item);
    while (n > 0 && item[n - 1] == ' ')
        n--;
    if (n == 0 || memchr(item, ',', n) != NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (in_list(*list, item, n))
        return S_OK;
    size_t old = *list ? strlen(*list) : 0;
    char *s = iisd_arena_alloc(c->arena, old + n + 2);
    if (s == NULL)
        return E_OUTOFMEMORY;
    if (old)
        memcpy(s, *list, old);
    size_t k = old;
    if (old)
        s[k++] = ',';
    memcpy(s + k, item, n);
    s[k + n] = '\0';
    *list = s;
    return S_OK;
}

static HRESULT cp_AppendVaryByHeader(IHttpCachePolicy2 *This, PCSTR h)
{
    return append(CP(This), &CP(This)->vary_headers, h);
}

static PCSTR cp_GetVaryByHeaders(IHttpCachePolicy2 *This)
{
    return CP(This)->vary_headers;
}

static HRESULT cp_AppendVaryByQueryString(IHttpCachePolicy2 *This, PCSTR q)
{
    return append(CP(This), &CP(This)->vary_query, q);
}

static PCSTR cp_GetVaryByQueryStrings(IHttpCachePolicy2 *This)
{
    return CP(This)->vary_query;
}

static HRESULT cp_SetVaryByValue(IHttpCachePolicy2 *This, PCSTR v)
{
    iisd_cache_policy_t *c = CP(This);
    if (v == NULL) {
        c->vary_value = NULL;
        return S_OK;
    }
    c->vary_value = iisd_arena_strndup(c->arena, v, strlen(v));
    return c->vary_value ? S_OK : E_OUTOFMEMORY;
}

static PCSTR cp_GetVaryByValue(IHttpCachePolicy2 *This)
{
    return CP(This)->vary_value;
}

/* api-status: implemented (TRUE until DisableUserCache; <caching enabled> is HttpCacheModule's to apply) */
static BOOL cp_IsUserCacheEnabled(IHttpCachePolicy2 *This)
{
    return !CP(This)->user_disabled;
}

static VOID cp_DisableUserCache(IHttpCachePolicy2 *This)
{
    CP(This)->user_disabled = true;
    CP(This)->user.Policy = HttpCachePolicyNocache;
}

static BOOL cp_IsCached(IHttpCachePolicy2 *This)
{
    return CP(This)->cached;
}

static VOID cp_SetIsCached(IHttpCachePolicy2 *This)
{
    CP(This)->cached = true;
}

static BOOL cp_GetKernelCacheInvalidatorSet(IHttpCachePolicy2 *This)
{
    return CP(This)->kernel_invalidator;
}

static BOOL cp_IsForceUpdateSet(IHttpCachePolicy2 *This)
{
    return CP(This)->force_update;
}

static VOID cp_SetForceUpdate(IHttpCachePolicy2 *This)
{
    CP(This)->force_update = true;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpCachePolicy2Vtbl v;
} cp_vtbl = {NULL,
             NULL,
             {
                 .GetKernelCachePolicy = cp_GetKernelCachePolicy,
                 .SetKernelCacheInvalidatorSet = cp_SetKernelCacheInvalidatorSet,
                 .GetUserCachePolicy = cp_GetUserCachePolicy,
                 .AppendVaryByHeader = cp_AppendVaryByHeader,
                 .GetVaryByHeaders = cp_GetVaryByHeaders,
                 .AppendVaryByQueryString = cp_AppendVaryByQueryString,
                 .GetVaryByQueryStrings = cp_GetVaryByQueryStrings,
                 .SetVaryByValue = cp_SetVaryByValue,
                 .GetVaryByValue = cp_GetVaryByValue,
                 .IsUserCacheEnabled = cp_IsUserCacheEnabled,
                 .DisableUserCache = cp_DisableUserCache,
                 .IsCached = cp_IsCached,
                 .SetIsCached = cp_SetIsCached,
                 .GetKernelCacheInvalidatorSet = cp_GetKernelCacheInvalidatorSet,
                 .IsForceUpdateSet = cp_IsForceUpdateSet,
                 .SetForceUpdate = cp_SetForceUpdate,
             }};

IHttpCachePolicy *iisd_cache_policy(iisd_hctx_t *h)
{
    if (h->cache_policy == NULL) {
        iisd_cache_policy_t *c = iisd_arena_calloc(h->arena, sizeof(*c));
        if (c == NULL)
            return NULL;
        c->iface.lpVtbl = &cp_vtbl.v;
        c->arena = h->arena;
        c->kernel.Policy = HttpCachePolicyNocache;
        c->user.Policy = HttpCachePolicyNocache;
        h->cache_policy = c;
    }
    return (IHttpCachePolicy *)&h->cache_policy->iface;
}

void iisd_cache_policy_disable_kernel(iisd_hctx_t *h)
{
    if (iisd_cache_policy(h) != NULL) {
        h->cache_policy->kernel_disabled = true;
        h->cache_policy->kernel.Policy = HttpCachePolicyNocache;
    }
}

bool iisd_cache_policy_kernel_enabled(const iisd_hctx_t *h)
{
    return h->cache_policy == NULL || !h->cache_policy->kernel_disabled;
}
