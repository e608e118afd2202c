/*
 * decide.h — the decision points of the request path.
 *
 * Every request passes sg_decide_request() after it is parsed and routed.
 * Requests that can put a host path into a container (container create and
 * start, service create and update) are then decided on their whole body by
 * sg_decide_body(), which may need dockerd (inspect a container, a volume,
 * an image) and the registry (digests): it is asynchronous and ends in a
 * callback. The gate (src/gate) knows nothing of policy; policy knows
 * nothing of client sockets and buffers. This is the seam between them.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "decide/policy_env.h"
#include "policy/settings.h"
#include "route/router.h"

typedef enum {
    SG_SOCKET_PUBLIC,     /* host users, CI, SDKs                      */
    SG_SOCKET_RESTRICTED, /* containers allowed to mount the socket    */
} sg_socket_kind;

typedef enum {
    SG_VERDICT_ALLOW,        /* forward (the body possibly rewritten)     */
    SG_VERDICT_DENY,         /* answer status + message, forward nothing  */
    SG_VERDICT_INSPECT_BODY, /* buffer the body, then sg_decide_body()    */
} sg_verdict_kind;

/* Largest body buffered for inspection; larger ones are refused (413). */
#define SG_MAX_INSPECT_BODY (4 * 1024 * 1024)

/* Every socket-mount denial starts like Docker Desktop's. */
#define SG_ECI_PREFIX "enhanced container isolation: "

typedef struct {
    sg_verdict_kind kind;
    int status;          /* DENY: HTTP status                                */
    char message[2048];  /* DENY: the Engine-style error message             */
    char rule[1400];     /* what decided, for the log                        */
    char image[600];     /* the image concerned, if any                      */
    bool rewritten;      /* ALLOW: the forwarded body differs (socket, pin)  */
    bool log;            /* worth a log line (denials, rewrites)             */
} sg_verdict;

typedef struct {
    sg_socket_kind socket;
    http_method method;
    const char *target;        /* raw request target, NUL-terminated   */
    router_status route_status;
    const router_match *match; /* valid when route_status == ROUTER_MATCH */
} sg_request_ctx;

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict);

/*
 * The body decision is done: on ALLOW, body/len is what to forward (a
 * malloc'd buffer the callee takes over), or NULL to forward the body as
 * received.
 */
typedef void (*sg_body_decided_fn)(void *arg, const sg_verdict *v, char *body, size_t len);

typedef struct sg_body_decision sg_body_decision;

/*
 * Decide on a fully buffered body (len may be 0). ctx->match must stay valid
 * only during the call. Returns NULL if done already (cb was called).
 */
sg_body_decision *sg_decide_body(sg_policy_env *env, const sg_settings *policy,
                                 const sg_request_ctx *ctx, const char *body, size_t len,
                                 sg_body_decided_fn cb, void *arg);
/* The client went away: cb will not be called. */
void sg_body_decision_cancel(sg_body_decision *d);

const char *sg_socket_kind_name(sg_socket_kind kind);

#endif
