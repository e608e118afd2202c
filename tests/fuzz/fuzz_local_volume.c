/*
 * fuzz_local_volume.c — a local volume's options (DriverOpts, or
 * VolumeOptions.DriverConfig.Options) as sg_mounts_local_volume() reads
 * them, on arbitrary bytes parsed as JSON.
 *
 * Invariants, from docs/HOSTCONFIG.md "Local volumes": a bind word ("bind"
 * or "rbind", exactly, among the comma-separated words of o) with a device
 * and only known keys is BIND, whatever the type; BIND always has a device,
 * and it is the options' own; without a bind word the result is never BIND;
 * TMPFS is only type tmpfs, NETWORK only a network file system; an unknown
 * key or a non-string value is OTHER; the answer does not change when asked
 * twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body/mounts.h"

static void require(int cond)
{
    if (!cond)
        abort();
}

static bool has_word(const char *o, const char *w)
{
    size_t wn = strlen(w);
    for (const char *p = o; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == wn && strncmp(p, w, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

static bool keys_known(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v) || (strcmp(k, "type") && strcmp(k, "o") && strcmp(k, "device") &&
                                   strcmp(k, "size")))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *opts = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, NULL);
    if (!json_is_object(opts)) {
        json_decref(opts);
        return 0;
    }
    const char *device = NULL, *again = NULL;
    sg_localvol k = sg_mounts_local_volume(opts, &device);
    require(sg_mounts_local_volume(opts, &again) == k && again == device);
    const char *type = json_string_value(json_object_get(opts, "type"));
    const char *o = json_string_value(json_object_get(opts, "o"));
    const char *dev = json_string_value(json_object_get(opts, "device"));
    bool bind_word = o && (has_word(o, "bind") || has_word(o, "rbind"));
    bool known = keys_known(opts);
    if (!known)
        require(k == SG_LOCALVOL_OTHER);
    if (known && bind_word && dev && dev[0])
        require(k == SG_LOCALVOL_BIND);
    if (k == SG_LOCALVOL_BIND)
        require(bind_word && device && device == dev && device[0]);
    if (k == SG_LOCALVOL_TMPFS)
        require(type && strcmp(type, "tmpfs") == 0 && !bind_word);
    if (k == SG_LOCALVOL_NETWORK)
        require(type && !bind_word && strcmp(type, "tmpfs") != 0);
    if (k == SG_LOCALVOL_PLAIN)
        require(!(type && type[0]) && !(dev && dev[0]));
    json_decref(opts);
    return 0;
}
