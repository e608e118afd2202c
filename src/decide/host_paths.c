/*
 * host_paths.c — allowed directories and host path checks (see
 * host_paths.h).
 */
#include "decide/host_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void dirs_add(sg_allowed_dirs *d, const char *path, const char *written)
{
    if (d->n == SG_MAX_ALLOWED_DIRS)
        return;
    sg_allowed_dir *a = &d->dirs[d->n];
    struct stat st;
    if (!realpath(path, a->path) || stat(a->path, &st) != 0 || !S_ISDIR(st.st_mode))
        return; /* what does not exist shares nothing */
    a->written = written;
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    d->n++;
}

void sg_allowed_dirs_for(const sg_settings *s, const sg_caller *c, sg_allowed_dirs *out)
{
    out->n = 0; /* the entries (a path each, 128 KiB) are written as added */
    char home[PATH_MAX];
    size_t n = s->shares_set ? s->n_shares : 1;
    for (size_t i = 0; i < n; i++) {
        const char *w = s->shares_set ? s->shares[i].path : "$HOME";
        if (strcmp(w, "$HOME") == 0) {
            if (sg_caller_home(c, home, sizeof home))
                dirs_add(out, home, w);
        } else if (strcmp(w, "$TMP") == 0 || strcmp(w, "$TEMP") == 0) {
            dirs_add(out, "/tmp", w);
        } else if (w[0] == '/') {
            dirs_add(out, w, w);
        }
    }
}

/* Append component comp (len n) to out (a clean absolute path), folding
 * "." and ".." the way Go's path.Clean does. */
static bool clean_push(char out[PATH_MAX], const char *comp, size_t n)
{
    if (n == 0 || (n == 1 && comp[0] == '.'))
        return true;
    size_t len = strlen(out);
    if (n == 2 && comp[0] == '.' && comp[1] == '.') {
        char *slash = strrchr(out, '/');
        if (slash == out)
            out[1] = '\0'; /* "/.." is "/" */
        else if (slash)
            *slash = '\0';
        return true;
    }
    if (len + 1 + n >= PATH_MAX)
        return false;
    if (len > 1)
        out[len++] = '/';
    memcpy(out + len, comp, n);
    out[len + n] = '\0';
    return true;
}

/* Go's path.Clean of an absolute path: what dockerd does to a bind source
 * (volume/mounts/linux_parser.go) before anything touches the file system. */
static bool clean_path(const char *path, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "/");
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (!clean_push(out, p, n))
            return false;
        p += n;
    }
    return true;
}

bool sg_host_path_resolve(const char *path, char out[PATH_MAX])
{
    char clean[PATH_MAX];
    if (path[0] != '/' || strlen(path) >= PATH_MAX || !clean_path(path, clean))
        return false;
    /* The kernel resolves the cleaned path: symlinks of the longest prefix
     * that exists; the rest does not exist yet and is taken as written. */
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s", clean);
    size_t keep = strlen(prefix);
    while (!realpath(prefix, out)) {
        char *slash = strrchr(prefix, '/');
        if (!slash || slash == prefix) {
            snprintf(out, PATH_MAX, "/");
            keep = 0;
            break;
        }
        *slash = '\0';
        keep = (size_t)(slash - prefix);
    }
    for (const char *rest = clean + keep; *rest;) {
        while (*rest == '/')
            rest++;
        size_t n = strcspn(rest, "/");
        if (!clean_push(out, rest, n))
            return false;
        rest += n;
    }
    return true;
}

/* Is `dir` (by device and inode) the path itself or one of its ancestors? */
static bool below(const sg_allowed_dir *dir, const char *resolved)
{
    char walk[PATH_MAX];
    snprintf(walk, sizeof walk, "%s", resolved);
    for (;;) {
        struct stat st;
        if (stat(walk, &st) == 0 && st.st_dev == dir->dev && st.st_ino == dir->ino)
            return true;
        char *slash = strrchr(walk, '/');
        if (!slash || strcmp(walk, "/") == 0)
            return false;
        if (slash == walk)
            walk[1] = '\0';
        else
            *slash = '\0';
    }
}

bool sg_host_path_resolve_device(const char *device, char out[PATH_MAX])
{
    return device[0] == '/' && realpath(device, out) != NULL;
}

static sg_path_verdict check_resolved(const sg_allowed_dirs *d, const char *res);

sg_path_verdict sg_host_path_check_device(const sg_allowed_dirs *d, const char *device,
                                          char resolved[PATH_MAX])
{
    char buf[PATH_MAX];
    char *res = resolved ? resolved : buf;
    res[0] = '\0';
    if (device[0] != '/')
        return SG_PATH_RELATIVE;
    if (!sg_host_path_resolve_device(device, res))
        return SG_PATH_MISSING;
    return check_resolved(d, res);
}

sg_path_verdict sg_host_path_check(const sg_allowed_dirs *d, const char *path,
                                   char resolved[PATH_MAX])
{
    char buf[PATH_MAX];
    char *res = resolved ? resolved : buf;
    res[0] = '\0';
    if (!sg_host_path_resolve(path, res))
        return SG_PATH_RELATIVE;
    return check_resolved(d, res);
}

static sg_path_verdict check_resolved(const sg_allowed_dirs *d, const char *res)
{
    struct stat st;
    if (lstat(res, &st) == 0 && !S_ISDIR(st.st_mode) && st.st_nlink > 1)
        return SG_PATH_HARD_LINKED;
    for (size_t i = 0; i < d->n; i++)
        if (below(&d->dirs[i], res))
            return SG_PATH_ALLOWED;
    return SG_PATH_OUTSIDE;
}
