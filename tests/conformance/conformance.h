/*
 * conformance.h - what every conformance test module shares (C and C++).
 *
 * A check is one assertion about one documented method:
 *
 *     CHECK("IHttpRequest::GetHeaderByName", value != NULL && len == 5);
 *
 * The name is "Interface::Method" with the method named as in the C binding
 * (overloads: GetHeaderByName / GetHeaderById, SetUrlW / SetUrlA, ...; see
 * docs/c-binding.md), which is also how docs/api-status.md names it.
 * tools/api_status.py and tests/conformance/run.py find the checks by
 * grepping for CHECK("...") in these sources, so the name must be a string
 * literal on the same line as CHECK(.
 *
 * Every CHECK appends one line to the file named by $IISD_CONFORMANCE_OUT:
 *
 *     PASS C++ IHttpRequest::GetHeaderByName
 *     FAIL C++ IHttpRequest::GetHeaderByName: value != NULL && len == 5 (request.cpp:42)
 *
 * (one write(2) with O_APPEND per line, so lines from several threads never
 * mix). A method passes when every one of its checks passed and at least one
 * ran; run.py adds the checks it makes on the response from outside.
 */
#pragma once

#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __cplusplus
#define CONF_BINDING "C++"
#define CONF_UNUSED  [[maybe_unused]]
#else
#define CONF_BINDING "C"
#define CONF_UNUSED  __attribute__((unused))
#endif

CONF_UNUSED static int conf_record(const char *name, int ok, const char *what, const char *file, int line)
{
    char buf[1024];
    const char *slash = strrchr(file, '/');
    int n;
    if (ok)
        n = snprintf(buf, sizeof(buf), "PASS %s %s\n", CONF_BINDING, name);
    else
        n = snprintf(buf, sizeof(buf), "FAIL %s %s: %s (%s:%d)\n", CONF_BINDING, name, what,
                     slash ? slash + 1 : file, line);
    if (n < 0)
        return ok;
    if ((size_t)n >= sizeof(buf)) {
        n = sizeof(buf) - 1;
        buf[n - 1] = '\n';
    }
    const char *path = getenv("IISD_CONFORMANCE_OUT");
    if (path == NULL || *path == '\0')
        return ok;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, buf, (size_t)n);
        (void)w;
        close(fd);
    }
    return ok;
}

/* Records one check; evaluates to the condition's truth. */
#define CHECK(name, cond) conf_record((name), (cond) ? 1 : 0, #cond, __FILE__, __LINE__)

/* The wide-string literal and comparison helpers (WCHAR is wchar_t). */
CONF_UNUSED static int conf_wide_eq(PCWSTR a, PCWSTR b)
{
    return a != NULL && b != NULL && wcscmp(a, b) == 0;
}

/* Does wide string a end with the ASCII string b? */
CONF_UNUSED static int conf_wide_ends_with(PCWSTR a, const char *b)
{
    if (a == NULL)
        return 0;
    size_t la = wcslen(a), lb = strlen(b);
    if (lb > la)
        return 0;
    for (size_t i = 0; i < lb; i++)
        if (a[la - lb + i] != (WCHAR)(unsigned char)b[i])
            return 0;
    return 1;
}

/* Does wide string a equal the ASCII string b? */
CONF_UNUSED static int conf_wide_is(PCWSTR a, const char *b)
{
    return a != NULL && wcslen(a) == strlen(b) && conf_wide_ends_with(a, b);
}

#ifdef __cplusplus
#include <string>

/* The request's URL path (IHttpContext::GetScriptName) as ASCII. */
static inline std::string conf_path(IHttpContext *ctx)
{
    std::string out;
    PCWSTR p = ctx->GetScriptName();
    for (; p != NULL && *p; p++)
        out += (*p > 0 && *p < 0x7f) ? (char)*p : '?';
    return out;
}

/* Is the request for path (exactly)? */
static inline bool conf_is(IHttpContext *ctx, const char *path)
{
    return conf_path(ctx) == path;
}

/* Does the request's path start with prefix? */
static inline bool conf_under(IHttpContext *ctx, const char *prefix)
{
    return conf_path(ctx).compare(0, strlen(prefix), prefix) == 0;
}

/* Appends text (copied into request memory) to the response body. */
static inline HRESULT conf_write(IHttpContext *ctx, const char *text)
{
    DWORD n = (DWORD)strlen(text);
    char *copy = (char *)ctx->AllocateRequestMemory(n + 1);
    if (copy == NULL)
        return E_OUTOFMEMORY;
    memcpy(copy, text, n + 1);
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = copy;
    chunk.FromMemory.BufferLength = n;
    DWORD sent = 0;
    return ctx->GetResponse()->WriteEntityChunks(&chunk, 1, FALSE, TRUE, &sent);
}

/* Answers the request with 200 and a text/plain body, and ends it. */
static inline REQUEST_NOTIFICATION_STATUS conf_reply(IHttpContext *ctx, const char *body)
{
    IHttpResponse *resp = ctx->GetResponse();
    resp->SetStatus(200, "OK");
    resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
    conf_write(ctx, body);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

/* A factory handing out one T per request. */
template <class T> class ConfFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **ppModule, IModuleAllocator *)
    {
        *ppModule = new T();
        return S_OK;
    }
    VOID Terminate() { delete this; }
};

/* A stored context that only remembers it was cleaned up. */
class ConfStoredContext : public IHttpStoredContext
{
  public:
    explicit ConfStoredContext(int tag) : m_tag(tag) {}
    VOID CleanupStoredContext() { delete this; }
    int m_tag;
};
#endif
