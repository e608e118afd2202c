/*
 * exposure.h — does a host path give a container one of the protected
 * sockets?
 *
 * Protected sockets are the public, restricted and engine sockets and any
 * extra path the operator lists. A host path exposes one when, resolved on
 * the host as dockerd will resolve it (cleaned, then symlinks followed; see
 * host_paths.h) or through a hard link, it *is* that socket (same
 * device and inode) or it is a directory above it (/run, /var/run, /). The
 * comparison is by (st_dev, st_ino), never by string, and the socket paths
 * are stat'ed at every check, because dockerd or sockgate may have
 * recreated them since the last one.
 */
#ifndef SG_EXPOSURE_H
#define SG_EXPOSURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define SG_MAX_PROTECTED 16

typedef struct {
    char *paths[SG_MAX_PROTECTED]; /* as configured                        */
    size_t n;
} sg_protected_set;

typedef enum {
    SG_EXPOSES_NOTHING,
    SG_EXPOSES_SOCKET,    /* the source is a protected socket              */
    SG_EXPOSES_DIRECTORY, /* the source is a directory above one           */
} sg_exposure_kind;

typedef struct {
    sg_exposure_kind kind;
    const char *socket;     /* the protected socket, as configured          */
    char inner[PATH_MAX];   /* DIRECTORY: the socket's path below the source,
                               e.g. "docker.sock" for source /run            */
} sg_exposure;

int sg_protected_add(sg_protected_set *set, const char *path);
void sg_protected_free(sg_protected_set *set);

/*
 * Check one host path. Writes up to max findings (a directory can hold
 * several protected sockets) and returns how many there are (0: none).
 * resolved, if not NULL, receives the canonical path of source (or "" if it
 * does not exist, in which case it cannot expose anything yet).
 */
size_t sg_exposure_check(const sg_protected_set *set, const char *source,
                         sg_exposure *out, size_t max, char resolved[PATH_MAX]);
/* The same for a path already resolved (a local volume's device, which
 * the kernel resolves as written: sg_host_path_resolve_device). */
size_t sg_exposure_check_resolved(const sg_protected_set *set, const char *real,
                                  sg_exposure *out, size_t max);

#endif
