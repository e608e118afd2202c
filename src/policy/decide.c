/*
 * decide.c — the per-request decision point (see decide.h).
 *
 * Today it sends the requests that can mount host paths to the body
 * decision (mount_decision.c) and lets everything else through; the
 * commandList of the restricted socket plugs in here.
 */
#include "policy/decide.h"

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

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict)
{
    memset(verdict, 0, sizeof *verdict);
    verdict->kind = SG_VERDICT_ALLOW;
    strcpy(verdict->rule, policy->eci_enabled ? "no rule applies" : "policy off");
    if (ctx->route_status == ROUTER_MATCH && route_can_mount(ctx->match->route)) {
        verdict->kind = SG_VERDICT_INSPECT_BODY;
        strcpy(verdict->rule, "socket mount check");
    }
}
