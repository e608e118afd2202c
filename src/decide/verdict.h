/*
 * verdict.h — what the rules say about a request: findings and edits.
 *
 * A rule never answers a request itself. It adds findings (each a refusal
 * with its status, the rule's name for the log and the message for the
 * client) and edits (changes the forwarded body must carry: the restricted
 * socket in place of the public one, the image pinned to its digest, a port
 * bound to loopback). The decision framework (decision.c) answers with the
 * first finding if there is any, and otherwise applies every edit to the
 * body it checked and forwards that. `sockgate explain --body` prints both
 * lists.
 */
#ifndef SG_VERDICT_H
#define SG_VERDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "body/mounts.h"

/* Every refusal of the policy starts like Docker Desktop's. */
#define SG_ECI_PREFIX "enhanced container isolation: "

#define SG_MAX_FINDINGS 16

typedef struct {
    int status;    /* HTTP status of the answer (403, 400, 404)          */
    char *rule;    /* for the log: "isolation: privileged"               */
    char *message; /* for the client, complete                           */
    bool raw;      /* a message of dockerd's own, not one of the policy   */
    size_t text_at; /* where the message says what was refused: after
                       SG_ECI_PREFIX and the context (0 when raw)         */
} sg_finding;

/*
 * Findings fail closed: a finding that could not be recorded (out of
 * memory) still refuses, because `lost` is sticky and sg_findings_refuse()
 * counts it. Nobody reads n alone to decide.
 */
typedef struct {
    sg_finding items[SG_MAX_FINDINGS];
    size_t n;
    size_t dropped;       /* findings beyond SG_MAX_FINDINGS                */
    bool lost;            /* a finding could not be recorded               */
    char context[320];    /* inserted after the prefix, e.g. `exec into
                             container "web" is not allowed: `; "" if none   */
} sg_findings;

/* Does anything refuse: a finding recorded, dropped or lost? */
bool sg_findings_refuse(const sg_findings *f);
/* What the first finding says was refused, for quoting in another. */
const char *sg_finding_text(const sg_finding *f);

/*
 * Add a finding. The message is SG_ECI_PREFIX + context + the formatted
 * text, unless `raw` (a message of dockerd's own, such as "No such image").
 */
void sg_findings_add(sg_findings *f, int status, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sg_findings_add_raw(sg_findings *f, int status, const char *rule, const char *message);
void sg_findings_free(sg_findings *f);

typedef enum {
    SG_EDIT_MOUNT_SOURCE, /* the mount now binds `value` (the restricted socket)  */
    SG_EDIT_ADD_BIND,     /* HostConfig.Binds += value:target                     */
    SG_EDIT_SET_STRING,   /* obj[key] = value (image pin, CgroupnsMode)           */
    SG_EDIT_SET_FALSE,    /* obj[key] = false (PublishAllPorts)                   */
    SG_EDIT_PORTS_LOCAL,  /* bindings without a host IP: on 127.0.0.1 and ::1     */
    SG_EDIT_EXPOSE_LOCAL, /* obj (a HostConfig).PortBindings[target] = loopback
                             bindings: the ports -P would publish everywhere  */
    SG_EDIT_ARRAY_STRING, /* obj (an array)[index] = value (a name pinned)     */
    SG_EDIT_RENAME_KEY,   /* obj[key] moves to obj[value] (EndpointsConfig)    */
    SG_EDIT_SET_LABEL,    /* obj.Labels[target] = value, Labels made if absent  */
    SG_EDIT_VOLUME_LABEL, /* obj (a Mounts[] entry).VolumeOptions.Labels[target]
                             = value: what the volume made for it carries    */
    SG_EDIT_BIND_TO_MOUNT, /* obj (a HostConfig).<key: Binds>[index], a named volume
                             "name:/target[:ro|rw|nocopy]", becomes a Mounts[]
                             entry of type volume whose VolumeOptions.Labels
                             has target = value; the Binds entries go last,
                             so that no other edit's index moves            */
} sg_edit_kind;

typedef struct {
    sg_edit_kind kind;
    sg_mount *mount;  /* MOUNT_SOURCE (borrowed; lives as long as the spec) */
    json_t *obj;      /* the object or array edited (borrowed)              */
    size_t index;     /* ARRAY_STRING                                        */
    char *key;        /* SET_STRING: the key as spelled (or to add)         */
    char *value;
    char *target;
    char *why;        /* for explain and the log                            */
} sg_edit;

/* Edits fail closed too: an edit that could not be recorded sets `failed`,
 * and sg_edits_apply() then refuses to produce a body. */
typedef struct {
    sg_edit *items;
    size_t n, cap;
    bool failed;
} sg_edits;

int sg_edits_add(sg_edits *e, sg_edit_kind kind, json_t *obj, const char *key,
                 const char *value, const char *target, const char *why);
int sg_edits_add_array_string(sg_edits *e, json_t *array, size_t index, const char *value,
                               const char *why);
int sg_edits_add_mount_source(sg_edits *e, sg_mount *m, const char *path, const char *why);
/* Apply every edit to body (the create or service body). -1 on failure,
 * and when an edit could not be recorded. */
int sg_edits_apply(const sg_edits *e, json_t *body);
void sg_edits_free(sg_edits *e);

#endif
