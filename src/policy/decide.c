/*
 * decide.c — the decision points (see decide.h).
 *
 * Today the policy itself (imageList, commandList) is not enforced yet: with
 * any settings every request is allowed. What is here already is the shape
 * every later rule plugs into: which routes carry a body that must be
 * inspected before it may reach dockerd, and the verdict structure the gate
 * acts on.
 */
#include "policy/decide.h"

#include <string.h>

const char *sg_socket_kind_name(sg_socket_kind kind)
{
    return kind == SG_SOCKET_RESTRICTED ? "restricted" : "public";
}

/* Routes whose body can bind a host path into a container. */
static bool route_body_can_expose_socket(route_id id)
{
    switch (id) {
    case ROUTE_CONTAINER_CREATE:
    case ROUTE_CONTAINER_START:
    case ROUTE_SERVICE_CREATE:
    case ROUTE_SERVICE_UPDATE:
    case ROUTE_VOLUME_CREATE:
        return true;
    default:
        return false;
    }
}

static void verdict_allow(sg_verdict *v, const char *rule)
{
    memset(v, 0, sizeof *v);
    v->kind = SG_VERDICT_ALLOW;
    v->rule = rule;
}

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict)
{
    verdict_allow(verdict, policy->eci_enabled ? "policy-pending" : "policy-off");
    if (ctx->route_status == ROUTER_MATCH &&
        route_body_can_expose_socket(ctx->match->route)) {
        verdict->kind = SG_VERDICT_INSPECT_BODY;
        verdict->rule = "inspect-body";
    }
}

void sg_decide_body(const sg_settings *policy, const sg_request_ctx *ctx,
                    const char *body, size_t len, sg_verdict *verdict,
                    char **replacement, size_t *replacement_len)
{
    (void)body;
    (void)len;
    (void)ctx;
    *replacement = NULL;
    *replacement_len = 0;
    verdict_allow(verdict, policy->eci_enabled ? "policy-pending" : "policy-off");
}
