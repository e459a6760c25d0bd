// config_reader.cpp - a module that reads its own configuration section
// through the AppHost administration API (ahadmin.h), the way an IIS module
// does: IHttpServer::GetAdminManager(), then GetAdminSection at the
// request's configuration path (IHttpContext::GetMetadata()->GetMetaPath()).
//
// Its section is system.webServer/testSection, defined by
// tests/modules/schema/config_reader_schema.xml:
//
//   <testSection greeting="hello" count="1" enabled="true" level="medium"
//                offset="-5" big="5000000000">
//       <add name="..." value="..."/>          (name is the unique key)
//   </testSection>
//
// Requests (RQ_BEGIN_REQUEST; other URLs continue down the pipeline):
//
//   a URL with a path segment "config" (/config, /config/sub/x.txt, /app/config/)
//       answers 200 text/plain
//         greeting=<greeting>;count=<count>;enabled=<true|false>;items=<name>:<value>,...
//       with the headers
//         X-Meta-Path  the configuration path that was read
//         X-Types      the VARIANT types get_Value returned:
//                      greeting=<vt>,count=<vt>,enabled=<vt>,level=<vt>,offset=<vt>,big=<vt>
//                      (VT_BSTR 8, VT_BOOL 11, VT_I4 3, VT_UI4 19, VT_I8 20)
//         X-Extra      level=<n>;offset=<n>;big=<n>
//       and FINISH_REQUEST. A query string "path=<percent-encoded path>"
//       reads that configuration path instead of the request's own.
//       With "section=<name>[&element=<child>/<child>][&attr=<attribute>]" it
//       reads any section instead and answers "list=<v1>,<v2>,..." with
//       attribute <attribute> (default "name") of every item of the collection
//       of the section, or of its child element <child>/<child>.
//       When a call fails the body is "error=<what> hr=0x<HRESULT>" (still 200,
//       so that no custom error page replaces it) and X-Config-Hr holds the HRESULT.
//
//   a URL whose last segment is "config-changes"
//       answers the configuration paths GL_CONFIGURATION_CHANGE reported so
//       far, one per line, in order (the module registers a global module for
//       that notification).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>
#include <ahadmin.h>
#include <comdef.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

namespace
{

IHttpServer *g_pHttpServer = NULL;

// GL_CONFIGURATION_CHANGE paths, as UTF-8.
pthread_mutex_t g_changesLock = PTHREAD_MUTEX_INITIALIZER;
std::vector<std::string> *g_pChanges = NULL;

std::string FormatHr(HRESULT hr)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "0x%08x", (unsigned)hr);
    return buf;
}

void SetHeader(IHttpContext *pHttpContext, const char *pszName, const std::string &value)
{
    pHttpContext->GetResponse()->SetHeader(pszName, value.c_str(), (USHORT)value.size(), TRUE);
}

void Answer(IHttpContext *pHttpContext, const std::string &text)
{
    // (headers set before, X-Meta-Path and friends, stay)
    IHttpResponse *pResponse = pHttpContext->GetResponse();
    pResponse->SetStatus(200, "OK");
    static const char kType[] = "text/plain";
    pResponse->SetHeader(HttpHeaderContentType, kType, (USHORT)(sizeof(kType) - 1), TRUE);
    if (text.empty())
        return;
    // The body must outlive this call: request memory lives as long as the request.
    void *pBuffer = pHttpContext->AllocateRequestMemory((DWORD)text.size());
    if (pBuffer == NULL)
        return;
    memcpy(pBuffer, text.data(), text.size());
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = pBuffer;
    chunk.FromMemory.BufferLength = (ULONG)text.size();
    DWORD cbSent = 0;
    pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &cbSent);
}

// UTF-8 text of a wide string (a NULL BSTR is the empty string).
std::string Utf8(const wchar_t *pwsz)
{
    if (pwsz == NULL)
        return std::string();
    _bstr_t copy(pwsz);
    const char *psz = (const char *)copy;
    return psz != NULL ? std::string(psz) : std::string();
}

// The text of a VARIANT as the tests expect it.
std::string VariantText(const VARIANT &v)
{
    char buf[64];
    switch (v.vt) {
    case VT_BSTR:
        return Utf8(v.bstrVal);
    case VT_BOOL:
        return v.boolVal != VARIANT_FALSE ? "true" : "false";
    case VT_UI4:
        snprintf(buf, sizeof(buf), "%u", (unsigned)v.ulVal);
        return buf;
    case VT_I4:
        snprintf(buf, sizeof(buf), "%d", (int)v.lVal);
        return buf;
    case VT_I8:
        snprintf(buf, sizeof(buf), "%lld", (long long)v.llVal);
        return buf;
    case VT_UI8:
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v.ullVal);
        return buf;
    default:
        snprintf(buf, sizeof(buf), "<vt %u>", (unsigned)v.vt);
        return buf;
    }
}

// Reads attribute pszName of pElement into *pText (and its VARIANT type into *pVt).
HRESULT ReadProperty(IAppHostElement *pElement, const wchar_t *pszName, std::string *pText, VARTYPE *pVt)
{
    IAppHostProperty *pProperty = NULL;
    _bstr_t name(pszName);
    HRESULT hr = pElement->GetPropertyByName(name, &pProperty);
    if (FAILED(hr))
        return hr;
    if (pProperty == NULL)
        return E_POINTER;
    _variant_t value;
    hr = pProperty->get_Value(&value);
    pProperty->Release();
    if (FAILED(hr))
        return hr;
    *pText = VariantText(value);
    if (pVt != NULL)
        *pVt = value.vt;
    return S_OK;
}

int HexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string PercentDecode(const char *p, size_t n)
{
    std::string out;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && HexDigit(p[i + 1]) >= 0 && HexDigit(p[i + 2]) >= 0) {
            out += (char)(HexDigit(p[i + 1]) * 16 + HexDigit(p[i + 2]));
            i += 2;
        } else if (p[i] == '+') {
            out += ' ';
        } else {
            out += p[i];
        }
    }
    return out;
}

// The value of `key` in a query string, or false when it is absent.
bool QueryValue(const char *pszQuery, const char *pszKey, std::string *pValue)
{
    size_t cchKey = strlen(pszKey);
    const char *p = pszQuery;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > cchKey && strncmp(p, pszKey, cchKey) == 0 && p[cchKey] == '=') {
            *pValue = PercentDecode(p + cchKey + 1, len - cchKey - 1);
            return true;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

std::string ServerVariable(IHttpContext *pHttpContext, PCSTR pszName)
{
    PCSTR pszValue = NULL;
    DWORD cchValue = 0;
    if (FAILED(pHttpContext->GetServerVariable(pszName, &pszValue, &cchValue)) || pszValue == NULL)
        return std::string();
    return std::string(pszValue);
}

class CConfigReaderModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        std::string url = ServerVariable(pHttpContext, "URL");
        bool configSegment = false;
        std::string lastSegment;
        size_t start = 0;
        while (start <= url.size()) {
            size_t slash = url.find('/', start);
            std::string segment =
                url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
            if (segment == "config")
                configSegment = true;
            lastSegment = segment;
            if (slash == std::string::npos)
                break;
            start = slash + 1;
        }
        if (lastSegment == "config-changes" || configSegment)
            pHttpContext->GetResponse()->Clear();
        if (lastSegment == "config-changes") {
            AnswerChanges(pHttpContext);
            return RQ_NOTIFICATION_FINISH_REQUEST;
        }
        if (!configSegment)
            return RQ_NOTIFICATION_CONTINUE;
        AnswerSection(pHttpContext);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

  private:
    static void AnswerChanges(IHttpContext *pHttpContext)
    {
        std::string text;
        pthread_mutex_lock(&g_changesLock);
        if (g_pChanges != NULL) {
            for (const std::string &path : *g_pChanges)
                text += path + "\n";
        }
        pthread_mutex_unlock(&g_changesLock);
        Answer(pHttpContext, text);
    }

    static void Fail(IHttpContext *pHttpContext, const char *pszWhat, HRESULT hr)
    {
        SetHeader(pHttpContext, "X-Config-Hr", FormatHr(hr));
        Answer(pHttpContext, std::string("error=") + pszWhat + " hr=" + FormatHr(hr));
    }

    // ?section=S[&element=a/b][&attr=A]: "list=" and attribute A of every item of
    // the collection of section S (or of its child element a/b), in order.
    static void AnswerList(IHttpContext *pHttpContext, IAppHostAdminManager *pAdminManager,
                           const _bstr_t &path, const std::string &section, const std::string &element,
                           const std::string &attribute)
    {
        IAppHostElement *pElement = NULL;
        _bstr_t sectionName(section.c_str());
        HRESULT hr = pAdminManager->GetAdminSection(sectionName, path, &pElement);
        if (FAILED(hr) || pElement == NULL) {
            Fail(pHttpContext, "GetAdminSection", FAILED(hr) ? hr : E_POINTER);
            return;
        }
        size_t start = 0;
        while (start < element.size()) {
            size_t slash = element.find('/', start);
            std::string part =
                element.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
            start = slash == std::string::npos ? element.size() : slash + 1;
            if (part.empty())
                continue;
            IAppHostElement *pChild = NULL;
            _bstr_t childName(part.c_str());
            hr = pElement->GetElementByName(childName, &pChild);
            pElement->Release();
            if (FAILED(hr) || pChild == NULL) {
                Fail(pHttpContext, "GetElementByName", FAILED(hr) ? hr : E_POINTER);
                return;
            }
            pElement = pChild;
        }
        IAppHostElementCollection *pCollection = NULL;
        hr = pElement->get_Collection(&pCollection);
        pElement->Release();
        if (FAILED(hr) || pCollection == NULL) {
            Fail(pHttpContext, "get_Collection", FAILED(hr) ? hr : E_POINTER);
            return;
        }
        std::string list;
        DWORD count = 0;
        hr = pCollection->get_Count(&count);
        std::wstring wattr(attribute.begin(), attribute.end());
        for (DWORD i = 0; SUCCEEDED(hr) && i < count; i++) {
            _variant_t index((unsigned int)i);
            IAppHostElement *pItem = NULL;
            hr = pCollection->get_Item(index, &pItem);
            if (FAILED(hr) || pItem == NULL) {
                hr = FAILED(hr) ? hr : E_POINTER;
                break;
            }
            std::string value;
            hr = ReadProperty(pItem, wattr.c_str(), &value, NULL);
            pItem->Release();
            if (SUCCEEDED(hr))
                list += (i ? "," : "") + value;
        }
        pCollection->Release();
        if (FAILED(hr)) {
            Fail(pHttpContext, "collection", hr);
            return;
        }
        Answer(pHttpContext, "list=" + list);
    }

    static void AnswerSection(IHttpContext *pHttpContext)
    {
        // The configuration path: the request's own, or ?path=...
        _bstr_t path;
        std::string query = ServerVariable(pHttpContext, "QUERY_STRING");
        std::string explicitPath;
        if (QueryValue(query.c_str(), "path", &explicitPath)) {
            path = explicitPath.c_str();
        } else {
            IMetadataInfo *pMetadata = pHttpContext->GetMetadata();
            if (pMetadata == NULL || pMetadata->GetMetaPath() == NULL) {
                Fail(pHttpContext, "GetMetadata/GetMetaPath returned NULL", E_POINTER);
                return;
            }
            path = pMetadata->GetMetaPath();
        }
        SetHeader(pHttpContext, "X-Meta-Path", Utf8((const wchar_t *)path));

        IAppHostAdminManager *pAdminManager = g_pHttpServer->GetAdminManager();
        if (pAdminManager == NULL) {
            Fail(pHttpContext, "GetAdminManager returned NULL", E_NOTIMPL);
            return;
        }

        std::string listSection;
        if (QueryValue(query.c_str(), "section", &listSection)) {
            std::string element, attribute;
            QueryValue(query.c_str(), "element", &element);
            if (!QueryValue(query.c_str(), "attr", &attribute))
                attribute = "name";
            AnswerList(pHttpContext, pAdminManager, path, listSection, element, attribute);
            return;
        }

        IAppHostElement *pSection = NULL;
        _bstr_t sectionName(L"system.webServer/testSection");
        HRESULT hr = pAdminManager->GetAdminSection(sectionName, path, &pSection);
        if (FAILED(hr)) {
            Fail(pHttpContext, "GetAdminSection", hr);
            return;
        }
        if (pSection == NULL) {
            Fail(pHttpContext, "GetAdminSection returned NULL", E_POINTER);
            return;
        }

        static const wchar_t *const kAttributes[] = {L"greeting", L"count",  L"enabled",
                                                     L"level",    L"offset", L"big"};
        static const char *const kNames[] = {"greeting", "count", "enabled", "level", "offset", "big"};
        std::string values[6];
        std::string types;
        for (size_t i = 0; i < 6; i++) {
            VARTYPE vt = VT_EMPTY;
            hr = ReadProperty(pSection, kAttributes[i], &values[i], &vt);
            if (FAILED(hr)) {
                pSection->Release();
                Fail(pHttpContext, (std::string("GetPropertyByName/get_Value ") + kNames[i]).c_str(), hr);
                return;
            }
            char buf[64];
            snprintf(buf, sizeof(buf), "%s%s=%u", i ? "," : "", kNames[i], (unsigned)vt);
            types += buf;
        }

        // The collection: <add name value/> items, merged down the path.
        std::string items;
        IAppHostElementCollection *pCollection = NULL;
        hr = pSection->get_Collection(&pCollection);
        if (FAILED(hr) || pCollection == NULL) {
            pSection->Release();
            Fail(pHttpContext, "get_Collection", FAILED(hr) ? hr : E_POINTER);
            return;
        }
        DWORD count = 0;
        hr = pCollection->get_Count(&count);
        for (DWORD i = 0; SUCCEEDED(hr) && i < count; i++) {
            // Alternate the two integer index types IIS accepts.
            _variant_t index;
            if (i % 2 == 0)
                index = (int)i; // VT_I4
            else
                index = (unsigned int)i; // VT_UI4
            IAppHostElement *pItem = NULL;
            hr = pCollection->get_Item(index, &pItem);
            if (FAILED(hr))
                break;
            if (pItem == NULL) {
                hr = E_POINTER;
                break;
            }
            std::string name, value;
            hr = ReadProperty(pItem, L"name", &name, NULL);
            if (SUCCEEDED(hr))
                hr = ReadProperty(pItem, L"value", &value, NULL);
            pItem->Release();
            if (SUCCEEDED(hr))
                items += (i ? "," : "") + name + ":" + value;
        }
        pCollection->Release();
        pSection->Release();
        if (FAILED(hr)) {
            Fail(pHttpContext, "collection", hr);
            return;
        }

        SetHeader(pHttpContext, "X-Types", types);
        SetHeader(pHttpContext, "X-Extra",
                  "level=" + values[3] + ";offset=" + values[4] + ";big=" + values[5]);
        Answer(pHttpContext,
               "greeting=" + values[0] + ";count=" + values[1] + ";enabled=" + values[2] + ";items=" + items);
    }
};

class CConfigReaderFactory final : public IHttpModuleFactory
{
  public:
    HRESULT
    GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CConfigReaderModule();
        return S_OK;
    }

    VOID Terminate() { delete this; }
};

class CConfigChangeGlobal final : public CGlobalModule
{
  public:
    GLOBAL_NOTIFICATION_STATUS
    OnGlobalConfigurationChange(IGlobalConfigurationChangeProvider *pProvider)
    {
        PCWSTR pwszPath = pProvider->GetChangePath();
        std::string path = pwszPath != NULL ? Utf8(pwszPath) : "(null)";
        pthread_mutex_lock(&g_changesLock);
        if (g_pChanges != NULL)
            g_pChanges->push_back(path);
        pthread_mutex_unlock(&g_changesLock);
        return GL_NOTIFICATION_CONTINUE;
    }

    VOID Terminate()
    {
        pthread_mutex_lock(&g_changesLock);
        delete g_pChanges;
        g_pChanges = NULL;
        pthread_mutex_unlock(&g_changesLock);
        delete this;
    }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *pGlobalInfo)
{
    g_pHttpServer = pGlobalInfo;
    pthread_mutex_lock(&g_changesLock);
    if (g_pChanges == NULL)
        g_pChanges = new std::vector<std::string>();
    pthread_mutex_unlock(&g_changesLock);

    HRESULT hr = pModuleInfo->SetRequestNotifications(new CConfigReaderFactory, RQ_BEGIN_REQUEST, 0);
    if (FAILED(hr))
        return hr;
    return pModuleInfo->SetGlobalNotifications(new CConfigChangeGlobal, GL_CONFIGURATION_CHANGE);
}
