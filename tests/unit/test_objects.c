/*
 * Standalone pieces of the per-request objects: the server's IHttpUser (user.c, through the
 * IIisdUserFactory extension), performance counters (perf.c), trailer lists and the TE check
 * (http/response.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>
#include "core/arena.h"
#include "http/response.h"
#include "pipeline/perf.h"
#include "pipeline/server.h"

static IHttpUser *make(PCWSTR roles, DWORD flags)
{
    IIisdUserFactory *f = iisd_user_factory();
    IHttpUser *u = NULL;
    assert_int_equal(f->lpVtbl->CreateUser(f, L"Basic", L"remote", L"name", L"secret", roles, flags, &u),
                     S_OK);
    assert_non_null(u);
    return u;
}

static BOOL in_role(IHttpUser *u, PCWSTR role)
{
    BOOL in = 2;
    assert_int_equal(u->lpVtbl->IsInRole(u, role, &in), S_OK);
    return in;
}

static void test_user_fields(void **state)
{
    (void)state;
    IHttpUser *u = make(NULL, 0);
    assert_true(wcscmp(u->lpVtbl->GetAuthenticationType(u), L"Basic") == 0);
    assert_true(wcscmp(u->lpVtbl->GetRemoteUserName(u), L"remote") == 0);
    assert_true(wcscmp(u->lpVtbl->GetUserName(u), L"name") == 0);
    assert_true(wcscmp(u->lpVtbl->GetPassword(u), L"secret") == 0);
    assert_null(u->lpVtbl->GetImpersonationToken(u));
    assert_null(u->lpVtbl->GetPrimaryToken(u));
    assert_null(u->lpVtbl->GetUserVariable(u, HTTP_USER_VARIABLE_SID));
    assert_false(u->lpVtbl->SupportsIsInRole(u));
    assert_false(in_role(u, L"anything"));
    /* references: two more, three releases; ASan checks the block is freed exactly once */
    u->lpVtbl->ReferenceUser(u);
    u->lpVtbl->ReferenceUser(u);
    u->lpVtbl->DereferenceUser(u);
    u->lpVtbl->DereferenceUser(u);
    assert_true(wcscmp(u->lpVtbl->GetUserName(u), L"name") == 0);
    u->lpVtbl->DereferenceUser(u);
}

static void test_user_role_list(void **state)
{
    (void)state;
    IHttpUser *u = make(L" editors , Staff,,x", 0);
    assert_true(u->lpVtbl->SupportsIsInRole(u));
    assert_true(in_role(u, L"editors"));
    assert_true(in_role(u, L"STAFF"));
    assert_true(in_role(u, L"x"));
    assert_false(in_role(u, L"edit"));
    assert_false(in_role(u, L""));
    BOOL in;
    assert_int_equal(u->lpVtbl->IsInRole(u, NULL, &in), E_INVALIDARG);
    u->lpVtbl->DereferenceUser(u);
    u = make(L"", 0); /* an empty list: roles are known, there are none */
    assert_true(u->lpVtbl->SupportsIsInRole(u));
    assert_false(in_role(u, L"editors"));
    u->lpVtbl->DereferenceUser(u);
}

static void test_user_unix_groups(void **state)
{
    (void)state;
    IIisdUserFactory *f = iisd_user_factory();
    IHttpUser *u = NULL;
    /* root is in group root on every Linux system */
    assert_int_equal(
        f->lpVtbl->CreateUser(f, L"Basic", L"root", L"root", L"", NULL, IISD_USER_UNIX_GROUPS, &u), S_OK);
    assert_true(u->lpVtbl->SupportsIsInRole(u));
    assert_true(in_role(u, L"root"));
    assert_false(in_role(u, L"no-such-group-iisd"));
    u->lpVtbl->DereferenceUser(u);
    assert_int_equal(f->lpVtbl->CreateUser(f, NULL, NULL, NULL, NULL, NULL, 0x80, &u), E_INVALIDARG);
    /* permanent: references do nothing, the user stays (for the life of the process: kept reachable) */
    static IHttpUser *permanent;
    assert_int_equal(f->lpVtbl->CreateUser(f, L"", L"", L"anon", L"", NULL, IISD_USER_PERMANENT, &permanent),
                     S_OK);
    permanent->lpVtbl->DereferenceUser(permanent);
    permanent->lpVtbl->DereferenceUser(permanent);
    permanent->lpVtbl->ReferenceUser(permanent);
    assert_true(wcscmp(permanent->lpVtbl->GetUserName(permanent), L"anon") == 0);
    assert_int_equal(f->lpVtbl->CreateUser(f, NULL, NULL, NULL, NULL, NULL, 0, NULL), E_INVALIDARG);
}

static void test_perf_counters(void **state)
{
    (void)state;
    IHttpPerfCounterInfo *s = iisd_perf_site(77), *t = iisd_perf_site(78);
    assert_ptr_equal(s, iisd_perf_site(77));
    assert_ptr_not_equal(s, t);
    s->lpVtbl->IncrementCounter(s, 5, 10);
    s->lpVtbl->DecrementCounter(s, 5, 3);
    s->lpVtbl->DecrementCounter(s, 9, 2);
    s->lpVtbl->IncrementCounter(s, IISD_PERF_COUNTERS, 1); /* ignored */
    t->lpVtbl->IncrementCounter(t, 5, 1);
    assert_int_equal(iisd_perf_value(s, 5), 7);
    assert_int_equal(iisd_perf_value(s, 9), -2);
    assert_int_equal(iisd_perf_value(t, 5), 1);
    assert_int_equal(iisd_perf_value(s, IISD_PERF_COUNTERS), 0);
    char buf[64];
    assert_int_equal(iisd_perf_format(s, buf, sizeof(buf)), strlen("5=7,9=-2"));
    assert_string_equal(buf, "5=7,9=-2");
    assert_ptr_equal(iisd_perf_server(), iisd_perf_server());
}

static void test_te_trailers(void **state)
{
    (void)state;
    const char *yes[] = {"trailers", "Trailers", "gzip, trailers", "deflate;q=0.5, trailers", " trailers ,x"};
    const char *no[] = {"", "gzip", "trailer", "trailersx", "x;trailers", "gzip;q=trailers"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(iisd_te_accepts_trailers(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(iisd_te_accepts_trailers(no[i], strlen(no[i])));
}

static void test_trailer_list(void **state)
{
    (void)state;
    iisd_arena_t a;
    iisd_arena_init(&a);
    iisd_hlist_t l = {0};
    iisd_hlist_set(&l, &a, "X-A", 3, "1", 1, true);
    iisd_hlist_set(&l, &a, "x-a", 3, "2", 1, false);
    iisd_hlist_set(&l, &a, "X-B", 3, "b", 1, true);
    uint16_t len;
    assert_string_equal(iisd_hlist_get(&l, "X-A", 3, &len), "1, 2");
    assert_int_equal(len, 4);
    iisd_hlist_set(&l, &a, "X-A", 3, "3", 1, true);
    assert_string_equal(iisd_hlist_get(&l, "x-A", 3, NULL), "3");
    assert_true(iisd_hlist_delete(&l, "X-A", 3));
    assert_false(iisd_hlist_delete(&l, "X-A", 3));
    assert_null(iisd_hlist_get(&l, "X-A", 3, &len));
    assert_int_equal(len, 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].name, "X-B");
    iisd_arena_reset(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_fields),      cmocka_unit_test(test_user_role_list),
        cmocka_unit_test(test_user_unix_groups), cmocka_unit_test(test_perf_counters),
        cmocka_unit_test(test_te_trailers),      cmocka_unit_test(test_trailer_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
