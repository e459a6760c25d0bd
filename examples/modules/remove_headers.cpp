// remove_headers.cpp - removes response headers named in configuration.
//
// A module of the kind many IIS installations run to hide "Server",
// "X-Powered-By" and friends, written as it is written for IIS on Windows.
// docs/porting.md walks through bringing it to iisd; this file is the result,
// and it still builds with Visual C++ against the Windows SDK (there with the
// usual .def file exporting RegisterModule).
//
// Configuration (schema: remove_headers_schema.xml), at any level:
//
//   <system.webServer>
//     <removeResponseHeaders enabled="true">
//       <add name="Server" />
//       <add name="X-Powered-By" />
//     </removeResponseHeaders>
//   </system.webServer>
//
// On RQ_SEND_RESPONSE (at high priority, so it runs after the modules that
// add headers at the default priority) it reads the section at the request's
// configuration path through the AppHost administration API and deletes
// every header listed when enabled is true. A configuration error is
// reported once to the Event Log.
#define WIN32_LEAN_AND_MEAN
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <ahadmin.h>
#include <strsafe.h>

static IHttpServer *g_pHttpServer = NULL;
static HANDLE g_hEventLog = NULL;
static volatile LONG g_fConfigErrorReported = 0;

static const WCHAR SECTION_NAME[] = L"system.webServer/removeResponseHeaders";

// Reports a configuration failure to the Event Log, the first time only.
static void ReportConfigError(PCWSTR pszWhat, HRESULT hr)
{
    WCHAR szMessage[256];
    PCWSTR rgStrings[1] = {szMessage};
    if (InterlockedCompareExchange(&g_fConfigErrorReported, 1, 0) != 0 || g_hEventLog == NULL)
        return;
    StringCchPrintfW(szMessage, ARRAYSIZE(szMessage), L"cannot read %s (%s): hr=0x%08X", SECTION_NAME,
                     pszWhat, (unsigned)hr);
    ReportEventW(g_hEventLog, EVENTLOG_ERROR_TYPE, 0, 1, NULL, 1, 0, rgStrings, NULL);
}

// Reads a property of pElement into *pValue (VariantInit'ed by the caller).
static HRESULT GetProperty(IAppHostElement *pElement, PCWSTR pszName, VARIANT *pValue)
{
    IAppHostProperty *pProperty = NULL;
    BSTR bstrName = SysAllocString(pszName);
    HRESULT hr = bstrName != NULL ? pElement->GetPropertyByName(bstrName, &pProperty) : E_OUTOFMEMORY;
    SysFreeString(bstrName);
    if (SUCCEEDED(hr)) {
        hr = pProperty->get_Value(pValue);
        pProperty->Release();
    }
    return hr;
}

class CRemoveHeadersModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnSendResponse(IN IHttpContext *pHttpContext, IN ISendResponseProvider *pProvider)
    {
        UNREFERENCED_PARAMETER(pProvider);
        IAppHostAdminManager *pAdminManager = g_pHttpServer->GetAdminManager();
        IAppHostElement *pSection = NULL;
        IAppHostElementCollection *pCollection = NULL;
        VARIANT vtEnabled;
        DWORD cItems = 0;
        HRESULT hr;

        BSTR bstrSection = SysAllocString(SECTION_NAME);
        BSTR bstrPath = SysAllocString(pHttpContext->GetMetadata()->GetMetaPath());
        if (bstrSection == NULL || bstrPath == NULL) {
            hr = E_OUTOFMEMORY;
        } else {
            hr = pAdminManager->GetAdminSection(bstrSection, bstrPath, &pSection);
        }
        SysFreeString(bstrSection);
        SysFreeString(bstrPath);
        if (FAILED(hr)) {
            ReportConfigError(L"GetAdminSection", hr);
            return RQ_NOTIFICATION_CONTINUE;
        }

        VariantInit(&vtEnabled);
        hr = GetProperty(pSection, L"enabled", &vtEnabled);
        if (SUCCEEDED(hr) && vtEnabled.vt == VT_BOOL && vtEnabled.boolVal == VARIANT_TRUE) {
            hr = pSection->get_Collection(&pCollection);
            if (SUCCEEDED(hr))
                hr = pCollection->get_Count(&cItems);
            for (DWORD i = 0; SUCCEEDED(hr) && i < cItems; i++)
                hr = RemoveItem(pHttpContext->GetResponse(), pCollection, i);
            if (FAILED(hr))
                ReportConfigError(L"the header list", hr);
        }
        VariantClear(&vtEnabled);
        if (pCollection != NULL)
            pCollection->Release();
        pSection->Release();
        return RQ_NOTIFICATION_CONTINUE;
    }

  private:
    // Deletes the header named by item i of the collection.
    static HRESULT RemoveItem(IHttpResponse *pResponse, IAppHostElementCollection *pCollection, DWORD i)
    {
        IAppHostElement *pItem = NULL;
        VARIANT vtIndex;
        VARIANT vtName;
        VariantInit(&vtIndex);
        vtIndex.vt = VT_UI4;
        vtIndex.ulVal = i;
        HRESULT hr = pCollection->get_Item(vtIndex, &pItem);
        if (FAILED(hr))
            return hr;
        VariantInit(&vtName);
        hr = GetProperty(pItem, L"name", &vtName);
        if (SUCCEEDED(hr) && vtName.vt == VT_BSTR) {
            char szName[256];
            size_t cbConverted = 0;
            // Header names are ASCII; longer names than 255 bytes are not headers we remove.
            if (wcstombs_s(&cbConverted, szName, sizeof(szName), vtName.bstrVal, _TRUNCATE) == 0)
                hr = pResponse->DeleteHeader(szName);
        }
        VariantClear(&vtName);
        pItem->Release();
        return hr;
    }
};

class CRemoveHeadersFactory : public IHttpModuleFactory
{
  public:
    HRESULT
    GetHttpModule(OUT CHttpModule **ppModule, IN IModuleAllocator *pAllocator)
    {
        UNREFERENCED_PARAMETER(pAllocator);
        *ppModule = new CRemoveHeadersModule();
        return *ppModule != NULL ? S_OK : E_OUTOFMEMORY;
    }

    void Terminate()
    {
        if (g_hEventLog != NULL) {
            DeregisterEventSource(g_hEventLog);
            g_hEventLog = NULL;
        }
        delete this;
    }
};

HRESULT
__stdcall RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                         IHttpServer *pGlobalInfo)
{
    UNREFERENCED_PARAMETER(dwServerVersion);
    g_pHttpServer = pGlobalInfo;
    g_hEventLog = RegisterEventSourceW(NULL, L"RemoveHeaders");
    HRESULT hr = pModuleInfo->SetRequestNotifications(new CRemoveHeadersFactory(), RQ_SEND_RESPONSE, 0);
    if (SUCCEEDED(hr))
        hr = pModuleInfo->SetPriorityForRequestNotification(RQ_SEND_RESPONSE, PRIORITY_ALIAS_HIGH);
    return hr;
}
