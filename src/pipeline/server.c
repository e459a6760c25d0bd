/*
 * The process-wide IHttpServer handed to RegisterModule. One static object
 * whose vtable is the full IHttpServer3 layout serves IHttpServer,
 * IHttpServer2 and IHttpServer3 alike (they are single-inheritance
 * supersets of each other). It also owns the fragment cache and answers
 * HttpGetExtendedInterface through IHttpServer2's GUID-based
 * GetExtendedInterface.
 *
 * The "api-status:" comments before some methods give their state in
 * docs/api-status.md (tools/api_status.py) where "implemented" or "not
 * implemented" alone would not be the whole truth.
 */
#include "pipeline/perf.h"
#include "pipeline/server.h"
#include "pipeline/trace.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/adminapi.h"
#include "pipeline/cacheops.h"
#include "pipeline/container.h"
#include "pipeline/engine.h"
#include "pipeline/filecache.h"
#include "pipeline/globals.h"
#include "pipeline/reload.h"

static atomic_bool terminating;

/* The application pool iisd reports (there is exactly one). */
static const wchar_t app_pool_name[] = L"DefaultAppPool";

void iisd_server_set_terminating(void)
{
    atomic_store(&terminating, true);
}

/* UTF-8 copy of a module-supplied wide string for a log line (truncated to cap). */
static const char *wcs_for_log(PCWSTR s, char *buf, size_t cap)
{
    if (s == NULL)
        return "(null)";
    iisd_wcs_to_utf8(s, wcslen(s), buf, cap);
    return buf;
}

/* Index of the single bit set in a GL_* mask (what iisd_global_notify takes). */
#define GL_BIT(mask) ((DWORD)__builtin_ctz(mask))

/* ---- IHttpServer: process and thread pool ------------------------------- */

static BOOL srv_IsCommandLineLaunch(IHttpServer3 *This)
{
    return TRUE;
}

static PCWSTR srv_GetAppPoolName(IHttpServer3 *This)
{
    return app_pool_name;
}

/* A Windows I/O completion port binding: iisd modules wait on their own descriptors or threads. */
/* api-status: not implemented (E_NOTIMPL: Windows I/O completion ports have no Linux counterpart) */
static HRESULT srv_AssociateWithThreadPool(IHttpServer3 *This, HANDLE hHandle,
                                           LPOVERLAPPED_COMPLETION_ROUTINE completionRoutine)
{
    return E_NOTIMPL;
}

/*
 * No-op: iisd has no fixed-size pool to grow. When module code blocks on a
 * loop's thread past the takeover threshold, the worker monitor hands that
 * loop to a spare thread (src/net/worker.h), so blocking work never starves
 * the other connections and needs no announcement.
 */
/* api-status: implemented (no-op: iisd adds threads by itself when module code blocks) */
static VOID srv_IncrementThreadCount(IHttpServer3 *This) {}

/* No-op, see srv_IncrementThreadCount. */
/* api-status: implemented (no-op: iisd adds threads by itself when module code blocks) */
static VOID srv_DecrementThreadCount(IHttpServer3 *This) {}

/* IIS's WAS would recycle the worker; iisd has no process manager above it, so the report is logged. */
/* api-status: partial: logs the reason; no process manager acts on it */
static VOID srv_ReportUnhealthy(IHttpServer3 *This, PCWSTR pszReasonString, HRESULT hrReason)
{
    char reason[512];
    iisd_log(IISD_LOG_WARN, "a module reported the server unhealthy: %s (HRESULT 0x%08x)",
             wcs_for_log(pszReasonString, reason, sizeof(reason)), (unsigned)hrReason);
}

/* api-status: partial: logs the request; iisd does not recycle its process */
static VOID srv_RecycleProcess(IHttpServer3 *This, PCWSTR pszReason)
{
    char reason[512];
    iisd_log(IISD_LOG_WARN,
             "a module asked to recycle the worker process (%s); iisd does not recycle, ignored",
             wcs_for_log(pszReason, reason, sizeof(reason)));
}

/*
 * The process-wide admin manager (src/pipeline/adminapi.c), handed out
 * without a reference as on IIS: modules do not Release it.
 */
/* api-status: implemented (the same object also answers IAppHostWritableAdminManager) */
static IAppHostAdminManager *srv_GetAdminManager(IHttpServer3 *This)
{
    return iisd_admin_manager();
}

/* The open-file cache (filecache.h); E_FAIL once shutdown has begun, as on IIS. */
/* api-status: implemented (hUserToken, pSid and the change-notification arguments are ignored: files are
   opened with the server's rights and watched by the cache itself) */
static HRESULT srv_GetFileInfo(IHttpServer3 *This, PCWSTR pszPhysicalPath, HANDLE hUserToken, PSID pSid,
                               PCWSTR pszChangeNotificationPath, HANDLE hChangeNotificationToken, BOOL fCache,
                               IHttpFileInfo **ppFileInfo, IHttpTraceContext *pHttpTraceContext)
{
    if (ppFileInfo != NULL)
        *ppFileInfo = NULL;
    if (atomic_load(&terminating))
        return E_FAIL;
    return iisd_filecache_get(pszPhysicalPath, fCache, ppFileInfo);
}

/* Linux has no http.sys kernel response cache, so there is never anything to flush. */
/* api-status: implemented (no kernel cache on Linux: nothing to flush) */
static HRESULT srv_FlushKernelCache(IHttpServer3 *This, PCWSTR pszUrl)
{
    return S_OK;
}

/*
 * Raises GL_CACHE_OPERATION, then (unless a module handled it) runs the
 * operation on the cache the key names (cacheops.h). For ADD,
 * *ppCacheSpecificData is the record to store.
 */
/* api-status: implemented (caches "FILE" and module-named caches; "URI" and "TOKEN": ERROR_NOT_SUPPORTED) */
static HRESULT srv_DoCacheOperation(IHttpServer3 *This, CACHE_OPERATION cacheOperation,
                                    IHttpCacheKey *pCacheKey, IHttpCacheSpecificData **ppCacheSpecificData,
                                    IHttpTraceContext *pHttpTraceContext)
{
    return iisd_cache_operation(cacheOperation, pCacheKey, ppCacheSpecificData, pHttpTraceContext);
}

/* Raises GL_CUSTOM_NOTIFICATION with the module's own provider. */
static GLOBAL_NOTIFICATION_STATUS srv_NotifyCustomNotification(IHttpServer3 *This,
                                                               ICustomNotificationProvider *pCustomOutput)
{
    if (pCustomOutput == NULL)
        return GL_NOTIFICATION_CONTINUE;
    return iisd_global_notify(GL_BIT(GL_CUSTOM_NOTIFICATION), (IHttpEventProvider *)pCustomOutput);
}

/* The server's counters (perf.c), read through the IISD_SERVER_PERF_COUNTER_<n> server variables. */
static IHttpPerfCounterInfo *srv_GetPerfCounterInfo(IHttpServer3 *This)
{
    return iisd_perf_server();
}

/*
 * Recycling an application is loading a new configuration generation: the
 * application (every application: they share the generation) gets
 * GL_APPLICATION_STOP once its last request is over, its module contexts
 * are cleaned up, and it starts again (GL_APPLICATION_RESOLVE_MODULES,
 * GL_APPLICATION_START) with its next request. Asynchronous, as on IIS.
 */
/* api-status: implemented (recycles every application: they share one configuration generation) */
static VOID srv_RecycleApplication(IHttpServer3 *This, PCWSTR pszAppConfigPath)
{
    char path[512];
    iisd_log(IISD_LOG_INFO, "a module asked to recycle application %s",
             wcs_for_log(pszAppConfigPath, path, sizeof(path)));
    if (pszAppConfigPath != NULL && !atomic_load(&terminating))
        iisd_reload_recycle();
}

/* ---- GL_CONFIGURATION_CHANGE and GL_FILE_CHANGE ------------------------- */

/* Providers built on the caller's stack for the length of one notification. */
typedef struct config_change_provider {
    IGlobalConfigurationChangeProvider iface; /* first */
    PCWSTR path;
    HRESULT error;
} config_change_provider_t;

typedef struct file_change_provider {
    IGlobalFileChangeProvider iface; /* first */
    PCWSTR file;
    IHttpFileMonitor *monitor;
    HRESULT error;
} file_change_provider_t;

static VOID ccp_SetErrorStatus(IGlobalConfigurationChangeProvider *This, HRESULT hrError)
{
    ((config_change_provider_t *)This)->error = hrError;
}

static PCWSTR ccp_GetChangePath(IGlobalConfigurationChangeProvider *This)
{
    return ((config_change_provider_t *)This)->path;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalConfigurationChangeProviderVtbl v;
} ccp_vtbl = {NULL,
              NULL,
              {
                  .SetErrorStatus = ccp_SetErrorStatus,
                  .GetChangePath = ccp_GetChangePath,
              }};

static VOID fcp_SetErrorStatus(IGlobalFileChangeProvider *This, HRESULT hrError)
{
    ((file_change_provider_t *)This)->error = hrError;
}

static PCWSTR fcp_GetFileName(IGlobalFileChangeProvider *This)
{
    return ((file_change_provider_t *)This)->file;
}

/* The monitor that saw the change; NULL for IHttpServer::NotifyFileChange. */
static IHttpFileMonitor *fcp_GetFileMonitor(IGlobalFileChangeProvider *This)
{
    return ((file_change_provider_t *)This)->monitor;
}

static const struct {
    void *offset_to_top, *rtti;
    IGlobalFileChangeProviderVtbl v;
} fcp_vtbl = {NULL,
              NULL,
              {
                  .SetErrorStatus = fcp_SetErrorStatus,
                  .GetFileName = fcp_GetFileName,
                  .GetFileMonitor = fcp_GetFileMonitor,
              }};

static void log_provider_error(const char *what, PCWSTR subject, HRESULT hr)
{
    char s[512];
    if (FAILED(hr))
        iisd_log(IISD_LOG_WARN, "a module reported HRESULT 0x%08x for the %s notification of %s",
                 (unsigned)hr, what, wcs_for_log(subject, s, sizeof(s)));
}

/* Raises GL_CONFIGURATION_CHANGE on the calling thread. */
static VOID srv_NotifyConfigurationChange(IHttpServer3 *This, PCWSTR pszPath)
{
    if (pszPath == NULL)
        return;
    config_change_provider_t p = {.iface.lpVtbl = &ccp_vtbl.v, .path = pszPath, .error = S_OK};
    iisd_global_notify(GL_BIT(GL_CONFIGURATION_CHANGE), (IHttpEventProvider *)&p.iface);
    log_provider_error("configuration change", pszPath, p.error);
}

void iisd_notify_file_change(PCWSTR file, IHttpFileMonitor *monitor)
{
    file_change_provider_t p = {.iface.lpVtbl = &fcp_vtbl.v, .file = file, .monitor = monitor, .error = S_OK};
    iisd_global_notify(GL_BIT(GL_FILE_CHANGE), (IHttpEventProvider *)&p.iface);
    log_provider_error("file change", file, p.error);
}

/* Raises GL_FILE_CHANGE on the calling thread. */
static VOID srv_NotifyFileChange(IHttpServer3 *This, PCWSTR pszFileName)
{
    if (pszFileName != NULL)
        iisd_notify_file_change(pszFileName, NULL);
}

static IDispensedHttpModuleContextContainer *srv_DispenseContainer(IHttpServer3 *This)
{
    return iisd_container_dispense();
}

/* ---- fragment cache ----------------------------------------------------- */

/*
 * Named byte strings that modules store with AddFragmentToCache. A chained
 * hash keyed by the exact wide name; adding an existing name replaces it
 * (as the http.sys fragment cache does). Entries live until removed or the
 * process exits.
 */
#define FRAG_BUCKETS 64

typedef struct fragment {
    struct fragment *next;
    uint32_t hash;
    size_t name_len;
    wchar_t *name; /* points into the same allocation */
    DWORD size;
    BYTE data[];
} fragment_t;

static struct {
    pthread_mutex_t lock;
    fragment_t *buckets[FRAG_BUCKETS];
} frags = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint32_t frag_hash(const wchar_t *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a over the code points */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The link that points at the fragment named s, or at the NULL ending its chain. Lock held. */
static fragment_t **frag_find_locked(const wchar_t *s, size_t n, uint32_t h)
{
    fragment_t **pp = &frags.buckets[h % FRAG_BUCKETS];
    for (; *pp != NULL; pp = &(*pp)->next) {
        fragment_t *f = *pp;
        if (f->hash == h && f->name_len == n && wmemcmp(f->name, s, n) == 0)
            break;
    }
    return pp;
}

/* api-status: partial: HttpDataChunkFromMemory chunks only (others: ERROR_NOT_SUPPORTED) */
static HRESULT srv_AddFragmentToCache(IHttpServer3 *This, HTTP_DATA_CHUNK *pDataChunk, PCWSTR pszFragmentName)
{
    if (pDataChunk == NULL || pszFragmentName == NULL)
        return E_INVALIDARG;
    if (pDataChunk->DataChunkType != HttpDataChunkFromMemory)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    DWORD size = pDataChunk->FromMemory.BufferLength;
    if (pDataChunk->FromMemory.pBuffer == NULL && size != 0)
        return E_INVALIDARG;

    size_t n = wcslen(pszFragmentName);
    /* data first, then the name, aligned for wchar_t */
    size_t name_off = (offsetof(fragment_t, data) + size + _Alignof(wchar_t) - 1) & ~(_Alignof(wchar_t) - 1);
    fragment_t *f = iisd_xmalloc(name_off + (n + 1) * sizeof(wchar_t));
    f->hash = frag_hash(pszFragmentName, n);
    f->name_len = n;
    f->name = (wchar_t *)((char *)f + name_off);
    wmemcpy(f->name, pszFragmentName, n + 1);
    f->size = size;
    if (size != 0)
        memcpy(f->data, pDataChunk->FromMemory.pBuffer, size);

    pthread_mutex_lock(&frags.lock);
    fragment_t **pp = frag_find_locked(f->name, n, f->hash);
    fragment_t *old = *pp;
    f->next = old != NULL ? old->next : NULL;
    *pp = f;
    pthread_mutex_unlock(&frags.lock);
    free(old);
    return S_OK;
}

/*
 * Copies the fragment into pvBuffer. When cbSize is too small, copies the
 * first cbSize bytes, sets *pcbCopied to the size needed and returns
 * ERROR_INSUFFICIENT_BUFFER. An unknown name gives ERROR_PATH_NOT_FOUND,
 * the code the IIS documentation lists for this method.
 */
static HRESULT srv_ReadFragmentFromCache(IHttpServer3 *This, PCWSTR pszFragmentName, BYTE *pvBuffer,
                                         DWORD cbSize, DWORD *pcbCopied)
{
    if (pszFragmentName == NULL || pcbCopied == NULL || (pvBuffer == NULL && cbSize != 0))
        return E_INVALIDARG;
    size_t n = wcslen(pszFragmentName);
    HRESULT hr;
    pthread_mutex_lock(&frags.lock);
    fragment_t *f = *frag_find_locked(pszFragmentName, n, frag_hash(pszFragmentName, n));
    if (f == NULL) {
        *pcbCopied = 0;
        hr = HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    } else {
        DWORD copy = f->size <= cbSize ? f->size : cbSize;
        if (copy != 0)
            memcpy(pvBuffer, f->data, copy);
        *pcbCopied = f->size;
        hr = f->size <= cbSize ? S_OK : HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    }
    pthread_mutex_unlock(&frags.lock);
    return hr;
}

static HRESULT srv_RemoveFragmentFromCache(IHttpServer3 *This, PCWSTR pszFragmentName)
{
    if (pszFragmentName == NULL)
        return E_INVALIDARG;
    size_t n = wcslen(pszFragmentName);
    pthread_mutex_lock(&frags.lock);
    fragment_t **pp = frag_find_locked(pszFragmentName, n, frag_hash(pszFragmentName, n));
    fragment_t *f = *pp;
    if (f != NULL)
        *pp = f->next;
    pthread_mutex_unlock(&frags.lock);
    if (f == NULL)
        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    free(f);
    return S_OK;
}

/* ---- IHttpServer: the rest ---------------------------------------------- */

/* IWpfSettings are the settings WAS hands a worker process; iisd has no WAS above it. */
/* api-status: not implemented (E_NOTIMPL: no Windows Process Activation Service, so no worker-process
 * settings) */
static HRESULT srv_GetWorkerProcessSettings(IHttpServer3 *This, IWpfSettings **ppWorkerProcessSettings)
{
    if (ppWorkerProcessSettings != NULL)
        *ppWorkerProcessSettings = NULL;
    return E_NOTIMPL;
}

/* api-status: not implemented (E_NOTIMPL: WAS protocol manager DLLs do not exist on Linux) */
static HRESULT srv_GetProtocolManagerCustomInterface(IHttpServer3 *This, PCWSTR pProtocolManagerDll,
                                                     PCWSTR pProtocolManagerDllInitFunction,
                                                     DWORD dwCustomInterfaceId, PVOID *ppCustomInterface)
{
    if (ppCustomInterface != NULL)
        *ppCustomInterface = NULL;
    return E_NOTIMPL;
}

static bool wcs_ieq_ascii(const wchar_t *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i] != '\0'; i++) {
        wchar_t c = s[i];
        if (c >= L'A' && c <= L'Z')
            c += L'a' - L'A';
        if (c != (wchar_t)iisd_tolower(lit[i]))
            return false;
    }
    return i == n && lit[i] == '\0';
}

static bool wcs_iprefix_ascii(const wchar_t *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && wcs_ieq_ascii(s, l, lit);
}

static bool is_blank(wchar_t c)
{
    return c == L' ' || c == L'\t';
}

/* The next `sep`-separated item of [*p, end), without surrounding blanks. */
static void next_item(const wchar_t **p, const wchar_t *end, wchar_t sep, const wchar_t **item, size_t *len)
{
    const wchar_t *s = *p, *e = s;
    while (e < end && *e != sep)
        e++;
    *p = e < end ? e + 1 : end;
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    *item = s;
    *len = (size_t)(e - s);
}

/* One precondition token: 1 met, 0 not met, -1 unknown. */
static int precondition_token(const wchar_t *t, size_t n)
{
    if (wcs_ieq_ascii(t, n, "integratedMode"))
        return 1;
    if (wcs_ieq_ascii(t, n, "classicMode") || wcs_ieq_ascii(t, n, "ISAPIMode"))
        return 0;
    if (wcs_ieq_ascii(t, n, "bitness64"))
        return sizeof(void *) == 8;
    if (wcs_ieq_ascii(t, n, "bitness32"))
        return sizeof(void *) == 4;
    if (wcs_iprefix_ascii(t, n, "runtimeVersionv") && n > strlen("runtimeVersionv"))
        return 0; /* no managed runtime */
    if (wcs_ieq_ascii(t, n, "managedHandler"))
        return 0;
    if (wcs_iprefix_ascii(t, n, "appPoolName=")) {
        const wchar_t *p = t + strlen("appPoolName="), *end = t + n;
        while (p < end) {
            const wchar_t *name;
            size_t len;
            next_item(&p, end, L';', &name, &len);
            if (len == wcslen(app_pool_name) && wcsncasecmp(name, app_pool_name, len) == 0)
                return 1;
        }
        return 0;
    }
    return -1;
}

/*
 * A comma-separated list of conditions that must all hold (the syntax of
 * <globalModules>/<modules>/<handlers> preCondition attributes), compared
 * case-insensitively. An empty list holds. An unknown condition makes the
 * result FALSE and sets *pfUnknownPrecondition.
 */
static BOOL srv_SatisfiesPrecondition(IHttpServer3 *This, PCWSTR pszPrecondition, BOOL *pfUnknownPrecondition)
{
    if (pfUnknownPrecondition != NULL)
        *pfUnknownPrecondition = FALSE;
    if (pszPrecondition == NULL)
        return TRUE;
    const wchar_t *p = pszPrecondition, *end = p + wcslen(p);
    BOOL met = TRUE;
    while (p < end) {
        const wchar_t *t;
        size_t n;
        next_item(&p, end, L',', &t, &n);
        if (n == 0)
            continue;
        int r = precondition_token(t, n);
        if (r < 0 && pfUnknownPrecondition != NULL)
            *pfUnknownPrecondition = TRUE;
        if (r <= 0)
            met = FALSE;
    }
    return met;
}

static IHttpTraceContext *srv_GetTraceContext(IHttpServer3 *This)
{
    return iisd_trace_server_context();
}

/*
 * Watches a folder (or a file) with inotify. GL_FILE_CHANGE is raised on the
 * server thread (globals.h) for every entry of the folder that is created,
 * written and closed, deleted, renamed or whose attributes change, with the
 * entry's full path and this monitor. DereferenceFileMonitor stops it.
 */
/* api-status: implemented (hToken is ignored: the folder is watched with the server's rights) */
static HRESULT srv_RegisterFileChangeMonitor(IHttpServer3 *This, PCWSTR pszPath, HANDLE hToken,
                                             IHttpFileMonitor **ppFileMonitor)
{
    return iisd_filemon_register(pszPath, ppFileMonitor);
}

static IHttpServer3 server;

/* HTTP_SERVER_INTERFACE_V2 and _V3 both yield this object: its vtable is the IHttpServer3 layout. */
static HRESULT srv_GetExtendedInterface(IHttpServer3 *This, HTTP_SERVER_INTERFACE_VERSION version,
                                        PVOID *ppInterface)
{
    if (ppInterface == NULL)
        return E_INVALIDARG;
    if (version != HTTP_SERVER_INTERFACE_V2 && version != HTTP_SERVER_INTERFACE_V3) {
        *ppInterface = NULL;
        return E_NOINTERFACE;
    }
    *ppInterface = &server;
    return S_OK;
}

/* ---- IHttpServer2 ------------------------------------------------------- */

/*
 * Windows logon tokens have no Linux counterpart: a process changes user
 * with setuid, not by impersonating a token, so there is no token cache and
 * no IHttpTokenEntry object (its cache name "TOKEN" answers
 * ERROR_NOT_SUPPORTED in DoCacheOperation).
 */
/* api-status: not implemented (E_NOTIMPL: Linux has no logon tokens, so no IHttpTokenEntry either) */
static HRESULT srv_GetToken(IHttpServer3 *This, PCWSTR pszUserName, PCWSTR pszPassword, DWORD dwLogonMethod,
                            IHttpTokenEntry **ppTokenEntry, PCWSTR pszDefaultDomain, PSOCKADDR pSockAddr,
                            IHttpTraceContext *pHttpTraceContext)
{
    if (ppTokenEntry != NULL)
        *ppTokenEntry = NULL;
    return E_NOTIMPL;
}

static wchar_t *pool_config_file;

void iisd_server_set_config_file(const char *path)
{
    free(pool_config_file);
    pool_config_file = NULL;
    if (path == NULL)
        return;
    size_t n = strlen(path);
    pool_config_file = iisd_xmalloc((n + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(path, n, pool_config_file, n + 1);
}

/*
 * IIS writes one configuration file per application pool (a filtered copy
 * of applicationHost.config). iisd's one pool reads applicationHost.config
 * itself, so that file is the pool's: its absolute path, or NULL when the
 * server runs on its built-in configuration (no file).
 */
/* api-status: implemented (the applicationHost.config iisd reads; NULL with the built-in configuration) */
static PCWSTR srv_GetAppPoolConfigFile(IHttpServer3 *This, DWORD *pcchConfigFilePath)
{
    if (pcchConfigFilePath != NULL)
        *pcchConfigFilePath = pool_config_file ? (DWORD)wcslen(pool_config_file) : 0;
    return pool_config_file;
}

/*
 * Interface families for HttpGetExtendedInterface: every iisd object
 * implements the most-derived interface of its family, so converting
 * between two members of one family returns the same pointer.
 */
enum iid_family {
    FAM_CONTEXT = 1,
    FAM_REQUEST,
    FAM_RESPONSE,
    FAM_SERVER,
    FAM_APPLICATION,
    FAM_CACHE_POLICY,
    FAM_COMPLETION_INFO,
    FAM_PRELOAD_PROVIDER,
    FAM_REGISTRATION_INFO,
    FAM_METADATA,
};

static const struct {
    const GUID *iid;
    enum iid_family family;
} iid_families[] = {
    {&IID_IHttpContext, FAM_CONTEXT},
    {&IID_IHttpContext2, FAM_CONTEXT},
    {&IID_IHttpContext3, FAM_CONTEXT},
    {&IID_IHttpContext4, FAM_CONTEXT},
    {&IID_IHttpRequest, FAM_REQUEST},
    {&IID_IHttpRequest2, FAM_REQUEST},
    {&IID_IHttpRequest3, FAM_REQUEST},
    {&IID_IHttpRequest4, FAM_REQUEST},
    {&IID_IHttpResponse, FAM_RESPONSE},
    {&IID_IHttpResponse2, FAM_RESPONSE},
    {&IID_IHttpResponse3, FAM_RESPONSE},
    {&IID_IHttpResponse4, FAM_RESPONSE},
    {&IID_IHttpServer, FAM_SERVER},
    {&IID_IHttpServer2, FAM_SERVER},
    {&IID_IHttpServer3, FAM_SERVER},
    {&IID_IHttpApplication, FAM_APPLICATION},
    {&IID_IHttpApplication2, FAM_APPLICATION},
    {&IID_IHttpCachePolicy, FAM_CACHE_POLICY},
    {&IID_IHttpCachePolicy2, FAM_CACHE_POLICY},
    {&IID_IHttpCompletionInfo, FAM_COMPLETION_INFO},
    {&IID_IHttpCompletionInfo2, FAM_COMPLETION_INFO},
    {&IID_IGlobalApplicationPreloadProvider, FAM_PRELOAD_PROVIDER},
    {&IID_IGlobalApplicationPreloadProvider2, FAM_PRELOAD_PROVIDER},
    {&IID_IHttpModuleRegistrationInfo, FAM_REGISTRATION_INFO},
    {&IID_IHttpModuleRegistrationInfo2, FAM_REGISTRATION_INFO},
    {&IID_IMetadataInfo, FAM_METADATA},
    {&IID_IReferencedMetadataInfo, FAM_METADATA},
};

static int iid_family_of(const GUID *iid)
{
    for (size_t i = 0; i < IISD_ARRAY_SIZE(iid_families); i++)
        if (IsEqualGUID(iid, iid_families[i].iid))
            return (int)iid_families[i].family;
    return 0;
}

/*
 * C++ IHttpServer2::GetExtendedInterface(REFGUID, PVOID, REFGUID, PVOID *),
 * which HttpGetExtendedInterface calls. Converts within a family only.
 */
/* api-status: implemented (within a family; a request's IMetadataInfo to IReferencedMetadataInfo:
 * E_NOINTERFACE) */
static HRESULT srv_GetExtendedInterfaceByGuid(IHttpServer3 *This, REFGUID Version1, PVOID pInput,
                                              REFGUID Version2, PVOID *ppOutput)
{
    if (ppOutput == NULL)
        return E_INVALIDARG;
    *ppOutput = NULL;
    if (Version1 == NULL || Version2 == NULL || pInput == NULL)
        return E_INVALIDARG;
    int fam = iid_family_of(Version1);
    /* iisd's extension for authentication modules: from the server to its user factory */
    if (fam == FAM_SERVER && IsEqualGUID(Version2, &IID_IIisdUserFactory)) {
        *ppOutput = iisd_user_factory();
        return S_OK;
    }
    if (fam == 0 || fam != iid_family_of(Version2))
        return E_NOINTERFACE;
    /* a request's metadata is a plain IMetadataInfo (only GetMetadata's objects are referenced) */
    if (IsEqualGUID(Version2, &IID_IReferencedMetadataInfo) &&
        !IsEqualGUID(Version1, &IID_IReferencedMetadataInfo))
        return E_NOINTERFACE;
    *ppOutput = pInput;
    return S_OK;
}

/* ---- IHttpServer2::GetMetadata: IReferencedMetadataInfo outside a request ---- */

typedef struct ref_meta {
    IReferencedMetadataInfo iface; /* first */
    _Atomic int refs;
    iisd_conf_t *conf; /* one reference: the container belongs to this generation */
    wchar_t *meta_path, *vr_path;
    IHttpModuleContextContainer *container;
} ref_meta_t;

static PCWSTR rm_GetMetaPath(IReferencedMetadataInfo *This)
{
    return ((ref_meta_t *)This)->meta_path;
}

/* The physical folder of the root virtual directory of the URL's application. */
static PCWSTR rm_GetVrPath(IReferencedMetadataInfo *This)
{
    return ((ref_meta_t *)This)->vr_path;
}

/* api-status: implemented (NULL: virtual directories have no Windows logon token on Linux) */
static IHttpTokenEntry *rm_GetVrToken(IReferencedMetadataInfo *This)
{
    return NULL;
}

/* The container requests to this configuration path see through IHttpContext::GetMetadata. */
static IHttpModuleContextContainer *rm_GetModuleContextContainer(IReferencedMetadataInfo *This)
{
    return ((ref_meta_t *)This)->container;
}

static VOID rm_ReferenceMetadata(IReferencedMetadataInfo *This)
{
    atomic_fetch_add_explicit(&((ref_meta_t *)This)->refs, 1, memory_order_relaxed);
}

static VOID rm_DereferenceMetadata(IReferencedMetadataInfo *This)
{
    ref_meta_t *m = (ref_meta_t *)This;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    iisd_conf_unref(m->conf);
    free(m->meta_path);
    free(m->vr_path);
    free(m);
}

static const struct {
    void *offset_to_top, *rtti;
    IReferencedMetadataInfoVtbl v;
} rm_vtbl = {NULL,
             NULL,
             {.GetMetaPath = rm_GetMetaPath,
              .GetVrPath = rm_GetVrPath,
              .GetVrToken = rm_GetVrToken,
              .GetModuleContextContainer = rm_GetModuleContextContainer,
              .ReferenceMetadata = rm_ReferenceMetadata,
              .DereferenceMetadata = rm_DereferenceMetadata}};

static wchar_t *wcs_from_utf8(const char *s)
{
    size_t n = strlen(s);
    wchar_t *w = iisd_xmalloc((n + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(s, n, w, n + 1);
    return w;
}

/*
 * The metadata of a URL of a site (by name), in the current configuration:
 * what IHttpContext::GetMetadata gives a request for that URL, with a
 * reference for the caller (DereferenceMetadata). ERROR_NOT_FOUND for a site
 * that does not exist.
 */
static HRESULT srv_GetMetadata(IHttpServer3 *This, PCWSTR pszSiteName, PCWSTR pszUrl,
                               IReferencedMetadataInfo **ppMetadataInfo)
{
    if (ppMetadataInfo == NULL)
        return E_INVALIDARG;
    *ppMetadataInfo = NULL;
    if (pszSiteName == NULL || pszUrl == NULL || pszUrl[0] != L'/')
        return E_INVALIDARG;
    char site_name[512], url[4096];
    iisd_wcs_to_utf8(pszSiteName, wcslen(pszSiteName), site_name, sizeof(site_name));
    size_t ul = iisd_wcs_to_utf8(pszUrl, wcslen(pszUrl), url, sizeof(url));
    if (ul >= sizeof(url))
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    iisd_conf_t *conf = iisd_pipeline_acquire();
    const iisd_sitedef_t *site = conf ? iisd_sites_find(&conf->sites, site_name) : NULL;
    if (site == NULL) {
        iisd_conf_unref(conf);
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    while (ul > 1 && url[ul - 1] == '/')
        url[--ul] = '\0';
    char path[4700];
    snprintf(path, sizeof(path), "MACHINE/WEBROOT/APPHOST/%s%s", site->name, ul == 1 ? "" : url);
    const iisd_app_t *app = iisd_site_app(site, url, ul);
    char *phys = iisd_site_map(site, app->path, strlen(app->path));
    ref_meta_t *m = iisd_xcalloc(1, sizeof(*m));
    m->iface.lpVtbl = &rm_vtbl.v;
    m->refs = 1;
    m->conf = conf;
    m->meta_path = wcs_from_utf8(path);
    m->vr_path = wcs_from_utf8(phys ? phys : "");
    free(phys);
    m->container = iisd_pipeline_meta_container(conf, path);
    *ppMetadataInfo = &m->iface;
    return S_OK;
}

/* api-status: not implemented (E_NOTIMPL: IWorkerProcessFramework is the Windows Process Activation Service
 * framework through which protocol managers talk to the worker process; there is none on Linux) */
static HRESULT srv_GetWorkerProcessFramework(IHttpServer3 *This,
                                             IWorkerProcessFramework **ppWorkerProcessFramework)
{
    if (ppWorkerProcessFramework != NULL)
        *ppWorkerProcessFramework = NULL;
    return E_NOTIMPL;
}

/* ---- IHttpServer3 ------------------------------------------------------- */

/* api-status: not implemented (E_NOTIMPL: the properties are HTTP.sys's own, Windows TCP_INFO and QUIC
 * statistics, SNI, timings of the Windows socket stack; iisd has no HTTP.sys request ids, TLS or QUIC) */
static HRESULT srv_QueryRequestProperty(IHttpServer3 *This, HTTP_OPAQUE_ID id,
                                        HTTP_REQUEST_PROPERTY propertyId, PVOID pQualifier,
                                        ULONG qualifierSize, PVOID pOutput, ULONG outputBufferSize,
                                        PULONG pcbBytesReturned, LPOVERLAPPED pOverlapped)
{
    if (pcbBytesReturned != NULL)
        *pcbBytesReturned = 0;
    return E_NOTIMPL;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpServer3Vtbl v;
} server_vtbl = {NULL,
                 NULL,
                 {
                     .IsCommandLineLaunch = srv_IsCommandLineLaunch,
                     .GetAppPoolName = srv_GetAppPoolName,
                     .AssociateWithThreadPool = srv_AssociateWithThreadPool,
                     .IncrementThreadCount = srv_IncrementThreadCount,
                     .DecrementThreadCount = srv_DecrementThreadCount,
                     .ReportUnhealthy = srv_ReportUnhealthy,
                     .RecycleProcess = srv_RecycleProcess,
                     .GetAdminManager = srv_GetAdminManager,
                     .GetFileInfo = srv_GetFileInfo,
                     .FlushKernelCache = srv_FlushKernelCache,
                     .DoCacheOperation = srv_DoCacheOperation,
                     .NotifyCustomNotification = srv_NotifyCustomNotification,
                     .GetPerfCounterInfo = srv_GetPerfCounterInfo,
                     .RecycleApplication = srv_RecycleApplication,
                     .NotifyConfigurationChange = srv_NotifyConfigurationChange,
                     .NotifyFileChange = srv_NotifyFileChange,
                     .DispenseContainer = srv_DispenseContainer,
                     .AddFragmentToCache = srv_AddFragmentToCache,
                     .ReadFragmentFromCache = srv_ReadFragmentFromCache,
                     .RemoveFragmentFromCache = srv_RemoveFragmentFromCache,
                     .GetWorkerProcessSettings = srv_GetWorkerProcessSettings,
                     .GetProtocolManagerCustomInterface = srv_GetProtocolManagerCustomInterface,
                     .SatisfiesPrecondition = srv_SatisfiesPrecondition,
                     .GetTraceContext = srv_GetTraceContext,
                     .RegisterFileChangeMonitor = srv_RegisterFileChangeMonitor,
                     .GetExtendedInterface = srv_GetExtendedInterface,
                     .GetToken = srv_GetToken,
                     .GetAppPoolConfigFile = srv_GetAppPoolConfigFile,
                     .GetExtendedInterfaceByGuid = srv_GetExtendedInterfaceByGuid,
                     .GetMetadata = srv_GetMetadata,
                     .GetWorkerProcessFramework = srv_GetWorkerProcessFramework,
                     .QueryRequestProperty = srv_QueryRequestProperty,
                 }};

static IHttpServer3 server = {.lpVtbl = &server_vtbl.v};

IHttpServer *iisd_http_server(void)
{
    return (IHttpServer *)&server;
}
