/*
 * fuzz_body_inspector.c — a request body as the decision code reads it:
 * read like dockerd reads it (gojson), its host configuration located the
 * way dockerd locates it for a create, an update and a service — top-level
 * host fields and null HostConfig included — and for a start of the same
 * length (hostconfig.c), read into a spec (spec.c, mounts.c), every rule
 * run on it (isolation, ports, socket mounts) with no engine facts, the
 * pins of what was looked up, and the edits of an allowed request applied.
 *
 * Invariants: no crash or sanitizer report; a body with top-level host
 * fields is never located as FOUND or NONE; every mount has a source and a
 * target; a refused or allowed verdict always has a message / serialisable
 * body; re-reading the rewritten body finds no fewer mounts than before.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"
#include "body/hostconfig.h"
#include "body/spec.h"
#include "decide/pins.h"
#include "decide/rules.h"

static sg_settings *policy(void)
{
    static sg_settings *s;
    static const char text[] =
        "{\"enhancedContainerIsolation\":{\"value\":true,\"dockerSocketMount\":"
        "{\"imageList\":{\"images\":[\"docker:cli\"]}}},"
        "\"portBindingBehavior\":{\"value\":\"local-only-port-binding\"},"
        "\"filesharingAllowedDirectories\":[{\"path\":\"$TMP\"}]}";
    char err[256];
    if (!s)
        s = sg_settings_parse(text, sizeof text - 1, "fuzz", err, sizeof err);
    return s;
}

static size_t count_mounts(json_t *body)
{
    sg_hostconfig hc;
    sg_hostconfig_of_create(body, &hc);
    sg_spec spec = {0};
    sg_jx r = {0};
    size_t n = 0;
    if (hc.status == SG_HC_FOUND && sg_spec_from_create(hc.hc, NULL, &spec, &r) == 0 &&
        !r.failed)
        n = spec.mounts.n;
    sg_spec_free(&spec);
    return n;
}

/* Every rule on one spec, edits applied to body; checks the invariants. */
static void run_rules(json_t *body, sg_spec *spec)
{
    static sg_policy_env env;
    if (!env.restricted_path) {
        env.restricted_path = strdup("/run/sockgate/restricted.sock");
        sg_protected_add(&env.protected, "/run/docker.sock");
        sg_protected_add(&env.protected, env.restricted_path);
    }
    sg_facts facts;
    sg_facts_init(&facts, NULL, NULL, NULL, NULL);
    sg_caller caller = {.socket = SG_SOCKET_PUBLIC, .uid = 1000, .gid = 1000};
    sg_allowed_dirs dirs;
    sg_allowed_dirs_for(policy(), &caller, &dirs);
    sg_rule_ctx rc = {.policy = policy(), .env = &env, .caller = &caller, .isolated = true,
                      .dirs = &dirs, .facts = &facts};
    sg_findings out = {0};
    sg_edits edits = {0};
    sg_isolation_check(&rc, spec, &out, &edits);
    sg_ports_check(&rc, spec, body, NULL, &out, &edits);
    static sg_socket_exposures x;
    sg_socket_find(&rc, spec, &x);
    for (size_t i = 0; i < spec->mounts.n; i++)
        if (!spec->mounts.items[i].source || !spec->mounts.items[i].target)
            abort();
    for (size_t i = 0; i < out.n; i++)
        if (!out.items[i].message || strncmp(out.items[i].message, SG_ECI_PREFIX, 6) != 0)
            if (out.items[i].status != 404)
                abort();
    size_t before = spec->source == SG_SPEC_CREATE ? spec->mounts.n : 0;
    if (x.n > 0 && !x.unknown)
        sg_socket_rewrite(&rc, spec, &x, body, "docker.io/library/docker@sha256:00", &edits);
    if (sg_pins_spec(spec, &facts, &edits) != 0)
        abort();
    if (sg_edits_apply(&edits, body) == 0) {
        char *dumped = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!dumped)
            abort();
        sg_gojson_error err;
        json_t *again = sg_gojson_parse(dumped, strlen(dumped), &err);
        if (spec->source == SG_SPEC_CREATE && again && count_mounts(again) < before)
            abort();
        json_decref(again);
        free(dumped);
    }
    sg_edits_free(&edits);
    sg_findings_free(&out);
    sg_facts_free(&facts);
}

static void create_shape(const uint8_t *data, size_t size)
{
    sg_gojson_error err;
    json_t *body = sg_gojson_parse((const char *)data, size, &err);
    if (!body)
        return;
    sg_hostconfig hc;
    sg_hostconfig_of_create(body, &hc);
    if (sg_hostconfig_toplevel_key(body) && hc.status != SG_HC_REFUSED)
        abort(); /* the pre-1.18 shape is never read as "no host config" */
    sg_spec spec = {0};
    sg_jx r = {0};
    if (hc.status != SG_HC_REFUSED &&
        sg_spec_from_create(hc.hc, sg_gojson_get(body, "NetworkingConfig", NULL), &spec, &r) ==
            0 &&
        !r.failed)
        run_rules(body, &spec);
    sg_spec_free(&spec);
    json_decref(body);
}

static void other_shapes(const uint8_t *data, size_t size)
{
    sg_gojson_error err;
    json_t *body = sg_gojson_parse((const char *)data, size, &err);
    if (!body)
        return;
    sg_spec spec = {0};
    sg_jx r = {0};
    if (sg_spec_from_service(body, &spec, &r) == 0 && !r.failed)
        run_rules(body, &spec);
    sg_spec_free(&spec);
    r = (sg_jx){0};
    sg_hostconfig hc;
    sg_hostconfig_of_update(body, &hc);
    if (hc.status == SG_HC_FOUND && sg_spec_from_update(hc.hc, &spec, &r) == 0 && !r.failed)
        run_rules(body, &spec);
    sg_spec_free(&spec);
    r = (sg_jx){0};
    sg_spec_exec_privileged(body, &r);
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A start body: dockerd reads it when chunked or over 7 bytes. */
    sg_hostconfig hc;
    sg_hostconfig_of_start(size, size & 1, &hc);
    if ((size > 7 || (size & 1)) != (hc.status == SG_HC_REFUSED))
        abort();
    create_shape(data, size);
    other_shapes(data, size);
    return 0;
}
