// endhold.cpp - holds a request in RQ_END_REQUEST, after its response has been sent.
//
// For a request whose query string is "hold=<path>", OnEndRequest blocks the calling thread
// until the file <path> exists (checked every 5 ms, for at most 60 s), then lets the request
// end. Other requests pass through untouched. The response itself comes from whatever handler
// serves the URL (the static file handler in the tests).
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

namespace
{

class CEndHoldModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnEndRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        PCSTR query = NULL;
        DWORD n = 0;
        if (FAILED(ctx->GetServerVariable("QUERY_STRING", &query, &n)) || query == NULL ||
            strncmp(query, "hold=", 5) != 0)
            return RQ_NOTIFICATION_CONTINUE;
        const char *path = query + 5;
        struct timespec step = {0, 5 * 1000 * 1000};
        for (int i = 0; i < 60 * 200 && access(path, F_OK) != 0; i++)
            nanosleep(&step, NULL);
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
    return info->SetRequestNotifications(new CEndHoldFactory, RQ_END_REQUEST, 0);
}
