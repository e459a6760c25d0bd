/*
 * Serving one file the way StaticFileModule does, shared by the handlers that
 * send files (StaticFileModule, DefaultDocumentModule): the <staticContent>
 * configuration (MIME map, clientCache), conditional requests (RFC 9110 §13),
 * byte ranges (§14) and the body as file chunks, so the server uses sendfile.
 * Uses only the public module API.
 */
#pragma once
#include <windows.h>
#include <httpserv.h>
#include <stdbool.h>
#include <stddef.h>
#include "modules/httputil.h"

enum { SF_NO_CONTROL = 0, SF_DISABLE_CACHE = 1, SF_USE_MAX_AGE = 2, SF_USE_EXPIRES = 3 };

/* system.webServer/staticContent at one configuration path, parsed once. */
typedef struct sf_config {
    hu_mime_t *mime;
    char *cache_control; /* the Cache-Control value to send, or NULL */
    USHORT cache_control_len;
    char expires[HU_DATE_LEN + 1]; /* the Expires value (UseExpires), or "" */
    bool set_etag;
} sf_config_t;

/*
 * The configuration at the request's path, cached in its IMetadataInfo container
 * under id (the calling module's id) until the configuration changes.
 */
const sf_config_t *sf_config(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id);

/*
 * Sends the regular file fi for a GET or HEAD request: 200, 206, 304, 412 or 416,
 * or 404.3 when the MIME map has no type for name[0..len) (a path or file name,
 * wide). The caller keeps its reference on fi until the request ends (Dispose):
 * the response sends from its fd.
 */
REQUEST_NOTIFICATION_STATUS sf_serve(IHttpContext *ctx, const sf_config_t *cfg, IHttpFileInfo *fi,
                                     PCWSTR name, size_t len);

/* A small HTML error response (status.sub reason). */
void sf_error(IHttpContext *ctx, USHORT status, USHORT sub, const char *reason);

/* UTF-8 -> wide, NUL-terminated; (size_t)-1 when it does not fit. */
size_t sf_wide(const char *s, size_t n, wchar_t *out, size_t cap);
