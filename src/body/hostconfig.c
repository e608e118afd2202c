/*
 * hostconfig.c — where dockerd reads a request's host configuration (see
 * hostconfig.h and docs/HOSTCONFIG.md).
 */
#include "body/hostconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "body/gojson.h"

/*
 * The fields of container.HostConfig and container.Resources (embedded in
 * it) as JSON names, union of moby v19.03-v26 (api/types/container/
 * host_config.go, hostconfig.go), plus runconfig.ContainerConfigWrapper's
 * own Cpuset. None of them collides with a field of container.Config, so Go
 * promotes every one of them to the top level of a create body. Sorted.
 */
static const char *const toplevel_host_fields[] = {
    "Annotations", "AutoRemove", "Binds", "BlkioDeviceReadBps", "BlkioDeviceReadIOps",
    "BlkioDeviceWriteBps", "BlkioDeviceWriteIOps", "BlkioWeight", "BlkioWeightDevice",
    "CapAdd", "CapDrop", "Capabilities", "Cgroup", "CgroupParent", "CgroupnsMode",
    "ConsoleSize", "ContainerIDFile", "CpuCount", "CpuPercent", "CpuPeriod", "CpuQuota",
    "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpuShares", "Cpuset", "CpusetCpus",
    "CpusetMems", "DeviceCgroupRules", "DeviceRequests", "Devices", "Dns", "DnsOptions",
    "DnsSearch", "ExtraHosts", "GroupAdd", "IOMaximumBandwidth", "IOMaximumIOps", "Init",
    "IpcMode", "Isolation", "KernelMemory", "KernelMemoryTCP", "Links", "LogConfig",
    "MaskedPaths", "Memory", "MemoryReservation", "MemorySwap", "MemorySwappiness", "Mounts",
    "NanoCpus", "NetworkMode", "OomKillDisable", "OomScoreAdj", "PidMode", "PidsLimit",
    "PortBindings", "Privileged", "PublishAllPorts", "ReadonlyPaths", "ReadonlyRootfs",
    "RestartPolicy", "Runtime", "SecurityOpt", "ShmSize", "StorageOpt", "Sysctls", "Tmpfs",
    "UTSMode", "Ulimits", "UsernsMode", "VolumeDriver", "VolumesFrom",
};

const char *sg_hostconfig_toplevel_key(const json_t *body)
{
    size_t n = sizeof toplevel_host_fields / sizeof *toplevel_host_fields;
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        if (sg_gojson_get(body, toplevel_host_fields[i], &key))
            return key;
    }
    return NULL;
}

__attribute__((format(printf, 2, 3)))
static void hc_refuse(sg_hostconfig *out, const char *fmt, ...)
{
    out->status = SG_HC_REFUSED;
    out->hc = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

/* `obj` is the host configuration if it is an object, none if null/absent. */
static void hc_take(sg_hostconfig *out, json_t *obj, const char *where)
{
    memset(out, 0, sizeof *out);
    out->where = where;
    if (!obj || json_is_null(obj)) {
        out->status = SG_HC_NONE;
    } else if (!json_is_object(obj)) {
        hc_refuse(out, "%s must be an object", where);
    } else {
        out->status = SG_HC_FOUND;
        out->hc = obj;
    }
}

void sg_hostconfig_of_create(json_t *body, sg_hostconfig *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body)) {
        hc_refuse(out, "the container create body must be a JSON object");
        return;
    }
    const char *legacy = sg_hostconfig_toplevel_key(body);
    if (legacy) {
        char shown[64];
        snprintf(shown, sizeof shown, "%.48s", legacy);
        hc_refuse(out,
                  "host configuration outside HostConfig is not accepted "
                  "(\"%s\" at the top level of the body, the pre-1.18 shape that some "
                  "dockerd versions still read); send it inside HostConfig",
                  shown);
        return;
    }
    hc_take(out, sg_gojson_get(body, "HostConfig", NULL), "HostConfig");
}

void sg_hostconfig_of_start(size_t len, bool chunked, sg_hostconfig *out)
{
    memset(out, 0, sizeof *out);
    /* dockerd: `if r.ContentLength > 7 || r.ContentLength == -1`. */
    if (!chunked && len <= 7) {
        out->status = SG_HC_NONE;
        return;
    }
    hc_refuse(out,
              "a container start with a body is not accepted: on API versions "
              "below 1.24 dockerd would take a host configuration from it, on later ones it "
              "refuses it; set host configuration when creating the container");
}

void sg_hostconfig_of_update(json_t *body, sg_hostconfig *out)
{
    if (!json_is_object(body)) {
        memset(out, 0, sizeof *out);
        hc_refuse(out, "the container update body must be a JSON object");
        return;
    }
    hc_take(out, body, "UpdateConfig");
}

void sg_hostconfig_of_service(json_t *spec, sg_hostconfig *out)
{
    if (!json_is_object(spec)) {
        memset(out, 0, sizeof *out);
        hc_refuse(out, "the service spec must be a JSON object");
        return;
    }
    json_t *tt = sg_gojson_get(spec, "TaskTemplate", NULL);
    if (tt && !json_is_null(tt) && !json_is_object(tt)) {
        memset(out, 0, sizeof *out);
        hc_refuse(out, "TaskTemplate must be an object");
        return;
    }
    hc_take(out, tt ? sg_gojson_get(tt, "ContainerSpec", NULL) : NULL,
            "TaskTemplate.ContainerSpec");
}
