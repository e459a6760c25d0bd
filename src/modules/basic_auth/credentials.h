/*
 * The parts of BasicAuthenticationModule that need no server: decoding the
 * Authorization header (RFC 7617), UTF-8 to wide strings, htpasswd files and
 * their hashes, the PAM conversation, and the cache of recent successful
 * verifications. Unit-tested in tests/unit/test_auth.c.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

/*
 * Decodes an Authorization header value. The scheme is matched without regard
 * to case and must be followed by one or more spaces and a base64 token68 (with
 * at most two '=' at its end and nothing after it). The decoded text must be
 * valid UTF-8 without control characters, and holds "user-id:password"; the
 * user-id is everything before the first ':' and must not be empty.
 * out (cap bytes) receives "user\0password\0"; *user and *pass point into it.
 * Returns 1 for valid Basic credentials, 0 when the scheme is not Basic, -1 for
 * a malformed Basic value.
 */
int basic_decode(const char *v, size_t n, char *out, size_t cap, const char **user, const char **pass);

/* Strict UTF-8 to wide characters; (size_t)-1 when invalid or when it does not fit. */
size_t basic_utf8_to_wide(const char *s, wchar_t *out, size_t cap);

/* Compares n bytes in time independent of where they differ. */
bool basic_equal_ct(const void *a, const void *b, size_t n);

/* ---- htpasswd ---------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *hash;
    const char *roles; /* "" when the line has no third field */
} htp_entry_t;

typedef struct {
    char *text; /* the file's text, split in place */
    htp_entry_t *v;
    size_t n;
} htp_file_t;

/*
 * Parses htpasswd text: one "name:hash" line per user, with an optional third
 * field "name:hash:role1,role2" (an iisd addition: the user's roles for URL
 * authorization). Blank lines and lines starting with '#' are skipped, and so
 * are lines without a ':' or with an empty name. Returns 0, or -1 out of memory.
 */
int htp_parse(const char *text, size_t n, htp_file_t *out);
void htp_free(htp_file_t *f);
/* The entry of user (names are case-sensitive), or NULL. */
const htp_entry_t *htp_find(const htp_file_t *f, const char *user);
/*
 * True when password matches hash: bcrypt ($2y$, $2b$, $2a$) and the other
 * crypt(3) methods starting with '$' that libcrypt knows ($5$, $6$, $y$ ...),
 * and {SHA} (base64 of SHA-1). Plain-text and DES entries never match.
 */
bool htp_verify(const char *hash, const char *password);

/* ---- PAM ------------------------------------------------------------------------------ */

struct pam_message;
struct pam_response;
/* The PAM conversation: echo-off prompts get the password, echo-on prompts the user name. */
int basic_pam_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata);
/* pam_authenticate and pam_acct_mgmt for service; true when both succeed. Blocks. */
bool basic_pam_check(const char *service, const char *user, const char *password);

/* ---- cache of successful verifications ------------------------------------------------- */

/* True when the same (source, user, password) verified successfully less than ttl_ms ago. */
bool basic_cache_hit(const char *source, const char *user, const char *password, uint64_t now_ms);
void basic_cache_put(const char *source, const char *user, const char *password, uint64_t now_ms,
                     uint64_t ttl_ms);
