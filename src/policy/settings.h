/*
 * settings.h — the administrator's policy, read from Docker Desktop's
 * admin-settings.json format.
 *
 * This file owns loading and validating the file into an immutable,
 * reference-counted sg_settings value. The running gate holds one; a
 * reload builds a new one and swaps it in only if it is valid, so a broken
 * file never weakens or drops the policy in force, and a request in flight
 * keeps the policy it started with.
 */
#ifndef SG_SETTINGS_H
#define SG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy/commands.h"
#include "policy/image_ref.h"

typedef struct {
    char *text;        /* as written in the file                          */
    bool everyone;     /* "*": every image, local-only ones included       */
    sg_image_ref ref;  /* normalised (tag "latest" if none was written)    */
} sg_image_entry;

typedef enum {
    SG_COMMANDS_NONE,  /* no commandList: nothing restricted              */
    SG_COMMANDS_ALLOW, /* only the listed commands                        */
    SG_COMMANDS_DENY,  /* everything but the listed commands              */
} sg_commands_type;

/* A commandList: its type, the names as written, and the list compiled to
 * routes (commands.h). */
typedef struct {
    sg_commands_type type;
    char **names;
    size_t n;
    sg_command_policy compiled;
} sg_command_list;

/* portBindingBehavior (Docker Desktop 4.52+). */
typedef enum {
    SG_PORTS_DEFAULT,       /* "default-port-binding": Docker's own behaviour   */
    SG_PORTS_DEFAULT_LOCAL, /* "default-local-port-binding": no host IP means
                               127.0.0.1 and ::1                                */
    SG_PORTS_LOCAL_ONLY,    /* "local-only-port-binding": and any other host IP
                               is refused                                       */
} sg_port_behavior;

/* One filesharingAllowedDirectories entry. */
typedef struct {
    char *path;             /* as written: "$HOME", "$TMP", "/srv/build"       */
    bool shared_by_default; /* read and shown; has no effect on Linux          */
} sg_share_entry;

/* What a tenant sees and acts on (sockgate.imagePolicies.*.scope,
 * sockgate.publicSocketScope). */
typedef enum {
    SG_SCOPE_ALL, /* everything, as without tenants                        */
    SG_SCOPE_OWN, /* only what the tenant created through sockgate          */
} sg_scope;

struct sg_settings;

/* One sockgate.imagePolicies entry. */
typedef struct {
    char *pattern;             /* as written, imageList syntax              */
    int specificity;           /* digest 4, tag 3, name:* 2, repo/<star> 1, * 0 */
    struct sg_settings *match; /* a one-entry image list with the pattern, for
                                  the registry proof (image_verify.h)       */
    sg_command_list commands;  /* type NONE: the global commandList applies */
    sg_scope scope;
} sg_image_policy;

#define SG_MAX_EXEMPT 64

typedef struct sg_settings {
    int refs;
    char *source;              /* path it was read from; NULL: built-in    */
    bool eci_enabled;          /* enhancedContainerIsolation.value          */
    bool locked;               /* enhancedContainerIsolation.locked         */
    sg_image_entry *images;    /* dockerSocketMount.imageList.images        */
    size_t n_images;
    bool allow_derived;        /* imageList.allowDerivedImages (default on) */
    sg_command_list commands;  /* dockerSocketMount.commandList             */
    /* Isolation (docs/DESIGN.md section 7), with the policy on. */
    sg_share_entry *shares;    /* filesharingAllowedDirectories              */
    size_t n_shares;
    bool shares_set;           /* false: the key is absent, "$HOME" applies  */
    uid_t exempt_uids[SG_MAX_EXEMPT]; /* sockgate.exemptFromIsolation.users  */
    size_t n_exempt_uids;
    gid_t exempt_gids[SG_MAX_EXEMPT]; /* sockgate.exemptFromIsolation.groups */
    size_t n_exempt_gids;
    json_t *exempt_written;    /* the exemption as written, for describe     */
    bool allow_url_fetches;    /* sockgate.allowUrlFetches: isolated callers
                                  may make dockerd fetch a URL (import from
                                  a URL, build from a remote context)        */
    /* Docker Desktop settings the Engine API can enforce, for everyone. */
    sg_port_behavior ports;    /* portBindingBehavior                        */
    bool block_load;           /* blockDockerLoad                            */
    /* Tenants (docs/ARCHITECTURE.md, "Tenants"). */
    sg_image_policy *image_policies; /* most specific first                  */
    size_t n_image_policies;
    sg_scope public_scope;     /* sockgate.publicSocketScope                 */
    bool tenants;              /* either key is written: what is created is
                                  marked with its tenant                     */
    char warnings[1024];       /* e.g. unsupported command names, ignored   */
} sg_settings;

/*
 * Load and validate path. On failure returns NULL and writes a message
 * naming the file, the line and the key path into err.
 */
sg_settings *sg_settings_load(const char *path, char *err, size_t errsz);
/* Parse settings from memory (tests, fuzzing); name is used in messages. */
sg_settings *sg_settings_parse(const char *text, size_t len, const char *name,
                               char *err, size_t errsz);
/* The policy used when no --settings file is given: no enforcement. */
sg_settings *sg_settings_default(void);
/* The effective policy as a JSON object (source, eci, locked, images,
 * allowDerivedImages, commandList, commands, the isolation settings, ports,
 * load): for the log and for `sockgate status`. A new reference. */
json_t *sg_settings_describe(const sg_settings *s);
sg_settings *sg_settings_ref(sg_settings *s);
const char *sg_port_behavior_name(sg_port_behavior b);
const char *sg_scope_name(sg_scope scope);
const char *sg_commands_type_name(sg_commands_type t); /* "none", "allow", "deny" */
void sg_settings_unref(sg_settings *s);

#endif
