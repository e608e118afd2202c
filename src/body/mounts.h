/*
 * mounts.h — every way a request body (or an existing container) can put a
 * host path into a container, found in dockerd's own terms.
 *
 * Sources of mounts, per docs/DESIGN.md section 2:
 *   HostConfig.Binds         "SRC:DST[:opts]" (SRC absolute: a bind, else a
 *                            named volume), split like dockerd's Linux parser
 *   HostConfig.Mounts[]      Type "bind" (Source), Type "volume" (Source is a
 *                            volume name; VolumeOptions.DriverConfig may
 *                            declare a local-driver volume inline)
 *   HostConfig.VolumesFrom   "container[:ro|rw]"
 *   services: TaskTemplate.ContainerSpec.Mounts[] (same as Mounts)
 *   inspect:  Mounts[] of a container that exists (Type, Source, Name)
 * Keys are read the way dockerd decodes them (jsonx: folded keys, typed
 * values, no NUL), and each mount remembers where it came from so that an
 * allowed request can be rewritten in place and a refusal can name the key.
 */
#ifndef SG_MOUNTS_H
#define SG_MOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "body/jsonx.h"

typedef enum {
    SG_MOUNT_BIND,         /* source is a host path                        */
    SG_MOUNT_VOLUME,       /* source is a volume name (options in dockerd)  */
    SG_MOUNT_LOCAL_DEVICE, /* local-driver volume with options (declared
                              inline, or created by POST /volumes/create):
                              source is its "device" option ("" if none)     */
    SG_MOUNT_VOLUMES_FROM, /* source is a container name or id             */
} sg_mount_kind;

typedef struct {
    sg_mount_kind kind;
    char *source;      /* host path, volume name, device, or container       */
    char *target;      /* path inside the container ("" for volumes-from)    */
    char *propagation; /* bind propagation as written ("" if none)           */
    const char *where; /* key path it came from, e.g. "HostConfig.Binds"     */
    json_t *binds;     /* the Binds array this came from (borrowed), or NULL */
    size_t index;      /* position in binds or volumes_from                  */
    json_t *mount;     /* the Mounts[] object this came from (borrowed)      */
    json_t *volumes_from;   /* the VolumesFrom array this came from, or NULL */
    json_t *volume_options; /* LOCAL_DEVICE: the driver's options (borrowed) */
} sg_mount;

typedef struct {
    sg_mount *items;
    size_t n, cap;
} sg_mount_list;

/*
 * The mounts of a HostConfig object (Binds, Mounts, VolumesFrom). Problems a
 * body can have (a wrong type, a NUL, a bind spec dockerd refuses) go into
 * r; -1 only when out of memory.
 */
int sg_mounts_of_hostconfig(json_t *hc, sg_mount_list *out, sg_jx *r);
/* A service's TaskTemplate.ContainerSpec (Mounts only). */
int sg_mounts_of_container_spec(json_t *cs, sg_mount_list *out, sg_jx *r);
/* GET /containers/{id}/json of an existing container: its actual mounts. A
 * mount the gate cannot read (a type it does not know, a bind without a
 * source) goes into r: the container then cannot be vouched for. */
int sg_mounts_of_inspect(json_t *inspect, sg_mount_list *out, sg_jx *r);

/*
 * What a local-driver volume mounts. The local driver calls
 * mount(device, dir, type, o) with the options as given: no cleaning, a
 * relative device resolved from dockerd's working directory, any file
 * system type (volume/local/local_unix.go), and moby/sys/mount turns the
 * words of o it knows into mount flags. The table, with sources, is in
 * docs/HOSTCONFIG.md ("Local volumes").
 */
typedef enum {
    SG_LOCALVOL_PLAIN,   /* no type and no device: a directory of dockerd's  */
    SG_LOCALVOL_TMPFS,   /* type tmpfs, no bind flag: fresh memory           */
    SG_LOCALVOL_BIND,    /* "bind" or "rbind" among the words of o, whatever
                            the type: device is a host path, resolved the
                            kernel's way                                     */
    SG_LOCALVOL_NETWORK, /* nfs, nfs4, cifs, smb3 without a bind flag: dockerd
                            connects out from the host's network namespace;
                            no host inode is reachable                       */
    SG_LOCALVOL_OTHER,   /* anything else: proc, sysfs, a block device,
                            overlay with host paths in o, an option key the
                            driver does not know … the gate cannot tell what
                            it shows, so it may show a protected socket      */
} sg_localvol;

/* Classify a local volume's options (an object of strings, or NULL);
 * *device receives the device option, if any. */
sg_localvol sg_mounts_local_volume(const json_t *options, const char **device);
/* GET /volumes/{name}: the local driver's options, or NULL for another
 * driver (a plugin's volume: nothing sockgate can see). */
json_t *sg_mounts_volume_options(json_t *volume);

void sg_mount_list_free(sg_mount_list *l);

/* Rewrites, for allowed requests. */
int sg_mount_set_source(sg_mount *m, const char *host_path);
/* Append "host_path:target" to the create body's HostConfig.Binds (made
 * if missing). */
int sg_mounts_add_bind(json_t *body, const char *host_path, const char *target);

#endif
