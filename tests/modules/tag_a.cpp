// tag_a.cpp - symbol isolation probe (alpha).
//
// tag_a.cpp and tag_b.cpp deliberately define the same global names: class
// CMyHttpModule (with its vtable and inline member functions, which g++
// emits as interposable weak symbols), class CMyHttpModuleFactory and the
// non-static function module_tag(). Loaded together, each module must still
// use its own definitions (RTLD_LOCAL): in RQ_BEGIN_REQUEST it appends
// module_tag() to header X-Tag-<name> and CMyHttpModule::ClassTag() to
// X-Class-<name>, then CONTINUEs.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>

extern "C" const char *module_tag(void);

extern "C" const char *module_tag(void)
{
    return "alpha";
}

class CMyHttpModule : public CHttpModule
{
  public:
    explicit CMyHttpModule(const char *pszName) : m_pszName(pszName) {}

    const char *ClassTag() const { return "class-alpha"; }

    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        Append(pHttpContext, "X-Tag-", module_tag());
        Append(pHttpContext, "X-Class-", ClassTag());
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    void Append(IHttpContext *pHttpContext, const char *pszPrefix, const char *pszValue)
    {
        char szHeader[160];
        snprintf(szHeader, sizeof(szHeader), "%s%s", pszPrefix, m_pszName);
        pHttpContext->GetResponse()->SetHeader(szHeader, pszValue, (USHORT)strlen(pszValue), FALSE);
    }

    const char *m_pszName;
};

class CMyHttpModuleFactory final : public IHttpModuleFactory
{
  public:
    explicit CMyHttpModuleFactory(PCWSTR pwszName)
    {
        size_t i = 0;
        for (; pwszName != NULL && pwszName[i] != L'\0' && i + 1 < sizeof(m_szName); i++)
            m_szName[i] = (pwszName[i] > 0 && pwszName[i] < 0x7f) ? (char)pwszName[i] : '?';
        m_szName[i] = '\0';
    }

    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CMyHttpModule(m_szName);
        return S_OK;
    }

    VOID Terminate() { delete this; }

  private:
    char m_szName[128];
};

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CMyHttpModuleFactory(pModuleInfo->GetName()),
                                                RQ_BEGIN_REQUEST, 0);
}
