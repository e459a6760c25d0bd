// objects.cpp - the per-request server objects, one operation per request.
//
// The query string names the operation (op=...). Each runs in RQ_POST_AUTHENTICATE_REQUEST
// (after authentication has set a user), answers "key=value" lines (text/plain) and
// finishes the request:
//   user        GetUser: name, remote, type, password, roles (SupportsIsInRole), role=<r>
//               (IsInRole of the query's role), tokens (GetImpersonationToken/
//               GetPrimaryToken both NULL: "null"), sid (GetUserVariable("SID")).
//   keepuser    ReferenceUser on GetUser and keeps it past the request;
//   kept        reads the kept user's name (kept=<name>), then DereferenceUser on it.
//   ownuser     (with request header X-Own-User: <name>) in RQ_AUTHENTICATE_REQUEST sets
//               this module's own IHttpUser through SetUser; answers same=1 when GetUser
//               returns it, refs=<count> (the server's references plus the module's one).
//               Its DereferenceUser traces "user <name> refs <n>"; at zero "user <name> freed".
//   urlinfo     GetUrlInfo: same=1 when two calls agree, frequent=0/1, hits=<n> (a stored
//               context in the URL's container counts the requests that asked).
//   fileinfo    GetFileInfo: none, or size=<bytes> and path=<physical path>.
//   named       INamedContextContainer: set "a" and "b", dup=<HRESULT of setting "a" again>,
//               a=<text of a>, missing=<1 when "zz" is absent>. Cleanups trace "named <x> cleanup".
//   conn        IHttpConnectionModuleContextContainer: a connection context counting the
//               requests of the connection (conn=<n>), also readable as a module context
//               (plain=1). Close traces "conn <id> disconnect" then "conn <id> cleanup".
//   svchanges   SetServerVariable X_ONE, X_TWO; GetServerVarChanges; then X_TWO again and a
//               second call: first=<n vars>:<diffed indices>, second=<n>:<diffed>, names.
//   hdrchanges  request and response GetHeaderChanges before and after SetHeader/DeleteHeader.
//   setvar      SetServerVariable(HTTP_X_ORIGINAL_HOST, q's value): the header X-Original-Host,
//               the variable, HEADER_X-Original-Host.
//   vars        the server variables named in the query (names=A,B,...) as NAME=value lines.
//   perf        site counter <idx> += <n> and server counter <idx> += 2*<n>, then minus 1 each.
//   maphandler  MapHandler(site, path=<url>, verb=GET): name, modules, or hr=<HRESULT>.
//   inherit     InheritServerVariable: of QUERY_STRING (ok), of NO_SUCH_VAR with and without
//               fFailIfNotExist, then reads it back.
//   inheritchild  a clone of the request inherits X_PARENT, set on the request after cloning:
//               before=, hr=, after=.
//   extended    HttpGetExtendedInterface for context3, request2, response4, user factory;
//               IHttpContext::GetExtendedInterface (deprecated) -> hr.
//   trailer     SetTrailer X-Checksum (q's value), X-Gone (then DeleteTrailer), X-Multi twice
//               appended; body "trailer body".
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <atomic>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "query_value.h"

namespace
{

IHttpServer *g_pServer;
HTTP_MODULE_ID g_id;
std::atomic<IHttpUser *> g_kept;
std::atomic<unsigned> g_conn_ids;

void Trace(const char *pszLine)
{
    const char *pszPath = getenv("IISD_TEST_TRACE");
    if (pszPath == NULL || *pszPath == '\0')
        return;
    char line[256];
    int cch = snprintf(line, sizeof(line), "%s\n", pszLine);
    int fd = open(pszPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t written = write(fd, line, (size_t)cch);
    (void)written;
    close(fd);
}

void Narrow(PCWSTR w, char *out, size_t cap)
{
    size_t k = 0;
    for (; w != NULL && *w && k + 1 < cap; w++)
        out[k++] = *w < 0x80 ? (char)*w : '?';
    out[k] = '\0';
}

void Widen(const char *s, wchar_t *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 1 < cap; s++)
        out[k++] = (wchar_t)(unsigned char)*s;
    out[k] = 0;
}

class Body
{
  public:
    Body() : m_len(0) { m_buf[0] = '\0'; }
    void Add(const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
    {
        va_list ap;
        va_start(ap, fmt);
        int n = snprintf(m_buf + m_len, sizeof(m_buf) - m_len, "%s=", key);
        if (n > 0)
            m_len += (size_t)n;
        n = vsnprintf(m_buf + m_len, sizeof(m_buf) - m_len, fmt, ap);
        if (n > 0)
            m_len += (size_t)n;
        if (m_len < sizeof(m_buf) - 1)
            m_buf[m_len++] = '\n';
        m_buf[m_len] = '\0';
        va_end(ap);
    }
    REQUEST_NOTIFICATION_STATUS Send(IHttpContext *ctx)
    {
        IHttpResponse *resp = ctx->GetResponse();
        resp->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
        char *copy = (char *)ctx->AllocateRequestMemory((DWORD)m_len + 1);
        memcpy(copy, m_buf, m_len + 1);
        HTTP_DATA_CHUNK chunk;
        chunk.DataChunkType = HttpDataChunkFromMemory;
        chunk.FromMemory.pBuffer = copy;
        chunk.FromMemory.BufferLength = (ULONG)m_len;
        DWORD sent = 0;
        resp->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
        return RQ_NOTIFICATION_FINISH_REQUEST;
    }

  private:
    char m_buf[8192];
    size_t m_len;
};

const char *Var(IHttpContext *ctx, PCSTR name)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->GetServerVariable(name, &v, &n)) || v == NULL)
        return "(none)";
    return v;
}

// ---- a module's own user --------------------------------------------------------------

class COwnUser : public IHttpUser
{
  public:
    explicit COwnUser(const char *name) : m_refs(1) { Widen(name, m_name, 64); }
    PCWSTR GetRemoteUserName() { return m_name; }
    PCWSTR GetUserName() { return m_name; }
    PCWSTR GetAuthenticationType() { return L"Own"; }
    PCWSTR GetPassword() { return L""; }
    HANDLE GetImpersonationToken() { return NULL; }
    HANDLE GetPrimaryToken() { return NULL; }
    VOID ReferenceUser() { m_refs++; }
    VOID DereferenceUser()
    {
        char line[128], n[64];
        Narrow(m_name, n, sizeof(n));
        long left = --m_refs;
        snprintf(line, sizeof(line), "user %s refs %ld", n, left);
        Trace(line);
        if (left == 0) {
            snprintf(line, sizeof(line), "user %s freed", n);
            Trace(line);
            delete this;
        }
    }
    BOOL SupportsIsInRole() { return FALSE; }
    HRESULT IsInRole(PCWSTR, BOOL *pf)
    {
        *pf = FALSE;
        return S_OK;
    }
    PVOID GetUserVariable(PCSTR) { return NULL; }
    long Refs() const { return m_refs; }

  private:
    virtual ~COwnUser() {}
    std::atomic<long> m_refs;
    wchar_t m_name[64];
};

// ---- stored contexts -------------------------------------------------------------------

class CText : public IHttpStoredContext
{
  public:
    CText(const char *kind, const char *text)
    {
        snprintf(m_kind, sizeof(m_kind), "%s", kind);
        snprintf(m_text, sizeof(m_text), "%s", text);
    }
    VOID CleanupStoredContext()
    {
        char line[128];
        snprintf(line, sizeof(line), "%s %s cleanup", m_kind, m_text);
        Trace(line);
        delete this;
    }
    const char *Text() const { return m_text; }

  private:
    char m_kind[16], m_text[64];
};

class CCounter : public IHttpStoredContext
{
  public:
    CCounter() : m_n(0) {}
    VOID CleanupStoredContext() { delete this; }
    unsigned Next() { return ++m_n; }

  private:
    std::atomic<unsigned> m_n;
};

class CConnContext : public IHttpConnectionStoredContext
{
  public:
    CConnContext() : m_id(++g_conn_ids), m_n(0) {}
    VOID CleanupStoredContext()
    {
        char line[64];
        snprintf(line, sizeof(line), "conn %u cleanup", m_id);
        Trace(line);
        delete this;
    }
    VOID NotifyDisconnect()
    {
        char line[64];
        snprintf(line, sizeof(line), "conn %u disconnect", m_id);
        Trace(line);
    }
    unsigned Id() const { return m_id; }
    unsigned Next() { return ++m_n; }

  private:
    unsigned m_id, m_n;
};

void AddIndices(char *out, size_t cap, DWORD n, const DWORD *idx)
{
    size_t k = 0;
    out[0] = '\0';
    for (DWORD i = 0; i < n + 1 && k + 12 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%d", i ? "," : "", (int)idx[i]);
}

// ---- the operations -------------------------------------------------------------------

void OpUser(IHttpContext *ctx, const char *q, Body &b)
{
    IHttpUser *u = ctx->GetUser();
    if (u == NULL) {
        b.Add("user", "none");
        return;
    }
    char s[256];
    Narrow(u->GetUserName(), s, sizeof(s));
    b.Add("name", "%s", s);
    Narrow(u->GetRemoteUserName(), s, sizeof(s));
    b.Add("remote", "%s", s);
    Narrow(u->GetAuthenticationType(), s, sizeof(s));
    b.Add("type", "%s", s);
    Narrow(u->GetPassword(), s, sizeof(s));
    b.Add("password", "%s", s);
    b.Add("roles", "%d", u->SupportsIsInRole() ? 1 : 0);
    b.Add("tokens", "%s",
          u->GetImpersonationToken() == NULL && u->GetPrimaryToken() == NULL ? "null" : "set");
    b.Add("sid", "%s", u->GetUserVariable(HTTP_USER_VARIABLE_SID) == NULL ? "null" : "set");
    char role[64];
    if (QueryValue(q, "role", role, sizeof(role))) {
        wchar_t w[64];
        Widen(role, w, 64);
        BOOL in = FALSE;
        HRESULT hr = u->IsInRole(w, &in);
        b.Add("role", "%s:%d:0x%08x", role, in ? 1 : 0, (unsigned)hr);
    }
}

void OpUrlInfo(IHttpContext *ctx, Body &b)
{
    IHttpUrlInfo *ui = ctx->GetUrlInfo();
    if (ui == NULL) {
        b.Add("urlinfo", "none");
        return;
    }
    b.Add("same", "%d", ctx->GetUrlInfo() == ui ? 1 : 0);
    b.Add("frequent", "%d", ui->IsFrequentlyHit() ? 1 : 0);
    IHttpModuleContextContainer *mc = ui->GetModuleContextContainer();
    CCounter *c = (CCounter *)mc->GetModuleContext(g_id);
    if (c == NULL) {
        c = new CCounter();
        if (FAILED(mc->SetModuleContext(c, g_id))) {
            delete c;
            c = (CCounter *)mc->GetModuleContext(g_id);
        }
    }
    b.Add("hits", "%u", c->Next());
}

void OpFileInfo(IHttpContext *ctx, Body &b)
{
    IHttpFileInfo *fi = ctx->GetFileInfo();
    if (fi == NULL) {
        b.Add("file", "none");
        return;
    }
    ULARGE_INTEGER size;
    fi->GetSize(&size);
    char path[512];
    Narrow(fi->GetFilePath(), path, sizeof(path));
    b.Add("size", "%llu", (unsigned long long)size.QuadPart);
    b.Add("path", "%s", path);
    b.Add("same", "%d", ctx->GetFileInfo() == fi ? 1 : 0);
}

void OpNamed(IHttpContext *ctx, Body &b)
{
    IHttpContext3 *c3 = NULL;
    if (FAILED(HttpGetExtendedInterface(g_pServer, ctx, &c3))) {
        b.Add("named", "no-context3");
        return;
    }
    INamedContextContainer *nc = c3->GetNamedContextContainer();
    nc->SetNamedContext(new CText("named", "a"), L"a");
    nc->SetNamedContext(new CText("named", "b"), L"b");
    CText *dup = new CText("dup", "x");
    HRESULT hr = nc->SetNamedContext(dup, L"a");
    if (FAILED(hr))
        delete dup;
    b.Add("dup", "0x%08x", (unsigned)hr);
    CText *a = (CText *)nc->GetNamedContext(L"a");
    b.Add("a", "%s", a ? a->Text() : "(none)");
    b.Add("missing", "%d", nc->GetNamedContext(L"zz") == NULL ? 1 : 0);
    b.Add("samecontainer", "%d", c3->GetNamedContextContainer() == nc ? 1 : 0);
}

void OpConn(IHttpContext *ctx, Body &b)
{
    IHttpConnectionModuleContextContainer *cc = ctx->GetConnection()->GetModuleContextContainer();
    CConnContext *c = (CConnContext *)cc->GetConnectionModuleContext(g_id);
    if (c == NULL) {
        c = new CConnContext();
        cc->SetConnectionModuleContext(c, g_id);
    }
    b.Add("id", "%u", c->Id());
    b.Add("conn", "%u", c->Next());
    b.Add("plain", "%d", cc->GetModuleContext(g_id) == (IHttpStoredContext *)c ? 1 : 0);
}

void OpSvChanges(IHttpContext *ctx, Body &b)
{
    IHttpContext3 *c3 = NULL;
    HttpGetExtendedInterface(g_pServer, ctx, &c3);
    ctx->SetServerVariable("X_ONE", L"1");
    ctx->SetServerVariable("X_TWO", L"2");
    DWORD change = 0, snap = 0, diffed = 0, *idx = NULL;
    PCSTR *names = NULL;
    PCWSTR *values = NULL;
    HRESULT hr = c3->GetServerVarChanges(0, &change, &snap, &names, &values, &diffed, &idx);
    char buf[128];
    AddIndices(buf, sizeof(buf), diffed, idx);
    b.Add("first", "0x%08x:%u:%u:%s", (unsigned)hr, (unsigned)snap, (unsigned)diffed, buf);
    b.Add("names", "%s,%s", snap > 0 ? names[0] : "", snap > 1 ? names[1] : "");
    DWORD change1 = change;
    hr = c3->GetServerVarChanges(change1, &change, &snap, &names, &values, &diffed, &idx);
    AddIndices(buf, sizeof(buf), diffed, idx);
    b.Add("again", "%u:%u:%s", (unsigned)(change - change1), (unsigned)diffed, buf);
    ctx->SetServerVariable("X_TWO", L"two");
    ctx->SetServerVariable("X_THREE", L"3");
    hr = c3->GetServerVarChanges(change, &change, &snap, &names, &values, &diffed, &idx);
    AddIndices(buf, sizeof(buf), diffed, idx);
    char v[16];
    Narrow(snap > 1 ? values[1] : L"", v, sizeof(v));
    b.Add("second", "%u:%u:%s", (unsigned)snap, (unsigned)diffed, buf);
    b.Add("value1", "%s", v);
}

void OpHdrChanges(IHttpContext *ctx, Body &b)
{
    IHttpRequest2 *rq = NULL;
    IHttpResponse4 *rs = NULL;
    HttpGetExtendedInterface(g_pServer, ctx->GetRequest(), &rq);
    HttpGetExtendedInterface(g_pServer, ctx->GetResponse(), &rs);
    PCSTR known[HttpHeaderRequestMaximum] = {};
    DWORD diffed[HttpHeaderRequestMaximum + 1];
    DWORD change = 0, nunk = 0, ndiff = 0, *didx = NULL;
    PCSTR *unames = NULL, *uvalues = NULL;
    char buf[256];
    rq->GetHeaderChanges(0, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    b.Add("req0", "%s:%u", known[HttpHeaderHost] ? known[HttpHeaderHost] : "", (unsigned)nunk);
    DWORD before = change;
    rq->GetHeaderChanges(change, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    AddIndices(buf, sizeof(buf), 0, diffed);
    b.Add("req-same", "%u:%s:%u", (unsigned)(change - before), buf, (unsigned)ndiff);
    rq->SetHeader(HttpHeaderUserAgent, "changed-agent", 13, TRUE);
    rq->SetHeader("X-Added", "yes", 3, TRUE);
    before = change;
    rq->GetHeaderChanges(change, &change, known, &nunk, &unames, &uvalues, diffed, &ndiff, &didx);
    size_t k = 0;
    for (int i = 0; diffed[i] != (DWORD)-1 && k + 8 < sizeof(buf); i++)
        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%u", i ? "," : "", (unsigned)diffed[i]);
    buf[k] = '\0';
    char unk[128] = "";
    if (ndiff > 0)
        snprintf(unk, sizeof(unk), "%s=%s", unames[didx[0]], uvalues[didx[0]]);
    b.Add("req1", "%u:%s:%s:%s", change > before ? 1 : 0, buf, known[HttpHeaderUserAgent], unk);

    PCSTR rknown[HttpHeaderResponseMaximum] = {};
    DWORD rdiffed[HttpHeaderResponseMaximum + 1];
    change = 0;
    nunk = 0;
    unames = uvalues = NULL;
    rs->GetHeaderChanges(0, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    rs->SetHeader(HttpHeaderEtag, "\"e1\"", 4, TRUE);
    rs->SetHeader("X-Resp", "r", 1, TRUE);
    rs->GetHeaderChanges(change, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    k = 0;
    for (int i = 0; rdiffed[i] != (DWORD)-1 && k + 8 < sizeof(buf); i++)
        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%u", i ? "," : "", (unsigned)rdiffed[i]);
    buf[k] = '\0';
    unk[0] = '\0';
    if (ndiff > 0)
        snprintf(unk, sizeof(unk), "%s=%s", unames[didx[0]], uvalues[didx[0]]);
    b.Add("resp1", "%s:%s:%s", buf, rknown[HttpHeaderEtag] ? rknown[HttpHeaderEtag] : "", unk);
    rs->DeleteHeader("X-Resp");
    rs->GetHeaderChanges(change, &change, rknown, &nunk, &unames, &uvalues, rdiffed, &ndiff, &didx);
    b.Add("resp2", "%u:%u", (unsigned)nunk, (unsigned)ndiff);
}

void OpSetVar(IHttpContext *ctx, const char *q, Body &b)
{
    char v[128] = "";
    QueryValue(q, "v", v, sizeof(v));
    wchar_t w[128];
    Widen(v, w, 128);
    HRESULT hr = ctx->SetServerVariable("HTTP_X_ORIGINAL_HOST", w);
    b.Add("hr", "0x%08x", (unsigned)hr);
    USHORT n = 0;
    PCSTR h = ctx->GetRequest()->GetHeader("X-Original-Host", &n);
    b.Add("header", "%s", h ? h : "(none)");
    b.Add("var", "%s", Var(ctx, "HTTP_X_ORIGINAL_HOST"));
    b.Add("exact", "%s", Var(ctx, "HEADER_X-Original-Host"));
    ctx->SetServerVariable("HTTP_USER_AGENT", L"set-agent");
    h = ctx->GetRequest()->GetHeader(HttpHeaderUserAgent, &n);
    b.Add("agent", "%s", h ? h : "(none)");
}

void OpVars(IHttpContext *ctx, const char *q, Body &b)
{
    char names[2048];
    if (!QueryValue(q, "names", names, sizeof(names)))
        return;
    for (char *p = strtok(names, ","); p != NULL; p = strtok(NULL, ",")) {
        PCSTR v = NULL;
        DWORD n = 0;
        HRESULT hr = ctx->GetServerVariable(p, &v, &n);
        PCWSTR wv = NULL;
        DWORD wn = 0;
        HRESULT whr = ctx->GetServerVariable(p, &wv, &wn);
        if (FAILED(hr)) {
            b.Add(p, "(fail 0x%08x)", (unsigned)hr);
            continue;
        }
        bool agree = SUCCEEDED(whr) && wn <= n;
        b.Add(p, "%s%s", v, agree ? "" : " (wide form disagrees)");
    }
}

void OpPerf(IHttpContext *ctx, const char *q, Body &b)
{
    char s[16] = "0", n[16] = "1";
    QueryValue(q, "idx", s, sizeof(s));
    QueryValue(q, "n", n, sizeof(n));
    DWORD idx = (DWORD)atoi(s), by = (DWORD)atoi(n);
    IHttpPerfCounterInfo *site = ctx->GetSite()->GetPerfCounterInfo();
    IHttpPerfCounterInfo *srv = g_pServer->GetPerfCounterInfo();
    if (site == NULL || srv == NULL) {
        b.Add("perf", "none");
        return;
    }
    site->IncrementCounter(idx, by + 1);
    site->DecrementCounter(idx, 1);
    srv->IncrementCounter(idx, 2 * by + 1);
    srv->DecrementCounter(idx);
    b.Add("perf", "ok");
}

void OpMapHandler(IHttpContext *ctx, const char *q, Body &b)
{
    char path[256] = "/", verb[16] = "GET";
    QueryValue(q, "path", path, sizeof(path));
    QueryValue(q, "verb", verb, sizeof(verb));
    wchar_t w[256];
    Widen(path, w, 256);
    IScriptMapInfo *sm = NULL;
    HRESULT hr =
        ctx->MapHandler(ctx->GetSite()->GetSiteId(), NULL, w, verb, &sm, strstr(q, "nowild") != NULL);
    if (FAILED(hr) || sm == NULL) {
        b.Add("hr", "0x%08x", (unsigned)hr);
        return;
    }
    char s[256];
    Narrow(sm->GetName(), s, sizeof(s));
    b.Add("name", "%s", s);
    Narrow(sm->GetModules(), s, sizeof(s));
    b.Add("modules", "%s", s);
    hr = ctx->MapHandler(ctx->GetSite()->GetSiteId() + 1000, L"no such site", w, verb, &sm);
    b.Add("othersite", "0x%08x", (unsigned)hr);
}

void OpInherit(IHttpContext *ctx, Body &b)
{
    IHttpContext3 *c3 = NULL;
    HttpGetExtendedInterface(g_pServer, ctx, &c3);
    b.Add("query", "0x%08x", (unsigned)c3->InheritServerVariable("QUERY_STRING"));
    b.Add("absent", "0x%08x", (unsigned)c3->InheritServerVariable("NO_SUCH_VAR"));
    b.Add("absent-fail", "0x%08x", (unsigned)c3->InheritServerVariable("NO_SUCH_VAR", TRUE));
    b.Add("value", "%s", Var(ctx, "QUERY_STRING"));
}

void OpInheritChild(IHttpContext *ctx, Body &b)
{
    IHttpContext *child = NULL;
    if (FAILED(ctx->CloneContext(CLONE_FLAG_BASICS, &child)) || child == NULL) {
        b.Add("clone", "failed");
        return;
    }
    ctx->SetServerVariable("X_PARENT", L"from-parent"); // after the clone took the variables
    IHttpContext3 *c3 = NULL;
    HttpGetExtendedInterface(g_pServer, child, &c3);
    b.Add("before", "%s", Var(child, "X_PARENT"));
    b.Add("hr", "0x%08x", (unsigned)c3->InheritServerVariable("X_PARENT", TRUE));
    b.Add("after", "%s", Var(child, "X_PARENT"));
    child->ReleaseClonedContext();
}

void OpExtended(IHttpContext *ctx, Body &b)
{
    IHttpContext3 *c3 = NULL;
    IHttpRequest2 *r2 = NULL;
    IHttpResponse4 *s4 = NULL;
    IIisdUserFactory *uf = NULL;
    b.Add("context3", "%d", SUCCEEDED(HttpGetExtendedInterface(g_pServer, ctx, &c3)) && c3 != NULL);
    b.Add("request2", "%d",
          SUCCEEDED(HttpGetExtendedInterface(g_pServer, ctx->GetRequest(), &r2)) && r2 != NULL);
    b.Add("response4", "%d",
          SUCCEEDED(HttpGetExtendedInterface(g_pServer, ctx->GetResponse(), &s4)) && s4 != NULL);
    b.Add("userfactory", "%d", SUCCEEDED(HttpGetExtendedInterface(g_pServer, g_pServer, &uf)) && uf != NULL);
    IHttpUser *u = NULL;
    if (uf != NULL && SUCCEEDED(uf->CreateUser(L"Test", L"remote", L"made", L"pw", L"a, b", 0, &u))) {
        BOOL in_b = FALSE, in_c = TRUE;
        u->IsInRole(L"B", &in_b);
        u->IsInRole(L"c", &in_c);
        char n[32];
        Narrow(u->GetUserName(), n, sizeof(n));
        b.Add("made", "%s:%d:%d:%d", n, u->SupportsIsInRole() ? 1 : 0, in_b ? 1 : 0, in_c ? 1 : 0);
        u->DereferenceUser();
    }
    PVOID p = (PVOID)1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    HRESULT hr = ctx->GetExtendedInterface((HTTP_CONTEXT_INTERFACE_VERSION)0, &p);
#pragma GCC diagnostic pop
    b.Add("deprecated", "0x%08x:%s", (unsigned)hr, p == NULL ? "null" : "set");
}

REQUEST_NOTIFICATION_STATUS OpTrailer(IHttpContext *ctx, const char *q)
{
    IHttpResponse4 *s4 = NULL;
    HttpGetExtendedInterface(g_pServer, ctx->GetResponse(), &s4);
    char v[64] = "abc";
    QueryValue(q, "v", v, sizeof(v));
    s4->SetTrailer("X-Checksum", v, (USHORT)strlen(v), TRUE);
    s4->SetTrailer("X-Gone", "x", 1, TRUE);
    s4->SetTrailer("X-Multi", "1", 1, FALSE);
    s4->SetTrailer("X-Multi", "2", 1, FALSE);
    HRESULT del = s4->DeleteTrailer("X-Gone");
    HRESULT del2 = s4->DeleteTrailer("X-Gone");
    USHORT n = 0;
    PCSTR got = s4->GetTrailer("x-checksum", &n);
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "%s:%u:0x%08x:0x%08x:%s", got ? got : "(none)", n, (unsigned)del,
             (unsigned)del2, s4->GetTrailer("X-Gone") == NULL ? "gone" : "there");
    s4->SetHeader("X-Trailer-Check", hdr, (USHORT)strlen(hdr), TRUE);
    s4->SetHeader(HttpHeaderContentType, "text/plain", 10, TRUE);
    static const char body[] = "trailer body";
    HTTP_DATA_CHUNK chunk;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = (PVOID)body;
    chunk.FromMemory.BufferLength = sizeof(body) - 1;
    DWORD sent = 0;
    IHttpResponse *resp = ctx->GetResponse();
    resp->WriteEntityChunks(&chunk, 1, FALSE, FALSE, &sent);
    if (strstr(q, "flush") != NULL)
        resp->Flush(FALSE, TRUE, &sent);
    return RQ_NOTIFICATION_FINISH_REQUEST;
}

const char *Query(IHttpContext *ctx)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->GetServerVariable("QUERY_STRING", &v, &n)) || v == NULL)
        return "";
    return v;
}

class CObjectsModule : public CHttpModule
{
  public:
    REQUEST_NOTIFICATION_STATUS OnAuthenticateRequest(IHttpContext *ctx, IAuthenticationProvider *prov)
    {
        USHORT n = 0;
        PCSTR own = ctx->GetRequest()->GetHeader("X-Own-User", &n);
        if (own != NULL && n > 0 && ctx->GetUser() == NULL) {
            COwnUser *u = new COwnUser(own);
            prov->SetUser(u);
            m_own = u; // the module's reference, released in Dispose
        }
        return RQ_NOTIFICATION_CONTINUE;
    }

    REQUEST_NOTIFICATION_STATUS OnPostAuthenticateRequest(IHttpContext *ctx, IHttpEventProvider *)
    {
        const char *q = Query(ctx);
        char op[32] = "";
        if (!QueryValue(q, "op", op, sizeof(op)))
            return RQ_NOTIFICATION_CONTINUE;
        Body b;
        if (strcmp(op, "user") == 0) {
            OpUser(ctx, q, b);
        } else if (strcmp(op, "keepuser") == 0) {
            IHttpUser *u = ctx->GetUser();
            if (u != NULL) {
                u->ReferenceUser();
                IHttpUser *old = g_kept.exchange(u);
                if (old != NULL)
                    old->DereferenceUser();
            }
            b.Add("kept", "%s", u ? "yes" : "no");
        } else if (strcmp(op, "kept") == 0) {
            IHttpUser *u = g_kept.exchange(NULL);
            char s[64] = "(none)";
            if (u != NULL) {
                Narrow(u->GetUserName(), s, sizeof(s));
                u->DereferenceUser();
            }
            b.Add("kept", "%s", s);
        } else if (strcmp(op, "ownuser") == 0) {
            b.Add("same", "%d", m_own != NULL && ctx->GetUser() == m_own ? 1 : 0);
            b.Add("refs", "%ld", m_own ? m_own->Refs() : 0L);
            b.Add("auth_type", "%s", Var(ctx, "AUTH_TYPE"));
            b.Add("logon_user", "%s", Var(ctx, "LOGON_USER"));
        } else if (strcmp(op, "urlinfo") == 0) {
            OpUrlInfo(ctx, b);
        } else if (strcmp(op, "fileinfo") == 0) {
            OpFileInfo(ctx, b);
        } else if (strcmp(op, "named") == 0) {
            OpNamed(ctx, b);
        } else if (strcmp(op, "conn") == 0) {
            OpConn(ctx, b);
        } else if (strcmp(op, "svchanges") == 0) {
            OpSvChanges(ctx, b);
        } else if (strcmp(op, "hdrchanges") == 0) {
            OpHdrChanges(ctx, b);
        } else if (strcmp(op, "setvar") == 0) {
            OpSetVar(ctx, q, b);
        } else if (strcmp(op, "vars") == 0) {
            OpVars(ctx, q, b);
        } else if (strcmp(op, "perf") == 0) {
            OpPerf(ctx, q, b);
        } else if (strcmp(op, "maphandler") == 0) {
            OpMapHandler(ctx, q, b);
        } else if (strcmp(op, "inherit") == 0) {
            OpInherit(ctx, b);
        } else if (strcmp(op, "inheritchild") == 0) {
            OpInheritChild(ctx, b);
        } else if (strcmp(op, "extended") == 0) {
            OpExtended(ctx, b);
        } else if (strcmp(op, "trailer") == 0) {
            return OpTrailer(ctx, q);
        } else {
            return RQ_NOTIFICATION_CONTINUE;
        }
        return b.Send(ctx);
    }

    VOID Dispose()
    {
        if (m_own != NULL)
            m_own->DereferenceUser();
        delete this;
    }

    CObjectsModule() : m_own(NULL) {}

  private:
    COwnUser *m_own;
};

class CFactory : public IHttpModuleFactory
{
  public:
    HRESULT GetHttpModule(CHttpModule **pp, IModuleAllocator *)
    {
        *pp = new CObjectsModule();
        return S_OK;
    }
    VOID Terminate() { delete this; }
};

} // namespace

extern "C" __attribute__((visibility("default"))) HRESULT WINAPI
RegisterModule(DWORD, IHttpModuleRegistrationInfo *pInfo, IHttpServer *pServer)
{
    g_pServer = pServer;
    g_id = pInfo->GetId();
    return pInfo->SetRequestNotifications(new CFactory(), RQ_AUTHENTICATE_REQUEST, RQ_AUTHENTICATE_REQUEST);
}
