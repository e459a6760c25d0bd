/*
 * Reading configuration from a built-in module, through the public
 * AppHost admin API (IAppHostAdminManager, C binding) exactly as a
 * third-party module would. Values are read at a configuration path
 * (usually the request's: IHttpContext::GetMetadata()->GetMetaPath()).
 * Every function tolerates a NULL element and then returns the default.
 */
#pragma once
#include <windows.h>
#include <ahadmin.h>
#include <httpserv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The section at the request's configuration path, or NULL (release with modcfg_release). */
IAppHostElement *modcfg_section(IHttpServer *srv, IHttpContext *ctx, const wchar_t *section);
/* The section at an explicit configuration path ("MACHINE/WEBROOT/APPHOST/..."). */
IAppHostElement *modcfg_section_at(IHttpServer *srv, const wchar_t *path, const wchar_t *section);
void modcfg_release(IAppHostElement *e);
/* The <site> element of system.applicationHost/sites with this id, or NULL (release it). */
IAppHostElement *modcfg_site(IHttpServer *srv, DWORD id);

bool modcfg_bool(IAppHostElement *e, const wchar_t *name, bool def);
/* uint, int, enum and flags values, and timeSpan in milliseconds. */
int64_t modcfg_int(IAppHostElement *e, const wchar_t *name, int64_t def);
/* The value as UTF-8 into out (NUL-terminated); returns its length, or -1 (def copied) when absent. */
int modcfg_str(IAppHostElement *e, const wchar_t *name, char *out, size_t cap, const char *def);

/* A child element, or NULL (release it). */
IAppHostElement *modcfg_child(IAppHostElement *e, const wchar_t *name);
/* Collection items: count, and item i (release it). */
unsigned modcfg_count(IAppHostElement *e);
IAppHostElement *modcfg_item(IAppHostElement *e, unsigned i);

/*
 * The attribute `attr` of every item of a collection that has a non-empty one, as UTF-8, with
 * an optional second string attribute (`attr2`, "" when absent; NULL for none) and an optional
 * boolean attribute per item (`flag`, default flag_def; NULL for none). One malloc'd block:
 * release it with free(). An absent collection gives an empty list; NULL only when out of memory.
 */
typedef struct modcfg_list {
    unsigned n;
    unsigned nslots; /* a power of two: the hash index of modcfg_list_find */
    uint32_t *slots; /* item index + 1, or 0 */
    struct modcfg_list_item {
        const char *s, *v;
        size_t len, vlen;
        bool flag;
    } item[];
} modcfg_list_t;
modcfg_list_t *modcfg_list(IAppHostElement *coll, const wchar_t *attr, const wchar_t *attr2,
                           const wchar_t *flag, bool flag_def);
/* The first item whose attribute equals s (ASCII case-insensitive unless case_sensitive), or NULL. */
const struct modcfg_list_item *modcfg_list_find(const modcfg_list_t *l, const char *s, bool case_sensitive);

/*
 * A module's parsed configuration, cached per configuration path the way IIS modules do it:
 * in the IMetadataInfo module context container under the module's id. load() runs on the
 * first request for a path (per configuration generation); free_fn() when the generation
 * goes away. Returns what load() returned (NULL if it returned NULL).
 */
void *modcfg_cached(IHttpServer *srv, IHttpContext *ctx, HTTP_MODULE_ID id,
                    void *(*load)(IHttpServer *srv, IHttpContext *ctx), void (*free_fn)(void *data));
/* Encode n wide characters as NUL-terminated UTF-8 into out; (size_t)-1 when it does not fit */
size_t modcfg_utf8(const wchar_t *w, size_t n, char *out, size_t cap);
