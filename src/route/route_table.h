/*
 * route_table.h — every Engine API route dockerd registers, as data.
 *
 * The table itself lives in route_table.def (an X-macro list) so that the
 * enum, the matcher table and `sockgate explain` are generated from one
 * place. Order in the .def file is dockerd's registration order, which
 * matters: the first route that matches wins.
 *
 *   ROUTE(ID, METHOD, "pattern")
 *
 * Patterns use dockerd's own variable syntax: {name:.*} (greedy, may contain
 * slashes), {id} (one segment, [^/]+), {id:.+} (greedy, non-empty).
 */
#ifndef SG_ROUTE_TABLE_H
#define SG_ROUTE_TABLE_H

#include <stddef.h>

#include "http/http.h"

typedef enum {
    ROUTE_NONE = 0,
#define ROUTE(id, method, pattern) id,
#include "route/route_table.def"
#undef ROUTE
    ROUTE_COUNT
} route_id;

typedef struct {
    route_id id;
    const char *id_name;  /* "ROUTE_CONTAINER_CREATE"              */
    http_method method;
    const char *pattern;  /* "/containers/create"                   */
} route_info;

/* Table in registration order; route_count() entries. */
const route_info *route_table(void);
size_t route_count(void);
/* Info for one id (NULL for ROUTE_NONE or out of range). */
const route_info *route_lookup(route_id id);

#endif
