/*
 * fuzz_scope_query.c — libFuzzer target for sg_scope_list_query(), the query
 * a scoped tenant's list, prune or event stream is forwarded with.
 *
 * Input: a query string (the router has let it through as Go would). Its
 * first byte picks the route. Invariants: when a query is made, it parses
 * again, has exactly one "filters", and those filters read as Go's
 * filters.FromJSON reads them (either form) contain the tenant's label
 * under "label"
 * (so dockerd narrows by it, whatever the caller wrote); every other
 * parameter is forwarded with its value unchanged; no read outside the
 * input (ASan).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/rule_scope.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const route_id routes[] = {ROUTE_CONTAINER_LIST, ROUTE_VOLUME_LIST, ROUTE_EVENTS,
                                  ROUTE_NETWORK_LIST, ROUTE_CONTAINER_PRUNE};

static bool has_tenant_label(const char *filters)
{
    json_t *f = json_loads(filters, 0, NULL);
    json_t *labels = json_object_get(f, "label");
    bool found = json_is_true(json_object_get(labels, "io.sockgate.tenant=t1"));
    size_t i;
    json_t *v;
    json_array_foreach(labels, i, v)
        found |= json_is_string(v) && strcmp(json_string_value(v), "io.sockgate.tenant=t1") == 0;
    json_decref(f);
    return found;
}

static size_t count_key(const http_query *q, const char *key)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        n += strcmp(q->params[i].key, key) == 0;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || memchr(data, '\0', size))
        return 0;
    route_id route = routes[data[0] % (sizeof routes / sizeof *routes)];
    http_query in, out;
    if (http_query_parse((const char *)data + 1, size - 1, &in) != HTTP_QUERY_OK)
        return 0;
    static char made[4096];
    const char *why;
    if (sg_scope_list_query(&in, route, "t1", made, sizeof made, &why) == 0) {
        if (http_query_parse(made, strlen(made), &out) != HTTP_QUERY_OK)
            abort();
        if (count_key(&out, "filters") != 1 || !has_tenant_label(http_query_first(&out, "filters")))
            abort();
        size_t j = 0; /* the others, in order and unchanged */
        for (size_t i = 0; i < in.n; i++) {
            if (strcmp(in.params[i].key, "filters") == 0)
                continue;
            if (j >= out.n || strcmp(out.params[j].key, in.params[i].key) != 0 ||
                strcmp(out.params[j].value, in.params[i].value) != 0)
                abort();
            j++;
        }
        http_query_free(&out);
    }
    http_query_free(&in);
    return 0;
}
