/*
 * tenant_census.c — the tenants on the engine, counted from dockerd's
 * lists (see tenant_census.h).
 */
#include "cli/tenant_census.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/tenant.h"

typedef struct {
    char id[SG_TENANT_ID_MAX];
    char policy[SG_POLICY_MAX]; /* "": none seen yet                        */
    json_t *other_policies;     /* NULL, or the differing ones seen         */
    json_int_t running, containers, volumes, networks;
} census_tenant;

struct sg_census {
    census_tenant *v;
    size_t n, cap;
    json_t *index;              /* ID → position in v                       */
    json_int_t unreadable, beyond_limit;
};

sg_census *sg_census_new(void)
{
    sg_census *c = calloc(1, sizeof *c);
    if (c && !(c->index = json_object())) {
        free(c);
        return NULL;
    }
    return c;
}

void sg_census_free(sg_census *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->v[i].other_policies);
    free(c->v);
    json_decref(c->index);
    free(c);
}

/* The tenant of one list item, read like a caller's (decide/tenant.h). */
static sg_labels_read item_labels(json_t *item, bool with_policy, sg_tenant *t)
{
    if (!json_is_object(item))
        return SG_LABELS_UNREADABLE;
    return sg_tenant_read_labels(json_object_get(item, "Labels"), with_policy, t);
}

/* The tenant id's entry, made on first sight; NULL beyond the limit (or
 * out of memory): the object is counted as such. */
static census_tenant *census_tenant_of(sg_census *c, const char *id)
{
    json_t *at = json_object_get(c->index, id);
    if (at)
        return &c->v[json_integer_value(at)];
    if (c->n == SG_CENSUS_MAX_TENANTS) {
        c->beyond_limit++;
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        census_tenant *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->unreadable++;
            return NULL;
        }
        c->v = v;
        c->cap = cap;
    }
    census_tenant *t = &c->v[c->n];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    if (json_object_set_new(c->index, id, json_integer((json_int_t)c->n)) != 0) {
        c->unreadable++;
        return NULL;
    }
    c->n++;
    return t;
}

static void census_policy(census_tenant *t, const char *policy)
{
    if (!policy[0] || strcmp(policy, t->policy) == 0)
        return;
    if (!t->policy[0]) {
        snprintf(t->policy, sizeof t->policy, "%s", policy);
        return;
    }
    if (!t->other_policies)
        t->other_policies = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(t->other_policies, i, v)
    {
        if (strcmp(json_string_value(v), policy) == 0)
            return;
    }
    json_array_append_new(t->other_policies, json_string(policy));
}

bool sg_census_containers(sg_census *c, json_t *answer)
{
    if (!json_is_array(answer))
        return false;
    size_t i;
    json_t *item;
    json_array_foreach(answer, i, item)
    {
        sg_tenant who;
        sg_labels_read r = item_labels(item, true, &who);
        json_t *state = json_object_get(item, "State");
        if (r == SG_LABELS_TENANT && state && !json_is_string(state))
            r = SG_LABELS_UNREADABLE;
        if (r == SG_LABELS_UNREADABLE)
            c->unreadable++;
        if (r != SG_LABELS_TENANT)
            continue;
        census_tenant *t = census_tenant_of(c, who.id);
        if (!t)
            continue;
        t->containers++;
        if (state && strcmp(json_string_value(state), "running") == 0)
            t->running++;
        census_policy(t, who.policy);
    }
    return true;
}

/* Volumes and networks: a count each. */
static void census_count(sg_census *c, json_t *list, bool volumes)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        sg_tenant who;
        sg_labels_read r = item_labels(item, false, &who);
        if (r == SG_LABELS_UNREADABLE)
            c->unreadable++;
        if (r != SG_LABELS_TENANT)
            continue;
        census_tenant *t = census_tenant_of(c, who.id);
        if (t && volumes)
            t->volumes++;
        else if (t)
            t->networks++;
    }
}

bool sg_census_volumes(sg_census *c, json_t *answer)
{
    json_t *list = json_object_get(answer, "Volumes");
    if (!json_is_array(list) && !json_is_null(list))
        return false;
    census_count(c, list, true); /* dockerd writes null for none */
    return true;
}

bool sg_census_networks(sg_census *c, json_t *answer)
{
    if (!json_is_array(answer))
        return false;
    census_count(c, answer, false);
    return true;
}

static int census_by_id(const void *a, const void *b)
{
    return strcmp(((const census_tenant *)a)->id, ((const census_tenant *)b)->id);
}

void sg_census_describe(const sg_census *c, json_t *doc)
{
    json_t *list = json_array();
    census_tenant *sorted = malloc((c->n + 1) * sizeof *sorted);
    if (!list || !sorted) {
        json_decref(list);
        free(sorted);
        json_object_set_new(doc, "tenants_error", json_string("out of memory"));
        return;
    }
    if (c->n)
        memcpy(sorted, c->v, c->n * sizeof *sorted);
    qsort(sorted, c->n, sizeof *sorted, census_by_id);
    for (size_t i = 0; i < c->n; i++) {
        const census_tenant *t = &sorted[i];
        json_t *o = json_pack("{s:s,s:o,s:{s:I,s:I},s:I,s:I}", "id", t->id, "policy",
                              t->policy[0] ? json_string(t->policy) : json_null(), "containers",
                              "running", t->running, "all", t->containers, "volumes",
                              t->volumes, "networks", t->networks);
        if (o && t->other_policies)
            json_object_set(o, "other_policies", t->other_policies);
        if (o)
            json_array_append_new(list, o);
    }
    free(sorted);
    json_object_set_new(doc, "tenants", list);
    if (c->unreadable || c->beyond_limit)
        json_object_set_new(doc, "tenants_skipped",
                            json_pack("{s:I,s:I}", "unreadable", c->unreadable, "beyond_limit",
                                      c->beyond_limit));
}
