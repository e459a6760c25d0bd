/*
 * httptrace.h - IIS tracing types (IHttpTraceContext, IGlobalTraceEventProvider)
 * for iisd on x86-64 Linux.
 *
 * The provider GUIDs are file-local constants (static const GUID): using one
 * creates no external symbol.
 */
#ifndef IISD_HTTPTRACE_H
#define IISD_HTTPTRACE_H

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Event trace levels (the dwVerbosity/Level values of IIS tracing). */
#ifndef TRACE_LEVEL_NONE
#define TRACE_LEVEL_NONE        0
#define TRACE_LEVEL_CRITICAL    1
#define TRACE_LEVEL_FATAL       1
#define TRACE_LEVEL_ERROR       2
#define TRACE_LEVEL_WARNING     3
#define TRACE_LEVEL_INFORMATION 4
#define TRACE_LEVEL_VERBOSE     5
#endif

/* HTTP_TRACE_CONFIGURATION.dwAreas value that selects every area (iisd name). */
#define IISD_HTTP_TRACE_ALL_AREAS 0x000FFFFEu

/* HTTP_TRACE_EVENT.dwFlags */
#define HTTP_TRACE_EVENT_FLAG_STATIC_DESCRIPTIVE_FIELDS 0x01u

/* Data type of one HTTP_TRACE_EVENT_ITEM (ETW/MOF type codes). */
typedef enum HTTP_TRACE_TYPE {
    HTTP_TRACE_TYPE_BYTE = 17,
    HTTP_TRACE_TYPE_USHORT = 18,
    HTTP_TRACE_TYPE_ULONG = 19,
    HTTP_TRACE_TYPE_ULONGLONG = 21,
    HTTP_TRACE_TYPE_CHAR = 16,
    HTTP_TRACE_TYPE_SHORT = 2,
    HTTP_TRACE_TYPE_LONG = 3,
    HTTP_TRACE_TYPE_LONGLONG = 20,
    HTTP_TRACE_TYPE_LPCWSTR = 31,
    HTTP_TRACE_TYPE_LPCSTR = 30,
    HTTP_TRACE_TYPE_LPCGUID = 72,
    HTTP_TRACE_TYPE_BOOL = 11
} HTTP_TRACE_TYPE;

/* Whether, and how verbosely, one trace provider is enabled. */
typedef struct _HTTP_TRACE_CONFIGURATION {
    LPCGUID pProviderGuid;
    DWORD dwAreas;
    DWORD dwVerbosity; /* TRACE_LEVEL_* */
    BOOL fProviderEnabled;
} HTTP_TRACE_CONFIGURATION;

/* One named, typed value carried by a trace event. */
typedef struct _HTTP_TRACE_EVENT_ITEM {
    LPCWSTR pszName;
    HTTP_TRACE_TYPE dwDataType;
    PBYTE pbData;
    DWORD cbData;
    LPCWSTR pszDataDescription;
} HTTP_TRACE_EVENT_ITEM;

/* A trace event raised through IHttpTraceContext::RaiseTraceEvent. */
typedef struct _HTTP_TRACE_EVENT {
    LPCGUID pProviderGuid;
    DWORD dwArea;
    LPCGUID pAreaGuid;
    DWORD dwEvent;
    LPCWSTR pszEventName;
    DWORD dwEventVersion;
    DWORD dwVerbosity;
    LPCGUID pActivityGuid;
    LPCGUID pRelatedActivityGuid;
    DWORD dwTimeStamp;
    DWORD dwFlags;
    DWORD cEventItems;
    HTTP_TRACE_EVENT_ITEM *pEventItems;
} HTTP_TRACE_EVENT;

/* {00000000-0000-0000-0000-000000000000}: every provider. */
static const GUID GUID_IIS_ALL_TRACE_PROVIDERS = {0x00000000, 0x0000, 0x0000, {0, 0, 0, 0, 0, 0, 0, 0}};
/* {3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}: the web server core. */
static const GUID GUID_IIS_WWW_SERVER_TRACE_PROVIDER = {
    0x3a2a4e84, 0x4c21, 0x4981, {0xae, 0x10, 0x3f, 0xda, 0x0d, 0x9b, 0x0f, 0x83}};
/* {AFF081FE-0247-4275-9C4E-021F3DC1DA35}: ASP.NET. */
static const GUID GUID_IIS_ASPNET_TRACE_PROVIDER = {
    0xaff081fe, 0x0247, 0x4275, {0x9c, 0x4e, 0x02, 0x1f, 0x3d, 0xc1, 0xda, 0x35}};
/* {06B94D9A-B15E-456E-A4EF-37C984A2CB4B}: classic ASP. */
static const GUID GUID_IIS_ASP_TRACE_TRACE_PROVIDER = {
    0x06b94d9a, 0xb15e, 0x456e, {0xa4, 0xef, 0x37, 0xc9, 0x84, 0xa2, 0xcb, 0x4b}};
/* {D55D3BC9-CBA9-44DF-827E-132D3A4596C2}: global (non-request) events. */
static const GUID GUID_IIS_WWW_GLOBAL_TRACE_PROVIDER = {
    0xd55d3bc9, 0xcba9, 0x44df, {0x82, 0x7e, 0x13, 0x2d, 0x3a, 0x45, 0x96, 0xc2}};
/* {A1C2040E-8840-4C31-BA11-9871031A19EA}: ISAPI extensions. */
static const GUID GUID_IIS_ISAPI_TRACE_PROVIDER = {
    0xa1c2040e, 0x8840, 0x4c31, {0xba, 0x11, 0x98, 0x71, 0x03, 0x1a, 0x19, 0xea}};

#ifdef __cplusplus
}
#endif

#endif /* IISD_HTTPTRACE_H */
