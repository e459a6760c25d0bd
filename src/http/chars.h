/*
 * Internal to src/http: byte classification tables for the HTTP/1.1 parser
 * (RFC 9110 §5.6.2 tchar, RFC 9110 §5.5 field-vchar, RFC 3986 host bytes).
 * Defined in tokens.c.
 */
#pragma once
#include <stdint.h>

enum {
    IISD_C_TCHAR = 0x01, /* token character */
    IISD_C_FIELD = 0x02, /* field-value byte: VCHAR, obs-text, SP, HTAB */
    IISD_C_RLINE = 0x04, /* request-line byte: VCHAR, SP */
    IISD_C_HOST = 0x08,  /* reg-name byte except '%': unreserved, sub-delims */
    IISD_C_HEX = 0x10,   /* HEXDIG */
    IISD_C_DIGIT = 0x20, /* DIGIT */
    IISD_C_QDTEXT = 0x40 /* qdtext of quoted-string: HTAB, SP, VCHAR except '"' '\', obs-text */
};

extern const uint8_t iisd_http_cls[256];
/* ASCII lower-casing of a byte (other bytes unchanged). */
extern const uint8_t iisd_http_lc[256];
