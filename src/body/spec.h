/*
 * spec.h — what a container will get from the host, in one shape, whatever
 * the request or the source.
 *
 * The isolation, port and socket-mount rules check containers that come
 * from four places: a create body's HostConfig, an existing container's
 * inspect, a service's TaskTemplate, and a container update. Each names the
 * same powers differently (HostConfig.SecurityOpt "seccomp=unconfined" is
 * Privileges.Seccomp.Mode "unconfined" in a service). This file reads each
 * source once into an sg_spec, so that every rule is written once and sees
 * every source. Strings are borrowed from the JSON tree the spec was read
 * from; every item carries the key path it came from, for messages.
 */
#ifndef SG_SPEC_H
#define SG_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "body/jsonx.h"
#include "body/mounts.h"

typedef enum {
    SG_NS_NETWORK,
    SG_NS_PID,
    SG_NS_IPC,
    SG_NS_UTS,
    SG_NS_USER,
    SG_NS_CGROUP,
    SG_NS_COUNT,
} sg_ns_kind;

/* "NetworkMode", "PidMode", … */
const char *sg_ns_field(sg_ns_kind ns);

/* One value of a spec, and where it is written, so that an allowed request
 * can name what was checked instead (pins.c: a container or network by its
 * ID, not by a name that could point elsewhere by the time dockerd reads
 * it). */
typedef struct {
    const char *value;
    const char *where;  /* static key path, e.g. "HostConfig.CapAdd"          */
    json_t *obj;        /* the object holding it (borrowed), or NULL          */
    const char *key;    /* obj[key] is the value (key as spelled), or NULL    */
    bool is_key;        /* the value is itself a key of obj (EndpointsConfig)  */
    json_t *array;      /* or: the array holding it at index (borrowed)       */
    size_t index;
} sg_spec_item;

typedef struct {
    sg_spec_item *v;
    size_t n, cap;
} sg_spec_items;

typedef enum {
    SG_SPEC_CREATE,  /* a create body's HostConfig                        */
    SG_SPEC_INSPECT, /* an existing container (GET /containers/{id}/json) */
    SG_SPEC_SERVICE, /* a service spec's task template                    */
    SG_SPEC_UPDATE,  /* a container update body                           */
    SG_SPEC_VOLUME,  /* a volume create body: what containers will mount  */
} sg_spec_source;

typedef struct {
    sg_spec_source source;
    const char *where;            /* "HostConfig", "TaskTemplate.ContainerSpec" … */
    bool privileged;
    const char *ns[SG_NS_COUNT];  /* modes as written; NULL when unset          */
    sg_spec_items caps;           /* capabilities to add (CapAdd, Capabilities,
                                     CapabilityAdd)                             */
    sg_spec_items security;       /* "key=value" options (SecurityOpt, or a
                                     service's Privileges in that form)         */
    const char *devices;          /* key path of a device field that is set     */
    const char *system_paths;     /* key path of MaskedPaths/ReadonlyPaths set  */
    const char *cgroup_parent;
    const char *runtime;          /* container runtime (HostConfig.Runtime)     */
    const char *annotations;      /* key path of runtime annotations that are set */
    const char *task_runtime;     /* service: a non-container task runtime      */
    sg_spec_items networks;       /* networks joined by name                    */
    sg_spec_items links;          /* HostConfig.Links: "container[:alias]"      */
    sg_spec_items sysctls;        /* sysctl names                               */
    sg_mount_list mounts;
    json_t *port_bindings;        /* HostConfig.PortBindings (object), borrowed */
    bool publish_all;             /* HostConfig.PublishAllPorts                 */
    json_t *service_ports;        /* EndpointSpec.Ports (array), borrowed       */
    json_t *hc;                   /* the object edits go into (borrowed)        */
} sg_spec;

/*
 * Read a spec. Problems with the body go into r (the request is then
 * refused with 400); -1 only when out of memory. networking is the create
 * body's NetworkingConfig (may be NULL). sg_spec_free() in every case.
 */
int sg_spec_from_create(json_t *hc, json_t *networking, sg_spec *out, sg_jx *r);
int sg_spec_from_inspect(json_t *inspect, sg_spec *out, sg_jx *r);
int sg_spec_from_service(json_t *service_spec, sg_spec *out, sg_jx *r);
int sg_spec_from_update(json_t *update, sg_spec *out, sg_jx *r);
/* POST /volumes/create: a local volume's "device" as a mount. */
int sg_spec_from_volume_create(json_t *req, sg_spec *out, sg_jx *r);
void sg_spec_free(sg_spec *s);

/* The user-defined network a NetworkMode names, or NULL (default, bridge,
 * host, none, container:…). */
const char *sg_spec_user_network(const char *network_mode);

/*
 * A link as dockerd's opts.ParseLink reads it: "name", "name:alias", or
 * the stored form "/name:/parent/alias". Writes the container's name
 * (without the leading '/') and the alias; -1 when dockerd would refuse it.
 */
int sg_spec_link_parse(const char *link, char *name, size_t name_size, char *alias,
                       size_t alias_size);

/* ExecConfig.Privileged of an exec create body (POST /containers/{id}/exec). */
bool sg_spec_exec_privileged(json_t *exec_config, sg_jx *r);

#endif
