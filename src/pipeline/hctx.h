/*
 * The server objects of one request: IHttpContext, IHttpRequest,
 * IHttpResponse and the providers, all laid out in one arena allocation
 * whose C vtables match the Itanium C++ ABI of include/httpserv.h.
 * Internal to src/pipeline.
 */
#pragma once
#include <stdatomic.h>
#include "pipeline/engine.h"

enum iisd_phase { PH_RUN = 0, PH_SENDING, PH_AFTER_SEND, PH_DONE };
enum iisd_async { AS_RUNNING = 0, AS_PENDING, AS_EARLY, AS_CANCEL /* CancelIo owns the resumption */ };
enum iisd_aio { IISD_AIO_NONE = 0, IISD_AIO_READ, IISD_AIO_WRITE };

typedef struct iisd_svar {
    struct iisd_svar *next;
    char *name;
    char *value;
    wchar_t *wvalue;
} iisd_svar_t;

typedef struct iisd_hctx {
    IHttpContext4 ctx; /* first: IHttpContext* casts to iisd_hctx_t* */
    IHttpRequest4 req;
    IHttpResponse4 resp;
    IHttpModuleContextContainer mcc;
    IModuleAllocator alloc;
    IHttpEventProvider evp;
    IAuthenticationProvider authp;
    IMapHandlerProvider maphp;
    ISendResponseProvider srp;
    IPreBeginRequestProvider prebp;
    IReadEntityProvider rep;
    IMapPathProvider mapp;
    IHttpCompletionInfo2 compl ;
    IHttpSite site;
    IHttpApplication2 app;
    IHttpConnection connobj;
    IMetadataInfo meta;
    IScriptMapInfo smap; /* the mapped <handlers> entry */

    iisd_conn_t *c;
    iisd_req_t *rq; /* the request head and the response: the connection's, or a child's own */
    iisd_arena_t *arena;
    const iisd_plan_t *plan;
    iisd_conf_t *conf; /* the generation this request runs on (a reference) */
    const iisd_sitedef_t *sitedef;
    const iisd_app_t *appdef;
    char *cpath; /* configuration path: MACHINE/WEBROOT/APPHOST/<site><url> */
    wchar_t *wcpath;
    CHttpModule **inst;        /* by module id */
    IHttpStoredContext **mctx; /* module contexts by module id */
    uint32_t *disabled_rq;     /* by module id */
    uint32_t *disabled_post;

    /* pipeline position */
    uint8_t phase;
    uint8_t stage;
    bool post;
    uint16_t idx;
    bool finish;
    bool handled;
    bool exec_ran;
    _Atomic int async_state;
    REQUEST_NOTIFICATION_STATUS early_status;
    DWORD compl_bytes;
    HRESULT compl_hr;
    bool compl_reenter; /* PostCompletion: call OnAsyncCompletion */
    iisd_task_t async_task;
    /* asynchronous I/O a module started; the loop completes it (engine.c) */
    struct {
        uint8_t kind;   /* IISD_AIO_* */
        bool fill;      /* READ: complete only when the buffer is full or the body ends */
        bool flush;     /* WRITE: report the wire bytes of the send (Flush), not `bytes` */
        void *buf;      /* READ: the module's buffer */
        DWORD cap;      /* READ */
        DWORD got;      /* READ: bytes already in buf */
        DWORD bytes;    /* WRITE: body bytes of the call */
        uint64_t base;  /* WRITE: bytes_sent before the send */
        bool armed;     /* the loop has taken it over (aio_arm ran) */
        bool cancelled; /* CancelIo: it completes with ERROR_OPERATION_ABORTED */
    } aio;
    _Atomic bool cancel_req;       /* CancelIo came while the module that started the I/O still ran */
    _Atomic uint32_t cancel_calls; /* CancelIo calls under way; the request ends after them (engine.c) */
    PFN_ASYNC_COMPLETION compl_fn; /* the ...Ex form's callback, in place of OnAsyncCompletion */
    VOID *compl_ctx;
    LPOVERLAPPED_COMPLETION_ROUTINE post_fn; /* PostCompletionEx */
    VOID *post_ctx;
    struct iisd_inserted *inserted; /* InsertEntityBody buffers not yet read, first first */

    /* the module running now (for GetStatus/GetCurrentExecutionStats) */
    iisd_module_t *cur_module;
    DWORD cur_notification;
    bool cur_post;
    uint64_t cur_start_ms;
    iisd_module_t *status_module;
    DWORD status_notification;

    /* ISendResponseProvider state */
    DWORD send_flags;
    bool send_final;
    bool send_headers;
    bool log_data_set;                   /* a module called SetLogData (logdata.c) */
    HTTP_LOG_FIELDS_DATA *log_data;      /* GetLogData's record; NULL until asked for or set */
    IISD_LOG_DATA_CONTEXT *log_data_ctx; /* the named context IISD_LOG_DATA once a record was set */

    /* request view */
    char *url; /* decoded, normalised path (URL server variable) */
    size_t url_len;
    wchar_t *wurl; /* same, wide (GetScriptName) */
    char *query;   /* raw, no '?' */
    size_t query_len;
    bool url_changed;
    char *method;   /* after SetHttpMethod */
    wchar_t *wphys; /* GetPhysicalPath cache */
    size_t wphys_len;
    iisd_svar_t *svars;
    struct iisd_cache_policy *cache_policy; /* IHttpResponse::GetCachePolicy; NULL until asked for */
    wchar_t *err_desc;
    DWORD err_desc_len;
    IHttpUser *user;

    /* handler mapping (handlers.c) */
    bool mapped;
    bool handler_mode;
    const iisd_celem_t *handlers_section;
    IHttpModuleContextContainer *meta_container;                    /* IMetadataInfo's, for this path */
    /* <handlers> at the request's path (NULL: unset or invalid) */ /* <handlers> is configured: only the
                                                                       handler's modules execute */
    const iisd_celem_t *handler;
    IScriptMapInfo *module_smap;  /* set by a module with IMapHandlerProvider::SetScriptMap */
    struct iisd_raw_req *raw_req; /* IHttpRequest::GetRawHttpRequest view (rawreq.c); NULL until asked for */
    struct iisd_raw *raw;         /* IHttpResponse::GetRawHttpResponse view; NULL until asked for */
    uint16_t raw_holders_running; /* calls of modules holding it under way (response.c) */
    iisd_list_t exec_list;
    bool exec_prepared;
    struct iisd_trace *trace; /* IHttpContext::GetTraceContext (trace.c); NULL until asked for */

    /* child requests (child.c) */
    struct iisd_hctx *parent;         /* NULL for the request the client sent */
    struct iisd_child *children;      /* contexts cloned from this one and not released, newest first */
    struct iisd_child *self;          /* a child's record in its parent's list */
    const iisd_celem_t *skip_handler; /* EXECUTE_FLAG_IGNORE_CURRENT_INTERCEPTOR */
    DWORD exec_flags;                 /* the EXECUTE_FLAG_* it runs with (GetExecuteFlags) */
    uint8_t depth;                    /* 0 for the client's request */
    bool executed;
    bool no_entity;    /* cloned without CLONE_FLAG_ENTITY: no request body */
    bool skip_auth;    /* executed with a user: RQ_AUTHENTICATE_REQUEST does not run */
    bool merged_heads; /* a child's status and headers went to its parent already */
    bool async_exec;   /* executed asynchronously: a pending notification parks it (no thread waits) */
    struct iisd_hctx *resume_child; /* a parked child whose completion came: its parent resumes it */
    struct iisd_hctx *parked_child; /* the child an asynchronous ExecuteRequest left parked */
    /* a request without a client connection (IGlobalApplicationPreloadProvider::CreateContext,
       warmup.c): a socketless connection object, and its output goes to memory */
    struct iisd_warmup *warmup;

    /* objects.c: URL info, file info, named contexts and change records, made on first use */
    struct iisd_reqobjs *objs;
    DWORD svar_change; /* SetServerVariable calls (GetServerVarChanges) */
} iisd_hctx_t;

/* A <handlers> section compiled once per generation: each entry's attributes, its
   precondition and its module list resolved, so that mapping a request reads no attribute
   by name and looks up no module. */
typedef struct iisd_hentry {
    const iisd_celem_t *e;
    const char *path, *verb, *name;
    bool active;       /* its preCondition holds */
    uint16_t require;  /* requireAccess */
    uint16_t resource; /* resourceType */
    uint16_t nmods;
    int32_t *mods;      /* in the entry's order: a module id, or IISD_HMOD_SKIP / IISD_HMOD_BAD */
    const char **names; /* the names as written, for messages */
} iisd_hentry_t;

#define IISD_HMOD_SKIP (-1) /* a module that could not be loaded, already reported */
#define IISD_HMOD_BAD  (-2) /* no such module: 500.21 */

typedef struct iisd_htable {
    const iisd_celem_t *section;
    struct iisd_htable *next;
    uint32_t policy; /* accessPolicy */
    unsigned n;
    iisd_hentry_t v[];
} iisd_htable_t;

iisd_htable_t *iisd_handlers_compile(const iisd_celem_t *hs);
void iisd_handlers_free(iisd_htable_t *t);
/* The compiled form of hs for this generation (made on first use; engine.c keeps it). */
iisd_htable_t *iisd_pipeline_handler_table(iisd_conf_t *conf, const iisd_celem_t *hs);

/* RQ_MAP_REQUEST_HANDLER: picks the <handlers> entry for the request (before the modules run). */
void iisd_handlers_map(iisd_hctx_t *h);
/* The first <handlers> entry of section hs for url and method (IHttpContext::MapHandler); NULL if none.
   no_wildcard skips entries whose path is "*". */
const iisd_celem_t *iisd_handlers_find(const iisd_celem_t *hs, const char *url, size_t len,
                                       const char *method, bool no_wildcard);
/* Entering RQ_EXECUTE_REQUEST_HANDLER: the handler's modules, checked against resourceType and
   accessPolicy. Returns -1 after setting an error response (the request then finishes). */
int iisd_handlers_exec_begin(iisd_hctx_t *h);
/* The IScriptMapInfo of the mapping, or NULL. */
IScriptMapInfo *iisd_handlers_script_map(iisd_hctx_t *h);

static inline iisd_hctx_t *hctx_of_ctx(IHttpContext *p)
{
    return (iisd_hctx_t *)p;
}
#define HCTX_OF(ptr, member) ((iisd_hctx_t *)((char *)(ptr) - __builtin_offsetof(iisd_hctx_t, member)))

/* The response's IHttpCachePolicy (cachepolicy.c), made on first use. */
IHttpCachePolicy *iisd_cache_policy(iisd_hctx_t *h);
/* IHttpResponse::DisableKernelCache / GetKernelCacheEnabled (TRUE until disabled). */
void iisd_cache_policy_disable_kernel(iisd_hctx_t *h);
bool iisd_cache_policy_kernel_enabled(const iisd_hctx_t *h);
/*
 * The HTTP_RESPONSE a module got from GetRawHttpResponse, kept in step with the
 * response (response.c). Both do nothing until a module has asked for it.
 * iisd_raw_export writes the response into the structure; iisd_raw_sync first takes
 * in what a module changed there (status, reason, headers, entity chunks), then exports.
 */
void iisd_raw_export(iisd_hctx_t *h);
void iisd_raw_sync(iisd_hctx_t *h);
/*
 * Has module `id` asked for the raw response in this request? Only those modules can write
 * to it behind the server's back, so only their calls need an export before and a sync after
 * (every IHttpResponse method syncs for the others).
 */
bool iisd_raw_held_by(const iisd_hctx_t *h, unsigned id);
/* Around a module's call (engine.c): the raw response exported before, what it wrote taken in after. */
void iisd_raw_call_start(iisd_hctx_t *h, unsigned id);
void iisd_raw_call_end(iisd_hctx_t *h, unsigned id);

/* The same for the raw request (rawreq.c): made on first use; export, sync and holders. */
HTTP_REQUEST *iisd_raw_req_get(iisd_hctx_t *h);
void iisd_raw_req_export(iisd_hctx_t *h);
void iisd_raw_req_sync(iisd_hctx_t *h);
bool iisd_raw_req_held_by(const iisd_hctx_t *h, unsigned id);

/*
 * ISendResponseProvider's log record (logdata.c): the record of the request, filled from it on first
 * use, or the copy of the one a module set. iisd_log_data_set copies the record and its strings into
 * request memory; E_INVALIDARG for NULL or a type other than HttpLogDataTypeFields.
 */
HTTP_LOG_FIELDS_DATA *iisd_log_data_get(iisd_hctx_t *h);
HRESULT iisd_log_data_set(iisd_hctx_t *h, const HTTP_LOG_DATA *data);
/* The HTTP_VERB of a method name (rawreq.c); HttpVerbUnknown for others. */
HTTP_VERB iisd_http_verb(const char *method);

/* Fills the vtable pointers of a fresh hctx. */
void iisd_hctx_bind(iisd_hctx_t *h);
/* Runs the SEND_RESPONSE notification, then sends (final or a flush). */
int iisd_hctx_send(iisd_hctx_t *h, bool final);
/* Runs a nondeterministic notification over a list (RQ_MAP_PATH, RQ_READ_ENTITY, RQ_CUSTOM_NOTIFICATION). */
void iisd_hctx_notify(iisd_hctx_t *h, const iisd_list_t *list, DWORD notification,
                      IHttpEventProvider *provider);
/* May an I/O call wait asynchronously? Only in a deterministic notification (or its completion) of
   a client's request: a child runs on its parent's thread, and the other notifications cannot pend. */
static inline bool iisd_hctx_async_ok(const iisd_hctx_t *h)
{
    return h->parent == NULL && h->warmup == NULL && h->aio.kind == IISD_AIO_NONE && h->cur_module != NULL &&
           (h->cur_notification & ((1u << IISD_NSTAGES) - 1)) != 0;
}
/* Runs the SEND_RESPONSE notification, then a non-final send that does not wait for the socket
   (1: the rest waits in c->req->out; see iisd_conn_send_nowait). */
int iisd_hctx_send_nowait(iisd_hctx_t *h);
/*
 * One step of an asynchronous body read (h->aio, request.c), on the loop: false when it must
 * wait for more input; true when it is complete, with the bytes read and the HRESULT.
 */
bool iisd_hctx_read_step(iisd_hctx_t *h, bool timed_out, DWORD *bytes, HRESULT *hr);
/* IHttpContext::CancelIo (engine.c): completes a pending asynchronous read or write with
   ERROR_OPERATION_ABORTED through the module's completion. From any thread. */
void iisd_hctx_cancel_io(iisd_hctx_t *h);
/* Resumes a request whose notification returned RQ_NOTIFICATION_PENDING. */
void iisd_hctx_complete(iisd_hctx_t *h, REQUEST_NOTIFICATION_STATUS status, bool reenter, DWORD bytes,
                        HRESULT hr, bool on_this_thread);
/* The (lazily computed) physical path, after RQ_MAP_PATH. */
const wchar_t *iisd_hctx_physical_path(iisd_hctx_t *h, size_t *len);
/* Does the request run to its end on the calling thread (a child, or a request without a client)? */
static inline bool iisd_hctx_inline(const iisd_hctx_t *h)
{
    return h->parent != NULL || h->warmup != NULL;
}
/*
 * Child requests (child.c) and requests without a client (warmup.c). iisd_hctx_resolve computes
 * the application, configuration path, plan and handlers of h->url (-1 with a 500.19 response
 * when the configuration there is invalid); iisd_hctx_run_inline runs the whole pipeline of a
 * child or of a request without a client on the calling thread.
 */
int iisd_hctx_resolve(iisd_hctx_t *h);
void iisd_hctx_run_inline(iisd_hctx_t *h);
HRESULT iisd_child_clone(iisd_hctx_t *parent, DWORD flags, IHttpContext **out);
HRESULT iisd_child_execute(iisd_hctx_t *parent, IHttpContext *child, DWORD flags, IHttpUser *user,
                           BOOL *pfCompletionExpected);
HRESULT iisd_child_release(iisd_hctx_t *h);
/* A child's send (Flush, or the end of its pipeline): its output goes to its parent unless buffered. */
int iisd_child_send(iisd_hctx_t *h, bool final);
/* Releases every child a request has not released (at its end). */
void iisd_child_release_all(iisd_hctx_t *h);
/* A zeroed request context in arena a, with its per-module arrays (instances, stored contexts,
   disabled notifications) for a plan of nmodules modules. */
iisd_hctx_t *iisd_hctx_alloc(iisd_arena_t *a, unsigned nmodules);
/* Releases what a request context holds before it runs (the user it was executed with, the module
   contexts stored on it): for a child or warm-up request that ends without running. */
void iisd_child_drop_unrun(iisd_hctx_t *h);
/*
 * Requests without a client connection (warmup.c), made by the GL_APPLICATION_PRELOAD provider
 * for an application: iisd_warmup_create makes one (GET of the application's root), iisd_warmup_execute
 * runs it, iisd_warmup_send takes its output into memory, iisd_warmup_release frees one and
 * iisd_warmup_release_all every one left in *list when the notification returns.
 */
HRESULT iisd_warmup_create(iisd_conf_t *conf, const iisd_sitedef_t *site, const iisd_app_t *app,
                           const iisd_plan_t *plan, struct iisd_warmup **list, IHttpContext **out);
HRESULT iisd_warmup_execute(struct iisd_warmup *list, IHttpContext *ctx, IHttpUser *user);
int iisd_warmup_send(iisd_hctx_t *h, bool final);
HRESULT iisd_warmup_release(iisd_hctx_t *h);
void iisd_warmup_release_all(struct iisd_warmup **list);
/* Server variables (servervars.c). Returns the value or NULL when unknown. */
const char *iisd_hctx_server_variable(iisd_hctx_t *h, const char *name, size_t *len);
/* After SetServerVariable stored name=value: HTTP_<NAME> sets (or, empty, deletes) the request header. */
HRESULT iisd_svar_set_hook(iisd_hctx_t *h, const char *name, const char *value);

/* Per-request objects made on first use (objects.c). */
IHttpUrlInfo *iisd_url_info(iisd_hctx_t *h);
IHttpFileInfo *iisd_ctx_file_info(iisd_hctx_t *h);
INamedContextContainer *iisd_named_contexts(iisd_hctx_t *h);
IHttpConnectionModuleContextContainer *iisd_conn_contexts(iisd_hctx_t *h);
HRESULT iisd_svar_changes(iisd_hctx_t *h, DWORD *pdwNew, DWORD *pdwSnap, PCSTR **ppNames, PCWSTR **ppValues,
                          DWORD *pdwDiffed, DWORD **ppIdx);
HRESULT iisd_req_header_changes(iisd_hctx_t *h, DWORD *pdwNew, PCSTR known[], DWORD *pdwUnknown,
                                PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[], DWORD *pdwDiffedUnknown,
                                DWORD **ppDiffedUnknown);
HRESULT iisd_resp_header_changes(iisd_hctx_t *h, DWORD *pdwNew, PCSTR known[], DWORD *pdwUnknown,
                                 PCSTR **ppNames, PCSTR **ppValues, DWORD diffed[], DWORD *pdwDiffedUnknown,
                                 DWORD **ppDiffedUnknown);
