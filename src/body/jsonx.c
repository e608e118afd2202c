/*
 * jsonx.c — typed, Go-like reads of a body tree (see jsonx.h).
 */
#include "body/jsonx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "body/gojson.h"

void sg_jx_fail(sg_jx *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

bool sg_jx_has_nul(const json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

/* The member, or NULL when absent or null. */
static json_t *jx_member(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? sg_gojson_get(obj, key, NULL) : NULL;
    return json_is_null(v) ? NULL : v;
}

static const char *jx_string(sg_jx *r, const json_t *v, const char *where, const char *key)
{
    if (!v)
        return NULL;
    const char *sep = where && where[0] && key ? "." : "";
    if (!json_is_string(v)) {
        sg_jx_fail(r, "%s%s%s must be a string", where ? where : "", sep, key ? key : "");
        return NULL;
    }
    if (sg_jx_has_nul(v)) {
        sg_jx_fail(r, "%s%s%s contains a NUL character", where ? where : "", sep,
                   key ? key : "");
        return NULL;
    }
    return json_string_value(v);
}

const char *sg_jx_str(sg_jx *r, const json_t *obj, const char *where, const char *key)
{
    return jx_string(r, jx_member(obj, key), where, key);
}

bool sg_jx_bool(sg_jx *r, const json_t *obj, const char *where, const char *key)
{
    json_t *v = jx_member(obj, key);
    if (!v)
        return false;
    if (!json_is_boolean(v)) {
        sg_jx_fail(r, "%s.%s must be true or false", where, key);
        return false;
    }
    return json_is_true(v);
}

json_t *sg_jx_array(sg_jx *r, const json_t *obj, const char *where, const char *key)
{
    json_t *v = jx_member(obj, key);
    if (v && !json_is_array(v)) {
        sg_jx_fail(r, "%s.%s must be an array", where, key);
        return NULL;
    }
    return v;
}

json_t *sg_jx_object(sg_jx *r, const json_t *obj, const char *where, const char *key)
{
    json_t *v = jx_member(obj, key);
    if (v && !json_is_object(v)) {
        sg_jx_fail(r, "%s.%s must be an object", where, key);
        return NULL;
    }
    return v;
}

long long sg_jx_int(sg_jx *r, const json_t *obj, const char *where, const char *key,
                    long long dflt)
{
    json_t *v = jx_member(obj, key);
    if (!v)
        return dflt;
    if (!json_is_integer(v)) {
        sg_jx_fail(r, "%s.%s must be an integer", where, key);
        return dflt;
    }
    return (long long)json_integer_value(v);
}

const char *sg_jx_item_str(sg_jx *r, const json_t *arr, size_t i, const char *where)
{
    json_t *v = json_array_get(arr, i);
    if (json_is_null(v))
        return "";
    char name[256];
    snprintf(name, sizeof name, "%s[%zu]", where, i);
    return jx_string(r, v, name, NULL);
}

const char *sg_jx_value_str(sg_jx *r, const json_t *v, const char *where)
{
    if (!v || json_is_null(v))
        return "";
    return jx_string(r, v, where, NULL);
}
