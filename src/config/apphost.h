/*
 * A first reader of applicationHost.config: the parts the engine needs to
 * start (the first site's root and binding, <globalModules>, <modules>,
 * limits and request limits). Errors name the file, the line and the
 * attribute.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct iisd_cfg_module {
    char *name;
    char *image; /* NULL: built-in */
} iisd_cfg_module_t;

typedef struct iisd_config {
    char *site_name;
    uint32_t site_id;
    char *root;
    char *bind_addr; /* NULL or "*": all addresses; default 127.0.0.1 from the command line */
    uint16_t port;
    iisd_cfg_module_t *global_modules;
    unsigned nglobal;
    char **modules; /* <modules> order */
    unsigned nmodules;
    bool modules_set; /* a <modules> section was present */
    uint32_t header_timeout_ms;
    uint32_t idle_timeout_ms;
    uint64_t max_body;
    uint32_t max_url;
    uint32_t max_query;
} iisd_config_t;

void iisd_config_defaults(iisd_config_t *c);
/* Reads FILE; on error returns -1 with a message in err. */
int iisd_config_load(iisd_config_t *c, const char *file, char *err, size_t errlen);
void iisd_config_free(iisd_config_t *c);
/* "hh:mm:ss" or "d.hh:mm:ss" -> milliseconds; -1 when malformed. */
int64_t iisd_parse_timespan(const char *s);
