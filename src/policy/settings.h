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

#define SG_MAX_EXEMPT 64

typedef struct sg_settings {
    int refs;
    char *source;              /* path it was read from; NULL: built-in    */
    bool eci_enabled;          /* enhancedContainerIsolation.value          */
    bool locked;               /* enhancedContainerIsolation.locked         */
    sg_image_entry *images;    /* dockerSocketMount.imageList.images        */
    size_t n_images;
    bool allow_derived;        /* imageList.allowDerivedImages (default on) */
    sg_commands_type commands_type;
    char **commands;           /* commandList.commands, as written          */
    size_t n_commands;
    sg_command_policy command_policy; /* the list compiled to routes         */
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
void sg_settings_unref(sg_settings *s);

#endif
