/*
 * hostconfig.h — which host configuration will dockerd use for this
 * request?
 *
 * Every check of what a container may get (socket mounts, isolation,
 * ports) reads the host configuration from here, never from its own idea
 * of where it sits: dockerd has accepted it in more places than the
 * swagger shows, and a gate that looks in one place while dockerd reads
 * another can be talked around. The places, per route and API version,
 * with the moby source of each, are tabled in docs/HOSTCONFIG.md:
 *
 *   create  HostConfig; but dockerd 20.10-26 also take the pre-1.18 shape,
 *           host fields at the top level of the body, when HostConfig is
 *           absent or null, and merge five of them into HostConfig when
 *           both are present. sockgate refuses any top-level host field:
 *           a body whose meaning depends on the engine's version is a
 *           shape the gate cannot vouch for.
 *   start   a body's host configuration replaces the container's on API
 *           < 1.24 (dockerd 20.10-25); dockerd ignores a body of 7 bytes
 *           or less that is not chunked. sockgate, with the policy on,
 *           forwards every start without a body and refuses one dockerd
 *           would read.
 *   update  the body itself (UpdateConfig: resource fields at the top
 *           level, RestartPolicy).
 *   service TaskTemplate.ContainerSpec of the spec in the body.
 *   exec    the body is an exec config, not a host configuration; the
 *           container's own configuration comes from the engine.
 */
#ifndef SG_HOSTCONFIG_H
#define SG_HOSTCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SG_HC_NONE,    /* the request sets no host configuration          */
    SG_HC_FOUND,   /* hc is what dockerd will use                      */
    SG_HC_REFUSED, /* a shape sockgate does not vouch for: refuse 400  */
} sg_hc_status;

typedef struct {
    sg_hc_status status;
    json_t *hc;          /* FOUND: borrowed from the body              */
    const char *where;   /* FOUND: its key path, for messages          */
    char message[400];   /* REFUSED: why, for the 400 answer (no prefix) */
} sg_hostconfig;

/* POST /containers/create: body is the parsed create body. */
void sg_hostconfig_of_create(json_t *body, sg_hostconfig *out);

/*
 * POST /containers/{id}/start: len is the body's decoded length, chunked
 * whether it came chunked. NONE when dockerd would ignore it (not chunked,
 * at most 7 bytes), else REFUSED: on API >= 1.24 dockerd refuses it too, on
 * older versions it would replace the container's host configuration.
 */
void sg_hostconfig_of_start(size_t len, bool chunked, sg_hostconfig *out);

/* POST /containers/{id}/update: the body (UpdateConfig). */
void sg_hostconfig_of_update(json_t *body, sg_hostconfig *out);

/* POST /services/create, /services/{id}/update: the ServiceSpec body. */
void sg_hostconfig_of_service(json_t *spec, sg_hostconfig *out);

/*
 * The top-level key of a create body that some dockerd version reads as
 * host configuration, or NULL: the JSON names of HostConfig's fields and
 * of the Resources it embeds, in every version 19.03-26, plus the
 * wrapper's own Cpuset. Matched the way Go matches keys (folded).
 */
const char *sg_hostconfig_toplevel_key(const json_t *body);

#endif
