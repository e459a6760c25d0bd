/*
 * iisd_crt.h - the "secure" C runtime functions of the Windows CRT
 * (strcpy_s, sprintf_s, _itoa_s, wcstombs_s, ...) for module sources, on
 * top of glibc. <windows.h> and <strsafe.h> include it; on Windows the same
 * functions come from <string.h>, <stdio.h> and <stdlib.h>.
 *
 * Behaviour
 *   - Types are the Windows ones: errno_t is int, wide strings are wchar_t
 *     (32-bit), long arguments of _ltoa_s/_ltow_s/_ultow_s are LONG/ULONG
 *     (32-bit, as on Windows).
 *   - On a bad argument or a destination that is too small the Windows CRT
 *     calls the invalid-parameter handler, which by default ends the
 *     process. Here the functions behave as if the handler returned: they
 *     return EINVAL or ERANGE (the printf family: -1 with errno set) and,
 *     when the destination and its size allow it, leave the destination an
 *     empty string. Nothing is ever written past the size given.
 *   - _TRUNCATE as the count of strncpy_s/strncat_s/_snprintf_s/
 *     wcstombs_s/mbstowcs_s (and their wide forms) truncates instead of
 *     failing: the destination holds as much as fits, NUL-terminated, and
 *     the result is STRUNCATE (printf family: -1).
 *   - Formats follow the Windows CRT: in the wide functions (swprintf_s,
 *     StringCchPrintfW, ...) %s and %c take wide arguments and %S/%hs/%C/%hc
 *     narrow ones; in the narrow functions %S/%ls/%ws take wide strings.
 *     %I64d/%I64u/%I64x take 64-bit integers, %Id/%Iu size_t-sized ones,
 *     and %ld/%lu/%lx take a LONG/ULONG/DWORD (32 bits, Windows' long).
 *     Formats are rewritten into glibc's form before glibc formats them,
 *     and %S/%C convert between the widths as UTF-8 whatever the locale.
 *   - Multibyte text (wcstombs_s, mbstowcs_s) is always UTF-8, whatever the
 *     locale, as MultiByteToWideChar in <windows.h>.
 *   - In C++ the array forms exist as on Windows (strcpy_s(buf, src),
 *     sprintf_s(buf, fmt, ...), _itoa_s(v, buf, radix), ...): the size is
 *     taken from the array type.
 *
 * Everything is `static inline`: a module that includes this header gains no
 * exported symbol and no undefined symbol beyond libc.
 */
#ifndef IISD_CRT_H
#define IISD_CRT_H

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "iisd_utf8.h"

#ifndef _ERRNO_T_DEFINED
#define _ERRNO_T_DEFINED
typedef int errno_t;
#endif
#ifndef __STDC_LIB_EXT1__
#ifndef _RSIZE_T_DEFINED
#define _RSIZE_T_DEFINED
typedef size_t rsize_t;
#endif
#endif

#ifndef _TRUNCATE
#define _TRUNCATE ((size_t)-1)
#endif
#ifndef STRUNCATE
#define STRUNCATE 80
#endif

/* ------------------------------------------------------------------------ */
/* Windows printf formats -> glibc formats                                  */
/* ------------------------------------------------------------------------ */

/*
 * IISD_CRT_FMT_TRANSLATOR(NAME, CH, WIDE) defines
 *   static inline CH *NAME(const CH *fmt, CH *buf, size_t cap, int *pCross)
 * which returns fmt rewritten for glibc, in buf if it fits (cap units) or
 * else in memory from malloc (the caller frees a result that is not buf),
 * NULL if out of memory. *pCross becomes 1 when a conversion takes a string
 * or character of the other width.
 */
#define IISD_CRT_FMT_TRANSLATOR(NAME, CH, WIDE)                                                              \
    static inline CH *NAME(const CH *fmt, CH *buf, size_t cap, int *pCross)                                  \
    {                                                                                                        \
        size_t n = 0, i = 0, len = 0, need;                                                                  \
        CH *out;                                                                                             \
        *pCross = 0;                                                                                         \
        while (fmt[len] != 0) {                                                                              \
            len++;                                                                                           \
        }                                                                                                    \
        /* each conversion grows by at most one unit ("%s" -> "%ls", "%I" -> "%z") */                        \
        need = len * 2 + 1;                                                                                  \
        out = need <= cap ? buf : (CH *)malloc(need * sizeof(CH));                                           \
        if (out == NULL) {                                                                                   \
            return NULL;                                                                                     \
        }                                                                                                    \
        while (i < len) {                                                                                    \
            int size = 0; /* 0 none, 'h', 'l' (wide), 'L' (64-bit), 'z' (pointer-sized), 'o' other */        \
            CH other[3] = {0, 0, 0};                                                                         \
            CH type;                                                                                         \
            if (fmt[i] != '%') {                                                                             \
                out[n++] = fmt[i++];                                                                         \
                continue;                                                                                    \
            }                                                                                                \
            out[n++] = fmt[i++];                                                                             \
            if (fmt[i] == '%') {                                                                             \
                out[n++] = fmt[i++];                                                                         \
                continue;                                                                                    \
            }                                                                                                \
            while (fmt[i] == '-' || fmt[i] == '+' || fmt[i] == ' ' || fmt[i] == '#' || fmt[i] == '0' ||      \
                   fmt[i] == '\'') {                                                                         \
                out[n++] = fmt[i++];                                                                         \
            }                                                                                                \
            while ((fmt[i] >= '0' && fmt[i] <= '9') || fmt[i] == '*') {                                      \
                out[n++] = fmt[i++];                                                                         \
            }                                                                                                \
            if (fmt[i] == '.') {                                                                             \
                out[n++] = fmt[i++];                                                                         \
                while ((fmt[i] >= '0' && fmt[i] <= '9') || fmt[i] == '*') {                                  \
                    out[n++] = fmt[i++];                                                                     \
                }                                                                                            \
            }                                                                                                \
            if (fmt[i] == 'I' && fmt[i + 1] == '6' && fmt[i + 2] == '4') {                                   \
                size = 'L';                                                                                  \
                i += 3;                                                                                      \
            } else if (fmt[i] == 'I' && fmt[i + 1] == '3' && fmt[i + 2] == '2') {                            \
                size = 'o';                                                                                  \
                i += 3;                                                                                      \
            } else if (fmt[i] == 'I') {                                                                      \
                size = 'z';                                                                                  \
                i++;                                                                                         \
            } else if (fmt[i] == 'l' && fmt[i + 1] == 'l') {                                                 \
                size = 'L';                                                                                  \
                i += 2;                                                                                      \
            } else if (fmt[i] == 'h' && fmt[i + 1] == 'h') {                                                 \
                size = 'o';                                                                                  \
                other[0] = 'h';                                                                              \
                other[1] = 'h';                                                                              \
                i += 2;                                                                                      \
            } else if (fmt[i] == 'l' || fmt[i] == 'w') {                                                     \
                size = 'l';                                                                                  \
                i++;                                                                                         \
            } else if (fmt[i] == 'h') {                                                                      \
                size = 'h';                                                                                  \
                i++;                                                                                         \
            } else if (fmt[i] == 'L' || fmt[i] == 'j' || fmt[i] == 'z' || fmt[i] == 't' || fmt[i] == 'q') {  \
                size = 'o';                                                                                  \
                other[0] = fmt[i++];                                                                         \
            }                                                                                                \
            type = fmt[i];                                                                                   \
            if (type == 0) {                                                                                 \
                break;                                                                                       \
            }                                                                                                \
            i++;                                                                                             \
            if (type == 's' || type == 'c' || type == 'S' || type == 'C') {                                  \
                int lower = type == 's' || type == 'c';                                                      \
                int wide_arg;                                                                                \
                if (size == 'h') {                                                                           \
                    wide_arg = 0;                                                                            \
                } else if (size == 'l') {                                                                    \
                    wide_arg = 1;                                                                            \
                } else {                                                                                     \
                    wide_arg = (WIDE) ? lower : !lower;                                                      \
                }                                                                                            \
                if (wide_arg) {                                                                              \
                    out[n++] = 'l';                                                                          \
                }                                                                                            \
                if (wide_arg != (WIDE)) {                                                                    \
                    *pCross = 1;                                                                             \
                }                                                                                            \
                out[n++] = (CH)(type == 's' || type == 'S' ? 's' : 'c');                                     \
                continue;                                                                                    \
            }                                                                                                \
            if (type == 'd' || type == 'i' || type == 'o' || type == 'u' || type == 'x' || type == 'X') {    \
                /* Windows' long is 32 bits: %ld is an int here */                                           \
                if (size == 'L') {                                                                           \
                    out[n++] = 'l';                                                                          \
                    out[n++] = 'l';                                                                          \
                } else if (size == 'z') {                                                                    \
                    out[n++] = 'z';                                                                          \
                } else if (size == 'h') {                                                                    \
                    out[n++] = 'h';                                                                          \
                } else if (size == 'o') {                                                                    \
                    for (int k = 0; other[k] != 0; k++) {                                                    \
                        out[n++] = other[k];                                                                 \
                    }                                                                                        \
                }                                                                                            \
            } else if (size == 'o' || size == 'h' || size == 'l') {                                          \
                for (int k = 0; other[k] != 0; k++) {                                                        \
                    out[n++] = other[k];                                                                     \
                }                                                                                            \
                if (size == 'h' || (size == 'l' && type != 'p')) {                                           \
                    out[n++] = (CH)size;                                                                     \
                }                                                                                            \
            } else if (size == 'L' && type != 'p') {                                                         \
                out[n++] = 'l';                                                                              \
                out[n++] = 'l';                                                                              \
            }                                                                                                \
            out[n++] = type;                                                                                 \
        }                                                                                                    \
        out[n] = 0;                                                                                          \
        return out;                                                                                          \
    }

IISD_CRT_FMT_TRANSLATOR(IisdCrtFormatA, char, 0)
IISD_CRT_FMT_TRANSLATOR(IisdCrtFormatW, wchar_t, 1)

/*
 * A locale for formats that convert between the widths: C with UTF-8
 * characters, so that %S and %C convert as UTF-8 whatever the process
 * locale. Made for the call and freed after it (a module keeps no locale
 * object); NULL if the C library has no C.UTF-8 (the process locale is used
 * then).
 */
static inline locale_t IisdCrtEnterUtf8(int cross, locale_t *pPrev)
{
    locale_t loc = cross ? newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0) : (locale_t)0;
    *pPrev = loc != (locale_t)0 ? uselocale(loc) : (locale_t)0;
    return loc;
}
static inline void IisdCrtLeaveUtf8(locale_t loc, locale_t prev)
{
    if (loc != (locale_t)0) {
        uselocale(prev);
        freelocale(loc);
    }
}

/*
 * Formats into dst (cch units, cch > 0) with Windows format semantics.
 * Returns 0 when everything fit, 1 when the text was truncated (dst holds
 * the first cch-1 units), -1 on an error (bad format or out of memory; dst
 * is then empty). *pLen receives the length written (without the NUL).
 */
static inline int IisdCrtVFormatA(char *dst, size_t cch, const char *fmt, va_list ap, size_t *pLen)
{
    char local[256];
    int cross;
    char *f = IisdCrtFormatA(fmt, local, sizeof(local), &cross);
    locale_t loc, prev;
    int r, res;
    if (f == NULL) {
        dst[0] = 0;
        *pLen = 0;
        return -1;
    }
    loc = IisdCrtEnterUtf8(cross, &prev);
    r = vsnprintf(dst, cch > INT_MAX ? (size_t)INT_MAX : cch, f, ap);
    IisdCrtLeaveUtf8(loc, prev);
    if (f != local) {
        free(f);
    }
    if (r < 0) {
        dst[0] = 0;
        *pLen = 0;
        return -1;
    }
    res = (size_t)r >= cch ? 1 : 0;
    *pLen = res ? cch - 1 : (size_t)r;
    return res;
}

static inline int IisdCrtVFormatW(wchar_t *dst, size_t cch, const wchar_t *fmt, va_list ap, size_t *pLen)
{
    wchar_t local[256];
    int cross;
    wchar_t *f = IisdCrtFormatW(fmt, local, sizeof(local) / sizeof(local[0]), &cross);
    wchar_t *big = NULL;
    int r, res = -1;
    va_list aq;
    locale_t loc, prev;
    if (f == NULL) {
        dst[0] = 0;
        *pLen = 0;
        return -1;
    }
    loc = IisdCrtEnterUtf8(cross, &prev);
    va_copy(aq, ap);
    r = vswprintf(dst, cch, f, aq);
    va_end(aq);
    if (r >= 0) {
        *pLen = (size_t)r;
        res = 0;
    } else {
        /*
         * vswprintf gives -1 both when the text does not fit and on an
         * encoding error: format into larger buffers to tell them apart.
         */
        size_t cap = cch < 128 ? 256 : cch * 2;
        for (; cap <= ((size_t)1 << 26); cap *= 2) {
            wchar_t *nb = (wchar_t *)realloc(big, cap * sizeof(wchar_t));
            if (nb == NULL) {
                break;
            }
            big = nb;
            va_copy(aq, ap);
            r = vswprintf(big, cap, f, aq);
            va_end(aq);
            if (r >= 0) {
                break;
            }
        }
        if (r >= 0 && big != NULL) {
            size_t keep = (size_t)r < cch ? (size_t)r : cch - 1;
            memcpy(dst, big, keep * sizeof(wchar_t));
            dst[keep] = 0;
            *pLen = keep;
            res = (size_t)r < cch ? 0 : 1;
        } else {
            dst[0] = 0;
            *pLen = 0;
        }
        free(big);
    }
    IisdCrtLeaveUtf8(loc, prev);
    if (f != local) {
        free(f);
    }
    return res;
}

/* ------------------------------------------------------------------------ */
/* String copy and concatenation                                            */
/* ------------------------------------------------------------------------ */

/*
 * IISD_CRT_STRING_FUNCS(CH, CPY, NCPY, CAT, NCAT, LEN) defines the four
 * functions for one character type.
 */
#define IISD_CRT_STRING_FUNCS(CH, CPY, NCPY, CAT, NCAT)                                                      \
    static inline errno_t NCPY(CH *dst, size_t size, const CH *src, size_t count)                            \
    {                                                                                                        \
        size_t i;                                                                                            \
        if (dst == NULL || size == 0) {                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        if (src == NULL) {                                                                                   \
            dst[0] = 0;                                                                                      \
            if (count == 0) {                                                                                \
                return 0;                                                                                    \
            }                                                                                                \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        for (i = 0; i < count && src[i] != 0; i++) {                                                         \
            if (i + 1 >= size) {                                                                             \
                if (count == _TRUNCATE) {                                                                    \
                    dst[i] = 0;                                                                              \
                    return STRUNCATE;                                                                        \
                }                                                                                            \
                dst[0] = 0;                                                                                  \
                errno = ERANGE;                                                                              \
                return ERANGE;                                                                               \
            }                                                                                                \
            dst[i] = src[i];                                                                                 \
        }                                                                                                    \
        dst[i] = 0;                                                                                          \
        return 0;                                                                                            \
    }                                                                                                        \
    static inline errno_t CPY(CH *dst, size_t size, const CH *src)                                           \
    {                                                                                                        \
        errno_t e = NCPY(dst, size, src, (size_t)-2);                                                        \
        if (e == 0 && src == NULL) {                                                                         \
            e = EINVAL;                                                                                      \
        }                                                                                                    \
        return e;                                                                                            \
    }                                                                                                        \
    static inline errno_t NCAT(CH *dst, size_t size, const CH *src, size_t count)                            \
    {                                                                                                        \
        size_t used = 0;                                                                                     \
        errno_t e;                                                                                           \
        if (dst == NULL || size == 0) {                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        while (used < size && dst[used] != 0) {                                                              \
            used++;                                                                                          \
        }                                                                                                    \
        if (used == size) { /* not terminated within its size */                                             \
            dst[0] = 0;                                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        if (src == NULL) {                                                                                   \
            if (count == 0) {                                                                                \
                return 0;                                                                                    \
            }                                                                                                \
            dst[0] = 0;                                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        e = NCPY(dst + used, size - used, src, count);                                                       \
        if (e == ERANGE) {                                                                                   \
            dst[0] = 0;                                                                                      \
        }                                                                                                    \
        return e;                                                                                            \
    }                                                                                                        \
    static inline errno_t CAT(CH *dst, size_t size, const CH *src)                                           \
    {                                                                                                        \
        if (src == NULL) {                                                                                   \
            if (dst != NULL && size != 0) {                                                                  \
                dst[0] = 0;                                                                                  \
            }                                                                                                \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        return NCAT(dst, size, src, (size_t)-2);                                                             \
    }

IISD_CRT_STRING_FUNCS(char, strcpy_s, strncpy_s, strcat_s, strncat_s)
IISD_CRT_STRING_FUNCS(wchar_t, wcscpy_s, wcsncpy_s, wcscat_s, wcsncat_s)

/* C11 Annex K: length of s, at most max (0 for NULL). */
static inline size_t strnlen_s(const char *s, size_t max)
{
    return s == NULL ? 0 : strnlen(s, max);
}
static inline size_t wcsnlen_s(const wchar_t *s, size_t max)
{
    return s == NULL ? 0 : wcsnlen(s, max);
}

static inline char *_strdup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}
static inline wchar_t *_wcsdup(const wchar_t *s)
{
    size_t n;
    wchar_t *d;
    if (s == NULL) {
        return NULL;
    }
    n = wcslen(s) + 1;
    d = (wchar_t *)malloc(n * sizeof(wchar_t));
    if (d != NULL) {
        memcpy(d, s, n * sizeof(wchar_t));
    }
    return d;
}

static inline char *strtok_s(char *str, const char *delim, char **context)
{
    return strtok_r(str, delim, context);
}
static inline wchar_t *wcstok_s(wchar_t *str, const wchar_t *delim, wchar_t **context)
{
    return wcstok(str, delim, context);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* On failure the destination is zeroed (unless it is NULL). */
static inline errno_t memcpy_s(void *dst, size_t size, const void *src, size_t count)
{
    if (count == 0) {
        return 0;
    }
    if (dst == NULL) {
        errno = EINVAL;
        return EINVAL;
    }
    if (src == NULL || size < count) {
        memset(dst, 0, size);
        errno = src == NULL ? EINVAL : ERANGE;
        return src == NULL ? EINVAL : ERANGE;
    }
    memcpy(dst, src, count);
    return 0;
}
/* On failure the destination is left alone. */
static inline errno_t memmove_s(void *dst, size_t size, const void *src, size_t count)
{
    if (count == 0) {
        return 0;
    }
    if (dst == NULL || src == NULL) {
        errno = EINVAL;
        return EINVAL;
    }
    if (size < count) {
        errno = ERANGE;
        return ERANGE;
    }
    memmove(dst, src, count);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* printf family                                                            */
/* ------------------------------------------------------------------------ */

/*
 * vsprintf_s: the whole text must fit; returns its length, or -1 with the
 * buffer emptied (errno ERANGE if too small, EINVAL on bad arguments).
 */
static inline int vsprintf_s(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t len;
    int r;
    if (buf == NULL || size == 0 || fmt == NULL) {
        if (buf != NULL && size != 0) {
            buf[0] = 0;
        }
        errno = EINVAL;
        return -1;
    }
    r = IisdCrtVFormatA(buf, size, fmt, ap, &len);
    if (r != 0) {
        buf[0] = 0;
        errno = r > 0 ? ERANGE : EINVAL;
        return -1;
    }
    return (int)len;
}
static inline int vswprintf_s(wchar_t *buf, size_t size, const wchar_t *fmt, va_list ap)
{
    size_t len;
    int r;
    if (buf == NULL || size == 0 || fmt == NULL) {
        if (buf != NULL && size != 0) {
            buf[0] = 0;
        }
        errno = EINVAL;
        return -1;
    }
    r = IisdCrtVFormatW(buf, size, fmt, ap, &len);
    if (r != 0) {
        buf[0] = 0;
        errno = r > 0 ? ERANGE : EINVAL;
        return -1;
    }
    return (int)len;
}

/*
 * _vsnprintf_s: at most count characters (or as many as fit with
 * _TRUNCATE). Returns the length written, or -1 when the text was cut at
 * count or truncated by _TRUNCATE (the buffer holds the cut text), or -1
 * with the buffer emptied when count characters do not fit in size.
 */
#define IISD_CRT_VSNPRINTF(NAME, CH, FORMAT)                                                                 \
    static inline int NAME(CH *buf, size_t size, size_t count, const CH *fmt, va_list ap)                    \
    {                                                                                                        \
        size_t len, limit;                                                                                   \
        int r;                                                                                               \
        if (buf == NULL || size == 0 || fmt == NULL) {                                                       \
            if (buf != NULL && size != 0) {                                                                  \
                buf[0] = 0;                                                                                  \
            }                                                                                                \
            errno = EINVAL;                                                                                  \
            return -1;                                                                                       \
        }                                                                                                    \
        if (count == _TRUNCATE || count >= size) {                                                           \
            limit = size;                                                                                    \
        } else {                                                                                             \
            limit = count + 1;                                                                               \
        }                                                                                                    \
        r = FORMAT(buf, limit, fmt, ap, &len);                                                               \
        if (r < 0) {                                                                                         \
            buf[0] = 0;                                                                                      \
            errno = EINVAL;                                                                                  \
            return -1;                                                                                       \
        }                                                                                                    \
        if (r == 0) {                                                                                        \
            return (int)len;                                                                                 \
        }                                                                                                    \
        if (count == _TRUNCATE || count < size) {                                                            \
            return -1; /* cut at count (or at size with _TRUNCATE): the cut text stays */                    \
        }                                                                                                    \
        buf[0] = 0;                                                                                          \
        errno = ERANGE;                                                                                      \
        return -1;                                                                                           \
    }
IISD_CRT_VSNPRINTF(_vsnprintf_s, char, IisdCrtVFormatA)
IISD_CRT_VSNPRINTF(_vsnwprintf_s, wchar_t, IisdCrtVFormatW)

static inline int sprintf_s(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = vsprintf_s(buf, size, fmt, ap);
    va_end(ap);
    return r;
}
static inline int swprintf_s(wchar_t *buf, size_t size, const wchar_t *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = vswprintf_s(buf, size, fmt, ap);
    va_end(ap);
    return r;
}
static inline int _snprintf_s(char *buf, size_t size, size_t count, const char *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = _vsnprintf_s(buf, size, count, fmt, ap);
    va_end(ap);
    return r;
}
static inline int _snwprintf_s(wchar_t *buf, size_t size, size_t count, const wchar_t *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = _vsnwprintf_s(buf, size, count, fmt, ap);
    va_end(ap);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Integer to text                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Digits of v in radix 2..36 (lower-case letters), with a '-' when neg.
 * Errors: EINVAL (NULL buffer, size 0, bad radix; the buffer is emptied
 * when it can be), ERANGE (too small; emptied).
 */
#define IISD_CRT_XTOA(NAME, CH)                                                                              \
    static inline errno_t NAME(uint64_t v, int neg, CH *buf, size_t size, int radix)                         \
    {                                                                                                        \
        CH tmp[66];                                                                                          \
        size_t n = 0, i;                                                                                     \
        if (buf == NULL || size == 0) {                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        if (radix < 2 || radix > 36) {                                                                       \
            buf[0] = 0;                                                                                      \
            errno = EINVAL;                                                                                  \
            return EINVAL;                                                                                   \
        }                                                                                                    \
        do {                                                                                                 \
            unsigned d = (unsigned)(v % (unsigned)radix);                                                    \
            tmp[n++] = (CH)(d < 10 ? '0' + d : 'a' + d - 10);                                                \
            v /= (unsigned)radix;                                                                            \
        } while (v != 0);                                                                                    \
        if (neg) {                                                                                           \
            tmp[n++] = '-';                                                                                  \
        }                                                                                                    \
        if (n + 1 > size) {                                                                                  \
            buf[0] = 0;                                                                                      \
            errno = ERANGE;                                                                                  \
            return ERANGE;                                                                                   \
        }                                                                                                    \
        for (i = 0; i < n; i++) {                                                                            \
            buf[i] = tmp[n - 1 - i];                                                                         \
        }                                                                                                    \
        buf[n] = 0;                                                                                          \
        return 0;                                                                                            \
    }
IISD_CRT_XTOA(IisdCrtXtoA, char)
IISD_CRT_XTOA(IisdCrtXtoW, wchar_t)

/*
 * Signed conversions print a '-' only in radix 10; in other radixes the
 * value is taken as unsigned of its width (as on Windows).
 */
#define IISD_CRT_SIGNED_XTOA(NAME, T, UT, CH, IMPL)                                                          \
    static inline errno_t NAME(T value, CH *buf, size_t size, int radix)                                     \
    {                                                                                                        \
        int neg = radix == 10 && value < 0;                                                                  \
        uint64_t mag = neg ? (uint64_t)0 - (uint64_t)(int64_t)value : (uint64_t)(UT)value;                   \
        return IMPL(mag, neg, buf, size, radix);                                                             \
    }
#define IISD_CRT_UNSIGNED_XTOA(NAME, T, CH, IMPL)                                                            \
    static inline errno_t NAME(T value, CH *buf, size_t size, int radix)                                     \
    {                                                                                                        \
        return IMPL((uint64_t)value, 0, buf, size, radix);                                                   \
    }
IISD_CRT_SIGNED_XTOA(_itoa_s, int, unsigned, char, IisdCrtXtoA)
IISD_CRT_SIGNED_XTOA(_ltoa_s, int32_t, uint32_t, char, IisdCrtXtoA)
IISD_CRT_UNSIGNED_XTOA(_ultoa_s, uint32_t, char, IisdCrtXtoA)
IISD_CRT_SIGNED_XTOA(_i64toa_s, int64_t, uint64_t, char, IisdCrtXtoA)
IISD_CRT_UNSIGNED_XTOA(_ui64toa_s, uint64_t, char, IisdCrtXtoA)
IISD_CRT_SIGNED_XTOA(_itow_s, int, unsigned, wchar_t, IisdCrtXtoW)
IISD_CRT_SIGNED_XTOA(_ltow_s, int32_t, uint32_t, wchar_t, IisdCrtXtoW)
IISD_CRT_UNSIGNED_XTOA(_ultow_s, uint32_t, wchar_t, IisdCrtXtoW)
IISD_CRT_SIGNED_XTOA(_i64tow_s, int64_t, uint64_t, wchar_t, IisdCrtXtoW)
IISD_CRT_UNSIGNED_XTOA(_ui64tow_s, uint64_t, wchar_t, IisdCrtXtoW)

/* ------------------------------------------------------------------------ */
/* Wide <-> multibyte (UTF-8)                                               */
/* ------------------------------------------------------------------------ */

/* UTF-8 length of one code point (invalid ones are written as U+FFFD). */
static inline size_t IisdCrtUtf8Len(uint32_t c)
{
    if (c >= 0xD800 && c <= 0xDFFF) {
        return 3;
    }
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : c <= 0x10FFFF ? 4 : 3;
}

/*
 * wcstombs_s: converts src to UTF-8, storing at most count bytes (plus the
 * NUL) in dst. *pReturnValue (may be NULL) receives the bytes written
 * including the NUL; with dst NULL and size 0 it receives the size needed.
 * A character is never split. Errors: EINVAL (bad arguments; dst emptied),
 * ERANGE (does not fit and count is not _TRUNCATE; dst emptied). With
 * _TRUNCATE, as much as fits is stored and the result is STRUNCATE.
 */
static inline errno_t wcstombs_s(size_t *pReturnValue, char *dst, size_t size, const wchar_t *src,
                                 size_t count)
{
    size_t n = 0, i;
    char u[4];
    if (pReturnValue != NULL) {
        *pReturnValue = 0;
    }
    if ((dst == NULL && size != 0) || (dst != NULL && size == 0) || src == NULL) {
        if (dst != NULL && size != 0) {
            dst[0] = 0;
        }
        errno = EINVAL;
        return EINVAL;
    }
    if (dst == NULL) {
        for (i = 0; src[i] != 0; i++) {
            n += IisdCrtUtf8Len((uint32_t)src[i]);
        }
        if (pReturnValue != NULL) {
            *pReturnValue = n + 1;
        }
        return 0;
    }
    for (i = 0; src[i] != 0; i++) {
        size_t k = IisdCrtUtf8Len((uint32_t)src[i]);
        if (count != _TRUNCATE && n + k > count) {
            break;
        }
        if (n + k + 1 > size) {
            if (count == _TRUNCATE) {
                dst[n] = 0;
                if (pReturnValue != NULL) {
                    *pReturnValue = n + 1;
                }
                return STRUNCATE;
            }
            dst[0] = 0;
            errno = ERANGE;
            return ERANGE;
        }
        (size_t) IisdUtf8Encode((uint32_t)src[i], u);
        memcpy(dst + n, u, k);
        n += k;
    }
    dst[n] = 0;
    if (pReturnValue != NULL) {
        *pReturnValue = n + 1;
    }
    return 0;
}

/*
 * mbstowcs_s: converts UTF-8 src, storing at most count wide characters
 * (plus the NUL) in dst; *pReturnValue as for wcstombs_s, in characters.
 * Invalid UTF-8 is EILSEQ (dst emptied).
 */
static inline errno_t mbstowcs_s(size_t *pReturnValue, wchar_t *dst, size_t size, const char *src,
                                 size_t count)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t n = 0, i = 0, len;
    if (pReturnValue != NULL) {
        *pReturnValue = 0;
    }
    if ((dst == NULL && size != 0) || (dst != NULL && size == 0) || src == NULL) {
        if (dst != NULL && size != 0) {
            dst[0] = 0;
        }
        errno = EINVAL;
        return EINVAL;
    }
    len = strlen(src);
    while (i < len) {
        uint32_t cp;
        size_t k = (size_t)IisdUtf8Decode(s + i, len - i, &cp);
        if (k == 0) {
            if (dst != NULL) {
                dst[0] = 0;
            }
            errno = EILSEQ;
            return EILSEQ;
        }
        if (dst != NULL) {
            if (count != _TRUNCATE && n >= count) {
                break;
            }
            if (n + 2 > size) {
                if (count == _TRUNCATE) {
                    dst[n] = 0;
                    if (pReturnValue != NULL) {
                        *pReturnValue = n + 1;
                    }
                    return STRUNCATE;
                }
                dst[0] = 0;
                errno = ERANGE;
                return ERANGE;
            }
            dst[n] = (wchar_t)cp;
        }
        n++;
        i += k;
    }
    if (dst != NULL) {
        dst[n] = 0;
    }
    if (pReturnValue != NULL) {
        *pReturnValue = n + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* C++: the array forms                                                     */
/* ------------------------------------------------------------------------ */

#ifdef __cplusplus
template <size_t N> static inline errno_t strcpy_s(char (&dst)[N], const char *src)
{
    return strcpy_s(dst, N, src);
}
template <size_t N> static inline errno_t wcscpy_s(wchar_t (&dst)[N], const wchar_t *src)
{
    return wcscpy_s(dst, N, src);
}
template <size_t N> static inline errno_t strcat_s(char (&dst)[N], const char *src)
{
    return strcat_s(dst, N, src);
}
template <size_t N> static inline errno_t wcscat_s(wchar_t (&dst)[N], const wchar_t *src)
{
    return wcscat_s(dst, N, src);
}
template <size_t N> static inline errno_t strncpy_s(char (&dst)[N], const char *src, size_t count)
{
    return strncpy_s(dst, N, src, count);
}
template <size_t N> static inline errno_t wcsncpy_s(wchar_t (&dst)[N], const wchar_t *src, size_t count)
{
    return wcsncpy_s(dst, N, src, count);
}
template <size_t N> static inline errno_t strncat_s(char (&dst)[N], const char *src, size_t count)
{
    return strncat_s(dst, N, src, count);
}
template <size_t N> static inline errno_t wcsncat_s(wchar_t (&dst)[N], const wchar_t *src, size_t count)
{
    return wcsncat_s(dst, N, src, count);
}
template <size_t N> static inline int sprintf_s(char (&buf)[N], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsprintf_s(buf, N, fmt, ap);
    va_end(ap);
    return r;
}
template <size_t N> static inline int swprintf_s(wchar_t (&buf)[N], const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vswprintf_s(buf, N, fmt, ap);
    va_end(ap);
    return r;
}
template <size_t N> static inline int _snprintf_s(char (&buf)[N], size_t count, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = _vsnprintf_s(buf, N, count, fmt, ap);
    va_end(ap);
    return r;
}
template <size_t N> static inline int _snwprintf_s(wchar_t (&buf)[N], size_t count, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = _vsnwprintf_s(buf, N, count, fmt, ap);
    va_end(ap);
    return r;
}
template <size_t N> static inline int vsprintf_s(char (&buf)[N], const char *fmt, va_list ap)
{
    return vsprintf_s(buf, N, fmt, ap);
}
template <size_t N> static inline int vswprintf_s(wchar_t (&buf)[N], const wchar_t *fmt, va_list ap)
{
    return vswprintf_s(buf, N, fmt, ap);
}
#define IISD_CRT_XTOA_ARRAY(NAME, T, CH)                                                                     \
    template <size_t N> static inline errno_t NAME(T value, CH(&buf)[N], int radix)                          \
    {                                                                                                        \
        return NAME(value, buf, N, radix);                                                                   \
    }
IISD_CRT_XTOA_ARRAY(_itoa_s, int, char)
IISD_CRT_XTOA_ARRAY(_ltoa_s, int32_t, char)
IISD_CRT_XTOA_ARRAY(_ultoa_s, uint32_t, char)
IISD_CRT_XTOA_ARRAY(_i64toa_s, int64_t, char)
IISD_CRT_XTOA_ARRAY(_ui64toa_s, uint64_t, char)
IISD_CRT_XTOA_ARRAY(_itow_s, int, wchar_t)
IISD_CRT_XTOA_ARRAY(_ltow_s, int32_t, wchar_t)
IISD_CRT_XTOA_ARRAY(_ultow_s, uint32_t, wchar_t)
IISD_CRT_XTOA_ARRAY(_i64tow_s, int64_t, wchar_t)
IISD_CRT_XTOA_ARRAY(_ui64tow_s, uint64_t, wchar_t)
template <size_t N>
static inline errno_t wcstombs_s(size_t *pReturnValue, char (&dst)[N], const wchar_t *src, size_t count)
{
    return wcstombs_s(pReturnValue, dst, N, src, count);
}
template <size_t N>
static inline errno_t mbstowcs_s(size_t *pReturnValue, wchar_t (&dst)[N], const char *src, size_t count)
{
    return mbstowcs_s(pReturnValue, dst, N, src, count);
}
#endif /* __cplusplus */

#endif /* IISD_CRT_H */
