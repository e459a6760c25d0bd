#include "pipeline/module.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/server.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

iisd_modules_t iisd_modules;
static char **unavailable;
static unsigned nunavailable;

void iisd_module_mark_unavailable(const char *name)
{
    unavailable = iisd_xrealloc(unavailable, (nunavailable + 1) * sizeof(*unavailable));
    unavailable[nunavailable++] = iisd_xstrdup(name);
}

bool iisd_module_unavailable(const char *name)
{
    for (unsigned i = 0; i < nunavailable; i++)
        if (strcasecmp(unavailable[i], name) == 0)
            return true;
    return false;
}

static iisd_module_t *from_reg(IHttpModuleRegistrationInfo2 *p)
{
    return (iisd_module_t *)p;
}

static bool token_holds(const char *t, size_t n)
{
    if (n == 0)
        return true;
    static const char *const holds[] = {"integratedMode", "bitness32", "bitness64", "managedHandler"};
    for (size_t i = 0; i < sizeof(holds) / sizeof(holds[0]); i++)
        if (strlen(holds[i]) == n && strncasecmp(t, holds[i], n) == 0)
            return true;
    if (n > 12 && strncasecmp(t, "appPoolName=", 12) == 0) {
        for (const char *p = t + 12, *end = t + n; p < end;) {
            const char *e = memchr(p, ';', (size_t)(end - p));
            if (e == NULL)
                e = end;
            if ((size_t)(e - p) == 14 && strncasecmp(p, "DefaultAppPool", 14) == 0)
                return true;
            p = e + 1;
        }
    }
    return false;
}

bool iisd_precondition_holds(const char *pc)
{
    if (pc == NULL)
        return true;
    size_t len;
    for (const char *cur = pc, *p; iisd_list_next(&cur, &p, &len);)
        if (!token_holds(p, len))
            return false;
    return true;
}

int iisd_prio_parse(PCWSTR a)
{
    static const wchar_t *const names[] = {L"FIRST", L"HIGH", L"MEDIUM", L"LOW", L"LAST"};
    if (a == NULL)
        return -1;
    for (int i = 0; i < 5; i++) {
        const wchar_t *n = names[i];
        size_t k = 0;
        while (a[k] && n[k] && towupper((wint_t)a[k]) == (wint_t)n[k])
            k++;
        if (a[k] == 0 && n[k] == 0)
            return i;
    }
    return -1;
}

static PCWSTR reg_GetName(IHttpModuleRegistrationInfo2 *This)
{
    return from_reg(This)->wname;
}

static HTTP_MODULE_ID reg_GetId(IHttpModuleRegistrationInfo2 *This)
{
    return iisd_module_id(from_reg(This));
}

static HRESULT reg_SetRequestNotifications(IHttpModuleRegistrationInfo2 *This, IHttpModuleFactory *f,
                                           DWORD rq, DWORD post)
{
    iisd_module_t *m = from_reg(This);
    if (f == NULL)
        return E_INVALIDARG;
    if (m->factory != NULL)
        return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    m->factory = f;
    m->rq_mask = rq;
    m->post_mask = post;
    return S_OK;
}

static HRESULT reg_SetGlobalNotifications(IHttpModuleRegistrationInfo2 *This, CGlobalModule *g, DWORD gl)
{
    iisd_module_t *m = from_reg(This);
    if (g == NULL)
        return E_INVALIDARG;
    if (m->global != NULL)
        return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    m->global = g;
    m->gl_mask = gl;
    return S_OK;
}

static HRESULT set_prio(uint8_t *prio, DWORD mask, PCWSTR alias)
{
    int p = iisd_prio_parse(alias);
    if (p < 0)
        return E_INVALIDARG;
    for (int b = 0; b < 32; b++)
        if (mask & (1u << b))
            prio[b] = (uint8_t)p;
    return S_OK;
}

static HRESULT reg_SetPriorityForRequestNotification(IHttpModuleRegistrationInfo2 *This, DWORD rq,
                                                     PCWSTR prio)
{
    return set_prio(from_reg(This)->rq_prio, rq, prio);
}

static HRESULT reg_SetPriorityForGlobalNotification(IHttpModuleRegistrationInfo2 *This, DWORD gl, PCWSTR prio)
{
    return set_prio(from_reg(This)->gl_prio, gl, prio);
}

static HRESULT reg_SetPriorityForPostRequestNotification(IHttpModuleRegistrationInfo2 *This, DWORD post,
                                                         PCWSTR prio)
{
    return set_prio(((iisd_module_t *)This)->post_prio, post, prio);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpModuleRegistrationInfo2Vtbl v;
} reg_vtbl = {NULL,
              NULL,
              {
                  .GetName = reg_GetName,
                  .GetId = reg_GetId,
                  .SetRequestNotifications = reg_SetRequestNotifications,
                  .SetGlobalNotifications = reg_SetGlobalNotifications,
                  .SetPriorityForRequestNotification = reg_SetPriorityForRequestNotification,
                  .SetPriorityForGlobalNotification = reg_SetPriorityForGlobalNotification,
                  .SetPriorityForPostRequestNotification = reg_SetPriorityForPostRequestNotification,
              }};

const iisd_builtin_t *iisd_builtin_find(const char *name)
{
    for (const iisd_builtin_t *b = iisd_builtins; b->name != NULL; b++)
        if (b->reg != NULL && strcasecmp(b->name, name) == 0)
            return b;
    return NULL;
}

/* Modules that an application's RESOLVE_MODULES registered are not found: the configuration cannot name them.
 */
iisd_module_t *iisd_module_find(const char *name)
{
    for (unsigned i = 0; i < iisd_modules.n; i++)
        if (iisd_modules.v[i]->parent == NULL && strcasecmp(iisd_modules.v[i]->name, name) == 0)
            return iisd_modules.v[i];
    return NULL;
}

iisd_module_t *iisd_module_registering;

/*
 * Adds m to iisd_modules. The array has a fixed capacity so that it never
 * moves: modules registered while requests run (an application's
 * RESOLVE_MODULES) are appended while loop threads read it.
 */
static bool append(iisd_module_t *m)
{
    if (iisd_modules.v == NULL)
        iisd_modules.v = iisd_xcalloc(IISD_MAX_MODULES, sizeof(*iisd_modules.v));
    if (iisd_modules.n >= IISD_MAX_MODULES)
        return false;
    m->id = iisd_modules.n;
    iisd_modules.v[m->id] = m;
    __atomic_store_n(&iisd_modules.n, m->id + 1, __ATOMIC_RELEASE);
    return true;
}

iisd_module_t *iisd_module_load(const char *name, const char *image, char *err, size_t errlen)
{
    iisd_register_fn fn;
    void *dl = NULL;
    if (iisd_module_find(name) != NULL) {
        snprintf(err, errlen, "module %s: a module with this name is already loaded", name);
        return NULL;
    }
    if (image == NULL) {
        const iisd_builtin_t *b = iisd_builtin_find(name);
        if (b == NULL) {
            snprintf(err, errlen, "module %s: no image given and no built-in module has this name", name);
            return NULL;
        }
        fn = b->reg;
    } else {
        dl = dlopen(image, RTLD_NOW | RTLD_LOCAL);
        if (dl == NULL) {
            snprintf(err, errlen, "module %s: cannot load %s: %s", name, image, dlerror());
            return NULL;
        }
        fn = (iisd_register_fn)dlsym(dl, MODULE_REGISTERMODULE);
        if (fn == NULL) {
            snprintf(err, errlen, "module %s: %s does not export RegisterModule: %s", name, image, dlerror());
            dlclose(dl);
            return NULL;
        }
    }
    iisd_module_t *m = iisd_xcalloc(1, sizeof(*m));
    m->reg.lpVtbl = &reg_vtbl.v;
    m->name = iisd_xstrdup(name);
    size_t wl = iisd_utf8_to_wcs(name, strlen(name), NULL, 0);
    m->wname = iisd_xmalloc((wl + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(name, strlen(name), m->wname, wl + 1);
    m->image = iisd_xstrdup(image ? image : "(built-in)");
    m->dl = dl;
    m->id = iisd_modules.n;
    memset(m->rq_prio, IISD_PRIO_MEDIUM, sizeof(m->rq_prio));
    memset(m->post_prio, 0xff, sizeof(m->post_prio)); /* unset: follow rq_prio */
    memset(m->gl_prio, IISD_PRIO_MEDIUM, sizeof(m->gl_prio));
    m->registering = true;
    iisd_module_registering = m;
    HRESULT hr = fn(IISD_SERVER_VERSION, (IHttpModuleRegistrationInfo *)&m->reg, iisd_http_server());
    iisd_module_registering = NULL;
    m->registering = false;
    if (FAILED(hr)) {
        snprintf(err, errlen, "module %s: RegisterModule in %s failed with HRESULT 0x%08X", name, m->image,
                 (unsigned)hr);
        if (m->factory)
            m->factory->lpVtbl->Terminate(m->factory);
        if (m->global)
            m->global->lpVtbl->Terminate(m->global);
        if (dl)
            dlclose(dl);
        free(m->name);
        free(m->wname);
        free(m->image);
        free(m);
        return NULL;
    }
    for (int b = 0; b < 32; b++)
        if (m->post_prio[b] == 0xff)
            m->post_prio[b] = m->rq_prio[b];
    if (!append(m)) {
        snprintf(err, errlen, "module %s: more than %u modules", name, IISD_MAX_MODULES);
        free(m->name);
        free(m->wname);
        free(m->image);
        free(m);
        return NULL;
    }
    iisd_log(IISD_LOG_DEBUG, "module %s loaded from %s", name, m->image);
    return m;
}

static pthread_mutex_t dyn_lock = PTHREAD_MUTEX_INITIALIZER;

iisd_module_t *iisd_module_add_dynamic(const iisd_module_t *parent, PCWSTR name, IHttpModuleFactory *factory,
                                       DWORD rq, DWORD post, HRESULT *hr)
{
    char n8[256];
    size_t wl = wcslen(name);
    iisd_wcs_to_utf8(name, wl, n8, sizeof(n8));
    pthread_mutex_lock(&dyn_lock);
    iisd_module_t *m = NULL;
    for (unsigned i = 0; i < iisd_modules.n; i++) {
        iisd_module_t *o = iisd_modules.v[i];
        if (strcasecmp(o->name, n8) != 0)
            continue;
        if (o->parent == NULL) {
            /* the name of a module the configuration loads */
            pthread_mutex_unlock(&dyn_lock);
            *hr = HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
            return NULL;
        }
        if (o->factory == factory && o->rq_mask == rq && o->post_mask == post)
            m = o; /* the same registration again (the application started again) */
    }
    if (m == NULL) {
        m = iisd_xcalloc(1, sizeof(*m));
        m->reg.lpVtbl = &reg_vtbl.v;
        m->name = iisd_xstrdup(n8);
        m->wname = iisd_xmalloc((wl + 1) * sizeof(wchar_t));
        wmemcpy(m->wname, name, wl + 1);
        m->image = iisd_xstrdup(parent->image);
        m->parent = parent;
        m->id = iisd_modules.n;
        m->factory = factory;
        m->rq_mask = rq;
        m->post_mask = post;
        memset(m->rq_prio, IISD_PRIO_MEDIUM, sizeof(m->rq_prio));
        memset(m->post_prio, IISD_PRIO_MEDIUM, sizeof(m->post_prio));
        memset(m->gl_prio, IISD_PRIO_MEDIUM, sizeof(m->gl_prio));
        if (!append(m)) {
            pthread_mutex_unlock(&dyn_lock);
            free(m->name);
            free(m->wname);
            free(m->image);
            free(m);
            *hr = HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY);
            return NULL;
        }
    }
    pthread_mutex_unlock(&dyn_lock);
    *hr = S_OK;
    return m;
}

void iisd_modules_terminate(void)
{
    for (unsigned i = iisd_modules.n; i-- > 0;) {
        iisd_module_t *m = iisd_modules.v[i];
        for (unsigned k = i + 1; m->factory != NULL && k < iisd_modules.n; k++)
            if (iisd_modules.v[k]->parent != NULL && iisd_modules.v[k]->factory_done == m->factory)
                m->factory = NULL; /* one factory registered under several names: terminated once */
        m->factory_done = m->factory;
        if (m->factory)
            m->factory->lpVtbl->Terminate(m->factory);
        if (m->global)
            m->global->lpVtbl->Terminate(m->global);
        m->factory = NULL;
        m->global = NULL;
    }
    for (unsigned i = iisd_modules.n; i-- > 0;) {
        iisd_module_t *m = iisd_modules.v[i];
        if (m->dl && m->parent == NULL)
            dlclose(m->dl);
        free(m->name);
        free(m->wname);
        free(m->image);
        free(m);
    }
    free(iisd_modules.v);
    iisd_modules.v = NULL;
    iisd_modules.n = 0;
    for (unsigned i = 0; i < nunavailable; i++)
        free(unavailable[i]);
    free(unavailable);
    unavailable = NULL;
    nunavailable = 0;
}
