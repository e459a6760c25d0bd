/*
 * fail_register.c - a module whose RegisterModule fails with E_FAIL
 * (0x80004005): iisd must refuse to start and name the module, its file and
 * the HRESULT.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                              IHttpServer *pGlobalInfo)
{
    (void)dwServerVersion, (void)pModuleInfo, (void)pGlobalInfo;
    return E_FAIL;
}
