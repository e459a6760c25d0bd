/* The dispatch plan: priority, configuration order, post events and the SEND_RESPONSE inversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "pipeline/engine.h"

static IHttpModuleFactory dummy_factory;
static CGlobalModule dummy_global;

static iisd_module_t *fake(const char *name, DWORD rq, DWORD post, int prio)
{
    iisd_module_t *m = iisd_xcalloc(1, sizeof(*m));
    m->name = iisd_xstrdup(name);
    m->id = iisd_modules.n;
    m->factory = &dummy_factory;
    m->rq_mask = rq;
    m->post_mask = post;
    memset(m->rq_prio, prio, sizeof(m->rq_prio));
    memset(m->post_prio, prio, sizeof(m->post_prio));
    memset(m->gl_prio, IISD_PRIO_MEDIUM, sizeof(m->gl_prio));
    iisd_modules.v = iisd_xrealloc(iisd_modules.v, (iisd_modules.n + 1) * sizeof(*iisd_modules.v));
    iisd_modules.v[iisd_modules.n++] = m;
    return m;
}

static void reset(void)
{
    for (unsigned i = 0; i < iisd_modules.n; i++) {
        free(iisd_modules.v[i]->name);
        free(iisd_modules.v[i]);
    }
    free(iisd_modules.v);
    iisd_modules.v = NULL;
    iisd_modules.n = 0;
}

static const char *name_at(const iisd_list_t *l, unsigned i)
{
    return iisd_modules.v[l->v[i]]->name;
}

static void test_priority_then_config_order(void **state)
{
    (void)state;
    iisd_module_t *mods[5];
    mods[0] = fake("A_low", RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0, IISD_PRIO_LOW);
    mods[1] = fake("B_medium", RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0, IISD_PRIO_MEDIUM);
    mods[2] = fake("C_first", RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0, IISD_PRIO_FIRST);
    mods[3] = fake("D_medium", RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0, IISD_PRIO_MEDIUM);
    mods[4] = fake("E_last", RQ_BEGIN_REQUEST | RQ_SEND_RESPONSE, 0, IISD_PRIO_LAST);
    iisd_plan_t *p = iisd_plan_build(mods, 5);
    const char *want[] = {"C_first", "B_medium", "D_medium", "A_low", "E_last"};
    assert_int_equal(p->ev[0].n, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_string_equal(name_at(&p->ev[0], i), want[i]);
    /* SEND_RESPONSE is exactly the reverse */
    assert_int_equal(p->send.n, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_string_equal(name_at(&p->send, i), want[4 - i]);
    iisd_plan_free(p);
    reset();
}

static void test_enabled_order_is_the_tie_breaker(void **state)
{
    (void)state;
    iisd_module_t *a = fake("A", RQ_AUTHORIZE_REQUEST, 0, IISD_PRIO_MEDIUM);
    iisd_module_t *b = fake("B", RQ_AUTHORIZE_REQUEST, 0, IISD_PRIO_MEDIUM);
    iisd_module_t *order[2] = {b, a}; /* <modules> lists B first */
    iisd_plan_t *p = iisd_plan_build(order, 2);
    assert_int_equal(p->ev[2].n, 2);
    assert_string_equal(name_at(&p->ev[2], 0), "B");
    assert_string_equal(name_at(&p->ev[2], 1), "A");
    iisd_plan_free(p);
    reset();
}

static void test_post_events_and_disabled_modules(void **state)
{
    (void)state;
    iisd_module_t *a = fake("A", RQ_BEGIN_REQUEST, RQ_BEGIN_REQUEST | RQ_END_REQUEST, IISD_PRIO_MEDIUM);
    iisd_module_t *b = fake("B", RQ_EXECUTE_REQUEST_HANDLER, 0, IISD_PRIO_MEDIUM);
    fake("NotEnabled", RQ_BEGIN_REQUEST, 0, IISD_PRIO_FIRST);
    iisd_module_t *order[2] = {a, b};
    iisd_plan_t *p = iisd_plan_build(order, 2);
    assert_int_equal(p->ev[0].n, 1);
    assert_string_equal(name_at(&p->ev[0], 0), "A");
    assert_int_equal(p->post[0].n, 1);
    assert_int_equal(p->post[11].n, 1);
    assert_int_equal(p->post[7].n, 0);
    assert_int_equal(p->ev[7].n, 1);
    assert_string_equal(name_at(&p->ev[7], 0), "B");
    assert_int_equal(p->req_modules.n, 2);
    assert_int_equal(p->nmodules, 3);
    char out[1024];
    iisd_plan_dump(p, out, sizeof(out));
    assert_non_null(strstr(out, "BEGIN_REQUEST: A\n"));
    assert_non_null(strstr(out, "POST_END_REQUEST: A\n"));
    assert_non_null(strstr(out, "EXECUTE_REQUEST_HANDLER: B\n"));
    assert_null(strstr(out, "NotEnabled"));
    iisd_plan_free(p);
    reset();
}

static void test_global_notifications_in_load_order(void **state)
{
    (void)state;
    iisd_module_t *a = fake("GA", 0, 0, IISD_PRIO_MEDIUM);
    iisd_module_t *b = fake("GB", 0, 0, IISD_PRIO_MEDIUM);
    a->global = &dummy_global;
    b->global = &dummy_global;
    a->gl_mask = GL_STOP_LISTENING | GL_PRE_BEGIN_REQUEST;
    b->gl_mask = GL_PRE_BEGIN_REQUEST;
    b->gl_prio[__builtin_ctz(GL_PRE_BEGIN_REQUEST)] = IISD_PRIO_HIGH;
    iisd_plan_t *p = iisd_plan_build(NULL, 0);
    const iisd_list_t *pre = &p->gl[__builtin_ctz(GL_PRE_BEGIN_REQUEST)];
    assert_int_equal(pre->n, 2);
    assert_string_equal(name_at(pre, 0), "GB");
    assert_string_equal(name_at(pre, 1), "GA");
    assert_int_equal(p->gl[__builtin_ctz(GL_STOP_LISTENING)].n, 1);
    iisd_plan_free(p);
    reset();
}

static void test_priority_alias_parsing(void **state)
{
    (void)state;
    assert_int_equal(iisd_prio_parse(PRIORITY_ALIAS_FIRST), IISD_PRIO_FIRST);
    assert_int_equal(iisd_prio_parse(PRIORITY_ALIAS_HIGH), IISD_PRIO_HIGH);
    assert_int_equal(iisd_prio_parse(PRIORITY_ALIAS_MEDIUM), IISD_PRIO_MEDIUM);
    assert_int_equal(iisd_prio_parse(PRIORITY_ALIAS_LOW), IISD_PRIO_LOW);
    assert_int_equal(iisd_prio_parse(PRIORITY_ALIAS_LAST), IISD_PRIO_LAST);
    assert_int_equal(iisd_prio_parse(L"last"), IISD_PRIO_LAST);
    assert_int_equal(iisd_prio_parse(L"URGENT"), -1);
    assert_int_equal(iisd_prio_parse(L""), -1);
    assert_int_equal(iisd_prio_parse(NULL), -1);
}

static void test_preconditions(void **state)
{
    (void)state;
    assert_true(iisd_precondition_holds(NULL));
    assert_true(iisd_precondition_holds(""));
    assert_true(iisd_precondition_holds("integratedMode"));
    assert_true(iisd_precondition_holds("integratedMode, bitness64"));
    assert_true(iisd_precondition_holds("bitness32,managedHandler")); /* ignored: they hold */
    assert_false(iisd_precondition_holds("classicMode"));
    assert_false(iisd_precondition_holds("ISAPIMode,bitness64"));
    assert_false(iisd_precondition_holds("integratedMode,runtimeVersionv4.0"));
    assert_true(iisd_precondition_holds("appPoolName=Other;DefaultAppPool"));
    assert_false(iisd_precondition_holds("appPoolName=Other"));
    assert_false(iisd_precondition_holds("somethingElse"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_then_config_order),
        cmocka_unit_test(test_enabled_order_is_the_tie_breaker),
        cmocka_unit_test(test_post_events_and_disabled_modules),
        cmocka_unit_test(test_global_notifications_in_load_order),
        cmocka_unit_test(test_priority_alias_parsing),
        cmocka_unit_test(test_preconditions),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
