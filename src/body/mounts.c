/*
 * mounts.c — finding and rewriting the host paths a request mounts (see
 * mounts.h).
 */
#include "body/mounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"

static int mounts_push(sg_mount_list *l, sg_mount_kind kind, const char *source,
                       const char *target)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        sg_mount *n = realloc(l->items, ncap * sizeof *n);
        if (!n)
            return -1;
        l->items = n;
        l->cap = ncap;
    }
    sg_mount *m = &l->items[l->n];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->source = strdup(source);
    m->target = strdup(target ? target : "");
    if (!m->source || !m->target) {
        free(m->source);
        free(m->target);
        return -1;
    }
    l->n++;
    return 0;
}

void sg_mount_list_free(sg_mount_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].source);
        free(l->items[i].target);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static const char *str_field(const json_t *obj, const char *name)
{
    json_t *v = sg_gojson_get(obj, name, NULL);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "SRC:DST[:opts]" the way dockerd's Linux parser splits it. */
static int mounts_bind_spec(sg_mount_list *l, json_t *binds, size_t i, const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (!colon) /* "DST" alone: an anonymous volume, no host path */
        return 0;
    char src[4096];
    size_t n = (size_t)(colon - spec);
    if (n == 0 || n >= sizeof src)
        return 0; /* dockerd refuses an empty or absurd source */
    memcpy(src, spec, n);
    src[n] = '\0';
    const char *dst = colon + 1;
    char target[4096];
    snprintf(target, sizeof target, "%.*s", (int)strcspn(dst, ":"), dst);
    sg_mount_kind kind = src[0] == '/' ? SG_MOUNT_BIND : SG_MOUNT_VOLUME;
    if (mounts_push(l, kind, src, target) != 0)
        return -1;
    l->items[l->n - 1].binds = binds;
    l->items[l->n - 1].index = i;
    return 0;
}

static int mounts_binds(json_t *hc, sg_mount_list *l, char *err, size_t errsz)
{
    json_t *binds = sg_gojson_get(hc, "Binds", NULL);
    if (!binds || json_is_null(binds))
        return 0;
    if (!json_is_array(binds)) {
        snprintf(err, errsz, "HostConfig.Binds must be an array of strings");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(binds, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errsz, "HostConfig.Binds entries must be strings");
            return -1;
        }
        if (mounts_bind_spec(l, binds, i, json_string_value(v)) != 0)
            return -1;
    }
    return 0;
}

/* Options of a local volume that binds a host path ("device"). */
static const char *mounts_local_device(const json_t *driver_name, const json_t *options)
{
    if (driver_name && json_is_string(driver_name) &&
        json_string_value(driver_name)[0] != '\0' &&
        strcmp(json_string_value(driver_name), "local") != 0)
        return NULL; /* another driver: not a host path sockgate can see */
    json_t *device = json_is_object(options) ? json_object_get(options, "device") : NULL;
    return json_is_string(device) ? json_string_value(device) : NULL;
}

static int mounts_one_mount(json_t *mnt, sg_mount_list *l, char *err, size_t errsz)
{
    if (!json_is_object(mnt)) {
        snprintf(err, errsz, "Mounts entries must be objects");
        return -1;
    }
    const char *type = str_field(mnt, "Type");
    const char *source = str_field(mnt, "Source");
    const char *target = str_field(mnt, "Target");
    /* dockerd compares types exactly; anything that is not clearly some
     * other type is treated as a bind, to err on the safe side. */
    bool is_volume = type && strcmp(type, "volume") == 0;
    bool is_other = type && (strcmp(type, "tmpfs") == 0 || strcmp(type, "npipe") == 0 ||
                             strcmp(type, "cluster") == 0);
    if (is_other)
        return 0;
    if (!is_volume) {
        if (source && mounts_push(l, SG_MOUNT_BIND, source, target) != 0)
            return -1;
    } else {
        json_t *vo = sg_gojson_get(mnt, "VolumeOptions", NULL);
        json_t *dc = vo ? sg_gojson_get(vo, "DriverConfig", NULL) : NULL;
        const char *device = dc ? mounts_local_device(sg_gojson_get(dc, "Name", NULL),
                                                      sg_gojson_get(dc, "Options", NULL))
                                : NULL;
        if (device && mounts_push(l, SG_MOUNT_LOCAL_DEVICE, device, target) != 0)
            return -1;
        if (!device && source && source[0] &&
            mounts_push(l, SG_MOUNT_VOLUME, source, target) != 0)
            return -1;
    }
    if (l->n > 0 && !l->items[l->n - 1].mount && !l->items[l->n - 1].binds)
        l->items[l->n - 1].mount = mnt;
    return 0;
}

static int mounts_array(json_t *mounts, sg_mount_list *l, char *err, size_t errsz)
{
    if (!mounts || json_is_null(mounts))
        return 0;
    if (!json_is_array(mounts)) {
        snprintf(err, errsz, "Mounts must be an array");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(mounts, i, v)
    {
        if (mounts_one_mount(v, l, err, errsz) != 0)
            return -1;
    }
    return 0;
}

static int mounts_volumes_from(json_t *hc, sg_mount_list *l, char *err, size_t errsz)
{
    json_t *vf = sg_gojson_get(hc, "VolumesFrom", NULL);
    if (!vf || json_is_null(vf))
        return 0;
    if (!json_is_array(vf)) {
        snprintf(err, errsz, "HostConfig.VolumesFrom must be an array of strings");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(vf, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errsz, "HostConfig.VolumesFrom entries must be strings");
            return -1;
        }
        char name[512];
        const char *s = json_string_value(v);
        snprintf(name, sizeof name, "%.*s", (int)strcspn(s, ":"), s);
        if (mounts_push(l, SG_MOUNT_VOLUMES_FROM, name, "") != 0)
            return -1;
    }
    return 0;
}

int sg_mounts_of_create(json_t *body, sg_mount_list *out, char *err, size_t errsz)
{
    if (!json_is_object(body)) {
        snprintf(err, errsz, "the body must be a JSON object");
        return -1;
    }
    json_t *hc = sg_gojson_get(body, "HostConfig", NULL);
    if (!hc || json_is_null(hc))
        return 0;
    if (!json_is_object(hc)) {
        snprintf(err, errsz, "HostConfig must be an object");
        return -1;
    }
    if (mounts_binds(hc, out, err, errsz) != 0 ||
        mounts_array(sg_gojson_get(hc, "Mounts", NULL), out, err, errsz) != 0 ||
        mounts_volumes_from(hc, out, err, errsz) != 0)
        return -1;
    return 0;
}

int sg_mounts_of_service(json_t *spec, sg_mount_list *out, char *err, size_t errsz)
{
    json_t *tt = json_is_object(spec) ? sg_gojson_get(spec, "TaskTemplate", NULL) : NULL;
    json_t *cs = json_is_object(tt) ? sg_gojson_get(tt, "ContainerSpec", NULL) : NULL;
    if (!json_is_object(cs))
        return 0;
    return mounts_array(sg_gojson_get(cs, "Mounts", NULL), out, err, errsz);
}

int sg_mounts_of_inspect(json_t *inspect, sg_mount_list *out)
{
    json_t *mounts = json_object_get(inspect, "Mounts");
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        json_t *type = json_object_get(m, "Type");
        json_t *src = json_object_get(m, "Source");
        json_t *name = json_object_get(m, "Name");
        json_t *dst = json_object_get(m, "Destination");
        const char *target = json_is_string(dst) ? json_string_value(dst) : "";
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        int rc = 0;
        if (strcmp(t, "volume") == 0 && json_is_string(name))
            rc = mounts_push(out, SG_MOUNT_VOLUME, json_string_value(name), target);
        else if (strcmp(t, "bind") == 0 && json_is_string(src))
            rc = mounts_push(out, SG_MOUNT_BIND, json_string_value(src), target);
        if (rc != 0)
            return -1;
    }
    return 0;
}

const char *sg_mounts_volume_device(json_t *volume)
{
    return mounts_local_device(json_object_get(volume, "Driver"),
                               json_object_get(volume, "Options"));
}

int sg_mount_set_source(sg_mount *m, const char *host_path)
{
    if (m->binds) {
        const char *old = json_string_value(json_array_get(m->binds, m->index));
        const char *rest = old ? strchr(old, ':') : NULL;
        if (!rest)
            return -1;
        size_t n = strlen(host_path) + strlen(rest) + 1;
        char *spec = malloc(n);
        if (!spec)
            return -1;
        snprintf(spec, n, "%s%s", host_path, rest);
        int rc = json_array_set_new(m->binds, m->index, json_string(spec));
        free(spec);
        return rc;
    }
    if (m->mount) {
        const char *key = NULL;
        if (!sg_gojson_get(m->mount, "Source", &key))
            return -1;
        return json_object_set_new(m->mount, key, json_string(host_path));
    }
    return -1;
}

int sg_mounts_add_bind(json_t *body, const char *host_path, const char *target)
{
    const char *hc_key = "HostConfig";
    json_t *hc = sg_gojson_get(body, "HostConfig", &hc_key);
    if (!json_is_object(hc)) {
        hc = json_object();
        if (json_object_set_new(body, "HostConfig", hc) != 0)
            return -1;
    }
    const char *b_key = "Binds";
    json_t *binds = sg_gojson_get(hc, "Binds", &b_key);
    if (!json_is_array(binds)) {
        binds = json_array();
        if (json_object_set_new(hc, b_key, binds) != 0)
            return -1;
    }
    size_t n = strlen(host_path) + strlen(target) + 2;
    char *spec = malloc(n);
    if (!spec)
        return -1;
    snprintf(spec, n, "%s:%s", host_path, target);
    int rc = json_array_append_new(binds, json_string(spec));
    free(spec);
    return rc;
}
