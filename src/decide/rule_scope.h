/*
 * rule_scope.h — tenants' scope "own" on the request line: which routes act
 * on one object (looked up and checked by the ownership rule, rules.c),
 * which lists are narrowed with dockerd's own label filter, and which are
 * not a tenant's to use at all.
 */
#ifndef SG_RULE_SCOPE_H
#define SG_RULE_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "decide/facts.h"
#include "http/query.h"
#include "route/route_table.h"
#include "route/router.h"

typedef enum {
    SG_SCOPE_SHARED,   /* images, builds, the engine's own state: for everyone  */
    SG_SCOPE_SUBJECT,  /* acts on the container, exec, volume or network in its path */
    SG_SCOPE_LIST,     /* a list, prune or event stream: narrowed by label      */
    SG_SCOPE_CREATE,   /* creates an object: labelled with the tenant          */
    SG_SCOPE_REFUSED,  /* swarm objects, engine-wide views: not a tenant's     */
} sg_scope_class;

sg_scope_class sg_scope_route_class(route_id route);

/*
 * Does the gate answer this request itself, from dockerd's own answer cut
 * to the tenant's objects (no label filter can say it)? The network list
 * without filters (the built-in networks stay in it), a built-in network's
 * inspect (without the containers of others on it), and `system df`.
 */
bool sg_scope_answers(route_id route, const http_query *q, const router_match *m);
/* The kind of object a SUBJECT route names in its path. */
sg_fact_kind sg_scope_subject_kind(route_id route);

/*
 * The query a scoped tenant's list request is forwarded with: q's
 * parameters, re-encoded, with "filters" narrowed to tenant's label. out
 * gets it NUL-terminated; returns 0, or -1 with *why (malformed filters,
 * too long, a filter that names other objects).
 */
int sg_scope_list_query(const http_query *q, route_id route, const char *tenant, char *out,
                        size_t outsz, const char **why);

/* dockerd's answer for a `name` of `kind` that does not exist, on route:
 * what a scoped tenant gets for anything that is not its own. */
void sg_scope_not_found(sg_fact_kind kind, route_id route, const char *name,
                        const char *engine_version, char *out, size_t outsz);

#endif
