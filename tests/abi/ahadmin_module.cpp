/*
 * ahadmin_module.cpp - a module that reads its configuration section through
 * the AppHost admin API the way IIS modules do: IHttpServer::GetAdminManager,
 * GetAdminSection with the request's configuration path, GetPropertyByName +
 * get_Value, get_Collection + get_Item, GetElementByName, get_Properties,
 * with plain COM calls (BSTR, VARIANT, Release) and with the comdef.h
 * wrappers (_bstr_t, _variant_t, _COM_SMARTPTR_TYPEDEF, _com_error).
 *
 * run.sh builds it twice: as is (its dynamic symbols are checked with nm:
 * RegisterModule exported, only libc/libstdc++ imported) and with
 * -DIISD_AHADMIN_TEST_EXPORT, which adds IisdTestReadConfig() so that
 * ahadmin_harness.c can drive ReadModuleConfig against configuration
 * objects implemented in C.
 *
 * Section system.webServer/iisdTest: enabled (bool), maxItems (uint),
 * greeting (string), mode (int), child element <limits timeout="..."/>, and
 * a collection of <add name="..." value="..."/> response headers.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <ahadmin.h>
#include <comdef.h>

#include <new>
#include <string>

_COM_SMARTPTR_TYPEDEF(IAppHostElement, __uuidof(IAppHostElement));
_COM_SMARTPTR_TYPEDEF(IAppHostElementCollection, __uuidof(IAppHostElementCollection));
_COM_SMARTPTR_TYPEDEF(IAppHostProperty, __uuidof(IAppHostProperty));
_COM_SMARTPTR_TYPEDEF(IAppHostPropertyCollection, __uuidof(IAppHostPropertyCollection));

static IHttpServer *g_pHttpServer = NULL;

struct ModuleConfig {
    bool enabled;
    DWORD maxItems;
    LONG mode;
    LONGLONG timeout;
    DWORD propertyCount;
    _bstr_t greeting;
    std::string headers; /* "name:value,name:value" (UTF-8) */
};

/* Plain COM, as most IIS modules are written. */
static HRESULT GetPropertyValue(IAppHostElement *pElement, PCWSTR pszName, VARIANT *pValue)
{
    BSTR bstrName = SysAllocString(pszName);
    if (bstrName == NULL) {
        return E_OUTOFMEMORY;
    }
    IAppHostProperty *pProperty = NULL;
    HRESULT hr = pElement->GetPropertyByName(bstrName, &pProperty);
    SysFreeString(bstrName);
    if (FAILED(hr)) {
        return hr;
    }
    VariantInit(pValue);
    hr = pProperty->get_Value(pValue);
    pProperty->Release();
    return hr;
}

static HRESULT GetBooleanProperty(IAppHostElement *pElement, PCWSTR pszName, bool *pfValue)
{
    VARIANT value;
    HRESULT hr = GetPropertyValue(pElement, pszName, &value);
    if (SUCCEEDED(hr) && value.vt != VT_BOOL) {
        hr = VariantChangeType(&value, &value, 0, VT_BOOL);
    }
    if (SUCCEEDED(hr)) {
        *pfValue = value.boolVal == VARIANT_TRUE;
    }
    VariantClear(&value);
    return hr;
}

static HRESULT GetDwordProperty(IAppHostElement *pElement, PCWSTR pszName, DWORD *pdwValue)
{
    VARIANT value;
    HRESULT hr = GetPropertyValue(pElement, pszName, &value);
    if (SUCCEEDED(hr)) {
        VARIANT converted;
        VariantInit(&converted);
        hr = VariantChangeType(&converted, &value, 0, VT_UI4);
        if (SUCCEEDED(hr)) {
            *pdwValue = converted.ulVal;
        }
        VariantClear(&converted);
    }
    VariantClear(&value);
    return hr;
}

static HRESULT ReadModuleConfig(IAppHostAdminManager *pAdminManager, PCWSTR pszConfigPath,
                                ModuleConfig *pConfig)
{
    if (pAdminManager == NULL) {
        return E_POINTER;
    }
    BSTR bstrSection = SysAllocString(L"system.webServer/iisdTest");
    BSTR bstrPath = SysAllocString(pszConfigPath);
    IAppHostElement *pSection = NULL;
    HRESULT hr = pAdminManager->GetAdminSection(bstrSection, bstrPath, &pSection);
    SysFreeString(bstrSection);
    SysFreeString(bstrPath);
    if (FAILED(hr)) {
        return hr;
    }

    hr = GetBooleanProperty(pSection, L"enabled", &pConfig->enabled);
    if (SUCCEEDED(hr)) {
        hr = GetDwordProperty(pSection, L"maxItems", &pConfig->maxItems);
    }

    /* The collection, with plain COM: VT_I4 indexes passed by value. */
    IAppHostElementCollection *pCollection = NULL;
    if (SUCCEEDED(hr)) {
        hr = pSection->get_Collection(&pCollection);
    }
    DWORD cItems = 0;
    if (SUCCEEDED(hr)) {
        hr = pCollection->get_Count(&cItems);
    }
    for (DWORD i = 0; SUCCEEDED(hr) && i < cItems; i++) {
        VARIANT index;
        VariantInit(&index);
        index.vt = VT_I4;
        index.lVal = (LONG)i;
        IAppHostElement *pItem = NULL;
        hr = pCollection->get_Item(index, &pItem);
        if (FAILED(hr)) {
            break;
        }
        VARIANT name, value;
        VariantInit(&value);
        hr = GetPropertyValue(pItem, L"name", &name);
        if (SUCCEEDED(hr)) {
            hr = GetPropertyValue(pItem, L"value", &value);
        }
        if (SUCCEEDED(hr) && name.vt == VT_BSTR && value.vt == VT_BSTR) {
            if (!pConfig->headers.empty()) {
                pConfig->headers += ",";
            }
            pConfig->headers += (const char *)_bstr_t(name.bstrVal);
            pConfig->headers += ":";
            pConfig->headers += (const char *)_bstr_t(value.bstrVal);
        }
        VariantClear(&name);
        VariantClear(&value);
        pItem->Release();
    }
    if (pCollection != NULL) {
        pCollection->Release();
    }

    /* The rest with the comdef.h wrappers; conversion errors arrive as _com_error. */
    IAppHostElementPtr section(pSection, false); /* takes over the reference */
    if (FAILED(hr)) {
        return hr;
    }
    try {
        IAppHostPropertyPtr property;
        hr = section->GetPropertyByName(_bstr_t(L"greeting"), &property);
        if (FAILED(hr)) {
            return hr;
        }
        _variant_t greeting;
        hr = property->get_Value(&greeting);
        if (FAILED(hr)) {
            return hr;
        }
        pConfig->greeting = greeting;

        hr = section->GetPropertyByName(_bstr_t("mode"), &property); /* &property releases the previous one */
        if (FAILED(hr)) {
            return hr;
        }
        _variant_t mode;
        hr = property->get_Value(mode.GetAddress());
        if (FAILED(hr)) {
            return hr;
        }
        pConfig->mode = (long)mode;

        IAppHostElementPtr limits;
        hr = section->GetElementByName(_bstr_t(L"limits"), &limits);
        if (FAILED(hr)) {
            return hr;
        }
        IAppHostPropertyPtr timeout;
        hr = limits->GetPropertyByName(_bstr_t(L"timeout"), &timeout);
        if (FAILED(hr)) {
            return hr;
        }
        _variant_t timeoutValue;
        hr = timeout->get_Value(&timeoutValue);
        if (FAILED(hr)) {
            return hr;
        }
        pConfig->timeout = (__int64)timeoutValue; /* the server hands it over as text */

        IAppHostPropertyCollectionPtr properties;
        hr = section->get_Properties(&properties);
        if (SUCCEEDED(hr)) {
            hr = properties->get_Count(&pConfig->propertyCount);
        }
    } catch (const _com_error &e) {
        hr = e.Error();
    }
    return hr;
}

/* Per request: the configuration merged for the request's URL. */
class CConfiguredModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IN IHttpContext *pHttpContext,
                                               IN IHttpEventProvider *pProvider)
    {
        UNREFERENCED_PARAMETER(pProvider);
        ModuleConfig config;
        config.enabled = false;
        PCWSTR pszConfigPath = pHttpContext->GetMetadata()->GetMetaPath();
        HRESULT hr = ReadModuleConfig(g_pHttpServer->GetAdminManager(), pszConfigPath, &config);
        if (FAILED(hr)) {
            pHttpContext->GetResponse()->SetStatus(500, "Server Error", 19, hr);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (config.enabled && config.greeting.length() != 0) {
            const char *greeting = config.greeting;
            pHttpContext->GetResponse()->SetHeader("X-Greeting", greeting, (USHORT)strlen(greeting), TRUE);
        }
        return RQ_NOTIFICATION_CONTINUE;
    }
};

class CConfiguredModuleFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(OUT CHttpModule **ppModule, IN IModuleAllocator *pAllocator)
    {
        UNREFERENCED_PARAMETER(pAllocator);
        CConfiguredModule *pModule = new (std::nothrow) CConfiguredModule;
        if (pModule == NULL) {
            return E_OUTOFMEMORY;
        }
        *ppModule = pModule;
        return S_OK;
    }
    VOID Terminate() { delete this; }
};

/* Reads the server-wide configuration; registers for requests only when enabled. */
HRESULT __stdcall RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                                 IHttpServer *pGlobalInfo)
{
    UNREFERENCED_PARAMETER(dwServerVersion);
    g_pHttpServer = pGlobalInfo;
    ModuleConfig config;
    config.enabled = false;
    HRESULT hr = ReadModuleConfig(pGlobalInfo->GetAdminManager(), L"MACHINE/WEBROOT/APPHOST", &config);
    if (FAILED(hr)) {
        return hr;
    }
    if (!config.enabled) {
        return S_OK;
    }
    CConfiguredModuleFactory *pFactory = new (std::nothrow) CConfiguredModuleFactory;
    if (pFactory == NULL) {
        return E_OUTOFMEMORY;
    }
    return pModuleInfo->SetRequestNotifications(pFactory, RQ_BEGIN_REQUEST, 0);
}

#ifdef IISD_AHADMIN_TEST_EXPORT
/* Test hook: ReadModuleConfig for pszConfigPath, summarised as text. */
extern "C" __attribute__((visibility("default"))) int
IisdTestReadConfig(IAppHostAdminManager *pAdminManager, const wchar_t *pszConfigPath, char *out, size_t cap)
{
    ModuleConfig config;
    config.enabled = false;
    config.maxItems = 0;
    config.mode = 0;
    config.timeout = 0;
    config.propertyCount = 0;
    HRESULT hr = ReadModuleConfig(pAdminManager, pszConfigPath, &config);
    if (FAILED(hr)) {
        return snprintf(out, cap, "hr=0x%08X", (unsigned)hr);
    }
    const char *greeting = config.greeting;
    return snprintf(out, cap, "enabled=%d maxItems=%u mode=%d timeout=%lld props=%u greeting=%s headers=%s",
                    (int)config.enabled, (unsigned)config.maxItems, (int)config.mode,
                    (long long)config.timeout, (unsigned)config.propertyCount,
                    greeting != NULL ? greeting : "(null)", config.headers.c_str());
}
#endif
