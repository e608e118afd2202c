/*
 * settings.c — admin-settings.json loader (see settings.h).
 *
 * Docker Desktop's file carries many unrelated settings; only the keys
 * sockgate enforces are read, and everything else is ignored on purpose so
 * that one file can be shared with Docker Desktop installs. The keys that are
 * read are validated strictly: a wrong type is an error, never a default.
 */
#include "policy/settings.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sg_settings *settings_new(const char *source)
{
    sg_settings *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->refs = 1;
    s->source = source ? strdup(source) : NULL;
    return s;
}

sg_settings *sg_settings_default(void) { return settings_new(NULL); }

sg_settings *sg_settings_ref(sg_settings *s)
{
    s->refs++;
    return s;
}

void sg_settings_unref(sg_settings *s)
{
    if (!s || --s->refs > 0)
        return;
    free(s->source);
    free(s);
}

/* Read an optional boolean member; false on a type error (err written). */
static bool settings_bool(json_t *obj, const char *key, const char *keypath,
                          bool *out, const char *path, char *err, size_t errsz)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        snprintf(err, errsz, "%s: %s must be true or false", path, keypath);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

static bool settings_parse_eci(json_t *eci, sg_settings *s, const char *path,
                               char *err, size_t errsz)
{
    if (!json_is_object(eci)) {
        snprintf(err, errsz, "%s: enhancedContainerIsolation must be an object",
                 path);
        return false;
    }
    return settings_bool(eci, "value", "enhancedContainerIsolation.value",
                         &s->eci_enabled, path, err, errsz) &&
           settings_bool(eci, "locked", "enhancedContainerIsolation.locked",
                         &s->locked, path, err, errsz);
}

sg_settings *sg_settings_load(const char *path, char *err, size_t errsz)
{
    json_error_t jerr;
    /* Duplicate keys make the administrator's intent ambiguous. */
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errsz, "%s: line %d column %d: %s", path, jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }
    sg_settings *s = settings_new(path);
    bool ok = s != NULL;
    if (ok && !json_is_object(root)) {
        snprintf(err, errsz, "%s: the top level must be a JSON object", path);
        ok = false;
    }
    json_t *version = ok ? json_object_get(root, "configurationFileVersion") : NULL;
    if (ok && version && !json_is_integer(version)) {
        snprintf(err, errsz, "%s: configurationFileVersion must be a number", path);
        ok = false;
    }
    json_t *eci = ok ? json_object_get(root, "enhancedContainerIsolation") : NULL;
    if (ok && eci)
        ok = settings_parse_eci(eci, s, path, err, errsz);
    json_decref(root);
    if (!ok) {
        sg_settings_unref(s);
        return NULL;
    }
    return s;
}
