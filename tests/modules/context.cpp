// context.cpp - per-request module context and DisableNotifications.
//
// RQ_BEGIN_REQUEST   stores a context object holding "<name>:<URL>:<QUERY>"
//                    with IHttpModuleContextContainer::SetModuleContext under
//                    the id from IHttpModuleRegistrationInfo::GetId; a second
//                    SetModuleContext must fail, its HRESULT goes in header
//                    X-Second-Set ("0x%08x"). If the query string contains
//                    "disable-authorize" it also calls
//                    DisableNotifications(RQ_AUTHORIZE_REQUEST, 0).
// RQ_AUTHORIZE_REQUEST
//                    appends "yes" to header X-Authorize-Called.
// RQ_EXECUTE_REQUEST_HANDLER
//                    reads the context back (GetModuleContext) and appends
//                    its text to header X-Context ("missing" if none).
// The stored context's CleanupStoredContext appends "<name> cleanup" to the
// file named by IISD_TEST_TRACE. Every notification returns CONTINUE.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace
{

const size_t kNameMax = 128;
const unsigned kContextMagic = 0xC0E7E47u;

void Trace(const char *pszName, const char *pszEvent)
{
    const char *pszPath = getenv("IISD_TEST_TRACE");
    if (pszPath == NULL || *pszPath == '\0')
        return;
    char line[kNameMax + 64];
    int cch = snprintf(line, sizeof(line), "%s %s\n", pszName, pszEvent);
    if (cch <= 0 || (size_t)cch >= sizeof(line))
        return;
    int fd = open(pszPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t written = write(fd, line, (size_t)cch);
    (void)written;
    close(fd);
}

const char *ServerVariable(IHttpContext *pContext, PCSTR pszName)
{
    PCSTR pszValue = NULL;
    DWORD cchValue = 0;
    if (FAILED(pContext->GetServerVariable(pszName, &pszValue, &cchValue)) || pszValue == NULL)
        return "";
    return pszValue;
}

void AppendHeader(IHttpContext *pContext, const char *pszName, const char *pszValue)
{
    pContext->GetResponse()->SetHeader(pszName, pszValue, (USHORT)strlen(pszValue), FALSE);
}

class CRequestContext : public IHttpStoredContext
{
  public:
    CRequestContext(const char *pszOwner, const char *pszUrl, const char *pszQuery)
        : m_magic(kContextMagic), m_pszOwner(pszOwner)
    {
        snprintf(m_szText, sizeof(m_szText), "%s:%s:%s", pszOwner, pszUrl, pszQuery);
    }

    VOID CleanupStoredContext()
    {
        Trace(m_pszOwner, "cleanup");
        delete this;
    }

    bool IsMine(const char *pszOwner) const { return m_magic == kContextMagic && m_pszOwner == pszOwner; }

    const char *Text() const { return m_szText; }

    virtual ~CRequestContext() { m_magic = 0; }

  private:
    unsigned m_magic;
    const char *m_pszOwner;
    char m_szText[512];
};

class CContextModule : public CHttpModule
{
  public:
    CContextModule(const char *pszName, HTTP_MODULE_ID moduleId) : m_pszName(pszName), m_moduleId(moduleId) {}

    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *pProvider)
    {
        IHttpModuleContextContainer *pContainer = pHttpContext->GetModuleContextContainer();
        CRequestContext *pFirst = new CRequestContext(m_pszName, ServerVariable(pHttpContext, "URL"),
                                                      ServerVariable(pHttpContext, "QUERY_STRING"));
        HRESULT hr = pContainer->SetModuleContext(pFirst, m_moduleId);
        if (FAILED(hr)) {
            delete pFirst;
            pProvider->SetErrorStatus(hr);
        }

        CRequestContext *pSecond = new CRequestContext(m_pszName, "second", "");
        HRESULT hrSecond = pContainer->SetModuleContext(pSecond, m_moduleId);
        if (FAILED(hrSecond))
            delete pSecond; // not stored, still ours
        char szHr[16];
        snprintf(szHr, sizeof(szHr), "0x%08x", (unsigned)hrSecond);
        AppendHeader(pHttpContext, "X-Second-Set", szHr);

        if (strstr(ServerVariable(pHttpContext, "QUERY_STRING"), "disable-authorize") != NULL)
            pHttpContext->DisableNotifications(RQ_AUTHORIZE_REQUEST, 0);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS
    OnAuthorizeRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        AppendHeader(pHttpContext, "X-Authorize-Called", "yes");
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS
    OnExecuteRequestHandler(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        IHttpStoredContext *pStored = pHttpContext->GetModuleContextContainer()->GetModuleContext(m_moduleId);
        CRequestContext *pContext = static_cast<CRequestContext *>(pStored);
        const char *pszText = "missing";
        if (pContext != NULL)
            pszText = pContext->IsMine(m_pszName) ? pContext->Text() : "foreign";
        AppendHeader(pHttpContext, "X-Context", pszText);
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    const char *m_pszName;
    HTTP_MODULE_ID m_moduleId;
};

class CContextFactory final : public IHttpModuleFactory
{
  public:
    CContextFactory(const char *pszName, HTTP_MODULE_ID moduleId) : m_moduleId(moduleId)
    {
        snprintf(m_szName, sizeof(m_szName), "%s", pszName);
    }

    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CContextModule(m_szName, m_moduleId);
        return S_OK;
    }

    VOID Terminate() { delete this; }

  private:
    char m_szName[kNameMax];
    HTTP_MODULE_ID m_moduleId;
};

void NarrowName(PCWSTR pwszName, char *pszOut, size_t cchOut)
{
    size_t i = 0;
    for (; pwszName != NULL && pwszName[i] != L'\0' && i + 1 < cchOut; i++)
        pszOut[i] = (pwszName[i] > 0 && pwszName[i] < 0x7f) ? (char)pwszName[i] : '?';
    pszOut[i] = '\0';
}

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    char szName[kNameMax];
    NarrowName(pModuleInfo->GetName(), szName, sizeof(szName));
    return pModuleInfo->SetRequestNotifications(
        new CContextFactory(szName, pModuleInfo->GetId()),
        RQ_BEGIN_REQUEST | RQ_AUTHORIZE_REQUEST | RQ_EXECUTE_REQUEST_HANDLER, 0);
}
