/*
 * The server's IHttpUser, made for authentication modules through the iisd extension
 * IIisdUserFactory (HttpGetExtendedInterface(server, server, &factory)).
 *
 * A user is one heap block (the object, then its strings) with a reference count: it
 * may outlive the request that authenticated it (a module that keeps a reference, a
 * child request executed with it). Roles are either a comma-separated list given at
 * creation (an htpasswd line's third field, say) or, with IISD_USER_UNIX_GROUPS, the
 * Unix groups of the account named by the user name (getgrouplist), read on each
 * IsInRole call so that group changes take effect at once. A permanent user (IISD_USER_PERMANENT,
 * the anonymous user) is never freed and counts no references, so that the requests of every
 * thread share it without touching one counter.
 */
#include "core/log.h"
#include "core/str.h"
#include "pipeline/engine.h"
#include "pipeline/server.h"
#include <grp.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

typedef struct {
    IHttpUser base; /* first */
    atomic_long refs;
    DWORD flags;
    wchar_t *auth_type, *remote, *name, *password;
    size_t pw_len;
    char *uname; /* UTF-8 user name (Unix group lookups) */
    char *roles; /* UTF-8 list, or NULL */
} iisd_user_t;

#define U(This) ((iisd_user_t *)(This))

static PCWSTR user_GetRemoteUserName(IHttpUser *This)
{
    return U(This)->remote;
}

static PCWSTR user_GetUserName(IHttpUser *This)
{
    return U(This)->name;
}

static PCWSTR user_GetAuthenticationType(IHttpUser *This)
{
    return U(This)->auth_type;
}

static PCWSTR user_GetPassword(IHttpUser *This)
{
    return U(This)->password;
}

/* api-status: partial: NULL; impersonation tokens are Windows logon sessions, which Linux has not */
static HANDLE user_GetImpersonationToken(IHttpUser *This)
{
    return NULL;
}

/* api-status: partial: NULL; primary tokens are Windows logon sessions, which Linux has not */
static HANDLE user_GetPrimaryToken(IHttpUser *This)
{
    return NULL;
}

static VOID user_ReferenceUser(IHttpUser *This)
{
    if (!(U(This)->flags & IISD_USER_PERMANENT))
        atomic_fetch_add_explicit(&U(This)->refs, 1, memory_order_relaxed);
}

static VOID user_DereferenceUser(IHttpUser *This)
{
    iisd_user_t *u = U(This);
    if ((u->flags & IISD_USER_PERMANENT) || atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) != 1)
        return;
    explicit_bzero(u->password, u->pw_len * sizeof(wchar_t));
    free(u);
}

/* Roles are known when a list was given or the user is a Unix account. */
static BOOL user_SupportsIsInRole(IHttpUser *This)
{
    iisd_user_t *u = U(This);
    return u->roles != NULL || (u->flags & IISD_USER_UNIX_GROUPS);
}

/* True when the comma-separated list holds role (case-insensitive, blanks trimmed). */
static bool list_has(const char *list, const char *role)
{
    size_t rl = strlen(role), len;
    for (const char *cur = list, *p; iisd_list_next(&cur, &p, &len);)
        if (len == rl && rl > 0 && strncasecmp(p, role, rl) == 0)
            return true;
    return false;
}

/* True when the Unix user belongs to the group named role (primary or supplementary). */
static bool unix_in_group(const char *user, const char *role)
{
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
        return false;
    struct group gr, *grp = NULL;
    char gbuf[16384];
    if (getgrnam_r(role, &gr, gbuf, sizeof(gbuf), &grp) != 0 || grp == NULL)
        return false;
    gid_t want = grp->gr_gid;
    gid_t groups[256];
    int n = 256;
    if (getgrouplist(user, pw.pw_gid, groups, &n) < 0)
        n = 256; /* more than 256: the first 256 are filled */
    for (int i = 0; i < n; i++)
        if (groups[i] == want)
            return true;
    return false;
}

static HRESULT user_IsInRole(IHttpUser *This, PCWSTR role, BOOL *pf)
{
    iisd_user_t *u = U(This);
    if (role == NULL || pf == NULL)
        return E_INVALIDARG;
    *pf = FALSE;
    char r[512];
    size_t wl = wcslen(role);
    if (iisd_wcs_to_utf8(role, wl, r, sizeof(r)) >= sizeof(r))
        return S_OK; /* longer than any group name */
    if (u->roles != NULL)
        *pf = list_has(u->roles, r);
    else if (u->flags & IISD_USER_UNIX_GROUPS)
        *pf = unix_in_group(u->uname, r);
    return S_OK;
}

/* api-status: partial: NULL for every name; SID, CtxtHandle and CredHandle are Windows security handles */
static PVOID user_GetUserVariable(IHttpUser *This, PCSTR name)
{
    return NULL;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpUserVtbl v;
} user_vtbl = {NULL,
               NULL,
               {
                   .GetRemoteUserName = user_GetRemoteUserName,
                   .GetUserName = user_GetUserName,
                   .GetAuthenticationType = user_GetAuthenticationType,
                   .GetPassword = user_GetPassword,
                   .GetImpersonationToken = user_GetImpersonationToken,
                   .GetPrimaryToken = user_GetPrimaryToken,
                   .ReferenceUser = user_ReferenceUser,
                   .DereferenceUser = user_DereferenceUser,
                   .SupportsIsInRole = user_SupportsIsInRole,
                   .IsInRole = user_IsInRole,
                   .GetUserVariable = user_GetUserVariable,
               }};

/* Copies a wide string into the block at *p (advancing it). */
static wchar_t *put_wcs(char **p, const wchar_t *s, size_t n)
{
    wchar_t *d = (wchar_t *)*p;
    memcpy(d, s, n * sizeof(wchar_t));
    d[n] = 0;
    *p += (n + 1) * sizeof(wchar_t);
    return d;
}

static HRESULT uf_CreateUser(IIisdUserFactory *This, PCWSTR type, PCWSTR remote, PCWSTR name, PCWSTR password,
                             PCWSTR roles, DWORD flags, IHttpUser **pp)
{
    if (pp == NULL)
        return E_INVALIDARG;
    *pp = NULL;
    if ((flags & ~(DWORD)(IISD_USER_UNIX_GROUPS | IISD_USER_PERMANENT)) != 0)
        return E_INVALIDARG;
    const wchar_t *s[4] = {type ? type : L"", remote ? remote : L"", name ? name : L"",
                           password ? password : L""};
    size_t n[4], total = sizeof(iisd_user_t);
    for (int i = 0; i < 4; i++) {
        n[i] = wcslen(s[i]);
        total += (n[i] + 1) * sizeof(wchar_t);
    }
    size_t ul = iisd_wcs_to_utf8(s[2], n[2], NULL, 0) + 1;
    size_t rl = roles ? iisd_wcs_to_utf8(roles, wcslen(roles), NULL, 0) + 1 : 0;
    iisd_user_t *u = malloc(total + ul + rl);
    if (u == NULL)
        return E_OUTOFMEMORY;
    char *p = (char *)(u + 1);
    u->base.lpVtbl = &user_vtbl.v;
    atomic_init(&u->refs, 1);
    u->flags = flags;
    u->auth_type = put_wcs(&p, s[0], n[0]);
    u->remote = put_wcs(&p, s[1], n[1]);
    u->name = put_wcs(&p, s[2], n[2]);
    u->password = put_wcs(&p, s[3], n[3]);
    u->pw_len = n[3];
    u->uname = p;
    iisd_wcs_to_utf8(s[2], n[2], p, ul);
    p += ul;
    u->roles = NULL;
    if (roles != NULL) {
        u->roles = p;
        iisd_wcs_to_utf8(roles, wcslen(roles), p, rl);
    }
    *pp = &u->base;
    return S_OK;
}

static const struct {
    void *offset_to_top, *rtti;
    IIisdUserFactoryVtbl v;
} factory_vtbl = {NULL, NULL, {.CreateUser = uf_CreateUser}};

static IIisdUserFactory factory = {.lpVtbl = &factory_vtbl.v};

IIisdUserFactory *iisd_user_factory(void)
{
    return &factory;
}
