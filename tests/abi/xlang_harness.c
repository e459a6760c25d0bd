/*
 * xlang_harness.c - a miniature "server" written in C against the C binding
 * of httpserv.h. It dlopen()s a module, calls RegisterModule, creates a
 * request module through the factory and runs notifications, so that C
 * vtables built here are called from C++ module code and C++ vtables built
 * by g++ are called from here.
 *
 * Usage: xlang_harness hello|ext|c MODULE.so
 * Prints one "ok"/"not ok" line per check and exits non-zero on failure.
 */
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_failures;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) {
        g_failures++;
    }
}

/* ------------------------------------------------------------------------ */
/* Server-side objects. Each embeds its interface first; unused slots NULL. */
/* ------------------------------------------------------------------------ */

typedef struct Registration {
    IHttpModuleRegistrationInfo iface;
    IHttpModuleFactory *factory;
    DWORD request_mask;
    DWORD post_mask;
    CGlobalModule *global;
    DWORD global_mask;
    DWORD priority_mask;
    int priority_high;
} Registration;

typedef struct Server {
    IHttpServer2 iface; /* one object answers for IHttpServer and IHttpServer2 */
    int v2_requests;
    int guid_requests;
} Server;

typedef struct Response {
    IHttpResponse iface;
    USHORT status;
    char reason[32];
    char content_type[32];
    char server_header[64];
    char x_module[16];
    char x_remote_addr[32];
    char x_url_is_wide[8];
    char body[128];
    int cleared;
} Response;

typedef struct Request {
    IHttpRequest iface;
} Request;

typedef struct Container {
    IHttpModuleContextContainer iface;
    IHttpStoredContext *stored;
    HTTP_MODULE_ID stored_id;
} Container;

typedef struct Context {
    IHttpContext3 iface; /* full IHttpContext3 layout, usable as IHttpContext */
    Request *request;
    Response *response;
    Container *container;
    int full_duplex;
} Context;

typedef struct Provider {
    IHttpEventProvider iface;
    HRESULT error;
} Provider;

typedef struct ConfigChange {
    IGlobalConfigurationChangeProvider iface;
} ConfigChange;

typedef struct Preload {
    IGlobalApplicationPreloadProvider iface;
    HRESULT error;
} Preload;

typedef struct Allocator {
    IModuleAllocator iface;
    void *blocks[8];
    int count;
} Allocator;

static int g_module_id_token;

static void copy_counted(char *dst, size_t size, PCSTR src, size_t len)
{
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* IHttpModuleRegistrationInfo */
static PCWSTR Reg_GetName(IHttpModuleRegistrationInfo *This)
{
    (void)This;
    return L"TestModule";
}
static HTTP_MODULE_ID Reg_GetId(IHttpModuleRegistrationInfo *This)
{
    (void)This;
    return &g_module_id_token;
}
static HRESULT Reg_SetRequestNotifications(IHttpModuleRegistrationInfo *This,
                                           IHttpModuleFactory *pModuleFactory, DWORD dwRequestNotifications,
                                           DWORD dwPostRequestNotifications)
{
    Registration *r = (Registration *)This;
    if (r->factory != NULL) {
        return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    }
    r->factory = pModuleFactory;
    r->request_mask = dwRequestNotifications;
    r->post_mask = dwPostRequestNotifications;
    return S_OK;
}
static HRESULT Reg_SetGlobalNotifications(IHttpModuleRegistrationInfo *This, CGlobalModule *pGlobalModule,
                                          DWORD dwGlobalNotifications)
{
    Registration *r = (Registration *)This;
    r->global = pGlobalModule;
    r->global_mask = dwGlobalNotifications;
    return S_OK;
}
static HRESULT Reg_SetPriorityForRequestNotification(IHttpModuleRegistrationInfo *This,
                                                     DWORD dwRequestNotification, PCWSTR pszPriority)
{
    Registration *r = (Registration *)This;
    r->priority_mask = dwRequestNotification;
    r->priority_high = wcscmp(pszPriority, L"HIGH") == 0;
    return S_OK;
}
static const IHttpModuleRegistrationInfoVtbl g_regVtbl = {
    .GetName = Reg_GetName,
    .GetId = Reg_GetId,
    .SetRequestNotifications = Reg_SetRequestNotifications,
    .SetGlobalNotifications = Reg_SetGlobalNotifications,
    .SetPriorityForRequestNotification = Reg_SetPriorityForRequestNotification,
};

/* IHttpServer / IHttpServer2 */
static HRESULT Server_GetExtendedInterface(IHttpServer2 *This, HTTP_SERVER_INTERFACE_VERSION version,
                                           PVOID *ppInterface)
{
    Server *s = (Server *)This;
    if (version != HTTP_SERVER_INTERFACE_V2) {
        return E_NOINTERFACE;
    }
    s->v2_requests++;
    *ppInterface = &s->iface;
    return S_OK;
}
static HRESULT Server_GetExtendedInterfaceByGuid(IHttpServer2 *This, REFGUID Version1, PVOID pInput,
                                                 REFGUID Version2, PVOID *ppOutput)
{
    Server *s = (Server *)This;
    if (IsEqualGUID(Version1, &IID_IHttpContext) && IsEqualGUID(Version2, &IID_IHttpContext3)) {
        s->guid_requests++;
        *ppOutput = pInput; /* our contexts implement the IHttpContext3 layout */
        return S_OK;
    }
    return E_NOINTERFACE;
}
static const IHttpServer2Vtbl g_serverVtbl = {
    .GetExtendedInterface = Server_GetExtendedInterface,
    .GetExtendedInterfaceByGuid = Server_GetExtendedInterfaceByGuid,
};

/* IHttpResponse */
static VOID Resp_Clear(IHttpResponse *This)
{
    ((Response *)This)->cleared++;
}
static HRESULT Resp_SetStatus(IHttpResponse *This, USHORT statusCode, PCSTR pszReason, USHORT uSubStatus,
                              HRESULT hrErrorToReport, IAppHostConfigException *pException,
                              BOOL fTrySkipCustomErrors)
{
    Response *r = (Response *)This;
    if (uSubStatus != 0 || hrErrorToReport != S_OK || pException != NULL || fTrySkipCustomErrors != FALSE) {
        return E_INVALIDARG; /* the modules under test always pass the defaults */
    }
    r->status = statusCode;
    copy_counted(r->reason, sizeof r->reason, pszReason, strlen(pszReason));
    return S_OK;
}
static HRESULT Resp_SetHeaderByName(IHttpResponse *This, PCSTR pszHeaderName, PCSTR pszHeaderValue,
                                    USHORT cchHeaderValue, BOOL fReplace)
{
    Response *r = (Response *)This;
    (void)fReplace;
    if (strcmp(pszHeaderName, "X-Module") == 0) {
        copy_counted(r->x_module, sizeof r->x_module, pszHeaderValue, cchHeaderValue);
    } else if (strcmp(pszHeaderName, "X-Remote-Addr") == 0) {
        copy_counted(r->x_remote_addr, sizeof r->x_remote_addr, pszHeaderValue, cchHeaderValue);
    } else if (strcmp(pszHeaderName, "X-Url-Is-Wide") == 0) {
        copy_counted(r->x_url_is_wide, sizeof r->x_url_is_wide, pszHeaderValue, cchHeaderValue);
    } else {
        return E_INVALIDARG;
    }
    return S_OK;
}
static HRESULT Resp_SetHeaderById(IHttpResponse *This, HTTP_HEADER_ID ulHeaderIndex, PCSTR pszHeaderValue,
                                  USHORT cchHeaderValue, BOOL fReplace)
{
    Response *r = (Response *)This;
    (void)fReplace;
    if (ulHeaderIndex == HttpHeaderContentType) {
        copy_counted(r->content_type, sizeof r->content_type, pszHeaderValue, cchHeaderValue);
    } else if (ulHeaderIndex == HttpHeaderServer) {
        copy_counted(r->server_header, sizeof r->server_header, pszHeaderValue, cchHeaderValue);
    } else {
        return E_INVALIDARG;
    }
    return S_OK;
}
static HRESULT Resp_WriteEntityChunks(IHttpResponse *This, HTTP_DATA_CHUNK *pDataChunks, DWORD nChunks,
                                      BOOL fAsync, BOOL fMoreData, DWORD *pcbSent, BOOL *pfCompletionExpected)
{
    Response *r = (Response *)This;
    DWORD i;
    (void)fMoreData;
    if (fAsync || pfCompletionExpected != NULL) {
        return E_INVALIDARG; /* sync call with the default last argument expected */
    }
    *pcbSent = 0;
    for (i = 0; i < nChunks; i++) {
        size_t used = strlen(r->body);
        if (pDataChunks[i].DataChunkType != HttpDataChunkFromMemory ||
            used + pDataChunks[i].FromMemory.BufferLength >= sizeof r->body) {
            return E_INVALIDARG;
        }
        copy_counted(r->body + used, sizeof r->body - used, (PCSTR)pDataChunks[i].FromMemory.pBuffer,
                     pDataChunks[i].FromMemory.BufferLength);
        *pcbSent += pDataChunks[i].FromMemory.BufferLength;
    }
    return S_OK;
}
static const IHttpResponseVtbl g_responseVtbl = {
    .Clear = Resp_Clear,
    .SetStatus = Resp_SetStatus,
    .SetHeaderByName = Resp_SetHeaderByName,
    .SetHeaderById = Resp_SetHeaderById,
    .WriteEntityChunks = Resp_WriteEntityChunks,
};

/* IHttpRequest */
static PCSTR Req_GetHeaderByName(IHttpRequest *This, PCSTR pszHeaderName, USHORT *pcchHeaderValue)
{
    (void)This;
    if (strcmp(pszHeaderName, "Host") == 0) {
        if (pcchHeaderValue != NULL) {
            *pcchHeaderValue = 9;
        }
        return "localhost";
    }
    return NULL;
}
static PCSTR Req_GetHeaderById(IHttpRequest *This, HTTP_HEADER_ID ulHeaderIndex, USHORT *pcchHeaderValue)
{
    (void)This;
    if (ulHeaderIndex == HttpHeaderUserAgent) {
        if (pcchHeaderValue != NULL) {
            *pcchHeaderValue = 8;
        }
        return "abi-test";
    }
    return NULL;
}
static const IHttpRequestVtbl g_requestVtbl = {
    .GetHeaderByName = Req_GetHeaderByName,
    .GetHeaderById = Req_GetHeaderById,
};

/* IHttpModuleContextContainer */
static IHttpStoredContext *Cont_GetModuleContext(IHttpModuleContextContainer *This, HTTP_MODULE_ID moduleId)
{
    Container *c = (Container *)This;
    return moduleId == c->stored_id ? c->stored : NULL;
}
static HRESULT Cont_SetModuleContext(IHttpModuleContextContainer *This, IHttpStoredContext *ppStoredContext,
                                     HTTP_MODULE_ID moduleId)
{
    Container *c = (Container *)This;
    if (c->stored != NULL) {
        return HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED);
    }
    c->stored = ppStoredContext;
    c->stored_id = moduleId;
    return S_OK;
}
static const IHttpModuleContextContainerVtbl g_containerVtbl = {
    .GetModuleContext = Cont_GetModuleContext,
    .SetModuleContext = Cont_SetModuleContext,
};

/* IHttpContext3 */
static IHttpRequest *Ctx_GetRequest(IHttpContext3 *This)
{
    return &((Context *)This)->request->iface;
}
static IHttpResponse *Ctx_GetResponse(IHttpContext3 *This)
{
    return &((Context *)This)->response->iface;
}
static IHttpModuleContextContainer *Ctx_GetModuleContextContainer(IHttpContext3 *This)
{
    return &((Context *)This)->container->iface;
}
static HRESULT Ctx_GetServerVariableW(IHttpContext3 *This, PCSTR pszVariableName, PCWSTR *ppszValue,
                                      DWORD *pcchValueLength)
{
    (void)This;
    if (strcmp(pszVariableName, "URL") != 0) {
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    }
    *ppszValue = L"/wide";
    *pcchValueLength = 5;
    return S_OK;
}
static HRESULT Ctx_GetServerVariableA(IHttpContext3 *This, PCSTR pszVariableName, PCSTR *ppszValue,
                                      DWORD *pcchValueLength)
{
    (void)This;
    if (strcmp(pszVariableName, "REMOTE_ADDR") != 0) {
        return HRESULT_FROM_WIN32(ERROR_INVALID_INDEX);
    }
    *ppszValue = "192.0.2.7";
    *pcchValueLength = 9;
    return S_OK;
}
static VOID Ctx_EnableFullDuplex(IHttpContext3 *This)
{
    ((Context *)This)->full_duplex++;
}
static const IHttpContext3Vtbl g_contextVtbl = {
    .GetRequest = Ctx_GetRequest,
    .GetResponse = Ctx_GetResponse,
    .GetModuleContextContainer = Ctx_GetModuleContextContainer,
    .GetServerVariableW = Ctx_GetServerVariableW,
    .GetServerVariableA = Ctx_GetServerVariableA,
    .EnableFullDuplex = Ctx_EnableFullDuplex,
};

/* Providers */
static VOID Prov_SetErrorStatus(IHttpEventProvider *This, HRESULT hrError)
{
    ((Provider *)This)->error = hrError;
}
static const IHttpEventProviderVtbl g_providerVtbl = {.SetErrorStatus = Prov_SetErrorStatus};

static PCWSTR Cfg_GetChangePath(IGlobalConfigurationChangeProvider *This)
{
    (void)This;
    return L"MACHINE/WEBROOT/APPHOST";
}
static const IGlobalConfigurationChangeProviderVtbl g_configVtbl = {.GetChangePath = Cfg_GetChangePath};

static VOID Preload_SetErrorStatus(IGlobalApplicationPreloadProvider *This, HRESULT hrError)
{
    ((Preload *)This)->error = hrError;
}
static const IGlobalApplicationPreloadProviderVtbl g_preloadVtbl = {.SetErrorStatus = Preload_SetErrorStatus};

/* IModuleAllocator */
static VOID *Alloc_AllocateMemory(IModuleAllocator *This, DWORD cbAllocation)
{
    Allocator *a = (Allocator *)This;
    if (a->count == (int)ARRAYSIZE(a->blocks)) {
        return NULL;
    }
    a->blocks[a->count] = calloc(1, cbAllocation);
    return a->blocks[a->count++];
}
static const IModuleAllocatorVtbl g_allocatorVtbl = {.AllocateMemory = Alloc_AllocateMemory};

/* ------------------------------------------------------------------------ */
/* Driver                                                                   */
/* ------------------------------------------------------------------------ */

/* Runs fn(arg) with stderr sent to a temporary file; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    static char text[1024];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    fn(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(text, 1, sizeof text - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

struct DefaultCall {
    CHttpModule *module;
    IHttpContext *context;
    IHttpEventProvider *provider;
    REQUEST_NOTIFICATION_STATUS result;
};
static void call_default_end_request(void *arg)
{
    struct DefaultCall *c = (struct DefaultCall *)arg;
    c->result = c->module->lpVtbl->OnEndRequest(c->module, c->context, c->provider);
}

struct DefaultGlobalCall {
    CGlobalModule *global;
    GLOBAL_NOTIFICATION_STATUS result;
};
static void call_default_health_check(void *arg)
{
    struct DefaultGlobalCall *c = (struct DefaultGlobalCall *)arg;
    c->result = c->global->lpVtbl->OnGlobalHealthCheck(c->global);
}

int main(int argc, char **argv)
{
    Registration reg = {{&g_regVtbl}, NULL, 0, 0, NULL, 0, 0, 0};
    Server server = {{&g_serverVtbl}, 0, 0};
    Response response;
    Request request = {{&g_requestVtbl}};
    Container container = {{&g_containerVtbl}, NULL, NULL};
    Context context;
    Provider provider = {{&g_providerVtbl}, S_OK};
    Allocator allocator;
    IHttpContext *ctx = (IHttpContext *)&context.iface;
    const char *mode;
    void *lib;
    PFN_REGISTERMODULE reg_fn;
    CHttpModule *module = NULL;
    HRESULT hr;
    int i;

    if (argc != 3) {
        fprintf(stderr, "usage: %s hello|ext|c MODULE.so\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    /* What the iisd server does at startup: DebugBreak() must not kill us. */
    signal(SIGTRAP, SIG_IGN);

    memset(&response, 0, sizeof response);
    response.iface.lpVtbl = &g_responseVtbl;
    memset(&context, 0, sizeof context);
    context.iface.lpVtbl = &g_contextVtbl;
    context.request = &request;
    context.response = &response;
    context.container = &container;
    memset(&allocator, 0, sizeof allocator);
    allocator.iface.lpVtbl = &g_allocatorVtbl;

    lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    check(lib != NULL, "dlopen the module");
    if (lib == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    *(void **)&reg_fn = dlsym(lib, MODULE_REGISTERMODULE);
    check(reg_fn != NULL, "RegisterModule is exported unmangled");
    if (reg_fn == NULL) {
        return 1;
    }

    hr = reg_fn(7, &reg.iface, (IHttpServer *)&server.iface);
    check(hr == S_OK, "RegisterModule returns S_OK");
    check(reg.factory != NULL, "SetRequestNotifications received a factory");
    if (reg.factory == NULL) {
        return 1;
    }

    hr = reg.factory->lpVtbl->GetHttpModule(reg.factory, &module, &allocator.iface);
    check(hr == S_OK && module != NULL, "IHttpModuleFactory::GetHttpModule (slot 0) creates a module");
    if (module == NULL) {
        return 1;
    }

    if (strcmp(mode, "hello") == 0) {
        REQUEST_NOTIFICATION_STATUS st;
        struct DefaultCall dc;
        char *err;

        check(reg.request_mask == RQ_BEGIN_REQUEST && reg.post_mask == 0,
              "registered for RQ_BEGIN_REQUEST only");
        st = module->lpVtbl->OnBeginRequest(module, ctx, &provider.iface);
        check(st == RQ_NOTIFICATION_FINISH_REQUEST, "OnBeginRequest (slot 0) returns FINISH_REQUEST");
        check(response.cleared == 1, "IHttpResponse::Clear (slot 10) called");
        check(response.status == 200 && strcmp(response.reason, "OK") == 0,
              "SetStatus (slot 3) with default arguments: 200 OK");
        check(strcmp(response.content_type, "text/plain") == 0, "SetHeader by id (slot 5): Content-Type");
        check(strcmp(response.body, "Hello from a native module") == 0, "WriteEntityChunks (slot 21) body");

        dc.module = module;
        dc.context = ctx;
        dc.provider = &provider.iface;
        dc.result = RQ_NOTIFICATION_PENDING;
        err = capture_stderr(call_default_end_request, &dc);
        check(dc.result == RQ_NOTIFICATION_CONTINUE, "default OnEndRequest (slot 22) returns CONTINUE");
        check(strstr(err, "CHttpModule::OnEndRequest") != NULL, "default body names the missing override");
        check(strstr(err, "does not override") != NULL, "default body explains the problem");

        module->lpVtbl->Dispose(module); /* slot 29: delete this */
        check(1, "Dispose (slot 29) deletes the module");
        reg.factory->lpVtbl->Terminate(reg.factory);
        check(1, "IHttpModuleFactory::Terminate (slot 1)");
    } else if (strcmp(mode, "ext") == 0) {
        REQUEST_NOTIFICATION_STATUS st;
        GLOBAL_NOTIFICATION_STATUS gs;
        ConfigChange cfg = {{&g_configVtbl}};
        Preload preload = {{&g_preloadVtbl}, S_OK};
        struct DefaultGlobalCall dg;
        char *err;

        check(reg.request_mask == (RQ_BEGIN_REQUEST | RQ_END_REQUEST), "registered for BEGIN and END");
        check(reg.priority_mask == RQ_BEGIN_REQUEST && reg.priority_high,
              "priority PRIORITY_ALIAS_HIGH (L\"HIGH\")");
        check(reg.global != NULL &&
                  reg.global_mask == (GL_CONFIGURATION_CHANGE | GL_APPLICATION_PRELOAD | GL_HEALTH_CHECK),
              "SetGlobalNotifications received a CGlobalModule");
        check(allocator.count == 1, "module object placed in IModuleAllocator memory");

        st = module->lpVtbl->OnBeginRequest(module, ctx, &provider.iface);
        check(st == RQ_NOTIFICATION_CONTINUE && provider.error == S_OK, "OnBeginRequest returns CONTINUE");
        check(server.v2_requests == 1, "HttpGetExtendedInterface asked IHttpServer (slot 25) for V2");
        check(server.guid_requests == 1,
              "HttpGetExtendedInterface passed __uuidof(IHttpContext)/__uuidof(IHttpContext3) (slot 28)");
        check(context.full_duplex == 1, "IHttpContext3::EnableFullDuplex (slot 41) called");
        check(strcmp(response.x_remote_addr, "192.0.2.7") == 0,
              "GetServerVariable PCSTR* (slot 16) + SetHeader by name (slot 4)");
        check(strcmp(response.x_url_is_wide, "yes") == 0, "GetServerVariable PCWSTR* (slot 15) is wchar_t");
        check(
            strcmp(response.server_header, "abi-test") == 0,
            "GetHeader by name (slot 2) and by id with default argument (slot 3), SetHeader by id (slot 5)");
        check(response.status == 202 && strcmp(response.reason, "Accepted") == 0,
              "SetStatus with 4 defaults");
        check(container.stored != NULL && container.stored_id == &g_module_id_token,
              "SetModuleContext with the id from GetId");

        dg.global = reg.global;
        dg.result = GL_NOTIFICATION_HANDLED;
        err = capture_stderr(call_default_health_check, &dg);
        check(dg.result == GL_NOTIFICATION_CONTINUE &&
                  strstr(err, "CGlobalModule::OnGlobalHealthCheck") != NULL,
              "default CGlobalModule::OnGlobalHealthCheck (slot 3) continues and reports");
        gs = reg.global->lpVtbl->OnGlobalConfigurationChange(reg.global, &cfg.iface);
        check(gs == GL_NOTIFICATION_HANDLED, "OnGlobalConfigurationChange (slot 4) override");
        gs = reg.global->lpVtbl->OnGlobalApplicationPreload(reg.global, &preload.iface);
        check(gs == GL_NOTIFICATION_HANDLED && preload.error == HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
              "OnGlobalApplicationPreload (slot 15, after Terminate) override");

        if (container.stored != NULL) {
            container.stored->lpVtbl->CleanupStoredContext(container.stored);
        }
        module->lpVtbl->Dispose(module); /* overridden: destroys in place */
        check(1, "overridden Dispose (slot 29)");
        reg.factory->lpVtbl->Terminate(reg.factory);
        reg.global->lpVtbl->Terminate(reg.global); /* slot 13 */
        check(1, "CGlobalModule::Terminate (slot 13)");
    } else if (strcmp(mode, "c") == 0) {
        REQUEST_NOTIFICATION_STATUS st = module->lpVtbl->OnBeginRequest(module, ctx, &provider.iface);
        check(st == RQ_NOTIFICATION_FINISH_REQUEST, "C module OnBeginRequest returns FINISH_REQUEST");
        check(server.v2_requests == 1 && server.guid_requests == 1 && context.full_duplex == 1,
              "C module reached IHttpContext3 through GetExtendedInterfaceByGuid");
        check(response.status == 201 && strcmp(response.x_module, "c") == 0,
              "C module SetStatus/SetHeaderByName");
        check(strcmp(response.server_header, "abi-test") == 0, "C module GetHeaderById/SetHeaderById");
        check(strcmp(response.x_remote_addr, "192.0.2.7") == 0, "C module GetServerVariableA");
        module->lpVtbl->Dispose(module);
        reg.factory->lpVtbl->Terminate(reg.factory);
        check(1, "C module Dispose and Terminate");
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }

    for (i = 0; i < allocator.count; i++) {
        free(allocator.blocks[i]);
    }
    dlclose(lib);
    return g_failures != 0;
}
