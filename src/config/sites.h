/*
 * Sites, bindings, applications and virtual directories, from
 * system.applicationHost/sites. Routes a request to its site by the local
 * address, port and Host header, and maps URLs to applications and to
 * physical paths through the virtual directories.
 */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "config/config.h"
#include "http/sitegate.h"

typedef struct iisd_vdir {
    char *path; /* relative to the application: "/" or "/images" */
    char *phys; /* physical folder, no trailing '/' */
    bool allow_subdir_config;
} iisd_vdir_t;

typedef struct iisd_app {
    char *path; /* "/" or "/shop" */
    char *pool;
    iisd_vdir_t *vdirs;
    unsigned nvdirs;
    char *config_path; /* "MACHINE/WEBROOT/APPHOST/Site/shop" */
    bool preload;      /* preloadEnabled: started with its generation, not at its first request */
    void *data;        /* owned by the pipeline (its plan, containers) */
} iisd_app_t;

typedef struct iisd_binding {
    char *protocol;
    char *ip; /* "*" for every address */
    uint16_t port;
    char *host; /* "" for any host */
    /* parsed once, for routing: */
    bool http;              /* protocol is "http" */
    int family;             /* of ip: AF_INET or AF_INET6; 0 for "*" or an address that does not parse */
    unsigned char addr[16]; /* ip as an in_addr or in6_addr */
} iisd_binding_t;

typedef struct iisd_sitedef {
    uint32_t id;
    char *name;
    iisd_binding_t *bindings;
    unsigned nbindings;
    iisd_app_t *apps; /* sorted by path length, longest first */
    unsigned napps;
    uint32_t connection_timeout_ms;
    iisd_site_limits_t limits; /* <limits>: maxConnections, maxBandwidth, connectionTimeout */
    iisd_site_gate_t *gate;    /* the site's connection count and bandwidth budget */
} iisd_sitedef_t;

typedef struct iisd_sites {
    iisd_sitedef_t *v;
    unsigned n;
} iisd_sites_t;

/* Reads the sites section of cfg. -1 with file:line: message on error. */
int iisd_sites_load(iisd_sites_t *s, iisd_cfg_t *cfg, char *err, size_t errlen);
void iisd_sites_free(iisd_sites_t *s);
/* Makes cfg read web.config files from the sites' folders. s must outlive cfg's use. */
void iisd_sites_install_mapper(iisd_sites_t *s, iisd_cfg_t *cfg);

/* The site a request belongs to, or NULL (answer 404). host may be NULL. */
const iisd_sitedef_t *iisd_sites_route(const iisd_sites_t *s, const struct sockaddr *local, const char *host,
                                       size_t host_len);
const iisd_sitedef_t *iisd_sites_find(const iisd_sites_t *s, const char *name);
/* The application serving a URL path (decoded, starting with '/'). */
const iisd_app_t *iisd_site_app(const iisd_sitedef_t *site, const char *url, size_t len);
/* The physical path of a URL path; malloc'd; NULL when no virtual directory maps it. */
char *iisd_site_map(const iisd_sitedef_t *site, const char *url, size_t len);
/* The same into buf: returns the size the path needs with its NUL (written only when it
 * fits in cap), or 0 when no application or virtual directory covers the URL. */
size_t iisd_site_map_into(const iisd_sitedef_t *site, const char *url, size_t len, char *buf, size_t cap);
