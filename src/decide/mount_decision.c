/*
 * mount_decision.c — may this container (or service) get a Docker socket?
 *
 * For container create, container start and service create/update:
 *   1. read the body like dockerd does (gojson; ambiguous bodies refused);
 *   2. collect every mount (mounts.c), asking dockerd about named volumes
 *      and volumes-from containers;
 *   3. check every host path against the protected sockets (exposure.c);
 *   4. nothing exposed, or policy off: allow (the body re-serialised);
 *   5. otherwise the image must pass the imageList proof (image_verify.c);
 *   6. allowed: the socket is replaced by the restricted socket (directory
 *      mounts get it bound over the sockets inside them) and the image is
 *      pinned to what was verified; the re-serialised body is forwarded.
 * Each asynchronous step holds a reference; cancellation (the client left)
 * only stops the callback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_client.h"
#include "decide/decide.h"
#include "decide/exposure.h"
#include "body/gojson.h"
#include "policy/image_ref.h"
#include "decide/image_verify.h"
#include "body/mounts.h"

#define MAX_FINDINGS 32
#define MAX_LOOKUPS 32

typedef struct {
    sg_mount mount;      /* copy; strings owned by the list it came from */
    bool from_request;   /* a mount of this request (rewritable)          */
    sg_exposure e;
} finding;

struct sg_body_decision {
    sg_policy_env *env;
    sg_settings *s;
    route_id route;
    char container[256];   /* start: the container's name or id */
    json_t *body;          /* create/service: the parsed body    */
    json_t *image_holder;  /* object holding "Image"             */
    char image[600];
    sg_mount_list mounts;  /* mounts of the request              */
    sg_mount_list extra;   /* mounts found through look-ups      */
    finding findings[MAX_FINDINGS];
    size_t n_findings;
    sg_engine_req *lookups[MAX_LOOKUPS];
    size_t n_lookups;
    int pending;
    sg_image_check *check;
    sg_verdict v;
    sg_body_decided_fn cb;
    void *arg;
    int refs;
    bool cancelled, done;
};

/* ---- lifetime and verdicts --------------------------------------------- */

static void decision_unref(sg_body_decision *d)
{
    if (--d->refs > 0)
        return;
    json_decref(d->body);
    sg_mount_list_free(&d->mounts);
    sg_mount_list_free(&d->extra);
    sg_settings_unref(d->s);
    free(d);
}

static void decision_end(sg_body_decision *d, char *body, size_t len)
{
    if (d->done) {
        free(body);
        return;
    }
    d->done = true;
    if (d->cancelled) {
        free(body);
        return;
    }
    d->cb(d->arg, &d->v, body, len);
    decision_unref(d); /* the owner's reference: the gate is done with us */
}

__attribute__((format(printf, 3, 4)))
static void decision_deny(sg_body_decision *d, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->v.message, sizeof d->v.message, fmt, ap);
    va_end(ap);
    d->v.kind = SG_VERDICT_DENY;
    d->v.status = status;
    d->v.log = true;
    decision_end(d, NULL, 0);
}

/* The standard socket-mount denial: prefix, image (normalised, without its
 * tag, as Docker Desktop names it), reason. */
static void decision_deny_mount(sg_body_decision *d, const char *image, const char *reason)
{
    sg_image_ref ref;
    const char *why;
    char repo[SG_REF_MAX];
    if (sg_image_ref_parse(image, 0, &ref, &why) == 0) {
        sg_image_ref_repository(&ref, repo, sizeof repo);
        image = repo;
    }
    snprintf(d->v.image, sizeof d->v.image, "%s", image);
    decision_deny(d, 403,
                  SG_ECI_PREFIX "docker socket mount denied for container with image "
                                "\"%s\"; %s",
                  image, reason);
}

static void decision_allow(sg_body_decision *d)
{
    d->v.kind = SG_VERDICT_ALLOW;
    char *out = NULL;
    size_t len = 0;
    if (d->body) {
        /* Forward what was checked, never the bytes as received. */
        out = json_dumps(d->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        len = out ? strlen(out) : 0;
        if (!out) {
            decision_deny(d, 500, "sockgate: out of memory");
            return;
        }
    }
    decision_end(d, out, len);
}

/* ---- findings ---------------------------------------------------------- */

static void decision_check_path(sg_body_decision *d, const sg_mount *m, const char *path,
                                bool from_request)
{
    sg_exposure found[4];
    size_t n = sg_exposure_check(&d->env->protected, path, found, 4, NULL);
    for (size_t i = 0; i < n && i < 4 && d->n_findings < MAX_FINDINGS; i++) {
        finding *f = &d->findings[d->n_findings++];
        f->mount = *m;
        f->from_request = from_request;
        f->e = found[i];
    }
}

/* Is host path the restricted socket (same device and inode)? */
static bool is_restricted_socket(const sg_body_decision *d, const char *path)
{
    if (!d->env->restricted_path)
        return false;
    sg_exposure e;
    sg_protected_set only = {.paths = {d->env->restricted_path}, .n = 1};
    return sg_exposure_check(&only, path, &e, 1, NULL) == 1 && e.kind == SG_EXPOSES_SOCKET;
}

static bool finding_is_restricted(const sg_body_decision *d, const finding *f)
{
    return f->e.kind == SG_EXPOSES_SOCKET && is_restricted_socket(d, f->mount.source);
}

/* ---- rewriting an allowed request -------------------------------------- */

/* Where a directory mount's socket appears inside the container. */
static void finding_inner_target(const finding *f, char *out, size_t n)
{
    const char *t = f->mount.target;
    size_t tl = strlen(t);
    snprintf(out, n, "%s%s%s", t, tl && t[tl - 1] == '/' ? "" : "/", f->e.inner);
}

/* An existing container (start): is the socket inside a directory mount
 * covered by a bind of the restricted socket, as sockgate creates them? */
static bool finding_is_shadowed(const sg_body_decision *d, const finding *f)
{
    if (f->e.kind != SG_EXPOSES_DIRECTORY || !d->env->restricted_path)
        return false;
    char inner[PATH_MAX + 8];
    finding_inner_target(f, inner, sizeof inner);
    for (size_t i = 0; i < d->mounts.n; i++) {
        const sg_mount *m = &d->mounts.items[i];
        if (m->kind == SG_MOUNT_BIND && strcmp(m->target, inner) == 0 &&
            is_restricted_socket(d, m->source))
            return true;
    }
    return false;
}

static const char *rewrite_one(sg_body_decision *d, const finding *f)
{
    const char *restricted = d->env->restricted_path;
    const sg_mount *m = &f->mount;
    if (finding_is_restricted(d, f))
        return NULL; /* already the restricted socket */
    if (!f->from_request)
        return "it would get the Docker socket through volumes-from another container, "
               "which cannot be replaced by the restricted socket; mount the socket "
               "path itself instead";
    if (f->e.kind == SG_EXPOSES_SOCKET) {
        if (m->kind != SG_MOUNT_BIND)
            return "a volume that binds the Docker socket cannot be replaced by the "
                   "restricted socket; mount the socket path itself instead";
        return sg_mount_set_source((sg_mount *)m, restricted) == 0 ? NULL
                                                                   : "cannot rewrite the mount";
    }
    if (d->route != ROUTE_CONTAINER_CREATE)
        return "a directory that contains the Docker socket can only be shadowed for "
               "containers; mount the socket path itself instead";
    char target[PATH_MAX + 8];
    finding_inner_target(f, target, sizeof target);
    return sg_mounts_add_bind(d->body, restricted, target) == 0 ? NULL
                                                                : "cannot add the restricted socket";
}

static const char *decision_rewrite(sg_body_decision *d, const char *pinned)
{
    if (!d->env->restricted_path)
        return "sockgate serves no restricted socket, so no container may mount the "
               "Docker socket; start sockgate with --restricted";
    if (d->route == ROUTE_CONTAINER_START) {
        for (size_t i = 0; i < d->n_findings; i++)
            if (!finding_is_restricted(d, &d->findings[i]) &&
                !finding_is_shadowed(d, &d->findings[i]))
                return "the container was created with the Docker socket before the policy "
                       "(or while it was off); remove it and create it again";
        return NULL;
    }
    for (size_t i = 0; i < d->n_findings; i++) {
        const char *why = rewrite_one(d, &d->findings[i]);
        if (why)
            return why;
    }
    const char *key = "Image";
    if (d->image_holder && sg_gojson_get(d->image_holder, "Image", &key))
        json_object_set_new(d->image_holder, key, json_string(pinned));
    d->v.rewritten = true;
    return NULL;
}

/* ---- the image --------------------------------------------------------- */

static void decision_take_verdict(sg_body_decision *d, const sg_image_verdict *iv);

static void decision_on_verdict(void *arg, const sg_image_verdict *iv)
{
    sg_body_decision *d = arg;
    d->check = NULL;
    if (d->cancelled || d->done)
        return;
    d->refs++;
    decision_take_verdict(d, iv);
    decision_unref(d);
}

static void decision_take_verdict(sg_body_decision *d, const sg_image_verdict *iv)
{
    snprintf(d->v.rule, sizeof d->v.rule, "%s", iv->rule);
    snprintf(d->v.image, sizeof d->v.image, "%s", iv->image);
    if (!iv->allowed) {
        decision_deny_mount(d, iv->image, iv->reason);
        return;
    }
    const char *why = decision_rewrite(d, iv->pinned);
    if (why) {
        decision_deny_mount(d, iv->image, why);
        return;
    }
    d->v.log = true;
    decision_allow(d);
}

static void decision_on_image(void *arg, int status, json_t *image)
{
    sg_body_decision *d = arg;
    d->lookups[0] = NULL;
    if (!d->cancelled && !d->done) {
        if (status == 404 && d->route == ROUTE_CONTAINER_CREATE) {
            /* dockerd's own answer, so that `docker run` pulls and retries */
            d->v.log = false;
            decision_deny(d, 404, "No such image: %s", d->image);
        } else if (status != 200) {
            decision_deny_mount(d, d->image, "cannot inspect the image in the Docker Engine");
        } else {
            /* The check holds no reference: it is cancelled with us. */
            d->check = sg_image_verify(d->env, d->s, d->image, image, decision_on_verdict, d);
        }
    }
    json_decref(image);
    decision_unref(d);
}

static void decision_check_image(sg_body_decision *d)
{
    if (d->s->n_images == 0) {
        decision_deny_mount(d, d->image, SG_NOT_LISTED_REASON);
        return;
    }
    if (!d->image[0]) {
        decision_deny_mount(d, "", "the request names no image");
        return;
    }
    char path[700];
    snprintf(path, sizeof path, "/images/%s/json", d->image);
    d->refs++;
    d->lookups[0] = sg_engine_get(d->env->loop, d->env->engine_path, path,
                                  decision_on_image, d);
    d->n_lookups = 1;
    if (!d->lookups[0]) {
        d->refs--;
        decision_deny(d, 500, "sockgate: out of memory");
    }
}

/* All mounts are known: decide. */
static void decision_after_lookups(sg_body_decision *d)
{
    if (d->done || d->cancelled)
        return;
    if (d->n_findings == 0) {
        strcpy(d->v.rule, "no Docker socket mounted");
        decision_allow(d);
        return;
    }
    if (!d->s->eci_enabled) {
        strcpy(d->v.rule, "policy off (enhancedContainerIsolation.value is false or unset)");
        decision_allow(d);
        return;
    }
    d->n_lookups = 0;
    decision_check_image(d);
}

/* ---- look-ups of volumes and volumes-from containers ------------------- */

static void decision_lookup(sg_body_decision *d, const char *path, sg_engine_cb cb);

static void decision_lookup_done(sg_body_decision *d)
{
    if (--d->pending == 0)
        decision_after_lookups(d);
    decision_unref(d);
}

/* The mounts of `list` that use volume `name` bind host path `device`. */
static void decision_check_volume(sg_body_decision *d, const sg_mount_list *list,
                                  const char *name, const char *device, bool from_request)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].kind == SG_MOUNT_VOLUME && strcmp(list->items[i].source, name) == 0)
            decision_check_path(d, &list->items[i], device, from_request);
}

static void decision_on_volume(void *arg, int status, json_t *vol)
{
    sg_body_decision *d = arg;
    if (!d->cancelled && !d->done && status == 200) {
        const char *device = sg_mounts_volume_device(vol);
        const char *name = json_string_value(json_object_get(vol, "Name"));
        if (device && name) {
            decision_check_volume(d, &d->mounts, name, device, true);
            decision_check_volume(d, &d->extra, name, device, false);
        }
    }
    json_decref(vol);
    decision_lookup_done(d);
}

static void decision_on_volumes_from(void *arg, int status, json_t *inspect)
{
    sg_body_decision *d = arg;
    if (!d->cancelled && !d->done && status == 200) {
        size_t before = d->extra.n;
        if (sg_mounts_of_inspect(inspect, &d->extra) == 0) {
            for (size_t i = before; i < d->extra.n; i++) {
                sg_mount *m = &d->extra.items[i];
                if (m->kind == SG_MOUNT_BIND) {
                    decision_check_path(d, m, m->source, false);
                } else {
                    char path[600];
                    snprintf(path, sizeof path, "/volumes/%s", m->source);
                    decision_lookup(d, path, decision_on_volume);
                }
            }
        }
    }
    json_decref(inspect);
    decision_lookup_done(d);
}

static void decision_lookup(sg_body_decision *d, const char *path, sg_engine_cb cb)
{
    if (d->n_lookups >= MAX_LOOKUPS) {
        decision_deny_mount(d, d->image, "the request mounts too many volumes to check");
        return;
    }
    d->refs++;
    d->pending++;
    sg_engine_req *r = sg_engine_get(d->env->loop, d->env->engine_path, path, cb, d);
    if (!r) {
        d->refs--;
        d->pending--;
        decision_deny(d, 500, "sockgate: out of memory");
        return;
    }
    d->lookups[d->n_lookups++] = r;
}

/* Check what can be checked now, ask dockerd about the rest. */
static void decision_resolve(sg_body_decision *d)
{
    d->pending++; /* held while look-ups are being started */
    d->refs++;
    for (size_t i = 0; i < d->mounts.n && !d->done; i++) {
        sg_mount *m = &d->mounts.items[i];
        char path[600];
        switch (m->kind) {
        case SG_MOUNT_BIND:
        case SG_MOUNT_LOCAL_DEVICE:
            decision_check_path(d, m, m->source, true);
            break;
        case SG_MOUNT_VOLUME:
            snprintf(path, sizeof path, "/volumes/%s", m->source);
            decision_lookup(d, path, decision_on_volume);
            break;
        case SG_MOUNT_VOLUMES_FROM:
            snprintf(path, sizeof path, "/containers/%s/json", m->source);
            decision_lookup(d, path, decision_on_volumes_from);
            break;
        }
    }
    decision_lookup_done(d);
}

/* ---- reading the request ----------------------------------------------- */

static void decision_on_container(void *arg, int status, json_t *inspect)
{
    sg_body_decision *d = arg;
    d->lookups[0] = NULL;
    if (!d->cancelled && !d->done) {
        if (status != 200) {
            /* Let dockerd give its own answer (404 No such container …). */
            strcpy(d->v.rule, "container not inspectable: dockerd decides");
            decision_allow(d);
        } else {
            json_t *config = json_object_get(inspect, "Config");
            const char *image = json_string_value(json_object_get(config, "Image"));
            snprintf(d->image, sizeof d->image, "%s", image ? image : "");
            d->n_lookups = 0;
            if (sg_mounts_of_inspect(inspect, &d->mounts) != 0)
                decision_deny(d, 500, "sockgate: out of memory");
            else
                decision_resolve(d);
        }
    }
    json_decref(inspect);
    decision_unref(d);
}

static void decision_parse_body(sg_body_decision *d, const char *body, size_t len)
{
    sg_gojson_error jerr;
    d->body = sg_gojson_parse(body, len, &jerr);
    if (!d->body) {
        if (jerr.status == SG_GOJSON_AMBIGUOUS) {
            decision_deny_mount(d, "(unknown)", jerr.message);
            return;
        }
        decision_deny(d, 400, "sockgate: the request body is not valid JSON: %s", jerr.message);
        return;
    }
    char err[256];
    int rc;
    if (d->route == ROUTE_CONTAINER_CREATE) {
        d->image_holder = d->body;
        rc = sg_mounts_of_create(d->body, &d->mounts, err, sizeof err);
    } else {
        json_t *tt = sg_gojson_get(d->body, "TaskTemplate", NULL);
        d->image_holder = tt ? sg_gojson_get(tt, "ContainerSpec", NULL) : NULL;
        rc = sg_mounts_of_service(d->body, &d->mounts, err, sizeof err);
    }
    json_t *image = d->image_holder ? sg_gojson_get(d->image_holder, "Image", NULL) : NULL;
    snprintf(d->image, sizeof d->image, "%s", json_is_string(image) ? json_string_value(image) : "");
    if (rc != 0) {
        decision_deny(d, 400, "sockgate: %s", err);
        return;
    }
    decision_resolve(d);
}

sg_body_decision *sg_decide_body(sg_policy_env *env, const sg_settings *policy,
                                 const sg_request_ctx *ctx, const char *body, size_t len,
                                 sg_body_decided_fn cb, void *arg)
{
    sg_body_decision *d = calloc(1, sizeof *d);
    if (!d) {
        sg_verdict v = {.kind = SG_VERDICT_DENY, .status = 500};
        strcpy(v.message, "sockgate: out of memory");
        cb(arg, &v, NULL, 0);
        return NULL;
    }
    d->env = env;
    d->s = sg_settings_ref((sg_settings *)policy);
    d->route = ctx->match->route;
    d->cb = cb;
    d->arg = arg;
    d->refs = 2; /* the owner's, and this function's until it returns */
    d->v.kind = SG_VERDICT_ALLOW;
    if (d->route == ROUTE_CONTAINER_START) {
        const router_span *id = &ctx->match->vars[0];
        snprintf(d->container, sizeof d->container, "%.*s", (int)id->len, id->start);
        char path[300];
        snprintf(path, sizeof path, "/containers/%s/json", d->container);
        d->refs++;
        d->lookups[0] = sg_engine_get(env->loop, env->engine_path, path,
                                      decision_on_container, d);
        d->n_lookups = 1;
        if (!d->lookups[0]) {
            d->refs--;
            decision_deny(d, 500, "sockgate: out of memory");
        }
    } else {
        decision_parse_body(d, body, len);
    }
    bool done = d->done;
    decision_unref(d);
    return done ? NULL : d;
}

void sg_body_decision_cancel(sg_body_decision *d)
{
    d->cancelled = true;
    if (d->check) {
        sg_image_check_cancel(d->check);
        d->check = NULL;
    }
    /* Engine look-ups still run to completion; their callbacks see
     * `cancelled` and only drop their references. */
    decision_unref(d);
}
