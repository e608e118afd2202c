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
 * allowDerivedImages, commandList, commands): for the log and for
 * `sockgate status`. A new reference. */
json_t *sg_settings_describe(const sg_settings *s);
sg_settings *sg_settings_ref(sg_settings *s);
void sg_settings_unref(sg_settings *s);

#endif
