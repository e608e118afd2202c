/*
 * decide.h — the decision points of the request path.
 *
 * Every request passes sg_decide_request() after it is parsed and routed;
 * requests whose route carries a body that can expose the Docker socket
 * (container create/start, service create/update, volume create) have their
 * body buffered and passed to sg_decide_body() before anything is
 * forwarded. The gate (src/gate) knows nothing of policy; policy knows
 * nothing of sockets and buffers. This is the seam between them.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "policy/settings.h"
#include "route/router.h"

typedef enum {
    SG_SOCKET_PUBLIC,     /* host users, CI, SDKs                      */
    SG_SOCKET_RESTRICTED, /* containers allowed to mount the socket    */
} sg_socket_kind;

typedef enum {
    SG_VERDICT_ALLOW,        /* forward as is                            */
    SG_VERDICT_DENY,         /* answer status + message, forward nothing */
    SG_VERDICT_INSPECT_BODY, /* buffer the body, then sg_decide_body()   */
} sg_verdict_kind;

/* Largest body buffered for inspection; larger ones are refused (413). */
#define SG_MAX_INSPECT_BODY (4 * 1024 * 1024)

typedef struct {
    sg_verdict_kind kind;
    int status;          /* DENY: HTTP status                          */
    char message[1024];  /* DENY: the Engine-style error message       */
    const char *rule;    /* short name of the rule that decided, for logs */
} sg_verdict;

typedef struct {
    sg_socket_kind socket;
    http_method method;
    const char *target;       /* raw request target, NUL-terminated   */
    router_status route_status;
    const router_match *match; /* valid when route_status == ROUTER_MATCH */
} sg_request_ctx;

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict);

/*
 * Decide on a fully buffered body. On ALLOW, *replacement may be set to a
 * malloc'd body to forward instead (the caller frees it); NULL means
 * forward the body as received.
 */
void sg_decide_body(const sg_settings *policy, const sg_request_ctx *ctx,
                    const char *body, size_t len, sg_verdict *verdict,
                    char **replacement, size_t *replacement_len);

const char *sg_socket_kind_name(sg_socket_kind kind);

#endif
