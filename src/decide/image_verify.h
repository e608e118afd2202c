/*
 * image_verify.h — is the image a socket-mounting container will run allowed
 * by the imageList, proven by digest?
 *
 * A name match is never enough (retagging attack). Per docs/DESIGN.md section 3:
 *   name:tag    the registry's current digest for the tag must be among the
 *               local image's RepoDigests for that repository;
 *   name:*      one of the local RepoDigests of that repository must exist in
 *               the registry;
 *   name@digest that digest must be among the local RepoDigests;
 *   "*"         every image, local-only ones included;
 *   derived     (allowDerivedImages) a local-only image whose layer chain
 *               extends that of a present, verified, allowed image.
 * The verdict carries the reference to pin the create to ("repo@sha256:…",
 * or the image ID), so that a retag between check and create changes nothing.
 */
#ifndef SG_IMAGE_VERIFY_H
#define SG_IMAGE_VERIFY_H

#include <jansson.h>
#include <stdbool.h>

#include "decide/policy_env.h"
#include "policy/settings.h"

typedef struct {
    bool allowed;
    char image[600];    /* normalised repository, no tag: for messages   */
    char pinned[700];   /* allowed: reference to create the container from */
    char reason[1024];  /* denied: what is wrong and what to do          */
    char rule[1400];    /* the imageList entry that decided, or why none  */
    bool unreachable;   /* denied because a registry gave no answer: the
                           image could not be told either way             */
} sg_image_verdict;

typedef void (*sg_image_verify_cb)(void *arg, const sg_image_verdict *v);

typedef struct sg_image_check sg_image_check;

/*
 * requested: the image as the request names it; local: GET /images/{}/json
 * of it (borrowed for the duration of the call only). cb may be called
 * before this returns (then NULL is returned).
 */
sg_image_check *sg_image_verify(sg_policy_env *env, const sg_settings *s,
                                const char *requested, json_t *local,
                                sg_image_verify_cb cb, void *arg);
void sg_image_check_cancel(sg_image_check *chk);

/* The exact denial text for an image that no entry lists. */
#define SG_NOT_LISTED_REASON                                                     \
    "image is not in the allowed list; if you wish to allow it, configure the " \
    "docker socket image list in the Docker Desktop settings."

#endif
