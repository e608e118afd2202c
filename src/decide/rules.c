/*
 * rules.c — the facts the rules read (see rules.h): one list, so that the
 * look-ups and the checks cannot drift apart.
 */
#include <string.h>

#include "decide/rules.h"

/* host, bridge and none are the engine's own: no look-up tells more. */
void sg_isolation_want_network(const char *n, sg_facts *facts)
{
    if (strcmp(n, "host") != 0 && strcmp(n, "bridge") != 0 && strcmp(n, "none") != 0 &&
        strcmp(n, "default") != 0)
        sg_facts_want(facts, SG_FACT_NETWORK, n);
}

void sg_rules_want(const sg_spec *spec, sg_facts *facts, bool isolation)
{
    for (size_t i = 0; i < spec->mounts.n; i++) {
        const sg_mount *m = &spec->mounts.items[i];
        if (m->kind == SG_MOUNT_VOLUME)
            sg_facts_want(facts, SG_FACT_VOLUME, m->source);
        else if (m->kind == SG_MOUNT_VOLUMES_FROM)
            sg_facts_want(facts, SG_FACT_CONTAINER, m->source);
    }
    if (!isolation)
        return;
    for (int i = 0; i < SG_NS_COUNT; i++)
        if (spec->ns[i] && strncmp(spec->ns[i], "container:", 10) == 0)
            sg_facts_want(facts, SG_FACT_CONTAINER, spec->ns[i] + 10);
    for (size_t i = 0; i < spec->networks.n; i++)
        sg_isolation_want_network(spec->networks.v[i].value, facts);
    for (size_t i = 0; i < spec->links.n; i++) {
        char name[256], alias[256];
        if (sg_spec_link_parse(spec->links.v[i].value, name, sizeof name, alias,
                               sizeof alias) == 0)
            sg_facts_want(facts, SG_FACT_CONTAINER, name);
    }
}
