/*
 * decide.c — the per-request decision point (see decide.h).
 *
 * In order: the commandList on the restricted socket (commands.c); the
 * rules on the request line (rule_requests.c); then which requests need
 * their body or their target looked at (decision.c), and what for.
 */
#include "decide/decide.h"

#include <stdio.h>
#include <string.h>

#include "decide/rule_scope.h"
#include "decide/rules.h"
#include "http/query.h"

/* The commandList (the global one, or the caller's image policy's): only on
 * the restricted socket, only with the policy on. */
static bool command_list_blocks(const sg_settings *policy, const sg_request_ctx *ctx,
                                const sg_command_list *list, sg_verdict *v)
{
    if (ctx->caller.socket != SG_SOCKET_RESTRICTED || !policy->eci_enabled ||
        list->type == SG_COMMANDS_NONE)
        return false;
    route_id route = ctx->route_status == ROUTER_MATCH ? ctx->match->route : ROUTE_NONE;
    const char *route_path = ctx->match->route_path ? ctx->match->route_path : ctx->match->path;
    if (!sg_commands_blocked(&list->compiled, route, route_path))
        return false;
    v->kind = SG_VERDICT_DENY;
    v->status = 403;
    v->log = true;
    snprintf(v->message, sizeof v->message,
             SG_ECI_PREFIX "docker command \"%s\" is blocked; if you wish to allow it, "
                           "configure the docker socket command list in the Docker Desktop "
                           "settings or admin-settings.",
             ctx->target);
    const route_info *ri = route_lookup(route);
    snprintf(v->rule, sizeof v->rule, "commandList %s: %s",
             list->type == SG_COMMANDS_DENY ? "deny" : "allow",
             ri ? ri->id_name : "unknown route");
    return true;
}

static void deny(sg_verdict *v, int status, const char *rule, const char *message)
{
    v->kind = SG_VERDICT_DENY;
    v->status = status;
    v->log = true;
    snprintf(v->message, sizeof v->message, "%s", message);
    snprintf(v->rule, sizeof v->rule, "%s", rule);
}

/* The query, parsed once for every rule that reads it. The router let only
 * valid queries through, so anything but OK here (out of memory, or a
 * caller that did not route first) refuses. */
static bool query_unreadable(const sg_request_ctx *ctx, http_query *q, sg_verdict *v)
{
    switch (http_query_parse(ctx->match->query, ctx->match->query_len, q)) {
    case HTTP_QUERY_OK:
        return false;
    case HTTP_QUERY_MALFORMED:
        deny(v, 400, "malformed query", "sockgate: malformed query string");
        return true;
    case HTTP_QUERY_NOMEM:
        break;
    }
    deny(v, 503, "out of memory", "sockgate: out of memory reading the query; try again");
    return true;
}

static bool request_rules_refuse(const sg_settings *policy, const sg_request_ctx *ctx,
                                 const http_query *q, sg_verdict *v)
{
    route_id route = ctx->route_status == ROUTER_MATCH ? ctx->match->route : ROUTE_NONE;
    sg_request_refusal r;
    if (!sg_requests_refuse(policy, ctx->caller.socket, v->isolated, route, q,
                            ctx->content_type, &r))
        return false;
    deny(v, r.status, r.rule, r.message);
    return true;
}

/* What an isolated caller does to an existing container, by route. */
static const char *existing_action(route_id route)
{
    switch (route) {
    case ROUTE_CONTAINER_ATTACH:
    case ROUTE_CONTAINER_ATTACH_WS: return "attach to";
    case ROUTE_CONTAINER_ARCHIVE_PUT: return "copy files into";
    case ROUTE_CONTAINER_ARCHIVE_GET:
    case ROUTE_CONTAINER_ARCHIVE_HEAD: return "copy files from";
    case ROUTE_CONTAINER_EXPORT: return "export";
    case ROUTE_COMMIT: return "commit";
    default: return NULL;
    }
}

static void plan(sg_verdict *v, sg_verdict_kind kind, sg_plan p, const char *rule)
{
    v->kind = kind;
    v->plan = p;
    snprintf(v->rule, sizeof v->rule, "%s", rule);
}

/* The name in the route's first variable ({name}, {id}): whole, or the
 * request is refused. A cut name would be looked up as another one. */
static void subject_from_path(const router_match *m, sg_verdict *v)
{
    const router_span *s = &m->vars[0];
    if (s->len >= sizeof v->subject) {
        deny(v, 400, "name too long", "sockgate: the name in the request path is too long");
        return;
    }
    memcpy(v->subject, s->start, s->len);
    v->subject[s->len] = '\0';
    v->subject_at = (size_t)(s->start - m->path);
}

/* commit's ?container=: the subject, whole or refused, never truncated
 * (dockerd would commit the whole name). */
static void subject_from_query(const http_query *q, sg_verdict *v)
{
    const char *c = http_query_first(q, "container");
    v->subject_in_query = true;
    if (!c || !c[0]) {
        v->subject[0] = '\0';
        plan(v, SG_VERDICT_ALLOW, SG_PLAN_NONE, "commit without a container");
        return; /* dockerd answers that itself */
    }
    if (strlen(c) >= sizeof v->subject) {
        deny(v, 400, "commit: container name too long",
             "sockgate: the container name in ?container= is too long");
        return;
    }
    memcpy(v->subject, c, strlen(c) + 1);
}

/* Which requests are looked at further, and how. */
static void choose_plan(const sg_settings *policy, const sg_request_ctx *ctx,
                        const http_query *q, sg_verdict *v)
{
    if (ctx->route_status != ROUTER_MATCH)
        return;
    route_id route = ctx->match->route;
    bool eci = policy->eci_enabled, iso = v->isolated;
    bool ports = policy->ports != SG_PORTS_DEFAULT;
    bool tenants = policy->tenants; /* creates are labelled, labels checked */
    const char *action = iso ? existing_action(route) : NULL;
    if (route == ROUTE_CONTAINER_CREATE && (eci || ports || tenants)) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_CREATE, "container create");
    } else if (route == ROUTE_CONTAINER_START && eci) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_START, "container start");
        v->action = "start";
        subject_from_path(ctx->match, v);
    } else if (route == ROUTE_CONTAINER_RESTART && eci) {
        /* a restart starts a stopped container: the same checks, for everyone */
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_START, "container restart");
        v->action = "restart";
        subject_from_path(ctx->match, v);
    } else if ((route == ROUTE_SERVICE_CREATE || route == ROUTE_SERVICE_UPDATE) &&
               (eci || ports || tenants)) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_SERVICE, "service spec");
    } else if (route == ROUTE_VOLUME_CREATE && (iso || tenants)) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_VOLUME_CREATE, "volume create");
    } else if (route == ROUTE_NETWORK_CREATE && (iso || tenants)) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_NETWORK_CREATE, "network create");
    } else if (!iso) {
        return;
    } else if (action && route == ROUTE_COMMIT) {
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_EXISTING, "existing container");
        v->action = action;
        subject_from_query(q, v);
    } else if (action) {
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_EXISTING, "existing container");
        v->action = action;
        subject_from_path(ctx->match, v);
    } else if (route == ROUTE_EXEC_CREATE) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_EXEC_CREATE, "exec create");
        subject_from_path(ctx->match, v);
    } else if (route == ROUTE_EXEC_START) {
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_EXEC_START, "exec start");
        subject_from_path(ctx->match, v);
    } else if (route == ROUTE_CONTAINER_UPDATE) {
        plan(v, SG_VERDICT_INSPECT_BODY, SG_PLAN_UPDATE, "container update");
    } else if (route == ROUTE_NETWORK_CONNECT) {
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_NETWORK_CONNECT, "network connect");
        subject_from_path(ctx->match, v);
    }
}

/* Scope "own": the tenant's request acts on its own objects only. Lists are
 * narrowed here; a request on one object is looked at (SG_PLAN_OWNED, or the
 * plan the isolation rules chose, which the ownership rule also binds). */
static void scope_plan(const sg_request_ctx *ctx, const http_query *q, const sg_tenancy *t,
                       sg_verdict *v)
{
    if (ctx->route_status != ROUTER_MATCH || v->kind == SG_VERDICT_DENY)
        return;
    route_id route = ctx->match->route;
    const char *why;
    if (sg_scope_answers(route, q, ctx->match)) {
        /* no filter can say it: the gate answers from dockerd's answer */
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_ANSWER, "scope: own");
        if (route == ROUTE_NETWORK_INSPECT)
            subject_from_path(ctx->match, v);
        return;
    }
    switch (sg_scope_route_class(route)) {
    case SG_SCOPE_SHARED:
    case SG_SCOPE_CREATE: /* planned above: the caller is isolated */
        return;
    case SG_SCOPE_REFUSED: {
        char msg[600];
        const route_info *ri = route_lookup(route);
        snprintf(msg, sizeof msg, "sockgate: %s is not available to a tenant whose scope is "
                 "\"own\"", ri ? ri->id_name : "this request");
        deny(v, 403, "scope: not a tenant's", msg);
        return;
    }
    case SG_SCOPE_LIST:
        if (sg_scope_list_query(q, route, t->id, v->query, sizeof v->query, &why) != 0)
            deny(v, 400, "scope: list", why);
        return;
    case SG_SCOPE_SUBJECT:
        break;
    }
    if (route == ROUTE_NETWORK_CONNECT || route == ROUTE_NETWORK_DISCONNECT) {
        /* the container joining or leaving is in the body: read it; a
         * connect keeps its plan, so that isolation checks the network too */
        plan(v, SG_VERDICT_INSPECT_BODY,
             route == ROUTE_NETWORK_CONNECT ? SG_PLAN_NETWORK_CONNECT : SG_PLAN_OWNED,
             "scope: own");
        subject_from_path(ctx->match, v);
    } else if (v->plan == SG_PLAN_NONE) {
        plan(v, SG_VERDICT_CHECK_TARGET, SG_PLAN_OWNED, "scope: own");
        if (route == ROUTE_COMMIT)
            subject_from_query(q, v);
        else
            subject_from_path(ctx->match, v);
    } else if (!v->subject[0] && !v->subject_in_query) {
        subject_from_path(ctx->match, v); /* an update: the isolation rule needs none */
    }
}

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict)
{
    /* The scalars, then the first byte of each string: the strings are
     * 4.5 KiB that a request which passes never reads, and zeroing them
     * would cost more than the decision. */
    memset(verdict, 0, offsetof(sg_verdict, subject));
    verdict->kind = SG_VERDICT_ALLOW;
    verdict->plan = SG_PLAN_NONE;
    verdict->subject[0] = verdict->pin[0] = '\0';
    verdict->message[0] = verdict->rule[0] = verdict->image[0] = verdict->query[0] = '\0';
    verdict->isolated = sg_caller_isolated(policy, &ctx->caller);
    sg_tenancy t;
    sg_tenancy_resolve(policy, &ctx->caller, ctx->tenant, &t);
    if (t.refused) {
        deny(verdict, 403, "tenant: refused", t.refused);
        return;
    }
    if (command_list_blocks(policy, ctx, t.commands, verdict))
        return;
    http_query q;
    if (query_unreadable(ctx, &q, verdict))
        return;
    if (!request_rules_refuse(policy, ctx, &q, verdict)) {
        if (policy->eci_enabled)
            memcpy(verdict->rule, "no rule applies", sizeof "no rule applies");
        else
            memcpy(verdict->rule, "policy off", sizeof "policy off");
        choose_plan(policy, ctx, &q, verdict);
        if (t.id && t.scope == SG_SCOPE_OWN)
            scope_plan(ctx, &q, &t, verdict);
    }
    http_query_free(&q);
}
