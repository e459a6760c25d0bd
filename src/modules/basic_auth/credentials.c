#include "modules/basic_auth/credentials.h"
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the header ------------------------------------------------------------------------ */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes base64 (padding optional); (size_t)-1 when invalid or too long. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    if (pad > 2 || n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
        return (size_t)-1;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return (size_t)-1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k >= cap)
                return (size_t)-1;
            out[k++] = (unsigned char)(acc >> bits);
        }
    }
    /* the unused low bits of the last character must be zero (canonical encoding) */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return (size_t)-1;
    return k;
}

/* Length of the UTF-8 sequence at s (n bytes available) and its code point; 0 when invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

size_t basic_utf8_to_wide(const char *s, wchar_t *out, size_t cap)
{
    size_t n = strlen(s), k = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (n > 0) {
        uint32_t cp;
        size_t l = utf8_next(p, n, &cp);
        if (l == 0 || k + 1 >= cap)
            return (size_t)-1;
        out[k++] = (wchar_t)cp;
        p += l;
        n -= l;
    }
    if (cap == 0)
        return (size_t)-1;
    out[k] = L'\0';
    return k;
}

int basic_decode(const char *v, size_t n, char *out, size_t cap, const char **user, const char **pass)
{
    if (n < 5 || strncasecmp(v, "Basic", 5) != 0)
        return 0;
    if (n > 5 && v[5] != ' ')
        return 0; /* another scheme that starts with "Basic" */
    size_t i = 5;
    while (i < n && v[i] == ' ')
        i++;
    size_t end = n;
    while (end > i && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
    if (i == 5 || end == i || cap < 2)
        return -1;
    size_t k = b64_decode(v + i, end - i, (unsigned char *)out, cap - 2);
    if (k == (size_t)-1)
        return -1;
    out[k] = '\0';
    /* valid UTF-8, no control characters (NUL included) */
    const unsigned char *p = (const unsigned char *)out;
    for (size_t j = 0; j < k;) {
        uint32_t cp;
        size_t l = utf8_next(p + j, k - j, &cp);
        if (l == 0 || cp < 0x20 || cp == 0x7f)
            return -1;
        j += l;
    }
    char *colon = memchr(out, ':', k);
    if (colon == NULL || colon == out)
        return -1;
    *colon = '\0';
    *user = out;
    *pass = colon + 1;
    return 1;
}

bool basic_equal_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---- htpasswd ------------------------------------------------------------------------ */

int htp_parse(const char *text, size_t n, htp_file_t *out)
{
    memset(out, 0, sizeof(*out));
    out->text = malloc(n + 1);
    if (out->text == NULL)
        return -1;
    memcpy(out->text, text, n);
    out->text[n] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    out->v = calloc(lines, sizeof(*out->v));
    if (out->v == NULL) {
        free(out->text);
        out->text = NULL;
        return -1;
    }
    char *p = out->text;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        size_t len = strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            p[--len] = '\0';
        char *c1 = strchr(p, ':');
        if (p[0] != '#' && c1 != NULL && c1 != p) {
            *c1 = '\0';
            char *hash = c1 + 1;
            char *c2 = strchr(hash, ':');
            const char *roles = "";
            if (c2 != NULL) {
                *c2 = '\0';
                roles = c2 + 1;
            }
            out->v[out->n++] = (htp_entry_t){.name = p, .hash = hash, .roles = roles};
        }
        p = next;
    }
    return 0;
}

void htp_free(htp_file_t *f)
{
    free(f->text);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

const htp_entry_t *htp_find(const htp_file_t *f, const char *user)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].name, user) == 0)
            return &f->v[i];
    return NULL;
}

bool htp_verify(const char *hash, const char *password)
{
    if (strncmp(hash, "{SHA}", 5) == 0) {
        unsigned char want[SHA_DIGEST_LENGTH + 2], got[SHA_DIGEST_LENGTH];
        size_t hl = strlen(hash + 5);
        if (b64_decode(hash + 5, hl, want, sizeof(want)) != SHA_DIGEST_LENGTH)
            return false;
        SHA1((const unsigned char *)password, strlen(password), got);
        return basic_equal_ct(want, got, SHA_DIGEST_LENGTH);
    }
    if (hash[0] != '$')
        return false; /* plain text and DES crypt are not accepted */
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return false;
    const char *r = crypt_r(password, hash, cd);
    size_t hl = strlen(hash);
    bool ok = r != NULL && r[0] != '*' && strlen(r) == hl && basic_equal_ct(r, hash, hl);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok;
}

/* ---- PAM -------------------------------------------------------------------------------- */

typedef struct {
    const char *user;
    const char *password;
} pam_creds_t;

int basic_pam_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
    const pam_creds_t *c = appdata;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *answer = NULL;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            answer = c->password;
            break;
        case PAM_PROMPT_ECHO_ON:
            answer = c->user;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            continue;
        default:
            answer = NULL;
            break;
        }
        if (answer == NULL || (r[i].resp = strdup(answer)) == NULL) {
            for (int j = 0; j < i; j++)
                if (r[j].resp != NULL) {
                    explicit_bzero(r[j].resp, strlen(r[j].resp));
                    free(r[j].resp);
                }
            free(r);
            return PAM_CONV_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

bool basic_pam_check(const char *service, const char *user, const char *password)
{
    pam_creds_t creds = {user, password};
    struct pam_conv conv = {basic_pam_conv, &creds};
    pam_handle_t *ph = NULL;
    int rc = pam_start(service, user, &conv, &ph);
    if (rc != PAM_SUCCESS)
        return false;
    rc = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    pam_end(ph, rc);
    return rc == PAM_SUCCESS;
}

/* ---- cache ---------------------------------------------------------------------------- */

#define CACHE_SLOTS 64

static struct {
    unsigned char key[SHA256_DIGEST_LENGTH];
    uint64_t expires;
} cache[CACHE_SLOTS];
static unsigned cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void cache_key(const char *source, const char *user, const char *password, unsigned char *key)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(md, source, strlen(source) + 1) || !EVP_DigestUpdate(md, user, strlen(user) + 1) ||
        !EVP_DigestUpdate(md, password, strlen(password)) || !EVP_DigestFinal_ex(md, key, &len))
        memset(key, 0, SHA256_DIGEST_LENGTH); /* an all-zero key is never stored */
    EVP_MD_CTX_free(md);
}

static bool key_valid(const unsigned char *key)
{
    static const unsigned char zero[SHA256_DIGEST_LENGTH];
    return memcmp(key, zero, sizeof(zero)) != 0;
}

bool basic_cache_hit(const char *source, const char *user, const char *password, uint64_t now_ms)
{
    unsigned char key[SHA256_DIGEST_LENGTH];
    cache_key(source, user, password, key);
    if (!key_valid(key))
        return false;
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    for (unsigned i = 0; i < CACHE_SLOTS && !hit; i++)
        if (cache[i].expires > now_ms && basic_equal_ct(cache[i].key, key, sizeof(key)))
            hit = true;
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

void basic_cache_put(const char *source, const char *user, const char *password, uint64_t now_ms,
                     uint64_t ttl_ms)
{
    unsigned char key[SHA256_DIGEST_LENGTH];
    cache_key(source, user, password, key);
    if (!key_valid(key) || ttl_ms == 0)
        return;
    pthread_mutex_lock(&cache_lock);
    unsigned slot = cache_next++ % CACHE_SLOTS;
    for (unsigned i = 0; i < CACHE_SLOTS; i++)
        if (basic_equal_ct(cache[i].key, key, sizeof(key)) || cache[i].expires <= now_ms) {
            slot = i;
            break;
        }
    memcpy(cache[slot].key, key, sizeof(key));
    cache[slot].expires = now_ms + ttl_ms;
    pthread_mutex_unlock(&cache_lock);
}
