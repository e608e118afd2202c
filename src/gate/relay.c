/*
 * relay.c — the raw two-way relay of a hijacked connection (attach, exec,
 * BuildKit's /grpc and /session).
 *
 * A connection becomes a relay only after dockerd confirmed the switch
 * (see response_switches in conn.c); from then on bytes are opaque. Each
 * direction keeps its own backpressure (sg_conn_update_flow) and its own
 * end: EOF from one side is passed on as a write shutdown to the other, so
 * `echo hi | docker run -i` delivers stdin EOF to the container while its
 * output still flows back. The relay ends when both directions have ended,
 * or at once when the client is gone altogether.
 */
#include <stdlib.h>

#include "base/log.h"
#include "gate/gate.h"

static void relay_after_write(sg_conn *c, int status)
{
    if (!c)
        return;
    if (status < 0)
        sg_conn_abort(c, "relay write failed");
    else
        sg_conn_process(c);
}

static void relay_on_engine_written(uv_stream_t *s, int status)
{
    relay_after_write(((sg_upstream *)s->data)->conn, status);
}

static void relay_on_client_written(uv_stream_t *s, int status)
{
    relay_after_write(s->data, status);
}

static void relay_on_shutdown(uv_shutdown_t *req, int status)
{
    free(req);
}

static void relay_shutdown(uv_stream_t *s)
{
    uv_shutdown_t *req = malloc(sizeof *req);
    if (req && uv_shutdown(req, s, relay_on_shutdown) != 0)
        free(req);
}

static bool relay_finished(sg_conn *c)
{
    /* Shutdowns wait for queued writes; closing before they drain would
     * drop the tail of the stream. */
    return c->client_eof && c->up && c->up->eof && c->in.len == 0 &&
           c->up->in.len == 0 && sg_stream_queued((uv_stream_t *)&c->pipe) == 0 &&
           sg_stream_queued((uv_stream_t *)&c->up->pipe) == 0;
}

static void relay_maybe_end(sg_conn *c)
{
    if (relay_finished(c))
        sg_conn_close_gracefully(c);
}

void sg_relay_start(sg_conn *c)
{
    sg_debug("conn %llu: %s hijacked, relaying", (unsigned long long)c->id,
             c->ex->target);
    c->state = CONN_RELAY;
    sg_relay_pump(c);
}

void sg_relay_pump(sg_conn *c)
{
    sg_upstream *up = c->up;
    if (!up || c->closing)
        return;
    uv_stream_t *client = (uv_stream_t *)&c->pipe;
    uv_stream_t *engine = (uv_stream_t *)&up->pipe;
    if (c->in.len > 0 && !c->shut_up_sent) {
        uv_buf_t b = sg_buf(c->in.data, c->in.len);
        if (sg_stream_write(engine, &b, 1, relay_on_engine_written) < 0) {
            sg_conn_abort(c, "relay write to engine failed");
            return;
        }
        sg_iobuf_consume(&c->in, c->in.len);
    }
    if (up->in.len > 0 && !c->shut_client_sent) {
        uv_buf_t b = sg_buf(up->in.data, up->in.len);
        if (sg_stream_write(client, &b, 1, relay_on_client_written) < 0) {
            sg_conn_abort(c, "relay write to client failed");
            return;
        }
        sg_iobuf_consume(&up->in, up->in.len);
    }
    if (c->client_eof && !c->shut_up_sent) {
        c->shut_up_sent = true;
        relay_shutdown(engine);
    }
    if (up->eof && !c->shut_client_sent) {
        c->shut_client_sent = true;
        relay_shutdown(client);
    }
    relay_maybe_end(c);
}

void sg_relay_on_client_eof(sg_conn *c, bool peer_gone)
{
    if (peer_gone) {
        sg_conn_abort(c, "client went away during a relay");
        return;
    }
    sg_relay_pump(c);
}

void sg_relay_on_upstream_eof(sg_conn *c) { sg_relay_pump(c); }
