/*
 * rule_ports.c — portBindingBehavior (Docker Desktop 4.52+), for every
 * caller: the classic "Docker published my database past the host's
 * firewall" fix.
 *
 *   default-port-binding        Docker's own behaviour: nothing changes.
 *   default-local-port-binding  a published port without a host IP is bound
 *                               to 127.0.0.1 and ::1 (not the IPv6 wildcard
 *                               "::" Docker Desktop has been seen to add);
 *                               `-P` ports likewise.
 *   local-only-port-binding     the same, and any host IP that is not
 *                               loopback is refused.
 * Swarm services have no host IP to rewrite: a service port is published on
 * every address of every node, so under either local setting it is
 * refused.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "body/gojson.h"
#include "decide/rules.h"

static bool ip_parses(const char *ip)
{
    unsigned char a[16];
    return inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
}

static bool ip_is_loopback(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, ip, a) != 1)
        return false;
    static const unsigned char one[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

bool sg_ports_need_image(const sg_rule_ctx *rc, const sg_spec *spec)
{
    return rc->policy->ports != SG_PORTS_DEFAULT && spec->source == SG_SPEC_CREATE &&
           spec->publish_all;
}

static const char *ports_tail(const sg_rule_ctx *rc)
{
    return rc->policy->ports == SG_PORTS_LOCAL_ONLY
               ? "portBindingBehavior is local-only-port-binding in admin-settings.json: only "
                 "127.0.0.1 and ::1 may be used"
               : "portBindingBehavior is default-local-port-binding in admin-settings.json";
}

static void ports_service(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out)
{
    for (size_t i = 0; i < json_array_size(spec->service_ports); i++) {
        json_t *p = json_array_get(spec->service_ports, i);
        json_t *target = sg_gojson_get(p, "TargetPort", NULL);
        sg_findings_add(out, 403, "ports",
                        "publishing service port %lld is not allowed (EndpointSpec.Ports): a "
                        "swarm publishes it on every address of every node; %s",
                        json_is_integer(target) ? (long long)json_integer_value(target) : 0LL,
                        ports_tail(rc));
        return;
    }
}

/* Every binding of PortBindings: refused, rewritten, or left alone. */
static bool ports_bindings(const sg_rule_ctx *rc, const sg_spec *spec, sg_findings *out)
{
    bool rewrite = false;
    const char *port;
    json_t *list;
    json_object_foreach(spec->port_bindings, port, list)
    {
        if (!json_is_array(list) || json_array_size(list) == 0) {
            rewrite = true; /* no binding given: dockerd binds every address */
            continue;
        }
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *ip = sg_gojson_get(json_array_get(list, i), "HostIp", NULL);
            const char *addr = json_is_string(ip) ? json_string_value(ip) : "";
            /* dockerd takes a host IP it cannot parse ("localhost") for none:
             * the daemon's default, every address */
            if (!addr[0] || !ip_parses(addr))
                rewrite = true;
            else if (rc->policy->ports == SG_PORTS_LOCAL_ONLY && !ip_is_loopback(addr))
                sg_findings_add(out, 403, "ports",
                                "publishing port %.32s on host address \"%.64s\" is not allowed "
                                "(HostConfig.PortBindings): %s",
                                port, addr, ports_tail(rc));
        }
    }
    return rewrite;
}

/*
 * -P: the ports the container exposes (its config and its image's) are
 * published on loopback, and PublishAllPorts is turned off: the image is
 * looked up by name, and a retag before dockerd creates the container could
 * bring ports that would otherwise be published everywhere.
 */
static void ports_publish_all(const sg_spec *spec, json_t *config, const sg_fact *image,
                              sg_edits *edits)
{
    const char *key = "PublishAllPorts";
    sg_gojson_get(spec->hc, "PublishAllPorts", &key);
    sg_edits_add(edits, SG_EDIT_SET_FALSE, spec->hc, key, NULL, NULL,
                 "ports: -P published explicitly on loopback instead");
    json_t *sources[2] = {
        sg_gojson_get(config, "ExposedPorts", NULL),
        json_object_get(json_object_get(image ? image->json : NULL, "Config"), "ExposedPorts"),
    };
    for (int s = 0; s < 2; s++) {
        const char *port;
        json_t *v;
        json_object_foreach(sources[s], port, v)
        {
            if (spec->port_bindings && json_object_get(spec->port_bindings, port))
                continue;
            sg_edits_add(edits, SG_EDIT_EXPOSE_LOCAL, spec->hc, NULL, NULL, port,
                         "ports: -P publishes on loopback only");
        }
    }
}

void sg_ports_check(const sg_rule_ctx *rc, const sg_spec *spec, json_t *config,
                    const sg_fact *image, sg_findings *out, sg_edits *edits)
{
    if (rc->policy->ports == SG_PORTS_DEFAULT)
        return;
    if (spec->source == SG_SPEC_SERVICE) {
        ports_service(rc, spec, out);
        return;
    }
    if (spec->source != SG_SPEC_CREATE)
        return;
    if (spec->port_bindings && ports_bindings(rc, spec, out))
        sg_edits_add(edits, SG_EDIT_PORTS_LOCAL, spec->port_bindings, NULL, NULL, NULL,
                     "ports: bindings without a host IP on 127.0.0.1 and ::1");
    if (!spec->publish_all)
        return;
    if (image && image->status == 404) {
        char msg[700];
        snprintf(msg, sizeof msg, "No such image: %.600s", image->name);
        sg_findings_add_raw(out, 404, "ports: image not found", msg);
        return;
    }
    if (!image || image->status != 200) {
        sg_findings_add(out, 403, "ports",
                        "cannot look up the image's exposed ports for -P (PublishAllPorts) "
                        "with the Docker Engine; %s",
                        ports_tail(rc));
        return;
    }
    ports_publish_all(spec, config, image, edits);
}
