#include "modules/url_authorization/rules.h"
#include <string.h>
#include <strings.h>

bool authz_list_has(const char *list, const char *item)
{
    size_t il = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == il && il > 0 && strncasecmp(p, item, il) == 0)
            return true;
        p = e;
    }
    return false;
}

/* Calls fn for every item of the list until it returns true. */
static bool list_any(const char *list, bool (*fn)(const char *item, size_t n, const authz_user_t *u),
                     const authz_user_t *u)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (t > p && fn(p, (size_t)(t - p), u))
            return true;
        p = e;
    }
    return false;
}

static bool user_matches(const char *item, size_t n, const authz_user_t *u)
{
    if (n == 1 && item[0] == '*')
        return true;
    if (n == 1 && item[0] == '?')
        return u->anonymous;
    return !u->anonymous && strlen(u->name) == n && strncasecmp(u->name, item, n) == 0;
}

static bool role_matches(const char *item, size_t n, const authz_user_t *u)
{
    char role[256];
    if (u->anonymous || u->in_role == NULL || n >= sizeof(role))
        return false;
    memcpy(role, item, n);
    role[n] = '\0';
    return u->in_role(u->arg, role);
}

static bool applies(const authz_rule_t *r, const authz_user_t *u, const char *method)
{
    const char *verbs = r->verbs ? r->verbs : "";
    if (strspn(verbs, " \t,") != strlen(verbs) && !authz_list_has(verbs, method))
        return false;
    return list_any(r->users ? r->users : "", user_matches, u) ||
           list_any(r->roles ? r->roles : "", role_matches, u);
}

bool authz_evaluate(const authz_rule_t *rules, size_t n, const authz_user_t *user, const char *method)
{
    for (size_t i = 0; i < n; i++)
        if (!rules[i].allow && applies(&rules[i], user, method))
            return false;
    for (size_t i = 0; i < n; i++)
        if (rules[i].allow && applies(&rules[i], user, method))
            return true;
    return false;
}
