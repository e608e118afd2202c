/*
 * test_tenant.c — tenants: sockgate.imagePolicies and publicSocketScope as
 * read from the settings, which policy and scope a caller gets, the label
 * checks, and the query a scoped tenant's list is forwarded with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/rule_scope.h"
#include "decide/tenant.h"
#include "http/query.h"
#include "policy/settings.h"
#include "unit.h"

static char err[1024];

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static sg_settings *parse(const char *sockgate)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"enhancedContainerIsolation\": {\"value\": true, \"dockerSocketMount\": "
             "{\"imageList\": {\"images\": [\"docker:cli\", \"testcontainers/ryuk:*\"]}}},\n"
             " \"sockgate\": %s}",
             sockgate);
    err[0] = '\0';
    return sg_settings_parse(text, strlen(text), "admin-settings.json", err, sizeof err);
}

TEST(image_policies_most_specific_first)
{
    sg_settings *s = parse("{\"imagePolicies\": {"
                           "\"*\": {\"scope\": \"own\"},"
                           "\"docker.io/testcontainers/ryuk:*\": {\"commandList\": "
                           "{\"type\": \"allow\", \"commands\": [\"container*\", \"ps\"]}},"
                           "\"docker:cli\": {\"scope\": \"own\"}}}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->tenants);
    CHECK_INT(s->n_image_policies, 3);
    CHECK_STR(s->image_policies[0].pattern, "docker:cli");
    CHECK_STR(s->image_policies[1].pattern, "docker.io/testcontainers/ryuk:*");
    CHECK_STR(s->image_policies[2].pattern, "*");
    CHECK_INT(s->image_policies[0].scope, SG_SCOPE_OWN);
    CHECK_INT(s->image_policies[1].scope, SG_SCOPE_ALL);
    CHECK_INT(s->image_policies[1].commands.type, SG_COMMANDS_ALLOW);
    CHECK_INT(s->image_policies[0].commands.type, SG_COMMANDS_NONE);
    CHECK_INT(s->image_policies[0].match->n_images, 1);
    CHECK_INT(s->public_scope, SG_SCOPE_ALL);
    CHECK(sg_image_policy_find(s, "docker:cli") == &s->image_policies[0]);
    CHECK(sg_image_policy_find(s, "docker:dind") == NULL);
    sg_settings_unref(s);
}

TEST(image_policy_errors_name_the_key)
{
    CHECK(parse("{\"imagePolicies\": {\"docker:cli\": {\"scope\": \"mine\"}}}") == NULL);
    CHECK(strstr(err, "sockgate.imagePolicies.docker:cli.scope") != NULL);
    CHECK(parse("{\"imagePolicies\": {\"Docker:cli\": {}}}") == NULL);
    CHECK(strstr(err, "not a valid image reference") != NULL);
    CHECK(parse("{\"imagePolicies\": {\"docker:cli\": {\"commands\": []}}}") == NULL);
    CHECK(strstr(err, "unknown key \"commands\"") != NULL);
    CHECK(parse("{\"imagePolicies\": {\"docker:cli\": {\"commandList\": "
                "{\"commands\": [\"nope\"]}}}}") == NULL);
    CHECK(strstr(err, "unknown command \"nope\"") != NULL);
    CHECK(parse("{\"imagePolicies\": []}") == NULL);
    CHECK(parse("{\"publicSocketScope\": \"everyone\"}") == NULL);
    CHECK(strstr(err, "sockgate.publicSocketScope") != NULL);
}

TEST(which_pattern_names_an_image)
{
    sg_settings *s = parse("{\"imagePolicies\": {"
                           "\"*\": {\"scope\": \"own\"},"
                           "\"docker:*\": {},"
                           "\"docker:cli\": {\"scope\": \"own\"},"
                           "\"docker.io/testcontainers/*:*\": {},"
                           "\"docker@sha256:" SHA_A "\": {}}}");
    CHECK(s != NULL);
    if (!s)
        return;
    const sg_image_policy *cli = sg_image_policy_find(s, "docker:cli");
    const sg_image_policy *any_tag = sg_image_policy_find(s, "docker:*");
    const sg_image_policy *pinned = sg_image_policy_find(s, "docker@sha256:" SHA_A);
    const sg_image_policy *tc = sg_image_policy_find(s, "docker.io/testcontainers/*:*");
    const sg_image_policy *star = sg_image_policy_find(s, "*");
    CHECK(cli && any_tag && pinned && tc && star);
    if (!cli || !any_tag || !pinned || !tc || !star)
        return;
    /* the most specific pattern naming it, in every spelling of the name */
    CHECK(sg_image_policy_naming(s, "docker:cli") == cli);
    CHECK(sg_image_policy_naming(s, "docker.io/library/docker:cli") == cli);
    CHECK(sg_image_policy_naming(s, "docker:27-cli") == any_tag);
    CHECK(sg_image_policy_naming(s, "docker") == any_tag);
    CHECK(sg_image_policy_naming(s, "docker@sha256:" SHA_A) == pinned);
    CHECK(sg_image_policy_naming(s, "testcontainers/ryuk:0.11.0") == tc);
    CHECK(sg_image_policy_naming(s, "testcontainers/sub/ryuk:1") == star);
    CHECK(sg_image_policy_naming(s, "localhost:5000/docker:cli") == star);
    CHECK(sg_image_policy_naming(s, "sha256:" SHA_A) == star);
    /* how each pattern stands to one reference */
    const sg_image_entry *e = &cli->match->images[0];
    CHECK_INT(sg_image_pattern_fit(e, "docker:cli"), SG_PATTERN_NAMES);
    CHECK_INT(sg_image_pattern_fit(e, "docker:27-cli"), SG_PATTERN_TRIED);
    CHECK_INT(sg_image_pattern_fit(e, "docker@sha256:" SHA_A), SG_PATTERN_TRIED);
    CHECK_INT(sg_image_pattern_fit(e, "docker:cli@sha256:" SHA_A), SG_PATTERN_NAMES);
    CHECK_INT(sg_image_pattern_fit(e, "ghcr.io/docker:cli"), SG_PATTERN_OTHER);
    CHECK_INT(sg_image_pattern_fit(e, "busybox"), SG_PATTERN_OTHER);
    /* an ID or a malformed name: any repository, so every pattern is tried */
    CHECK_INT(sg_image_pattern_fit(e, SHA_A), SG_PATTERN_TRIED);
    CHECK_INT(sg_image_pattern_fit(e, "Not/A:Ref"), SG_PATTERN_TRIED);
    CHECK_INT(sg_image_pattern_fit(&star->match->images[0], "busybox"), SG_PATTERN_NAMES);
    e = &pinned->match->images[0];
    CHECK_INT(sg_image_pattern_fit(e, "docker@sha256:" SHA_A), SG_PATTERN_NAMES);
    CHECK_INT(sg_image_pattern_fit(e, "docker@sha256:" SHA_B), SG_PATTERN_TRIED);
    CHECK_INT(sg_image_pattern_fit(e, "docker:cli"), SG_PATTERN_TRIED);
    sg_settings_unref(s);
    /* no pattern names it */
    s = parse("{\"imagePolicies\": {\"docker:cli\": {}}}");
    CHECK(s && sg_image_policy_naming(s, "busybox") == NULL);
    CHECK(s && sg_image_policy_naming(s, "docker:dind") == NULL);
    sg_settings_unref(s);
}

static sg_caller restricted(sg_container_state st)
{
    sg_caller c = {.socket = SG_SOCKET_RESTRICTED, .pid = 1, .uid = 0, .host_pidns = false};
    c.container.state = st;
    return c;
}

TEST(tenancy_of_callers)
{
    sg_settings *s = parse("{\"imagePolicies\": {\"docker:cli\": {\"scope\": \"own\", "
                           "\"commandList\": {\"type\": \"deny\", \"commands\": [\"push\"]}}},"
                           " \"publicSocketScope\": \"own\"}");
    CHECK(s != NULL);
    if (!s)
        return;
    sg_tenancy t;
    sg_tenant tenant = {.id = "t0123", .policy = "docker:cli"};
    sg_caller c = restricted(SG_CONTAINER_KNOWN);
    sg_tenancy_resolve(s, &c, &tenant, &t);
    CHECK(t.id && strcmp(t.id, "t0123") == 0 && t.scope == SG_SCOPE_OWN && !t.refused);
    CHECK(t.commands == &s->image_policies[0].commands);
    /* unidentified: nothing at all */
    c = restricted(SG_CONTAINER_UNKNOWN);
    sg_tenancy_resolve(s, &c, &tenant, &t);
    CHECK(t.refused != NULL);
    /* a policy the settings no longer have: nothing at all */
    c = restricted(SG_CONTAINER_KNOWN);
    sg_tenant gone = {.id = "t0123", .policy = "docker:dind"};
    sg_tenancy_resolve(s, &c, &gone, &t);
    CHECK(t.refused != NULL);
    /* a container a scoped user started keeps the user's scope */
    sg_tenant user = {.id = "uid:1000", .policy = ""};
    sg_tenancy_resolve(s, &c, &user, &t);
    CHECK(t.scope == SG_SCOPE_OWN && t.commands == &s->commands);
    /* the public socket: by uid, root sees everything */
    sg_caller p = {.socket = SG_SOCKET_PUBLIC, .uid = 1000, .gid = 1000, .host_pidns = true};
    sg_tenancy_resolve(s, &p, NULL, &t);
    CHECK(t.id && strcmp(t.id, "uid:1000") == 0 && t.scope == SG_SCOPE_OWN);
    p.uid = 0;
    sg_tenancy_resolve(s, &p, NULL, &t);
    CHECK(t.id == NULL && t.scope == SG_SCOPE_ALL);
    sg_settings_unref(s);
    /* without tenants in the settings: as before */
    s = parse("{}");
    c = restricted(SG_CONTAINER_UNKNOWN);
    sg_tenancy_resolve(s, &c, NULL, &t);
    CHECK(!t.refused && !t.id && t.commands == &s->commands);
    sg_settings_unref(s);
}

TEST(labels)
{
    json_t *l = json_pack("{s:s,s:s}", "a", "b", SG_TENANT_LABEL, "t1");
    CHECK(sg_tenant_labels_own(l, "t1"));
    CHECK(!sg_tenant_labels_own(l, "t2"));
    CHECK(!sg_tenant_labels_own(l, ""));
    CHECK(!sg_tenant_labels_own(NULL, "t1"));
    CHECK_STR(sg_tenant_protected_label(l), SG_TENANT_LABEL);
    json_decref(l);
    l = json_pack("{s:s}", "io.sockgatex", "b");
    CHECK(sg_tenant_protected_label(l) == NULL);
    json_decref(l);
    /* read one way for callers and the census: anything not of dockerd's
     * shape is unreadable, never "no tenant" */
    sg_tenant t;
    json_t *bad = json_loads("{\"io.sockgate.tenant\": 7}", 0, NULL);
    CHECK_INT(sg_tenant_read_labels(bad, true, &t), SG_LABELS_UNREADABLE);
    json_decref(bad);
    bad = json_loads("{\"io.sockgate.tenant\": \"t1\\u0000x\"}", JSON_ALLOW_NUL, NULL);
    CHECK_INT(sg_tenant_read_labels(bad, true, &t), SG_LABELS_UNREADABLE);
    json_decref(bad);
    bad = json_loads("{\"io.sockgate.tenant\": \"t1\", \"io.sockgate.policy\": []}", 0, NULL);
    CHECK_INT(sg_tenant_read_labels(bad, true, &t), SG_LABELS_UNREADABLE);
    CHECK_INT(sg_tenant_read_labels(bad, false, &t), SG_LABELS_TENANT);
    json_decref(bad);
    bad = json_loads("[]", 0, NULL);
    CHECK_INT(sg_tenant_read_labels(bad, true, &t), SG_LABELS_UNREADABLE);
    json_decref(bad);
    json_t *none = json_loads("{\"io.sockgate.tenant\": \"\"}", 0, NULL);
    CHECK_INT(sg_tenant_read_labels(none, true, &t), SG_LABELS_NONE);
    CHECK_INT(sg_tenant_read_labels(NULL, true, &t), SG_LABELS_NONE);
    json_decref(none);
    json_t *ok = json_loads("{\"io.sockgate.tenant\": \"t1\", \"io.sockgate.policy\": \"docker:cli\"}",
                            0, NULL);
    CHECK_INT(sg_tenant_read_labels(ok, true, &t), SG_LABELS_TENANT);
    CHECK_STR(t.id, "t1");
    CHECK_STR(t.policy, "docker:cli");
    json_decref(ok);
    char id[SG_TENANT_ID_MAX], id2[SG_TENANT_ID_MAX];
    CHECK(sg_tenant_new_id(id) && sg_tenant_new_id(id2));
    CHECK(strlen(id) == 25 && id[0] == 't' && strcmp(id, id2) != 0);
}

static const char *list_query(const char *q, route_id route, const char **why)
{
    static char out[4096];
    http_query p;
    if (http_query_parse(q, strlen(q), &p) != HTTP_QUERY_OK)
        return NULL;
    int rc = sg_scope_list_query(&p, route, "t1", out, sizeof out, why);
    http_query_free(&p);
    return rc == 0 ? out : NULL;
}

TEST(lists_are_narrowed_by_label)
{
    const char *why = NULL;
    CHECK_STR(list_query("all=1", ROUTE_CONTAINER_LIST, &why),
              "all=1&filters=%7B%22label%22%3A%7B%22io.sockgate.tenant%3Dt1%22%3Atrue%7D%7D");
    /* the caller's own filters are kept, in the form they came in: a
     * value's bool matters to dockerd ("dangling", "all") */
    CHECK_STR(list_query("filters=%7B%22label%22%3A%7B%22a%3Db%22%3Afalse%7D%7D",
                         ROUTE_VOLUME_LIST, &why),
              "filters=%7B%22label%22%3A%7B%22a%3Db%22%3Afalse%2C%22io.sockgate.tenant%3Dt1%22"
              "%3Atrue%7D%7D");
    CHECK_STR(list_query("filters=%7B%22status%22%3A%5B%22exited%22%5D%7D&x=%26",
                         ROUTE_CONTAINER_PRUNE, &why),
              "x=%26&filters=%7B%22status%22%3A%5B%22exited%22%5D%2C%22label%22%3A%5B%22"
              "io.sockgate.tenant%3Dt1%22%5D%7D");
    /* one form for all keys, or dockerd refuses the set */
    CHECK(list_query("filters=%7B%22a%22%3A%5B%22x%22%5D%2C%22b%22%3A%7B%22y%22%3Atrue%7D%7D",
                     ROUTE_CONTAINER_LIST, &why) == NULL);
    CHECK(list_query("filters=%5B%5D", ROUTE_CONTAINER_LIST, &why) == NULL);
    CHECK(list_query("filters=%7B%22label%22%3A7%7D", ROUTE_CONTAINER_LIST, &why) == NULL);
    /* since/before name other containers: refused */
    CHECK(list_query("since=abc", ROUTE_CONTAINER_LIST, &why) == NULL);
    CHECK(strstr(why, "since") != NULL);
}

TEST(routes_unknown_to_the_scope_are_refused)
{
    CHECK_INT(sg_scope_route_class(ROUTE_SERVICE_CREATE), SG_SCOPE_REFUSED);
    CHECK_INT(sg_scope_route_class(ROUTE_SYSTEM_DF), SG_SCOPE_REFUSED);
    CHECK_INT(sg_scope_route_class(ROUTE_NONE), SG_SCOPE_REFUSED);
    CHECK_INT(sg_scope_route_class(ROUTE_CONTAINER_LOGS), SG_SCOPE_SUBJECT);
    CHECK_INT(sg_scope_subject_kind(ROUTE_EXEC_START), SG_FACT_EXEC);
    CHECK_INT(sg_scope_subject_kind(ROUTE_NETWORK_DISCONNECT), SG_FACT_NETWORK);
    char msg[256];
    sg_scope_not_found(SG_FACT_CONTAINER, ROUTE_CONTAINER_KILL, "x", "20.10.24", msg,
                       sizeof msg);
    CHECK_STR(msg, "Cannot kill container: x: No such container: x");
    sg_scope_not_found(SG_FACT_VOLUME, ROUTE_VOLUME_DELETE, "v", "28.5.2", msg, sizeof msg);
    CHECK_STR(msg, "get v: no such volume");
}

int main(void)
{
    RUN(image_policies_most_specific_first);
    RUN(image_policy_errors_name_the_key);
    RUN(which_pattern_names_an_image);
    RUN(tenancy_of_callers);
    RUN(labels);
    RUN(lists_are_narrowed_by_label);
    RUN(routes_unknown_to_the_scope_are_refused);
    return UNIT_DONE();
}
