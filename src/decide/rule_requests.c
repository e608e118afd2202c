/*
 * rule_requests.c — rules decided on the request line alone, before any
 * body is read (see rules.h).
 *
 *   everyone        blockDockerLoad: POST /images/load.
 *   policy on       a form body (application/x-www-form-urlencoded or
 *                   multipart/form-data): Go's ParseForm merges it into the
 *                   query values dockerd reads, so a body could override
 *                   the parameters sockgate checked. No Engine API client
 *                   sends one.
 *   isolated        engine-wide changes (swarm membership, plugins,
 *                   checkpoints); routes sockgate does not know (dockerd 20.10
 *                   still serves some the swagger dropped, such as the
 *                   pre-1.24 /containers/{id}/copy); builds outside the
 *                   default networks or under a cgroup parent; a service
 *                   update that rolls back to a spec sockgate never checked;
 *                   URLs dockerd would fetch for them (import, remote build
 *                   context) unless sockgate.allowUrlFetches.
 * The query was validated by the router and parsed once by decide.c: a
 * parameter here is either its first value or absent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide/rules.h"
#include "http/query.h"

__attribute__((format(printf, 4, 5)))
static bool refuse(sg_request_refusal *out, int status, const char *rule, const char *fmt, ...)
{
    out->status = status;
    snprintf(out->rule, sizeof out->rule, "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return true;
}

/*
 * Content types that Go's ParseForm / FormValue could read as form values.
 * Go trims the media type with Unicode's idea of white space (NBSP and
 * U+0085 included) before comparing: rather than mirror that, any value
 * that names either form type anywhere is refused. No Docker client sends
 * one.
 */
static bool is_form(const char *ct)
{
    return ct && (strcasestr(ct, "x-www-form-urlencoded") || strcasestr(ct, "multipart/"));
}

/* Changes to the whole engine: a swarm (a foreign manager could schedule
 * anything here), plugins (they run outside any container's isolation, and
 * /plugins/create checks no privileges at all), checkpoints (CRIU writes and
 * deletes host directories). */
static const char *engine_wide(route_id route)
{
    switch (route) {
    case ROUTE_SWARM_INIT:
    case ROUTE_SWARM_JOIN:
    case ROUTE_SWARM_LEAVE:
    case ROUTE_SWARM_UPDATE:
    case ROUTE_SWARM_UNLOCK:
    case ROUTE_NODE_UPDATE:
        return "changing the swarm";
    case ROUTE_PLUGIN_PULL:
    case ROUTE_PLUGIN_UPGRADE:
    case ROUTE_PLUGIN_ENABLE:
    case ROUTE_PLUGIN_SET:
    case ROUTE_PLUGIN_CREATE:
        return "installing or configuring plugins";
    case ROUTE_CHECKPOINT_CREATE:
    case ROUTE_CHECKPOINT_DELETE:
    case ROUTE_CHECKPOINT_LIST:
        return "checkpoints";
    default:
        return NULL;
    }
}

/* Builds: only the networks a container of the caller's could use itself,
 * no cgroup parent. Values come from the query alone: form bodies are
 * refused before this. */
static bool refuse_build(const http_query *q, sg_request_refusal *out, const char *tail)
{
    const char *v = http_query_first(q, "networkmode");
    if (v && v[0] && strcmp(v, "default") != 0 && strcmp(v, "bridge") != 0 &&
        strcmp(v, "none") != 0)
        return refuse(out, 403, "isolation: build network",
                      SG_ECI_PREFIX "builds with networkmode=%.100s are not allowed: only "
                                    "default, bridge and none keep the build off the host's "
                                    "network%s",
                      v, tail);
    v = http_query_first(q, "cgroupparent");
    if (v && v[0])
        return refuse(out, 403, "isolation: build cgroup parent",
                      SG_ECI_PREFIX "builds under a cgroup parent are not allowed "
                                    "(cgroupparent=%.100s)%s",
                      v, tail);
    return false;
}

/*
 * URLs dockerd fetches for the caller, from the host's network namespace,
 * where services bound to the host's loopback answer and no isolated
 * container could reach them; the caller reads the answer back (the
 * imported image, an error quoting it). Names resolve again at fetch time,
 * so no check of the address could be trusted: the fetch itself is what is
 * refused, unless sockgate.allowUrlFetches says otherwise.
 *   import:  POST /images/create without fromImage, fromSrc other than "-"
 *            (v28.5.2:daemon/images/image_import.go, a URL without a
 *            scheme becomes http://SRC; fromImage wins when both are set,
 *            api/server/router/image/image_routes.go)
 *   build:   POST /build with remote other than "" or "client-session": a
 *            git or http(s) context fetched by dockerd
 *            (v28.5.2:builder/remotecontext/detect.go; BuildKit's
 *            builder-next/builder.go takes the same parameter)
 */
static const char *url_fetch(route_id route, const http_query *q)
{
    const char *image = http_query_first(q, "fromImage");
    const char *src = http_query_first(q, "fromSrc");
    if (route == ROUTE_IMAGE_CREATE && (!image || !image[0]) && src && strcmp(src, "-") != 0)
        return src;
    const char *remote = http_query_first(q, "remote");
    if (route == ROUTE_BUILD && remote && remote[0] && strcmp(remote, "client-session") != 0)
        return remote;
    return NULL;
}

bool sg_requests_refuse(const sg_settings *policy, sg_socket_kind socket, bool isolated,
                        route_id route, const http_query *query, const char *content_type,
                        sg_request_refusal *out)
{
    if (policy->block_load && route == ROUTE_IMAGE_LOAD)
        return refuse(out, 403, "blockDockerLoad",
                      SG_ECI_PREFIX "docker load is blocked (blockDockerLoad in "
                                    "admin-settings.json); pull images from a registry instead");
    if (policy->block_load && route == ROUTE_IMAGE_CREATE && http_query_first(query, "fromSrc"))
        return refuse(out, 403, "blockDockerLoad",
                      SG_ECI_PREFIX "docker import is blocked like docker load (blockDockerLoad "
                                    "in admin-settings.json); pull images from a registry "
                                    "instead");
    if (!policy->eci_enabled)
        return false;
    if (is_form(content_type))
        return refuse(out, 400, "form body",
                      "sockgate: form bodies are not accepted: dockerd would read them as query "
                      "parameters");
    if (!isolated)
        return false;
    const char *tail = sg_isolation_tail_for(socket);
    const char *what = engine_wide(route);
    if (what)
        return refuse(out, 403, "isolation: engine-wide change",
                      SG_ECI_PREFIX "%s is not allowed: it changes the whole engine, outside "
                                    "any container's isolation%s",
                      what, tail);
    if (route == ROUTE_NONE)
        return refuse(out, 403, "isolation: unknown route",
                      SG_ECI_PREFIX "this request is not allowed: sockgate does not know the "
                                    "route, so it cannot check what it does%s",
                      tail);
    const char *url = policy->allow_url_fetches ? NULL : url_fetch(route, query);
    if (url)
        return refuse(out, 403, "isolation: URL fetch",
                      SG_ECI_PREFIX "making the Docker Engine fetch \"%.200s\" is not allowed: "
                                    "it would fetch it from the host's network, which an "
                                    "isolated container cannot reach; to allow it, set "
                                    "sockgate.allowUrlFetches to true in admin-settings.json%s",
                      url, tail);
    if (route == ROUTE_BUILD && refuse_build(query, out, tail))
        return true;
    if (route == ROUTE_SERVICE_UPDATE && http_query_first(query, "rollback"))
        return refuse(out, 403, "isolation: service rollback",
                      SG_ECI_PREFIX "rolling a service back is not allowed: the previous spec "
                                    "was not checked for you; update it with the spec you "
                                    "want%s",
                      tail);
    return false;
}
