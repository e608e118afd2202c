/*
 * pins.c — name what was checked by its ID, so that dockerd acts on it.
 *
 * The rules check a container or network that a request names by the
 * engine's answer to a look-up of that name. dockerd resolves the name
 * again when the request reaches it, and between the two the name can
 * come to mean something else: a container renamed into it, or, for a
 * name that reads as hex, the ID prefix of another container or network
 * once the one that held the name is gone. An allowed request therefore
 * names every container the rules looked at by the ID the look-up
 * returned: IDs are never reused.
 *
 * Containers are always pinned (docker rename moves names between them).
 * Networks cannot be renamed and an isolated caller can only make bridge
 * and overlay networks, so a network is pinned only when its name could
 * also be read as an ID prefix: what `docker network inspect` shows stays
 * as the user wrote it otherwise.
 */
#include "decide/pins.h"

#include <stdio.h>
#include <string.h>

#include "body/gojson.h"

/* The ID the engine answered a look-up of `name` with, or NULL when there
 * is none or the name already is it (nothing to pin). */
const char *sg_pin_id(const sg_facts *facts, sg_fact_kind kind, const char *name)
{
    const sg_fact *f = sg_facts_find(facts, kind, name);
    json_t *id = f && f->status == 200 ? json_object_get(f->json, "Id") : NULL;
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        strcmp(json_string_value(id), name) == 0)
        return NULL;
    return json_string_value(id);
}

/* Could dockerd read the name as an ID prefix ([0-9a-f]+)? */
static bool name_reads_as_id(const char *name)
{
    return name[0] && strspn(name, "0123456789abcdef") == strlen(name);
}

/* "name:ro" with name pinned: the ID and what followed the name. */
static int pin_volumes_from(const sg_mount *m, const char *id, sg_edits *edits)
{
    const char *was = json_string_value(json_array_get(m->volumes_from, m->index));
    const char *mode = was ? strchr(was, ':') : NULL;
    char v[600];
    snprintf(v, sizeof v, "%s%s", id, mode ? mode : "");
    return sg_edits_add_array_string(edits, m->volumes_from, m->index, v,
                                     "pin: HostConfig.VolumesFrom by ID");
}

static int pin_mounts(const sg_spec *spec, const sg_facts *facts, sg_edits *edits)
{
    for (size_t i = 0; i < spec->mounts.n; i++) {
        const sg_mount *m = &spec->mounts.items[i];
        if (m->kind != SG_MOUNT_VOLUMES_FROM || !m->volumes_from)
            continue;
        const char *id = sg_pin_id(facts, SG_FACT_CONTAINER, m->source);
        if (id && pin_volumes_from(m, id, edits) != 0)
            return -1;
    }
    return 0;
}

/* container:X in a namespace mode, X pinned. */
static int pin_namespaces(const sg_spec *spec, const sg_facts *facts, sg_edits *edits)
{
    for (int i = 0; i < SG_NS_COUNT; i++) {
        const char *mode = spec->ns[i];
        if (!mode || strncmp(mode, "container:", 10) != 0)
            continue;
        const char *id = sg_pin_id(facts, SG_FACT_CONTAINER, mode + 10);
        if (!id)
            continue;
        const char *key = sg_ns_field((sg_ns_kind)i);
        sg_gojson_get(spec->hc, key, &key);
        char v[600];
        snprintf(v, sizeof v, "container:%s", id);
        if (sg_edits_add(edits, SG_EDIT_SET_STRING, spec->hc, key, v, NULL,
                         "pin: the joined container by ID") != 0)
            return -1;
    }
    return 0;
}

/* "name[:alias]" becomes "ID:alias": the alias the link had stays. */
static int pin_links(const sg_spec *spec, const sg_facts *facts, sg_edits *edits)
{
    for (size_t i = 0; i < spec->links.n; i++) {
        const sg_spec_item *it = &spec->links.v[i];
        char name[256], alias[256];
        if (!it->array || sg_spec_link_parse(it->value, name, sizeof name, alias,
                                             sizeof alias) != 0)
            continue;
        const char *id = sg_pin_id(facts, SG_FACT_CONTAINER, name);
        if (!id)
            continue;
        char v[600];
        snprintf(v, sizeof v, "%s:%s", id, alias);
        if (sg_edits_add_array_string(edits, it->array, it->index, v,
                                      "pin: HostConfig.Links by ID") != 0)
            return -1;
    }
    return 0;
}

static int pin_networks(const sg_spec *spec, const sg_facts *facts, sg_edits *edits)
{
    for (size_t i = 0; i < spec->networks.n; i++) {
        const sg_spec_item *it = &spec->networks.v[i];
        const char *id = sg_pin_id(facts, SG_FACT_NETWORK, it->value);
        if (!id || !it->obj || !it->key || !name_reads_as_id(it->value))
            continue;
        int rc = it->is_key ? sg_edits_add(edits, SG_EDIT_RENAME_KEY, it->obj, it->key, id,
                                           NULL, "pin: the network by ID")
                            : sg_edits_add(edits, SG_EDIT_SET_STRING, it->obj, it->key, id,
                                           NULL, "pin: the network by ID");
        if (rc != 0)
            return -1;
    }
    return 0;
}

int sg_pins_spec(const sg_spec *spec, const sg_facts *facts, sg_edits *edits)
{
    if (spec->source != SG_SPEC_CREATE && spec->source != SG_SPEC_SERVICE)
        return 0; /* nothing else names containers or networks */
    if (pin_mounts(spec, facts, edits) != 0 || pin_links(spec, facts, edits) != 0 ||
        pin_networks(spec, facts, edits) != 0)
        return -1;
    return spec->hc ? pin_namespaces(spec, facts, edits) : 0;
}
