/*
 * Rule evaluation of UrlAuthorizationModule (system.webServer/security/authorization),
 * free of server objects so that it can be unit-tested.
 *
 * IIS's order: every Deny rule first, then every Allow rule, each group in the order of the
 * effective collection (parent levels first, as the collection is merged). The first rule
 * that applies decides; when none applies, access is denied. A rule applies when its verbs
 * list is empty or names the request's method, and when the user is in its users list ("*":
 * everyone, anonymous included; "?": the anonymous user; otherwise names) or holds one of
 * its roles. Lists are comma-separated; names, roles and verbs compare without regard to case.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool allow;
    const char *users;
    const char *roles;
    const char *verbs;
} authz_rule_t;

/* The request's user: name "" (or anonymous true) for the anonymous user. */
typedef struct {
    const char *name;
    bool anonymous;
    /* true when the user holds role; NULL: no roles */
    bool (*in_role)(void *arg, const char *role);
    void *arg;
} authz_user_t;

/* True when the comma-separated list holds item (blanks trimmed, case-insensitive). */
bool authz_list_has(const char *list, const char *item);
/* True when the rules grant access to user for method. */
bool authz_evaluate(const authz_rule_t *rules, size_t n, const authz_user_t *user, const char *method);
