/*
 * rule_scope.c — scope "own" on the request line (see rule_scope.h): every
 * route is classified here, and a route this file does not name is refused
 * to a scoped tenant, so that a route added to dockerd later is never
 * someone else's objects by default.
 */
#include "decide/rule_scope.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "body/gojson.h"
#include "body/jsonx.h"
#include "decide/rules.h"
#include "decide/tenant.h"

sg_scope_class sg_scope_route_class(route_id route)
{
    switch (route) {
    /* the container, exec instance, volume or network in the path */
    case ROUTE_CHECKPOINT_LIST: case ROUTE_CHECKPOINT_CREATE: case ROUTE_CHECKPOINT_DELETE:
    case ROUTE_CONTAINER_ARCHIVE_HEAD: case ROUTE_CONTAINER_EXPORT: case ROUTE_CONTAINER_CHANGES:
    case ROUTE_CONTAINER_INSPECT: case ROUTE_CONTAINER_TOP: case ROUTE_CONTAINER_LOGS:
    case ROUTE_CONTAINER_STATS: case ROUTE_CONTAINER_ATTACH_WS: case ROUTE_EXEC_INSPECT:
    case ROUTE_CONTAINER_ARCHIVE_GET: case ROUTE_CONTAINER_KILL: case ROUTE_CONTAINER_PAUSE:
    case ROUTE_CONTAINER_UNPAUSE: case ROUTE_CONTAINER_RESTART: case ROUTE_CONTAINER_START:
    case ROUTE_CONTAINER_STOP: case ROUTE_CONTAINER_WAIT: case ROUTE_CONTAINER_RESIZE:
    case ROUTE_CONTAINER_ATTACH: case ROUTE_EXEC_CREATE: case ROUTE_EXEC_START:
    case ROUTE_EXEC_RESIZE: case ROUTE_CONTAINER_RENAME: case ROUTE_CONTAINER_UPDATE:
    case ROUTE_COMMIT: case ROUTE_CONTAINER_ARCHIVE_PUT: case ROUTE_CONTAINER_DELETE:
    case ROUTE_VOLUME_INSPECT: case ROUTE_VOLUME_UPDATE: case ROUTE_VOLUME_DELETE:
    case ROUTE_NETWORK_INSPECT: case ROUTE_NETWORK_CONNECT: case ROUTE_NETWORK_DISCONNECT:
    case ROUTE_NETWORK_DELETE:
        return SG_SCOPE_SUBJECT;
    case ROUTE_CONTAINER_LIST: case ROUTE_CONTAINER_PRUNE: case ROUTE_EVENTS:
    case ROUTE_VOLUME_LIST: case ROUTE_VOLUME_PRUNE: case ROUTE_NETWORK_LIST:
    case ROUTE_NETWORK_LIST_SLASH: case ROUTE_NETWORK_PRUNE:
        return SG_SCOPE_LIST;
    case ROUTE_CONTAINER_CREATE: case ROUTE_VOLUME_CREATE: case ROUTE_NETWORK_CREATE:
        return SG_SCOPE_CREATE;
    /* images and builds are shared (the commandList governs them); the
     * engine's own state says nothing of other tenants' objects */
    case ROUTE_IMAGE_LIST: case ROUTE_IMAGE_SEARCH: case ROUTE_IMAGE_GET_ALL:
    case ROUTE_IMAGE_GET: case ROUTE_IMAGE_HISTORY: case ROUTE_IMAGE_INSPECT:
    case ROUTE_IMAGE_ATTESTATIONS: case ROUTE_IMAGE_LOAD: case ROUTE_IMAGE_CREATE:
    case ROUTE_IMAGE_PUSH: case ROUTE_IMAGE_TAG: case ROUTE_IMAGE_PRUNE: case ROUTE_IMAGE_DELETE:
    case ROUTE_OPTIONS: case ROUTE_PING_GET: case ROUTE_PING_HEAD: case ROUTE_INFO:
    case ROUTE_VERSION: case ROUTE_AUTH: case ROUTE_BUILD: case ROUTE_BUILD_PRUNE:
    case ROUTE_BUILD_CANCEL: case ROUTE_SESSION: case ROUTE_GRPC:
    case ROUTE_DISTRIBUTION_INSPECT: case ROUTE_PLUGIN_LIST: case ROUTE_PLUGIN_INSPECT:
    case ROUTE_PLUGIN_PRIVILEGES:
        return SG_SCOPE_SHARED;
    default:
        /* swarm (services, tasks, nodes, secrets, configs), plugin changes,
         * debug, and whatever dockerd adds later; system df is answered by
         * the gate (sg_scope_answers) */
        return SG_SCOPE_REFUSED;
    }
}

sg_fact_kind sg_scope_subject_kind(route_id route)
{
    switch (route) {
    case ROUTE_EXEC_INSPECT: case ROUTE_EXEC_START: case ROUTE_EXEC_RESIZE:
        return SG_FACT_EXEC;
    case ROUTE_VOLUME_INSPECT: case ROUTE_VOLUME_UPDATE: case ROUTE_VOLUME_DELETE:
        return SG_FACT_VOLUME;
    case ROUTE_NETWORK_INSPECT: case ROUTE_NETWORK_CONNECT: case ROUTE_NETWORK_DISCONNECT:
    case ROUTE_NETWORK_DELETE:
        return SG_FACT_NETWORK;
    default:
        return SG_FACT_CONTAINER;
    }
}

/* ---- answers the gate makes -------------------------------------------- */

bool sg_scope_answers(route_id route, const http_query *q, const router_match *m)
{
    if (route == ROUTE_SYSTEM_DF)
        return true;
    if (route == ROUTE_NETWORK_LIST || route == ROUTE_NETWORK_LIST_SLASH)
        return !http_query_first(q, "filters"); /* with filters: narrowed below */
    if (route == ROUTE_NETWORK_INSPECT && m->vars[0].len < 16) {
        char name[16];
        memcpy(name, m->vars[0].start, m->vars[0].len);
        name[m->vars[0].len] = '\0';
        return sg_network_is_builtin(name);
    }
    return false;
}

/* ---- narrowed lists ------------------------------------------------------ */

/*
 * The caller's filters as dockerd's filters.FromJSON reads them:
 * {"k":{"v":true,…}} (a value's bool matters to some filters: "dangling",
 * "all"), or the older {"k":["v",…]}, tried when the first does not
 * decode. One form for every key, or dockerd refuses the lot. The set is
 * returned as written, in its own form; NULL when dockerd would refuse it.
 * *legacy says which form it is.
 */
static json_t *filters_read(const char *text, bool *legacy)
{
    json_t *f = text && text[0] ? json_loads(text, JSON_DECODE_ANY, NULL) : json_object();
    if (!json_is_object(f))
        goto bad;
    bool objects = true, arrays = true;
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        size_t i;
        const char *k;
        json_t *x;
        if (json_is_object(v)) {
            json_object_foreach(v, k, x) objects &= json_is_boolean(x);
        } else {
            objects &= json_is_null(v);
        }
        if (json_is_array(v)) {
            json_array_foreach(v, i, x) arrays &= json_is_string(x);
        } else {
            arrays &= json_is_null(v);
        }
    }
    if (!objects && !arrays)
        goto bad;
    *legacy = !objects;
    return f;
bad:
    json_decref(f);
    return NULL;
}

/* The tenant's label among the "label" filters, in the set's own form. */
static int filters_add_label(json_t *f, bool legacy, const char *label)
{
    json_t *labels = json_object_get(f, "label");
    if (!json_is_object(labels) && !json_is_array(labels)) {
        labels = legacy ? json_array() : json_object();
        if (!labels || json_object_set_new(f, "label", labels) != 0)
            return -1;
    }
    return legacy ? json_array_append_new(labels, json_string(label))
                  : json_object_set_new(labels, label, json_true());
}

/* A query being written into a fixed buffer: `at` is where the next byte
 * goes; once something does not fit, `full` stays set and nothing more is
 * written (the terminating NUL always has its byte). */
typedef struct {
    char *buf;
    size_t size, at;
    bool full;
} query_out;

static void query_byte(query_out *q, char ch)
{
    if (q->full || q->at + 1 >= q->size) {
        q->full = true;
        return;
    }
    q->buf[q->at++] = ch;
    q->buf[q->at] = '\0';
}

/* Percent-encode s (everything but unreserved characters). */
static void query_put(query_out *q, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            query_byte(q, (char)ch);
        } else {
            query_byte(q, '%');
            query_byte(q, hex[ch >> 4]);
            query_byte(q, hex[ch & 15]);
        }
    }
}

/* Filters that name containers by name or ID (since, before) would tell a
 * tenant whether another's container exists: not for scoped tenants. */
static bool filters_name_others(json_t *f, route_id route, const http_query *q)
{
    if (route != ROUTE_CONTAINER_LIST)
        return false;
    return json_object_get(f, "since") || json_object_get(f, "before") ||
           http_query_first(q, "since") || http_query_first(q, "before");
}

int sg_scope_list_query(const http_query *q, route_id route, const char *tenant, char *out,
                        size_t outsz, const char **why)
{
    bool legacy = false;
    json_t *f = filters_read(http_query_first(q, "filters"), &legacy);
    if (!f) {
        *why = "sockgate: the filters parameter is not a valid filter set";
        return -1;
    }
    if (filters_name_others(f, route, q)) {
        json_decref(f);
        *why = "sockgate: the since and before filters are not available to a scoped tenant";
        return -1;
    }
    char own[SG_TENANT_ID_MAX + 32];
    snprintf(own, sizeof own, "%s=%s", SG_TENANT_LABEL, tenant);
    char *filters = filters_add_label(f, legacy, own) == 0 ? json_dumps(f, JSON_COMPACT) : NULL;
    json_decref(f);
    if (!filters) {
        *why = "sockgate: out of memory";
        return -1;
    }
    query_out w = {.buf = out, .size = outsz};
    if (outsz > 0)
        out[0] = '\0';
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].key, "filters") == 0)
            continue;
        query_put(&w, q->params[i].key);
        query_byte(&w, '=');
        query_put(&w, q->params[i].value);
        query_byte(&w, '&');
    }
    query_put(&w, "filters");
    query_byte(&w, '=');
    query_put(&w, filters);
    free(filters);
    if (w.full || outsz == 0) {
        *why = "sockgate: the query is too long for a scoped tenant's list";
        return -1;
    }
    return 0;
}

/* ---- what dockerd says of a missing object ------------------------------ */

void sg_scope_not_found(sg_fact_kind kind, route_id route, const char *name,
                        const char *engine_version, char *out, size_t outsz)
{
    switch (kind) {
    case SG_FACT_EXEC: snprintf(out, outsz, "No such exec instance: %s", name); return;
    case SG_FACT_VOLUME: snprintf(out, outsz, "get %s: no such volume", name); return;
    case SG_FACT_NETWORK: snprintf(out, outsz, "network %s not found", name); return;
    default: break;
    }
    if (route == ROUTE_CONTAINER_KILL) {
        /* dockerd wraps this one; 20.10 capitalised it */
        bool old = engine_version && strncmp(engine_version, "20.", 3) == 0;
        snprintf(out, outsz, "%s kill container: %s: No such container: %s",
                 old ? "Cannot" : "cannot", name, name);
        return;
    }
    snprintf(out, outsz, "No such container: %s", name);
}

/* ---- the ownership rule (rules.c: "scope: own") --------------------------- */

/* The container a network connect or disconnect names in its body. */
static const char *body_container(const sg_rule_input *in, const char **key)
{
    sg_jx r = {0};
    *key = "Container";
    sg_gojson_get(in->body, "Container", key);
    const char *c = sg_jx_str(&r, in->body, "", "Container");
    return r.failed ? NULL : c;
}

static bool route_has_body_container(route_id route)
{
    return route == ROUTE_NETWORK_CONNECT || route == ROUTE_NETWORK_DISCONNECT;
}

/*
 * The containers an endpoint's Links name: a create's
 * NetworkingConfig.EndpointsConfig.*.Links, a network connect's
 * EndpointConfig.Links. Each is visited as "name" (its alias cut off); what
 * dockerd would refuse as malformed is left to dockerd.
 */
static void endpoint_links(json_t *endpoint, void (*visit)(const char *name, void *arg),
                           void *arg)
{
    sg_jx r = {0};
    json_t *links = sg_jx_array(&r, endpoint, "EndpointSettings", "Links");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        char name[256], alias[256];
        if (json_is_string(l) && sg_spec_link_parse(json_string_value(l), name, sizeof name,
                                                    alias, sizeof alias) == 0)
            visit(name, arg);
    }
}

/* Every endpoint of a request: a create's EndpointsConfig values, or a
 * network connect's EndpointConfig. */
static void request_links(const sg_rule_input *in, void (*visit)(const char *name, void *arg),
                          void *arg)
{
    sg_jx r = {0};
    if (in->plan == SG_PLAN_CREATE) {
        json_t *nc = sg_jx_object(&r, in->body, "", "NetworkingConfig");
        json_t *ec = sg_jx_object(&r, nc, "NetworkingConfig", "EndpointsConfig");
        const char *k;
        json_t *e;
        json_object_foreach(ec, k, e) endpoint_links(e, visit, arg);
    } else if (route_has_body_container(in->route)) {
        endpoint_links(sg_jx_object(&r, in->body, "", "EndpointConfig"), visit, arg);
    }
}

static void want_link(const char *name, void *facts)
{
    sg_facts_want(facts, SG_FACT_CONTAINER, name);
}

void sg_scope_want(const sg_rule_input *in, sg_facts *facts)
{
    switch (in->plan) {
    case SG_PLAN_ANSWER:
        if (in->route == ROUTE_NETWORK_INSPECT)
            sg_facts_want(facts, SG_FACT_NETWORK, in->subject);
        else
            sg_facts_want(facts, SG_FACT_LISTING,
                          in->route == ROUTE_SYSTEM_DF ? "/system/df" : "/networks");
        return;
    case SG_PLAN_CREATE:
        sg_want_spec_refs(in->spec, facts); /* what isolation reads too */
        request_links(in, want_link, facts);
        return;
    case SG_PLAN_EXEC_START:
        sg_facts_want(facts, SG_FACT_EXEC, in->subject);
        return;
    case SG_PLAN_NETWORK_CONNECT: /* read as OWNED: its network and container */
    case SG_PLAN_OWNED: {
        sg_facts_want(facts, sg_scope_subject_kind(in->route), in->subject);
        const char *key, *c = route_has_body_container(in->route) ? body_container(in, &key)
                                                                   : NULL;
        if (c && c[0])
            sg_facts_want(facts, SG_FACT_CONTAINER, c);
        request_links(in, want_link, facts);
        return;
    }
    default:
        if (in->subject && in->subject[0])
            sg_facts_want(facts, SG_FACT_CONTAINER, in->subject);
    }
}

void sg_scope_arrived(const sg_rule_input *in, const sg_fact *f, sg_facts *facts)
{
    (void)in;
    if (f->kind == SG_FACT_EXEC && f->status == 200) {
        json_t *cid = json_object_get(f->json, "ContainerID");
        if (json_is_string(cid))
            sg_facts_want(facts, SG_FACT_CONTAINER, json_string_value(cid));
    }
}

/* The labels of a looked-up object, by kind. */
static json_t *fact_labels(const sg_fact *f)
{
    if (f->kind == SG_FACT_CONTAINER)
        return json_object_get(json_object_get(f->json, "Config"), "Labels");
    return json_object_get(f->json, "Labels");
}

typedef enum { OWN_YES, OWN_NO, OWN_ABSENT, OWN_UNKNOWN } own_answer;

static own_answer fact_owned(const sg_rule_input *in, sg_fact_kind kind, const char *name)
{
    const sg_fact *f = sg_facts_find(in->rc->facts, kind, name);
    if (!f)
        return OWN_UNKNOWN;
    if (f->status == 404)
        return OWN_ABSENT;
    if (!f->json || (f->status != 200 && f->status != SG_FACT_UNREADABLE))
        return OWN_UNKNOWN;
    if (kind == SG_FACT_NETWORK && sg_network_is_builtin(name))
        return OWN_YES; /* the engine's own: every tenant's to join and leave */
    if (kind == SG_FACT_EXEC) {
        json_t *cid = json_object_get(f->json, "ContainerID");
        return json_is_string(cid) && fact_owned(in, SG_FACT_CONTAINER,
                                                 json_string_value(cid)) == OWN_YES
                   ? OWN_YES : OWN_NO;
    }
    return sg_tenant_labels_own(fact_labels(f), in->rc->tenancy->id) ? OWN_YES : OWN_NO;
}

/* name (of kind) must be the tenant's: else dockerd's own "no such". */
static bool require_owned(const sg_rule_input *in, sg_rule_output *out, sg_fact_kind kind,
                          const char *name, bool absent_ok)
{
    own_answer a = fact_owned(in, kind, name);
    if (a == OWN_YES || (a == OWN_ABSENT && absent_ok))
        return true;
    if (a == OWN_UNKNOWN) {
        sg_findings_add(out->findings, 403, "scope: cannot check",
                        "sockgate: cannot check %s \"%.200s\" with the Docker Engine",
                        sg_fact_kind_name(kind), name);
        return false;
    }
    char msg[1400];
    sg_scope_not_found(kind, in->route, name, in->rc->env ? in->rc->env->info.version : NULL,
                       msg, sizeof msg);
    sg_findings_add_raw(out->findings, 404, "scope: not the tenant's", msg);
    return false;
}

/* Binds[i] "name:/target[:opts]" with opts only ro, rw, nocopy: what a
 * Mounts[] entry says as well. */
static bool bind_converts(const sg_mount *m)
{
    const char *spec = json_string_value(json_array_get(m->binds, m->index));
    const char *first = spec ? strchr(spec, ':') : NULL;
    const char *second = first ? strchr(first + 1, ':') : NULL;
    if (!first)
        return false;
    if (!second)
        return true;
    if (strchr(second + 1, ':'))
        return false;
    char opts[64];
    if (strlen(second + 1) >= sizeof opts)
        return false;
    strcpy(opts, second + 1);
    for (char *save, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
        if (strcmp(o, "ro") != 0 && strcmp(o, "rw") != 0 && strcmp(o, "nocopy") != 0)
            return false;
    return true;
}

/*
 * A named volume that does not exist yet: dockerd makes it for this
 * container, and it must be made the tenant's. A Mounts[] entry gets the
 * label in its VolumeOptions; a Binds entry cannot carry one, so it becomes
 * the Mounts[] entry that says the same.
 */
static void label_new_volume(const sg_rule_input *in, const sg_mount *m, sg_rule_output *out)
{
    /* An edit that cannot be recorded refuses the request (verdict.h). */
    const char *tenant = in->rc->tenancy->id;
    if (m->mount) {
        sg_edits_add(out->edits, SG_EDIT_VOLUME_LABEL, m->mount, NULL, tenant, SG_TENANT_LABEL,
                     "tenant: the volume made for this mount");
    } else if (m->binds && in->hostconfig && bind_converts(m)) {
        const char *key = "Binds";
        sg_gojson_get(in->hostconfig, "Binds", &key);
        if (sg_edits_add(out->edits, SG_EDIT_BIND_TO_MOUNT, in->hostconfig, key, tenant,
                         SG_TENANT_LABEL, "tenant: the volume made for this bind") == 0)
            out->edits->items[out->edits->n - 1].index = m->index;
    } else {
        sg_findings_add(out->findings, 403, "scope: unlabelled volume",
                        "sockgate: volume \"%.200s\" does not exist, and a volume made for "
                        "this mount could not be marked as this tenant's; create it first "
                        "with `docker volume create %.200s`",
                        m->source, m->source);
    }
}

typedef struct {
    const sg_rule_input *in;
    sg_rule_output *out;
} ref_check;

/* One thing a create names (sg_spec_refs): the tenant's. A named volume
 * that does not exist yet is made by dockerd, for this tenant. */
static void check_create_ref(void *arg, sg_fact_kind kind, const char *name, const sg_mount *m)
{
    ref_check *rc = arg;
    if (kind != SG_FACT_VOLUME) {
        require_owned(rc->in, rc->out, kind, name, false);
        return;
    }
    if (name && name[0] && require_owned(rc->in, rc->out, kind, name, true) &&
        fact_owned(rc->in, kind, name) == OWN_ABSENT)
        label_new_volume(rc->in, m, rc->out);
}

/* A network connect's or disconnect's container: the tenant's, and named
 * by its ID in what is forwarded. */
static void check_body_container(const sg_rule_input *in, sg_rule_output *out)
{
    const char *key, *c = body_container(in, &key);
    if (!c || !c[0])
        return; /* dockerd refuses that itself */
    if (!require_owned(in, out, SG_FACT_CONTAINER, c, false))
        return;
    const sg_fact *f = sg_facts_find(in->rc->facts, SG_FACT_CONTAINER, c);
    const char *id = json_string_value(json_object_get(f->json, "Id"));
    if (!id) {
        sg_findings_add(out->findings, 500, "scope: pin", "sockgate: cannot pin the container");
        return;
    }
    sg_edits_add(out->edits, SG_EDIT_SET_STRING, in->body, key, id, NULL,
                 "scope: the container named by its ID");
}

/* The fact an answer is made from. */
static const sg_fact *answer_fact(const sg_rule_input *in)
{
    if (in->route == ROUTE_NETWORK_INSPECT)
        return sg_facts_find(in->rc->facts, SG_FACT_NETWORK, in->subject);
    return sg_facts_find(in->rc->facts, SG_FACT_LISTING,
                         in->route == ROUTE_SYSTEM_DF ? "/system/df" : "/networks");
}

static void check_link(const char *name, void *arg)
{
    ref_check *rc = arg;
    require_owned(rc->in, rc->out, SG_FACT_CONTAINER, name, false);
}

void sg_scope_check(const sg_rule_input *in, sg_rule_output *out)
{
    ref_check rc = {in, out};
    request_links(in, check_link, &rc);
    switch (in->plan) {
    case SG_PLAN_ANSWER: {
        const sg_fact *f = answer_fact(in);
        if (!f || f->status != 200 || !f->json)
            sg_findings_add(out->findings, 502, "scope: cannot ask",
                            "sockgate: cannot ask the Docker Engine for the tenant's answer");
        return;
    }
    case SG_PLAN_CREATE:
        sg_spec_refs(in->spec, check_create_ref, &rc);
        return;
    case SG_PLAN_EXEC_START:
        require_owned(in, out, SG_FACT_EXEC, in->subject, false);
        return;
    case SG_PLAN_NETWORK_CONNECT:
    case SG_PLAN_OWNED:
        if (!require_owned(in, out, sg_scope_subject_kind(in->route), in->subject, false))
            return;
        if (route_has_body_container(in->route))
            check_body_container(in, out);
        return;
    default:
        if (in->subject && in->subject[0])
            require_owned(in, out, SG_FACT_CONTAINER, in->subject, false);
    }
}

/* ---- labels (rules.c: "tenant: labels") ---------------------------------- */

static void refuse_protected(json_t *labels, sg_rule_output *out)
{
    const char *key = json_is_object(labels) ? sg_tenant_protected_label(labels) : NULL;
    if (key)
        sg_findings_add(out->findings, 403, "tenant: protected label",
                        "sockgate: labels under \"" SG_LABEL_NAMESPACE "\" are sockgate's own; "
                        "\"%.200s\" cannot be set",
                        key);
}

/* Mounts[].VolumeOptions.Labels: what a volume made for the mount gets. */
static void refuse_protected_in_mounts(sg_jx *r, json_t *holder, sg_rule_output *out)
{
    json_t *mounts = sg_jx_array(r, holder, "HostConfig", "Mounts");
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        json_t *vo = sg_jx_object(r, m, "Mounts[]", "VolumeOptions");
        refuse_protected(sg_jx_object(r, vo, "Mounts[].VolumeOptions", "Labels"), out);
    }
}

/* An edit that cannot be recorded refuses the request (verdict.h). */
static void add_label(sg_rule_output *out, json_t *holder, const char *label, const char *value,
                      const char *why)
{
    if (holder)
        sg_edits_add(out->edits, SG_EDIT_SET_LABEL, holder, "Labels", value, label, why);
}

void sg_tenant_labels_check(const sg_rule_input *in, sg_rule_output *out)
{
    sg_jx r = {0};
    const char *tenant = in->rc->tenancy ? in->rc->tenancy->id : NULL;
    refuse_protected(sg_jx_object(&r, in->body, "", "Labels"), out);
    switch (in->plan) {
    case SG_PLAN_CREATE: {
        refuse_protected_in_mounts(&r, in->hostconfig, out);
        /* Both explicit, so that an image's own labels never name a tenant
         * or a policy: and every container of a tenant records its policy,
         * since any of them can reach a socket-holding sibling's socket (a
         * shared PID namespace, /proc/1/root) and is then the caller. A
         * socket-mounting container's policy is set again once proven. */
        const char *policy = tenant && in->rc->tenancy->policy ? in->rc->tenancy->policy : "";
        add_label(out, in->body, SG_TENANT_LABEL, tenant ? tenant : "",
                  tenant ? "tenant: created by this tenant" : "tenant: no tenant");
        add_label(out, in->body, SG_POLICY_LABEL, policy,
                  tenant ? "tenant: its tenant's image policy" : "tenant: no tenant");
        break;
    }
    case SG_PLAN_SERVICE: {
        json_t *cs = in->hostconfig; /* the task template's ContainerSpec */
        refuse_protected(sg_jx_object(&r, cs, "ContainerSpec", "Labels"), out);
        refuse_protected_in_mounts(&r, cs, out);
        add_label(out, cs, SG_TENANT_LABEL, "", "tenant: no tenant");
        break;
    }
    default: /* volume and network create */
        if (tenant)
            add_label(out, in->body, SG_TENANT_LABEL, tenant, "tenant: created by this tenant");
    }
    if (r.failed)
        sg_findings_add_raw(out->findings, 400, "malformed request", r.err);
}

/* ---- the answers (SG_PLAN_ANSWER) ---------------------------------------- */

/* Keep the entries of array `list` (objects with "Labels") that are the
 * tenant's, or that keep() keeps anyway. */
static json_t *keep_own(json_t *list, const char *tenant, bool (*keep)(json_t *item))
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if ((keep && keep(item)) || sg_tenant_labels_own(json_object_get(item, "Labels"), tenant))
            json_array_append(out, item);
    }
    return out;
}

static bool network_is_builtin(json_t *n)
{
    const char *name = json_string_value(json_object_get(n, "Name"));
    return name && sg_network_is_builtin(name);
}

json_t *sg_scope_answer(const sg_rule_input *in)
{
    const sg_fact *f = answer_fact(in);
    const char *tenant = in->rc->tenancy->id;
    if (!f || !f->json)
        return NULL;
    json_t *a = json_deep_copy(f->json);
    if (!a)
        return NULL;
    if (in->route == ROUTE_NETWORK_INSPECT) {
        /* others' containers on a shared network are not the tenant's to see */
        if (json_object_get(a, "Containers"))
            json_object_set_new(a, "Containers", json_object());
        if (json_object_get(a, "Services"))
            json_object_set_new(a, "Services", json_object());
        return a;
    }
    if (in->route == ROUTE_SYSTEM_DF) {
        json_t *c = json_object_get(a, "Containers"), *v = json_object_get(a, "Volumes");
        if (json_is_array(c))
            json_object_set_new(a, "Containers", keep_own(c, tenant, NULL));
        if (json_is_array(v))
            json_object_set_new(a, "Volumes", keep_own(v, tenant, NULL));
        return a;
    }
    json_t *kept = json_is_array(a) ? keep_own(a, tenant, network_is_builtin) : NULL;
    json_decref(a);
    return kept;
}
