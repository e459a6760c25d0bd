// rawrequest.cpp - reads and edits the raw HTTP_REQUEST (IHttpRequest::GetRawHttpRequest).
//
// In RQ_BEGIN_REQUEST, for URLs starting with /rawreq, answers 200 text/plain with one
// "key=value" line per fact:
//   verb, rawurl, full, host, path, query      what the structure holds (CookedUrl as UTF-8)
//   agent                                      the User-Agent known header from the structure
//   unknown                                    the names of the unknown headers, comma-separated
//   same                                       1 when a second call returns the same pointer
// It then edits the structure (User-Agent := "edited", an unknown header X-Added: yes,
// the verb := PUT) and reports what the request methods say after the edit:
//   agent2, added, method2
// and, after SetHeader("X-Set", "v"), whether the structure shows the new header: inraw.
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <string>

namespace
{

std::string Narrow(PCWSTR w, USHORT bytes)
{
    std::string out;
    for (USHORT i = 0; w != NULL && i < bytes / sizeof(WCHAR); i++)
        out += w[i] < 0x80 ? (char)w[i] : '?';
    return out;
}

class CRawRequestModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS
    OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        PCSTR url = NULL;
        DWORD cch = 0;
        if (FAILED(pHttpContext->GetServerVariable("URL", &url, &cch)) || url == NULL ||
            strncmp(url, "/rawreq", 7) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        IHttpRequest *pRequest = pHttpContext->GetRequest();
        HTTP_REQUEST *raw = pRequest->GetRawHttpRequest();
        std::string body;
        if (raw == NULL) {
            body = "raw=null\n";
        } else {
            char line[512];
            snprintf(line, sizeof(line), "verb=%d\nrawurl=%.*s\n", (int)raw->Verb, (int)raw->RawUrlLength,
                     raw->pRawUrl);
            body += line;
            body += "full=" + Narrow(raw->CookedUrl.pFullUrl, raw->CookedUrl.FullUrlLength) + "\n";
            body += "host=" + Narrow(raw->CookedUrl.pHost, raw->CookedUrl.HostLength) + "\n";
            body += "path=" + Narrow(raw->CookedUrl.pAbsPath, raw->CookedUrl.AbsPathLength) + "\n";
            body += "query=" + Narrow(raw->CookedUrl.pQueryString, raw->CookedUrl.QueryStringLength) + "\n";
            const HTTP_KNOWN_HEADER &ua = raw->Headers.KnownHeaders[HttpHeaderUserAgent];
            body += "agent=" + std::string(ua.pRawValue ? ua.pRawValue : "", ua.RawValueLength) + "\n";
            body += "unknown=";
            for (USHORT i = 0; i < raw->Headers.UnknownHeaderCount; i++) {
                if (i)
                    body += ",";
                body += std::string(raw->Headers.pUnknownHeaders[i].pName,
                                    raw->Headers.pUnknownHeaders[i].NameLength);
            }
            body += "\n";
            body += std::string("same=") + (pRequest->GetRawHttpRequest() == raw ? "1" : "0") + "\n";

            // edit the structure, then ask the request
            static const char kEdited[] = "edited";
            raw->Headers.KnownHeaders[HttpHeaderUserAgent].pRawValue = kEdited;
            raw->Headers.KnownHeaders[HttpHeaderUserAgent].RawValueLength = (USHORT)strlen(kEdited);
            USHORT n = raw->Headers.UnknownHeaderCount;
            HTTP_UNKNOWN_HEADER *grown = (HTTP_UNKNOWN_HEADER *)pHttpContext->AllocateRequestMemory(
                (DWORD)((n + 1) * sizeof(HTTP_UNKNOWN_HEADER)));
            memcpy(grown, raw->Headers.pUnknownHeaders, n * sizeof(HTTP_UNKNOWN_HEADER));
            memset(&grown[n], 0, sizeof(grown[n]));
            grown[n].pName = "X-Added";
            grown[n].NameLength = 7;
            grown[n].pRawValue = "yes";
            grown[n].RawValueLength = 3;
            raw->Headers.pUnknownHeaders = grown;
            raw->Headers.UnknownHeaderCount = (USHORT)(n + 1);
            raw->Verb = HttpVerbPUT;
            PCSTR agent = pRequest->GetHeader(HttpHeaderUserAgent);
            PCSTR added = pRequest->GetHeader("X-Added");
            body += std::string("agent2=") + (agent ? agent : "(none)") + "\n";
            body += std::string("added=") + (added ? added : "(none)") + "\n";
            body += std::string("method2=") + pRequest->GetHttpMethod() + "\n";
            pRequest->SetHeader("X-Set", "v", 1, TRUE);
            bool inraw = false;
            for (USHORT i = 0; i < raw->Headers.UnknownHeaderCount; i++)
                if (raw->Headers.pUnknownHeaders[i].NameLength == 5 &&
                    strncmp(raw->Headers.pUnknownHeaders[i].pName, "X-Set", 5) == 0)
                    inraw = true;
            body += std::string("inraw=") + (inraw ? "1" : "0") + "\n";
        }
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        pResponse->Clear();
        pResponse->SetStatus(200, "OK");
        pResponse->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        m_body = body;
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = (PVOID)m_body.data();
        chunk.FromMemory.BufferLength = (ULONG)m_body.size();
        DWORD sent = 0;
        pResponse->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

  private:
    std::string m_body;
};

class CRawRequestFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CRawRequestModule();
        return S_OK;
    }
    void Terminate() { delete this; }
};

} // namespace

extern "C" HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    return pModuleInfo->SetRequestNotifications(new CRawRequestFactory(), RQ_BEGIN_REQUEST, 0);
}
