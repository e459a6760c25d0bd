/*
 * http.h - the HTTP Server API (http.sys) types that the IIS module API uses,
 * for iisd on x86-64 Linux.
 *
 * Layouts follow the Windows x64 definitions field for field (natural
 * alignment, Windows type widths from windows.h); tests/abi checks every
 * offset and size. Only the subset that httpserv.h needs is declared: the
 * request/response structures, headers, data chunks, cache and log policy.
 *
 * iisd conventions (decisions that differ from Windows):
 *   - PCWSTR fields (HTTP_COOKED_URL, HTTP_DATA_CHUNK fragment names) point to
 *     wchar_t (UTF-32) strings; the *Length fields still count BYTES, as on
 *     Windows, so a length is wcslen(p) * sizeof(WCHAR).
 *   - HTTP_DATA_CHUNK.FromFileHandle.FileHandle carries a Linux file
 *     descriptor: set it with IisdFdToHandle(fd) and read it with
 *     IisdHandleToFd(handle) (both in windows.h). The server does not take
 *     ownership of the descriptor unless the API says so.
 *   - PSOCKADDR points to native Linux socket addresses.
 */
#ifndef IISD_HTTP_H
#define IISD_HTTP_H

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Identifiers                                                              */
/* ------------------------------------------------------------------------ */

typedef ULONGLONG HTTP_OPAQUE_ID, *PHTTP_OPAQUE_ID;
typedef HTTP_OPAQUE_ID HTTP_REQUEST_ID, *PHTTP_REQUEST_ID;
typedef HTTP_OPAQUE_ID HTTP_CONNECTION_ID, *PHTTP_CONNECTION_ID;
typedef HTTP_OPAQUE_ID HTTP_RAW_CONNECTION_ID, *PHTTP_RAW_CONNECTION_ID;
typedef HTTP_OPAQUE_ID HTTP_URL_GROUP_ID, *PHTTP_URL_GROUP_ID;
typedef HTTP_OPAQUE_ID HTTP_SERVER_SESSION_ID, *PHTTP_SERVER_SESSION_ID;
typedef ULONGLONG HTTP_URL_CONTEXT;

#define HTTP_NULL_ID           ((HTTP_OPAQUE_ID)0)
#define HTTP_IS_NULL_ID(pid)   (HTTP_NULL_ID == *(pid))
#define HTTP_SET_NULL_ID(pid)  (*(pid) = HTTP_NULL_ID)
#define HTTP_BYTE_RANGE_TO_EOF ((ULONGLONG)-1)

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */
/* ------------------------------------------------------------------------ */

/* HTTP_REQUEST.Flags */
#define HTTP_REQUEST_FLAG_MORE_ENTITY_BODY_EXISTS          0x00000001u
#define HTTP_REQUEST_FLAG_IP_ROUTED                        0x00000002u
#define HTTP_REQUEST_FLAG_HTTP2                            0x00000004u
#define HTTP_REQUEST_FLAG_HTTP3                            0x00000008u
#define HTTP_REQUEST_FLAG_FAST_FORWARDING_ALLOWED          0x00000010u
#define HTTP_REQUEST_FLAG_FAST_FORWARDING_RESPONSE_ALLOWED HTTP_REQUEST_FLAG_FAST_FORWARDING_ALLOWED

/* HTTP_RESPONSE.Flags */
#define HTTP_RESPONSE_FLAG_MULTIPLE_ENCODINGS_AVAILABLE 0x00000001u
#define HTTP_RESPONSE_FLAG_MORE_ENTITY_BODY_EXISTS      0x00000002u

/* ISendResponseProvider::GetFlags()/SetFlags() */
#define HTTP_SEND_RESPONSE_FLAG_DISCONNECT         0x00000001u
#define HTTP_SEND_RESPONSE_FLAG_MORE_DATA          0x00000002u
#define HTTP_SEND_RESPONSE_FLAG_BUFFER_DATA        0x00000004u
#define HTTP_SEND_RESPONSE_FLAG_ENABLE_NAGLING     0x00000008u
#define HTTP_SEND_RESPONSE_FLAG_PROCESS_RANGES     0x00000020u
#define HTTP_SEND_RESPONSE_FLAG_OPAQUE             0x00000040u
#define HTTP_SEND_RESPONSE_FLAG_GOAWAY             0x00000100u
#define HTTP_SEND_RESPONSE_FLAG_AUTOMATIC_CHUNKING 0x00000200u

#define HTTP_FLUSH_RESPONSE_FLAG_RECURSIVE 0x00000001u

/* HTTP_MULTIPLE_KNOWN_HEADERS.Flags */
#define HTTP_RESPONSE_INFO_FLAGS_PRESERVE_ORDER 0x00000001u

/* ------------------------------------------------------------------------ */
/* Enumerations                                                             */
/* ------------------------------------------------------------------------ */

/* Index into HTTP_REQUEST_HEADERS/HTTP_RESPONSE_HEADERS.KnownHeaders[]. */
typedef enum _HTTP_HEADER_ID {
    /* General and entity headers: the same index in requests and responses. */
    HttpHeaderCacheControl = 0,
    HttpHeaderConnection = 1,
    HttpHeaderDate = 2,
    HttpHeaderKeepAlive = 3,
    HttpHeaderPragma = 4,
    HttpHeaderTrailer = 5,
    HttpHeaderTransferEncoding = 6,
    HttpHeaderUpgrade = 7,
    HttpHeaderVia = 8,
    HttpHeaderWarning = 9,
    HttpHeaderAllow = 10,
    HttpHeaderContentLength = 11,
    HttpHeaderContentType = 12,
    HttpHeaderContentEncoding = 13,
    HttpHeaderContentLanguage = 14,
    HttpHeaderContentLocation = 15,
    HttpHeaderContentMd5 = 16,
    HttpHeaderContentRange = 17,
    HttpHeaderExpires = 18,
    HttpHeaderLastModified = 19,

    /* Request headers. */
    HttpHeaderAccept = 20,
    HttpHeaderAcceptCharset = 21,
    HttpHeaderAcceptEncoding = 22,
    HttpHeaderAcceptLanguage = 23,
    HttpHeaderAuthorization = 24,
    HttpHeaderCookie = 25,
    HttpHeaderExpect = 26,
    HttpHeaderFrom = 27,
    HttpHeaderHost = 28,
    HttpHeaderIfMatch = 29,
    HttpHeaderIfModifiedSince = 30,
    HttpHeaderIfNoneMatch = 31,
    HttpHeaderIfRange = 32,
    HttpHeaderIfUnmodifiedSince = 33,
    HttpHeaderMaxForwards = 34,
    HttpHeaderProxyAuthorization = 35,
    HttpHeaderReferer = 36,
    HttpHeaderRange = 37,
    HttpHeaderTe = 38,
    HttpHeaderTranslate = 39,
    HttpHeaderUserAgent = 40,
    HttpHeaderRequestMaximum = 41,

    /* Response headers (they reuse indexes 20-29). */
    HttpHeaderAcceptRanges = 20,
    HttpHeaderAge = 21,
    HttpHeaderEtag = 22,
    HttpHeaderLocation = 23,
    HttpHeaderProxyAuthenticate = 24,
    HttpHeaderRetryAfter = 25,
    HttpHeaderServer = 26,
    HttpHeaderSetCookie = 27,
    HttpHeaderVary = 28,
    HttpHeaderWwwAuthenticate = 29,
    HttpHeaderResponseMaximum = 30,

    HttpHeaderMaximum = 41
} HTTP_HEADER_ID;
typedef HTTP_HEADER_ID *PHTTP_HEADER_ID;

/* HTTP_REQUEST.Verb; unknown methods are HttpVerbUnknown plus pUnknownVerb. */
typedef enum _HTTP_VERB {
    HttpVerbUnparsed = 0,
    HttpVerbUnknown = 1,
    HttpVerbInvalid = 2,
    HttpVerbOPTIONS = 3,
    HttpVerbGET = 4,
    HttpVerbHEAD = 5,
    HttpVerbPOST = 6,
    HttpVerbPUT = 7,
    HttpVerbDELETE = 8,
    HttpVerbTRACE = 9,
    HttpVerbCONNECT = 10,
    HttpVerbTRACK = 11,
    HttpVerbMOVE = 12,
    HttpVerbCOPY = 13,
    HttpVerbPROPFIND = 14,
    HttpVerbPROPPATCH = 15,
    HttpVerbMKCOL = 16,
    HttpVerbLOCK = 17,
    HttpVerbUNLOCK = 18,
    HttpVerbSEARCH = 19,
    HttpVerbMaximum = 20
} HTTP_VERB;
typedef HTTP_VERB *PHTTP_VERB;

/* Which member of the HTTP_DATA_CHUNK union is in use. */
typedef enum _HTTP_DATA_CHUNK_TYPE {
    HttpDataChunkFromMemory = 0,
    HttpDataChunkFromFileHandle = 1,
    HttpDataChunkFromFragmentCache = 2,
    HttpDataChunkFromFragmentCacheEx = 3,
    HttpDataChunkTrailers = 4,
    HttpDataChunkFromWinHttpFastForwarding = 5,
    HttpDataChunkMaximum = 6
} HTTP_DATA_CHUNK_TYPE;
typedef HTTP_DATA_CHUNK_TYPE *PHTTP_DATA_CHUNK_TYPE;

typedef enum _HTTP_CACHE_POLICY_TYPE {
    HttpCachePolicyNocache = 0,
    HttpCachePolicyUserInvalidates = 1,
    HttpCachePolicyTimeToLive = 2,
    HttpCachePolicyMaximum = 3
} HTTP_CACHE_POLICY_TYPE;
typedef HTTP_CACHE_POLICY_TYPE *PHTTP_CACHE_POLICY_TYPE;

typedef enum _HTTP_LOG_DATA_TYPE { HttpLogDataTypeFields = 0 } HTTP_LOG_DATA_TYPE;
typedef HTTP_LOG_DATA_TYPE *PHTTP_LOG_DATA_TYPE;

typedef enum _HTTP_REQUEST_INFO_TYPE {
    HttpRequestInfoTypeAuth = 0,
    HttpRequestInfoTypeChannelBind = 1,
    HttpRequestInfoTypeSslProtocol = 2,
    HttpRequestInfoTypeSslTokenBindingDraft = 3,
    HttpRequestInfoTypeSslTokenBinding = 4,
    HttpRequestInfoTypeRequestTiming = 5,
    HttpRequestInfoTypeTcpInfoV0 = 6,
    HttpRequestInfoTypeRequestSizing = 7,
    HttpRequestInfoTypeQuicStats = 8,
    HttpRequestInfoTypeTcpInfoV1 = 9,
    HttpRequestInfoTypeQuicStatsV2 = 10,
    HttpRequestInfoTypeTcpInfoV2 = 11,
    HttpRequestInfoTypeTransportIdleConnectionTimeout = 12,
    HttpRequestInfoTypeDscpTag = 13,
    HttpRequestInfoTypeInitialPacketTtl = 14
} HTTP_REQUEST_INFO_TYPE;
typedef HTTP_REQUEST_INFO_TYPE *PHTTP_REQUEST_INFO_TYPE;

typedef enum _HTTP_RESPONSE_INFO_TYPE {
    HttpResponseInfoTypeMultipleKnownHeaders = 0,
    HttpResponseInfoTypeAuthenticationProperty = 1,
    HttpResponseInfoTypeQoSProperty = 2,
    HttpResponseInfoTypeChannelBind = 3
} HTTP_RESPONSE_INFO_TYPE;
typedef HTTP_RESPONSE_INFO_TYPE *PHTTP_RESPONSE_INFO_TYPE;

typedef enum _HTTP_REQUEST_AUTH_TYPE {
    HttpRequestAuthTypeNone = 0,
    HttpRequestAuthTypeBasic = 1,
    HttpRequestAuthTypeDigest = 2,
    HttpRequestAuthTypeNTLM = 3,
    HttpRequestAuthTypeNegotiate = 4,
    HttpRequestAuthTypeKerberos = 5
} HTTP_REQUEST_AUTH_TYPE;
typedef HTTP_REQUEST_AUTH_TYPE *PHTTP_REQUEST_AUTH_TYPE;

/* Property ids for IHttpServer3::QueryRequestProperty (sequential, from 0). */
typedef enum _HTTP_REQUEST_PROPERTY {
    HttpRequestPropertyIsb = 0,
    HttpRequestPropertyTcpInfoV0 = 1,
    HttpRequestPropertyQuicStats = 2,
    HttpRequestPropertyTcpInfoV1 = 3,
    HttpRequestPropertySni = 4,
    HttpRequestPropertyStreamError = 5,
    HttpRequestPropertyWskApiTimings = 6,
    HttpRequestPropertyQuicApiTimings = 7,
    HttpRequestPropertyQuicStatsV2 = 8,
    HttpRequestPropertyQuicStreamStats = 9,
    HttpRequestPropertyTcpInfoV2 = 10,
    HttpRequestPropertyTlsClientHello = 11,
    HttpRequestPropertyTransportIdleConnectionTimeout = 12,
    HttpRequestPropertyDscpTag = 13,
    HttpRequestPropertyTlsCipherInfo = 14
} HTTP_REQUEST_PROPERTY;
typedef HTTP_REQUEST_PROPERTY *PHTTP_REQUEST_PROPERTY;

/* ------------------------------------------------------------------------ */
/* Structures                                                               */
/* ------------------------------------------------------------------------ */

typedef struct _HTTP_VERSION {
    USHORT MajorVersion;
    USHORT MinorVersion;
} HTTP_VERSION, *PHTTP_VERSION;

/* clang-format off */
#define HTTP_VERSION_UNKNOWN {0, 0}
#define HTTP_VERSION_0_9     {0, 9}
#define HTTP_VERSION_1_0     {1, 0}
#define HTTP_VERSION_1_1     {1, 1}
#define HTTP_VERSION_2_0     {2, 0}
#define HTTP_VERSION_3_0     {3, 0}
/* clang-format on */

/* A known header: value only, the name is implied by its HTTP_HEADER_ID. */
typedef struct _HTTP_KNOWN_HEADER {
    USHORT RawValueLength; /* bytes, without a terminator */
    PCSTR pRawValue;
} HTTP_KNOWN_HEADER, *PHTTP_KNOWN_HEADER;

typedef struct _HTTP_UNKNOWN_HEADER {
    USHORT NameLength;     /* bytes, without a terminator */
    USHORT RawValueLength; /* bytes, without a terminator */
    PCSTR pName;
    PCSTR pRawValue;
} HTTP_UNKNOWN_HEADER, *PHTTP_UNKNOWN_HEADER;

/* The parsed request URL; all lengths are in bytes, not characters. */
typedef struct _HTTP_COOKED_URL {
    USHORT FullUrlLength;
    USHORT HostLength;
    USHORT AbsPathLength;
    USHORT QueryStringLength;
    PCWSTR pFullUrl;
    PCWSTR pHost;
    PCWSTR pAbsPath;
    PCWSTR pQueryString;
} HTTP_COOKED_URL, *PHTTP_COOKED_URL;

typedef struct _HTTP_TRANSPORT_ADDRESS {
    PSOCKADDR pRemoteAddress;
    PSOCKADDR pLocalAddress;
} HTTP_TRANSPORT_ADDRESS, *PHTTP_TRANSPORT_ADDRESS;

typedef struct _HTTP_REQUEST_HEADERS {
    USHORT UnknownHeaderCount;
    PHTTP_UNKNOWN_HEADER pUnknownHeaders;
    USHORT TrailerCount; /* reserved */
    PHTTP_UNKNOWN_HEADER pTrailers;
    HTTP_KNOWN_HEADER KnownHeaders[HttpHeaderRequestMaximum];
} HTTP_REQUEST_HEADERS, *PHTTP_REQUEST_HEADERS;

typedef struct _HTTP_RESPONSE_HEADERS {
    USHORT UnknownHeaderCount;
    PHTTP_UNKNOWN_HEADER pUnknownHeaders;
    USHORT TrailerCount; /* reserved */
    PHTTP_UNKNOWN_HEADER pTrailers;
    HTTP_KNOWN_HEADER KnownHeaders[HttpHeaderResponseMaximum];
} HTTP_RESPONSE_HEADERS, *PHTTP_RESPONSE_HEADERS;

typedef struct _HTTP_BYTE_RANGE {
    ULARGE_INTEGER StartingOffset;
    ULARGE_INTEGER Length; /* HTTP_BYTE_RANGE_TO_EOF: up to the end */
} HTTP_BYTE_RANGE, *PHTTP_BYTE_RANGE;

/* One piece of an entity body. */
typedef struct _HTTP_DATA_CHUNK {
    HTTP_DATA_CHUNK_TYPE DataChunkType;
    __extension__ union {
        struct {
            PVOID pBuffer;
            ULONG BufferLength;
        } FromMemory;
        struct {
            HTTP_BYTE_RANGE ByteRange;
            HANDLE FileHandle; /* iisd: a file descriptor, see IisdFdToHandle() */
        } FromFileHandle;
        struct {
            USHORT FragmentNameLength; /* bytes */
            PCWSTR pFragmentName;
        } FromFragmentCache;
        struct {
            HTTP_BYTE_RANGE ByteRange;
            PCWSTR pFragmentName;
        } FromFragmentCacheEx;
        struct {
            USHORT TrailerCount;
            PHTTP_UNKNOWN_HEADER pTrailers;
        } Trailers;
        struct {
            UCHAR Reserved[16];
        } FromWinHttpFastForwarding;
    };
} HTTP_DATA_CHUNK, *PHTTP_DATA_CHUNK;

typedef struct _HTTP_SSL_CLIENT_CERT_INFO {
    ULONG CertFlags;
    ULONG CertEncodedSize;
    PUCHAR pCertEncoded;
    HANDLE Token;
    BOOLEAN CertDeniedByMapper;
} HTTP_SSL_CLIENT_CERT_INFO, *PHTTP_SSL_CLIENT_CERT_INFO;

typedef struct _HTTP_SSL_INFO {
    USHORT ServerCertKeySize;
    USHORT ConnectionKeySize;
    ULONG ServerCertIssuerSize;
    ULONG ServerCertSubjectSize;
    PCSTR pServerCertIssuer;
    PCSTR pServerCertSubject;
    PHTTP_SSL_CLIENT_CERT_INFO pClientCertInfo;
    ULONG SslClientCertNegotiated;
} HTTP_SSL_INFO, *PHTTP_SSL_INFO;

typedef struct _HTTP_REQUEST_INFO {
    HTTP_REQUEST_INFO_TYPE InfoType;
    ULONG InfoLength;
    PVOID pInfo;
} HTTP_REQUEST_INFO, *PHTTP_REQUEST_INFO;

typedef struct _HTTP_RESPONSE_INFO {
    HTTP_RESPONSE_INFO_TYPE Type;
    ULONG Length;
    PVOID pInfo;
} HTTP_RESPONSE_INFO, *PHTTP_RESPONSE_INFO;

/* Payload of an HttpResponseInfoTypeMultipleKnownHeaders response info. */
typedef struct _HTTP_MULTIPLE_KNOWN_HEADERS {
    HTTP_HEADER_ID HeaderId;
    ULONG Flags;
    USHORT KnownHeaderCount;
    PHTTP_KNOWN_HEADER KnownHeaders;
} HTTP_MULTIPLE_KNOWN_HEADERS, *PHTTP_MULTIPLE_KNOWN_HEADERS;

/*
 * HTTP_REQUEST_V1/V2 and HTTP_RESPONSE_V1/V2. In C++ the V2 structures
 * derive from V1 (so a V2 pointer converts to a V1 pointer); in C they
 * repeat the V1 members. The layout is the same either way.
 */
#define IISD_HTTP_REQUEST_V1_MEMBERS                                                                         \
    ULONG Flags;                                                                                             \
    HTTP_CONNECTION_ID ConnectionId;                                                                         \
    HTTP_REQUEST_ID RequestId;                                                                               \
    HTTP_URL_CONTEXT UrlContext;                                                                             \
    HTTP_VERSION Version;                                                                                    \
    HTTP_VERB Verb;                                                                                          \
    USHORT UnknownVerbLength; /* bytes */                                                                    \
    USHORT RawUrlLength;      /* bytes */                                                                    \
    PCSTR pUnknownVerb;                                                                                      \
    PCSTR pRawUrl;                                                                                           \
    HTTP_COOKED_URL CookedUrl;                                                                               \
    HTTP_TRANSPORT_ADDRESS Address;                                                                          \
    HTTP_REQUEST_HEADERS Headers;                                                                            \
    ULONGLONG BytesReceived;                                                                                 \
    USHORT EntityChunkCount;                                                                                 \
    PHTTP_DATA_CHUNK pEntityChunks;                                                                          \
    HTTP_RAW_CONNECTION_ID RawConnectionId;                                                                  \
    PHTTP_SSL_INFO pSslInfo;

#define IISD_HTTP_RESPONSE_V1_MEMBERS                                                                        \
    ULONG Flags;                                                                                             \
    HTTP_VERSION Version;                                                                                    \
    USHORT StatusCode;                                                                                       \
    USHORT ReasonLength; /* bytes */                                                                         \
    PCSTR pReason;                                                                                           \
    HTTP_RESPONSE_HEADERS Headers;                                                                           \
    USHORT EntityChunkCount;                                                                                 \
    PHTTP_DATA_CHUNK pEntityChunks;

typedef struct _HTTP_REQUEST_V1 {
    IISD_HTTP_REQUEST_V1_MEMBERS
} HTTP_REQUEST_V1, *PHTTP_REQUEST_V1;

typedef struct _HTTP_RESPONSE_V1 {
    IISD_HTTP_RESPONSE_V1_MEMBERS
} HTTP_RESPONSE_V1, *PHTTP_RESPONSE_V1;

#ifdef __cplusplus
typedef struct _HTTP_REQUEST_V2 : _HTTP_REQUEST_V1 {
    USHORT RequestInfoCount;
    PHTTP_REQUEST_INFO pRequestInfo;
} HTTP_REQUEST_V2, *PHTTP_REQUEST_V2;

typedef struct _HTTP_RESPONSE_V2 : _HTTP_RESPONSE_V1 {
    USHORT ResponseInfoCount;
    PHTTP_RESPONSE_INFO pResponseInfo;
} HTTP_RESPONSE_V2, *PHTTP_RESPONSE_V2;
#else
typedef struct _HTTP_REQUEST_V2 {
    IISD_HTTP_REQUEST_V1_MEMBERS
    USHORT RequestInfoCount;
    PHTTP_REQUEST_INFO pRequestInfo;
} HTTP_REQUEST_V2, *PHTTP_REQUEST_V2;

typedef struct _HTTP_RESPONSE_V2 {
    IISD_HTTP_RESPONSE_V1_MEMBERS
    USHORT ResponseInfoCount;
    PHTTP_RESPONSE_INFO pResponseInfo;
} HTTP_RESPONSE_V2, *PHTTP_RESPONSE_V2;
#endif

/* The IIS API always hands out the V2 structures. */
typedef HTTP_REQUEST_V2 HTTP_REQUEST, *PHTTP_REQUEST;
typedef HTTP_RESPONSE_V2 HTTP_RESPONSE, *PHTTP_RESPONSE;

/* Kernel/user output cache policy (IHttpCachePolicy). */
typedef struct _HTTP_CACHE_POLICY {
    HTTP_CACHE_POLICY_TYPE Policy;
    ULONG SecondsToLive;
} HTTP_CACHE_POLICY, *PHTTP_CACHE_POLICY;

/* Common header of the log data variants; Type says which one follows. */
typedef struct _HTTP_LOG_DATA {
    HTTP_LOG_DATA_TYPE Type;
} HTTP_LOG_DATA, *PHTTP_LOG_DATA;

/*
 * The log record of one request (ISendResponseProvider::GetLogData returns
 * it as an HTTP_LOG_DATA *). Lengths are in bytes.
 */
typedef struct _HTTP_LOG_FIELDS_DATA {
    HTTP_LOG_DATA Base;
    USHORT UserNameLength;
    USHORT UriStemLength;
    USHORT ClientIpLength;
    USHORT ServerNameLength;
    USHORT ServiceNameLength;
    USHORT ServerIpLength;
    USHORT MethodLength;
    USHORT UriQueryLength;
    USHORT HostLength;
    USHORT UserAgentLength;
    USHORT CookieLength;
    USHORT ReferrerLength;
    PWCHAR UserName;
    PWCHAR UriStem;
    PCHAR ClientIp;
    PCHAR ServerName;
    PCHAR ServiceName;
    PCHAR ServerIp;
    PCHAR Method;
    PCHAR UriQuery;
    PCHAR Host;
    PCHAR UserAgent;
    PCHAR Cookie;
    PCHAR Referrer;
    USHORT ServerPort;
    USHORT ProtocolStatus;
    ULONG Win32Status;
    HTTP_VERB MethodNum;
    USHORT SubStatus;
} HTTP_LOG_FIELDS_DATA, *PHTTP_LOG_FIELDS_DATA;

#ifdef __cplusplus
}
#endif

#endif /* IISD_HTTP_H */
