#include "modules/http_logging/w3c.h"
#include <stdio.h>
#include <string.h>

const w3c_field_t w3c_fields[W3C_NCOLS] = {
    [W3C_COL_DATE] = {W3C_DATE, "date"},
    [W3C_COL_TIME] = {W3C_TIME, "time"},
    [W3C_COL_SITE_NAME] = {W3C_SITE_NAME, "s-sitename"},
    [W3C_COL_COMPUTER_NAME] = {W3C_COMPUTER_NAME, "s-computername"},
    [W3C_COL_SERVER_IP] = {W3C_SERVER_IP, "s-ip"},
    [W3C_COL_METHOD] = {W3C_METHOD, "cs-method"},
    [W3C_COL_URI_STEM] = {W3C_URI_STEM, "cs-uri-stem"},
    [W3C_COL_URI_QUERY] = {W3C_URI_QUERY, "cs-uri-query"},
    [W3C_COL_SERVER_PORT] = {W3C_SERVER_PORT, "s-port"},
    [W3C_COL_USER_NAME] = {W3C_USER_NAME, "cs-username"},
    [W3C_COL_CLIENT_IP] = {W3C_CLIENT_IP, "c-ip"},
    [W3C_COL_PROTOCOL_VERSION] = {W3C_PROTOCOL_VERSION, "cs-version"},
    [W3C_COL_USER_AGENT] = {W3C_USER_AGENT, "cs(User-Agent)"},
    [W3C_COL_COOKIE] = {W3C_COOKIE, "cs(Cookie)"},
    [W3C_COL_REFERER] = {W3C_REFERER, "cs(Referer)"},
    [W3C_COL_HOST] = {W3C_HOST, "cs-host"},
    [W3C_COL_HTTP_STATUS] = {W3C_HTTP_STATUS, "sc-status"},
    [W3C_COL_HTTP_SUB_STATUS] = {W3C_HTTP_SUB_STATUS, "sc-substatus"},
    [W3C_COL_WIN32_STATUS] = {W3C_WIN32_STATUS, "sc-win32-status"},
    [W3C_COL_BYTES_SENT] = {W3C_BYTES_SENT, "sc-bytes"},
    [W3C_COL_BYTES_RECV] = {W3C_BYTES_RECV, "cs-bytes"},
    [W3C_COL_TIME_TAKEN] = {W3C_TIME_TAKEN, "time-taken"},
};

size_t w3c_escape(const char *s, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    if (s == NULL || n == 0) {
        out[0] = '-';
        return 1;
    }
    if (n > cap)
        n = cap;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        /* eight bytes at once when none is a control character, a space or DEL */
        uint64_t x, d;
        memcpy(&x, s + i, 8);
        d = x ^ (0x7f * ones);
        if ((((x - 0x21 * ones) & ~x) | ((d - ones) & ~d)) & highs) {
            for (size_t j = i; j < i + 8; j++) {
                unsigned char c = (unsigned char)s[j];
                out[j] = (c <= ' ' || c == 0x7f) ? '+' : (char)c;
            }
            continue;
        }
        memcpy(out + i, &x, 8);
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c <= ' ' || c == 0x7f) ? '+' : (char)c;
    }
    return n;
}

size_t w3c_format_line(uint32_t flags, const w3c_str_t vals[W3C_NCOLS], char *out, size_t cap)
{
    size_t k = 0, room = cap - 2; /* CR LF always fits */
    bool first = true;
    for (int i = 0; i < W3C_NCOLS; i++) {
        if (!(flags & w3c_fields[i].flag))
            continue;
        if (!first && k < room)
            out[k++] = ' ';
        first = false;
        k += w3c_escape(vals[i].s, vals[i].n, out + k, room - k);
    }
    out[k++] = '\r';
    out[k++] = '\n';
    return k;
}

size_t w3c_fields_line(uint32_t flags, char *out, size_t cap)
{
    size_t k = 0;
    int n = snprintf(out, cap, "#Fields:");
    if (n < 0 || (size_t)n >= cap)
        return 0;
    k = (size_t)n;
    for (int i = 0; i < W3C_NCOLS; i++) {
        if (!(flags & w3c_fields[i].flag))
            continue;
        n = snprintf(out + k, cap - k, " %s", w3c_fields[i].name);
        if (n < 0 || (size_t)n >= cap - k)
            return 0;
        k += (size_t)n;
    }
    if (k + 3 > cap)
        return 0;
    memcpy(out + k, "\r\n", 3);
    return k + 2;
}

static void two(char *p, int v)
{
    p[0] = (char)('0' + (v / 10) % 10);
    p[1] = (char)('0' + v % 10);
}

void w3c_date_time(time_t t, char date[11], char clock[9])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900;
    two(date, (y / 100) % 100);
    two(date + 2, y % 100);
    date[4] = '-';
    two(date + 5, tm.tm_mon + 1);
    date[7] = '-';
    two(date + 8, tm.tm_mday);
    date[10] = '\0';
    two(clock, tm.tm_hour);
    clock[2] = ':';
    two(clock + 3, tm.tm_min);
    clock[5] = ':';
    two(clock + 6, tm.tm_sec);
    clock[8] = '\0';
}

size_t w3c_header(const char *software, uint32_t flags, time_t now, char *out, size_t cap)
{
    char date[11], clock[9];
    w3c_date_time(now, date, clock);
    int n = snprintf(out, cap, "#Software: %s\r\n#Version: 1.0\r\n#Date: %s %s\r\n", software, date, clock);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    size_t f = w3c_fields_line(flags, out + n, cap - (size_t)n);
    return f == 0 ? 0 : (size_t)n + f;
}

size_t w3c_file_name(int period, bool utf8, bool local, time_t t, unsigned seq, char *out, size_t cap)
{
    const char *pre = utf8 ? "u_" : "";
    int n;
    if (period == W3C_MAXSIZE) {
        n = snprintf(out, cap, "%sextend%u.log", pre, seq);
    } else {
        struct tm tm;
        if (local)
            localtime_r(&t, &tm);
        else
            gmtime_r(&t, &tm);
        int yy = tm.tm_year % 100, mm = tm.tm_mon + 1;
        switch (period) {
        case W3C_HOURLY:
            n = snprintf(out, cap, "%sex%02d%02d%02d%02d.log", pre, yy, mm, tm.tm_mday, tm.tm_hour);
            break;
        case W3C_WEEKLY: {
            int first_wday = ((tm.tm_wday - (tm.tm_mday - 1)) % 7 + 7) % 7; /* weekday of the 1st */
            int week = (tm.tm_mday - 1 + first_wday) / 7 + 1;
            n = snprintf(out, cap, "%sex%02d%02d%02d.log", pre, yy, mm, week);
            break;
        }
        case W3C_MONTHLY:
            n = snprintf(out, cap, "%sex%02d%02d.log", pre, yy, mm);
            break;
        default: /* Daily */
            n = snprintf(out, cap, "%sex%02d%02d%02d.log", pre, yy, mm, tm.tm_mday);
            break;
        }
    }
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

unsigned w3c_extend_seq(const char *name, bool utf8)
{
    const char *p = name;
    if (utf8) {
        if (strncmp(p, "u_", 2) != 0)
            return 0;
        p += 2;
    }
    if (strncmp(p, "extend", 6) != 0)
        return 0;
    p += 6;
    unsigned v = 0;
    const char *d = p;
    while (*p >= '0' && *p <= '9' && v < 100000000u)
        v = v * 10 + (unsigned)(*p++ - '0');
    if (p == d || strcmp(p, ".log") != 0)
        return 0;
    return v;
}
