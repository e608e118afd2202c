/*
 * tenant_census.h — `sockgate status`: the tenants on the engine and what
 * each has, counted from dockerd's own lists filtered by the tenant label
 * (GET /containers/json?all=1, /volumes, /networks; see the queries below).
 *
 * The answers are dockerd's, read the way nothing from outside the process
 * is trusted: an item that is not of the documented shape, or whose labels
 * are longer than the gate ever writes, is counted as unreadable and
 * skipped, never guessed at; at most SG_CENSUS_MAX_TENANTS tenants are
 * kept (the others are counted). An empty tenant label is no tenant: every
 * container created through the gate carries the label, empty for callers
 * without a tenant (decide/tenant.h).
 */
#ifndef SG_TENANT_CENSUS_H
#define SG_TENANT_CENSUS_H

#include <jansson.h>
#include <stdbool.h>

#define SG_CENSUS_MAX_TENANTS 4096

/* filters={"label":["io.sockgate.tenant"]}: objects that carry the label,
 * whatever its value; for containers with all=1, stopped ones too. */
#define SG_CENSUS_FILTERS "filters=%7B%22label%22%3A%5B%22io.sockgate.tenant%22%5D%7D"
#define SG_CENSUS_QUERY_CONTAINERS "all=1&" SG_CENSUS_FILTERS
#define SG_CENSUS_QUERY SG_CENSUS_FILTERS

typedef struct sg_census sg_census;

sg_census *sg_census_new(void);
void sg_census_free(sg_census *c);

/* One answer each: GET /containers/json's array, GET /volumes' object
 * ({"Volumes": [...]}), GET /networks' array. false: the answer as a whole
 * is not of that shape (nothing of it is counted). */
bool sg_census_containers(sg_census *c, json_t *answer);
bool sg_census_volumes(sg_census *c, json_t *answer);
bool sg_census_networks(sg_census *c, json_t *answer);

/*
 * Into doc: "tenants", sorted by ID, each {"id", "policy" (its containers'
 * io.sockgate.policy; null: none), "containers": {"running", "all"},
 * "volumes", "networks"}, with "other_policies" only if its containers
 * disagree (the gate never writes that); and "tenants_skipped":
 * {"unreadable", "beyond_limit"} only if anything was skipped.
 */
void sg_census_describe(const sg_census *c, json_t *doc);

#endif
