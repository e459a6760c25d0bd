/*
 * winapi_helpers.c - runtime checks of the static inline Win32 helpers in
 * windows.h. Built as C and as C++, linked with winapi_helpers2.c to show
 * that the last-error value is shared between the translation units of one
 * module (and kept per thread).
 */
#include <windows.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Defined in winapi_helpers2.c (a second translation unit). */
#ifdef __cplusplus
extern "C" {
#endif
void helpers2_set_last_error(DWORD value);
DWORD helpers2_get_last_error(void);
#ifdef __cplusplus
}
#endif

static int g_failures;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) {
        g_failures++;
    }
}

static void *other_thread(void *arg)
{
    DWORD *seen = (DWORD *)arg;
    *seen = GetLastError(); /* a new thread starts with 0 */
    SetLastError(ERROR_TIMEOUT);
    return NULL;
}

static void *lock_twice(void *arg)
{
    CRITICAL_SECTION *cs = (CRITICAL_SECTION *)arg;
    return (void *)(intptr_t)TryEnterCriticalSection(cs);
}

int main(void)
{
    /* Last error: shared across translation units, private to each thread. */
    {
        pthread_t t;
        DWORD seen = 12345;
        SetLastError(ERROR_FILE_NOT_FOUND);
        check(helpers2_get_last_error() == ERROR_FILE_NOT_FOUND, "SetLastError is seen by another TU");
        helpers2_set_last_error(ERROR_ACCESS_DENIED);
        check(GetLastError() == ERROR_ACCESS_DENIED, "SetLastError in another TU is seen here");
        pthread_create(&t, NULL, other_thread, &seen);
        pthread_join(t, NULL);
        check(seen == 0 && GetLastError() == ERROR_ACCESS_DENIED, "last error is per thread");
    }

    /* Interlocked */
    {
        LONG v = 5;
        LONGLONG w = 1;
        PVOID p = NULL;
        int x;
        check(InterlockedIncrement(&v) == 6 && InterlockedDecrement(&v) == 5,
              "InterlockedIncrement/Decrement");
        check(InterlockedExchange(&v, 9) == 5 && v == 9, "InterlockedExchange returns the old value");
        check(InterlockedCompareExchange(&v, 1, 9) == 9 && v == 1,
              "InterlockedCompareExchange swaps on match");
        check(InterlockedCompareExchange(&v, 7, 3) == 1 && v == 1,
              "InterlockedCompareExchange keeps on mismatch");
        check(InterlockedExchangeAdd(&v, 10) == 1 && v == 11, "InterlockedExchangeAdd");
        check(InterlockedIncrement64(&w) == 2 && InterlockedCompareExchange64(&w, 5, 2) == 2 && w == 5,
              "64-bit Interlocked");
        check(InterlockedCompareExchangePointer(&p, &x, NULL) == NULL && p == &x,
              "InterlockedCompareExchangePointer");
    }

    /* CRITICAL_SECTION is recursive and excludes other threads. */
    {
        CRITICAL_SECTION cs;
        pthread_t t;
        void *got = NULL;
        InitializeCriticalSection(&cs);
        EnterCriticalSection(&cs);
        check(TryEnterCriticalSection(&cs) != FALSE, "CRITICAL_SECTION is recursive");
        pthread_create(&t, NULL, lock_twice, &cs);
        pthread_join(t, &got);
        check(got == NULL, "CRITICAL_SECTION excludes another thread");
        LeaveCriticalSection(&cs);
        LeaveCriticalSection(&cs);
        DeleteCriticalSection(&cs);
    }

    /* Strings and text conversion. */
    {
        WCHAR wbuf[16];
        char buf[16];
        int n;
        const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac"; /* "café €" */
        check(lstrlenA(NULL) == 0 && lstrlenA("abc") == 3 && lstrlenW(L"abcd") == 4, "lstrlenA/lstrlenW");
        check(lstrcmpiA("Content-Type", "content-type") == 0 && _wcsicmp(L"GET", L"get") == 0,
              "case-blind compares");
        n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0);
        check(n == 7, "MultiByteToWideChar size query counts the terminator");
        n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, wbuf, 16);
        check(n == 7 && wbuf[3] == 0xE9 && wbuf[5] == 0x20AC && wbuf[6] == 0,
              "MultiByteToWideChar decodes UTF-8");
        n = WideCharToMultiByte(CP_UTF8, 0, wbuf, -1, NULL, 0, NULL, NULL);
        check(n == (int)sizeof utf8, "WideCharToMultiByte size query");
        n = WideCharToMultiByte(CP_UTF8, 0, wbuf, -1, buf, 16, NULL, NULL);
        check(n == (int)sizeof utf8 && memcmp(buf, utf8, sizeof utf8) == 0, "WideCharToMultiByte round trip");
        n = WideCharToMultiByte(CP_UTF8, 0, wbuf, -1, buf, 3, NULL, NULL);
        check(n == 0 && GetLastError() == ERROR_INSUFFICIENT_BUFFER,
              "short buffer -> ERROR_INSUFFICIENT_BUFFER");
        n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, "a\xff", 2, wbuf, 16);
        check(n == 0 && GetLastError() == ERROR_NO_UNICODE_TRANSLATION, "invalid UTF-8 rejected on request");
        n = MultiByteToWideChar(CP_UTF8, 0, "a\xff", 2, wbuf, 16);
        check(n == 2 && wbuf[1] == 0xFFFD, "invalid UTF-8 replaced by U+FFFD");
    }

    /* Memory, handles, GUIDs. */
    {
        char block[8];
        BYTE *heap = (BYTE *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 32);
        GUID a = {1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}};
        GUID b = a;
        FillMemory(block, sizeof block, 0x5a);
        ZeroMemory(block, 4);
        check(block[3] == 0 && block[4] == 0x5a, "ZeroMemory/FillMemory");
        SecureZeroMemory(block, sizeof block);
        check(block[7] == 0, "SecureZeroMemory");
        check(heap != NULL && heap[31] == 0, "HeapAlloc(HEAP_ZERO_MEMORY)");
        check(HeapFree(GetProcessHeap(), 0, heap) == TRUE, "HeapFree");
        check(IisdHandleToFd(IisdFdToHandle(42)) == 42, "fd -> HANDLE -> fd");
        check(IisdHandleToFd(INVALID_HANDLE_VALUE) == -1 && IisdFdToHandle(-1) == INVALID_HANDLE_VALUE,
              "INVALID_HANDLE_VALUE is fd -1");
#ifdef __cplusplus
        check(IsEqualGUID(a, b) && a == b, "IsEqualGUID / operator== (C++)");
        b.Data4[7] = 0;
        check(!IsEqualGUID(a, b) && a != b, "GUIDs that differ");
#else
        check(IsEqualGUID(&a, &b), "IsEqualGUID (C)");
        b.Data4[7] = 0;
        check(!IsEqualGUID(&a, &b), "GUIDs that differ");
#endif
    }

    /* Time and ids. */
    {
        ULONGLONG t0 = GetTickCount64();
        FILETIME ft;
        ULONGLONG ticks;
        LARGE_INTEGER c1, c2, f;
        QueryPerformanceCounter(&c1);
        Sleep(20);
        QueryPerformanceCounter(&c2);
        QueryPerformanceFrequency(&f);
        check(GetTickCount64() - t0 >= 15, "Sleep(20) advances GetTickCount64");
        check(c2.QuadPart - c1.QuadPart >= f.QuadPart / 100, "QueryPerformanceCounter advances");
        check((GetTickCount() - (DWORD)t0) < 10000, "GetTickCount is the low 32 bits of GetTickCount64");
        GetSystemTimeAsFileTime(&ft);
        ticks = ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
        check(ticks > 132223104000000000ull, "GetSystemTimeAsFileTime is after 2020 (1601 epoch, 100 ns)");
        check(GetCurrentProcessId() == (DWORD)getpid() && GetCurrentThreadId() != 0,
              "process and thread ids");
    }

    /* DebugBreak with SIGTRAP ignored (as in the server) returns. */
    {
        signal(SIGTRAP, SIG_IGN);
        DebugBreak();
        check(1, "DebugBreak is harmless when SIGTRAP is ignored");
    }

    return g_failures != 0;
}
