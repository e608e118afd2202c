/*
 * test_tenant_census.c — `sockgate status`'s tenants (cli/tenant_census.c):
 * dockerd's lists grouped by tenant, with what is not of dockerd's shape
 * skipped and counted, and the queries the lists are asked with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tenant_census.h"
#include "http/query.h"
#include "unit.h"

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "  bad test JSON: %s\n", e.text);
    return j;
}

static bool take(bool (*fn)(sg_census *, json_t *), sg_census *c, const char *text)
{
    json_t *j = load(text);
    bool ok = fn(c, j);
    json_decref(j);
    return ok;
}

static json_t *tenant(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(doc, "tenants"), i);
}

static long long num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(v, b) : v);
}

TEST(lists_grouped_by_tenant)
{
    sg_census *c = sg_census_new();
    CHECK(take(sg_census_containers, c,
               "[{\"Id\": \"1\", \"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": "
               "\"tb\", \"io.sockgate.policy\": \"docker:cli\"}},"
               " {\"Id\": \"2\", \"State\": \"exited\", \"Labels\": {\"io.sockgate.tenant\": "
               "\"tb\", \"io.sockgate.policy\": \"docker:cli\"}},"
               " {\"Id\": \"3\", \"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": "
               "\"tb\"}},"
               " {\"Id\": \"4\", \"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": "
               "\"uid:1000\"}},"
               " {\"Id\": \"5\", \"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": "
               "\"\"}},"
               " {\"Id\": \"6\", \"State\": \"running\", \"Labels\": {}},"
               " {\"Id\": \"7\", \"State\": \"running\", \"Labels\": null}]"));
    CHECK(take(sg_census_volumes, c,
               "{\"Volumes\": [{\"Name\": \"v\", \"Labels\": {\"io.sockgate.tenant\": \"tb\"}},"
               " {\"Name\": \"w\", \"Labels\": null},"
               " {\"Name\": \"x\", \"Labels\": {\"io.sockgate.tenant\": \"ta\"}}],"
               " \"Warnings\": null}"));
    CHECK(take(sg_census_networks, c,
               "[{\"Name\": \"n\", \"Labels\": {\"io.sockgate.tenant\": \"tb\"}},"
               " {\"Name\": \"bridge\", \"Labels\": {}}]"));
    json_t *doc = json_object();
    sg_census_describe(c, doc);
    CHECK_INT(json_array_size(json_object_get(doc, "tenants")), 3);
    /* sorted by ID */
    json_t *a = tenant(doc, 0), *b = tenant(doc, 1), *u = tenant(doc, 2);
    CHECK_STR(json_string_value(json_object_get(a, "id")), "ta");
    CHECK(json_is_null(json_object_get(a, "policy")));
    CHECK_INT(num(a, "containers", "all"), 0);
    CHECK_INT(num(a, "volumes", NULL), 1);
    CHECK_STR(json_string_value(json_object_get(b, "id")), "tb");
    CHECK_STR(json_string_value(json_object_get(b, "policy")), "docker:cli");
    CHECK(json_object_get(b, "other_policies") == NULL);
    CHECK_INT(num(b, "containers", "running"), 2);
    CHECK_INT(num(b, "containers", "all"), 3);
    CHECK_INT(num(b, "volumes", NULL), 1);
    CHECK_INT(num(b, "networks", NULL), 1);
    CHECK_STR(json_string_value(json_object_get(u, "id")), "uid:1000");
    CHECK(json_is_null(json_object_get(u, "policy")));
    CHECK_INT(num(u, "containers", "running"), 1);
    CHECK(json_object_get(doc, "tenants_skipped") == NULL);
    json_decref(doc);
    sg_census_free(c);
}

TEST(what_is_not_dockerds_shape_is_skipped_and_counted)
{
    char *long_id = malloc(200);
    memset(long_id, 'a', 199);
    long_id[199] = '\0';
    char text[1024];
    snprintf(text, sizeof text,
             "[7, \"x\", {\"Labels\": \"io.sockgate.tenant=t1\"},"
             " {\"Labels\": {\"io.sockgate.tenant\": 1}},"
             " {\"Labels\": {\"io.sockgate.tenant\": \"%s\"}},"
             " {\"Labels\": {\"io.sockgate.tenant\": \"t\\u0000x\"}},"
             " {\"State\": 1, \"Labels\": {\"io.sockgate.tenant\": \"t1\"}},"
             " {\"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": \"t1\", "
             "\"io.sockgate.policy\": [\"*\"]}},"
             " {\"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": \"t1\", "
             "\"io.sockgate.policy\": \"a\"}},"
             " {\"State\": \"running\", \"Labels\": {\"io.sockgate.tenant\": \"t1\", "
             "\"io.sockgate.policy\": \"b\"}},"
             " {\"Labels\": {\"io.sockgate.tenant\": \"t1\", \"io.sockgate.policy\": \"b\"}}]",
             long_id);
    free(long_id);
    sg_census *c = sg_census_new();
    json_error_t e;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);
    CHECK(j != NULL);
    CHECK(sg_census_containers(c, j));
    json_decref(j);
    /* whole answers of another shape: nothing counted */
    CHECK(!take(sg_census_containers, c, "{\"message\": \"no\"}"));
    CHECK(!take(sg_census_volumes, c, "[]"));
    CHECK(!take(sg_census_volumes, c, "{\"Volumes\": 3}"));
    CHECK(!take(sg_census_volumes, c, "{}"));
    CHECK(take(sg_census_volumes, c, "{\"Volumes\": null}"));
    CHECK(!take(sg_census_networks, c, "{}"));
    CHECK(!sg_census_networks(c, NULL));
    json_t *doc = json_object();
    sg_census_describe(c, doc);
    CHECK_INT(json_array_size(json_object_get(doc, "tenants")), 1);
    json_t *t = tenant(doc, 0);
    CHECK_INT(num(t, "containers", "all"), 3);
    CHECK_INT(num(t, "containers", "running"), 2);
    /* containers that disagree on the policy: the first, and the others */
    CHECK_STR(json_string_value(json_object_get(t, "policy")), "a");
    json_t *others = json_object_get(t, "other_policies");
    CHECK_INT(json_array_size(others), 1);
    CHECK_STR(json_string_value(json_array_get(others, 0)), "b");
    CHECK_INT(num(doc, "tenants_skipped", "unreadable"), 8);
    CHECK_INT(num(doc, "tenants_skipped", "beyond_limit"), 0);
    json_decref(doc);
    sg_census_free(c);
}

TEST(at_most_so_many_tenants)
{
    sg_census *c = sg_census_new();
    json_t *list = json_array();
    for (int i = 0; i < SG_CENSUS_MAX_TENANTS + 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "t%05d", i);
        json_array_append_new(list, json_pack("{s:s,s:{s:s}}", "State", "exited", "Labels",
                                              "io.sockgate.tenant", id));
    }
    CHECK(sg_census_containers(c, list));
    json_decref(list);
    json_t *doc = json_object();
    sg_census_describe(c, doc);
    CHECK_INT(json_array_size(json_object_get(doc, "tenants")), SG_CENSUS_MAX_TENANTS);
    CHECK_INT(num(doc, "tenants_skipped", "beyond_limit"), 3);
    json_decref(doc);
    sg_census_free(c);
}

TEST(the_lists_are_asked_with_dockerds_label_filter)
{
    const char *q = SG_CENSUS_QUERY_CONTAINERS;
    http_query p;
    CHECK_INT(http_query_parse(q, strlen(q), &p), HTTP_QUERY_OK);
    CHECK_STR(http_query_first(&p, "all"), "1");
    CHECK_STR(http_query_first(&p, "filters"), "{\"label\":[\"io.sockgate.tenant\"]}");
    http_query_free(&p);
    q = SG_CENSUS_QUERY;
    CHECK_INT(http_query_parse(q, strlen(q), &p), HTTP_QUERY_OK);
    CHECK(http_query_first(&p, "all") == NULL);
    CHECK_STR(http_query_first(&p, "filters"), "{\"label\":[\"io.sockgate.tenant\"]}");
    http_query_free(&p);
}

int main(void)
{
    RUN(lists_grouped_by_tenant);
    RUN(what_is_not_dockerds_shape_is_skipped_and_counted);
    RUN(at_most_so_many_tenants);
    RUN(the_lists_are_asked_with_dockerds_label_filter);
    return UNIT_DONE();
}
