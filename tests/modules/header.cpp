// header.cpp - a request module that marks the responses it has seen.
//
// On RQ_BEGIN_REQUEST it appends the name it was registered under
// (IHttpModuleRegistrationInfo::GetName, read once in RegisterModule) to the
// response header X-Modules and returns RQ_NOTIFICATION_CONTINUE, so the
// request goes on to whatever serves it (the static file module in the
// tests). The configuration tests load copies of this image as HeaderA,
// HeaderB, HeaderC, ... and enable them per application and per folder
// through <modules>, then read X-Modules to see which ones ran.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <string.h>

namespace
{

const size_t kNameMax = 128;

class CHeaderModule : public CHttpModule
{
  public:
    explicit CHeaderModule(const char *pszName) : m_pszName(pszName) {}

    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        if (pResponse != NULL)
            pResponse->SetHeader("X-Modules", m_pszName, (USHORT)strlen(m_pszName), FALSE);
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    const char *m_pszName; // owned by the factory
};

class CHeaderFactory final : public IHttpModuleFactory
{
  public:
    explicit CHeaderFactory(PCWSTR pwszName)
    {
        // Registered names are ASCII in the tests; anything else becomes '?'.
        size_t i = 0;
        for (; pwszName != NULL && pwszName[i] != L'\0' && i + 1 < kNameMax; i++)
            m_szName[i] = (pwszName[i] > 0 && pwszName[i] < 0x7f) ? (char)pwszName[i] : '?';
        m_szName[i] = '\0';
    }

    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CHeaderModule(m_szName);
        return S_OK;
    }

    VOID Terminate() { delete this; }

  private:
    char m_szName[kNameMax];
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CHeaderFactory(pModuleInfo->GetName()), RQ_BEGIN_REQUEST,
                                                0);
}
