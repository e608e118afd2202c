/*
 * status.c — the read-only admin socket behind `sockgate status`.
 *
 * A root-only unix socket (--status-socket, mode 0600): whoever connects gets
 * one JSON document (the policy in force, the digest cache, counters) and
 * the connection is closed. It takes no input at all, so it cannot be used
 * to change anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/log_writer.h"
#include "gate/gate.h"

typedef struct {
    uv_pipe_t pipe;
    uv_write_t write;
    char *doc;
} status_client;

/* What sockgate has learned of the engine (GET /info, engine_info.h), and
 * where it is: `sockgate status` asks it for the tenants' objects itself
 * (cli/status_client.c), so that this loop never waits on dockerd for it. */
static json_t *status_engine(const sg_server *srv)
{
    const sg_engine_info *ei = &srv->env.info;
    json_t *e = ei->known ? json_pack("{s:b,s:s,s:s,s:b}", "reached", 1, "version", ei->version,
                                      "default_runtime", ei->default_runtime, "userns_remap",
                                      ei->userns)
                          : json_pack("{s:b}", "reached", 0);
    if (e && ei->known && ei->remap_known)
        json_object_set_new(e, "userns_root_uid", json_integer(ei->remap_uid));
    if (e && srv->cfg.engine_path)
        json_object_set_new(e, "socket", json_string(srv->cfg.engine_path));
    return e;
}

/* What requests may hold and how often a limit answered (budget.h). */
static void status_limits(json_t *doc, const sg_server *srv)
{
    json_t *b = sg_budget_describe(&srv->budget);
    json_object_set_new(b, "max_connections", json_integer((json_int_t)srv->max_conns));
    json_object_set_new(b, "refused_connections",
                        json_integer((json_int_t)srv->stats.refused_connections));
    json_object_set_new(b, "slow_bodies_cut", json_integer((json_int_t)srv->stats.slow_bodies));
    json_object_set_new(doc, "limits", b);
}

/* Large streams (gate/bulk.c): what splice moved, and what the bounded
 * resources hold now. */
static json_t *status_streams(const sg_server *srv)
{
    return json_pack("{s:I,s:I,s:I}", "spliced_bytes", (json_int_t)srv->stats.spliced,
                     "splice_pipes", (json_int_t)srv->n_lanes, "wide_send_buffers",
                     (json_int_t)srv->n_wide);
}

/* What the log lost (base/log_writer.h): a stalled or failing log output
 * costs lines, never the gate, and this is where that shows. */
static json_t *status_log(void)
{
    sg_log_counters c = sg_log_stats();
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "queued_bytes", (json_int_t)c.queued_bytes,
                     "lines_written", (json_int_t)c.lines_written, "lines_dropped",
                     (json_int_t)c.lines_dropped, "audit_lines_dropped",
                     (json_int_t)c.audit_lines_dropped, "write_errors",
                     (json_int_t)c.write_errors);
}

static char *status_document(sg_server *srv)
{
    json_t *doc = json_pack(
        "{s:s,s:i,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "version", SG_VERSION, "pid",
        (int)getpid(), "uptime_s", (json_int_t)((uv_now(srv->loop) - srv->started_ms) / 1000),
        "policy", sg_settings_describe(srv->policy), "engine", status_engine(srv),
        "digests",
        sg_digest_cache_snapshot(srv->env.digests), "counters", "connections",
        (json_int_t)srv->stats.connections, "open_connections", (json_int_t)srv->n_conns,
        "idle_engine_connections", (json_int_t)srv->n_idle, "requests",
        (json_int_t)srv->stats.requests, "denied", (json_int_t)srv->stats.denied, "rewritten",
        (json_int_t)srv->stats.rewritten, "decisions", (json_int_t)srv->stats.decisions,
        "decision_us", (json_int_t)srv->stats.decision_us);
    status_limits(doc, srv);
    json_object_set_new(doc, "streams", status_streams(srv));
    json_object_set_new(doc, "log", status_log());
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

static void status_closed(uv_handle_t *h)
{
    status_client *sc = h->data;
    free(sc->doc);
    free(sc);
}

static void status_written(uv_write_t *w, int status)
{
    status_client *sc = w->data;
    uv_close((uv_handle_t *)&sc->pipe, status_closed);
}

static void status_on_connection(uv_stream_t *server, int status)
{
    sg_server *srv = server->data;
    status_client *sc = calloc(1, sizeof *sc);
    if (status < 0 || !sc) {
        free(sc);
        return;
    }
    uv_pipe_init(srv->loop, &sc->pipe, 0);
    sc->pipe.data = sc->write.data = sc;
    sc->doc = status_document(srv);
    if (uv_accept(server, (uv_stream_t *)&sc->pipe) != 0 || !sc->doc) {
        uv_close((uv_handle_t *)&sc->pipe, status_closed);
        return;
    }
    uv_buf_t b = uv_buf_init(sc->doc, (unsigned)strlen(sc->doc));
    if (uv_write(&sc->write, (uv_stream_t *)&sc->pipe, &b, 1, status_written) != 0)
        uv_close((uv_handle_t *)&sc->pipe, status_closed);
}

/* The default lives in the state directory, which is root's alone (0700). */
static const char *status_path(sg_server *srv)
{
    if (srv->cfg.status_path && !srv->cfg.status_path[0])
        snprintf(srv->status_path_buf, sizeof srv->status_path_buf, "%s/status.sock",
                 srv->cfg.state_dir);
    else
        snprintf(srv->status_path_buf, sizeof srv->status_path_buf, "%s",
                 srv->cfg.status_path ? srv->cfg.status_path : "");
    return srv->status_path_buf[0] ? srv->status_path_buf : NULL;
}

/* A status socket that cannot be created is a warning, not a reason to
 * leave the Docker socket unserved. */
int sg_status_open(sg_server *srv)
{
    const char *path = status_path(srv);
    if (!path)
        return 0;
    if (strlen(path) >= 100) {
        sg_warn("status socket path too long, no `sockgate status`: %s", path);
        return 0;
    }
    unlink(path); /* ours from a previous run; it holds no state */
    uv_pipe_init(srv->loop, &srv->status_pipe, 0);
    srv->status_pipe.data = srv;
    srv->status_open = true;
    mode_t old = umask(0077);
    int rc = uv_pipe_bind(&srv->status_pipe, path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->status_pipe, 16, status_on_connection);
    if (rc != 0) {
        sg_warn("status socket %s: %s; no `sockgate status`", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->status_pipe, NULL);
        srv->status_open = false;
        return 0;
    }
    chmod(path, 0600);
    return 0;
}

void sg_status_close(sg_server *srv)
{
    if (!srv->status_open || uv_is_closing((uv_handle_t *)&srv->status_pipe))
        return;
    uv_close((uv_handle_t *)&srv->status_pipe, NULL);
    unlink(srv->status_path_buf);
}
