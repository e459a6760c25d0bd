#include "modules/httputil.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- HTTP-date ----------------------------------------------------------- */

static const char wdays[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"}; /* 1970-01-01: Thu */
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const long_days[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void hu_http_date(int64_t t, char *out)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    /* civil from days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    int wd = (int)(((days % 7) + 7) % 7);
    memcpy(out, wdays[wd], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, months[m - 1], 3);
    out[11] = ' ';
    int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
    put2(out + 12, yy / 100);
    put2(out + 14, yy % 100);
    out[16] = ' ';
    put2(out + 17, (int)(secs / 3600));
    out[19] = ':';
    put2(out + 20, (int)(secs / 60 % 60));
    out[22] = ':';
    put2(out + 23, (int)(secs % 60));
    memcpy(out + 25, " GMT", 5); /* with the NUL */
}

/* n decimal digits at p, or -1 */
static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int month_of(const char *p)
{
    for (int i = 0; i < 12; i++)
        if (strncasecmp(p, months[i], 3) == 0)
            return i + 1;
    return 0;
}

static bool short_day(const char *p)
{
    for (int i = 0; i < 7; i++)
        if (strncasecmp(p, wdays[i], 3) == 0)
            return true;
    return false;
}

/* "HH:MM:SS" at p: seconds of the day, or -1 */
static int64_t clock_of(const char *p)
{
    int h = digits(p, 2), mi = digits(p + 3, 2), s = digits(p + 6, 2);
    if (h < 0 || mi < 0 || s < 0 || p[2] != ':' || p[5] != ':' || h > 23 || mi > 59 || s > 60)
        return -1;
    return h * 3600 + mi * 60 + (s == 60 ? 59 : s);
}

static int64_t make_time(int64_t y, int m, int d, int64_t secs)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || d < 1 || d > mdays[m - 1] || secs < 0)
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return -1;
    return days_from_civil(y, m, d) * 86400 + secs;
}

int64_t hu_parse_http_date(const char *s, size_t n)
{
    if (s == NULL)
        return -1;
    while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 29 && s[3] == ',') {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        if (!short_day(s) || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25] != ' ' ||
            memcmp(s + 26, "GMT", 3) != 0)
            return -1;
        int d = digits(s + 5, 2), m = month_of(s + 8), y = digits(s + 12, 4);
        int64_t c = clock_of(s + 17);
        if (d < 0 || y < 0 || c < 0)
            return -1;
        return make_time(y, m, d, c);
    }
    if (n == 24 && s[3] == ' ') {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        if (!short_day(s) || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
            return -1;
        int m = month_of(s + 4);
        int d = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
        int y = digits(s + 20, 4);
        int64_t c = clock_of(s + 11);
        if (d < 0 || y < 0 || c < 0)
            return -1;
        return make_time(y, m, d, c);
    }
    /* obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
    const char *comma = memchr(s, ',', n);
    if (comma == NULL)
        return -1;
    size_t dl = (size_t)(comma - s);
    bool day_ok = false;
    for (int i = 0; i < 7 && !day_ok; i++)
        day_ok = strlen(long_days[i]) == dl && strncasecmp(s, long_days[i], dl) == 0;
    const char *p = comma + 1;
    if (!day_ok || n - dl - 1 != 23 || p[0] != ' ' || p[3] != '-' || p[7] != '-' || p[10] != ' ' ||
        p[19] != ' ' || memcmp(p + 20, "GMT", 3) != 0)
        return -1;
    int d = digits(p + 1, 2), m = month_of(p + 4), yy = digits(p + 8, 2);
    int64_t c = clock_of(p + 11);
    if (d < 0 || yy < 0 || c < 0)
        return -1;
    /* a two-digit year more than 50 years ahead is in the past century */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int cur = tm.tm_year + 1900;
    int y = cur / 100 * 100 + yy;
    if (y > cur + 50)
        y -= 100;
    else if (y < cur - 49)
        y += 100;
    return make_time(y, m, d, c);
}

/* ---- entity tags and conditionals ---------------------------------------- */

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Is tag (quoted, tl bytes) ours (quoted, ol bytes) with "-<coding>" inside the quotes: the
 * entity tag the compression modules give the compressed copy of this response?
 */
static bool coded_variant(const char *tag, size_t tl, const char *ours, size_t ol)
{
    static const char *const codings[] = {"gzip", "br", "zstd", "deflate"};
    if (ol < 2 || tl <= ol || memcmp(tag, ours, ol - 1) != 0 || tag[ol - 1] != '-')
        return false;
    for (size_t k = 0; k < sizeof(codings) / sizeof(codings[0]); k++) {
        size_t cl = strlen(codings[k]);
        if (tl == ol + cl + 1 && memcmp(tag + ol, codings[k], cl) == 0 && tag[tl - 1] == '"')
            return true;
    }
    return false;
}

bool hu_etag_list_match(const char *s, size_t n, const char *etag, size_t elen, bool weak)
{
    bool ours_weak = elen >= 2 && etag[0] == 'W' && etag[1] == '/';
    if (ours_weak && !weak)
        return false;
    const char *ours = ours_weak ? etag + 2 : etag;
    size_t ol = ours_weak ? elen - 2 : elen;
    size_t i = 0;
    for (;;) {
        while (i < n && (ows(s[i]) || s[i] == ','))
            i++;
        if (i >= n)
            return false;
        if (s[i] == '*')
            return true;
        bool w = false;
        if (n - i >= 2 && s[i] == 'W' && s[i + 1] == '/') {
            w = true;
            i += 2;
        }
        if (i >= n || s[i] != '"')
            return false;
        size_t j = i + 1;
        while (j < n && s[j] != '"')
            j++;
        if (j >= n)
            return false;
        size_t tl = j - i + 1;
        if ((weak || !w) && tl == ol && memcmp(s + i, ours, ol) == 0)
            return true;
        /* weak comparison: the compressed copy is the same resource, equivalent for caching */
        if (weak && coded_variant(s + i, tl, ours, ol))
            return true;
        i = j + 1;
        while (i < n && ows(s[i]))
            i++;
        if (i < n && s[i] != ',')
            return false;
    }
}

int hu_evaluate(const hu_cond_t *c)
{
    if (c->if_match != NULL) {
        if (!hu_etag_list_match(c->if_match, c->if_match_len, c->etag, c->etag_len, false))
            return 412;
    } else if (c->if_unmodified_since != NULL) {
        int64_t d = hu_parse_http_date(c->if_unmodified_since, c->if_unmodified_since_len);
        if (d >= 0 && c->mtime > d)
            return 412;
    }
    if (c->if_none_match != NULL) {
        if (hu_etag_list_match(c->if_none_match, c->if_none_match_len, c->etag, c->etag_len, true))
            return c->get_or_head ? 304 : 412;
    } else if (c->if_modified_since != NULL && c->get_or_head) {
        int64_t d = hu_parse_http_date(c->if_modified_since, c->if_modified_since_len);
        if (d >= 0 && c->mtime <= d)
            return 304;
    }
    return 0;
}

bool hu_if_range(const char *s, size_t n, const char *etag, size_t elen, int64_t mtime)
{
    while (n > 0 && ows(s[0]))
        s++, n--;
    while (n > 0 && ows(s[n - 1]))
        n--;
    if (n == 0)
        return false;
    if (s[0] == 'W' && n > 1 && s[1] == '/')
        return false; /* a weak tag never matches */
    if (s[0] == '"')
        return n == elen && memcmp(s, etag, n) == 0 && !(elen >= 2 && etag[0] == 'W');
    int64_t d = hu_parse_http_date(s, n);
    return d >= 0 && d == mtime;
}

/* ---- byte ranges --------------------------------------------------------- */

/* Decimal digits at s[*i..n), saturating; false when there are none. */
static bool number(const char *s, size_t n, size_t *i, uint64_t *v)
{
    size_t k = *i;
    uint64_t x = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9') {
        unsigned dgt = (unsigned)(s[k] - '0');
        x = x > (UINT64_MAX - dgt) / 10 ? UINT64_MAX : x * 10 + dgt;
        k++;
    }
    if (k == *i)
        return false;
    *i = k;
    *v = x;
    return true;
}

static int cmp_range(const void *a, const void *b)
{
    const hu_range_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

int hu_parse_range(const char *s, size_t n, uint64_t size, hu_range_t *out, unsigned *count)
{
    *count = 0;
    if (s == NULL || n < 6 || strncasecmp(s, "bytes=", 6) != 0)
        return HU_RANGE_IGNORE;
    size_t i = 6;
    unsigned elements = 0, k = 0;
    for (;;) {
        while (i < n && (ows(s[i]) || s[i] == ','))
            i++;
        if (i >= n)
            break;
        if (++elements > HU_MAX_RANGES)
            return HU_RANGE_IGNORE;
        uint64_t first, last;
        bool ok;
        if (s[i] == '-') {
            i++;
            uint64_t len;
            if (!number(s, n, &i, &len))
                return HU_RANGE_IGNORE;
            ok = len > 0 && size > 0;
            first = len >= size ? 0 : size - len;
            last = size - 1;
        } else {
            if (!number(s, n, &i, &first) || i >= n || s[i] != '-')
                return HU_RANGE_IGNORE;
            i++;
            last = UINT64_MAX;
            if (i < n && s[i] >= '0' && s[i] <= '9') {
                number(s, n, &i, &last);
                if (last < first)
                    return HU_RANGE_IGNORE;
            }
            ok = first < size;
            if (ok && last > size - 1)
                last = size - 1;
        }
        while (i < n && ows(s[i]))
            i++;
        if (i < n && s[i] != ',')
            return HU_RANGE_IGNORE;
        if (ok)
            out[k++] = (hu_range_t){first, last};
    }
    if (elements == 0)
        return HU_RANGE_IGNORE;
    if (k == 0)
        return HU_RANGE_UNSATISFIABLE;
    bool touching = false;
    for (unsigned a = 0; a < k && !touching; a++)
        for (unsigned b = a + 1; b < k && !touching; b++)
            touching = out[a].first <= out[b].last + 1 && out[b].first <= out[a].last + 1;
    if (touching) {
        qsort(out, k, sizeof(*out), cmp_range);
        unsigned m = 0;
        for (unsigned a = 1; a < k; a++) {
            if (out[a].first <= out[m].last + 1) {
                if (out[a].last > out[m].last)
                    out[m].last = out[a].last;
            } else {
                out[++m] = out[a];
            }
        }
        k = m + 1;
    }
    *count = k;
    return HU_RANGE_OK;
}

/* ---- media types --------------------------------------------------------- */

#define EXT_MAX 64

typedef struct {
    char *ext; /* lower case, with the dot; NULL: free slot */
    char *type;
    uint32_t hash;
} mime_slot_t;

struct hu_mime {
    mime_slot_t *slots;
    unsigned cap, count; /* cap: a power of two */
    const char *any;     /* ".*" */
};

static uint32_t hash_lower(const char *s, size_t n, char *lower)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        lower[i] = c;
        h = (h ^ (unsigned char)c) * 16777619u;
    }
    lower[n] = '\0';
    return h;
}

hu_mime_t *hu_mime_new(unsigned hint)
{
    hu_mime_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    unsigned cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    m->cap = cap;
    return m;
}

static mime_slot_t *find_slot(const hu_mime_t *m, const char *lower, uint32_t h)
{
    for (unsigned i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        mime_slot_t *s = &m->slots[i];
        if (s->ext == NULL || (s->hash == h && strcmp(s->ext, lower) == 0))
            return s;
    }
}

static bool grow(hu_mime_t *m)
{
    unsigned cap = m->cap * 2;
    mime_slot_t *old = m->slots, *v = calloc(cap, sizeof(*v));
    if (v == NULL)
        return false;
    unsigned oc = m->cap;
    m->slots = v;
    m->cap = cap;
    for (unsigned i = 0; i < oc; i++)
        if (old[i].ext != NULL)
            *find_slot(m, old[i].ext, old[i].hash) = old[i];
    free(old);
    return true;
}

bool hu_mime_add(hu_mime_t *m, const char *ext, const char *type)
{
    size_t n = strlen(ext);
    char lower[EXT_MAX + 2];
    if (n == 0 || n > EXT_MAX)
        return true; /* cannot match a lookup: ignored */
    if (strcmp(ext, "*") == 0)
        ext = ".*", n = 2;
    if ((m->count + 1) * 2 > m->cap && !grow(m))
        return false;
    uint32_t h = hash_lower(ext, n, lower);
    mime_slot_t *s = find_slot(m, lower, h);
    char *t = strdup(type);
    if (t == NULL)
        return false;
    if (s->ext != NULL) {
        free(s->type);
        s->type = t;
    } else {
        s->ext = strdup(lower);
        if (s->ext == NULL) {
            free(t);
            return false;
        }
        s->type = t;
        s->hash = h;
        m->count++;
    }
    if (strcmp(lower, ".*") == 0)
        m->any = s->type;
    return true;
}

const char *hu_mime_lookup(const hu_mime_t *m, const char *name, size_t n)
{
    if (m == NULL)
        return NULL;
    size_t dot = n, i = n;
    while (i > 0 && name[i - 1] != '/') {
        i--;
        if (name[i] == '.' && dot == n)
            dot = i;
    }
    const char *ext = dot < n ? name + dot : ".";
    size_t el = dot < n ? n - dot : 1;
    if (el <= EXT_MAX) {
        char lower[EXT_MAX + 1];
        uint32_t h = hash_lower(ext, el, lower);
        const mime_slot_t *s = find_slot(m, lower, h);
        if (s->ext != NULL)
            return s->type;
    }
    return m->any;
}

const char *hu_mime_any(const hu_mime_t *m)
{
    return m ? m->any : NULL;
}

unsigned hu_mime_count(const hu_mime_t *m)
{
    return m ? m->count : 0;
}

void hu_mime_free(hu_mime_t *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; i < m->cap; i++) {
        free(m->slots[i].ext);
        free(m->slots[i].type);
    }
    free(m->slots);
    free(m);
}
