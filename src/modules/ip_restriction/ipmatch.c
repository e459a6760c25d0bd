#include "modules/ip_restriction/ipmatch.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

bool ipr_parse_addr(const char *s, size_t n, ipr_addr_t *out, bool *v4)
{
    char buf[INET6_ADDRSTRLEN + 2];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
        if (n == 0 || memchr(s, ':', n) == NULL)
            return false;
    }
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct in_addr a4;
    if (memchr(buf, ':', n) == NULL) {
        if (inet_pton(AF_INET, buf, &a4) != 1)
            return false;
        memset(out->b, 0, 10);
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->b) != 1)
        return false;
    *v4 = false;
    return true;
}

void ipr_prefix_mask(unsigned prefix, bool v4, ipr_addr_t *mask)
{
    unsigned bits = v4 ? 96 + (prefix > 32 ? 32 : prefix) : (prefix > 128 ? 128 : prefix);
    memset(mask->b, 0, 16);
    for (unsigned i = 0; i < bits; i++)
        mask->b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* The prefix length of a contiguous mask of nbytes bytes, or -1. */
static int contiguous_prefix(const uint8_t *m, size_t nbytes)
{
    int prefix = 0;
    bool ended = false;
    for (size_t i = 0; i < nbytes * 8; i++) {
        bool bit = (m[i / 8] >> (7 - i % 8)) & 1;
        if (bit && ended)
            return -1;
        if (bit)
            prefix++;
        else
            ended = true;
    }
    return prefix;
}

bool ipr_parse_mask(const char *s, bool v4, ipr_addr_t *mask)
{
    while (*s == ' ')
        s++;
    if (*s == '\0') {
        ipr_prefix_mask(128, v4, mask);
        return true;
    }
    const char *p = *s == '/' ? s + 1 : s;
    if (*p >= '0' && *p <= '9' && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 3) {
        unsigned long prefix = strtoul(p, NULL, 10);
        if (prefix > (v4 ? 32u : 128u))
            return false;
        ipr_prefix_mask((unsigned)prefix, v4, mask);
        return true;
    }
    if (*s == '/')
        return false;
    ipr_addr_t m;
    bool mv4;
    if (!ipr_parse_addr(s, strlen(s), &m, &mv4) || mv4 != v4)
        return false;
    int prefix = v4 ? contiguous_prefix(m.b + 12, 4) : contiguous_prefix(m.b, 16);
    if (prefix < 0)
        return false;
    ipr_prefix_mask((unsigned)prefix, v4, mask);
    return true;
}

bool ipr_match(const ipr_addr_t *addr, const ipr_addr_t *net, const ipr_addr_t *mask)
{
    for (int i = 0; i < 16; i++)
        if ((addr->b[i] & mask->b[i]) != (net->b[i] & mask->b[i]))
            return false;
    return true;
}

int ipr_next_forwarded(const char *list, size_t n, size_t *pos, ipr_addr_t *out)
{
    while (*pos < n) {
        size_t start = *pos, end = start;
        while (end < n && list[end] != ',')
            end++;
        *pos = end < n ? end + 1 : n;
        while (start < end && (list[start] == ' ' || list[start] == '\t'))
            start++;
        while (end > start && (list[end - 1] == ' ' || list[end - 1] == '\t'))
            end--;
        const char *t = list + start;
        size_t tn = end - start;
        bool v4;
        if (tn > 0 && t[0] == '[') {
            const char *close = memchr(t, ']', tn);
            if (close == NULL)
                continue;
            tn = (size_t)(close - t) + 1;
        } else {
            const char *colon = memchr(t, ':', tn);
            /* exactly one colon: IPv4 with a port */
            if (colon != NULL && memchr(colon + 1, ':', tn - (size_t)(colon - t) - 1) == NULL)
                tn = (size_t)(colon - t);
        }
        if (ipr_parse_addr(t, tn, out, &v4))
            return 1;
    }
    return 0;
}
