/*
 * identify.c — which container is calling on the restricted socket.
 *
 * At accept the kernel names the peer's cgroup (hence a container ID) and
 * its PID namespace (decide/peer_container.c). The connection then waits,
 * in CONN_IDENTIFYING, reading no request, while the gate asks dockerd
 * about that ID: the identity is KNOWN only if the container's own init
 * process is in the peer's PID namespace (or the container shares the
 * host's and so does the peer), UNKNOWN otherwise — an unknown caller is
 * never treated as a known one. Then requests are read as on any
 * connection; every decision and audit line carries the identity.
 *
 * One look-up per restricted connection; the public socket is untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "decide/peer_container.h"
#include "gate/gate.h"

static void identify_done(sg_conn *c, sg_container_state state)
{
    c->caller.container.state = state;
    if (state != SG_CONTAINER_KNOWN && c->identity)
        c->caller.container.id[0] = c->identity->name[0] = c->identity->image[0] = '\0';
    if (state == SG_CONTAINER_KNOWN)
        sg_debug("conn %llu: the restricted caller is container %s (%s)",
                 (unsigned long long)c->id, c->identity->name, c->caller.container.id);
    else
        sg_debug("conn %llu: the restricted caller cannot be identified",
                 (unsigned long long)c->id);
    c->state = CONN_READ_HEAD;
    sg_conn_process(c);
}

/* dockerd's view agrees with the kernel's: same PID namespace as the
 * container's init, or both in the host's when the container shares it. */
static bool identify_agrees(const json_t *inspect, const sg_peer_container *peer,
                            bool peer_host_pidns)
{
    json_t *pid = json_object_get(json_object_get(inspect, "State"), "Pid");
    const char *mode =
        json_string_value(json_object_get(json_object_get(inspect, "HostConfig"), "PidMode"));
    uint64_t dev, ino;
    if (mode && strcmp(mode, "host") == 0)
        return peer_host_pidns;
    return json_is_integer(pid) && json_integer_value(pid) > 0 &&
           sg_pidns_of((pid_t)json_integer_value(pid), &dev, &ino) &&
           dev == peer->pidns_dev && ino == peer->pidns_ino;
}

static void identify_on_inspect(void *arg, int status, json_t *body)
{
    sg_conn *c = arg;
    sg_identity *who = c->identity;
    who->req = NULL;
    bool ok = status == 200 && identify_agrees(body, &who->peer, c->caller.host_pidns);
    if (ok) {
        const char *name = json_string_value(json_object_get(body, "Name"));
        const char *image =
            json_string_value(json_object_get(json_object_get(body, "Config"), "Image"));
        snprintf(who->name, sizeof who->name, "%s", name && name[0] == '/' ? name + 1 : "");
        snprintf(who->image, sizeof who->image, "%s", image ? image : "");
        /* labels the gate cannot read: not a caller it can place */
        ok = sg_tenant_from_inspect(body, &who->tenant);
    }
    json_decref(body);
    identify_done(c, ok ? SG_CONTAINER_KNOWN : SG_CONTAINER_UNKNOWN);
}

void sg_identify_start(sg_conn *c)
{
    c->state = CONN_IDENTIFYING;
    c->caller.container.state = SG_CONTAINER_PENDING;
    sg_identity *who = c->identity = calloc(1, sizeof *c->identity);
    if (!who) {
        identify_done(c, SG_CONTAINER_UNKNOWN);
        return;
    }
    int pidfd = sg_peer_pidfd(c->watch.fd);
    bool read = sg_peer_container_read(c->caller.pid, pidfd, &who->peer);
    if (pidfd >= 0)
        close(pidfd);
    if (!read) {
        identify_done(c, SG_CONTAINER_UNKNOWN);
        return;
    }
    snprintf(c->caller.container.id, sizeof c->caller.container.id, "%s", who->peer.id);
    char path[128];
    snprintf(path, sizeof path, "/containers/%s/json", who->peer.id);
    who->req = sg_engine_get(c->srv->env.engine, path, identify_on_inspect, c);
    if (!who->req)
        identify_done(c, SG_CONTAINER_UNKNOWN);
}

void sg_identify_cancel(sg_conn *c)
{
    if (c->identity && c->identity->req) {
        sg_engine_cancel(c->srv->env.engine, c->identity->req);
        c->identity->req = NULL;
    }
}
