/*
 * exposure.c — host-path checks against the protected sockets (see
 * exposure.h).
 */
#include "decide/exposure.h"

#include "decide/host_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sg_protected_add(sg_protected_set *set, const char *path)
{
    if (set->n >= SG_MAX_PROTECTED)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->paths[i], path) == 0)
            return 0;
    set->paths[set->n] = strdup(path);
    if (!set->paths[set->n])
        return -1;
    set->n++;
    return 0;
}

void sg_protected_free(sg_protected_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->paths[i]);
    set->n = 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Is dir (already stat'ed) one of the directories above socket_real? On
 * success writes the part of socket_real below that directory to inner.
 * Ancestors are compared by inode too, so a bind-mounted copy of /run
 * elsewhere counts as /run.
 */
static bool dir_is_above(const struct stat *dir, const char *socket_real,
                         char inner[PATH_MAX])
{
    char walk[PATH_MAX];
    snprintf(walk, sizeof walk, "%s", socket_real);
    for (;;) {
        char *slash = strrchr(walk, '/');
        if (!slash)
            return false;
        bool root = slash == walk;
        if (root)
            slash[1] = '\0'; /* "/" itself */
        else
            *slash = '\0';
        struct stat st;
        if (stat(walk, &st) == 0 && same_file(&st, dir)) {
            snprintf(inner, PATH_MAX, "%s", socket_real + strlen(walk) + (root ? 0 : 1));
            return true;
        }
        if (root)
            return false;
    }
}

size_t sg_exposure_check(const sg_protected_set *set, const char *source,
                         sg_exposure *out, size_t max, char resolved[PATH_MAX])
{
    char real[PATH_MAX];
    if (resolved)
        resolved[0] = '\0';
    /* dockerd cleans the path lexically before the kernel resolves it: a
     * realpath() of the raw string would read "/run/link/../docker.sock"
     * through the link, where dockerd mounts /run/docker.sock. */
    if (!sg_host_path_resolve(source, real))
        return 0;
    if (resolved)
        snprintf(resolved, PATH_MAX, "%s", real);
    return sg_exposure_check_resolved(set, real, out, max);
}

size_t sg_exposure_check_resolved(const sg_protected_set *set, const char *real,
                                  sg_exposure *out, size_t max)
{
    struct stat src;
    if (stat(real, &src) != 0)
        return 0;
    struct stat reported[SG_MAX_PROTECTED];
    size_t found = 0;
    for (size_t i = 0; i < set->n; i++) {
        char sock_real[PATH_MAX];
        struct stat sock;
        if (!realpath(set->paths[i], sock_real) || stat(sock_real, &sock) != 0)
            continue; /* not there right now: nothing to expose */
        bool dup = false; /* two configured paths can name one socket */
        for (size_t j = 0; j < found; j++)
            dup |= same_file(&reported[j], &sock);
        if (dup)
            continue;
        sg_exposure e = {.kind = SG_EXPOSES_NOTHING, .socket = set->paths[i]};
        if (same_file(&src, &sock))
            e.kind = SG_EXPOSES_SOCKET;
        else if (S_ISDIR(src.st_mode) && dir_is_above(&src, sock_real, e.inner))
            e.kind = SG_EXPOSES_DIRECTORY;
        if (e.kind == SG_EXPOSES_NOTHING)
            continue;
        reported[found] = sock;
        if (found < max)
            out[found] = e;
        found++;
    }
    return found;
}
