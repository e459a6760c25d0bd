/*
 * Configuration schema, read from files in IIS's schema format
 * (<configSchema><sectionSchema name="system.webServer/x"> with <attribute>,
 * <element>, <collection>, <enum>, <flag>). The built-in sections come from
 * config/schema/iisd_schema.xml; a module ships its own file in the same
 * folder, exactly as it would for IIS.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum iisd_atype {
    IISD_AT_STRING = 0,
    IISD_AT_BOOL,
    IISD_AT_UINT,
    IISD_AT_INT,
    IISD_AT_INT64,
    IISD_AT_ENUM,
    IISD_AT_FLAGS,
    IISD_AT_TIMESPAN, /* value in milliseconds */
};

typedef struct iisd_sconst {
    char *name;
    int64_t value;
} iisd_sconst_t;

typedef struct iisd_sattr {
    char *name;
    uint8_t type;
    bool required;
    bool unique_key; /* isUniqueKey or isCombinedKey: part of the item's identity */
    bool expanded;   /* %VARIABLE% expansion */
    bool case_sensitive;
    char *defval; /* NULL: none (string "", number 0) */
    iisd_sconst_t *consts;
    unsigned nconsts;
    char *validation_type;
    char *validation_param;
} iisd_sattr_t;

typedef struct iisd_selem iisd_selem_t;

typedef struct iisd_scoll {
    char *add;          /* addElement (may be a comma-separated list, e.g. "add,site") */
    char *remove;       /* removeElement, may be NULL */
    char *clear;        /* clearElement, may be NULL */
    char *default_elem; /* defaultElement: defaults for every item ("siteDefaults"), or NULL */
    bool merge_append;  /* false: a lower level's items go before the inherited ones */
    bool allow_duplicates;
    iisd_selem_t *item; /* attributes and child elements of one item */
} iisd_scoll_t;

struct iisd_selem {
    char *name;
    iisd_sattr_t *attrs;
    unsigned nattrs;
    iisd_selem_t **kids;
    unsigned nkids;
    iisd_scoll_t *coll; /* the element's own collection, or NULL */
    bool allow_unrecognized;
};

typedef struct iisd_ssection {
    char *path; /* "system.webServer/defaultDocument" */
    iisd_selem_t *root;
    char *file; /* schema file it came from */
} iisd_ssection_t;

typedef struct iisd_schema {
    iisd_ssection_t **v;
    unsigned n;
} iisd_schema_t;

/* Adds the sections of one schema file; -1 with file:line: message in err. */
int iisd_schema_load_file(iisd_schema_t *s, const char *path, char *err, size_t errlen);
/* Adds the sections of every *.xml file of a folder, in name order. */
int iisd_schema_load_dir(iisd_schema_t *s, const char *dir, char *err, size_t errlen);
int iisd_schema_load_memory(iisd_schema_t *s, const char *name, const char *xml, size_t len, char *err,
                            size_t errlen);
void iisd_schema_free(iisd_schema_t *s);

const iisd_ssection_t *iisd_schema_section(const iisd_schema_t *s, const char *path);
int iisd_schema_attr_index(const iisd_selem_t *e, const char *name);
const iisd_selem_t *iisd_schema_kid(const iisd_selem_t *e, const char *name);
/* Is `name` one of the collection's add element names? */
bool iisd_scoll_is_add(const iisd_scoll_t *c, const char *name);

/*
 * Parses a value of the attribute's type. Returns 0 and the number in *num
 * (bool 0/1, enum value, flags OR-ed, timeSpan in ms, integers), or -1 with
 * a message naming the allowed values.
 */
int iisd_sattr_parse(const iisd_sattr_t *a, const char *text, int64_t *num, char *err, size_t errlen);
