/*
 * image_verify.c — the imageList proof (see image_verify.h).
 *
 * The check walks the imageList entries that name the image's repository,
 * one at a time, each possibly waiting for the registry (through the digest
 * cache, on the thread pool), until one proves the image or none is left.
 * Then, for local-only images, the derived-image rule. Every asynchronous
 * step holds a reference on the check, so a cancelled check (the client went
 * away) is freed only when the last answer has come back and been ignored.
 */
#include "decide/image_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "engine/engine.h"
#include "policy/image_ref.h"

typedef struct {
    sg_image_ref ref; /* repository + digest */
} local_digest;

struct sg_image_check {
    sg_policy_env *env;
    sg_settings *s;
    bool derived_allowed;   /* false inside a derived-image sub-check */
    sg_image_ref requested;
    bool requested_is_name; /* false: an image ID was given            */
    char image_id[80];
    local_digest *digests;
    size_t n_digests;
    json_t *layers;         /* RootFS.Layers of the local image        */
    size_t entry_i;         /* next imageList entry to try             */
    size_t digest_j;        /* wildcard entries: next local digest     */
    bool any_entry_matched;
    char error[1024];       /* the most specific failure so far        */
    bool unreachable;       /* a registry look-up had no answer         */
    sg_image_verdict v;
    sg_image_verify_cb cb;
    void *arg;
    int refs;
    bool cancelled, done;
    /* derived images */
    json_t *candidates;
    size_t cand_i;
    json_t *cand_inspect;   /* the candidate base whose digests are tried */
    size_t cand_rd;         /* its next RepoDigest                        */
    sg_engine_req *engine;
    sg_image_check *sub;
};

static void check_next_entry(sg_image_check *k);
static void check_derived(sg_image_check *k);
static sg_image_check *image_verify_start(sg_policy_env *env, const sg_settings *s,
                                          const char *requested, json_t *local,
                                          bool derived_allowed, sg_image_verify_cb cb,
                                          void *arg);

static void check_unref(sg_image_check *k)
{
    if (--k->refs > 0)
        return;
    sg_settings_unref(k->s);
    free(k->digests);
    json_decref(k->layers);
    json_decref(k->candidates);
    json_decref(k->cand_inspect);
    free(k);
}

static void check_finish(sg_image_check *k, bool allowed)
{
    if (k->done)
        return;
    k->done = true;
    k->v.allowed = allowed;
    if (k->cancelled)
        return; /* the owner's reference went with the cancel */
    k->cb(k->arg, &k->v);
    check_unref(k); /* the owner's reference: the owner is done with us */
}

static void check_allow(sg_image_check *k, const char *pinned, const char *rule)
{
    snprintf(k->v.pinned, sizeof k->v.pinned, "%s", pinned);
    snprintf(k->v.rule, sizeof k->v.rule, "%s", rule);
    check_finish(k, true);
}

static void check_deny(sg_image_check *k, const char *reason, const char *rule)
{
    k->v.unreachable = k->unreachable;
    snprintf(k->v.reason, sizeof k->v.reason, "%s", reason);
    snprintf(k->v.rule, sizeof k->v.rule, "%s", rule);
    check_finish(k, false);
}

/* ---- reading the local image ------------------------------------------- */

static int check_read_local(sg_image_check *k, json_t *local)
{
    const char *id = json_string_value(json_object_get(local, "Id"));
    snprintf(k->image_id, sizeof k->image_id, "%s", id ? id : "");
    json_t *rd = json_object_get(local, "RepoDigests");
    k->digests = calloc(json_array_size(rd) + 1, sizeof *k->digests);
    if (!k->digests)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(rd, i, v)
    {
        const char *why;
        local_digest *d = &k->digests[k->n_digests];
        if (json_is_string(v) && sg_image_ref_parse(json_string_value(v), 0, &d->ref, &why) == 0 &&
            d->ref.digest[0])
            k->n_digests++;
    }
    json_t *rootfs = json_object_get(local, "RootFS");
    k->layers = json_incref(json_object_get(rootfs, "Layers"));
    return 0;
}

static bool check_has_digest(const sg_image_check *k, const sg_image_ref *repo,
                             const char *digest)
{
    for (size_t i = 0; i < k->n_digests; i++)
        if (sg_image_ref_same_repo(&k->digests[i].ref, repo) &&
            strcmp(k->digests[i].ref.digest, digest) == 0)
            return true;
    return false;
}

static void pinned_ref(const sg_image_ref *repo, const char *digest, char *out, size_t n)
{
    char r[SG_REF_MAX];
    sg_image_ref_repository(repo, r, sizeof r);
    snprintf(out, n, "%s@%s", r, digest);
}

/* Does imageList entry e name the image's repository? */
static bool check_entry_matches(const sg_image_check *k, const sg_image_entry *e)
{
    if (e->everyone)
        return false;
    if (k->requested_is_name)
        return sg_image_ref_covers(&e->ref, &k->requested);
    for (size_t i = 0; i < k->n_digests; i++)
        if (sg_image_ref_covers(&e->ref, &k->digests[i].ref))
            return true;
    return false;
}

/* ---- one entry at a time ----------------------------------------------- */

static void check_on_tag_digest(void *arg, sg_registry_status st, const char *digest,
                                bool stale, const char *err)
{
    sg_image_check *k = arg;
    const sg_image_entry *e = &k->s->images[k->entry_i];
    if (!k->cancelled && !k->done) {
        char pin[700];
        if (st == SG_REGISTRY_OK && check_has_digest(k, &e->ref, digest)) {
            pinned_ref(&e->ref, digest, pin, sizeof pin);
            char rule[600];
            snprintf(rule, sizeof rule, "imageList: %s%s", e->text,
                     stale ? " (registry unreachable, persisted digest)" : "");
            check_allow(k, pin, rule);
        } else {
            char name[SG_REF_MAX];
            sg_image_ref_string(&e->ref, name, sizeof name);
            k->unreachable |= st != SG_REGISTRY_OK && st != SG_REGISTRY_NOT_FOUND;
            if (st == SG_REGISTRY_OK)
                snprintf(k->error, sizeof k->error,
                         "the local image is not the registry's content for %s (the registry "
                         "serves %s: the tag moved upstream, or the image was retagged or "
                         "changed locally); run `docker image rm %s` and pull it again",
                         name, digest, e->text);
            else
                snprintf(k->error, sizeof k->error,
                         "cannot verify the image against its registry (%s: %s); no digest "
                         "for %s is known yet, try again when the registry is reachable",
                         sg_registry_status_name(st), err ? err : "error", name);
            k->entry_i++;
            check_next_entry(k);
        }
    }
    check_unref(k);
}

static void check_wildcard_next(sg_image_check *k);

static void check_on_wildcard_digest(void *arg, sg_registry_status st, const char *digest,
                                     bool stale, const char *err)
{
    sg_image_check *k = arg;
    if (!k->cancelled && !k->done) {
        const sg_image_entry *e = &k->s->images[k->entry_i];
        const local_digest *d = &k->digests[k->digest_j];
        if (st == SG_REGISTRY_OK) {
            char pin[700], rule[600];
            pinned_ref(&d->ref, d->ref.digest, pin, sizeof pin);
            snprintf(rule, sizeof rule, "imageList: %s", e->text);
            check_allow(k, pin, rule);
        } else {
            k->unreachable |= st != SG_REGISTRY_NOT_FOUND;
            snprintf(k->error, sizeof k->error,
                     st == SG_REGISTRY_NOT_FOUND
                         ? "the local image's digest %s is not in the registry; pull the "
                           "image from the registry"
                         : "cannot verify the image's digest %s against its registry: %s",
                     d->ref.digest, err ? err : "not found");
            k->digest_j++;
            check_wildcard_next(k);
        }
    }
    check_unref(k);
}

static void check_wildcard_next(sg_image_check *k)
{
    const sg_image_entry *e = &k->s->images[k->entry_i];
    for (; k->digest_j < k->n_digests; k->digest_j++) {
        const sg_image_ref *r = &k->digests[k->digest_j].ref;
        if (!sg_image_ref_covers(&e->ref, r))
            continue;
        k->refs++;
        sg_digest_cache_lookup(k->env->digests, r->domain, r->path, r->digest,
                               check_on_wildcard_digest, k);
        return;
    }
    k->entry_i++;
    check_next_entry(k);
}

static void check_try_entry(sg_image_check *k, const sg_image_entry *e)
{
    char pin[700], rule[600];
    snprintf(rule, sizeof rule, "imageList: %s", e->text);
    if (e->ref.digest[0]) {
        if (check_has_digest(k, &e->ref, e->ref.digest)) {
            pinned_ref(&e->ref, e->ref.digest, pin, sizeof pin);
            check_allow(k, pin, rule);
            return;
        }
        snprintf(k->error, sizeof k->error,
                 "the local image is not %s; pull that digest", e->text);
        k->entry_i++;
        check_next_entry(k);
    } else if (e->ref.tag_is_wildcard) {
        k->digest_j = 0;
        size_t same_repo = 0;
        for (size_t j = 0; j < k->n_digests; j++)
            same_repo += sg_image_ref_covers(&e->ref, &k->digests[j].ref);
        char repo[SG_REF_MAX];
        sg_image_ref_repository(&e->ref, repo, sizeof repo);
        if (k->n_digests == 0)
            snprintf(k->error, sizeof k->error,
                     "the image exists only locally, so it cannot be proven to come from "
                     "the registry; pull it from the registry");
        else if (same_repo == 0)
            snprintf(k->error, sizeof k->error,
                     "the local image was not pulled from %.300s (it has no digest from that "
                     "repository: it was tagged with its name); remove it and pull it from "
                     "the registry",
                     repo);
        check_wildcard_next(k);
    } else {
        k->refs++;
        sg_digest_cache_lookup(k->env->digests, e->ref.domain, e->ref.path, e->ref.tag,
                               check_on_tag_digest, k);
    }
}

static void check_next_entry(sg_image_check *k)
{
    for (; k->entry_i < k->s->n_images && !k->done; k->entry_i++) {
        const sg_image_entry *e = &k->s->images[k->entry_i];
        if (!check_entry_matches(k, e))
            continue;
        k->any_entry_matched = true;
        check_try_entry(k, e);
        return;
    }
    if (k->done)
        return;
    if (k->any_entry_matched)
        check_deny(k, k->error[0] ? k->error
                                  : "the local image cannot be proven to be the registry's "
                                    "content; remove it and pull it from the registry",
                   "imageList: digest proof failed");
    else if (k->derived_allowed && k->s->allow_derived)
        /* No entry names the image: it may be built on one that does. Not
         * only for images without RepoDigests: the containerd image store
         * gives a local build a RepoDigest of its own manifest. */
        check_derived(k);
    else
        check_deny(k, SG_NOT_LISTED_REASON, "imageList: not listed");
}

/* ---- derived images ---------------------------------------------------- */

/* Derived: our layer chain equals or extends the base's. Equal layers are
 * a base whose configuration only was changed (LABEL, ENV, ENTRYPOINT):
 * the same file system under another image ID. */
static bool layers_extend(json_t *ours, json_t *base)
{
    size_t nb = json_array_size(base);
    if (nb == 0 || json_array_size(ours) < nb)
        return false;
    for (size_t i = 0; i < nb; i++)
        if (!json_equal(json_array_get(ours, i), json_array_get(base, i)))
            return false;
    return true;
}

static void check_next_candidate(sg_image_check *k);
static void check_candidate_digest(sg_image_check *k);

static void check_on_sub_verdict(void *arg, const sg_image_verdict *v)
{
    sg_image_check *k = arg;
    k->sub = NULL;
    if (!k->cancelled && !k->done) {
        if (v->allowed) {
            char rule[600];
            snprintf(rule, sizeof rule, "allowDerivedImages: extends %.200s (%.300s)", v->pinned,
                     v->rule);
            check_allow(k, k->image_id, rule);
        } else {
            k->unreachable |= v->unreachable;
            k->cand_rd++;
            check_candidate_digest(k);
        }
    }
    check_unref(k);
}

/* The base may carry several RepoDigests (pushed to a mirror, or to a
 * second repository): each is proven on its own, until one is allowed. */
static void check_candidate_digest(sg_image_check *k)
{
    json_t *digests = json_object_get(k->cand_inspect, "RepoDigests");
    json_t *rd = json_array_get(digests, k->cand_rd);
    if (!json_is_string(rd)) {
        json_decref(k->cand_inspect);
        k->cand_inspect = NULL;
        k->cand_i++;
        check_next_candidate(k);
        return;
    }
    k->refs++;
    /* A sub-check decided at once has called back already, and may have
     * started the next one: only a pending one is ours to remember. */
    sg_image_check *sub = image_verify_start(k->env, k->s, json_string_value(rd),
                                             k->cand_inspect, false, check_on_sub_verdict, k);
    if (sub)
        k->sub = sub;
}

static void check_on_candidate(void *arg, int status, json_t *inspect)
{
    sg_image_check *k = arg;
    k->engine = NULL;
    if (!k->cancelled && !k->done) {
        json_t *layers = json_object_get(json_object_get(inspect, "RootFS"), "Layers");
        if (status == 200 && layers_extend(k->layers, layers)) {
            k->cand_inspect = json_incref(inspect);
            k->cand_rd = 0;
            check_candidate_digest(k);
        } else {
            k->cand_i++;
            check_next_candidate(k);
        }
    }
    json_decref(inspect);
    check_unref(k);
}

static void check_next_candidate(sg_image_check *k)
{
    for (; k->cand_i < json_array_size(k->candidates); k->cand_i++) {
        json_t *c = json_array_get(k->candidates, k->cand_i);
        const char *id = json_string_value(json_object_get(c, "Id"));
        if (!id || json_array_size(json_object_get(c, "RepoDigests")) == 0 ||
            strcmp(id, k->image_id) == 0)
            continue;
        char path[200];
        snprintf(path, sizeof path, "/images/%s/json", id);
        k->refs++;
        k->engine = sg_engine_get(k->env->engine, path,
                                  check_on_candidate, k);
        if (!k->engine)
            k->refs--;
        else
            return;
    }
    check_deny(k, SG_NOT_LISTED_REASON, "imageList: not listed (not derived from a listed image)");
}

static void check_on_image_list(void *arg, int status, json_t *list)
{
    sg_image_check *k = arg;
    k->engine = NULL;
    if (!k->cancelled && !k->done) {
        if (status == 200 && json_is_array(list)) {
            k->candidates = json_incref(list);
            check_next_candidate(k);
        } else {
            check_deny(k, "cannot list local images to check allowDerivedImages",
                       "allowDerivedImages");
        }
    }
    json_decref(list);
    check_unref(k);
}

static void check_derived(sg_image_check *k)
{
    k->refs++;
    k->engine = sg_engine_get(k->env->engine, "/images/json",
                              check_on_image_list, k);
    if (!k->engine) {
        k->refs--;
        check_deny(k, "out of memory", "allowDerivedImages");
    }
}

/* ---- entry points ------------------------------------------------------ */

static void check_name_for_messages(sg_image_check *k, const char *requested)
{
    if (k->requested_is_name)
        sg_image_ref_repository(&k->requested, k->v.image, sizeof k->v.image);
    else if (k->n_digests > 0)
        sg_image_ref_repository(&k->digests[0].ref, k->v.image, sizeof k->v.image);
    else
        snprintf(k->v.image, sizeof k->v.image, "%s", requested);
}

sg_image_check *sg_image_verify(sg_policy_env *env, const sg_settings *s,
                                const char *requested, json_t *local,
                                sg_image_verify_cb cb, void *arg)
{
    return image_verify_start(env, s, requested, local, true, cb, arg);
}

static sg_image_check *image_verify_start(sg_policy_env *env, const sg_settings *s,
                                          const char *requested, json_t *local,
                                          bool derived_allowed, sg_image_verify_cb cb,
                                          void *arg)
{
    sg_image_check *k = calloc(1, sizeof *k);
    if (!k) { /* a check that cannot start denies, like every other failure */
        sg_image_verdict v = {.allowed = false};
        snprintf(v.reason, sizeof v.reason, "out of memory");
        snprintf(v.rule, sizeof v.rule, "imageList: out of memory");
        cb(arg, &v);
        return NULL;
    }
    k->env = env;
    k->s = sg_settings_ref((sg_settings *)s);
    k->cb = cb;
    k->arg = arg;
    k->refs = 2; /* the owner's, and this function's until it returns */
    k->derived_allowed = derived_allowed;
    const char *why;
    k->requested_is_name = !sg_image_ref_is_id(requested) &&
                           sg_image_ref_parse(requested, SG_REF_DEFAULT_TAG, &k->requested,
                                              &why) == 0;
    if (check_read_local(k, local) != 0) {
        check_deny(k, "out of memory", "");
        check_unref(k);
        return NULL;
    }
    check_name_for_messages(k, requested);
    for (size_t i = 0; i < s->n_images; i++) {
        if (s->images[i].everyone) {
            check_allow(k, k->image_id[0] ? k->image_id : requested, "imageList: *");
            break;
        }
    }
    if (!k->done)
        check_next_entry(k);
    bool done = k->done;
    check_unref(k);
    return done ? NULL : k;
}

void sg_image_check_cancel(sg_image_check *k)
{
    k->cancelled = true;
    if (k->engine)
        sg_engine_cancel(k->env->engine, k->engine); /* its callback will not run: drop its ref */
    if (k->engine) {
        k->engine = NULL;
        k->refs--;
    }
    if (k->sub) {
        sg_image_check_cancel(k->sub); /* its callback will not run either */
        k->sub = NULL;
        k->refs--;
    }
    check_unref(k);
}
