/*
 * exchange.c — the back half of an exchange: send the re-framed request to
 * dockerd, stream the request body (re-framed) and the response (relayed,
 * its end tracked), hand over to the relay after a confirmed hijack, and
 * finish: give the upstream back to the pool and wait for the next request
 * or close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "gate/gate.h"

/* ---- the upstream side ------------------------------------------------- */

static bool conn_can_retry(const sg_conn *c);
static void conn_retry(sg_conn *c);

static void conn_on_upstream_ready(void *owner, int status)
{
    sg_conn *c = owner;
    if (status != 0)
        c->up = NULL; /* already closed by the upstream layer */
    if (c->closing)
        return;
    sg_exchange *ex = c->ex;
    if (status != 0) {
        sg_warn("cannot reach the Docker Engine at %s: %s", c->srv->cfg.engine_path,
                uv_strerror(status));
        char msg[512];
        snprintf(msg, sizeof msg, "sockgate: cannot reach the Docker Engine at %s: %s",
                 c->srv->cfg.engine_path, uv_strerror(status));
        sg_conn_refuse(c, 502, msg);
        if (!c->closing)
            sg_conn_process(c);
        return;
    }
    c->state = CONN_EXCHANGE;
    int rc;
    if (ex->inspected) {
        rc = sg_forward_send_head(c, HTTP_BODY_LENGTH, ex->inspect.len, ex->inspect.data,
                                  ex->inspect.len);
    } else if (ex->req_body == HTTP_BODY_LENGTH && !ex->req_done && c->in.len > 0) {
        /* Body bytes that came with the head go out with it. */
        uint64_t length = ex->req_remaining;
        const char *data;
        size_t len, used;
        sg_request_body_next(ex, &c->in, &data, &len, &used);
        rc = sg_forward_send_head(c, HTTP_BODY_LENGTH, length, data, len);
        ex->req_sent_body = len > 0;
        sg_iobuf_consume(&c->in, used);
    } else {
        rc = sg_forward_send_head(c, ex->req_body, ex->req_remaining, NULL, 0);
    }
    /* The head (and an inspected body) are kept until dockerd starts to
     * answer, in case a pooled connection turns out to be closed. */
    if (rc < 0) {
        sg_conn_abort(c, "engine write failed");
        return;
    }
    sg_conn_process(c);
}

static void conn_on_upstream_readable(void *owner) { sg_conn_process(owner); }

static void conn_on_upstream_error(void *owner, int status)
{
    sg_conn *c = owner;
    sg_debug("conn %llu: engine connection error: %s", (unsigned long long)c->id,
             uv_strerror(status));
    if (c->ex && c->state == CONN_EXCHANGE && !c->ex->resp_started &&
        conn_can_retry(c)) {
        conn_retry(c);
        return;
    }
    if (c->ex && !c->ex->resp_started && c->state == CONN_EXCHANGE) {
        c->ex->req_done = false; /* the body may be half sent: close after */
        sg_conn_refuse(c, 502, "sockgate: the Docker Engine connection failed");
        return;
    }
    sg_conn_abort(c, "engine connection error");
}

static void conn_on_upstream_eof(void *owner)
{
    sg_conn *c = owner;
    if (c->state == CONN_RELAY) {
        sg_relay_on_upstream_eof(c);
        return;
    }
    sg_conn_process(c); /* consumes what is buffered, then sees the EOF */
}

static void conn_on_upstream_attached(void *owner, sg_upstream *up) { ((sg_conn *)owner)->up = up; }

static void conn_on_upstream_abort(void *owner, const char *why) { sg_conn_abort(owner, why); }

static void conn_on_upstream_written(void *owner, int status)
{
    if (status < 0)
        conn_on_upstream_error(owner, status);
    else /* body bytes may be waiting for room in the queue: pump them */
        sg_conn_process(owner);
}

/* How the upstream layer reaches a connection: only through these. */
static const sg_upstream_ops conn_upstream_ops = {
    .attached = conn_on_upstream_attached,
    .ready = conn_on_upstream_ready,
    .readable = conn_on_upstream_readable,
    .eof = conn_on_upstream_eof,
    .error = conn_on_upstream_error,
    .abort = conn_on_upstream_abort,
    .written = conn_on_upstream_written,
};

void sg_conn_connect_upstream(sg_conn *c) { sg_upstream_acquire(c->srv, &conn_upstream_ops, c); }

/* The request body bytes at the front of c->in, as one batch: false on a
 * framing error (answered or aborted here). *used: the bytes of c->in it
 * took, framing included. */
static bool conn_batch_request_body(sg_conn *c, sg_forward_batch *b, size_t *used)
{
    sg_exchange *ex = c->ex;
    *used = 0;
    while (!ex->req_done && *used < c->in.len && !sg_forward_batch_full(b)) {
        sg_iobuf rest = {.data = c->in.data + *used, .len = c->in.len - *used};
        const char *data;
        size_t len, n;
        if (sg_request_body_next(ex, &rest, &data, &len, &n) != 0) {
            if (ex->resp_started)
                sg_conn_abort(c, "bad chunked body");
            else
                sg_conn_refuse(c, 400, "malformed request: bad chunked body");
            return false;
        }
        sg_forward_batch_add(b, data, len);
        *used += n;
    }
    if (ex->req_done)
        sg_forward_batch_end(b);
    return true;
}

/*
 * A large body framed by its length, none of it buffered, nothing queued
 * for dockerd: from here its bytes are spliced, never read (bulk.c). The
 * lane's limit is what is left of the body, so it stops at its end.
 */
static void conn_start_request_lane(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (ex->req_body == HTTP_BODY_LENGTH && !ex->req_done && ex->req_remaining >= SG_BULK_MIN)
        sg_conn_lane_start(c, SG_TO_ENGINE, ex->req_remaining);
}

/* What the request lane moved since the last turn; the body is done once
 * all of it was taken from the client (the exchange ends only when the
 * pipe is empty too). */
static void conn_account_request_lane(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    uint64_t n = sg_conn_lane_take(c, SG_TO_ENGINE);
    ex->req_remaining -= n;
    ex->req_carried += n;
    ex->req_sent_body = ex->req_sent_body || n > 0;
    ex->req_done = ex->req_remaining == 0;
}

/* Forward request body bytes from c->in to dockerd, re-framed: a
 * Content-Length body as it is, a chunked one chunk by chunk re-encoded,
 * each batch in one write; or spliced, when large (above). */
static bool conn_pump_request_body(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    uv_stream_t *up = (uv_stream_t *)&c->up->pipe;
    if (c->lanes && c->lanes->to_engine.active) {
        conn_account_request_lane(c);
        return true;
    }
    while (!ex->req_done && c->in.len > 0 && sg_stream_queued(up) < SG_WRITE_HIGH) {
        sg_forward_batch b;
        size_t used;
        sg_forward_batch_init(&b, ex->req_body);
        if (!conn_batch_request_body(c, &b, &used))
            return false;
        int rc = sg_forward_batch_send(up, &b);
        sg_iobuf_consume(&c->in, used);
        if (rc < 0) {
            sg_conn_abort(c, "engine write failed");
            return false;
        }
        ex->req_sent_body = ex->req_sent_body || b.bytes > 0;
        sg_bulk_count(c->srv, up, &c->up->sndbuf, &ex->req_carried, b.bytes);
    }
    conn_start_request_lane(c);
    return true;
}

/* Is this a response after which the connection carries raw streams?
 * dockerd confirms a hijack with 101, or (attach without Upgrade, and
 * older clients) with 200 and a docker raw-stream media type. */
static bool response_switches(const sg_exchange *ex, const http_response *r)
{
    if (r->status == 101)
        return ex->upgrade;
    return r->status == 200 && r->raw_stream &&
           (ex->upgrade || ex->route == ROUTE_CONTAINER_ATTACH ||
            ex->route == ROUTE_EXEC_START);
}

/*
 * A pooled connection can be closed by dockerd just as a request is sent
 * on it. If nothing of the answer arrived and the whole request is still
 * at hand (no streamed body), send it again once on a fresh connection.
 */
static bool conn_can_retry(const sg_conn *c)
{
    const sg_exchange *ex = c->ex;
    return c->up->reused && ex->head && !ex->resp_head_done &&
           c->up->in.len == 0 &&
           (ex->inspected || ex->req_body == HTTP_BODY_NONE ||
            (ex->req_body == HTTP_BODY_LENGTH && ex->req_done &&
             ex->req_remaining == 0 && c->in.len == 0 && !ex->req_sent_body));
}

static void conn_retry(sg_conn *c)
{
    sg_debug("conn %llu: pooled engine connection was closed, retrying",
             (unsigned long long)c->id);
    sg_conn_detach_upstream(c, false);
    c->state = CONN_CONNECTING;
    sg_conn_connect_upstream(c);
}

/* The answer has begun: the retry copies are no longer needed. */
static void conn_drop_retry_copies(sg_exchange *ex)
{
    ex->head = NULL; /* in the exchange's block: it goes with it */
    sg_iobuf_free(&ex->inspect);
}

/*
 * The response is passed on in as few writes as possible: head and body
 * bytes that arrived together leave together (one write, one wake-up of the
 * client). `ready` counts the bytes at the front of c->up->in that have
 * been checked and are due to the client; conn_flush_response sends them.
 */
static bool conn_flush_response(sg_conn *c, size_t *ready)
{
    if (*ready == 0)
        return true;
    if (sg_conn_write_client(c, c->up->in.data, *ready) < 0) {
        sg_conn_abort(c, "client write failed");
        return false;
    }
    sg_iobuf_consume(&c->up->in, *ready);
    *ready = 0;
    return true;
}

static void conn_take_response_head(sg_exchange *ex, const http_response *r)
{
    ex->status = r->status;
    ex->resp_head_done = true;
    ex->resp_body = r->body;
    ex->resp_remaining = r->content_length;
    ex->resp_keep_alive = r->keep_alive;
    ex->resp_done = r->body == HTTP_BODY_NONE ||
                    (r->body == HTTP_BODY_LENGTH && r->content_length == 0);
}

/* Parse dockerd's response head at c->up->in + *ready. */
static bool conn_response_head(sg_conn *c, size_t *ready)
{
    sg_exchange *ex = c->ex;
    sg_upstream *up = c->up;
    http_response r;
    http_error err;
    http_parse_status st = http_parse_response(up->in.data + *ready, up->in.len - *ready,
                                               ex->method, &r, &err);
    if (st == HTTP_PARSE_INCOMPLETE && up->in.len - *ready < SG_IN_LIMIT)
        return false;
    if (st != HTTP_PARSE_OK) {
        sg_error("engine sent a malformed response: %s",
                 st == HTTP_PARSE_ERROR ? err.message : "head too large");
        if (ex->resp_started)
            sg_conn_abort(c, "malformed engine response");
        else
            sg_conn_refuse(c, 502, "sockgate: invalid response from the Docker Engine");
        return false;
    }
    conn_drop_retry_copies(ex);
    *ready += r.head_len;
    if (r.status >= 100 && r.status < 200 && r.status != 101)
        return true; /* interim (100 Continue): the final head follows */
    if (response_switches(ex, &r)) {
        if (conn_flush_response(c, ready))
            sg_relay_start(c);
        return false;
    }
    if (r.status == 101) {
        sg_conn_abort(c, "engine switched protocols unasked");
        return false;
    }
    conn_take_response_head(ex, &r);
    return true;
}

/* Body bytes at c->up->in + *ready: find how many belong to this response.
 * dockerd is the trusted side: its framing is checked, its bytes relayed. */
static bool conn_response_body(sg_conn *c, size_t *ready)
{
    sg_exchange *ex = c->ex;
    const char *p = c->up->in.data + *ready;
    size_t avail = c->up->in.len - *ready, used = 0;
    if (ex->resp_body == HTTP_BODY_LENGTH) {
        used = avail < ex->resp_remaining ? avail : (size_t)ex->resp_remaining;
        ex->resp_remaining -= used;
        ex->resp_done = ex->resp_remaining == 0;
    } else if (ex->resp_body == HTTP_BODY_CHUNKED) {
        while (used < avail && !ex->resp_done) {
            size_t n = 0, dlen;
            const char *data;
            http_chunk_status st = http_chunked_step(&ex->resp_chunked, p + used,
                                                     avail - used, &n, &data, &dlen);
            used += n;
            if (st == HTTP_CHUNK_ERROR) {
                sg_conn_abort(c, "engine sent a malformed chunked body");
                return false;
            }
            ex->resp_done = st == HTTP_CHUNK_DONE;
        }
    } else {
        used = avail; /* until dockerd closes */
    }
    *ready += used;
    sg_bulk_count(c->srv, (uv_stream_t *)&c->pipe, &c->sndbuf, &ex->resp_carried, used);
    return true;
}

/* What dockerd's close means depends on how far the response got. */
static void conn_response_eof(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (ex->resp_head_done && ex->resp_body == HTTP_BODY_EOF) {
        ex->resp_done = true;
        ex->resp_keep_alive = false;
    } else if (!ex->resp_started && conn_can_retry(c)) {
        conn_retry(c);
    } else if (!ex->resp_started) {
        ex->req_done = ex->req_done && ex->req_body == HTTP_BODY_NONE;
        sg_conn_refuse(c, 502, "sockgate: the Docker Engine closed the connection");
    } else {
        sg_conn_abort(c, "engine closed mid-response");
    }
}

/*
 * A large response body framed by its length or by dockerd's close, all
 * of what was read of it passed on: from here it is spliced (bulk.c),
 * limited to what is left of it.
 */
static void conn_start_response_lane(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    bool length = ex->resp_body == HTTP_BODY_LENGTH;
    if (!ex->resp_head_done || ex->resp_done || c->up->eof ||
        !(length || ex->resp_body == HTTP_BODY_EOF) ||
        (length ? ex->resp_remaining : ex->resp_carried) < SG_BULK_MIN)
        return;
    sg_conn_lane_start(c, SG_TO_CLIENT, length ? ex->resp_remaining : SG_LANE_UNLIMITED);
}

/* What the response lane moved since the last turn (also its last bytes,
 * when its source's end already stopped it). false: no lane at work. */
static bool conn_account_response_lane(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    sg_lane *l = c->lanes ? &c->lanes->to_client : NULL;
    if (!l || (!l->active && l->moved == 0))
        return false;
    uint64_t n = sg_conn_lane_take(c, SG_TO_CLIENT);
    ex->resp_carried += n;
    if (ex->resp_body == HTTP_BODY_LENGTH) {
        ex->resp_remaining -= n;
        ex->resp_done = ex->resp_remaining == 0;
    }
    return l->active;
}

static void conn_pump_response(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (!conn_account_response_lane(c)) {
        size_t ready = 0;
        while (!ex->resp_done && ready < c->up->in.len &&
               sg_stream_queued((uv_stream_t *)&c->pipe) < SG_WRITE_HIGH) {
            bool ok = ex->resp_head_done ? conn_response_body(c, &ready)
                                         : conn_response_head(c, &ready);
            if (c->closing || c->state != CONN_EXCHANGE)
                return;
            if (!ok)
                break;
        }
        if (!conn_flush_response(c, &ready))
            return;
        conn_start_response_lane(c);
    }
    if (!ex->resp_done && c->up->eof && c->up->in.len == 0)
        conn_response_eof(c);
}

static void conn_log_exchange(const sg_conn *c)
{
    sg_debug("conn %llu: %s -> %d", (unsigned long long)c->id, c->ex->target,
             c->ex->status);
}

/* Both halves of the exchange are complete: hand back the upstream and
 * either wait for the next request or close. */
static void conn_finish_exchange(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    conn_log_exchange(c);
    bool reusable = ex->resp_keep_alive && !ex->http10 && ex->req_done;
    sg_conn_detach_upstream(c, reusable);
    sg_bulk_narrow(c->srv, (uv_stream_t *)&c->pipe, &c->sndbuf);
    bool close = c->close_after || !ex->client_keep_alive || c->client_eof ||
                 c->srv->draining || !ex->req_done;
    sg_exchange_free(ex);
    c->ex = NULL;
    c->state = CONN_READ_HEAD;
    if (close)
        sg_conn_close_gracefully(c);
}

bool sg_conn_exchange_step(sg_conn *c)
{
    sg_exchange *ex = c->ex;
    if (!ex->req_done && !conn_pump_request_body(c))
        return false;
    if (c->closing)
        return false;
    conn_pump_response(c);
    if (c->closing || c->state != CONN_EXCHANGE)
        return false;
    if (ex->resp_done && !ex->req_done) {
        /* dockerd answered before reading the whole body: the rest of the
         * body can no longer be framed for it, so this connection ends
         * (and what a lane holds of it is dropped). */
        c->close_after = true;
        ex->req_done = true;
        ex->resp_keep_alive = false;
        if (c->lanes) {
            sg_conn_lane_stop(c, SG_TO_ENGINE);
            sg_lane_free(c->srv, &c->lanes->to_engine);
        }
    }
    /* A finished response waits until the client has taken its last bytes
     * before the upstream is reused: keeps ordering simple, memory bounded. */
    if (!ex->resp_done || sg_stream_queued((uv_stream_t *)&c->pipe) > 0 ||
        sg_conn_lanes_hold(c))
        return false;
    conn_finish_exchange(c);
    return !c->closing;
}

