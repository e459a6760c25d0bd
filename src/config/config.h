/*
 * The configuration system: applicationHost.config with <configSections>,
 * <location> tags and web.config files merged down the URL path, with
 * IIS's delegation (overrideModeDefault, overrideMode, allowDefinition) and
 * locking (lockAttributes, lockElements, lockItem, lockAll*Except), checked
 * against the schema.
 *
 * A configuration (iisd_cfg_t) is one immutable generation of the files.
 * Sections are resolved per configuration path
 * ("MACHINE/WEBROOT/APPHOST/Default Web Site/app/dir") on first use and
 * cached. Reference-counted: a request keeps the generation it started with.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/schema.h"

typedef struct iisd_cfg iisd_cfg_t;

/* A value as resolved: text (after %VAR% expansion), number, and where it was set. */
typedef struct iisd_cval {
    const char *str; /* never NULL */
    int64_t num;
    const char *file; /* NULL: schema default */
    uint32_t line;
} iisd_cval_t;

typedef struct iisd_celem iisd_celem_t;
struct iisd_celem {
    const iisd_selem_t *schema;
    const char *name;
    iisd_cval_t *vals;    /* one per schema attribute */
    iisd_celem_t **kids;  /* one per schema child element */
    iisd_celem_t **items; /* collection items, in effective order */
    unsigned nitems;
    iisd_celem_t *defaults; /* the collection's defaultElement, when it is not also a child element */
    /* locks set at or above the level this element was resolved for */
    char *lock_attrs; /* comma list, "*" = all */
    char *lock_elems;
    char *lock_attrs_except;
    char *lock_elems_except;
    bool lock_item;
    const char *file; /* where the item/element was defined (items) */
    uint32_t line;
    /* bookkeeping while merging */
    uint32_t lock_depth; /* depth of the file that set the locks (0 = applicationHost.config) */
    uint32_t prepend_id, prepend_pos;
};

/* A configuration error: what 500.19 reports. */
typedef struct iisd_cfg_error {
    char *file;
    uint32_t line;
    char *message;
} iisd_cfg_error_t;

typedef struct iisd_cfg_opts {
    const char *apphost_path; /* NULL: embedded text below */
    const char *apphost_text;
    size_t apphost_len;
    const iisd_schema_t *schema;
    /* section registrations used when the file has no <configSections> of its own
       (a configuration file that only sets values, such as a test's) */
    const char *sections_text;
    size_t sections_len;
    /* %NAME% expansion: looked up here first, then in the environment */
    const char *const *vars; /* NULL-terminated name, value pairs */
} iisd_cfg_opts_t;

/* Loads applicationHost.config. NULL with the error in *err (free with iisd_cfg_error_free). */
iisd_cfg_t *iisd_cfg_load(const iisd_cfg_opts_t *opts, iisd_cfg_error_t *err);
void iisd_cfg_ref(iisd_cfg_t *cfg);
void iisd_cfg_unref(iisd_cfg_t *cfg);
void iisd_cfg_error_free(iisd_cfg_error_t *err);

/*
 * Where web.config files live: maps a configuration path below a site
 * ("Default Web Site/app/dir") to the physical folder, or returns NULL when
 * no web.config is to be read there (allowSubDirConfig="false", or no
 * virtual directory). Set by the site layer; without it only
 * applicationHost.config is read.
 */
typedef struct iisd_cfg_mapper {
    /* malloc'd physical folder of a path below APPHOST ("Site/app/dir"), or NULL */
    char *(*folder)(void *ctx, const char *path);
    /* is this path an application root ("Site" is the root application of a site)? */
    bool (*is_application)(void *ctx, const char *path);
    void *ctx;
} iisd_cfg_mapper_t;
void iisd_cfg_set_mapper(iisd_cfg_t *cfg, const iisd_cfg_mapper_t *m);

/*
 * The effective section at a configuration path. Returns NULL and fills
 * *err when the configuration is invalid there (malformed web.config,
 * locked section, bad value, ...). The result lives as long as cfg.
 */
const iisd_celem_t *iisd_cfg_section(iisd_cfg_t *cfg, const char *config_path, const char *section,
                                     const iisd_cfg_error_t **err);

/*
 * The configuration key of a path: the path cut after the deepest level with configuration of
 * its own (a web.config or a <location> target). Paths with the same key have the same
 * configuration. Malloc'd, in the normalised form "Site/app" (no MACHINE/WEBROOT/APPHOST).
 */
char *iisd_cfg_key(iisd_cfg_t *cfg, const char *config_path);

/*
 * Checks that the configuration that applies at a path is valid: every
 * web.config file from the site down to the path parses, and every section
 * those files set resolves at the path. IIS answers 500.19 otherwise.
 * Returns NULL when valid, else the first error (owned by cfg). Cached.
 */
const iisd_cfg_error_t *iisd_cfg_check(iisd_cfg_t *cfg, const char *config_path);

/* Files the generation read (for change monitoring): a NULL-terminated copy, free with iisd_cfg_list_free. */
char **iisd_cfg_files(iisd_cfg_t *cfg);
/* The configuration path ("MACHINE/WEBROOT/APPHOST/Site/app") of a folder whose web.config
   was looked for, or NULL. malloc'd. */
char *iisd_cfg_path_of_folder(iisd_cfg_t *cfg, const char *folder);
/* Has the web.config of this folder changed since the generation read it (or found none)? */
bool iisd_cfg_folder_stale(iisd_cfg_t *cfg, const char *folder);
/* Folders whose web.config was looked for: a NULL-terminated copy, free with iisd_cfg_list_free. */
char **iisd_cfg_folders(iisd_cfg_t *cfg);
/* How many folders that list has; it only grows. */
unsigned iisd_cfg_folder_count(iisd_cfg_t *cfg);
void iisd_cfg_list_free(char **list);

/* Accessors on resolved elements. */
const iisd_cval_t *iisd_celem_val(const iisd_celem_t *e, const char *attr);
const char *iisd_celem_str(const iisd_celem_t *e, const char *attr);
int64_t iisd_celem_num(const iisd_celem_t *e, const char *attr);
bool iisd_celem_bool(const iisd_celem_t *e, const char *attr);
const iisd_celem_t *iisd_celem_kid(const iisd_celem_t *e, const char *name);
