/* Files compiled into the server: the default applicationHost.config and the built-in schema. */
#pragma once
#include <stddef.h>

extern const char iisd_embedded_apphost[];
extern const char iisd_embedded_apphost_end[];
extern const char iisd_embedded_schema[];
extern const char iisd_embedded_schema_end[];

static inline size_t iisd_embedded_apphost_len(void)
{
    return (size_t)(iisd_embedded_apphost_end - iisd_embedded_apphost);
}

static inline size_t iisd_embedded_schema_len(void)
{
    return (size_t)(iisd_embedded_schema_end - iisd_embedded_schema);
}
