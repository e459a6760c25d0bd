// endhold.cpp - holds a request after its handler has run until a file appears.
//
// For a request whose query string is "hold=<path>", OnEndRequest blocks the calling thread
// until the file <path> exists (creating <path>.held first, to say it is holding) (checked every 5 ms, for at
// most 60 s), then lets the request end: the response has been sent by then. With "holdstate=<path>" the same
// happens in RQ_RELEASE_REQUEST_STATE, after the handler and before RQ_UPDATE_REQUEST_CACHE. Other requests
// pass through untouched. The response itself comes from whatever handler serves the URL (the static file
// handler in the tests).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

namespace
{

void HoldFor(IHttpContext *ctx, const char *key)
{
    PCSTR query = NULL;
    DWORD n = 0;
    size_t klen = strlen(key);
    if (FAILED(ctx->GetServerVariable("QUERY_STRING", &query, &n)) || query == NULL ||
        strncmp(query, key, klen) != 0 || query[klen] != '=')
        return;
    const char *path = query + klen + 1;
    char held[4096];
    snprintf(held, sizeof(held), "%s.held", path);
    int fd = open(held, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    struct timespec step = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 60 * 200 && access(path, F_OK) != 0; i++)
        nanosleep(&step, NULL);
}

class CEndHoldModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnReleaseRequestState(IHttpContext *ctx, IHttpEventProvider *)
    {
        HoldFor(ctx, "holdstate");
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnEndRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        HoldFor(ctx, "hold");
        return RQ_NOTIFICATION_CONTINUE;
    }
};

class CEndHoldFactory final : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **out, IModuleAllocator *)
    {
        *out = new CEndHoldModule();
        return S_OK;
    }

    void Terminate() { delete this; }
};

} // namespace

HRESULT __stdcall RegisterModule(DWORD, IHttpModuleRegistrationInfo *info, IHttpServer *)
{
    return info->SetRequestNotifications(new CEndHoldFactory, RQ_RELEASE_REQUEST_STATE | RQ_END_REQUEST, 0);
}
