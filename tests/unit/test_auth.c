/*
 * The logic of the authentication modules that stands alone: Basic header
 * decoding (src/modules/basic_auth/credentials.c), htpasswd parsing and
 * verification, the PAM conversation, the verification cache, and URL
 * authorization rule evaluation (src/modules/url_authorization/rules.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <crypt.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "modules/basic_auth/credentials.h"
#include "modules/url_authorization/rules.h"

static int decode(const char *hdr, const char **u, const char **p)
{
    static char buf[256];
    return basic_decode(hdr, strlen(hdr), buf, sizeof(buf), u, p);
}

static void test_basic_decode(void **state)
{
    (void)state;
    const char *u, *p;
    /* "Aladdin:open sesame" */
    assert_int_equal(decode("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &u, &p), 1);
    assert_string_equal(u, "Aladdin");
    assert_string_equal(p, "open sesame");
    assert_int_equal(decode("bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ", &u, &p), 1);
    /* the password may hold colons; it may be empty */
    assert_int_equal(decode("Basic dTpwOnE6", &u, &p), 1); /* u:p:q: */
    assert_string_equal(u, "u");
    assert_string_equal(p, "p:q:");
    assert_int_equal(decode("Basic dTo=", &u, &p), 1); /* u: */
    assert_string_equal(p, "");
    /* unpadded token68 */
    assert_int_equal(decode("Basic dTpw", &u, &p), 1);
    /* UTF-8 user-id: "jösé:x" */
    assert_int_equal(decode("Basic asO2c8OpOng=", &u, &p), 1);
    assert_string_equal(u, "j\xc3\xb6s\xc3\xa9");
    /* other schemes */
    assert_int_equal(decode("Bearer abc", &u, &p), 0);
    assert_int_equal(decode("BasicX dTpw", &u, &p), 0);
    assert_int_equal(decode("Basic\tdTpw", &u, &p), 0);
    assert_int_equal(decode("Digest username=\"a\"", &u, &p), 0);
    /* malformed Basic */
    assert_int_equal(decode("Basic", &u, &p), -1);
    assert_int_equal(decode("Basic ", &u, &p), -1);
    assert_int_equal(decode("Basic dXNlcg==", &u, &p), -1);  /* "user": no colon */
    assert_int_equal(decode("Basic OnB3", &u, &p), -1);      /* ":pw": empty user-id */
    assert_int_equal(decode("Basic dTpw===", &u, &p), -1);   /* too much padding */
    assert_int_equal(decode("Basic dTpw=", &u, &p), -1);     /* padding that does not fit */
    assert_int_equal(decode("Basic dT!w", &u, &p), -1);      /* not base64 */
    assert_int_equal(decode("Basic dTpw dTpw", &u, &p), -1); /* two tokens */
    assert_int_equal(decode("Basic dTpx", &u, &p), 1);
    assert_int_equal(decode("Basic dTpx=", &u, &p), -1);
    assert_int_equal(decode("Basic dTpxZ", &u, &p), -1);    /* one dangling character */
    assert_int_equal(decode("Basic dQFwOnE=", &u, &p), -1); /* "u\x01p:q": control char */
    assert_int_equal(decode("Basic 6fY6eA==", &u, &p), -1); /* Latin-1 "éö:x": not UTF-8 */
    assert_int_equal(decode("Basic dQBwOnE=", &u, &p), -1); /* NUL inside */
    /* longer than the buffer */
    char big[400] = "Basic ";
    memset(big + 6, 'Q', 390);
    big[396] = '\0';
    assert_int_equal(decode(big, &u, &p), -1);
}

static void test_utf8_to_wide(void **state)
{
    (void)state;
    wchar_t w[16];
    assert_int_equal(basic_utf8_to_wide("a\xc3\xb6\xe2\x82\xac\xf0\x9f\x98\x80", w, 16), 4);
    assert_int_equal(w[1], 0xf6);
    assert_int_equal(w[2], 0x20ac);
    assert_int_equal(w[3], 0x1f600);
    assert_int_equal(basic_utf8_to_wide("\xc0\xaf", w, 16), (size_t)-1);     /* overlong */
    assert_int_equal(basic_utf8_to_wide("\xed\xa0\x80", w, 16), (size_t)-1); /* surrogate */
    assert_int_equal(basic_utf8_to_wide("\xe2\x82", w, 16), (size_t)-1);     /* truncated */
    assert_int_equal(basic_utf8_to_wide("abcdef", w, 4), (size_t)-1);        /* too long */
}

static void test_htpasswd_parse(void **state)
{
    (void)state;
    const char *text = "# comment\r\n"
                       "alice:{SHA}x:editors,staff\r\n"
                       "\n"
                       ":nobody\n"
                       "no-colon-line\n"
                       "bob:$2y$05$abc\n"
                       "carol:";
    htp_file_t f;
    assert_int_equal(htp_parse(text, strlen(text), &f), 0);
    assert_int_equal(f.n, 3);
    const htp_entry_t *a = htp_find(&f, "alice");
    assert_non_null(a);
    assert_string_equal(a->hash, "{SHA}x");
    assert_string_equal(a->roles, "editors,staff");
    const htp_entry_t *b = htp_find(&f, "bob");
    assert_non_null(b);
    assert_string_equal(b->hash, "$2y$05$abc");
    assert_string_equal(b->roles, "");
    assert_non_null(htp_find(&f, "carol"));
    assert_string_equal(htp_find(&f, "carol")->hash, "");
    assert_null(htp_find(&f, "Alice")); /* names are case-sensitive */
    assert_null(htp_find(&f, "# comment"));
    assert_null(htp_find(&f, ""));
    htp_free(&f);
    assert_int_equal(htp_parse("", 0, &f), 0);
    assert_int_equal(f.n, 0);
    htp_free(&f);
}

static void test_htpasswd_verify(void **state)
{
    (void)state;
    /* {SHA} of "password" */
    assert_true(htp_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password"));
    assert_false(htp_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "Password"));
    assert_false(htp_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9", "password"));
    assert_false(htp_verify("{SHA}", ""));
    /* crypt(3) hashes made here with a fixed salt */
    const char *settings[] = {"$2b$04$abcdefghijklmnopqrstuu", "$6$saltsalt", "$5$saltsalt"};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const char *h = crypt("s3cret", settings[i]);
        assert_non_null(h);
        assert_true(h[0] == '$');
        char copy[256];
        strcpy(copy, h);
        assert_true(htp_verify(copy, "s3cret"));
        assert_false(htp_verify(copy, "s3cre"));
        assert_false(htp_verify(copy, "s3cret "));
    }
    /* $2y$ is the same bcrypt */
    char y[256];
    strcpy(y, crypt("pw", "$2y$04$abcdefghijklmnopqrstuu"));
    assert_true(htp_verify(y, "pw"));
    /* plain text and DES are refused even when they "match" */
    assert_false(htp_verify("plain", "plain"));
    assert_false(htp_verify("", ""));
    char des[64];
    strcpy(des, crypt("pw", "ab"));
    assert_false(htp_verify(des, "pw"));
    /* an unknown method */
    assert_false(htp_verify("$zz$whatever", "whatever"));
}

static void test_pam_conversation(void **state)
{
    (void)state;
    struct {
        const char *user, *password;
    } creds = {"alice", "pw"};
    struct pam_message m0 = {PAM_PROMPT_ECHO_ON, "login:"}, m1 = {PAM_PROMPT_ECHO_OFF, "Password:"},
                       m2 = {PAM_TEXT_INFO, "hello"}, m3 = {PAM_ERROR_MSG, "careful"};
    const struct pam_message *msgs[] = {&m0, &m1, &m2, &m3};
    struct pam_response *r = NULL;
    assert_int_equal(basic_pam_conv(4, msgs, &r, &creds), PAM_SUCCESS);
    assert_non_null(r);
    assert_string_equal(r[0].resp, "alice");
    assert_string_equal(r[1].resp, "pw");
    assert_null(r[2].resp);
    assert_null(r[3].resp);
    for (int i = 0; i < 4; i++)
        free(r[i].resp);
    free(r);
    /* an unknown message style is a conversation error */
    struct pam_message bad = {99, "?"};
    const struct pam_message *bm[] = {&m1, &bad};
    r = NULL;
    assert_int_equal(basic_pam_conv(2, bm, &r, &creds), PAM_CONV_ERR);
    assert_null(r);
    assert_int_equal(basic_pam_conv(0, bm, &r, &creds), PAM_CONV_ERR);
}

static void test_pam_unknown_service_refuses(void **state)
{
    (void)state;
    /* a service no file describes falls back to "other", which cannot know this user */
    assert_false(basic_pam_check("iisd-unit-test-no-such-service", "no-such-user-iisd", "x"));
}

static void test_cache(void **state)
{
    (void)state;
    assert_false(basic_cache_hit("src", "u", "p", 1000));
    basic_cache_put("src", "u", "p", 1000, 500);
    assert_true(basic_cache_hit("src", "u", "p", 1200));
    assert_false(basic_cache_hit("src", "u", "p2", 1200));
    assert_false(basic_cache_hit("src", "u2", "p", 1200));
    assert_false(basic_cache_hit("src2", "u", "p", 1200));
    /* "u" + "p" must not collide with "" + "up" */
    assert_false(basic_cache_hit("src", "", "up", 1200));
    assert_false(basic_cache_hit("src", "u", "p", 1500)); /* expired */
    /* many entries: the cache stays bounded and keeps working */
    char u[16];
    for (int i = 0; i < 200; i++) {
        snprintf(u, sizeof(u), "user%d", i);
        basic_cache_put("src", u, "p", 2000, 1000);
    }
    assert_true(basic_cache_hit("src", "user199", "p", 2500));
}

/* ---- URL authorization ------------------------------------------------------------ */

static bool roles_of(void *arg, const char *role)
{
    return authz_list_has((const char *)arg, role);
}

static authz_user_t user(const char *name, const char *roles)
{
    authz_user_t u = {
        .name = name, .anonymous = name[0] == '\0', .in_role = roles ? roles_of : NULL, .arg = (void *)roles};
    return u;
}

static void test_list_has(void **state)
{
    (void)state;
    assert_true(authz_list_has("a, b ,c", "b"));
    assert_true(authz_list_has("GET,HEAD", "head"));
    assert_false(authz_list_has("GET,HEAD", "HEA"));
    assert_false(authz_list_has("", "x"));
    assert_false(authz_list_has("a,,b", ""));
}

static void test_authz_rules(void **state)
{
    (void)state;
    authz_user_t anon = user("", NULL), alice = user("alice", "editors"), bob = user("bob", "staff");
    /* nothing applies: denied */
    assert_false(authz_evaluate(NULL, 0, &alice, "GET"));
    authz_rule_t all[] = {{.allow = true, .users = "*"}};
    assert_true(authz_evaluate(all, 1, &anon, "GET"));
    assert_true(authz_evaluate(all, 1, &alice, "GET"));
    /* deny rules first, whatever their position */
    authz_rule_t d[] = {{.allow = true, .users = "*"}, {.allow = false, .users = "Bob"}};
    assert_false(authz_evaluate(d, 2, &bob, "GET"));
    assert_true(authz_evaluate(d, 2, &alice, "GET"));
    /* "?" is the anonymous user only */
    authz_rule_t q[] = {{.allow = false, .users = "?"}, {.allow = true, .users = "*"}};
    assert_false(authz_evaluate(q, 2, &anon, "GET"));
    assert_true(authz_evaluate(q, 2, &bob, "GET"));
    /* an empty name in a list does not match the anonymous user */
    authz_rule_t e[] = {{.allow = true, .users = " , "}};
    assert_false(authz_evaluate(e, 1, &anon, "GET"));
    /* roles; the anonymous user holds none */
    authz_rule_t r[] = {{.allow = true, .roles = "admins, EDITORS"}};
    assert_true(authz_evaluate(r, 1, &alice, "GET"));
    assert_false(authz_evaluate(r, 1, &bob, "GET"));
    assert_false(authz_evaluate(r, 1, &anon, "GET"));
    /* users or roles */
    authz_rule_t ur[] = {{.allow = true, .users = "bob", .roles = "editors"}};
    assert_true(authz_evaluate(ur, 1, &alice, "GET"));
    assert_true(authz_evaluate(ur, 1, &bob, "GET"));
    assert_false(authz_evaluate(ur, 1, &anon, "GET"));
    /* verbs restrict a rule */
    authz_rule_t v[] = {{.allow = true, .users = "*", .verbs = "GET, HEAD"},
                        {.allow = false, .users = "*", .verbs = "DELETE"}};
    assert_true(authz_evaluate(v, 2, &bob, "GET"));
    assert_true(authz_evaluate(v, 2, &bob, "head"));
    assert_false(authz_evaluate(v, 2, &bob, "POST"));
    assert_false(authz_evaluate(v, 2, &bob, "DELETE"));
    /* a rule with neither users nor roles applies to nobody */
    authz_rule_t none[] = {{.allow = false}, {.allow = true, .users = "*"}};
    assert_true(authz_evaluate(none, 2, &bob, "GET"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_decode),
        cmocka_unit_test(test_utf8_to_wide),
        cmocka_unit_test(test_htpasswd_parse),
        cmocka_unit_test(test_htpasswd_verify),
        cmocka_unit_test(test_pam_conversation),
        cmocka_unit_test(test_pam_unknown_service_refuses),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_list_has),
        cmocka_unit_test(test_authz_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
