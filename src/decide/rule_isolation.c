/*
 * rule_isolation.c — enhanced container isolation on Linux (docs/DESIGN.md
 * section 7): what an isolated caller's containers may get from the host.
 *
 * Docker Desktop contains every container in a VM and Sysbox; a Linux host
 * has neither, so each power that would let a container reach the host is
 * refused instead: privileged mode, the host's namespaces, capabilities
 * beyond Docker's default set, devices, unconfined security profiles or
 * unmasked system paths, a foreign cgroup parent or runtime, and host paths
 * outside filesharingAllowedDirectories. The same checks decide whether an
 * existing container is isolated enough for an isolated caller to exec
 * into, attach to, copy into or start it, and whether a container may join
 * its namespaces.
 *
 * Values are compared the way dockerd reads them (capabilities normalised
 * like NormalizeLegacyCapabilities, security options split like
 * parseSecurityOpt); anything dockerd would read differently, or not know,
 * is refused rather than guessed at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body/gojson.h"
#include "decide/rules.h"

#define JOIN_DEPTH_MAX 4

static void check_spec(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                       sg_findings *out);

const char *sg_isolation_tail_for(sg_socket_kind socket)
{
    return socket == SG_SOCKET_RESTRICTED
               ? "; nothing that uses the restricted Docker socket is exempt from isolation"
               : "; to exempt a trusted host user, list them in "
                 "sockgate.exemptFromIsolation in admin-settings.json";
}

const char *sg_isolation_tail(const sg_rule_ctx *rc)
{
    return sg_isolation_tail_for(rc->caller->socket);
}

#define ISOLATION_403(out, rc, rule, fmt, ...)                                                 \
    sg_findings_add(out, 403, "isolation: " rule, fmt "%s", __VA_ARGS__, sg_isolation_tail(rc))

/* ---- capabilities ---------------------------------------------------------- */

/* Docker's default capability set (oci/caps/defaults.go). */
static const char *const default_caps[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",
    "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",  "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",   "CAP_AUDIT_WRITE",
};

/* dockerd's normalisation: upper case, "CAP_" prefixed unless "ALL". */
static bool cap_is_default(const char *cap)
{
    char norm[64];
    if (strlen(cap) > 40)
        return false;
    snprintf(norm, sizeof norm, "%s%s", strncasecmp(cap, "CAP_", 4) == 0 ? "" : "CAP_", cap);
    for (char *p = norm; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++)
        if (strcmp(norm, default_caps[i]) == 0)
            return true;
    return false;
}

static void check_caps(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out)
{
    for (size_t i = 0; i < spec->caps.n; i++)
        if (!cap_is_default(spec->caps.v[i].value))
            ISOLATION_403(out, rc, "capabilities",
                          "capability \"%.64s\" is not allowed (%s); only Docker's default "
                          "capabilities may be added",
                          spec->caps.v[i].value, spec->caps.v[i].where);
}

/* ---- security options -------------------------------------------------------- */

/* Is a security option one that keeps the container confined? Split like
 * dockerd's parseSecurityOpt: "=" first, else the deprecated ":". */
static bool security_opt_confined(const char *opt)
{
    if (strcmp(opt, "no-new-privileges") == 0)
        return true;
    const char *sep = strchr(opt, '=');
    if (!sep)
        sep = strchr(opt, ':');
    if (!sep)
        return false; /* "disable", "writable-cgroups", or unknown */
    size_t kn = (size_t)(sep - opt);
    const char *v = sep + 1;
    if (kn == 17 && strncmp(opt, "no-new-privileges", kn) == 0)
        return true;
    if (kn == 5 && strncmp(opt, "label", kn) == 0)
        return false; /* even a level can widen ("s0-s0:c0.c1023") */
    if (kn == 8 && strncmp(opt, "apparmor", kn) == 0)
        return strcmp(v, "docker-default") == 0;
    if (kn == 7 && strncmp(opt, "seccomp", kn) == 0)
        return strcmp(v, "builtin") == 0;
    return false;
}

static void check_security(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out)
{
    for (size_t i = 0; i < spec->security.n; i++)
        if (!security_opt_confined(spec->security.v[i].value))
            ISOLATION_403(out, rc, "confinement",
                          "security option \"%.80s\" is not allowed (%s): it unconfines or "
                          "replaces the container's seccomp, AppArmor or SELinux profile",
                          spec->security.v[i].value, spec->security.v[i].where);
    if (spec->system_paths)
        ISOLATION_403(out, rc, "confinement",
                      "overriding the masked and read-only system paths is not allowed (%s)",
                      spec->system_paths);
}

/* ---- namespaces ------------------------------------------------------------ */

static bool ns_mode_allowed(sg_ns_kind ns, const char *m)
{
    if (!m || !m[0])
        return true;
    switch (ns) {
    case SG_NS_NETWORK:
        return strcmp(m, "host") != 0; /* default, bridge, none, a network */
    case SG_NS_IPC:
        return strcmp(m, "none") == 0 || strcmp(m, "private") == 0 ||
               strcmp(m, "shareable") == 0;
    case SG_NS_USER:
    case SG_NS_CGROUP:
        return strcmp(m, "private") == 0;
    case SG_NS_PID:
    case SG_NS_UTS:
    case SG_NS_COUNT:
        break;
    }
    return false;
}

static const char *const ns_names[SG_NS_COUNT] = {
    [SG_NS_NETWORK] = "network", [SG_NS_PID] = "PID",   [SG_NS_IPC] = "IPC",
    [SG_NS_UTS] = "UTS",         [SG_NS_USER] = "user", [SG_NS_CGROUP] = "cgroup",
};

/*
 * A container this one shares something with must itself be isolated:
 * its namespaces (container:X) are the new container's, and a legacy link
 * hands over its environment. `doing` says what, for the message ("joining
 * the PID namespace of"); where/field say where it is written.
 */
static void check_shared_container(const sg_rule_ctx *rc, const sg_spec *spec, const char *name,
                                   const char *doing, const char *field, int depth,
                                   sg_findings *out)
{
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_CONTAINER, name);
    if (depth >= JOIN_DEPTH_MAX) {
        ISOLATION_403(out, rc, "namespaces",
                      "%s.%s leads through a chain of containers too long to check", spec->where,
                      field);
        return;
    }
    if (!f || (f->status != 200 && f->status != 404)) {
        ISOLATION_403(out, rc, "namespaces",
                      "cannot check container \"%.100s\" (%s.%s) with the Docker Engine",
                      name, spec->where, field);
        return;
    }
    if (f->status == 404) {
        sg_findings_add(out, 404, "isolation: namespaces",
                        "no such container \"%.100s\" (%s.%s)", name, spec->where, field);
        return;
    }
    sg_findings inner = {0};
    check_spec(rc, &f->spec, depth + 1, &inner);
    if (sg_findings_refuse(&inner))
        sg_findings_add(out, 403, "isolation: namespaces",
                        "%s container \"%.100s\" is not allowed (%s.%s): that container is not "
                        "isolated: %.900s",
                        doing, name, spec->where, field,
                        inner.n ? sg_finding_text(&inner.items[0]) : "(out of memory)");
    sg_findings_free(&inner);
}

/* container:X */
static void check_join(const sg_rule_ctx *rc, const sg_spec *spec, sg_ns_kind ns,
                       const char *name, int depth, sg_findings *out)
{
    char doing[64];
    snprintf(doing, sizeof doing, "joining the %s namespace of", ns_names[ns]);
    check_shared_container(rc, spec, name, doing, sg_ns_field(ns), depth, out);
}

/* HostConfig.Links: on the default bridge, a link copies the linked
 * container's environment (its secrets) into this one. */
static void check_links(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                        sg_findings *out)
{
    for (size_t i = 0; i < spec->links.n; i++) {
        char name[256], alias[256];
        if (sg_spec_link_parse(spec->links.v[i].value, name, sizeof name, alias,
                               sizeof alias) != 0) {
            sg_findings_add(out, 400, "isolation: links",
                            "bad format for links: \"%.100s\" (%s.Links): dockerd reads "
                            "\"name\" or \"name:alias\"",
                            spec->links.v[i].value, spec->where);
            continue;
        }
        check_shared_container(rc, spec, name, "linking to", "Links", depth, out);
    }
}

static void check_namespaces(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                             sg_findings *out)
{
    for (int i = 0; i < SG_NS_COUNT; i++) {
        const char *m = spec->ns[i];
        if (m && strncmp(m, "container:", 10) == 0 && i != SG_NS_USER && i != SG_NS_UTS &&
            i != SG_NS_CGROUP) {
            check_join(rc, spec, (sg_ns_kind)i, m + 10, depth, out);
        } else if (m && strcmp(m, "host") == 0) {
            ISOLATION_403(out, rc, "namespaces",
                          "sharing the host's %s namespace is not allowed (%s.%s \"host\")",
                          ns_names[i], spec->where, sg_ns_field((sg_ns_kind)i));
        } else if (!ns_mode_allowed((sg_ns_kind)i, m)) {
            ISOLATION_403(out, rc, "namespaces", "%s.%s \"%.64s\" is not allowed", spec->where,
                          sg_ns_field((sg_ns_kind)i), m);
        }
    }
}

/* ---- networks ---------------------------------------------------------------- */

static bool driver_reaches_host(const char *d)
{
    return d && (strcmp(d, "host") == 0 || strcmp(d, "macvlan") == 0 ||
                 strcmp(d, "ipvlan") == 0);
}

/* Bridge options that reach past the network's own bridge (libnetwork's
 * bridge driver labels). */
static const char *const bridge_host_options[] = {
    "com.docker.network.bridge.name",              /* any host bridge, e.g. the LAN's */
    "com.docker.network.bridge.gateway_mode_ipv4", /* "routed": containers unNATed */
    "com.docker.network.bridge.gateway_mode_ipv6",
    "com.docker.network.bridge.trusted_host_interfaces",
};

void sg_isolation_check_network_create(const sg_rule_ctx *rc, json_t *req, sg_findings *out,
                                       sg_jx *r)
{
    const char *w = "NetworkCreateRequest";
    const char *driver = sg_jx_str(r, req, w, "Driver");
    json_t *opts = sg_jx_object(r, req, w, "Options");
    if (driver && driver[0] && strcmp(driver, "bridge") != 0 && strcmp(driver, "overlay") != 0)
        ISOLATION_403(out, rc, "networks",
                      "networks with the \"%.32s\" driver are not allowed "
                      "(NetworkCreateRequest.Driver): only bridge and overlay networks keep "
                      "containers off the host's own network",
                      driver);
    if (sg_jx_bool(r, req, w, "ConfigOnly") || sg_jx_str(r, req, w, "ConfigFrom"))
        ISOLATION_403(out, rc, "networks",
                      "configuration networks are not allowed (%s.ConfigOnly, %s.ConfigFrom)", w,
                      w);
    for (size_t i = 0; i < sizeof bridge_host_options / sizeof *bridge_host_options; i++)
        if (json_object_get(opts, bridge_host_options[i]))
            ISOLATION_403(out, rc, "networks",
                          "network option \"%s\" is not allowed (NetworkCreateRequest.Options): "
                          "it reaches the host's own interfaces",
                          bridge_host_options[i]);
}

void sg_isolation_check_network(const sg_rule_ctx *rc, const char *net, const char *where,
                                sg_findings *out)
{
    if (strcmp(net, "bridge") == 0 || strcmp(net, "none") == 0 || strcmp(net, "default") == 0)
        return;
    if (strcmp(net, "host") == 0) {
        ISOLATION_403(out, rc, "networks",
                      "the host network is not allowed (%s \"host\"): it shares the host's "
                      "network namespace",
                      where);
        return;
    }
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_NETWORK, net);
    /* A create that names a network that does not exist is made by dockerd
     * all the same, and the network looked up when it starts: the start is
     * checked again, and answered here as dockerd would answer it. A
     * service's is resolved by swarm, which finds more (predefined
     * networks by ID prefix) than a local look-up does. */
    bool service = strncmp(where, "TaskTemplate", 12) == 0 || strcmp(where, "Networks") == 0;
    bool create = strncmp(where, "HostConfig", 10) == 0 ||
                  strncmp(where, "NetworkingConfig", 16) == 0;
    if (f && f->status == 404 && create)
        return;
    if (f && f->status == 404 && !service) {
        char msg[300];
        snprintf(msg, sizeof msg, "network %.200s not found", net);
        sg_findings_add_raw(out, 404, "isolation: no such network", msg);
        return;
    }
    if (f && f->status == 404) {
        ISOLATION_403(out, rc, "networks",
                      "network \"%.100s\" (%s) is not allowed: the engine does not know it, and "
                      "swarm could resolve it to its host network",
                      net, where);
        return;
    }
    if (!f || f->status != 200) {
        ISOLATION_403(out, rc, "networks",
                      "cannot check network \"%.100s\" (%s) with the Docker Engine", net, where);
        return;
    }
    json_t *d = json_object_get(f->json, "Driver");
    const char *driver = json_is_string(d) ? json_string_value(d) : "";
    if (driver_reaches_host(driver))
        ISOLATION_403(out, rc, "networks",
                      "network \"%.100s\" (%s) is not allowed: its %s driver puts containers on "
                      "the host's own network",
                      net, where, driver);
}

/* ---- host paths ------------------------------------------------------------ */

/* A protected socket the socket-mount rule answers for: on a create, any
 * of them (it becomes the restricted socket or is refused); on an existing
 * container only the restricted socket, the one sockgate gives; in a volume
 * none (a volume that binds a socket is never rewritten). */
static bool path_is_policed_socket(const sg_rule_ctx *rc, const sg_spec *spec,
                                   const char *path)
{
    sg_exposure e[4];
    if (spec->source == SG_SPEC_CREATE || spec->source == SG_SPEC_SERVICE) {
        size_t n = sg_exposure_check(&rc->env->protected, path, e, 4, NULL);
        return n > 0 && e[0].kind == SG_EXPOSES_SOCKET;
    }
    if (spec->source != SG_SPEC_INSPECT || !rc->env->restricted_path)
        return false;
    sg_protected_set only = {.paths = {rc->env->restricted_path}, .n = 1};
    return sg_exposure_check(&only, path, e, 1, NULL) == 1 && e[0].kind == SG_EXPOSES_SOCKET;
}

/*
 * Without user namespaces a container's root is the host's root. Then any
 * host directory it shares with a host user is a channel to the whole host,
 * read-only or not: the user can leave a unix socket there and pass the
 * container a descriptor of "/" (or of sockgate's public socket, where it
 * would connect as uid 0), or the container can leave a setuid-root program
 * for the user. So host paths are shared with isolated containers only
 * when the engine remaps users.
 */
static bool host_paths_need_userns(const sg_rule_ctx *rc, const sg_mount *m, const char *path,
                                   sg_findings *out)
{
    const sg_engine_info *ei = &rc->env->info;
    if (ei->known && ei->userns)
        return false;
    /* A socket-mounting client inside a container (Testcontainers' Ryuk)
     * names the socket by the path it has inside; on the host that path is
     * not sockgate's socket. Say so, rather than only what host paths need. */
    size_t n = strlen(path);
    bool socket_like = n >= 11 && strcmp(path + n - 11, "docker.sock") == 0;
    sg_findings_add(out, 403, "isolation: host paths",
                    "host path \"%.300s\" is not allowed (%s): the Docker Engine does not remap "
                    "users, so a container's root would be the host's root, and a shared host "
                    "directory, read-only or not, would hand it the host; run dockerd with "
                    "\"userns-remap\" to share filesharingAllowedDirectories with isolated "
                    "containers%s",
                    path, m->where,
                    socket_like ? "; if it is meant to be the Docker socket, name the socket "
                                  "sockgate listens on by its path on the host (for "
                                  "Testcontainers: TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE)"
                                : "");
    return true;
}

static const char *path_verdict_why(sg_path_verdict v)
{
    switch (v) {
    case SG_PATH_OUTSIDE: return "it is outside the allowed file-sharing directories";
    case SG_PATH_HARD_LINKED:
        return "it is a file with other hard links, which may lie outside the allowed "
               "directories";
    case SG_PATH_RELATIVE: return "it is not an absolute path";
    case SG_PATH_MISSING: return "it does not exist";
    case SG_PATH_ALLOWED: break;
    }
    return NULL;
}

static void host_path_refuse(const sg_mount *m, const char *path, sg_path_verdict v,
                             sg_findings *out)
{
    const char *why = path_verdict_why(v);
    if (why)
        sg_findings_add(out, 403, "isolation: host paths",
                        "host path \"%.300s\" is not allowed (%s): %s; to allow it, add a "
                        "directory that contains it to filesharingAllowedDirectories in "
                        "admin-settings.json",
                        path, m->where, why);
}

/* A bind source: dockerd cleans it, then the kernel resolves it. */
static void check_host_path(const sg_rule_ctx *rc, const sg_spec *spec, const sg_mount *m,
                            const char *path, sg_findings *out)
{
    if (path_is_policed_socket(rc, spec, path) || host_paths_need_userns(rc, m, path, out))
        return;
    host_path_refuse(m, path, sg_host_path_check(rc->dirs, path, NULL), out);
}

/* A local volume: what its options make the local driver mount. */
static void check_local_volume(const sg_rule_ctx *rc, const sg_mount *m, const json_t *options,
                               sg_findings *out)
{
    const char *device = NULL;
    switch (sg_mounts_local_volume(options, &device)) {
    case SG_LOCALVOL_PLAIN:
    case SG_LOCALVOL_TMPFS:
        return;
    case SG_LOCALVOL_NETWORK: {
        const char *type = json_string_value(json_object_get(options, "type"));
        ISOLATION_403(out, rc, "host paths",
                      "local volumes of type \"%.32s\" are not allowed (%s): dockerd would "
                      "connect to their server from the host's network, which an isolated "
                      "container cannot reach",
                      type ? type : "", m->where);
        return;
    }
    case SG_LOCALVOL_OTHER: {
        const char *type = json_string_value(json_object_get(options, "type"));
        ISOLATION_403(out, rc, "host paths",
                      "local volumes of type \"%.32s\" with these options are not allowed (%s): "
                      "only plain, tmpfs and bind (o bind or rbind) volumes can be checked",
                      type ? type : "", m->where);
        return;
    }
    case SG_LOCALVOL_BIND:
        /* The kernel resolves the device as written: no cleaning first. */
        if (!host_paths_need_userns(rc, m, device, out))
            host_path_refuse(m, device, sg_host_path_check_device(rc->dirs, device, NULL), out);
        return;
    }
}

static void check_mounts(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                         sg_findings *out);

static void check_volume(const sg_rule_ctx *rc, const sg_mount *m, sg_findings *out)
{
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_VOLUME, m->source);
    if (f && f->status == 404)
        return; /* dockerd creates it: a plain local volume */
    if (!f || f->status != 200) {
        ISOLATION_403(out, rc, "host paths",
                      "cannot check volume \"%.100s\" (%s) with the Docker Engine", m->source,
                      m->where);
        return;
    }
    json_t *options = sg_mounts_volume_options(f->json);
    if (options)
        check_local_volume(rc, m, options, out);
}

static void check_volumes_from(const sg_rule_ctx *rc, const sg_spec *spec, const sg_mount *m,
                               int depth, sg_findings *out)
{
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_CONTAINER, m->source);
    if (f && f->status == 404) {
        sg_findings_add(out, 404, "isolation: host paths", "no such container \"%.100s\" (%s)",
                        m->source, m->where);
        return;
    }
    if (!f || f->status != 200) {
        ISOLATION_403(out, rc, "host paths",
                      "cannot check container \"%.100s\" (%s) with the Docker Engine",
                      m->source, m->where);
        return;
    }
    if (depth < JOIN_DEPTH_MAX)
        check_mounts(rc, &f->spec, depth + 1, out);
}

static void check_mounts(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                         sg_findings *out)
{
    for (size_t i = 0; i < spec->mounts.n; i++) {
        const sg_mount *m = &spec->mounts.items[i];
        if (strcmp(m->propagation, "shared") == 0 || strcmp(m->propagation, "rshared") == 0)
            ISOLATION_403(out, rc, "host paths",
                          "bind propagation \"%s\" is not allowed (%s): mounts made in the "
                          "container would appear on the host",
                          m->propagation, m->where);
        switch (m->kind) {
        case SG_MOUNT_BIND:
            check_host_path(rc, spec, m, m->source, out);
            break;
        case SG_MOUNT_LOCAL_DEVICE:
            check_local_volume(rc, m, m->volume_options, out);
            break;
        case SG_MOUNT_VOLUME:
            check_volume(rc, m, out);
            break;
        case SG_MOUNT_VOLUMES_FROM:
            check_volumes_from(rc, spec, m, depth, out);
            break;
        }
    }
}

/* ---- the rest -------------------------------------------------------------- */

/* Sysctls a container's own namespaces hold (runc's validation). */
static bool sysctl_namespaced(const char *s)
{
    static const char *const exact[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                        "kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                        "kernel.shmmni", "kernel.shm_rmid_forced",
                                        "kernel.domainname", "kernel.hostname"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(s, exact[i]) == 0)
            return true;
    return strncmp(s, "fs.mqueue.", 10) == 0 || strncmp(s, "net.", 4) == 0;
}

static void check_runtime(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out)
{
    if (!spec->runtime)
        return;
    const sg_engine_info *ei = &rc->env->info;
    if (!ei->known)
        ISOLATION_403(out, rc, "runtime",
                      "runtime \"%.64s\" is not allowed (%s.Runtime): sockgate cannot tell the "
                      "engine's default runtime yet",
                      spec->runtime, spec->where);
    else if (strcmp(spec->runtime, ei->default_runtime) != 0)
        ISOLATION_403(out, rc, "runtime",
                      "runtime \"%.64s\" is not allowed (%s.Runtime); only the engine's default "
                      "runtime (%s) may be used",
                      spec->runtime, spec->where, ei->default_runtime);
}

/* An existing container with a protected socket other than the one
 * sockgate gives (the restricted socket, or the public one shadowed by it)
 * is not isolated, whatever directory the socket lies in. */
static void check_existing_sockets(const sg_rule_ctx *rc, const sg_spec *spec,
                                   sg_findings *out)
{
    /* 128 KiB (a path per exposure): one scratch copy, not an allocation
     * per look-up; the rules run on the loop's thread, one at a time. */
    static sg_socket_exposures scratch;
    sg_socket_exposures *x = &scratch;
    sg_socket_find(rc, spec, x);
    const char *why = x->unknown ? x->unknown_why
                      : x->n > 0 ? sg_socket_check_existing(rc, spec, x)
                                 : NULL;
    if (why)
        ISOLATION_403(out, rc, "docker socket",
                      "the container has a Docker socket that sockgate did not give it (%s)", why);
}

static void check_spec(const sg_rule_ctx *rc, const sg_spec *spec, int depth,
                       sg_findings *out)
{
    if (spec->source == SG_SPEC_INSPECT)
        check_existing_sockets(rc, spec, out);
    if (spec->privileged)
        ISOLATION_403(out, rc, "privileged",
                      "privileged containers are not allowed (%s.Privileged): without a VM to "
                      "contain it, a privileged container is root on the host",
                      spec->where);
    if (spec->task_runtime)
        ISOLATION_403(out, rc, "runtime",
                      "services that run plugins or network attachments are not allowed (%s)",
                      spec->task_runtime);
    check_namespaces(rc, spec, depth, out);
    check_links(rc, spec, depth, out);
    check_caps(rc, spec, out);
    if (spec->devices)
        ISOLATION_403(out, rc, "devices", "host devices are not allowed (%s)", spec->devices);
    check_security(rc, spec, out);
    if (spec->cgroup_parent)
        ISOLATION_403(out, rc, "cgroup parent",
                      "a cgroup parent is not allowed (%s.CgroupParent \"%.100s\")", spec->where,
                      spec->cgroup_parent);
    check_runtime(rc, spec, out);
    if (spec->annotations)
        ISOLATION_403(out, rc, "runtime",
                      "runtime annotations are not allowed (%s): what they do depends on the "
                      "runtime",
                      spec->annotations);
    for (size_t i = 0; i < spec->sysctls.n; i++)
        if (!sysctl_namespaced(spec->sysctls.v[i].value))
            ISOLATION_403(out, rc, "sysctls",
                          "sysctl \"%.100s\" is not allowed (%s): it is not in the container's "
                          "own namespaces",
                          spec->sysctls.v[i].value, spec->sysctls.v[i].where);
    for (size_t i = 0; i < spec->networks.n; i++)
        sg_isolation_check_network(rc, spec->networks.v[i].value, spec->networks.v[i].where,
                                   out);
    check_mounts(rc, spec, depth, out);
}

void sg_isolation_check(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out,
                        sg_edits *edits)
{
    check_spec(rc, spec, 0, out);
    /* cgroup namespaces: dockerd's default is the host's on cgroup v1 hosts
     * (and for API < 1.41): ask for a private one explicitly. */
    if (spec->source == SG_SPEC_CREATE && spec->hc && edits &&
        (!spec->ns[SG_NS_CGROUP] || !spec->ns[SG_NS_CGROUP][0])) {
        const char *key = "CgroupnsMode";
        sg_gojson_get(spec->hc, "CgroupnsMode", &key);
        sg_edits_add(edits, SG_EDIT_SET_STRING, spec->hc, key, "private", NULL,
                     "isolation: a private cgroup namespace");
    }
}

void sg_isolation_check_existing(const sg_rule_ctx *rc, const char *container,
                                 const char *action, sg_findings *out)
{
    const sg_fact *f = sg_facts_find(rc->facts, SG_FACT_CONTAINER, container);
    if (f && f->status == 404) {
        char msg[400];
        snprintf(msg, sizeof msg, "No such container: %.300s", container);
        sg_findings_add_raw(out, 404, "isolation: no such container", msg);
        return;
    }
    if (!f || f->status != 200) {
        ISOLATION_403(out, rc, "existing container",
                      "cannot check container \"%.100s\" with the Docker Engine before "
                      "letting you %s it",
                      container, action);
        return;
    }
    sg_findings inner = {0};
    check_spec(rc, &f->spec, 0, &inner);
    /* dockerd's own answer (a network that is gone) is answered as dockerd
     * would; the inner message ends with the exemption hint already */
    if (inner.n > 0 && inner.items[0].status != 403)
        sg_findings_add_raw(out, inner.items[0].status, inner.items[0].rule,
                            inner.items[0].message);
    else if (sg_findings_refuse(&inner))
        sg_findings_add(out, 403, "isolation: existing container",
                        "%s container \"%.100s\" is not allowed: the container is not isolated: "
                        "%.900s",
                        action, container,
                        inner.n ? sg_finding_text(&inner.items[0]) : "(out of memory)");
    sg_findings_free(&inner);
}

void sg_isolation_check_exec(const sg_rule_ctx *rc, bool privileged, const char *where,
                             sg_findings *out)
{
    if (privileged)
        ISOLATION_403(out, rc, "privileged",
                      "privileged exec is not allowed (%s): it gives the process every "
                      "capability of the host",
                      where);
}
