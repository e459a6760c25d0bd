/*
 * windows.h - the part of the Win32 API that IIS native modules need, for iisd
 * on x86-64 Linux.
 *
 * What it provides
 *   - Windows data types at their Windows (LLP64) widths: DWORD/ULONG/UINT are
 *     32-bit, LONG/HRESULT/BOOL are 32-bit signed, ULONGLONG is 64-bit, handles
 *     and pointers are 64-bit. Never Linux `long`.
 *   - WCHAR is wchar_t, which is 32 bits (UTF-32) on Linux, so L"..." literals,
 *     wcslen() and wcscmp() work unchanged. PCWSTR strings exchanged with the
 *     server are therefore UTF-32, not UTF-16.
 *   - GUID/IID, FILETIME, SYSTEMTIME, LARGE_INTEGER, OVERLAPPED, SOCKADDR
 *     (= the native Linux struct sockaddr: AF_INET6 is 10, not 23).
 *   - HRESULT and Win32 error codes with their real Windows values, and the
 *     HRESULT macros (SUCCEEDED, FAILED, HRESULT_FROM_WIN32, ...).
 *   - Calling-convention and declspec keywords as no-ops (WINAPI, __stdcall,
 *     __declspec(x), DECLSPEC_UUID, interface, ...).
 *   - A small set of Win32 helpers (memory, strings, last-error, time,
 *     Interlocked*, CRITICAL_SECTION, OutputDebugString, DebugBreak,
 *     MultiByteToWideChar/WideCharToMultiByte for UTF-8), and through
 *     iisd_winbase.h SRWLOCK, FILETIME/SYSTEMTIME conversions, the Event Log
 *     API (into the server's log) and StringFromGUID2; through iisd_crt.h
 *     the secure CRT (strcpy_s, sprintf_s, _itoa_s, wcstombs_s, ...).
 *     docs/porting.md lists all of it.
 *
 * Rules this header keeps
 *   - Every helper is `static inline` or a macro: including it adds no
 *     undefined symbols beyond libc and defines no exported symbol. The only
 *     variable (the per-thread last-error value) is a weak, hidden,
 *     thread-local definition shared by the translation units of one module
 *     and never exported.
 *   - min() and max() are NOT defined, whatever NOMINMAX says: as macros they
 *     break <algorithm>, <limits> and friends when those are included later.
 *     Use your own helpers or std::min/std::max.
 *   - `#define _WINSOCKAPI_` before this header (a common IIS idiom) is
 *     harmless; there is no winsock.h to suppress.
 *   - DebugBreak() raises SIGTRAP. The iisd server ignores SIGTRAP, so in
 *     production it does nothing; under gdb it stops in the debugger.
 *   - Needs C11 or C++11 and the POSIX 2008/GNU declarations of glibc:
 *     fine for g++ (any -std) and gcc -std=gnu11. With a strict -std=c11 it
 *     defines _DEFAULT_SOURCE itself when it is the first header included;
 *     otherwise define _DEFAULT_SOURCE before any #include.
 *
 * Handles and file descriptors: where the API carries a HANDLE that is a file
 * on Windows (HTTP_DATA_CHUNK.FromFileHandle.FileHandle,
 * IHttpFileInfo::GetFileHandle), iisd stores a Linux file descriptor in the
 * pointer value. Convert with IisdFdToHandle()/IisdHandleToFd(). The
 * conversion maps INVALID_HANDLE_VALUE to -1 and back.
 */
#ifndef IISD_WINDOWS_H
#define IISD_WINDOWS_H

/*
 * Strict ISO C (-std=c11) hides the POSIX and GNU declarations the helpers
 * use. Ask for them if no system header has been read yet; otherwise say
 * what to do instead of failing with implicit-declaration errors.
 */
#if !defined(__cplusplus) && defined(__STRICT_ANSI__) && !defined(_DEFAULT_SOURCE) &&                        \
    !defined(_GNU_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_POSIX_C_SOURCE)
#if defined(_FEATURES_H)
#error "iisd windows.h: define _DEFAULT_SOURCE before any #include, or use -std=gnu11"
#else
#define _DEFAULT_SOURCE 1
#endif
#endif

#include "sal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* ------------------------------------------------------------------------ */
/* Compiler keywords and calling conventions (no meaning on x86-64 Linux).  */
/* ------------------------------------------------------------------------ */

#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define NTAPI
#define STDMETHODCALLTYPE
#define STDMETHODVCALLTYPE
#define STDAPICALLTYPE
#define WINBASEAPI
#define WINADVAPI
#define WINUSERAPI
#define DECLSPEC_IMPORT
#define DECLSPEC_NOVTABLE
#define DECLSPEC_NOTHROW
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_UUID(x)
#define DECLSPEC_DEPRECATED
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef __thiscall
#define __thiscall
#endif
#ifndef _stdcall
#define _stdcall
#endif
#ifndef _cdecl
#define _cdecl
#endif
#ifndef __declspec
#define __declspec(x)
#endif
#ifndef __forceinline
#define __forceinline inline __attribute__((always_inline))
#endif
#define FORCEINLINE __forceinline
#ifndef __int64
#define __int64 long long
#endif
#ifndef __int32
#define __int32 int
#endif
#ifndef __int16
#define __int16 short
#endif
#ifndef __int8
#define __int8 char
#endif
#ifndef __w64
#define __w64
#endif
/*
 * Keyword-like macros that Windows sources expect. Server code that includes
 * these headers and uses such names itself (a variable called `interface`,
 * an enumerator IN) can define IISD_NO_KEYWORD_MACROS to leave them out.
 */
#ifndef IISD_NO_KEYWORD_MACROS
#ifndef interface
#define interface struct
#endif
#define CONST const
#define IN
#define OUT
#define OPTIONAL
#endif
#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif

#define UNREFERENCED_PARAMETER(P)      ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P)  ((void)(P))
#define UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))

#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif

/* ------------------------------------------------------------------------ */
/* Base types.                                                              */
/* ------------------------------------------------------------------------ */

#define VOID void
typedef char CHAR;
typedef int16_t SHORT;
typedef int32_t LONG;
typedef int INT;
typedef float FLOAT;
typedef double DOUBLE;
typedef uint8_t UCHAR;
typedef uint8_t BYTE;
typedef uint8_t BOOLEAN;
typedef uint16_t USHORT;
typedef uint16_t WORD;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef uint32_t UINT;
typedef int32_t BOOL;
typedef int8_t INT8;
typedef int16_t INT16;
typedef int32_t INT32;
typedef int64_t INT64;
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint32_t UINT32;
typedef uint64_t UINT64;
typedef int32_t LONG32;
typedef uint32_t ULONG32;
typedef uint32_t DWORD32;
typedef int64_t LONGLONG;
typedef int64_t LONG64;
typedef uint64_t ULONGLONG;
typedef uint64_t ULONG64;
typedef uint64_t DWORD64;
typedef uint64_t QWORD;
typedef intptr_t INT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t UINT_PTR;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef ULONG_PTR SIZE_T;
typedef LONG_PTR SSIZE_T;
typedef LONG HRESULT;
typedef DWORD LCID;
typedef WORD LANGID;
typedef wchar_t WCHAR;

typedef void *PVOID;
typedef void *LPVOID;
typedef const void *PCVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef HANDLE *LPHANDLE;
typedef HANDLE HMODULE;
typedef HANDLE HINSTANCE;
typedef HANDLE HKEY;
typedef PVOID PSID;

typedef CHAR *PCHAR;
typedef CHAR *LPCH;
typedef CHAR *PCH;
typedef const CHAR *LPCCH;
typedef const CHAR *PCCH;
typedef CHAR *PSTR;
typedef CHAR *LPSTR;
typedef CHAR *NPSTR;
typedef const CHAR *PCSTR;
typedef const CHAR *LPCSTR;
typedef PSTR *PZPSTR;
typedef const PSTR *PCZPSTR;
typedef PCSTR *PZPCSTR;
typedef WCHAR *PWCHAR;
typedef WCHAR *LPWCH;
typedef WCHAR *PWCH;
typedef const WCHAR *LPCWCH;
typedef const WCHAR *PCWCH;
typedef WCHAR *PWSTR;
typedef WCHAR *LPWSTR;
typedef WCHAR *NWPSTR;
typedef const WCHAR *PCWSTR;
typedef const WCHAR *LPCWSTR;
typedef PWSTR *PZPWSTR;
typedef PCWSTR *PZPCWSTR;

#if defined(UNICODE) || defined(_UNICODE)
typedef WCHAR TCHAR;
#define __TEXT(quote) L##quote
#else
typedef CHAR TCHAR;
#define __TEXT(quote) quote
#endif
typedef TCHAR *PTSTR;
typedef TCHAR *LPTSTR;
typedef const TCHAR *PCTSTR;
typedef const TCHAR *LPCTSTR;
#define TEXT(quote) __TEXT(quote)

typedef BYTE *PBYTE;
typedef BYTE *LPBYTE;
typedef const BYTE *PCBYTE;
typedef UCHAR *PUCHAR;
typedef USHORT *PUSHORT;
typedef WORD *PWORD;
typedef WORD *LPWORD;
typedef ULONG *PULONG;
typedef DWORD *PDWORD;
typedef DWORD *LPDWORD;
typedef UINT *PUINT;
typedef UINT *LPUINT;
typedef INT *PINT;
typedef INT *LPINT;
typedef LONG *PLONG;
typedef LONG *LPLONG;
typedef SHORT *PSHORT;
typedef BOOL *PBOOL;
typedef BOOL *LPBOOL;
typedef BOOLEAN *PBOOLEAN;
typedef LONGLONG *PLONGLONG;
typedef ULONGLONG *PULONGLONG;
typedef DWORD64 *PDWORD64;
typedef SIZE_T *PSIZE_T;
typedef ULONG_PTR *PULONG_PTR;
typedef LONG_PTR *PLONG_PTR;
typedef DWORD_PTR *PDWORD_PTR;
typedef HRESULT *PHRESULT;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define MAX_PATH             260
#define INFINITE             0xFFFFFFFFu
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define WAIT_OBJECT_0        0u
#define WAIT_ABANDONED       0x80u
#define WAIT_TIMEOUT         258u
#define WAIT_FAILED          0xFFFFFFFFu

#define MAXUSHORT    0xFFFF
#define MAXULONG     0xFFFFFFFFu
#define MAXDWORD     0xFFFFFFFFu
#define MAXLONG      0x7FFFFFFF
#define MAXULONGLONG (~(ULONGLONG)0)
#define MAXLONGLONG  ((LONGLONG)0x7FFFFFFFFFFFFFFFLL)

#define MAKEWORD(lo, hi)                                                                                     \
    ((WORD)(((BYTE)((DWORD_PTR)(lo)&0xff)) | ((WORD)((BYTE)((DWORD_PTR)(hi)&0xff))) << 8))
#define MAKELONG(lo, hi)                                                                                     \
    ((LONG)(((WORD)((DWORD_PTR)(lo)&0xffff)) | ((DWORD)((WORD)((DWORD_PTR)(hi)&0xffff))) << 16))
#define LOWORD(l) ((WORD)((DWORD_PTR)(l)&0xffff))
#define HIWORD(l) ((WORD)((DWORD_PTR)(l) >> 16))
#define LOBYTE(w) ((BYTE)((DWORD_PTR)(w)&0xff))
#define HIBYTE(w) ((BYTE)((DWORD_PTR)(w) >> 8))

#define ARRAYSIZE(a)     (sizeof(a) / sizeof((a)[0]))
#define RTL_NUMBER_OF(a) ARRAYSIZE(a)
#ifndef _countof
#define _countof(a) ARRAYSIZE(a)
#endif
#define FIELD_OFFSET(type, field)               ((LONG)offsetof(type, field))
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address)-offsetof(type, field)))

/* Map a Linux file descriptor into a Windows-typed HANDLE and back. */
static inline HANDLE IisdFdToHandle(int fd)
{
    return (HANDLE)(intptr_t)fd;
}
static inline int IisdHandleToFd(HANDLE h)
{
    return (int)(intptr_t)h;
}

/* ------------------------------------------------------------------------ */
/* GUID                                                                     */
/* ------------------------------------------------------------------------ */

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
#endif
typedef GUID IID;
typedef GUID CLSID;
typedef GUID *LPGUID;
typedef const GUID *LPCGUID;
typedef IID *LPIID;
typedef CLSID *LPCLSID;
#ifdef __cplusplus
#define REFGUID  const GUID &
#define REFIID   const IID &
#define REFCLSID const CLSID &
#else
#define REFGUID  const GUID *
#define REFIID   const IID *
#define REFCLSID const CLSID *
#endif

/*
 * DEFINE_GUID always defines a file-local constant here (never an external
 * symbol), whether or not INITGUID is defined.
 */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                                         \
    static const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

static inline BOOL IisdGuidEqual(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}
#ifdef __cplusplus
static inline BOOL IsEqualGUID(REFGUID a, REFGUID b)
{
    return IisdGuidEqual(&a, &b);
}
static inline bool operator==(const GUID &a, const GUID &b)
{
    return IisdGuidEqual(&a, &b) != 0;
}
static inline bool operator!=(const GUID &a, const GUID &b)
{
    return !IisdGuidEqual(&a, &b);
}
#else
static inline BOOL IsEqualGUID(REFGUID a, REFGUID b)
{
    return IisdGuidEqual(a, b);
}
#endif
#define IsEqualIID(a, b)   IsEqualGUID(a, b)
#define IsEqualCLSID(a, b) IsEqualGUID(a, b)

/* ------------------------------------------------------------------------ */
/* Structures                                                               */
/* ------------------------------------------------------------------------ */

typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME, *LPSYSTEMTIME;

typedef union _LARGE_INTEGER {
    __extension__ struct {
        DWORD LowPart;
        LONG HighPart;
    };
    struct {
        DWORD LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    __extension__ struct {
        DWORD LowPart;
        DWORD HighPart;
    };
    struct {
        DWORD LowPart;
        DWORD HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    __extension__ union {
        __extension__ struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

typedef VOID(WINAPI *LPOVERLAPPED_COMPLETION_ROUTINE)(_In_ DWORD dwErrorCode,
                                                      _In_ DWORD dwNumberOfBytesTransfered,
                                                      _Inout_ LPOVERLAPPED lpOverlapped);

/* Socket addresses are the native Linux ones (AF_INET6 == 10 here). */
typedef struct sockaddr SOCKADDR, *PSOCKADDR, *LPSOCKADDR;
typedef struct sockaddr_in SOCKADDR_IN, *PSOCKADDR_IN, *LPSOCKADDR_IN;
typedef struct sockaddr_in6 SOCKADDR_IN6, *PSOCKADDR_IN6, *LPSOCKADDR_IN6;
typedef struct sockaddr_storage SOCKADDR_STORAGE, *PSOCKADDR_STORAGE, *LPSOCKADDR_STORAGE;
typedef sa_family_t ADDRESS_FAMILY;

/* ------------------------------------------------------------------------ */
/* HRESULT and Win32 error codes                                            */
/* ------------------------------------------------------------------------ */

#define FACILITY_NULL    0
#define FACILITY_RPC     1
#define FACILITY_ITF     4
#define FACILITY_WIN32   7
#define SEVERITY_SUCCESS 0
#define SEVERITY_ERROR   1

#define SUCCEEDED(hr)        (((HRESULT)(hr)) >= 0)
#define FAILED(hr)           (((HRESULT)(hr)) < 0)
#define IS_ERROR(status)     ((((DWORD)(status)) >> 31) == SEVERITY_ERROR)
#define HRESULT_CODE(hr)     ((DWORD)(hr)&0xFFFF)
#define HRESULT_FACILITY(hr) ((((DWORD)(hr)) >> 16) & 0x1FFF)
#define HRESULT_SEVERITY(hr) ((((DWORD)(hr)) >> 31) & 0x1)
#define SCODE_CODE(sc)       HRESULT_CODE(sc)
#define MAKE_HRESULT(sev, fac, code)                                                                         \
    ((HRESULT)((((DWORD)(sev)) << 31) | (((DWORD)(fac)) << 16) | ((DWORD)(code))))

/*
 * Windows semantics: 0 and negative values pass through unchanged, anything
 * else becomes 0x8007xxxx with the low 16 bits of the code. A macro (not a
 * function) so that it can be used in case labels and static initialisers.
 */
#define __HRESULT_FROM_WIN32(x)                                                                              \
    ((HRESULT)(x) <= 0 ? (HRESULT)(x)                                                                        \
                       : (HRESULT)((((DWORD)(x)) & 0x0000FFFFu) | (FACILITY_WIN32 << 16) | 0x80000000u))
#define HRESULT_FROM_WIN32(x) __HRESULT_FROM_WIN32(x)
/* The Win32 error code carried by a FACILITY_WIN32 HRESULT (0 for S_OK). */
#define WIN32_FROM_HRESULT(hr) (HRESULT_FACILITY(hr) == FACILITY_WIN32 ? HRESULT_CODE(hr) : (DWORD)(hr))

#define S_OK                      ((HRESULT)0)
#define S_FALSE                   ((HRESULT)1)
#define E_NOTIMPL                 ((HRESULT)0x80004001u)
#define E_NOINTERFACE             ((HRESULT)0x80004002u)
#define E_POINTER                 ((HRESULT)0x80004003u)
#define E_ABORT                   ((HRESULT)0x80004004u)
#define E_FAIL                    ((HRESULT)0x80004005u)
#define E_UNEXPECTED              ((HRESULT)0x8000FFFFu)
#define E_PENDING                 ((HRESULT)0x8000000Au)
#define E_BOUNDS                  ((HRESULT)0x8000000Bu)
#define E_ILLEGAL_METHOD_CALL     ((HRESULT)0x8000000Eu)
#define E_ACCESSDENIED            ((HRESULT)0x80070005u)
#define E_HANDLE                  ((HRESULT)0x80070006u)
#define E_OUTOFMEMORY             ((HRESULT)0x8007000Eu)
#define E_INVALIDARG              ((HRESULT)0x80070057u)
#define E_NOT_SUFFICIENT_BUFFER   ((HRESULT)0x8007007Au)
#define E_NOT_SET                 ((HRESULT)0x80070490u)
#define E_NOT_VALID_STATE         ((HRESULT)0x8007139Fu)
#define CLASS_E_NOAGGREGATION     ((HRESULT)0x80040110u)
#define CLASS_E_CLASSNOTAVAILABLE ((HRESULT)0x80040111u)

#define NO_ERROR                         0
#define ERROR_SUCCESS                    0
#define ERROR_INVALID_FUNCTION           1
#define ERROR_FILE_NOT_FOUND             2
#define ERROR_PATH_NOT_FOUND             3
#define ERROR_TOO_MANY_OPEN_FILES        4
#define ERROR_ACCESS_DENIED              5
#define ERROR_INVALID_HANDLE             6
#define ERROR_NOT_ENOUGH_MEMORY          8
#define ERROR_BAD_FORMAT                 11
#define ERROR_INVALID_ACCESS             12
#define ERROR_INVALID_DATA               13
#define ERROR_OUTOFMEMORY                14
#define ERROR_INVALID_DRIVE              15
#define ERROR_NO_MORE_FILES              18
#define ERROR_NOT_READY                  21
#define ERROR_BAD_LENGTH                 24
#define ERROR_WRITE_FAULT                29
#define ERROR_READ_FAULT                 30
#define ERROR_GEN_FAILURE                31
#define ERROR_SHARING_VIOLATION          32
#define ERROR_LOCK_VIOLATION             33
#define ERROR_HANDLE_EOF                 38
#define ERROR_HANDLE_DISK_FULL           39
#define ERROR_NOT_SUPPORTED              50
#define ERROR_BAD_NETPATH                53
#define ERROR_NETWORK_BUSY               54
#define ERROR_BAD_NET_RESP               58
#define ERROR_UNEXP_NET_ERR              59
#define ERROR_NETNAME_DELETED            64
#define ERROR_FILE_EXISTS                80
#define ERROR_ALREADY_ASSIGNED           85
#define ERROR_INVALID_PARAMETER          87
#define ERROR_BROKEN_PIPE                109
#define ERROR_BUFFER_OVERFLOW            111
#define ERROR_DISK_FULL                  112
#define ERROR_CALL_NOT_IMPLEMENTED       120
#define ERROR_SEM_TIMEOUT                121
#define ERROR_INSUFFICIENT_BUFFER        122
#define ERROR_INVALID_NAME               123
#define ERROR_MOD_NOT_FOUND              126
#define ERROR_PROC_NOT_FOUND             127
#define ERROR_DIR_NOT_EMPTY              145
#define ERROR_BAD_ARGUMENTS              160
#define ERROR_BAD_PATHNAME               161
#define ERROR_BUSY                       170
#define ERROR_ALREADY_EXISTS             183
#define ERROR_BAD_EXE_FORMAT             193
#define ERROR_ENVVAR_NOT_FOUND           203
#define ERROR_FILENAME_EXCED_RANGE       206
#define ERROR_BAD_PIPE                   230
#define ERROR_PIPE_BUSY                  231
#define ERROR_NO_DATA                    232
#define ERROR_PIPE_NOT_CONNECTED         233
#define ERROR_MORE_DATA                  234
#define ERROR_NO_MORE_ITEMS              259
#define ERROR_DIRECTORY                  267
#define ERROR_NOT_OWNER                  288
#define ERROR_INVALID_ADDRESS            487
#define ERROR_ARITHMETIC_OVERFLOW        534
#define ERROR_PIPE_CONNECTED             535
#define ERROR_OPERATION_ABORTED          995
#define ERROR_IO_INCOMPLETE              996
#define ERROR_IO_PENDING                 997
#define ERROR_NOACCESS                   998
#define ERROR_STACK_OVERFLOW             1001
#define ERROR_INVALID_FLAGS              1004
#define ERROR_FILE_INVALID               1006
#define ERROR_NO_TOKEN                   1008
#define ERROR_DLL_INIT_FAILED            1114
#define ERROR_NO_UNICODE_TRANSLATION     1113
#define ERROR_NOT_FOUND                  1168
#define ERROR_CANCELLED                  1223
#define ERROR_CONNECTION_REFUSED         1225
#define ERROR_GRACEFUL_DISCONNECT        1226
#define ERROR_ADDRESS_ALREADY_ASSOCIATED 1227
#define ERROR_CONNECTION_INVALID         1229
#define ERROR_CONNECTION_ACTIVE          1230
#define ERROR_NETWORK_UNREACHABLE        1231
#define ERROR_HOST_UNREACHABLE           1232
#define ERROR_PORT_UNREACHABLE           1234
#define ERROR_REQUEST_ABORTED            1235
#define ERROR_CONNECTION_ABORTED         1236
#define ERROR_CONNECTION_COUNT_LIMIT     1238
#define ERROR_NOT_ALL_ASSIGNED           1300
#define ERROR_PRIVILEGE_NOT_HELD         1314
#define ERROR_LOGON_FAILURE              1326
#define ERROR_NONE_MAPPED                1332
#define ERROR_INVALID_SID                1337
#define ERROR_INTERNAL_ERROR             1359
#define ERROR_INVALID_INDEX              1413
#define ERROR_NO_SYSTEM_RESOURCES        1450
#define ERROR_TIMEOUT                    1460
#define ERROR_XML_PARSE_ERROR            1465
#define ERROR_BAD_CONFIGURATION          1610
#define ERROR_UNSUPPORTED_TYPE           1630
#define ERROR_INVALID_USER_BUFFER        1784
#define ERROR_NOT_ENOUGH_QUOTA           1816
#define ERROR_NOT_CONNECTED              2250
#define ERROR_OBJECT_NOT_FOUND           4312
#define ERROR_INVALID_OPERATION          4317
#define ERROR_INVALID_STATE              5023

/* ------------------------------------------------------------------------ */
/* Memory and string helpers                                                */
/* ------------------------------------------------------------------------ */

#define ZeroMemory(dst, len)          ((void)memset((dst), 0, (len)))
#define RtlZeroMemory(dst, len)       ((void)memset((dst), 0, (len)))
#define FillMemory(dst, len, fill)    ((void)memset((dst), (fill), (len)))
#define RtlFillMemory(dst, len, fill) ((void)memset((dst), (fill), (len)))
#define CopyMemory(dst, src, len)     ((void)memcpy((dst), (src), (len)))
#define RtlCopyMemory(dst, src, len)  ((void)memcpy((dst), (src), (len)))
#define MoveMemory(dst, src, len)     ((void)memmove((dst), (src), (len)))
#define RtlMoveMemory(dst, src, len)  ((void)memmove((dst), (src), (len)))
#define RtlEqualMemory(a, b, len)     (memcmp((a), (b), (len)) == 0)
#define EqualMemory(a, b, len)        (memcmp((a), (b), (len)) == 0)

/* Zeroes memory in a way the optimiser may not remove. */
static inline PVOID SecureZeroMemory(PVOID ptr, SIZE_T cnt)
{
    volatile BYTE *p = (volatile BYTE *)ptr;
    while (cnt--) {
        *p++ = 0;
    }
    return ptr;
}

static inline int lstrlenA(LPCSTR s)
{
    return s ? (int)strlen(s) : 0;
}
static inline int lstrlenW(LPCWSTR s)
{
    return s ? (int)wcslen(s) : 0;
}
static inline int lstrcmpA(LPCSTR a, LPCSTR b)
{
    return strcmp(a, b);
}
static inline int lstrcmpW(LPCWSTR a, LPCWSTR b)
{
    return wcscmp(a, b);
}
static inline int lstrcmpiA(LPCSTR a, LPCSTR b)
{
    return strcasecmp(a, b);
}
static inline int lstrcmpiW(LPCWSTR a, LPCWSTR b)
{
    return wcscasecmp(a, b);
}
static inline int _stricmp(const char *a, const char *b)
{
    return strcasecmp(a, b);
}
static inline int _strnicmp(const char *a, const char *b, size_t n)
{
    return strncasecmp(a, b, n);
}
static inline int _wcsicmp(const wchar_t *a, const wchar_t *b)
{
    return wcscasecmp(a, b);
}
static inline int _wcsnicmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    return wcsncasecmp(a, b, n);
}
#ifdef UNICODE
#define lstrlen  lstrlenW
#define lstrcmp  lstrcmpW
#define lstrcmpi lstrcmpiW
#else
#define lstrlen  lstrlenA
#define lstrcmp  lstrcmpA
#define lstrcmpi lstrcmpiA
#endif

/* Process heap: plain malloc/free underneath. */
#define HEAP_NO_SERIALIZE        0x00000001u
#define HEAP_GENERATE_EXCEPTIONS 0x00000004u
#define HEAP_ZERO_MEMORY         0x00000008u
static inline HANDLE GetProcessHeap(void)
{
    return (HANDLE)(intptr_t)1;
}
static inline LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
    (void)hHeap;
    return (dwFlags & HEAP_ZERO_MEMORY) ? calloc(1, dwBytes ? dwBytes : 1) : malloc(dwBytes ? dwBytes : 1);
}
static inline LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
    (void)hHeap;
    (void)dwFlags;
    return realloc(lpMem, dwBytes ? dwBytes : 1);
}
static inline BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
    (void)hHeap;
    (void)dwFlags;
    free(lpMem);
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Last-error value (per thread, shared by all translation units of one     */
/* module, never exported).                                                 */
/* ------------------------------------------------------------------------ */

__attribute__((weak, visibility("hidden"))) __thread DWORD iisd__last_error = 0;

static inline DWORD GetLastError(void)
{
    return iisd__last_error;
}
static inline void SetLastError(DWORD dwErrCode)
{
    iisd__last_error = dwErrCode;
}

/* ------------------------------------------------------------------------ */
/* Time, threads, processes                                                 */
/* ------------------------------------------------------------------------ */

static inline ULONGLONG IisdMonotonicMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ULONGLONG)ts.tv_sec * 1000u + (ULONGLONG)ts.tv_nsec / 1000000u;
}
/* Milliseconds since an arbitrary fixed point (boot), wrapping at 2^32. */
static inline DWORD GetTickCount(void)
{
    return (DWORD)IisdMonotonicMs();
}
static inline ULONGLONG GetTickCount64(void)
{
    return IisdMonotonicMs();
}
/* Current UTC time in 100 ns units since 1601-01-01. */
static inline void GetSystemTimeAsFileTime(LPFILETIME lpSystemTimeAsFileTime)
{
    struct timespec ts;
    ULONGLONG t;
    clock_gettime(CLOCK_REALTIME, &ts);
    t = (ULONGLONG)ts.tv_sec * 10000000u + (ULONGLONG)ts.tv_nsec / 100u + 116444736000000000ull;
    lpSystemTimeAsFileTime->dwLowDateTime = (DWORD)t;
    lpSystemTimeAsFileTime->dwHighDateTime = (DWORD)(t >> 32);
}
static inline BOOL QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lpPerformanceCount->QuadPart = (LONGLONG)ts.tv_sec * 1000000000 + (LONGLONG)ts.tv_nsec;
    return TRUE;
}
static inline BOOL QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency)
{
    lpFrequency->QuadPart = 1000000000;
    return TRUE;
}
static inline void Sleep(DWORD dwMilliseconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(dwMilliseconds / 1000u);
    ts.tv_nsec = (long)(dwMilliseconds % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}
/* The kernel thread id (what ps -L and gdb show). */
static inline DWORD GetCurrentThreadId(void)
{
    return (DWORD)syscall(SYS_gettid);
}
static inline DWORD GetCurrentProcessId(void)
{
    return (DWORD)getpid();
}

/* ------------------------------------------------------------------------ */
/* Interlocked operations (sequentially consistent, like Windows).          */
/* ------------------------------------------------------------------------ */

static inline LONG InterlockedIncrement(LONG volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedDecrement(LONG volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchangeAdd(LONG volatile *Addend, LONG Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAdd(LONG volatile *Addend, LONG Value)
{
    return __atomic_add_fetch(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedCompareExchange(LONG volatile *Destination, LONG Exchange, LONG Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
static inline LONG InterlockedAnd(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedOr(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedIncrement64(LONGLONG volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedDecrement64(LONGLONG volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedExchange64(LONGLONG volatile *Target, LONGLONG Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedExchangeAdd64(LONGLONG volatile *Addend, LONGLONG Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONGLONG InterlockedCompareExchange64(LONGLONG volatile *Destination, LONGLONG Exchange,
                                                    LONGLONG Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
static inline PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange,
                                                      PVOID Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#if defined(__x86_64__) || defined(__i386__)
#define YieldProcessor() __builtin_ia32_pause()
#else
#define YieldProcessor() ((void)0)
#endif

/* ------------------------------------------------------------------------ */
/* CRITICAL_SECTION: a recursive pthread mutex, like the Windows one.       */
/* ------------------------------------------------------------------------ */

typedef struct _CRITICAL_SECTION {
    pthread_mutex_t Mutex;
} CRITICAL_SECTION, *PCRITICAL_SECTION, *LPCRITICAL_SECTION;

static inline void InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&lpCriticalSection->Mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}
static inline BOOL InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
                                                         DWORD dwSpinCount)
{
    (void)dwSpinCount;
    InitializeCriticalSection(lpCriticalSection);
    return TRUE;
}
static inline BOOL InitializeCriticalSectionEx(LPCRITICAL_SECTION lpCriticalSection, DWORD dwSpinCount,
                                               DWORD Flags)
{
    (void)dwSpinCount;
    (void)Flags;
    InitializeCriticalSection(lpCriticalSection);
    return TRUE;
}
static inline void EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    pthread_mutex_lock(&lpCriticalSection->Mutex);
}
static inline BOOL TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    return pthread_mutex_trylock(&lpCriticalSection->Mutex) == 0;
}
static inline void LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    pthread_mutex_unlock(&lpCriticalSection->Mutex);
}
static inline void DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    pthread_mutex_destroy(&lpCriticalSection->Mutex);
}

/* ------------------------------------------------------------------------ */
/* Text conversion (UTF-8 <-> wchar_t/UTF-32).                              */
/* ------------------------------------------------------------------------ */

#define CP_ACP               0
#define CP_OEMCP             1
#define CP_THREAD_ACP        3
#define CP_UTF8              65001
#define MB_PRECOMPOSED       0x00000001u
#define MB_ERR_INVALID_CHARS 0x00000008u
#define WC_ERR_INVALID_CHARS 0x00000080u
#define WC_NO_BEST_FIT_CHARS 0x00000400u

#include "iisd_utf8.h"

/*
 * Windows semantics: cbMultiByte == -1 means NUL-terminated (the terminator
 * is converted and counted); cchWideChar == 0 asks for the size needed.
 * Every code page is treated as UTF-8. Invalid input becomes U+FFFD unless
 * MB_ERR_INVALID_CHARS is given. Returns 0 with GetLastError() set on error.
 */
static inline int MultiByteToWideChar(UINT CodePage, DWORD dwFlags, LPCCH lpMultiByteStr, int cbMultiByte,
                                      LPWSTR lpWideCharStr, int cchWideChar)
{
    const unsigned char *s = (const unsigned char *)lpMultiByteStr;
    size_t n, i = 0;
    int out = 0;
    (void)CodePage;
    if (lpMultiByteStr == NULL || cbMultiByte == 0 || cchWideChar < 0 ||
        (cchWideChar > 0 && lpWideCharStr == NULL)) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return 0;
    }
    n = cbMultiByte < 0 ? strlen(lpMultiByteStr) + 1 : (size_t)cbMultiByte;
    while (i < n) {
        uint32_t cp = 0xFFFD;
        int len = IisdUtf8Decode(s + i, n - i, &cp);
        if (len == 0) {
            if (dwFlags & MB_ERR_INVALID_CHARS) {
                SetLastError(ERROR_NO_UNICODE_TRANSLATION);
                return 0;
            }
            cp = 0xFFFD;
            len = 1;
        }
        if (cchWideChar > 0) {
            if (out >= cchWideChar) {
                SetLastError(ERROR_INSUFFICIENT_BUFFER);
                return 0;
            }
            lpWideCharStr[out] = (WCHAR)cp;
        }
        out++;
        i += (size_t)len;
    }
    return out;
}

/*
 * Windows semantics as above (cchWideChar == -1: NUL-terminated;
 * cbMultiByte == 0: size query). Output is always UTF-8; lpDefaultChar and
 * lpUsedDefaultChar must be NULL for CP_UTF8 on Windows and are ignored.
 */
static inline int WideCharToMultiByte(UINT CodePage, DWORD dwFlags, LPCWCH lpWideCharStr, int cchWideChar,
                                      LPSTR lpMultiByteStr, int cbMultiByte, LPCCH lpDefaultChar,
                                      LPBOOL lpUsedDefaultChar)
{
    size_t n, i;
    int out = 0;
    (void)CodePage;
    (void)lpDefaultChar;
    if (lpUsedDefaultChar != NULL) {
        *lpUsedDefaultChar = FALSE;
    }
    if (lpWideCharStr == NULL || cchWideChar == 0 || cbMultiByte < 0 ||
        (cbMultiByte > 0 && lpMultiByteStr == NULL)) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return 0;
    }
    n = cchWideChar < 0 ? wcslen(lpWideCharStr) + 1 : (size_t)cchWideChar;
    for (i = 0; i < n; i++) {
        char buf[4];
        uint32_t c = (uint32_t)lpWideCharStr[i];
        int len;
        if ((dwFlags & WC_ERR_INVALID_CHARS) && ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)) {
            SetLastError(ERROR_NO_UNICODE_TRANSLATION);
            return 0;
        }
        len = IisdUtf8Encode(c, buf);
        if (cbMultiByte > 0) {
            if (out + len > cbMultiByte) {
                SetLastError(ERROR_INSUFFICIENT_BUFFER);
                return 0;
            }
            memcpy(lpMultiByteStr + out, buf, (size_t)len);
        }
        out += len;
    }
    return out;
}

/* ------------------------------------------------------------------------ */
/* Debugging                                                                */
/* ------------------------------------------------------------------------ */

/* Writes the text to stderr (the server's log). */
static inline void OutputDebugStringA(LPCSTR lpOutputString)
{
    if (lpOutputString != NULL) {
        fputs(lpOutputString, stderr);
    }
}
/* Writes the text to stderr as UTF-8. */
static inline void OutputDebugStringW(LPCWSTR lpOutputString)
{
    char buf[4];
    if (lpOutputString == NULL) {
        return;
    }
    for (; *lpOutputString; lpOutputString++) {
        fwrite(buf, 1, (size_t)IisdUtf8Encode((uint32_t)*lpOutputString, buf), stderr);
    }
}
#ifdef UNICODE
#define OutputDebugString OutputDebugStringW
#else
#define OutputDebugString OutputDebugStringA
#endif

/*
 * Raises SIGTRAP: stops under a debugger; a no-op in the iisd server, which
 * ignores SIGTRAP. (A process that does not ignore it dumps core.)
 */
static inline void DebugBreak(void)
{
    raise(SIGTRAP);
}

#include "iisd_winbase.h"
#include "iisd_crt.h"

#endif /* IISD_WINDOWS_H */
