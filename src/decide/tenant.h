/*
 * tenant.h — tenants on one Docker socket: whose objects are whose, which
 * image policy applies, and what a caller may see.
 *
 * A tenant is a container that the host gave the Docker socket (sockgate
 * gives it the restricted socket) together with everything it starts
 * through that socket, however deep; or, under sockgate.publicSocketScope
 * "own", one uid on the public socket ("uid:1000"). What a tenant creates
 * carries the label io.sockgate.tenant, and every container that gets the
 * restricted socket also io.sockgate.policy: the sockgate.imagePolicies
 * pattern its tenant's root container was proven against when it was
 * created. Nobody may write labels under "io.sockgate." on any socket, and
 * every container create carries the tenant label explicitly (empty for
 * callers without a tenant, so that an image's own labels never name one):
 * the labels can be believed. Callers on the restricted socket are known by
 * their container (gate/identify.c), hence by its labels.
 *
 * The policy is chosen once, at create, where the image is proven against
 * the registry anyway: the most specific pattern whose proof holds wins,
 * like an imageList entry (image_verify.c). A retagged image gets no policy
 * it was not proven for, and a tag that moves later changes nothing: the
 * label records what was proven.
 */
#ifndef SG_TENANT_H
#define SG_TENANT_H

#include <jansson.h>
#include <stdbool.h>

#include "decide/caller.h"
#include "decide/policy_env.h"
#include "policy/settings.h"

#define SG_LABEL_NAMESPACE "io.sockgate."
#define SG_TENANT_LABEL "io.sockgate.tenant"
#define SG_POLICY_LABEL "io.sockgate.policy"
#define SG_TENANT_ID_MAX 80
#define SG_POLICY_MAX 300

/* A restricted-socket caller's tenant, read from its container's labels. */
typedef struct {
    char id[SG_TENANT_ID_MAX];   /* "": the container has none              */
    char policy[SG_POLICY_MAX];  /* "": no image policy (the global one)    */
} sg_tenant;

/* What applies to one request (sg_tenancy_resolve). */
typedef struct {
    const char *id;                  /* NULL: no tenant                      */
    sg_scope scope;
    const sg_command_list *commands; /* on the restricted socket             */
    const char *policy;              /* the image policy's pattern, or NULL  */
    const char *refused;             /* non-NULL: refuse every request: why  */
    char uid_id[24];                 /* storage for "uid:N"                  */
} sg_tenancy;

/*
 * The tenant, scope and command list of a request. tenant: the restricted
 * connection's (NULL on the public socket). Without tenants in the settings
 * nothing changes: no tenant, scope "all", the global commandList.
 */
void sg_tenancy_resolve(const sg_settings *s, const sg_caller *caller, const sg_tenant *tenant,
                        sg_tenancy *out);

/* The imagePolicies entry written as pattern, or NULL. */
const sg_image_policy *sg_image_policy_find(const sg_settings *s, const char *pattern);

/*
 * How an image pattern (an imageList or imagePolicies entry) relates to an
 * image reference, before any registry is asked: what `sockgate explain
 * --image` shows, and what decides which patterns sg_policy_choose tries.
 */
typedef enum {
    SG_PATTERN_OTHER, /* never tried for it: another repository             */
    SG_PATTERN_TRIED, /* its repository, another tag or digest: tried at
                         create, and holds only if the image's digest is the
                         one the pattern's proves (a tag that moved, a
                         second name for the same image)                    */
    SG_PATTERN_NAMES, /* names the reference as written ("*", name:*, its
                         repository wildcard, its tag or its digest): holds
                         if the registry proves it                          */
} sg_pattern_fit;

/* reference as a caller writes it ("docker:cli", an image ID): an ID or a
 * string that is not a reference could be any repository, so every pattern
 * is tried for it ("*" still names it). */
sg_pattern_fit sg_image_pattern_fit(const sg_image_entry *e, const char *reference);
/* The imagePolicies entry that applies to a container of `reference` when
 * its proof holds: the most specific one that names it (the settings keep
 * them most specific first); NULL when none does. A more specific pattern
 * that is only SG_PATTERN_TRIED is tried first, and applies instead if its
 * proof holds. */
const sg_image_policy *sg_image_policy_naming(const sg_settings *s, const char *reference);

/* The tenant a Labels object names, into t (with its policy label when
 * with_policy): NONE without one (or an empty one), UNREADABLE when the
 * labels are not of dockerd's shape (not an object, a value that is not a
 * string, too long, or holding a NUL). The status command's census and the
 * identification of a caller read labels the same way. */
typedef enum { SG_LABELS_NONE, SG_LABELS_TENANT, SG_LABELS_UNREADABLE } sg_labels_read;
sg_labels_read sg_tenant_read_labels(json_t *labels, bool with_policy, sg_tenant *t);
/* A container's tenant from its inspect (Config.Labels) into t; false if
 * the answer has no readable labels. */
bool sg_tenant_from_inspect(json_t *inspect, sg_tenant *t);
/* Does a Labels object say the object is tenant id's? */
bool sg_tenant_labels_own(json_t *labels, const char *id);
/* The first key of a Labels object under "io.sockgate.", or NULL. */
const char *sg_tenant_protected_label(json_t *labels);
/* A new tenant ID for a root container: "t" and 24 random hex digits;
 * false if the kernel gives no randomness. */
bool sg_tenant_new_id(char out[SG_TENANT_ID_MAX]);

/*
 * The image policy of a new root container: the most specific
 * imagePolicies pattern covering `requested`'s repository whose proof holds
 * (image: GET /images/{}/json of it, borrowed during the call). cb gets the
 * pattern (NULL: none applies) or, when a registry could not tell for a
 * more specific pattern, error. Returns a handle, or NULL when cb has been
 * called already.
 */
typedef struct sg_policy_choice sg_policy_choice;
typedef void (*sg_policy_chosen_fn)(void *arg, const char *pattern, const char *error);
sg_policy_choice *sg_policy_choose(sg_policy_env *env, const sg_settings *s,
                                   const char *requested, json_t *image,
                                   sg_policy_chosen_fn cb, void *arg);
void sg_policy_choice_cancel(sg_policy_choice *ch);

#endif
