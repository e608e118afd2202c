/*
 * settings.h — the administrator's policy, read from Docker Desktop's
 * admin-settings.json format.
 *
 * This file owns loading and validating the file into an immutable
 * sg_settings value. The running gate holds one reference-counted policy;
 * a reload builds a new one and swaps it in only if it is valid, so a
 * broken file never weakens or drops the policy in force.
 */
#ifndef SG_SETTINGS_H
#define SG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sg_settings {
    int refs;
    char *source;  /* path it was read from, or NULL for the built-in default */
    bool eci_enabled; /* enhancedContainerIsolation.value                     */
    bool locked;      /* enhancedContainerIsolation.locked (informational)    */
} sg_settings;

/*
 * Load and validate path. On failure returns NULL and writes a message
 * naming the file, the line and the key path into err.
 */
sg_settings *sg_settings_load(const char *path, char *err, size_t errsz);
/* The policy used when no --settings file is given: no enforcement. */
sg_settings *sg_settings_default(void);
sg_settings *sg_settings_ref(sg_settings *s);
void sg_settings_unref(sg_settings *s);

#endif
