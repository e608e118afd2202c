/*
 * route_table.c — the route table as data, generated from route_table.def.
 *
 * Owns route_table(), route_count() and route_lookup(). The array is indexed
 * by route_id - 1 (ROUTE_NONE has no entry), which the enum in
 * route_table.h guarantees because both are expanded from the same list in
 * the same order.
 */
#include "route/route_table.h"

static const route_info route_infos[] = {
#define ROUTE(id, method, pattern) {id, #id, HTTP_METHOD_##method, pattern},
#include "route/route_table.def"
#undef ROUTE
};

/* The enum and the array come from one list; make drift impossible. */
_Static_assert(sizeof route_infos / sizeof route_infos[0] == ROUTE_COUNT - 1,
               "route table and route_id enum disagree");

const route_info *route_table(void)
{
    return route_infos;
}

size_t route_count(void)
{
    return sizeof route_infos / sizeof route_infos[0];
}

const route_info *route_lookup(route_id id)
{
    if (id <= ROUTE_NONE || id >= ROUTE_COUNT)
        return NULL;
    return &route_infos[id - 1];
}
