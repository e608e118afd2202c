/*
 * relay.c — the raw two-way relay of a hijacked connection (attach, exec,
 * BuildKit's /grpc and /session).
 *
 * A connection becomes a relay only after dockerd confirmed the switch
 * (see response_switches in conn.c); from then on bytes are opaque — but
 * for an isolated caller's /grpc, which passes through the BuildKit reader
 * (tunnel/h2_inspect.c) both ways. Each
 * direction keeps its own backpressure (sg_conn_update_flow) and its own
 * end: EOF from one side is passed on as a write shutdown to the other, so
 * `echo hi | docker run -i` delivers stdin EOF to the container while its
 * output still flows back. The relay ends when both directions have ended,
 * or at once when the client is gone altogether.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "decide/rules.h"
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
    relay_after_write(((sg_upstream *)s->data)->owner, status);
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
           sg_stream_queued((uv_stream_t *)&c->up->pipe) == 0 && !sg_conn_lanes_hold(c);
}

/*
 * A direction that has carried SG_BULK_MIN, with nothing of it buffered or
 * queued, is spliced from then on (bulk.c): an attach or exec that streams
 * is bulk, an interactive one never gets that far. The BuildKit reader's
 * relay is never spliced: it reads every byte.
 */
static void relay_start_lanes(sg_conn *c)
{
    if (c->relayed_out >= SG_BULK_MIN && !c->up->eof && !c->shut_client_sent)
        sg_conn_lane_start(c, SG_TO_CLIENT, SG_LANE_UNLIMITED);
    if (c->relayed_in >= SG_BULK_MIN && !c->client_eof && !c->shut_up_sent)
        sg_conn_lane_start(c, SG_TO_ENGINE, SG_LANE_UNLIMITED);
}

/* What the lanes moved since the last turn. */
static void relay_account_lanes(sg_conn *c)
{
    c->relayed_out += sg_conn_lane_take(c, SG_TO_CLIENT);
    c->relayed_in += sg_conn_lane_take(c, SG_TO_ENGINE);
}

static void relay_maybe_end(sg_conn *c)
{
    if (relay_finished(c))
        sg_conn_close_gracefully(c);
}

/*
 * BuildKit's /grpc for a caller the isolation rules bind: read as HTTP/2
 * (tunnel/h2_inspect.c) instead of relayed blind, since dockerd grants
 * entitlements such as network.host by default. Root's builds are not
 * read.
 */
static bool relay_inspects(const sg_conn *c)
{
    const sg_exchange *ex = c->ex;
    return ex->route == ROUTE_GRPC && ex->policy && ex->policy->eci_enabled &&
           sg_caller_isolated(ex->policy, &c->caller);
}

void sg_relay_start(sg_conn *c)
{
    sg_debug("conn %llu: %s hijacked, relaying", (unsigned long long)c->id,
             c->ex->target);
    c->state = CONN_RELAY;
    if (relay_inspects(c) &&
        !(c->h2 = sg_h2_inspect_new(sg_isolation_tail_for(c->caller.socket)))) {
        sg_conn_abort(c, "out of memory starting the BuildKit reader");
        return;
    }
    sg_relay_pump(c);
}

/* One line per build request the reader refused, like any denial's. */
static void relay_log_refusals(sg_conn *c, unsigned before)
{
    if (sg_h2_refusals(c->h2) == before)
        return;
    sg_verdict v = {.kind = SG_VERDICT_DENY, .status = 403, .isolated = true, .log = true};
    snprintf(v.rule, sizeof v.rule, "isolation: build");
    sg_conn_log_decision(c, &v, sg_h2_last_refusal(c->h2));
}

static int relay_write(uv_stream_t *s, sg_h2_buf *b, sg_write_done_fn cb)
{
    if (b->len == 0)
        return 0;
    uv_buf_t u = sg_buf((char *)b->data, b->len);
    int rc = sg_stream_write(s, &u, 1, cb); /* copies what it leaves queued */
    sg_h2_buf_free(b);
    return rc;
}

/* The bytes of one direction through the reader; false when the
 * connection was ended. */
static bool relay_inspected(sg_conn *c, bool from_client)
{
    sg_upstream *up = c->up;
    sg_iobuf *in = from_client ? &c->in : &up->in;
    sg_h2_buf to_engine = {0}, to_client = {0};
    unsigned before = sg_h2_refusals(c->h2);
    int rc = from_client ? sg_h2_from_client(c->h2, (const uint8_t *)in->data, in->len,
                                             &to_engine, &to_client)
                         : sg_h2_from_engine(c->h2, (const uint8_t *)in->data, in->len,
                                             &to_client);
    sg_iobuf_consume(in, in->len);
    relay_log_refusals(c, before);
    if (rc != 0) {
        sg_h2_buf_free(&to_engine);
        sg_h2_buf_free(&to_client);
        sg_warn("conn %llu: /grpc ended: %s", (unsigned long long)c->id, sg_h2_error(c->h2));
        sg_conn_abort(c, "BuildKit stream sockgate cannot follow");
        return false;
    }
    if (relay_write((uv_stream_t *)&up->pipe, &to_engine, relay_on_engine_written) < 0 ||
        relay_write((uv_stream_t *)&c->pipe, &to_client, relay_on_client_written) < 0) {
        sg_h2_buf_free(&to_client);
        sg_conn_abort(c, "relay write failed");
        return false;
    }
    return true;
}

void sg_relay_pump(sg_conn *c)
{
    sg_upstream *up = c->up;
    if (!up || c->closing)
        return;
    uv_stream_t *client = (uv_stream_t *)&c->pipe;
    uv_stream_t *engine = (uv_stream_t *)&up->pipe;
    if (c->h2) {
        if (c->in.len > 0 && !c->shut_up_sent && !relay_inspected(c, true))
            return;
        if (up->in.len > 0 && !c->shut_client_sent && !relay_inspected(c, false))
            return;
    }
    if (c->in.len > 0 && !c->shut_up_sent) {
        uv_buf_t b = sg_buf(c->in.data, c->in.len);
        if (sg_stream_write(engine, &b, 1, relay_on_engine_written) < 0) {
            sg_conn_abort(c, "relay write to engine failed");
            return;
        }
        sg_bulk_count(c->srv, engine, &up->sndbuf, &c->relayed_in, c->in.len);
        sg_iobuf_consume(&c->in, c->in.len);
    }
    if (up->in.len > 0 && !c->shut_client_sent) {
        uv_buf_t b = sg_buf(up->in.data, up->in.len);
        if (sg_stream_write(client, &b, 1, relay_on_client_written) < 0) {
            sg_conn_abort(c, "relay write to client failed");
            return;
        }
        sg_bulk_count(c->srv, client, &c->sndbuf, &c->relayed_out, up->in.len);
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
    if (!c->h2) {
        relay_account_lanes(c);
        relay_start_lanes(c);
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
