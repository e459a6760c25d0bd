/*
 * Module context containers (src/pipeline/container.c), driven through
 * their vtables the way a module does, with stored contexts written in C.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <cmocka.h>
#include "pipeline/container.h"

/* ---- a fake IHttpStoredContext that records its cleanup ---------------- */

typedef struct fake_ctx {
    IHttpStoredContext iface; /* first */
    int tag;
    int cleanups;
} fake_ctx_t;

static int cleanup_log[32];
static unsigned cleanup_n;

static void fake_CleanupStoredContext(IHttpStoredContext *This)
{
    fake_ctx_t *f = (fake_ctx_t *)This;
    f->cleanups++;
    if (cleanup_n < 32)
        cleanup_log[cleanup_n++] = f->tag;
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpStoredContextVtbl v;
} fake_vtbl = {NULL, NULL, {.CleanupStoredContext = fake_CleanupStoredContext}};

static void fake_init(fake_ctx_t *f, int tag)
{
    f->iface.lpVtbl = &fake_vtbl.v;
    f->tag = tag;
    f->cleanups = 0;
}

static HTTP_MODULE_ID mid(uintptr_t n)
{
    return (HTTP_MODULE_ID)n;
}

static int setup(void **state)
{
    cleanup_n = 0;
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_set_get(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    IHttpModuleContextContainer *mcc = iisd_container_iface(&c);
    fake_ctx_t a, b;
    fake_init(&a, 1);
    fake_init(&b, 2);

    assert_null(mcc->lpVtbl->GetModuleContext(mcc, mid(1)));
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &a.iface, mid(1)), S_OK);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &b.iface, mid(2)), S_OK);
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, mid(1)), &a.iface);
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, mid(2)), &b.iface);
    assert_null(mcc->lpVtbl->GetModuleContext(mcc, mid(3)));

    iisd_container_destroy(&c);
    assert_int_equal(a.cleanups, 1);
    assert_int_equal(b.cleanups, 1);
}

static void test_duplicate_and_null(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    IHttpModuleContextContainer *mcc = iisd_container_iface(&c);
    fake_ctx_t a, b;
    fake_init(&a, 1);
    fake_init(&b, 2);

    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, NULL, mid(1)),
                     HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    assert_null(mcc->lpVtbl->GetModuleContext(mcc, mid(1)));
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &a.iface, mid(1)), S_OK);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &b.iface, mid(1)),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &a.iface, mid(1)),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
    /* the first one stays */
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, mid(1)), &a.iface);

    iisd_container_destroy(&c);
    assert_int_equal(a.cleanups, 1);
    assert_int_equal(b.cleanups, 0);
}

/* Keys are opaque pointers, not only small integers. */
static void test_any_pointer_key(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    IHttpModuleContextContainer *mcc = iisd_container_iface(&c);
    fake_ctx_t a, b;
    fake_init(&a, 1);
    fake_init(&b, 2);
    static char key;

    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &a.iface, (HTTP_MODULE_ID)&key), S_OK);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &b.iface, (HTTP_MODULE_ID)(uintptr_t)UINT64_MAX),
                     S_OK);
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, (HTTP_MODULE_ID)&key), &a.iface);
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, (HTTP_MODULE_ID)(uintptr_t)UINT64_MAX), &b.iface);
    iisd_container_destroy(&c);
}

/* Cleanup runs in reverse order of setting, beyond the inline capacity too. */
static void test_cleanup_order(void **state)
{
    enum { N = 3 * IISD_CONTAINER_INLINE + 1 };
    iisd_container_t c;
    iisd_container_init(&c);
    IHttpModuleContextContainer *mcc = iisd_container_iface(&c);
    fake_ctx_t f[N];
    /* ids deliberately not in the order of setting */
    for (int i = 0; i < N; i++) {
        fake_init(&f[i], i);
        assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &f[i].iface, mid((uintptr_t)(N - i) * 7)), S_OK);
    }
    for (int i = 0; i < N; i++)
        assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, mid((uintptr_t)(N - i) * 7)), &f[i].iface);

    iisd_container_cleanup(&c);
    assert_int_equal(cleanup_n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(cleanup_log[i], N - 1 - i);
        assert_int_equal(f[i].cleanups, 1);
    }
    /* empty and reusable after cleanup */
    assert_null(mcc->lpVtbl->GetModuleContext(mcc, mid(7)));
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &f[0].iface, mid(7)), S_OK);
    iisd_container_destroy(&c);
    assert_int_equal(f[0].cleanups, 2);
    assert_int_equal(cleanup_n, N + 1);
}

/* A stored context whose cleanup stores another context in the same container. */
typedef struct reentrant_ctx {
    IHttpStoredContext iface;
    IHttpModuleContextContainer *mcc;
    fake_ctx_t *late;
} reentrant_ctx_t;

static void reentrant_CleanupStoredContext(IHttpStoredContext *This)
{
    reentrant_ctx_t *r = (reentrant_ctx_t *)This;
    cleanup_log[cleanup_n++] = 100;
    /* the container is not locked while cleanup code runs */
    assert_null(r->mcc->lpVtbl->GetModuleContext(r->mcc, mid(1)));
    assert_int_equal(r->mcc->lpVtbl->SetModuleContext(r->mcc, &r->late->iface, mid(9)), S_OK);
}

static const struct {
    void *offset_to_top, *rtti;
    IHttpStoredContextVtbl v;
} reentrant_vtbl = {NULL, NULL, {.CleanupStoredContext = reentrant_CleanupStoredContext}};

static void test_cleanup_reentrant(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    IHttpModuleContextContainer *mcc = iisd_container_iface(&c);
    fake_ctx_t late;
    fake_init(&late, 5);
    reentrant_ctx_t r = {.iface.lpVtbl = &reentrant_vtbl.v, .mcc = mcc, .late = &late};
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &r.iface, mid(1)), S_OK);
    iisd_container_cleanup(&c);
    assert_int_equal(cleanup_n, 2);
    assert_int_equal(cleanup_log[0], 100);
    assert_int_equal(cleanup_log[1], 5);
    assert_null(mcc->lpVtbl->GetModuleContext(mcc, mid(9)));
    iisd_container_destroy(&c);
}

static void test_dispensed(void **state)
{
    IDispensedHttpModuleContextContainer *d = iisd_container_dispense();
    assert_non_null(d);
    /* the dispensed interface extends IHttpModuleContextContainer */
    IHttpModuleContextContainer *mcc = (IHttpModuleContextContainer *)d;
    fake_ctx_t a, b;
    fake_init(&a, 1);
    fake_init(&b, 2);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &a.iface, mid(4)), S_OK);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &b.iface, mid(2)), S_OK);
    assert_int_equal(mcc->lpVtbl->SetModuleContext(mcc, &b.iface, mid(4)),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
    assert_ptr_equal(mcc->lpVtbl->GetModuleContext(mcc, mid(4)), &a.iface);
    /* the same contexts reached through the derived vtable */
    assert_ptr_equal(d->lpVtbl->GetModuleContext(d, mid(2)), &b.iface);
    assert_int_equal(d->lpVtbl->SetModuleContext(d, &a.iface, mid(2)),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED));
    assert_null(d->lpVtbl->GetModuleContext(d, mid(3)));

    d->lpVtbl->ReleaseContainer(d); /* frees d: ASan/valgrind check the rest */
    assert_int_equal(cleanup_n, 2);
    assert_int_equal(cleanup_log[0], 2);
    assert_int_equal(cleanup_log[1], 1);
}

/* Several threads setting and reading their own ids in one shared container. */
enum { NTHREADS = 8, PER_THREAD = 50 };

typedef struct thread_arg {
    IHttpModuleContextContainer *mcc;
    fake_ctx_t ctx[PER_THREAD];
    uintptr_t base;
    int failures;
} thread_arg_t;

static void *thread_main(void *p)
{
    thread_arg_t *a = p;
    for (uintptr_t i = 0; i < PER_THREAD; i++) {
        fake_init(&a->ctx[i], 0);
        if (a->mcc->lpVtbl->SetModuleContext(a->mcc, &a->ctx[i].iface, mid(a->base + i)) != S_OK)
            a->failures++;
        if (a->mcc->lpVtbl->GetModuleContext(a->mcc, mid(a->base + i)) != &a->ctx[i].iface)
            a->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    static thread_arg_t args[NTHREADS];
    pthread_t tid[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        args[t].mcc = iisd_container_iface(&c);
        args[t].base = 1 + (uintptr_t)t * PER_THREAD;
        args[t].failures = 0;
        assert_int_equal(pthread_create(&tid[t], NULL, thread_main, &args[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(args[t].failures, 0);
    iisd_container_destroy(&c);
    assert_int_equal(cleanup_n, 32); /* the log keeps the first 32 */
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < PER_THREAD; i++)
            assert_int_equal(args[t].ctx[i].cleanups, 1);
}

/* The vtable has the Itanium prefix: offset-to-top 0 and a typeinfo slot. */
static void test_vtable_prefix(void **state)
{
    iisd_container_t c;
    iisd_container_init(&c);
    void *const *vt = (void *const *)c.iface.lpVtbl;
    assert_null(vt[-2]);
    assert_ptr_equal(vt[0], (void *)c.iface.lpVtbl->GetModuleContext);
    assert_ptr_equal(vt[1], (void *)c.iface.lpVtbl->SetModuleContext);
    iisd_container_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_set_get, setup),
        cmocka_unit_test_setup(test_duplicate_and_null, setup),
        cmocka_unit_test_setup(test_any_pointer_key, setup),
        cmocka_unit_test_setup(test_cleanup_order, setup),
        cmocka_unit_test_setup(test_cleanup_reentrant, setup),
        cmocka_unit_test_setup(test_dispensed, setup),
        cmocka_unit_test_setup(test_threads, setup),
        cmocka_unit_test_setup(test_vtable_prefix, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
