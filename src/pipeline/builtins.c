/*
 * The table of linked-in modules, looked up by name when <globalModules> names no image.
 * The entry points are weak references: a module that is not part of this build leaves its
 * entry empty, and the server skips it.
 */
#include "pipeline/module.h"

#define BUILTIN(name)                                                                                        \
    HRESULT WINAPI name##_RegisterModule(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *)                \
        __attribute__((weak))

BUILTIN(StaticFileModule);
BUILTIN(DefaultDocumentModule);
BUILTIN(DirectoryListingModule);
BUILTIN(ProtocolSupportModule);
BUILTIN(HttpRedirectionModule);
BUILTIN(RequestFilteringModule);
BUILTIN(CustomErrorModule);
BUILTIN(HttpCacheModule);
BUILTIN(IpRestrictionModule);
BUILTIN(AnonymousAuthenticationModule);
BUILTIN(BasicAuthenticationModule);
BUILTIN(UrlAuthorizationModule);
BUILTIN(HttpLoggingModule);
BUILTIN(StaticCompressionModule);
BUILTIN(DynamicCompressionModule);
BUILTIN(FailedRequestsTracingModule);

const iisd_builtin_t iisd_builtins[] = {
    {"StaticFileModule", StaticFileModule_RegisterModule},
    {"DefaultDocumentModule", DefaultDocumentModule_RegisterModule},
    {"DirectoryListingModule", DirectoryListingModule_RegisterModule},
    {"ProtocolSupportModule", ProtocolSupportModule_RegisterModule},
    {"HttpRedirectionModule", HttpRedirectionModule_RegisterModule},
    {"RequestFilteringModule", RequestFilteringModule_RegisterModule},
    {"CustomErrorModule", CustomErrorModule_RegisterModule},
    {"HttpCacheModule", HttpCacheModule_RegisterModule},
    {"IpRestrictionModule", IpRestrictionModule_RegisterModule},
    {"AnonymousAuthenticationModule", AnonymousAuthenticationModule_RegisterModule},
    {"BasicAuthenticationModule", BasicAuthenticationModule_RegisterModule},
    {"UrlAuthorizationModule", UrlAuthorizationModule_RegisterModule},
    {"HttpLoggingModule", HttpLoggingModule_RegisterModule},
    {"StaticCompressionModule", StaticCompressionModule_RegisterModule},
    {"DynamicCompressionModule", DynamicCompressionModule_RegisterModule},
    {"FailedRequestsTracingModule", FailedRequestsTracingModule_RegisterModule},
    {NULL, NULL},
};
