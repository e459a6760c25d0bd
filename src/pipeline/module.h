/*
 * Native modules: loading (dlopen with RTLD_LOCAL, or a linked-in
 * RegisterModule), the IHttpModuleRegistrationInfo each one registers
 * through, and what it registered (factory, global module, notification
 * masks and priorities).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <httpserv.h>

/* Priority ranks: lower runs first (for RQ_SEND_RESPONSE the order is reversed). */
enum iisd_prio { IISD_PRIO_FIRST = 0, IISD_PRIO_HIGH, IISD_PRIO_MEDIUM, IISD_PRIO_LOW, IISD_PRIO_LAST };

typedef struct iisd_module {
    IHttpModuleRegistrationInfo2 reg; /* must stay first */
    char *name;
    wchar_t *wname;
    char *image; /* file, or "(built-in)" */
    void *dl;
    unsigned id; /* registration order; HTTP_MODULE_ID is id + 1 */
    IHttpModuleFactory *factory;
    DWORD rq_mask, post_mask;
    uint8_t rq_prio[32];   /* by bit number */
    uint8_t post_prio[32]; /* by bit number */
    CGlobalModule *global;
    DWORD gl_mask;
    uint8_t gl_prio[32];
    bool registering; /* inside RegisterModule */
    /* registered by this module's OnGlobalApplicationResolveModules (NULL: loaded by the configuration) */
    const struct iisd_module *parent;
    IHttpModuleFactory *factory_done; /* at shutdown: the factory whose Terminate ran */
} iisd_module_t;

/* Modules ids are below this (the module array never moves). */
#define IISD_MAX_MODULES 1024

typedef HRESULT (*iisd_register_fn)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);

typedef struct iisd_builtin {
    const char *name;
    iisd_register_fn reg;
} iisd_builtin_t;

/* The linked-in modules (src/modules/builtin.c). */
extern const iisd_builtin_t iisd_builtins[];
const iisd_builtin_t *iisd_builtin_find(const char *name);

/* All loaded modules, in load order. */
typedef struct iisd_modules {
    iisd_module_t **v;
    unsigned n;
} iisd_modules_t;

extern iisd_modules_t iisd_modules;

/*
 * Loads `image` (a .so path, or NULL for the built-in module of that name)
 * and calls its RegisterModule. On failure returns NULL and writes a message
 * naming the module, the file and the dlerror text or HRESULT to err.
 */
iisd_module_t *iisd_module_load(const char *name, const char *image, char *err, size_t errlen);
/* The module whose RegisterModule is running (modules are loaded on the main thread), or NULL. */
extern iisd_module_t *iisd_module_registering;
iisd_module_t *iisd_module_find(const char *name);
/* Built-in modules the configuration names but this build does not have: skipped at load,
   and ignored in <modules>. */
void iisd_module_mark_unavailable(const char *name);
bool iisd_module_unavailable(const char *name);
static inline HTTP_MODULE_ID iisd_module_id(const iisd_module_t *m)
{
    return (HTTP_MODULE_ID)(uintptr_t)(m->id + 1);
}
/*
 * IHttpApplicationResolveModulesProvider::RegisterModule: a request module
 * with its own id, registered by `parent`. Registering the same name,
 * factory and notifications again returns the module registered before.
 * NULL with *hr (ERROR_ALREADY_EXISTS: the name of a configured module).
 * Thread-safe.
 */
iisd_module_t *iisd_module_add_dynamic(const iisd_module_t *parent, PCWSTR name, IHttpModuleFactory *factory,
                                       DWORD rq, DWORD post, HRESULT *hr);
/* Calls every factory's and global module's Terminate, then dlcloses. */
void iisd_modules_terminate(void);

/*
 * Does a preCondition hold in iisd? integratedMode holds; bitness32, bitness64 and
 * managedHandler are ignored (they hold); classicMode/ISAPIMode and runtimeVersion* do not
 * (there is no classic pipeline and no managed runtime); appPoolName=a;b holds when it names
 * DefaultAppPool; any other token does not hold. Tokens are comma-separated; all must hold.
 */
bool iisd_precondition_holds(const char *precondition);

/* Parses a PRIORITY_ALIAS_* string; -1 when unknown. */
int iisd_prio_parse(PCWSTR alias);
