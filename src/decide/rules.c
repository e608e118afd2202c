/*
 * rules.c — the rule table (see rules.h): for each rule, the plans it
 * applies to, who it binds, the facts it reads and its check, in the order
 * the checks run. The checks themselves live in the rule modules
 * (rule_isolation.c, rule_ports.c, rule_socket_mount.c); what is here only
 * says which request reads what, so that look-ups and checks cannot drift
 * apart.
 */
#include <stdio.h>
#include <string.h>

#include "decide/rules.h"

#define PLAN(p) SG_RULE_PLAN(SG_PLAN_##p)

bool sg_rule_applies(const sg_rule *r, const sg_rule_input *in)
{
    if (!(r->plans & SG_RULE_PLAN(in->plan)))
        return false;
    switch (r->who) {
    case SG_RULE_ALWAYS: return true;
    case SG_RULE_POLICY_ON: return in->rc->policy->eci_enabled;
    case SG_RULE_ISOLATED: return in->rc->isolated;
    case SG_RULE_TENANTS: return in->rc->policy->tenants;
    case SG_RULE_SCOPED:
        return in->rc->tenancy && in->rc->tenancy->id && in->rc->tenancy->scope == SG_SCOPE_OWN;
    }
    return true;
}

/* ---- the facts a spec leads to ------------------------------------------ */

/* host, bridge and none (and "default", dockerd's word for bridge) are the
 * engine's own: no look-up tells more, and they are everyone's. */
bool sg_network_is_builtin(const char *n)
{
    return strcmp(n, "host") == 0 || strcmp(n, "bridge") == 0 || strcmp(n, "none") == 0 ||
           strcmp(n, "default") == 0;
}

void sg_isolation_want_network(const char *n, sg_facts *facts)
{
    if (!sg_network_is_builtin(n))
        sg_facts_want(facts, SG_FACT_NETWORK, n);
}

/* Its mounts: named volumes, and volumes-from containers (whose own mounts
 * follow when they arrive). Host paths and socket mounts read these. */
static void spec_mount_refs(const sg_spec *spec, sg_spec_ref_fn fn, void *arg)
{
    for (size_t i = 0; i < spec->mounts.n; i++) {
        const sg_mount *m = &spec->mounts.items[i];
        if (m->kind == SG_MOUNT_VOLUME)
            fn(arg, SG_FACT_VOLUME, m->source, m);
        else if (m->kind == SG_MOUNT_VOLUMES_FROM)
            fn(arg, SG_FACT_CONTAINER, m->source, m);
    }
}

void sg_spec_refs(const sg_spec *spec, sg_spec_ref_fn fn, void *arg)
{
    spec_mount_refs(spec, fn, arg);
    for (int i = 0; i < SG_NS_COUNT; i++)
        if (spec->ns[i] && strncmp(spec->ns[i], "container:", 10) == 0)
            fn(arg, SG_FACT_CONTAINER, spec->ns[i] + 10, NULL);
    for (size_t i = 0; i < spec->networks.n; i++)
        if (!sg_network_is_builtin(spec->networks.v[i].value))
            fn(arg, SG_FACT_NETWORK, spec->networks.v[i].value, NULL);
    for (size_t i = 0; i < spec->links.n; i++) {
        char name[256], alias[256];
        if (sg_spec_link_parse(spec->links.v[i].value, name, sizeof name, alias,
                               sizeof alias) == 0)
            fn(arg, SG_FACT_CONTAINER, name, NULL);
    }
}

static void want_ref(void *facts, sg_fact_kind kind, const char *name, const sg_mount *m)
{
    (void)m;
    sg_facts_want(facts, kind, name);
}

static void want_mounts(const sg_spec *spec, sg_facts *facts)
{
    spec_mount_refs(spec, want_ref, facts);
}

void sg_want_spec_refs(const sg_spec *spec, sg_facts *facts)
{
    sg_spec_refs(spec, want_ref, facts);
}

/* A container arrived: what its own spec leads to. */
static void arrived_mounts(const sg_rule_input *in, const sg_fact *f, sg_facts *facts)
{
    if (f->kind == SG_FACT_CONTAINER && f->has_spec)
        want_mounts(&f->spec, facts);
}

static void arrived_mounts_and_joins(const sg_rule_input *in, const sg_fact *f,
                                     sg_facts *facts)
{
    if (f->kind == SG_FACT_CONTAINER && f->has_spec)
        sg_want_spec_refs(&f->spec, facts);
}

/* ---- isolation (rule_isolation.c) --------------------------------------- */

static void want_spec_isolation(const sg_rule_input *in, sg_facts *facts)
{
    sg_want_spec_refs(in->spec, facts);
}

static void check_container(const sg_rule_input *in, sg_rule_output *out)
{
    sg_isolation_check(in->rc, in->spec, out->findings, out->edits);
}

/* An update or a volume create changes nothing the caller could be given
 * edits for: checked, never rewritten. */
static void check_no_edits(const sg_rule_input *in, sg_rule_output *out)
{
    sg_isolation_check(in->rc, in->spec, out->findings, NULL);
}

static void want_subject_container(const sg_rule_input *in, sg_facts *facts)
{
    sg_facts_want(facts, SG_FACT_CONTAINER, in->subject);
}

static void check_existing(const sg_rule_input *in, sg_rule_output *out)
{
    sg_isolation_check_existing(in->rc, in->subject, in->action ? in->action : "start",
                                out->findings);
}

/* A start by someone who is not isolated still needs its container: the
 * socket rule proves that container's image. A container that cannot be
 * read is refused to everyone, as it could hold anything. */
static void check_start_unreadable(const sg_rule_input *in, sg_rule_output *out)
{
    const sg_fact *f = sg_facts_find(in->rc->facts, SG_FACT_CONTAINER, in->subject);
    if (!in->rc->isolated && (!f || f->status != 200)) /* isolated: the rule above */
        check_existing(in, out);
}

static void check_exec_create(const sg_rule_input *in, sg_rule_output *out)
{
    sg_isolation_check_exec(in->rc, in->exec_privileged, "ExecConfig.Privileged",
                            out->findings);
    sg_isolation_check_existing(in->rc, in->subject, "exec into", out->findings);
}

static void want_exec(const sg_rule_input *in, sg_facts *facts)
{
    sg_facts_want(facts, SG_FACT_EXEC, in->subject);
}

/* An exec instance arrived: its container is checked too. */
static void arrived_exec(const sg_rule_input *in, const sg_fact *f, sg_facts *facts)
{
    if (f->kind == SG_FACT_EXEC && f->status == 200) {
        json_t *cid = json_object_get(f->json, "ContainerID");
        if (json_is_string(cid))
            sg_facts_want(facts, SG_FACT_CONTAINER, json_string_value(cid));
    }
    arrived_mounts_and_joins(in, f, facts);
}

static void check_exec_start(const sg_rule_input *in, sg_rule_output *out)
{
    const sg_fact *f = sg_facts_find(in->rc->facts, SG_FACT_EXEC, in->subject);
    if (f && f->status == 404) {
        char msg[700];
        snprintf(msg, sizeof msg, "No such exec instance: %.600s", in->subject);
        sg_findings_add_raw(out->findings, 404, "isolation: no such exec instance", msg);
        return;
    }
    if (!f || f->status != 200) {
        sg_findings_add(out->findings, 403, "isolation: exec start",
                        "cannot check exec instance \"%.100s\" with the Docker Engine%s",
                        in->subject, sg_isolation_tail(in->rc));
        return;
    }
    json_t *pc = json_object_get(f->json, "ProcessConfig");
    sg_isolation_check_exec(in->rc, json_is_true(json_object_get(pc, "privileged")),
                            "the exec instance is privileged", out->findings);
    json_t *cid = json_object_get(f->json, "ContainerID");
    sg_isolation_check_existing(in->rc, json_is_string(cid) ? json_string_value(cid) : "",
                                "exec into", out->findings);
}

static void want_network(const sg_rule_input *in, sg_facts *facts)
{
    sg_isolation_want_network(in->subject, facts);
}

static void check_network_connect(const sg_rule_input *in, sg_rule_output *out)
{
    sg_isolation_check_network(in->rc, in->subject, "POST /networks/{id}/connect",
                               out->findings);
}

/* A network create body: its driver and options. A value of the wrong type
 * is refused as dockerd would refuse it. */
static void check_network_create(const sg_rule_input *in, sg_rule_output *out)
{
    sg_jx r = {0};
    sg_isolation_check_network_create(in->rc, in->body, out->findings, &r);
    if (r.failed) {
        char msg[sizeof r.err + 16];
        snprintf(msg, sizeof msg, "sockgate: %s", r.err);
        sg_findings_add_raw(out->findings, 400, "malformed request", msg);
    }
}

/* ---- ports (rule_ports.c) ------------------------------------------------ */

static void want_ports_image(const sg_rule_input *in, sg_facts *facts)
{
    if (sg_ports_need_image(in->rc, in->spec))
        sg_facts_want(facts, SG_FACT_IMAGE, in->image);
}

static void check_ports(const sg_rule_input *in, sg_rule_output *out)
{
    const sg_fact *image =
        in->image[0] ? sg_facts_find(in->rc->facts, SG_FACT_IMAGE, in->image) : NULL;
    sg_ports_check(in->rc, in->spec, in->plan == SG_PLAN_CREATE ? in->body : NULL, image,
                   out->findings, out->edits);
}

/* ---- socket mounts (rule_socket_mount.c) ---------------------------------- */

static void want_spec_mounts(const sg_rule_input *in, sg_facts *facts)
{
    want_mounts(in->spec, facts);
}

/* Which protected sockets the container would get: none, some (the
 * framework proves the image, then rewrites), or cannot tell (refused).
 * A request refused already needs no registry. For a start, the
 * container's own mounts. */
static void check_socket(const sg_rule_input *in, sg_rule_output *out)
{
    if (sg_findings_refuse(out->findings))
        return;
    const sg_spec *spec = in->spec;
    if (in->plan == SG_PLAN_START) {
        const sg_fact *f = sg_facts_find(in->rc->facts, SG_FACT_CONTAINER, in->subject);
        if (!f || !f->has_spec)
            return; /* check_start_unreadable has refused it */
        spec = &f->spec;
    }
    sg_socket_find(in->rc, spec, out->exposures);
    if (out->exposures->unknown)
        sg_socket_deny(out->findings, in->image, out->exposures->unknown_why);
}

/* ---- the table ------------------------------------------------------------ */

const sg_rule sg_rule_table[] = {
    /* First: what is not the tenant's does not exist for it, whatever else
     * would be said of it. */
    {"scope: own", PLAN(OWNED) | PLAN(ANSWER) | PLAN(EXISTING) | PLAN(START) | PLAN(EXEC_CREATE) |
     PLAN(EXEC_START) | PLAN(UPDATE) | PLAN(NETWORK_CONNECT) | PLAN(CREATE),
     SG_RULE_SCOPED, sg_scope_want, sg_scope_arrived, sg_scope_check},
    {"tenant: labels", PLAN(CREATE) | PLAN(VOLUME_CREATE) | PLAN(NETWORK_CREATE) |
     PLAN(SERVICE), SG_RULE_TENANTS, NULL, NULL, sg_tenant_labels_check},
    {"isolation: container", PLAN(CREATE) | PLAN(SERVICE), SG_RULE_ISOLATED,
     want_spec_isolation, arrived_mounts_and_joins, check_container},
    {"isolation: update and volume create", PLAN(UPDATE) | PLAN(VOLUME_CREATE),
     SG_RULE_ISOLATED, want_spec_isolation, arrived_mounts_and_joins, check_no_edits},
    {"isolation: network create", PLAN(NETWORK_CREATE), SG_RULE_ISOLATED, NULL, NULL,
     check_network_create},
    {"ports", PLAN(CREATE) | PLAN(SERVICE), SG_RULE_ALWAYS, want_ports_image, NULL,
     check_ports},
    {"isolation: existing container", PLAN(START) | PLAN(EXISTING), SG_RULE_ISOLATED,
     want_subject_container, arrived_mounts_and_joins, check_existing},
    {"start: the container", PLAN(START), SG_RULE_POLICY_ON, want_subject_container,
     arrived_mounts, check_start_unreadable},
    {"isolation: exec create", PLAN(EXEC_CREATE), SG_RULE_ISOLATED, want_subject_container,
     arrived_mounts_and_joins, check_exec_create},
    {"isolation: exec start", PLAN(EXEC_START), SG_RULE_ISOLATED, want_exec, arrived_exec,
     check_exec_start},
    {"isolation: network connect", PLAN(NETWORK_CONNECT), SG_RULE_ISOLATED, want_network,
     NULL, check_network_connect},
    /* Last: it runs only when nothing above refused. */
    {"socket mount", PLAN(CREATE) | PLAN(SERVICE) | PLAN(START), SG_RULE_POLICY_ON,
     want_spec_mounts, arrived_mounts, check_socket},
};

const size_t sg_rule_count = sizeof sg_rule_table / sizeof *sg_rule_table;
