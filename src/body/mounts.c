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
                       const char *target, const char *where)
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
    m->where = where;
    m->source = strdup(source);
    m->target = strdup(target ? target : "");
    m->propagation = strdup("");
    if (!m->source || !m->target || !m->propagation) {
        free(m->source);
        free(m->target);
        free(m->propagation);
        return -1;
    }
    l->n++;
    return 0;
}

static int mounts_set_propagation(sg_mount *m, const char *p, size_t n)
{
    char *copy = strndup(p, n);
    if (!copy)
        return -1;
    free(m->propagation);
    m->propagation = copy;
    return 0;
}

void sg_mount_list_free(sg_mount_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].source);
        free(l->items[i].target);
        free(l->items[i].propagation);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- HostConfig.Binds ---------------------------------------------------- */

static bool is_propagation(const char *w, size_t n)
{
    static const char *const modes[] = {"shared", "rshared", "slave", "rslave", "private",
                                        "rprivate"};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (strlen(modes[i]) == n && memcmp(modes[i], w, n) == 0)
            return true;
    return false;
}

/* The propagation word of a bind's mode ("ro,rshared"), if any. */
static int mounts_bind_mode(sg_mount *m, const char *mode)
{
    for (const char *p = mode; *p;) {
        size_t n = strcspn(p, ",");
        if (is_propagation(p, n) && mounts_set_propagation(m, p, n) != 0)
            return -1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/*
 * "SRC:DST[:MODE]" split like dockerd's linuxParser.ParseMountRaw: at most
 * three fields, SRC non-empty; an absolute SRC is a bind, anything else a
 * named volume. One field is an anonymous volume (no host path).
 */
static int mounts_bind_spec(sg_mount_list *l, json_t *binds, size_t i, const char *spec,
                            const char *where, sg_jx *r)
{
    const char *c1 = strchr(spec, ':');
    if (!c1)
        return 0;
    const char *c2 = strchr(c1 + 1, ':');
    if ((c2 && strchr(c2 + 1, ':')) || c1 == spec) {
        sg_jx_fail(r, "%s[%zu] \"%.200s\" is not a valid bind (SRC:DST[:MODE])", where, i,
                   spec);
        return 0;
    }
    char *src = strndup(spec, (size_t)(c1 - spec));
    char *dst = strndup(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1));
    int rc = -1;
    if (src && dst)
        rc = mounts_push(l, src[0] == '/' ? SG_MOUNT_BIND : SG_MOUNT_VOLUME, src, dst, where);
    free(src);
    free(dst);
    if (rc != 0)
        return -1;
    sg_mount *m = &l->items[l->n - 1];
    m->binds = binds;
    m->index = i;
    return c2 ? mounts_bind_mode(m, c2 + 1) : 0;
}

static int mounts_binds(json_t *hc, sg_mount_list *l, sg_jx *r)
{
    json_t *binds = sg_jx_array(r, hc, "HostConfig", "Binds");
    for (size_t i = 0; i < json_array_size(binds); i++) {
        const char *spec = sg_jx_item_str(r, binds, i, "HostConfig.Binds");
        if (spec && mounts_bind_spec(l, binds, i, spec, "HostConfig.Binds", r) != 0)
            return -1;
    }
    return 0;
}

/* ---- Mounts[] ------------------------------------------------------------ */

/* Every value of a local volume's options must be a NUL-free string. */
static void mounts_check_options(sg_jx *r, const json_t *opts, const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)opts, k, v)
        sg_jx_value_str(r, v, where);
}

static int mounts_volume_mount(json_t *mnt, const char *where, const char *source,
                               const char *target, sg_mount_list *l, sg_jx *r)
{
    json_t *vo = sg_jx_object(r, mnt, where, "VolumeOptions");
    json_t *dc = sg_jx_object(r, vo, where, "DriverConfig");
    json_t *opts = sg_jx_object(r, dc, where, "Options");
    const char *driver = sg_jx_str(r, dc, where, "Name");
    bool local = !driver || !driver[0] || strcmp(driver, "local") == 0;
    if (local && json_object_size(opts) > 0) {
        mounts_check_options(r, opts, where);
        const char *device = NULL;
        if (sg_mounts_local_volume(opts, &device) != SG_LOCALVOL_PLAIN) {
            if (mounts_push(l, SG_MOUNT_LOCAL_DEVICE, device ? device : "", target, where) != 0)
                return -1;
            l->items[l->n - 1].volume_options = opts;
        }
    }
    /* A named volume that exists already is used as it is: dockerd ignores
     * the options given here (volume/service/store.go, create). So the name
     * is looked up too, whatever the options say. */
    if (source && source[0])
        return mounts_push(l, SG_MOUNT_VOLUME, source, target, where);
    return 0;
}

static int mounts_one_mount(json_t *mnt, const char *where, sg_mount_list *l, sg_jx *r)
{
    if (!json_is_object(mnt)) {
        sg_jx_fail(r, "%s entries must be objects", where);
        return 0;
    }
    const char *type = sg_jx_str(r, mnt, where, "Type");
    const char *source = sg_jx_str(r, mnt, where, "Source");
    const char *target = sg_jx_str(r, mnt, where, "Target");
    /* dockerd compares types exactly; anything that is not clearly another
     * type is treated as a bind, to err on the safe side. */
    if (type && (strcmp(type, "tmpfs") == 0 || strcmp(type, "npipe") == 0 ||
                 strcmp(type, "cluster") == 0 || strcmp(type, "image") == 0))
        return 0;
    size_t before = l->n;
    int rc;
    if (type && strcmp(type, "volume") == 0) {
        rc = mounts_volume_mount(mnt, where, source, target, l, r);
        for (size_t i = before; rc == 0 && i < l->n; i++)
            l->items[i].mount = mnt;
        return rc;
    } else {
        rc = source ? mounts_push(l, SG_MOUNT_BIND, source, target, where) : 0;
        json_t *bo = sg_jx_object(r, mnt, where, "BindOptions");
        const char *prop = sg_jx_str(r, bo, where, "Propagation");
        if (rc == 0 && l->n > before && prop)
            rc = mounts_set_propagation(&l->items[l->n - 1], prop, strlen(prop));
    }
    if (rc == 0 && l->n > before)
        l->items[l->n - 1].mount = mnt;
    return rc;
}

/* obj_where is obj's key path, where that of its Mounts (both static). */
static int mounts_array(json_t *obj, const char *obj_where, const char *where,
                        sg_mount_list *l, sg_jx *r)
{
    json_t *mounts = sg_jx_array(r, obj, obj_where, "Mounts");
    for (size_t i = 0; i < json_array_size(mounts); i++)
        if (mounts_one_mount(json_array_get(mounts, i), where, l, r) != 0)
            return -1;
    return 0;
}

/* ---- VolumesFrom ----------------------------------------------------------- */

static int mounts_volumes_from(json_t *hc, sg_mount_list *l, sg_jx *r)
{
    json_t *vf = sg_jx_array(r, hc, "HostConfig", "VolumesFrom");
    for (size_t i = 0; i < json_array_size(vf); i++) {
        const char *s = sg_jx_item_str(r, vf, i, "HostConfig.VolumesFrom");
        if (!s || !s[0])
            continue;
        char *name = strndup(s, strcspn(s, ":"));
        int rc = name ? mounts_push(l, SG_MOUNT_VOLUMES_FROM, name, "", "HostConfig.VolumesFrom")
                      : -1;
        free(name);
        if (rc != 0)
            return -1;
        l->items[l->n - 1].volumes_from = vf;
        l->items[l->n - 1].index = i;
    }
    return 0;
}

int sg_mounts_of_hostconfig(json_t *hc, sg_mount_list *out, sg_jx *r)
{
    if (!json_is_object(hc))
        return 0;
    if (mounts_binds(hc, out, r) != 0 ||
        mounts_array(hc, "HostConfig", "HostConfig.Mounts", out, r) != 0 ||
        mounts_volumes_from(hc, out, r) != 0)
        return -1;
    return 0;
}

int sg_mounts_of_container_spec(json_t *cs, sg_mount_list *out, sg_jx *r)
{
    return json_is_object(cs) ? mounts_array(cs, "TaskTemplate.ContainerSpec",
                                             "TaskTemplate.ContainerSpec.Mounts", out, r)
                              : 0;
}

/* ---- existing containers and volumes ------------------------------------- */

/* Mount types that give a container nothing of the host's: a fresh tmpfs,
 * a Windows pipe, an image's content read-only (api/types/mount). */
static bool inspect_type_harmless(const char *t)
{
    return strcmp(t, "tmpfs") == 0 || strcmp(t, "npipe") == 0 || strcmp(t, "image") == 0;
}

int sg_mounts_of_inspect(json_t *inspect, sg_mount_list *out, sg_jx *r)
{
    json_t *mounts = json_object_get(inspect, "Mounts");
    if (mounts && !json_is_array(mounts) && !json_is_null(mounts)) {
        sg_jx_fail(r, "the container's Mounts is not a list");
        return 0;
    }
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        json_t *type = json_object_get(m, "Type");
        json_t *src = json_object_get(m, "Source");
        json_t *name = json_object_get(m, "Name");
        json_t *dst = json_object_get(m, "Destination");
        json_t *prop = json_object_get(m, "Propagation");
        const char *target = json_is_string(dst) ? json_string_value(dst) : "";
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        int rc = 0;
        size_t before = out->n;
        if (strcmp(t, "volume") == 0 && json_is_string(name))
            rc = mounts_push(out, SG_MOUNT_VOLUME, json_string_value(name), target, "Mounts");
        else if (strcmp(t, "bind") == 0 && json_is_string(src))
            rc = mounts_push(out, SG_MOUNT_BIND, json_string_value(src), target, "Mounts");
        else if (!inspect_type_harmless(t))
            sg_jx_fail(r, "the container has a mount sockgate cannot read (type \"%.32s\")", t);
        if (rc == 0 && out->n > before && json_is_string(prop))
            rc = mounts_set_propagation(&out->items[out->n - 1], json_string_value(prop),
                                        strlen(json_string_value(prop)));
        if (rc != 0)
            return -1;
    }
    return 0;
}

/*
 * Does the option list o set MS_BIND? moby/sys/mount's parseOptions splits o
 * on "," and looks each word up, exactly and case-sensitively, in its flag
 * table: "bind" and "rbind" (MS_BIND|MS_REC) set it, no word clears it
 * (v20.10.24 and v28.5.2: vendor/github.com/moby/sys/mount/flags_unix.go).
 * The kernel's mount(2) then binds the device whatever the type says
 * (fs/namespace.c, path_mount: MS_BIND is tested before a new mount).
 */
static bool options_bind(const char *o)
{
    for (const char *p = o; p && *p;) {
        size_t n = strcspn(p, ",");
        if ((n == 4 && strncmp(p, "bind", 4) == 0) || (n == 5 && strncmp(p, "rbind", 5) == 0))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* The keys the local driver knows (volume/local/local_unix.go, validOpts);
 * dockerd refuses any other, and so does the gate for anything it could
 * not tell the meaning of. */
static bool options_known(const json_t *options)
{
    static const char *const keys[] = {"type", "o", "device", "size"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)options, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            known |= strcmp(k, keys[i]) == 0;
        if (!known || !json_is_string(v))
            return false;
    }
    return true;
}

/* File systems whose device names something on the network, never a host
 * path or a superblock of the host's: their inodes are not the host's, so
 * no host socket can be reached through them. */
static bool type_is_network(const char *type)
{
    static const char *const types[] = {"nfs", "nfs4", "cifs", "smb3"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

sg_localvol sg_mounts_local_volume(const json_t *options, const char **device)
{
    const char *type = json_string_value(json_object_get(options, "type"));
    const char *o = json_string_value(json_object_get(options, "o"));
    const char *dev = json_string_value(json_object_get(options, "device"));
    *device = dev && dev[0] ? dev : NULL;
    if (!options_known(options))
        return SG_LOCALVOL_OTHER;
    bool no_type = !type || !type[0];
    /* needsMount(): nothing is mounted without a type or a device. */
    if (no_type && !*device)
        return o && o[0] ? SG_LOCALVOL_OTHER : SG_LOCALVOL_PLAIN;
    /* First, whatever the type: the kernel binds when MS_BIND is set. */
    if (options_bind(o)) /* without a device dockerd refuses to mount */
        return *device ? SG_LOCALVOL_BIND : SG_LOCALVOL_OTHER;
    if (type && strcmp(type, "tmpfs") == 0)
        return SG_LOCALVOL_TMPFS;
    if (type && type_is_network(type))
        return SG_LOCALVOL_NETWORK;
    return SG_LOCALVOL_OTHER;
}

json_t *sg_mounts_volume_options(json_t *volume)
{
    json_t *driver = json_object_get(volume, "Driver");
    const char *d = json_is_string(driver) ? json_string_value(driver) : "";
    if (d[0] && strcmp(d, "local") != 0)
        return NULL;
    json_t *options = json_object_get(volume, "Options");
    return json_is_object(options) ? options : NULL;
}

/* ---- rewrites ------------------------------------------------------------ */

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
