/*
 * decide.h — the decision point of the request path.
 *
 * Every request passes sg_decide_request() after it is parsed and routed:
 * the command list, the rules that need nothing but the request line
 * (rule_requests.c), and the choice of what else must be looked at before
 * the request may go on:
 *
 *   INSPECT_BODY  the body says what the container gets (create, start,
 *                 exec, update, service, network and volume create): the gate
 *                 buffers it, then sg_decision_start() decides on it;
 *   CHECK_TARGET  the request acts on something that exists (attach, copy
 *                 into, commit, exec start, network connect): the gate asks
 *                 sg_decision_start() before forwarding, and the body, if
 *                 any, streams after the verdict.
 *
 * sg_decision_start() (decision.c) may need the engine and the registry: it
 * is asynchronous and ends in a callback. The gate (src/gate) knows nothing
 * of policy; policy knows nothing of client sockets and buffers. This is
 * the seam between them.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "decide/caller.h"
#include "decide/plan.h"
#include "decide/policy_env.h"
#include "decide/tenant.h"
#include "decide/verdict.h"
#include "http/http.h"
#include "policy/settings.h"
#include "route/router.h"

typedef enum {
    SG_VERDICT_ALLOW,        /* forward (the body possibly rewritten)          */
    SG_VERDICT_DENY,         /* answer status + message, forward nothing       */
    SG_VERDICT_INSPECT_BODY, /* buffer the body, then sg_decision_start()      */
    SG_VERDICT_CHECK_TARGET, /* sg_decision_start() first; the body streams    */
    SG_VERDICT_ANSWER,       /* (a decision's end) answer 200 with its body,
                                forward nothing                                */
} sg_verdict_kind;


/* Largest body buffered for inspection; larger ones are refused (413). */
#define SG_MAX_INSPECT_BODY (4 * 1024 * 1024)

typedef struct {
    /* The scalars come first: sg_decide_request() zeroes them in one go and
     * only the first byte of each string below (see there). */
    sg_verdict_kind kind;
    sg_plan plan;         /* INSPECT_BODY / CHECK_TARGET                      */
    const char *action;   /* EXISTING: "attach to", "copy files into", …     */
    bool isolated;        /* the isolation rules bind the caller              */
    int status;           /* DENY: HTTP status                                */
    bool rewritten;       /* ALLOW: the forwarded body differs (socket, pin)  */
    bool log;             /* worth a log line (denials, rewrites)             */
    bool drop_body;       /* ALLOW: forward without the body (a start)        */
    /* ALLOW: where the request names the subject: at subject_at in the
     * decoded path, or as commit's ?container= when subject_in_query. */
    size_t subject_at;
    bool subject_in_query;
    char subject[512];    /* the container, exec or network acted on         */
    /* ALLOW: name the subject by this ID instead (pins.c); "" leaves the
     * request as it is. */
    char pin[80];
    char message[2048];   /* DENY: the Engine-style error message             */
    char rule[1400];      /* what decided, for the log                        */
    char image[600];      /* the image concerned, if any                      */
    /* ALLOW: forward with this query instead ("" : the request's own): a
     * scoped tenant's list, narrowed to its objects (rule_scope.c). */
    char query[4096];
} sg_verdict;

/*
 * What the engine's answers to a decision's look-ups cost while the decision
 * holds them (their parsed trees): take() is asked before a tree is kept and
 * returns 0, or an HTTP status (429/503) with *why when the caller's or the
 * process's budget cannot hold it (gate/budget.h). The decision then fails
 * closed with that answer. take NULL: nothing is metered (explain, tests).
 */
typedef struct {
    int (*take)(void *arg, uint64_t bytes, const char **why);
    void *arg;
} sg_decision_meter;

typedef struct {
    sg_caller caller;
    http_method method;
    const char *target;        /* raw request target, NUL-terminated        */
    router_status route_status;
    const router_match *match; /* valid when route_status == ROUTER_MATCH   */
    const char *content_type;  /* Content-Type value, NUL-terminated, or NULL */
    bool body_chunked;         /* the body came chunked                      */
    sg_decision_meter meter;   /* look-up answers against the budget          */
    const sg_tenant *tenant;   /* restricted socket: the container's tenant   */
} sg_request_ctx;

void sg_decide_request(const sg_settings *policy, const sg_request_ctx *ctx,
                       sg_verdict *verdict);

/*
 * The asynchronous decision is done: on ALLOW, body/len is what to forward
 * (a malloc'd buffer the callee takes over), or NULL to forward the body
 * as received (when v->drop_body, forward none).
 */
typedef void (*sg_decision_fn)(void *arg, const sg_verdict *v, char *body, size_t len);

typedef struct sg_decision sg_decision;

/*
 * Decide on what `first` (from sg_decide_request) asked for, with the
 * buffered body for INSPECT_BODY (len may be 0; NULL for CHECK_TARGET).
 * ctx->match need only be valid during the call. Returns NULL if done
 * already (cb was called).
 */
sg_decision *sg_decision_start(sg_policy_env *env, const sg_settings *policy,
                               const sg_request_ctx *ctx, const sg_verdict *first,
                               const char *body, size_t len, sg_decision_fn cb, void *arg);
/* The client went away: cb will not be called. */
void sg_decision_cancel(sg_decision *d);

/*
 * The same decision for `sockgate explain --body`: runs on env's loop until
 * done and prints every finding and edit to `to`. Returns the verdict.
 */
sg_verdict_kind sg_decision_explain(sg_policy_env *env, const sg_settings *policy,
                                    const sg_request_ctx *ctx, const sg_verdict *first,
                                    const char *body, size_t len, FILE *to);

#endif
