/*
 * spec.c — reading each source of container configuration into one sg_spec
 * (see spec.h).
 */
#include "body/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/gojson.h"

static const char *const ns_fields[SG_NS_COUNT] = {
    [SG_NS_NETWORK] = "NetworkMode", [SG_NS_PID] = "PidMode",       [SG_NS_IPC] = "IpcMode",
    [SG_NS_UTS] = "UTSMode",         [SG_NS_USER] = "UsernsMode",  [SG_NS_CGROUP] = "CgroupnsMode",
};

const char *sg_ns_field(sg_ns_kind ns) { return ns_fields[ns]; }

static int items_push(sg_spec_items *l, const char *value, const char *where)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        sg_spec_item *v = realloc(l->v, ncap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = (sg_spec_item){.value = value, .where = where};
    return 0;
}

/* The last item pushed is obj[key] (spelled key), or a key of obj. */
static void items_written_at(sg_spec_items *l, json_t *obj, const char *key, bool is_key)
{
    sg_spec_item *it = &l->v[l->n - 1];
    it->obj = obj;
    it->key = key;
    it->is_key = is_key;
}

/* Every string of an array, as items named `where`. */
static int items_of(sg_spec_items *l, sg_jx *r, const json_t *arr, const char *where)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = sg_jx_item_str(r, arr, i, where);
        if (v && v[0]) {
            if (items_push(l, v, where) != 0)
                return -1;
            l->v[l->n - 1].array = (json_t *)arr;
            l->v[l->n - 1].index = i;
        }
    }
    return 0;
}

/* Every string of a []string member, as items named `where`. */
static int items_of_array(sg_spec_items *l, sg_jx *r, const json_t *obj, const char *obj_where,
                          const char *key, const char *where)
{
    json_t *arr = sg_jx_array(r, obj, obj_where, key);
    return items_of(l, r, arr, where);
}

/* A strslice.StrSlice member (CapAdd in dockerd 20.10-28): an array of
 * strings, or a single string. */
static int items_of_strslice(sg_spec_items *l, sg_jx *r, const json_t *obj,
                             const char *obj_where, const char *key, const char *where)
{
    json_t *v = json_is_object(obj) ? sg_gojson_get(obj, key, NULL) : NULL;
    if (json_is_string(v)) {
        const char *one = sg_jx_value_str(r, v, where);
        return one && one[0] ? items_push(l, one, where) : 0;
    }
    return items_of_array(l, r, obj, obj_where, key, where);
}

/* The keys of a map member (sysctls, endpoints), as items. */
static int items_of_keys(sg_spec_items *l, sg_jx *r, const json_t *obj, const char *obj_where,
                         const char *key, const char *where)
{
    json_t *map = sg_jx_object(r, obj, obj_where, key);
    for (void *it = json_object_iter(map); it; it = json_object_iter_next(map, it)) {
        const char *k = json_object_iter_key(it);
        if (strlen(k) != json_object_iter_key_len(it)) {
            sg_jx_fail(r, "%s has a key with a NUL character", where);
            return 0;
        }
        if (items_push(l, k, where) != 0)
            return -1;
        items_written_at(l, map, k, true);
    }
    return 0;
}

const char *sg_spec_user_network(const char *mode)
{
    if (!mode || !mode[0] || strcmp(mode, "default") == 0 || strcmp(mode, "bridge") == 0 ||
        strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0 ||
        strncmp(mode, "container:", 10) == 0)
        return NULL;
    return mode;
}

static bool array_nonempty(sg_jx *r, const json_t *obj, const char *where, const char *key)
{
    return json_array_size(sg_jx_array(r, obj, where, key)) > 0;
}

/* The first device field that is set (Resources: HostConfig, UpdateConfig). */
static const char *spec_devices(sg_jx *r, const json_t *obj, const char *where,
                                const char *const paths[3])
{
    static const char *const keys[] = {"Devices", "DeviceCgroupRules", "DeviceRequests"};
    for (int i = 0; i < 3; i++)
        if (array_nonempty(r, obj, where, keys[i]))
            return paths[i];
    return NULL;
}

/* The fields a container's HostConfig shares between create and inspect. */
static int spec_hostconfig(json_t *hc, sg_spec *s, sg_jx *r)
{
    const char *w = "HostConfig";
    s->where = w;
    s->hc = hc;
    s->privileged = sg_jx_bool(r, hc, w, "Privileged");
    for (int i = 0; i < SG_NS_COUNT; i++)
        s->ns[i] = sg_jx_str(r, hc, w, ns_fields[i]);
    static const char *const devices[] = {"HostConfig.Devices", "HostConfig.DeviceCgroupRules",
                                          "HostConfig.DeviceRequests"};
    s->devices = spec_devices(r, hc, w, devices);
    const char *cp = sg_jx_str(r, hc, w, "CgroupParent");
    s->cgroup_parent = cp && cp[0] ? cp : NULL;
    const char *rt = sg_jx_str(r, hc, w, "Runtime");
    s->runtime = rt && rt[0] ? rt : NULL;
    if (json_object_size(sg_jx_object(r, hc, w, "Annotations")) > 0)
        s->annotations = "HostConfig.Annotations";
    s->port_bindings = sg_jx_object(r, hc, w, "PortBindings");
    s->publish_all = sg_jx_bool(r, hc, w, "PublishAllPorts");
    const char *net = sg_spec_user_network(s->ns[SG_NS_NETWORK]);
    if (net) {
        const char *key = "NetworkMode";
        sg_gojson_get(hc, "NetworkMode", &key);
        if (items_push(&s->networks, net, "HostConfig.NetworkMode") != 0)
            return -1;
        items_written_at(&s->networks, hc, key, false);
    }
    if (items_of_array(&s->links, r, hc, w, "Links", "HostConfig.Links") != 0 ||
        items_of_strslice(&s->caps, r, hc, w, "CapAdd", "HostConfig.CapAdd") != 0 ||
        items_of_array(&s->caps, r, hc, w, "Capabilities", "HostConfig.Capabilities") != 0 ||
        items_of_array(&s->security, r, hc, w, "SecurityOpt", "HostConfig.SecurityOpt") != 0 ||
        items_of_keys(&s->sysctls, r, hc, w, "Sysctls", "HostConfig.Sysctls") != 0)
        return -1;
    return 0;
}

int sg_spec_from_create(json_t *hc, json_t *networking, sg_spec *out, sg_jx *r)
{
    memset(out, 0, sizeof *out);
    out->source = SG_SPEC_CREATE;
    out->where = "HostConfig";
    if (items_of_keys(&out->networks, r, networking, "NetworkingConfig", "EndpointsConfig",
                      "NetworkingConfig.EndpointsConfig") != 0)
        return -1;
    if (!json_is_object(hc))
        return 0;
    if (spec_hostconfig(hc, out, r) != 0 || sg_mounts_of_hostconfig(hc, &out->mounts, r) != 0)
        return -1;
    /* Any override, even one that repeats the defaults: the CLI only sends
     * these to unmask everything (--security-opt systempaths=unconfined). */
    if (sg_jx_array(r, hc, "HostConfig", "MaskedPaths"))
        out->system_paths = "HostConfig.MaskedPaths";
    else if (sg_jx_array(r, hc, "HostConfig", "ReadonlyPaths"))
        out->system_paths = "HostConfig.ReadonlyPaths";
    return 0;
}

/* Does the path list of an existing container hold every one of `need`? */
static bool paths_cover(const json_t *list, const char *const *need)
{
    for (; *need; need++) {
        bool found = false;
        for (size_t i = 0; i < json_array_size(list) && !found; i++)
            found = json_is_string(json_array_get(list, i)) &&
                    strcmp(json_string_value(json_array_get(list, i)), *need) == 0;
        if (!found)
            return false;
    }
    return true;
}

int sg_spec_from_inspect(json_t *inspect, sg_spec *out, sg_jx *r)
{
    memset(out, 0, sizeof *out);
    out->source = SG_SPEC_INSPECT;
    json_t *hc = json_object_get(inspect, "HostConfig");
    if (spec_hostconfig(hc, out, r) != 0 || sg_mounts_of_inspect(inspect, &out->mounts, r) != 0)
        return -1;
    json_t *settings = json_object_get(inspect, "NetworkSettings");
    if (items_of_keys(&out->networks, r, settings, "NetworkSettings", "Networks",
                      "NetworkSettings.Networks") != 0)
        return -1;
    /* dockerd fills in its defaults at create: an existing container shows
     * what it runs with. These entries are in the defaults of every
     * version since 17.06; a container without them was unmasked. */
    static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                         "/sys/firmware", NULL};
    static const char *const readonly[] = {"/proc/sys", "/proc/sysrq-trigger", NULL};
    if (!out->privileged && !paths_cover(json_object_get(hc, "MaskedPaths"), masked))
        out->system_paths = "HostConfig.MaskedPaths";
    else if (!out->privileged && !paths_cover(json_object_get(hc, "ReadonlyPaths"), readonly))
        out->system_paths = "HostConfig.ReadonlyPaths";
    return 0;
}

/* ---- services ------------------------------------------------------------ */

/* A service's Privileges, in SecurityOpt's "key=value" form. */
static int spec_privileges(json_t *cs, sg_spec *s, sg_jx *r)
{
    const char *w = "TaskTemplate.ContainerSpec.Privileges";
    json_t *pr = sg_jx_object(r, cs, "TaskTemplate.ContainerSpec", "Privileges");
    json_t *seccomp = sg_jx_object(r, pr, w, "Seccomp");
    json_t *apparmor = sg_jx_object(r, pr, w, "AppArmor");
    json_t *selinux = sg_jx_object(r, pr, w, "SELinuxContext");
    const char *sm = sg_jx_str(r, seccomp, w, "Mode");
    const char *am = sg_jx_str(r, apparmor, w, "Mode");
    static const char *const sel[] = {"User", "Role", "Type", "Level"};
    static const char *const sel_opt[] = {"label=user:", "label=role:", "label=type:",
                                          "label=level:"};
    if (sm && sm[0] && strcmp(sm, "default") != 0 &&
        items_push(&s->security, strcmp(sm, "unconfined") == 0 ? "seccomp=unconfined"
                                                                : "seccomp=custom",
                   "TaskTemplate.ContainerSpec.Privileges.Seccomp.Mode") != 0)
        return -1;
    if (am && strcmp(am, "disabled") == 0 &&
        items_push(&s->security, "apparmor=unconfined",
                   "TaskTemplate.ContainerSpec.Privileges.AppArmor.Mode") != 0)
        return -1;
    if (sg_jx_bool(r, selinux, w, "Disable") &&
        items_push(&s->security, "label=disable",
                   "TaskTemplate.ContainerSpec.Privileges.SELinuxContext") != 0)
        return -1;
    for (int i = 0; i < 4; i++) {
        const char *v = sg_jx_str(r, selinux, w, sel[i]);
        if (v && v[0] &&
            items_push(&s->security, sel_opt[i],
                       "TaskTemplate.ContainerSpec.Privileges.SELinuxContext") != 0)
            return -1;
    }
    return 0;
}

/* Networks of a service: TaskTemplate.Networks and the deprecated
 * top-level Networks, each [{ "Target": name-or-id }]. */
static int spec_service_networks(json_t *obj, const char *obj_where, const char *where,
                                 sg_spec *s, sg_jx *r)
{
    json_t *nets = sg_jx_array(r, obj, obj_where, "Networks");
    for (size_t i = 0; i < json_array_size(nets); i++) {
        json_t *n = json_array_get(nets, i);
        const char *key = "Target";
        const char *t = sg_jx_str(r, n, where, "Target");
        if (!t || !t[0])
            continue;
        sg_gojson_get(n, "Target", &key);
        if (items_push(&s->networks, t, where) != 0)
            return -1;
        items_written_at(&s->networks, n, key, false);
    }
    return 0;
}

static void spec_task_runtime(json_t *tt, sg_spec *s, sg_jx *r)
{
    const char *rt = sg_jx_str(r, tt, "TaskTemplate", "Runtime");
    if (rt && rt[0] && strcmp(rt, "container") != 0)
        s->task_runtime = "TaskTemplate.Runtime";
    else if (sg_jx_object(r, tt, "TaskTemplate", "PluginSpec"))
        s->task_runtime = "TaskTemplate.PluginSpec";
    else if (sg_jx_object(r, tt, "TaskTemplate", "NetworkAttachmentSpec"))
        s->task_runtime = "TaskTemplate.NetworkAttachmentSpec";
}

int sg_spec_from_service(json_t *spec, sg_spec *out, sg_jx *r)
{
    memset(out, 0, sizeof *out);
    out->source = SG_SPEC_SERVICE;
    out->where = "TaskTemplate.ContainerSpec";
    json_t *tt = sg_jx_object(r, spec, "ServiceSpec", "TaskTemplate");
    json_t *cs = sg_jx_object(r, tt, "TaskTemplate", "ContainerSpec");
    json_t *ep = sg_jx_object(r, spec, "ServiceSpec", "EndpointSpec");
    const char *w = "TaskTemplate.ContainerSpec";
    out->hc = cs;
    spec_task_runtime(tt, out, r);
    out->service_ports = sg_jx_array(r, ep, "EndpointSpec", "Ports");
    if (spec_privileges(cs, out, r) != 0 ||
        items_of_array(&out->caps, r, cs, w, "CapabilityAdd",
                       "TaskTemplate.ContainerSpec.CapabilityAdd") != 0 ||
        items_of_keys(&out->sysctls, r, cs, w, "Sysctls",
                      "TaskTemplate.ContainerSpec.Sysctls") != 0 ||
        spec_service_networks(tt, "TaskTemplate", "TaskTemplate.Networks", out, r) != 0 ||
        spec_service_networks(spec, "ServiceSpec", "Networks", out, r) != 0 ||
        sg_mounts_of_container_spec(cs, &out->mounts, r) != 0)
        return -1;
    return 0;
}

/* ---- container update and exec ------------------------------------------- */

int sg_spec_from_update(json_t *update, sg_spec *out, sg_jx *r)
{
    memset(out, 0, sizeof *out);
    out->source = SG_SPEC_UPDATE;
    out->where = "UpdateConfig";
    out->hc = update;
    const char *w = "UpdateConfig";
    static const char *const devices[] = {"UpdateConfig.Devices", "UpdateConfig.DeviceCgroupRules",
                                          "UpdateConfig.DeviceRequests"};
    out->devices = spec_devices(r, update, w, devices);
    const char *cp = sg_jx_str(r, update, w, "CgroupParent");
    out->cgroup_parent = cp && cp[0] ? cp : NULL;
    return 0;
}

int sg_spec_from_volume_create(json_t *req, sg_spec *out, sg_jx *r)
{
    memset(out, 0, sizeof *out);
    out->source = SG_SPEC_VOLUME;
    out->where = "VolumeCreateRequest";
    const char *w = "VolumeCreateRequest";
    const char *driver = sg_jx_str(r, req, w, "Driver");
    json_t *opts = sg_jx_object(r, req, w, "DriverOpts");
    if (driver && driver[0] && strcmp(driver, "local") != 0)
        return 0; /* a plugin's volume: no host path sockgate can see */
    const char *k;
    json_t *v;
    json_object_foreach(opts, k, v)
        sg_jx_value_str(r, v, "VolumeCreateRequest.DriverOpts");
    const char *device = NULL;
    if (r->failed || sg_mounts_local_volume(opts, &device) == SG_LOCALVOL_PLAIN)
        return 0;
    sg_mount_list *l = &out->mounts;
    l->items = calloc(1, sizeof *l->items);
    if (!l->items)
        return -1;
    l->cap = 1;
    sg_mount *m = &l->items[0];
    m->kind = SG_MOUNT_LOCAL_DEVICE;
    m->where = "VolumeCreateRequest.DriverOpts";
    m->volume_options = opts;
    m->source = strdup(device ? device : "");
    m->target = strdup("");
    m->propagation = strdup("");
    l->n = 1;
    return m->source && m->target && m->propagation ? 0 : -1;
}

int sg_spec_link_parse(const char *link, char *name, size_t name_size, char *alias,
                       size_t alias_size)
{
    const char *colon = strchr(link, ':');
    if (!link[0] || (colon && strchr(colon + 1, ':')))
        return -1;
    if (!colon) { /* the alias is the name as written */
        snprintf(name, name_size, "%s", link + (link[0] == '/'));
        snprintf(alias, alias_size, "%s", link);
        return 0;
    }
    if (link[0] == '/') { /* "/name:/parent/alias": the last element */
        const char *slash = strrchr(colon + 1, '/');
        snprintf(name, name_size, "%.*s", (int)(colon - link - 1), link + 1);
        snprintf(alias, alias_size, "%s", slash ? slash + 1 : colon + 1);
        return 0;
    }
    snprintf(name, name_size, "%.*s", (int)(colon - link), link);
    snprintf(alias, alias_size, "%s", colon + 1);
    return 0;
}

bool sg_spec_exec_privileged(json_t *exec_config, sg_jx *r)
{
    return sg_jx_bool(r, exec_config, "ExecConfig", "Privileged");
}

void sg_spec_free(sg_spec *s)
{
    free(s->caps.v);
    free(s->security.v);
    free(s->networks.v);
    free(s->sysctls.v);
    free(s->links.v);
    sg_mount_list_free(&s->mounts);
    memset(s, 0, sizeof *s);
}
