// order.cpp - one image that can be registered under many names to observe
// notification ordering.
//
// The registered name (IHttpModuleRegistrationInfo::GetName) selects the
// priority: a suffix _FIRST, _HIGH, _MEDIUM, _LOW or _LAST is passed to
// SetPriorityForRequestNotification for RQ_BEGIN_REQUEST and RQ_SEND_RESPONSE;
// a name without such a suffix makes no SetPriority call (default priority).
//
// Every instance, on every request:
//   OnBeginRequest      appends its name to response header X-Order and
//                       "<name>:begin" to X-Events;
//   OnPostBeginRequest  appends "<name>:post" to X-Events;
//   OnSendResponse      appends its name to X-Send-Order.
// All return RQ_NOTIFICATION_CONTINUE, so the request itself is served by
// whatever comes later (the static file module in the tests).
//
// The image may be dlopen()ed once and registered several times (one
// RegisterModule call per <globalModules> entry), so nothing per-name lives
// in globals: each registration gets its own factory holding its name.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>
#include <wchar.h>

namespace
{

const size_t kNameMax = 128;

void AppendHeader(IHttpContext *pContext, const char *pszName, const char *pszValue)
{
    IHttpResponse *pResponse = pContext->GetResponse();
    pResponse->SetHeader(pszName, pszValue, (USHORT)strlen(pszValue), FALSE);
}

class COrderModule : public CHttpModule
{
  public:
    explicit COrderModule(const char *pszName) : m_pszName(pszName) {}

    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        char event[kNameMax + 16];
        AppendHeader(pHttpContext, "X-Order", m_pszName);
        snprintf(event, sizeof(event), "%s:begin", m_pszName);
        AppendHeader(pHttpContext, "X-Events", event);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS
    OnPostBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        char event[kNameMax + 16];
        snprintf(event, sizeof(event), "%s:post", m_pszName);
        AppendHeader(pHttpContext, "X-Events", event);
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS
    OnSendResponse(IHttpContext *pHttpContext, ISendResponseProvider *)
    {
        AppendHeader(pHttpContext, "X-Send-Order", m_pszName);
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    const char *m_pszName; // owned by the factory, which outlives us
};

class COrderFactory final : public IHttpModuleFactory
{
  public:
    explicit COrderFactory(const char *pszName)
    {
        strncpy(m_szName, pszName, sizeof(m_szName) - 1);
        m_szName[sizeof(m_szName) - 1] = '\0';
    }

    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new COrderModule(m_szName);
        return S_OK;
    }

    VOID Terminate() { delete this; }

  private:
    char m_szName[kNameMax];
};

// Narrow an ASCII module name; anything else becomes '?'.
void NarrowName(PCWSTR pwszName, char *pszOut, size_t cchOut)
{
    size_t i = 0;
    for (; pwszName != NULL && pwszName[i] != L'\0' && i + 1 < cchOut; i++)
        pszOut[i] = (pwszName[i] > 0 && pwszName[i] < 0x7f) ? (char)pwszName[i] : '?';
    pszOut[i] = '\0';
}

bool EndsWith(const char *pszText, const char *pszSuffix)
{
    size_t cchText = strlen(pszText);
    size_t cchSuffix = strlen(pszSuffix);
    return cchText >= cchSuffix && strcmp(pszText + cchText - cchSuffix, pszSuffix) == 0;
}

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    char szName[kNameMax];
    NarrowName(pModuleInfo->GetName(), szName, sizeof(szName));

    HRESULT hr = pModuleInfo->SetRequestNotifications(new COrderFactory(szName),
                                                      RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, RQ_BEGIN_REQUEST);
    if (FAILED(hr))
        return hr;

    static const struct {
        const char *suffix;
        PCWSTR priority;
    } kPriorities[] = {
        {"_FIRST", PRIORITY_ALIAS_FIRST}, {"_HIGH", PRIORITY_ALIAS_HIGH}, {"_MEDIUM", PRIORITY_ALIAS_MEDIUM},
        {"_LOW", PRIORITY_ALIAS_LOW},     {"_LAST", PRIORITY_ALIAS_LAST},
    };
    for (const auto &p : kPriorities) {
        if (EndsWith(szName, p.suffix))
            return pModuleInfo->SetPriorityForRequestNotification(RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE,
                                                                  p.priority);
    }
    return S_OK;
}
