/*
 * rules.h — the rule modules behind the decision framework.
 *
 *   rule_isolation.c     docs/DESIGN.md section 7: what an isolated caller's
 *                        containers may get from the host (privileges,
 *                        namespaces, capabilities, devices, confinement,
 *                        host paths), and which existing containers they may
 *                        exec into, attach to, copy into or start
 *   rule_ports.c         portBindingBehavior
 *   rule_socket_mount.c  sections 2-3: who may mount the Docker socket, and
 *                        the rewrite to the restricted socket
 *   rule_requests.c      rules on the request line alone (blockDockerLoad,
 *                        engine-wide changes through the restricted socket,
 *                        build options), used by decide.c
 *
 * Every rule is synchronous and pure: it reads the request (an sg_spec), the
 * caller, the policy and facts the framework has already looked up, and
 * writes findings and edits (verdict.h). What a rule will read must be
 * asked for first: its entry of the rule table (below) names the facts.
 * The socket-mount rule alone has an asynchronous second step, the
 * registry proof of the image, which the framework runs.
 */
#ifndef SG_RULES_H
#define SG_RULES_H

#include <stdbool.h>

#include "body/jsonx.h"
#include "body/spec.h"
#include "decide/caller.h"
#include "decide/exposure.h"
#include "decide/facts.h"
#include "decide/host_paths.h"
#include "decide/plan.h"
#include "decide/policy_env.h"
#include "decide/tenant.h"
#include "decide/verdict.h"
#include "http/query.h"
#include "policy/settings.h"
#include "route/route_table.h"

typedef struct {
    const sg_settings *policy;
    const sg_policy_env *env;
    const sg_caller *caller;
    bool isolated;                /* sg_caller_isolated() under policy      */
    const sg_allowed_dirs *dirs;  /* filesharingAllowedDirectories for them */
    const sg_facts *facts;
    const sg_tenancy *tenancy;    /* the caller's tenant, scope and list    */
} sg_rule_ctx;

/* Is a network name one of the engine's own (host, bridge, none, default)? */
bool sg_network_is_builtin(const char *name);
/* The network a container is connected to (network connect). */
void sg_isolation_want_network(const char *network, sg_facts *facts);
/*
 * What a spec names, one call each: its named volumes and volumes-from
 * containers (m: the mount), the containers it joins or links to, the
 * networks other than the engine's own (m NULL). Isolation asks for them
 * (sg_want_spec_refs), the ownership rule checks them (rule_scope.c).
 */
typedef void (*sg_spec_ref_fn)(void *arg, sg_fact_kind kind, const char *name,
                               const sg_mount *m);
void sg_spec_refs(const sg_spec *spec, sg_spec_ref_fn fn, void *arg);
void sg_want_spec_refs(const sg_spec *spec, sg_facts *facts);

/* ---- rule_isolation.c ---- */

/* A container to be created or updated, or a service (spec). */
void sg_isolation_check(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out,
                        sg_edits *edits);
/* An existing container the request acts on: `action` is what the caller
 * tries ("exec into", "attach to", "start"). The container's fact must have
 * been looked up. */
void sg_isolation_check_existing(const sg_rule_ctx *rc, const char *container,
                                 const char *action, sg_findings *out);
/* An exec create or start that asks for privileges. */
void sg_isolation_check_exec(const sg_rule_ctx *rc, bool privileged, const char *where,
                             sg_findings *out);
/* A network create body (driver, options), or a network a container is
 * connected to. */
void sg_isolation_check_network_create(const sg_rule_ctx *rc, json_t *req, sg_findings *out,
                                       sg_jx *r);
void sg_isolation_check_network(const sg_rule_ctx *rc, const char *network, const char *where,
                                sg_findings *out);
/* The message tail naming who could be exempt. */
const char *sg_isolation_tail(const sg_rule_ctx *rc);
const char *sg_isolation_tail_for(sg_socket_kind socket);

/* ---- rule_ports.c ---- */

/* Does the port check need the image (to know what -P publishes)? */
bool sg_ports_need_image(const sg_rule_ctx *rc, const sg_spec *spec);
/* config: the create body (for Config.ExposedPorts), or NULL for a
 * service; image: the image fact when sg_ports_need_image(). */
void sg_ports_check(const sg_rule_ctx *rc, const sg_spec *spec, json_t *config,
                    const sg_fact *image, sg_findings *out, sg_edits *edits);

/* ---- rule_socket_mount.c ---- */

#define SG_MAX_EXPOSURES 32

typedef struct {
    sg_mount *mount;     /* borrowed from the spec or a fact's spec         */
    bool from_request;   /* a mount of this request (rewritable)            */
    sg_exposure e;
} sg_socket_exposure;

typedef struct {
    sg_socket_exposure items[SG_MAX_EXPOSURES];
    size_t n;
    bool unknown;        /* a look-up failed: exposure cannot be ruled out */
    char unknown_why[256];
} sg_socket_exposures;

/* Which mounts of spec give the container a protected socket. */
void sg_socket_find(const sg_rule_ctx *rc, const sg_spec *spec, sg_socket_exposures *out);
/*
 * The image is proven allowed (pinned: the reference to create from): the
 * edits that give the container the restricted socket instead, or NULL;
 * else the reason it cannot be done. body is the create body (for the
 * image pin), NULL for a start.
 */
const char *sg_socket_rewrite(const sg_rule_ctx *rc, const sg_spec *spec,
                              const sg_socket_exposures *x, json_t *image_holder,
                              const char *pinned, sg_edits *edits);
/* A start: is every exposure of the existing container the restricted
 * socket, as sockgate gives it? NULL if so, else the reason. */
const char *sg_socket_check_existing(const sg_rule_ctx *rc, const sg_spec *spec,
                                     const sg_socket_exposures *x);
/* The standard denial: prefix, image (normalised, without its tag), reason. */
void sg_socket_deny(sg_findings *out, const char *image, const char *reason);

/* ---- the rule table (rules.c) ----
 *
 * A rule is one entry: its name, the plans it applies to, who it binds,
 * the facts it needs, and its check. The decision framework (decision.c)
 * asks every entry that applies for its facts, lets it want more as they
 * arrive, and runs the checks in table order; nothing else knows which
 * rules exist. A plan (which requests are looked at, and how their body
 * is read) is decide.c's and decision.c's; a new rule for an existing plan
 * is a new entry here and nothing else.
 */

/* What a rule is given: the request as the decision read it. */
typedef struct {
    const sg_rule_ctx *rc;
    sg_plan plan;
    const sg_spec *spec;        /* the body's (create, service, update,
                                   volume create); empty otherwise           */
    json_t *body;               /* the parsed body, or NULL                  */
    const char *subject;        /* the container, exec or network named      */
    const char *action;         /* what the caller tries on an existing
                                   container ("attach to", "start" …)        */
    const char *image;          /* the image the request (or a start's
                                   container) names                          */
    bool exec_privileged;       /* an exec create asks for privileges        */
    route_id route;             /* the request's route                       */
    json_t *hostconfig;         /* a create's host configuration, where
                                   dockerd reads it (hostconfig.c), or NULL */
} sg_rule_input;

/* What a rule may write: refusals, edits, and — the socket rule — the
 * exposures whose image the framework then proves against the registry. */
typedef struct {
    sg_findings *findings;
    sg_edits *edits;
    sg_socket_exposures *exposures;
} sg_rule_output;

/* ---- rule_scope.c: tenants ---- */

/* What an ownership check reads: the object in the path, a network
 * connect's container, a create's volumes, containers and networks. */
void sg_scope_want(const sg_rule_input *in, sg_facts *facts);
void sg_scope_arrived(const sg_rule_input *in, const sg_fact *f, sg_facts *facts);
/* Everything the request names is the tenant's, or it is answered like
 * something that does not exist; a network connect's container is pinned. */
void sg_scope_check(const sg_rule_input *in, sg_rule_output *out);
/* Labels: none under io.sockgate. from any caller; the tenant's own on what
 * it creates (and an empty tenant label on others' containers). */
void sg_tenant_labels_check(const sg_rule_input *in, sg_rule_output *out);
/* SG_PLAN_ANSWER, once nothing refused: dockerd's answer cut to the
 * tenant's objects (a new reference), or NULL. */
json_t *sg_scope_answer(const sg_rule_input *in);

typedef enum {
    SG_RULE_POLICY_ON, /* everyone, while enhancedContainerIsolation is on   */
    SG_RULE_ISOLATED,  /* isolated callers only                               */
    SG_RULE_ALWAYS,    /* everyone, policy on or off (the settings the Engine
                          API can enforce for all: ports)                    */
    SG_RULE_TENANTS,   /* everyone, while the settings name tenants          */
    SG_RULE_SCOPED,    /* a tenant whose scope is "own"                      */
} sg_rule_who;

typedef struct {
    const char *name;
    unsigned plans;    /* SG_RULE_PLAN(p) | …                                */
    sg_rule_who who;
    /* The facts the check reads about the request itself; NULL: none. */
    void (*want)(const sg_rule_input *in, sg_facts *facts);
    /* A fact arrived: the facts it leads to (a volumes-from container's own
     * mounts, an exec instance's container); NULL: none. */
    void (*arrived)(const sg_rule_input *in, const sg_fact *f, sg_facts *facts);
    void (*check)(const sg_rule_input *in, sg_rule_output *out);
} sg_rule;

#define SG_RULE_PLAN(p) (1u << (p))

extern const sg_rule sg_rule_table[];
extern const size_t sg_rule_count;

/* Does rule r bind this request? */
bool sg_rule_applies(const sg_rule *r, const sg_rule_input *in);

/* ---- rule_requests.c ---- */

/*
 * Rules that need nothing but the request line: the first that refuses
 * writes status, message and rule, and returns true. `isolated`: the
 * isolation rules bind the caller. Content-Type is the request's, or NULL.
 */
typedef struct {
    int status;
    char message[1024];
    char rule[256];
} sg_request_refusal;

bool sg_requests_refuse(const sg_settings *policy, sg_socket_kind socket, bool isolated,
                        route_id route, const http_query *query, const char *content_type,
                        sg_request_refusal *out);

#endif
