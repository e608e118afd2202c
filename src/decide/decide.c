/*
 * decide.c — the per-request decision point (see decide.h).
 *
 * On the restricted socket the commandList comes first (commands.c); then
 * the requests that can mount host paths go to the body decision
 * (mount_decision.c), on either socket; everything else passes.
 */
#include "decide/decide.h"

#include <stdio.h>
#include <string.h>

const char *sg_socket_kind_name(sg_socket_kind kind)
{
    return kind == SG_SOCKET_RESTRICTED ? "restricted" : "public";
}

/* Routes whose body (or, for start, whose container) can bind a host path. */
static bool route_can_mount(route_id id)
{
    switch (id) {
    case ROUTE_CONTAINER_CREATE:
    case ROUTE_CONTAINER_START:
    case ROUTE_SERVICE_CREATE:
    case ROUTE_SERVICE_UPDATE:
        return true;
    default:
        return false;
    }
}

/* The commandList: only on the restricted socket, only with the policy on. */
static bool command_list_blocks(const sg_settings *policy, const sg_request_ctx *ctx,
                                sg_verdict *v)
{
    if (ctx->socket != SG_SOCKET_RESTRICTED || !policy->eci_enabled ||
        policy->commands_type == SG_COMMANDS_NONE)
        return false;
    route_id route = ctx->route_status == ROUTER_MATCH ? ctx->match->route : ROUTE_NONE;
    const char *route_path = ctx->match->route_path ? ctx->match->route_path : ctx->match->path;
    if (!sg_commands_blocked(&policy->command_policy, route, route_path))
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
             policy->commands_type == SG_COMMANDS_DENY ? "deny" : "allow",
             ri ? ri->id_name : "unknown route");
    return true;
}

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict)
{
    memset(verdict, 0, sizeof *verdict);
    verdict->kind = SG_VERDICT_ALLOW;
    if (command_list_blocks(policy, ctx, verdict))
        return;
    strcpy(verdict->rule, policy->eci_enabled ? "no rule applies" : "policy off");
    if (ctx->route_status == ROUTER_MATCH && route_can_mount(ctx->match->route)) {
        verdict->kind = SG_VERDICT_INSPECT_BODY;
        strcpy(verdict->rule, "socket mount check");
    }
}
