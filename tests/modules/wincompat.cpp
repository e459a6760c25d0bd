// wincompat.cpp - a module written the way an IIS module is written for
// Windows (UNICODE build, <windows.h>, <strsafe.h>, the secure CRT, a
// CRITICAL_SECTION, an SRWLOCK, Interlocked counters, the Event Log and
// __uuidof), with no iisd-specific code.
//
// Requests (RQ_BEGIN_REQUEST; other URLs continue down the pipeline):
//
//   /wincompat        answers 200 text/plain, one "key=value" line each:
//                       count=<requests answered so far, this one included>
//                       wide=<StringCchPrintfW(L"%s #%ld of %S", L"request", count, "wincompat")>
//                       trunc=<StringCchCopyW into 6 WCHARs: hr in hex>,<the text>
//                       crt=<sprintf_s "%I64d|%lu|%s"> <_itoa_s(255, 16)> <_ltow_s(-42)> <strcpy_s rc>
//                       uuid=<StringFromGUID2(__uuidof(IHttpServer))>
//                       guidlen=<what StringFromGUID2 returned>
//                       year=<GetSystemTime().wYear>
//                       tick=<1 if GetTickCount64() is non-zero and monotonic>
//                       last=<the previous URL seen, kept under an SRWLOCK>
//   /wincompat/event  writes a warning event (id 1001, source "WinCompatSource",
//                     strings "event from" and the URL) with ReportEvent and
//                     answers "reported=1" (0 if ReportEvent failed).
//
// RegisterModule opens the event source and writes an informational event
// (id 1000, string "registered").
#define UNICODE
#define _UNICODE
#define _WINSOCKAPI_
#include <windows.h>
#include <strsafe.h>
#include <httpserv.h>

#include <string>

namespace
{

volatile LONG g_cRequests = 0;
CRITICAL_SECTION g_csBody;
SRWLOCK g_srwLast = SRWLOCK_INIT;
char g_szLastUrl[256] = "";
HANDLE g_hEventLog = NULL;
ULONGLONG g_ullStartTicks = 0;

std::string Narrow(PCWSTR pwsz)
{
    char buf[512];
    size_t cb = 0;
    if (pwsz == NULL || (wcstombs_s(&cb, buf, pwsz, _TRUNCATE) != 0 && cb == 0))
        return std::string();
    return buf;
}

class CWinCompatModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnBeginRequest(IHttpContext *pHttpContext, IHttpEventProvider *)
    {
        std::string url = Narrow(pHttpContext->GetScriptName());
        PCSTR pszUrl = url.c_str();
        if (strncmp(pszUrl, "/wincompat", 10) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        std::string body;
        if (strcmp(pszUrl, "/wincompat/event") == 0) {
            PCWSTR rgStrings[2] = {L"event from", L"/wincompat/event"};
            BOOL fOk = ReportEvent(g_hEventLog, EVENTLOG_WARNING_TYPE, 0, 1001, NULL, 2, 0, rgStrings, NULL);
            body = fOk ? "reported=1\n" : "reported=0\n";
        } else {
            body = Describe(pszUrl);
        }
        Answer(pHttpContext, body);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

  private:
    static std::string Describe(PCSTR pszUrl)
    {
        LONG lCount = InterlockedIncrement(&g_cRequests);
        std::string body;
        char line[256];

        EnterCriticalSection(&g_csBody);
        WCHAR wszText[64];
        StringCchPrintf(wszText, ARRAYSIZE(wszText), L"%s #%ld of %S", L"request", lCount, "wincompat");
        sprintf_s(line, "count=%ld\nwide=%s\n", lCount, Narrow(wszText).c_str());
        body += line;

        WCHAR wszSmall[6];
        HRESULT hr = StringCchCopy(wszSmall, ARRAYSIZE(wszSmall), L"truncated");
        sprintf_s(line, "trunc=%08x,%s\n", (unsigned)hr, Narrow(wszSmall).c_str());
        body += line;

        char szHex[8];
        WCHAR wszLong[16];
        char szCopy[4];
        _itoa_s(255, szHex, 16);
        _ltow_s(-42, wszLong, 10);
        errno_t err = strcpy_s(szCopy, "too long");
        sprintf_s(line, "crt=%I64d|%lu|%s %s %S %d\n", (LONGLONG)-5000000000ll, (DWORD)4000000000u, "s",
                  szHex, wszLong, err);
        body += line;

        WCHAR wszGuid[40];
        int cch = StringFromGUID2(__uuidof(IHttpServer), wszGuid, ARRAYSIZE(wszGuid));
        sprintf_s(line, "uuid=%S\nguidlen=%d\n", wszGuid, cch);
        body += line;

        SYSTEMTIME st;
        GetSystemTime(&st);
        ULONGLONG ullNow = GetTickCount64();
        sprintf_s(line, "year=%u\ntick=%d\n", (unsigned)st.wYear, ullNow != 0 && ullNow >= g_ullStartTicks);
        body += line;
        LeaveCriticalSection(&g_csBody);

        AcquireSRWLockExclusive(&g_srwLast);
        sprintf_s(line, "last=%s\n", g_szLastUrl);
        strncpy_s(g_szLastUrl, pszUrl, _TRUNCATE);
        ReleaseSRWLockExclusive(&g_srwLast);
        body += line;
        return body;
    }

    static void Answer(IHttpContext *pHttpContext, const std::string &text)
    {
        IHttpResponse *pResponse = pHttpContext->GetResponse();
        pResponse->SetStatus(200, "OK");
        pResponse->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
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
};

class CWinCompatFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new CWinCompatModule();
        return *ppModule != NULL ? S_OK : E_OUTOFMEMORY;
    }

    void Terminate()
    {
        if (g_hEventLog != NULL)
            DeregisterEventSource(g_hEventLog);
        g_hEventLog = NULL;
        DeleteCriticalSection(&g_csBody);
        delete this;
    }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *pModuleInfo, IHttpServer *)
{
    if (!InitializeCriticalSectionAndSpinCount(&g_csBody, 4000))
        return HRESULT_FROM_WIN32(GetLastError());
    g_hEventLog = RegisterEventSource(NULL, L"WinCompatSource");
    if (g_hEventLog == NULL)
        return HRESULT_FROM_WIN32(GetLastError());
    PCWSTR rgStrings[1] = {L"registered"};
    ReportEvent(g_hEventLog, EVENTLOG_INFORMATION_TYPE, 0, 1000, NULL, 1, 0, rgStrings, NULL);
    g_ullStartTicks = GetTickCount64();
    return pModuleInfo->SetRequestNotifications(new CWinCompatFactory(), RQ_BEGIN_REQUEST, 0);
}
