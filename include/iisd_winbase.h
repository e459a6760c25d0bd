/*
 * iisd_winbase.h - more of the Win32 base API for module sources: SRW
 * locks, more Interlocked functions, FILETIME/SYSTEMTIME conversions, the
 * Event Log API and StringFromGUID2. Included by <windows.h>; not meant to
 * be included on its own.
 *
 * Event Log
 *   RegisterEventSource/ReportEvent/DeregisterEventSource write each event
 *   as one line of the iisd server's log (its stderr):
 *     <time> [error|warn|info] module <module name>: event <id> (<source>): <text>
 *   where <module name> is the name the module was loaded under (the
 *   <globalModules> name or the NAME of --module NAME=PATH), <source> the
 *   name given to RegisterEventSource and <text> the insertion strings
 *   joined by "; " (there are no message files). Error and audit-failure
 *   events are logged as [error], warnings as [warn], the others as [info].
 *   The server entry point is found at run time (dlsym in libc), so a
 *   module links against nothing; outside iisd (a unit test, another host)
 *   events go to stderr as "<source>: event <id>: <text>".
 *
 * Everything is `static inline`: no exported and no undefined symbol beyond
 * libc.
 */
#ifndef IISD_WINBASE_H
#define IISD_WINBASE_H

#ifndef IISD_WINDOWS_H
#error "include <windows.h> instead of iisd_winbase.h"
#endif

#include <dlfcn.h>

/* ------------------------------------------------------------------------ */
/* More Interlocked functions (sequentially consistent: full barriers).     */
/* ------------------------------------------------------------------------ */

static inline LONG InterlockedXor(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_xor(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedAdd64(LONGLONG volatile *Addend, LONGLONG Value)
{
    return __atomic_add_fetch(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedAnd64(LONGLONG volatile *Destination, LONGLONG Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedOr64(LONGLONG volatile *Destination, LONGLONG Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedXor64(LONGLONG volatile *Destination, LONGLONG Value)
{
    return __atomic_fetch_xor(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline SHORT InterlockedIncrement16(SHORT volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline SHORT InterlockedDecrement16(SHORT volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline SHORT InterlockedCompareExchange16(SHORT volatile *Destination, SHORT Exchange, SHORT Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
/* The Acquire/Release/NoFence forms: the full-barrier operation (stronger is correct). */
#define InterlockedIncrementAcquire              InterlockedIncrement
#define InterlockedIncrementRelease              InterlockedIncrement
#define InterlockedIncrementNoFence              InterlockedIncrement
#define InterlockedDecrementAcquire              InterlockedDecrement
#define InterlockedDecrementRelease              InterlockedDecrement
#define InterlockedDecrementNoFence              InterlockedDecrement
#define InterlockedCompareExchangeAcquire        InterlockedCompareExchange
#define InterlockedCompareExchangeRelease        InterlockedCompareExchange
#define InterlockedCompareExchangeNoFence        InterlockedCompareExchange
#define InterlockedExchangeAcquire               InterlockedExchange
#define InterlockedExchangeNoFence               InterlockedExchange
#define InterlockedCompareExchangeAcquire64      InterlockedCompareExchange64
#define InterlockedCompareExchangeRelease64      InterlockedCompareExchange64
#define InterlockedExchangePointerAcquire        InterlockedExchangePointer
#define InterlockedExchangePointerNoFence        InterlockedExchangePointer
#define InterlockedCompareExchangePointerAcquire InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerRelease InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerNoFence InterlockedCompareExchangePointer

/* ------------------------------------------------------------------------ */
/* SRWLOCK: a pthread read-write lock (not recursive, as on Windows).       */
/* ------------------------------------------------------------------------ */

typedef struct _RTL_SRWLOCK {
    pthread_rwlock_t Lock;
} RTL_SRWLOCK, SRWLOCK, *PSRWLOCK;

/* A zero-filled SRWLOCK is an unlocked one, as on Windows. */
#define RTL_SRWLOCK_INIT                                                                                     \
    {                                                                                                        \
        PTHREAD_RWLOCK_INITIALIZER                                                                           \
    }
#define SRWLOCK_INIT RTL_SRWLOCK_INIT

static inline void InitializeSRWLock(PSRWLOCK SRWLock)
{
    pthread_rwlock_init(&SRWLock->Lock, NULL);
}
static inline void AcquireSRWLockExclusive(PSRWLOCK SRWLock)
{
    pthread_rwlock_wrlock(&SRWLock->Lock);
}
static inline void AcquireSRWLockShared(PSRWLOCK SRWLock)
{
    pthread_rwlock_rdlock(&SRWLock->Lock);
}
static inline void ReleaseSRWLockExclusive(PSRWLOCK SRWLock)
{
    pthread_rwlock_unlock(&SRWLock->Lock);
}
static inline void ReleaseSRWLockShared(PSRWLOCK SRWLock)
{
    pthread_rwlock_unlock(&SRWLock->Lock);
}
static inline BOOLEAN TryAcquireSRWLockExclusive(PSRWLOCK SRWLock)
{
    return pthread_rwlock_trywrlock(&SRWLock->Lock) == 0;
}
static inline BOOLEAN TryAcquireSRWLockShared(PSRWLOCK SRWLock)
{
    return pthread_rwlock_tryrdlock(&SRWLock->Lock) == 0;
}

/* ------------------------------------------------------------------------ */
/* FILETIME and SYSTEMTIME                                                  */
/* ------------------------------------------------------------------------ */

#define IISD_FT_PER_DAY    864000000000ull /* 100 ns units */
#define IISD_FT_UNIX_EPOCH 116444736000000000ull

static inline int IisdIsLeapYear(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
/* Days before month m (1-12) in a year. */
static inline unsigned IisdDaysBeforeMonth(unsigned m, int leap)
{
    static const unsigned short before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return before[m - 1] + (leap && m > 2 ? 1u : 0u);
}
static inline unsigned IisdDaysInMonth(unsigned m, unsigned y)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && IisdIsLeapYear(y) ? 1u : 0u);
}

static inline ULONGLONG IisdFileTimeValue(const FILETIME *ft)
{
    return ((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime;
}

/*
 * Splits a FILETIME (UTC, 100 ns since 1601-01-01) into its calendar
 * fields. Fails (FALSE, ERROR_INVALID_PARAMETER) for values of 2^63 or more.
 */
static inline BOOL FileTimeToSystemTime(const FILETIME *lpFileTime, LPSYSTEMTIME lpSystemTime)
{
    ULONGLONG t, days, rem;
    unsigned y, m, q, leap;
    if (lpFileTime == NULL || lpSystemTime == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    t = IisdFileTimeValue(lpFileTime);
    if (t >> 63) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    days = t / IISD_FT_PER_DAY;
    rem = t % IISD_FT_PER_DAY;
    lpSystemTime->wDayOfWeek = (WORD)((days + 1) % 7); /* 1601-01-01 was a Monday */
    lpSystemTime->wMilliseconds = (WORD)(rem / 10000u % 1000u);
    rem /= 10000000u;
    lpSystemTime->wSecond = (WORD)(rem % 60u);
    lpSystemTime->wMinute = (WORD)(rem / 60u % 60u);
    lpSystemTime->wHour = (WORD)(rem / 3600u);
    /* 1601 starts a 400-year Gregorian cycle of 146097 days */
    y = 1601u + 400u * (unsigned)(days / 146097u);
    days %= 146097u;
    q = (unsigned)(days / 36524u); /* centuries; the 4th ends on the cycle's extra day */
    if (q > 3) {
        q = 3;
    }
    y += 100u * q;
    days -= 36524ull * q;
    y += 4u * (unsigned)(days / 1461u);
    days %= 1461u;
    q = (unsigned)(days / 365u);
    if (q > 3) {
        q = 3;
    }
    y += q;
    days -= 365ull * q;
    leap = (unsigned)IisdIsLeapYear(y);
    for (m = 12; IisdDaysBeforeMonth(m, (int)leap) > days; m--) {
    }
    lpSystemTime->wYear = (WORD)y;
    lpSystemTime->wMonth = (WORD)m;
    lpSystemTime->wDay = (WORD)(days - IisdDaysBeforeMonth(m, (int)leap) + 1u);
    return TRUE;
}

/*
 * The FILETIME of a calendar time (wDayOfWeek is ignored). Fails (FALSE,
 * ERROR_INVALID_PARAMETER) when a field is out of range: year 1601-30827,
 * month 1-12, day within the month, hour < 24, minute and second < 60,
 * milliseconds < 1000.
 */
static inline BOOL SystemTimeToFileTime(const SYSTEMTIME *lpSystemTime, LPFILETIME lpFileTime)
{
    const SYSTEMTIME *s = lpSystemTime;
    ULONGLONG y, days, t;
    if (s == NULL || lpFileTime == NULL || s->wYear < 1601 || s->wYear > 30827 || s->wMonth < 1 ||
        s->wMonth > 12 || s->wDay < 1 || s->wDay > IisdDaysInMonth(s->wMonth, s->wYear) || s->wHour > 23 ||
        s->wMinute > 59 || s->wSecond > 59 || s->wMilliseconds > 999) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    y = (ULONGLONG)s->wYear - 1601u;
    days = y * 365u + y / 4u - y / 100u + y / 400u +
           IisdDaysBeforeMonth(s->wMonth, IisdIsLeapYear(s->wYear)) + (ULONGLONG)s->wDay - 1u;
    t = days * IISD_FT_PER_DAY +
        (((ULONGLONG)s->wHour * 3600u + (ULONGLONG)s->wMinute * 60u + s->wSecond) * 1000u +
         s->wMilliseconds) *
            10000u;
    lpFileTime->dwLowDateTime = (DWORD)t;
    lpFileTime->dwHighDateTime = (DWORD)(t >> 32);
    return TRUE;
}

/* Current UTC time. */
static inline void GetSystemTime(LPSYSTEMTIME lpSystemTime)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    FileTimeToSystemTime(&ft, lpSystemTime);
}

/* Current local time (the TZ of the server process). */
static inline void GetLocalTime(LPSYSTEMTIME lpSystemTime)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    lpSystemTime->wYear = (WORD)(tm.tm_year + 1900);
    lpSystemTime->wMonth = (WORD)(tm.tm_mon + 1);
    lpSystemTime->wDayOfWeek = (WORD)tm.tm_wday;
    lpSystemTime->wDay = (WORD)tm.tm_mday;
    lpSystemTime->wHour = (WORD)tm.tm_hour;
    lpSystemTime->wMinute = (WORD)tm.tm_min;
    lpSystemTime->wSecond = (WORD)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
    lpSystemTime->wMilliseconds = (WORD)(ts.tv_nsec / 1000000);
}

/* -1, 0 or 1 as the first time is earlier than, equal to or later than the second. */
static inline LONG CompareFileTime(const FILETIME *lpFileTime1, const FILETIME *lpFileTime2)
{
    ULONGLONG a = IisdFileTimeValue(lpFileTime1), b = IisdFileTimeValue(lpFileTime2);
    return a < b ? -1 : a > b ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Event Log                                                                */
/* ------------------------------------------------------------------------ */

#define EVENTLOG_SUCCESS          0x0000
#define EVENTLOG_ERROR_TYPE       0x0001
#define EVENTLOG_WARNING_TYPE     0x0002
#define EVENTLOG_INFORMATION_TYPE 0x0004
#define EVENTLOG_AUDIT_SUCCESS    0x0008
#define EVENTLOG_AUDIT_FAILURE    0x0010

/*
 * The entry point the iisd executable exports for the header (a C
 * function; its address is looked up by name, never linked against):
 *   void iisd_host_report_event(const void *module_address, const char *source,
 *                               unsigned type, unsigned category, unsigned event_id,
 *                               const char *text);
 * module_address is any address inside the calling module's image; the
 * server maps it to the module's name.
 */
#define IISD_HOST_REPORT_EVENT "iisd_host_report_event"
typedef void (*IisdHostReportEventFn)(const void *module_address, const char *source, unsigned type,
                                      unsigned category, unsigned event_id, const char *text);

typedef struct IisdEventSource {
    DWORD Magic; /* IISD_EVENT_SOURCE_MAGIC */
    char Name[1];
} IisdEventSource;
#define IISD_EVENT_SOURCE_MAGIC 0x45564C47u

static inline HANDLE IisdRegisterEventSourceUtf8(const char *source, size_t len)
{
    IisdEventSource *s = (IisdEventSource *)malloc(sizeof(IisdEventSource) + len);
    if (s == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    s->Magic = IISD_EVENT_SOURCE_MAGIC;
    memcpy(s->Name, source, len);
    s->Name[len] = 0;
    return (HANDLE)s;
}

/*
 * Opens an event source. lpUNCServerName is ignored: events always go to
 * the log of the iisd process. Returns NULL (ERROR_INVALID_PARAMETER) when
 * lpSourceName is NULL.
 */
static inline HANDLE RegisterEventSourceA(LPCSTR lpUNCServerName, LPCSTR lpSourceName)
{
    (void)lpUNCServerName;
    if (lpSourceName == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    return IisdRegisterEventSourceUtf8(lpSourceName, strlen(lpSourceName));
}
static inline HANDLE RegisterEventSourceW(LPCWSTR lpUNCServerName, LPCWSTR lpSourceName)
{
    char *utf8;
    int n;
    HANDLE h;
    (void)lpUNCServerName;
    if (lpSourceName == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    n = WideCharToMultiByte(CP_UTF8, 0, lpSourceName, -1, NULL, 0, NULL, NULL);
    utf8 = (char *)malloc(n > 0 ? (size_t)n : 1u);
    if (utf8 == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    utf8[0] = 0;
    if (n > 0) {
        WideCharToMultiByte(CP_UTF8, 0, lpSourceName, -1, utf8, n, NULL, NULL);
    }
    h = IisdRegisterEventSourceUtf8(utf8, strlen(utf8));
    free(utf8);
    return h;
}

/* Closes an event source; FALSE (ERROR_INVALID_HANDLE) for a handle that is not one. */
static inline BOOL DeregisterEventSource(HANDLE hEventLog)
{
    IisdEventSource *s = (IisdEventSource *)hEventLog;
    if (s == NULL || s->Magic != IISD_EVENT_SOURCE_MAGIC) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    s->Magic = 0;
    free(s);
    return TRUE;
}

/* Hands one event to the server (or to stderr outside iisd). */
static inline void IisdReportEventUtf8(const IisdEventSource *s, WORD wType, WORD wCategory, DWORD dwEventID,
                                       const char *text)
{
    /* any address inside this module's image identifies the module to the server */
    static const char anchor = 0;
    static IisdHostReportEventFn fn;
    static int looked_up;
    IisdHostReportEventFn f;
    if (!__atomic_load_n(&looked_up, __ATOMIC_ACQUIRE)) {
        /* the first argument is RTLD_DEFAULT: the executable and the global libraries */
        void *sym = dlsym((void *)0, IISD_HOST_REPORT_EVENT);
        IisdHostReportEventFn found;
        memcpy(&found, &sym, sizeof(found));
        __atomic_store_n(&fn, found, __ATOMIC_RELAXED);
        __atomic_store_n(&looked_up, 1, __ATOMIC_RELEASE);
    }
    f = __atomic_load_n(&fn, __ATOMIC_RELAXED);
    if (f != NULL) {
        f(&anchor, s->Name, wType, wCategory, dwEventID, text);
    } else {
        fprintf(stderr, "%s: event %u: %s\n", s->Name, (unsigned)dwEventID, text);
    }
}

/*
 * Writes an event. The insertion strings are joined by "; "; raw data
 * (dwDataSize bytes at lpRawData) and lpUserSid are not logged. Returns
 * FALSE with ERROR_INVALID_HANDLE for a handle that RegisterEventSource
 * did not return, ERROR_INVALID_PARAMETER when wNumStrings > 0 and
 * lpStrings is NULL.
 */
static inline BOOL ReportEventA(HANDLE hEventLog, WORD wType, WORD wCategory, DWORD dwEventID, PSID lpUserSid,
                                WORD wNumStrings, DWORD dwDataSize, LPCSTR *lpStrings, LPVOID lpRawData)
{
    const IisdEventSource *s = (const IisdEventSource *)hEventLog;
    size_t len = 1, pos = 0;
    char *text;
    WORD i;
    (void)lpUserSid;
    (void)dwDataSize;
    (void)lpRawData;
    if (s == NULL || s->Magic != IISD_EVENT_SOURCE_MAGIC) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (wNumStrings > 0 && lpStrings == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    for (i = 0; i < wNumStrings; i++) {
        len += (lpStrings[i] != NULL ? strlen(lpStrings[i]) : 0) + 2;
    }
    text = (char *)malloc(len);
    if (text == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    for (i = 0; i < wNumStrings; i++) {
        size_t n = lpStrings[i] != NULL ? strlen(lpStrings[i]) : 0;
        if (i > 0) {
            memcpy(text + pos, "; ", 2);
            pos += 2;
        }
        if (n > 0) {
            memcpy(text + pos, lpStrings[i], n);
        }
        pos += n;
    }
    text[pos] = 0;
    IisdReportEventUtf8(s, wType, wCategory, dwEventID, text);
    free(text);
    return TRUE;
}
static inline BOOL ReportEventW(HANDLE hEventLog, WORD wType, WORD wCategory, DWORD dwEventID, PSID lpUserSid,
                                WORD wNumStrings, DWORD dwDataSize, LPCWSTR *lpStrings, LPVOID lpRawData)
{
    const IisdEventSource *s = (const IisdEventSource *)hEventLog;
    size_t len = 1, pos = 0;
    char *text;
    WORD i;
    (void)lpUserSid;
    (void)dwDataSize;
    (void)lpRawData;
    if (s == NULL || s->Magic != IISD_EVENT_SOURCE_MAGIC) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (wNumStrings > 0 && lpStrings == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    for (i = 0; i < wNumStrings; i++) {
        if (lpStrings[i] != NULL && lpStrings[i][0] != 0) {
            len += (size_t)WideCharToMultiByte(CP_UTF8, 0, lpStrings[i], -1, NULL, 0, NULL, NULL);
        }
        len += 2;
    }
    text = (char *)malloc(len);
    if (text == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    for (i = 0; i < wNumStrings; i++) {
        if (i > 0) {
            memcpy(text + pos, "; ", 2);
            pos += 2;
        }
        if (lpStrings[i] != NULL && lpStrings[i][0] != 0) {
            int n =
                WideCharToMultiByte(CP_UTF8, 0, lpStrings[i], -1, text + pos, (int)(len - pos), NULL, NULL);
            pos += n > 0 ? (size_t)n - 1 : 0;
        }
    }
    text[pos] = 0;
    IisdReportEventUtf8(s, wType, wCategory, dwEventID, text);
    free(text);
    return TRUE;
}

#if defined(UNICODE) || defined(_UNICODE)
#define RegisterEventSource RegisterEventSourceW
#define ReportEvent         ReportEventW
#else
#define RegisterEventSource RegisterEventSourceA
#define ReportEvent         ReportEventA
#endif

/* ------------------------------------------------------------------------ */
/* StringFromGUID2                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Writes rguid as "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (upper-case hex,
 * 38 characters and a NUL) and returns 39, the characters written including
 * the NUL; returns 0 (writing nothing) when cchMax is below 39.
 */
static inline int StringFromGUID2(REFGUID rguid, WCHAR *lpsz, int cchMax)
{
    static const char hex[] = "0123456789ABCDEF";
#ifdef __cplusplus
    const GUID *g = &rguid;
#else
    const GUID *g = rguid;
#endif
    BYTE b[16];
    int i, n = 0;
    if (lpsz == NULL || cchMax < 39) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        b[i] = (BYTE)(g->Data1 >> (24 - 8 * i));
    }
    b[4] = (BYTE)(g->Data2 >> 8);
    b[5] = (BYTE)g->Data2;
    b[6] = (BYTE)(g->Data3 >> 8);
    b[7] = (BYTE)g->Data3;
    memcpy(b + 8, g->Data4, 8);
    lpsz[n++] = L'{';
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            lpsz[n++] = L'-';
        }
        lpsz[n++] = (WCHAR)hex[b[i] >> 4];
        lpsz[n++] = (WCHAR)hex[b[i] & 15];
    }
    lpsz[n++] = L'}';
    lpsz[n++] = 0;
    return n;
}

#endif /* IISD_WINBASE_H */
