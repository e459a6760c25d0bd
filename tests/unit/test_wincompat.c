/*
 * The Windows compatibility helpers module sources use (include/strsafe.h,
 * include/iisd_crt.h, include/iisd_winbase.h through <windows.h>): the
 * documented results, truncation, NULL and zero sizes, overflow. Also the
 * server end of the Event Log API (src/pipeline/eventlog.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <windows.h>
#include <strsafe.h>
#include <httpserv.h>
#include "core/log.h"
#include "pipeline/module.h"

void iisd_host_report_event(const void *module_address, const char *source, unsigned type, unsigned category,
                            unsigned event_id, const char *text);

/* ---- strsafe ------------------------------------------------------------ */

static void test_strsafe_copy(void **state)
{
    char a[6];
    wchar_t w[6];
    assert_int_equal(StringCchCopyA(a, sizeof(a), "hello"), S_OK);
    assert_string_equal(a, "hello");
    assert_int_equal(StringCchCopyA(a, sizeof(a), "hello!"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "hello"); /* truncated, terminated */
    assert_int_equal(StringCchCopyW(w, 6, L"abcdefgh"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wcscmp(w, L"abcde") == 0);
    assert_int_equal(StringCchCopyW(w, 6, L""), S_OK);
    assert_true(w[0] == 0);
    memset(a, 'x', sizeof(a));
    assert_int_equal(StringCchCopyA(a, 0, "x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(a[0], 'x'); /* size 0: nothing written */
    assert_int_equal(StringCchCopyA(NULL, 5, "x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchCopyA(a, (size_t)STRSAFE_MAX_CCH + 1, "x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(a[0], 0);
    a[0] = 'x';
    assert_int_equal(StringCchCopyA(a, sizeof(a), NULL), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(a[0], 0);
    assert_int_equal(StringCchCopyNA(a, sizeof(a), "abcdef", 3), S_OK);
    assert_string_equal(a, "abc");
    assert_int_equal(StringCchCopyNA(a, 3, "abcdef", 3), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "ab");
    assert_int_equal(StringCbCopyW(w, sizeof(w), L"abcde"), S_OK);
    assert_int_equal(StringCbCopyW(w, sizeof(w) - 1, L"abcde"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wcscmp(w, L"abcd") == 0); /* 23 bytes = 5 WCHARs */
    assert_int_equal(StringCbCopyA(a, 1, "x"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_int_equal(a[0], 0);
}

static void test_strsafe_cat(void **state)
{
    char a[8] = "abc";
    wchar_t w[5] = L"ab";
    assert_int_equal(StringCchCatA(a, sizeof(a), "de"), S_OK);
    assert_string_equal(a, "abcde");
    assert_int_equal(StringCchCatA(a, sizeof(a), "fghij"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "abcdefg");
    assert_int_equal(StringCchCatA(a, sizeof(a), "z"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "abcdefg");
    assert_int_equal(StringCchCatA(a, sizeof(a), ""), S_OK);
    assert_int_equal(StringCchCatW(w, 5, L"cdef"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wcscmp(w, L"abcd") == 0);
    /* destination not terminated within its size: refused, left alone */
    memset(a, 'q', sizeof(a));
    assert_int_equal(StringCchCatA(a, sizeof(a), "x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(a[0], 'q');
    assert_int_equal(StringCchCatA(a, 0, "x"), STRSAFE_E_INVALID_PARAMETER);
    strcpy(a, "ab");
    assert_int_equal(StringCchCatNA(a, sizeof(a), "cdef", 2), S_OK);
    assert_string_equal(a, "abcd");
    assert_int_equal(StringCbCatA(a, sizeof(a), "XYZW"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "abcdXYZ");
    assert_int_equal(StringCchCatA(a, sizeof(a), NULL), STRSAFE_E_INVALID_PARAMETER);
}

static void test_strsafe_printf(void **state)
{
    char a[8];
    wchar_t w[16];
    assert_int_equal(StringCchPrintfA(a, sizeof(a), "%d-%s", 42, "ab"), S_OK);
    assert_string_equal(a, "42-ab");
    assert_int_equal(StringCchPrintfA(a, sizeof(a), "%s", "0123456789"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "0123456");
    /* Windows semantics in the wide form: %s is a wide string, %S/%hs a narrow one */
    assert_int_equal(StringCchPrintfW(w, 16, L"%s|%S|%hs|%c", L"wide", "nar", "h", L'z'), S_OK);
    assert_true(wcscmp(w, L"wide|nar|h|z") == 0);
    assert_int_equal(StringCchPrintfW(w, 6, L"%s", L"truncated"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wcscmp(w, L"trunc") == 0);
    {
        wchar_t big[32];
        /* %I64u is 64-bit; %lu and %ld are Windows' 32-bit long (DWORD, LONG) */
        assert_int_equal(StringCchPrintfW(big, 32, L"%I64u %lu %ld", (ULONGLONG)5000000000ull,
                                          (DWORD)4000000000u, (LONG)-7),
                         S_OK);
        assert_true(wcscmp(big, L"5000000000 4000000000 -7") == 0);
    }
    assert_int_equal(StringCchPrintfA(a, 0, "x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchPrintfA(a, sizeof(a), NULL), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(a[0], 0);
    assert_int_equal(StringCbPrintfW(w, 3 * sizeof(wchar_t), L"%d", 12345), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_true(wcscmp(w, L"12") == 0);
    /* a long format (beyond the header's stack buffer) */
    {
        char fmt[1200], out[1300];
        memset(fmt, 'f', sizeof(fmt));
        memcpy(fmt + sizeof(fmt) - 4, "%S", 3);
        assert_int_equal(StringCchPrintfA(out, sizeof(out), fmt, L"W"), S_OK);
        assert_int_equal(strlen(out), sizeof(fmt) - 4 + 1);
        assert_int_equal(out[sizeof(fmt) - 4], 'W');
    }
}

static void test_strsafe_length(void **state)
{
    size_t n = 99;
    assert_int_equal(StringCchLengthA("abc", 10, &n), S_OK);
    assert_int_equal(n, 3);
    assert_int_equal(StringCchLengthA("abc", 3, &n), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(n, 0);
    assert_int_equal(StringCchLengthA(NULL, 3, &n), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchLengthW(L"abcd", STRSAFE_MAX_CCH, &n), S_OK);
    assert_int_equal(n, 4);
    assert_int_equal(StringCbLengthW(L"abcd", 100, &n), S_OK);
    assert_int_equal(n, 4 * sizeof(wchar_t));
    assert_int_equal(StringCchLengthA("abc", 4, NULL), S_OK);
}

/* ---- secure CRT ---------------------------------------------------------- */

static void test_crt_copy_cat(void **state)
{
    char a[5];
    wchar_t w[4];
    assert_int_equal(strcpy_s(a, sizeof(a), "abcd"), 0);
    assert_string_equal(a, "abcd");
    assert_int_equal(strcpy_s(a, sizeof(a), "abcde"), ERANGE);
    assert_int_equal(a[0], 0);
    assert_int_equal(strcpy_s(NULL, 5, "a"), EINVAL);
    a[0] = 'x';
    assert_int_equal(strcpy_s(a, sizeof(a), NULL), EINVAL);
    assert_int_equal(a[0], 0);
    assert_int_equal(strcpy_s(a, 0, "a"), EINVAL);
    strcpy(a, "ab");
    assert_int_equal(strcat_s(a, sizeof(a), "cd"), 0);
    assert_string_equal(a, "abcd");
    assert_int_equal(strcat_s(a, sizeof(a), "e"), ERANGE);
    assert_int_equal(a[0], 0);
    memset(a, 'q', sizeof(a));
    assert_int_equal(strcat_s(a, sizeof(a), "e"), EINVAL);
    assert_int_equal(a[0], 0);
    assert_int_equal(strncpy_s(a, sizeof(a), "abcdefgh", _TRUNCATE), STRUNCATE);
    assert_string_equal(a, "abcd");
    assert_int_equal(strncpy_s(a, sizeof(a), "abcdefgh", 2), 0);
    assert_string_equal(a, "ab");
    assert_int_equal(strncpy_s(a, sizeof(a), "abcdefgh", 5), ERANGE);
    assert_int_equal(a[0], 0);
    strcpy(a, "ab");
    assert_int_equal(strncat_s(a, sizeof(a), "cdef", _TRUNCATE), STRUNCATE);
    assert_string_equal(a, "abcd");
    assert_int_equal(wcscpy_s(w, 4, L"abc"), 0);
    assert_int_equal(wcscat_s(w, 4, L"d"), ERANGE);
    assert_true(w[0] == 0);
    assert_int_equal(wcscpy_s(w, 4, L"ab"), 0);
    assert_int_equal(wcscat_s(w, 4, L"c"), 0);
    assert_true(wcscmp(w, L"abc") == 0);
    assert_int_equal(wcsncpy_s(w, 4, L"xyzw", _TRUNCATE), STRUNCATE);
    assert_true(wcscmp(w, L"xyz") == 0);
}

static void test_crt_printf(void **state)
{
    char a[8];
    wchar_t w[8];
    assert_int_equal(sprintf_s(a, sizeof(a), "%d%s", 12, "ab"), 4);
    assert_string_equal(a, "12ab");
    errno = 0;
    assert_int_equal(sprintf_s(a, sizeof(a), "%s", "too long!"), -1);
    assert_int_equal(a[0], 0);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(sprintf_s(a, 0, "x"), -1);
    assert_int_equal(sprintf_s(a, sizeof(a), "%I64d|%S", (LONGLONG)-3, L"w"), 4);
    assert_string_equal(a, "-3|w");
    assert_int_equal(swprintf_s(w, 8, L"%s=%d", L"k", 7), 3);
    assert_true(wcscmp(w, L"k=7") == 0);
    assert_int_equal(swprintf_s(w, 8, L"%s", L"12345678"), -1);
    assert_true(w[0] == 0);
    assert_int_equal(_snprintf_s(a, sizeof(a), _TRUNCATE, "%s", "0123456789"), -1);
    assert_string_equal(a, "0123456");
    assert_int_equal(_snprintf_s(a, sizeof(a), 3, "%s", "0123456789"), -1);
    assert_string_equal(a, "012");
    assert_int_equal(_snprintf_s(a, sizeof(a), 10, "%s", "0123456789"), -1);
    assert_int_equal(a[0], 0);
    assert_int_equal(_snprintf_s(a, sizeof(a), 10, "%s", "01"), 2);
    assert_int_equal(_snwprintf_s(w, 8, _TRUNCATE, L"%d", 123456789), -1);
    assert_true(wcscmp(w, L"1234567") == 0);
    assert_int_equal(sprintf_s(a, sizeof(a), "%%%c%C", 'a', L'b'), 3);
    assert_string_equal(a, "%ab");
    /* the widths convert as UTF-8, whatever the process locale (here "C") */
    assert_int_equal(sprintf_s(a, sizeof(a), "%S", L"\u00e9\u20ac"), 5);
    assert_string_equal(a, "\xc3\xa9\xe2\x82\xac");
    assert_int_equal(swprintf_s(w, 8, L"%S|%hs", "\xc3\xa9", "\xe2\x82\xac"), 3);
    assert_true(wcscmp(w, L"\u00e9|\u20ac") == 0);
}

static void test_crt_itoa(void **state)
{
    char a[12];
    wchar_t w[34];
    assert_int_equal(_itoa_s(-123, a, sizeof(a), 10), 0);
    assert_string_equal(a, "-123");
    assert_int_equal(_itoa_s(-1, a, sizeof(a), 16), 0);
    assert_string_equal(a, "ffffffff"); /* not radix 10: unsigned */
    assert_int_equal(_itoa_s(255, a, sizeof(a), 2), 0);
    assert_string_equal(a, "11111111");
    assert_int_equal(_itoa_s(12345, a, 5, 10), ERANGE);
    assert_int_equal(a[0], 0);
    assert_int_equal(_itoa_s(1, a, sizeof(a), 1), EINVAL);
    assert_int_equal(_itoa_s(1, a, sizeof(a), 37), EINVAL);
    assert_int_equal(_itoa_s(1, NULL, 4, 10), EINVAL);
    assert_int_equal(_itoa_s(1, a, 0, 10), EINVAL);
    assert_int_equal(_itoa_s(INT32_MIN, a, sizeof(a), 10), 0);
    assert_string_equal(a, "-2147483648");
    assert_int_equal(_ltow_s((LONG)-42, w, 34, 10), 0);
    assert_true(wcscmp(w, L"-42") == 0);
    assert_int_equal(_ltow_s((LONG)-1, w, 34, 16), 0);
    assert_true(wcscmp(w, L"ffffffff") == 0); /* LONG is 32-bit */
    assert_int_equal(_ultow_s((ULONG)4294967295u, w, 34, 10), 0);
    assert_true(wcscmp(w, L"4294967295") == 0);
    assert_int_equal(_i64toa_s(INT64_MIN, a, sizeof(a), 10), ERANGE);
    {
        char b[24];
        assert_int_equal(_i64toa_s(INT64_MIN, b, sizeof(b), 10), 0);
        assert_string_equal(b, "-9223372036854775808");
        assert_int_equal(_ui64toa_s(UINT64_MAX, b, sizeof(b), 36), 0);
        assert_string_equal(b, "3w5e11264sgsf");
    }
    assert_int_equal(_i64tow_s(-1, w, 34, 2), ERANGE); /* 64 digits do not fit in 34 */
    assert_true(w[0] == 0);
    assert_int_equal(_i64tow_s(-1, w, 34, 10), 0);
    assert_true(wcscmp(w, L"-1") == 0);
}

static void test_crt_conversions(void **state)
{
    char a[8];
    wchar_t w[4];
    size_t n = 99;
    assert_int_equal(wcstombs_s(&n, a, sizeof(a), L"h\u00e9", _TRUNCATE), 0);
    assert_int_equal(n, 4); /* h, two bytes of é, NUL */
    assert_string_equal(a, "h\xc3\xa9");
    assert_int_equal(wcstombs_s(&n, NULL, 0, L"\u20ac\u20ac", 0), 0);
    assert_int_equal(n, 7);
    assert_int_equal(wcstombs_s(&n, a, 4, L"abcdef", _TRUNCATE), STRUNCATE);
    assert_string_equal(a, "abc");
    assert_int_equal(n, 4);
    assert_int_equal(wcstombs_s(&n, a, 4, L"abcdef", 10), ERANGE);
    assert_int_equal(a[0], 0);
    assert_int_equal(wcstombs_s(&n, a, sizeof(a), L"abcdef", 2), 0);
    assert_string_equal(a, "ab");
    /* a character is never split */
    assert_int_equal(wcstombs_s(&n, a, 3, L"a\u20ac", _TRUNCATE), STRUNCATE);
    assert_string_equal(a, "a");
    assert_int_equal(wcstombs_s(&n, a, sizeof(a), NULL, 1), EINVAL);
    assert_int_equal(wcstombs_s(&n, a, 0, L"a", 1), EINVAL);
    assert_int_equal(mbstowcs_s(&n, w, 4,
                                "\xe2\x82\xac"
                                "a",
                                _TRUNCATE),
                     0);
    assert_int_equal(n, 3);
    assert_true(w[0] == 0x20AC && w[1] == L'a' && w[2] == 0);
    assert_int_equal(mbstowcs_s(&n, w, 4, "abcdef", _TRUNCATE), STRUNCATE);
    assert_true(wcscmp(w, L"abc") == 0);
    assert_int_equal(mbstowcs_s(&n, w, 4, "abcdef", 5), ERANGE);
    assert_true(w[0] == 0);
    assert_int_equal(mbstowcs_s(&n, NULL, 0, "abcdef", 0), 0);
    assert_int_equal(n, 7);
    assert_int_equal(mbstowcs_s(&n, w, 4, "\xff", 1), EILSEQ);
}

static void test_crt_memory(void **state)
{
    char a[4] = "abc";
    assert_int_equal(memcpy_s(a, sizeof(a), "xy", 2), 0);
    assert_memory_equal(a, "xyc", 3);
    assert_int_equal(memcpy_s(a, 2, "xyz", 3), ERANGE);
    assert_memory_equal(a, "\0\0c", 3); /* the destination is zeroed */
    assert_int_equal(memcpy_s(a, sizeof(a), NULL, 1), EINVAL);
    assert_int_equal(memcpy_s(NULL, 0, NULL, 0), 0);
    strcpy(a, "abc");
    assert_int_equal(memmove_s(a + 1, 3, a, 2), 0);
    assert_memory_equal(a, "aab", 3);
    assert_int_equal(memmove_s(a, 1, "xy", 2), ERANGE);
    assert_memory_equal(a, "aab", 3);
    {
        char s[] = "a,b", *ctx = NULL;
        assert_string_equal(strtok_s(s, ",", &ctx), "a");
        assert_string_equal(strtok_s(NULL, ",", &ctx), "b");
        assert_null(strtok_s(NULL, ",", &ctx));
    }
}

/* ---- interlocked, locks ------------------------------------------------- */

static LONG shared_count;
static CRITICAL_SECTION shared_cs;
static LONG shared_plain;

static void *hammer(void *arg)
{
    for (int i = 0; i < 20000; i++) {
        InterlockedIncrement(&shared_count);
        EnterCriticalSection(&shared_cs);
        EnterCriticalSection(&shared_cs); /* recursive */
        shared_plain++;
        LeaveCriticalSection(&shared_cs);
        LeaveCriticalSection(&shared_cs);
    }
    return arg;
}

static void *try_enter_cs(void *arg)
{
    return (void *)(intptr_t)TryEnterCriticalSection((CRITICAL_SECTION *)arg);
}

static void test_interlocked_and_critical_section(void **state)
{
    pthread_t t[4];
    InitializeCriticalSection(&shared_cs);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(shared_count, 80000);
    assert_int_equal(shared_plain, 80000);
    EnterCriticalSection(&shared_cs);
    void *r;
    pthread_create(&t[0], NULL, try_enter_cs, &shared_cs);
    pthread_join(t[0], &r);
    assert_int_equal((intptr_t)r, 0); /* held by this thread */
    assert_true(TryEnterCriticalSection(&shared_cs));
    LeaveCriticalSection(&shared_cs);
    LeaveCriticalSection(&shared_cs);
    DeleteCriticalSection(&shared_cs);

    LONG v = 5;
    assert_int_equal(InterlockedExchange(&v, 9), 5);
    assert_int_equal(InterlockedCompareExchange(&v, 1, 8), 9); /* no match: unchanged */
    assert_int_equal(v, 9);
    assert_int_equal(InterlockedCompareExchange(&v, 1, 9), 9);
    assert_int_equal(v, 1);
    assert_int_equal(InterlockedExchangeAdd(&v, 10), 1);
    assert_int_equal(InterlockedDecrement(&v), 10);
    v = MAXLONG;
    assert_int_equal(InterlockedIncrement(&v), (LONG)INT32_MIN); /* wraps like the 32-bit Windows LONG */
    LONGLONG q = 0x100000000ll;
    assert_int_equal(InterlockedIncrement64(&q), 0x100000001ll);
    assert_int_equal(InterlockedCompareExchange64(&q, 7, 0x100000001ll), 0x100000001ll);
    assert_int_equal(InterlockedExchangeAdd64(&q, 3), 7);
    assert_int_equal(InterlockedAdd64(&q, 1), 11);
    assert_int_equal(InterlockedXor(&v, -1), (LONG)INT32_MIN);
    int x, y;
    PVOID p = &x;
    assert_ptr_equal(InterlockedExchangePointer(&p, &y), &x);
    assert_ptr_equal(InterlockedCompareExchangePointer(&p, &x, &x), &y);
    assert_ptr_equal(p, &y);
    assert_ptr_equal(InterlockedCompareExchangePointer(&p, &x, &y), &y);
    assert_ptr_equal(p, &x);
    SHORT s = 0x7fff;
    assert_int_equal(InterlockedIncrement16(&s), (SHORT)-32768);
}

static SRWLOCK srw = SRWLOCK_INIT;

static void *try_srw_exclusive(void *arg)
{
    BOOLEAN got = TryAcquireSRWLockExclusive(&srw);
    if (got)
        ReleaseSRWLockExclusive(&srw);
    return (void *)(intptr_t)got;
}
static void *try_srw_shared(void *arg)
{
    BOOLEAN got = TryAcquireSRWLockShared(&srw);
    if (got)
        ReleaseSRWLockShared(&srw);
    return (void *)(intptr_t)got;
}

static void test_srwlock(void **state)
{
    pthread_t t;
    void *r;
    AcquireSRWLockShared(&srw);
    pthread_create(&t, NULL, try_srw_shared, NULL);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 1); /* readers share */
    pthread_create(&t, NULL, try_srw_exclusive, NULL);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 0);
    ReleaseSRWLockShared(&srw);
    AcquireSRWLockExclusive(&srw);
    pthread_create(&t, NULL, try_srw_shared, NULL);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 0);
    ReleaseSRWLockExclusive(&srw);
    pthread_create(&t, NULL, try_srw_exclusive, NULL);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 1);
    SRWLOCK other;
    InitializeSRWLock(&other);
    assert_true(TryAcquireSRWLockExclusive(&other));
    assert_false(TryAcquireSRWLockShared(&other));
    ReleaseSRWLockExclusive(&other);
}

/* ---- time ----------------------------------------------------------------- */

static void set_ft(FILETIME *ft, ULONGLONG v)
{
    ft->dwLowDateTime = (DWORD)v;
    ft->dwHighDateTime = (DWORD)(v >> 32);
}

static void test_time(void **state)
{
    FILETIME ft;
    SYSTEMTIME st;
    set_ft(&ft, 0);
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_int_equal(st.wYear, 1601);
    assert_int_equal(st.wMonth, 1);
    assert_int_equal(st.wDay, 1);
    assert_int_equal(st.wDayOfWeek, 1); /* Monday */
    /* the Unix epoch: 1970-01-01, a Thursday */
    set_ft(&ft, 116444736000000000ull);
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_int_equal(st.wYear, 1970);
    assert_int_equal(st.wMonth, 1);
    assert_int_equal(st.wDay, 1);
    assert_int_equal(st.wDayOfWeek, 4);
    /* 2024-02-29 13:45:30.250 (a Thursday; leap day) */
    SYSTEMTIME in = {2024, 2, 0, 29, 13, 45, 30, 250};
    assert_true(SystemTimeToFileTime(&in, &ft));
    ULONGLONG v = ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    assert_int_equal(v, (1709214330ull * 10000000ull) + 2500000ull + 116444736000000000ull);
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_int_equal(st.wYear, 2024);
    assert_int_equal(st.wMonth, 2);
    assert_int_equal(st.wDay, 29);
    assert_int_equal(st.wHour, 13);
    assert_int_equal(st.wMinute, 45);
    assert_int_equal(st.wSecond, 30);
    assert_int_equal(st.wMilliseconds, 250);
    assert_int_equal(st.wDayOfWeek, 4);
    /* 2000-12-31 (day 366 of a century leap year), 2100-03-01 */
    SYSTEMTIME d1 = {2000, 12, 0, 31, 23, 59, 59, 999}, d2 = {2100, 3, 0, 1, 0, 0, 0, 0};
    assert_true(SystemTimeToFileTime(&d1, &ft));
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_true(st.wYear == 2000 && st.wMonth == 12 && st.wDay == 31 && st.wMilliseconds == 999);
    assert_true(SystemTimeToFileTime(&d2, &ft));
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_true(st.wYear == 2100 && st.wMonth == 3 && st.wDay == 1 && st.wDayOfWeek == 1);
    /* every day of four centuries round-trips */
    for (ULONGLONG day = 0; day < 146097 * 2; day += 1) {
        FILETIME a, b;
        set_ft(&a, day * 864000000000ull + 123450000ull);
        assert_true(FileTimeToSystemTime(&a, &st));
        assert_true(SystemTimeToFileTime(&st, &b));
        assert_int_equal(a.dwLowDateTime, b.dwLowDateTime);
        assert_int_equal(a.dwHighDateTime, b.dwHighDateTime);
    }
    /* invalid input */
    SYSTEMTIME bad = {2023, 2, 0, 29, 0, 0, 0, 0};
    SetLastError(0);
    assert_false(SystemTimeToFileTime(&bad, &ft));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    bad.wDay = 28;
    bad.wHour = 24;
    assert_false(SystemTimeToFileTime(&bad, &ft));
    bad.wHour = 0;
    bad.wYear = 1600;
    assert_false(SystemTimeToFileTime(&bad, &ft));
    bad.wYear = 30827;
    bad.wMonth = 13;
    assert_false(SystemTimeToFileTime(&bad, &ft));
    set_ft(&ft, 0x8000000000000000ull);
    assert_false(FileTimeToSystemTime(&ft, &st));
    set_ft(&ft, 0x7fffffffffffffffull);
    assert_true(FileTimeToSystemTime(&ft, &st));
    assert_int_equal(st.wYear, 30828);
    /* now, both ways */
    GetSystemTime(&st);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    assert_int_equal(st.wYear, tm.tm_year + 1900);
    assert_int_equal(st.wDayOfWeek, tm.tm_wday);
    GetLocalTime(&st);
    assert_true(st.wMonth >= 1 && st.wMonth <= 12);
    ULONGLONG t1 = GetTickCount64();
    Sleep(20);
    ULONGLONG t2 = GetTickCount64();
    assert_true(t2 - t1 >= 20 && t2 - t1 < 2000);
    assert_int_equal((DWORD)GetTickCount64() - GetTickCount() <= 5, 1);
    FILETIME x, y;
    set_ft(&x, 5);
    set_ft(&y, 0x100000000ull);
    assert_int_equal(CompareFileTime(&x, &y), -1);
    assert_int_equal(CompareFileTime(&y, &x), 1);
    assert_int_equal(CompareFileTime(&x, &x), 0);
}

/* ---- GUIDs ------------------------------------------------------------------ */

static void test_string_from_guid2(void **state)
{
    WCHAR buf[40];
    GUID g = {0x0a1b2c3d, 0x4e5f, 0x6071, {0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}};
    assert_int_equal(StringFromGUID2(&g, buf, 40), 39);
    assert_true(wcscmp(buf, L"{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}") == 0);
    assert_int_equal(StringFromGUID2(&g, buf, 39), 39);
    buf[0] = L'x';
    assert_int_equal(StringFromGUID2(&g, buf, 38), 0);
    assert_true(buf[0] == L'x');
    assert_int_equal(StringFromGUID2(&IID_IHttpServer, buf, 40), 39);
    assert_true(wcscmp(buf, L"{EDA2A40F-FB92-4D6D-B52B-C8C207380B4E}") == 0);
}

/* ---- Event Log ---------------------------------------------------------- */

/* Runs fn with stderr (where the server log goes) in a temporary file; returns what was written. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/iisd-wincompat-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    fflush(stderr);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char buf[4096];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return buf;
}

static void report_from_header(void)
{
    HANDLE h = RegisterEventSourceW(NULL, L"MySource");
    LPCWSTR strings[] = {L"first", L"second \u00e9"};
    assert_non_null(h);
    assert_true(ReportEventW(h, EVENTLOG_WARNING_TYPE, 0, 1001, NULL, 2, 0, strings, NULL));
    assert_true(DeregisterEventSource(h));
}

static void test_event_log_outside_iisd(void **state)
{
    /* this binary does not export the server entry point: the header writes to stderr */
    char *out = capture(report_from_header);
    assert_non_null(strstr(out, "MySource: event 1001: first; second \xc3\xa9\n"));
}

static void report_to_server(void)
{
    iisd_host_report_event("not a module", "Src", EVENTLOG_ERROR_TYPE, 0, 7, "bad thing");
    iisd_host_report_event(NULL, "Src", EVENTLOG_INFORMATION_TYPE, 0, 8, "fine");
}

static void test_event_log_server_end(void **state)
{
    char *out = capture(report_to_server);
    assert_non_null(strstr(out, "[error] module (unknown): event 7 (Src): bad thing\n"));
    assert_non_null(strstr(out, "[info] module (unknown): event 8 (Src): fine\n"));
}

static void test_event_log_errors(void **state)
{
    SetLastError(0);
    assert_null(RegisterEventSourceA(NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_false(ReportEventA(NULL, EVENTLOG_ERROR_TYPE, 0, 1, NULL, 0, 0, NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    HANDLE h = RegisterEventSourceA("ignored", "A");
    assert_non_null(h);
    assert_false(ReportEventA(h, EVENTLOG_ERROR_TYPE, 0, 1, NULL, 1, 0, NULL, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(DeregisterEventSource(h));
    assert_false(DeregisterEventSource(NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strsafe_copy),
        cmocka_unit_test(test_strsafe_cat),
        cmocka_unit_test(test_strsafe_printf),
        cmocka_unit_test(test_strsafe_length),
        cmocka_unit_test(test_crt_copy_cat),
        cmocka_unit_test(test_crt_printf),
        cmocka_unit_test(test_crt_itoa),
        cmocka_unit_test(test_crt_conversions),
        cmocka_unit_test(test_crt_memory),
        cmocka_unit_test(test_interlocked_and_critical_section),
        cmocka_unit_test(test_srwlock),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_string_from_guid2),
        cmocka_unit_test(test_event_log_outside_iisd),
        cmocka_unit_test(test_event_log_server_end),
        cmocka_unit_test(test_event_log_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
