/*
 * rule_socket_mount.c — Docker socket mount permissions (docs/DESIGN.md sections
 * 2 and 3): which mounts give a container a protected socket, and the
 * rewrite an allowed container gets.
 *
 * Finding exposures is synchronous, on facts already looked up (named
 * volumes, volumes-from containers). Whether the image may have the socket
 * is proven asynchronously by image_verify.c, which the decision framework
 * runs; once it is, the socket the container asked for becomes the
 * restricted socket (a directory mount gets the restricted socket bound
 * over the sockets inside it) and the image is pinned to what was
 * verified. Every look-up that failed counts as a possible exposure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "body/gojson.h"
#include "decide/host_paths.h"
#include "decide/image_verify.h"
#include "decide/rules.h"
#include "policy/image_ref.h"

/* Findings asked of one check: a directory can hold several sockets. */
#define MOUNT_EXPOSURES 4

/* What m exposes, recorded for m: e holds the first MOUNT_EXPOSURES of the
 * n findings a check counted (it counts past what it writes). */
static void add_exposures(sg_socket_exposures *x, sg_mount *m, bool from_request,
                          const sg_exposure *e, size_t n)
{
    if (n > MOUNT_EXPOSURES)
        n = MOUNT_EXPOSURES;
    for (size_t i = 0; i < n && x->n < SG_MAX_EXPOSURES; i++)
        x->items[x->n++] = (sg_socket_exposure){.mount = m, .from_request = from_request,
                                                .e = e[i]};
}

/* A possible exposure the gate cannot rule out: the request is refused
 * with why (the first one found is the one reported). */
__attribute__((format(printf, 2, 3)))
static void unknown(sg_socket_exposures *x, const char *fmt, ...)
{
    if (x->unknown)
        return;
    x->unknown = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->unknown_why, sizeof x->unknown_why, fmt, ap);
    va_end(ap);
}

static void unknown_lookup(sg_socket_exposures *x, const char *kind, const char *name)
{
    unknown(x, "cannot check %s \"%.100s\" with the Docker Engine; try again", kind, name);
}

/* A bind: dockerd cleans its source, the kernel resolves it. A source the
 * gate cannot resolve (longer than PATH_MAX before cleaning, "/./" …
 * repeated) could still clean to a socket's path: it is refused, never
 * taken for nothing. A relative one dockerd refuses itself. */
static void found(sg_socket_exposures *x, const sg_rule_ctx *rc, sg_mount *m, const char *path,
                  bool from_request)
{
    char real[PATH_MAX];
    if (!sg_host_path_resolve(path, real)) {
        if (path[0] == '/')
            unknown(x,
                    "the host path (%s) is too long for sockgate to resolve as dockerd "
                    "will; write it without \"/./\", \"//\" or \"..\"",
                    m->where);
        return;
    }
    sg_exposure e[MOUNT_EXPOSURES];
    size_t n = sg_exposure_check_resolved(&rc->env->protected, real, e, MOUNT_EXPOSURES);
    add_exposures(x, m, from_request, e, n);
}

/* A local volume: what the kernel will mount (see sg_localvol). A bind's
 * device is resolved as written; a relative one from dockerd's working
 * directory, which sockgate cannot vouch for. A mount whose kind the gate
 * cannot tell may show a protected socket (a second mount of the host's
 * block device holds the same socket inode), so it counts as one. */
static void found_volume(sg_socket_exposures *x, const sg_rule_ctx *rc, sg_mount *m,
                         const json_t *options, bool from_request)
{
    const char *device = NULL;
    sg_localvol kind = sg_mounts_local_volume(options, &device);
    if (kind == SG_LOCALVOL_OTHER) {
        const char *type = json_string_value(json_object_get(options, "type"));
        unknown(x,
                "the local volume (%s) mounts a file system of type \"%.32s\" with options "
                "sockgate cannot check, which could show the Docker socket; use a plain, "
                "tmpfs, network or bind volume",
                m->where, type ? type : "");
        return;
    }
    if (kind != SG_LOCALVOL_BIND)
        return;
    char real[PATH_MAX];
    if (!device || device[0] != '/') {
        unknown(x,
                "the local volume (%s) binds the relative path \"%.100s\", which sockgate "
                "cannot resolve as dockerd will; use an absolute device path",
                m->where, device ? device : "");
        return;
    }
    if (!sg_host_path_resolve_device(device, real)) {
        /* Missing: the mount fails, nothing is bound. Anything else (too
         * long, a loop, no permission) is not something to vouch for. */
        if (errno != ENOENT && errno != ENOTDIR)
            unknown(x, "the local volume (%s) binds \"%.100s\", which sockgate cannot "
                       "resolve (%s)",
                    m->where, device, strerror(errno));
        return;
    }
    sg_exposure e[MOUNT_EXPOSURES];
    size_t n = sg_exposure_check_resolved(&rc->env->protected, real, e, MOUNT_EXPOSURES);
    add_exposures(x, m, from_request, e, n);
}

/* A named volume: the host path its local driver mounts. */
static void find_volume(const sg_rule_ctx *rc, sg_mount *m, bool from_request,
                        sg_socket_exposures *x)
{
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_VOLUME, m->source);
    if (f && f->status == 404)
        return; /* created by dockerd at create time: plain, binds nothing */
    if (!f || f->status != 200) {
        unknown_lookup(x, "volume", m->source);
        return;
    }
    json_t *options = sg_mounts_volume_options(f->json);
    if (options)
        found_volume(x, rc, m, options, from_request);
}

static void find_in(const sg_rule_ctx *rc, const sg_spec *spec, bool from_request, int depth,
                    sg_socket_exposures *x)
{
    for (size_t i = 0; i < spec->mounts.n; i++) {
        sg_mount *m = &spec->mounts.items[i];
        const sg_fact *f;
        switch (m->kind) {
        case SG_MOUNT_BIND:
            found(x, rc, m, m->source, from_request);
            break;
        case SG_MOUNT_LOCAL_DEVICE:
            found_volume(x, rc, m, m->volume_options, from_request);
            break;
        case SG_MOUNT_VOLUME:
            find_volume(rc, m, from_request, x);
            break;
        case SG_MOUNT_VOLUMES_FROM:
            f = sg_facts_find(rc->facts, SG_FACT_CONTAINER, m->source);
            if (f && f->status == 404)
                break; /* dockerd refuses the create */
            if (!f || f->status != 200 || depth > 3)
                unknown_lookup(x, "container", m->source);
            else
                find_in(rc, &f->spec, false, depth + 1, x);
            break;
        }
    }
}

void sg_socket_find(const sg_rule_ctx *rc, const sg_spec *spec, sg_socket_exposures *out)
{
    /* Not memset: the items are 128 KiB (a path each) and are written
     * whole when found; only the first n are ever read. */
    out->n = 0;
    out->unknown = false;
    out->unknown_why[0] = '\0';
    find_in(rc, spec, spec->source != SG_SPEC_INSPECT, 0, out);
}

/* ---- rewriting an allowed request -------------------------------------- */

static bool is_restricted_socket(const sg_rule_ctx *rc, const char *path)
{
    if (!rc->env->restricted_path)
        return false;
    sg_exposure e;
    sg_protected_set only = {.paths = {rc->env->restricted_path}, .n = 1};
    return sg_exposure_check(&only, path, &e, 1, NULL) == 1 && e.kind == SG_EXPOSES_SOCKET;
}

static bool exposure_is_restricted(const sg_rule_ctx *rc, const sg_socket_exposure *s)
{
    return s->e.kind == SG_EXPOSES_SOCKET && is_restricted_socket(rc, s->mount->source);
}

/* Where a directory mount's socket appears inside the container. */
static void inner_target(const sg_socket_exposure *s, char *out, size_t n)
{
    const char *t = s->mount->target;
    size_t tl = strlen(t);
    snprintf(out, n, "%s%s%s", t, tl && t[tl - 1] == '/' ? "" : "/", s->e.inner);
}

/* An existing container: is the socket inside a directory mount covered by
 * a bind of the restricted socket, as sockgate creates them? */
static bool exposure_is_shadowed(const sg_rule_ctx *rc, const sg_spec *spec,
                                 const sg_socket_exposure *s)
{
    if (s->e.kind != SG_EXPOSES_DIRECTORY || !rc->env->restricted_path)
        return false;
    char inner[PATH_MAX + 8];
    inner_target(s, inner, sizeof inner);
    for (size_t i = 0; i < spec->mounts.n; i++) {
        const sg_mount *m = &spec->mounts.items[i];
        if (m->kind == SG_MOUNT_BIND && strcmp(m->target, inner) == 0 &&
            is_restricted_socket(rc, m->source))
            return true;
    }
    return false;
}

static const char *rewrite_one(const sg_rule_ctx *rc, const sg_spec *spec,
                               const sg_socket_exposure *s, sg_edits *edits)
{
    const char *restricted = rc->env->restricted_path;
    if (exposure_is_restricted(rc, s))
        return NULL; /* already the restricted socket */
    if (!s->from_request)
        return "it would get the Docker socket through volumes-from another container, "
               "which cannot be replaced by the restricted socket; mount the socket "
               "path itself instead";
    if (s->e.kind == SG_EXPOSES_SOCKET) {
        if (s->mount->kind != SG_MOUNT_BIND)
            return "a volume that binds the Docker socket cannot be replaced by the "
                   "restricted socket; mount the socket path itself instead";
        return sg_edits_add_mount_source(edits, s->mount, restricted,
                                         "socket mount: the restricted socket instead") == 0
                   ? NULL
                   : "out of memory";
    }
    if (spec->source != SG_SPEC_CREATE)
        return "a directory that contains the Docker socket can only be shadowed for "
               "containers; mount the socket path itself instead";
    char target[PATH_MAX + 8];
    inner_target(s, target, sizeof target);
    return sg_edits_add(edits, SG_EDIT_ADD_BIND, NULL, NULL, restricted, target,
                        "socket mount: the restricted socket over the one in the directory") == 0
               ? NULL
               : "out of memory";
}

const char *sg_socket_rewrite(const sg_rule_ctx *rc, const sg_spec *spec,
                              const sg_socket_exposures *x, json_t *image_holder,
                              const char *pinned, sg_edits *edits)
{
    if (!rc->env->restricted_path)
        return "sockgate serves no restricted socket, so no container may mount the "
               "Docker socket; start sockgate with --restricted";
    for (size_t i = 0; i < x->n; i++) {
        const char *why = rewrite_one(rc, spec, &x->items[i], edits);
        if (why)
            return why;
    }
    const char *key = "Image";
    if (image_holder && sg_gojson_get(image_holder, "Image", &key) &&
        sg_edits_add(edits, SG_EDIT_SET_STRING, image_holder, key, pinned, NULL,
                     "socket mount: the image pinned to what was verified") != 0)
        return "out of memory";
    return NULL;
}

const char *sg_socket_check_existing(const sg_rule_ctx *rc, const sg_spec *spec,
                                     const sg_socket_exposures *x)
{
    if (!rc->env->restricted_path)
        return "sockgate serves no restricted socket, so no container may mount the "
               "Docker socket; start sockgate with --restricted";
    for (size_t i = 0; i < x->n; i++)
        if (!exposure_is_restricted(rc, &x->items[i]) &&
            !exposure_is_shadowed(rc, spec, &x->items[i]))
            return "the container was created with the Docker socket before the policy "
                   "(or while it was off); remove it and create it again";
    return NULL;
}

void sg_socket_deny(sg_findings *out, const char *image, const char *reason)
{
    sg_image_ref ref;
    const char *why;
    char repo[SG_REF_MAX];
    if (!sg_image_ref_is_id(image) && sg_image_ref_parse(image, 0, &ref, &why) == 0) {
        sg_image_ref_repository(&ref, repo, sizeof repo);
        image = repo;
    }
    sg_findings_add(out, 403, "socket mount",
                    "docker socket mount denied for container with image \"%.600s\"; %s", image,
                    reason);
}
