/*
 * tenant.c — tenants: the policy and scope of a request, the labels that
 * say whose an object is, and the choice of a root container's image policy
 * (see tenant.h).
 */
#include "decide/tenant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "decide/image_verify.h"

const sg_image_policy *sg_image_policy_find(const sg_settings *s, const char *pattern)
{
    for (size_t i = 0; i < s->n_image_policies; i++)
        if (strcmp(s->image_policies[i].pattern, pattern) == 0)
            return &s->image_policies[i];
    return NULL;
}

/* e against ref, parsed; ref NULL: an ID, or not a reference at all. */
static sg_pattern_fit pattern_fit(const sg_image_entry *e, const sg_image_ref *ref)
{
    if (e->everyone)
        return SG_PATTERN_NAMES;
    if (!ref)
        return SG_PATTERN_TRIED;
    if (!sg_image_ref_covers(&e->ref, ref))
        return SG_PATTERN_OTHER;
    if (e->ref.tag_is_wildcard)
        return SG_PATTERN_NAMES;
    if (e->ref.digest[0])
        return strcmp(e->ref.digest, ref->digest) == 0 ? SG_PATTERN_NAMES : SG_PATTERN_TRIED;
    return e->ref.tag[0] && strcmp(e->ref.tag, ref->tag) == 0 ? SG_PATTERN_NAMES
                                                               : SG_PATTERN_TRIED;
}

/* reference parsed the way sg_policy_choose parses the requested image;
 * false: an ID, or not a reference. */
static bool reference_repo(const char *reference, sg_image_ref *out)
{
    const char *why;
    return !sg_image_ref_is_id(reference) &&
           sg_image_ref_parse(reference, SG_REF_DEFAULT_TAG, out, &why) == 0;
}

sg_pattern_fit sg_image_pattern_fit(const sg_image_entry *e, const char *reference)
{
    sg_image_ref ref;
    return pattern_fit(e, reference_repo(reference, &ref) ? &ref : NULL);
}

const sg_image_policy *sg_image_policy_naming(const sg_settings *s, const char *reference)
{
    sg_image_ref ref;
    const sg_image_ref *r = reference_repo(reference, &ref) ? &ref : NULL;
    for (size_t i = 0; i < s->n_image_policies; i++)
        if (pattern_fit(&s->image_policies[i].match->images[0], r) == SG_PATTERN_NAMES)
            return &s->image_policies[i];
    return NULL;
}

/* A restricted caller: its container's tenant and the policy it records. */
static void tenancy_restricted(const sg_settings *s, const sg_caller *caller,
                               const sg_tenant *tenant, sg_tenancy *out)
{
    if (caller->container.state != SG_CONTAINER_KNOWN) {
        out->refused = "sockgate: the calling container cannot be identified, so it is given "
                       "nothing (see `sockgate status` and the log)";
        return;
    }
    if (!tenant || !tenant->id[0])
        return; /* created before tenants were configured: the global policy */
    out->id = tenant->id;
    if (tenant->policy[0]) {
        const sg_image_policy *p = sg_image_policy_find(s, tenant->policy);
        if (!p) {
            out->refused = "sockgate: the image policy this container was created under is no "
                           "longer in the settings; restart it to have it checked again";
            return;
        }
        out->policy = p->pattern;
        out->scope = p->scope;
        if (p->commands.type != SG_COMMANDS_NONE)
            out->commands = &p->commands;
    }
    /* A container a scoped user started keeps that user's scope. */
    if (strncmp(tenant->id, "uid:", 4) == 0 && s->public_scope == SG_SCOPE_OWN)
        out->scope = SG_SCOPE_OWN;
}

void sg_tenancy_resolve(const sg_settings *s, const sg_caller *caller, const sg_tenant *tenant,
                        sg_tenancy *out)
{
    out->id = out->policy = out->refused = NULL;
    out->scope = SG_SCOPE_ALL;
    out->commands = &s->commands;
    out->uid_id[0] = '\0';
    if (!s->tenants)
        return;
    if (caller->socket == SG_SOCKET_RESTRICTED) {
        tenancy_restricted(s, caller, tenant, out);
        return;
    }
    if (s->public_scope != SG_SCOPE_OWN || !sg_caller_isolated(s, caller))
        return; /* root and exempt users see everything */
    if (caller->uid == (uid_t)-1) {
        out->refused = "sockgate: cannot tell which user is calling";
        return;
    }
    snprintf(out->uid_id, sizeof out->uid_id, "uid:%u", (unsigned)caller->uid);
    out->id = out->uid_id;
    out->scope = SG_SCOPE_OWN;
}

/* ---- labels ------------------------------------------------------------ */

bool sg_tenant_labels_own(json_t *labels, const char *id)
{
    const char *v = json_string_value(json_object_get(labels, SG_TENANT_LABEL));
    return id && id[0] && v && strcmp(v, id) == 0;
}

/* A label value into out (size n): absent is "", anything but a string
 * that fits, without a NUL, is unreadable. */
static bool label_value(json_t *labels, const char *key, char *out, size_t n)
{
    json_t *v = json_object_get(labels, key);
    out[0] = '\0';
    if (!v)
        return true;
    if (!json_is_string(v) || json_string_length(v) >= n ||
        strlen(json_string_value(v)) != json_string_length(v))
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

sg_labels_read sg_tenant_read_labels(json_t *labels, bool with_policy, sg_tenant *t)
{
    t->id[0] = t->policy[0] = '\0';
    if (!labels || json_is_null(labels))
        return SG_LABELS_NONE;
    if (!json_is_object(labels) || !label_value(labels, SG_TENANT_LABEL, t->id, sizeof t->id))
        return SG_LABELS_UNREADABLE;
    if (!t->id[0])
        return SG_LABELS_NONE;
    if (with_policy && !label_value(labels, SG_POLICY_LABEL, t->policy, sizeof t->policy))
        return SG_LABELS_UNREADABLE;
    return SG_LABELS_TENANT;
}

bool sg_tenant_from_inspect(json_t *inspect, sg_tenant *t)
{
    json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    return sg_tenant_read_labels(labels, true, t) != SG_LABELS_UNREADABLE;
}

const char *sg_tenant_protected_label(json_t *labels)
{
    const char *key;
    json_t *v;
    json_object_foreach(labels, key, v)
    {
        if (strncmp(key, SG_LABEL_NAMESPACE, sizeof SG_LABEL_NAMESPACE - 1) == 0)
            return key;
    }
    return NULL;
}

bool sg_tenant_new_id(char out[SG_TENANT_ID_MAX])
{
    unsigned char r[12];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return false;
    out[0] = 't';
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", r[i]);
    return true;
}

/* ---- choosing a root container's image policy --------------------------- */

struct sg_policy_choice {
    sg_policy_env *env;
    sg_settings *s;
    char *requested;
    sg_image_ref repo;        /* requested, parsed: whose repository        */
    bool repo_known;
    json_t *image;
    size_t next;              /* the next pattern to try                    */
    sg_image_check *check;
    sg_policy_chosen_fn cb;
    void *arg;
    bool starting;            /* inside sg_policy_choose()                  */
    bool finished;            /* cb called while starting                   */
};

static void choice_free(sg_policy_choice *ch)
{
    sg_settings_unref(ch->s);
    free(ch->requested);
    json_decref(ch->image);
    free(ch);
}

static void choice_end(sg_policy_choice *ch, const char *pattern, const char *error)
{
    ch->cb(ch->arg, pattern, error);
    if (ch->starting)
        ch->finished = true; /* sg_policy_choose() frees it */
    else
        choice_free(ch);
}

/* Can pattern e name the image at all? Only those are proven. */
static bool choice_may_match(const sg_policy_choice *ch, const sg_image_entry *e)
{
    return pattern_fit(e, ch->repo_known ? &ch->repo : NULL) != SG_PATTERN_OTHER;
}

static void choice_next(sg_policy_choice *ch);

static void choice_on_verdict(void *arg, const sg_image_verdict *v)
{
    sg_policy_choice *ch = arg;
    ch->check = NULL;
    const sg_image_policy *p = &ch->s->image_policies[ch->next];
    if (v->allowed) {
        choice_end(ch, p->pattern, NULL);
        return;
    }
    if (v->unreachable) { /* cannot tell: never fall through to a laxer one */
        choice_end(ch, NULL, "cannot prove the image against an image policy's registry; "
                             "try again when the registry is reachable");
        return;
    }
    ch->next++;
    choice_next(ch);
}

static void choice_next(sg_policy_choice *ch)
{
    while (ch->next < ch->s->n_image_policies &&
           !choice_may_match(ch, &ch->s->image_policies[ch->next].match->images[0]))
        ch->next++;
    if (ch->next == ch->s->n_image_policies) {
        choice_end(ch, NULL, NULL);
        return;
    }
    const sg_image_policy *p = &ch->s->image_policies[ch->next];
    /* The check may answer before it returns: then ch is gone. */
    sg_image_check *k =
        sg_image_verify(ch->env, p->match, ch->requested, ch->image, choice_on_verdict, ch);
    if (k)
        ch->check = k;
}

sg_policy_choice *sg_policy_choose(sg_policy_env *env, const sg_settings *s,
                                   const char *requested, json_t *image,
                                   sg_policy_chosen_fn cb, void *arg)
{
    sg_policy_choice *ch = calloc(1, sizeof *ch);
    if (!ch || !(ch->requested = strdup(requested))) {
        free(ch);
        cb(arg, NULL, "out of memory");
        return NULL;
    }
    ch->env = env;
    ch->s = sg_settings_ref((sg_settings *)s);
    ch->image = json_incref(image);
    ch->cb = cb;
    ch->arg = arg;
    ch->repo_known = reference_repo(requested, &ch->repo);
    ch->starting = true;
    choice_next(ch);
    ch->starting = false;
    if (ch->finished) {
        choice_free(ch);
        return NULL;
    }
    return ch;
}

void sg_policy_choice_cancel(sg_policy_choice *ch)
{
    if (ch->check)
        sg_image_check_cancel(ch->check);
    choice_free(ch);
}
