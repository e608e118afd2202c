/*
 * daemon_json.c — `sockgate check` reads dockerd's daemon.json (see
 * daemon_json.h). Keys, and dockerd's defaults, as moby v28.5.2 reads them
 * (daemon/config/config.go, builder-next/builder.go): builder.entitlements
 * network-host (default: granted), security-insecure (default: refused),
 * device (Docker 29, default: granted); features.containerd-snapshotter;
 * userns-remap; hosts.
 */
#include "cli/daemon_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/regfile.h"

#define DAEMON_JSON_MAX (1 << 20)

/* Read it whole, without blocking on a FIFO or a device (base/regfile.h);
 * *missing when there is nothing at the path. */
static json_t *daemon_json_load(const char *path, FILE *out, bool *missing)
{
    *missing = access(path, F_OK) != 0 && errno == ENOENT;
    if (*missing)
        return NULL;
    char why[512];
    size_t len;
    char *text = sg_regfile_read(path, DAEMON_JSON_MAX, &len, why, sizeof why);
    if (!text) {
        fprintf(out, "dockerd's configuration %s\n", why);
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!j || !json_is_object(j)) {
        fprintf(out, "dockerd's configuration %s: line %d: %s\n", path, err.line,
                j ? "not a JSON object" : err.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* An entitlement: the file's value, else dockerd's default. */
static void entitlement(FILE *out, json_t *ents, const char *key, bool dflt,
                        const char *what)
{
    json_t *v = json_object_get(ents, key);
    bool granted = json_is_boolean(v) ? json_is_true(v) : dflt;
    fprintf(out, "  %-18s %s%s: %s\n", key, granted ? "granted" : "refused",
            json_is_boolean(v) ? "" : " (dockerd's default)", what);
}

static int report_hosts(FILE *out, json_t *hosts)
{
    int findings = 0;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
    {
        const char *s = json_string_value(h);
        if (!s)
            continue;
        if (strncmp(s, "tcp://", 6) == 0) {
            fprintf(out, "  WARNING: dockerd listens on %s: whoever reaches it has the whole "
                         "Engine API without sockgate; remove it from \"hosts\"\n", s);
            findings++;
        } else {
            fprintf(out, "  listens on %s\n", s);
        }
    }
    return findings;
}

int sg_daemon_json_report(const char *path, FILE *out)
{
    bool missing;
    json_t *j = daemon_json_load(path, out, &missing);
    if (!j && !missing)
        return -1;
    if (missing)
        fprintf(out, "dockerd's configuration %s: absent, dockerd's defaults apply\n", path);
    else
        fprintf(out, "dockerd's configuration %s:\n", path);
    json_t *builder = json_object_get(j, "builder");
    json_t *ents = json_object_get(builder, "entitlements");
    fprintf(out, "  builder entitlements (BuildKit); sockgate refuses every entitlement to "
                 "isolated callers whatever dockerd grants:\n");
    entitlement(out, ents, "network-host", true, "RUN --network=host in the host's network");
    entitlement(out, ents, "security-insecure", false, "RUN --security=insecure, privileged");
    entitlement(out, ents, "device", true, "host devices in build steps (Docker 29)");
    json_t *features = json_object_get(j, "features");
    bool ctd = json_is_true(json_object_get(features, "containerd-snapshotter"));
    fprintf(out, "  image store: %s\n",
            ctd ? "containerd (features.containerd-snapshotter)"
                : "the graph driver (Docker 29 makes containerd the default for new installs)");
    const char *remap = json_string_value(json_object_get(j, "userns-remap"));
    if (remap && remap[0])
        fprintf(out, "  user namespaces: on (userns-remap %s)\n", remap);
    else
        fprintf(out, "  user namespaces: off; recommended: \"userns-remap\": \"default\", so that "
                     "root in a container is not root on the host\n");
    int findings = report_hosts(out, json_object_get(j, "hosts"));
    json_decref(j);
    return findings;
}
