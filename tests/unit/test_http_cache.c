/*
 * The logic of HttpCacheModule (src/modules/http_cache.c) that stands alone:
 * query-string parameters, the variant part of cache keys, list joining and
 * the store (insert, replace, lookup, LRU eviction). The module source is
 * included so its static helpers can be tested without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "../../src/modules/http_cache.c"

static void test_query_param(void **state)
{
    (void)state;
    size_t n = 0;
    const char *v = query_param("a=1&id=42&b", "id", 2, &n);
    assert_non_null(v);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "42", 2);
    v = query_param("a=1&ID=7", "id", 2, &n); /* names are case-insensitive */
    assert_non_null(v);
    assert_memory_equal(v, "7", 1);
    v = query_param("a=1&b", "b", 1, &n); /* present without a value */
    assert_non_null(v);
    assert_int_equal(n, 0);
    assert_null(query_param("ida=1&xid=2", "id", 2, &n));
    assert_null(query_param("", "id", 2, &n));
}

static const char *fake_header(void *arg, const char *name, USHORT *len)
{
    (void)arg;
    if (strcasecmp(name, "X-Lang") == 0) {
        *len = 2;
        return "de";
    }
    return NULL;
}

static void test_key_variant(void **state)
{
    (void)state;
    char key[256] = "1\x01/p";
    size_t len = strlen(key);
    assert_true(key_variant(key, &len, sizeof(key), "X-Lang, X-None", "id,page", "v1", "id=5&x=1",
                            fake_header, NULL));
    assert_string_equal(key, "1\x01/p\x01HX-Lang=de\x01HX-None!\x01Qid=5\x01Qpage!\x01Vv1");
    assert_int_equal(len, strlen(key));

    /* "*" takes the whole query string */
    char k2[64] = "b";
    size_t l2 = 1;
    assert_true(key_variant(k2, &l2, sizeof(k2), "", "*", NULL, "z=1&a=2", fake_header, NULL));
    assert_string_equal(k2, "b\x01Q*z=1&a=2");

    /* a key that does not fit is refused, not cut */
    char k3[12] = "b";
    size_t l3 = 1;
    assert_false(key_variant(k3, &l3, sizeof(k3), "X-Lang", "", NULL, "", fake_header, NULL));
}

static void test_join_lists(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(join_lists(buf, sizeof(buf), "a,b", "c"), "a,b,c");
    assert_string_equal(join_lists(buf, sizeof(buf), NULL, "c"), "c");
    assert_string_equal(join_lists(buf, sizeof(buf), "a", ""), "a");
    assert_string_equal(join_lists(buf, sizeof(buf), NULL, NULL), "");
}

static hc_entry_t *make_entry(const char *key, size_t body)
{
    hc_entry_t *e = calloc(1, sizeof(*e) + strlen(key) + 1 + body);
    e->key = strcpy((char *)(e + 1), key);
    e->key_len = strlen(key);
    e->hash = hash_bytes(key, e->key_len);
    e->mem = sizeof(*e) + e->key_len + 1 + body;
    atomic_init(&e->refs, 1);
    return e;
}

static hc_entry_t *lookup(const char *key)
{
    pthread_mutex_lock(&g_lock);
    hc_entry_t *e = find_locked(key, strlen(key), hash_bytes(key, strlen(key)));
    pthread_mutex_unlock(&g_lock);
    return e;
}

static void test_store(void **state)
{
    (void)state;
    hc_entry_t *a = make_entry("a", 1000), *b = make_entry("b", 1000);
    insert(a, 1u << 20);
    insert(b, 1u << 20);
    assert_int_equal(atomic_load(&g_count), 2);
    assert_ptr_equal(lookup("a"), a);
    assert_ptr_equal(lookup("b"), b);
    assert_null(lookup("c"));
    /* same key: the new entry replaces the old one */
    hc_entry_t *a2 = make_entry("a", 10);
    insert(a2, 1u << 20);
    assert_ptr_equal(lookup("a"), a2);
    assert_int_equal(atomic_load(&g_count), 2);
    /* over the limit, the least recently used entries go (b, inserted before a2) */
    size_t limit = a2->mem + 100;
    hc_entry_t *c = make_entry("c", 10);
    insert(c, limit + c->mem);
    assert_null(lookup("b"));
    assert_ptr_equal(lookup("a"), a2);
    assert_ptr_equal(lookup("c"), c);
    /* a reference held by a request keeps the entry alive after removal */
    atomic_fetch_add(&c->refs, 1);
    flush_all();
    assert_int_equal(atomic_load(&g_count), 0);
    assert_null(lookup("c"));
    assert_int_equal(atomic_load(&c->refs), 1);
    entry_release(c);
    assert_int_equal(g_mem, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_param),
        cmocka_unit_test(test_key_variant),
        cmocka_unit_test(test_join_lists),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
