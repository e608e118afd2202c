/*
 * engine_info.c — reading GET /info (see engine_info.h).
 */
#include "engine/engine_info.h"

#include <stdio.h>
#include <string.h>

/* SecurityOptions entries look like "name=userns" or
 * "name=seccomp,profile=builtin": the name is the first field. */
static bool has_security_option(json_t *opts, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < json_array_size(opts); i++) {
        const char *o = json_string_value(json_array_get(opts, i));
        if (o && strncmp(o, "name=", 5) == 0 && strncmp(o + 5, name, n) == 0 &&
            (o[5 + n] == '\0' || o[5 + n] == ','))
            return true;
    }
    return false;
}

/* dockerd with userns-remap keeps its data in DockerRootDir/<uid>.<gid>. */
static void read_remap(json_t *root_dir, sg_engine_info *out)
{
    const char *d = json_string_value(root_dir);
    const char *last = d ? strrchr(d, '/') : NULL;
    unsigned uid, gid;
    char tail;
    out->remap_known = last && sscanf(last + 1, "%u.%u%c", &uid, &gid, &tail) == 2 && uid > 0;
    if (out->remap_known) {
        out->remap_uid = uid;
        out->remap_gid = gid;
    }
}

bool sg_engine_info_read(json_t *info, sg_engine_info *out)
{
    json_t *rt = json_object_get(info, "DefaultRuntime");
    json_t *ver = json_object_get(info, "ServerVersion");
    if (!json_is_object(info) || !json_is_string(rt))
        return false;
    out->known = true;
    out->userns = has_security_option(json_object_get(info, "SecurityOptions"), "userns");
    out->remap_known = false;
    if (out->userns)
        read_remap(json_object_get(info, "DockerRootDir"), out);
    snprintf(out->default_runtime, sizeof out->default_runtime, "%s", json_string_value(rt));
    snprintf(out->version, sizeof out->version, "%s",
             json_is_string(ver) ? json_string_value(ver) : "?");
    return true;
}

void sg_engine_info_describe(const sg_engine_info *ei, char *out, size_t outsz)
{
    if (!ei->known) {
        snprintf(out, outsz, "not reached yet");
        return;
    }
    snprintf(out, outsz,
             "dockerd %s, default runtime %s, user namespaces %s",
             ei->version, ei->default_runtime,
             ei->userns ? "on (userns-remap)"
                        : "off (recommended: \"userns-remap\": \"default\" in daemon.json)");
}
