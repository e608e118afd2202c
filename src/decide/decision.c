/*
 * decision.c — the asynchronous decision framework (see decide.h).
 *
 * One decision, for one request, in phases:
 *
 *   read    parse the body like dockerd (gojson; ambiguous bodies refused),
 *           find the host configuration dockerd will use (hostconfig.c) and
 *           read it into an sg_spec (spec.c);
 *   facts   look up in the engine, all at once, every fact the rules of the
 *           rule table (rules.c) that apply will read, and what the
 *           answers lead to (facts.c);
 *   rules   run their checks, in table order, on the spec and the facts:
 *           findings and edits (verdict.h). This file knows no rule by
 *           name: a new rule is an entry of the table;
 *   image   only when a protected socket would be mounted: prove the image
 *           against the registry (image_verify.c), then rewrite;
 *   finish  a finding refuses the request; otherwise the edits are applied
 *           and the body that was checked is forwarded, re-serialised.
 *
 * Nothing here blocks: engine look-ups are requests on the loop, registry
 * look-ups run on libuv's thread pool, and the gate keeps serving other
 * connections. A decision holds a reference while a step is under way; when
 * the client goes away it is cancelled: pending look-ups are cancelled and
 * its callback is never called.
 */
#include "decide/decide.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"
#include "body/hostconfig.h"
#include "body/jsonx.h"
#include "body/spec.h"
#include "decide/facts.h"
#include "decide/host_paths.h"
#include "decide/image_verify.h"
#include "decide/pins.h"
#include "decide/rule_scope.h"
#include "decide/rules.h"
#include "decide/tenant.h"

typedef enum { PHASE_FACTS, PHASE_IMAGE, PHASE_DONE } decision_phase;

struct sg_decision {
    sg_policy_env *env;
    sg_settings *s;
    sg_caller caller;
    bool isolated;
    route_id route;
    sg_plan plan;
    char subject[512];
    const char *action;
    bool body_chunked;
    size_t body_len;
    json_t *body;          /* the parsed body (INSPECT_BODY plans)          */
    sg_spec spec;          /* create, service, update                       */
    json_t *image_holder;  /* the object whose "Image" names the image      */
    json_t *hostconfig;    /* create, service: where dockerd reads it       */
    sg_tenant tenant;      /* the caller's container's, copied              */
    sg_tenancy tenancy;    /* resolved from it once                          */
    sg_policy_choice *choice; /* a new root container's image policy        */
    char image[600];
    bool exec_privileged;
    sg_facts facts;
    sg_findings findings;
    sg_edits edits;
    sg_image_check *check;
    decision_phase phase;
    sg_verdict v;
    FILE *explain;         /* sg_decision_explain(): print findings/edits   */
    sg_decision_fn cb;
    void *arg;
    int refs;
    bool cancelled, done;
    /* Last, and not zeroed (decision_new): a path per entry, 256 KiB that
     * sg_allowed_dirs_for and sg_socket_find fill from their counts. */
    sg_allowed_dirs dirs;
    sg_socket_exposures exposures;
};

/* ---- lifetime and the end ----------------------------------------------- */

static void decision_unref(sg_decision *d)
{
    if (--d->refs > 0)
        return;
    sg_facts_free(&d->facts);
    sg_spec_free(&d->spec);
    json_decref(d->body);
    sg_findings_free(&d->findings);
    sg_edits_free(&d->edits);
    sg_settings_unref(d->s);
    free(d);
}

static void decision_print(const sg_decision *d)
{
    for (size_t i = 0; i < d->findings.n; i++)
        fprintf(d->explain, "finding: %d [%s] %s\n", d->findings.items[i].status,
                d->findings.items[i].rule, d->findings.items[i].message);
    if (d->findings.dropped)
        fprintf(d->explain, "finding: … and %zu more\n", d->findings.dropped);
    for (size_t i = 0; i < d->edits.n; i++)
        fprintf(d->explain, "edit: %s%s%s%s\n", d->edits.items[i].why,
                d->edits.items[i].value ? " -> " : "",
                d->edits.items[i].value ? d->edits.items[i].value : "",
                d->edits.items[i].target ? d->edits.items[i].target : "");
}

static void decision_end(sg_decision *d, char *body, size_t len)
{
    if (d->done || d->cancelled) {
        free(body);
        return;
    }
    d->done = true;
    d->phase = PHASE_DONE;
    if (d->explain)
        decision_print(d);
    d->cb(d->arg, &d->v, body, len);
    decision_unref(d); /* the owner's reference: the gate is done with us */
}

/* Refuse with the first finding; when none could be recorded (out of
 * memory), refuse all the same, with a message of sockgate's own. */
static void decision_refuse(sg_decision *d)
{
    static const sg_finding lost = {
        .status = 500, .rule = "findings lost",
        .message = "sockgate: out of memory while deciding; the request is refused", .raw = true};
    const sg_finding *f = d->findings.n > 0 ? &d->findings.items[0] : &lost;
    d->v.kind = SG_VERDICT_DENY;
    d->v.status = f->status;
    /* dockerd's own "no such …" answers are not worth a line, unless a
     * tenant reached for what is not its own */
    d->v.log = f->status != 404 || strncmp(f->rule, "scope:", 6) == 0;
    snprintf(d->v.message, sizeof d->v.message, "%s", f->message);
    if (d->findings.n + d->findings.dropped > 1)
        snprintf(d->v.rule, sizeof d->v.rule, "%s (and %zu more)", f->rule,
                 d->findings.n + d->findings.dropped - 1);
    else
        snprintf(d->v.rule, sizeof d->v.rule, "%s", f->rule);
    decision_end(d, NULL, 0);
}

/* A refusal of sockgate's own, outside the rules (malformed bodies). */
__attribute__((format(printf, 3, 4)))
static void decision_fail(sg_decision *d, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sg_findings_add_raw(&d->findings, status, "malformed request", msg);
    decision_refuse(d);
}

/* The container or network the request's path names, by the ID its
 * look-up returned (pins.c). */
static void decision_pin_subject(sg_decision *d)
{
    const char *id = NULL;
    sg_fact_kind owned = sg_scope_subject_kind(d->route);
    if (d->plan == SG_PLAN_START || d->plan == SG_PLAN_EXISTING ||
        d->plan == SG_PLAN_EXEC_CREATE || (d->plan == SG_PLAN_UPDATE && d->subject[0]) ||
        (d->plan == SG_PLAN_OWNED && owned == SG_FACT_CONTAINER))
        id = sg_pin_id(&d->facts, SG_FACT_CONTAINER, d->subject);
    else if (d->plan == SG_PLAN_NETWORK_CONNECT ||
             (d->plan == SG_PLAN_OWNED && owned == SG_FACT_NETWORK))
        id = sg_pin_id(&d->facts, SG_FACT_NETWORK, d->subject);
    if (id)
        snprintf(d->v.pin, sizeof d->v.pin, "%s", id);
}

static sg_rule_ctx decision_rule_ctx(const sg_decision *d);
static sg_rule_input decision_input(const sg_decision *d, const sg_rule_ctx *rc);

/* The gate's own answer, from dockerd's, cut to the tenant's objects. */
static void decision_answer(sg_decision *d)
{
    sg_rule_ctx rc = decision_rule_ctx(d);
    sg_rule_input in = decision_input(d, &rc);
    json_t *a = sg_scope_answer(&in);
    char *out = a ? json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(a);
    if (!out) {
        decision_fail(d, 500, "sockgate: out of memory while answering");
        return;
    }
    d->v.kind = SG_VERDICT_ANSWER;
    decision_end(d, out, strlen(out));
}

static void decision_allow(sg_decision *d)
{
    if (d->edits.failed) { /* an edit the request must carry could not be made */
        decision_fail(d, 500, "sockgate: out of memory while deciding; the request is refused");
        return;
    }
    d->v.kind = SG_VERDICT_ALLOW;
    if (d->plan == SG_PLAN_ANSWER) {
        decision_answer(d);
        return;
    }
    decision_pin_subject(d);
    if ((d->plan == SG_PLAN_CREATE || d->plan == SG_PLAN_SERVICE) &&
        sg_pins_spec(&d->spec, &d->facts, &d->edits) != 0) {
        decision_fail(d, 500, "sockgate: out of memory");
        return;
    }
    if (d->edits.n > 0) {
        d->v.rewritten = true;
        d->v.log = true;
    }
    if (!d->body) {
        decision_end(d, NULL, 0);
        return;
    }
    /* Forward what was checked, never the bytes as received. */
    char *out = NULL;
    if (sg_edits_apply(&d->edits, d->body) == 0)
        out = json_dumps(d->body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!out) {
        decision_fail(d, 500, "sockgate: cannot rewrite the request body");
        return;
    }
    decision_end(d, out, strlen(out));
}

static void decision_finish(sg_decision *d)
{
    if (sg_findings_refuse(&d->findings))
        decision_refuse(d);
    else
        decision_allow(d);
}

/* ---- the image proof (socket mounts) ------------------------------------- */

static sg_rule_ctx decision_rule_ctx(const sg_decision *d)
{
    return (sg_rule_ctx){.policy = d->s, .env = d->env, .caller = &d->caller,
                         .isolated = d->isolated, .dirs = &d->dirs, .facts = &d->facts,
                         .tenancy = &d->tenancy};
}

/* The spec the socket rule rewrites or checks: the request's, or (start)
 * the existing container's. */
static const sg_spec *decision_socket_spec(const sg_decision *d)
{
    if (d->plan != SG_PLAN_START)
        return &d->spec;
    const sg_fact *f = sg_facts_find(&d->facts, SG_FACT_CONTAINER, d->subject);
    return f && f->has_spec ? &f->spec : &d->spec;
}

/* ---- tenants: a container that gets the restricted socket ----------------- */

static void decision_add_label(sg_decision *d, const char *label, const char *value,
                               const char *why)
{
    /* a failure is sticky in the edits: decision_allow refuses */
    sg_edits_add(&d->edits, SG_EDIT_SET_LABEL, d->body, "Labels", value, label, why);
}

static void decision_on_policy(void *arg, const char *pattern, const char *error)
{
    sg_decision *d = arg;
    d->choice = NULL;
    if (d->cancelled || d->done)
        return;
    d->refs++;
    if (error)
        sg_socket_deny(&d->findings, d->image, error);
    else
        decision_add_label(d, SG_POLICY_LABEL, pattern ? pattern : "",
                           "tenant: the image policy proven for this image");
    decision_finish(d);
    decision_unref(d);
}

/*
 * The image is proven and the container will get the restricted socket. A
 * tenant's container stays in its tenant under its policy; anyone else's
 * starts a new tenant, whose image policy is proven now, once, and
 * recorded (tenant.h).
 */
static void decision_label_socket_container(sg_decision *d, const char *pinned)
{
    if (d->tenancy.id) {
        decision_add_label(d, SG_POLICY_LABEL, d->tenancy.policy ? d->tenancy.policy : "",
                           "tenant: the creating tenant's image policy");
        decision_finish(d);
        return;
    }
    char id[SG_TENANT_ID_MAX];
    if (!sg_tenant_new_id(id)) {
        sg_socket_deny(&d->findings, d->image, "no randomness for a new tenant's ID");
        decision_finish(d);
        return;
    }
    decision_add_label(d, SG_TENANT_LABEL, id, "tenant: a new tenant");
    const sg_fact *f = sg_facts_find(&d->facts, SG_FACT_IMAGE, d->image);
    d->choice = sg_policy_choose(d->env, d->s, pinned, f ? f->json : NULL, decision_on_policy, d);
}

static void decision_on_verdict(void *arg, const sg_image_verdict *iv)
{
    sg_decision *d = arg;
    d->check = NULL;
    if (d->cancelled || d->done)
        return;
    d->refs++;
    snprintf(d->v.rule, sizeof d->v.rule, "%s", iv->rule);
    snprintf(d->v.image, sizeof d->v.image, "%s", iv->image);
    sg_rule_ctx rc = decision_rule_ctx(d);
    const char *why = NULL;
    if (!iv->allowed)
        why = iv->reason;
    else if (d->plan == SG_PLAN_START)
        why = sg_socket_check_existing(&rc, decision_socket_spec(d), &d->exposures);
    else
        why = sg_socket_rewrite(&rc, &d->spec, &d->exposures, d->image_holder, iv->pinned,
                                &d->edits);
    if (why)
        sg_socket_deny(&d->findings, iv->image, why);
    d->v.log = true;
    if (!why && d->plan == SG_PLAN_CREATE && d->s->tenants)
        decision_label_socket_container(d, iv->pinned);
    else
        decision_finish(d);
    decision_unref(d);
}

static void decision_image_arrived(sg_decision *d)
{
    const sg_fact *f = sg_facts_find(&d->facts, SG_FACT_IMAGE, d->image);
    snprintf(d->v.image, sizeof d->v.image, "%s", d->image);
    if (f && f->status == 404 && d->plan == SG_PLAN_CREATE) {
        /* dockerd's own answer, so that `docker run` pulls and retries */
        char msg[700];
        snprintf(msg, sizeof msg, "No such image: %.600s", d->image);
        sg_findings_add_raw(&d->findings, 404, "socket mount: image not found", msg);
        decision_refuse(d);
        return;
    }
    if (!f || f->status != 200) {
        sg_socket_deny(&d->findings, d->image, "cannot inspect the image in the Docker Engine");
        decision_refuse(d);
        return;
    }
    /* The check holds no reference: it is cancelled with us. */
    d->check = sg_image_verify(d->env, d->s, d->image, f->json, decision_on_verdict, d);
}

static void decision_prove_image(sg_decision *d)
{
    if (d->s->n_images == 0) {
        sg_socket_deny(&d->findings, d->image, SG_NOT_LISTED_REASON);
        decision_refuse(d);
        return;
    }
    if (!d->image[0]) {
        sg_socket_deny(&d->findings, "", "the request names no image");
        decision_refuse(d);
        return;
    }
    d->phase = PHASE_IMAGE;
    if (sg_facts_find(&d->facts, SG_FACT_IMAGE, d->image)) {
        decision_image_arrived(d);
        return;
    }
    sg_facts_want(&d->facts, SG_FACT_IMAGE, d->image); /* facts_done follows */
}

/* ---- the rules -------------------------------------------------------------- */

/* What every rule is given (rules.h). */
static sg_rule_input decision_input(const sg_decision *d, const sg_rule_ctx *rc)
{
    return (sg_rule_input){.rc = rc, .plan = d->plan, .spec = &d->spec, .body = d->body,
                           .subject = d->subject, .action = d->action, .image = d->image,
                           .exec_privileged = d->exec_privileged, .route = d->route,
                           .hostconfig = d->hostconfig};
}

/* The image of a start is its container's: what the socket rule proves. */
static void decision_start_image(sg_decision *d)
{
    const sg_fact *f = sg_facts_find(&d->facts, SG_FACT_CONTAINER, d->subject);
    json_t *img = f ? json_object_get(json_object_get(f->json, "Config"), "Image") : NULL;
    snprintf(d->image, sizeof d->image, "%s", json_is_string(img) ? json_string_value(img) : "");
}

/* Every check of the rule table that applies, in its order; then the
 * first finding refuses, exposures of a protected socket send the image to
 * the registry, or the request is allowed. */
static void decision_rules(sg_decision *d)
{
    if (d->facts.over_budget) { /* an answer the budget could not hold: cannot tell */
        sg_findings_add_raw(&d->findings, d->facts.over_budget, "budget",
                            d->facts.over_budget_why);
        decision_refuse(d);
        return;
    }
    if (d->facts.overflow || d->facts.oom) {
        sg_findings_add(&d->findings, 403, "look-ups",
                        "the request names too many volumes, containers or networks to check");
        decision_refuse(d);
        return;
    }
    if (d->plan == SG_PLAN_START)
        decision_start_image(d);
    sg_rule_ctx rc = decision_rule_ctx(d);
    sg_rule_input in = decision_input(d, &rc);
    sg_rule_output out = {.findings = &d->findings, .edits = &d->edits,
                          .exposures = &d->exposures};
    for (size_t i = 0; i < sg_rule_count; i++)
        if (sg_rule_applies(&sg_rule_table[i], &in))
            sg_rule_table[i].check(&in, &out);
    if (d->exposures.n > 0 && !sg_findings_refuse(&d->findings))
        decision_prove_image(d);
    else
        decision_finish(d); /* refuses on any finding, else allows */
}

/* ---- facts ------------------------------------------------------------------ */

/* A fact arrived: each rule that applies may want what it leads to. */
static void decision_on_fact(void *arg, sg_fact *f)
{
    sg_decision *d = arg;
    sg_rule_ctx rc = decision_rule_ctx(d);
    sg_rule_input in = decision_input(d, &rc);
    for (size_t i = 0; i < sg_rule_count; i++)
        if (sg_rule_table[i].arrived && sg_rule_applies(&sg_rule_table[i], &in))
            sg_rule_table[i].arrived(&in, f, &d->facts);
}

static void decision_on_facts_done(void *arg)
{
    sg_decision *d = arg;
    if (d->done || d->cancelled)
        return;
    d->refs++;
    if (d->phase == PHASE_FACTS)
        decision_rules(d);
    else if (d->phase == PHASE_IMAGE && !d->check)
        decision_image_arrived(d);
    decision_unref(d);
}

/* ---- reading the request ----------------------------------------------------- */

static json_t *decision_parse(sg_decision *d, const char *body, size_t len)
{
    sg_gojson_error jerr;
    json_t *j = sg_gojson_parse(body, len, &jerr);
    if (j)
        return j;
    if (jerr.status == SG_GOJSON_TOO_LARGE)
        decision_fail(d, 413, SG_GOJSON_TOO_LARGE_FMT, SG_GOJSON_MAX_VALUES);
    else if (jerr.status == SG_GOJSON_AMBIGUOUS)
        decision_fail(d, 400,
                      "sockgate: ambiguous request body: %s; dockerd would merge keys that "
                      "differ only in case, which sockgate does not vouch for",
                      jerr.message);
    else
        decision_fail(d, 400, "sockgate: the request body is not valid JSON: %s", jerr.message);
    return NULL;
}

/* The image the request names, in the object that holds "Image". */
static void decision_take_image(sg_decision *d, json_t *holder, const char *where, sg_jx *r)
{
    d->image_holder = holder;
    const char *image = sg_jx_str(r, holder, where, "Image");
    if (image && strlen(image) >= sizeof d->image) { /* never looked up cut short */
        sg_jx_fail(r, "%s.Image is too long to be an image reference", where);
        return;
    }
    snprintf(d->image, sizeof d->image, "%s", image ? image : "");
}

/* Create: the host configuration dockerd will use, read into the spec. */
static void decision_read_create(sg_decision *d, sg_jx *r)
{
    sg_hostconfig hc;
    sg_hostconfig_of_create(d->body, &hc);
    if (hc.status == SG_HC_REFUSED) {
        sg_jx_fail(r, "%s", hc.message);
        return;
    }
    if (hc.status == SG_HC_NONE && d->isolated) {
        /* An isolated container's host configuration carries edits (its
         * cgroup namespace): give it one. dockerd reads {} as no settings. */
        const char *key = "HostConfig";
        sg_gojson_get(d->body, "HostConfig", &key);
        json_object_set_new(d->body, key, json_object());
        sg_hostconfig_of_create(d->body, &hc);
    }
    decision_take_image(d, d->body, "Config", r);
    d->hostconfig = hc.hc;
    json_t *net = sg_jx_object(r, d->body, "Config", "NetworkingConfig");
    if (sg_spec_from_create(hc.hc, net, &d->spec, r) != 0)
        sg_jx_fail(r, "out of memory");
}

static void decision_read_service(sg_decision *d, sg_jx *r)
{
    sg_hostconfig hc;
    sg_hostconfig_of_service(d->body, &hc);
    if (hc.status == SG_HC_REFUSED) {
        sg_jx_fail(r, "%s", hc.message);
        return;
    }
    decision_take_image(d, hc.hc, "TaskTemplate.ContainerSpec", r);
    d->hostconfig = hc.hc;
    if (sg_spec_from_service(d->body, &d->spec, r) != 0)
        sg_jx_fail(r, "out of memory");
}

/* Read the body the plan needs; false when the decision already ended. */
static bool decision_read_body(sg_decision *d, const char *body, size_t len)
{
    sg_jx r = {0};
    if (d->plan == SG_PLAN_START) {
        sg_hostconfig hc;
        sg_hostconfig_of_start(len, d->body_chunked, &hc);
        if (hc.status == SG_HC_REFUSED) {
            decision_fail(d, 400, "sockgate: %s", hc.message);
            return false;
        }
        d->v.drop_body = true; /* dockerd would ignore what is there */
        return true;
    }
    if (!(d->body = decision_parse(d, body, len)))
        return false;
    switch (d->plan) {
    case SG_PLAN_CREATE: decision_read_create(d, &r); break;
    case SG_PLAN_SERVICE: decision_read_service(d, &r); break;
    case SG_PLAN_UPDATE: {
        sg_hostconfig hc;
        sg_hostconfig_of_update(d->body, &hc);
        if (hc.status == SG_HC_REFUSED)
            sg_jx_fail(&r, "%s", hc.message);
        else if (sg_spec_from_update(hc.hc, &d->spec, &r) != 0)
            sg_jx_fail(&r, "out of memory");
        break;
    }
    case SG_PLAN_EXEC_CREATE: d->exec_privileged = sg_spec_exec_privileged(d->body, &r); break;
    case SG_PLAN_VOLUME_CREATE:
        /* A volume an isolated caller may not mount is not made either: made
         * now, a container could race its own create against it. */
        if (sg_spec_from_volume_create(d->body, &d->spec, &r) != 0)
            sg_jx_fail(&r, "out of memory");
        break;
    default: break; /* network create: read by its rule */
    }
    if (r.failed) {
        decision_fail(d, 400, "sockgate: %s", r.err);
        return false;
    }
    return true;
}

/* Every fact the rules that apply will read. */
static void decision_want(sg_decision *d)
{
    sg_rule_ctx rc = decision_rule_ctx(d);
    sg_rule_input in = decision_input(d, &rc);
    for (size_t i = 0; i < sg_rule_count; i++)
        if (sg_rule_table[i].want && sg_rule_applies(&sg_rule_table[i], &in))
            sg_rule_table[i].want(&in, &d->facts);
}

/* ---- entry points ------------------------------------------------------------ */

static sg_decision *decision_new(sg_policy_env *env, const sg_settings *policy,
                                 const sg_request_ctx *ctx, const sg_verdict *first,
                                 sg_decision_fn cb, void *arg)
{
    sg_decision *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, offsetof(sg_decision, dirs));
    d->dirs.n = 0;
    d->exposures.n = 0;
    d->exposures.unknown = false;
    d->env = env;
    d->s = sg_settings_ref((sg_settings *)policy);
    d->caller = ctx->caller;
    if (ctx->tenant)
        d->tenant = *ctx->tenant;
    sg_tenancy_resolve(policy, &d->caller, ctx->tenant ? &d->tenant : NULL, &d->tenancy);
    d->isolated = first->isolated;
    d->route = ctx->match ? ctx->match->route : ROUTE_NONE;
    d->plan = first->plan;
    d->action = first->action;
    d->body_chunked = ctx->body_chunked;
    snprintf(d->subject, sizeof d->subject, "%s", first->subject);
    d->cb = cb;
    d->arg = arg;
    d->refs = 2; /* the owner's, and the starting function's until it returns */
    d->v = *first;
    d->v.kind = SG_VERDICT_ALLOW;
    sg_facts_init(&d->facts, env->engine, decision_on_fact, decision_on_facts_done, d);
    if (ctx->meter.take)
        sg_facts_meter(&d->facts, ctx->meter.take, ctx->meter.arg);
    if (d->isolated)
        sg_allowed_dirs_for(policy, &ctx->caller, &d->dirs);
    return d;
}

/* Read what the plan needs, ask for its facts; the rules run once every
 * answer is in (maybe at once). Returns whether the decision is done. */
static bool decision_begin(sg_decision *d, const sg_verdict *first, const char *body,
                           size_t len)
{
    d->body_len = len;
    sg_facts_hold(&d->facts);
    bool go = first->kind == SG_VERDICT_CHECK_TARGET ||
              decision_read_body(d, body ? body : "", len);
    if (go)
        decision_want(d);
    if (!d->done)
        sg_facts_release(&d->facts); /* runs the rules if nothing is pending */
    return d->done;
}

static void decision_oom(sg_decision_fn cb, void *arg)
{
    sg_verdict v = {.kind = SG_VERDICT_DENY, .status = 500};
    strcpy(v.message, "sockgate: out of memory");
    cb(arg, &v, NULL, 0);
}

sg_decision *sg_decision_start(sg_policy_env *env, const sg_settings *policy,
                               const sg_request_ctx *ctx, const sg_verdict *first,
                               const char *body, size_t len, sg_decision_fn cb, void *arg)
{
    sg_decision *d = decision_new(env, policy, ctx, first, cb, arg);
    if (!d) {
        decision_oom(cb, arg);
        return NULL;
    }
    bool done = decision_begin(d, first, body, len);
    decision_unref(d);
    return done ? NULL : d;
}

typedef struct {
    bool done;
    sg_verdict v;
    char *body;
    size_t len;
} explain_result;

static void explain_done(void *arg, const sg_verdict *v, char *body, size_t len)
{
    explain_result *r = arg;
    r->done = true;
    r->v = *v;
    r->body = body;
    r->len = len;
}

sg_verdict_kind sg_decision_explain(sg_policy_env *env, const sg_settings *policy,
                                    const sg_request_ctx *ctx, const sg_verdict *first,
                                    const char *body, size_t len, FILE *to)
{
    explain_result res = {0};
    sg_decision *d = decision_new(env, policy, ctx, first, explain_done, &res);
    if (!d) {
        fprintf(to, "out of memory\n");
        return SG_VERDICT_DENY;
    }
    d->explain = to;
    decision_begin(d, first, body, len);
    decision_unref(d);
    while (!res.done && uv_run(env->loop, UV_RUN_ONCE))
        ;
    if (!res.done) {
        fprintf(to, "verdict: undecided (the loop ran dry)\n");
        return SG_VERDICT_DENY;
    }
    if (res.v.kind == SG_VERDICT_DENY)
        fprintf(to, "verdict: denied %d: %s\n", res.v.status, res.v.message);
    else if (res.body && res.v.kind == SG_VERDICT_ANSWER)
        fprintf(to, "verdict: answered by sockgate: %.*s\n", (int)res.len, res.body);
    else if (res.body)
        fprintf(to, "verdict: allowed; forwarded body: %.*s\n", (int)res.len, res.body);
    else
        fprintf(to, "verdict: allowed%s\n", res.v.drop_body ? " (forwarded without a body)" : "");
    free(res.body);
    return res.v.kind;
}

void sg_decision_cancel(sg_decision *d)
{
    d->cancelled = true;
    if (d->check) {
        sg_image_check_cancel(d->check);
        d->check = NULL;
    }
    if (d->choice) {
        sg_policy_choice_cancel(d->choice);
        d->choice = NULL;
    }
    sg_facts_free(&d->facts); /* pending look-ups are cancelled: no callbacks */
    decision_unref(d);
}
