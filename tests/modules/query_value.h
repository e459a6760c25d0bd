// query_value.h - the query-string reader the test modules share.
//
// QueryValue(q, "name", out, cap): copies the value of name= in the query string q
// (no leading '?') into out, cut to cap - 1 bytes; false when the parameter is absent.
#pragma once
#include <string.h>

static inline bool QueryValue(const char *q, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = q; p != NULL && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t len = strcspn(v, "&");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}
