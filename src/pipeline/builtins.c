/* The table of linked-in modules, looked up by name when <globalModules> names no image. */
#include "pipeline/module.h"

HRESULT WINAPI StaticFileModule_RegisterModule(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);

const iisd_builtin_t iisd_builtins[] = {
    {"StaticFileModule", StaticFileModule_RegisterModule},
    {NULL, NULL},
};
