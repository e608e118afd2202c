/*
 * mounts.h — every way a request body (or an existing container) can put a
 * host path into a container, found in dockerd's own terms.
 *
 * Sources of mounts, per DESIGN.md section 2:
 *   HostConfig.Binds         "SRC:DST[:opts]" (SRC absolute → bind, else a
 *                            named volume)
 *   HostConfig.Mounts[]      Type "bind" (Source), Type "volume" (Source is a
 *                            volume name; VolumeOptions.DriverConfig may
 *                            declare a local-driver bind inline)
 *   HostConfig.VolumesFrom   "container[:ro|rw]"
 *   services: Spec.TaskTemplate.ContainerSpec.Mounts[] (same as Mounts)
 *   inspect:  Mounts[] of a container that exists (Type, Source, Name)
 * Keys are looked up the way dockerd matches them (gojson), and each mount
 * remembers where it came from so that an allowed request can be rewritten
 * in place.
 */
#ifndef SG_MOUNTS_H
#define SG_MOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SG_MOUNT_BIND,         /* source is a host path                       */
    SG_MOUNT_VOLUME,       /* source is a volume name (options in dockerd) */
    SG_MOUNT_LOCAL_DEVICE, /* local-driver volume declared inline: device  */
    SG_MOUNT_VOLUMES_FROM, /* source is a container name or id            */
} sg_mount_kind;

typedef struct {
    sg_mount_kind kind;
    char *source;   /* host path, volume name, or container               */
    char *target;   /* path inside the container ("" for volumes-from)    */
    json_t *binds;  /* the Binds array this came from (borrowed), or NULL */
    size_t index;   /* position in binds                                   */
    json_t *mount;  /* the Mounts[] object this came from (borrowed)       */
} sg_mount;

typedef struct {
    sg_mount *items;
    size_t n, cap;
} sg_mount_list;

/* A container create body (the whole JSON object). -1 + err on a value
 * dockerd would not accept either (wrong types). */
int sg_mounts_of_create(json_t *body, sg_mount_list *out, char *err, size_t errsz);
/* A service spec (create or update body). */
int sg_mounts_of_service(json_t *spec, sg_mount_list *out, char *err, size_t errsz);
/* GET /containers/{id}/json of an existing container. */
int sg_mounts_of_inspect(json_t *inspect, sg_mount_list *out);
/* Options of GET /volumes/{name}: the host path a local volume binds, or
 * NULL if it binds none. */
const char *sg_mounts_volume_device(json_t *volume);

void sg_mount_list_free(sg_mount_list *l);

/* Rewrites, for allowed requests. */
int sg_mount_set_source(sg_mount *m, const char *host_path);
int sg_mounts_add_bind(json_t *body, const char *host_path, const char *target);

#endif
