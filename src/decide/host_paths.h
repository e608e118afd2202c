/*
 * host_paths.h — may an isolated container get this host path?
 *
 * Docker Desktop shares only the directories of its file-sharing setting
 * (filesharingAllowedDirectories) with containers. sockgate reads the same
 * setting: "$HOME" is the calling user's home directory (public socket,
 * non-root callers; nothing otherwise), "$TMP" and "$TEMP" are /tmp, other
 * entries are absolute paths; without the key, "$HOME" alone.
 *
 * A path is inside an allowed directory when, resolved on the host the way
 * dockerd and the kernel will resolve it (sg_host_path_resolve), one of its
 * ancestors is that directory, compared by device and inode, never by
 * string. A file with other hard links is refused: its other names may
 * lie anywhere.
 */
#ifndef SG_HOST_PATHS_H
#define SG_HOST_PATHS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "decide/caller.h"
#include "policy/settings.h"

#define SG_MAX_ALLOWED_DIRS 32

typedef struct {
    char path[PATH_MAX];   /* resolved                                      */
    const char *written;   /* the entry as written ("$HOME")                */
    dev_t dev;
    ino_t ino;
} sg_allowed_dir;

typedef struct {
    sg_allowed_dir dirs[SG_MAX_ALLOWED_DIRS];
    size_t n;
} sg_allowed_dirs;

/* The directories the policy shares with this caller's containers. Entries
 * that do not exist on the host share nothing. */
void sg_allowed_dirs_for(const sg_settings *s, const sg_caller *c, sg_allowed_dirs *out);

typedef enum {
    SG_PATH_ALLOWED,
    SG_PATH_OUTSIDE,     /* not below any allowed directory                 */
    SG_PATH_HARD_LINKED, /* a file with other hard links                    */
    SG_PATH_RELATIVE,    /* not absolute: dockerd refuses it too (a volume's
                            device: dockerd would resolve it from its own
                            working directory)                              */
    SG_PATH_MISSING,     /* a volume's device that does not exist           */
} sg_path_verdict;

/* Check a host path; `resolved` (if not NULL) receives how it resolved. */
sg_path_verdict sg_host_path_check(const sg_allowed_dirs *d, const char *path,
                                   char resolved[PATH_MAX]);

/*
 * Resolve a host path the way dockerd and the kernel will at mount time:
 * dockerd first cleans it lexically (Go's path.Clean: "//", "." and ".."
 * folded without looking at the disk), then the kernel follows symlinks in
 * what exists; a tail that does not exist yet is taken as written (dockerd
 * creates it). False for a relative path or one too long.
 */
bool sg_host_path_resolve(const char *path, char out[PATH_MAX]);

/*
 * A local volume's bind device is different: the local driver hands it to
 * mount(2) as written, so the kernel alone resolves it ("..", "//" and all,
 * no cleaning first), and a bind of what does not exist fails. Resolve it
 * that way (realpath); false for a relative or missing device.
 */
bool sg_host_path_resolve_device(const char *device, char out[PATH_MAX]);
/* Check a device like sg_host_path_check checks a bind source. */
sg_path_verdict sg_host_path_check_device(const sg_allowed_dirs *d, const char *device,
                                          char resolved[PATH_MAX]);

#endif
